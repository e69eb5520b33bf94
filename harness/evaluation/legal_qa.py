"""The hand-written legal-QA items: their source files, checks against the corpus, and baselines.

Items are source data, one YAML file per law under ``tasks/mx_legal/legal_qa/``::

    law_id: "125_310721"
    law_title: LEY FEDERAL DEL TRABAJO
    items:
      - id: lft-063-descanso
        article: "63"
        kind: plazo
        question: Según la Ley Federal del Trabajo, ¿qué descanso mínimo se concede …?
        choices: [media hora, una hora, quince minutos, dos horas]
        answer_index: 0
        support: se concederá al trabajador un descanso de media hora, por lo menos
        short_answer: media hora          # optional: the item also enters the short-answer task
        accept: [30 minutos, treinta minutos]

Every check names the file, the line and the field.  The ``support`` must be an exact substring
of the article's text as the corpus pipeline produces it, so a reviewer (or a test) can see the
answer stated in the law.  The model-free baselines are what a test compares with chance.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from harness.errors import DataError, HarnessError
from harness.instructions.text import content_words, normalize

if TYPE_CHECKING:
    from harness.components import Article

#: what a question asks about the article
KINDS = (
    "plazo",  # deadlines, periods, durations
    "autoridad",  # the competent authority or body
    "requisito",  # requirements, conditions
    "definicion",  # what a legal term means
    "sancion",  # penalties and their amounts
    "cuantia",  # amounts, percentages, counts that are not penalties
    "derecho_obligacion",  # rights and duties
    "legitimacion",  # who may do what
    "excepcion",  # exceptions to a rule
    "lista_no",  # closed lists: which one is NOT in it
)
#: longest article an item may be written on (open-book prompts carry the whole article)
MAX_ARTICLE_CHARS = 3000
MAX_SHORT_ANSWER_WORDS = 8


class LegalQAItem(BaseModel):
    """One four-choice question on one article."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,80}$")
    article: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    question: str = Field(min_length=15)
    choices: list[str] = Field(min_length=4, max_length=4)
    answer_index: int = Field(ge=0, le=3)
    support: str = Field(min_length=15)
    short_answer: str | None = None
    accept: list[str] = Field(default_factory=list)
    note: str | None = None

    @field_validator("choices")
    @classmethod
    def _distinct_choices(cls, choices: list[str]) -> list[str]:
        choices = [c.strip() for c in choices]
        if any(not c for c in choices):
            raise ValueError("a choice is empty")
        if len({normalize(c) for c in choices}) != len(choices):
            raise ValueError("two choices are the same once case and punctuation are folded")
        return choices

    @field_validator("question")
    @classmethod
    def _is_question(cls, question: str) -> str:
        if "?" not in question:
            raise ValueError("a question must contain '?'")
        return question

    @field_validator("short_answer")
    @classmethod
    def _short(cls, answer: str | None) -> str | None:
        if answer is not None and not 1 <= len(answer.split()) <= MAX_SHORT_ANSWER_WORDS:
            raise ValueError(f"a short answer has 1 to {MAX_SHORT_ANSWER_WORDS} words")
        return answer

    @field_validator("accept")
    @classmethod
    def _accept(cls, accept: list[str], info: ValidationInfo) -> list[str]:
        if accept and not info.data.get("short_answer"):
            raise ValueError("accept needs short_answer")
        return accept

    @property
    def answer(self) -> str:
        """The correct choice."""
        return self.choices[self.answer_index]


class LawFile(BaseModel):
    """One source file: the items on one law."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    law_id: str
    law_title: str
    items: list[LegalQAItem] = Field(min_length=1)


@dataclass
class SourceItem:
    """An item with the law it belongs to and where it was written."""

    law_id: str
    law_title: str
    item: LegalQAItem
    file: str
    line: int | None

    @property
    def article_id(self) -> str:
        """The corpus id of the item's article (always a body article)."""
        return f"{self.law_id}::body::{self.item.article}"

    def error(self, message: str, field: str) -> DataError:
        """A :class:`DataError` pointing at this item's line."""
        return DataError(message, file=self.file, line=self.line, field=f"items[{self.item.id}].{field}")


