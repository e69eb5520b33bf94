"""The end of a run (leaderboard written and printed, optional gate) and ``harness leaderboard``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.errors import SpecError
from harness.spec.common import ComponentRef

if TYPE_CHECKING:
    from harness.runner.run import RunResult


def wide_console() -> Console:
    """The terminal's console, or a 200-column one when output goes to a file or pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def finish_run(result: RunResult, console: Console | None = None) -> int:
    """Write every report format beside the run, print the terminal table, run the gate if asked;
    then the ``run_finished`` hook (trackers log the leaderboard and the run's artifacts)."""
    console = console or wide_console()
    try:
        code = _report(result, console)
    except BaseException as exc:
        if result.run is not None and result.run.hook is not None:
            result.run.hook.run_finished(run=result.run, result=None, error=exc)
        raise
    if result.run is not None and result.run.hook is not None:
        result.run.hook.run_finished(run=result.run, result=result, error=None)
    return code


def _report(result: RunResult, console: Console) -> int:
    from harness.leaderboard import collect, render_terminal, write_all
    from harness.plugins import load_registry

    spec = result.loaded.spec
    if not result.pipeline.eval_stages or not all(s.output for s in result.pipeline.eval_stages.values()):
        console.print(
            f"[harness] run folder: {result.run_dir} (no evaluation in this run; no leaderboard)", markup=False
        )
        return 0
    board = collect([result.run_dir])
    formats = [f for f in spec.report.formats if f != "terminal"]
    written = write_all(board, result.run_dir, load_registry(), formats)
    if "terminal" in spec.report.formats:
        render_terminal(board, console)
    cached = len(result.stages) - len(result.executed)
    console.print(
        f"[harness] {len(result.stages)} stages ({cached} from cache) in {result.seconds:.1f}s; "
        f"run folder: {result.run_dir}; wrote {', '.join(p.name for p in written) or 'nothing'}",
        markup=False,
    )
    if spec.regression.gate_in_run and spec.regression.baseline:
        from harness.regress.cli import gate_run

        return gate_run(result, console)
    return 0


def leaderboard_command(runs: list[Path], fmt: str, output: Path | None) -> int:
    """``harness leaderboard RUN… --format F [--output FILE]``."""
    from harness.leaderboard import collect, render_terminal
    from harness.paths import write_atomic
    from harness.plugins import load_registry

    for run in runs:
        if not run.exists():
            raise SpecError(f"run folder not found: {run}", field="RUN")
    board = collect(runs)
    if fmt == "terminal" and output is None:
        render_terminal(board, wide_console())
        return 0
    registry = load_registry()
    renderer = registry.build("report_formats", _ref(fmt))
    data = renderer.render(board)  # type: ignore[attr-defined]
    if output is None:
        print(data if isinstance(data, str) else data.decode("utf-8"))
    else:
        write_atomic(output, data)
    return 0


def _ref(name: str) -> ComponentRef:
    return ComponentRef(name=name)
