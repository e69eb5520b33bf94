"""Running one instruction generator: its task-type mix, its share of the budget, its errors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.components import Article, InstructionGenerator, InstructionPair
from harness.errors import HarnessError, PluginError
from harness.instructions.budget import normalized_mix

if TYPE_CHECKING:
    from harness.context import StageContext
    from harness.plugins import Registry
    from harness.spec.common import ComponentRef


@dataclass
class GeneratorRun:
    """One generator of the spec, the mix it was given, its share, and what it yielded."""

    ref: ComponentRef
    generator: InstructionGenerator
    mix: dict[str, float]
    share: int
    request: int = 0
    pairs: list[InstructionPair] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        """Requested/yielded plus the generator's own counters (``self.stats``, if it keeps any)."""
        own = dict(getattr(self.generator, "stats", {}))
        return {"requested": self.request, "yielded": len(self.pairs), **own}

    @property
    def may_regenerate(self) -> bool:
        """Cheap generators are asked again for more when the filters leave them short."""
        return bool(getattr(self.generator, "regenerate_when_short", True)) and len(self.pairs) >= self.request


def resolve_mix(
    generator: InstructionGenerator, task_types: dict[str, float], name: str, ctx: StageContext
) -> dict[str, float]:
    """The spec's mix as this generator understands it (weights summing to 1).

    Optional attributes a generator may declare: ``task_types`` (every type it can make),
    ``default_task_types`` (its mix when the spec gives none: names, or names → weights) and ``canonical_task_type(name)``
    (aliases, e.g. Bonito's full names).  Types it cannot make are skipped with a warning.
    """
    supported = tuple(getattr(generator, "task_types", ()))
    default = getattr(generator, "default_task_types", supported)
    default = dict(default) if isinstance(default, dict) else tuple(default)
    canonical = getattr(generator, "canonical_task_type", str)
    requested: dict[str, float] = {}
    for task, weight in task_types.items():
        requested[canonical(task)] = requested.get(canonical(task), 0.0) + weight
    mix = normalized_mix(requested, default)
    unknown = [task for task in mix if supported and task not in supported]
    if unknown:
        ctx.warn(f"generator {name!r} does not produce task types {', '.join(unknown)}; they are skipped")
        known = {k: v for k, v in mix.items() if k in supported}
        mix = normalized_mix(known if any(known.values()) else {}, default)
    return mix


def run_generator(
    run: GeneratorRun, articles: list[Article], request: int, registry: Registry, ctx: StageContext
) -> None:
    """Ask for ``request`` pairs; a third-party generator's crash becomes a PluginError naming it."""
    run.request = request
    try:
        pairs = list(run.generator.generate(articles, request, run.mix, ctx))
    except HarnessError:
        raise
    except Exception as exc:
        entry = registry.get("instruction_generators", run.ref.name)
        if entry.distribution == "harness":
            raise  # our own bug: keep the traceback
        raise PluginError(
            f"instruction generator {run.ref.name!r} failed: {type(exc).__name__}: {exc}",
            plugin=entry.plugin,
            distribution=entry.distribution,
        ) from exc
    # provenance is the name the spec used, whatever the generator wrote
    for pair in pairs:
        pair.generator = run.ref.name
    run.pairs = pairs


def first_request(share: int, oversample: float) -> int:
    """Pairs to ask for so that ``share`` are likely to survive the filters."""
    return math.ceil(share * oversample)


def retry_request(run: GeneratorRun, kept: int) -> int:
    """A larger request when only ``kept`` of the last one survived (10% margin)."""
    return math.ceil(run.request * run.share / max(kept, 1) * 1.1)
