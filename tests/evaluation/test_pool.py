"""One base model per run's evaluations: switching adapters gives the per-system models' numbers;
scoring batches fit a memory cap and survive running out of memory."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lm_eval.api.instance import Instance
from transformers import AutoModelForCausalLM

from harness.components import ResolvedModel
from harness.evaluation import pool
from harness.evaluation.lm import wrap
from harness.evaluation.scoring import EvaluationOutOfMemory, row_bytes, split_to_fit
from harness.plan import SystemPlan
from harness.training.compose import build_system_model
from harness.training.meta import PARENT_DIR, write_meta
from tests.training.test_compose import random_lora

ARTICLE = (
    "Artículo 8o. Los funcionarios y empleados públicos respetarán el ejercicio del derecho de petición, "
    "siempre que ésta se formule por escrito, de manera pacífica y respetuosa. "
) * 6
PAIRS = [
    (ARTICLE + "Pregunta: ¿cómo debe formularse la petición?\nRespuesta:", " por escrito"),
    (ARTICLE + "Pregunta: ¿cómo debe formularse la petición?\nRespuesta:", " de manera pacífica"),
    ("Pregunta: ¿qué plazo?\nRespuesta:", " quince días hábiles"),
    ("Artículo 1o.", " En los Estados Unidos Mexicanos todas las personas gozarán de los derechos humanos"),
    ("Pregunta: ¿quién resuelve?\nRespuesta:", " la Secretaría"),
    (ARTICLE[:200], " breve término"),
]


def _requests() -> list[Instance]:
    return [Instance("loglikelihood", doc={}, arguments=pair, idx=i) for i, pair in enumerate(PAIRS)]


@pytest.fixture(scope="module")
def adapters(tiny_model: ResolvedModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pool")
    dirs = {
        "dapt": random_lora(tiny_model, root / "dapt", 1, ["q_proj", "v_proj", "up_proj"]),
        "sft": random_lora(tiny_model, root / "sft", 2, ["q_proj", "o_proj"]),
        # a trainable-arm SFT adapter: its updated DAPT parent sits in parent/
        "sft_arm": random_lora(tiny_model, root / "sft_arm", 3, ["q_proj", "o_proj"]),
    }
    random_lora(tiny_model, root / "sft_arm" / PARENT_DIR, 4, ["q_proj", "v_proj", "up_proj"])
    write_meta(root / "sft_arm", tiny_model, method="lora", parent_trainable=True)
    return dirs


def _scores(
    model, tokenizer, batch_size: int = 4, memory_limit_mb: int | None = None, share: bool = True
) -> list[tuple[float, bool]]:
    lm = wrap(model, tokenizer, batch_size=batch_size, memory_limit_mb=memory_limit_mb)
    lm.share_contexts = share
    return lm.loglikelihood(_requests(), disable_tqdm=True)


SYSTEMS = [
    ("base", [], {}),
    ("base+dapt", ["dapt"], {}),
    ("base+sft", ["sft"], {}),
    ("base+dapt+sft", ["dapt", "sft"], {}),
    ("base+dapt+sft_trainable", ["dapt", "sft"], {"sft": "sft_arm"}),
    ("base", [], {}),  # back to the base after adapters were loaded
    ("base+dapt", ["dapt"], {}),
]


def test_one_model_gives_the_per_system_log_likelihoods(tiny_model: ResolvedModel, adapters: dict[str, Path]) -> None:
    pool.release()
    shared_flags = []
    try:
        for name, chain, swap in SYSTEMS:
            dirs = {role: adapters[swap.get(role, role)] for role in chain}
            system = SystemPlan(name, chain, "stacked")
            fresh, tokenizer = build_system_model(system, tiny_model, dirs, "float32")
            expected = _scores(fresh, tokenizer)
            del fresh
            pooled, tokenizer, shared = pool.system_model(system, tiny_model, dirs, "float32")
            assert not any(p.requires_grad for p in pooled.parameters())
            got = _scores(pooled, tokenizer)
            shared_flags.append(shared)
            assert [g for _, g in got] == [g for _, g in expected], name
            assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in expected], abs=1e-5), name
        # one base for all: loaded by the first system, reused by every other
        assert shared_flags == [False] + [True] * (len(SYSTEMS) - 1)
        # each adapter folder was loaded once (dapt, sft, the arm's sft and its updated parent)
        assert pool._POOL is not None and len(pool._POOL.names) == 4
    finally:
        pool.release()


def test_systems_that_change_the_base_are_built_apart(tiny_model: ResolvedModel, adapters: dict[str, Path]) -> None:
    pool.release()
    try:
        dirs = {"dapt": adapters["dapt"], "sft": adapters["sft"]}
        base_model, tokenizer, _ = pool.system_model(SystemPlan("base", [], "stacked"), tiny_model, {}, "float32")
        before = _scores(base_model, tokenizer)
        merged, tokenizer, shared = pool.system_model(
            SystemPlan("base+dapt+sft", ["dapt", "sft"], "merged"), tiny_model, dirs, "float32"
        )
        assert not shared and merged is not pool._POOL.model
        expected, _ = build_system_model(SystemPlan("m", ["dapt", "sft"], "merged"), tiny_model, dirs, "float32")
        assert [ll for ll, _ in _scores(merged, tokenizer)] == pytest.approx(
            [ll for ll, _ in _scores(expected, tokenizer)], abs=1e-5
        )
        # the pooled base is untouched by the merge
        again, tokenizer, shared = pool.system_model(SystemPlan("base", [], "stacked"), tiny_model, {}, "float32")
        assert shared and [ll for ll, _ in _scores(again, tokenizer)] == pytest.approx(
            [ll for ll, _ in before], abs=1e-6
        )
    finally:
        pool.release()


@pytest.fixture(scope="module")
def plain(tiny_model: ResolvedModel):
    from transformers import AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model.path).eval(), AutoTokenizer.from_pretrained(tiny_model.path)


def test_a_low_memory_cap_cuts_batches_and_keeps_the_numbers(plain) -> None:
    model, tokenizer = plain
    free = _scores(model, tokenizer, batch_size=6)
    capped = _scores(model, tokenizer, batch_size=6, memory_limit_mb=1)
    assert [ll for ll, _ in capped] == pytest.approx([ll for ll, _ in free], abs=1e-5)
    # at 1 MiB every long-context request is scored alone
    chunk = [(None, tokenizer(c).input_ids, tokenizer(t, add_special_tokens=False).input_ids) for c, t in PAIRS]
    chunk.sort(key=lambda r: -len(r[1] + r[2]))
    pieces = split_to_fit(chunk, model.config, 2048, 2**20)
    assert len(pieces) >= 3 and sum(len(p) for p in pieces) == len(chunk)
    assert split_to_fit(chunk, model.config, 2048, 2**40) == [chunk]
    # the estimate grows with the vocabulary rows kept and with the sequence length
    assert row_bytes(model.config, 100, 10) > row_bytes(model.config, 100, 1) > row_bytes(model.config, 10, 1)


def test_running_out_of_memory_retries_at_half_size(plain, caplog: pytest.LogCaptureFixture) -> None:
    model, tokenizer = plain
    expected = _scores(model, tokenizer, batch_size=6)
    seen: list[int] = []

    def refuse_batches(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        seen.append(ids.shape[0])
        if ids.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 24.00 GiB")

    handle = model.register_forward_pre_hook(refuse_batches, with_kwargs=True)
    try:
        with caplog.at_level("WARNING", logger="harness"):
            got = _scores(model, tokenizer, batch_size=6, share=False)
        assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in expected], abs=1e-5)
        assert 6 in seen and 3 in seen and seen.count(1) == len(PAIRS)
        assert "ran out of memory; retrying" in caplog.text
        # the shared-context path: its choices fall back to one at a time, with the same numbers
        got = _scores(model, tokenizer, batch_size=6)
        assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in expected], abs=1e-5)

        def refuse_all(module, args, kwargs):
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")

        handle.remove()
        handle = model.register_forward_pre_hook(refuse_all, with_kwargs=True)
        with pytest.raises(EvaluationOutOfMemory, match=r"one sequence of \d+ tokens ran out of memory"):
            _scores(model, tokenizer, batch_size=2)
    finally:
        handle.remove()
