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
    from harness.training.methods import defaults as method_defaults

    loaded = load_spec(SMOKE, profile="cpu", check_paths=False)
    dapt = loaded.plan.adapter("dapt")
    defaults = method_defaults(dapt.method)
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


def test_the_plan_resolves_the_tasks_once_and_the_eval_stage_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.evaluation import tasks
    from harness.evaluation.stage import eval_config
    from harness.plugins import load_registry
    from harness.spec.load import load_spec

    loaded = load_spec(SMOKE, profile="cpu", check_paths=False)
    refs = loaded.plan.resolved_tasks()
    assert "mx_legal_ppl" in [r.name for r in refs] and "mx_legal" not in [r.name for r in refs]  # group expanded
    monkeypatch.setattr(tasks, "resolve_tasks", lambda *a, **k: pytest.fail("tasks resolved again"))
    system = loaded.plan.systems[0]
    model = SimpleNamespace(reference="tiny-llama", revision=None, source="local")
    config = eval_config(loaded, load_registry(), system, model, None)  # type: ignore[arg-type]
    assert [t["name"] for t in config["tasks"]] == [r.name for r in refs]


def test_an_unknown_task_is_a_plan_problem_with_its_line(tmp_path: Path) -> None:
    from harness.plugins import load_registry
    from harness.spec.load import SpecErrors, load_spec

    text = SMOKE.read_text(encoding="utf-8")
    assert "tasks: [mx_legal" in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace("tasks: [mx_legal", "tasks: [mx_legl"), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "mx_legl" in row)
    with pytest.raises(SpecErrors) as info:
        load_spec(path, profile="cpu", registry=load_registry(), check_paths=False)
    text = info.value.one_line()
    assert f"spec.yaml:{line}: evaluation.tasks[0]: unknown task 'mx_legl'" in text and "did you mean" in text


def test_the_spec_layer_imports_nothing_above_it() -> None:
    """harness/spec/ may use the plugin core, errors, names and precision; stage builders,
    evaluation and training sit above it and are reached only through the plan (which
    ``LoadedSpec.plan`` builds on first use)."""
    import ast

    above = ("harness.training", "harness.evaluation", "harness.corpus", "harness.instructions", "harness.runner")
    spec_dir = Path(__file__).resolve().parents[2] / "harness" / "spec"
    found = []
    for file in sorted(spec_dir.glob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(above):
                found.append(f"{file.name}: {node.module}")
    assert found == []
