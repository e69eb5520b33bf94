"""The gate at the end of ``harness run`` and the ``harness leaderboard`` command, on fabricated runs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from harness.errors import SpecError
from harness.regress.cli import gate_run
from harness.spec.evaluation import RegressionSection


def _result(run_dir: Path, **regression: object) -> SimpleNamespace:
    spec = SimpleNamespace(
        regression=RegressionSection(**regression),
        evaluation=SimpleNamespace(tasks=["mx_legal_law_id", "mx_legal_ppl"]),
    )
    return SimpleNamespace(run_dir=run_dir, loaded=SimpleNamespace(spec=spec))


def test_gate_in_run_fails_on_worse_candidates(run_dir: Path) -> None:
    console = Console(record=True, width=200)
    code = gate_run(_result(run_dir, baseline="base+dapt+sft", candidates=["base"]), console)  # type: ignore[arg-type]
    assert code == 1
    gate = json.loads((run_dir / "gate.json").read_text())
    assert gate["passed"] is False and gate["gates"][0]["candidate"] == "base"
    assert "gate failed" in console.export_text()


def test_gate_in_run_passes_on_better_candidates(run_dir: Path) -> None:
    code = gate_run(_result(run_dir, baseline="base"), Console(quiet=True))  # type: ignore[arg-type]
    assert code == 0
    gate = json.loads((run_dir / "gate.json").read_text())
    assert [g["candidate"] for g in gate["gates"]] == [
        "base+dapt+sft",
        "base+dapt[method=ia3]",
        "base+dapt[method=lora]",
    ]


def test_gate_in_run_unknown_baseline(run_dir: Path) -> None:
    with pytest.raises(SpecError, match="was not evaluated"):
        gate_run(_result(run_dir, baseline="nope"), Console())  # type: ignore[arg-type]


def test_leaderboard_command_aggregates_two_runs(two_runs: list[Path], tmp_path: Path) -> None:
    from harness.cli import main

    for fmt in ("md", "csv", "json", "html"):
        target = tmp_path / f"board.{fmt}"
        assert main(["leaderboard", *map(str, two_runs), "--format", fmt, "--output", str(target)]) == 0
        assert target.stat().st_size > 0
    md = (tmp_path / "board.md").read_text()
    # four systems and three model-free baseline rows per run
    assert md.count("| smoke/20260101-000000 |") == 7 and md.count("| smoke/20260102-000000 |") == 7
    assert md.count("| baseline: longest choice |") == 2
    assert main(["leaderboard", str(tmp_path / "missing")]) == 2


def test_compare_command_pairs_systems_of_a_finished_run(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    # the fabricated base is worse than base+dapt+sft on accuracy: the comparison shows it
    assert main(["compare", str(run_dir), "--baseline", "base", "--candidate", "base+dapt+sft"]) == 0
    out = capsys.readouterr().out
    assert "base+dapt+sft vs base" in out and "mx_legal_law_id/acc" in out and "better" in out
    assert not (run_dir / "gate.json").exists()  # a report, not a gate: nothing written
    assert main(["compare", str(run_dir), "--baseline", "nope"]) == 2
    assert "'nope' was not evaluated" in capsys.readouterr().err
    assert main(["compare", str(run_dir.parent), "--baseline", "base"]) == 2


def test_compare_against_another_run_pairs_each_system(
    two_runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fp32-vs-bf16 check: one spec run twice; each system paired with itself in the other run."""
    from harness.cli import main
    from harness.regress.cli import compare_runs

    first, second = two_runs
    reports = compare_runs(first, first, console=Console(file=io.StringIO()))
    # a run against itself: every metric of every system is the same
    assert len(reports) == 4 and all(v.verdict == "same" for r in reports for v in r.verdicts)
    assert all(r.passed for r in reports)
    assert main(["compare", str(first), "--against", str(first)]) == 0
    assert capsys.readouterr().out.count("(20260101-000000) vs") == 4
    assert main(["compare", str(first), "--against", str(second), "--candidate", "base"]) == 0
    out = capsys.readouterr().out
    assert "base (20260102-000000) vs base (20260101-000000)" in out and out.count(" vs ") == 1
    assert main(["compare", str(first), "--against", str(second), "--candidate", "nope"]) == 2
    assert "not evaluated in both runs" in capsys.readouterr().err
    assert main(["compare", str(first)]) == 2
    assert "--against" in capsys.readouterr().err


def test_compare_json_is_the_reports_as_data(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from harness.cli import main

    assert main(["compare", str(run_dir), "--baseline", "base", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)  # nothing but the JSON on stdout
    assert [c["candidate"] for c in data["comparisons"]] == sorted(
        ["base+dapt+sft", "base+dapt[method=ia3]", "base+dapt[method=lora]"]
    )
    verdicts = {v["key"]: v for v in data["comparisons"][0]["verdicts"]}
    assert verdicts["mx_legal_law_id/acc"]["verdict"] in {"better", "worse", "same"}
    assert {"p_value", "ci_low", "ci_high", "n", "test"} <= set(verdicts["mx_legal_law_id/acc"])
