"""Model cards (Hugging Face ``README.md`` with YAML front matter) for adapters and exported systems.

A card says what the artifact is and what it was measured to do: the base model and the copy of
it that was used, the language, the licences, the training data and budget, the PEFT method and
its options, the adapter it sits on, and the leaderboard metrics of the system with their 95%
confidence intervals.  ``harness run`` writes one into every ``runs/…/adapters/<name>/`` (in
place of PEFT's blank template); ``harness export`` writes one for the exported system.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

#: what the shipped corpus is, for the cards' data section
_CORPUS = (
    "the 313 Mexican federal laws in force on 14 October 2021 (Cámara de Diputados, texts in the public "
    "domain), cleaned of page furniture and reform notes and split into articles"
)


def _licence(reference: str) -> str:
    """The base model's licence id on the Hugging Face hub where it is known, else ``other``."""
    name = reference.lower()
    if "gemma" in name:
        return "gemma"
    if "llama" in name and "/" in name:
        return "llama3"
    return "other"


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def metrics_table(results: dict[str, Any]) -> list[str]:
    """Markdown rows ``task | metric | value [95% CI] | n`` of one system's results.json."""
    rows = ["| task | metric | value [95% CI] | n |", "| --- | --- | ---: | ---: |"]
    for task in results.get("task_order") or sorted(results.get("tasks", {})):
        summary = (results.get("tasks") or {}).get(task)
        if not summary:
            continue
        for metric, cell in sorted(summary.get("metrics", {}).items()):
            value = cell.get("value")
            if value is None:
                continue
            ci = cell.get("ci95")
            shown = f"{_fmt(value)} [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else _fmt(value)
            rows.append(f"| {task} | {metric} | {shown} | {summary.get('n', '')} |")
    return rows if len(rows) > 2 else []


def _adapter_lines(record: dict[str, Any], meta: dict[str, Any], name: str) -> list[str]:
    eff = record.get("efficiency") or {}
    options = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted((meta.get("method_options") or {}).items()))
    parent = meta.get("parent")
    label = meta.get("method_label") or record.get("method_label")
    lines = [
        f"- **Adapter** `{name}` ({record.get('role', meta.get('role', '?'))}): PEFT method "
        f"`{meta.get('method', record.get('method', '?'))}`" + (f" ({label})" if label else "") + f" ({options})",
        f"- **Trainer**: `{record.get('trainer', '?')}`; budget {record.get('budget') or '—'}; "
        f"{eff.get('global_step', '?')} steps, {eff.get('train_tokens', '?')} training tokens"
        + (f", {eff['examples']} examples" if eff.get("examples") else ""),
        "- **Hyperparameters**: "
        + ", ".join(
            f"{k}={_fmt(v)}" for k, v in sorted((record.get("hyperparameters") or {}).items()) if v is not None
        ),
        f"- **Cost**: {eff.get('trainable_params', '?')} trainable parameters "
        f"({_fmt(eff.get('trainable_percent', '?'))} %), adapter {eff.get('adapter_size_bytes', '?')} bytes, "
        f"{_fmt(eff.get('train_tokens_per_s', '?'))} tokens/s, peak memory {_fmt(eff.get('peak_memory_mb', '?'))} MB",
    ]
    if parent:
        arm = "trained on with it (trainable arm)" if meta.get("parent_trainable") else "kept frozen under it"
        lines.append(f"- **Sits on** the adapter `{parent}` ({meta.get('parent_composition') or 'stacked'}), {arm}")
    return lines


def _front_matter(reference: str, tags: list[str], adapter: bool) -> str:
    data: dict[str, Any] = {
        "base_model": reference,
        "language": ["es"],
        "license": _licence(reference),
        "library_name": "peft" if adapter else "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["harness", "legal", "mexican-law", *tags],
    }
    if adapter:
        data["tags"].append(f"base_model:adapter:{reference}")
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n"


def _base_lines(model: dict[str, Any]) -> list[str]:
    copy = f"{model.get('source', '?')}" + (f"; {model['notes']}" if model.get("notes") else "")
    return [
        f"- **Base model**: `{model.get('reference', '?')}` (the copy used: {copy}; revision {model.get('revision', '?')})",
        "- **Language**: Spanish (es)",
        f"- **Licence**: the base model's (`{_licence(model.get('reference', ''))}`) for the weights; the training "
        "texts are Mexican federal legislation",
        f"- **Training data**: {_CORPUS}; instruction pairs generated from the same laws, with every article of "
        "the frozen evaluation items held out",
    ]


