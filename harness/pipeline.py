"""Spec → the ordered list of stages: corpus, instructions, adapters, evaluations.

The order of steps comes from here and the spec, never from plugin registration order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import SpecError
from harness.plan import AdapterPlan, SystemPlan, external_prompt_format
from harness.training.meta import is_adapter_folder

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.plugins import Registry
    from harness.runner.stage import Stage
    from harness.spec.load import LoadedSpec


@dataclass
class Pipeline:
    """Every stage of a run, in execution order, with the plans behind them."""

    stages: list[Stage]
    adapters: list[AdapterPlan]
    systems: list[SystemPlan]
    adapter_stages: dict[str, Stage] = field(default_factory=dict)
    eval_stages: dict[str, Stage] = field(default_factory=dict)


def select_systems(
    systems: list[SystemPlan], adapters: list[AdapterPlan], wanted: list[str] | None
) -> tuple[list[SystemPlan], list[AdapterPlan]]:
    """Keep the systems named by ``--systems`` and only the adapters they need (None: every
    system; an empty list: none, as when ``harness regress`` evaluates only its candidates)."""
    if wanted is None:
        return systems, adapters
    names = {s.name for s in systems}
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise SpecError(f"unknown system {unknown[0]!r}; systems: {', '.join(sorted(names))}", field="--systems")
    systems = [s for s in systems if s.name in wanted]
    needed = {a for s in systems for a in s.adapters}
    return systems, [a for a in adapters if a.name in needed]


def build_pipeline(
    loaded: LoadedSpec,
    registry: Registry,
    model: ResolvedModel,
    systems_filter: list[str] | None = None,
    limit: int | None = None,
    candidates: dict[str, Path] | None = None,
    candidates_on: str | None = None,
    candidates_prompt_format: str | None = None,
) -> Pipeline:
    """Build every stage the spec asks for; keys are computed in order.

    ``candidates`` (``harness regress``) adds one system per external adapter folder, named after
    it, evaluated with the same tasks and limits as the spec's systems; with ``candidates_on`` (a
    system of the spec) each candidate is stacked on that system's adapters, which are built (or
    taken from the cache) without evaluating that system.
    """
    from harness.corpus.stages import corpus_stages
    from harness.evaluation.stage import eval_stage
    from harness.instructions.stage import instructions_stage
    from harness.training.stage import adapter_stage

    systems, adapters = select_systems(list(loaded.plan.systems), list(loaded.plan.adapters), systems_filter)
    on = None
    if candidates_on is not None:
        by_name = {s.name: s for s in loaded.plan.systems}
        if candidates_on not in by_name:
            raise SpecError(f"unknown system {candidates_on!r}; systems: {', '.join(sorted(by_name))}", field="--on")
        on = by_name[candidates_on]
        if on.composition != "stacked":
            raise SpecError(
                f"system {on.name!r} composes its adapters by {on.composition}: a candidate can only be "
                "stacked on a stacked system",
                field="--on",
            )
        needed = {a.name for a in adapters} | set(on.adapters)
        adapters = [a for a in loaded.plan.adapters if a.name in needed]
    corpus = corpus_stages(loaded, registry, model)
    stages: list[Stage] = [corpus[k] for k in ("source", "clean", "structure", "dedup", "split")]
    if any(a.role == "dapt" for a in adapters):
        stages.append(corpus["blocks"])
    instructions = None
    if any(a.role == "sft" for a in adapters):
        instructions = instructions_stage(loaded, registry, corpus)
        stages.append(instructions)
    pipeline = Pipeline(stages, adapters, systems)
    for plan in adapters:
        parent = pipeline.adapter_stages.get(plan.parent) if plan.parent else None
        stage = adapter_stage(loaded, registry, plan, model, corpus, instructions, parent)
        stage.publish_as = f"adapters/{plan.name}"
        pipeline.adapter_stages[plan.name] = stage
        stages.append(stage)
    for system in systems:
        stage = eval_stage(
            loaded, registry, system, model, {a: pipeline.adapter_stages[a] for a in system.adapters}, limit
        )
        stage.publish_as = f"results/{system.name}"
        pipeline.eval_stages[system.name] = stage
        stages.append(stage)
    for name, path in (candidates or {}).items():
        from harness.runner.stage import Stage

        if name in pipeline.eval_stages:
            raise SpecError(f"candidate name {name!r} is already a system of the spec", field="--adapter")
        if not is_adapter_folder(path):
            raise SpecError(f"{path} is not an adapter folder (no adapter_config.json)", field="--adapter")
        chain = [*(on.adapters if on else []), name]
        fmt = candidates_prompt_format or external_prompt_format(loaded.spec, pipeline.systems)
        system = SystemPlan(name, chain, prompt_format=fmt)
        inputs = {a: pipeline.adapter_stages[a] for a in chain[:-1]}
        inputs[name] = Stage.external(name, path.resolve())
        stage = eval_stage(loaded, registry, system, model, inputs, limit)
        stage.publish_as = f"results/{name}"
        pipeline.systems.append(system)
        pipeline.eval_stages[name] = stage
        stages.append(stage)
    for stage in stages:
        stage.compute_key()
    return pipeline


def with_upstream(stages: list[Stage], kinds: set[str]) -> list[Stage]:
    """``--only``: the stages of the given kinds and every stage they need, in pipeline order."""
    known = {s.kind for s in stages}
    unknown = kinds - known
    if unknown:
        raise SpecError(f"unknown stage {sorted(unknown)[0]!r}; stages: {', '.join(sorted(known))}", field="--only")
    keep: set[int] = set()

    def visit(stage: Stage) -> None:
        if id(stage) in keep:
            return
        keep.add(id(stage))
        for upstream in stage.inputs.values():
            visit(upstream)

    for stage in stages:
        if stage.kind in kinds:
            visit(stage)
    return [s for s in stages if id(s) in keep]
