"""Where things live: the cache, the shipped tasks and the atomic-write helpers."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The model cache: ``$HARNESS_CACHE_DIR`` or ``~/.cache/harness`` (a :class:`DataError` naming
    it when it cannot be written)."""
    root = os.environ.get("HARNESS_CACHE_DIR") or Path.home() / ".cache" / "harness"
    return writable_dir(Path(root), "HARNESS_CACHE_DIR")


def writable_dir(path: Path, field: str) -> Path:
    """``path``, created if needed, after checking a file can be written in it; otherwise a
    one-line :class:`DataError` naming the folder and the option that chose it (exit 2)."""
    from harness.errors import DataError

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".harness-write-test-"):
            pass
    except OSError as exc:
        raise DataError(f"cannot write to {path}: {exc.strerror or exc}", field=field) from None
    return path


def _mode() -> int:
    """The mode a plain ``mkdir`` gives under the current umask (``mkdtemp`` always gives 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    return True


_TEMP = re.compile(r"^\..+\.(tmp|old)-(\d+)-")
#: a replaced finished folder is kept this long for processes that may still be reading it
OLD_KEEP_SECONDS = 3600


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary folders in ``folder`` whose writing process is gone (left by a kill),
    and replaced stage folders older than an hour; return what was removed."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        match = _TEMP.match(path.name)
        if not match or not path.is_dir():
            continue
        kind, pid = match.group(1), int(match.group(2))
        stale = not _pid_alive(pid) if kind == "tmp" else time.time() - path.stat().st_mtime > OLD_KEEP_SECONDS
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def tasks_dir() -> Path:
    """The folder of the shipped lm-eval tasks (``tasks/`` in a checkout)."""
    import harness_tasks

    return Path(harness_tasks.__file__).resolve().parent


def inside(root: Path, path: Path) -> Path:
    """``path``, after checking that it lies inside ``root`` once ``..`` and links are resolved
    (a ``RuntimeError`` otherwise: no name that reaches here may point outside its folder)."""
    resolved_root = root.resolve()
    # the last component is not resolved: it may be a link into the cache (stages/<name>)
    resolved = Path(os.path.normpath(path.parent.resolve() / path.name))
    if resolved_root != resolved and resolved_root not in resolved.parents:
        raise RuntimeError(f"refusing to write {path}: it is outside {root}")
    return path


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; rename it to ``final`` only if the block succeeds.

    The temporary name carries the process id, so a later run removes it once its writer is gone.
    A ``final`` that already exists (a forced rerun) is renamed aside, not deleted, since another
    process may be reading it; :func:`clean_stale_temps` removes it an hour later."""
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=final.parent))
    tmp.chmod(_mode())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        os.replace(final, final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"))
    os.replace(tmp, final)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file through a temporary name and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        # mkstemp creates 0600; give the file the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None: JSON has no NaN (Python's bare
    ``NaN`` makes a file other JSON readers reject)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Atomic, stable, valid JSON (sorted keys, UTF-8, non-finite numbers as null)."""
    text = json.dumps(finite(obj), indent=2, sort_keys=True, ensure_ascii=False, default=str, allow_nan=False)
    write_atomic(path, text + "\n")
