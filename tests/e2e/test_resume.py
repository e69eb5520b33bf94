"""SIGKILL a real smoke run during DAPT, SFT and evaluation; the rerun finishes the work without
repeating it and gives the leaderboard of an uninterrupted run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_script() -> object:
    path = REPO / "benchmarks" / "scripts" / "resume_check.py"
    spec = importlib.util.spec_from_file_location("resume_check", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow
def test_kill_and_resume_matches_uninterrupted(tmp_path: Path, session_cache: Path) -> None:
    script = load_script()
    spec = tmp_path / "smoke_long.yaml"
    # longer training than the smoke spec, so that a kill lands between checkpoints
    text = (REPO / "benchmarks" / "smoke.yaml").read_text().replace("budget: {max_steps: 8}", "budget: {max_steps: 24}")
    spec.write_text(text)
    code = script.main([str(spec), "--out", str(tmp_path / "out"), "--tolerance", "1e-6"])  # type: ignore[attr-defined]
    assert code == 0
    report = script.last_report  # type: ignore[attr-defined]
    assert all(event.startswith("killed during") for event in report["events"]), report["events"]
    resumed = report["adapters_resumed_from_step"]
    assert resumed["dapt"] > 0 and max(resumed["sft"], resumed["dapt+sft"]) > 0
    # the final run only finished what the kills interrupted
    assert "dapt" not in report["final_run_executed"]
    assert report["max_abs_difference_overall"] <= 1e-6
