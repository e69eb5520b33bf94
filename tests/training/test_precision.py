"""``precision``: auto picks by hardware, bf16 is mixed precision in training (LoRA, QLoRA, SFT) and
evaluation, and the pick is part of every training and evaluation cache key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness.precision import resolve_precision
from harness_plugins.training.causal_lm import CausalLMTrainer
from harness_plugins.training.sft import SFTTrainer
from tests.conftest import REPO
from tests.training.conftest import make_ctx, make_job


def test_auto_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    plain = resolve_precision("auto", "cpu")
    assert plain.name == "fp32" and "no AMX or AVX-512 BF16" in plain.reason and plain.autocast_dtype is None
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    fast = resolve_precision("auto", "cpu")
    assert fast.name == "bf16" and "avx512_bf16" in fast.reason and fast.autocast_dtype is torch.bfloat16
    assert resolve_precision("fp32", "cpu").reason == "requested"
    assert fast.trainer_flags() == {"bf16": True, "fp16": False}


def test_fp16_on_cpu_is_a_spec_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="fp16 needs a CUDA device"):
        resolve_precision("fp16", "cpu")
    if torch.cuda.is_available():
        pytest.skip("fp16 is valid on this machine")
    from harness.spec.load import load_spec

    raw = yaml.safe_load((REPO / "benchmarks" / "smoke.yaml").read_text())
    raw["precision"] = "fp16"
    spec = tmp_path / "smoke.yaml"
    spec.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SpecError) as caught:
        load_spec(spec, check_paths=False)
    assert caught.value.field == "precision" and caught.value.line is not None


def test_precision_is_part_of_every_training_and_evaluation_key(tmp_path: Path) -> None:
    from harness.models import resolve_model
    from harness.pipeline import build_pipeline
    from harness.plugins import load_registry
    from harness.spec.load import load_spec

    registry = load_registry(load_entrypoints=False)
    keys = {}
    raw = yaml.safe_load((REPO / "benchmarks" / "smoke.yaml").read_text())
    for precision in ("fp32", "bf16"):
        spec = tmp_path / f"{precision}.yaml"
        spec.write_text(yaml.safe_dump({**raw, "precision": precision}, sort_keys=False))
        loaded = load_spec(spec, "cpu", registry)
        assert loaded.precision is not None and loaded.precision.name == precision
        pipeline = build_pipeline(loaded, registry, resolve_model(loaded, registry))
        keys[precision] = {s.name: (s.kind, s.key) for s in pipeline.stages}
    changed = {name for name in keys["fp32"] if keys["fp32"][name][1] != keys["bf16"][name][1]}
    kinds = {keys["fp32"][name][0] for name in changed}
    assert kinds == {"dapt", "sft", "eval"}  # the corpus and instruction stages are shared


class DtypeSpy:
    """Records the output dtype of one of the model's linear layers during the forward pass."""

    def __init__(self) -> None:
        self.seen: set[torch.dtype] = set()

    def attach(self, model: torch.nn.Module) -> None:
        """On the first LoRA ``A`` matrix when the model has adapters, else on a plain linear layer
        (bitsandbytes' 4-bit layers cast their output back to the input dtype, so they tell nothing)."""
        names = dict(model.named_modules())
        wanted = [n for n in names if n.endswith("lora_A.default")] or [n for n in names if n.endswith("mlp.down_proj")]
        if not wanted:
            raise AssertionError("no LoRA A or down_proj layer in the model")
        names[wanted[0]].register_forward_hook(lambda m, a, out: self.seen.add(out.dtype))


@pytest.mark.parametrize("method", ["lora", "qlora"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_dapt_in_both_precisions_keeps_fp32_master_weights(
    method: str, precision: str, tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    spy = DtypeSpy()
    from harness.training import loop

    original = loop.prepare

    loop_compute: list[str] = []

    def spied(job):
        prepared = original(job)
        spy.attach(prepared.model)
        if job.method == "qlora":
            import bitsandbytes as bnb

            layer = next(m for m in prepared.model.modules() if isinstance(m, bnb.nn.Linear4bit))
            loop_compute.append(str(layer.compute_dtype).removeprefix("torch."))
        return prepared

    monkeypatch.setattr(loop, "prepare", spied)
    job = make_job(tiny_model, tmp_path, blocks_dir / "train_blocks.parquet", method)
    job.precision = precision
    result = CausalLMTrainer().train(job, make_ctx(tmp_path))
    assert result.metrics["global_step"] == 3
    assert all(row["loss"] == row["loss"] and row["loss"] < 50 for row in result.loss_curve if "loss" in row)
    wanted = torch.bfloat16 if precision == "bf16" else torch.float32
    assert wanted in spy.seen, spy.seen  # autocast really ran the matmuls in bf16
    if method == "qlora":  # the 4-bit matmuls follow the precision through their compute dtype
        assert loop_compute[0] == ("bfloat16" if precision == "bf16" else "float32")
    saved = load_file(str(job.output_dir / "adapter_model.safetensors"))
    assert {t.dtype for t in saved.values()} == {torch.float32}  # mixed precision: fp32 weights


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_sft_response_only_loss_runs_under_autocast(
    precision: str, tiny_model: ResolvedModel, instructions_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    spy = DtypeSpy()
    from harness.training import loop

    original = loop.prepare

    def spied(job):
        prepared = original(job)
        spy.attach(prepared.model)
        return prepared

    monkeypatch.setattr(loop, "prepare", spied)
    job = make_job(tiny_model, tmp_path, instructions_dir / "instructions.jsonl", "lora")
    job.precision = precision
    result = SFTTrainer().train(job, make_ctx(tmp_path))
    assert result.metrics["global_step"] == 3
    # TRL's SFTConfig turns bf16 on by default: fp32 must mean fp32 everywhere
    assert spy.seen == ({torch.bfloat16} if precision == "bf16" else {torch.float32}), spy.seen
    config = json.loads((job.output_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA"


def test_evaluation_under_bf16_autocast_scores_close_to_fp32(tiny_model: ResolvedModel) -> None:
    from lm_eval.api.instance import Instance
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.evaluation.lm import wrap

    model = AutoModelForCausalLM.from_pretrained(tiny_model.path).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model.path)
    pairs = [("Artículo 8o. Los funcionarios", " respetarán el derecho"), ("Pregunta: ¿plazo?", " quince días")]
    requests = [Instance("loglikelihood", doc={}, arguments=p, idx=i) for i, p in enumerate(pairs)]
    spy = DtypeSpy()
    spy.attach(model)
    fp32 = wrap(model, tokenizer, 2).loglikelihood(requests, disable_tqdm=True)
    assert spy.seen == {torch.float32}
    bf16 = wrap(model, tokenizer, 2, mixed_precision="bf16").loglikelihood(requests, disable_tqdm=True)
    assert torch.bfloat16 in spy.seen
    assert next(model.parameters()).dtype == torch.float32
    for (a, _), (b, _) in zip(fp32, bf16):
        assert abs(a - b) < 0.05 * abs(a) + 0.5
