"""``launcher: accelerate``: run a trainer in several processes under ``accelerate launch``.

The job goes to the worker processes as JSON with the trainer class's import path (not its
registry name, so the workers need not rebuild the registry); rank 0 writes the result JSON.
FSDP/DeepSpeed come in through ``accelerate_config`` (an accelerate config file).

The stage's ``report_to`` goes with the job; the ``trainer_callbacks`` that plugins added go
pickled (``launch_callbacks.pkl`` in the stage's scratch folder), so that every process's trainer
gets them.  A callback that cannot be pickled (one holding a lock or an open connection) stays
behind with a warning naming it: it would have to be created in the workers.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.components import ResolvedModel, TrainJob, TrainResult
from harness.errors import PluginError

if TYPE_CHECKING:
    from harness.components import Trainer
    from harness.context import StageContext


def world_size() -> int:
    """Processes training together (``accelerate launch`` sets ``WORLD_SIZE``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def job_to_json(job: TrainJob) -> dict[str, Any]:
    """A JSON-able copy of a job (paths as strings)."""
    data = asdict(job)
    data["model"] = job.model.describe()
    data["init_adapters"] = {name: [str(path), trainable] for name, (path, trainable) in job.init_adapters.items()}
    return json.loads(json.dumps(data, default=str))


def job_from_json(data: dict[str, Any]) -> TrainJob:
    """The inverse of :func:`job_to_json`."""
    model = ResolvedModel(**{**data["model"], "path": Path(data["model"]["path"])})
    paths = {
        key: Path(data[key]) if data[key] else None
        for key in ("train_path", "eval_path", "output_dir", "checkpoint_dir")
    }
    adapters = {name: (Path(path), bool(trainable)) for name, (path, trainable) in data["init_adapters"].items()}
    rest = {k: v for k, v in data.items() if k not in {"model", "init_adapters", *paths}}
    return TrainJob(model=model, init_adapters=adapters, **paths, **rest)  # type: ignore[arg-type]


def accelerate_command(
    num_processes: int, config_file: str | None, args: list[str], precision: str = "fp32"
) -> list[str]:
    """``accelerate launch`` for this Python; on a machine without CUDA, CPU processes (gloo)."""
    import torch

    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(num_processes)]
    if config_file:
        command += ["--config_file", config_file]
    else:
        command += [
            "--num_machines",
            "1",
            "--mixed_precision",
            {"fp32": "no"}.get(precision, precision),
            "--dynamo_backend",
            "no",
        ]
        if num_processes > 1:
            # accelerate's --cpu path needs mpirun for several processes; its torchrun path
            # (--multi_gpu) also runs CPU processes, which then join a gloo process group
            command.append("--multi_gpu")
        elif not torch.cuda.is_available():
            command.append("--cpu")
    return [*command, "-m", "harness.training.worker", *args]


def write_callbacks(ctx: StageContext, path: Path) -> str | None:
    """Pickle the picklable ``ctx.trainer_callbacks`` to ``path`` (None when there are none)."""
    sent = []
    for callback in ctx.trainer_callbacks:
        try:
            pickle.dumps(callback)
        except Exception as exc:  # noqa: BLE001 - any reason it cannot travel is reported the same way
            ctx.warn(
                f"trainer callback {type(callback).__qualname__} cannot be pickled ({exc}); "
                "it is not passed to the accelerate worker processes"
            )
            continue
        sent.append(callback)
    if not sent:
        path.unlink(missing_ok=True)
        return None
    path.write_bytes(pickle.dumps(sent))
    return str(path)


def read_callbacks(path: str | None) -> list[Any]:
    """The callbacks :func:`write_callbacks` sent (empty without a file)."""
    if not path:
        return []
    return list(pickle.loads(Path(path).read_bytes()))


def launch(
    trainer: Trainer, job: TrainJob, ctx: StageContext, num_processes: int, config_file: str | None
) -> TrainResult:
    """Run ``trainer.train(job)`` in ``num_processes`` processes; return rank 0's result."""
    ctx.scratch.mkdir(parents=True, exist_ok=True)
    job_file, result_file = ctx.scratch / "launch_job.json", ctx.scratch / "launch_result.json"
    result_file.unlink(missing_ok=True)
    payload = {
        "job": job_to_json(job),
        "trainer": f"{type(trainer).__module__}:{type(trainer).__qualname__}",
        "options": trainer.options.model_dump(mode="json"),
        "stage": ctx.stage,
        "workdir": str(ctx.workdir),
        "scratch": str(ctx.scratch),
        "base_dir": str(ctx.base_dir),
    }
    payload["report_to"] = list(ctx.report_to)
    payload["callbacks"] = write_callbacks(ctx, ctx.scratch / "launch_callbacks.pkl")
    job_file.write_text(json.dumps(payload), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // num_processes))}
    command = accelerate_command(num_processes, config_file, [str(job_file), str(result_file)], job.precision)
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not result_file.is_file():
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-15:]
        raise PluginError(
            f"accelerate launch of trainer {payload['trainer']} failed (exit {completed.returncode}): "
            + " | ".join(tail),
            plugin="harness_plugins.training",
        )
    data = json.loads(result_file.read_text(encoding="utf-8"))
    return TrainResult(metrics=data["metrics"], loss_curve=data["loss_curve"])
