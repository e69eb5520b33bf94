"""The built-in plugin that hands the run's events to the trackers the spec switches on.

``harness run`` calls the ``run_started``, ``stage_finished``, ``trainer_callbacks`` and
``run_finished`` hooks; any plugin may implement them.  This one forwards each event to the
spec's ``tracking.trackers`` components (family ``trackers``), so that a tracker is a component
with validated options, used by name like every other.
"""

from __future__ import annotations

from typing import Any

from harness.hookspecs import hookimpl


@hookimpl
def run_started(run: Any) -> None:
    for tracker in run.trackers:
        tracker.run_started(run)


@hookimpl
def stage_finished(stage: Any, run: Any) -> None:
    for tracker in run.trackers:
        tracker.stage_finished(stage, run)


@hookimpl
def trainer_callbacks(stage: Any, run: Any) -> list[Any]:
    return [cb for tracker in run.trackers for cb in tracker.trainer_callbacks(stage, run) or []]


@hookimpl
def run_finished(run: Any, result: Any, error: BaseException | None) -> None:
    for tracker in run.trackers:
        tracker.run_finished(run, result, error)
