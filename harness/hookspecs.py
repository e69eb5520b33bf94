"""Hook specifications of the ``harness`` project: the one place plugins plug into.

Every family hook receives ``register``, a callback owned by the harness:
``register(name, component_class)``.  The harness records which plugin registered each name
and raises an error naming both plugins when two register the same name in one family.
Call hooks with keywords only, e.g. ``pm.hook.register_metrics(register=r)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from harness.components import Component
    from harness.runner.run import RunResult
    from harness.runner.stage import RunInfo, Stage

    Register = Callable[[str, type[Component]], None]

hookspec = HookspecMarker("harness")
hookimpl = HookimplMarker("harness")


@hookspec
def register_data_sources(register: Register) -> None:
    """Called once when the component registry is built, to collect data sources.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.DataSource`.
    :return: nothing; components are given through ``register``.
    """


@hookspec
def register_cleaners(register: Register) -> None:
    """Called once when the component registry is built, to collect cleaners.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Cleaner`.
    :return: nothing.
    """


@hookspec
def register_structurers(register: Register) -> None:
    """Called once when the component registry is built, to collect structurers (law → articles).

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Structurer`.
    :return: nothing.
    """


@hookspec
def register_deduplicators(register: Register) -> None:
    """Called once when the component registry is built, to collect deduplicators.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Deduplicator`.
    :return: nothing.
    """


@hookspec
def register_instruction_generators(register: Register) -> None:
    """Called once when the component registry is built, to collect instruction generators.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.InstructionGenerator`.
    :return: nothing.
    """


@hookspec
def register_trainers(register: Register) -> None:
    """Called once when the component registry is built, to collect trainers.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Trainer`.
    :return: nothing.
    """


@hookspec
def register_peft_methods(register: Register) -> None:
    """Called once when the component registry is built, to collect PEFT methods.

    The spec's ``dapt.method`` / ``sft.method`` names one and ``method_options`` are its options;
    training, composition, export and the leaderboard ask the method how to build, save, load and
    merge its adapter and whether it stacks (docs/plugins.md, "A PEFT method").

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.PeftMethod`.
    :return: nothing.
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Called once when the component registry is built, to collect lm-eval metrics.

    The harness pushes every registered metric into lm-eval's registry before tasks load, so a
    task YAML can name it in ``metric_list``.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Metric`.
    :return: nothing.
    """


@hookspec
def register_model_sources(register: Register) -> None:
    """Called once when the component registry is built, to collect model sources.

    Sources are tried in the order the spec gives (``model.sources``); each returns a loaded
    model or ``None`` to pass to the next.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.ModelSource`.
    :return: nothing.
    """


@hookspec
def register_report_formats(register: Register) -> None:
    """Called once when the component registry is built, to collect leaderboard formats.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.ReportFormat`.
    :return: nothing.
    """


@hookspec
def register_trackers(register: Register) -> None:
    """Called once when the component registry is built, to collect experiment trackers.

    A tracker is switched on by naming it in the spec (``tracking.trackers``); the harness then
    calls its ``run_started``, ``stage_finished``, ``trainer_callbacks`` and ``run_finished``.

    :param register: ``register(name, cls)`` where ``cls`` subclasses
        :class:`harness.components.Tracker`.
    :return: nothing.
    """


@hookspec
def run_started(run: RunInfo) -> None:
    """Called once before the first stage of ``harness run`` (also from ``harness.run``).

    :param run: the run (spec as resolved, run folder, cache, device).
    :return: nothing.
    """


@hookspec
def stage_finished(stage: Stage, run: RunInfo) -> None:
    """Called after each stage has run or come from cache and been published into the run folder.

    :param stage: the stage, with ``stage.record`` (its figures), ``stage.output`` and ``stage.cached``.
    :param run: the run it belongs to.
    :return: nothing.
    """


@hookspec
def trainer_callbacks(stage: Stage, run: RunInfo) -> list[Any]:
    """Called before a training stage executes, to add ``transformers.TrainerCallback`` objects
    to its trainer (in-process training; ``launcher: accelerate`` workers do not get them).

    :param stage: the training stage (``stage.kind`` is ``dapt`` or ``sft``; ``stage.name`` the adapter's).
    :param run: the run it belongs to.
    :return: a list of callbacks (or an empty list).
    """


@hookspec
def run_finished(run: RunInfo, result: RunResult | None, error: BaseException | None) -> None:
    """Called once at the end of a run: after the leaderboard files are written, or when it failed.

    :param run: the run.
    :param result: what the run produced (``None`` when it failed).
    :param error: the exception that ended it (``None`` when it succeeded).
    :return: nothing.
    """


@hookspec(firstresult=True)
def run_stage(stage: Stage, run: RunInfo) -> Any:
    """Called to run one pipeline stage (also when its output comes from cache).

    The harness's own implementation executes the stage; plugins add ``wrapper=True``
    implementations around it to observe runs (timing, MLflow, W&B), reading ``stage.name``,
    ``stage.key``, ``stage.config`` and, after ``yield``, ``stage.cached`` and the result.

    :param stage: the stage about to run.
    :param run: the run it belongs to (spec, run folder, profile).
    :return: the stage's output record (a dict).
    """
