"""Built-in instruction generators: Spanish templates, the Bonito protocol and any instruct LLM."""

from __future__ import annotations

from harness import hookimpl


@hookimpl
def register_instruction_generators(register) -> None:
    """Register ``mx_templates``, ``bonito`` and ``llm_instruct``."""
    from harness_plugins.instructions.bonito import Bonito
    from harness_plugins.instructions.llm_instruct import LLMInstruct
    from harness_plugins.instructions.mx_templates import MxTemplates

    register("mx_templates", MxTemplates)
    register("bonito", Bonito)
    register("llm_instruct", LLMInstruct)
