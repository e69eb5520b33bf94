"""The adapter stage: its cache config, its record, resuming a killed run, and the accelerate launcher."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.components import ResolvedModel
from harness.errors import SpecError
from harness.plan import plan_adapters
from harness.plugins import Registry
from harness.runner.stage import Stage
from harness.spec.load import load_spec
from harness.training.stage import adapter_stage
from harness_plugins.training.causal_lm import CausalLMTrainer
from tests.training.conftest import make_ctx, make_job, run_stage_here

DATA = Path(__file__).parent / "data"


def upstream(name: str, key: str) -> Stage:
    """A finished upstream stage (only its key matters here)."""
    stage = Stage(name=name, kind=name, config={}, execute=lambda ctx, inputs: {})
    stage.key = key
    return stage


def stages_for(spec_file: str, registry: Registry, model: ResolvedModel) -> dict[str, Stage]:
    loaded = load_spec(DATA / spec_file, profile="cpu", check_paths=False)
    corpus = {"blocks": upstream("blocks", "b0")}
    built: dict[str, Stage] = {}
    for plan in plan_adapters(loaded.spec):
        parent = built.get(plan.parent) if plan.parent else None
        built[plan.name] = adapter_stage(loaded, registry, plan, model, corpus, upstream("instructions", "i0"), parent)
        built[plan.name].compute_key()
    return built


def test_stage_config_and_inputs(training_registry: Registry, tiny_model: ResolvedModel) -> None:
    stages = stages_for("tiny_dapt_sft.yaml", training_registry, tiny_model)
    dapt, frozen, trainable = (
        stages["dapt"],
        stages["dapt+sft[dapt_trainable=False]"],
        stages["dapt+sft[dapt_trainable=True]"],
    )
    assert dapt.kind == "dapt" and dapt.publish_as == "adapters/dapt" and set(dapt.inputs) == {"blocks"}
    assert (
        dapt.config["trainer"]["name"] == "causal_lm" and dapt.config["trainer"]["plugin"] == "harness_plugins.training"
    )
    for key in ("method", "method_options", "hyperparameters", "budget", "seed", "model"):
        assert key in dapt.config
    assert dapt.config["model"]["revision"] == tiny_model.revision
    assert set(frozen.inputs) == {"instructions", "parent"} and frozen.inputs["parent"] is dapt
    assert frozen.kind == "sft" and frozen.key != trainable.key
    assert set(stages["sft"].inputs) == {"instructions"}


def test_every_setting_changes_the_key(training_registry: Registry, tiny_model: ResolvedModel) -> None:
    keys = {
        name: stage.key for name, stage in stages_for("tiny_methods_sweep.yaml", training_registry, tiny_model).items()
    }
    assert len(set(keys.values())) == 6


def test_a_changed_default_changes_the_training_key(
    training_registry: Registry, tiny_model: ResolvedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys hash the resolved options and hyperparameters: a new default retrains, never reuses."""
    from harness.training import arguments, methods
    from harness_plugins.peft_methods.builtin import Lora, LoraOptions

    before = stages_for("tiny_dapt_sft.yaml", training_registry, tiny_model)["dapt"]
    assert before.config["method_options"]["dropout"] == methods.defaults("lora", training_registry)["dropout"]

    class NewDefault(LoraOptions):
        dropout: float = 0.123

    class NewLora(Lora):
        Options = NewDefault

    monkeypatch.setattr(training_registry.components["peft_methods"]["lora"], "cls", NewLora)
    after = stages_for("tiny_dapt_sft.yaml", training_registry, tiny_model)["dapt"]
    assert after.config["method_options"]["dropout"] == 0.123 and after.key != before.key
    # hyperparameters too: the key holds every resolved value, the defaults the spec leaves out
    assert after.config["hyperparameters"] == arguments.resolve_hyperparameters(after.config["hyperparameters"])
    assert "max_grad_norm" in after.config["hyperparameters"]


