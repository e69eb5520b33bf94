"""PEFT methods by name: their options (validated), defaults, and the peft config they build.

Option names are the spec's (``r``, ``alpha``, ``dropout``, ``target_modules`` …); each method
maps them onto its peft config class.  Unknown methods and options are spec errors listing the
valid ones; target modules are checked against the loaded model's linear layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import SpecError

LORA_OPTIONS = {
    "r": 8,
    "alpha": 16,
    "dropout": 0.05,
    "target_modules": None,
    "bias": "none",
    "use_rslora": False,
}


@dataclass(frozen=True)
class Method:
    """One PEFT method: option defaults, and whether it quantizes the base or adds virtual tokens."""

    name: str
    defaults: dict[str, Any]
    quantized: bool = False
    prompt_learning: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


METHODS: dict[str, Method] = {
    "lora": Method("lora", LORA_OPTIONS, description="low-rank adapters (Hu et al. 2021)"),
    "qlora": Method(
        "qlora",
        {**LORA_OPTIONS, "double_quant": True, "compute_dtype": "auto"},
        quantized=True,
        description="LoRA on a 4-bit nf4 base (bitsandbytes)",
    ),
    "dora": Method("dora", LORA_OPTIONS, description="weight-decomposed LoRA"),
    "ia3": Method("ia3", {"target_modules": None, "feedforward_modules": None}, description="(IA)^3 scaling vectors"),
    "prefix": Method(
        "prefix",
        {"num_virtual_tokens": 20, "prefix_projection": False, "encoder_hidden_size": None},
        prompt_learning=True,
        description="prefix tuning (virtual key/values per layer)",
    ),
    "prompt": Method(
        "prompt",
        {"num_virtual_tokens": 20, "init_text": None},
        prompt_learning=True,
        description="prompt tuning (virtual input embeddings)",
    ),
    "loha": Method("loha", {"r": 8, "alpha": 8, "dropout": 0.0, "target_modules": None}, description="LoHa"),
    "lokr": Method("lokr", {"r": 8, "alpha": 8, "dropout": 0.0, "target_modules": None}, description="LoKr"),
}


def get_method(name: str) -> Method:
    """The method called ``name`` or a spec error listing the valid ones."""
    if name not in METHODS:
        raise SpecError(f"unknown PEFT method {name!r}; valid: {', '.join(sorted(METHODS))}", field="method")
    return METHODS[name]


def resolve_options(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in; an unknown option is a spec error listing the method's options."""
    spec = get_method(method)
    unknown = sorted(set(options) - set(spec.defaults))
    if unknown:
        raise SpecError(
            f"unknown option {unknown[0]!r} for PEFT method {method!r}; valid: {', '.join(sorted(spec.defaults))}",
            field=f"method_options.{unknown[0]}",
        )
    resolved = {**spec.defaults, **options}
    for name, (check, wanted) in _CHECKS.items():
        value = resolved.get(name)
        if name in options and value is not None and not check(value):
            raise SpecError(f"{name} must be {wanted} (got {value!r})", field=f"method_options.{name}")
    return resolved


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


#: option → (test, what it must be): numbers that peft would only reject (or misuse) at run time
_CHECKS: dict[str, tuple[Any, str]] = {
    "r": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer"),
    "alpha": (lambda v: _number(v) and v > 0, "a positive number"),
    "dropout": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "num_virtual_tokens": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer"),
    "compute_dtype": (lambda v: v in ("auto", "float32", "bfloat16", "float16"), "auto, float32, bfloat16 or float16"),
}


def compute_dtype(options: dict[str, Any], precision: str) -> str:
    """QLoRA's 4-bit matmul dtype: ``auto`` follows the run's precision (bitsandbytes' kernels
    do not see ``torch.autocast``, so bf16 precision needs a bf16 compute dtype)."""
    value = options.get("compute_dtype", "auto")
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


def peft_config(method: str, options: dict[str, Any], tokenizer_path: str) -> Any:
    """The peft config for a method with resolved options (task type causal LM)."""
    import peft

    o, task = options, "CAUSAL_LM"
    if method in ("lora", "qlora", "dora"):
        return peft.LoraConfig(
            task_type=task,
            r=o["r"],
            lora_alpha=o["alpha"],
            lora_dropout=o["dropout"],
            target_modules=o["target_modules"],
            bias=o["bias"],
            use_rslora=o["use_rslora"],
            use_dora=method == "dora",
        )
    if method == "ia3":
        return peft.IA3Config(
            task_type=task, target_modules=o["target_modules"], feedforward_modules=o["feedforward_modules"]
        )
    if method == "prefix":
        return peft.PrefixTuningConfig(
            task_type=task,
            num_virtual_tokens=o["num_virtual_tokens"],
            prefix_projection=o["prefix_projection"],
            encoder_hidden_size=o["encoder_hidden_size"],
        )
    if method == "prompt":
        init = {"prompt_tuning_init": "RANDOM"}
        if o["init_text"]:
            init = {
                "prompt_tuning_init": "TEXT",
                "prompt_tuning_init_text": o["init_text"],
                "tokenizer_name_or_path": tokenizer_path,
            }
        return peft.PromptTuningConfig(task_type=task, num_virtual_tokens=o["num_virtual_tokens"], **init)
    if method == "loha":
        return peft.LoHaConfig(
            task_type=task,
            r=o["r"],
            alpha=o["alpha"],
            rank_dropout=o["dropout"],
            target_modules=o["target_modules"],
        )
    if method == "lokr":
        return peft.LoKrConfig(
            task_type=task,
            r=o["r"],
            alpha=o["alpha"],
            rank_dropout=o["dropout"],
            target_modules=o["target_modules"],
        )
    raise SpecError(f"unknown PEFT method {method!r}; valid: {', '.join(sorted(METHODS))}", field="method")


def quantization_config(options: dict[str, Any], precision: str = "fp32") -> Any:
    """bitsandbytes 4-bit nf4 config for QLoRA (works on CPU with bitsandbytes ≥ 0.48)."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=bool(options["double_quant"]),
        bnb_4bit_compute_dtype=getattr(torch, compute_dtype(options, precision)),
    )


def resolved_record(method: str, options: dict[str, Any], config: Any) -> dict[str, Any]:
    """Options as actually used after peft filled in architecture defaults (target modules …)."""
    out = dict(options)
    targets = getattr(config, "target_modules", None)
    if "target_modules" in out and targets is not None:
        out["target_modules"] = sorted(targets) if not isinstance(targets, str) else targets
    if method in ("lora", "qlora", "dora", "loha", "lokr"):
        out["scaling"] = out["alpha"] / out["r"]
    if method == "qlora":
        out["quantization"] = "bitsandbytes 4-bit nf4"
    return out
