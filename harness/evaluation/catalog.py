"""Finding lm-eval tasks by name: the shipped ``tasks/``, a user's YAML path, or lm-eval's own."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

import yaml

from harness.paths import tasks_dir


def _task_docs(folder: Path) -> list[tuple[Path, dict]]:
    """Every task or group YAML under ``folder`` (data folders and item sources skipped)."""
    docs = []
    for path in sorted(folder.rglob("*.yaml")):
        if {"data", "legal_qa"} & set(path.relative_to(folder).parts):
            continue
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_IgnoreTagsLoader) or {}
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict):
            docs.append((path, doc))
    return docs


def _yaml_names(folder: Path) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path, doc in _task_docs(folder):
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
def shipped_groups() -> dict[str, list[str]]:
    """Each shipped group and its member tasks, in the order its YAML lists them."""
    groups: dict[str, list[str]] = {}
    for _, doc in _task_docs(tasks_dir()):
        name, members = doc.get("group"), doc.get("task")
        if isinstance(name, str) and isinstance(members, list):
            groups[name] = [m for m in members if isinstance(m, str)]
    return groups


@lru_cache(maxsize=1)
def group_titles() -> dict[str, str]:
    """Each shipped group's display title (its YAML's ``metadata.title``, else its name)."""
    titles: dict[str, str] = {}
    for _, doc in _task_docs(tasks_dir()):
        name, metadata = doc.get("group"), doc.get("metadata")
        if isinstance(name, str):
            title = metadata.get("title") if isinstance(metadata, dict) else None
            titles[name] = str(title) if title else name
    return titles


def group_of(task: str) -> str | None:
    """The first shipped group (in name order) that lists ``task``; None for other tasks."""
    return next((g for g, members in sorted(shipped_groups().items()) if task in members), None)


def expand(name: str) -> list[str]:
    """A shipped group's member tasks, or the name itself."""
    return list(shipped_groups().get(name, [name]))


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
