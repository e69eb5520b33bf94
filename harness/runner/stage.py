"""A pipeline stage: its config, its inputs, and the function that makes its outputs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.progress import Progress

if TYPE_CHECKING:
    from harness.context import StageContext
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec

#: ``execute(ctx, inputs)`` writes into ``ctx.workdir`` and returns a JSON-able record.
Execute = Callable[["StageContext", dict[str, Path]], dict[str, Any]]


@dataclass
class Stage:
    """One cacheable step.

    ``kind`` groups stages for ``--only``/``--force`` (``clean``, ``dapt``, ``eval``); ``name`` is
    unique in a run (``dapt[method=ia3]``, ``eval/base+dapt``).  The cache key hashes ``config``
    (which must include the versions of the plugin components used), and the keys of ``inputs``.
    """

    name: str
    kind: str
    config: dict[str, Any]
    execute: Execute | None
    inputs: dict[str, Stage] = field(default_factory=dict)
    #: where the run folder exposes this stage's output besides stages/<name> ("adapters/dapt")
    publish_as: str | None = None
    key: str = ""
    cached: bool = False
    output: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def external(cls, name: str, path: Path) -> Stage:
        """A finished input from outside the pipeline (e.g. a candidate adapter folder)."""
        digest = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode())
            digest.update(file.read_bytes())
        stage = cls(name=name, kind="external", config={"path": str(path)}, execute=None)
        stage.key, stage.output, stage.cached = digest.hexdigest()[:20], path, True
        return stage

    def compute_key(self) -> str:
        """Hash of config and input keys (inputs must have their keys already)."""
        if self.kind == "external":
            return self.key
        payload = {
            "kind": self.kind,
            "config": self.config,
            "inputs": {role: stage.key for role, stage in sorted(self.inputs.items())},
        }
        text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
        self.key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
        return self.key


@dataclass
class RunInfo:
    """The run a stage belongs to (given to the ``run_stage`` hook)."""

    spec: LoadedSpec
    registry: Registry
    run_dir: Path
    cache: Path
    device: str
    progress: Progress = field(default_factory=Progress)
    force: set[str] = field(default_factory=set)
    #: names of the stages executed (not taken from cache) in this run
    executed: list[str] = field(default_factory=list)
    #: the plugin manager's hooks (``run_started``, ``trainer_callbacks`` …); None outside a run
    hook: Any = None
    #: the spec's trackers (``tracking.trackers``), built
    trackers: list[Any] = field(default_factory=list)
