"""Spanish-safe metrics: normalization keeps accents, ROUGE does not drop accented letters."""

from __future__ import annotations

import pytest
from rouge_score import rouge_scorer

from harness_plugins.metrics import spanish


def test_normalization_keeps_accents_and_folds_case_punctuation_articles():
    assert spanish.normalize_es("¡El Niño, la AÑORANZA!") == "niño añoranza"
    assert spanish.normalize_es("año") != spanish.normalize_es("ano")


def test_exact_match_es():
    assert spanish.exact_match_es("Del Patrimonio", "del patrimonio.") == 1.0
    assert spanish.exact_match_es("Niño", "Nino") == 0.0


def test_token_f1_es():
    assert spanish.token_f1_es("de las sanciones administrativas", "sanciones administrativas") == pytest.approx(
        2 * 1.0 * (2 / 3) / (1.0 + 2 / 3)
    )
    assert spanish.token_f1_es("niño", "nino") == 0.0
    assert spanish.token_f1_es("", "") == 1.0


def test_default_rouge_tokenizer_drops_accents_ours_does_not():
    assert rouge_scorer.RougeScorer(["rouge1"]).score("niño", "ni o")["rouge1"].fmeasure == 1.0  # the bug
    assert spanish.rouge_es("niño", "nino")["rouge1"] == 0.0
    assert spanish.rouge_es("Del Patrimonio del Instituto", "patrimonio del instituto")["rouge1"] > 0.8
    assert spanish.UnicodeTokenizer().tokenize("Niño ACCIÓN") == ["niño", "acción"]


def test_metric_components_follow_lm_eval_convention(eval_registry):
    from harness.spec.common import ComponentRef

    for name in ("exact_match_es", "token_f1_es", "rouge1_es", "rouge2_es", "rougeL_es"):
        spec = eval_registry.build("metrics", ComponentRef(name=name)).spec()
        assert spec.fn(references=["Del Patrimonio"], predictions=["del patrimonio"]) == pytest.approx(1.0)
        assert spec.aggregation == "mean"


def test_bertscore_uses_packaged_encoder_offline_and_says_so(eval_registry):
    from harness.spec.common import ComponentRef
    from harness_plugins.metrics import bertscore

    metric = eval_registry.build("metrics", ComponentRef(name="bertscore_f1"))
    same = metric.spec().fn(references=["Del procedimiento"], predictions=["Del procedimiento"])
    other = metric.spec().fn(references=["Del procedimiento"], predictions=["manzanas verdes"])
    assert same > other
    assert metric.spec().fn(references=["Del procedimiento"], predictions=["  "]) == 0.0
    info = metric.runtime_info()
    assert info and info[0]["num_layers"] in (6, bertscore.DEFAULT_LAYERS)
