"""lm-eval output → ``results.json`` and ``samples/<task>.jsonl``, with 95% bootstrap CIs, and
lm-eval's own ``results_<timestamp>.json`` / ``samples_<task>_<timestamp>.jsonl`` beside them.

lm-eval gives closed-form standard errors for means and none for its perplexities (their
aggregation is not in its bootstrappable list).  The harness adds, for every metric, a percentile
bootstrap 95% CI over the per-sample values, aggregating each resample the way lm-eval does
(mean, or ``exp(-Σll/Σn)`` for perplexities, ``-Σll/(Σn·ln 2)`` for bits per byte).  Sample logs
keep ``doc_id`` and one scalar per metric so the regression gate can pair systems sample by sample.

The native files are written by lm-eval's own ``EvaluationTracker`` (the code its command line
uses), so that they carry every key lm-eval writes (``configs``, ``task_hashes``,
``model_name``, ``date``, ``git_hash`` …) and are read unchanged by ``lm_eval.utils`` and by
leaderboard parsers.  The harness's own logs sit in ``samples/``: a ``samples_<task>.jsonl``
beside lm-eval's dated files would be taken by ``lm_eval.utils`` for one of them, with the task
name read wrong.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataError
from harness.paths import finite, write_atomic

#: the harness's per-sample logs: ``<results folder>/samples/<task>.jsonl``
SAMPLES_DIR = "samples"
PAIRED = {"word_perplexity", "byte_perplexity", "bits_per_byte"}
_SKIP_KEYS = {"alias", "samples", "name", "sample_len", "sample_count"}


def _aggregate(metric: str, values: np.ndarray) -> float:
    if metric in PAIRED:
        loss = -values[:, 0].sum() / values[:, 1].sum()
        return float(loss / math.log(2)) if metric == "bits_per_byte" else float(math.exp(loss))
    return float(values.mean())


def scalar(metric: str, value: Any) -> float | None:
    """One number per sample: perplexity-type pairs become nats (or bits) per word/byte."""
    if metric in PAIRED and isinstance(value, (list, tuple)) and len(value) == 2:
        loss = -float(value[0]) / max(float(value[1]), 1e-9)
        return loss / math.log(2) if metric == "bits_per_byte" else loss
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def bootstrap_ci(metric: str, values: list[Any], iters: int, seed: int = 0) -> list[float] | None:
    """Percentile bootstrap 95% CI of the aggregated metric, or None with fewer than 2 samples."""
    if len(values) < 2 or iters <= 0:
        return None
    try:
        data = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if metric in PAIRED and data.ndim != 2:
        return None
    rng = np.random.default_rng(seed)
    n = len(data)
    stats = [_aggregate(metric, data[rng.integers(0, n, n)]) for _ in range(iters)]
    low, high = np.percentile(stats, [2.5, 97.5])
    return [float(low), float(high)]


def _metrics_of(task_result: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{"acc": (value, stderr)}`` from lm-eval's ``"acc,none"`` / ``"acc_stderr,none"`` keys."""
    out: dict[str, tuple[Any, Any]] = {}
    for key, value in task_result.items():
        name, _, filt = key.partition(",")
        if name in _SKIP_KEYS or name.endswith("_stderr") or not filt:
            continue
        stderr = task_result.get(f"{name}_stderr,{filt}")
        out[name if filt == "none" else f"{name},{filt}"] = (
            value,
            None if stderr in (None, "N/A") else stderr,
        )
    return out


def summarize(raw: dict[str, Any], iters: int, seed: int = 0, groups: dict[str, str] | None = None) -> dict[str, Any]:
    """Per task: value, lm-eval stderr, 95% CI and sample count of every metric, and the title of
    the task's group; tasks in the order of ``groups`` (the spec's), then lm-eval's."""
    tasks: dict[str, Any] = {}
    groups = groups or {}
    samples = raw.get("samples", {})
    results = raw.get("results", {})
    order = [t for t in groups if t in results] + [t for t in results if t not in groups]
    for task in order:
        result = results[task]
        if task not in samples:
            continue  # a group row; its members are reported
        per_metric: dict[str, Any] = {}
        task_samples = samples.get(task, [])
        higher = raw.get("higher_is_better", {}).get(task, {})
        for metric, (value, stderr) in _metrics_of(result).items():
            values = [s[metric] for s in task_samples if metric in s]
            nan = isinstance(value, float) and not math.isfinite(value)
            per_metric[metric] = {
                "value": None if nan else value,
                # a metric that returned NaN: the leaderboard shows an empty cell and says why
                **({"not_a_number": True} if nan else {}),
                "stderr": stderr,
                "ci95": bootstrap_ci(metric, values, iters, seed),
                "ci_method": f"percentile bootstrap, {iters} resamples" if iters > 0 else None,
                "higher_is_better": higher.get(metric),
            }
        tasks[task] = {
            "group": groups.get(task, ""),
            "metrics": per_metric,
            "n": len(task_samples),
            "n_samples": raw.get("n-samples", {}).get(task),
            "version": raw.get("versions", {}).get(task),
        }
    return tasks


