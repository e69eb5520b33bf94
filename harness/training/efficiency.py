"""Efficiency figures of one training run and its loss curves (CSV and PNG)."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path
from typing import Any

from harness.paths import write_atomic, write_json


class PeakMemory:
    """Peak memory while training: RSS sampled on CPU, ``max_memory_allocated`` on GPU.

    RSS is sampled (every 0.1 s) rather than read from ``ru_maxrss`` because the latter covers
    the whole process lifetime, including whatever ran before training in the same process.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        process = psutil.Process()
        while True:
            self.peak_rss = max(self.peak_rss, process.memory_info().rss)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakMemory:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, Any]:
        """``peak_memory_mb`` and what it measures."""
        import torch

        if torch.cuda.is_available():
            return {
                "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                "peak_memory_kind": "cuda max allocated",
            }
        return {"peak_memory_mb": round(self.peak_rss / 2**20, 1), "peak_memory_kind": "process RSS (CPU)"}


def parameter_figures(peft_model: Any) -> dict[str, Any]:
    """Trainable and total parameters (count and %), as peft counts them (4-bit weights unpacked);
    counted directly for a model that is no PeftModel (BitFit trains the base's own biases)."""
    if hasattr(peft_model, "get_nb_trainable_parameters"):
        trainable, total = peft_model.get_nb_trainable_parameters()
    else:
        params = list(peft_model.parameters())
        trainable = sum(p.numel() for p in params if p.requires_grad)
        total = sum(p.numel() for p in params)
    return {
        "trainable_params": int(trainable),
        "total_params": int(total),
        "trainable_percent": round(100.0 * trainable / total, 4) if total else 0.0,
    }


def folder_size(folder: Path) -> int:
    """Bytes of the adapter weights and config files directly in ``folder`` (PEFT's ``adapter_*``
    files, or another method's weight files)."""
    return sum(
        p.stat().st_size
        for p in folder.iterdir()
        if p.is_file() and (p.name.startswith("adapter_") or p.suffix in (".safetensors", ".bin"))
    )


class Stopwatch:
    """Wall time and process CPU time of a block."""

    def __enter__(self) -> Stopwatch:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        # CPU seconds of this process (all threads): less sensitive than wall time to other load
        self.cpu_seconds = time.process_time() - self.cpu_start


def loss_rows(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per logged step: step, epoch, train loss, validation loss, learning rate."""
    rows: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        if "loss" not in entry and "eval_loss" not in entry:
            continue
        row = rows.setdefault(int(entry["step"]), {"step": int(entry["step"]), "epoch": entry.get("epoch")})
        for key in ("loss", "eval_loss", "learning_rate"):
            if key in entry:
                row[key] = entry[key]
    return [rows[step] for step in sorted(rows)]


def write_loss_curves(folder: Path, rows: list[dict[str, Any]], title: str) -> None:
    """``loss.csv`` and ``loss.png`` (train and validation loss against step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["step", "epoch", "loss", "eval_loss", "learning_rate"])
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / "loss.csv", buffer.getvalue())
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in (("loss", "train"), ("eval_loss", "validation")):
        points = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if points:
            ax.plot(*zip(*points), marker="o" if len(points) < 30 else None, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if ax.lines:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no logged steps (logging_steps > steps run)", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    plt.close(fig)
    write_atomic(folder / "loss.png", png.getvalue())


def write_efficiency(folder: Path, figures: dict[str, Any]) -> None:
    """``efficiency.json`` beside the loss curves."""
    write_json(folder / "efficiency.json", figures)
