"""The model side of evaluation: build a system's model and wrap it for lm-eval.

``HarnessLM`` is lm-eval's ``HFLM`` with three changes:

- ``loglikelihood_rolling`` encodes documents without the tokenizer's BOS.  lm-eval already puts
  its prefix token (BOS) in front of every rolling window as context; with a tokenizer that adds
  BOS itself, the document's own BOS becomes the first *scored* token and inflates perplexity
  (lm-eval #3333).
- Prompts in the *instruction* format (lm-eval's ``apply_chat_template``) are rendered the way the
  SFT trainer formatted its training examples: the tokenizer's chat template when it has one,
  otherwise the plain ``### Instrucción: … ### Respuesta:`` template of
  :mod:`harness.training.data`.  An instruction-tuned adapter is then asked questions in the format
  it was trained on, not in a format it never saw.
- Log-likelihoods are computed with the LM head on the continuation positions only
  (:mod:`harness.evaluation.scoring`): the same numbers, without a ``batch × length × vocabulary``
  tensor of log-probabilities; batches are cut to fit the memory available and retried at half
  size when they still run out.
"""

from __future__ import annotations

import logging
from typing import Any

from lm_eval.models.huggingface import HFLM

from harness.precision import DTYPES
from harness.training.data import has_chat_template

log = logging.getLogger("harness")


