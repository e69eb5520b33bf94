"""The content-addressed stage cache: ``<cache>/<kind>/<key>/`` holds a finished stage's outputs.

A folder there is complete by construction: outputs are written to a temporary sibling and
renamed only after ``execute`` returned and ``record.json`` was written.  Resumable state
(training checkpoints) lives in ``<cache>/scratch/<kind>/<key>/`` and is removed on success.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.context import StageContext
from harness.paths import atomic_dir, write_json

if TYPE_CHECKING:
    from harness.runner.stage import RunInfo, Stage

log = logging.getLogger("harness")
RECORD = "record.json"


def stage_path(cache: Path, stage: Stage) -> Path:
    """Where the finished outputs of ``stage`` live in the cache."""
    return cache / stage.kind / stage.key


def scratch_path(cache: Path, stage: Stage) -> Path:
    """Where ``stage`` keeps state that must survive a crash (checkpoints)."""
    return cache / "scratch" / stage.kind / stage.key


def load_cached(cache: Path, stage: Stage) -> dict[str, Any] | None:
    """The record of a finished stage, or None when it must run."""
    record = stage_path(cache, stage) / RECORD
    if not record.is_file():
        return None
    return json.loads(record.read_text(encoding="utf-8"))


def execute_or_load(stage: Stage, run: RunInfo) -> dict[str, Any]:
    """Take ``stage`` from the cache, or execute it into the cache atomically."""
    forced = stage.kind in run.force or stage.name in run.force
    cached = None if forced else load_cached(run.cache, stage)
    final = stage_path(run.cache, stage)
    if cached is not None:
        stage.cached, stage.output, stage.record = True, final, cached
        log.info("%s: cached (%s)", stage.name, stage.key)
        return cached
    if stage.execute is None:
        raise RuntimeError(f"stage {stage.name} has no execute function and no cached output")
    scratch = scratch_path(run.cache, stage)
    scratch.mkdir(parents=True, exist_ok=True)
    inputs = {role: upstream.output for role, upstream in stage.inputs.items()}
    started = time.monotonic()
    with atomic_dir(final) as tmp:
        ctx = StageContext(
            stage=stage.name,
            workdir=tmp,
            scratch=scratch,
            base_dir=run.spec.base_dir,
            seed=run.spec.spec.seed,
            device=run.device,
            progress=run.progress,
        )
        record = dict(stage.execute(ctx, inputs) or {})
        record.setdefault("seconds", round(time.monotonic() - started, 3))
        if ctx.warnings:
            record["warnings"] = ctx.warnings
        if ctx.inputs:
            write_json(tmp / "inputs_report.json", ctx.inputs)
        write_json(tmp / RECORD, record)
    shutil.rmtree(scratch, ignore_errors=True)
    stage.cached, stage.output, stage.record = False, final, record
    run.executed.append(stage.name)
    return record
