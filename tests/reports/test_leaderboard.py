"""Collecting run folders into a leaderboard and rendering every built-in format."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fabricate import make_run
from rich.console import Console

from harness.errors import DataError
from harness.leaderboard import collect, find_runs, render_terminal, write_all
from harness.leaderboard.terminal import build_table

FORMATS = ["md", "csv", "json", "html", "terminal"]


def systems_only(runs: list[Path]):
    """The leaderboard of the fabricated runs without the model-free baseline rows (tested apart)."""
    return collect(runs, baselines=False)


def test_collect_one_run(run_dir: Path) -> None:
    board = systems_only([run_dir])
    assert [e.system for e in board.entries] == [
        "base",
        "base+dapt[method=lora]",
        "base+dapt[method=ia3]",
        "base+dapt+sft",
    ]
    # tasks in the order the results list them (the spec's), metrics by name
    assert [c.key for c in board.columns] == [
        "mx_legal_law_id/acc",
        "mx_legal_law_id/acc_norm",
        "mx_legal_ppl/bits_per_byte",
        "mx_legal_ppl/byte_perplexity",
        "mx_legal_ppl/word_perplexity",
    ]
    assert not next(c for c in board.columns if c.metric == "word_perplexity").higher_is_better
    sft = board.entries[3]
    assert sft.model == "tiny-llama" and sft.model_source.startswith("tiny")
    # costs of a stacked system add its adapters up; peak memory is the larger one
    assert sft.trainable_params == 81920 + 40960
    assert sft.train_seconds == pytest.approx(63.0)
    assert sft.peak_memory_mb == pytest.approx(900 + 81.92)
    assert sft.eval_seconds == pytest.approx(13.0)
    assert sft.adapters[1].describe() == "lora r=4 on dapt[method=lora] (frozen)"
    assert sft.adapters[0].loss_curve[0] == {
        "step": 0.0,
        "epoch": 0.0,
        "loss": 5.0,
        "eval_loss": 5.2,
        "learning_rate": 0.001,
    }
    # the evaluation stage's bootstrap CI, for accuracies and perplexities alike
    written = json.loads((run_dir / "results" / "base+dapt+sft" / "results.json").read_text())
    for task, metric in (("mx_legal_law_id", "acc"), ("mx_legal_ppl", "word_perplexity")):
        cell = sft.metrics[f"{task}/{metric}"]
        expected = written["tasks"][task]["metrics"][metric]
        assert cell.value == expected["value"]
        assert [cell.ci_low, cell.ci_high] == expected["ci95"]
        assert cell.ci_low < cell.value < cell.ci_high
    assert board.entries[0].trainable_params == 0 and board.entries[0].adapters == []


def test_collect_lm_eval_results(tmp_path: Path) -> None:
    """Results in lm-eval's own layout: metrics from ``results``, CI from the ``ci95`` extra or stderr."""
    board = systems_only([make_run(tmp_path / "runs", style="lm_eval")])
    sft = board.entries[3]
    assert len(board.columns) == 5 and sft.eval_seconds == pytest.approx(13.0)
    acc = sft.metrics["mx_legal_law_id/acc"]
    assert (acc.ci_low, acc.ci_high) == pytest.approx((acc.value - 0.1, acc.value + 0.1))
    norm = sft.metrics["mx_legal_law_id/acc_norm"]
    assert norm.ci_low == pytest.approx(norm.value - 1.959964 * norm.stderr)
    assert sft.metrics["mx_legal_ppl/word_perplexity"].ci_low is None  # lm-eval gives "N/A"


def test_best_per_metric(run_dir: Path) -> None:
    board = systems_only([run_dir])
    # sft has the highest quality in the fixture: best accuracy and lowest perplexity
    assert board.best("mx_legal_law_id/acc") == {3}
    assert board.best("mx_legal_ppl/word_perplexity") == {3}
    assert board.best_cost("trainable_params", False) == {2}  # ia3, never the untrained base


