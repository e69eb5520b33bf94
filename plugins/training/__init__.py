"""Built-in training plugin (placeholder until its issue fills it)."""

from __future__ import annotations
