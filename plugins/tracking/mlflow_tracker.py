"""``mlflow``: log a run to MLflow — params, every stage's figures, the training curves, the
leaderboard and the artifacts.  Off unless the spec names it::

    tracking:
      trackers:
        - name: mlflow
          options: {tracking_uri: file:./mlruns, experiment: mx_legal}

One MLflow run per ``harness run``: params are the resolved spec (flattened, ``dapt.method`` …)
plus profile, precision and model; metrics are the numbers in each stage's record
(``dapt/efficiency/train_tokens_per_s``, ``eval/base+dapt/mx_legal_qa_open/acc`` …), the
training curves step by step (live through a ``TrainerCallback`` when the stage trains, from the
adapter's ``training/loss.csv`` when it comes from cache), and each system's leaderboard metrics
with their CIs (MLflow allows no ``+`` in names: ``base+dapt+sft`` is logged as
``base_dapt_sft``); artifacts are the leaderboard files, the manifest and (``log_adapters``) the
adapter folders.  A failed run is ended with status ``FAILED``.

MLflow 3 keeps its file store (``file:`` URIs, plain folders) in maintenance mode behind
``MLFLOW_ALLOW_FILE_STORE``; this tracker sets that variable for a ``file:`` URI it is given.
Install with ``pip install "harness[mlflow]"`` (``mlflow-skinny``).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path
from typing import Any, ClassVar

from harness.components import Options, Tracker
from harness.errors import PluginError

_KEY = re.compile(r"[^A-Za-z0-9_\-. /]+")
_MAX_PARAM = 500  # MLflow's limit on a param value's length (6000 in new servers; 500 is safe)


class MLflowOptions(Options):
    """Where and how to log."""

    #: MLflow tracking URI; default: ``file:<runs folder>/mlruns`` beside the run folders
    tracking_uri: str | None = None
    #: experiment name; default: the benchmark's name
    experiment: str | None = None
    #: also log the adapter folders (weights, tokenizer, curves) as artifacts
    log_adapters: bool = True


def _key(text: str) -> str:
    return _KEY.sub("_", text)[:250]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    else:
        out[prefix] = data
    return out


def _numbers(data: Any, prefix: str) -> dict[str, float]:
    """Finite numbers of a nested record (booleans and strings left out)."""
    out = {}
    for key, value in _flatten(data, prefix).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(float(value)):
            out[_key(key.replace(".", "/"))] = float(value)
    return out


class MLflowTracker(Tracker):
    """One MLflow run per harness run (params, figures, curves, leaderboard, artifacts)."""

    Options: ClassVar[type[Options]] = MLflowOptions
    description = "log params, stage figures, training curves, leaderboard and artifacts to MLflow"

    def __init__(self, options: Options | None = None) -> None:
        super().__init__(options)
        self._run_id: str | None = None
        self._live: set[str] = set()

    def _mlflow(self) -> Any:
        try:
            import mlflow
        except ImportError:
            raise PluginError(
                'tracking.trackers names mlflow but MLflow is not installed: pip install "harness[mlflow]"',
                plugin="harness_plugins.tracking",
            ) from None
        return mlflow

    def run_started(self, run: Any) -> None:
        mlflow = self._mlflow()
        options: MLflowOptions = self.options  # type: ignore[assignment]
        uri = options.tracking_uri or (Path(run.run_dir).parent.parent / "mlruns").resolve().as_uri()
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri(uri)
        spec = run.spec.spec
        mlflow.set_experiment(options.experiment or spec.name)
        active = mlflow.start_run(run_name=Path(run.run_dir).name)
        self._run_id = active.info.run_id
        params = {
            key: json.dumps(value, default=str)[:_MAX_PARAM] if not isinstance(value, str) else value[:_MAX_PARAM]
            for key, value in _flatten(spec.model_dump(mode="json", exclude={"profiles"})).items()
        }
        params.update(profile=run.spec.profile, precision=run.spec.precision.name if run.spec.precision else "")
        mlflow.log_params({_key(k): v for k, v in params.items()})
        mlflow.set_tags({"harness.run_dir": str(run.run_dir), "harness.benchmark": spec.name})

    def _client(self) -> tuple[Any, Any]:
        mlflow = self._mlflow()
        return mlflow, mlflow.MlflowClient()

    def stage_finished(self, stage: Any, run: Any) -> None:
        if self._run_id is None:
            return
        mlflow, client = self._client()
        record = stage.record or {}
        metrics = _numbers({k: v for k, v in record.items() if k != "loss_curve"}, stage.name)
        if metrics:
            mlflow.log_metrics(metrics, run_id=self._run_id)
        mlflow.set_tag(_key(f"stage.{stage.name}"), "cached" if stage.cached else "executed")
        if stage.kind in ("dapt", "sft") and stage.name not in self._live and stage.output is not None:
            self._log_curve(client, stage.name, Path(stage.output) / "training" / "loss.csv")

    def _log_curve(self, client: Any, stage: str, path: Path) -> None:
        from mlflow.entities import Metric

        if not path.is_file():
            return
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        found = []
        for row in rows:
            step = int(float(row.get("step") or 0))
            for name, value in row.items():
                if name == "step" or value in ("", None):
                    continue
                try:
                    number = float(value)
                except ValueError:
                    continue
                if math.isfinite(number):
                    found.append(Metric(_key(f"{stage}/curve/{name}"), number, 0, step))
        for start in range(0, len(found), 900):  # MLflow's batch limit is 1000 metrics
            client.log_batch(self._run_id, metrics=found[start : start + 900])

    def trainer_callbacks(self, stage: Any, run: Any) -> list[Any]:
        if self._run_id is None:
            return []
        from transformers import TrainerCallback

        tracker, name = self, stage.name
        self._live.add(name)

        class LiveCurve(TrainerCallback):
            """Training and validation losses to MLflow as the trainer logs them."""

            def on_log(
                self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
            ) -> None:
                if not state.is_world_process_zero or not logs:
                    return
                values = {
                    _key(f"{name}/curve/{k}"): float(v)
                    for k, v in logs.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
                }
                if values:
                    tracker._mlflow().log_metrics(values, step=int(state.global_step), run_id=tracker._run_id)

        return [LiveCurve()]

    def run_finished(self, run: Any, result: Any, error: BaseException | None) -> None:
        if self._run_id is None:
            return
        mlflow = self._mlflow()
        run_id, self._run_id = self._run_id, None
        if result is None:
            if error is not None:
                mlflow.set_tag("harness.error", f"{type(error).__name__}: {error}"[:_MAX_PARAM])
            mlflow.end_run(status="FAILED")
            return
        run_dir = Path(result.run_dir)
        board = run_dir / "leaderboard.json"
        if board.is_file():
            data = json.loads(board.read_text(encoding="utf-8"))
            metrics: dict[str, float] = {}
            for entry in data.get("entries", []):
                if entry.get("kind", "system") != "system":
                    continue
                for key, cell in (entry.get("metrics") or {}).items():
                    for part in ("value", "ci_low", "ci_high"):
                        value = (cell or {}).get(part)
                        if isinstance(value, (int, float)) and math.isfinite(float(value)):
                            # "…/acc_ci_low": in a file store "/" makes folders, and "acc" is a file
                            suffix = "" if part == "value" else f"_{part}"
                            metrics[_key(f"leaderboard/{entry['system']}/{key}{suffix}")] = float(value)
            if metrics:
                mlflow.log_metrics(metrics, run_id=run_id)
        for name in ("manifest.json", "leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html"):
            if (run_dir / name).is_file():
                mlflow.log_artifact(str(run_dir / name), run_id=run_id)
        options: MLflowOptions = self.options  # type: ignore[assignment]
        if options.log_adapters and (run_dir / "adapters").is_dir():
            mlflow.log_artifacts(str(run_dir / "adapters"), artifact_path="adapters", run_id=run_id)
        mlflow.end_run(status="FINISHED")
