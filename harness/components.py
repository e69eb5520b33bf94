"""What a component of each plugin family is: the data it exchanges and the base class it extends.

A plugin registers component *classes*.  The harness builds one with the options the spec gives
(validated against the class's ``Options`` pydantic model, unknown keys rejected) and then calls
the family's method.  Components never see the spec file; errors about their options are reported
by the harness with file, line and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from harness.context import StageContext


class Options(BaseModel):
    """Base for component options: strict about unknown keys."""

    model_config = ConfigDict(extra="forbid")


class NoOptions(Options):
    """For components that take no options."""


class Component:
    """Base of every component: holds validated options and says its version for cache keys."""

    Options: ClassVar[type[Options]] = NoOptions
    #: Bump when output for the same input changes; it is part of every cache key.
    version: ClassVar[str] = "1"
    #: One line shown by ``harness plugins``.
    description: ClassVar[str] = ""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options if options is not None else self.Options()

    def check(self, base_dir: Path) -> list[tuple[str, str]]:
        """Cheap checks for ``harness validate`` (e.g. a path exists): ``(option, message)`` pairs."""
        return []


# --- corpus ---------------------------------------------------------------------------------


@dataclass
class Document:
    """One law as a source yields it and cleaners pass it on."""

    id: str
    title: str
    category: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dropped:
    """A cleaner's verdict that a document goes no further, with the reason for the report."""

    reason: str


@dataclass
class CleanResult:
    """What a cleaner did to one document: the new document (or a drop) and what it removed."""

    document: Document | Dropped
    #: counters for the corpus report, e.g. ``{"header_lines": 120, "footer_lines": 40}``
    removed: dict[str, int] = field(default_factory=dict)


@dataclass
class Article:
    """One article of a law; the columns of ``articles.parquet``."""

    law_id: str
    law_title: str
    category: str
    part: str  # body | transitorio | decree_transitorio
    label: str  # "1o", "10 Bis"
    number: int
    path: list[str]
    text: str
    reform_notes: list[str] = field(default_factory=list)
    derogated: bool = False

    @property
    def article_id(self) -> str:
        """Stable id across runs: law, part and label."""
        return f"{self.law_id}::{self.part}::{self.label}"

    def to_row(self) -> dict[str, Any]:
        """Row for Parquet/JSON, with ``article_id``."""
        return {"article_id": self.article_id, **asdict(self)}


class DataSource(Component):
    """Yields law documents (family ``data_sources``)."""

    def documents(self, ctx: StageContext) -> Iterator[Document]:
        """Yield every document; report skipped inputs through ``ctx.report_input``."""
        raise NotImplementedError


class Cleaner(Component):
    """Document → document or drop (family ``cleaners``)."""

    def clean(self, doc: Document) -> CleanResult:
        """Return the cleaned document or a :class:`Dropped` with its reason."""
        raise NotImplementedError


class Structurer(Component):
    """Law → articles with hierarchy (family ``structurers``)."""

    def structure(self, doc: Document) -> list[Article]:
        """Split one cleaned law into articles."""
        raise NotImplementedError


class Deduplicator(Component):
    """Removes exact and near duplicates (family ``deduplicators``)."""

    def deduplicate(self, articles: Sequence[Article]) -> tuple[list[Article], dict[str, Any]]:
        """Return the kept articles and a JSON-able report (clusters, counts)."""
        raise NotImplementedError


# --- instructions ---------------------------------------------------------------------------


@dataclass
class InstructionPair:
    """One generated training example with its provenance."""

    instruction: str
    response: str
    task_type: str
    law_id: str
    article_label: str
    generator: str
    template_or_model: str
    context: str = ""
    language: str = "es"


class InstructionGenerator(Component):
    """Articles → instruction/response pairs (family ``instruction_generators``)."""

    def generate(
        self, articles: Sequence[Article], budget: int, task_types: dict[str, float], ctx: StageContext
    ) -> Iterator[InstructionPair]:
        """Yield up to ``budget`` pairs with roughly the ``task_types`` mix (weights sum to 1)."""
        raise NotImplementedError


# --- training -------------------------------------------------------------------------------


@dataclass
class TrainJob:
    """Everything a trainer needs; paths are absolute."""

    model: ResolvedModel
    dtype: str
    train_path: Path  # DAPT: blocks parquet; SFT: instructions.jsonl
    eval_path: Path | None
    method: str
    method_options: dict[str, Any]
    hyperparameters: dict[str, Any]
    output_dir: Path  # the final PEFT adapter folder goes here
    checkpoint_dir: Path  # survives a crash: resume from here
    seed: int
    #: adapters to load first: name → (path, trainable)
    init_adapters: dict[str, tuple[Path, bool]] = field(default_factory=dict)
    #: resolved compute precision: fp32 | bf16 | fp16 (mixed: weights stay ``dtype``)
    precision: str = "fp32"
    #: the PEFT method component, built with ``method_options`` from the run's registry (None:
    #: the trainer builds ``method`` from the installed plugins)
    peft: Any = None