def source_dir() -> Path:
    """``tasks/mx_legal/legal_qa`` of the installed task package."""
    from harness.paths import tasks_dir

    return tasks_dir() / "mx_legal" / "legal_qa"


def read_law_file(path: Path) -> list[SourceItem]:
    """Parse and validate one source file; errors are ``file:line: field: message``."""
    from harness.spec.yamlload import load_yaml_with_lines

    try:
        data, lines = load_yaml_with_lines(path)
    except HarnessError as exc:
        raise DataError(exc.message, file=str(path), line=exc.line, field=exc.field) from None
    try:
        law = LawFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise DataError(error["msg"], file=str(path), line=lines.line_for(loc), field=".".join(map(str, loc))) from None
    return [
        SourceItem(law.law_id, law.law_title, item, str(path), lines.line_for(("items", i)))
        for i, item in enumerate(law.items)
    ]


def read_sources(folder: Path | None = None) -> list[SourceItem]:
    """Every item of every ``*.yaml`` file of the folder, in file order; ids and questions unique."""
    folder = folder or source_dir()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise DataError("no legal-QA source files (*.yaml)", file=str(folder))
    items: list[SourceItem] = []
    seen_ids: dict[str, SourceItem] = {}
    seen_questions: dict[str, SourceItem] = {}
    for path in files:
        for source in read_law_file(path):
            twin = seen_ids.get(source.item.id)
            if twin is not None:
                raise source.error(f"duplicate id (also at {twin.file}:{twin.line})", "id")
            key = normalize(source.item.question)
            twin = seen_questions.get(key)
            if twin is not None:
                raise source.error(f"duplicate question (also {twin.item.id})", "question")
            seen_ids[source.item.id] = seen_questions[key] = source
            items.append(source)
    return items


def verify_against_corpus(items: list[SourceItem], articles: list[Article], heldout_ids: set[str]) -> None:
    """Each item's article exists in the corpus as a body article that training may see, its law
    title matches, and its support is an exact substring of the article text."""
    by_id = {a.article_id: a for a in articles}
    for source in items:
        article = by_id.get(source.article_id)
        if article is None:
            raise source.error(f"no body article {source.item.article!r} in law {source.law_id}", "article")
        if article.law_title != source.law_title:
            raise source.error(f"law title is {article.law_title!r} in the corpus", "law_title")
        if article.derogated:
            raise source.error("the article is derogated", "article")
        if source.article_id in heldout_ids:
            raise source.error("the article is held out for another task (excluded from DAPT)", "article")
        if len(article.text) > MAX_ARTICLE_CHARS:
            raise source.error(f"article has {len(article.text)} characters (at most {MAX_ARTICLE_CHARS})", "article")
        if source.item.support not in article.text:
            raise source.error("support is not an exact substring of the article text", "support")


def frozen_rows(items: list[SourceItem], articles: list[Article]) -> list[dict[str, Any]]:
    """The frozen task rows: each item with its article's text (for the open-book task), in the
    order of a hash of their ids, so that the first ``n`` rows (lm-eval's ``--limit``, the CPU
    profile's ``task_limits``) are a sample across laws and kinds, not the laws first in name order."""
    by_id = {a.article_id: a for a in articles}
    rows = []
    for source in items:
        item, article = source.item, by_id[source.article_id]
        rows.append(
            {
                "id": item.id,
                "law_id": source.law_id,
                "law_title": source.law_title,
                "article_id": source.article_id,
                "article_label": item.article,
                "kind": item.kind,
                "question": item.question,
                "choices": list(item.choices),
                "answer_index": item.answer_index,
                "support": item.support,
                "article": article.text,
                "short_answer": item.short_answer,
                "accept": [item.short_answer, *item.accept] if item.short_answer else [],
            }
        )
    return sorted(rows, key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())


# --- model-free baselines ------------------------------------------------------------------


