"""Build one evaluated system: the base model with its adapters composed as the spec says.

Compositions (``SystemPlan.composition``):

- ``stacked``: every adapter loaded into one PeftModel and all active at once, where their method
  stacks (LoRA-family and IA3 layers add/multiply their deltas).  Adapters of different kinds, or
  of a method that does not stack, cannot share one model, so the lower ones are then merged into
  the base first (exact for LoRA/IA3-family; refused where the method does not merge).
- ``merged``: every adapter but the top one merged into the base weights, the top one on top.
- ``weighted``: peft's ``add_weighted_adapter`` (``cat``) with ``SystemPlan.weights`` (default 1s).

An SFT adapter trained with its DAPT parent kept trainable carries the updated parent in its
``parent/`` sub-folder; that copy replaces the original DAPT adapter in the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, SpecError
from harness.training.meta import PARENT_DIR, base_model_mismatch, check_adapter_folder, read_meta
from harness.training.methods import adapter_kind, method_of_folder

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.plan import SystemPlan

COMPOSITIONS = ("stacked", "merged", "weighted")


def torch_dtype(name: str) -> Any:
    """``"bfloat16"`` → ``torch.bfloat16``; unknown names are a spec error."""
    import torch

    if name not in ("float32", "bfloat16", "float16"):
        raise SpecError(f"unknown dtype {name!r}; choose float32, bfloat16 or float16", field="model.dtype")
    return getattr(torch, name)


def load_base(model: ResolvedModel, dtype: str) -> tuple[Any, Any]:
    """The base model (eval mode) and its tokenizer from the resolved local folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model.path)
    base = AutoModelForCausalLM.from_pretrained(model.path, dtype=torch_dtype(dtype))
    return base.eval(), tokenizer


def adapter_chain(system: SystemPlan, adapter_dirs: dict[str, Path]) -> list[Path]:
    """Folders of the system's adapters, bottom first, with a trainable-arm parent swapped in."""
    missing = [name for name in system.adapters if name not in adapter_dirs]
    if missing:
        raise DataError(f"system {system.name!r}: no trained adapter for {', '.join(missing)}")
    chain = [Path(adapter_dirs[name]) for name in system.adapters]
    for i in range(1, len(chain)):
        updated = chain[i] / PARENT_DIR
        if read_meta(chain[i]).get("parent_trainable") and (updated / "adapter_config.json").is_file():
            chain[i - 1] = updated
    return chain


@contextmanager
def _naming_mismatch(folder: Path, model: ResolvedModel) -> Iterator[None]:
    """Turn the library's error for an adapter that does not fit the base into one naming both."""
    try:
        yield
    except (RuntimeError, ValueError, KeyError) as exc:
        if "size mismatch" in str(exc) or "not found in the base model" in str(exc) or "Target modules" in str(exc):
            raise base_model_mismatch(folder, model, exc) from None
        raise


def _load(base: Any, folder: Path, model: ResolvedModel, name: str, into: Any = None) -> Any:
    """Load one adapter with its method's code (into an already built model when ``into``),
    naming a base mismatch."""
    with _naming_mismatch(folder, model):
        return method_of_folder(folder).load(base, folder, name, into=into)


def merge_into_base(base: Any, folders: list[Path], model: ResolvedModel) -> Any:
    """Merge adapters into the base weights one after the other; returns the plain model."""
    for folder in folders:
        method = method_of_folder(folder)
        if not method.mergeable:
            raise SpecError(
                f"adapter {folder} ({adapter_kind(folder)}) cannot be merged into the base; "
                "use an adapter whose method merges (LoRA family, IA3, …) below another"
            )
        with _naming_mismatch(folder, model):  # a merge loads the adapter first, as _load does
            base = method.merge(base, folder)
    return base


def compose(base: Any, chain: list[Path], composition: str, model: ResolvedModel, weights: list[float] | None) -> Any:
    """Apply ``chain`` to an already loaded ``base`` model as ``composition`` says."""
    if composition not in COMPOSITIONS:
        raise SpecError(f"unknown composition {composition!r}; valid: {', '.join(COMPOSITIONS)}")
    for folder in chain:
        check_adapter_folder(folder, model)
    if not chain:
        return base
    if len(chain) == 1:
        return strip_virtual_token_logits(_load(base, chain[0], model, "a0"))
    kinds = [adapter_kind(folder) for folder in chain]
    together = len(set(kinds)) == 1 and all(method_of_folder(f).stackable for f in chain)
    if composition == "merged" or (composition == "stacked" and not together):
        top = _load(merge_into_base(base, chain[:-1], model), chain[-1], model, "a0")
        return strip_virtual_token_logits(top)
    names = [f"a{i}" for i in range(len(chain))]
    peft_model = _load(base, chain[0], model, names[0])
    for folder, name in zip(chain[1:], names[1:]):
        _load(base, folder, model, name, into=peft_model)
    if composition == "stacked":
        method_of_folder(chain[0]).activate(peft_model, names)
    else:
        factors = list(weights) if weights else [1.0] * len(chain)
        if len(factors) != len(chain):
            raise SpecError(
                f"weighted composition needs {len(chain)} weights, got {len(factors)}",
                field="systems.weights",
            )
        try:
            peft_model.add_weighted_adapter(names, factors, adapter_name="weighted", combination_type="cat")
        except (ValueError, AttributeError, TypeError) as exc:
            raise SpecError(
                f"weighted composition is not possible for adapters of type {', '.join(kinds)}: {exc}"
            ) from None
        peft_model.set_adapter("weighted")
    return peft_model


def strip_virtual_token_logits(peft_model: Any) -> Any:
    """Make a prompt-tuned model return one logit row per input token, as lm-eval expects.

    peft prepends the virtual tokens' embeddings and returns their logits too, which would shift
    every log-likelihood lm-eval reads off by ``num_virtual_tokens`` positions.
    """
    configs = getattr(peft_model, "peft_config", None)
    if not configs:
        return peft_model  # not a PEFT model (BitFit: biases in the base)
    config = configs[peft_model.active_adapter]
    if str(config.peft_type.value) not in ("PROMPT_TUNING", "P_TUNING"):
        return peft_model
    forward, virtual = peft_model.forward, config.num_virtual_tokens

    def forward_without_virtual(*args: Any, **kwargs: Any) -> Any:
        output = forward(*args, **kwargs)
        if getattr(output, "logits", None) is not None:
            output.logits = output.logits[:, virtual:]
        return output

    peft_model.forward = forward_without_virtual
    return peft_model


def build_system_model(
    system: SystemPlan, model: ResolvedModel, adapter_dirs: dict[str, Path], dtype: str
) -> tuple[Any, Any]:
    """The system's model ready for inference (eval mode, no grad) and its tokenizer.

    :param system: adapters (plan names, bottom first), composition and weights.
    :param model: the resolved base model.
    :param adapter_dirs: plan name → finished adapter folder (stage output).
    :param dtype: ``float32`` / ``bfloat16`` / ``float16``.
    """
    base, tokenizer = load_base(model, dtype)
    composed = compose(base, adapter_chain(system, adapter_dirs), system.composition, model, system.weights)
    # peft marks active adapters trainable; an evaluated system trains nothing
    for param in composed.parameters():
        param.requires_grad_(False)
    return composed.eval(), tokenizer
