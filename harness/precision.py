"""The compute precision of training and evaluation: ``precision: auto | fp32 | bf16 | fp16``.

Precision here is *mixed* precision: weights and optimizer states stay in the dtype the model is
loaded in (``model.dtype``, float32 by default) and matmuls run under ``torch.autocast``.

``auto`` picks by what the hardware does fast:

- a CUDA device that supports bf16 → ``bf16`` (and TF32 matmuls for whatever still runs in fp32);
- a CPU with AMX-BF16 or AVX-512 BF16 → ``bf16`` (oneDNN runs bf16 matmuls on those units);
- anything else → ``fp32``.  On a CPU without those instructions bf16 autocast is *emulated* and
  slower than fp32 (on an AVX2-only EPYC: one Gemma-3-270M forward of 8 × 300 tokens took 5.0 s
  in fp32 and 27 s under bf16 autocast), so ``auto`` never picks it there.

``fp16`` is offered on CUDA only: transformers' Trainer has no fp16 path on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.errors import SpecError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: resolved precision → the torch dtype name it computes in
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass(frozen=True)
class Precision:
    """A resolved precision and why it was picked."""

    name: str  # fp32 | bf16 | fp16
    reason: str
    device: str  # cpu | cuda

    @property
    def autocast_dtype(self) -> Any:
        """``torch.bfloat16`` / ``torch.float16`` for autocast, ``None`` for fp32."""
        import torch

        return None if self.name == "fp32" else getattr(torch, DTYPES[self.name])

    def trainer_flags(self) -> dict[str, bool]:
        """:func:`trainer_flags` of this precision."""
        return trainer_flags(self.name)

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"


def cpu_bf16_units() -> list[str]:
    """The CPU's native bf16 matmul units that torch sees: ``amx_bf16``, ``avx512_bf16``."""
    import torch

    found = []
    cpu = getattr(torch, "cpu", None)
    if cpu is not None and getattr(cpu, "_is_amx_tile_supported", lambda: False)():
        found.append("amx_bf16")
    if cpu is not None and getattr(cpu, "_is_avx512_bf16_supported", lambda: False)():
        found.append("avx512_bf16")
    return found


def _cuda_tf32() -> bool:
    """Whether a CUDA device is present and runs TF32 matmuls (Ampere and newer)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8


def trainer_flags(name: str) -> dict[str, bool]:
    """``bf16`` / ``fp16`` (and ``tf32`` where the GPU has it) for ``TrainingArguments`` and TRL's
    ``SFTConfig``: mixed precision with fp32 master weights.  Both flags are always set, because
    TRL's ``SFTConfig`` turns ``bf16`` on when it is left out."""
    flags = {"bf16": name == "bf16", "fp16": name == "fp16"}
    if _cuda_tf32():
        flags["tf32"] = True
    return flags


def resolve_precision(requested: str, device: str | None = None) -> Precision:
    """``auto`` → what this machine runs fast; an explicit choice is checked against the device."""
    import torch

    if requested not in PRECISIONS:
        raise SpecError(f"unknown precision {requested!r}; choose {', '.join(PRECISIONS)}", field="precision")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "fp16" and device != "cuda":
        raise SpecError("precision fp16 needs a CUDA device; on CPU use bf16 or fp32", field="precision")
    if requested == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise SpecError("this CUDA device has no bf16 support; use fp16 or fp32", field="precision")
    if requested != "auto":
        return Precision(requested, "requested", device)
    if device == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision("bf16", f"auto: {torch.cuda.get_device_name()} supports bf16", device)
        return Precision("fp32", "auto: this CUDA device has no bf16", device)
    units = cpu_bf16_units()
    if units:
        return Precision("bf16", f"auto: the CPU has {' and '.join(units)}", device)
    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    return Precision("fp32", f"auto: the CPU has no AMX or AVX-512 BF16 (capability {capability})", device)


def configure_backends(precision: Precision) -> None:
    """TF32 matmuls for the fp32 paths on CUDA (Ampere and newer); nothing to set on CPU."""
    if precision.device != "cuda" or not _cuda_tf32():
        return  # nothing to set on CPU
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
