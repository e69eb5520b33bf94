"""``mx_templates``: Spanish meta-templates over structured articles (offline, deterministic).

Each task type has builders that turn one article (or one chapter) into a pair, choosing among
several phrasings with a seeded RNG, so the model learns the task and not one wording.  Task
type names follow Bonito's where they fit.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from harness.components import Article, InstructionGenerator, InstructionPair, Options
from harness.instructions.budget import allocate
from harness.instructions.text import truncate_words
from harness_plugins.instructions.builders import BUILDERS
from harness_plugins.instructions.facts import ArticleFacts, CorpusIndex
from harness_plugins.instructions.templates_es import TEMPLATES

if TYPE_CHECKING:
    from harness.context import StageContext


class TemplateOptions(Options):
    """Options of ``mx_templates``."""

    parts: list[str] = Field(default_factory=lambda: ["body"])
    min_words: int = Field(8, ge=1)
    max_context_chars: int = Field(3000, gt=200)
    max_response_chars: int = Field(1500, gt=50)
    #: how many times an article may be revisited when a task type's quota is larger than the corpus
    max_passes: int = Field(3, ge=1)


class MxTemplates(InstructionGenerator):
    """Spanish templates over articles: content QA (legal_qa, legal_mcqa) and Bonito's task types."""

    Options = TemplateOptions
    description = "Spanish meta-templates over law structure (offline, deterministic by seed)"
    version = "4"
    task_types: ClassVar[tuple[str, ...]] = (
        "exqa",
        "qg",
        "ynqa",
        "mcqa",
        "qa",
        "summarization",
        "topic_class",
        "sent_comp",
        "legal_qa",
        "legal_mcqa",
    )
    #: the mix when the spec names none: half content questions (what the articles say), the
    #: rest Bonito's task types, with little of the copying kinds (transcription, completion)
    default_task_types: ClassVar[dict[str, float]] = {
        "legal_qa": 0.3,
        "legal_mcqa": 0.2,
        "ynqa": 0.1,
        "exqa": 0.1,
        "mcqa": 0.05,
        "qg": 0.05,
        "qa": 0.05,
        "summarization": 0.05,
        "topic_class": 0.05,
        "sent_comp": 0.05,
    }

    def __init__(self, options: Options | None = None) -> None:
        super().__init__(options)
        self.stats: Counter[str] = Counter()

    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        """Yield up to ``budget`` pairs, split over ``task_types`` by weight."""
        o: TemplateOptions = self.options  # type: ignore[assignment]
        facts = []
        for article in articles:
            fact = ArticleFacts(article)
            if article.derogated or article.part not in o.parts or fact.words < o.min_words:
                self.stats["articles_skipped"] += 1
                continue
            facts.append(fact)
        self.stats["articles_used"] = len(facts)
        if not facts:
            ctx.warn("mx_templates: no usable articles (all derogated, too short or outside 'parts')")
            return
        index = CorpusIndex.build(facts)
        quotas = allocate(budget, {t: w for t, w in task_types.items() if t in BUILDERS})
        for task_type in ctx.track(list(quotas), "mx_templates task types"):
            yield from self._fill(task_type, quotas[task_type], index, random.Random(f"{ctx.seed}:{task_type}"))

    def _fill(self, task_type: str, quota: int, index: CorpusIndex, rng: random.Random) -> Iterator[InstructionPair]:
        units_of, build = BUILDERS[task_type]
        units = units_of(index, rng)
        made = 0
        for _ in range(self.options.max_passes):  # type: ignore[attr-defined]
            for unit in units:
                if made >= quota:
                    return
                pair = build(self, unit, index, rng)
                if pair is None:
                    self.stats[f"no_pair_{task_type}"] += 1
                    continue
                made += 1
                yield pair
        if made < quota:
            self.stats[f"short_{task_type}"] += quota - made

    # --- helpers shared by the builders ----------------------------------------------------

    def pair(
        self,
        fact: ArticleFacts,
        task: str,
        kind: str,
        rng: random.Random,
        response: str,
        context: str = "",
        **values: str,
    ) -> InstructionPair:
        """Fill a random phrasing of ``task.kind`` and wrap it with provenance."""
        choices = TEMPLATES[f"{task}.{kind}"]
        number = rng.randrange(len(choices))
        instruction = choices[number].format(cite=fact.cite, de_law=fact.de_law, law=fact.law, **values)
        return InstructionPair(
            instruction=instruction,
            response=response,
            task_type=task,
            law_id=fact.article.law_id,
            article_label=fact.article.label,
            generator="mx_templates",
            template_or_model=f"{task}.{kind}.{number}",
            context=context,
            language="es",
        )

    def context(self, fact: ArticleFacts) -> str:
        """The article body, cut to ``max_context_chars``."""
        return truncate_words(fact.body, self.options.max_context_chars)  # type: ignore[attr-defined]
