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


ARTICLE = (
    "Artículo 35 Bis. La Secretaría dentro del plazo de sesenta días contados a partir de la recepción "
    "de la manifestación de impacto ambiental deberá emitir la resolución correspondiente. "
) * 3
CHOICES = [" sesenta días", " noventa días hábiles", " treinta días naturales", " un año", " diez días"]


def _choice_requests() -> list[Instance]:
    pairs = [(ARTICLE + "\nPregunta: ¿en qué plazo?\nRespuesta:", c) for c in CHOICES] + PAIRS
    return [Instance("loglikelihood", doc={}, arguments=pair, idx=i) for i, pair in enumerate(pairs)]


@pytest.fixture(scope="module")
def tiny_gemma(tiny):
    """A two-layer Gemma-3 with a sliding window far shorter than the article (soft-capped logits)."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    _, tokenizer = tiny
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=16,
        layer_types=["sliding_attention", "full_attention"],
        final_logit_softcapping=30.0,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id or 0,
    )
    torch.manual_seed(0)
    return Gemma3ForCausalLM(config).eval(), tokenizer


@pytest.mark.parametrize("model_name", ["tiny", "tiny_gemma"])
@pytest.mark.parametrize("memory_limit_mb", [None, 1])
def test_choices_of_one_context_match_lm_eval(request, model_name: str, memory_limit_mb) -> None:
    """The shared-context path (one pass over the article, the choices on its cache; with a 1 MiB
    budget one choice per piece) gives lm-eval's numbers, sliding-window layers included."""
    model, tokenizer = request.getfixturevalue(model_name)
    ours = wrap(model, tokenizer, batch_size=4, memory_limit_mb=memory_limit_mb).loglikelihood(
        _choice_requests(), disable_tqdm=True
    )
    theirs = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4).loglikelihood(
        _choice_requests(), disable_tqdm=True
    )
    assert [g for _, g in ours] == [g for _, g in theirs]
    assert [ll for ll, _ in ours] == pytest.approx([ll for ll, _ in theirs], abs=1e-5)


def test_the_shared_context_runs_once(tiny) -> None:
    """Five choices of one article cost one pass over the article, not five."""
    model, tokenizer = tiny
    seen: list[int] = []
    hook = model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(kwargs.get("input_ids", args[0] if args else None).numel()),
        with_kwargs=True,
    )
    try:
        requests = _choice_requests()[: len(CHOICES)]
        wrap(model, tokenizer, batch_size=8).loglikelihood(requests, disable_tqdm=True)
    finally:
        hook.remove()
    article = len(tokenizer(requests[0].arguments[0])["input_ids"])
    assert sum(seen) < 2 * article


def test_the_spec_generation_limit_caps_generate_until(tiny) -> None:
    """``evaluation.max_gen_toks`` reaches lm-eval's generation loop (its HFLM property says 256
    whatever it is given), for tasks that set no limit of their own."""
    model, tokenizer = tiny
    request = Instance(
        "generate_until", doc={}, arguments=("Artículo 1o.", {"until": ["@@@"], "do_sample": False}), idx=0
    )
    seen: list[int] = []
    original = model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out.shape[1] - kwargs["input_ids"].shape[1])
        return out

    model.generate = spy
    try:
        lm = wrap(model, tokenizer, batch_size=1, max_gen_toks=5)
        assert lm.max_gen_toks == 5
        lm.generate_until([request], disable_tqdm=True)
        assert wrap(model, tokenizer, batch_size=1).max_gen_toks == 256
    finally:
        del model.generate
    assert seen and max(seen) <= 5
