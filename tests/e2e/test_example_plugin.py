"""The example third-party plugin, loaded through its entry point, used by name from a spec;
and a broken plugin that does not stop a run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.plugins import build_registry, get_plugin_manager

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "harness-example-plugin"

SPEC = """
name: example_plugin
seed: 0
model: {{id: tiny-llama, sources: [tiny]}}
corpus:
  sources:
    - name: snapshot
      options: {{include: [103_220321.txt]}}
  cleaners: [unicode_repair, page_furniture, strip_editorial_notes, unwrap_lines]
systems: [base]
evaluation:
  tasks: [{task}]
  batch_size: 4
  bootstrap_iters: 0
  max_gen_toks: 8
report:
  formats: [md]
"""

TASK = """
task: citation_user
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Pregunta: {{{{question}}}}\\nRespuesta:"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n"]
  do_sample: false
  max_gen_toks: 8
metric_list:
  - metric: article_citation_match
    aggregation: mean
    higher_is_better: true
"""


def example_installed() -> bool:
    registry = build_registry(get_plugin_manager())
    return "example" in {p.name for p in registry.plugins}


@pytest.fixture(scope="module")
def installed_example() -> None:
    """The example package installed for real (tox installs it; otherwise install it here)."""
    if not example_installed():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(EXAMPLE)], check=True)
    if not example_installed():
        pytest.skip("example plugin could not be installed")


def test_example_cleaner_and_metric_by_name(installed_example: None, tmp_path: Path, session_cache: Path) -> None:
    rows = [
        {"question": "¿Qué artículo regula la propiedad?", "answer": "El artículo 27"},
        {"question": "¿Qué artículos tratan del trabajo?", "answer": "Artículo 123"},
    ]
    data = tmp_path / "citation.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    task = tmp_path / "citation_user.yaml"
    task.write_text(TASK.format(data=data), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(task=task.name), encoding="utf-8")
    out = tmp_path / "runs"
    assert main(["run", str(spec), "--out", str(out), "--run-id", "r"]) == 0
    run = out / "example_plugin" / "r"
    cleaning = json.loads((run / "stages" / "clean" / "cleaning.json").read_text())
    assert "strip_editorial_notes" in json.dumps(cleaning)
    results = json.loads((run / "results" / "base" / "results.json").read_text())
    score = results["lm_eval"]["results"]["citation_user"]["article_citation_match,none"]
    assert 0.0 <= score <= 1.0
    samples = (run / "results" / "base" / "samples" / "citation_user.jsonl").read_text().splitlines()
    assert len(samples) == 2 and all("article_citation_match" in line for line in samples)
