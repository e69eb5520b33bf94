"""The walking skeleton end to end: ``harness run benchmarks/smoke.yaml`` on the tiny model."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "benchmarks" / "smoke.yaml"
SYSTEMS = ["base", "base+dapt", "base+sft", "base+dapt+sft"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("runs")
    started = time.monotonic()
    assert main(["run", str(SMOKE), "--out", str(out), "--run-id", "first", "--profile", "cpu"]) == 0
    return out, time.monotonic() - started


def test_smoke_run_writes_the_run_folder(smoke_run: tuple[Path, float]) -> None:
    out, _ = smoke_run
    run = out / "smoke" / "first"
    manifest = json.loads((run / "manifest.json").read_text())
    assert [s["name"] for s in manifest["systems"]] == SYSTEMS
    assert manifest["model"]["source"] == "tiny"
    assert set(manifest["adapters"]) == {"dapt", "sft", "dapt+sft"}
    for name in manifest["adapters"]:
        assert (run / "adapters" / name / "adapter_config.json").is_file()
        assert manifest["adapters"][name]["efficiency"]["trainable_params"] > 0
        # short runs still log a loss curve (one row per logged step, header first)
        assert len((run / "adapters" / name / "training" / "loss.csv").read_text().splitlines()) >= 3
    for system in SYSTEMS:
        results = json.loads((run / "results" / system / "results.json").read_text())
        assert "mx_legal_ppl" in results["lm_eval"]["results"]
    for kind in ("source", "clean", "structure", "dedup", "split", "blocks", "instructions"):
        assert (run / "stages" / kind).is_dir(), kind
    board = (run / "leaderboard.md").read_text()
    for system in SYSTEMS:
        assert f"| {system} " in board


def test_smoke_rerun_comes_from_cache(smoke_run: tuple[Path, float], capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = smoke_run
    capsys.readouterr()
    assert main(["run", str(SMOKE), "--out", str(out), "--run-id", "second", "--profile", "cpu"]) == 0
    manifest = json.loads((out / "smoke" / "second" / "manifest.json").read_text())
    assert manifest["executed"] == []
    assert all(stage["cached"] for stage in manifest["stages"].values())

    def rows(run_id: str) -> list[dict[str, str]]:
        with open(out / "smoke" / run_id / "leaderboard.csv", newline="") as handle:
            return [{k: v for k, v in row.items() if k != "run"} for row in csv.DictReader(handle)]

    assert rows("second") == rows("first")
    systems = [row["system"] for row in rows("first")]
    assert len([s for s in systems if not s.startswith("baseline: ")]) == 4
    assert "baseline: longest choice" in systems  # model-free rows beside the systems


def test_changing_a_cleaner_option_reruns_downstream_only(smoke_run: tuple[Path, float], tmp_path: Path) -> None:
    out, _ = smoke_run
    spec = tmp_path / "smoke.yaml"
    text = SMOKE.read_text().replace(
        "numeric_tables, quality]", "numeric_tables, {name: quality, options: {min_chars: 201}}]"
    )
    assert text != SMOKE.read_text()
    spec.write_text(text)
    assert (
        main(["run", str(spec), "--out", str(out), "--run-id", "changed", "--only", "split", "--profile", "cpu"]) == 0
    )
    manifest = json.loads((out / "smoke" / "changed" / "manifest.json").read_text())
    assert manifest["executed"] == ["clean", "structure", "dedup", "split"]


def _broken_distribution(tmp_path: Path) -> Path:
    info = tmp_path / "broken_dist-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-dist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness]\nbroken = no_such_module_for_harness\n")
    return tmp_path


def test_broken_plugin_warns_and_smoke_still_runs(smoke_run: tuple[Path, float], tmp_path: Path) -> None:
    out, _ = smoke_run
    env = {**os.environ, "PYTHONPATH": str(_broken_distribution(tmp_path / "site"))}
    cmd = [sys.executable, "-m", "harness.cli", "run", str(SMOKE), "--out", str(out), "--run-id", "broken"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "plugin 'broken' from distribution 'broken-dist' failed to load: ModuleNotFoundError" in proc.stderr
    assert (out / "smoke" / "broken" / "leaderboard.md").is_file()
    # a spec naming a component the broken plugin might provide fails with exit 3
    spec = tmp_path / "needs_broken.yaml"
    spec.write_text(SMOKE.read_text().replace("quality]", "quality, fancy_cleaner]"))
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(spec)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 3, proc.stderr
    assert "broken-dist" in proc.stderr and "fancy_cleaner" in proc.stderr


_PLAIN_LOAD = """
import json, sys
import torch
from transformers import AutoModelForCausalLM
from peft import PeftModel

