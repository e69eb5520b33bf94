"""``manifest.json``: the spec as resolved, profile, seeds, versions, git sha, hardware, stages."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from harness.components import ResolvedModel
    from harness.pipeline import Pipeline
    from harness.spec.load import LoadedSpec

PACKAGES = (
    "harness",
    "torch",
    "transformers",
    "peft",
    "trl",
    "lm_eval",
    "datasets",
    "accelerate",
    "bitsandbytes",
    "pluggy",
)


def package_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour the results depend on."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_sha() -> str:
    """The harness checkout's commit, when it runs from one."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware() -> dict[str, Any]:
    """CPU, memory and accelerator of this machine."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return info


def build_manifest(
    loaded: LoadedSpec, model: ResolvedModel, pipeline: Pipeline, run_id: str, stages: list[Any]
) -> dict[str, Any]:
    """Everything needed to reproduce and to compare a run."""
    adapters = {}
    for plan in pipeline.adapters:
        stage = pipeline.adapter_stages[plan.name]
        record = stage.record or {}
        adapters[plan.name] = {
            "role": plan.role,
            "trainer": plan.trainer,
            "method": plan.method,
            "method_options": record.get("method_options", plan.method_options),
            "hyperparameters": plan.hyperparameters,
            "budget": plan.budget,
            "parent": plan.parent,
            "parent_trainable": plan.parent_trainable,
            "sweep": plan.sweep,
            "efficiency": record.get("efficiency", {}),
        }
    candidates = {
        name: {"role": "candidate", "path": str(s.inputs[name].output)}
        for name, s in pipeline.eval_stages.items()
        if name in s.inputs
    }
    adapters.update(candidates)
    evaluation = {
        name: {"eval_seconds": (s.record or {}).get("eval_seconds", (s.record or {}).get("seconds"))}
        for name, s in pipeline.eval_stages.items()
    }
    return {
        "name": loaded.spec.name,
        "run_id": run_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "spec_file": str(loaded.path),
        "spec": loaded.spec.model_dump(mode="json", exclude={"profiles"}),
        "profile": loaded.profile,
        "profile_reason": loaded.profile_reason,
        "precision": {"name": loaded.precision.name, "reason": loaded.precision.reason},
        "seed": loaded.spec.seed,
        "model": model.describe(),
        "systems": [
            {
                "name": s.name,
                "adapters": s.adapters,
                "composition": s.composition,
                "weights": s.weights,
                "prompt_format": s.prompt_format,
            }
            for s in pipeline.systems
        ],
        "adapters": adapters,
        "evaluation": evaluation,
        "stages": {
            s.name: {
                "kind": s.kind,
                "key": s.key,
                "cached": s.cached,
                "seconds": (s.record or {}).get("seconds"),
                "output": str(s.output),
            }
            for s in stages
        },
        "packages": package_versions(),
        "git_sha": git_sha(),
        "hardware": hardware(),
    }
