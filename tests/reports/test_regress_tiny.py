"""``harness regress`` end to end on the tiny model: identical candidate passes, a noised adapter
fails naming its metrics, a tolerance wider than the drop passes, usage errors exit 2.

The tiny LLaMA is randomly initialised: its final RMSNorm and small ``lm_head`` keep every output
near uniform, so noise in attention adapters barely moves perplexity.  The adapter here also
targets ``lm_head``, where noise reaches the logits directly — a reliably damaged adapter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

SPEC = {
    "name": "regress_tiny",
    "seed": 0,
    "model": {"id": "tiny-llama", "sources": ["tiny"], "dtype": "float32"},
    "corpus": {
        "sources": [{"name": "snapshot", "options": {"include": ["1_280521.txt", "LAmp_070621.txt"]}}],
        "cleaners": ["unicode_repair", "page_furniture", "reform_notes", "unwrap_lines", "numeric_tables", "quality"],
        "structurer": "mx_articles",
        "dedup": ["exact", "minhash"],
        "split": {"validation_fraction": 0.05},
        "blocks": {"block_size": 128, "max_train_blocks": 32, "max_validation_blocks": 4},
    },
    "dapt": {
        "trainer": "causal_lm",
        "method": "lora",
        # a list would be a sweep axis, so the targets are one regular expression
        "method_options": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": r".*(q_proj|v_proj|lm_head)"},
        "hyperparameters": {"learning_rate": 1.0e-3, "per_device_train_batch_size": 8},
        "budget": {"max_steps": 4},
    },
    "systems": ["base", "base+dapt"],
    "evaluation": {"tasks": ["mx_legal_ppl"], "limit": 16, "batch_size": 8},
    "report": {"formats": ["md"]},
    "regression": {"baseline": "base+dapt", "alpha": 0.05, "bootstrap_iters": 1000},
}


def _write_spec(path: Path, regression: dict | None = None) -> Path:
    spec = json.loads(json.dumps(SPEC))
    spec["regression"].update(regression or {})
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> dict[str, Path]:
    """One ``harness run`` of the spec: its adapter, spec, runs folder and a noised copy."""
    from harness.runner.run import RunOptions, run_pipeline

    root = tmp_path_factory.mktemp("regress")
    spec = _write_spec(root / "spec.yaml")
    out = root / "runs"
    result = run_pipeline(spec, RunOptions(profile="cpu", out=out, run_id="first"))
    adapter = result.run_dir / "adapters" / "dapt"
    noised = root / "noised"
    shutil.copytree(adapter, noised)
    _add_noise(noised / "adapter_model.safetensors", std=1.0)
    return {"spec": spec, "out": out, "adapter": adapter, "noised": noised, "root": root}


def _noised_head_adapter(folder: Path, model) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.training.meta import write_meta

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(model.path)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["lm_head"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(folder)
    write_meta(folder, model, method="lora")
    _add_noise(folder / "adapter_model.safetensors", std=1.0)
    return folder


def _add_noise(path: Path, std: float) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    generator = torch.Generator().manual_seed(0)
    tensors = load_file(str(path))
    save_file({k: v + std * torch.randn(v.shape, generator=generator) for k, v in tensors.items()}, str(path))


def _gate(out: Path) -> dict:
    latest = sorted(out.glob("regress_tiny/regress-*/gate.json"), key=lambda p: p.stat().st_mtime)[-1]
    return json.loads(latest.read_text())


def _latest_run(out: Path) -> Path:
    return sorted(out.glob("regress_tiny/regress-*/gate.json"), key=lambda p: p.stat().st_mtime)[-1].parent


def _cli(*args: str) -> int:
    from harness.cli import main

    return main(["regress", *args])


def test_identical_candidate_passes(trained: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli(
        str(trained["spec"]),
        "--adapter",
        f"same={trained['adapter']}",
        "--profile",
        "cpu",
        "--out",
        str(trained["out"]),
    )
    assert code == 0
    gate = _gate(trained["out"])
    assert gate["passed"]
    verdicts = gate["gates"][0]["verdicts"]
    assert {v["key"] for v in verdicts} == {
        "mx_legal_ppl/word_perplexity",
        "mx_legal_ppl/byte_perplexity",
        "mx_legal_ppl/bits_per_byte",
    }
    assert all(v["difference"] == 0.0 and v["verdict"] == "same" and v["n"] == 16 for v in verdicts)
    assert "gate passed" in capsys.readouterr().out


def test_noised_adapter_fails_naming_metrics(trained: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli(
        str(trained["spec"]),
        "--adapter",
        f"noised={trained['noised']}",
        "--profile",
        "cpu",
        "--out",
        str(trained["out"]),
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "gate failed" in out
    gate = _gate(trained["out"])
    worse = [v for v in gate["gates"][0]["verdicts"] if v["verdict"] == "worse"]
    assert {v["key"] for v in worse} == {
        "mx_legal_ppl/word_perplexity",
        "mx_legal_ppl/byte_perplexity",
        "mx_legal_ppl/bits_per_byte",
    }
    assert "mx_legal_ppl/bits_per_byte" in " ".join(out.split())
    for v in worse:
        assert v["candidate"] > v["baseline"] and v["ci_low"] > 0 and v["p_value"] < 0.05
    trained["drops"] = {v["metric"]: v["difference"] for v in worse}  # type: ignore[assignment]


def test_tolerance_wider_than_drop_passes(trained: dict[str, Path]) -> None:
    drops = trained.get("drops")
    if not drops:
        pytest.skip("needs test_noised_adapter_fails_naming_metrics first")
    spec = _write_spec(trained["root"] / "tolerant.yaml", {"tolerances": {m: d * 1.5 for m, d in drops.items()}})  # type: ignore[union-attr]
    code = _cli(str(spec), "--adapter", f"noised={trained['noised']}", "--profile", "cpu", "--out", str(trained["out"]))
    assert code == 0
    verdicts = _gate(trained["out"])["gates"][0]["verdicts"]
    assert all(v["verdict"] == "same" and "within tolerance" in v["note"] for v in verdicts)


def test_baseline_from_results_file(trained: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a results file, the normal pipeline runs the candidate's evaluation alone (no
    corpus or spec-system stage), and the plan is built once."""
    from harness import plan

    monkeypatch.setattr(plan, "BUILDS", 0)
    results = trained["out"] / "regress_tiny" / "first" / "results" / "base+dapt" / "results.json"
    code = _cli(
        str(trained["spec"]),
        "--adapter",
        f"noised={trained['noised']}",
        "--baseline",
        str(results),
        "--profile",
        "cpu",
        "--out",
        str(trained["out"]),
    )
    assert code == 1
    assert plan.BUILDS == 1
    run_dir = _latest_run(trained["out"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert sorted(manifest["stages"]) == ["eval/noised"]
    assert sorted(p.name for p in (run_dir / "results").iterdir()) == ["noised"]


def test_usage_errors_exit_2(trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(trained["spec"])
    assert _cli(spec, "--adapter", "no-equals-sign") == 2
    assert _cli(spec, "--adapter", f"x={tmp_path}", "--out", str(trained["out"])) == 2
    assert "adapter_config.json" in capsys.readouterr().err
    assert _cli(spec, "--adapter", f"x={trained['adapter']}", "--baseline", str(tmp_path / "none.json")) == 2


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> dict[str, Path]:
    """A run with an SFT adapter trained on the DAPT one (frozen arm), and a noised copy of it."""
    from harness.runner.run import RunOptions, run_pipeline

    root = tmp_path_factory.mktemp("regress_on")
    spec = json.loads(json.dumps(SPEC))
    # the SFT trainer's response-only head refuses a DAPT adapter on lm_head
    spec["dapt"]["method_options"]["target_modules"] = r".*(q_proj|v_proj)"
    spec["instructions"] = {"generators": ["mx_templates"], "budget": 48}
    spec["sft"] = {
        "trainer": "sft",
        "method": "lora",
        "method_options": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": r".*(q_proj|v_proj)"},
        "hyperparameters": {"learning_rate": 1.0e-3, "per_device_train_batch_size": 8},
        "budget": {"max_steps": 3},
        "dapt_trainable": False,
    }
    spec["systems"] = ["base", "base+dapt", "base+dapt+sft"]
    spec["regression"]["baseline"] = "base+dapt+sft"
    path = root / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = root / "runs"
    result = run_pipeline(path, RunOptions(profile="cpu", out=out, run_id="first"))
    adapter = result.run_dir / "adapters" / "dapt+sft"
    # the planted bad downstream adapter: the tiny model is random, so only its LM head moves its
    # perplexity (its final norm keeps every other change near-uniform); a noised LoRA there
    noised = _noised_head_adapter(root / "noised_sft", result.model)
    return {"spec": path, "out": out, "adapter": adapter, "noised": noised, "run": result.run_dir}


def test_a_candidate_stacked_on_the_shipped_dapt_adapter(stacked: dict[str, Path]) -> None:
    """``--on base+dapt``: the shipped SFT adapter on the shipped DAPT adapter is the shipped pair
    (exit 0, the same numbers); a planted bad one fails (exit 1)."""
    common = ["--on", "base+dapt", "--baseline", "base+dapt+sft", "--profile", "cpu", "--out", str(stacked["out"])]
    assert _cli(str(stacked["spec"]), "--adapter", f"same={stacked['adapter']}", *common) == 0
    run_dir = _latest_run(stacked["out"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "eval/base+dapt" not in manifest["stages"]  # its adapters are used, the system is not evaluated
    ours = json.loads((run_dir / "results" / "same" / "results.json").read_text())
    shipped = json.loads((stacked["run"] / "results" / "base+dapt+sft" / "results.json").read_text())
    assert ours["adapters"] == ["dapt", "same"] and shipped["adapters"] == ["dapt", "dapt+sft"]
    assert ours["prompt_format"] == shipped["prompt_format"] == "instruction"
    ppl = "word_perplexity"
    assert ours["tasks"]["mx_legal_ppl"]["metrics"][ppl]["value"] == pytest.approx(
        shipped["tasks"]["mx_legal_ppl"]["metrics"][ppl]["value"], rel=1e-5
    )
    assert _cli(str(stacked["spec"]), "--adapter", f"bad={stacked['noised']}", *common) == 1
    assert _cli(str(stacked["spec"]), "--adapter", f"x={stacked['adapter']}", "--on", "base+nope") == 2
