"""``harness validate``: every kind of bad spec gives exit 2 and ``file:line: field: message``."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.spec.load import load_spec

REPO = Path(__file__).resolve().parents[2]
SMOKE = (REPO / "benchmarks" / "smoke.yaml").read_text(encoding="utf-8")


def write_variant(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The smoke spec with ``old`` replaced by ``new``; returns the path and the line of ``new``."""
    assert old in SMOKE, old
    text = SMOKE.replace(old, new, 1)
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    line = text[: text.index(new)].count("\n") + 1 + new[: len(new) - len(new.lstrip("\n"))].count("\n")
    return path, line


def validate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["validate", str(path), *extra])
    return code, capsys.readouterr().err


def test_shipped_specs_validate(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("smoke.yaml", "mx_legal.yaml"):
        code, err = validate(REPO / "benchmarks" / name, capsys, "--profile", "cpu")
        assert code == 0, err


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "  budget: {max_steps: 8}\n\ninstructions",
            "  budget: {max_steps: 8}\n  colour: red\n\ninstructions",
            "dapt.colour",
            "unknown key 'colour'",
        ),
        ("seed: 0", "seed: zero", "seed", "valid integer"),
        ("quality]", "quality, no_such_cleaner]", "corpus.cleaners[6]", "unknown cleaners component 'no_such_cleaner'"),
        (
            "  budget: {max_steps: 8}\n\ninstructions",
            "  budget: {max_steps: -3}\n\ninstructions",
            "dapt.budget.max_steps",
            "must be > 0 (got -3)",
        ),
        (
            "systems: [base, base+dapt, base+sft, base+dapt+sft]",
            "systems: [base, base+dapt, base+dapt]",
            "systems[2]",
            "duplicate system name 'base+dapt'",
        ),
        (
            "tasks: [mx_legal, es_general]",
            "tasks: [mx_legal_pplx, es_general]",
            "evaluation.tasks[0]",
            "did you mean mx_legal_ppl",
        ),
        (
            # a swept arm expands the system's name: the gate needs the name the run evaluates
            "  dapt_trainable: false",
            "  dapt_trainable: [false, true]",
            "regression.baseline",
            "systems: base, base+dapt, base+sft, base+dapt+sft[dapt_trainable=False]",
        ),
        (
            "  method: lora\n  method_options: {r: 8, alpha: 16, dropout",
            "  method: loraa\n  method_options: {r: 8, alpha: 16, dropout",
            "dapt.method",
            "unknown PEFT method 'loraa'",
        ),
        (
            "    learning_rate: 1.0e-3\n    per_device_train_batch_size: 8\n    lr_scheduler_type",
            "    lr: 1.0e-3\n    per_device_train_batch_size: 8\n    lr_scheduler_type",
            "dapt.hyperparameters.lr",
            "unknown hyperparameter 'lr'",
        ),
    ],
)
def test_bad_spec_reports_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, field: str, message: str
) -> None:
    path, _ = write_variant(tmp_path, old, new)
    code, err = validate(path, capsys)
    assert code == 2, err
    first = err.strip().splitlines()[0].removeprefix("harness: error: ")
    where, rest = first.split(": ", 1)
    file, line = where.rsplit(":", 1)
    assert file == str(path)
    text = path.read_text().splitlines()
    # the reported line holds the offending key or value
    key = field.split(".")[-1].split("[")[0]
    assert key in text[int(line) - 1], (line, text[int(line) - 1])
    assert rest.startswith(f"{field}: "), rest
    assert message in rest


def test_missing_data_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = write_variant(
        tmp_path,
        "    - name: snapshot\n      options:\n        include: [1_280521.txt, LAmp_070621.txt, 103_220321.txt]",
        "    - name: raw_txt\n      options:\n        path: no/such/folder",
    )
    code, err = validate(path, capsys)
    assert code == 2
    assert "corpus.sources[0].options.path" in err
    assert "no/such/folder" in err
    assert f"{path}:{line + 2}:" in err


def test_unknown_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = validate(REPO / "benchmarks" / "smoke.yaml", capsys, "--profile", "tpu")
    assert code == 2 and "--profile: unknown profile 'tpu'" in err
    path, line = write_variant(tmp_path, "report:", "profiles:\n  tpu: {seed: 1}\n\nreport:")
    code, err = validate(path, capsys)
    assert code == 2 and f"{path}:{line + 1}: profiles.tpu: unknown profile 'tpu'" in err


def test_profile_overrides_budgets_and_keeps_lines(tmp_path: Path) -> None:
    path, line = write_variant(
        tmp_path,
        "report:",
        "profiles:\n  cpu:\n    dapt: {budget: {max_steps: 2}}\n  gpu:\n    dapt: {budget: {max_steps: 500}}\n\nreport:",
    )
    assert load_spec(path, "cpu").spec.dapt.budget.max_steps == 2
    assert load_spec(path, "gpu").spec.dapt.budget.max_steps == 500
    loaded = load_spec(path, "auto")
    assert loaded.profile in {"cpu", "gpu"} and loaded.profile_reason.startswith("auto")
    assert loaded.lines.line_for(("dapt", "budget", "max_steps")) == line + 2


def test_yaml_syntax_error_has_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel: [unclosed\n")
    code, err = validate(path, capsys)
    assert code == 2 and f"{path}:" in err and "invalid YAML" in err
