"""Spec task names → what lm-eval loads: names, include paths, per-task limits, identities.

A spec names shipped tasks (``mx_legal``, ``mx_legal_ppl``), a user's YAML file or folder, or an
lm-eval built-in task.  Shipped groups are expanded to their tasks so ``task_limits`` can cut
each one; every task gets an identity for the cache key (its YAML text and, for shipped tasks, the
data manifest hash).
"""

from __future__ import annotations

import hashlib
import os
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
    #: the metric names its YAML lists (only these metric plugins enter its results' cache key)
    metrics: list[str] = field(default_factory=list)


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
    """Reads a task YAML with its tags left unresolved; ``!function module.name`` becomes
    :class:`FunctionRef` so the module it loads can be found (and hashed)."""


class FunctionRef(str):
    """The ``module.name`` of a ``!function`` tag."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return FunctionRef(node.value) if suffix == "function" and isinstance(node, yaml.ScalarNode) else None


_NamesLoader.add_multi_constructor("!", _tag)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def files_read_by(yaml_path: Path, base_dir: Path, depth: int = 0) -> list[Path]:
    """Every file a task YAML makes lm-eval read: itself, its ``include:`` targets (recursively),
    the modules of its ``!function`` tags, and its ``dataset_kwargs.data_files``.

    lm-eval resolves relative ``data_files`` against the working directory; the harness runs it
    with the spec's folder as base, so they are looked up there, then beside the YAML."""
    doc = _task_doc(yaml_path)
    found = [yaml_path]
    if not isinstance(doc, dict) or depth > 8:
        return found
    include = doc.get("include")
    if isinstance(include, str) and (yaml_path.parent / include).is_file():
        found += files_read_by(yaml_path.parent / include, base_dir, depth + 1)
    for value in _all_values(doc):
        if isinstance(value, FunctionRef):
            module = yaml_path.parent / (value.rsplit(".", 1)[0].replace(".", "/") + ".py")
            if module.is_file():
                found.append(module)
    data_files = (
        (doc.get("dataset_kwargs") or {}).get("data_files") if isinstance(doc.get("dataset_kwargs"), dict) else None
    )
    for name in _strings(data_files):
        for candidate in (Path(name), base_dir / name, yaml_path.parent / name):
            if candidate.is_file():
                found.append(candidate)
                break
    return list(dict.fromkeys(found))


def _all_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _all_values(v)]
    if isinstance(value, list):
        return [x for v in value for x in _all_values(v)]
    return [value]


def _task_doc(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_NamesLoader) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"task YAML does not parse: {exc}", file=str(path)) from None


def metric_names(path: Path, depth: int = 0) -> list[str]:
    """The metrics a task YAML lists in ``metric_list``, or the file it ``include``s lists."""
    doc = _task_doc(path)
    if not isinstance(doc, dict):
        return []
    listed = doc.get("metric_list")
    if isinstance(listed, list):
        return [str(m["metric"]) for m in listed if isinstance(m, dict) and "metric" in m]
    include = doc.get("include")
    if isinstance(include, str) and depth < 8 and (path.parent / include).is_file():
        return metric_names(path.parent / include, depth + 1)
    return []


def _names_in_yaml(path: Path) -> list[str]:
    doc = _task_doc(path)
    name = doc.get("group") or doc.get("task") if isinstance(doc, dict) else None
    if not isinstance(name, str):
        raise DataError("task YAML has no 'task' or 'group' name", file=str(path))
    return [name]


def resolve_tasks(names: list[str], base_dir: Path) -> list[TaskRef]:
    """Resolve spec task names; unknown names are a :class:`SpecError` with close matches."""
    refs: list[TaskRef] = []
    for i, name in enumerate(names):
        try:
            kind, path = resolve_task(name, base_dir)
        except LookupError as exc:
            raise SpecError(str(exc), field=f"evaluation.tasks[{i}]") from None
        if kind == "shipped":
            for task in expand(name):
                yaml_path = shipped_tasks().get(task, path)
                ident = _shipped_identity(task, yaml_path)
                metrics = metric_names(yaml_path) if yaml_path else []
                refs.append(TaskRef(task, "shipped", tasks_dir(), ident, group_of(task), metrics))
        elif kind == "path":
            assert path is not None
            files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
            include = path if path.is_dir() else path.parent
            # everything lm-eval will read for these tasks: editing a data file reruns them
            read = [*files, *sorted(include.glob("*.py"))]
            read += [f for y in files for f in files_read_by(y, base_dir)]
            ident = {os.path.relpath(f.resolve(), include.resolve()): _sha(f) for f in dict.fromkeys(read)}
            for file in files:
                refs += [
                    TaskRef(n, "path", include, {"files": ident}, metrics=metric_names(file))
                    for n in _names_in_yaml(file)
                ]
        else:
            import lm_eval

            refs.append(TaskRef(name, "lm_eval", None, {"lm_eval": lm_eval.__version__}))
    return refs


def unknown_limits(refs: list[TaskRef], task_limits: dict[str, int]) -> list[tuple[str, str]]:
    """``(name, message)`` for every ``task_limits`` key that is neither a task run nor a shipped group."""
    known = {ref.name for ref in refs}
    return [
        (name, f"task_limits names {name!r}, which is not one of the tasks run: {', '.join(sorted(known))}")
        for name in task_limits
        if name not in known and name not in shipped_groups()
    ]


def effective_limits(refs: list[TaskRef], limit: int | None, task_limits: dict[str, int]) -> dict[str, int | None]:
    """Per task: ``task_limits`` wins, then the run/spec ``limit``."""
    for name, message in unknown_limits(refs, task_limits):
        raise SpecError(message, field=f"evaluation.task_limits.{name}")
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