def test_two_runs_aggregate_into_one_table(two_runs: list[Path]) -> None:
    board = systems_only([two_runs[0].parent])  # the benchmark folder expands to its runs
    assert [r.run for r in board.runs] == ["smoke/20260101-000000", "smoke/20260102-000000"]
    assert len(board.entries) == 8
    md = _render(board, "md")
    assert any(line.startswith("| run | system |") for line in md.splitlines())
    assert md.count("smoke/20260102-000000 |") == 4
    assert find_runs(two_runs) == two_runs


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no manifest\.json"):
        systems_only([tmp_path])
    with pytest.raises(DataError, match="does not exist"):
        systems_only([tmp_path / "missing"])


def _render(board, name: str) -> str:
    import harness_plugins.reports

    formats: dict = {}
    harness_plugins.reports.register_report_formats(register=formats.__setitem__)
    return formats[name]().render(board)


def test_formats_registered_through_hook(reports_registry) -> None:
    assert reports_registry.names("report_formats") == ["csv", "html", "json", "md", "terminal"]
    assert reports_registry.get("report_formats", "html").plugin == "harness_plugins.reports"


def test_write_all_writes_each_format(run_dir: Path, reports_registry) -> None:
    written = write_all(systems_only([run_dir]), run_dir, reports_registry, FORMATS)
    assert [p.name for p in written] == [
        "leaderboard.md",
        "leaderboard.csv",
        "leaderboard.json",
        "leaderboard.html",
        "leaderboard.txt",
    ]
    assert not list(run_dir.glob(".leaderboard*"))  # no temporary files left
    data = json.loads((run_dir / "leaderboard.json").read_text())
    assert data["best"]["mx_legal_law_id/acc"] == [3] and len(data["entries"]) == 4


def test_markdown_and_csv_are_byte_stable(two_runs: list[Path], reports_registry, tmp_path: Path) -> None:
    first = write_all(systems_only(two_runs), tmp_path / "a", reports_registry, ["md", "csv", "json"])
    second = write_all(systems_only(two_runs), tmp_path / "b", reports_registry, ["md", "csv", "json"])
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_markdown_columns_and_bold_best(run_dir: Path) -> None:
    md = _render(systems_only([run_dir]), "md")
    header = next(line for line in md.splitlines() if line.startswith("| system"))
    for title in (
        "model (source)",
        "adapters",
        "mx_legal_law_id/acc ↑",
        "mx_legal_ppl/word_perplexity ↓",
        "trainable params",
        "train time (s)",
        "tokens/s",
        "peak memory (MB)",
        "eval time (s)",
    ):
        assert title in header
    sft = next(line for line in md.splitlines() if line.startswith("| base+dapt+sft"))
    assert re.search(r"\*\*0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]\*\*", sft)  # best accuracy, bold, with CI
    assert "lora r=4 on dapt[method=lora] (frozen)" in sft


def test_csv_is_numeric(run_dir: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_render(systems_only([run_dir]), "csv"))))
    assert len(rows) == 4
    sft = rows[3]
    assert (
        float(sft["mx_legal_law_id/acc ci_high"])
        > float(sft["mx_legal_law_id/acc"])
        > float(sft["mx_legal_law_id/acc ci_low"])
    )
    assert sft["trainable_params"] == "122880" and rows[0]["trainable_params"] == "0"


def test_terminal_highlights_best(run_dir: Path) -> None:
    board = systems_only([run_dir])
    table = build_table(board)
    acc_column = next(c for c in table.columns if c.header.startswith("mx_legal_law_id/acc ↑"))
    styles = [cell.style for cell in acc_column._cells]
    assert styles == ["", "", "", "bold green"]
    console = Console(record=True, width=300)
    render_terminal(board, console)
    assert "base+dapt+sft" in console.export_text()


