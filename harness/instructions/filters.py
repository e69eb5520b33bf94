"""Quality filters over generated pairs: lengths, extractive answers, reform notes and page
furniture in responses, language, duplicates, caps.

Each filter counts what it removed, under a stable name that the dataset card reports.
Near duplicates are found with MinHash LSH (datasketch): a pair is a near duplicate of an earlier
one when both its instruction + response and its context are near-identical, so several
different questions about one article are kept while the same question asked of two
copies of an article is not.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

import xxhash
from datasketch import MinHash, MinHashLSH

from harness.components import InstructionPair
from harness.instructions.text import guess_language, normalize, tokens
from harness.spec.instructions import FiltersSection

NUM_PERM = 64
SHINGLE = 3
#: filter names in the order they run (the dataset card lists them so)
FILTER_ORDER = (
    "instruction_length",
    "response_length",
    "context_too_long",
    "answer_not_in_context",
    "reform_note_in_response",
    "not_spanish",
    "exact_duplicate",
    "near_duplicate",
    "per_article_cap",
)


def _hash32(data: bytes) -> int:
    return xxhash.xxh32_intdigest(data)


@lru_cache(maxsize=1)
def _minhash_kwargs() -> dict[str, object]:
    # datasketch draws the permutations anew for every MinHash unless given: draw them once.
    # datasketch >= 2.0 wants the hashing scheme named when permutations are passed in.
    scheme = {"scheme": "affine32"} if "scheme" in inspect.signature(MinHash).parameters else {}
    permutations = MinHash(num_perm=NUM_PERM, seed=1, **scheme).permutations  # type: ignore[arg-type]
    return {"num_perm": NUM_PERM, "hashfunc": _hash32, "permutations": permutations, **scheme}


def minhash(text: str, shingle: int = SHINGLE) -> MinHash:
    """MinHash of the word ``shingle``-grams of ``text`` (the whole text when it is shorter)."""
    words = tokens(text)
    shingles = [" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))]
    mh = MinHash(**_minhash_kwargs())  # type: ignore[arg-type]
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return mh


class NearDuplicateIndex:
    """Remembers kept pairs; ``seen(pair)`` says whether a near-identical pair was kept before."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._pairs: dict[str, tuple[MinHash, str]] = {}
        self._contexts: dict[str, MinHash] = {}

    def _context_hash(self, context: str) -> MinHash:
        found = self._contexts.get(context)
        if found is None:
            found = self._contexts[context] = minhash(context)
        return found

    def seen(self, pair: InstructionPair) -> bool:
        """True if a kept pair is near-identical; otherwise remember this one and return False."""
        # instruction + response are short: compare their words (one changed word is still a
        # near duplicate); contexts are long: compare word 3-grams
        body = minhash(f"{pair.instruction}\n{pair.response}", shingle=1)
        for key in self._lsh.query(body):
            other_body, other_context = self._pairs[key]
            if body.jaccard(other_body) < self.threshold:
                continue
            if other_context == pair.context:
                return True
            if self._context_hash(pair.context).jaccard(self._context_hash(other_context)) >= self.threshold:
                return True
        key = str(len(self._pairs))
        self._pairs[key] = (body, pair.context)
        self._lsh.insert(key, body)
        return False


def _length_checks(settings: FiltersSection) -> list[tuple[str, Callable[[InstructionPair], bool]]]:
    s = settings
    extractive = set(s.extractive_task_types)
    checks: list[tuple[str, Callable[[InstructionPair], bool]]] = [
        (
            "instruction_length",
            lambda p: s.min_instruction_chars <= len(p.instruction.strip()) <= s.max_instruction_chars,
        ),
        (
            "response_length",
            lambda p: s.min_response_chars <= len(p.response.strip()) <= s.max_response_chars,
        ),
        ("context_too_long", lambda p: len(p.context) <= s.max_context_chars),
        (
            "answer_not_in_context",
            lambda p: p.task_type not in extractive or _occurs_in(p.response, p.context or p.instruction),
        ),
        ("reform_note_in_response", lambda p: not carries_annotations(p.response)),
    ]
    if s.spanish_only:
        checks.append(("not_spanish", lambda p: guess_language(f"{p.instruction}\n{p.response}") == "es"))
    return checks


#: what a response must never carry: DOF reform annotations and page furniture of the PDFs
_DOF_DATE = re.compile(r"\bDOF\s+\d{1,2}[-/]\d{1,2}[-/]\d{2,4}\b", re.IGNORECASE)
_FURNITURE = re.compile(
    r"C[ÁA]MARA DE DIPUTADOS DEL H\. CONGRESO DE LA UNI[ÓO]N|Secretar[íi]a de Servicios Parlamentarios"
    r"|(?:[ÚU]ltima\s+Reforma|Nueva\s+Ley)\s+DOF|^\s*\d{1,4}\s+de\s+\d{1,4}\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def carries_annotations(response: str) -> bool:
    """True when ``response`` holds a DOF reform note ("Párrafo reformado DOF 12-03-2015", "Artículo
    original DOF 05-02-1917"), a running header or a page footer."""
    return bool(_DOF_DATE.search(response) or _FURNITURE.search(response))


def _occurs_in(answer: str, context: str) -> bool:
    # whitespace differences (line wraps) do not make an answer non-extractive
    return " ".join(answer.split()) in " ".join(context.split())


def apply_filters(
    pairs: Iterable[InstructionPair], settings: FiltersSection
) -> tuple[list[InstructionPair], Counter[str]]:
    """Run every enabled filter; return the kept pairs (order kept) and removals per filter."""
    removed: Counter[str] = Counter()
    checks = _length_checks(settings)
    exact: set[tuple[str, str, str]] = set()
    near = NearDuplicateIndex(settings.near_dedup_threshold) if settings.near_dedup else None
    per_article: Counter[tuple[str, str]] = Counter()
    kept: list[InstructionPair] = []
    for pair in pairs:
        failed = next((name for name, ok in checks if not ok(pair)), None)
        if failed is not None:
            removed[failed] += 1
            continue
        if settings.exact_dedup:
            key = (normalize(pair.instruction), normalize(pair.context), normalize(pair.response))
            if key in exact:
                removed["exact_duplicate"] += 1
                continue
            exact.add(key)
        if near is not None and near.seen(pair):
            removed["near_duplicate"] += 1
            continue
        article = (pair.law_id, pair.article_label)
        if settings.max_per_article and pair.article_label and per_article[article] >= settings.max_per_article:
            removed["per_article_cap"] += 1
            continue
        per_article[article] += 1
        kept.append(pair)
    return kept, removed
