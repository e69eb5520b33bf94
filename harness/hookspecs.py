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
