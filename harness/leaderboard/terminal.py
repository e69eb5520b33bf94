"""The leaderboard as a rich table (the ``terminal`` format and what ``harness run`` prints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from harness.leaderboard.table import columns, grouped, rows

if TYPE_CHECKING:
    from harness.leaderboard.model import Leaderboard

BEST_STYLE = "bold green"


def build_table(board: Leaderboard) -> Table:
    """A rich table with the same columns as the other formats; best values bold green."""
    cols = columns(board)
    title = ", ".join(r.run for r in board.runs) or "no runs"
    models = {(e.model, e.model_source) for e in board.entries if e.kind == "system"}
    caption = None
    if len(models) == 1:
        # one base model for every row: say it once under the table, keep the columns for numbers
        model, source = next(iter(models))
        caption = f"base model: {model} ({source})" if source else f"base model: {model}"
        cols = [c for c in cols if c.id != "model"]
    table = Table(title=f"leaderboard: {title}", caption=caption, show_lines=False, header_style="bold")
    show_groups = grouped(cols)
    for col in cols:
        header = f"{col.group}\n{col.title}" if show_groups and col.group else col.title
        table.add_column(header, justify="right" if col.numeric else "left", overflow="fold")
    for row in rows(board, cols):
        table.add_row(*(Text(cell.text, style=BEST_STYLE if cell.best else "") for cell in row))
    return table


def render_text(board: Leaderboard, width: int = 200) -> str:
    """The table as plain text (no colour codes), e.g. for ``leaderboard.txt``."""
    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, file=NullFile())
    console.print(build_table(board))
    for note in board.notes:
        console.print(note)
    return console.export_text()


class NullFile:
    """A file that drops what is written (the console records it instead)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None
