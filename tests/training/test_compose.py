"""Systems composed from adapters: stacked, merged and weighted agree; bad adapters are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, PromptTuningConfig, get_peft_model
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.errors import DataError
from harness.plan import SystemPlan
from harness.training.compose import build_system_model
from harness.training.meta import PARENT_DIR, write_meta

IDS = torch.tensor([[1, 17, 250, 31, 99, 400, 12]])


def random_lora(model: ResolvedModel, folder: Path, seed: int, targets: list[str]) -> Path:
    """A LoRA adapter with non-zero weights (``init_lora_weights=False``), so composition matters."""
    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model.path)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(folder)
    write_meta(folder, model, method="lora")
    return folder


def logits(system: SystemPlan, model: ResolvedModel, dirs: dict[str, Path]) -> torch.Tensor:
    composed, tokenizer = build_system_model(system, model, dirs, "float32")
    assert tokenizer is not None and not any(p.requires_grad for p in composed.parameters())
    with torch.no_grad():
        return composed(IDS).logits


@pytest.fixture(scope="module")
def two_adapters(tiny_model: ResolvedModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compose")
    return {
        "dapt": random_lora(tiny_model, root / "dapt", 1, ["q_proj", "v_proj", "up_proj"]),
        "sft": random_lora(tiny_model, root / "sft", 2, ["q_proj", "o_proj"]),
    }


def test_stacked_equals_merged(tiny_model: ResolvedModel, two_adapters: dict[str, Path]) -> None:
    chain = ["dapt", "sft"]
    stacked = logits(SystemPlan("s", chain, "stacked"), tiny_model, two_adapters)
    merged = logits(SystemPlan("m", chain, "merged"), tiny_model, two_adapters)
    base = logits(SystemPlan("base", [], "stacked"), tiny_model, two_adapters)
    only_sft = logits(SystemPlan("sft", ["sft"], "stacked"), tiny_model, two_adapters)
    assert torch.allclose(stacked, merged, atol=1e-4)
    # both adapters really act: the stack differs from the base and from the top adapter alone
    assert (stacked - base).abs().max() > 1e-2 and (stacked - only_sft).abs().max() > 1e-2


def test_weighted_with_unit_weights_equals_stacked(tiny_model: ResolvedModel, two_adapters: dict[str, Path]) -> None:
    chain = ["dapt", "sft"]
    stacked = logits(SystemPlan("s", chain, "stacked"), tiny_model, two_adapters)
    weighted = logits(SystemPlan("w", chain, "weighted", [1.0, 1.0]), tiny_model, two_adapters)
    half = logits(SystemPlan("w", chain, "weighted", [1.0, 0.0]), tiny_model, two_adapters)
    only_dapt = logits(SystemPlan("d", ["dapt"], "stacked"), tiny_model, two_adapters)
    assert torch.allclose(stacked, weighted, atol=1e-4)
    assert torch.allclose(half, only_dapt, atol=1e-4)


def test_trainable_arm_uses_the_updated_parent(
    tiny_model: ResolvedModel, two_adapters: dict[str, Path], tmp_path: Path
) -> None:
    sft = tmp_path / "sft"
    random_lora(tiny_model, sft, 2, ["q_proj", "o_proj"])
    random_lora(tiny_model, sft / PARENT_DIR, 3, ["q_proj", "v_proj", "up_proj"])
    write_meta(sft, tiny_model, method="lora", parent="dapt", parent_trainable=True)
    dirs = {"dapt": two_adapters["dapt"], "sft": sft}
    swapped = logits(SystemPlan("s", ["dapt", "sft"], "stacked"), tiny_model, dirs)
    expected = logits(SystemPlan("s", ["p", "sft"], "merged"), tiny_model, {"p": sft / PARENT_DIR, "sft": sft})
    original = logits(SystemPlan("s", ["dapt", "sft"], "stacked"), tiny_model, two_adapters)
    assert torch.allclose(swapped, expected, atol=1e-4)
    assert (swapped - original).abs().max() > 1e-3


def test_adapter_for_another_base_model_is_refused(
    tiny_model: ResolvedModel, two_adapters: dict[str, Path], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    random_lora(tiny_model, other, 1, ["q_proj"])
    meta = json.loads((other / "harness_adapter.json").read_text())
    meta["base_model"] = {"reference": "google/gemma-3-270m", "revision": "abc123"}
    (other / "harness_adapter.json").write_text(json.dumps(meta))
    with pytest.raises(DataError) as info:
        build_system_model(SystemPlan("x", ["o"], "stacked"), tiny_model, {"o": other}, "float32")
    assert "google/gemma-3-270m" in info.value.message and "tiny-llama" in info.value.message


def test_foreign_adapter_with_other_shapes_names_both_models(tiny_model: ResolvedModel, tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=1024, hidden_size=96, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4
    )
    wide = LlamaForCausalLM(config)
    peft_model = get_peft_model(wide, LoraConfig(r=4, target_modules=["q_proj"], init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "foreign")
    config_path = tmp_path / "foreign" / "adapter_config.json"
    adapter_config = json.loads(config_path.read_text())
    adapter_config["base_model_name_or_path"] = "some/wider-model"
    config_path.write_text(json.dumps(adapter_config))
    with pytest.raises(DataError) as info:
        build_system_model(SystemPlan("x", ["f"], "stacked"), tiny_model, {"f": tmp_path / "foreign"}, "float32")
    assert "tiny-llama" in info.value.message and "some/wider-model" in info.value.message
    assert "size mismatch" in info.value.message


def test_prompt_tuning_logits_line_up_with_the_input(tiny_model: ResolvedModel, tmp_path: Path) -> None:
    base = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    get_peft_model(base, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5)).save_pretrained(
        tmp_path / "p"
    )
    out = logits(SystemPlan("p", ["p"], "stacked"), tiny_model, {"p": tmp_path / "p"})
    assert out.shape[1] == IDS.shape[1]


def test_missing_adapter_folder_is_a_data_error(tiny_model: ResolvedModel, tmp_path: Path) -> None:
    with pytest.raises(DataError):
        build_system_model(SystemPlan("x", ["a"], "stacked"), tiny_model, {"a": tmp_path}, "float32")
    with pytest.raises(DataError):
        build_system_model(SystemPlan("x", ["a"], "stacked"), tiny_model, {}, "float32")
