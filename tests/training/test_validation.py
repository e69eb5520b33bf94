"""Bad input is a one-line error naming the culprit and listing what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness.spec.load import load_spec
from harness.training.arguments import max_steps_for, resolve_hyperparameters, training_arguments
from harness.training.methods import build_method, check_target_modules, linear_layer_names, resolve_options

DATA = Path(__file__).parent / "data"


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(SpecError) as info:
        resolve_options("lorax", {})
    assert "lorax" in info.value.message
    for method in ("lora", "qlora", "dora", "ia3", "prefix", "prompt"):
        assert method in info.value.message


def test_unknown_option_lists_the_methods_options() -> None:
    with pytest.raises(SpecError) as info:
        resolve_options("lora", {"rank": 8})
    assert "'rank'" in info.value.message and "alpha" in info.value.message and "target_modules" in info.value.message
    assert info.value.field == "method_options.rank"


def test_every_builtin_method_builds_a_peft_config() -> None:
    from harness_plugins.peft_methods.builtin import BUILTIN

    for name in BUILTIN:
        config = build_method(name, {}).peft_config("unused")
        assert config.task_type == "CAUSAL_LM" and str(config.peft_type.value) == BUILTIN[name].peft_type
    assert build_method("dora", {}).peft_config("x").use_dora is True


def test_missing_target_module_names_it_and_lists_linear_layers(tiny_model: ResolvedModel) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    assert {"q_proj", "v_proj", "up_proj", "down_proj"} <= set(linear_layer_names(model))
    assert "lm_head" not in linear_layer_names(model)
    check_target_modules(model, ["q_proj", "v_proj"])
    check_target_modules(model, r".*\.(q_proj|v_proj)")
    with pytest.raises(SpecError) as info:
        check_target_modules(model, ["q_proj", "c_attn"])
    assert "'c_attn'" in info.value.message and "q_proj" in info.value.message and "gate_proj" in info.value.message
    with pytest.raises(SpecError):
        check_target_modules(model, r".*\.c_attn")


def test_hyperparameters_unknown_and_schedule() -> None:
    with pytest.raises(SpecError) as info:
        resolve_hyperparameters({"lr": 0.1})
    assert "'lr'" in info.value.message and "learning_rate" in info.value.message
    with pytest.raises(SpecError) as info:
        resolve_hyperparameters({"lr_scheduler_type": "triangle"})
    assert "cosine" in info.value.message


def test_gradient_checkpointing_is_always_explicit() -> None:
    hp = resolve_hyperparameters({})
    args = training_arguments(hp, {}, "/tmp/x", 0, 10, has_eval=False)
    assert args["gradient_checkpointing"] is False
    hp = resolve_hyperparameters({"gradient_checkpointing": True, "warmup_ratio": 0.1, "eval_steps": 3})
    args = training_arguments(hp, {}, "/tmp/x", 0, 10, has_eval=True)
    assert args["gradient_checkpointing"] is True and args.get("warmup_steps", args.get("warmup_ratio")) == 0.1
    assert args["load_best_model_at_end"] and args["save_steps"] % args["eval_steps"] == 0


def test_budget_in_tokens_becomes_steps() -> None:
    assert max_steps_for({"max_tokens": 1000}, 128) == 8
    assert max_steps_for({"max_tokens": 1000, "max_steps": 3}, 128) == 3
    assert max_steps_for({"epochs": 2}, 128) == -1
    with pytest.raises(SpecError):
        max_steps_for({"minutes": 3}, 128)


def test_validate_names_unknown_method(training_registry, tmp_path: Path) -> None:
    from harness.spec.checks import _check_plan

    text = (DATA / "tiny_methods_sweep.yaml").read_text().replace("ia3, prefix", "ia3, prefixx")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    loaded = load_spec(spec, profile="cpu", check_paths=False)
    problems = _check_plan(loaded, training_registry)
    assert len(problems) == 1 and "prefixx" in problems[0].message and "lora" in problems[0].message
    assert problems[0].line == 11


def test_several_processes_need_the_accelerate_launcher(tmp_path: Path) -> None:
    from harness.spec.load import SpecErrors

    text = (
        (DATA / "tiny_methods_sweep.yaml")
        .read_text()
        .replace("  budget: {max_steps: 3}", "  budget: {max_steps: 3}\n  num_processes: 2")
    )
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(SpecErrors, match="launcher: accelerate"):
        load_spec(tmp_path / "s.yaml", profile="cpu", check_paths=False)
    (tmp_path / "s.yaml").write_text(text.replace("num_processes: 2", "num_processes: 2\n  launcher: accelerate"))
    assert load_spec(tmp_path / "s.yaml", profile="cpu", check_paths=False).spec.dapt.num_processes == 2
