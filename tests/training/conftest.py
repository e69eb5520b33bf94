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
