"""Spanish text read from Latin-1 or Windows-1252 files gives the same articles as from UTF-8."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.context import StageContext
from harness.corpus.io import load_articles
from harness_plugins.corpus.reading import decode
from harness_plugins.corpus.sources import SNAPSHOT

#: small laws of the packaged corpus whose whole text fits Latin-1, several with ñ and Ñ
LAWS = ["109.txt", "LAmn_220420.txt", "271.txt", "173.txt"]


def _texts() -> dict[str, str]:
    rows = pq.read_table(SNAPSHOT).to_pylist()
    return {Path(r["file"]).name: r["text"] for r in rows if Path(r["file"]).name in LAWS}


def _articles(folder: Path, tmp_path: Path, write_spec, registry, tiny_model, run: str) -> list[dict]:
    from harness.corpus.stages import corpus_stages
    from harness.spec.load import load_spec

    spec = write_spec(
        f"  sources: [{{name: raw_txt, options: {{path: {folder}}}}}]\n"
        "  cleaners: [unicode_repair, page_furniture, reform_notes, unwrap_lines, numeric_tables, quality]\n"
        "  structurer: mx_articles",
        name=f"{run}.yaml",
    )
    stages = corpus_stages(load_spec(spec, profile="cpu"), registry, tiny_model)
    outputs: dict[str, Path] = {}
    for name in ("source", "clean", "structure"):
        ctx = StageContext(name, tmp_path / run / name, tmp_path / run / "scratch", tmp_path)
        ctx.workdir.mkdir(parents=True)
        stages[name].execute(ctx, {role: outputs[up.name] for role, up in stages[name].inputs.items()})
        outputs[name] = ctx.workdir
    return [a.to_row() for a in load_articles(outputs["structure"] / "articles.parquet")]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_legacy_encodings_give_identical_articles(encoding, tmp_path: Path, write_spec, registry, tiny_model):
    texts = _texts()
    assert len(texts) == len(LAWS) and any("ñ" in t for t in texts.values())
    for name, data in (("utf8", lambda t: t.encode("utf-8")), (encoding, lambda t: t.encode(encoding))):
        folder = tmp_path / name
        folder.mkdir()
        for file, text in texts.items():
            (folder / file).write_bytes(data(text))
    reference = _articles(tmp_path / "utf8", tmp_path, write_spec, registry, tiny_model, "a")
    legacy = _articles(tmp_path / encoding, tmp_path, write_spec, registry, tiny_model, "b")
    assert len(reference) > 50
    assert legacy == reference
    assert not any("ń" in a["text"] or "Ń" in a["text"] for a in legacy)


@pytest.mark.parametrize(
    ("raw", "text", "encoding"),
    [
        ("Año de la niñez, Señor".encode("latin-1"), "Año de la niñez, Señor", "cp1252"),
        ("“Comillas” — y €".encode("cp1252"), "“Comillas” — y €", "cp1252"),
        (b"\x81 byte undefined in cp1252 \xf1", "\x81 byte undefined in cp1252 ñ", "latin-1"),
        ("ya es UTF-8: ñ".encode(), "ya es UTF-8: ñ", "utf-8"),
    ],
)
def test_decode_prefers_utf8_then_cp1252_then_latin1(raw: bytes, text: str, encoding: str) -> None:
    assert decode(raw, "x.txt", None) == (text, encoding)
