"""Text generation for the model-based generators: transformers (any device, batched) or vLLM.

Both take plain prompts and return the completions; ``chat=True`` wraps each prompt in the
model's chat template when it has one.  vLLM is imported only when asked for, so the plugin
loads on machines without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import Field

from harness.components import Options, chunked
from harness.errors import SpecError

if TYPE_CHECKING:
    from harness.context import StageContext


class GenerationOptions(Options):
    """Options shared by the model-based generators."""

    backend: Literal["auto", "transformers", "vllm"] = "auto"
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: int = Field(4, gt=0)
    max_new_tokens: int = Field(256, gt=0)
    temperature: float = Field(0.5, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    #: the article text in the prompt is cut to this many characters
    max_context_chars: int = Field(2000, gt=100)
    min_words: int = Field(8, ge=1)


class Backend(Protocol):
    """Turns prompts into completions."""

    name: str

    def generate(self, prompts: list[str], ctx: StageContext, chat: bool = False) -> list[str]:
        """One completion per prompt, in order."""
        ...


def resolve_model(reference: str, generator: str) -> Path:
    """A model reference → a local folder: ``tiny-llama``, a folder, or the Hugging Face cache/hub."""
    from harness_plugins.models.sources import HuggingFaceHub, LocalFolder, TinyLlama

    for source in (TinyLlama(), LocalFolder(), HuggingFaceHub()):
        resolved = source.resolve(reference)
        if resolved is not None:
            return resolved.path
    raise SpecError(
        f"instruction generator {generator!r}: model {reference!r} is not available offline. "
        f"Download it on a machine with network (`huggingface-cli download {reference}`) and copy "
        "its Hugging Face cache here (HF_HOME), or save it to a folder and give that folder as the "
        "generator's option 'model'",
        field=f"instructions.generators.{generator}.options.model",
    )


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _has_vllm() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def make_backend(path: Path, options: GenerationOptions, seed: int, generator: str) -> Backend:
    """The backend the options ask for; ``auto`` is vLLM when installed with CUDA, else transformers."""
    backend = options.backend
    if backend == "auto":
        backend = "vllm" if _has_vllm() and _cuda() else "transformers"
    if backend == "vllm":
        return VLLMBackend(path, options, seed, generator)
    return TransformersBackend(path, options, seed)


class TransformersBackend:
    """Batched ``generate`` with left padding; sampling seeded."""

    name = "transformers"

    def __init__(self, path: Path, options: GenerationOptions, seed: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.options, self.seed = options, seed
        self.device = options.device if options.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = "auto" if options.dtype == "auto" else getattr(torch, options.dtype)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(self.device).eval()

    def _text(self, prompt: str, chat: bool) -> tuple[str, bool]:
        if chat and getattr(self.tokenizer, "chat_template", None):
            # the template writes its own BOS: do not add a second one
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return text, False
        return prompt, True

    def generate(self, prompts: list[str], ctx: StageContext, chat: bool = False) -> list[str]:
        """Completions decoded without special tokens (as the Bonito library does)."""
        import torch

        o = self.options
        torch.manual_seed(self.seed)
        outputs: list[str] = []
        with ctx.progress.task(f"generating with {self.name}", total=len(prompts)) as advance:
            for batch in chunked(prompts, o.batch_size):
                texts = [self._text(p, chat) for p in batch]
                encoded = self.tokenizer(
                    [t for t, _ in texts], return_tensors="pt", padding=True, add_special_tokens=texts[0][1]
                ).to(self.device)
                sample = o.temperature > 0
                with torch.no_grad():
                    out = self.model.generate(
                        **encoded,
                        max_new_tokens=o.max_new_tokens,
                        do_sample=sample,
                        temperature=o.temperature if sample else None,
                        top_p=o.top_p if sample else None,
                        pad_token_id=self.tokenizer.pad_token_id,
                    )
                new = out[:, encoded["input_ids"].shape[1] :]
                outputs += self.tokenizer.batch_decode(new, skip_special_tokens=True)
                advance(len(batch))
        return outputs


class VLLMBackend:
    """vLLM's offline ``LLM.generate`` (GPU); the model's chat template applied by its tokenizer."""

    name = "vllm"

    def __init__(self, path: Path, options: GenerationOptions, seed: int, generator: str) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError:
            raise SpecError(
                f"instruction generator {generator!r}: backend 'vllm' needs the vllm package on a "
                "CUDA machine (pip install vllm); use backend 'transformers' otherwise",
                field=f"instructions.generators.{generator}.options.backend",
            ) from None
        dtype = "auto" if options.dtype == "auto" else options.dtype
        self.llm = LLM(model=str(path), seed=seed, dtype=dtype)
        self.params = SamplingParams(
            max_tokens=options.max_new_tokens,
            temperature=options.temperature,
            top_p=options.top_p,
            n=1,
            seed=seed,
        )

    def generate(self, prompts: list[str], ctx: StageContext, chat: bool = False) -> list[str]:
        """Completions of every prompt in one vLLM call (it batches internally)."""
        texts = prompts
        if chat:
            tokenizer = self.llm.get_tokenizer()
            if getattr(tokenizer, "chat_template", None):
                texts = [
                    tokenizer.apply_chat_template(
                        [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
                    )
                    for p in prompts
                ]
        results = self.llm.generate(texts, self.params)
        return [result.outputs[0].text if result.outputs else "" for result in results]
