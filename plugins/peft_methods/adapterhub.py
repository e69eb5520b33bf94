"""Bottleneck adapters from AdapterHub's ``adapters`` library: Houlsby, Pfeiffer and Compacter.

The maintained implementation of the seed's bottleneck methods is AdapterHub ``adapters``; its
1.3.0 release requires ``transformers ~=4.57.6`` while the project's default environment runs
transformers 5.x, so these methods live behind the optional extra ``harness[adapterhub]`` and its
own tox environment (``tox -e adapterhub``) on that transformers line.  Without the library the
methods are still registered (``harness plugins`` lists them) and a spec naming one gets a
one-line error saying what to install.

- ``houlsby``: ``DoubleSeqBnConfig``, two bottleneck adapters per layer (after attention and after
  the feed-forward block; Houlsby et al. 2019): 2·L·(2·h·b + b + h) parameters, b = h / reduction.
- ``pfeiffer``: ``SeqBnConfig``, one per layer after the feed-forward block (Pfeiffer et al. 2021):
  L·(2·h·b + b + h).
- ``compacter``: ``CompacterConfig``, Houlsby's positions with parameterised-hypercomplex
  (PHM) layers of dimension n and rank k (Mahabadi et al. 2021): 2·L·(2·k·(h + b) + b + h) + n³.

Bottleneck adapters are non-linear: they cannot be merged into the base weights (merged systems
and ``export --merged`` are refused), and they stack with AdapterHub's ``Stack`` composition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from harness.components import Options, PeftMethod
from harness.errors import SpecError

INSTALL = (
    "needs AdapterHub's adapters library: pip install 'harness[adapterhub]' "
    "(adapters 1.3.0 pins transformers ~=4.57.6; `tox -e adapterhub` runs that line)"
)


def _adapters() -> Any:
    try:
        import adapters
    except ImportError:
        return None
    return adapters


class BottleneckOptions(Options):
    """Options of AdapterHub's bottleneck adapters (names as in ``adapters``' configs)."""

    #: hidden size / bottleneck size
    reduction_factor: int = Field(16, gt=0)
    non_linearity: str = "relu"
    dropout: float = Field(0.0, ge=0, lt=1)
    #: layer indices left without an adapter
    leave_out: list[int] = Field(default_factory=list)
    #: apply the layer's own norm inside the adapter's residual path (AdapterHub's
    #: ``original_ln_before``); unset: off for Gemma-3, whose post-feed-forward norm sits before the
    #: residual sum (on, there, a freshly added adapter is no identity), else the library's default
    original_ln_before: bool | None = None


class CompacterOptions(BottleneckOptions):
    """Compacter's options: the PHM dimension n and the rank of the factorised weights."""

    non_linearity: str = "gelu"
    phm_dim: int = Field(4, gt=0)
    phm_rank: int = Field(1, gt=0)


