"""Results that must not go stale, and laws that must not vanish: keys follow contents, every
input has a fate, NaN stays valid JSON, concurrent runs share one cache safely."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.context import StageContext

REPO = Path(__file__).resolve().parents[2]


# --- keys follow contents ----------------------------------------------------------------------


def _user_task(folder: Path) -> Path:
    folder.mkdir()
    (folder / "common.yaml").write_text("output_type: multiple_choice\ntest_split: train\n")
    (folder / "helpers.py").write_text("def text(doc):\n    return doc['q']\n")
    (folder / "data.jsonl").write_text('{"q": "¿uno?", "choices": ["a", "b"], "gold": 0}\n')
    (folder / "mine.yaml").write_text(
        "task: mine\ninclude: common.yaml\ndataset_path: json\n"
        "dataset_kwargs: {data_files: {train: data.jsonl}}\n"
        "doc_to_text: !function helpers.text\ndoc_to_choice: '{{choices}}'\ndoc_to_target: gold\n"
        "metric_list: [{metric: acc}]\n"
    )
    return folder / "mine.yaml"


@pytest.mark.parametrize("edit", ["data.jsonl", "common.yaml", "helpers.py"])
def test_a_user_task_key_follows_every_file_it_reads(tmp_path: Path, edit: str) -> None:
    """Data files, include targets and !function modules are all part of the task's identity."""
    from harness.evaluation.tasks import resolve_tasks

    yaml_path = _user_task(tmp_path / "task")
    before = resolve_tasks([str(yaml_path)], tmp_path / "task")[0]
    assert before.metrics == ["acc"]
    target = tmp_path / "task" / edit
    target.write_text(target.read_text() + "\n")
    after = resolve_tasks([str(yaml_path)], tmp_path / "task")[0]
    assert after.identity != before.identity


