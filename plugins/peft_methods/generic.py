"""Every PEFT tuner by name: one method per ``peft`` config class, options taken from its fields.

PEFT ships many more tuners than the harness names itself (VeRA, OFT, BOFT, FourierFT, HRA, BEFT,
LN tuning, VB-LoRA, …).  :func:`tuner_methods` makes a :class:`harness.components.PeftMethod` for
each PEFT type: its options are the config's own fields (an unknown option lists them), its values
are checked by building the config when the spec is validated, and its leaderboard label names the
config class.  ``method: peft`` with ``method_options: {tuner: VeraConfig, …}`` reaches the same
tuners by class name.

Importing ``peft`` takes seconds (it imports torch and transformers), and every command builds the
plugin registry, so registering the tuners must not import it.  The PEFT types are read from
peft's own ``utils/peft_types.py`` without running it (:func:`peft_types`; once ``peft`` is
imported, its live mapping is used instead, which also holds tuners registered at run time), and
each tuner class's peft-derived attributes (``Options``, ``config_name``, ``prompt_learning``,
``stackable``, ``mergeable``, ``list_options``, ``description``) are computed on first use
(:class:`_FromConfig`).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict, create_model

from harness.components import Options, PeftMethod
from harness.errors import SpecError
from harness.training.methods import check_target_modules

#: ``PeftConfig`` bookkeeping fields that are not options of a method
INTERNAL = {
    "peft_type",
    "task_type",
    "auto_mapping",
    "peft_version",
    "base_model_name_or_path",
    "revision",
    "inference_mode",
}
#: tuners that need inputs the harness's causal-LM trainers do not give (task ids, other adapters)
UNSUPPORTED = {
    "MULTITASK_PROMPT_TUNING": "needs task ids per example",
    "POLY": "needs task ids per example",
    "XLORA": "needs trained LoRA adapters to mix",
    "CPT": "needs context/label token types per example",
}
#: capabilities where a tuner departs from the default (stacks and merges unless prompt learning)
NOT_STACKABLE = {"LN_TUNING", "TRAINABLE_TOKENS", "ADAPTION_PROMPT"}
#: BEFT adds a bias the base may not have (Gemma, LLaMA): nothing to merge it into
NOT_MERGEABLE = {"BEFT", "ADAPTION_PROMPT"}


def _config_classes() -> dict[str, Any]:
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    return {str(getattr(kind, "value", kind)): cls for kind, cls in PEFT_TYPE_TO_CONFIG_MAPPING.items()}


@functools.cache
def _types_from_source() -> tuple[str, ...] | None:
    """The members of ``peft.utils.peft_types.PeftType``, read from the installed source without
    importing ``peft`` (``None`` when peft is not installed or the file is not laid out so); read
    once per process (registering the tuners asks once per tuner)."""
    spec = importlib.util.find_spec("peft")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "utils" / "peft_types.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "PeftType":
            values = [
                item.value.value
                for item in node.body
                if isinstance(item, ast.Assign)
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            ]
            return tuple(values) or None
    return None


def peft_types() -> list[str]:
    """Every PEFT type (``LORA``, ``VERA``, ``LN_TUNING`` …), sorted; imports ``peft`` only when
    its source cannot be read."""
    if "peft" not in sys.modules:
        found = _types_from_source()
        if found is not None:
            return sorted(found)
    return sorted(_config_classes())


def _fields(config_cls: Any) -> dict[str, Any]:
    """Option name → default, for the config's own fields."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config_cls):
        if f.name in INTERNAL or not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = None
    return out


def _is_prompt_learning(config_cls: Any) -> bool:
    from peft import PromptLearningConfig

    return issubclass(config_cls, PromptLearningConfig)


class _FromConfig:
    """A class attribute computed from the tuner's peft config class on first read (from the class
    or an instance), then stored on the class that was asked."""

    def __init__(self, compute: Callable[[Any, str], Any]) -> None:
        self.compute = compute
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        kind = owner.peft_type  # type: ignore[attr-defined]
        if not kind:
            raise AttributeError(self.name)
        value = self.compute(_config_classes()[kind], kind)
        setattr(owner, self.name, value)
        return value


def _options_of(config_cls: Any, kind: str) -> type[Options]:
    fields = _fields(config_cls)
    return create_model(
        f"{config_cls.__name__}Options",
        __base__=Options,
        __doc__=f"The fields of peft's {config_cls.__name__}.",
        **{name: (Any, default) for name, default in fields.items()},
    )


def _list_options_of(config_cls: Any, kind: str) -> frozenset[str]:
    return frozenset(n for n in _fields(config_cls) if n.endswith("modules") or n.startswith("layers_to"))