folder, base_path, ids, out = sys.argv[1:5]
recipe = json.load(open(folder + "/harness_export.json"))
if recipe["format"] == "merged":
    model = AutoModelForCausalLM.from_pretrained(folder)
else:
    model = AutoModelForCausalLM.from_pretrained(base_path)
    for i, entry in enumerate(recipe["adapters"]):
        path = folder + "/" + entry["path"]
        if i == 0:
            model = PeftModel.from_pretrained(model, path, adapter_name=entry["adapter_name"])
        else:
            model.load_adapter(path, adapter_name=entry["adapter_name"])
    model.base_model.set_adapter([e["adapter_name"] for e in recipe["adapters"]])
assert not [m for m in sys.modules if m == "harness" or m.startswith("harness.")]
with torch.no_grad():
    logits = model.eval()(torch.tensor(json.loads(ids))).logits
torch.save(logits, out)
"""


@pytest.mark.parametrize("merged", [False, True], ids=["adapters", "merged"])
def test_export_loads_in_plain_transformers_and_peft_to_the_same_logits(
    smoke_run: tuple[Path, float], tmp_path: Path, merged: bool
) -> None:
    import torch

    from harness.exporter import export_system, resolved_model
    from harness.plan import SystemPlan
    from harness.training.compose import build_system_model

    out, _ = smoke_run
    run = out / "smoke" / "first"
    folder = export_system(run, "base+dapt+sft", tmp_path / "export", merged=merged)
    manifest = json.loads((run / "manifest.json").read_text())
    system = next(s for s in manifest["systems"] if s["name"] == "base+dapt+sft")
    model = resolved_model(run, manifest)
    plan = SystemPlan(system["name"], system["adapters"], system["composition"], None, system["prompt_format"])
    ours, tokenizer = build_system_model(plan, model, {n: run / "adapters" / n for n in plan.adapters}, "float32")
    ids = tokenizer("Artículo 1o.- En los Estados Unidos Mexicanos todas las personas gozarán")["input_ids"]
    with torch.no_grad():
        expected = ours(torch.tensor([ids])).logits
    saved = tmp_path / "logits.pt"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-c", _PLAIN_LOAD, str(folder), str(model.path), json.dumps([ids]), str(saved)],
        check=True,
        cwd=tmp_path,
        env=env,
    )
    got = torch.load(saved)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-5
    # the adapters cannot be told from the base: the stack really changes the model
    plain, _ = build_system_model(SystemPlan("base", [], "stacked", None, "plain"), model, {}, "float32")
    with torch.no_grad():
        assert (plain(torch.tensor([ids])).logits - expected).abs().max().item() > 1e-3
    recipe = json.loads((folder / "harness_export.json").read_text())
    assert recipe["base_model"] == "tiny-llama" and recipe["system"] == "base+dapt+sft"
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "language:\n- es" in card and "mx_legal_qa_closed" in card
    if not merged:
        assert [e["from"] for e in recipe["adapters"]] == ["dapt", "dapt+sft"]
        for entry in recipe["adapters"]:
            config = json.loads((folder / entry["path"] / "adapter_config.json").read_text())
            assert config["base_model_name_or_path"] == "tiny-llama"
        assert (folder / "tokenizer_config.json").is_file()


def test_export_refuses_a_non_empty_folder_and_an_unknown_system(smoke_run: tuple[Path, float], tmp_path: Path) -> None:
    from harness.errors import DataError, SpecError
    from harness.exporter import export_system

    out, _ = smoke_run
    run = out / "smoke" / "first"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        export_system(run, "base+sft", tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "x"
    with pytest.raises(SpecError, match="its systems: base, base\\+dapt"):
        export_system(run, "base+nope", tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert main(["export", str(run), "base+nope", str(tmp_path / "new")]) != 0


def test_adapter_cards_replace_peft_blank_template(smoke_run: tuple[Path, float]) -> None:
    out, _ = smoke_run
    run = out / "smoke" / "first"
    card = (run / "adapters" / "dapt+sft" / "README.md").read_text()
    assert "[More Information Needed]" not in card
    assert "base_model: tiny-llama" in card and "Sits on" in card and "`dapt`" in card
    # the system this adapter tops, with its metrics and CIs
    assert "## Evaluation of the system `base+dapt+sft`" in card and "mx_legal_ppl | word_perplexity" in card


def test_python_api_leaderboard_is_a_dataframe(smoke_run: tuple[Path, float]) -> None:
    import harness

    out, _ = smoke_run
    frame = harness.leaderboard(out / "smoke" / "first")
    systems = frame.loc[frame["kind"] == "system", "system"].tolist()
    assert systems == SYSTEMS
    assert frame["mx_legal_ppl/word_perplexity"].dtype.kind == "f"
    row = frame.set_index("system").loc["base"]
    assert (
        row["mx_legal_ppl/word_perplexity ci_low"]
        <= row["mx_legal_ppl/word_perplexity"]
        <= row["mx_legal_ppl/word_perplexity ci_high"]
    )
    assert frame.attrs["higher_is_better"]["mx_legal_ppl/word_perplexity"] is False


def test_python_api_run_returns_the_result_and_writes_the_reports(smoke_run: tuple[Path, float]) -> None:
    import harness
    from harness.errors import SpecError

    out, _ = smoke_run
    result = harness.run(SMOKE, out=str(out), run_id="api", profile="cpu")
    assert result.executed == []  # every stage from the smoke run's cache
    assert result.run_dir == out / "smoke" / "api" and result.gate_exit_code == 0
    assert (result.run_dir / "leaderboard.csv").is_file() and (result.run_dir / "manifest.json").is_file()
    with pytest.raises(SpecError, match="unknown run option 'profiles'"):
        harness.run(SMOKE, profiles="cpu")


def test_mlflow_tracker_logs_the_run_to_a_file_store(smoke_run: tuple[Path, float], tmp_path: Path) -> None:
    """A smoke run with ``tracking.trackers: [mlflow]``, read back with ``mlflow.search_runs``."""
    import mlflow

    out, _ = smoke_run
    store = (tmp_path / "mlruns").as_uri()
    spec = tmp_path / "smoke.yaml"
    spec.write_text(
        SMOKE.read_text(encoding="utf-8")
        + f"\ntracking:\n  trackers:\n    - name: mlflow\n      options: {{tracking_uri: '{store}', experiment: smoke-test}}\n",
        encoding="utf-8",
    )
    # the SFT adapter trains again (through the trainer-callback hook); the rest comes from cache
    assert main(["run", str(spec), "--out", str(out), "--run-id", "tracked", "--profile", "cpu", "--force", "sft"]) == 0
    mlflow.set_tracking_uri(store)
    runs = mlflow.search_runs(experiment_names=["smoke-test"])
    assert len(runs) == 1
    row = runs.iloc[0]
    assert row["status"] == "FINISHED" and row["tags.mlflow.runName"] == "tracked"
    assert row["params.model.id"] == "tiny-llama" and row["params.sft.method"] == "lora"
    assert row["params.profile"] == "cpu"
    # every stage's figures, each system's leaderboard metrics with CIs
    assert row["metrics.sft/efficiency/trainable_params"] > 0
    assert row["metrics.eval/base/tasks/mx_legal_ppl/word_perplexity"] > 1
    low, value, high = (
        # MLflow names allow no "+": base+dapt+sft is logged as base_dapt_sft
        row[f"metrics.leaderboard/base_dapt_sft/mx_legal_ppl/word_perplexity{s}"]
        for s in ("_ci_low", "", "_ci_high")
    )
    assert low <= value <= high
    client = mlflow.MlflowClient()
    run_id = row["run_id"]
    live = client.get_metric_history(run_id, "sft/curve/loss")  # logged step by step by the callback
    assert len(live) >= 1 and all(m.step > 0 for m in live)
    cached = client.get_metric_history(run_id, "dapt/curve/loss")  # from the cached adapter's loss.csv
    assert len(cached) >= 1
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"leaderboard.md", "manifest.json", "adapters"} <= artifacts
    assert "sft" in {Path(a.path).name for a in client.list_artifacts(run_id, "adapters")}


def test_report_to_passes_through_to_the_trainer(tiny_model, tmp_path: Path) -> None:
    """``tracking.report_to`` adds transformers' integrations to a built trainer, out of the cache key."""
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
    from transformers.integrations import MLflowCallback
    from transformers.trainer_callback import TrainerCallback

    from harness.context import StageContext
    from harness.training.loop import add_tracking

    class Mine(TrainerCallback):
        pass

    model = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    trainer = Trainer(model=model, args=TrainingArguments(output_dir=str(tmp_path / "o"), report_to="none"))
    ctx = StageContext("sft", tmp_path, tmp_path, tmp_path, report_to=["mlflow"], trainer_callbacks=[Mine()])
    add_tracking(trainer, ctx)
    kinds = {type(cb) for cb in trainer.callback_handler.callbacks}
    assert MLflowCallback in kinds and Mine in kinds


