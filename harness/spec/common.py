"""Types shared by the spec sections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base of every spec section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ComponentRef(Strict):
    """A plugin component named in the spec, with its options (validated by the component)."""

    name: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # a bare string is shorthand for a component with default options
        return {"name": value} if isinstance(value, str) else value
