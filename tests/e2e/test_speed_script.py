"""``benchmarks/scripts/speed.py --quick`` runs end to end on the tiny model and prints every figure
(nothing about time is asserted: speed targets live in the script's output, not in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_speed_script_quick_mode_prints_every_figure(tmp_path: Path, session_cache: Path) -> None:
    out = tmp_path / "speed.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scripts" / "speed.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["model"] == "tiny" and figures["auto_precision"] in ("fp32", "bf16")
    assert set(figures["training"]["tokens_per_s"]) == {"harness_fp32", "harness_bf16", "plain_fp32", "plain_bf16"}
    assert all(v > 0 for v in figures["training"]["tokens_per_s"].values())
    assert figures["sft"]["ratio"] > 0
    table = figures["evaluation"]["seconds_per_system"]
    assert set(table) == {"per_system_fp32", "one_model_fp32", "one_model_bf16"}
    assert all(set(row) == {"base", "base+dapt", "base+sft", "base+dapt+sft"} for row in table.values())
