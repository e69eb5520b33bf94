"""Fabricate run folders with the layout ``harness run`` writes: real JSON files with lm-eval's
results structure and per-sample logs as ``EvaluationTracker`` writes them."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

TASKS = ("mx_legal_law_id", "mx_legal_ppl")


def _mc_samples(rng: random.Random, n: int, p: float) -> list[dict[str, Any]]:
    out = []
    for doc_id in range(n):
        acc = 1.0 if rng.random() < p else 0.0
        acc_norm = 1.0 if rng.random() < p else 0.0
        out.append(_sample(doc_id, {"acc": acc, "acc_norm": acc_norm}))
    return out


def _ppl_samples(rng: random.Random, n: int, nll: float) -> list[dict[str, Any]]:
    out = []
    for doc_id in range(n):
        words = rng.randint(20, 60)
        nbytes = words * 6
        ll = -nll * words * (0.8 + 0.4 * rng.random())
        out.append(
            _sample(
                doc_id,
                {
                    "word_perplexity": [ll, words],
                    "byte_perplexity": [ll, nbytes],
                    "bits_per_byte": [ll, nbytes],
                },
            )
        )
    return out


def _sample(doc_id: int, metrics: dict[str, Any]) -> dict[str, Any]:
    # the fields lm-eval's evaluator logs per sample, sanitised as EvaluationTracker writes them
    return {
        "doc_id": doc_id,
        "doc": {"id": doc_id, "text": f"Artículo {doc_id}. Texto de prueba."},
        "target": "0",
        "arguments": {"gen_args_0": {"arg_0": "Pregunta", "arg_1": " respuesta"}},
        "resps": [[["-1.5", "False"]]],
        "filtered_resps": [["-1.5", "False"]],
        "filter": "none",
        "metrics": list(metrics),
        "doc_hash": f"{doc_id:064x}",
        "prompt_hash": f"{doc_id + 1:064x}",
        "target_hash": f"{doc_id + 2:064x}",
        **metrics,
    }


def _aggregate(task: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    cells: dict[str, Any] = {"alias": task}
    for metric in samples[0]["metrics"]:
        values = [s[metric] for s in samples]
        if isinstance(values[0], list):
            ll = sum(v[0] for v in values)
            weight = sum(v[1] for v in values)
            value = -ll / weight / math.log(2) if metric == "bits_per_byte" else math.exp(-ll / weight)
            cells[f"{metric},none"] = value
            cells[f"{metric}_stderr,none"] = "N/A"
        else:
            mean = sum(values) / len(values)
            stderr = math.sqrt(mean * (1 - mean) / max(1, len(values) - 1))
            cells[f"{metric},none"] = mean
            cells[f"{metric}_stderr,none"] = stderr
    return cells


def lm_eval_output(quality: float, n: int = 60, seed: int = 0) -> dict[str, Any]:
    """What ``lm_eval.simple_evaluate(..., log_samples=True)`` returns for two tasks."""
    rng = random.Random(seed)
    per_task = {
        "mx_legal_law_id": _mc_samples(rng, n, 0.25 + 0.5 * quality),
        "mx_legal_ppl": _ppl_samples(rng, n, 6.0 - 2.0 * quality),
    }
    return {
        "results": {task: _aggregate(task, samples) for task, samples in per_task.items()},
        "group_subtasks": {task: [] for task in per_task},
        "configs": {task: {"task": task} for task in per_task},
        "versions": {task: 1.0 for task in per_task},
        "n-shot": {task: 0 for task in per_task},
        "higher_is_better": {
            "mx_legal_law_id": {"acc": True, "acc_norm": True},
            "mx_legal_ppl": {"word_perplexity": False, "byte_perplexity": False, "bits_per_byte": False},
        },
        "n-samples": {task: {"original": n, "effective": n} for task in per_task},
        "samples": per_task,
    }


def write_results(folder: Path, quality: float, n: int = 60, seed: int = 0, style: str = "harness") -> None:
    """``results.json`` and per-sample logs for one system of given quality (0..1).

    ``style="harness"`` writes them with the evaluation stage's own functions
    (``harness.evaluation.results``); ``style="lm_eval"`` writes lm-eval's results dict and its
    tracker's sample lines, with the harness extras (``ci95``, ``eval_seconds``).
    """
    raw = lm_eval_output(quality, n, seed)
    folder.mkdir(parents=True, exist_ok=True)
    if style == "harness":
        from harness.evaluation import results as res

        results = {
            "system": folder.name,
            "tasks": res.summarize(raw, 200, seed),
            "samples": res.write_samples(raw, folder),
            "eval_wall_time_s": 12.5,
            "bertscore_encoder": None,
            "lm_eval": res.lm_eval_part(raw),
        }
    else:
        results = {k: v for k, v in raw.items() if k != "samples"}
        results["eval_seconds"] = 12.5
        acc = results["results"]["mx_legal_law_id"]["acc,none"]
        # the harness's own 95% CI for accuracy, as an extra beside lm-eval's stderr
        results["ci95"] = {"mx_legal_law_id": {"acc,none": [max(0.0, acc - 0.1), min(1.0, acc + 0.1)]}}
        for task, samples in raw["samples"].items():
            with (folder / f"samples_{task}.jsonl").open("w", encoding="utf-8") as handle:
                for sample in samples:
                    handle.write(json.dumps(sample, ensure_ascii=False) + "\n")
    (folder / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


ADAPTERS = {
    "dapt[method=lora]": ("dapt", "lora", {"r": 8}, None, 0.3, 81920, 41.0),
    "dapt[method=ia3]": ("dapt", "ia3", {}, None, 0.2, 4096, 30.0),
    "dapt[method=lora]+sft": ("sft", "lora", {"r": 4}, "dapt[method=lora]", 0.6, 40960, 22.0),
}


def make_run(
    root: Path, name: str = "smoke", run_id: str = "20260101-000000", seed: int = 0, style: str = "harness"
) -> Path:
    """A complete run folder with systems base, two DAPT methods and a stacked SFT system."""
    run_dir = root / name / run_id
    systems = [
        {"name": "base", "adapters": [], "composition": "stacked"},
        {"name": "base+dapt[method=lora]", "adapters": ["dapt[method=lora]"], "composition": "stacked"},
        {"name": "base+dapt[method=ia3]", "adapters": ["dapt[method=ia3]"], "composition": "stacked"},
        {
            "name": "base+dapt+sft",
            "adapters": ["dapt[method=lora]", "dapt[method=lora]+sft"],
            "composition": "stacked",
        },
    ]
    quality = {"base": 0.1, "base+dapt[method=lora]": 0.3, "base+dapt[method=ia3]": 0.2, "base+dapt+sft": 0.6}
    adapters: dict[str, Any] = {}
    for plan, (role, method, options, parent, _, params, seconds) in ADAPTERS.items():
        adapters[plan] = {
            "role": role,
            "method": method,
            "method_options": options,
            "parent": parent,
            "parent_trainable": False,
            "sweep": {"method": method} if role == "dapt" else {},
            # the trainer's own key names (harness.training.loop)
            "efficiency": {
                "trainable_params": params,
                "total_params": 2_000_000,
                "trainable_percent": 100 * params / 2_000_000,
                "wall_time_s": seconds,
                "train_tokens_per_s": 1500.0 + params / 100,
                "peak_memory_mb": 900.0 + params / 1000,
                "peak_memory_kind": "process RSS (CPU)",
                "adapter_size_bytes": params * 4,
            },
        }
        folder = run_dir / "adapters" / plan
        (folder / "training").mkdir(parents=True, exist_ok=True)
        (folder / "adapter_config.json").write_text(json.dumps({"peft_type": method.upper(), "r": options.get("r")}))
        (folder / "training" / "efficiency.json").write_text(json.dumps(adapters[plan]["efficiency"]))
        lines = ["step,epoch,loss,eval_loss,learning_rate"]
        for step in range(0, 50, 10):
            lines.append(f"{step},{step / 50},{5.0 - step * 0.05:.3f},{5.2 - step * 0.04:.3f},0.001")
        (folder / "training" / "loss.csv").write_text("\n".join(lines) + "\n")
        if role == "sft":  # the SFT trainer's generation probes (harness.training.probes)
            probes = [
                {
                    "task_type": "legal_qa",
                    "instruction": "¿Qué plazo fija el artículo 5?",
                    "context": "",
                    "reference": "Según el artículo 5, el plazo es de diez días.",
                    "generated": "diez días <b>",
                },
                {
                    "task_type": "exqa",
                    "instruction": "Extrae el plazo.",
                    "context": "Dentro de diez días.",
                    "reference": "diez días",
                    "generated": "Dentro de",
                },
            ]
            (folder / "training" / "probes.jsonl").write_text(
                "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in probes), encoding="utf-8"
            )
    for i, system in enumerate(systems):
        write_results(run_dir / "results" / system["name"], quality[system["name"]], seed=seed * 100 + i, style=style)
    manifest = {
        "name": name,
        "run_id": run_id,
        "created": "2026-01-01T00:00:00+00:00",
        "profile": "cpu",
        "seed": seed,
        "model": {
            "reference": "tiny-llama",
            "source": "tiny",
            "path": "/tmp/tiny",
            "notes": "built on the fly",
            "revision": "abc",
        },
        "systems": systems,
        "adapters": adapters,
        "evaluation": {s["name"]: {"eval_seconds": 10.0 + i} for i, s in enumerate(systems)},
        "stages": {"eval/base": {"kind": "eval", "key": "k", "cached": False, "seconds": 10.0}},
        "packages": {"lm_eval": "0.4.13"},
        "git_sha": "deadbeef",
        "hardware": {"cpu_count": 2, "memory_gb": 24},
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return run_dir
