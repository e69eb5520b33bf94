"""harness: a plugin-based evaluation-and-benchmark harness for domain adaptation with PEFT.

The Python API (documented in docs/api.md): :func:`run` a benchmark spec, :func:`leaderboard`
of finished runs as a pandas DataFrame, :func:`export` a system for plain transformers/PEFT.
They are imported on first use, so that ``import harness`` stays light.
"""

from __future__ import annotations

from typing import Any

from harness.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "export", "hookimpl", "leaderboard", "run"]


def __getattr__(name: str) -> Any:
    if name in ("run", "export"):
        from harness import api

        return getattr(api, name)
    if name == "leaderboard":  # the subpackage, callable as the API function
        import importlib

        return importlib.import_module("harness.leaderboard")
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
