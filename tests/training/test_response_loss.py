"""The response-only SFT loss equals the full-head loss (value and gradients) on the tiny model."""

from __future__ import annotations

import pytest
import torch

from harness.training.response_loss import response_loss, response_only_supported


@pytest.fixture
def lora_model(tiny_model):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    return get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))


def _batch(vocab: int) -> dict[str, torch.Tensor]:
    """Two right-padded rows: prompt tokens unlabelled, response tokens labelled, padding unlabelled."""
    torch.manual_seed(1)
    ids = torch.randint(3, vocab, (2, 24))
    mask = torch.ones_like(ids)
    mask[1, 18:] = 0
    labels = ids.clone()
    labels[0, :15] = -100
    labels[1, :9] = -100
    labels[mask == 0] = -100
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _grads(model) -> list[torch.Tensor]:
    return [p.grad.clone() for p in model.parameters() if p.requires_grad]


def test_same_loss_and_gradients_as_the_full_head(lora_model) -> None:
    batch = _batch(lora_model.config.vocab_size)
    assert response_only_supported(lora_model)
    full = lora_model(**batch).loss
    full.backward()
    expected = _grads(lora_model)
    lora_model.zero_grad()
    ours, stats = response_loss(lora_model, batch)
    ours.backward()
    assert float(ours) == pytest.approx(float(full), abs=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(_grads(lora_model), expected))
    assert int(stats["tokens"]) == int((batch["labels"][:, 1:] != -100).sum())


def test_gradient_accumulation_normalises_by_the_items_given(lora_model) -> None:
    batch = _batch(lora_model.config.vocab_size)
    mean, stats = response_loss(lora_model, batch)
    summed, _ = response_loss(lora_model, batch, num_items_in_batch=torch.tensor(100))
    assert float(summed) == pytest.approx(float(mean) * int(stats["tokens"]) / 100, rel=1e-5)


def test_prompt_learning_keeps_trls_loss(tiny_model) -> None:
    from peft import PrefixTuningConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model.path),
        PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4),
    )
    assert not response_only_supported(model)
