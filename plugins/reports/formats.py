"""The text leaderboard formats.  Markdown and CSV are byte-stable: the same runs give the same
bytes (no timestamps, fixed number formatting, fixed row and column order), so they can be
committed and diffed."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, ClassVar

from harness.components import ReportFormat
from harness.leaderboard.model import COST_FIELDS
from harness.leaderboard.table import columns, grouped, rows
from harness.leaderboard.terminal import render_text

if TYPE_CHECKING:
    from harness.leaderboard.model import Leaderboard


class TerminalFormat(ReportFormat):
    """The rich table as plain text (``harness run`` prints it in colour)."""

    description = "rich table on the terminal (plain text when written to a file)"
    extension: ClassVar[str] = "txt"

    def render(self, board: Leaderboard) -> str:
        """Plain-text table."""
        return render_text(board)


def _num(value: float | None) -> str:
    # six significant digits: precise enough for analysis, stable across platforms
    return "" if value is None else format(value, ".6g")


def _escape_md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class MarkdownFormat(ReportFormat):
    """A GitHub-flavoured Markdown table; best value per metric in bold."""

    description = "Markdown table (byte-stable)"
    extension: ClassVar[str] = "md"

    def render(self, board: Leaderboard) -> str:
        """Heading, run list, table, notes."""
        cols = columns(board)
        lines = ["# Leaderboard", ""]
        for run in board.runs:
            lines.append(f"- run `{run.run}` (profile {run.profile or '?'}, seed {run.seed}, git {run.git_sha or '?'})")
        # Markdown has no header cells spanning columns: the group leads each metric's title
        titles = [f"{c.group}: {c.title}" if grouped(cols) and c.group else c.title for c in cols]
        lines += ["", "| " + " | ".join(_escape_md(t) for t in titles) + " |"]
        lines.append("| " + " | ".join("---:" if c.numeric else "---" for c in cols) + " |")
        for row in rows(board, cols):
            cells = [f"**{_escape_md(c.text)}**" if c.best and c.text else _escape_md(c.text) for c in row]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [
            "",
            "Metrics: value [95% CI]; ↑ higher is better, ↓ lower is better; **bold** = best.",
            "Costs sum the system's adapters (peak memory: the largest; tokens/s: the top adapter).",
        ]
        lines += [f"{note}." if not note.endswith(".") else note for note in board.notes]
        return "\n".join(lines) + "\n"


class CSVFormat(ReportFormat):
    """One row per system; each metric as value, stderr, ci_low, ci_high columns (numbers only)."""

    description = "CSV, one row per system (byte-stable)"
    extension: ClassVar[str] = "csv"

    def render(self, board: Leaderboard) -> str:
        """CSV text with ``\\n`` line endings."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = ["run", "system", "model", "model_source", "adapters", "prompts"]
        for column in board.columns:
            header += [column.key, f"{column.key} stderr", f"{column.key} ci_low", f"{column.key} ci_high"]
        header += list(COST_FIELDS)
        writer.writerow(header)
        for entry in board.entries:
            row = [entry.run, entry.system, entry.model, entry.model_source, entry.adapters_text(), entry.prompt_format]
            for column in board.columns:
                value = entry.metrics.get(column.key)
                numbers = [value.value, value.stderr, value.ci_low, value.ci_high] if value else [None] * 4
                row += [_num(n) for n in numbers]
            row += [
                "" if entry.trainable_params is None else str(entry.trainable_params),
                "" if entry.total_params is None else str(entry.total_params),
            ]
            row += [
                _num(getattr(entry, a))
                for a in ("train_seconds", "tokens_per_second", "peak_memory_mb", "eval_seconds")
            ]
            writer.writerow(row)
        return buffer.getvalue()


class JSONFormat(ReportFormat):
    """The whole leaderboard model as JSON (sorted keys), with the best entries per column."""

    description = "JSON of the leaderboard model"
    extension: ClassVar[str] = "json"

    def render(self, board: Leaderboard) -> str:
        """Indented JSON text."""
        return json.dumps(board.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
