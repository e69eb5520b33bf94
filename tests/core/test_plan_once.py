"""One resolved plan per command: validate, run and regress build it once and share it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import plan
from harness.cli import main

SMOKE = Path(__file__).resolve().parents[2] / "benchmarks" / "smoke.yaml"


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", str(SMOKE), "--profile", "cpu"],
        ["validate", str(SMOKE), "--profile", "cpu", "--format", "json"],
    ],
    ids=["validate", "validate-json"],
)
def test_validate_builds_the_plan_once(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "BUILDS", 0)
    assert main(argv) == 0
    assert plan.BUILDS == 1


def test_run_builds_the_plan_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "BUILDS", 0)
    assert main(["run", str(SMOKE), "--profile", "cpu", "--out", str(tmp_path), "--only", "source"]) == 0
    assert plan.BUILDS == 1


def test_the_plan_is_frozen_and_holds_the_experiment() -> None:
    from harness.spec.load import load_spec

    loaded = load_spec(SMOKE, profile="cpu", check_paths=False)
    built = loaded.plan
    assert loaded.plan is built  # shared, not rebuilt
    assert [a.name for a in built.adapters] == ["dapt", "sft", "dapt+sft"]
    assert [s.name for s in built.systems] == ["base", "base+dapt", "base+sft", "base+dapt+sft"]
    assert built.systems[2].prompt_format == "instruction" and built.systems[1].prompt_format == "plain"
    assert "mx_legal" in built.tasks
    with pytest.raises(AttributeError):
        built.adapters = ()  # type: ignore[misc]
