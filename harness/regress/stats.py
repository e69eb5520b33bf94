"""Paired statistics for comparing two systems on the same evaluation items.

Every metric is an *aggregate* over per-item values: a mean (accuracy, F1, ROUGE) or a weighted
perplexity over ``[loglikelihood, weight]`` pairs (lm-eval's word/byte perplexity and bits per
byte).  Both tests below resample or permute whole items, so pairing is kept and any aggregate
works:

- paired bootstrap of the difference of aggregates (candidate − baseline), percentile 95% CI;
- paired permutation test (swap the two systems' values within random items) for its p-value;
- McNemar's exact test for 0/1 metrics (accuracy-type), on the discordant items.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

#: aggregate over item rows: values has shape (items,) or (items, 2); rows picks items per draw
Aggregate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def mean_aggregate(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Mean of the picked items, one per row of ``index`` (shape draws × items)."""
    return values[index].mean(axis=-1)


def _weighted(values: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    picked = values[index]
    return picked[..., 0].sum(axis=-1), picked[..., 1].sum(axis=-1)


def perplexity_aggregate(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """lm-eval's weighted perplexity: ``exp(-Σ loglikelihood / Σ weight)``."""
    ll, weight = _weighted(values, index)
    return np.exp(-ll / weight)


def bits_per_byte_aggregate(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """lm-eval's bits per byte: ``-Σ loglikelihood / Σ bytes / ln 2``."""
    ll, weight = _weighted(values, index)
    return -ll / weight / math.log(2)


def aggregate_for(metric: str, sample_value: object) -> Aggregate | None:
    """The aggregate matching how lm-eval reduces this metric, or None if it cannot be paired."""
    if isinstance(sample_value, bool) or isinstance(sample_value, (int, float)):
        return mean_aggregate
    if (
        isinstance(sample_value, (list, tuple))
        and len(sample_value) == 2
        and all(isinstance(v, (int, float)) for v in sample_value)
    ):
        if metric == "bits_per_byte":
            return bits_per_byte_aggregate
        if "perplexity" in metric:
            return perplexity_aggregate
    return None


@dataclass
class PairedResult:
    """Difference of aggregates (candidate − baseline) with its CI and the test that gave p."""

    baseline: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str  # "mcnemar-exact" | "permutation"
    n: int
    #: McNemar's discordant counts: baseline right/candidate wrong, and the reverse
    discordant: tuple[int, int] | None = None


def is_binary(values: np.ndarray) -> bool:
    """True when every value is 0 or 1 (accuracy-type metric)."""
    return values.ndim == 1 and bool(np.isin(values, (0.0, 1.0)).all())


def paired_bootstrap(
    base: np.ndarray, cand: np.ndarray, aggregate: Aggregate, iterations: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile 95% CI of ``aggregate(cand) − aggregate(base)``, resampling items in pairs."""
    n = len(base)
    diffs = []
    # chunks bound memory for large item counts
    for start in range(0, iterations, 500):
        count = min(500, iterations - start)
        index = rng.integers(0, n, size=(count, n))
        diffs.append(aggregate(cand, index) - aggregate(base, index))
    all_diffs = np.concatenate(diffs)
    low, high = np.percentile(all_diffs, [2.5, 97.5])
    return float(low), float(high)


def paired_permutation(
    base: np.ndarray, cand: np.ndarray, aggregate: Aggregate, iterations: int, rng: np.random.Generator
) -> float:
    """Two-sided p-value: how often swapping the systems within random items gives a difference
    at least as large as the observed one (with the +1 correction, never exactly 0)."""
    n = len(base)
    whole = np.arange(n)[None, :]
    observed = abs(float(aggregate(cand, whole)[0] - aggregate(base, whole)[0]))
    if observed == 0.0:
        return 1.0
    hits = 0
    for start in range(0, iterations, 500):
        count = min(500, iterations - start)
        swap = rng.random((count, n)) < 0.5
        mask = swap if base.ndim == 1 else swap[..., None]
        perm_base = np.where(mask, cand[None, ...], base[None, ...])
        perm_cand = np.where(mask, base[None, ...], cand[None, ...])
        # aggregate over every item of each permuted copy: index rows select the copy's own items
        rows = np.arange(count)[:, None] * n + whole
        flat_base = perm_base.reshape(count * n, *base.shape[1:])
        flat_cand = perm_cand.reshape(count * n, *cand.shape[1:])
        stats = aggregate(flat_cand, rows) - aggregate(flat_base, rows)
        hits += int((np.abs(stats) >= observed - 1e-12).sum())
    return (hits + 1) / (iterations + 1)


def mcnemar_exact(base: np.ndarray, cand: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Exact McNemar test (binomial on discordant pairs); returns p and (b, c) where b counts items
    the baseline got right and the candidate wrong."""
    b = int(((base == 1) & (cand == 0)).sum())
    c = int(((base == 0) & (cand == 1)).sum())
    if b + c == 0:
        return 1.0, (b, c)
    return float(binomtest(min(b, c), b + c, 0.5).pvalue), (b, c)


def compare_paired(
    base: np.ndarray, cand: np.ndarray, aggregate: Aggregate, iterations: int = 2000, seed: int = 0
) -> PairedResult:
    """Paired comparison of two aligned arrays of per-item values."""
    rng = np.random.default_rng(seed)
    whole = np.arange(len(base))[None, :]
    base_value = float(aggregate(base, whole)[0])
    cand_value = float(aggregate(cand, whole)[0])
    low, high = paired_bootstrap(base, cand, aggregate, iterations, rng)
    if aggregate is mean_aggregate and is_binary(base) and is_binary(cand):
        p_value, discordant = mcnemar_exact(base, cand)
        test = "mcnemar-exact"
    else:
        p_value, discordant = paired_permutation(base, cand, aggregate, iterations, rng), None
        test = "permutation"
    return PairedResult(
        base_value, cand_value, cand_value - base_value, low, high, p_value, test, len(base), discordant
    )
