"""``harness export RUN SYSTEM DIR [--merged]``: one evaluated system as a folder that plain
transformers and PEFT load into the same model the harness evaluated.

- ``--merged``: the system's adapters merged into the base weights (``merge_and_unload``), saved
  with ``save_pretrained`` and the tokenizer: ``AutoModelForCausalLM.from_pretrained(DIR)``.
  Only adapters whose weights can be merged (the LoRA family, IA3) allow it.
- otherwise: the adapter folders of the system, bottom first (an SFT adapter's updated DAPT
  parent in place of the original for the trainable arm), the tokenizer, and a load recipe
  (``harness_export.json`` and the card's snippet): the base from its hub id, each adapter
  loaded with ``PeftModel`` / ``load_adapter`` and all of them set active, as the harness
  stacks them.  Systems that need the harness's own composition (adapters of different PEFT
  types, weighted sums) are exported ``--merged``.

The folder is written under a temporary name and renamed when complete; an existing non-empty
``DIR`` is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from harness.errors import DataError, SpecError
from harness.paths import write_atomic, write_json

#: the files of an adapter folder that travel (not training curves, checkpoints or parents)
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "harness_adapter.json")
EXPORT_FILE = "harness_export.json"


def _manifest(run: Path) -> dict[str, Any]:
    path = run / "manifest.json"
    if not path.is_file():
        raise DataError("not a finished run folder (no manifest.json)", file=str(run))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"cannot read the run manifest: {exc}", file=str(path)) from None


def _system(manifest: dict[str, Any], name: str) -> Any:
    from harness.plan import SystemPlan

    known = [s["name"] for s in manifest.get("systems", [])]
    entry = next((s for s in manifest.get("systems", []) if s["name"] == name), None)
    if entry is None:
        raise SpecError(f"the run has no system {name!r}; its systems: {', '.join(known) or 'none'}", field="SYSTEM")
    return SystemPlan(
        entry["name"],
        list(entry.get("adapters") or []),
        entry.get("composition", "stacked"),
        entry.get("weights"),
        entry.get("prompt_format", "plain"),
    )


def resolved_model(run: Path, manifest: dict[str, Any]) -> Any:
    """The run's base model: the local copy it used, else the run's spec resolved again."""
    from harness.components import ResolvedModel

    described = manifest.get("model") or {}
    path = Path(described.get("path") or "")
    if described.get("path") and (path / "config.json").is_file():
        return ResolvedModel(
            reference=described["reference"],
            path=path,
            revision=described.get("revision", ""),
            source=described.get("source", "local"),
            notes=described.get("notes", ""),
        )
    spec_file = manifest.get("spec_file")
    if not spec_file or not Path(spec_file).is_file():
        raise DataError(
            f"the run's base model copy {described.get('path')} is gone and its spec file is not here to "
            "resolve the model again",
            file=str(run / "manifest.json"),
        )
    from harness.models import resolve_model
    from harness.plugins import build_registry, get_plugin_manager
    from harness.spec.load import load_spec

    registry = build_registry(get_plugin_manager())
    loaded = load_spec(Path(spec_file), manifest.get("profile", "auto"), registry)
    return resolve_model(loaded, registry)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "adapter"


def export_system(run: Path, system_name: str, out: Path, merged: bool = False) -> Path:
    """Write ``system_name`` of the finished run ``run`` to ``out``; returns ``out``."""
    from harness.training.compose import adapter_chain
    from harness.training.meta import is_adapter_folder
    from harness.training.methods import adapter_kind, method_of_folder

    run = Path(run)
    manifest = _manifest(run)
    system = _system(manifest, system_name)
    adapter_dirs = {name: run / "adapters" / name for name in system.adapters}
    missing = [name for name, folder in adapter_dirs.items() if not is_adapter_folder(folder)]
    if missing:
        raise DataError(
            f"system {system_name!r}: no adapter folder for {', '.join(missing)}", file=str(run / "adapters")
        )
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError("the export folder exists and is not empty; choose a new one", file=str(out))
    chain = adapter_chain(system, adapter_dirs)
    kinds = [adapter_kind(folder) for folder in chain]
    methods = [method_of_folder(folder) for folder in chain]
    model = resolved_model(run, manifest)
    dtype = ((manifest.get("spec") or {}).get("model") or {}).get("dtype", "float32")
    unmergeable = [kind for kind, method in zip(kinds, methods) if not method.mergeable]
    if merged and unmergeable:
        raise SpecError(
            f"system {system_name!r} has a {unmergeable[0]} adapter, which cannot be "
            "merged into the base weights; export it without --merged",
            field="--merged",
        )
    peft_folders = all(method.peft_backed for method in methods)
    plain_peft = (
        system.composition == "stacked"
        and peft_folders
        and (len(chain) < 2 or (len(set(kinds)) == 1 and all(m.stackable for m in methods)))
    )
    if not merged and not plain_peft:
        raise SpecError(
            f"system {system_name!r} ({system.composition}, {'/'.join(kinds)}) is composed in a way plain PEFT "
            "does not load from adapter folders; export it with --merged",
            field="--merged",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        recipe = (
            _write_merged(tmp, system, model, adapter_dirs, dtype) if merged else _write_adapters(tmp, chain, model)
        )
        recipe.update(
            system=system.name,
            run=str(run.resolve()),
            run_id=manifest.get("run_id"),
            benchmark=manifest.get("name"),
            dtype=dtype,
            prompt_format=system.prompt_format,
            base_model=model.reference,
            base_model_copy={"source": model.source, "revision": model.revision, "notes": model.notes},
        )
        write_json(tmp / EXPORT_FILE, recipe)
        from harness.cards import system_card

        write_atomic(tmp / "README.md", system_card(run, manifest, system, recipe))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_merged(tmp: Path, system: Any, model: Any, adapter_dirs: dict[str, Path], dtype: str) -> dict[str, Any]:
    from harness.training.compose import build_system_model

    built, tokenizer = build_system_model(system, model, adapter_dirs, dtype)
    if hasattr(built, "merge_and_unload"):
        built = built.merge_and_unload()
    built.config._name_or_path = model.reference
    built.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    return {"format": "merged", "adapters": []}


def _write_adapters(tmp: Path, chain: list[Path], model: Any) -> dict[str, Any]:
    from transformers import AutoTokenizer

    entries = []
    for i, folder in enumerate(chain):
        # a trainable arm's updated parent is <sft>/parent: name it after the adapter it replaces
        label = f"{folder.parent.name}.parent" if folder.name == "parent" else folder.name
        target = tmp / "adapters" / f"{i}_{_safe(label)}"
        target.mkdir(parents=True)
        for name in _ADAPTER_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, target / name)
        entries.append({"adapter_name": f"a{i}", "path": f"adapters/{target.name}", "from": label})
    tokenizer_dir = chain[-1] if chain and (chain[-1] / "tokenizer_config.json").is_file() else model.path
    AutoTokenizer.from_pretrained(str(tokenizer_dir)).save_pretrained(tmp)
    return {"format": "peft-adapters", "adapters": entries}


def load_recipe(recipe: dict[str, Any], folder: str = "DIR") -> str:
    """Python that loads the exported system with plain transformers and PEFT."""
    lines = [
        "import torch",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
    ]
    dtype = recipe.get("dtype", "float32")
    if recipe["format"] == "merged":
        lines += [
            f'model = AutoModelForCausalLM.from_pretrained("{folder}", dtype=torch.{dtype})',
            f'tokenizer = AutoTokenizer.from_pretrained("{folder}")',
        ]
        return "\n".join(lines)
    lines.insert(1, "from peft import PeftModel")
    lines.append(f'base = AutoModelForCausalLM.from_pretrained("{recipe["base_model"]}", dtype=torch.{dtype})')
    adapters = recipe["adapters"]
    if not adapters:
        lines.append("model = base")
    for i, entry in enumerate(adapters):
        if i == 0:
            lines.append(
                f'model = PeftModel.from_pretrained(base, "{folder}/{entry["path"]}", adapter_name="{entry["adapter_name"]}")'
            )
        else:
            lines.append(f'model.load_adapter("{folder}/{entry["path"]}", adapter_name="{entry["adapter_name"]}")')
    if len(adapters) > 1:
        names = ", ".join(f'"{e["adapter_name"]}"' for e in adapters)
        lines.append(f"model.base_model.set_adapter([{names}])  # every adapter active at once, as evaluated")
    lines += [f'tokenizer = AutoTokenizer.from_pretrained("{folder}")', "model.eval()"]
    return "\n".join(lines)
