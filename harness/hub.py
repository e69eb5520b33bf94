"""The Hugging Face hub from an offline-first harness: is it there, and what is already cached.

``huggingface_hub`` retries a failed request with back-off (about 25 s per file on a machine
without network).  The harness asks once per process whether the hub answers at all and skips it
when it does not, so that offline runs go straight to their local fallbacks.
"""

from __future__ import annotations

import logging
import os
import socket
from functools import lru_cache
from urllib.parse import urlparse

log = logging.getLogger("harness")


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` is set: never contact the hub."""
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=4)
def _reachable(endpoint: str, timeout: float) -> bool:
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError as exc:
        log.warning("Hugging Face hub %s unreachable (%s); using local copies only", endpoint, exc)
        return False


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub (``HF_ENDPOINT`` or huggingface.co) accepts a connection; asked once per process."""
    if hub_offline():
        return False
    return _reachable(os.environ.get("HF_ENDPOINT", "https://huggingface.co"), timeout)


def cached_snapshot(repo_id: str, **kwargs: object) -> str | None:
    """Local folder of a hub repository already in the Hugging Face cache, or None."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, local_files_only=True, **kwargs)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - not cached (or not a valid id)
        return None