def adapter_card(run: Path, manifest: dict[str, Any], name: str) -> str:
    """The card of ``runs/…/adapters/<name>``: what it is and the metrics of the systems it tops."""
    folder = run / "adapters" / name
    record, meta = _read(folder / "record.json"), _read(folder / "harness_adapter.json")
    model = manifest.get("model") or {}
    systems = [s for s in manifest.get("systems", []) if (s.get("adapters") or [None])[-1] == name]
    lines = [
        _front_matter(model.get("reference", ""), [record.get("role", "adapter"), str(meta.get("method", ""))], True),
        f"# `{name}`: a {record.get('role', '')} adapter of `{model.get('reference', '?')}` for Mexican federal law",
        "",
        f"Trained by `harness` in run `{manifest.get('run_id', '?')}` of the benchmark `{manifest.get('name', '?')}` "
        f"(profile {manifest.get('profile', '?')}, seed {manifest.get('seed', '?')}).",
        "",
        *_base_lines(model),
        *_adapter_lines(record, meta, name),
        "",
    ]
    for system in systems:
        lines += _system_metrics(run, system["name"], system.get("adapters") or [])
    lines += [
        "## How to load",
        "",
        "A single adapter loads with `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), folder)`; "
        "a stacked system (this adapter on another) with `harness export RUN SYSTEM DIR`, which writes the folder "
        "and the recipe plain transformers and PEFT need.",
        "",
    ]
    return "\n".join(lines)


def _system_metrics(run: Path, system: str, adapters: list[str]) -> list[str]:
    results = _read(run / "results" / system / "results.json")
    table = metrics_table(results)
    if not table:
        return []
    limits = ", ".join(f"{k} {v}" for k, v in sorted((results.get("limits") or {}).items()) if v)
    return [
        f"## Evaluation of the system `{system}` ({' + '.join(['base', *adapters])})",
        "",
        "Percentile-bootstrap 95% confidence intervals over the evaluated items"
        + (f" (items per task: {limits})" if limits else "")
        + "; compare systems with `harness compare`, which pairs them item by item.",
        "",
        *table,
        "",
    ]


def system_card(run: Path, manifest: dict[str, Any], system: Any, recipe: dict[str, Any]) -> str:
    """The card of an exported system: its adapters, its metrics and the load recipe."""
    from harness.exporter import load_recipe

    model = manifest.get("model") or {}
    merged = recipe.get("format") == "merged"
    lines = [
        _front_matter(model.get("reference", ""), ["merged" if merged else "peft-stack"], not merged),
        f"# `{system.name}`: `{model.get('reference', '?')}` adapted to Mexican federal law",
        "",
        f"Exported by `harness export` from run `{manifest.get('run_id', '?')}` of `{manifest.get('name', '?')}` "
        f"({'adapters merged into the base weights' if merged else 'adapter folders with a load recipe'}; "
        f"prompts: {system.prompt_format}).",
        "",
        *_base_lines(model),
    ]
    for name in system.adapters:
        folder = run / "adapters" / name
        lines += _adapter_lines(_read(folder / "record.json"), _read(folder / "harness_adapter.json"), name)
    lines += ["", *_system_metrics(run, system.name, list(system.adapters))]
    lines += [
        "## How to load (plain transformers and PEFT)",
        "",
        "```python",
        load_recipe(recipe, "."),
        "```",
        "",
    ]
    if system.prompt_format == "instruction":
        lines += [
            "The SFT adapter was trained on prompts `### Instrucción:` / `### Contexto:` / `### Respuesta:` "
            "(or the tokenizer's chat template where it has one); ask it the same way.",
            "",
        ]
    return "\n".join(lines)


def write_adapter_cards(run: Path, manifest: dict[str, Any]) -> list[Path]:
    """Replace PEFT's blank card in every adapter folder of the run with the harness's."""
    from harness.paths import write_atomic

    written = []
    root = run / "adapters"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if (folder / "adapter_config.json").is_file():
            write_atomic(folder / "README.md", adapter_card(run, manifest, folder.name))
            written.append(folder / "README.md")
    return written