def test_source_key_follows_contents_not_size_and_time(tmp_path: Path) -> None:
    from harness.corpus.stages import data_fingerprint

    law = tmp_path / "laws" / "ley.txt"
    law.parent.mkdir()
    law.write_text("Artículo 1o.- Texto original.")
    stat = law.stat()
    before = data_fingerprint("laws", tmp_path)
    law.write_text("Artículo 1o.- Texto cambiado.")  # same size
    os.utime(law, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same modification time (tar, rsync -a)
    assert law.stat().st_size == stat.st_size
    assert data_fingerprint("laws", tmp_path) != before


def test_an_evaluation_key_holds_only_the_metrics_its_tasks_use(tmp_path: Path, tiny_model) -> None:
    from harness.components import Metric, MetricSpec
    from harness.evaluation.stage import eval_config
    from harness.plan import SystemPlan
    from harness.spec.load import LoadedSpec
    from harness.spec.model import Spec
    from tests.evaluation.conftest import builtin_registry

    class Extra(Metric):
        def spec(self) -> MetricSpec:
            return MetricSpec(fn=lambda refs, preds: 0.0)

    class Plugin:
        from harness import hookimpl

        @hookimpl
        def register_metrics(self, register) -> None:
            register("extra_metric", Extra)

    raw = {
        "name": "t",
        "model": {"id": "tiny-llama"},
        "corpus": {"sources": ["snapshot"]},
        "evaluation": {"tasks": ["mx_legal_ppl"]},
    }
    loaded = LoadedSpec(Spec.model_validate(raw), tmp_path / "s.yaml", "cpu", "test", raw)
    plain = eval_config(loaded, builtin_registry(), SystemPlan("base", []), tiny_model, None)
    more = eval_config(loaded, builtin_registry(Plugin()), SystemPlan("base", []), tiny_model, None)
    assert plain == more and plain["metrics"] == {}
    heading = {**raw, "evaluation": {"tasks": ["mx_legal_heading"]}}
    loaded = LoadedSpec(Spec.model_validate(heading), tmp_path / "s.yaml", "cpu", "test", heading)
    assert set(eval_config(loaded, builtin_registry(), SystemPlan("base", []), tiny_model, None)["metrics"]) == {
        "rouge1_es",
        "rouge2_es",
        "rougeL_es",
        "bertscore_f1",
    }


# --- NaN ---------------------------------------------------------------------------------------


def test_a_nan_metric_is_valid_json_and_an_empty_cell_with_a_note(tmp_path: Path) -> None:
    from harness.leaderboard import collect
    from harness.paths import write_json
    from tests.reports.fabricate import make_run

    run = make_run(tmp_path)
    results = run / "results" / "base" / "results.json"
    data = json.loads(results.read_text())
    data["tasks"]["mx_legal_law_id"]["metrics"]["acc"]["value"] = float("nan")
    write_json(results, data)

    def no_constants(name: str) -> None:
        raise AssertionError(f"invalid JSON constant {name}")

    json.loads(results.read_text(), parse_constant=no_constants)
    board = collect([run])
    base = next(e for e in board.entries if e.system == "base")
    assert "mx_legal_law_id/acc" not in base.metrics
    assert any("base: mx_legal_law_id/acc is not a number" in note for note in board.notes)


def test_summaries_turn_nan_into_null(tmp_path: Path) -> None:
    from harness.evaluation import results as res
    from tests.reports.fabricate import lm_eval_output

    raw = lm_eval_output(0.5, n=10)
    raw["results"]["mx_legal_law_id"]["acc,none"] = float("nan")
    cell = res.summarize(raw, 50)["mx_legal_law_id"]["metrics"]["acc"]
    assert cell["value"] is None and cell["not_a_number"] is True


# --- every input has a fate --------------------------------------------------------------------


def test_ids_stay_unique_across_sources(tmp_path: Path) -> None:
    from harness.components import DataSource, Document
    from harness.corpus.steps import run_sources

    class Same(DataSource):
        def documents(self, ctx):
            for i in range(3):
                ctx.report_input(f"in{i}", "loaded", document="dup")
                yield Document("dup", f"LEY {i}", "ley", "Artículo 1o.- Texto.", {"input": f"in{i}"})

    ctx = StageContext("source", tmp_path, tmp_path, tmp_path)
    run_sources(ctx, [("same", Same())])
    from harness.corpus.io import read_documents

    ids = [d.id for d in read_documents(tmp_path / "documents.parquet")]
    assert len(set(ids)) == 3
    assert sorted(v["document"] for v in ctx.inputs.values()) == sorted(ids)


# --- concurrent runs ---------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_runs_on_one_cold_cache(tmp_path: Path) -> None:
    """Three runs of a small spec at once on one cache: each finishes, each stage executes once in
    all, and the leaderboards are identical."""
    text = (REPO / "benchmarks" / "smoke.yaml").read_text(encoding="utf-8")
    text = text.replace("systems: [base, base+dapt, base+sft, base+dapt+sft]", "systems: [base, base+dapt]")
    text = text.replace("  tasks: [mx_legal, es_general]", "  tasks: [mx_legal_ppl, mx_legal_qa_closed]")
    start, end = text.index("  task_limits:"), text.index("  batch_size:")
    text = text[:start] + "  task_limits: {mx_legal_ppl: 6, mx_legal_qa_closed: 6}\n" + text[end:]
    text = text.replace("baseline: base+dapt+sft", "baseline: base+dapt")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    runs = tmp_path / "runs"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "run", str(spec), "--out", str(runs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs[0][-2000:]
    folders = sorted((runs / "smoke").iterdir())
    assert len(folders) == 3
    executed = [json.loads((f / "manifest.json").read_text())["executed"] for f in folders]
    flat = [stage for run in executed for stage in run]
    assert len(flat) == len(set(flat)), executed  # no stage ran twice
    # the same numbers in every run (the run column aside)
    boards = [[line.split(",", 1)[1] for line in (f / "leaderboard.csv").read_text().splitlines()] for f in folders]
    assert boards[0] == boards[1] == boards[2]
    leftovers = [p for p in (runs / ".cache").rglob(".*tmp-*")]
    assert leftovers == []
    shutil.rmtree(runs)
