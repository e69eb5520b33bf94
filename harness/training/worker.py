"""Entry point of each process started by ``accelerate launch`` (see :mod:`harness.training.launch`)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from harness.context import StageContext
from harness.paths import write_json
from harness.training.launch import job_from_json, read_callbacks


def main(job_file: str, result_file: str) -> None:
    """Build the trainer named in ``job_file``, train, and (rank 0) write the result JSON."""
    payload = json.loads(Path(job_file).read_text(encoding="utf-8"))
    module, _, name = payload["trainer"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    trainer = cls(cls.Options.model_validate(payload["options"]))
    ctx = StageContext(
        stage=payload["stage"],
        workdir=Path(payload["workdir"]),
        scratch=Path(payload["scratch"]),
        base_dir=Path(payload["base_dir"]),
        trainer_callbacks=read_callbacks(payload.get("callbacks")),
        report_to=list(payload.get("report_to") or []),
    )
    result = trainer.train(job_from_json(payload["job"]), ctx)
    from accelerate import PartialState

    if PartialState().is_main_process:
        write_json(Path(result_file), {"metrics": result.metrics, "loss_curve": result.loss_curve})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
