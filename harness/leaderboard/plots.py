"""Leaderboard figures as inline SVG (matplotlib): metric bars with 95% CI whiskers, quality against
cost (trainable parameters and training time), and training/validation loss curves."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from harness.leaderboard.model import Leaderboard, MetricColumn

#: at most this many metric panels per figure, so a large task group stays readable
MAX_PANELS = 12
#: the trainers' loss.csv columns, as the legend names them
LOSS_LABELS = {"loss": "train", "train_loss": "train", "eval_loss": "validation"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # fixed ids and no date, so the same board gives the same SVG
    plt.rcParams["svg.hashsalt"] = "harness-leaderboard"
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def to_svg(fig: Figure) -> str:
    """Serialise a figure to an SVG string without the XML prologue (ready to inline in HTML)."""
    plt = _pyplot()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _labels(board: Leaderboard) -> list[str]:
    several = len(board.runs) > 1
    return [f"{e.system} ({e.run.split('/')[-1]})" if several else e.system for e in board.entries]


def metric_bars(board: Leaderboard) -> str | None:
    """One bar panel per metric column: a bar per system with its 95% CI as whiskers."""
    columns = board.columns[:MAX_PANELS]
    if not columns or not board.entries:
        return None
    plt = _pyplot()
    ncols = min(3, len(columns))
    nrows = -(-len(columns) // ncols)
    labels = _labels(board)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 0.35 * len(labels) + 2.6 * nrows), squeeze=False)
    for ax, column in zip(axes.flat, columns):
        values, lows, highs = [], [], []
        for entry in board.entries:
            cell = entry.metrics.get(column.key)
            value = cell.value if cell else float("nan")
            values.append(value)
            lows.append(value - cell.ci_low if cell and cell.ci_low is not None else 0.0)
            highs.append(cell.ci_high - value if cell and cell.ci_high is not None else 0.0)
        best = board.best(column.key)
        colors = ["#2a9d8f" if i in best else "#8d99ae" for i in range(len(values))]
        ax.barh(range(len(values)), values, xerr=[lows, highs], color=colors, capsize=3)
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{column.key} {'↑' if column.higher_is_better else '↓'}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    for ax in list(axes.flat)[len(columns) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig)


def primary_columns(board: Leaderboard) -> list[MetricColumn]:
    """The first metric of each task: the quality axis of the cost plots."""
    seen: dict[str, MetricColumn] = {}
    for column in board.columns:
        seen.setdefault(column.task, column)
    return list(seen.values())[:4]


def quality_vs_cost(board: Leaderboard) -> str | None:
    """Scatter of each task's primary metric against trainable parameters and training time.

    Systems without adapters (the base model) have no cost: they are drawn as a dashed line.
    """
    columns = primary_columns(board)
    trained = [(i, e) for i, e in enumerate(board.entries) if e.adapters and e.trainable_params]
    if not columns or not trained:
        return None
    plt = _pyplot()
    from matplotlib.ticker import EngFormatter, NullFormatter

    labels = _labels(board)
    # one colour and marker per system, the same in every panel, named once in the legend
    cmap = plt.get_cmap("tab10")
    style = {i: (cmap(k % 10), "osD^v<>p*h"[k // 10 % 10]) for k, (i, _) in enumerate(trained)}
    fig, axes = plt.subplots(len(columns), 2, figsize=(10, 3.0 * len(columns) + 0.6), squeeze=False)
    for row, column in zip(axes, columns):
        for ax, attr, title in (
            (row[0], "trainable_params", "trainable parameters (log)"),
            (row[1], "train_seconds", "training time (s)"),
        ):
            for i, entry in trained:
                cell = entry.metrics.get(column.key)
                cost = getattr(entry, attr)
                if cell is None or not cost:
                    continue
                color, marker = style[i]
                ax.scatter([cost], [cell.value], s=40, zorder=3, color=color, marker=marker, label=labels[i])
            for entry in board.entries:
                cell = entry.metrics.get(column.key)
                if not entry.adapters and cell is not None:
                    ax.axhline(
                        cell.value, linestyle="--", color="#555555", linewidth=1, label=f"{entry.system} (no training)"
                    )
            if attr == "trainable_params":
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(EngFormatter(sep=""))
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(title, fontsize=8)
            ax.set_ylabel(f"{column.key} {'↑' if column.higher_is_better else '↓'}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    unique = dict(zip(names, handles))
    fig.legend(unique.values(), unique.keys(), loc="lower center", ncol=min(4, len(unique)), fontsize=7, frameon=False)
    fig.suptitle("quality vs cost", fontsize=10)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * (len(unique) // 4), 1, 1))
    return to_svg(fig)


def loss_curves(board: Leaderboard) -> str | None:
    """Training and validation loss per trained adapter (one panel per adapter, each run once)."""
    curves: dict[str, list[dict[str, float]]] = {}
    several = len(board.runs) > 1
    for entry in board.entries:
        for adapter in entry.adapters:
            name = f"{adapter.name} ({entry.run.split('/')[-1]})" if several else adapter.name
            if adapter.loss_curve and name not in curves:
                curves[name] = adapter.loss_curve
    if not curves:
        return None
    plt = _pyplot()
    ncols = min(3, len(curves))
    nrows = -(-len(curves) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, (name, rows) in zip(axes.flat, sorted(curves.items())):
        x_key = next((k for k in ("step", "global_step", "epoch") if any(k in r for r in rows)), None)
        loss_keys = sorted({k for r in rows for k in r if "loss" in k})
        for key in loss_keys:
            points = [(r.get(x_key, i) if x_key else i, r[key]) for i, r in enumerate(rows) if key in r]
            if points:
                xs, ys = zip(*points)
                label = LOSS_LABELS.get(key, key)
                ax.plot(xs, ys, marker="o" if len(points) < 20 else None, markersize=3, label=label)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(x_key or "row", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(curves) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig)
