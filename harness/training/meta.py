"""The harness's note inside each adapter folder (``harness_adapter.json``) and the base-model check.

A saved adapter is a standard PEFT folder; this small JSON beside ``adapter_config.json`` says
which base model (reference and revision) it was trained for, its method, and how it relates to
its parent adapter, so composition can refuse an adapter meant for another model by name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.components import ResolvedModel
from harness.errors import DataError
from harness.paths import write_json

META_FILE = "harness_adapter.json"
#: sub-folder of an SFT adapter that holds the DAPT adapter it updated (trainable arm)
PARENT_DIR = "parent"


def write_meta(folder: Path, model: ResolvedModel, **fields: Any) -> dict[str, Any]:
    """Write ``harness_adapter.json`` naming the base model this adapter belongs to, and the copy of
    it that was trained on (``source``, ``notes``: e.g. the dequantized GGUF of the PyPI package)."""
    base = {"reference": model.reference, "revision": model.revision, "source": model.source, "notes": model.notes}
    meta = {"base_model": base, **fields}
    write_json(folder / META_FILE, meta)
    return meta


def make_portable(folder: Path, model: ResolvedModel) -> None:
    """Point ``adapter_config.json`` at the model's id (``google/gemma-3-270m``) instead of the
    local cache folder the harness loaded, so the folder loads elsewhere with plain PEFT; the copy
    actually used stays in ``harness_adapter.json``."""
    path = folder / "adapter_config.json"
    if not path.is_file():
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    if "peft_type" not in config:
        return  # not PEFT's record (an AdapterHub adapter names its base in its own format)
    config["base_model_name_or_path"] = model.reference
    write_json(path, config)


def read_meta(folder: Path) -> dict[str, Any]:
    """The harness note of an adapter folder, or ``{}`` for a foreign PEFT folder."""
    path = folder / META_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def is_adapter_folder(folder: Path) -> bool:
    """A PEFT folder (``adapter_config.json``), or one a harness method saved in its own format
    (``harness_adapter.json`` naming its ``kind``: BitFit's biases)."""
    return (folder / "adapter_config.json").is_file() or bool(read_meta(folder).get("kind"))


def check_adapter_folder(folder: Path, model: ResolvedModel) -> dict[str, Any]:
    """Fail with a clear message when ``folder`` is no adapter or belongs to another base model."""
    config_path = folder / "adapter_config.json"
    if not is_adapter_folder(folder):
        raise DataError(f"{folder} is not a PEFT adapter folder (no adapter_config.json)", file=str(folder))
    meta = read_meta(folder)
    base = meta.get("base_model") or {}
    if base and (base.get("revision"), base.get("reference")) != (model.revision, model.reference):
        if base.get("revision") != model.revision:
            raise DataError(
                f"adapter {folder} was trained for base model {base.get('reference')!r} "
                f"(revision {base.get('revision')}) but the system uses {model.reference!r} "
                f"(revision {model.revision})",
                file=str(folder),
            )
    if not base and config_path.is_file():
        # a foreign adapter: the only hint is peft's own record of the base model
        config = json.loads(config_path.read_text(encoding="utf-8"))
        named = config.get("base_model_name_or_path") or ""
        known = {model.reference, str(model.path)}
        if named and named not in known and Path(named).name != Path(model.path).name:
            meta["foreign_base"] = named
    return meta


def base_model_mismatch(folder: Path, model: ResolvedModel, error: Exception) -> DataError:
    """Turn peft's shape-mismatch error into one that names both base models."""
    path = folder / "adapter_config.json"
    config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    named = (
        config.get("base_model_name_or_path")
        or (read_meta(folder).get("base_model") or {}).get("reference")
        or "unknown"
    )
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = next((line for line in lines if "size mismatch" in line), lines[0] if lines else "")[:240]
    return DataError(
        f"adapter {folder} does not fit base model {model.reference!r}: it was trained for {named!r} ({first})",
        file=str(folder),
    )
