"""The frozen ``mx_legal`` task data: where it lives, checking it against its manifest, reading it.

The task YAMLs load their documents through here (``tasks/mx_legal/utils.py``), so a data file
that no longer matches the content hash in ``manifest.json`` is an error wherever the task runs:
through the harness or through plain ``lm_eval``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import DataError

log = logging.getLogger("harness")

MANIFEST = "manifest.json"
#: data key → file name under ``tasks/mx_legal/data``
FILES = {
    "ppl": "ppl.jsonl",
    "mc": "qa_mc.jsonl",
    "gen": "qa_gen.jsonl",
    "sum": "sum.jsonl",
    "lqa": "legal_qa.jsonl",
}
#: lm-eval task name → data key
TASKS = {
    "mx_legal_ppl": "ppl",
    "mx_legal_law_id": "mc",
    "mx_legal_cloze": "gen",
    "mx_legal_heading": "sum",
    "mx_legal_qa_closed": "lqa",
    "mx_legal_qa_open": "lqa",
    "mx_legal_qa_short": "lqa",
}
#: fields of each item that hold text a model could have seen
TEXT_FIELDS = {
    "ppl": ("text",),
    "mc": ("article", "choices"),
    "gen": ("context", "answer"),
    "sum": ("text", "summary"),
    "lqa": ("question", "choices", "support", "article", "accept"),
}
#: data keys whose articles stay in the DAPT corpus: knowing the law is what DAPT is for, so the
#: legal-QA articles are kept out of instruction generation (and decontaminated) but not of DAPT
SFT_ONLY = frozenset({"lqa"})
#: what a data file's articles are kept out of (the manifest's ``excluded_from``)
EXCLUDED_FROM = {key: ["sft"] if key in SFT_ONLY else ["dapt", "sft"] for key in FILES}


def data_dir() -> Path:
    """``tasks/mx_legal/data`` of the installed task package."""
    from harness.paths import tasks_dir

    return tasks_dir() / "mx_legal" / "data"


def file_sha256(path: Path) -> str:
    """Content hash of one data file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The data manifest, or a :class:`DataError` naming the missing file."""
    path = (folder or data_dir()) / MANIFEST
    if not path.is_file():
        raise DataError("task data manifest missing: run `harness tasks build`", file=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"task data manifest is not valid JSON: {exc}", file=str(path)) from None


def manifest_hash(folder: Path | None = None) -> str:
    """Hash of the manifest (which holds every file's hash): the data's identity in cache keys."""
    path = (folder or data_dir()) / MANIFEST
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def verify(key: str, folder: Path | None = None) -> Path:
    """Path of one data file after checking it against the manifest (DataError if it differs)."""
    folder = folder or data_dir()
    manifest = read_manifest(folder)
    name = FILES[key]
    path = folder / name
    entry = manifest.get("files", {}).get(name)
    if entry is None:
        raise DataError(
            f"task data file {name} is not in the manifest; rebuild with `harness tasks build`",
            file=str(folder / MANIFEST),
        )
    if not path.is_file():
        raise DataError("task data file missing; rebuild with `harness tasks build`", file=str(path))
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise DataError(
            f"task data does not match its manifest (sha256 {actual[:12]}… ≠ {entry['sha256'][:12]}…); "
            "the frozen data was edited: restore it or rebuild with `harness tasks build`",
            file=str(path),
        )
    return path


@lru_cache(maxsize=16)
def _load_cached(key: str, folder: str, sha: str) -> tuple[dict[str, Any], ...]:
    rows = []
    with open(Path(folder) / FILES[key], encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"line {number}: {exc}", file=str(Path(folder) / FILES[key])) from None
    return tuple(rows)


def load_items(key: str, folder: Path | None = None) -> list[dict[str, Any]]:
    """The verified items of one data key (``ppl``, ``mc``, ``gen``, ``sum`` or ``lqa``)."""
    folder = folder or data_dir()
    path = verify(key, folder)
    return list(_load_cached(key, str(folder), file_sha256(path)))


def heldout_article_ids(folder: Path | None = None) -> set[str]:
    """Article ids that training data must never contain."""
    return set(read_manifest(folder).get("heldout_article_ids", []))


def sft_excluded_article_ids(folder: Path | None = None) -> set[str]:
    """Article ids kept out of instruction generation only (the legal-QA items' articles)."""
    return set(read_manifest(folder).get("sft_excluded_article_ids", []))


def _keys_for(task_names: list[str]) -> list[str]:
    from harness.evaluation.catalog import expand

    keys: list[str] = []
    for name in task_names:
        for task in expand(name):
            key = TASKS.get(task)
            if key is None:
                log.warning("no frozen data for task %r: it is skipped for decontamination", task)
            elif key not in keys:
                keys.append(key)
    return keys


def iter_eval_texts(task_names: list[str]) -> Iterator[str]:
    """Every text (prompts' contexts, answers, options) of the frozen items of the named tasks/groups.

    Names without frozen data (lm-eval's built-in tasks, user YAMLs) are skipped with a warning.
    """
    for key in _keys_for(task_names):
        for item in load_items(key):
            for field in TEXT_FIELDS[key]:
                value = item.get(field)
                if isinstance(value, list):
                    yield from (str(v) for v in value)
                elif value:
                    yield str(value)