def render_plain(chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
    """The SFT trainer's plain template around lm-eval's messages (system and user turns joined)."""
    from harness.training.data import PLAIN_PROMPT

    prompt = "\n\n".join(m["content"] for m in chat_history if m["role"] in ("system", "user"))
    text = PLAIN_PROMPT.format(instruction=prompt.strip(), context_block="")
    if not add_generation_prompt and chat_history and chat_history[-1]["role"] == "assistant":
        text += chat_history[-1]["content"]  # a generation prefix the answer continues
    return text


class HarnessLM(HFLM):
    """``HFLM`` whose rolling loglikelihood never scores a BOS token as text, and whose
    instruction-format prompts follow the SFT trainer's template."""

    #: the memory one scoring batch may use (MiB); None: half of what is available
    memory_limit_mb: int | None = None
    #: score the choices of one context from one pass over it (False: every request on its own,
    #: as lm-eval does; benchmarks/scripts/shared_context.py compares the two)
    share_contexts: bool = True
    #: the spec's ``evaluation.max_gen_toks`` (None: lm-eval's 256); lm-eval's ``HFLM`` hard-codes
    #: its property and passes a ``max_gen_toks`` argument on to the model, where it is lost
    generation_limit: int | None = None

    @property
    def max_gen_toks(self) -> int:
        """Tokens a generation task may generate unless its own ``max_gen_toks`` says otherwise."""
        return self.generation_limit or 256

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        """The template recorded by lm-eval: the tokenizer's, or the harness's plain one."""
        if chat_template and not has_chat_template(self.tokenizer):
            from harness.training.data import PLAIN_PROMPT

            return PLAIN_PROMPT
        return super().chat_template(chat_template)

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Render a prompt in the instruction format the SFT adapters were trained on."""
        if has_chat_template(self.tokenizer):
            return super().apply_chat_template(chat_history, add_generation_prompt)
        return render_plain(chat_history, add_generation_prompt)

    def _loglikelihood_tokens(
        self, requests: list[Any], disable_tqdm: bool = False, override_bs: int | None = None
    ) -> list[tuple[float, bool]]:
        """lm-eval's scoring loop with the LM head run on continuation positions only, and the
        choices of one context scored from one pass over it (:mod:`harness.evaluation.scoring`);
        lm-eval's own loop where that does not apply."""
        from lm_eval.models.utils import Collator
        from tqdm import tqdm

        from harness.evaluation.scoring import (
            memory_budget,
            score_safely,
            shared_pieces,
            shares_context,
            split_to_fit,
            supports_kept_logits,
        )

        if self.backend != "causal" or self.batch_size == "auto" or not supports_kept_logits(self.model):
            return super()._loglikelihood_tokens(requests, disable_tqdm=disable_tqdm, override_bs=override_bs)
        results: list[tuple[float, bool] | None] = [None] * len(requests)
        bar = tqdm(total=len(requests), disable=disable_tqdm or self.rank != 0, desc="Running loglikelihood requests")
        budget = memory_budget(self.memory_limit_mb)

        def keep(indices: list[int], answers: list[tuple[float, bool]]) -> None:
            for index, answer in zip(indices, answers):
                request = requests[index][0]
                if request is not None:  # rolling windows are cached per document by the caller
                    self.cache_hook.add_partial("loglikelihood", request, answer)
                results[index] = answer
                bar.update(1)

        groups: dict[tuple[int, ...], list[int]] = {}
        for index, (_, context, _) in enumerate(requests):
            groups.setdefault(tuple(context), []).append(index)
        alone: list[int] = []
        together: list[list[int]] = []
        for indices in groups.values():
            group = [requests[i] for i in indices]
            if self.share_contexts and shares_context(group, self.max_length):
                together.append(indices)
            else:
                alone.extend(indices)
        together.sort(key=lambda indices: (-len(requests[indices[0]][1]), indices[0]))
        for piece in shared_pieces(
            [[requests[i] for i in indices] for indices in together],
            self.model.config,
            int(override_bs or self.batch_size),
            budget,
        ):
            owners, together = together[: len(piece)], together[len(piece) :]
            for indices, answers in zip(owners, self._score_groups(piece)):
                keep(indices, answers)

        rest = [(i, requests[i]) for i in alone]
        ordered = Collator(rest, sort_fn=lambda r: (-len(r[1][1] + r[1][2]), tuple(r[1][1] + r[1][2])))
        for chunk in ordered.get_batched(n=int(override_bs or self.batch_size)):
            indices = [i for i, _ in chunk]
            pieces = split_to_fit([r for _, r in chunk], self.model.config, self.max_length, budget)
            for piece in pieces:
                keep(indices[: len(piece)], score_safely(self._score_alone, piece, self.max_length))
                indices = indices[len(piece) :]
        bar.close()
        return results  # type: ignore[return-value]

    def _score_groups(self, groups: list[list[Any]]) -> list[list[tuple[float, bool]]]:
        """:func:`~harness.evaluation.scoring.score_shared_contexts`, in halves when out of memory."""
        import torch

        from harness.evaluation.scoring import is_out_of_memory, score_safely, score_shared_contexts

        try:
            return score_shared_contexts(
                self.model, groups, self.device, self.softmax_dtype, self.mixed_precision_dtype
            )
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(groups) > 1:
                half = len(groups) // 2
                log.warning("scoring %d contexts ran out of memory; retrying in halves", len(groups))
                return self._score_groups(groups[:half]) + self._score_groups(groups[half:])
            # one context: its choices on their own, in halves down to one
            return [score_safely(self._score_alone, groups[0], self.max_length)]

    def _score_alone(self, piece: list[Any]) -> list[tuple[float, bool]]:
        """:func:`~harness.evaluation.scoring.score_batch` on this model: each request on its own."""
        from harness.evaluation.scoring import score_batch

        return score_batch(
            self.model, piece, self.max_length, self.device, self.softmax_dtype, self.mixed_precision_dtype
        )

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        """lm-eval's rolling loglikelihood with documents encoded without special tokens."""
        saved = self.add_bos_token
        # tok_encode reads add_bos_token: False → add_special_tokens=False; the prefix token stays
        self.add_bos_token = False
        try:
            return super().loglikelihood_rolling(requests, disable_tqdm=disable_tqdm)
        finally:
            self.add_bos_token = saved


def wrap(
    model_obj: Any,
    tokenizer: Any,
    batch_size: int,
    max_gen_toks: int | None = None,
    max_length: int | None = None,
    mixed_precision: str = "fp32",
    memory_limit_mb: int | None = None,
) -> HarnessLM:
    """An lm-eval LM around an already built model object; ``mixed_precision`` bf16/fp16 runs its
    forward passes (scoring and generation) under ``torch.autocast``."""
    kwargs: dict[str, Any] = {"pretrained": model_obj, "tokenizer": tokenizer, "batch_size": batch_size}
    if mixed_precision != "fp32":
        kwargs["mixed_precision_dtype"] = DTYPES[mixed_precision]
    if max_length:
        kwargs["max_length"] = max_length
    lm = HarnessLM(**kwargs)
    lm.memory_limit_mb = memory_limit_mb
    lm.generation_limit = max_gen_toks
    return lm
