"""Built-in reports plugin (placeholder until its issue fills it)."""

from __future__ import annotations
