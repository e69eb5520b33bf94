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
