"""The ``instructions`` section: generators, task-type mix, filters, decontamination."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.spec.common import ComponentRef, Strict


class DecontaminationSection(Strict):
    """No pair may share an ``n``-token n-gram with an evaluation item."""

    enabled: bool = True
    n: int = Field(13, gt=0)
    tasks: list[str] = Field(default_factory=lambda: ["mx_legal"])


class InstructionsSection(Strict):
    """How the downstream instruction dataset is generated."""

    generators: list[ComponentRef] = Field(default_factory=lambda: [ComponentRef(name="mx_templates")])
    budget: int = Field(1000, gt=0)
    task_types: dict[str, float] = Field(default_factory=dict)
    filters: dict[str, Any] = Field(default_factory=dict)
    decontamination: DecontaminationSection = Field(default_factory=DecontaminationSection)
