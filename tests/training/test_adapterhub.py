"""Houlsby, Pfeiffer and Compacter through AdapterHub ``adapters`` (``tox -e adapterhub``: the
library pins transformers ~=4.57.6, so these tests skip in the default environment)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness.training.methods import build_method, method_of_folder
from tests.training.conftest import make_ctx, make_job

adapters = pytest.importorskip("adapters")

pytestmark = pytest.mark.adapterhub


def _shape(model_path: Path) -> tuple[int, int]:
    config = AutoModelForCausalLM.from_pretrained(model_path).config
    return int(config.hidden_size), int(config.num_hidden_layers)


@pytest.mark.parametrize("reduction", [4, 16])
def test_parameter_counts_match_the_papers_formulas(reduction: int, tiny_model: ResolvedModel) -> None:
    h, layers = _shape(tiny_model.path)
    b = h // reduction
    per_adapter = 2 * h * b + b + h  # down and up projections with biases
    n, k = 4, 1
    expected = {
        "pfeiffer": layers * per_adapter,
        "houlsby": 2 * layers * per_adapter,
        # PHM layers with rank-k factorised weights; one n×n×n rule shared by the model
        "compacter": 2 * layers * (2 * k * (h + b) + b + h) + n**3,
    }
    for name, count in expected.items():
        model = AutoModelForCausalLM.from_pretrained(tiny_model.path)
        options = {"reduction_factor": reduction} | ({"phm_dim": n, "phm_rank": k} if name == "compacter" else {})
        attached = build_method(name, options).attach(model, str(tiny_model.path))
        trainable = sum(p.numel() for p in attached.parameters() if p.requires_grad)
        assert trainable == count, (name, trainable, count)


def _noised(model_path: Path, name: str, folder: Path, seed: int) -> tuple[Path, torch.Tensor]:
    method = build_method(name, {"reduction_factor": 8})
    model = method.attach(AutoModelForCausalLM.from_pretrained(model_path), str(model_path))
    torch.manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.05)
    method.save(model, folder, ["default"])
    with torch.no_grad():
        logits = model.eval()(IDS).logits
    return folder, logits


IDS = torch.tensor([[1, 5, 9, 33, 7, 2, 11]])


@pytest.fixture(scope="module")
def tiny_gemma3(tiny_model: ResolvedModel, tmp_path_factory: pytest.TempPathFactory) -> ResolvedModel:
    """A two-layer Gemma-3 saved as a model folder (the tiny LLaMA's tokenizer beside it)."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, sliding_window=16,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-gemma3")
    Gemma3ForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model.path).save_pretrained(folder)
    return ResolvedModel("tiny-gemma3", folder, "local", "", "tiny-gemma3")


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
@pytest.mark.parametrize("name", ["houlsby", "pfeiffer", "compacter"])
def test_saved_adapters_load_to_the_same_model_and_stack(
    name: str, arch: str, tiny_model: ResolvedModel, tiny_gemma3: ResolvedModel, tmp_path: Path
) -> None:
    """Saved, loaded and composed by the harness (one adapter, and two as a ``Stack``) on LLaMA
    and Gemma-3 alike: the same logits as training left and as AdapterHub's own ``Stack``."""
    from adapters.composition import Stack

    from harness.training.compose import compose, load_base

    if arch == "gemma3":
        tiny_model = tiny_gemma3

    lower, lower_logits = _noised(tiny_model.path, name, tmp_path / "lower", 1)
    upper, _ = _noised(tiny_model.path, name, tmp_path / "upper", 2)
    method = method_of_folder(lower)
    assert (method.stackable, method.mergeable, method.peft_backed) == (True, False, False)
    base, _ = load_base(tiny_model, "float32")
    with torch.no_grad():
        assert torch.allclose(
            compose(base, [lower], "stacked", tiny_model, None).eval()(IDS).logits, lower_logits, atol=1e-5
        )
    base, _ = load_base(tiny_model, "float32")
    with torch.no_grad():
        stacked = compose(base, [lower, upper], "stacked", tiny_model, None).eval()(IDS).logits
    manual = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    adapters.init(manual)
    manual.load_adapter(str(lower), load_as="x")
    manual.load_adapter(str(upper), load_as="y")
    manual.set_active_adapters(Stack("x", "y"))
    with torch.no_grad():
        assert torch.allclose(stacked, manual.eval()(IDS).logits, atol=1e-5)
        assert not torch.allclose(stacked, lower_logits, atol=1e-3)
    base, _ = load_base(tiny_model, "float32")
    with pytest.raises(SpecError, match="cannot be merged"):
        compose(base, [lower, upper], "merged", tiny_model, None)


