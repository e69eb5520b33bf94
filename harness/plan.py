"""What a spec expands to: the adapters to train (sweep grid points) and the systems to evaluate."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, SpecError
from harness.spec.model import Spec

if TYPE_CHECKING:
    from harness.plugins import Registry


@dataclass
class AdapterPlan:
    """One adapter to train: a grid point of the ``dapt`` or ``sft`` section."""

    name: str  # "dapt", "dapt[method=ia3]", "sft[dapt_trainable=True]"
    role: str  # dapt | sft
    trainer: str
    method: str
    method_options: dict[str, Any]
    hyperparameters: dict[str, Any]
    budget: dict[str, Any]
    #: adapter (plan name) this one is trained on top of, or None for the base model
    parent: str | None = None
    parent_trainable: bool = False
    sweep: dict[str, Any] = field(default_factory=dict)
    #: the trainer component's options (``sft.trainer.options``)
    trainer_options: dict[str, Any] = field(default_factory=dict)
    #: for trainers on the harness's training loop (``uses_harness_training``): the method options
    #: and hyperparameters with every default filled in, resolved once by :func:`build_plan`
    #: (None for a third-party trainer, which validates its own settings)
    resolved_options: dict[str, Any] | None = None
    resolved_hyperparameters: dict[str, Any] | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The method options as trained: resolved where the harness trains, else as given."""
        return self.method_options if self.resolved_options is None else self.resolved_options

    @property
    def settings(self) -> dict[str, Any]:
        """The hyperparameters as trained: resolved where the harness trains, else as given."""
        return self.hyperparameters if self.resolved_hyperparameters is None else self.resolved_hyperparameters


@dataclass
class SystemPlan:
    """One system to evaluate: the base model plus adapters, composed one way."""

    name: str
    adapters: list[str]  # adapter plan names, bottom first
    composition: str = "stacked"
    weights: list[float] | None = None
    #: ``plain`` or ``instruction`` (resolved from ``auto``)
    prompt_format: str = "plain"


def _is_sweep(key: str, value: Any, list_valued: set[str]) -> bool:
    """A list sweeps, except for an option whose single value is a list (``target_modules``, as
    the PEFT methods declare them): that sweeps only when given a list of lists."""
    if not isinstance(value, list):
        return False
    if key.startswith("method_options.") and key.rsplit(".", 1)[-1] in list_valued:
        return bool(value) and all(isinstance(v, list) for v in value)
    return True


def _grid(values: dict[str, Any], list_valued: set[str]) -> list[dict[str, Any]]:
    """Expand swept values into the cartesian product of single values."""
    keys = [k for k, v in values.items() if _is_sweep(k, v, list_valued)]
    if not keys:
        return [{}]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(values[k] for k in keys))]


def _suffix(point: dict[str, Any]) -> str:
    return "[" + ",".join(f"{k}={v}" for k, v in point.items()) + "]" if point else ""


def per_method_options(section: Any) -> dict[str, dict[str, Any]] | None:
    """``method_options`` keyed by method name (for a method sweep), or None when flat."""
    methods = section.method if isinstance(section.method, list) else [section.method]
    options = section.method_options
    if options and set(options) <= set(methods) and all(isinstance(v, dict) for v in options.values()):
        return {m: options.get(m, {}) for m in methods}
    return None


