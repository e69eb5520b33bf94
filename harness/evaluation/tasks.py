"""Spec task names → what lm-eval loads: names, include paths, per-task limits, identities.

A spec names shipped tasks (``mx_legal``, ``mx_legal_ppl``), a user's YAML file or folder, or an
lm-eval built-in task.  Shipped groups are expanded to their tasks so ``task_limits`` can cut
each one; every task gets an identity for the cache key (its YAML text and, for shipped tasks, the
data manifest hash).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import DataError, SpecError
from harness.evaluation.catalog import expand, group_of, resolve_task, shipped_groups, shipped_tasks
from harness.evaluation.taskdata import TASKS, manifest_hash
from harness.paths import tasks_dir


@dataclass
class TaskRef:
    """One lm-eval task (or group) to run, and where its YAML lives."""

    name: str
    kind: str  # shipped | path | lm_eval
    include_path: Path | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    #: the shipped group it belongs to (the leaderboard groups its columns by it)
    group: str | None = None


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _sha_files(paths: list[Path], root: Path) -> str:
    """One hash over several files, their names (relative to ``root``) included."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _shipped_identity(task: str, yaml_path: Path | None) -> dict[str, Any]:
    """What a shipped task's results depend on: the YAMLs and code of its folder, and its data
    (the ``mx_legal`` data manifest, or every file of the folder's ``data/``)."""
    if yaml_path is None:
        return {}
    folder = yaml_path.parent
    ident: dict[str, Any] = {
        "yaml": _sha(yaml_path),
        "folder": _sha_files(sorted([*folder.glob("*.yaml"), *folder.glob("*.py")]), folder),
    }
    if task in TASKS:
        ident["data_manifest"] = manifest_hash()[:16]
    elif (folder / "data").is_dir():
        ident["data"] = _sha_files(sorted(p for p in (folder / "data").rglob("*") if p.is_file()), folder)
    return ident


class _NamesLoader(yaml.SafeLoader):
    """Reads ``task``/``group`` of a YAML with ``!function`` tags left unresolved."""


_NamesLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _names_in_yaml(path: Path) -> list[str]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_NamesLoader) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"task YAML does not parse: {exc}", file=str(path)) from None
    name = doc.get("group") or doc.get("task") if isinstance(doc, dict) else None
    if not isinstance(name, str):
        raise DataError("task YAML has no 'task' or 'group' name", file=str(path))
    return [name]


def resolve_tasks(names: list[str], base_dir: Path) -> list[TaskRef]:
    """Resolve spec task names; unknown names are a :class:`SpecError` with close matches."""
    import lm_eval

    refs: list[TaskRef] = []
    for i, name in enumerate(names):
        try:
            kind, path = resolve_task(name, base_dir)
        except LookupError as exc:
            raise SpecError(str(exc), field=f"evaluation.tasks[{i}]") from None
        if kind == "shipped":
            for task in expand(name):
                ident = _shipped_identity(task, shipped_tasks().get(task, path))
                refs.append(TaskRef(task, "shipped", tasks_dir(), ident, group_of(task)))
        elif kind == "path":
            assert path is not None
            files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
            ident = {str(f.relative_to(path if path.is_dir() else path.parent)): _sha(f) for f in files}
            for extra in sorted((path if path.is_dir() else path.parent).glob("*.py")):
                ident[extra.name] = _sha(extra)
            task_names = [n for f in files for n in _names_in_yaml(f)]
            include = path if path.is_dir() else path.parent
            refs += [TaskRef(n, "path", include, {"files": ident}) for n in task_names]
        else:
            refs.append(TaskRef(name, "lm_eval", None, {"lm_eval": lm_eval.__version__}))
    return refs


def effective_limits(refs: list[TaskRef], limit: int | None, task_limits: dict[str, int]) -> dict[str, int | None]:
    """Per task: ``task_limits`` wins, then the run/spec ``limit``."""
    known = {ref.name for ref in refs}
    for name in task_limits:
        if name not in known and name not in shipped_groups():
            raise SpecError(
                f"task_limits names {name!r}, which is not one of the tasks run: {', '.join(sorted(known))}",
                field="evaluation.task_limits",
            )
    out: dict[str, int | None] = {}
    for ref in refs:
        group_limit = next(
            (task_limits[g] for g, members in shipped_groups().items() if ref.name in members and g in task_limits),
            None,
        )
        out[ref.name] = task_limits.get(ref.name, group_limit if group_limit is not None else limit)
    return out


def include_paths(refs: list[TaskRef]) -> list[str]:
    """Folders lm-eval must index besides its own tasks (shipped tasks first)."""
    paths: list[str] = []
    for ref in refs:
        if ref.include_path is not None and str(ref.include_path) not in paths:
            paths.append(str(ref.include_path))
    return paths
