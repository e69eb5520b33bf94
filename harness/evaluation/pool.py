"""One base model for all the evaluations of a run: adapters switched, not models rebuilt.

Every ``eval/<system>`` stage used to load the base model and compose its adapters from scratch
(:func:`harness.training.compose.build_system_model`).  The pool keeps the base model of the last
evaluation in memory and, for the systems that can share it, loads each adapter folder into one
``PeftModel`` once and switches between them with PEFT's multi-adapter API:

- ``base``: the adapter layers disabled (``disable_adapter_layers``);
- one adapter: ``set_adapter(name)``;
- stacked adapters of one kind whose method stacks (LoRA family, IA3, …):
  ``base_model.set_adapter([names])``, all active at once, exactly as the per-system composition
  stacks them.

Systems that change the base weights (``merged`` and ``weighted`` compositions, stacks of mixed
PEFT types), prompt-learning adapters (which prepend virtual tokens) and adapters of a type other
than the one already in the pool are composed per system as before, from a fresh copy of the base;
the pool is left as it was.  Stages stay per system: a cached system is not evaluated at all, and a
system that fails drops the pool, so the next system starts from a clean base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.training.compose import _load, adapter_chain, build_system_model, load_base
from harness.training.meta import check_adapter_folder
from harness.training.methods import adapter_kind, method_of_folder

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.plan import SystemPlan


@dataclass
class _Pooled:
    key: tuple[str, str]
    model: Any  # the plain base model, or a PeftModel around it
    tokenizer: Any
    kind: str | None = None  # PEFT type of the adapters loaded so far
    names: dict[str, str] = field(default_factory=dict)  # adapter folder → adapter name


_POOL: _Pooled | None = None


def release() -> None:
    """Drop the pooled model (end of a run, or after a failed evaluation)."""
    global _POOL
    _POOL = None


def shareable(chain: list[Path], composition: str) -> str | None:
    """The PEFT type the chain's adapters share when they can be switched in one model, else None."""
    if not chain:
        return ""
    kinds = {adapter_kind(folder) for folder in chain}
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    # switching needs PEFT's multi-adapter layers: methods that stack (not prompt learning, BitFit)
    methods = [method_of_folder(folder) for folder in chain]
    if not all(method.stackable and method.peft_backed for method in methods):
        return None
    return kind if len(chain) == 1 or composition == "stacked" else None


def system_model(
    system: SystemPlan, model: ResolvedModel, adapter_dirs: dict[str, Path], dtype: str
) -> tuple[Any, Any, bool]:
    """The system's model in eval mode, its tokenizer, and whether the pooled base was used."""
    global _POOL
    chain = adapter_chain(system, adapter_dirs)
    kind = shareable(chain, system.composition)
    key = (str(model.path), dtype)
    if _POOL is not None and _POOL.key != key:
        release()
    if kind is None or (kind and _POOL is not None and _POOL.kind not in (None, kind)):
        built, tokenizer = build_system_model(system, model, adapter_dirs, dtype)
        return built, tokenizer, False
    reused = _POOL is not None
    if _POOL is None:
        base, tokenizer = load_base(model, dtype)
        _POOL = _Pooled(key, base, tokenizer)
    try:
        activate(_POOL, chain, model, kind)
    except BaseException:
        release()
        raise
    return _POOL.model, _POOL.tokenizer, reused


def activate(pool: _Pooled, chain: list[Path], model: ResolvedModel, kind: str) -> None:
    """Load the chain's adapters not yet in the pool, then make exactly them active."""
    for folder in chain:
        key = str(folder.resolve())
        if key in pool.names:
            continue
        check_adapter_folder(folder, model)
        name = f"a{len(pool.names)}"
        pool.model = _load(pool.model, folder, model, name, into=pool.model if pool.names else None)
        pool.names[key] = name
        pool.kind = kind
    if pool.names:
        tuner = pool.model.base_model
        if not chain:
            tuner.disable_adapter_layers()
        else:
            tuner.enable_adapter_layers()
            wanted = [pool.names[str(folder.resolve())] for folder in chain]
            tuner.set_adapter(wanted if len(wanted) > 1 else wanted[0], inference_mode=True)
    # set_adapter marks the active adapters trainable; an evaluated system trains nothing
    for param in pool.model.parameters():
        param.requires_grad_(False)
    pool.model.eval()
