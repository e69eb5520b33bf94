"""The eval stage end to end on the tiny model: shipped tasks, a user's MC task, an adapter system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.context import StageContext
from harness.plan import SystemPlan
from harness.spec.load import load_spec

SPEC = """
name: evaltest
seed: 0
model: {{id: tiny-llama, sources: [tiny]}}
corpus: {{sources: [snapshot]}}
evaluation:
  tasks: {tasks}
  limit: 3
  task_limits: {task_limits}
  batch_size: 4
  bootstrap_iters: 50
  max_gen_toks: 8
"""

USER_MC = """
task: user_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "Pregunta: {{{{question}}}}\\nRespuesta:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: gold
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
"""


def write_user_task(folder: Path) -> Path:
    """A small user-written multiple-choice task with its own JSON lines data."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "question": "¿Quién expide las leyes federales?",
            "choices": ["El Congreso de la Unión", "Un municipio"],
            "gold": 0,
        },
        {"question": "¿Qué publica el DOF?", "choices": ["Recetas", "Leyes y decretos"], "gold": 1},
        {"question": "¿Cuántas cámaras tiene el Congreso?", "choices": ["Dos", "Cinco"], "gold": 0},
    ]
    data = folder / "user_mc.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    path = folder / "user_mc.yaml"
    path.write_text(USER_MC.format(data=data), encoding="utf-8")
    return path


def load(tmp_path: Path, tasks: list[str], task_limits: dict | None = None):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(tasks=json.dumps(tasks), task_limits=json.dumps(task_limits or {})), encoding="utf-8")
    return load_spec(spec, profile="cpu")


def run_stage(stage, tmp_path: Path, inputs: dict[str, Path] | None = None) -> tuple[dict, Path]:
    out = tmp_path / "out"
    out.mkdir()
    ctx = StageContext(stage=stage.name, workdir=out, scratch=tmp_path / "scratch", base_dir=tmp_path)
    return stage.execute(ctx, inputs or {}), out


def test_eval_stage_shipped_and_user_task(tmp_path, tiny_model, eval_registry):
    from harness.evaluation.stage import eval_stage

    write_user_task(tmp_path / "user")
    loaded = load(tmp_path, ["mx_legal_ppl", "mx_legal_law_id", "user/user_mc.yaml"], {"mx_legal_ppl": 2})
    stage = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, None)
    assert stage.kind == "eval" and stage.name == "eval/base"
    assert stage.config["limits"] == {"mx_legal_ppl": 2, "mx_legal_law_id": 3, "user_mc": 3}
    record, out = run_stage(stage, tmp_path)
    results = json.loads((out / "results.json").read_text())
    assert set(results["tasks"]) == {"mx_legal_ppl", "mx_legal_law_id", "user_mc"}
    ppl = results["tasks"]["mx_legal_ppl"]["metrics"]["word_perplexity"]
    low, high = ppl["ci95"]
    assert low <= ppl["value"] <= high
    assert results["tasks"]["user_mc"]["n"] == 3
    assert results["eval_wall_time_s"] > 0
    samples = [json.loads(line) for line in (out / "samples" / "mx_legal_ppl.jsonl").read_text().splitlines()]
    assert [s["doc_id"] for s in samples] == [0, 1]
    assert all(isinstance(s["metrics"]["bits_per_byte"], float) for s in samples)
    assert record["tasks"]["user_mc"]["acc"] == results["tasks"]["user_mc"]["metrics"]["acc"]["value"]


def test_lm_eval_native_files_are_read_by_lm_eval_helpers(tmp_path, tiny_model, eval_registry):
    """results_<ts>.json and samples_<task>_<ts>.jsonl as lm-eval writes them, beside the harness's."""
    from lm_eval import utils

    from harness.evaluation.stage import eval_stage
    from harness.regress.samples import sample_files

    loaded = load(tmp_path, ["mx_legal_ppl", "mx_legal_law_id"], {"mx_legal_ppl": 2})
    stage = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, None)
    _, out = run_stage(stage, tmp_path)
    names = [str(p) for p in sorted(out.iterdir())]
    (aggregated,) = utils.get_results_filenames(names)
    native = json.loads(Path(aggregated).read_text())
    for key in ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples", "config"):
        assert key in native, key
    for key in ("task_hashes", "model_name", "date", "git_hash", "total_evaluation_time_seconds"):
        assert key in native, key
    assert set(native["task_hashes"]) == {"mx_legal_ppl", "mx_legal_law_id"}
    assert native["model_name"] == tiny_model.reference
    assert native["results"]["mx_legal_law_id"]["acc,none"] == pytest.approx(
        json.loads((out / "results.json").read_text())["tasks"]["mx_legal_law_id"]["metrics"]["acc"]["value"]
    )
    dated = utils.get_sample_results_filenames(names)
    assert sorted(utils.get_file_task_name(Path(f).name) for f in dated) == ["mx_legal_law_id", "mx_legal_ppl"]
    assert utils.get_latest_filename(dated) in dated
    row = json.loads(Path(next(f for f in dated if "law_id" in f)).read_text().splitlines()[0])
    # lm-eval's own fields, as its tracker writes them
    for key in ("doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "doc_hash", "prompt_hash", "acc"):
        assert key in row, key
    assert "gen_args_0" in row["arguments"]
    recorded = json.loads((out / "results.json").read_text())["lm_eval_native"]
    assert recorded["results"] == Path(aggregated).name
    assert set(recorded["samples"]) == {"mx_legal_ppl", "mx_legal_law_id"}
    # the regression gate keeps reading the harness's own per-sample logs
    assert sample_files(out)["mx_legal_ppl"] == out / "samples" / "mx_legal_ppl.jsonl"


def test_limit_argument_overrides_spec(tmp_path, tiny_model, eval_registry):
    from harness.evaluation.stage import eval_stage

    loaded = load(tmp_path, ["mx_legal"])
    stage = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, 1)
    assert set(stage.config["limits"].values()) == {1}
    assert set(stage.config["limits"]) == {
        "mx_legal_qa_closed",
        "mx_legal_qa_open",
        "mx_legal_qa_short",
        "mx_legal_ppl",
        "mx_legal_law_id",
        "mx_legal_cloze",
        "mx_legal_heading",
    }
    other = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, 2)
    assert other.compute_key() != stage.compute_key()