@dataclass
class TrainResult:
    """Efficiency figures and the loss curve of one trained adapter."""

    metrics: dict[str, Any]
    loss_curve: list[dict[str, Any]] = field(default_factory=list)


class Trainer(Component):
    """Dataset + base (+adapter) → PEFT adapter (family ``trainers``)."""

    def train(self, job: TrainJob, ctx: StageContext) -> TrainResult:
        """Train, writing a standard PEFT folder into ``job.output_dir``; resume from checkpoints."""
        raise NotImplementedError


class PeftMethod(Component):
    """A parameter-efficient method (family ``peft_methods``): the spec's ``method`` names one and
    ``method_options`` are its :attr:`Options`.

    A method builds its adapter onto a loaded model (:meth:`attach`, usually a PEFT config through
    :meth:`peft_config`), saves and loads it (:meth:`save`, :meth:`load`; PEFT folders by
    default) and says how it composes (:attr:`stackable`, :attr:`mergeable`, :attr:`quantized`).
    The harness keeps no per-method code: training, composition, export and the leaderboard ask
    the method.  A PEFT-backed method is usually only :attr:`Options` and :meth:`peft_config`
    (docs/plugins.md, "A PEFT method").
    """

    #: the ``peft_type`` a saved folder records (``adapter_config.json``); composition looks the
    #: method up by it for adapters from outside the harness
    peft_type: ClassVar[str] = ""
    #: adapters of this method can be active together in one model (stacked systems, trainable arm)
    stackable: ClassVar[bool] = True
    #: the adapter can be merged into the base weights (merged systems, ``export --merged``)
    mergeable: ClassVar[bool] = True
    #: the base is loaded 4-bit for it (QLoRA)
    quantized: ClassVar[bool] = False
    #: it adds virtual tokens instead of changing layers (prefix and prompt tuning)
    prompt_learning: ClassVar[bool] = False
    #: its folders are PEFT folders and its layers PEFT's (the evaluation pool switches adapters
    #: with PEFT's multi-adapter API only for these)
    peft_backed: ClassVar[bool] = True
    #: options whose value is a list (a list there is one value, not a sweep)
    list_options: ClassVar[frozenset[str]] = frozenset({"target_modules", "modules_to_save", "layers_to_transform"})

    @classmethod
    def claims(cls, folder: Path) -> bool:
        """Whether ``folder``, saved outside the harness and recording no PEFT type, is one of
        this method's adapters (AdapterHub folders are recognised by their config)."""
        return False

    def label(self) -> str:
        """What the leaderboard says beside the method's name (``PEFT VeraConfig``, ``stand-in
        for BitFit``); empty for none."""
        return ""

    def check_options(self) -> None:
        """Checks across options, before any model is loaded (a :class:`harness.errors.SpecError`
        whose ``field`` is ``method_options.<name>``)."""

    def check_model(self, model: Any) -> None:
        """Raise a :class:`harness.errors.SpecError` (``field="method_options.<name>"``) when the
        options do not fit ``model`` (a target module it lacks, no bias terms for BitFit)."""

    def load_kwargs(self, precision: str) -> dict[str, Any]:
        """Extra ``from_pretrained`` arguments for the base (a 4-bit quantization config)."""
        return {}

    def prepare_base(self, model: Any, gradient_checkpointing: bool) -> Any:
        """The base before the adapter goes on (k-bit preparation for QLoRA)."""
        return model

    def peft_config(self, model_path: str) -> Any:
        """The ``peft`` config this method builds (task type causal LM)."""
        raise NotImplementedError

    def attach(self, model: Any, model_path: str) -> Any:
        """The model with a new trainable adapter called ``default`` on it."""
        from peft import get_peft_model

        return get_peft_model(model, self.peft_config(model_path))

    def record(self, model: Any) -> dict[str, Any]:
        """The options as used, after the library filled in its defaults (target modules …)."""
        out = self.options.model_dump(mode="json")
        config = getattr(model, "peft_config", {}).get("default")
        targets = getattr(config, "target_modules", None)
        if "target_modules" in out and targets is not None:
            out["target_modules"] = sorted(targets) if not isinstance(targets, str) else targets
        return out

    def cost(self, model: Any) -> dict[str, Any]:
        """Method-specific cost figures for ``efficiency.json`` beside the generic ones
        (trainable parameters, adapter size, tokens/s and peak memory are measured for all)."""
        return {}

    def save(self, model: Any, folder: Path, adapters: list[str]) -> None:
        """Write the trained adapter(s) named ``adapters`` (``default``, and ``parent`` for the
        trainable arm) as a folder :meth:`load` reads."""
        model.save_pretrained(str(folder), selected_adapters=adapters)

    def load(self, base: Any, folder: Path, name: str, into: Any = None, trainable: bool = False) -> Any:
        """``base`` with the adapter in ``folder`` on it, called ``name`` (into the already built
        ``into`` model when given)."""
        from peft import PeftModel

        if into is None:
            return PeftModel.from_pretrained(base, str(folder), adapter_name=name, is_trainable=trainable)
        into.load_adapter(str(folder), adapter_name=name, is_trainable=trainable)
        return into

    def merge(self, base: Any, folder: Path) -> Any:
        """The plain model with the adapter in ``folder`` merged into its weights."""
        return self.load(base, folder, "merge").merge_and_unload()

    def activate(self, model: Any, names: list[str]) -> None:
        """Make the loaded adapters ``names`` (bottom first) active together (a stacked system)."""
        model.base_model.set_adapter(names)

    def stack_for_training(self, model: Any, parent: Path, trainable: bool, model_path: str) -> Any:
        """``model`` with the parent adapter in ``parent`` loaded (as ``parent``, trainable or
        frozen) and a new trainable adapter ``default`` on top, both active."""
        stacked = self.load(model, parent, "parent", trainable=trainable)
        stacked.add_adapter("default", self.peft_config(model_path))
        # "default" first: transformers' Trainer treats active_adapters[0] as the one being trained
        stacked.base_model.set_adapter(["default", "parent"])  # marks both trainable
        for param_name, param in stacked.named_parameters():
            if ".parent." in param_name or param_name.endswith(".parent"):
                param.requires_grad_(trainable)
        return stacked


