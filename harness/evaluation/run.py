"""Run lm-eval on one wrapped model: tasks grouped by limit, clear errors for missing datasets.

``simple_evaluate`` takes one ``limit``; tasks with different limits run in one call per limit
value and the results are merged.  lm-eval's built-in tasks need their Hugging Face datasets; when
one is not available offline the failure is turned into a :class:`DataError` naming the task and
the dataset instead of a deep traceback from ``datasets``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from harness.errors import DataError, HarnessError
from harness.evaluation.tasks import TaskRef, include_paths

log = logging.getLogger("harness")

_DATASET_ERRORS = (
    "ConnectionError",
    "OfflineModeIsEnabled",
    "DatasetNotFoundError",
    "FileNotFoundError",
    "HFValidationError",
    "LocalEntryNotFoundError",
    "HfHubHTTPError",
)


def task_manager(refs: list[TaskRef]) -> Any:
    """lm-eval's TaskManager over the shipped tasks and user task folders.

    lm-eval's own ~14k task YAMLs are indexed only when a built-in task is asked for: indexing
    them costs seconds per evaluation.
    """
    from lm_eval.tasks import TaskManager

    wants_builtin = any(ref.kind == "lm_eval" for ref in refs)
    return TaskManager(include_path=include_paths(refs) or None, include_defaults=wants_builtin)


def _dataset_of(manager: Any, name: str) -> str:
    entry = manager.task_index.get(name)
    cfg = getattr(entry, "cfg", None) or {}
    if not cfg and getattr(entry, "yaml_path", None):
        import yaml

        from harness.evaluation.tasks import _NamesLoader

        try:
            cfg = yaml.load(entry.yaml_path.read_text(encoding="utf-8"), Loader=_NamesLoader) or {}
        except (OSError, yaml.YAMLError):
            cfg = {}
    path = cfg.get("dataset_path") if isinstance(cfg, dict) else None
    subset = cfg.get("dataset_name") if isinstance(cfg, dict) else None
    return f"{path}{'/' + subset if subset else ''}" if path else "its dataset"


def _is_dataset_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ in _DATASET_ERRORS or "offline" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def explain_dataset_error(exc: BaseException, manager: Any, names: list[str], refs: list[TaskRef]) -> DataError | None:
    """A :class:`DataError` naming the task and dataset when ``exc`` is an offline dataset failure."""
    if not _is_dataset_error(exc):
        return None
    builtin = [r.name for r in refs if r.kind == "lm_eval" and r.name in names]
    culprit = builtin[0] if builtin else names[0]
    return DataError(
        f"task {culprit!r} needs the dataset {_dataset_of(manager, culprit)}, which is not available "
        f"offline (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE set or no network): run once online to cache "
        f"it, or drop the task from evaluation.tasks ({type(exc).__name__}: {str(exc)[:160]})",
        field="evaluation.tasks",
    )


def evaluate(
    lm: Any,
    refs: list[TaskRef],
    limits: dict[str, int | None],
    num_fewshot: int | None = None,
    bootstrap_iters: int = 1000,
    manager: Any = None,
    seed: int = 0,
    instruction_format: bool = False,
) -> dict[str, Any]:
    """Evaluate ``lm`` on every task; returns lm-eval's merged results dict (with ``samples``).

    ``instruction_format`` renders prompts through ``lm.apply_chat_template`` (lm-eval's
    ``apply_chat_template``); perplexity documents have no prompt and are unaffected.
    """
    from lm_eval import simple_evaluate

    manager = manager or task_manager(refs)
    by_limit: dict[int | None, list[str]] = defaultdict(list)
    for ref in refs:
        by_limit[limits.get(ref.name)].append(ref.name)
    merged: dict[str, Any] = {}
    for limit, names in sorted(by_limit.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        try:
            out = simple_evaluate(
                model=lm,
                tasks=names,
                task_manager=manager,
                limit=limit,
                num_fewshot=num_fewshot,
                bootstrap_iters=bootstrap_iters,
                log_samples=True,
                random_seed=seed,
                numpy_random_seed=seed,
                torch_random_seed=seed,
                fewshot_random_seed=seed,
                apply_chat_template=instruction_format,
            )
        except HarnessError:  # a task data problem, or a metric plugin that failed
            raise
        except Exception as exc:
            explained = explain_dataset_error(exc, manager, names, refs)
            if explained is None:
                raise
            raise explained from None
        if out is None:  # non-zero rank in distributed runs
            continue
        _merge(merged, out)
    return merged


def _merge(into: dict[str, Any], out: dict[str, Any]) -> None:
    for key, value in out.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key].update(value)
        elif key not in into:
            into[key] = value
