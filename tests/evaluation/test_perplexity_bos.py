"""Rolling loglikelihood must not score the tokenizer's BOS as text (lm-eval #3333)."""

from __future__ import annotations

import torch
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM

TEXT = "Artículo 5o.- Las disposiciones de esta Ley son de orden público e interés social."


def _hand_loglikelihood(model, tok, text: str) -> float:
    """log p(text | BOS), summed over the text's own tokens only."""
    ids = tok(text, add_special_tokens=False)["input_ids"]
    inputs = torch.tensor([[tok.bos_token_id, *ids]])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(inputs).logits[0, :-1].float(), dim=-1)
    return float(logprobs[torch.arange(len(ids)), torch.tensor(ids)].sum())


def _request(text: str) -> Instance:
    return Instance("loglikelihood_rolling", doc={}, arguments=(text,), idx=0)


def test_tiny_tokenizer_adds_bos(tiny_lm):
    ids = tiny_lm.tokenizer(TEXT)["input_ids"]
    assert ids[0] == tiny_lm.tokenizer.bos_token_id


def test_rolling_loglikelihood_matches_hand_computation(tiny_lm):
    expected = _hand_loglikelihood(tiny_lm.model, tiny_lm.tokenizer, TEXT)
    (got,) = tiny_lm.loglikelihood_rolling([_request(TEXT)], disable_tqdm=True)
    assert abs(got - expected) < 1e-3


def test_plain_hflm_scores_bos_and_harness_does_not(tiny_lm):
    """Plain HFLM scores [BOS] + text after its own prefix BOS: the #3333 figure, reproduced by hand."""
    plain = HFLM(pretrained=tiny_lm.model, tokenizer=tiny_lm.tokenizer, batch_size=4)
    (with_bos,) = plain.loglikelihood_rolling([_request(TEXT)], disable_tqdm=True)
    (fixed,) = tiny_lm.loglikelihood_rolling([_request(TEXT)], disable_tqdm=True)
    tok = tiny_lm.tokenizer
    ids = [tok.bos_token_id, *tok(TEXT, add_special_tokens=False)["input_ids"]]
    inputs = torch.tensor([[tok.bos_token_id, *ids]])
    with torch.no_grad():
        logprobs = torch.log_softmax(tiny_lm.model(inputs).logits[0, :-1].float(), dim=-1)
    bos_scored = float(logprobs[torch.arange(len(ids)), torch.tensor(ids)].sum())
    assert abs(with_bos - bos_scored) < 1e-3
    assert abs(with_bos - fixed) > 0.1


def test_add_bos_setting_is_restored(tiny_lm):
    before = tiny_lm.add_bos_token
    tiny_lm.loglikelihood_rolling([_request(TEXT)], disable_tqdm=True)
    assert tiny_lm.add_bos_token == before
