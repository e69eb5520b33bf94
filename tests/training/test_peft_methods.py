"""The ``peft_methods`` family: built-ins, every PEFT tuner by name, BitFit and its stand-ins, a
third party's method in one file, and stacked adapters equal to merging the lower ones first."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness.training.methods import build_method, method_names, method_of_folder, resolve_options
from harness_plugins.training.causal_lm import CausalLMTrainer
from tests.training.conftest import make_ctx, make_job

REPO = Path(__file__).resolve().parents[2]


def test_the_family_holds_the_builtins_and_every_peft_tuner() -> None:
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    from harness_plugins.peft_methods.generic import UNSUPPORTED

    names = set(method_names())
    assert {"lora", "qlora", "dora", "ia3", "prefix", "prompt", "loha", "lokr", "bitfit", "peft"} <= names
    assert {"vera", "oft", "boft", "fourierft", "hra", "vblora", "beft", "ln_tuning"} <= names
    for kind in PEFT_TYPE_TO_CONFIG_MAPPING:
        value = str(getattr(kind, "value", kind))
        covered = value in {"LORA", "IA3", "LOHA", "LOKR", "PREFIX_TUNING", "PROMPT_TUNING"}
        assert covered or value.lower() in names or value in UNSUPPORTED, value


def test_the_registry_builds_without_importing_peft() -> None:
    """Every command builds the registry; importing peft (seconds: torch, transformers) is left
    to the commands that train or load an adapter.  The tuner names read from peft's source are
    the live mapping's, and a tuner's peft-derived attributes appear on first use."""
    code = (
        "import sys\n"
        "from harness.plugins import load_registry\n"
        "reg = load_registry()\n"
        "assert 'vera' in reg.components['peft_methods'], sorted(reg.components['peft_methods'])\n"
        "heavy = sorted(m for m in ('peft', 'torch', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "from harness_plugins.peft_methods.generic import peft_types\n"
        "from_source = peft_types()\n"
        "cls = reg.get('peft_methods', 'vera').cls\n"
        "assert cls.config_name == 'VeraConfig' and 'r' in cls.Options.model_fields\n"
        "assert 'peft' in sys.modules\n"
        "from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING as M\n"
        "live = sorted(str(getattr(k, 'value', k)) for k in M)\n"
        "assert from_source == live, (from_source, live)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "HARNESS_DISABLE_PLUGINS": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_a_tuner_takes_its_config_fields_and_names_the_valid_ones() -> None:
    assert resolve_options("vera", {"r": 4})["r"] == 4
    with pytest.raises(SpecError) as info:
        resolve_options("vera", {"rank": 4})
    assert info.value.field == "method_options.rank"
    assert "'rank'" in info.value.message and "projection_prng_key" in info.value.message
    # a value peft itself rejects is found when the spec is checked, not after loading the model
    with pytest.raises(SpecError, match="OFTConfig"):
        resolve_options("oft", {"r": 0, "oft_block_size": 0})
    # the generic method: any config class by name
    method = build_method("peft", {"tuner": "VeraConfig", "r": 8})
    assert method.peft_config("unused").r == 8 and method.label() == "PEFT VeraConfig"
    assert method.peft_type == "VERA" and method.stackable
    with pytest.raises(SpecError, match="unknown option 'x' for PEFT tuner VeraConfig"):
        build_method("peft", {"tuner": "VeraConfig", "x": 1})
    with pytest.raises(SpecError, match=r"unknown PEFT tuner 'Nope'.*VeraConfig"):
        build_method("peft", {"tuner": "Nope"})


@pytest.mark.parametrize(
    ("method", "options", "kind"),
    [
        ("vera", {"r": 8, "target_modules": ["q_proj", "v_proj"]}, "VERA"),
        ("oft", {"r": 4, "oft_block_size": 0, "target_modules": ["q_proj", "v_proj"]}, "OFT"),
        ("hra", {"r": 4, "target_modules": ["q_proj", "v_proj"]}, "HRA"),
        ("fourierft", {"n_frequency": 32, "target_modules": ["q_proj", "v_proj"]}, "FOURIERFT"),
        ("beft", {"target_modules": ["q_proj", "v_proj"]}, "BEFT"),
        ("ln_tuning", {}, "LN_TUNING"),
        ("peft", {"tuner": "VeraConfig", "r": 8, "target_modules": ["q_proj"]}, "VERA"),
    ],
)
def test_a_peft_tuner_by_name_trains_saves_and_reloads(
    method: str, options: dict, kind: str, tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    from peft import PeftModel

    job = make_job(tiny_model, tmp_path, blocks_dir / "train_blocks.parquet", method, method_options=options)
    result = CausalLMTrainer().train(job, make_ctx(tmp_path))
    assert result.metrics["global_step"] == 3 and 0 < result.metrics["trainable_params"]
    config = json.loads((job.output_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == kind
    meta = json.loads((job.output_dir / "harness_adapter.json").read_text())
    assert meta["kind"] == kind and meta["method"] == method
    assert "PEFT" in meta["method_label"]
    assert method_of_folder(job.output_dir).peft_type == kind
    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model.path), str(job.output_dir))
    with torch.no_grad():
        assert torch.isfinite(loaded(torch.tensor([[1, 5, 9, 33]])).logits).all()


@pytest.fixture(scope="module")
def biased_model(tmp_path_factory: pytest.TempPathFactory, tiny_model: ResolvedModel) -> ResolvedModel:
    """The tiny LLaMA with bias terms in attention and MLP (built on the fly, random weights)."""
    from transformers import AutoConfig

    folder = tmp_path_factory.mktemp("biased")
    config = AutoConfig.from_pretrained(tiny_model.path)
    config.attention_bias, config.mlp_bias = True, True
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_model.path).save_pretrained(folder)
    return ResolvedModel(reference="tiny-llama-biased", path=folder, source="test", revision="biased")


def test_bitfit_trains_exactly_the_bias_terms(biased_model: ResolvedModel, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from tests.training.conftest import make_blocks

    blocks = make_blocks(biased_model, tmp_path / "blocks")
    job = make_job(biased_model, tmp_path, blocks / "train_blocks.parquet", "bitfit")
    result = CausalLMTrainer().train(job, make_ctx(tmp_path))
    base = AutoModelForCausalLM.from_pretrained(biased_model.path)
    biases = {n: p for n, p in base.named_parameters() if n.endswith(".bias")}
    assert biases  # q/k/v/o and gate/up/down projections of every layer
    assert result.metrics["trainable_params"] == sum(p.numel() for p in biases.values())
    saved = load_file(str(job.output_dir / "bitfit.safetensors"))
    assert set(saved) == set(biases)
    assert any(not torch.equal(saved[n], biases[n]) for n in biases)  # they trained
    # loading it back changes the biases and nothing else
    before = {n: p.detach().clone() for n, p in base.named_parameters()}
    method_of_folder(job.output_dir).load(base, job.output_dir, "a0")
    changed = {n for n, p in base.named_parameters() if not torch.equal(p, before[n])}
    assert changed and changed <= set(biases)
    assert not (job.output_dir / "adapter_config.json").exists()


def test_bitfit_on_a_bias_free_model_names_the_stand_ins(
    tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    job = make_job(tiny_model, tmp_path, blocks_dir / "train_blocks.parquet", "bitfit")
    with pytest.raises(SpecError) as info:
        CausalLMTrainer().train(job, make_ctx(tmp_path))
    assert "has none" in info.value.message and "beft" in info.value.message and "ln_tuning" in info.value.message
    assert "\n" not in info.value.message
    assert build_method("beft", {}).label().endswith("stand-in for BitFit")
    assert build_method("ln_tuning", {}).label().endswith("stand-in for BitFit")


def _noised_adapter(model_path: Path, method: str, options: dict, folder: Path, seed: int) -> Path:
    """A saved adapter of ``method`` whose weights are random (not the no-op initialisation)."""
    model = AutoModelForCausalLM.from_pretrained(model_path)
    peft_model = build_method(method, options).attach(model, str(model_path))
    torch.manual_seed(seed)
    with torch.no_grad():
        for param in peft_model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.05)
    peft_model.save_pretrained(str(folder))
    return folder


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("lora", {"r": 4, "target_modules": ["q_proj", "v_proj", "up_proj"]}),
        ("ia3", {"target_modules": ["k_proj", "v_proj", "down_proj"], "feedforward_modules": ["down_proj"]}),
        ("loha", {"r": 4, "target_modules": ["q_proj", "v_proj"]}),
        ("lokr", {"r": 4, "target_modules": ["q_proj", "v_proj"]}),
        ("vera", {"r": 8, "target_modules": ["q_proj", "v_proj"]}),
        ("hra", {"r": 4, "target_modules": ["q_proj", "v_proj"]}),
    ],
)
def test_stacked_equals_merging_the_lower_adapter_first(
    method: str, options: dict, tiny_model: ResolvedModel, tmp_path: Path
) -> None:
    from harness.training.compose import compose, load_base

    lower = _noised_adapter(tiny_model.path, method, options, tmp_path / "lower", 1)
    upper = _noised_adapter(tiny_model.path, method, options, tmp_path / "upper", 2)
    assert method_of_folder(lower).stackable and method_of_folder(lower).mergeable
    ids = torch.tensor([[1, 5, 9, 33, 7, 2, 11]])
    outputs = {}
    for composition in ("stacked", "merged"):
        base, _ = load_base(tiny_model, "float32")
        model = compose(base, [lower, upper], composition, tiny_model, None).eval()
        with torch.no_grad():
            outputs[composition] = model(ids).logits
    plain, _ = load_base(tiny_model, "float32")
    with torch.no_grad():
        assert not torch.allclose(outputs["stacked"], plain(ids).logits, atol=1e-3)  # the adapters do something
    assert torch.allclose(outputs["stacked"], outputs["merged"], atol=1e-4), (
        (outputs["stacked"] - outputs["merged"]).abs().max()
    )


def test_a_method_that_does_not_stack_is_refused_for_the_trainable_arm(
    tiny_model: ResolvedModel, blocks_dir: Path, instructions_dir: Path, tmp_path: Path
) -> None:
    parent = _noised_adapter(tiny_model.path, "prefix", {"num_virtual_tokens": 4}, tmp_path / "parent", 0)
    from harness_plugins.training.sft import SFTTrainer

    job = make_job(
        tiny_model,
        tmp_path,
        instructions_dir / "instructions.jsonl",
        "prefix",
        method_options={"num_virtual_tokens": 4},
        init_adapters={"dapt": (parent, True)},
    )
    with pytest.raises(SpecError, match="prefix adapters do not stack"):
        SFTTrainer().train(job, make_ctx(tmp_path))


def _docs_example() -> str:
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n# my_package/vera_method.py\n(.*?)```", text, re.S)
    assert block, "docs/plugins.md lost its PEFT-method example"
    return block.group(1)


@pytest.mark.slow
def test_a_third_party_method_in_one_file_runs_through_the_smoke_spec(tmp_path: Path) -> None:
    """The docs' example, installed as an entry point, trains DAPT in the smoke spec and is
    evaluated and labelled in the leaderboard."""
    site = tmp_path / "site"
    (site / "my_package").mkdir(parents=True)
    (site / "my_package" / "__init__.py").write_text("")
    (site / "my_package" / "vera_method.py").write_text(_docs_example())
    info = site / "my_vera_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-vera-dist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness]\nmy_vera = my_package.vera_method\n")
    smoke = (REPO / "benchmarks" / "smoke.yaml").read_text(encoding="utf-8")
    dapt = "  method: lora\n  method_options: {r: 8, alpha: 16, dropout: 0.0}\n"
    assert dapt in smoke
    spec = tmp_path / "smoke.yaml"
    spec.write_text(
        smoke.replace(dapt, "  method: my_vera\n  method_options: {r: 16, target_modules: [q_proj, v_proj]}\n")
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    harness = [sys.executable, "-m", "harness"]
    proc = subprocess.run([*harness, "plugins"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "my_vera" in proc.stdout, proc.stderr[-1500:]
    bad = tmp_path / "bad.yaml"
    bad.write_text(spec.read_text().replace("{r: 16, target", "{rank: 16, target"))
    proc = subprocess.run([*harness, "validate", str(bad)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "dapt.method_options.rank" in proc.stderr, proc.stderr[-1500:]
    out = tmp_path / "runs"
    cmd = [*harness, "run", str(spec), "--out", str(out), "--run-id", "v", "--profile", "cpu"]
    cmd += ["--systems", "base+dapt", "--limit", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = out / "smoke" / "v"
    assert json.loads((run / "adapters" / "dapt" / "adapter_config.json").read_text())["peft_type"] == "VERA"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["adapters"]["dapt"]["method"] == "my_vera"
    assert (run / "results" / "base+dapt" / "results.json").is_file()
    assert (
        "my_vera" in (run / "leaderboard.md").read_text() and "PEFT VeraConfig" in (run / "leaderboard.md").read_text()
    )


def test_a_registered_method_is_built_from_its_registry_and_trains(
    tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    """``register_peft_methods`` on a fresh plugin manager: the plan's registry builds the method
    (its options validated there) and the trainer uses that component."""
    import pluggy

    from harness import hookimpl, hookspecs
    from harness.plugins import build_registry

    namespace: dict = {}
    exec(compile(_docs_example(), "vera_method.py", "exec"), namespace)  # the docs' own example

    class ThirdParty:
        @hookimpl
        def register_peft_methods(self, register):  # type: ignore[no-untyped-def]
            register("my_vera", namespace["MyVera"])

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(ThirdParty(), name="third_party")
    pm.harness_origins = {"third_party": ("entry point", "my-dist")}
    registry = build_registry(pm)
    assert registry.names("peft_methods") == ["my_vera"]
    with pytest.raises(SpecError, match="unknown option 'rank' for PEFT method 'my_vera'"):
        build_method("my_vera", {"rank": 4}, registry)
    job = make_job(tiny_model, tmp_path, blocks_dir / "train_blocks.parquet", "my_vera")
    job.peft = build_method("my_vera", {"r": 8, "target_modules": ["q_proj"]}, registry)
    CausalLMTrainer().train(job, make_ctx(tmp_path))
    assert json.loads((job.output_dir / "adapter_config.json").read_text())["r"] == 8
    meta = json.loads((job.output_dir / "harness_adapter.json").read_text())
    assert (meta["method"], meta["kind"], meta["method_label"]) == ("my_vera", "VERA", "PEFT VeraConfig")


def test_the_plan_refuses_stacks_the_methods_cannot_make(tmp_path: Path) -> None:
    """Checked when the spec is validated, with the field's line: the trainable arm for a method
    that does not stack, and a DAPT adapter that neither stacks nor merges under SFT."""
    from harness.plugins import load_registry
    from harness.spec.load import SpecErrors, load_spec

    smoke = (REPO / "benchmarks" / "smoke.yaml").read_text(encoding="utf-8")
    dapt = "  method: lora\n  method_options: {r: 8, alpha: 16, dropout: 0.0}\n"
    sft = "  method: lora\n  method_options: {r: 8, alpha: 16}\n"
    prefix = "  method: prefix\n  method_options: {num_virtual_tokens: 4}\n"
    cases = {
        "trainable": (
            smoke.replace(dapt, prefix).replace(sft, prefix).replace("dapt_trainable: false", "dapt_trainable: true"),
            "sft.dapt_trainable: .*prefix adapters do not stack",
        ),
        "frozen": (smoke.replace(dapt, prefix), "sft.method: .*prefix adapters neither stack with lora nor merge"),
    }
    for name, (text, pattern) in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SpecErrors) as info:
            load_spec(path, profile="cpu", registry=load_registry(), check_paths=False)
        assert re.search(pattern, info.value.one_line()), info.value.one_line()
    ok = tmp_path / "ok.yaml"
    ok.write_text(smoke.replace(sft, prefix), encoding="utf-8")  # prefix SFT on a merged LoRA DAPT
    load_spec(ok, profile="cpu", registry=load_registry(), check_paths=False)


def test_adapterhub_methods_say_what_to_install_without_the_library() -> None:
    try:
        import adapters  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("AdapterHub adapters is installed here (tox -e adapterhub tests these methods)")
    assert {"houlsby", "pfeiffer", "compacter"} <= set(method_names())
    with pytest.raises(SpecError, match=r"harness\[adapterhub\].*transformers ~=4.57.6"):
        build_method("pfeiffer", {})


@pytest.mark.slow
def test_every_method_of_the_comparison_spec_runs_through_the_stage_cache(tmp_path: Path, session_cache: Path) -> None:
    """``benchmarks/mx_legal_peft_methods.yaml`` on the tiny model: each of its methods trains,
    saves, is reloaded and scored, and a rerun comes from the cache."""
    from tests.training.conftest import check_comparison_run, comparison_on_tiny

    spec = comparison_on_tiny(REPO / "benchmarks" / "mx_legal_peft_methods.yaml", tmp_path)
    methods = check_comparison_run(spec, tmp_path / "runs")
    assert len(methods) == 11