def test_terminal_table_in_a_log_file_is_not_folded(run_dir: Path) -> None:
    """Output to a file or pipe gets the table at its natural width: one line per system."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system=None)
    assert not console.is_terminal
    render_terminal(systems_only([run_dir]), console)
    lines = buffer.getvalue().splitlines()
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == len(systems_only([run_dir]).entries)
    assert any("base+dapt[method=ia3]" in line and "plain" in line for line in body)
    assert console.width == 80  # restored


def test_html_is_self_contained_with_plots(run_dir: Path) -> None:
    page = _render(systems_only([run_dir]), "html")
    assert '<table id="leaderboard">' in page
    for figure in ("metric-bars", "quality-vs-cost", "loss-curves"):
        assert re.search(rf'<figure class="plot" id="{figure}"><svg', page), figure
    # nothing fetched at view time: no external scripts, styles, images or fonts
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "@import" not in page and "<link" not in page
    assert page.count('class="num best"') >= 5


def test_html_links_each_sft_system_to_its_generation_probes(run_dir: Path) -> None:
    board = systems_only([run_dir])
    sft = next(e for e in board.entries if e.system == "base+dapt+sft")
    assert [p["task_type"] for p in sft.adapters[-1].probes] == ["legal_qa", "exqa"]
    page = _render(board, "html")
    anchor = re.search(r'<tr data-system="base\+dapt\+sft">.*?<a href="#(probes-[^"]+)"', page, re.DOTALL).group(1)
    section = page.split(f'<h3 id="{anchor}">', 1)[1].split("</table>", 1)[0]
    assert "Según el artículo 5, el plazo es de diez días." in section
    assert "diez días &lt;b&gt;" in section  # generated text is escaped
    # systems without an SFT adapter link to nothing
    assert not re.search(r'<tr data-system="base\+dapt\[method=lora\]">[^\n]*?href="#probes', page)


def test_columns_are_grouped_by_task_group(run_dir: Path) -> None:
    """General-Spanish tasks sit apart from the legal ones in every format, in the results' order."""
    for results in sorted((run_dir / "results").glob("*/results.json")):
        data = json.loads(results.read_text(encoding="utf-8"))
        data["tasks"] = {
            "mx_legal_ppl": {**data["tasks"]["mx_legal_ppl"], "group": "general Spanish"},
            "mx_legal_law_id": {**data["tasks"]["mx_legal_law_id"], "group": "Mexican law"},
        }
        results.write_text(json.dumps(data), encoding="utf-8")
    board = systems_only([run_dir])
    assert [(c.group, c.task) for c in board.columns][::2] == [
        ("general Spanish", "mx_legal_ppl"),
        ("general Spanish", "mx_legal_ppl"),
        ("Mexican law", "mx_legal_law_id"),
    ]
    markdown = _render(board, "md")
    assert "| general Spanish: mx_legal_ppl/bits_per_byte ↓ |" in markdown
    assert "| Mexican law: mx_legal_law_id/acc ↑ |" in markdown
    page = _render(board, "html")
    assert '<th colspan="3" class="group">general Spanish</th><th colspan="2" class="group">Mexican law</th>' in page
    text = _render(board, "terminal")  # rich may fold a header over two lines
    assert "Spanish" in text and "Mexican" in text


def test_model_free_baselines_sit_beside_the_systems(run_dir: Path) -> None:
    """Each run gets one row per baseline, scored on the same first n items as its systems."""
    from harness.evaluation.baselines_cli import baseline_table

    board = collect([run_dir])
    rows = [e for e in board.entries if e.kind == "baseline"]
    assert [e.system for e in rows] == [
        "baseline: shortest choice",
        "baseline: longest choice",
        "baseline: most words shared with the article",
    ]
    expected = baseline_table({"mx_legal_law_id": 60})["mx_legal_law_id"]
    longest = rows[1].metrics["mx_legal_law_id/acc"].value
    assert longest == expected["longest"] == rows[1].metrics["mx_legal_law_id/acc_norm"].value
    assert all(set(e.metrics) <= {"mx_legal_law_id/acc", "mx_legal_law_id/acc_norm"} for e in rows)
    markdown = _render(board, "md")
    assert "| baseline: longest choice |" in markdown and "model-free" in markdown