def test_bad_method_option_fails_when_the_stage_is_built(
    training_registry: Registry, tiny_model: ResolvedModel, tmp_path: Path
) -> None:
    text = (DATA / "tiny_methods_sweep.yaml").read_text().replace("learning_rate: 0.001", "learning_rate: 0.001, lr: 1")
    (tmp_path / "s.yaml").write_text(text)
    loaded = load_spec(tmp_path / "s.yaml", profile="cpu", check_paths=False)
    plan = plan_adapters(loaded.spec)[0]
    with pytest.raises(SpecError) as info:
        adapter_stage(loaded, training_registry, plan, tiny_model, {"blocks": upstream("blocks", "b")}, None, None)
    assert "'lr'" in info.value.message and info.value.field == "dapt.hyperparameters.lr"


def test_dapt_then_sft_stages_run(
    training_registry: Registry,
    tiny_model: ResolvedModel,
    blocks_dir: Path,
    instructions_dir: Path,
    tmp_path: Path,
) -> None:
    stages = stages_for("tiny_dapt_sft.yaml", training_registry, tiny_model)
    dapt = run_stage_here(stages["dapt"], {"blocks": blocks_dir}, tmp_path / "dapt")
    assert dapt["method"] == "lora" and dapt["method_options"]["r"] == 4 and dapt["parent"] is None
    assert dapt["efficiency"]["trainable_params"] > 0 and dapt["efficiency"]["best_eval_loss"] is not None
    paths = {"instructions": instructions_dir, "parent": tmp_path / "dapt" / "out"}
    sft = run_stage_here(stages["dapt+sft[dapt_trainable=True]"], paths, tmp_path / "sft")
    assert sft["parent"] == "dapt" and sft["parent_trainable"] is True
    assert (tmp_path / "sft" / "out" / "parent" / "adapter_config.json").is_file()
    assert json.dumps(sft)  # the record is JSON-able for the manifest


