"""The dataset card (Markdown) written beside ``instructions.jsonl``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.instructions.filters import FILTER_ORDER


def _table(title: str, counts: dict[str, int] | Counter[str], total: int) -> list[str]:
    lines = [f"### {title}", "", f"| {title.lower()} | pairs | share |", "| --- | ---: | ---: |"]
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| {name} | {count:,} | {100 * count / max(total, 1):.1f}% |")
    return [*lines, ""]


def _mix_table(generated: dict[str, int], kept: dict[str, int], total: int) -> list[str]:
    """The task-type mix as generated and as kept after filters, decontamination and the budget."""
    all_generated = sum(generated.values())
    lines = [
        "### Task type",
        "",
        "| task type | generated | share generated | kept | share kept |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in sorted(set(generated) | set(kept), key=lambda n: (-kept.get(n, 0), n)):
        made, left = generated.get(name, 0), kept.get(name, 0)
        lines.append(
            f"| {name} | {made:,} | {100 * made / max(all_generated, 1):.1f}% | {left:,} | "
            f"{100 * left / max(total, 1):.1f}% |"
        )
    return [*lines, ""]


def _examples(examples: dict[str, list[dict[str, str]]]) -> list[str]:
    out = ["", "## Examples", ""]
    for task_type in sorted(examples):
        out += [f"### {task_type}", ""]
        for example in examples[task_type]:
            out.append(
                f"- **{example['law_id']} art. {example['article_label']}**: {_one_line(example['instruction'])}"
            )
            if example.get("context"):
                out.append(f"  - context: {_one_line(example['context'])}…")
            out.append(f"  - response: {_one_line(example['response'])}")
        out.append("")
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_card(record: dict[str, Any], settings: dict[str, Any]) -> str:
    """Markdown card: sizes, counts per task type/generator/category/language, filter removals."""
    total = record["pairs"]
    out = [
        "# Instruction dataset card",
        "",
        f"{total:,} instruction/response pairs generated from {record['articles']:,} training articles "
        f"of {record['laws']:,} laws (train split only; validation and evaluation articles are never used).",
        f"{record.get('evaluation_articles_excluded', 0):,} evaluation articles of the training split (the "
        "legal-QA items' articles, which stay in the DAPT corpus) were kept out of instruction generation.",
        "",
        f"- budget: {settings['budget']:,} pairs; requested mix: {_mix(settings['task_types'])}",
        f"- generators: {', '.join(record['by_generator']) or 'none'}",
        f"- seed: {settings['seed']}",
        "- fields: instruction, context, response, task_type, law_id, article_label, generator, "
        "template_or_model, language",
        "",
        "## Counts",
        "",
        *_mix_table(record.get("generated_by_task_type") or {}, record["by_task_type"], total),
        *_table("Generator", record["by_generator"], total),
        *_table("Law category", record["by_category"], total),
        *_table("Language", record["by_language"], total),
        "## What each step removed",
        "",
        "| step | removed |",
        "| --- | ---: |",
        f"| generated (before filters) | {record['generated']:,} |",
    ]
    removed = record["removed"]
    for name in FILTER_ORDER:
        if name in removed or name in _enabled(settings["filters"]):
            out.append(f"| {name.replace('_', ' ')} | {removed.get(name, 0):,} |")
    n = settings["decontamination"]["n"]
    out.append(f"| decontamination ({n}-gram overlap with evaluation data) | {record['decontaminated']:,} |")
    out.append(f"| over budget / mix | {record['over_budget']:,} |")
    out += ["", "## Generators", ""]
    for name, stats in record["generator_stats"].items():
        shown = ", ".join(f"{key} {value:,}" for key, value in sorted(stats.items())) or "no counters"
        out.append(f"- **{name}**: {shown}")
    out += ["", "## Decontamination", ""]
    decon = record["decontamination"]
    if not decon["enabled"]:
        out.append("Disabled in the spec: the pairs were NOT checked against the evaluation data.")
    else:
        out.append(
            f"No pair shares a {decon['n']}-token n-gram (lower-cased words, punctuation ignored) with "
            "any of "
            f"{decon['eval_texts']:,} evaluation texts ({decon['eval_ngrams']:,} distinct n-grams; sha256 "
            f"`{decon['eval_sha256'][:16]}`). Sources: {'; '.join(decon['sources']) or 'none'}."
        )
        by_type = record.get("decontaminated_by_task_type") or {}
        if by_type:
            shown = ", ".join(f"{name} {count:,}" for name, count in sorted(by_type.items()))
            out.append(f"\nRemoved by task type: {shown}.")
        for note in decon["missing"]:
            out.append(f"\n**Warning:** no evaluation texts from {note}.")
    if any(name == "bonito" for name in record["by_generator"]):
        out += [
            "",
            "## Note on Bonito",
            "",
            "Bonito (Nayak et al., 2024) was trained on English data; its instructions for these Spanish "
            "articles may be in English or mixed. The `language` field records the language detected for "
            "each pair (function-word heuristic); filter with `filters.spanish_only` to keep only Spanish.",
        ]
    out += _examples(record.get("examples") or {})
    return "\n".join(out) + "\n"


def _mix(task_types: dict[str, float]) -> str:
    if not task_types:
        return "each generator's default (even over its task types)"
    return ", ".join(f"{name} {weight:g}" for name, weight in task_types.items())


def _enabled(filters: dict[str, Any]) -> set[str]:
    names = {"instruction_length", "response_length", "context_too_long", "answer_not_in_context"}
    if filters.get("spanish_only"):
        names.add("not_spanish")
    if filters.get("exact_dedup"):
        names.add("exact_duplicate")
    if filters.get("near_dedup"):
        names.add("near_duplicate")
    if filters.get("max_per_article"):
        names.add("per_article_cap")
    return names
