"""Greedy answers of a run's systems to a few of its own training instructions (one per task type).

    python benchmarks/scripts/probe_generations.py runs/mx_legal/<run-id> [--systems base base+sft] [--tokens 24]

A quick look at what an SFT adapter learned before reading its scores: when it cannot answer the
instructions it was trained on, its evaluation scores say little about the method.  Prompts use
the SFT trainer's template (``harness.training.data``); contexts are cut to 600 characters.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Print, per system and task type, the wanted response and the greedy answer."""
    import torch

    from harness.components import ResolvedModel
    from harness.plan import SystemPlan
    from harness.training.compose import build_system_model
    from harness.training.data import has_chat_template, sft_example

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--systems", nargs="+", default=["base", "base+sft"])
    parser.add_argument("--tokens", type=int, default=24)
    args = parser.parse_args()
    manifest = json.loads((args.run / "manifest.json").read_text())
    m = manifest["model"]
    model = ResolvedModel(m["reference"], Path(m["path"]), m["source"], m.get("notes", ""), m.get("revision") or "")
    systems = {s["name"]: s for s in manifest["systems"]}
    rows = [json.loads(line) for line in (args.run / "stages/instructions/instructions.jsonl").open()]
    picked: dict[str, dict] = {}
    for row in rows:
        picked.setdefault(row.get("task_type", "?"), row)
    for name in args.systems:
        adapters = systems[name]["adapters"] if name in systems else []
        dirs = {a: args.run / "adapters" / a for a in adapters}
        plan = SystemPlan(name, adapters, systems.get(name, {}).get("composition", "stacked"))
        mdl, tok = build_system_model(plan, model, dirs, "float32")
        chat = has_chat_template(tok)
        print(f"===== {name}")
        for task, row in sorted(picked.items()):
            example = sft_example({**row, "context": (row.get("context") or "")[:600]}, chat)
            prompt = (
                tok.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
                if chat
                else example["prompt"]
            )
            ids = tok(prompt, return_tensors="pt")
            with torch.no_grad():
                out = mdl.generate(**ids, max_new_tokens=args.tokens, do_sample=False)
            answer = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
            print(f"{task:14} want: {row['response'][:60]!r}\n{'':14} got:  {answer[:90]!r}")


if __name__ == "__main__":
    main()
