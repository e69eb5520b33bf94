"""Decontamination: drop every pair that shares an n-token n-gram with an evaluation text.

The evaluation texts are every prompt and answer of the frozen tasks (``tasks/…/data``) plus any
files the spec adds.  Tokens are :func:`harness.instructions.text.tokens`, so case and
punctuation do not hide an overlap.  A pair is checked as the text a trainer sees, instruction,
context and response in a row, so n-grams that straddle two fields count too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.components import InstructionPair
from harness.errors import DataError
from harness.instructions.text import tokens


def _grams(words: list[str], n: int) -> Iterator[str]:
    for i in range(len(words) - n + 1):
        yield " ".join(words[i : i + n])


class Decontaminator:
    """An index of the n-grams of the evaluation texts and a test for pairs against it."""

    def __init__(self, eval_texts: Iterable[str], n: int = 13) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self.n = n
        self.texts = 0
        # hashes, not strings: the index of a few thousand items then costs a few MB
        self._index: set[int] = set()
        for text in eval_texts:
            self.texts += 1
            self._index.update(hash(gram) for gram in _grams(tokens(text), n))
        self._context_cache: dict[str, bool] = {}

    @property
    def size(self) -> int:
        """Number of distinct evaluation n-grams indexed."""
        return len(self._index)

    def _hits(self, words: list[str]) -> bool:
        return any(hash(gram) in self._index for gram in _grams(words, self.n))

    def overlap(self, text: str) -> float:
        """Share of the n-grams of ``text`` found in the evaluation texts (0 for texts under n tokens)."""
        grams = [hash(gram) for gram in _grams(tokens(text), self.n)]
        if not grams or not self._index:
            return 0.0
        return sum(gram in self._index for gram in grams) / len(grams)

    def contaminated_text(self, text: str) -> bool:
        """True when ``text`` shares at least one n-gram with the evaluation texts."""
        return bool(self._index) and self._hits(tokens(text))

    def contaminated(self, pair: InstructionPair) -> bool:
        """True when instruction + context + response, read in a row, share an n-gram."""
        if not self._index:
            return False
        edge = self.n - 1
        instruction, response = tokens(pair.instruction), tokens(pair.response)
        if self._hits(instruction) or self._hits(response):
            return True
        if not pair.context:
            return self._hits(instruction[-edge:] + response[:edge]) if edge else False
        # many pairs share one article as context: test its inside once
        inside = self._context_cache.get(pair.context)
        context = tokens(pair.context)
        if inside is None:
            inside = self._context_cache[pair.context] = self._hits(context)
        if inside:
            return True
        if not edge:
            return False
        if len(context) >= edge:
            return self._hits(instruction[-edge:] + context[:edge]) or self._hits(context[-edge:] + response[:edge])
        return self._hits(instruction[-edge:] + context + response[:edge])


def texts_digest(texts: Iterable[str]) -> str:
    """sha256 of the evaluation texts in order: part of the stage's cache key."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def read_text_file(path: Path) -> list[str]:
    """Evaluation texts from a user file: ``.jsonl`` (every string value) or text (one a line)."""
    if not path.is_file():
        raise DataError(f"decontamination file not found: {path}", field="instructions.decontamination.extra_files")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix != ".jsonl":
        return [line for line in lines if line.strip()]
    texts: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number}: not JSON: {exc.msg}", file=str(path)) from None
        texts.extend(_strings(record))
    return texts


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass
class EvalTexts:
    """The evaluation texts decontamination uses, where they came from, and their hash."""

    texts: list[str]
    sources: list[str]
    missing: list[str]

    @property
    def digest(self) -> str:
        """sha256 of all texts (the cache key changes when the evaluation data does)."""
        return texts_digest(self.texts)


def load_eval_texts(tasks: list[str], extra_files: list[str], base_dir: Path) -> EvalTexts:
    """Texts of the named tasks' frozen items plus the extra files; missing task data is noted."""
    texts: list[str] = []
    sources: list[str] = []
    missing: list[str] = []
    if tasks:
        try:
            from harness.evaluation.taskdata import iter_eval_texts
        except ImportError:
            missing.append(f"tasks {', '.join(tasks)}: harness.evaluation.taskdata is not available")
        else:
            try:
                found = list(iter_eval_texts(list(tasks)))
            except (FileNotFoundError, DataError) as exc:
                missing.append(f"tasks {', '.join(tasks)}: {exc}")
            else:
                texts.extend(found)
                sources.append(f"tasks {', '.join(tasks)} ({len(found)} texts)")
    for name in extra_files:
        path = Path(name) if Path(name).is_absolute() else base_dir / name
        found = read_text_file(path)
        texts.extend(found)
        sources.append(f"{name} ({len(found)} texts)")
    return EvalTexts(texts, sources, missing)
