"""The benchmark spec: the root model and its ``model`` and ``systems`` sections."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.names import check_name
from harness.spec.common import Strict
from harness.spec.corpus import CorpusSection
from harness.spec.evaluation import EvaluationSection, RegressionSection, ReportSection, TrackingSection
from harness.spec.instructions import InstructionsSection
from harness.spec.training import SFTSection, TrainingSection

ADAPTER_ROLES = ("dapt", "sft")


class ModelSection(Strict):
    """The base model: a reference resolved by the model sources, in order."""

    id: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=lambda: ["local", "huggingface", "gemma_gguf_package"])
    source_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"


class SystemSpec(Strict):
    """One adapter combination to evaluate: ``base``, ``base+dapt``, ``base+dapt+sft`` …"""

    name: str = Field(min_length=1)
    adapters: list[str] | None = None  # default: parsed from the name
    composition: Literal["stacked", "merged", "weighted"] = "stacked"
    weights: list[float] | None = None
    #: how task prompts reach this system; default: ``evaluation.prompt_format``
    prompt_format: Literal["auto", "plain", "instruction"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return check_name(value, "system name")

    @model_validator(mode="after")
    def _adapters_from_name(self) -> SystemSpec:
        if self.adapters is None:
            parts = self.name.split("+")
            if parts[0] != "base":
                raise ValueError(f"system name {self.name!r} must start with 'base' or list its adapters")
            self.adapters = parts[1:]
        for adapter in self.adapters:
            if adapter not in ADAPTER_ROLES:
                raise ValueError(
                    f"unknown adapter {adapter!r} in system {self.name!r}; known: {', '.join(ADAPTER_ROLES)}"
                )
        if len(set(self.adapters)) != len(self.adapters):
            raise ValueError(f"system {self.name!r} lists an adapter twice: {self.adapters}")
        if self.adapters != sorted(self.adapters, key=ADAPTER_ROLES.index):
            raise ValueError(
                f"system {self.name!r} lists its adapters as {self.adapters}; list them bottom first: "
                f"{sorted(self.adapters, key=ADAPTER_ROLES.index)} (the sft adapter sits on dapt)"
            )
        return self


class Spec(Strict):
    """A whole benchmark."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 0
    #: compute precision of training and evaluation (mixed: weights stay ``model.dtype``);
    #: ``auto`` picks bf16 where the hardware runs it natively, else fp32 (:mod:`harness.precision`)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    model: ModelSection
    corpus: CorpusSection
    dapt: TrainingSection | None = None
    instructions: InstructionsSection | None = None
    sft: SFTSection | None = None
    systems: list[SystemSpec] = Field(default_factory=lambda: [SystemSpec(name="base")])
    evaluation: EvaluationSection
    report: ReportSection = Field(default_factory=ReportSection)
    regression: RegressionSection = Field(default_factory=RegressionSection)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    #: overrides per profile, merged into the spec before validation
    profiles: dict[Literal["cpu", "gpu"], dict[str, Any]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return check_name(value, "benchmark name")
