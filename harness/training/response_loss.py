"""SFT loss with the LM head run on the response tokens only.

TRL's ``SFTTrainer`` projects hidden states through the LM head with a fused, chunked kernel; on
CUDA it scores only the positions that carry a label, but elsewhere (the CPU) it scores every
position of the batch to keep tile shapes fixed.  With Gemma-3's 262,144-token vocabulary that is
most of an SFT step's compute for prompts that carry no loss.  :class:`ResponseOnlyLoss` computes
the same loss from the backbone's hidden states at the labelled positions alone: the base model's
backbone (with its adapters) runs as usual, then its own output embedding (and final-logit
soft-capping, where the model has it) is applied to the selected rows.

Written here rather than taken from TRL because TRL's switch between the two modes is a private
device check; models this does not cover (prompt-learning adapters, which prepend virtual
tokens through ``PeftModel.forward``; output scaling other than soft-capping) keep TRL's loss.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

#: config attributes that scale logits in ways this loss does not reproduce
_UNSUPPORTED_SCALING = ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")


def response_only_supported(model: Any) -> bool:
    """Whether :func:`response_loss` reproduces ``model``'s own loss."""
    config = getattr(model, "active_peft_config", None)
    if config is not None and getattr(config, "is_prompt_learning", False):
        return False
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    text_config = base.config.get_text_config()
    if any(getattr(text_config, name, None) is not None for name in _UNSUPPORTED_SCALING):
        return False
    return hasattr(base, "get_decoder") and base.get_output_embeddings() is not None


def response_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean next-token negative log-likelihood over the labelled positions (``labels != -100``),
    normalised by ``num_items_in_batch`` when the trainer gives it (gradient accumulation), and
    the per-batch sums TRL logs (entropy, top-1 hits, labelled tokens)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    backbone = base.get_decoder()
    kwargs = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask", "position_ids")}
    hidden = backbone(**kwargs, use_cache=False).last_hidden_state[:, :-1]
    targets = inputs["labels"][:, 1:].to(hidden.device)
    mask = targets != -100
    logits = base.get_output_embeddings()(hidden[mask])
    cap = getattr(base.config.get_text_config(), "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    logprobs = F.log_softmax(logits.float(), dim=-1)
    wanted = targets[mask]
    token_logprobs = logprobs.gather(1, wanted.unsqueeze(1)).squeeze(1)
    count = mask.sum()
    denominator = count if num_items_in_batch is None else num_items_in_batch
    loss = -token_logprobs.sum() / torch.as_tensor(denominator, device=hidden.device).clamp(min=1)
    with torch.no_grad():
        entropy = -(logprobs.exp() * logprobs).sum(dim=-1)
        stats = {
            "tokens": count,
            "entropy_sum": entropy.sum(),
            "top1": (logprobs.argmax(dim=-1) == wanted).sum(),
        }
    return loss, stats


def response_only_trainer(base_class: type) -> type:
    """TRL's ``SFTTrainer`` (``base_class``) with :func:`response_loss` as its training loss."""

    class ResponseOnlySFTTrainer(base_class):  # type: ignore[misc, valid-type]
        """``SFTTrainer`` whose loss runs the LM head on response tokens only (same value and metrics)."""

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
        ) -> Any:
            if return_outputs or not response_only_supported(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            mode = "train" if self.model.training else "eval"
            # the backbone is called directly, not through the forward accelerate wraps in autocast
            half = torch.bfloat16 if self.args.bf16 else torch.float16 if self.args.fp16 else None
            device = inputs["input_ids"].device.type
            with torch.autocast(device_type=device, dtype=half, enabled=half is not None):
                loss, stats = response_loss(model, inputs, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes  # as TRL does: DDP averages the gradients
            gather = self.accelerator.gather_for_metrics
            tokens = gather(stats["tokens"]).sum()
            entropy, top1 = gather(stats["entropy_sum"]).sum(), gather(stats["top1"]).sum()
            self._metrics[mode]["entropy"].append((entropy / tokens).item() if tokens > 0 else 0.0)
            self._metrics[mode]["mean_token_accuracy"].append((top1 / tokens).item() if tokens > 0 else 0.0)
            if mode == "train" and "attention_mask" in inputs:
                self._total_train_tokens += gather(inputs["attention_mask"].sum()).sum().item()
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return ResponseOnlySFTTrainer
