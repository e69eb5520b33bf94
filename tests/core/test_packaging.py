"""Packaging: the wheel carries every module and all data; ``harness init``; ``python -m harness``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_python_m_harness_is_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "harness", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("harness ")


def test_init_writes_starter_specs_that_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new"
    assert main(["init", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["mx_legal.yaml", "smoke.yaml"]
    assert (target / "mx_legal.yaml").read_text() == (REPO / "benchmarks" / "mx_legal.yaml").read_text()
    capsys.readouterr()
    assert main(["validate", str(target / "smoke.yaml"), "--profile", "cpu"]) == 0
    # a second init refuses to overwrite, and changes nothing
    (target / "smoke.yaml").write_text("name: mine\n")
    assert main(["init", str(target)]) == 2
    assert "smoke.yaml exists; pass --force" in capsys.readouterr().err
    assert (target / "smoke.yaml").read_text() == "name: mine\n"
    assert main(["init", str(target), "--force"]) == 0
    assert (target / "smoke.yaml").read_text() == (REPO / "benchmarks" / "smoke.yaml").read_text()


def test_the_wheel_holds_code_tasks_corpus_and_example_specs(tmp_path: Path) -> None:
    """Built from the tree as a user would (``pip wheel .``): every module, the task YAMLs and
    frozen data, the packaged corpus and the example specs are inside."""
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("harness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    mapped = {"harness": "harness", "plugins": "harness_plugins", "tasks": "harness_tasks"}
    for folder, package in mapped.items():
        for source in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in source.parts:
                assert f"{package}/{source.relative_to(REPO / folder).as_posix()}" in names, source
    for data in (
        "harness_tasks/mx_legal/_mx_legal.yaml",
        "harness_tasks/mx_legal/mx_legal_qa_open.yaml",
        "harness_tasks/mx_legal/data/legal_qa.jsonl",
        "harness_tasks/mx_legal/data/manifest.json",
        "harness_tasks/mx_legal/legal_qa/1_280521.yaml",
        "harness_tasks/es_general/es_xquad.yaml",
        "harness_tasks/es_general/data/xquad.es.json",
        # XQuAD is CC BY-SA 4.0: its licence travels with it
        "harness_tasks/es_general/data/LICENSE-CC-BY-SA-4.0.txt",
        "harness_tasks/es_general/data/SOURCE.md",
        "harness_plugins/corpus/data/mx_laws_2021.parquet",
        "harness/examples/mx_legal.yaml",
        "harness/examples/smoke.yaml",
    ):
        assert data in names, data