def write_samples(raw: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """``samples/<task>.jsonl``: doc_id, item id, the requests as lm-eval sent them (prompt and
    continuation of each), target, response and per-sample metric values."""
    files = {}
    for task, rows in raw.get("samples", {}).items():
        lines = []
        for sample in sorted(rows, key=lambda s: s["doc_id"]):
            metrics = sample.get("metrics", [])
            doc = sample.get("doc", {}) if isinstance(sample.get("doc"), dict) else {}
            record = {
                "doc_id": sample["doc_id"],
                "item_id": doc.get("id"),
                "doc_hash": sample.get("doc_hash"),
                "arguments": sample.get("arguments"),
                "target": sample.get("target"),
                "response": sample.get("filtered_resps"),
                "metrics": {m: scalar(m, sample.get(m)) for m in metrics},
                "raw": {m: sample.get(m) for m in metrics},
            }
            lines.append(json.dumps(finite(record), ensure_ascii=False, default=str, allow_nan=False))
        name = f"{SAMPLES_DIR}/{task}.jsonl"
        (out_dir / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
        write_atomic(out_dir / name, "\n".join(lines) + ("\n" if lines else ""))
        files[task] = name
    return files


def lm_eval_part(raw: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able parts of lm-eval's output (everything but the per-sample logs)."""
    keep = (
        "results",
        "groups",
        "group_subtasks",
        "versions",
        "n-shot",
        "higher_is_better",
        "n-samples",
        "config",
    )
    return json.loads(json.dumps({k: raw[k] for k in keep if k in raw}, default=str))


def write_native(
    raw: dict[str, Any],
    out_dir: Path,
    model_name: str,
    model_args: dict[str, Any],
    chat_template: str | None = None,
) -> dict[str, Any]:
    """lm-eval's native ``results_<timestamp>.json`` and ``samples_<task>_<timestamp>.jsonl`` in
    ``out_dir``, written by lm-eval's ``EvaluationTracker``; returns their file names."""
    import copy

    from lm_eval.loggers import EvaluationTracker

    # the tracker rewrites the samples it saves (arguments, resps) and adds keys to the results
    samples = copy.deepcopy(raw.get("samples", {}))
    results = copy.deepcopy({k: v for k, v in raw.items() if k != "samples"})
    before = set(Path(out_dir).iterdir()) if Path(out_dir).is_dir() else set()
    # "<dir>/results.json" as output path: the tracker writes results_<ts>.json and the samples
    # files in <dir> itself (a folder path would add a <model_name> subfolder)
    tracker = EvaluationTracker(output_path=str(Path(out_dir) / "results.json"))
    tracker.general_config_tracker.log_experiment_args(
        model_source="hf",
        model_args=model_args,
        system_instruction=None,
        chat_template=chat_template,
        fewshot_as_multiturn=False,
    )
    tracker.general_config_tracker.model_name = model_name
    tracker.general_config_tracker.model_name_sanitized = model_name.replace("/", "__")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results.get("configs", {}):
        if task in samples:
            tracker.save_results_samples(task_name=task, samples=samples[task])
    written = sorted(p.name for p in set(Path(out_dir).iterdir()) - before)
    aggregated = [n for n in written if n.startswith("results_") and n.endswith(".json")]
    if not aggregated:  # the tracker logs a warning and carries on when it cannot write
        raise DataError("lm-eval's EvaluationTracker wrote no results_<timestamp>.json", file=str(out_dir))
    return {
        "results": aggregated[0],
        "samples": {
            task: f"samples_{task}_{tracker.date_id}.jsonl"
            for task in results.get("configs", {})
            if f"samples_{task}_{tracker.date_id}.jsonl" in written
        },
    }
