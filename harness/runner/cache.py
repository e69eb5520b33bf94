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

from filelock import FileLock, Timeout

from harness.context import StageContext
from harness.paths import atomic_dir, inside, write_json
from harness.runner.dataset_card import write_dataset_card
from harness.spec.model import ADAPTER_ROLES

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


def stage_lock(cache: Path, stage: Stage) -> FileLock:
    """The lock one process holds while it executes ``stage`` into ``cache``: a second process
    asking for the same stage waits, then takes the first one's result."""
    folder = cache / "locks" / stage.kind
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / f"{stage.key}.lock"))


def execute_or_load(stage: Stage, run: RunInfo) -> dict[str, Any]:
    """Take ``stage`` from the cache, or execute it into the cache atomically (one process at a time)."""
    forced = stage.kind in run.force or stage.name in run.force
    final = inside(run.cache, stage_path(run.cache, stage))
    cached = None if forced else load_cached(run.cache, stage)
    if cached is None:
        lock = stage_lock(run.cache, stage)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            run.progress.say(f"[harness] {stage.name}: another run is executing this stage; waiting for it")
            lock.acquire()
        try:
            cached = None if forced else load_cached(run.cache, stage)  # the other run may have finished it
            if cached is None:
                return _execute(stage, run, final)
        finally:
            lock.release()
    stage.cached, stage.output, stage.record = True, final, cached
    log.info("%s: cached (%s)", stage.name, stage.key)
    return cached


def _execute(stage: Stage, run: RunInfo, final: Path) -> dict[str, Any]:
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
        if stage.kind in ADAPTER_ROLES:  # a training stage (dapt, sft)
            ctx.report_to = list(run.spec.spec.tracking.report_to)
            if run.hook is not None:
                ctx.trainer_callbacks = [
                    cb for found in run.hook.trainer_callbacks(stage=stage, run=run) for cb in found or []
                ]
        record = dict(stage.execute(ctx, inputs) or {})
        record.setdefault("seconds", round(time.monotonic() - started, 3))
        if ctx.warnings:
            record["warnings"] = ctx.warnings
        if ctx.inputs:
            write_json(tmp / "inputs_report.json", ctx.inputs)
        # tabular outputs load with datasets.load_dataset(<stage folder>)
        write_dataset_card(tmp, f"{run.spec.spec.name}: {stage.name} stage")
        write_json(tmp / RECORD, record)
    shutil.rmtree(scratch, ignore_errors=True)
    stage.cached, stage.output, stage.record = False, final, record
    run.executed.append(stage.name)
    return record
