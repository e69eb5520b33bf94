"""Finding lm-eval tasks by name: the shipped ``tasks/``, a user's YAML path, or lm-eval's own."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

import yaml

from harness.paths import tasks_dir


def _yaml_names(folder: Path) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.yaml")):
        if "data" in path.relative_to(folder).parts:
            continue
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_IgnoreTagsLoader) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict):
            continue
        for key in ("task", "group"):
            value = doc.get(key)
            if isinstance(value, str):
                names.setdefault(value, path)
    return names


class _IgnoreTagsLoader(yaml.SafeLoader):
    """lm-eval YAMLs use ``!function``; the catalog only needs the names."""


_IgnoreTagsLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@lru_cache(maxsize=1)
def shipped_tasks() -> dict[str, Path]:
    """Task and group names defined under the shipped ``tasks/`` folder."""
    return _yaml_names(tasks_dir())


@lru_cache(maxsize=1)
def lm_eval_tasks() -> frozenset[str]:
    """Every task, group and tag lm-eval itself knows (indexing takes a few seconds)."""
    from lm_eval.tasks import TaskManager

    return frozenset(TaskManager().all_tasks)


def resolve_task(name: str, base_dir: Path) -> tuple[str, Path | None]:
    """Return ``(kind, path)``: kind is ``shipped``, ``path`` (a user's YAML) or ``lm_eval``.

    Raises ``LookupError`` with close matches when the name is unknown.
    """
    if name in shipped_tasks():
        return "shipped", shipped_tasks()[name]
    candidate = (base_dir / name).resolve() if not Path(name).is_absolute() else Path(name)
    if name.endswith((".yaml", ".yml")) or candidate.is_dir():
        if candidate.exists():
            return "path", candidate
        raise LookupError(f"task file {name!r} not found (looked at {candidate})")
    if name in lm_eval_tasks():
        return "lm_eval", None
    pool = list(shipped_tasks()) + list(lm_eval_tasks())
    close = difflib.get_close_matches(name, pool, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise LookupError(f"unknown task {name!r}{hint}")
