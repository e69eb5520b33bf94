"""Text helpers shared by the generators, the filters and decontamination.

Tokens are lower-cased Unicode words (``\\w+``): accents are kept, punctuation and case are
ignored, so "Artículo 5o.-" and "artículo 5o" give the same tokens.  That is the unit of the
n-gram decontamination and of near-duplicate shingles.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
# a sentence ends at . ; or : followed by space and an upper-case letter, digit or quote
_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[\"«(¿¡A-ZÁÉÍÓÚÑ0-9])")

_ES_WORDS = frozenset(
    "de la que el en y a los se del las un por con no una su para es al lo como más o pero sus le ha "
    "me si sin sobre este ya entre cuando todo esta ser son dos también fue había era muy años hasta "
    "desde está mi porque qué sólo han yo hay vez puede todos así nos ni parte tiene él uno donde bien "
    "tiempo mismo ese ahora cada e vida otro después te otros aunque esa eso hace otra gobierno tan "
    "durante siempre día tanto ella tres sí dijo sido gran país según menos deberá podrá cuál cuáles "
    "artículo ley establece qué".split()
)
_EN_WORDS = frozenset(
    "the of and to in is that for it as was with be by on not he this are or his from at which but "
    "have an they you were their one all we can her has there been if more when will would who so no "
    "what does answer question following text article law given choose true false".split()
)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, NFC-normalised (the unit of n-grams and shingles)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def content_words(text: str) -> list[str]:
    """Tokens without the common Spanish function words (the unit of word-overlap baselines)."""
    return [word for word in tokens(text) if word not in _ES_WORDS]


def normalize(text: str) -> str:
    """Case- and space-folded text for exact-duplicate keys."""
    return " ".join(tokens(text))


def sentences(text: str) -> list[str]:
    """Split legal text into sentences and list items (fracciones), dropping empty pieces."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(piece.strip() for piece in _SENTENCE_END.split(line) if piece.strip())
    return out


def guess_language(text: str) -> str:
    """``es``, ``en`` or ``und`` from the share of common function words (cheap, for filters).

    Good enough to tell Spanish legal text from English instructions written by an
    English-trained model; it is not a general language identifier.
    """
    words = tokens(text)
    if len(words) < 3:
        return "und"
    es = sum(word in _ES_WORDS for word in words)
    en = sum(word in _EN_WORDS for word in words)
    if max(es, en) < max(1, len(words) // 12):
        return "und"
    return "es" if es >= en else "en"


def truncate_words(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` at a word boundary, marking the cut with "…"."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + " …"