def test_config_hash_follows_task_data(tmp_path, tiny_model, eval_registry, monkeypatch):
    from harness.evaluation import tasks as tasks_mod
    from harness.evaluation.stage import eval_stage

    loaded = load(tmp_path, ["mx_legal_ppl"])
    key = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, None).compute_key()
    monkeypatch.setattr(tasks_mod, "manifest_hash", lambda: "0" * 64)
    loaded = load(tmp_path, ["mx_legal_ppl"])  # the next command: its plan resolves the tasks again
    assert eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, None).compute_key() != key


def test_unknown_task_is_spec_error_with_suggestion(tmp_path, tiny_model, eval_registry):
    from harness.errors import SpecError
    from harness.evaluation.tasks import resolve_tasks

    with pytest.raises(SpecError, match="mx_legal_ppl"):
        resolve_tasks(["mx_legal_pp"], tmp_path)


def test_adapter_system(tmp_path, tiny_model, eval_registry):
    """base+dapt: a LoRA adapter saved by peft is composed and evaluated."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.evaluation.stage import eval_stage
    from harness.runner.stage import Stage

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model.path)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    loaded = load(tmp_path, ["mx_legal_ppl"])
    dapt = Stage(name="dapt", kind="dapt", config={}, execute=lambda ctx, inputs: {})
    stage = eval_stage(loaded, eval_registry, SystemPlan("base+dapt", ["dapt"]), tiny_model, {"dapt": dapt}, 2)
    assert set(stage.inputs) == {"dapt"}
    _, out = run_stage(stage, tmp_path, {"dapt": adapter})
    with_adapter = json.loads((out / "results.json").read_text())["tasks"]["mx_legal_ppl"]["metrics"]
    base_stage = eval_stage(loaded, eval_registry, SystemPlan("base", []), tiny_model, {}, 2)
    (tmp_path / "b").mkdir()
    _, out_b = run_stage(base_stage, tmp_path / "b")
    without = json.loads((out_b / "results.json").read_text())["tasks"]["mx_legal_ppl"]["metrics"]
    assert with_adapter["word_perplexity"]["value"] != pytest.approx(without["word_perplexity"]["value"])


def test_instruction_format_renders_the_sft_template_and_leaves_perplexity_alone(tmp_path, tiny_model, eval_registry):
    """A system evaluated in the instruction format sees its prompts in the SFT trainer's template
    (the tiny tokenizer has no chat template: the plain one); rolling perplexity has no prompt."""
    from harness.evaluation.stage import eval_stage
    from harness.training.data import PLAIN_PROMPT

    loaded = load(tmp_path, ["mx_legal_ppl", "mx_legal_law_id", "mx_legal_cloze"], {"mx_legal_ppl": 2})
    outs = {}
    for fmt in ("plain", "instruction"):
        stage = eval_stage(loaded, eval_registry, SystemPlan("base", [], prompt_format=fmt), tiny_model, {}, None)
        (tmp_path / fmt).mkdir()
        _, outs[fmt] = run_stage(stage, tmp_path / fmt)
    plain, instr = (json.loads((outs[f] / "results.json").read_text()) for f in ("plain", "instruction"))
    assert (plain["prompt_format"], instr["prompt_format"], instr["prompt_template"]) == (
        "plain",
        "instruction",
        "plain",
    )

    def first_args(fmt: str, task: str) -> list:
        line = (outs[fmt] / "samples" / f"{task}.jsonl").read_text().splitlines()[0]
        return json.loads(line)["arguments"]

    head = PLAIN_PROMPT.split("{instruction}")[0]
    mc_plain, mc_instr = first_args("plain", "mx_legal_law_id"), first_args("instruction", "mx_legal_law_id")
    context, choice = _context_and_continuation(mc_instr)
    assert context.startswith(head) and context.endswith("### Respuesta:\n")
    assert not choice.startswith(" ")  # lm-eval drops the target delimiter after a template
    assert not _context_and_continuation(mc_plain)[0].startswith(head)
    assert _context_and_continuation(first_args("instruction", "mx_legal_cloze"))[0].startswith(head)
    ppl = [r["tasks"]["mx_legal_ppl"]["metrics"]["word_perplexity"]["value"] for r in (plain, instr)]
    assert ppl[0] == ppl[1]
    # the key differs: a cached plain evaluation is never reused for the instruction format
    keys = {
        eval_stage(loaded, eval_registry, SystemPlan("base", [], prompt_format=f), tiny_model, {}, None).compute_key()
        for f in ("plain", "instruction")
    }
    assert len(keys) == 2


def _context_and_continuation(arguments) -> tuple[str, str]:
    """(context, continuation or generation settings) of lm-eval's logged first request."""
    first = arguments[0] if isinstance(arguments, list) else arguments
    if isinstance(first, dict):  # {"gen_args_0": {"arg_0": ctx, "arg_1": ...}}
        values = list(first.values())
        first = values
    if isinstance(first, dict):
        first = list(first.values())
    return str(first[0]), str(first[1]) if len(first) > 1 else ""
