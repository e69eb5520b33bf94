"""The walking skeleton end to end: ``harness run benchmarks/smoke.yaml`` on the tiny model."""

from __future__ import annotations

import csv
import json
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
    assert len(rows("first")) == 4


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