def _expand(
    role: str, section: Any, list_valued: set[str], with_parent: bool = True
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(sweep point, concrete settings) for every grid point of one training section.

    ``method_options`` may be keyed by method (``{lora: {r: 16}, prefix: {num_virtual_tokens: 16}}``)
    so that a method sweep gives each method its own options; ``method_hyperparameters`` overrides
    hyperparameters per method the same way.
    """
    keyed = per_method_options(section)
    methods = section.method if isinstance(section.method, list) else [section.method]
    per_method = keyed is not None or bool(section.method_hyperparameters)
    if per_method:
        variants = [(m, keyed[m] if keyed else section.method_options) for m in methods]
    else:
        variants = [(section.method, section.method_options)]
    out = []
    for method, options in variants:
        flat: dict[str, Any] = {"method": method}
        flat.update({f"method_options.{k}": v for k, v in options.items()})
        overrides = section.method_hyperparameters.get(method, {}) if per_method else {}
        hyperparameters = {**section.hyperparameters, **overrides}
        flat.update({f"hyperparameters.{k}": v for k, v in hyperparameters.items()})
        flat.update({f"budget.{k}": v for k, v in section.budget.model_dump(exclude_none=True).items()})
        if role == "sft":
            flat["dapt_trainable"] = section.dapt_trainable if with_parent else False
        for point in _grid(flat, list_valued):
            concrete = {**flat, **point}
            if per_method and len(methods) > 1:
                point = {"method": method, **point}
            out.append(({k.split(".")[-1]: v for k, v in point.items()}, concrete))
    return out


def plan_adapters(spec: Spec, registry: Registry | None = None) -> list[AdapterPlan]:
    """Every adapter the systems need (list-valued options as the PEFT methods in ``registry``,
    or the installed ones, declare them).

    DAPT: one per grid point.  SFT: trained on the bare base for systems ``base+sft``, and on each
    DAPT point for systems ``base+dapt+sft`` (where ``dapt_trainable`` picks the frozen or the
    trainable arm, and may itself be swept).
    """
    from harness.training.methods import list_options

    lists = list_options(registry)
    plans: list[AdapterPlan] = []
    if spec.dapt is not None and spec.dapt.enabled:
        plans += [_make("dapt", spec.dapt, point, c, None, False) for point, c in _expand("dapt", spec.dapt, lists)]
    if spec.sft is None or not spec.sft.enabled:
        return plans
    shapes = {tuple(s.adapters or []) for s in spec.systems}
    if ("sft",) in shapes:
        for point, c in _expand("sft", spec.sft, lists, with_parent=False):
            plans.append(_make("sft", spec.sft, point, c, None, False))
    if ("dapt", "sft") in shapes:
        for parent in [p for p in plans if p.role == "dapt"]:
            for point, c in _expand("sft", spec.sft, lists):
                plan = _make("sft", spec.sft, point, c, parent.name, bool(c["dapt_trainable"]))
                plan.name = f"{parent.name}+{plan.name}"
                plans.append(plan)
    return plans


def _make(role: str, section: Any, point: dict, c: dict, parent: str | None, trainable: bool) -> AdapterPlan:
    return AdapterPlan(
        name=role + _suffix(point),
        role=role,
        trainer=section.trainer.name,
        trainer_options=dict(section.trainer.options),
        method=c["method"],
        method_options={k.split(".", 1)[1]: v for k, v in c.items() if k.startswith("method_options.")},
        hyperparameters={k.split(".", 1)[1]: v for k, v in c.items() if k.startswith("hyperparameters.")},
        budget={k.split(".", 1)[1]: v for k, v in c.items() if k.startswith("budget.")},
        parent=parent,
        parent_trainable=trainable,
        sweep=point,
    )


def plan_systems(spec: Spec, adapters: list[AdapterPlan]) -> list[SystemPlan]:
    """Expand each spec system over the sweep: ``base+dapt`` becomes one system per DAPT point."""
    systems: list[SystemPlan] = []
    for system in spec.systems:
        shape = tuple(system.adapters or [])
        fmt = system.prompt_format or spec.evaluation.prompt_format
        if fmt == "auto":
            fmt = "instruction" if "sft" in shape else "plain"
        if shape == ("dapt",):
            tops = [p for p in adapters if p.role == "dapt"]
        elif shape == ("sft",):
            tops = [p for p in adapters if p.role == "sft" and p.parent is None]
        elif shape == ("dapt", "sft"):
            tops = [p for p in adapters if p.role == "sft" and p.parent is not None]
        else:
            tops = []
        if not shape:
            systems.append(SystemPlan(system.name, [], system.composition, system.weights, fmt))
        for top in tops:
            chain = [top.parent, top.name] if top.parent else [top.name]
            name = system.name if len(tops) == 1 else f"base+{top.name}"
            systems.append(SystemPlan(name, chain, system.composition, system.weights, fmt))
    return systems


@dataclass(frozen=True)
class Plan:
    """The experiment a spec resolves to, built once per loaded spec (:attr:`LoadedSpec.plan`):
    the adapters to train (sweep points, parents), the systems to evaluate with their prompt
    formats, the evaluation tasks and the regression baseline and candidates.  ``harness
    validate``, ``run`` and ``regress`` read this one object."""

    adapters: tuple[AdapterPlan, ...]
    systems: tuple[SystemPlan, ...]
    tasks: tuple[str, ...]
    baseline: str | None
    candidates: tuple[str, ...]
    #: spec errors found while resolving the adapters and tasks (field-named; the spec checks
    #: report them with the spec file's line numbers)
    problems: tuple[SpecError, ...] = ()
    #: the evaluation tasks as lm-eval will load them (shipped groups expanded, identities for the
    #: cache key); empty when the plan was built without the spec's folder or a task is wrong
    task_refs: tuple[Any, ...] = ()

    def resolved_tasks(self) -> list[Any]:
        """:attr:`task_refs`, or the first task problem raised (an unknown task, a ``task_limits``
        key that names no task run)."""
        for exc in self.problems:
            if (exc.field or "").startswith("evaluation.task"):
                raise exc
        return list(self.task_refs)

    def adapter(self, name: str) -> AdapterPlan:
        """The adapter plan called ``name``."""
        for plan in self.adapters:
            if plan.name == name:
                return plan
        raise KeyError(name)


def resolve_adapter(plan: AdapterPlan, trainer_cls: Any, registry: Registry | None = None) -> None:
    """Fill in ``plan``'s resolved options and hyperparameters, or raise the :class:`SpecError`
    that names the wrong field (method, options, hyperparameters, budget).

    Only for trainers that use the harness's training loop (``uses_harness_training``), which take
    every PEFT method of ``registry``; a third-party trainer validates its own settings, and only
    its ``methods`` list is checked.
    """
    from harness.training.arguments import max_steps_for, resolve_hyperparameters
    from harness.training.methods import resolve_options

    if not getattr(trainer_cls, "uses_harness_training", False):
        methods = getattr(trainer_cls, "methods", None)
        if methods and plan.method not in methods:
            raise SpecError(
                f"unknown PEFT method {plan.method!r}; valid: {', '.join(sorted(methods))}", field=f"{plan.role}.method"
            )
        return
    try:
        plan.resolved_options = resolve_options(plan.method, plan.method_options, registry)
        plan.resolved_hyperparameters = resolve_hyperparameters(plan.hyperparameters)
        max_steps_for(plan.budget, None)
    except SpecError as exc:
        raise SpecError(f"adapter {plan.name!r}: {exc.message}", field=f"{plan.role}.{exc.field or 'method'}") from None


#: how many plans this process has built (the planner runs once per command; a test checks it)
BUILDS = 0


def build_plan(spec: Spec, registry: Registry | None = None, base_dir: Path | None = None) -> Plan:
    """Expand ``spec`` into its :class:`Plan`, each adapter resolved against its trainer in
    ``registry`` (:func:`resolve_adapter`; without a registry the adapters stay as given) and the
    evaluation tasks against ``base_dir``, the spec's folder (:func:`resolve_plan_tasks`; without
    it the tasks stay names).

    Wrong settings do not stop the build: they are the plan's ``problems``, which the spec
    checks report with the spec file's line numbers."""
    global BUILDS
    BUILDS += 1
    adapters = plan_adapters(spec, registry)
    problems: list[SpecError] = []
    if registry is not None:
        for plan in adapters:
            try:
                trainer = registry.get("trainers", plan.trainer).cls
            except HarnessError:
                continue  # the trainer itself is missing: reported with the components
            try:
                resolve_adapter(plan, trainer, registry)
            except SpecError as exc:
                problems.append(exc)
        problems += check_stacking(adapters, registry)
    refs: list[Any] = []
    if base_dir is not None:
        refs = resolve_plan_tasks(spec, base_dir, problems)
    return Plan(
        adapters=tuple(adapters),
        systems=tuple(plan_systems(spec, adapters)),
        tasks=tuple(spec.evaluation.tasks),
        baseline=spec.regression.baseline,
        candidates=tuple(spec.regression.candidates),
        problems=tuple(problems),
        task_refs=tuple(refs),
    )


