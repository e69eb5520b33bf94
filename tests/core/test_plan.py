"""Spec → adapters and systems: sweeps, SFT arms, per-method options."""

from __future__ import annotations

import re
from pathlib import Path

from harness.plan import plan_adapters, plan_systems
from harness.spec.load import load_spec

REPO = Path(__file__).resolve().parents[2]


def test_mx_legal_plans_both_sft_arms() -> None:
    # the CPU profile trains the trainable arm only (its budget goes to more SFT steps)
    cpu = load_spec(REPO / "benchmarks" / "mx_legal.yaml", "cpu").spec
    assert [a.name for a in plan_adapters(cpu)] == ["dapt", "sft", "dapt+sft[dapt_trainable=True]"]
    spec = load_spec(REPO / "benchmarks" / "mx_legal.yaml", "gpu").spec
    adapters = plan_adapters(spec)
    names = [a.name for a in adapters]
    assert names == ["dapt", "sft", "dapt+sft[dapt_trainable=False]", "dapt+sft[dapt_trainable=True]"]
    arms = {a.name: (a.parent, a.parent_trainable) for a in adapters if a.parent}
    assert arms == {"dapt+sft[dapt_trainable=False]": ("dapt", False), "dapt+sft[dapt_trainable=True]": ("dapt", True)}
    systems = [(s.name, s.adapters) for s in plan_systems(spec, adapters)]
    assert systems == [
        ("base", []),
        ("base+dapt", ["dapt"]),
        ("base+sft", ["sft"]),
        ("base+dapt+sft[dapt_trainable=False]", ["dapt", "dapt+sft[dapt_trainable=False]"]),
        ("base+dapt+sft[dapt_trainable=True]", ["dapt", "dapt+sft[dapt_trainable=True]"]),
    ]


def test_prompt_format_auto_gives_sft_systems_the_instruction_format(tmp_path: Path) -> None:
    from harness.plan import external_prompt_format

    spec = load_spec(REPO / "benchmarks" / "mx_legal.yaml", "gpu").spec
    systems = plan_systems(spec, plan_adapters(spec))
    assert {s.name: s.prompt_format for s in systems} == {
        "base": "plain",
        "base+dapt": "plain",
        "base+sft": "instruction",
        "base+dapt+sft[dapt_trainable=False]": "instruction",
        "base+dapt+sft[dapt_trainable=True]": "instruction",
    }
    # a regression candidate is asked like the gate's baseline (base+dapt)
    assert external_prompt_format(spec, systems) == "plain"
    text = (REPO / "benchmarks" / "mx_legal.yaml").read_text()
    text = text.replace(
        "systems: [base, base+dapt, base+sft, base+dapt+sft]",
        "systems: [base, {name: base+sft, prompt_format: plain}, base+dapt+sft]",
    )
    text = text.replace(
        "  tasks: [mx_legal, es_general]\n", "  tasks: [mx_legal, es_general]\n  prompt_format: instruction\n"
    )
    text = text.replace("  baseline: base+dapt\n", "  baseline: base+sft\n")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    spec = load_spec(path, "gpu").spec
    systems = plan_systems(spec, plan_adapters(spec))
    assert [s.prompt_format for s in systems] == ["instruction", "plain", "instruction", "instruction"]
    assert external_prompt_format(spec, systems) == "plain"


def test_method_sweep_with_per_method_options() -> None:
    spec = load_spec(REPO / "benchmarks" / "mx_legal_peft_methods.yaml", "cpu").spec
    adapters = plan_adapters(spec)
    assert [a.name for a in adapters] == [
        f"dapt[method={m}]"
        for m in ("lora", "qlora", "dora", "ia3", "prefix", "prompt", "loha", "lokr", "vera", "beft", "ln_tuning")
    ]
    options = {a.method: a.method_options for a in adapters}
    assert options["lora"] == {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}
    assert options["prefix"] == {"num_virtual_tokens": 16}
    assert options["ia3"] == {}
    assert [s.name for s in plan_systems(spec, adapters)][:2] == ["base", "base+dapt[method=lora]"]
    rates = {a.method: a.hyperparameters["learning_rate"] for a in adapters}
    # the cpu profile's rate for the low-rank methods, per-method rates for the others
    assert rates == {
        **{m: 5e-4 for m in ("lora", "qlora", "dora", "loha", "lokr")},
        **{"ia3": 3e-3, "prefix": 1e-2, "prompt": 3e-2, "vera": 5e-3, "beft": 3e-3, "ln_tuning": 3e-3},
    }
    assert options["vera"]["target_modules"] == ["q_proj", "v_proj"]  # a list option, not a sweep
    assert {a.hyperparameters["per_device_train_batch_size"] for a in adapters} == {4}


