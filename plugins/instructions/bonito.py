"""``bonito``: the Bonito protocol (Nayak et al., 2024) for conditional task generation.

The model reads ``<|tasktype|>\\n{full task type}\\n<|context|>\\n{text}\\n<|task|>\\n`` and writes
``instruction <|pipe|> response``, where the instruction may contain ``{{context}}``.  Outputs
without exactly one ``<|pipe|>`` are dropped and counted, as in the Bonito library.  Bonito was
trained on English data: every pair records the language detected for it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from harness.components import Article, InstructionGenerator, InstructionPair, Options
from harness.errors import SpecError
from harness.instructions.budget import allocate
from harness.instructions.text import guess_language, truncate_words
from harness_plugins.instructions.backends import GenerationOptions, make_backend, resolve_model
from harness_plugins.instructions.facts import ArticleFacts

if TYPE_CHECKING:
    from harness.context import StageContext

#: Bonito's 16 task types: short name → the full name the model was trained with
TASK_TYPES: dict[str, str] = {
    "exqa": "extractive question answering",
    "mcqa": "multiple-choice question answering",
    "qg": "question generation",
    "qa": "question answering without choices",
    "ynqa": "yes-no question answering",
    "coref": "coreference resolution",
    "paraphrase": "paraphrase generation",
    "paraphrase_id": "paraphrase identification",
    "sent_comp": "sentence completion",
    "sentiment": "sentiment",
    "summarization": "summarization",
    "text_gen": "text generation",
    "topic_class": "topic classification",
    "wsd": "word sense disambiguation",
    "te": "textual entailment",
    "nli": "natural language inference",
}
_SHORT = {full: short for short, full in TASK_TYPES.items()}
PIPE = "<|pipe|>"
CONTEXT_SLOT = "{{context}}"


def short_task_type(name: str) -> str:
    """``extractive question answering`` or ``exqa`` → ``exqa``; unknown names raise SpecError."""
    if name in TASK_TYPES:
        return name
    if name in _SHORT:
        return _SHORT[name]
    raise SpecError(
        f"unknown Bonito task type {name!r}; known: {', '.join(TASK_TYPES)}", field="instructions.task_types"
    )


def bonito_prompt(task_type: str, context: str) -> str:
    """The Bonito input for one context (short or full task type name)."""
    full = TASK_TYPES[short_task_type(task_type)]
    return f"<|tasktype|>\n{full.strip()}\n<|context|>\n{context.strip()}\n<|task|>\n"


def parse_bonito_output(output: str, context: str) -> tuple[str, str] | str:
    """``(instruction, response)`` with ``{{context}}`` filled, or the reason it is malformed.

    Reasons: ``empty`` (nothing generated), ``no_pipe``, ``several_pipes``, ``empty_part``.
    """
    if not output.strip():
        return "empty"
    parts = output.split(PIPE)
    if len(parts) == 1:
        return "no_pipe"
    if len(parts) > 2:
        return "several_pipes"
    instruction, response = parts[0].strip(), parts[1].strip()
    if not instruction or not response:
        return "empty_part"
    return instruction.replace(CONTEXT_SLOT, context.strip()), response


def plan_jobs(
    facts: list[ArticleFacts], budget: int, task_types: dict[str, float], seed: int, name: str
) -> list[tuple[ArticleFacts, str]]:
    """(article, task type) prompts: quotas by weight, articles in a seeded order, revisited if needed."""
    rng = random.Random(f"{seed}:{name}")
    order = list(facts)
    rng.shuffle(order)
    jobs: list[tuple[ArticleFacts, str]] = []
    start = 0
    for task_type, quota in allocate(budget, task_types).items():
        for i in range(quota):
            jobs.append((order[(start + i) % len(order)], task_type))
        start += quota  # the next type starts where this one stopped: more articles covered
    return jobs


def usable_facts(articles: Sequence[Article], min_words: int) -> list[ArticleFacts]:
    """Body articles in force with at least ``min_words`` words."""
    facts = [ArticleFacts(a) for a in articles if not a.derogated and a.part == "body"]
    return [f for f in facts if f.words >= min_words]


class BonitoOptions(GenerationOptions):
    """Options of ``bonito``: the model and the generation settings."""

    model: str = "BatsResearch/bonito-v1"


class Bonito(InstructionGenerator):
    """Bonito conditional task generation; backends vLLM (GPU) or transformers (any device)."""

    Options = BonitoOptions
    description = "Bonito protocol (BatsResearch/bonito-v1 by default; English-trained), vLLM or transformers"
    version = "1"
    #: prompting a model again costs as much as the first time: no automatic second round
    regenerate_when_short: ClassVar[bool] = False
    task_types: ClassVar[tuple[str, ...]] = tuple(TASK_TYPES)
    #: used when the spec gives no mix: the types that make sense for legal articles
    default_task_types: ClassVar[tuple[str, ...]] = (
        "exqa",
        "qa",
        "ynqa",
        "mcqa",
        "qg",
        "summarization",
        "topic_class",
        "sent_comp",
    )

    def __init__(self, options: Options | None = None) -> None:
        super().__init__(options)
        self.stats: Counter[str] = Counter()

    @staticmethod
    def canonical_task_type(name: str) -> str:
        """Full Bonito names are accepted in the spec's mix."""
        return _SHORT.get(name, name)

    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        """Prompt the model once per (article, task type); yield the well-formed pairs."""
        o: BonitoOptions = self.options  # type: ignore[assignment]
        mix: dict[str, float] = {}
        for name, weight in task_types.items():
            short = short_task_type(name)
            mix[short] = mix.get(short, 0.0) + weight
        facts = usable_facts(articles, o.min_words)
        if not facts or budget <= 0:
            ctx.warn("bonito: no usable articles")
            return
        jobs = plan_jobs(facts, budget, mix, ctx.seed, "bonito")
        contexts = [truncate_words(fact.body, o.max_context_chars) for fact, _ in jobs]
        backend = make_backend(resolve_model(o.model, "bonito"), o, ctx.seed, "bonito")
        outputs = backend.generate([bonito_prompt(t, c) for (_, t), c in zip(jobs, contexts, strict=True)], ctx)
        self.stats["prompts"] += len(jobs)
        for (fact, task_type), context, output in zip(jobs, contexts, outputs, strict=True):
            pair = self.to_pair(output, fact, task_type, context, backend.name)
            if pair is not None:
                yield pair

    def to_pair(
        self, output: str, fact: ArticleFacts, task_type: str, context: str, backend: str
    ) -> InstructionPair | None:
        """Parse one completion into a pair, counting malformed ones by reason."""
        parsed = parse_bonito_output(output, context)
        if isinstance(parsed, str):
            self.stats[f"malformed_{parsed}"] += 1
            return None
        raw_instruction = output.split(PIPE)[0]
        instruction, response = parsed
        self.stats["well_formed"] += 1
        # a task that does not quote the article keeps it as the pair's context
        keep_context = CONTEXT_SLOT not in raw_instruction
        language = guess_language(f"{raw_instruction.replace(CONTEXT_SLOT, '')}\n{response}")
        return InstructionPair(
            instruction=instruction,
            response=response,
            task_type=task_type,
            law_id=fact.article.law_id,
            article_label=fact.article.label,
            generator="bonito",
            template_or_model=f"{self.options.model} ({backend})",  # type: ignore[attr-defined]
            context=context if keep_context else "",
            language=language,
        )
