"""The error family the CLI turns into one line and an exit code.

Every expected failure is a :class:`HarnessError` that names its culprit: the file and field of
bad input, or the plugin and distribution that failed.  Unexpected errors are not wrapped and keep
their traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of the expected errors; ``exit_code`` follows DESIGN.md."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        plugin: str | None = None,
        distribution: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.plugin = plugin
        self.distribution = distribution

    def one_line(self) -> str:
        """The ``file:line: field: message`` form printed by the CLI."""
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        field = f"{self.field}: " if self.field else ""
        who = ""
        if self.plugin:
            dist = f" (distribution {self.distribution})" if self.distribution else ""
            who = f"plugin {self.plugin!r}{dist}: "
        text = " ".join(self.message.split("\n"))
        return f"{where}{field}{who}{text}"

    def __str__(self) -> str:
        return self.one_line()


class SpecError(HarnessError):
    """The benchmark spec, its data or the command-line arguments are wrong (exit 2)."""

    exit_code = 2


class DataError(HarnessError):
    """An input file cannot be used (exit 2)."""

    exit_code = 2


class PluginError(HarnessError):
    """A plugin failed to load or to do its job (exit 3)."""

    exit_code = 3


class GateFailed(HarnessError):
    """A regression gate found a significant drop (exit 1)."""

    exit_code = 1
