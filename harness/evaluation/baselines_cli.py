"""``harness tasks baselines``: the model-free baselines of the shipped multiple-choice tasks.

A multiple-choice score means something only next to what a reader of no model gets: always the
shortest or the longest choice, or the choice sharing most words with the question or with the
article.  The baselines are computed on the items a run evaluates (``--limit N``: the first N,
as lm-eval's ``--limit`` and the spec's ``task_limits`` take them), ties broken at random.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.errors import HarnessError

#: the law-identification task asks one question of every article
LAW_ID_QUESTION = "¿A qué ordenamiento jurídico mexicano pertenece este artículo?"


def baseline_table(limits: dict[str, int | None]) -> dict[str, dict[str, Any]]:
    """Per multiple-choice task: items scored and each baseline's accuracy."""
    from harness.evaluation.legal_qa import baselines
    from harness.evaluation.taskdata import load_items

    legal = load_items("lqa")
    law_id = [
        {"choices": r["choices"], "answer_index": r["gold"], "question": LAW_ID_QUESTION, "article": r["article"]}
        for r in load_items("mc")
    ]
    pools = {"mx_legal_qa_closed": legal, "mx_legal_qa_open": legal, "mx_legal_law_id": law_id}
    #: which baselines apply: the closed-book prompt has no article in it
    applies = {
        "mx_legal_qa_closed": ("shortest", "longest", "question_overlap"),
        "mx_legal_qa_open": ("shortest", "longest", "question_overlap", "article_overlap"),
        "mx_legal_law_id": ("shortest", "longest", "article_overlap"),
    }
    table = {}
    for task, rows in pools.items():
        rows = rows[: limits.get(task)] if limits.get(task) else rows
        scores = baselines(rows)
        table[task] = {"items": len(rows), **{name: scores[name] for name in applies[task]}}
    return table


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``harness tasks baselines``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="harness tasks baselines", description=__doc__)
    parser.add_argument("--limit", action="append", default=[], metavar="TASK=N", help="score the first N items")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    limits: dict[str, int | None] = {}
    for item in args.limit:
        task, _, n = item.partition("=")
        if not n.isdigit() or int(n) < 1:
            print(f"harness: error: --limit: expected TASK=N with N ≥ 1, got {item!r}", file=sys.stderr)
            return 2
        limits[task] = int(n)
    try:
        table = baseline_table(limits)
    except HarnessError as exc:
        print(f"harness: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if args.format == "json":
        print(json.dumps(table, indent=2, sort_keys=True))
        return 0
    names = ("shortest", "longest", "question_overlap", "article_overlap")
    print(f"{'task':<20} {'items':>5} " + " ".join(f"{n:>16}" for n in names))
    for task, row in table.items():
        cells = " ".join(f"{row[n]:>16.3f}" if n in row else f"{'–':>16}" for n in names)
        print(f"{task:<20} {row['items']:>5} {cells}")
    print("chance: 0.250 (four choices); ties between choices are broken at random")
    return 0
