"""Kill a real ``harness run`` with SIGKILL during DAPT, SFT and evaluation, rerun it, and compare
the final leaderboard with an uninterrupted run of the same spec.

    python benchmarks/scripts/resume_check.py benchmarks/smoke.yaml --out /tmp/resume
    python benchmarks/scripts/resume_check.py benchmarks/mx_legal.yaml --profile cpu --out /tmp/resume-gemma \
        [--reference runs/mx_legal/<run-id>]   # an uninterrupted run of the same spec and code to compare with

Prints, for each kill point, what was killed and what the next run took from the cache or resumed,
then the largest difference between the two leaderboards per metric column.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

#: the report of the last ``main`` call (for tests)
last_report: dict[str, object] = {}
#: leaderboard columns that measure time or cost and legitimately differ between runs
VOLATILE = ("run", "time", "seconds", "tokens/s", "tokens_per", "memory", "eval")


def harness_cmd(spec: Path, out: Path, run_id: str, profile: str) -> list[str]:
    """The ``harness run`` command line."""
    return [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        str(spec),
        "--out",
        str(out),
        "--run-id",
        run_id,
        "--profile",
        profile,
    ]


def run_to_end(spec: Path, out: Path, run_id: str, profile: str) -> float:
    """One uninterrupted run; returns its wall time."""
    started = time.monotonic()
    subprocess.run(harness_cmd(spec, out, run_id, profile), check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def checkpoints(out: Path, kind: str) -> list[Path]:
    """Training checkpoints saved so far by stages of ``kind``."""
    return sorted((out / ".cache" / "scratch" / kind).rglob("checkpoint-*/trainer_state.json"))


def run_and_kill(spec: Path, out: Path, profile: str, kind: str, delay: float) -> str:
    """Start a run; SIGKILL it once stage ``kind`` is under way (a checkpoint exists for training
    stages; ``delay`` seconds into the stage otherwise). Returns what happened."""
    proc = subprocess.Popen(
        harness_cmd(spec, out, f"killed-{kind}", profile), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    started: dict[str, float] = {}

    def watch() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            name = line.split("stage ", 1)[-1].split(": ", 1)[-1].strip() if "] stage " in line else ""
            if name and (
                name == kind or name.startswith((f"{kind}[", f"{kind}/", f"{kind}+")) or name.split("+")[-1] == kind
            ):
                started.setdefault("at", time.monotonic())

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    while proc.poll() is None:
        if "at" in started:
            ready = checkpoints(out, kind) if kind in ("dapt", "sft") else []
            if ready or (kind not in ("dapt", "sft") and time.monotonic() - started["at"] > delay):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return f"killed during {kind} ({len(ready)} checkpoint(s) on disk)"
        time.sleep(0.2)
    return f"run ended (code {proc.returncode}) before {kind} could be killed"


def metric_rows(run_dir: Path) -> dict[str, dict[str, str]]:
    """Leaderboard CSV rows by system, without volatile columns."""
    with open(run_dir / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row["system"]: {k: v for k, v in row.items() if not any(t in k for t in VOLATILE)} for row in rows}


def compare(reference: Path, resumed: Path) -> dict[str, float]:
    """Largest absolute difference per numeric column between two leaderboards."""
    ref, res = metric_rows(reference), metric_rows(resumed)
    if set(ref) != set(res):
        raise SystemExit(f"systems differ: {sorted(ref)} vs {sorted(res)}")
    worst: dict[str, float] = {}
    for system, row in ref.items():
        for column, value in row.items():
            other = res[system][column]
            try:
                diff = abs(float(value) - float(other))
            except ValueError:
                diff = 0.0 if value == other else float("inf")
            worst[column] = max(worst.get(column, 0.0), diff)
    return worst


def main(argv: list[str] | None = None) -> int:
    """Run the check and print its figures; exit 1 if the leaderboards differ beyond ``--tolerance``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--kill", nargs="+", default=["dapt", "sft", "eval"])
    parser.add_argument("--eval-delay", type=float, default=5.0)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--reference", type=Path, help="run folder of an uninterrupted run (skips running one)")
    args = parser.parse_args(argv)
    import yaml

    name = yaml.safe_load(args.spec.read_text(encoding="utf-8"))["name"]
    res_out = args.out / "resumed"
    if args.reference is not None:
        reference = args.reference
        report: dict[str, object] = {"reference": str(reference)}
    else:
        reference = args.out / "reference" / name / "reference"
        report = {
            "reference_seconds": round(run_to_end(args.spec, args.out / "reference", "reference", args.profile), 1)
        }
    events = []
    for kind in args.kill:
        events.append(run_and_kill(args.spec, res_out, args.profile, kind, args.eval_delay))
        print(events[-1], flush=True)
    report["final_seconds"] = round(run_to_end(args.spec, res_out, "final", args.profile), 1)
    manifest = json.loads((res_out / name / "final" / "manifest.json").read_text())
    ref_manifest = json.loads((reference / "manifest.json").read_text())
    resumed = {
        a: e["efficiency"].get("resumed_from_step") for a, e in manifest["adapters"].items() if e.get("efficiency")
    }
    report.update(
        events=events,
        final_run_executed=manifest["executed"],
        reference_executed=len(ref_manifest["executed"]),
        adapters_resumed_from_step=resumed,
    )
    worst = compare(reference, res_out / name / "final")
    report["max_abs_difference"] = {k: v for k, v in worst.items() if v}
    report["max_abs_difference_overall"] = max(worst.values(), default=0.0)
    print(json.dumps(report, indent=2))
    global last_report
    last_report = report
    return 0 if report["max_abs_difference_overall"] <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
