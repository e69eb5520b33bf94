"""Plugin metrics reach lm-eval's registry through the bridge and work by name in task YAMLs."""

from __future__ import annotations

import json
from pathlib import Path

from harness import hookimpl
from harness.components import Metric, MetricSpec, Options
from harness.plan import SystemPlan

from .conftest import builtin_registry
from .test_stage import load, run_stage


class ShoutOptions(Options):
    """A third-party metric with an option."""

    bonus: float = 0.0


class AnswerLength(Metric):
    """Counts predicted characters (a stand-in third-party metric)."""

    Options = ShoutOptions

    def spec(self) -> MetricSpec:
        def fn(references=None, predictions=None, **_):
            return float(len(predictions[0])) + self.options.bonus

        return MetricSpec(fn=fn, aggregation="mean", higher_is_better=False)


class ThirdPartyPlugin:
    """What an external package's entry point would register."""

    @hookimpl
    def register_metrics(self, register) -> None:
        register("answer_length_tp", AnswerLength)


USER_GEN = """
task: user_gen_tp
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Pregunta: {{{{q}}}}\\nRespuesta:"
doc_to_target: "{{{{a}}}}"
generation_kwargs: {{until: ["\\n"], max_gen_toks: 4, do_sample: false}}
metric_list:
  - metric: answer_length_tp
    aggregation: mean
    higher_is_better: false
  - metric: token_f1_es
    aggregation: mean
    higher_is_better: true
"""


def test_push_registers_in_lm_eval_and_repush_swaps_options():
    from lm_eval.api.registry import get_metric, is_higher_better

    from harness.evaluation.metrics_bridge import push_metrics

    registry = builtin_registry(ThirdPartyPlugin())
    pushed = push_metrics(registry)
    assert {"answer_length_tp", "rouge1_es", "bertscore_f1"} <= set(pushed)
    fn = get_metric("answer_length_tp")
    assert fn(references=["x"], predictions=["abc"]) == 3.0
    assert is_higher_better("answer_length_tp") is False
    push_metrics(registry, {"answer_length_tp": {"bonus": 10}})
    assert get_metric("answer_length_tp")(references=["x"], predictions=["abc"]) == 13.0


def test_clash_with_lm_eval_metric_names_the_plugin():
    import pytest

    from harness.errors import PluginError
    from harness.evaluation.metrics_bridge import push_metrics

    class Clash:
        @hookimpl
        def register_metrics(self, register) -> None:
            register("acc", AnswerLength)

    with pytest.raises(PluginError, match="acc"):
        push_metrics(builtin_registry(Clash()))


def test_third_party_metric_by_name_in_user_yaml(tmp_path: Path, tiny_model):
    from harness.evaluation.stage import eval_stage

    folder = tmp_path / "user"
    folder.mkdir()
    data = folder / "qa.jsonl"
    rows = [
        {"q": "¿Quién expide las leyes?", "a": "el Congreso"},
        {"q": "¿Dónde se publican?", "a": "en el DOF"},
    ]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (folder / "user_gen.yaml").write_text(USER_GEN.format(data=data), encoding="utf-8")
    registry = builtin_registry(ThirdPartyPlugin())
    loaded = load(tmp_path, ["user/user_gen.yaml"])
    stage = eval_stage(loaded, registry, SystemPlan("base", []), tiny_model, {}, None)
    assert "answer_length_tp" in stage.config["metrics"]
    _, out = run_stage(stage, tmp_path)
    metrics = json.loads((out / "results.json").read_text())["tasks"]["user_gen_tp"]["metrics"]
    assert metrics["answer_length_tp"]["value"] >= 0
    assert metrics["answer_length_tp"]["higher_is_better"] is False
    samples = (out / "samples" / "user_gen_tp.jsonl").read_text().splitlines()
    assert len(samples) == 2 and "answer_length_tp" in json.loads(samples[0])["metrics"]
