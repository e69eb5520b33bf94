"""Read run folders (manifest, results, training logs) into a :class:`Leaderboard`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.leaderboard.model import AdapterInfo, Entry, Leaderboard, MetricColumn, RunSummary
from harness.leaderboard.results import metrics_of, number
from harness.training.probes import PROBES_FILE, read_probes


def find_runs(paths: list[Path]) -> list[Path]:
    """Expand each path: a run folder (has ``manifest.json``) or a folder of runs (one level down,
    e.g. ``runs/<benchmark>``, or two, e.g. ``runs``), in sorted order."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if (path / "manifest.json").is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise DataError(f"run folder {path} does not exist", file=str(path))
        nested = sorted(path.glob("*/manifest.json")) or sorted(path.glob("*/*/manifest.json"))
        if not nested:
            raise DataError(f"{path} is not a run folder (no manifest.json in it or below)", file=str(path))
        found += [p.parent for p in nested]
    unique: list[Path] = []
    for run in found:
        if run.resolve() not in [u.resolve() for u in unique]:
            unique.append(run)
    return unique


def read_json(path: Path) -> dict[str, Any]:
    """Load a JSON file or raise a :class:`DataError` naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object", file=str(path))
    return data


def collect(run_dirs: list[Path], baselines: bool = True) -> Leaderboard:
    """Build the leaderboard of every system in the given runs (run order, then system order),
    each run followed by the model-free baseline rows of its multiple-choice tasks."""
    from harness.leaderboard.baselines import baseline_entries

    board = Leaderboard()
    columns: dict[str, MetricColumn] = {}
    for run_dir in find_runs(list(run_dirs)):
        manifest = read_json(run_dir / "manifest.json")
        summary = _summary(run_dir, manifest)
        board.runs.append(summary)
        items: dict[str, int] = {}
        for system in _systems(run_dir, manifest):
            entry = _entry(run_dir, manifest, summary.run, system, columns, board.notes, items)
            board.entries.append(entry)
        if baselines:
            board.entries += baseline_entries(summary.run, items, columns)
    # columns grouped (legal tasks, general Spanish, …), groups and tasks in the order they first
    # appear (the spec's task order), metrics by name
    rank: dict[str, int] = {}
    for column in columns.values():
        rank.setdefault(column.group, len(rank))
        rank.setdefault("task:" + column.task, len(rank))
    board.columns = sorted(columns.values(), key=lambda c: (rank[c.group], rank["task:" + c.task], c.metric, c.filter))
    return board


def _summary(run_dir: Path, manifest: dict[str, Any]) -> RunSummary:
    name = str(manifest.get("name") or run_dir.parent.name)
    run_id = str(manifest.get("run_id") or run_dir.name)
    return RunSummary(
        run=f"{name}/{run_id}",
        path=str(run_dir),
        created=str(manifest.get("created", "")),
        profile=str(manifest.get("profile", "")),
        seed=manifest.get("seed"),
        git_sha=str(manifest.get("git_sha") or ""),
        hardware=manifest.get("hardware") or {},
    )


def _systems(run_dir: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Systems in manifest order; result folders the manifest does not list are appended."""
    systems = [dict(s) for s in manifest.get("systems") or [] if isinstance(s, dict) and s.get("name")]
    listed = {s["name"] for s in systems}
    results = run_dir / "results"
    if results.is_dir():
        for folder in sorted(p for p in results.iterdir() if (p / "results.json").is_file()):
            if folder.name not in listed:
                systems.append({"name": folder.name, "adapters": []})
    return [s for s in systems if (results / s["name"] / "results.json").is_file()]


def _entry(
    run_dir: Path,
    manifest: dict[str, Any],
    run: str,
    system: dict[str, Any],
    columns: dict[str, MetricColumn],
    notes: list[str],
    items: dict[str, int],
) -> Entry:
    model = manifest.get("model") or {}
    source = str(model.get("source", ""))
    if model.get("notes"):
        source += f"; {model['notes']}"
    results = read_json(run_dir / "results" / system["name"] / "results.json")
    for task, summary in (results.get("tasks") or {}).items():
        if isinstance(summary, dict) and isinstance(summary.get("n"), int):
            items.setdefault(task, summary["n"])
    missing: list[str] = []
    adapters = [_adapter(run_dir, manifest, name) for name in system.get("adapters") or []]
    entry = Entry(
        run=run,
        system=system["name"],
        model=str(model.get("reference", "")),
        model_source=source,
        adapters=adapters,
        composition=str(system.get("composition") or ""),
        prompt_format=str(results.get("prompt_format") or "plain"),
        precision=str(results.get("precision") or "fp32"),
        metrics=metrics_of(results, columns, missing),
    )
    for name in missing:
        note = f"{system['name']}: {name} is not a number (NaN); its cell is empty"
        entry.notes.append(note)
        notes.append(note)
    _costs(entry, manifest, results)
    for note in _encoder_notes(results.get("bertscore_encoder")):
        entry.notes.append(note)
        if note not in notes:
            notes.append(note)
    return entry