def test_pfeiffer_dapt_trains_and_sft_stacks_on_it_in_both_arms(
    tiny_model: ResolvedModel, blocks_dir: Path, instructions_dir: Path, tmp_path: Path
) -> None:
    from harness_plugins.training.causal_lm import CausalLMTrainer
    from harness_plugins.training.sft import SFTTrainer

    job = make_job(tiny_model, tmp_path / "dapt", blocks_dir / "train_blocks.parquet", "pfeiffer")
    result = CausalLMTrainer().train(job, make_ctx(tmp_path / "dapt"))
    h, layers = _shape(tiny_model.path)
    assert result.metrics["trainable_params"] == layers * (2 * h * (h // 16) + h // 16 + h)
    assert method_of_folder(job.output_dir).peft_type == "ADAPTERHUB_PFEIFFER"
    for trainable in (False, True):
        root = tmp_path / f"sft-{trainable}"
        sft = make_job(
            tiny_model,
            root,
            instructions_dir / "instructions.jsonl",
            "pfeiffer",
            init_adapters={"dapt": (job.output_dir, trainable)},
        )
        out = SFTTrainer().train(sft, make_ctx(root))
        # the trainable arm trains both adapters, the frozen one only the new one
        assert out.metrics["trainable_params"] == (2 if trainable else 1) * result.metrics["trainable_params"]
        assert (sft.output_dir / "parent").is_dir() == trainable


@pytest.mark.parametrize("name", ["houlsby", "pfeiffer", "compacter"])
def test_a_fresh_adapter_leaves_gemma3_and_llama_nearly_unchanged(name: str, tiny_model: ResolvedModel) -> None:
    """AdapterHub's default ``original_ln_before`` re-applies Gemma-3's post-feed-forward norm:
    a freshly added Pfeiffer adapter then moved a tiny Gemma-3's logits by 0.44 (max |logit|
    0.47); the method turns it off for Gemma-3."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, sliding_window=16,
    )  # fmt: skip
    gemma = Gemma3ForCausalLM(config)
    llama = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    ids = torch.tensor([[1, 5, 9, 33, 7, 2, 11]])
    for model in (gemma, llama):
        model.eval()
        with torch.no_grad():
            before = model(ids).logits
            after = build_method(name, {}).attach(model, "unused").eval()(ids).logits
        assert (after - before).abs().max() < 0.05 * before.abs().max(), (name, type(model).__name__)


def test_a_gemma3_model_takes_a_bottleneck_adapter(tmp_path: Path) -> None:
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, sliding_window=16,
    )  # fmt: skip
    model = Gemma3ForCausalLM(config)
    attached = build_method("pfeiffer", {}).attach(model, "unused")
    assert sum(p.numel() for p in attached.parameters() if p.requires_grad) == 2 * (2 * 64 * 4 + 4 + 64)
    with torch.no_grad():
        assert torch.isfinite(attached(torch.tensor([[1, 2, 3, 4]])).logits).all()


@pytest.mark.slow
def test_the_smoke_spec_runs_with_pfeiffer_adapters_and_stacks_them(tmp_path: Path, session_cache: Path) -> None:
    """DAPT and SFT as Pfeiffer adapters, every system evaluated (base+dapt+sft as a Stack)."""
    import json

    from harness.cli import main

    repo = Path(__file__).resolve().parents[2]
    smoke = (repo / "benchmarks" / "smoke.yaml").read_text(encoding="utf-8")
    dapt = "  method: lora\n  method_options: {r: 8, alpha: 16, dropout: 0.0}\n"
    sft = "  method: lora\n  method_options: {r: 8, alpha: 16}\n"
    pfeiffer = "  method: pfeiffer\n  method_options: {reduction_factor: 8}\n"
    assert dapt in smoke and sft in smoke
    spec = tmp_path / "smoke.yaml"
    spec.write_text(smoke.replace(dapt, pfeiffer).replace(sft, pfeiffer), encoding="utf-8")
    out = tmp_path / "runs"
    assert main(["run", str(spec), "--out", str(out), "--run-id", "p", "--profile", "cpu", "--limit", "2"]) == 0
    run = out / "smoke" / "p"
    manifest = json.loads((run / "manifest.json").read_text())
    assert {a["method"] for a in manifest["adapters"].values()} == {"pfeiffer"}
    assert manifest["adapters"]["dapt+sft"]["parent"] == "dapt"
    for system in ("base", "base+dapt", "base+sft", "base+dapt+sft"):
        assert (run / "results" / system / "results.json").is_file()
    board = (run / "leaderboard.md").read_text()
    assert "AdapterHub SeqBnConfig" in board
    # the rerun comes from the stage cache
    assert main(["run", str(spec), "--out", str(out), "--run-id", "q", "--profile", "cpu", "--limit", "2"]) == 0
    assert json.loads((out / "smoke" / "q" / "manifest.json").read_text())["executed"] == []


@pytest.mark.slow
def test_the_bottleneck_comparison_spec_runs_through_the_stage_cache(tmp_path: Path, session_cache: Path) -> None:
    """``benchmarks/mx_legal_peft_methods_adapterhub.yaml`` on the tiny model: Houlsby, Pfeiffer
    and Compacter train, save, reload for evaluation and score; a rerun comes from the cache."""
    from tests.training.conftest import check_comparison_run, comparison_on_tiny

    repo = Path(__file__).resolve().parents[2]
    spec = comparison_on_tiny(repo / "benchmarks" / "mx_legal_peft_methods_adapterhub.yaml", tmp_path)
    assert check_comparison_run(spec, tmp_path / "runs") == ["houlsby", "pfeiffer", "compacter"]
