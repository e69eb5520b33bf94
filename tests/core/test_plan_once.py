"""One resolved plan per command: validate, run and regress build it once and share it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

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


def test_the_plan_resolves_each_adapter_once_with_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Method options and hyperparameters are resolved while the plan is built (defaults filled
    in); the training stage's config and its TrainJob read them instead of resolving again."""
    from harness.spec.load import load_spec
    from harness.training import methods
    from harness.training.methods import get_method

    loaded = load_spec(SMOKE, profile="cpu", check_paths=False)
    dapt = loaded.plan.adapter("dapt")
    defaults = get_method(dapt.method).defaults
    assert set(dapt.resolved_options) == set(defaults)
    assert {k: dapt.resolved_options[k] for k in dapt.method_options} == dapt.method_options
    assert dapt.resolved_hyperparameters["optimizer"] == "adamw_torch"
    assert dapt.options is dapt.resolved_options and dapt.settings is dapt.resolved_hyperparameters

    from harness.plugins import load_registry
    from harness.training.stage import adapter_stage

    calls: list[str] = []
    real = methods.resolve_options
    monkeypatch.setattr(methods, "resolve_options", lambda *a, **k: calls.append("resolve") or real(*a, **k))
    model = SimpleNamespace(reference="tiny-llama", revision=None)
    stage = adapter_stage(loaded, load_registry(), dapt, model, {"blocks": None}, None, None)  # type: ignore[arg-type]
    assert stage.config["method_options"] == dapt.resolved_options
    assert calls == []


def test_wrong_method_options_are_plan_problems_reported_with_their_line(tmp_path: Path) -> None:
    import yaml

    from harness.plugins import load_registry
    from harness.spec.load import SpecErrors, load_spec

    spec = yaml.safe_load(SMOKE.read_text(encoding="utf-8"))
    spec["dapt"]["method_options"]["rank"] = 8
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        load_spec(path, profile="cpu", registry=load_registry(), check_paths=False)
    text = info.value.one_line()
    assert "unknown option 'rank' for PEFT method 'lora'" in text
    assert "dapt.method_options.rank" in text and ":" in text.split("dapt")[0]
