"""Data sources: TXT folder, packaged snapshot, PDF, Markdown, folder-per-law; bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.context import StageContext
from harness.errors import DataError
from harness_plugins.corpus.file_sources import LawFolders, Markdown, Pdf
from harness_plugins.corpus.sources import SNAPSHOT, RawTxt, Snapshot, snapshot_source_notes
from tests.corpus.conftest import BODY, TITLE


def _ctx(tmp_path: Path) -> StageContext:
    return StageContext("source", tmp_path / "w", tmp_path / "s", tmp_path)


def test_raw_txt_uses_manifest_titles_and_order(txt_folder: Path, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    docs = list(RawTxt(RawTxt.Options(path="raw")).documents(ctx))  # relative to base_dir
    assert [d.id for d in docs] == ["prueba", "otra"]
    assert docs[0].title == TITLE and docs[0].category == "ley"
    assert docs[0].metadata["last_reform"] == "Última Reforma DOF 10-06-2011"
    # the report is keyed by input file (two files may share a stem); the document id is beside it
    assert ctx.inputs["txt/prueba.txt"]["status"] == "loaded" and ctx.inputs["txt/prueba.txt"]["document"] == "prueba"
    limited = list(RawTxt(RawTxt.Options(path=str(txt_folder), limit=1)).documents(_ctx(tmp_path)))
    assert [d.id for d in limited] == ["prueba"]
    included = list(RawTxt(RawTxt.Options(path=str(txt_folder), include=["otra.txt"])).documents(_ctx(tmp_path)))
    assert [d.id for d in included] == ["otra"]


def test_raw_txt_bad_inputs_are_reported_not_lost(tmp_path: Path, sample_law: str) -> None:
    folder = tmp_path / "laws"
    folder.mkdir()
    (folder / "a_latin1.txt").write_bytes(sample_law.encode("latin-1", errors="replace"))
    (folder / "b_empty.txt").write_bytes(b"")
    ctx = _ctx(tmp_path)
    docs = list(RawTxt(RawTxt.Options(path=str(folder))).documents(ctx))
    assert [d.id for d in docs] == ["a_latin1"]
    assert "Constitución" not in docs[0].text and "CÁMARA DE DIPUTADOS" in docs[0].text
    assert docs[0].title == TITLE  # from the header lines, no manifest here
    assert docs[0].metadata["encoding"] != "utf-8"
    assert any("not UTF-8" in w for w in ctx.warnings)
    assert ctx.inputs["b_empty.txt"] == {
        "status": "skipped",
        "reason": "empty file",
        "file": str(folder / "b_empty.txt"),
    }
    with pytest.raises(DataError, match="empty file") as err:
        list(RawTxt(RawTxt.Options(path=str(folder), on_error="fail")).documents(_ctx(tmp_path)))
    assert err.value.file == str(folder / "b_empty.txt")


def test_missing_path_is_reported_by_check(tmp_path: Path) -> None:
    assert RawTxt(RawTxt.Options(path="nowhere")).check(tmp_path) == [
        ("path", f"missing data path {str(tmp_path / 'nowhere')!r}")
    ]
    assert Pdf(Pdf.Options(path="nowhere")).check(tmp_path)[0][0] == "path"
    assert LawFolders(LawFolders.Options(path="nowhere")).check(tmp_path)[0][0] == "path"
    assert Snapshot().check(tmp_path) == []


def test_snapshot_is_packaged_small_and_complete(tmp_path: Path) -> None:
    assert SNAPSHOT.stat().st_size <= 15_000_000
    ctx = _ctx(tmp_path)
    docs = list(Snapshot(Snapshot.Options(include=["1_280521.txt", "LAmp_070621.txt"])).documents(ctx))
    assert [d.id for d in docs] == ["1_280521", "LAmp_070621"]
    assert docs[0].title == "CONSTITUCIÓN POLÍTICA DE LOS ESTADOS UNIDOS MEXICANOS"
    assert docs[0].metadata["last_reform"] == "Última Reforma DOF 28-05-2021"
    assert len(docs[0].text) > 1_000_000
    import pyarrow.parquet as pq

    assert pq.read_metadata(SNAPSHOT).num_rows == 313
    assert "LeyesMexicanas" in snapshot_source_notes()
    assert len(list(Snapshot(Snapshot.Options(limit=3)).documents(_ctx(tmp_path)))) == 3


def test_snapshot_matches_raw_corpus(raw_corpus: Path, tmp_path: Path) -> None:
    import hashlib

    docs = list(Snapshot(Snapshot.Options(limit=5)).documents(_ctx(tmp_path)))
    for doc in docs:
        assert hashlib.sha256(doc.text.encode("utf-8")).hexdigest() == doc.metadata["sha256"]


def _pdf(path: Path, text: str) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    y = 750
    for line in text.split("\n"):
        if y < 60:
            c.showPage()
            y = 750
        c.drawString(40, y, line)
        y -= 14
    c.save()


def test_pdf_source_reads_generated_pdfs_and_skips_corrupt_ones(tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    _pdf(folder / "ley.pdf", f"{TITLE}\n{BODY.replace('@PAGEBREAK@', '')}")
    (folder / "roto.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    ctx = _ctx(tmp_path)
    docs = list(Pdf(Pdf.Options(path=str(folder))).documents(ctx))
    assert [d.id for d in docs] == ["ley"]
    assert "Artículo 1o.- Esta Ley es de orden público" in docs[0].text
    assert ctx.inputs["roto.pdf"]["status"] == "skipped"
    with pytest.raises(DataError):
        list(Pdf(Pdf.Options(path=str(folder), on_error="fail")).documents(_ctx(tmp_path)))


def test_markdown_source(tmp_path: Path) -> None:
    md = tmp_path / "ley.md"
    md.write_text(
        "# Ley de Prueba\n\n## Título Primero\n\n### Artículo 1o.- Objeto\n\nEsta Ley regula **todo**.\n",
        encoding="utf-8",
    )
    docs = list(Markdown(Markdown.Options(path=str(md))).documents(_ctx(tmp_path)))
    assert docs[0].title == "Ley de Prueba"
    lines = [line for line in docs[0].text.split("\n") if line]
    assert lines == ["Ley de Prueba", "Título Primero", "Artículo 1o.- Objeto", "Esta Ley regula todo."]
    from harness_plugins.corpus.structure import MxArticles

    (article,) = MxArticles().structure(docs[0])
    assert (article.label, article.path, article.text) == ("1o", ["Título Primero"], "Objeto\nEsta Ley regula todo.")


def test_law_folders_prefer_json_then_txt_then_pdf(tmp_path: Path, sample_law: str) -> None:
    root = tmp_path / "mdpi"
    (root / "ley_json").mkdir(parents=True)
    (root / "ley_txt").mkdir()
    (root / "ley_rota").mkdir()
    (root / "vacia").mkdir()
    law = {
        "titulo": "LEY JSON",
        "contenido": [
            {
                "tipo": "titulo",
                "nombre": "TÍTULO PRIMERO",
                "contenido": [
                    {"tipo": "articulo", "nombre": "Artículo 1", "texto": "Esta Ley regula los datos."},
                    {"tipo": "articulo", "nombre": "Artículo 2", "texto": "Los datos son públicos."},
                ],
            }
        ],
    }
    (root / "ley_json" / "ley.json").write_text(json.dumps(law), encoding="utf-8")
    (root / "ley_json" / "ley.txt").write_text("otro texto", encoding="utf-8")
    (root / "ley_txt" / "ley.txt").write_text(sample_law, encoding="utf-8")
    (root / "ley_rota" / "ley.json").write_text('{"titulo": "LEY', encoding="utf-8")  # truncated
    (root / "ley_rota" / "ley.txt").write_text(sample_law, encoding="utf-8")
    options = LawFolders.Options(
        path=str(root),
        json_keys={"title": "titulo", "children": "contenido", "heading": "nombre", "text": "texto", "level": "tipo"},
    )
    ctx = _ctx(tmp_path)
    docs = {d.id: d for d in LawFolders(options).documents(ctx)}
    assert set(docs) == {"ley_json", "ley_txt", "ley_rota"}
    assert docs["ley_json"].title == "LEY JSON"
    assert docs["ley_json"].text.split("\n") == [
        "TÍTULO PRIMERO",
        "Artículo 1.- Esta Ley regula los datos.",
        "Artículo 2.- Los datos son públicos.",
    ]
    assert docs["ley_txt"].metadata["format"] == "txt" and docs["ley_txt"].title == TITLE
    assert docs["ley_rota"].metadata["format"] == "txt"
    assert "JSONDecodeError" in ctx.inputs["ley_rota"]["problems"][0]
    assert ctx.inputs["vacia"]["status"] == "skipped"


def test_no_law_vanishes(tmp_path: Path, sample_law: str) -> None:
    """Upper-case suffixes are read, one stem in two folders gives two laws, a FIFO is skipped with
    a reason instead of hanging, and every input is in the report."""
    folder = tmp_path / "laws"
    for sub in ("a", "b"):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "dup.txt").write_text(sample_law.replace(TITLE, f"LEY {sub.upper()}"), encoding="utf-8")
    (folder / "GRANDE.TXT").write_text(sample_law, encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    ctx = _ctx(tmp_path)
    docs = list(RawTxt(RawTxt.Options(path=str(folder))).documents(ctx))
    assert sorted(d.id for d in docs) == ["GRANDE", "b__dup", "dup"]
    assert len({d.title for d in docs if "dup" in d.id}) == 2
    assert set(ctx.inputs) == {"GRANDE.TXT", "a/dup.txt", "b/dup.txt", "pipe.txt"}
    assert ctx.inputs["pipe.txt"]["status"] == "skipped" and "not a regular file" in ctx.inputs["pipe.txt"]["reason"]


def test_files_the_manifest_does_not_list_are_reported(txt_folder: Path, tmp_path: Path, sample_law: str) -> None:
    (txt_folder / "txt" / "extra.txt").write_text(sample_law, encoding="utf-8")
    ctx = _ctx(tmp_path)
    docs = list(RawTxt(RawTxt.Options(path=str(txt_folder))).documents(ctx))
    assert [d.id for d in docs] == ["prueba", "otra"]
    assert ctx.inputs["txt/extra.txt"] == {
        "status": "skipped",
        "reason": "not listed in manifest.csv",
        "file": str(txt_folder / "txt" / "extra.txt"),
    }