class AdapterHubMethod(PeftMethod):
    """A bottleneck method built, saved, loaded and stacked with AdapterHub ``adapters``."""

    Options = BottleneckOptions
    config_name: ClassVar[str] = ""
    stackable = True
    mergeable = False
    peft_backed = False
    list_options = frozenset({"leave_out"})

    #: which of AdapterHub's config flags tell this method's folders apart
    signature: ClassVar[dict[str, Any]] = {}

    @classmethod
    def claims(cls, folder: Path) -> bool:
        """An AdapterHub folder (``adapter_config.json`` with its ``config``) of this kind."""
        import json

        path = folder / "adapter_config.json"
        if not path.is_file():
            return False
        config = json.loads(path.read_text(encoding="utf-8")).get("config")
        return isinstance(config, dict) and all(config.get(k) == v for k, v in cls.signature.items())

    def check_options(self) -> None:
        """The library is installed."""
        if _adapters() is None:
            raise SpecError(f"PEFT method {self.peft_type.split('_', 1)[-1].lower()} {INSTALL}", field="method")

    def adapter_config(self, model: Any = None) -> Any:
        """The ``adapters`` config object with the options (``original_ln_before`` settled for
        ``model``)."""
        lib = _adapters()
        values = self.options.model_dump()
        if values["original_ln_before"] is None:
            values.pop("original_ln_before")
            model_type = str(getattr(getattr(model, "config", None), "model_type", ""))
            if model_type.startswith("gemma3"):
                values["original_ln_before"] = False
        return getattr(lib, self.config_name)(**values)

    def label(self) -> str:
        """``AdapterHub SeqBnConfig``."""
        return f"AdapterHub {self.config_name}"

    def _init(self, model: Any) -> Any:
        lib = _adapters()
        if lib is None:
            raise SpecError(f"this adapter {INSTALL}", field="method")
        if not hasattr(model, "adapters_config"):
            lib.init(model)
        return model

    def attach(self, model: Any, model_path: str) -> Any:
        """``default`` added and the only part that trains."""
        self._init(model)
        model.add_adapter("default", config=self.adapter_config(model))
        model.train_adapter("default")
        return model

    def record(self, model: Any) -> dict[str, Any]:
        """Options as used, with the bottleneck size."""
        hidden = int(getattr(model.config, "hidden_size", 0))
        used = self.adapter_config(model).to_dict().get("original_ln_before")
        return {
            **self.options.model_dump(mode="json"),
            "original_ln_before": used,
            "bottleneck": hidden // self.options.reduction_factor,
        }

    def save(self, model: Any, folder: Path, adapters: list[str]) -> None:
        """``save_adapter`` for ``default`` (and the trained parent into ``parent/``)."""
        folder.mkdir(parents=True, exist_ok=True)
        model.save_adapter(str(folder), "default", with_head=False)
        if "parent" in adapters:
            model.save_adapter(str(folder / "parent"), "parent", with_head=False)

    def load(self, base: Any, folder: Path, name: str, into: Any = None, trainable: bool = False) -> Any:
        """``load_adapter(folder, load_as=name)``; trainable when asked."""
        model = self._init(into if into is not None else base)
        model.load_adapter(str(folder), load_as=name, set_active=True, with_head=False)
        if trainable:
            model.train_adapter(name)
        return model

    def merge(self, base: Any, folder: Path) -> Any:
        """Bottleneck adapters do not merge."""
        raise SpecError(f"{folder}: bottleneck adapters ({self.config_name}) cannot be merged into the base weights")

    def activate(self, model: Any, names: list[str]) -> None:
        """``Stack(*names)`` (bottom first)."""
        from adapters.composition import Stack

        model.set_active_adapters(Stack(*names) if len(names) > 1 else names[0])

    def stack_for_training(self, model: Any, parent: Path, trainable: bool, model_path: str) -> Any:
        """Parent loaded, ``default`` added on top; both active as a ``Stack``; only ``default``
        (and the parent, for the trainable arm) train."""
        from adapters.composition import Stack

        self.load(model, parent, "parent")
        model.add_adapter("default", config=self.adapter_config(model))
        model.train_adapter(Stack("parent", "default") if trainable else "default")
        model.set_active_adapters(Stack("parent", "default"))
        return model


class Houlsby(AdapterHubMethod):
    """Two bottleneck adapters per layer (Houlsby et al. 2019)."""

    description = "Houlsby bottleneck adapters, two per layer (AdapterHub DoubleSeqBnConfig)"
    config_name = "DoubleSeqBnConfig"
    peft_type = "ADAPTERHUB_HOULSBY"
    signature = {"mh_adapter": True, "output_adapter": True, "phm_layer": False}


class Pfeiffer(AdapterHubMethod):
    """One bottleneck adapter per layer (Pfeiffer et al. 2021)."""

    description = "Pfeiffer bottleneck adapters, one per layer (AdapterHub SeqBnConfig)"
    config_name = "SeqBnConfig"
    peft_type = "ADAPTERHUB_PFEIFFER"
    signature = {"mh_adapter": False, "output_adapter": True, "phm_layer": False}


class Compacter(AdapterHubMethod):
    """Houlsby's positions with PHM layers (Mahabadi et al. 2021)."""

    Options = CompacterOptions
    description = "Compacter: PHM bottleneck adapters (AdapterHub CompacterConfig)"
    config_name = "CompacterConfig"
    peft_type = "ADAPTERHUB_COMPACTER"
    signature = {"mh_adapter": True, "output_adapter": True, "phm_layer": True}
