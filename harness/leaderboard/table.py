"""The leaderboard as a flat table of cells, shared by the text formats (terminal, Markdown, CSV,
HTML), so that every format shows the same columns in the same order with the same numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.leaderboard.model import COST_COLUMNS, Entry, Leaderboard, MetricValue


@dataclass
class Cell:
    """One table cell: display text, the number it sorts by, and whether it is the column's best."""

    text: str
    number: float | None = None
    best: bool = False
    #: extra numbers for machine formats (CSV): e.g. {"ci_low": ..., "ci_high": ...}
    extra: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Column:
    """A table column: its title, a stable id, and (for metrics) the direction of "better"."""

    id: str
    title: str
    numeric: bool = False
    higher_is_better: bool | None = None
    #: the metric's task group ("Mexican law", "general Spanish"), shown above its columns
    group: str = ""


def format_number(value: float | None) -> str:
    """Fixed, locale-free formatting, so Markdown and CSV are byte-stable."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value)}"
    magnitude = abs(value)
    if magnitude >= 1e5:
        # e.g. the word perplexity of an untrained model: significant digits, not 9 wide columns
        return f"{value:.4g}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def format_count(value: int | None) -> str:
    """Parameter counts with thousands separators (``1,234,567``)."""
    return "" if value is None else f"{value:,}"


def metric_text(value: MetricValue | None) -> str:
    """``0.5120 [0.4310, 0.5930]`` (value and 95% CI) or ``0.5120`` when there is no CI."""
    if value is None:
        return ""
    text = format_number(value.value)
    if value.ci_low is not None and value.ci_high is not None:
        text += f" [{format_number(value.ci_low)}, {format_number(value.ci_high)}]"
    return text


def columns(board: Leaderboard, with_run: bool | None = None) -> list[Column]:
    """Columns in order: run (when several runs), system, model, adapters, metrics, costs."""
    if with_run is None:
        with_run = len(board.runs) > 1
    out = [Column("run", "run")] if with_run else []
    out += [Column("system", "system"), Column("model", "model (source)"), Column("adapters", "adapters")]
    out += [Column("prompts", "prompts"), Column("precision", "precision")]
    arrow = {True: "↑", False: "↓"}
    out += [
        Column(c.key, f"{c.key} {arrow[c.higher_is_better]}", True, c.higher_is_better, c.group) for c in board.columns
    ]
    out += [Column(attr, title, True, hib) for attr, title, hib in COST_COLUMNS]
    return out


def grouped(cols: list[Column]) -> bool:
    """Whether the metric columns come from more than one task group (then formats show groups)."""
    return len({c.group for c in cols if c.numeric and "/" in c.id}) > 1


def group_spans(cols: list[Column]) -> list[tuple[str, int]]:
    """Consecutive runs of columns with the same group: ``[("", 5), ("Mexican law", 9), …]``."""
    spans: list[tuple[str, int]] = []
    for col in cols:
        group = col.group if "/" in col.id else ""
        if spans and spans[-1][0] == group:
            spans[-1] = (group, spans[-1][1] + 1)
        else:
            spans.append((group, 1))
    return spans


def rows(board: Leaderboard, cols: list[Column]) -> list[list[Cell]]:
    """One row of cells per entry, aligned with ``cols``, best values flagged."""
    best = {c.key: board.best(c.key) for c in board.columns}
    best.update({attr: board.best_cost(attr, hib) for attr, _, hib in COST_COLUMNS})
    table: list[list[Cell]] = []
    for index, entry in enumerate(board.entries):
        row = [_cell(entry, col, index in best.get(col.id, set())) for col in cols]
        table.append(row)
    return table


def _cell(entry: Entry, col: Column, is_best: bool) -> Cell:
    if col.id == "run":
        return Cell(entry.run)
    if col.id == "system":
        return Cell(entry.system)
    if col.id == "model":
        return Cell(f"{entry.model} ({entry.model_source})" if entry.model_source else entry.model)
    if col.id == "adapters":
        return Cell(entry.adapters_text() if entry.kind == "system" else "model-free")
    if col.id == "prompts":
        return Cell(entry.prompt_format if entry.kind == "system" else "")
    if col.id == "precision":
        return Cell(entry.precision if entry.kind == "system" else "")
    if col.id in entry.metrics or "/" in col.id:
        value = entry.metrics.get(col.id)
        if value is None:
            return Cell("")
        extra = {"stderr": value.stderr, "ci_low": value.ci_low, "ci_high": value.ci_high}
        return Cell(metric_text(value), value.value, is_best, extra)
    number = getattr(entry, col.id)
    if col.id == "trainable_params":
        text = format_count(number)
        if number and entry.trainable_pct is not None:
            text += f" ({entry.trainable_pct:.2f}%)"
        return Cell(text, number, is_best)
    return Cell(format_number(number), number, is_best)
