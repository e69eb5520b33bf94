"""The PEFT methods the harness names itself: LoRA, QLoRA, DoRA, (IA)³, prefix and prompt tuning,
LoHa and LoKr.  Each is an options model and the peft config it builds; everything else (attach,
save, load, merge) is :class:`harness.components.PeftMethod`'s PEFT default."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, StrictFloat, StrictInt

from harness.components import Options, PeftMethod
from harness.training.methods import check_target_modules


def _positive_int(value: int) -> int:
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _positive(value: float) -> float:
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _unit(value: float) -> float:
    if not 0 <= value < 1:
        raise ValueError("must be a number in [0, 1)")
    return value


#: shared option types (their messages read "r must be a positive integer" once the option is named)
PositiveInt = Annotated[StrictInt, AfterValidator(_positive_int)]
PositiveNumber = Annotated[StrictInt | StrictFloat, AfterValidator(_positive)]
Dropout = Annotated[StrictInt | StrictFloat, AfterValidator(_unit)]
TargetModules = str | list[str] | None


class TargetedMethod(PeftMethod):
    """A method on named layers (``target_modules``): they are checked against the model."""

    def check_model(self, model: Any) -> None:
        """The target modules exist among the model's linear layers."""
        check_target_modules(model, getattr(self.options, "target_modules", None))


class LoraOptions(Options):
    """LoRA's options (peft ``LoraConfig``)."""

    r: PositiveInt = 8
    alpha: PositiveNumber = 16
    dropout: Dropout = 0.05
    target_modules: TargetModules = None
    bias: Literal["none", "all", "lora_only"] = "none"
    use_rslora: bool = False


class Lora(TargetedMethod):
    """Low-rank adapters (Hu et al. 2021)."""

    Options = LoraOptions
    description = "low-rank adapters (Hu et al. 2021)"
    peft_type = "LORA"
    dora: ClassVar[bool] = False

    def peft_config(self, model_path: str) -> Any:
        """``LoraConfig`` for a causal LM."""
        import peft

        o = self.options
        return peft.LoraConfig(
            task_type="CAUSAL_LM",
            r=o.r,
            lora_alpha=o.alpha,
            lora_dropout=o.dropout,
            target_modules=o.target_modules,
            bias=o.bias,
            use_rslora=o.use_rslora,
            use_dora=self.dora,
        )

    def record(self, model: Any) -> dict[str, Any]:
        """Options as used, with the scaling alpha/r."""
        return {**super().record(model), "scaling": self.options.alpha / self.options.r}


class Dora(Lora):
    """Weight-decomposed LoRA (Liu et al. 2024)."""

    description = "weight-decomposed LoRA (DoRA)"
    dora = True


class QloraOptions(LoraOptions):
    """QLoRA: LoRA's options and the 4-bit base's."""

    double_quant: bool = True
    compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"


class Qlora(Lora):
    """LoRA on a 4-bit nf4 base (bitsandbytes)."""

    Options = QloraOptions
    description = "LoRA on a 4-bit nf4 base (bitsandbytes)"
    quantized = True

    def load_kwargs(self, precision: str) -> dict[str, Any]:
        """bitsandbytes 4-bit nf4 config (works on CPU with bitsandbytes ≥ 0.48)."""
        import torch
        from transformers import BitsAndBytesConfig

        from harness.training.methods import compute_dtype

        return {
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=bool(self.options.double_quant),
                bnb_4bit_compute_dtype=getattr(torch, compute_dtype(self.options.compute_dtype, precision)),
            )
        }

    def prepare_base(self, model: Any, gradient_checkpointing: bool) -> Any:
        """peft's k-bit preparation (layer norms fp32, input grads)."""
        from peft import prepare_model_for_kbit_training

        return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)

    def record(self, model: Any) -> dict[str, Any]:
        """Options as used, with the quantization."""
        return {**super().record(model), "quantization": "bitsandbytes 4-bit nf4"}


class Ia3Options(Options):
    """(IA)³'s options (peft ``IA3Config``)."""

    target_modules: TargetModules = None
    feedforward_modules: TargetModules = None


