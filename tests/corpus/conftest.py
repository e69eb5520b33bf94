"""Fixtures of the corpus tests: a small law in pdftotext layout and a spec writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TITLE = "LEY DE PRUEBA DEL CORPUS"
HEADER = [
    TITLE,
    "CÁMARA DE DIPUTADOS DEL H. CONGRESO DE LA UNIÓN",
    "",
    "Última Reforma DOF 10-06-2011",
    "",
    "Secretaría General",
    "Secretaría de Servicios Parlamentarios",
    "",
]

BODY = """LEY DE PRUEBA DEL CORPUS
Nueva Ley publicada en el Diario Oficial de la Federación el 1 de enero de 2000
TEXTO VIGENTE

TÍTULO PRIMERO
Disposiciones Generales
Capítulo I
Del Objeto

Artículo 1o.- Esta Ley es de orden público y tiene por objeto regular las pruebas del corpus que
se hacen en todo el territorio nacional.
Párrafo reformado DOF 10-06-2011

Artículo 2o. Para los efectos de esta Ley se entiende por:
I.

Corpus: el conjunto de leyes;

II.

Artículo: la unidad del texto legal.
Fracción adicionada DOF 01-05-2019

Artículo 3.- (Se deroga).
Artículo derogado DOF 01-05-2019

Artículo 3 Bis.- Las pruebas se ejecutarán en el orden que determine el
@PAGEBREAK@
reglamento respectivo, sin excepción alguna.

CAPÍTULO II
DE LAS SANCIONES

ARTICULO 4.- Las sanciones se aplicarán conforme a lo dispuesto en el
Artículo 27 de esta Ley y demás disposiciones aplicables.

TRANSITORIOS
Primero.- La presente Ley entrará en vigor al día siguiente de su publicación.
Segundo.- Se derogan las disposiciones que se opongan a la presente Ley.

ARTÍCULOS TRANSITORIOS DE DECRETOS DE REFORMA

DECRETO por el que se reforma el artículo 1o. de la Ley de Prueba del Corpus.
Publicado en el Diario Oficial de la Federación el 10 de junio de 2011

ARTÍCULO ÚNICO.- Se reforma el artículo 1o. de la Ley de Prueba del Corpus.

TRANSITORIO
Único.- El presente Decreto entrará en vigor al día siguiente de su publicación en el Diario Oficial
de la Federación.
"""


def law_text(pages: int = 2) -> str:
    """The sample law with its running header on top and a page break ('1 de 2') mid-sentence."""
    body = BODY.replace("@PAGEBREAK@", "\n1 de 2\n\n" + "\n".join(HEADER))
    return "\n".join(HEADER) + "\n" + body + "\n2 de 2\n"


@pytest.fixture
def sample_law() -> str:
    """Text of a small law laid out like pdftotext output of the Cámara de Diputados PDFs."""
    return law_text()


@pytest.fixture
def txt_folder(tmp_path: Path, sample_law: str) -> Path:
    """A raw TXT folder with two laws and a manifest."""
    folder = tmp_path / "raw"
    (folder / "txt").mkdir(parents=True)
    (folder / "txt" / "prueba.txt").write_text(sample_law, encoding="utf-8")
    other = sample_law.replace(TITLE, "LEY DE OTRA PRUEBA").replace("pruebas del corpus", "otras pruebas")
    (folder / "txt" / "otra.txt").write_text(other, encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "file,category,title,header_dof\n"
        f"txt/prueba.txt,ley,{TITLE},Última Reforma DOF 10-06-2011\n"
        "txt/otra.txt,ley,LEY DE OTRA PRUEBA,Última Reforma DOF 10-06-2011\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a benchmark spec whose corpus section is given as YAML text; return its path."""

    def write(corpus: str, name: str = "spec.yaml") -> Path:
        text = f"name: t\nseed: 0\nmodel: {{id: tiny-llama, sources: [tiny]}}\ncorpus:\n{corpus}\nevaluation: {{tasks: [mx_legal_ppl]}}\n"
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
