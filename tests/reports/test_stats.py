"""Paired statistics on synthetic per-sample data, checked against hand and library computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lm_eval.api.metrics import bits_per_byte, weighted_perplexity
from scipy.stats import binomtest

from harness.regress.stats import (
    aggregate_for,
    bits_per_byte_aggregate,
    compare_paired,
    mcnemar_exact,
    mean_aggregate,
    perplexity_aggregate,
)


def test_identical_systems_give_zero_difference_and_p_one() -> None:
    rng = np.random.default_rng(1)
    values = (rng.random(200) < 0.6).astype(float)
    result = compare_paired(values, values.copy(), mean_aggregate, iterations=500)
    assert result.difference == 0.0
    assert result.ci_low == result.ci_high == 0.0
    assert result.p_value == 1.0
    assert result.test == "mcnemar-exact"


def test_mcnemar_matches_binomial_on_discordant_pairs() -> None:
    base = np.array([1.0] * 10 + [0.0] * 2 + [1.0] * 30 + [0.0] * 8)
    cand = np.array([0.0] * 10 + [1.0] * 2 + [1.0] * 30 + [0.0] * 8)
    p_value, (b, c) = mcnemar_exact(base, cand)
    assert (b, c) == (10, 2)
    assert p_value == pytest.approx(binomtest(2, 12, 0.5).pvalue)
    assert p_value == pytest.approx(2 * sum(math.comb(12, k) for k in range(3)) / 2**12)


def test_accuracy_drop_is_detected_with_ci_below_zero() -> None:
    rng = np.random.default_rng(2)
    base = (rng.random(300) < 0.7).astype(float)
    cand = base.copy()
    flip = np.flatnonzero(base == 1)[:60]  # 60 right answers become wrong: −0.2 accuracy
    cand[flip] = 0.0
    result = compare_paired(base, cand, mean_aggregate, iterations=1000)
    assert result.difference == pytest.approx(-0.2)
    assert result.ci_high < 0 < -result.ci_low
    assert result.ci_low < -0.2 < result.ci_high
    assert result.p_value < 1e-10


def test_permutation_test_for_continuous_metric() -> None:
    rng = np.random.default_rng(3)
    base = rng.random(150)
    shifted = compare_paired(base, base - 0.1 + rng.normal(0, 0.02, 150), mean_aggregate, iterations=1000)
    assert shifted.test == "permutation"
    assert shifted.p_value < 0.01
    noise = compare_paired(base, base + rng.normal(0, 0.05, 150), mean_aggregate, iterations=1000)
    assert noise.p_value > 0.05
    assert noise.ci_low < 0 < noise.ci_high


def test_perplexity_aggregates_match_lm_eval() -> None:
    rng = np.random.default_rng(4)
    items = [(-float(rng.uniform(20, 200)), int(rng.integers(10, 50))) for _ in range(40)]
    values = np.asarray(items, dtype=float)
    whole = np.arange(len(items))[None, :]
    assert perplexity_aggregate(values, whole)[0] == pytest.approx(weighted_perplexity(items))
    assert bits_per_byte_aggregate(values, whole)[0] == pytest.approx(bits_per_byte(items))
    assert aggregate_for("word_perplexity", [-3.0, 2]) is perplexity_aggregate
    assert aggregate_for("bits_per_byte", [-3.0, 2]) is bits_per_byte_aggregate
    assert aggregate_for("acc", 1.0) is mean_aggregate
    assert aggregate_for("bleu", ["ref", "pred"]) is None


def test_perplexity_rise_is_significant() -> None:
    rng = np.random.default_rng(5)
    words = rng.integers(10, 50, 100).astype(float)
    base = np.stack([-words * rng.uniform(3.0, 4.0, 100), words], axis=1)
    worse = base.copy()
    worse[:, 0] *= 1.1  # 10% lower log-likelihood everywhere
    result = compare_paired(base, worse, perplexity_aggregate, iterations=500)
    assert result.candidate > result.baseline
    assert result.ci_low > 0
    assert result.p_value < 0.01