def check_stacking(adapters: list[AdapterPlan], registry: Registry) -> list[SpecError]:
    """An SFT adapter on a DAPT adapter needs methods that compose, as their plugins say: the
    trainable arm needs both in one model (same kind, the method stacks); the frozen arm merges
    the DAPT adapter into the base unless they stack."""
    from harness.training.methods import build_method

    by_name = {a.name: a for a in adapters}
    out: list[SpecError] = []
    for plan in adapters:
        parent = by_name.get(plan.parent or "")
        if parent is None or plan.resolved_options is None or parent.resolved_options is None:
            continue  # a third-party trainer's adapters, or settings already reported wrong
        try:
            new = build_method(plan.method, plan.resolved_options, registry)
            old = build_method(parent.method, parent.resolved_options, registry)
        except SpecError:
            continue
        together = new.peft_type == old.peft_type and new.stackable and old.stackable  # type: ignore[attr-defined]
        if plan.parent_trainable and not together:
            why = (
                f"{plan.method} adapters do not stack"
                if new.peft_type == old.peft_type  # type: ignore[attr-defined]
                else f"{plan.method} and {parent.method} adapters cannot be active in one model"
            )
            out.append(
                SpecError(
                    f"adapter {plan.name!r}: the trainable-DAPT arm needs the DAPT and SFT adapters in one model: "
                    f"{why}; use dapt_trainable: false, or methods that stack",
                    field="sft.dapt_trainable",
                )
            )
        elif not together and not old.mergeable:  # type: ignore[attr-defined]
            out.append(
                SpecError(
                    f"adapter {plan.name!r}: {parent.method} adapters neither stack with {plan.method} nor merge into "
                    "the base, so nothing can be trained on top of one",
                    field="sft.method",
                )
            )
    return out


