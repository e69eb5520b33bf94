"""The command line: help for every command, the plugins table, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import COMMANDS, main


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: harness" in capsys.readouterr().out


def test_help_works_without_importing_plugins() -> None:
    # a broken plugin must not break --help: nothing is loaded at import time
    code = "import sys, harness.cli; harness.cli.main(['--help'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "regress" in out.stdout
    probe = "import sys, harness.cli; print('harness_plugins.corpus' in sys.modules, 'torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split() == [
        "False",
        "False",
    ]


def test_plugins_table_lists_every_family(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for family in (
        "data_sources",
        "cleaners",
        "structurers",
        "deduplicators",
        "instruction_generators",
        "trainers",
        "metrics",
        "model_sources",
        "report_formats",
    ):
        assert f"{family}:" in out, family
    assert "builtin" in out


def test_plugins_filtered_by_hook(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["plugins", "--hook", "register_model_sources"]) == 0
    out = capsys.readouterr().out
    assert "harness_plugins.models" in out and "harness_plugins.reports" not in out
    assert main(["plugins", "--hook", "no_such_hook"]) == 2
    assert "unknown hook 'no_such_hook'" in capsys.readouterr().err


def test_missing_spec_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"harness: error: {tmp_path / 'nope.yaml'}: file not found"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from harness.errors import SpecError

    with pytest.raises(SpecError):
        main(["--debug", "validate", str(tmp_path / "nope.yaml")])


def test_bad_adapter_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regress", "benchmarks/smoke.yaml", "--adapter", "no-equals-sign"]) == 2
    assert "--adapter: expected NAME=PATH" in capsys.readouterr().err


def test_validate_json_gives_the_plan_or_the_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    repo = Path(__file__).resolve().parents[2]
    assert main(["validate", str(repo / "benchmarks" / "mx_legal.yaml"), "--profile", "cpu", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["profile"] == "cpu" and data["name"] == "mx_legal"
    assert [s["name"] for s in data["systems"]][:3] == ["base", "base+dapt", "base+sft"]
    assert {a["name"]: a["parent"] for a in data["adapters"]}["sft"] is None
    # the adapters as trained: the CPU profile's values, and the defaults the spec leaves out
    sft = next(a for a in data["adapters"] if a["name"] == "sft")
    assert sft["hyperparameters"]["learning_rate"] == 1.0e-3 and sft["budget"]["max_steps"] == 30
    assert sft["method_options"]["r"] == 16 and sft["method_options"]["use_rslora"] is False
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nseed: [1]\n")
    assert main(["validate", str(bad), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    seed = next(e for e in data["errors"] if e["field"] == "seed")
    assert seed["line"] == 2 and seed["file"] == str(bad) and seed["text"].startswith(f"{bad}:2: seed:")


def test_plugins_json_lists_components_per_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["plugins", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    builtin = {p["plugin"]: p for p in data["plugins"]}
    assert "mx_templates" in builtin["harness_plugins.instructions"]["components"]["instruction_generators"]
    assert builtin["harness_plugins.instructions"]["distribution"] == "harness"
    assert data["broken"] == [] and data["collisions"] == []
