"""Progress display: rich bars with ETA on a terminal, plain log lines when not a TTY."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

T = TypeVar("T")
log = logging.getLogger("harness")


class Progress:
    """One place for progress: ``track`` for loops, ``task`` for manual updates (training steps)."""

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal if enabled is None else enabled

    def say(self, message: str) -> None:
        """One status line, printed as is (``[harness]`` is not rich markup)."""
        self.console.print(message, markup=False, highlight=False)

    def _bar(self) -> RichProgress:
        return RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Yield ``items`` while showing progress."""
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        with self.task(description, total) as advance:
            for item in items:
                yield item
                advance(1)

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Any]:
        """Context manager giving ``advance(n)``; plain mode logs about every 10% or 30 s."""
        if self.live:
            with self._bar() as bar:
                task_id = bar.add_task(description, total=total)
                yield lambda n=1: bar.advance(task_id, n)
            return
        state = {"done": 0, "last": time.monotonic(), "pct": -1}
        start = time.monotonic()

        def advance(n: int = 1) -> None:
            state["done"] += n
            now = time.monotonic()
            pct = int(100 * state["done"] / total) // 10 if total else -1
            if pct != state["pct"] or now - state["last"] > 30:
                state["pct"], state["last"] = pct, now
                eta = ""
                if total and state["done"]:
                    rest = (now - start) / state["done"] * (total - state["done"])
                    eta = f", ETA {rest:.0f}s"
                of = f"/{total}" if total else ""
                print(f"[harness] {description}: {state['done']}{of}{eta}", file=sys.stderr, flush=True)

        yield advance
        log.info("%s: done in %.1fs", description, time.monotonic() - start)