def resolve_plan_tasks(spec: Spec, base_dir: Path, problems: list[SpecError]) -> list[Any]:
    """The spec's evaluation tasks as :class:`harness.evaluation.tasks.TaskRef` (each unknown
    name and each ``task_limits`` key that names no task run appended to ``problems``)."""
    from harness.evaluation.tasks import resolve_tasks, unknown_limits

    section = spec.evaluation
    refs: list[Any] = []
    for i, name in enumerate(section.tasks):
        try:
            refs += resolve_tasks([name], base_dir)
        except SpecError as exc:
            problems.append(SpecError(exc.message, field=f"evaluation.tasks[{i}]"))
    if len(refs) and not any((p.field or "").startswith("evaluation.tasks") for p in problems):
        for name, message in unknown_limits(refs, section.task_limits):
            problems.append(SpecError(message, field=f"evaluation.task_limits.{name}"))
    return refs


def external_prompt_format(spec: Spec, systems: list[SystemPlan] | tuple[SystemPlan, ...]) -> str:
    """Prompt format for an adapter from outside the plan (a regression candidate): the format of
    the gate's baseline system, so that both are asked the same way; else the spec's default."""
    baseline = spec.regression.baseline
    for system in systems:
        if system.name == baseline:
            return system.prompt_format
    fmt = spec.evaluation.prompt_format
    return "plain" if fmt == "auto" else fmt
