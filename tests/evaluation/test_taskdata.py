"""Frozen task data: deterministic build, manifest check on load, decontamination texts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.components import Article
from harness.errors import DataError
from harness.evaluation import taskdata
from harness.evaluation.build import build_items, build_tasks, heading_name


def _articles() -> list[Article]:
    """A synthetic corpus: 12 laws × 4 chapters × 8 articles of varied text."""
    words = "autoridad competente resolverá procedimiento administrativo conforme disposiciones aplicables".split()
    out = []
    for law in range(12):
        for chapter in range(4):
            for k in range(8):
                n = chapter * 8 + k + 1
                text = f"Artículo {n}.- " + " ".join(words[(n + i + law) % len(words)] for i in range(40))
                out.append(
                    Article(
                        law_id=f"L{law}",
                        law_title=f"LEY NÚMERO {law}",
                        category="ley",
                        part="body",
                        label=str(n),
                        number=n,
                        path=[f"CAPÍTULO {['I', 'II', 'III', 'IV'][chapter]} De la materia {law}-{chapter}"],
                        text=text,
                    )
                )
    return out


SMALL = {"ppl": 60, "mc": 40, "gen": 30, "sum": 20}


def test_heading_name():
    assert heading_name("CAPÍTULO II Del Patrimonio") == "Del Patrimonio"
    assert heading_name("CAPITULO UNICO") == ""
    assert heading_name("Capítulo Primero Disposiciones generales") == "Disposiciones generales"


def test_build_is_deterministic_and_disjoint(monkeypatch):
    first = build_items(_articles(), seed=3, sizes=SMALL)
    again = build_items(list(reversed(_articles())), seed=3, sizes=SMALL)
    assert first == again
    assert build_items(_articles(), seed=4, sizes=SMALL) != first
    used = [i["article_id"] for key in ("ppl", "mc", "gen") for i in first[key]]
    used += [a for i in first["sum"] for a in i["article_ids"]]
    assert len(used) == len(set(used))
    mc = first["mc"][0]
    assert len(mc["choices"]) == 4 and mc["choices"][mc["gold"]].startswith("LEY NÚMERO")


LEGAL_QA = """\
law_id: L3
law_title: LEY NÚMERO 3
items:
  - id: l3-item
    article: "{label}"
    kind: autoridad
    question: "Según la Ley Número 3, ¿quién resuelve el procedimiento?"
    choices: [la autoridad competente, el juez, el congreso, la secretaría]
    answer_index: 0
    support: "{support}"
"""


def test_build_writes_manifest_and_load_verifies(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("harness.evaluation.build.SIZES", SMALL)
    built = build_items(_articles(), seed=0, sizes=SMALL)
    heldout = {a for rows in built.values() for r in rows for a in r.get("article_ids") or [r["article_id"]]}
    free = next(a for a in _articles() if a.article_id not in heldout and a.law_id == "L3")
    sources = tmp_path / "legal_qa"
    sources.mkdir()
    (sources / "L3.yaml").write_text(LEGAL_QA.format(label=free.label, support=free.text[:60]), encoding="utf-8")
    data = tmp_path / "data"
    manifest = build_tasks(_articles(), data, seed=0, legal_qa_dir=sources)
    assert manifest["files"]["ppl.jsonl"]["items"] == 60
    assert len(manifest["heldout_article_ids"]) >= 60 + 40 + 30 + 20
    # the legal-QA item's article is kept out of instruction generation only
    assert manifest["sft_excluded_article_ids"] == [free.article_id]
    assert manifest["files"]["legal_qa.jsonl"]["excluded_from"] == ["sft"]
    assert manifest["files"]["ppl.jsonl"]["excluded_from"] == ["dapt", "sft"]
    assert "l3-item" in (data / "legal_qa_review.md").read_text(encoding="utf-8")
    assert taskdata.load_items("mc", data)[0]["id"] == "mc-0000"
    assert taskdata.load_items("lqa", data)[0]["article"] == free.text
    path = data / "qa_mc.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("LEY", "LEX", 1), encoding="utf-8")
    with pytest.raises(DataError, match="does not match its manifest"):
        taskdata.load_items("mc", data)
    (data / "manifest.json").unlink()
    with pytest.raises(DataError, match="harness tasks build"):
        taskdata.load_items("ppl", data)


def test_shipped_data_matches_manifest_and_sizes():
    manifest = taskdata.read_manifest()
    sizes = {name: entry["items"] for name, entry in manifest["files"].items()}
    assert sizes["ppl.jsonl"] >= 1000 and sizes["qa_mc.jsonl"] >= 500
    assert sizes["qa_gen.jsonl"] >= 300 and sizes["sum.jsonl"] >= 200
    for key in taskdata.FILES:
        taskdata.verify(key)
    assert all("::" in a for a in manifest["heldout_article_ids"][:10])


def test_iter_eval_texts_covers_every_field():
    texts = list(taskdata.iter_eval_texts(["mx_legal_law_id", "not_a_shipped_task"]))
    first = taskdata.load_items("mc")[0]
    assert first["article"] in texts and all(c in texts for c in first["choices"])
    group = set(taskdata.iter_eval_texts(["mx_legal"]))
    assert taskdata.load_items("sum")[0]["summary"] in group
    assert taskdata.load_items("gen")[0]["answer"] in group


def test_task_fails_on_edited_data(tmp_path: Path, monkeypatch):
    """The lm-eval loader itself refuses edited data (through utils.py)."""
    copy = tmp_path / "tasks"
    shutil.copytree(taskdata.data_dir().parent.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("harness.paths.tasks_dir", lambda: copy)
    ppl = copy / "mx_legal" / "data" / "ppl.jsonl"
    rows = ppl.read_text(encoding="utf-8").splitlines()
    rows[0] = json.dumps({**json.loads(rows[0]), "text": "editado"}, ensure_ascii=False)
    ppl.write_text("\n".join(rows) + "\n", encoding="utf-8")
    from harness_tasks.mx_legal import utils

    with pytest.raises(DataError, match="does not match"):
        utils.load_ppl()
    assert (
        len(utils.load_qa_mc()["test"])
        == taskdata.read_manifest(copy / "mx_legal" / "data")["files"]["qa_mc.jsonl"]["items"]
    )
