"""Write a leaderboard beside a run through the registered report formats; print it on a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.paths import write_atomic
from harness.spec.common import ComponentRef

if TYPE_CHECKING:
    from rich.console import Console

    from harness.leaderboard.model import Leaderboard
    from harness.plugins import Registry


def write_all(board: Leaderboard, run_dir: Path, registry: Registry, formats: list[str]) -> list[Path]:
    """Render each format with its ``report_formats`` component into ``run_dir/leaderboard.<ext>``.

    Files are written atomically (temporary name, then rename); returns the paths in format order.
    """
    written: list[Path] = []
    for name in formats:
        renderer = registry.build("report_formats", ComponentRef(name=name))
        data = renderer.render(board)  # type: ignore[attr-defined]
        path = Path(run_dir) / f"leaderboard.{renderer.extension}"  # type: ignore[attr-defined]
        write_atomic(path, data)
        written.append(path)
    return written


def render_terminal(board: Leaderboard, console: Console) -> None:
    """Print the leaderboard as a rich table, best value per column highlighted."""
    from harness.leaderboard.terminal import NullFile, build_table

    table = build_table(board)
    saved = console.width
    if not console.is_terminal:
        # a log file or pipe: print the table at its natural width instead of folding every cell
        from rich.console import Console

        natural = Console(width=10_000, file=NullFile()).measure(table).maximum
        console.width = max(saved, natural)
    try:
        console.print(table)
    finally:
        console.width = saved
    for note in board.notes:
        console.print(f"[dim]{note}[/dim]")
