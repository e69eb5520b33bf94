"""The HTML leaderboard in a real headless chromium: it renders, sorting reorders rows, plots show."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.leaderboard import collect
from harness_plugins.reports.html import HTMLFormat

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scripts" / "html_screenshot.py"


def _driver():
    spec = importlib.util.spec_from_file_location("html_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


driver = _driver()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(driver.chromium() is None, reason="chromium is not installed"),
]


@pytest.fixture
def page(two_runs: list[Path], tmp_path: Path) -> Path:
    path = tmp_path / "leaderboard.html"
    path.write_text(HTMLFormat().render(collect(two_runs, baselines=False)), encoding="utf-8")
    return path


def _values(order: list[str]) -> list[float]:
    return [float(item.rsplit("@", 1)[1]) for item in order]


def test_sorting_a_metric_column_reorders_rows(page: Path) -> None:
    column = driver.column_index(page, "mx_legal_law_id/acc")
    once = driver.probe(page, column, clicks=1)
    assert once["hit"], "the header is not where the page draws it"
    assert once["rows"] == 8
    assert once["after"] != once["before"]
    assert _values(once["after"]) == sorted(_values(once["before"]))
    assert once["aria"] == "ascending"
    twice = driver.probe(page, column, clicks=2)
    assert _values(twice["after"]) == sorted(_values(once["before"]), reverse=True)
    assert twice["aria"] == "descending"


def test_sorting_a_text_column(page: Path) -> None:
    column = driver.column_index(page, "system")
    ascending = [item.rsplit("@", 1)[0] for item in driver.probe(page, column)["after"]]
    descending = [item.rsplit("@", 1)[0] for item in driver.probe(page, column, clicks=2)["after"]]
    assert ascending[:2] == ["base", "base"]  # the two runs' base systems come first
    assert descending == ascending[::-1]


def test_plots_are_drawn(page: Path) -> None:
    report = driver.probe(page, 0)
    plots = {p["id"]: p for p in report["plots"]}
    assert set(plots) == {"metric-bars", "quality-vs-cost", "loss-curves"}
    for plot in plots.values():
        assert plot["width"] > 200 and plot["height"] > 100 and plot["shapes"] > 20
    assert report["best"] >= 5


def test_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    png = driver.screenshot(page, tmp_path / "shot.png", 1400, 1800)
    assert png.stat().st_size > 20_000
    assert 0.02 < driver.ink_fraction(png) < 0.9
