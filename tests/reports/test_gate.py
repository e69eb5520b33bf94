"""The regression gate on per-sample logs in lm-eval's format (fabricated results folders)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fabricate import write_results
from rich.console import Console

from harness.errors import DataError
from harness.regress.gate import compare, tolerance_for
from harness.regress.samples import sample_files
from harness.spec.evaluation import RegressionSection


def _values(row: dict) -> dict:
    """Where a log line keeps its metric values: the harness's ``raw``, or lm-eval's top level."""
    return row["raw"] if isinstance(row.get("metrics"), dict) else row


def _damage(src: Path, dst: Path, flips: int, ppl_factor: float = 1.0) -> None:
    """Copy a results folder, turning ``flips`` right answers wrong and scaling log-likelihoods."""
    shutil.copytree(src, dst)
    mc = sample_files(dst)["mx_legal_law_id"]
    rows = [json.loads(line) for line in mc.read_text().splitlines()]
    for row in [r for r in rows if _values(r)["acc"] == 1.0][:flips]:
        _values(row)["acc"] = 0.0
        if isinstance(row.get("metrics"), dict):
            row["metrics"]["acc"] = 0.0
    mc.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ppl = sample_files(dst)["mx_legal_ppl"]
    rows = [json.loads(line) for line in ppl.read_text().splitlines()]
    for row in rows:
        for metric in ("word_perplexity", "byte_perplexity", "bits_per_byte"):
            _values(row)[metric][0] *= ppl_factor
    ppl.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(params=["harness", "lm_eval"])
def baseline(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A results folder as the evaluation stage writes it, and as lm-eval's own tracker does."""
    folder = tmp_path / "base"
    write_results(folder, quality=0.6, n=120, seed=7, style=request.param)
    return folder


def test_identical_candidate_passes(baseline: Path, tmp_path: Path) -> None:
    shutil.copytree(baseline, tmp_path / "cand")
    report = compare(baseline, tmp_path / "cand", ["mx_legal_law_id", "mx_legal_ppl"], RegressionSection())
    assert report.passed
    assert {v.verdict for v in report.verdicts} == {"same"}
    assert {v.key for v in report.verdicts} == {
        "mx_legal_law_id/acc",
        "mx_legal_law_id/acc_norm",
        "mx_legal_ppl/word_perplexity",
        "mx_legal_ppl/byte_perplexity",
        "mx_legal_ppl/bits_per_byte",
    }
    assert all(v.p_value == 1.0 and v.difference == 0.0 for v in report.verdicts)


def test_damaged_candidate_fails_and_names_metrics(baseline: Path, tmp_path: Path) -> None:
    _damage(baseline, tmp_path / "cand", flips=25, ppl_factor=1.05)
    report = compare(baseline, tmp_path / "cand", None, RegressionSection(), "base", "new")
    assert not report.passed
    worse = {v.key for v in report.worse}
    assert worse == {
        "mx_legal_law_id/acc",
        "mx_legal_ppl/word_perplexity",
        "mx_legal_ppl/byte_perplexity",
        "mx_legal_ppl/bits_per_byte",
    }
    acc = next(v for v in report.verdicts if v.metric == "acc")
    assert acc.test == "mcnemar-exact" and acc.p_value < 0.001
    assert acc.ci_low < acc.difference < acc.ci_high < 0
    ppl = next(v for v in report.verdicts if v.metric == "word_perplexity")
    assert not ppl.higher_is_better and ppl.difference > 0 and ppl.test == "permutation"
    console = Console(record=True, width=200)
    report.render(console)
    text = console.export_text()
    assert "gate failed" in text and "mx_legal_law_id/acc" in text and "worse" in text


def test_tolerance_wider_than_drop_passes(baseline: Path, tmp_path: Path) -> None:
    _damage(baseline, tmp_path / "cand", flips=25)
    strict = compare(baseline, tmp_path / "cand", None, RegressionSection())
    assert [v.key for v in strict.worse] == ["mx_legal_law_id/acc"]
    drop = -strict.worse[0].difference
    loose = RegressionSection(tolerances={"mx_legal_law_id/acc": drop + 0.01})
    report = compare(baseline, tmp_path / "cand", None, loose)
    assert report.passed
    acc = next(v for v in report.verdicts if v.metric == "acc")
    assert acc.verdict == "same" and "within tolerance" in acc.note
    narrow = RegressionSection(tolerances={"acc": drop - 0.01})
    assert not compare(baseline, tmp_path / "cand", None, narrow).passed


def test_improvement_is_better(baseline: Path, tmp_path: Path) -> None:
    _damage(baseline, tmp_path / "worse", flips=25, ppl_factor=1.05)
    report = compare(tmp_path / "worse", baseline, None, RegressionSection())
    assert report.passed
    assert {v.key for v in report.verdicts if v.verdict == "better"} >= {
        "mx_legal_law_id/acc",
        "mx_legal_ppl/word_perplexity",
    }


def test_alpha_and_metric_selection(baseline: Path, tmp_path: Path) -> None:
    _damage(baseline, tmp_path / "cand", flips=25)
    only_norm = compare(baseline, tmp_path / "cand", None, RegressionSection(metrics=["acc_norm"]))
    assert [v.key for v in only_norm.verdicts] == ["mx_legal_law_id/acc_norm"] and only_norm.passed
    tiny_alpha = compare(baseline, tmp_path / "cand", None, RegressionSection(alpha=1e-12))
    assert tiny_alpha.passed


def test_tolerance_lookup_order() -> None:
    section = RegressionSection(tolerances={"default": 0.5, "acc": 0.1, "qa/acc": 0.02})
    assert tolerance_for(section, "qa", "acc") == 0.02
    assert tolerance_for(section, "other", "acc") == 0.1
    assert tolerance_for(section, "qa", "f1") == 0.5
    assert tolerance_for(RegressionSection(), "qa", "f1") == 0.0


def test_missing_samples_is_a_data_error(baseline: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no per-sample logs"):
        compare(baseline, tmp_path / "empty", None, RegressionSection())


def test_partial_overlap_is_noted(baseline: Path, tmp_path: Path) -> None:
    shutil.copytree(baseline, tmp_path / "cand")
    mc = sample_files(tmp_path / "cand")["mx_legal_law_id"]
    mc.write_text("".join(mc.read_text().splitlines(keepends=True)[:100]))
    report = compare(baseline, tmp_path / "cand", None, RegressionSection())
    acc = next(v for v in report.verdicts if v.metric == "acc")
    assert acc.n == 100 and "20 items only on one side" in acc.note


def test_groups_in_the_spec_gate_every_member_task(baseline: Path, tmp_path: Path) -> None:
    """The CPU profile lists groups next to tasks ([mx_legal_qa, mx_legal_ppl, …, es_general]): a
    group's member tasks must be gated, not dropped because another name matched a task."""
    cand = tmp_path / "cand"
    shutil.copytree(baseline, cand)
    every = {v.key.split("/")[0] for v in compare(baseline, cand, None, RegressionSection()).verdicts}
    assert every == {"mx_legal_law_id", "mx_legal_ppl"}
    # a shipped group (mx_legal holds law_id) next to a plain task name: both tasks are gated
    mixed = compare(baseline, cand, ["mx_legal_ppl", "mx_legal"], RegressionSection())
    assert {v.key.split("/")[0] for v in mixed.verdicts} == every
    # only the named task when nothing else is asked for
    only = compare(baseline, cand, ["mx_legal_ppl", "es_general"], RegressionSection())
    assert {v.key.split("/")[0] for v in only.verdicts} == {"mx_legal_ppl"}