# --- models ---------------------------------------------------------------------------------


@dataclass
class ResolvedModel:
    """A model reference resolved to a local Hugging Face folder, and where it really came from.

    Every model source resolves to a folder that ``from_pretrained`` (and lm-eval's
    ``pretrained=``) accepts; the manifest and the leaderboard record ``source`` and ``notes``.
    """

    reference: str
    path: Path
    source: str  # model source component name
    notes: str = ""  # e.g. "Q4_K_M GGUF from PyPI, dequantized"
    revision: str = ""  # content hash or commit, part of cache keys

    def describe(self) -> dict[str, str]:
        """JSON-able record for the manifest."""
        return {
            "reference": self.reference,
            "path": str(self.path),
            "source": self.source,
            "notes": self.notes,
            "revision": self.revision,
        }


class ModelSource(Component):
    """Model reference → local model folder (family ``model_sources``)."""

    def resolve(self, reference: str) -> ResolvedModel | None:
        """Resolve ``reference``, or return None when this source does not have it."""
        raise NotImplementedError


# --- metrics and reports --------------------------------------------------------------------


@dataclass
class MetricSpec:
    """An lm-eval-compatible metric: pushed into lm-eval's registry by the harness.

    ``fn`` is lm-eval's per-sample metric function (``fn(references=..., predictions=...)`` for
    generation tasks, or ``fn(items)`` passthrough); ``aggregation`` reduces the per-sample values.
    """

    fn: Any
    aggregation: Any
    higher_is_better: bool = True
    output_type: str | list[str] = "generate_until"


class Metric(Component):
    """Family ``metrics``: a component whose ``spec()`` gives the lm-eval metric."""

    def spec(self) -> MetricSpec:
        """The lm-eval metric definition."""
        raise NotImplementedError


class ReportFormat(Component):
    """Results → one leaderboard format (family ``report_formats``)."""

    extension: ClassVar[str] = "txt"

    def render(self, board: Any) -> str | bytes:
        """Render the leaderboard (a :class:`harness.leaderboard.Leaderboard`)."""
        raise NotImplementedError


class Tracker(Component):
    """An experiment tracker switched on in the spec (family ``trackers``, ``tracking.trackers``).

    Every method has a no-op default: a tracker implements what it records.
    """

    def run_started(self, run: Any) -> None:
        """Before the first stage (``run`` is a :class:`harness.runner.stage.RunInfo`)."""

    def stage_finished(self, stage: Any, run: Any) -> None:
        """After each stage, with ``stage.record`` and ``stage.output``."""

    def trainer_callbacks(self, stage: Any, run: Any) -> list[Any]:
        """``transformers.TrainerCallback`` objects for a training stage's trainer."""
        return []

    def run_finished(self, run: Any, result: Any, error: BaseException | None) -> None:
        """After the leaderboard is written (``result``), or when the run failed (``error``)."""


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
