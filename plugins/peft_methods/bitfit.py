"""BitFit (Ben Zaken et al. 2022): train a model's existing bias terms and nothing else.

PEFT has no BitFit tuner, and a bias-only adapter needs no layer wrapping: the method unfreezes the
base's own bias parameters, saves exactly those tensors (``bitfit.safetensors``) and loads them
back into a base by copying.  Loading is therefore always a merge (the biases *are* base weights),
so a BitFit adapter composes under others by merging and does not share a model with another one.

Gemma-3 has no bias terms (``attention_bias=False``, bias-free MLP and norms): there ``bitfit`` is a
spec error naming the stand-ins, ``beft`` (PEFT ``BeftConfig``: new bias vectors on the linear
layers) and ``ln_tuning`` (PEFT ``LNTuningConfig``: the norm layers' weights).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.components import Options, PeftMethod
from harness.errors import DataError, SpecError

WEIGHTS = "bitfit.safetensors"


class BitFitOptions(Options):
    """BitFit's options."""

    #: regular expression over full parameter names choosing which bias terms train (all if unset)
    bias_pattern: str | None = None


def bias_names(model: Any, pattern: str | None = None) -> list[str]:
    """Names of the model's bias parameters (``….bias``), optionally those matching ``pattern``."""
    names = [n for n, _ in model.named_parameters() if n == "bias" or n.endswith(".bias")]
    return [n for n in names if pattern is None or re.search(pattern, n)]


class BitFit(PeftMethod):
    """Bias-terms fine-tuning: the model's own biases train, every other weight is frozen."""

    Options = BitFitOptions
    description = "BitFit: the model's existing bias terms only (Ben Zaken et al. 2022)"
    #: the kind its folders record (``harness_adapter.json``): no PEFT type
    peft_type = "BITFIT"
    stackable = False
    mergeable = True
    peft_backed = False
    list_options = frozenset()

    def check_options(self) -> None:
        """The pattern compiles."""
        if self.options.bias_pattern is not None:
            try:
                re.compile(self.options.bias_pattern)
            except re.error as exc:
                raise SpecError(
                    f"bias_pattern is no regular expression: {exc}", field="method_options.bias_pattern"
                ) from None

    def check_model(self, model: Any) -> None:
        """The model has bias terms (the pattern matches some)."""
        if not bias_names(model):
            kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
            raise SpecError(
                f"bitfit trains a model's bias terms and {kind} has none; use a stand-in: beft (PEFT BeftConfig, "
                "new bias vectors on the linear layers) or ln_tuning (PEFT LNTuningConfig, the norm layers)",
                field="method",
            )
        if not bias_names(model, self.options.bias_pattern):
            raise SpecError(
                f"bias_pattern {self.options.bias_pattern!r} matches none of the model's bias terms "
                f"(e.g. {', '.join(bias_names(model)[:3])})",
                field="method_options.bias_pattern",
            )

    def attach(self, model: Any, model_path: str) -> Any:
        """Freeze everything, then unfreeze the chosen bias terms."""
        chosen = set(bias_names(model, self.options.bias_pattern))
        for name, param in model.named_parameters():
            param.requires_grad_(name in chosen)
        return model

    def record(self, model: Any) -> dict[str, Any]:
        """Options, and how many bias tensors train."""
        trainable = [n for n, p in model.named_parameters() if p.requires_grad]
        return {**self.options.model_dump(mode="json"), "bias_tensors": len(trainable)}

    def save(self, model: Any, folder: Path, adapters: list[str]) -> None:
        """The trainable bias tensors, by parameter name."""
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        tensors = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
        save_file(tensors, str(folder / WEIGHTS))

    def load(self, base: Any, folder: Path, name: str, into: Any = None, trainable: bool = False) -> Any:
        """Copy the saved biases into ``base`` (or ``into``); they train on when ``trainable``."""
        import torch
        from safetensors.torch import load_file

        model = into if into is not None else base
        path = folder / WEIGHTS
        if not path.is_file():
            raise DataError(f"{folder} is no BitFit adapter (no {WEIGHTS})", file=str(folder))
        params = dict(model.named_parameters())
        with torch.no_grad():
            for key, value in load_file(str(path)).items():
                if key not in params or params[key].shape != value.shape:
                    raise DataError(
                        f"BitFit adapter {folder} does not fit this model: {key} "
                        + ("is not one of its parameters" if key not in params else f"has shape {tuple(value.shape)}"),
                        file=str(folder),
                    )
                params[key].copy_(value.to(params[key].dtype))
                params[key].requires_grad_(trainable)
        return model

    def merge(self, base: Any, folder: Path) -> Any:
        """The biases copied in (loading is merging)."""
        return self.load(base, folder, "merge")
