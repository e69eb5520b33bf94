"""The ``eval/<system>`` stage: build the system's model, run lm-eval, write results and samples."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.paths import write_json
from harness.runner.stage import Stage
from harness.spec.common import ComponentRef

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.context import StageContext
    from harness.plan import SystemPlan
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec

log = logging.getLogger("harness")
#: bump when the stage's outputs change for the same inputs
STAGE_VERSION = "3"


def eval_config(
    loaded: LoadedSpec, registry: Registry, system: SystemPlan, model: ResolvedModel, limit: int | None
) -> dict[str, Any]:
    """Everything the results depend on: system, model revision, tasks and their data, limits, metrics."""
    import lm_eval

    from harness.evaluation.tasks import effective_limits

    section = loaded.spec.evaluation
    refs = loaded.plan.resolved_tasks()
    limits = effective_limits(refs, limit if limit is not None else section.limit, section.task_limits)
    options = section.metric_options
    unknown = sorted(set(options) - set(registry.names("metrics")))
    if unknown:
        raise loaded.error(
            ("evaluation", "metric_options", unknown[0]),
            f"unknown metric {unknown[0]!r}; known: {', '.join(registry.names('metrics'))}",
        )
    return {
        "stage_version": STAGE_VERSION,
        "system": asdict(system),
        "model": {
            "reference": model.reference,
            "revision": model.revision,
            "source": model.source,
            "dtype": loaded.spec.model.dtype,
        },
        "precision": loaded.precision.name,
        "tasks": [{"name": r.name, "kind": r.kind, "identity": r.identity} for r in refs],
        "limits": limits,
        "settings": {
            "batch_size": section.batch_size,
            "num_fewshot": section.num_fewshot,
            "bootstrap_iters": section.bootstrap_iters,
            "max_gen_toks": section.max_gen_toks,
            "seed": loaded.spec.seed,
        },
        # only the metric plugins the tasks use: installing another one changes no key
        "metrics": {
            n: registry.identity("metrics", ComponentRef(name=n, options=options.get(n, {})))
            for n in registry.names("metrics")
            if n in {m for ref in refs for m in ref.metrics}
        },
        "lm_eval": lm_eval.__version__,
    }


def run_evaluation(
    registry: Registry,
    config: dict[str, Any],
    system: SystemPlan,
    model: ResolvedModel,
    adapter_dirs: dict[str, Path],
    refs: list[Any],
    out_dir: Path,
    metric_options: dict[str, dict[str, Any]],
    memory_limit_mb: int | None = None,
) -> dict[str, Any]:
    """Build ``system``, evaluate it on ``refs`` (the plan's tasks) and write ``results.json`` +
    ``samples/<task>.jsonl`` (and lm-eval's own dated files) into ``out_dir``."""
    from harness.evaluation import lm as lm_mod
    from harness.evaluation import pool
    from harness.evaluation import results as res
    from harness.evaluation.metrics_bridge import push_metrics, runtime_info

    settings = config["settings"]
    push_metrics(registry, metric_options)  # before lm-eval loads any task
    started = time.perf_counter()
    model_obj, tokenizer, shared = pool.system_model(system, model, adapter_dirs, config["model"]["dtype"])
    precision = config.get("precision", "fp32")
    wrapped = lm_mod.wrap(
        model_obj,
        tokenizer,
        settings["batch_size"],
        settings["max_gen_toks"],
        mixed_precision=precision,
        memory_limit_mb=memory_limit_mb,
    )
    load_s = time.perf_counter() - started
    try:
        raw = _evaluate(wrapped, refs, config, settings, system)
    except BaseException:
        pool.release()  # a half-finished evaluation leaves nothing behind for the next system
        raise
    wall = time.perf_counter() - started
    samples = res.write_samples(raw, out_dir)
    chat = lm_mod.has_chat_template(tokenizer)
    native_name = model.reference if not system.adapters else f"{model.reference}+{'+'.join(system.adapters)}"
    native = res.write_native(
        raw,
        out_dir,
        model_name=native_name,
        model_args={"pretrained": model.reference, "harness_system": system.name},
        chat_template=getattr(tokenizer, "chat_template", None)
        if system.prompt_format == "instruction" and chat
        else None,
    )
    metric_info = runtime_info()
    results = {
        "system": system.name,
        "adapters": list(system.adapters),
        "composition": system.composition,
        "prompt_format": system.prompt_format,
        "prompt_template": "chat" if chat else "plain",
        "precision": precision,
        "model": model.describe(),
        "tasks": res.summarize(raw, settings["bootstrap_iters"], settings["seed"], _groups(refs)),
        # JSON objects are written with sorted keys: the spec's task order is kept here
        "task_order": [ref.name for ref in refs],
        "limits": config["limits"],
        "samples": samples,
        # lm-eval's own files, as its command line writes them (results_<ts>.json, samples_<task>_<ts>.jsonl)
        "lm_eval_native": native,
        "eval_wall_time_s": round(wall, 3),
        "model_load_s": round(load_s, 3),
        # the run's base model was already in memory, with this system's adapters switched on
        "base_shared": shared,
        "bertscore_encoder": metric_info.get("bertscore_f1"),
        "metric_runtime": metric_info,
        "lm_eval_version": config["lm_eval"],
        "lm_eval": res.lm_eval_part(raw),
    }
    write_json(out_dir / "results.json", results)
    return results


def _evaluate(wrapped: Any, refs: list[Any], config: dict[str, Any], settings: dict[str, Any], system: Any) -> Any:
    from harness.evaluation.run import evaluate

    return evaluate(
        wrapped,
        refs,
        config["limits"],
        settings["num_fewshot"],
        settings["bootstrap_iters"],
        seed=settings["seed"],
        instruction_format=system.prompt_format == "instruction",
    )


def eval_stage(
    loaded: LoadedSpec,
    registry: Registry,
    system: SystemPlan,
    model: ResolvedModel,
    adapters: dict[str, Stage],
    limit: int | None,
) -> Stage:
    """The stage evaluating ``system``; ``limit`` (from ``--limit``) overrides ``evaluation.limit``."""
    config = eval_config(loaded, registry, system, model, limit)
    refs = loaded.plan.resolved_tasks()
    metric_options = dict(loaded.spec.evaluation.metric_options)
    memory_limit_mb = loaded.spec.evaluation.memory_limit_mb
    unknown = [a for a in system.adapters if a not in adapters]
    if unknown:
        from harness.errors import SpecError

        raise SpecError(f"system {system.name!r} uses adapters {unknown} that the plan does not train", field="systems")

    def execute(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        missing = [a for a in system.adapters if a not in inputs]
        if missing:
            from harness.errors import SpecError

            raise SpecError(f"system {system.name!r} needs adapters {missing} that were not built")
        out = run_evaluation(
            registry,
            config,
            system,
            model,
            dict(inputs),
            refs,
            ctx.workdir,
            metric_options,
            memory_limit_mb,
        )
        summary = {t: {m: v["value"] for m, v in r["metrics"].items()} for t, r in out["tasks"].items()}
        for message in _warnings(out):
            ctx.warn(message)
        return {
            "system": system.name,
            "results": "results.json",
            "tasks": summary,
            "eval_wall_time_s": out["eval_wall_time_s"],
        }

    return Stage(
        name=f"eval/{system.name}",
        kind="eval",
        config=config,
        execute=execute,
        inputs={name: adapters[name] for name in system.adapters},
        publish_as=f"results/{system.name}",
    )


def _groups(refs: list[Any]) -> dict[str, str]:
    """Task → the title of its shipped group, in the spec's task order (the leaderboard's order)."""
    from harness.evaluation.catalog import group_titles

    titles = group_titles()
    return {ref.name: titles.get(ref.group, ref.group) if ref.group else "" for ref in refs}


def _warnings(out: dict[str, Any]) -> list[str]:
    encoder = out.get("bertscore_encoder") or []
    return [
        f"BERTScore used the packaged fallback encoder {e['model_type']} (wanted {e.get('wanted')})"
        for e in encoder
        if e.get("fallback")
    ]
