"""Built-in experiment trackers (family ``trackers``): ``mlflow``."""

from __future__ import annotations

from harness import hookimpl
from harness_plugins.tracking.mlflow_tracker import MLflowTracker


@hookimpl
def register_trackers(register) -> None:
    """Register the built-in trackers."""
    register("mlflow", MLflowTracker)
