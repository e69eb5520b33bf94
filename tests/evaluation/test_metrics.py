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


def test_unreachable_hub_falls_back_at_once_without_hf_hub_offline(monkeypatch):
    """No ``HF_HUB_OFFLINE`` and no network: one failed connection, the hub id is never tried
    (huggingface_hub would retry it with back-off, ~25 s per file), the packaged encoder is used."""
    import bert_score

    from harness import hub
    from harness_plugins.metrics import bertscore

    tried: list[str] = []
    real = bert_score.BERTScorer

    def recording(*args, **kwargs):
        tried.append(str(kwargs.get("model_type")))
        return real(*args, **kwargs)

    monkeypatch.setattr(bert_score, "BERTScorer", recording)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: connection refused
    hub._reachable.cache_clear()
    bertscore.scorer.cache_clear()
    try:
        assert hub.hub_reachable() is False
        bertscore.scorer("bert-base-multilingual-cased", None)
        info = [e for e in bertscore.encoders_used() if e.get("wanted") == "bert-base-multilingual-cased"]
        assert info and info[-1]["fallback"] is True
        assert tried == [bertscore.packaged_encoder()[0]]
    finally:
        hub._reachable.cache_clear()
        bertscore.scorer.cache_clear()


def test_hub_offline_setting_is_never_overridden(monkeypatch):
    from harness import hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert hub.hub_reachable() is False and hub.hub_offline() is True
