"""The ``instructions`` section: generators, task-type mix, filters, decontamination."""

from __future__ import annotations

from pydantic import Field, model_validator

from harness.spec.common import ComponentRef, Strict


class DecontaminationSection(Strict):
    """No pair may share an ``n``-token n-gram with an evaluation item."""

    enabled: bool = True
    n: int = Field(13, gt=0)
    tasks: list[str] = Field(default_factory=lambda: ["mx_legal"])
    #: more evaluation texts (a user's own eval set): ``.txt`` (one text a line) or ``.jsonl``
    #: (every string value of every record), relative to the spec file
    extra_files: list[str] = Field(default_factory=list)


class FiltersSection(Strict):
    """Quality filters applied to every generator's pairs, in this order, before decontamination."""

    exact_dedup: bool = True
    near_dedup: bool = True
    #: Jaccard similarity (MinHash estimate) above which a later pair is a near duplicate
    near_dedup_threshold: float = Field(0.9, gt=0, le=1)
    min_instruction_chars: int = Field(10, ge=0)
    max_instruction_chars: int = Field(2000, gt=0)
    min_response_chars: int = Field(1, ge=0)
    max_response_chars: int = Field(4000, gt=0)
    max_context_chars: int = Field(8000, gt=0)
    #: task types whose response must occur verbatim in the context
    extractive_task_types: list[str] = Field(default_factory=lambda: ["exqa"])
    #: at most this many pairs per article (0 = no limit)
    max_per_article: int = Field(8, ge=0)
    #: keep only pairs whose instruction and response look Spanish
    spanish_only: bool = False
    #: generators are asked for ``budget * oversample`` pairs so the budget survives the filters
    oversample: float = Field(1.3, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> FiltersSection:
        if self.min_instruction_chars > self.max_instruction_chars:
            raise ValueError("min_instruction_chars is above max_instruction_chars")
        if self.min_response_chars > self.max_response_chars:
            raise ValueError("min_response_chars is above max_response_chars")
        return self


class InstructionsSection(Strict):
    """How the downstream instruction dataset is generated.

    ``budget`` is the total number of pairs kept, split evenly between the generators;
    ``task_types`` maps task type → weight (normalised; empty means each generator's default mix).
    """

    generators: list[ComponentRef] = Field(default_factory=lambda: [ComponentRef(name="mx_templates")])
    budget: int = Field(1000, gt=0)
    task_types: dict[str, float] = Field(default_factory=dict)
    filters: FiltersSection = Field(default_factory=FiltersSection)
    decontamination: DecontaminationSection = Field(default_factory=DecontaminationSection)
    #: seed of the generators and of the final shuffle; default the spec's ``seed``
    seed: int | None = None

    @model_validator(mode="after")
    def _weights(self) -> InstructionsSection:
        for name, weight in self.task_types.items():
            if weight < 0:
                raise ValueError(f"task_types.{name}: weight must be >= 0")
        if self.task_types and sum(self.task_types.values()) <= 0:
            raise ValueError("task_types: the weights must not all be 0")
        return self