def _encoder_notes(encoder: Any) -> list[str]:
    """Which BERTScore encoder was used (the evaluation stage lists one record per metric use)."""
    if not encoder:
        return []
    if not isinstance(encoder, list):
        encoder = [encoder]
    notes = []
    for item in encoder:
        if isinstance(item, dict):
            text = f"BERTScore encoder: {item.get('model_type', '?')}"
            if item.get("num_layers") is not None:
                text += f" (layer {item['num_layers']})"
            if item.get("fallback"):
                text += f", the packaged offline fallback for {item.get('wanted', 'the configured encoder')}"
        else:
            text = f"BERTScore encoder: {item}"
        if text not in notes:
            notes.append(text)
    return notes


def _adapter(run_dir: Path, manifest: dict[str, Any], name: str) -> AdapterInfo:
    plan = (manifest.get("adapters") or {}).get(name) or {}
    options = plan.get("method_options") or {}
    folder = run_dir / "adapters" / name
    if (
        not any(k in options for k in ("r", "rank", "num_virtual_tokens"))
        and (folder / "adapter_config.json").is_file()
    ):
        options = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    rank, rank_name = options.get("r", options.get("rank")), "r"
    if rank is None and options.get("num_virtual_tokens") is not None:
        rank, rank_name = options["num_virtual_tokens"], "tokens"
    efficiency = dict(plan.get("efficiency") or {})
    if not efficiency and (folder / "training" / "efficiency.json").is_file():
        efficiency = read_json(folder / "training" / "efficiency.json")
    return AdapterInfo(
        name=name,
        role=str(plan.get("role", "")),
        method=str(plan.get("method", "")),
        method_label=str(plan.get("method_label") or _meta_label(folder)),
        rank=int(rank) if isinstance(rank, (int, float)) else None,
        rank_name=rank_name,
        parent=plan.get("parent"),
        parent_trainable=bool(plan.get("parent_trainable", False)),
        efficiency=efficiency,
        loss_curve=read_loss_curve(folder / "training" / "loss.csv"),
        probes=read_probes(folder / "training" / PROBES_FILE),
    )


def _meta_label(folder: Path) -> str:
    path = folder / "harness_adapter.json"
    return str(read_json(path).get("method_label") or "") if path.is_file() else ""


def read_loss_curve(path: Path) -> list[dict[str, float]]:
    """Rows of a trainer's ``loss.csv`` with numeric cells only (empty when the file is absent)."""
    if not path.is_file():
        return []
    rows: list[dict[str, float]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            row = {k: number(v) for k, v in raw.items() if k}
            rows.append({k: v for k, v in row.items() if v is not None})
    return rows


#: efficiency figure → the names trainers may use for it (the manifest contract's name first)
EFFICIENCY_ALIASES = {
    "trainable_params": ("trainable_params",),
    "total_params": ("total_params",),
    "train_seconds": ("train_seconds", "wall_time_s", "train_runtime"),
    "tokens_per_second": ("tokens_per_second", "train_tokens_per_s"),
    "peak_memory_mb": ("peak_memory_mb",),
}


def efficiency_figure(figures: dict[str, Any], name: str) -> float | None:
    """One efficiency figure under any of its known names, or None."""
    for key in EFFICIENCY_ALIASES[name]:
        value = number(figures.get(key))
        if value is not None:
            return value
    return None


def _costs(entry: Entry, manifest: dict[str, Any], results: dict[str, Any]) -> None:
    """Training cost of the system's adapters (summed, peak = max) and its evaluation time.

    tokens/s is the top adapter's: it is the one the system was built to test.
    """
    effs = [a.efficiency for a in entry.adapters if a.efficiency]
    if effs:
        entry.trainable_params = int(sum(efficiency_figure(e, "trainable_params") or 0 for e in effs))
        total = max((efficiency_figure(e, "total_params") or 0 for e in effs), default=0)
        entry.total_params = int(total) if total else None
        if total:
            entry.trainable_pct = 100.0 * entry.trainable_params / total
        seconds = [efficiency_figure(e, "train_seconds") for e in effs]
        entry.train_seconds = sum(s for s in seconds if s is not None) if any(s is not None for s in seconds) else None
        entry.tokens_per_second = efficiency_figure(effs[-1], "tokens_per_second")
        peaks = [p for p in (efficiency_figure(e, "peak_memory_mb") for e in effs) if p is not None]
        entry.peak_memory_mb = max(peaks) if peaks else None
    elif not entry.adapters:
        entry.trainable_params = 0
    evaluation = (manifest.get("evaluation") or {}).get(entry.system) or {}
    for value in (evaluation.get("eval_seconds"), results.get("eval_seconds"), results.get("eval_wall_time_s")):
        if number(value) is not None:
            entry.eval_seconds = number(value)
            break
