"""Fixtures for the trainer tests: packed blocks and instructions made from the tiny model's text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.components import ResolvedModel, TrainJob
from harness.context import StageContext

if TYPE_CHECKING:
    from harness.plugins import Registry
    from harness.runner.stage import Stage

BLOCK = 32


def make_blocks(model: ResolvedModel, folder: Path, block: int = BLOCK, limit: int = 64) -> Path:
    """``train_blocks.parquet`` and ``validation_blocks.parquet`` like the corpus stage writes."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from harness_plugins.models.tiny import SAMPLE

    tokenizer = AutoTokenizer.from_pretrained(model.path)
    ids = tokenizer(SAMPLE.read_text(encoding="utf-8"))["input_ids"]
    blocks = [ids[i : i + block] for i in range(0, len(ids) - block, block)][:limit]
    folder.mkdir(parents=True, exist_ok=True)
    cut = max(1, len(blocks) // 8)
    pq.write_table(pa.table({"input_ids": blocks[cut:]}), folder / "train_blocks.parquet")
    pq.write_table(pa.table({"input_ids": blocks[:cut]}), folder / "validation_blocks.parquet")
    return folder


def make_instructions(folder: Path, count: int = 24) -> Path:
    """``instructions.jsonl`` with the fields the instructions stage writes."""
    from harness_plugins.models.tiny import SAMPLE

    text = SAMPLE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) > 40]
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        text = lines[i % len(lines)][:200]
        rows.append(
            {
                "instruction": f"Resume el artículo {i + 1}.",
                "context": text,
                "response": text[:80],
                "task_type": "summary",
                "law_id": "ley",
                "article_label": str(i + 1),
            }
        )
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    (folder / "instructions.jsonl").write_text(body + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def blocks_dir(tiny_model: ResolvedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blocks stage output for the tiny model."""
    return make_blocks(tiny_model, tmp_path_factory.mktemp("blocks"))


@pytest.fixture(scope="session")
def instructions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instructions stage output."""
    return make_instructions(tmp_path_factory.mktemp("instructions"))


def make_job(model: ResolvedModel, root: Path, train: Path, method: str = "lora", **extra: object) -> TrainJob:
    """A small training job writing into ``root/adapter`` with checkpoints in ``root/scratch``."""
    hp = {"per_device_train_batch_size": 4, "logging_steps": 1, "learning_rate": 1e-3}
    hp["budget"] = {"max_steps": 3}
    hp.update(extra.pop("hyperparameters", {}))  # type: ignore[arg-type]
    return TrainJob(
        model=model,
        dtype="float32",
        train_path=train,
        eval_path=extra.pop("eval_path", None),  # type: ignore[arg-type]
        method=method,
        method_options=extra.pop("method_options", {}),  # type: ignore[arg-type]
        hyperparameters=hp,
        output_dir=root / "adapter",
        checkpoint_dir=root / "scratch" / "checkpoints",
        seed=0,
        init_adapters=extra.pop("init_adapters", {}),  # type: ignore[arg-type]
    )


def make_ctx(root: Path) -> StageContext:
    """A stage context over ``root``."""
    (root / "adapter").mkdir(parents=True, exist_ok=True)
    return StageContext(stage="dapt", workdir=root / "adapter", scratch=root / "scratch", base_dir=root)


@pytest.fixture(scope="session")
def training_registry() -> Registry:
    """A registry holding only the training and PEFT-method plugins, so these tests do not depend
    on other plugins."""
    import pluggy

    import harness_plugins.peft_methods as methods
    import harness_plugins.training as plugin
    from harness import hookspecs
    from harness.plugins import build_registry

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="harness_plugins.training")
    pm.register(methods, name="harness_plugins.peft_methods")
    pm.harness_origins = {
        "harness_plugins.training": ("builtin", "harness"),
        "harness_plugins.peft_methods": ("builtin", "harness"),
    }
    return build_registry(pm)


def run_stage_here(stage: Stage, paths: dict[str, Path], root: Path) -> dict[str, Any]:
    """Execute a stage the way the runner does: workdir and scratch under ``root``."""
    workdir, scratch = root / "out", root / "scratch"
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(stage=stage.name, workdir=workdir, scratch=scratch, base_dir=root)
    return stage.execute(ctx, paths)


def comparison_on_tiny(spec: Path, folder: Path) -> Path:
    """A method-comparison spec as it ships (its methods, options and per-method rates) moved onto
    the tiny LLaMA, three laws and three training steps, for running end to end in a test."""
    import yaml

    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["model"] = {"id": "tiny-llama", "sources": ["tiny"], "dtype": "float32"}
    data["corpus"]["sources"] = [
        {"name": "snapshot", "options": {"include": ["1_280521.txt", "LAmp_070621.txt", "103_220321.txt"]}}
    ]
    data["corpus"]["split"] = {"validation_fraction": 0.05}
    data["corpus"]["blocks"] = {"block_size": 64}
    data["dapt"]["hyperparameters"]["per_device_train_batch_size"] = 4
    data["dapt"]["hyperparameters"]["gradient_accumulation_steps"] = 1
    data["dapt"]["hyperparameters"]["warmup_ratio"] = 0.0
    # fp32: one step's change to a tiny random model can vanish in bf16 logits
    data["precision"] = "fp32"
    data["profiles"] = {
        "cpu": {
            "corpus": {"blocks": {"max_train_blocks": 8, "max_validation_blocks": 4}},
            "dapt": {"budget": {"max_steps": 3}},
            "evaluation": {"task_limits": {"mx_legal_ppl": 3, "mx_legal_law_id": 3}},
        }
    }
    data["report"] = {"formats": ["md", "csv"]}
    out = folder / spec.name
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def check_comparison_run(spec: Path, out: Path) -> list[str]:
    """Run ``spec`` (from :func:`comparison_on_tiny`) twice: every method trains, saves, reloads
    for evaluation and is scored, and the rerun comes wholly from the stage cache.  Returns the
    methods."""
    import math

    import yaml

    from harness.cli import main
    from harness.training.meta import read_meta

    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    name, methods = data["name"], data["dapt"]["method"]
    assert main(["run", str(spec), "--out", str(out), "--run-id", "first", "--profile", "cpu"]) == 0
    run = out / name / "first"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    systems = [s["name"] for s in manifest["systems"]]
    assert systems[0] == "base" and set(systems[1:]) == {f"base+{a}" for a in manifest["adapters"]}
    trained = []
    for adapter, record in manifest["adapters"].items():
        meta = read_meta(run / "adapters" / adapter)
        assert adapter.startswith(f"dapt[method={meta['method']}"), (adapter, meta["method"])
        assert record["efficiency"]["trainable_params"] > 0
        trained.append(meta["method"])
    assert sorted(set(trained)) == sorted(methods)
    scores = {}
    for system in systems:
        results = json.loads((run / "results" / system / "results.json").read_text(encoding="utf-8"))
        scores[system] = results["tasks"]["mx_legal_ppl"]["metrics"]["word_perplexity"]["value"]
        assert math.isfinite(scores[system]) and scores[system] > 1, (system, scores[system])
    # each adapted system scores apart from the base: its trained adapter was loaded
    assert all(scores[s] != scores["base"] for s in systems[1:]), scores

    def rows(run_id: str) -> list[dict[str, str]]:
        import csv

        with open(out / name / run_id / "leaderboard.csv", newline="", encoding="utf-8") as handle:
            return [{k: v for k, v in row.items() if k != "run"} for row in csv.DictReader(handle)]

    assert main(["run", str(spec), "--out", str(out), "--run-id", "second", "--profile", "cpu"]) == 0
    again = json.loads((out / name / "second" / "manifest.json").read_text(encoding="utf-8"))
    assert again["executed"] == [], again["executed"]
    assert rows("second") == rows("first")
    return list(methods)
