"""The trainers on the tiny model: every PEFT method trains, saves a loadable adapter and figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness_plugins.training.causal_lm import CausalLMTrainer
from harness_plugins.training.sft import SFTTrainer
from tests.training.conftest import make_ctx, make_job

FIGURES = {
    "trainable_params",
    "total_params",
    "trainable_percent",
    "wall_time_s",
    "train_tokens_per_s",
    "peak_memory_mb",
    "adapter_size_bytes",
}
PEFT_TYPES = {
    "lora": "LORA",
    "qlora": "LORA",
    "dora": "LORA",
    "ia3": "IA3",
    "prefix": "PREFIX_TUNING",
    "prompt": "PROMPT_TUNING",
}


def check_adapter(folder: Path, model: ResolvedModel, peft_type: str) -> dict:
    """The folder is a standard PEFT adapter with curves and figures; returns the figures."""
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["peft_type"] == peft_type
    # portable: peft's record names the model id, not the local copy; the copy used is in the
    # harness note; the tokenizer is saved with the adapter
    assert config["base_model_name_or_path"] == model.reference
    base = json.loads((folder / "harness_adapter.json").read_text())["base_model"]
    assert (base["reference"], base["source"], base["revision"]) == (model.reference, model.source, model.revision)
    from transformers import AutoTokenizer

    assert (
        AutoTokenizer.from_pretrained(str(folder))("Artículo 1").input_ids
        == AutoTokenizer.from_pretrained(model.path)("Artículo 1").input_ids
    )
    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model.path), str(folder))
    with torch.no_grad():
        assert torch.isfinite(loaded(torch.tensor([[1, 5, 9, 33]])).logits).all()
    figures = json.loads((folder / "training" / "efficiency.json").read_text())
    assert FIGURES <= set(figures)
    assert 0 < figures["trainable_params"] < figures["total_params"]
    assert figures["train_tokens_per_s"] > 0 and figures["peak_memory_mb"] > 0 and figures["adapter_size_bytes"] > 0
    rows = list(csv.DictReader((folder / "training" / "loss.csv").open()))
    assert rows and all(row["loss"] for row in rows if not row["eval_loss"])
    assert (folder / "training" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    return figures


@pytest.mark.parametrize("method", ["lora", "qlora", "dora", "ia3", "prefix", "prompt"])
def test_dapt_trains_every_method(method: str, tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path) -> None:
    job = make_job(
        tiny_model,
        tmp_path,
        blocks_dir / "train_blocks.parquet",
        method,
        eval_path=blocks_dir / "validation_blocks.parquet",
        hyperparameters={"eval_steps": 2},
    )
    result = CausalLMTrainer().train(job, make_ctx(tmp_path))
    figures = check_adapter(job.output_dir, tiny_model, PEFT_TYPES[method])
    assert result.metrics["global_step"] == 3 and result.metrics["train_tokens"] == 3 * 4 * 32
    assert result.metrics["best_eval_loss"] is not None
    assert (result.metrics["base_4bit_layers"] > 0) == (method == "qlora")
    if method == "dora":
        assert json.loads((job.output_dir / "adapter_config.json").read_text())["use_dora"] is True
    assert figures["trainable_params"] == result.metrics["trainable_params"]


def test_target_module_error_is_raised_before_training(
    tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    job = make_job(
        tiny_model,
        tmp_path,
        blocks_dir / "train_blocks.parquet",
        "lora",
        method_options={"target_modules": ["qkv"]},
    )
    with pytest.raises(SpecError, match=r"'qkv'.*q_proj"):
        CausalLMTrainer().train(job, make_ctx(tmp_path))


def test_sft_loss_is_on_the_response_only(tiny_model: ResolvedModel, instructions_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer
    from trl import SFTConfig
    from trl import SFTTrainer as TRLSFTTrainer

    from harness.training.data import PLAIN_PROMPT, sft_dataset

    tokenizer = AutoTokenizer.from_pretrained(tiny_model.path)
    train, _, chat = sft_dataset(instructions_dir / "instructions.jsonl", tokenizer, 0.0, 0)
    assert chat is False and train[0]["prompt"].startswith(PLAIN_PROMPT.split("{")[0])
    model = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    config = SFTConfig(
        output_dir=str(tmp_path), completion_only_loss=True, report_to="none", use_cpu=True, max_length=512
    )
    trainer = TRLSFTTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer)
    labels = trainer.data_collator([trainer.train_dataset[0]])["labels"][0].tolist()
    prompt_len = len(tokenizer(train[0]["prompt"])["input_ids"])
    assert set(labels[:prompt_len]) == {-100} and -100 not in labels[prompt_len:]
    assert labels[-1] == tokenizer.eos_token_id


def test_sft_uses_the_chat_template_when_there_is_one(tiny_model: ResolvedModel, instructions_dir: Path) -> None:
    from transformers import AutoTokenizer

    from harness.training.data import sft_dataset

    tokenizer = AutoTokenizer.from_pretrained(tiny_model.path)
    tokenizer.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    train, _, chat = sft_dataset(instructions_dir / "instructions.jsonl", tokenizer, 0.0, 0)
    assert chat is True and train[0]["prompt"][0]["role"] == "user" and train[0]["completion"][0]["role"] == "assistant"


@pytest.fixture(scope="module")
def dapt_adapter(tiny_model: ResolvedModel, blocks_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dapt")
    job = make_job(tiny_model, root, blocks_dir / "train_blocks.parquet", "lora")
    CausalLMTrainer().train(job, make_ctx(root))
    return job.output_dir


@pytest.mark.parametrize("trainable", [False, True])
def test_sft_on_top_of_dapt(
    trainable: bool, tiny_model: ResolvedModel, dapt_adapter: Path, instructions_dir: Path, tmp_path: Path
) -> None:
    job = make_job(
        tiny_model,
        tmp_path,
        instructions_dir / "instructions.jsonl",
        "lora",
        init_adapters={"dapt": (dapt_adapter, trainable)},
        hyperparameters={"eval_steps": 2},
    )
    result = SFTTrainer().train(job, make_ctx(tmp_path))
    figures = check_adapter(job.output_dir, tiny_model, "LORA")
    meta = json.loads((job.output_dir / "harness_adapter.json").read_text())
    assert meta["parent"] == "dapt" and meta["parent_trainable"] is trainable
    assert result.metrics["template"] == "plain"
    updated = job.output_dir / "parent" / "adapter_model.safetensors"
    assert updated.is_file() == trainable
    # frozen arm trains only the new adapter; trainable arm trains both
    assert (figures["trainable_params"] == 2 * 4096) == trainable
    if trainable:
        before, after = load_file(str(dapt_adapter / "adapter_model.safetensors")), load_file(str(updated))
        assert before.keys() == after.keys()
        assert any(not torch.equal(before[k], after[k]) for k in before)


def test_sft_method_of_another_type_on_frozen_dapt_merges_it(
    tiny_model: ResolvedModel, dapt_adapter: Path, instructions_dir: Path, tmp_path: Path
) -> None:
    job = make_job(
        tiny_model,
        tmp_path,
        instructions_dir / "instructions.jsonl",
        "ia3",
        init_adapters={"dapt": (dapt_adapter, False)},
    )
    SFTTrainer().train(job, make_ctx(tmp_path))
    assert json.loads((job.output_dir / "harness_adapter.json").read_text())["parent_composition"] == "merged"
    bad = make_job(
        tiny_model,
        tmp_path / "b",
        instructions_dir / "instructions.jsonl",
        "ia3",
        init_adapters={"dapt": (dapt_adapter, True)},
    )
    with pytest.raises(SpecError, match="trainable-DAPT"):
        SFTTrainer().train(bad, make_ctx(tmp_path / "b"))


def test_lm_eval_accepts_the_adapter(tiny_model: ResolvedModel, dapt_adapter: Path) -> None:
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(tiny_model.path), peft=str(dapt_adapter), device="cpu", batch_size=1)
    assert isinstance(lm.model, PeftModel)
    ((loglikelihood, _),) = lm.loglikelihood([_request("Artículo 1", " La ley")])
    assert loglikelihood < 0


def _request(context: str, continuation: str) -> Any:
    from lm_eval.api.instance import Instance

    return Instance(request_type="loglikelihood", doc={}, arguments=(context, continuation), idx=0)


def test_early_stopping_keeps_the_best_checkpoint(tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path) -> None:
    # learning rate 0: validation loss never improves, so patience 1 stops after the second evaluation
    hp = {"eval_steps": 1, "early_stopping_patience": 1, "learning_rate": 0.0, "budget": {"max_steps": 20}}
    job = make_job(
        tiny_model,
        tmp_path,
        blocks_dir / "train_blocks.parquet",
        "lora",
        eval_path=blocks_dir / "validation_blocks.parquet",
        hyperparameters=hp,
    )
    result = CausalLMTrainer().train(job, make_ctx(tmp_path))
    assert result.metrics["global_step"] == 2
    rows = list(csv.DictReader((job.output_dir / "training" / "loss.csv").open()))
    assert [row["step"] for row in rows if row["eval_loss"]] == ["1", "2"]


def test_out_of_memory_suggests_remedies(tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path) -> None:
    from harness.training.loop import TrainingOutOfMemory, prepare, train_and_save

    class ExhaustedTrainer:
        """Stands in for a trainer whose step ran out of memory (cannot be provoked safely here)."""

        def add_callback(self, callback: object) -> None: ...

        def remove_callback(self, callback: object) -> None: ...

        def is_world_process_zero(self) -> bool:
            return True

        def train(self, resume_from_checkpoint: str | None = None) -> None:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    job = make_job(tiny_model, tmp_path, blocks_dir / "train_blocks.parquet", "lora")
    with pytest.raises(TrainingOutOfMemory) as info:
        train_and_save(job, make_ctx(tmp_path), prepare(job), ExhaustedTrainer(), 128)
    message = info.value.message
    assert "qlora" in message and "per_device_train_batch_size" in message and "gradient_checkpointing" in message
    assert info.value.exit_code == 2


def test_trainable_arm_resumes_with_both_adapters(
    tiny_model: ResolvedModel, dapt_adapter: Path, instructions_dir: Path, tmp_path: Path
) -> None:
    def job(steps: int) -> object:
        hp = {"save_steps": 2, "per_device_train_batch_size": 2, "budget": {"max_steps": steps}}
        adapters = {"dapt": (dapt_adapter, True)}
        return make_job(
            tiny_model,
            tmp_path,
            instructions_dir / "instructions.jsonl",
            "lora",
            init_adapters=adapters,
            hyperparameters=hp,
        )

    first = SFTTrainer().train(job(4), make_ctx(tmp_path))
    checkpoint = tmp_path / "scratch" / "checkpoints" / "checkpoint-4"
    # a rerun with nothing left to do must save exactly the checkpointed state of BOTH adapters
    again = SFTTrainer().train(job(4), make_ctx(tmp_path))
    assert first.metrics["global_step"] == 4 and again.metrics["resumed_from_step"] == 4
    assert again.metrics["steps_this_run"] == 0 and again.metrics["trainable_params"] == 2 * 4096
    for sub in ("", "parent"):
        saved = load_file(str(checkpoint / sub / "adapter_model.safetensors"))
        final = load_file(str(tmp_path / "adapter" / sub / "adapter_model.safetensors"))
        assert saved.keys() == final.keys() and all(torch.equal(saved[k], final[k]) for k in saved), sub
    original = load_file(str(dapt_adapter / "adapter_model.safetensors"))
    final_parent = load_file(str(tmp_path / "adapter" / "parent" / "adapter_model.safetensors"))
    assert any(not torch.equal(original[k], final_parent[k]) for k in original)


def test_sft_writes_generation_probes_on_held_out_instructions(tiny_model: ResolvedModel, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from harness.training.data import heldout_indices, read_instructions
    from harness.training.probes import _prompt, read_probes
    from tests.training.conftest import make_instructions

    folder = make_instructions(tmp_path / "instructions", count=40)
    path = folder / "instructions.jsonl"
    rows = read_instructions(path)
    for i, row in enumerate(rows):
        row["task_type"] = ("summary", "qa")[i % 2]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    job = make_job(
        tiny_model,
        tmp_path,
        path,
        "lora",
        hyperparameters={"eval_steps": 2, "eval_fraction": 0.25},
        budget={"max_steps": 4},
    )
    SFTTrainer(SFTTrainer.Options(probes_per_type=2, probe_tokens=6)).train(job, make_ctx(tmp_path))
    probes = read_probes(job.output_dir / "training" / "probes.jsonl")
    held = [rows[i] for i in heldout_indices(len(rows), 0.25, job.seed)]
    assert sorted(p["task_type"] for p in probes) == ["qa", "qa", "summary", "summary"]
    # every probe is a held-out instruction (never trained on), shown with its reference
    assert all(
        {"instruction": p["instruction"], "response": p["reference"]}
        in [{"instruction": r["instruction"], "response": r["response"]} for r in held]
        for p in probes
    )
    # the answers are the trained adapter's (probes are generated as one left-padded batch): the
    # saved adapter, asked each prompt on its own, generates the same greedy tokens
    tokenizer = AutoTokenizer.from_pretrained(tiny_model.path)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model.path), job.output_dir).eval()
    for probe in probes:
        row = next(r for r in held if r["instruction"] == probe["instruction"])
        ids = tokenizer(_prompt(row, tokenizer), return_tensors="pt", return_token_type_ids=False)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=6, do_sample=False, pad_token_id=tokenizer.eos_token_id)
        assert (
            tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()
            == probe["generated"]
        )