def test_killed_run_resumes_from_its_last_checkpoint(
    tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    steps = 40
    job = make_job(
        tiny_model,
        tmp_path,
        blocks_dir / "train_blocks.parquet",
        "lora",
        hyperparameters={"save_steps": 5, "per_device_train_batch_size": 2, "budget": {"max_steps": steps}},
    )
    ctx = make_ctx(tmp_path)
    from harness.training.launch import job_to_json

    payload = {
        "job": job_to_json(job),
        "trainer": "harness_plugins.training.causal_lm:CausalLMTrainer",
        "options": {},
        "stage": "dapt",
        "workdir": str(ctx.workdir),
        "scratch": str(ctx.scratch),
        "base_dir": str(tmp_path),
    }
    (tmp_path / "job.json").write_text(json.dumps(payload))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "harness.training.worker",
        str(tmp_path / "job.json"),
        str(tmp_path / "r.json"),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # the harness's clock file is written last: it marks the checkpoint complete
    while not (job.checkpoint_dir / "checkpoint-10" / "harness_clock.json").is_file():
        assert process.poll() is None and time.monotonic() < deadline, "training ended before the second checkpoint"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "r.json").exists() and not (job.output_dir / "adapter_model.safetensors").exists()
    result = CausalLMTrainer().train(job, ctx)
    done = result.metrics["resumed_from_step"]
    assert 10 <= done < steps
    assert result.metrics["global_step"] == steps and result.metrics["steps_this_run"] == steps - done
    # the figures cover the whole training: the killed segment's tokens and time are summed in
    assert result.metrics["train_tokens"] == steps * 2 * 32
    assert result.metrics["tokens_this_run"] == (steps - done) * 2 * 32
    assert result.metrics["wall_time_s"] > result.metrics["wall_time_this_run_s"] > 0
    tokens_per_s = result.metrics["train_tokens"] / result.metrics["wall_time_s"]
    assert result.metrics["train_tokens_per_s"] == pytest.approx(tokens_per_s, rel=0.01)
    assert (job.output_dir / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_accelerate_launcher_runs_two_cpu_processes(
    tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.training.launch import launch

    job = make_job(
        tiny_model,
        tmp_path,
        blocks_dir / "train_blocks.parquet",
        "lora",
        hyperparameters={"per_device_train_batch_size": 2},
    )
    # a plugin's trainer callback reaches every worker process (pickled); one that cannot be
    # pickled stays behind with a warning naming it
    module = tmp_path / "plugin_callbacks"
    module.mkdir()
    (module / "marker_callback.py").write_text(
        "import os\nfrom pathlib import Path\nfrom transformers import TrainerCallback\n\n"
        "class Marker(TrainerCallback):\n"
        "    def __init__(self, folder):\n        self.folder = folder\n\n"
        "    def on_train_end(self, args, state, control, **kwargs):\n"
        "        Path(self.folder, f\"rank{os.environ.get('RANK', '0')}.{state.global_step}\").touch()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(module))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(module), os.environ.get("PYTHONPATH", "")]))
    import threading

    from marker_callback import Marker  # type: ignore[import-not-found]

    class Locked:  # holds a lock, which cannot be pickled
        def __init__(self) -> None:
            self.lock = threading.Lock()

    marks = tmp_path / "marks"
    marks.mkdir()
    ctx = make_ctx(tmp_path)
    ctx.trainer_callbacks = [Marker(str(marks)), Locked()]
    result = launch(CausalLMTrainer(), job, ctx, 2, None)
    assert result.metrics["world_size"] == 2 and result.metrics["distributed_backend"] == "gloo"
    assert result.metrics["tokens_per_step"] == 2 * 2 * 32 and result.metrics["train_tokens"] == 3 * 128
    assert (job.output_dir / "adapter_model.safetensors").is_file()
    steps = result.metrics["global_step"]
    assert sorted(p.name for p in marks.iterdir()) == [f"rank0.{steps}", f"rank1.{steps}"]
    assert any("Locked cannot be pickled" in w for w in ctx.warnings)


def test_method_sweep_spec_trains_all_six(
    training_registry: Registry, tiny_model: ResolvedModel, blocks_dir: Path, tmp_path: Path
) -> None:
    stages = stages_for("tiny_methods_sweep.yaml", training_registry, tiny_model)
    figures = {}
    for stage in stages.values():
        record = run_stage_here(stage, {"blocks": blocks_dir}, tmp_path / stage.key)
        figures[record["method"]] = record["efficiency"]
        assert (tmp_path / stage.key / "out" / "adapter_config.json").is_file()
    assert sorted(figures) == sorted(["lora", "qlora", "dora", "ia3", "prefix", "prompt"])
    for method, row in figures.items():
        assert row["trainable_params"] > 0 and row["train_tokens_per_s"] > 0 and row["adapter_size_bytes"] > 0, method
    # the methods really differ in what they train
    assert (
        figures["ia3"]["trainable_params"] < figures["lora"]["trainable_params"] < figures["dora"]["trainable_params"]
    )


def test_third_party_trainer_checks_only_its_methods(tiny_model: ResolvedModel) -> None:
    import pluggy

    from harness import hookimpl, hookspecs
    from harness.components import Trainer
    from harness.plugins import build_registry

    class Orpo(Trainer):
        methods = ("lora", "vera")

    class Plugin:
        @hookimpl
        def register_trainers(self, register: object) -> None:
            register("orpo", Orpo)  # type: ignore[operator]

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(Plugin(), name="orpo-plugin")
    registry = build_registry(pm)
    loaded = load_spec(DATA / "tiny_methods_sweep.yaml", profile="cpu", check_paths=False)
    plan = plan_adapters(loaded.spec)[0]
    plan.trainer, plan.method, plan.method_options = "orpo", "vera", {"projection_prng_key": 1}
    stage = adapter_stage(loaded, registry, plan, tiny_model, {"blocks": upstream("blocks", "b")}, None, None)
    assert stage.config["trainer"]["name"] == "orpo"
    plan.method = "qlora"
    with pytest.raises(SpecError, match="vera"):
        adapter_stage(loaded, registry, plan, tiny_model, {"blocks": upstream("blocks", "b")}, None, None)


def test_a_checkpoint_without_its_clock_file_is_not_resumed_from(tmp_path: Path) -> None:
    from harness.training.loop import last_checkpoint

    for step, files in ((5, ("trainer_state.json", "harness_clock.json")), (10, ("trainer_state.json",))):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        for name in files:
            (folder / name).write_text("{}")
    # checkpoint-10 was killed between the Trainer's save and the harness's on_save
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-5"
    (tmp_path / "checkpoint-10" / "harness_clock.json").write_text("{}")
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
