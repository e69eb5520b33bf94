"""Model-free baseline rows beside the systems, for the shipped multiple-choice tasks.

A multiple-choice accuracy is only as meaningful as the best score a reader of no model gets on
the same items: always the shortest or the longest choice, or the choice sharing most words with
the question or the article.  For every run, one row per baseline gives its accuracy on exactly the
items the run evaluated (the first ``n`` of each task), in the ``acc`` and ``acc_norm`` columns.
"""

from __future__ import annotations

from typing import Any

from harness.leaderboard.model import Entry, MetricColumn, MetricValue

#: baseline name → the row's label
LABELS = {
    "shortest": "shortest choice",
    "longest": "longest choice",
    "question_overlap": "most words shared with the question",
    "article_overlap": "most words shared with the article",
}


def baseline_entries(run: str, items: dict[str, int], columns: dict[str, MetricColumn]) -> list[Entry]:
    """The baseline rows of one run; ``items`` is each task's evaluated item count."""
    from harness.errors import HarnessError
    from harness.evaluation.baselines_cli import baseline_table

    wanted = {task: n for task, n in items.items() if f"{task}/acc" in columns}
    if not wanted:
        return []
    try:
        table: dict[str, dict[str, Any]] = baseline_table(wanted)
    except HarnessError:  # the shipped task data is not installed here
        return []
    entries = []
    for name, label in LABELS.items():
        metrics = {}
        for task, row in table.items():
            if task in wanted and name in row and row["items"] == wanted[task]:
                for metric in ("acc", "acc_norm"):
                    if f"{task}/{metric}" in columns:
                        metrics[f"{task}/{metric}"] = MetricValue(float(row[name]))
        if metrics:
            entries.append(
                Entry(run=run, system=f"baseline: {label}", model="", model_source="", kind="baseline", metrics=metrics)
            )
    return entries