class PeftTuner(PeftMethod):
    """A PEFT tuner by its config class (:attr:`config_name`), options passed through."""

    config_name: ClassVar[str] = ""

    @classmethod
    def config_class(cls) -> Any:
        """The ``peft`` config class."""
        import peft

        return getattr(peft, cls.config_name)

    def tuner_options(self) -> dict[str, Any]:
        """The options given to the config (all of :attr:`Options` here)."""
        return self.options.model_dump()

    def check_options(self) -> None:
        """Build the config once (no model needed), so that a value peft rejects is a spec error."""
        try:
            self.peft_config("")
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{self.config_name}: {str(exc).splitlines()[0][:240]}", field="method_options") from None

    def check_model(self, model: Any) -> None:
        """Named target modules exist in the model."""
        targets = self.tuner_options().get("target_modules")
        if targets is not None and not isinstance(targets, (str, list, tuple, set)):
            return
        check_target_modules(model, list(targets) if isinstance(targets, (tuple, set)) else targets)

    def peft_config(self, model_path: str) -> Any:
        """The config class built with the options (task type causal LM)."""
        values = {k: v for k, v in self.tuner_options().items() if v is not None or k == "target_modules"}
        if "tokenizer_name_or_path" in values and not values["tokenizer_name_or_path"] and model_path:
            values["tokenizer_name_or_path"] = model_path
        import peft

        return getattr(peft, self.config_name)(task_type="CAUSAL_LM", **values)

    def label(self) -> str:
        """``vera (PEFT VeraConfig)``."""
        return f"PEFT {self.config_name}"


@functools.cache
def tuner_class(kind: str) -> type[PeftTuner]:
    """The method class for the PEFT type ``kind`` (``VERA``, ``OFT`` …); its peft-derived
    attributes are read from the config class on first use."""
    kinds = peft_types()
    if kind not in kinds:
        raise SpecError(f"unknown PEFT type {kind!r}; peft {_peft_version()} has: {', '.join(kinds)}")
    return type(
        f"{kind.title().replace('_', '')}Method",
        (PeftTuner,),
        {
            "__doc__": f"peft's {kind} tuner as a harness method.",
            "__module__": __name__,
            "peft_type": kind,
            "Options": _FromConfig(_options_of),
            "config_name": _FromConfig(lambda cfg, _: cfg.__name__),
            "description": _FromConfig(lambda cfg, _: f"PEFT {cfg.__name__} (options: its fields)"),
            "prompt_learning": _FromConfig(lambda cfg, _: _is_prompt_learning(cfg)),
            "stackable": _FromConfig(lambda cfg, k: not _is_prompt_learning(cfg) and k not in NOT_STACKABLE),
            "mergeable": _FromConfig(lambda cfg, k: not _is_prompt_learning(cfg) and k not in NOT_MERGEABLE),
            "list_options": _FromConfig(_list_options_of),
        },
    )


def tuner_methods(skip: set[str]) -> dict[str, type[PeftTuner]]:
    """Method name (the PEFT type in lower case: ``vera``, ``ln_tuning``) → class, for every
    PEFT type not in ``skip`` (the types a dedicated method covers) or :data:`UNSUPPORTED`."""
    return {kind.lower(): tuner_class(kind) for kind in peft_types() if kind not in skip and kind not in UNSUPPORTED}


class AnyTunerOptions(Options):
    """``tuner``: a peft config class name (``VeraConfig``) or PEFT type (``vera``); every other
    option is a field of that config."""

    model_config = ConfigDict(extra="allow")

    tuner: str


class AnyTuner(PeftTuner):
    """``method: peft``: any PEFT tuner, named in ``method_options.tuner``."""

    Options = AnyTunerOptions
    description = "any PEFT tuner by config class: method_options {tuner: VeraConfig, <its fields>}"
    list_options = frozenset({"target_modules", "modules_to_save", "layers_to_transform", "feedforward_modules"})

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        target = self.target
        # the named tuner's capabilities, for this instance
        for name in ("peft_type", "prompt_learning", "stackable", "mergeable", "config_name"):
            setattr(self, name, getattr(target, name))

    def _kind(self) -> str:
        wanted = self.options.tuner
        classes = _config_classes()
        for kind, cls in classes.items():
            if wanted in (cls.__name__, kind, kind.lower()):
                return kind
        raise SpecError(
            f"unknown PEFT tuner {wanted!r}; peft {_peft_version()} has: "
            f"{', '.join(sorted(c.__name__ for c in classes.values()))}",
            field="method_options.tuner",
        )

    @property
    def target(self) -> type[PeftTuner]:
        """The per-type method this one stands for."""
        return tuner_class(self._kind())

    def tuner_options(self) -> dict[str, Any]:
        """The extra options, checked against the config's fields."""
        given = dict(self.options.model_extra or {})
        valid = _fields(self.target.config_class())
        unknown = sorted(set(given) - set(valid))
        if unknown:
            raise SpecError(
                f"unknown option {unknown[0]!r} for PEFT tuner {self.target.config_name}; valid: {', '.join(sorted(valid))}",
                field=f"method_options.{unknown[0]}",
            )
        return given

    def check_options(self) -> None:
        """The tuner exists, the options are its fields, and the config builds."""
        self.tuner_options()
        super().check_options()

    def label(self) -> str:
        """``PEFT VeraConfig``."""
        return f"PEFT {self.target.config_name}"


def _peft_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("peft")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"
