"""The stage cache: reruns recompute nothing, a config change reruns downstream only, crashes
leave nothing that looks complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from harness import hookimpl
from harness.context import StageContext
from harness.pipeline import with_upstream
from harness.runner.cache import execute_or_load, stage_path
from harness.runner.stage import RunInfo, Stage
from harness.spec.load import load_spec

SPEC = """
name: unit
model: {id: tiny-llama, sources: [tiny]}
corpus: {sources: [snapshot]}
evaluation: {tasks: [mx_legal_ppl]}
"""


@pytest.fixture
def run(tmp_path: Path) -> RunInfo:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    return RunInfo(
        spec=load_spec(spec, "cpu"), registry=None, run_dir=tmp_path / "run", cache=tmp_path / "cache", device="cpu"
    )  # type: ignore[arg-type]


def chain(counter: dict[str, int], b_option: int = 1) -> list[Stage]:
    """A → B → C, each appending to a file so the data flow is checked too."""

    def make(name: str) -> Any:
        def execute(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
            counter[name] = counter.get(name, 0) + 1
            upstream = "".join((p / "out.txt").read_text() for p in inputs.values())
            (ctx.workdir / "out.txt").write_text(upstream + name)
            return {"n": len(upstream) + 1}

        return execute

    a = Stage("a", "a", {"x": 1}, make("a"))
    b = Stage("b", "b", {"option": b_option}, make("b"), inputs={"up": a})
    c = Stage("c", "c", {}, make("c"), inputs={"up": b})
    for stage in (a, b, c):
        stage.compute_key()
    return [a, b, c]


def run_all(stages: list[Stage], run: RunInfo) -> None:
    for stage in stages:
        execute_or_load(stage, run)


def test_rerun_recomputes_nothing(run: RunInfo) -> None:
    counter: dict[str, int] = {}
    first = chain(counter)
    run_all(first, run)
    assert counter == {"a": 1, "b": 1, "c": 1}
    assert (first[2].output / "out.txt").read_text() == "abc"
    second = chain(counter)
    run_all(second, run)
    assert counter == {"a": 1, "b": 1, "c": 1}
    assert all(s.cached for s in second)
    assert [s.key for s in first] == [s.key for s in second]


def test_changing_a_middle_option_reruns_it_and_downstream_only(run: RunInfo) -> None:
    counter: dict[str, int] = {}
    run_all(chain(counter), run)
    changed = chain(counter, b_option=2)
    run_all(changed, run)
    assert counter == {"a": 1, "b": 2, "c": 2}
    assert [s.cached for s in changed] == [True, False, False]


def test_force_recomputes_a_cached_stage(run: RunInfo) -> None:
    counter: dict[str, int] = {}
    run_all(chain(counter), run)
    run.force = {"b"}
    run_all(chain(counter), run)
    assert counter == {"a": 1, "b": 2, "c": 1}


def test_failed_stage_leaves_no_output(run: RunInfo) -> None:
    def explode(ctx: StageContext, inputs: dict[str, Path]) -> dict[str, Any]:
        (ctx.workdir / "half.txt").write_text("half")
        raise RuntimeError("boom")

    stage = Stage("x", "x", {}, explode)
    stage.compute_key()
    with pytest.raises(RuntimeError):
        execute_or_load(stage, run)
    assert not stage_path(run.cache, stage).exists()
    assert not list((run.cache / "x").iterdir())


def test_sigkill_mid_stage_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    script = tmp_path / "victim.py"
    script.write_text(
        textwrap.dedent(f"""
        import time
        from pathlib import Path
        from harness.runner.stage import Stage, RunInfo
        from harness.runner.cache import execute_or_load
        from harness.spec.load import load_spec
        Path({str(tmp_path / "spec.yaml")!r}).write_text({SPEC!r})
        run = RunInfo(spec=load_spec({str(tmp_path / "spec.yaml")!r}, "cpu"), registry=None,
                      run_dir=Path({str(tmp_path)!r}), cache=Path({str(cache)!r}), device="cpu")
        def slow(ctx, inputs):
            (ctx.workdir / "part.txt").write_text("partial")
            (Path({str(tmp_path)!r}) / "started").write_text("1")
            time.sleep(60)
            return {{}}
        stage = Stage("slow", "slow", {{}}, slow)
        stage.compute_key()
        print(stage.key, flush=True)
        execute_or_load(stage, run)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    key = proc.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (cache / "slow" / key).exists()
    leftovers = list((cache / "slow").iterdir())
    assert leftovers and all(p.name.startswith(f".{key}.tmp-") for p in leftovers)


def test_only_keeps_upstream_and_drops_downstream(run: RunInfo) -> None:
    stages = chain({})
    assert [s.name for s in with_upstream(stages, {"b"})] == ["a", "b"]


def test_run_stage_hook_wrapper_observes_stages(run: RunInfo) -> None:
    from harness.plugins import get_plugin_manager

    seen: list[tuple[str, bool]] = []

    class Tracker:
        @hookimpl(wrapper=True)
        def run_stage(self, stage: Stage, run: RunInfo) -> Any:
            record = yield
            seen.append((stage.name, stage.cached))
            return record

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Tracker(), name="tracker")
    for _ in range(2):
        for stage in chain({}):
            record = pm.hook.run_stage(stage=stage, run=run)
            assert record == stage.record
    assert seen == [("a", False), ("b", False), ("c", False), ("a", True), ("b", True), ("c", True)]
