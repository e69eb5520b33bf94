"""The shipped tasks run through plain ``lm_eval`` from any directory; offline datasets fail clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import DataError
from harness.paths import tasks_dir


def test_lm_eval_cli_runs_mx_legal_from_another_directory(tmp_path: Path, tiny_model):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [
        sys.executable, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={tiny_model.path}",
        "--include_path", str(tasks_dir()), "--tasks", "mx_legal,es_general", "--limit", "2",
        "--output_path", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result_file = next((tmp_path / "out").rglob("results_*.json"))
    results = json.loads(result_file.read_text())["results"]
    assert {"mx_legal_ppl", "mx_legal_law_id", "mx_legal_cloze", "mx_legal_heading"} <= set(results)
    assert {"mx_legal_qa_closed", "mx_legal_qa_open", "mx_legal_qa_short", "es_xquad", "es_general_ppl"} <= set(results)
    assert {"acc,none", "acc_norm,none"} <= set(results["mx_legal_qa_open"])
    assert {"exact_match_es,none", "token_f1_es,none"} <= set(results["mx_legal_qa_short"])
    assert {"exact_match,none", "f1,none"} <= set(results["es_xquad"])
    assert "rougeL_es,none" in results["mx_legal_heading"]
    assert "token_f1_es,none" in results["mx_legal_cloze"]


def test_missing_builtin_dataset_offline_names_task_and_dataset(tiny_lm, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from harness.evaluation.run import evaluate
    from harness.evaluation.tasks import resolve_tasks

    refs = resolve_tasks(["belebele_spa_Latn"], Path("."))
    with pytest.raises(DataError, match=r"belebele_spa_Latn.*facebook/belebele"):
        evaluate(tiny_lm, refs, {"belebele_spa_Latn": 2})
