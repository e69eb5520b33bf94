"""Continuation-only scoring gives lm-eval's own log-likelihoods, for plain, LoRA and prefix-tuned models."""

from __future__ import annotations

import pytest
import torch
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM

from harness.evaluation.lm import wrap
from harness.evaluation.scoring import supports_kept_logits

CONTEXT = "Artículo 8o. Los funcionarios y empleados públicos respetarán el ejercicio del derecho de petición"
PAIRS = [
    (CONTEXT + ". Pregunta: ¿cómo debe formularse la petición?\nRespuesta:", " por escrito"),
    (CONTEXT + ". Pregunta: ¿cómo debe formularse la petición?\nRespuesta:", " de manera pacífica y respetuosa"),
    ("Pregunta: ¿qué plazo?\nRespuesta:", " quince días hábiles"),
    ("Artículo 1o.", " En los Estados Unidos Mexicanos todas las personas gozarán de los derechos humanos"),
    ("Pregunta: ¿quién resuelve?\nRespuesta:", " la Secretaría"),
]


def _requests() -> list[Instance]:
    return [Instance("loglikelihood", doc={}, arguments=pair, idx=i) for i, pair in enumerate(PAIRS)]


def _both(model, tokenizer, batch_size: int) -> tuple[list, list]:
    ours = wrap(model, tokenizer, batch_size=batch_size).loglikelihood(_requests(), disable_tqdm=True)
    theirs = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size).loglikelihood(
        _requests(), disable_tqdm=True
    )
    return ours, theirs


@pytest.fixture(scope="module")
def tiny(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model.path).eval(), AutoTokenizer.from_pretrained(tiny_model.path)


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_same_loglikelihoods_as_lm_eval(tiny, batch_size: int) -> None:
    model, tokenizer = tiny
    assert supports_kept_logits(model)
    ours, theirs = _both(model, tokenizer, batch_size)
    assert [g for _, g in ours] == [g for _, g in theirs]
    assert [ll for ll, _ in ours] == pytest.approx([ll for ll, _ in theirs], abs=1e-5)


def test_same_loglikelihoods_with_a_lora_adapter(tiny) -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = tiny
    torch.manual_seed(0)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    try:
        assert supports_kept_logits(peft_model)
        ours, theirs = _both(peft_model.eval(), tokenizer, 4)
        assert [ll for ll, _ in ours] == pytest.approx([ll for ll, _ in theirs], abs=1e-5)
    finally:
        peft_model.unload()


def test_prefix_tuning_falls_back_to_lm_eval(tiny) -> None:
    """Virtual tokens shift positions: lm-eval's own loop handles them, and the results agree."""
    from peft import PrefixTuningConfig, get_peft_model

    model, tokenizer = tiny
    peft_model = get_peft_model(model, PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4))
    assert not supports_kept_logits(peft_model)
    ours, theirs = _both(peft_model.eval(), tokenizer, 4)
    assert [ll for ll, _ in ours] == pytest.approx([ll for ll, _ in theirs], abs=1e-5)
