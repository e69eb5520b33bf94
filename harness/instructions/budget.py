"""Splitting a budget of pairs between generators and task types, and trimming to it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from harness.components import InstructionPair


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` by ``weights`` (largest remainder): the counts sum to ``total`` exactly."""
    positive = {name: w for name, w in weights.items() if w > 0}
    if total <= 0 or not positive:
        return {name: 0 for name in weights}
    scale = sum(positive.values())
    exact = {name: total * w / scale for name, w in positive.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    rest = total - sum(counts.values())
    # ties go to the name first in the spec, so the split is deterministic
    order = sorted(positive, key=lambda name: (-(exact[name] - counts[name]), list(positive).index(name)))
    for name in order[:rest]:
        counts[name] += 1
    return {name: counts.get(name, 0) for name in weights}


def normalized_mix(task_types: dict[str, float], default: Sequence[str] | dict[str, float]) -> dict[str, float]:
    """Weights summing to 1: the spec's mix, else ``default`` (a weighted mix, or names weighed evenly)."""
    if not task_types:
        if isinstance(default, dict):
            return normalized_mix(default, ()) if default else {}
        return {name: 1 / len(default) for name in default} if default else {}
    total = sum(task_types.values())
    return {name: w / total for name, w in task_types.items()}


def trim_to_mix(pairs: Sequence[InstructionPair], budget: int, mix: dict[str, float]) -> list[InstructionPair]:
    """Keep ``budget`` pairs, as close to ``mix`` as the pairs allow, in their original order.

    A task type with fewer pairs than its share leaves room that the other types fill, so the
    budget is met whenever there are enough pairs at all.
    """
    by_type: dict[str, list[int]] = defaultdict(list)
    for index, pair in enumerate(pairs):
        by_type[pair.task_type].append(index)
    quotas = allocate(budget, {name: mix.get(name, 0.0) for name in by_type} if mix else dict.fromkeys(by_type, 1.0))
    chosen: set[int] = set()
    for name, indexes in by_type.items():
        chosen.update(indexes[: quotas.get(name, 0)])
    if len(chosen) < budget:
        spare = [i for i in range(len(pairs)) if i not in chosen]
        chosen.update(spare[: budget - len(chosen)])
    return [pairs[i] for i in sorted(chosen)]