def _pick_accuracy(scores: list[float], gold: int, best: str) -> float:
    """Expected accuracy of picking the best-scoring choice, ties broken uniformly at random."""
    target = max(scores) if best == "max" else min(scores)
    winners = [i for i, s in enumerate(scores) if s == target]
    return (gold in winners) / len(winners)


def _overlap(choice: str, reference: set[str]) -> float:
    return float(len(set(content_words(choice)) & reference))


def baselines(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy of the model-free baselines over frozen rows (``choices``, ``answer_index``,
    ``question``, ``article``): shortest and longest choice, most content-word overlap with the
    question, and most overlap with the article (the open-book variant's strongest cheap cue)."""
    totals: Counter[str] = Counter()
    for row in rows:
        choices, gold = row["choices"], row["answer_index"]
        lengths = [float(len(c)) for c in choices]
        totals["shortest"] += _pick_accuracy(lengths, gold, "min")
        totals["longest"] += _pick_accuracy(lengths, gold, "max")
        question = set(content_words(row["question"]))
        totals["question_overlap"] += _pick_accuracy([_overlap(c, question) for c in choices], gold, "max")
        article = set(content_words(row["article"]))
        totals["article_overlap"] += _pick_accuracy([_overlap(c, article) for c in choices], gold, "max")
    n = max(len(rows), 1)
    return {name: totals[name] / n for name in ("shortest", "longest", "question_overlap", "article_overlap")}


def balance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Answer positions, and how often the answer is the longest / shortest choice (strictly)."""
    positions = Counter(row["answer_index"] for row in rows)
    n = max(len(rows), 1)
    longest = shortest = 0
    for row in rows:
        lengths = [len(c) for c in row["choices"]]
        answer = lengths[row["answer_index"]]
        longest += lengths.count(max(lengths)) == 1 and answer == max(lengths)
        shortest += lengths.count(min(lengths)) == 1 and answer == min(lengths)
    return {
        "positions": {i: positions.get(i, 0) / n for i in range(4)},
        "answer_longest": longest / n,
        "answer_shortest": shortest / n,
    }


def balanced_positions(n: int, seed: int) -> list[int]:
    """A seeded order of answer positions with each position used ``n / 4`` times (±1)."""
    positions = [i % 4 for i in range(n)]
    random.Random(seed).shuffle(positions)
    return positions


def review_sheet(rows: list[dict[str, Any]]) -> str:
    """A Markdown sheet of every item, law by law, with its article, for review by a lawyer."""
    laws = Counter(row["law_title"] for row in rows)
    lines = [
        "# mx_legal legal-QA items: review sheet",
        "",
        f"{len(rows)} items on {len(laws)} laws, written by hand on the federal legislation in force on",
        "14 October 2021. Each block: the question, the four choices (✔ the key), the support (the",
        "article's words that state the answer) and the article as the corpus pipeline gives it.",
        "Generated by `harness tasks build` from `tasks/mx_legal/legal_qa/*.yaml`; edit those, not this file.",
        "",
    ]
    by_law: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["law_title"], r["id"])):
        by_law.setdefault(row["law_title"], []).append(row)
    for title, law_rows in by_law.items():
        lines += [f"## {title} (`{law_rows[0]['law_id']}`, {len(law_rows)} items)", ""]
        for row in law_rows:
            lines += [f"### `{row['id']}` · artículo {row['article_label']} · {row['kind']}", "", row["question"], ""]
            for i, choice in enumerate(row["choices"]):
                mark = " ✔" if i == row["answer_index"] else ""
                lines.append(f"{'ABCD'[i]}. {choice}{mark}")
            lines.append("")
            if row["short_answer"]:
                lines += [f"Short answer: *{row['short_answer']}*; accepted: {', '.join(row['accept'])}", ""]
            lines += [f"Support: «{' '.join(row['support'].split())}»", "", "Article:", ""]
            lines += [f"> {line}" if line.strip() else ">" for line in row["article"].splitlines()]
            lines.append("")
    return "\n".join(lines)
