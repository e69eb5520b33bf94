"""harness: a plugin-based evaluation-and-benchmark harness for domain adaptation with PEFT."""

from __future__ import annotations

from harness.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