class Ia3(TargetedMethod):
    """(IA)³ scaling vectors (Liu et al. 2022)."""

    Options = Ia3Options
    description = "(IA)^3 scaling vectors"
    peft_type = "IA3"
    list_options = TargetedMethod.list_options | {"feedforward_modules"}

    def peft_config(self, model_path: str) -> Any:
        """``IA3Config`` for a causal LM."""
        import peft

        o = self.options
        return peft.IA3Config(
            task_type="CAUSAL_LM", target_modules=o.target_modules, feedforward_modules=o.feedforward_modules
        )


class PrefixOptions(Options):
    """Prefix tuning's options (peft ``PrefixTuningConfig``)."""

    num_virtual_tokens: PositiveInt = 20
    prefix_projection: bool = False
    encoder_hidden_size: PositiveInt | None = None


class PromptLearning(PeftMethod):
    """Virtual tokens instead of changed layers: nothing to merge, one adapter at a time."""

    prompt_learning = True
    stackable = False
    mergeable = False


class Prefix(PromptLearning):
    """Prefix tuning: virtual keys and values per layer (Li & Liang 2021)."""

    Options = PrefixOptions
    description = "prefix tuning (virtual key/values per layer)"
    peft_type = "PREFIX_TUNING"

    def peft_config(self, model_path: str) -> Any:
        """``PrefixTuningConfig`` for a causal LM."""
        import peft

        o = self.options
        return peft.PrefixTuningConfig(
            task_type="CAUSAL_LM",
            num_virtual_tokens=o.num_virtual_tokens,
            prefix_projection=o.prefix_projection,
            encoder_hidden_size=o.encoder_hidden_size,
        )


class PromptOptions(Options):
    """Prompt tuning's options (peft ``PromptTuningConfig``)."""

    num_virtual_tokens: PositiveInt = 20
    init_text: str | None = None


class Prompt(PromptLearning):
    """Prompt tuning: virtual input embeddings (Lester et al. 2021)."""

    Options = PromptOptions
    description = "prompt tuning (virtual input embeddings)"
    peft_type = "PROMPT_TUNING"

    def peft_config(self, model_path: str) -> Any:
        """``PromptTuningConfig``: random init, or from ``init_text`` with the base's tokenizer."""
        import peft

        o = self.options
        init: dict[str, Any] = {"prompt_tuning_init": "RANDOM"}
        if o.init_text:
            init = {
                "prompt_tuning_init": "TEXT",
                "prompt_tuning_init_text": o.init_text,
                "tokenizer_name_or_path": model_path,
            }
        return peft.PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=o.num_virtual_tokens, **init)


class LycorisOptions(Options):
    """LoHa's and LoKr's options (peft ``LoHaConfig`` / ``LoKrConfig``)."""

    r: PositiveInt = 8
    alpha: PositiveNumber = 8
    dropout: Dropout = 0.0
    target_modules: TargetModules = None


class Lycoris(TargetedMethod):
    """LyCORIS low-rank products: its peft config class is :attr:`config_class`."""

    Options = LycorisOptions
    config_class: ClassVar[str] = ""

    def peft_config(self, model_path: str) -> Any:
        """The config named by :attr:`config_class` (rank dropout = ``dropout``)."""
        import peft

        o = self.options
        config = getattr(peft, self.config_class)
        return config(
            task_type="CAUSAL_LM", r=o.r, alpha=o.alpha, rank_dropout=o.dropout, target_modules=o.target_modules
        )

    def record(self, model: Any) -> dict[str, Any]:
        """Options as used, with the scaling alpha/r."""
        return {**super().record(model), "scaling": self.options.alpha / self.options.r}


class Loha(Lycoris):
    """Low-rank Hadamard product."""

    description = "LoHa (low-rank Hadamard product)"
    peft_type = "LOHA"
    config_class = "LoHaConfig"


class Lokr(Lycoris):
    """Low-rank Kronecker product."""

    description = "LoKr (low-rank Kronecker product)"
    peft_type = "LOKR"
    config_class = "LoKrConfig"


BUILTIN: dict[str, type[PeftMethod]] = {
    "lora": Lora,
    "qlora": Qlora,
    "dora": Dora,
    "ia3": Ia3,
    "prefix": Prefix,
    "prompt": Prompt,
    "loha": Loha,
    "lokr": Lokr,
}