class _Recorder:
    """A third-party plugin: every run-level hook, a tracker component, and a trainer callback."""

    events: list[tuple[str, str]] = []

    @staticmethod
    def plugin() -> object:
        from transformers import TrainerCallback

        from harness import hookimpl
        from harness.components import Options, Tracker

        events = _Recorder.events

        class Steps(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                events.append(("step", str(state.global_step)))

        class RecorderOptions(Options):
            label: str = "rec"

        class RecordingTracker(Tracker):
            Options = RecorderOptions

            def run_started(self, run):
                events.append(("tracker.run_started", self.options.label))

            def run_finished(self, run, result, error):
                events.append(("tracker.run_finished", "ok" if error is None else type(error).__name__))

        class Module:
            @staticmethod
            @hookimpl
            def register_trackers(register):
                register("recorder", RecordingTracker)

            @staticmethod
            @hookimpl
            def run_started(run):
                events.append(("run_started", run.spec.spec.name))

            @staticmethod
            @hookimpl
            def stage_finished(stage, run):
                events.append(("stage_finished", stage.name))

            @staticmethod
            @hookimpl
            def trainer_callbacks(stage, run):
                events.append(("trainer_callbacks", stage.name))
                return [Steps()]

            @staticmethod
            @hookimpl
            def run_finished(run, result, error):
                events.append(("run_finished", "ok" if result is not None else type(error).__name__))

        return Module


def test_run_hooks_and_a_third_party_tracker(smoke_run: tuple[Path, float], tmp_path: Path) -> None:
    from harness.plugins import get_plugin_manager
    from harness.report import finish_run
    from harness.runner.run import RunOptions, run_pipeline

    out, _ = smoke_run
    spec = tmp_path / "smoke.yaml"
    spec.write_text(
        SMOKE.read_text(encoding="utf-8") + "\ntracking:\n  trackers: [{name: recorder, options: {label: x}}]\n",
        encoding="utf-8",
    )
    _Recorder.events.clear()
    pm = get_plugin_manager()
    pm.register(_Recorder.plugin(), name="recorder_plugin")
    options = RunOptions(profile="cpu", out=out, run_id="hooks", force=["sft"])
    result = run_pipeline(spec, options, pm=pm)
    assert finish_run(result) == 0
    events = _Recorder.events
    assert events[0] in {("run_started", "smoke"), ("tracker.run_started", "x")}
    assert {("run_started", "smoke"), ("tracker.run_started", "x")} <= set(events[:2])
    assert ("trainer_callbacks", "sft") in events  # only the stage that executed trains
    assert not any(e == ("trainer_callbacks", "dapt") for e in events)
    assert ("step", "1") in events  # the plugin's callback ran inside the SFT trainer
    finished = [e[1] for e in events if e[0] == "stage_finished"]
    assert len(finished) == len(result.stages) and "eval/base" in finished
    assert events[-2:] in (
        [("run_finished", "ok"), ("tracker.run_finished", "ok")],
        [("tracker.run_finished", "ok"), ("run_finished", "ok")],
    )
    # a bad tracker option is a spec error naming the field
    from harness.plugins import build_registry
    from harness.spec.load import SpecErrors, load_spec

    spec.write_text(spec.read_text().replace("label: x", "lable: x"), encoding="utf-8")
    with pytest.raises(SpecErrors, match=r"smoke.yaml:\d+: tracking.trackers\[0\].options.lable: unknown option"):
        load_spec(spec, "cpu", build_registry(pm))
