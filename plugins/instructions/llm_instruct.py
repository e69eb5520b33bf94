"""``llm_instruct``: any instruct/chat model asked, in Spanish, for one JSON pair per article.

The answer must be a JSON object with ``instruccion`` and ``respuesta`` (``instruction`` and
``response`` are accepted too); anything else is counted as a failure and dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from harness.components import Article, InstructionGenerator, InstructionPair, Options
from harness.instructions.text import guess_language, truncate_words
from harness_plugins.instructions.backends import GenerationOptions, make_backend, resolve_model
from harness_plugins.instructions.bonito import plan_jobs, usable_facts
from harness_plugins.instructions.facts import ArticleFacts

if TYPE_CHECKING:
    from harness.context import StageContext

#: what each task type asks for, in Spanish
TASK_DESCRIPTIONS: dict[str, str] = {
    "exqa": "una pregunta cuya respuesta sea un fragmento literal del artículo",
    "qa": "una pregunta abierta sobre el contenido del artículo",
    "ynqa": "una afirmación sobre el artículo que se responda con sí o no",
    "mcqa": "una pregunta de opción múltiple con cuatro opciones (A, B, C y D), una sola correcta",
    "qg": "una petición de formular una pregunta sobre el artículo a partir de una respuesta dada",
    "summarization": "una petición de resumir el artículo en una o dos oraciones",
    "topic_class": "una pregunta sobre el tema o la materia jurídica del artículo",
    "sent_comp": "el inicio de una oración del artículo que deba completarse",
    "paraphrase": "una petición de parafrasear una disposición del artículo en lenguaje sencillo",
    "text_gen": "una petición de redactar un texto breve que aplique el artículo a un caso concreto",
}

DEFAULT_PROMPT = (
    "Eres especialista en derecho mexicano y preparas ejercicios de estudio. A partir del {cite} {de_law}, "
    "escribe {task} y su respuesta correcta, en español.\n\n"
    "Texto del artículo:\n{context}\n\n"
    'Responde únicamente con un objeto JSON con dos claves: "instruccion" (la tarea para el estudiante) '
    'y "respuesta" (la respuesta correcta). No escribas nada más.'
)


class GeneratedPair(BaseModel):
    """The JSON object the model must return."""

    model_config = ConfigDict(extra="ignore")

    instruction: str = Field(min_length=1, validation_alias=AliasChoices("instruccion", "instrucción", "instruction"))
    response: str = Field(min_length=1, validation_alias=AliasChoices("respuesta", "response"))


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_llm_output(output: str) -> GeneratedPair | str:
    """The pair in a completion, or why there is none: ``empty``, ``invalid_json``, ``invalid_fields``."""
    text = output.strip()
    if not text:
        return "empty"
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start = text.find("{")
    if start < 0:
        return "invalid_json"
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return "invalid_json"
    if not isinstance(value, dict):
        return "invalid_json"
    try:
        pair = GeneratedPair.model_validate(value)
    except ValidationError:
        return "invalid_fields"
    if not pair.instruction.strip() or not pair.response.strip():
        return "invalid_fields"
    return pair


class LLMInstructOptions(GenerationOptions):
    """Options of ``llm_instruct``: the model, the prompt and generation settings."""

    model: str = Field(min_length=1)
    #: placeholders: {cite} {de_law} {law} {task} {context}
    prompt: str = DEFAULT_PROMPT
    temperature: float = Field(0.7, ge=0)
    #: wrap the prompt in the model's chat template when it has one
    chat_template: bool = True


class LLMInstruct(InstructionGenerator):
    """A Spanish prompt per article to any instruct model; JSON answers validated."""

    Options = LLMInstructOptions
    description = "any instruct/chat model prompted in Spanish for a JSON instruction/response pair"
    version = "1"
    #: prompting a model again costs as much as the first time: no automatic second round
    regenerate_when_short: ClassVar[bool] = False
    task_types: ClassVar[tuple[str, ...]] = tuple(TASK_DESCRIPTIONS)
    default_task_types: ClassVar[tuple[str, ...]] = (
        "exqa",
        "qa",
        "ynqa",
        "mcqa",
        "summarization",
        "topic_class",
        "paraphrase",
    )

    def __init__(self, options: Options | None = None) -> None:
        super().__init__(options)
        self.stats: Counter[str] = Counter()

    def prompt_for(self, fact: ArticleFacts, task_type: str, context: str) -> str:
        """The filled prompt for one article and task type."""
        o: LLMInstructOptions = self.options  # type: ignore[assignment]
        return o.prompt.format(
            cite=fact.cite,
            de_law=fact.de_law,
            law=fact.law,
            task=TASK_DESCRIPTIONS[task_type],
            context=context,
        )

    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        """Prompt once per (article, task type); yield the pairs whose JSON validates."""
        o: LLMInstructOptions = self.options  # type: ignore[assignment]
        facts = usable_facts(articles, o.min_words)
        mix = {name: weight for name, weight in task_types.items() if name in TASK_DESCRIPTIONS}
        if not facts or budget <= 0 or not mix:
            ctx.warn("llm_instruct: no usable articles or task types")
            return
        jobs = plan_jobs(facts, budget, mix, ctx.seed, "llm_instruct")
        contexts = [truncate_words(fact.body, o.max_context_chars) for fact, _ in jobs]
        prompts = [self.prompt_for(fact, t, c) for (fact, t), c in zip(jobs, contexts, strict=True)]
        backend = make_backend(resolve_model(o.model, "llm_instruct"), o, ctx.seed, "llm_instruct")
        outputs = backend.generate(prompts, ctx, chat=o.chat_template)
        self.stats["prompts"] += len(jobs)
        for (fact, task_type), context, output in zip(jobs, contexts, outputs, strict=True):
            parsed = parse_llm_output(output)
            if isinstance(parsed, str):
                self.stats[f"failed_{parsed}"] += 1
                continue
            self.stats["valid"] += 1
            yield InstructionPair(
                instruction=parsed.instruction.strip(),
                response=parsed.response.strip(),
                task_type=task_type,
                law_id=fact.article.law_id,
                article_label=fact.article.label,
                generator="llm_instruct",
                template_or_model=f"{o.model} ({backend.name})",
                context=context,
                language=guess_language(f"{parsed.instruction}\n{parsed.response}"),
            )