def test_method_hyperparameters_split_a_flat_method_sweep_and_must_name_its_methods(tmp_path: Path) -> None:
    import pytest

    from harness.spec.load import SpecErrors

    text = (REPO / "benchmarks" / "smoke.yaml").read_text().replace("baseline: base+dapt+sft", "baseline: base")
    spec_path = tmp_path / "s.yaml"
    method = "  method: [lora, ia3]\n  method_hyperparameters: {ia3: {learning_rate: 0.01}}\n"
    spec_path.write_text(text.replace("  method: lora\n", method, 1))
    adapters = [a for a in plan_adapters(load_spec(spec_path, "cpu").spec) if a.role == "dapt"]
    assert [(a.name, a.hyperparameters["learning_rate"]) for a in adapters][1] == ("dapt[method=ia3]", 0.01)
    assert adapters[0].name == "dapt[method=lora]" and adapters[0].hyperparameters["learning_rate"] != 0.01
    spec_path.write_text(text.replace("  method: lora\n", method.replace("ia3: {", "prefix: {"), 1))
    with pytest.raises(SpecErrors, match=r"s\.yaml:\d+: dapt: method_hyperparameters names prefix"):
        load_spec(spec_path, "cpu")


def test_grid_crosses_lists_but_not_list_valued_options(tmp_path: Path) -> None:
    text = (REPO / "benchmarks" / "smoke.yaml").read_text()
    text = text.replace(
        "method_options: {r: 8, alpha: 16, dropout: 0.0}",
        "method_options: {r: [4, 8], alpha: 16, target_modules: [q_proj, v_proj]}",
    )
    text = text.replace(
        "learning_rate: 1.0e-3\n    per_device_train_batch_size: 8\n    lr_scheduler_type",
        "learning_rate: [1.0e-3, 1.0e-4]\n    per_device_train_batch_size: 8\n    lr_scheduler_type",
    )
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(text.replace("baseline: base+dapt+sft", "baseline: base"))
    dapt = [a for a in plan_adapters(load_spec(spec_path, "cpu").spec) if a.role == "dapt"]
    assert len(dapt) == 4
    assert {(a.method_options["r"], a.hyperparameters["learning_rate"]) for a in dapt} == {
        (4, 1e-3),
        (4, 1e-4),
        (8, 1e-3),
        (8, 1e-4),
    }
    assert all(a.method_options["target_modules"] == ["q_proj", "v_proj"] for a in dapt)
    assert dapt[0].name == "dapt[r=4,learning_rate=0.001]"


def test_systems_filter_keeps_only_needed_adapters() -> None:
    import pytest

    from harness.errors import SpecError
    from harness.pipeline import select_systems

    spec = load_spec(REPO / "benchmarks" / "mx_legal.yaml", "cpu").spec
    adapters = plan_adapters(spec)
    # one arm on CPU: the system keeps its plain name, its adapter the arm's
    systems, needed = select_systems(plan_systems(spec, adapters), adapters, ["base+dapt+sft"])
    assert [s.name for s in systems] == ["base+dapt+sft"]
    assert [a.name for a in needed] == ["dapt", "dapt+sft[dapt_trainable=True]"]
    with pytest.raises(SpecError, match=r"unknown system 'base\+nope'"):
        select_systems(plan_systems(spec, adapters), adapters, ["base+nope"])


def test_sft_sweep_spec_plans_learning_rate_times_steps() -> None:
    spec = load_spec(REPO / "benchmarks" / "mx_legal_sft_sweep.yaml", "cpu").spec
    adapters = plan_adapters(spec)
    grid = {(a.hyperparameters["learning_rate"], a.budget["max_steps"]) for a in adapters}
    assert grid == {(3.0e-4, 30), (3.0e-4, 60), (1.0e-3, 30), (1.0e-3, 60)}
    assert "sft[learning_rate=0.001,max_steps=60]" in [a.name for a in adapters]
    systems = [s.name for s in plan_systems(spec, adapters)]
    assert systems[0] == "base" and len(systems) == 5


def test_a_swept_budget_value_is_checked_like_a_single_one(tmp_path: Path) -> None:
    import pytest

    from harness.spec.load import SpecErrors

    text = (REPO / "benchmarks" / "mx_legal_sft_sweep.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("budget: {max_steps: [30, 60]}", "budget: {max_steps: [30, 0]}"))
    with pytest.raises(SpecErrors) as caught:
        load_spec(path, "cpu")
    assert re.fullmatch(r".*s\.yaml:\d+: sft\.budget\.max_steps: must be > 0 \(got 0\)", caught.value.one_line())


def test_trainer_options_reach_the_plan_and_are_checked(tmp_path: Path) -> None:
    import pytest

    from harness.plugins import load_registry
    from harness.spec.load import SpecErrors

    text = (REPO / "benchmarks" / "smoke.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("  trainer: sft\n", "  trainer: {name: sft, options: {probes_per_type: 2}}\n"))
    adapters = plan_adapters(load_spec(path, "cpu", load_registry()).spec)
    assert {a.name: a.trainer_options for a in adapters if a.role == "sft"} == {
        "sft": {"probes_per_type": 2},
        "dapt+sft": {"probes_per_type": 2},
    }
    path.write_text(text.replace("  trainer: sft\n", "  trainer: {name: sft, options: {probes: 2}}\n"))
    with pytest.raises(SpecErrors) as caught:
        load_spec(path, "cpu", load_registry())
    assert re.search(
        r"s\.yaml:\d+: sft\.trainer\.options\.probes: unknown option 'probes' of 'sft'", caught.value.one_line()
    )
