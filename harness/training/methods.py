"""PEFT methods by name, from the ``peft_methods`` plugin family: look-up, options, capabilities.

A method is a :class:`harness.components.PeftMethod` registered through ``register_peft_methods``
(the built-ins in :mod:`harness_plugins.peft_methods` the same way as a third party's).  This
module only finds them: by the spec's name (:func:`build_method`, whose errors name the option and
list the valid ones) and by the kind a saved folder records (:func:`method_of_folder`), and it holds
the checks several methods share (target modules against the model's linear layers).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import SpecError

if TYPE_CHECKING:
    from harness.components import PeftMethod
    from harness.plugins import Registry

FAMILY = "peft_methods"


@functools.lru_cache(maxsize=1)
def _default_registry() -> Registry:
    from harness.plugins import load_registry

    return load_registry()


def registry_or_default(registry: Registry | None) -> Registry:
    """``registry``, or the installed plugins' (built once per process)."""
    return registry if registry is not None else _default_registry()


def method_names(registry: Registry | None = None) -> list[str]:
    """Every registered method name."""
    return registry_or_default(registry).names(FAMILY)


def get_method(name: str, registry: Registry | None = None) -> type[PeftMethod]:
    """The method class called ``name``, or a spec error listing the valid ones."""
    reg = registry_or_default(registry)
    if name not in reg.components.get(FAMILY, {}):
        names = ", ".join(reg.names(FAMILY))
        raise SpecError(f"unknown PEFT method {name!r}; valid: {names}", field="method")
    return reg.get(FAMILY, name).cls  # type: ignore[return-value]


def defaults(name: str, registry: Registry | None = None) -> dict[str, Any]:
    """The method's options with nothing set."""
    return get_method(name, registry).Options().model_dump(mode="json")


def build_method(name: str, options: dict[str, Any], registry: Registry | None = None) -> PeftMethod:
    """The method ``name`` built with ``options`` validated: an unknown option lists the valid
    ones, a wrong value names the option (``field`` is ``method_options.<option>``)."""
    from pydantic import ValidationError

    cls = get_method(name, registry)
    try:
        method = cls(cls.Options.model_validate(options))
    except ValidationError as exc:
        err = exc.errors()[0]
        option = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "extra_forbidden":
            valid = ", ".join(sorted(cls.Options.model_fields))
            message = f"unknown option {option!r} for PEFT method {name!r}; valid: {valid}"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            if message.startswith("must "):
                message = f"{option} {message} (got {err.get('input')!r})"
            elif option:
                message = f"{option}: {message}"
        raise SpecError(message, field=f"method_options.{option}" if option else "method_options") from None
    method.check_options()
    return method


def resolve_options(name: str, options: dict[str, Any], registry: Registry | None = None) -> dict[str, Any]:
    """The method's options with its defaults filled in (JSON values, for cache keys)."""
    return build_method(name, options, registry).options.model_dump(mode="json")


def list_options(registry: Registry | None = None) -> set[str]:
    """Option names whose value is a list for some method (a list there is no sweep)."""
    out: set[str] = set()
    for name in method_names(registry):
        out |= set(get_method(name, registry).list_options)
    return out


def adapter_kind(folder: Path) -> str:
    """What a saved adapter folder is: the harness's record of its method kind, else PEFT's
    ``peft_type`` (``LORA``, ``IA3``, ``PREFIX_TUNING`` …)."""
    from harness.training.meta import read_meta

    kind = read_meta(folder).get("kind")
    if kind:
        return str(kind)
    config = folder / "adapter_config.json"
    if config.is_file():
        return str(json.loads(config.read_text(encoding="utf-8")).get("peft_type", ""))
    return ""


def method_of_kind(kind: str, registry: Registry | None = None) -> type[PeftMethod]:
    """The registered method whose folders are of ``kind`` (the first by name when several share
    it: LoRA, QLoRA and DoRA all save ``LORA``), else the generic PEFT tuner for that type."""
    reg = registry_or_default(registry)
    for name in reg.names(FAMILY):
        cls = reg.get(FAMILY, name).cls
        if getattr(cls, "peft_type", "") == kind:
            return cls  # type: ignore[return-value]
    from harness_plugins.peft_methods.generic import tuner_class

    return tuner_class(kind)


def method_of_folder(folder: Path, registry: Registry | None = None) -> PeftMethod:
    """The method that saved ``folder`` (its load/merge code and capabilities), built with
    default options (loading needs none)."""
    from harness.training.meta import read_meta

    meta = read_meta(folder)
    reg = registry_or_default(registry)
    name = meta.get("method")
    kind = adapter_kind(folder)
    if isinstance(name, str) and name in reg.components.get(FAMILY, {}):
        cls = reg.get(FAMILY, name).cls
        if getattr(cls, "peft_type", "") == kind:
            return _loader(cls)
    if not kind:
        for registered in reg.components.get(FAMILY, {}).values():
            if registered.cls.claims(folder):  # type: ignore[attr-defined]
                return _loader(registered.cls)
        from harness.errors import DataError

        raise DataError(
            f"{folder}: no PEFT type and no harness record say which method saved this adapter", file=str(folder)
        )
    return _loader(method_of_kind(kind, reg))


def _loader(cls: Any) -> PeftMethod:
    try:
        return cls()
    except Exception:  # noqa: BLE001 - options with required fields: only its class methods are used
        return cls.__new__(cls)


def compute_dtype(value: str, precision: str) -> str:
    """QLoRA's 4-bit matmul dtype: ``auto`` follows the run's precision (bitsandbytes' kernels
    do not see ``torch.autocast``, so bf16 precision needs a bf16 compute dtype)."""
    if value != "auto":
        return str(value)
    from harness.precision import DTYPES

    return DTYPES[precision]


def linear_layer_names(model: Any) -> list[str]:
    """Short names of the model's linear layers (``q_proj``, ``up_proj`` …), without the LM head."""
    import torch

    names = set()
    for full, module in model.named_modules():
        is_linear = isinstance(module, torch.nn.Linear) or type(module).__name__ in {
            "Linear4bit",
            "Linear8bitLt",
            "Conv1D",
        }
        if is_linear and full and "lm_head" not in full:
            names.add(full.rsplit(".", 1)[-1])
    return sorted(names)


def check_target_modules(model: Any, targets: Any) -> None:
    """Every named target module exists among the model's linear layers, or a spec error lists them.

    A string that is not a plain layer name is a regular expression over full module names, as in
    peft; it must match at least one module.
    """
    import re

    if targets is None or targets == "all-linear":
        return
    linear = linear_layer_names(model)
    full_names = [full for full, _ in model.named_modules()]
    if isinstance(targets, str) and not re.fullmatch(r"[\w]+", targets):
        if not any(re.fullmatch(targets, full) for full in full_names):
            raise SpecError(
                f"target module pattern {targets!r} matches no layer of this model; "
                f"its linear layers: {', '.join(linear)}",
                field="method_options.target_modules",
            )
        return
    for name in [targets] if isinstance(targets, str) else list(targets):
        if name not in linear and not any(full.endswith(f".{name}") or full == name for full in full_names):
            raise SpecError(
                f"target module {name!r} is not a layer of this model; its linear layers: {', '.join(linear)}",
                field="method_options.target_modules",
            )
