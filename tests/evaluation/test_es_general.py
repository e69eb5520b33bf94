"""The general-Spanish forgetting check: XQuAD-es offline, with lm-eval's prompt and SQuAD scoring."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from harness.paths import tasks_dir


def _utils():
    spec = importlib.util.spec_from_file_location("es_general_utils", tasks_dir() / "es_general" / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xquad_loads_offline_from_any_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    utils = _utils()
    data = utils.load_xquad()["validation"]
    assert len(data) == 1190 and set(data.column_names) == {"id", "title", "context", "question", "answers"}
    assert not data[0]["context"].startswith("\ufeff")
    for row in data.select(range(50)):
        start, text = row["answers"]["answer_start"][0], row["answers"]["text"][0]
        assert row["context"][start : start + len(text)] == text
    assert len(utils.load_paragraphs()["test"]) == 240


def test_squad_scoring_matches_the_official_definition() -> None:
    utils = _utils()
    doc = {"answers": {"text": ["el año 1990", "1990"]}}
    # lm-eval scores against the first reference; SQuAD drops punctuation and English articles only
    assert utils.process_results_qa(doc, [" El año 1990."]) == {"exact_match": 1, "f1": 1.0}
    assert utils.process_results_qa(doc, ["1990"])["exact_match"] == 0
    assert utils.process_results_qa(doc, ["1990"])["f1"] == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))
    assert utils.compute_f1("", "") == 1.0 and utils.compute_f1("b", "") == 0.0
    assert utils.compute_f1("a", "") == 1.0  # "a" is an English article: it normalises to nothing
    assert utils.normalize_answer("The Año, ¡sí!") == "año ¡sí"


def test_an_edited_xquad_file_is_refused(tmp_path: Path) -> None:
    utils = _utils()
    copy = tmp_path / "xquad.es.json"
    copy.write_bytes(utils.DATA.read_bytes().replace(b"Panthers", b"Pantheras", 1))
    utils.DATA = copy
    utils._records.cache_clear()
    from harness.errors import DataError

    with pytest.raises(DataError, match="SHA-256"):
        utils.load_xquad()


def test_licence_ships_beside_the_data() -> None:
    data = tasks_dir() / "es_general" / "data"
    assert "Attribution-ShareAlike 4.0" in (data / "LICENSE-CC-BY-SA-4.0.txt").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in (data / "SOURCE.md").read_text(encoding="utf-8")
    assert os.access(data / "xquad.es.json", os.R_OK)
