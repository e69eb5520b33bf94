"""``harness run``: build the pipeline, run each stage through the ``run_stage`` hook, publish."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import SpecError
from harness.manifest import build_manifest
from harness.models import resolve_model
from harness.names import ALLOWED, is_safe_name
from harness.paths import clean_stale_temps, inside, writable_dir, write_json
from harness.pipeline import Pipeline, build_pipeline, with_upstream
from harness.plugins import build_registry, get_plugin_manager
from harness.progress import Progress
from harness.runner.stage import RunInfo, Stage
from harness.spec.load import LoadedSpec, load_spec

if TYPE_CHECKING:
    import pluggy

    from harness.components import ResolvedModel
    from harness.plugins import Registry

log = logging.getLogger("harness")


@dataclass
class RunOptions:
    """The command-line options of ``harness run``."""

    profile: str = "auto"
    out: Path = Path("runs")
    only: list[str] = field(default_factory=list)
    systems: list[str] | None = None
    limit: int | None = None
    force: list[str] = field(default_factory=list)
    run_id: str | None = None
    cache: Path | None = None
    #: ``--precision``: overrides the spec's ``precision``
    precision: str | None = None
    #: external adapter folders to evaluate as extra systems (``harness regress``)
    candidates: dict[str, Path] = field(default_factory=dict)
    #: the system whose adapters each candidate is stacked on (``harness regress --on``)
    candidates_on: str | None = None
    #: the prompt format the candidates are asked in (None: :func:`harness.plan.external_prompt_format`)
    candidates_prompt_format: str | None = None


@dataclass
class RunResult:
    """What a run produced."""

    loaded: LoadedSpec
    model: ResolvedModel
    pipeline: Pipeline
    run_dir: Path
    stages: list[Stage]
    executed: list[str]
    seconds: float
    manifest: dict[str, Any]
    #: the exit code of the spec's regression gate (``regression.gate_in_run``) once reported; 0 = passed
    gate_exit_code: int | None = None
    #: the run's services (hooks, trackers); ``run_finished`` is called once the reports are written
    run: RunInfo | None = None


def default_cache(out: Path) -> Path:
    """The stage cache: ``$HARNESS_STAGE_CACHE`` or ``<out>/.cache``."""
    return Path(os.environ.get("HARNESS_STAGE_CACHE") or out / ".cache")


def prepare(
    spec_path: Path, options: RunOptions, pm: pluggy.PluginManager | None = None, loaded: LoadedSpec | None = None
) -> tuple[pluggy.PluginManager, Registry, LoadedSpec]:
    """Plugins, registry and the validated spec (``loaded``: one already validated, with its plan)."""
    pm = pm or get_plugin_manager()
    registry = build_registry(pm)
    if loaded is None:
        loaded = load_spec(spec_path, options.profile, registry, precision=options.precision)
    return pm, registry, loaded


def run_pipeline(
    spec_path: Path,
    options: RunOptions,
    pm: pluggy.PluginManager | None = None,
    progress: Progress | None = None,
    loaded: LoadedSpec | None = None,
) -> RunResult:
    """Run a benchmark; unchanged stages come from the cache.  ``loaded``: the spec as a caller
    already loaded it (``harness regress``), so that its plan is built once per command."""
    started = time.monotonic()
    progress = progress or Progress()
    pm, registry, loaded = prepare(spec_path, options, pm, loaded)
    progress.say(f"[harness] profile: {loaded.profile} ({loaded.profile_reason})")
    progress.say(f"[harness] precision: {loaded.precision.describe()}")
    from harness.precision import configure_backends

    configure_backends(loaded.precision)
    model = resolve_model(loaded, registry)
    progress.say(
        f"[harness] model: {model.reference} from {model.source} ({model.path}){' — ' + model.notes if model.notes else ''}"
    )
    pipeline = build_pipeline(
        loaded,
        registry,
        model,
        options.systems,
        options.limit,
        options.candidates,
        options.candidates_on,
        options.candidates_prompt_format,
    )
    stages = with_upstream(pipeline.stages, set(options.only)) if options.only else pipeline.stages
    if options.run_id is not None and not is_safe_name(options.run_id):
        raise SpecError(f"run id {options.run_id!r} cannot name a folder: use {ALLOWED}", field="--run-id")
    out = options.out
    run_id = options.run_id or new_run_id()
    run_dir = writable_dir(out / loaded.spec.name / run_id, "--out")
    cache = writable_dir((options.cache or default_cache(out)).resolve(), "--cache")
    import torch

    run = RunInfo(
        spec=loaded,
        registry=registry,
        run_dir=run_dir,
        cache=cache,
        device="cuda" if torch.cuda.is_available() else "cpu",
        progress=progress,
        force=set(options.force),
        hook=pm.hook,
        trackers=[registry.build("trackers", ref) for ref in loaded.spec.tracking.trackers],
    )
    from harness.evaluation import pool

    pm.hook.run_started(run=run)
    try:
        for i, stage in enumerate(stages, 1):
            progress.say(f"[harness] stage {i}/{len(stages)}: {stage.name}")
            pm.hook.run_stage(stage=stage, run=run)
            publish(stage, run_dir)
            pm.hook.stage_finished(stage=stage, run=run)
    except BaseException as exc:
        pm.hook.run_finished(run=run, result=None, error=exc)
        raise
    finally:
        pool.release()  # the evaluations' shared base model
    manifest = build_manifest(loaded, model, pipeline, run_id, stages)
    manifest["wall_seconds"] = round(time.monotonic() - started, 2)
    manifest["executed"] = run.executed
    write_json(run_dir / "manifest.json", manifest)
    from harness.cards import write_adapter_cards

    write_adapter_cards(run_dir, manifest)
    return RunResult(
        loaded, model, pipeline, run_dir, stages, run.executed, time.monotonic() - started, manifest, run=run
    )


def new_run_id() -> str:
    """A UTC timestamp to the microsecond plus the process id: two runs started in the same second
    (or by the same process twice) get different folders."""
    return f"{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S-%f')}-{os.getpid()}"


def publish(stage: Stage, run_dir: Path) -> None:
    """Point ``stages/<name>`` at the cached output; copy adapters and results into the run.

    Every path written or removed is checked to lie inside ``run_dir`` first."""
    if stage.output is None:
        return
    link = inside(run_dir, run_dir / "stages" / stage.name)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink() if link.is_symlink() or link.is_file() else shutil.rmtree(link)
    link.symlink_to(os.path.relpath(stage.output, link.parent), target_is_directory=True)
    if stage.publish_as:
        target = inside(run_dir, run_dir / stage.publish_as)
        if target.exists():
            shutil.rmtree(target)
        clean_stale_temps(target.parent)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-publish")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(stage.output, tmp)
        os.replace(tmp, target)
