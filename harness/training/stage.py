"""The ``dapt`` / ``sft`` stages: one trained adapter per plan (sweep grid point)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import TrainJob
from harness.errors import SpecError
from harness.plan import resolve_adapter
from harness.spec.common import ComponentRef
from harness.training.meta import read_meta

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.context import StageContext
    from harness.plan import AdapterPlan
    from harness.plugins import Registry
    from harness.runner.stage import Stage
    from harness.spec.load import LoadedSpec


def adapter_stage(
    loaded: LoadedSpec,
    registry: Registry,
    plan: AdapterPlan,
    model: ResolvedModel,
    corpus: dict[str, Stage],
    instructions: Stage | None,
    parent: Stage | None,
) -> Stage:
    """The stage that trains ``plan``'s adapter; its output folder is a standard PEFT adapter.

    DAPT reads the ``blocks`` stage (``train_blocks.parquet``, ``validation_blocks.parquet``); SFT
    reads the ``instructions`` stage and, with ``plan.parent``, the parent adapter's stage.
    """
    from harness.runner.stage import Stage

    ref = ComponentRef(name=plan.trainer, options=plan.trainer_options)
    trainer_cls = registry.get("trainers", plan.trainer).cls
    if plan.resolved_options is None:
        # not resolved by the plan (built without this registry, or a third-party trainer, whose
        # methods list is checked here)
        resolve_adapter(plan, trainer_cls, registry)
    harness_loop = bool(getattr(trainer_cls, "uses_harness_training", False))
    method_ref = ComponentRef(name=plan.method, options=plan.options)
    # the method component, built once with the plan's resolved options: the trainer uses it and
    # the stage records its label
    method = None
    if harness_loop:
        from harness.training.methods import build_method

        method = build_method(plan.method, plan.options, registry)
    spec = loaded.spec
    section = getattr(spec, plan.role)
    launcher = {
        "launcher": section.launcher,
        "num_processes": section.num_processes,
        "accelerate_config": section.accelerate_config,
    }
    config: dict[str, Any] = {
        "trainer": registry.identity("trainers", ref),
        "role": plan.role,
        "method": plan.method,
        # the method plugin (its version and plugin's): a new release of the method retrains
        "peft_method": registry.identity("peft_methods", method_ref) if harness_loop else None,
        # resolved by the plan, defaults included: a changed default retrains instead of reusing
        # the adapter trained under the old one (a third-party trainer's own methods: as given)
        "method_options": plan.options,
        "hyperparameters": plan.settings,
        "budget": plan.budget,
        "seed": spec.seed,
        "model": {"reference": model.reference, "revision": model.revision, "dtype": spec.model.dtype},
        "precision": loaded.precision.name,
        "parent": plan.parent,
        "parent_trainable": plan.parent_trainable,
        **launcher,
    }
    inputs: dict[str, Stage] = {}
    if plan.role == "dapt":
        inputs["blocks"] = corpus["blocks"]
    else:
        if instructions is None:
            raise SpecError(f"adapter {plan.name!r} needs the instructions stage", field="instructions")
        inputs["instructions"] = instructions
    if plan.parent:
        if parent is None:
            raise SpecError(f"adapter {plan.name!r} is trained on {plan.parent!r}, which was not built", field="sft")
        inputs["parent"] = parent

    def execute(ctx: StageContext, paths: dict[str, Path]) -> dict[str, Any]:
        if plan.role == "dapt":
            train, evaluation = (
                paths["blocks"] / "train_blocks.parquet",
                paths["blocks"] / "validation_blocks.parquet",
            )
        else:
            train, evaluation = paths["instructions"] / "instructions.jsonl", None
        job = TrainJob(
            model=model,
            dtype=spec.model.dtype,
            train_path=train,
            eval_path=evaluation if evaluation is not None and evaluation.is_file() else None,
            method=plan.method,
            method_options=plan.options,
            hyperparameters={**plan.settings, "budget": plan.budget},
            output_dir=ctx.workdir,
            checkpoint_dir=ctx.scratch / "checkpoints",
            seed=spec.seed,
            init_adapters={"dapt": (paths["parent"], plan.parent_trainable)} if plan.parent else {},
            precision=loaded.precision.name,
            peft=method,
        )
        trainer = registry.build("trainers", ref)
        if section.launcher == "accelerate":
            from harness.training.launch import launch

            config_file = section.accelerate_config
            if config_file:  # relative to the spec file, like every path in the spec
                config_file = str((loaded.base_dir / config_file).resolve())
            result = launch(trainer, job, ctx, section.num_processes, config_file)
        else:
            result = trainer.train(job, ctx)
        meta = read_meta(ctx.workdir)
        return {
            "role": plan.role,
            "method": plan.method,
            "method_label": method.label() if method is not None else "",
            "method_options": meta.get("method_options", plan.method_options),
            "parent": plan.parent,
            "parent_trainable": plan.parent_trainable,
            "sweep": plan.sweep,
            "hyperparameters": plan.settings,
            "budget": plan.budget,
            "efficiency": result.metrics,
            "launcher": section.launcher,
        }

    return Stage(
        name=plan.name,
        kind=plan.role,
        config=config,
        execute=execute,
        inputs=inputs,
        publish_as=f"adapters/{plan.name}",
    )
