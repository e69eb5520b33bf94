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
