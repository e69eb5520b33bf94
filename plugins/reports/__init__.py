"""Built-in leaderboard formats: terminal (rich), Markdown, CSV, JSON and self-contained HTML."""

from __future__ import annotations

from harness import hookimpl
from harness_plugins.reports.formats import CSVFormat, JSONFormat, MarkdownFormat, TerminalFormat
from harness_plugins.reports.html import HTMLFormat


@hookimpl
def register_report_formats(register) -> None:
    """Register the built-in report formats."""
    register("terminal", TerminalFormat)
    register("md", MarkdownFormat)
    register("csv", CSVFormat)
    register("json", JSONFormat)
    register("html", HTMLFormat)
