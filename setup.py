"""Package layout: ``plugins/`` installs as ``harness_plugins`` and ``tasks/`` as ``harness_tasks``;
the example specs of ``benchmarks/`` are copied into the wheel as ``harness/examples/``."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

MAPPED = {"harness_plugins": "plugins", "harness_tasks": "tasks"}
HERE = Path(__file__).resolve().parent


def _packages() -> list[str]:
    found = find_packages(include=["harness", "harness.*"])
    for name, folder in MAPPED.items():
        found += [name + sub[len(folder) :] for sub in find_packages(include=[folder, f"{folder}.*"])]
    return found


class BuildWithExamples(build_py):
    """``build_py`` that also ships the example specs (``harness init`` writes them out)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "harness" / "examples"
        target.mkdir(parents=True, exist_ok=True)
        for spec in sorted((HERE / "benchmarks").glob("*.yaml")):
            shutil.copy2(spec, target / spec.name)


setup(packages=_packages(), package_dir={"harness": "harness", **MAPPED}, cmdclass={"build_py": BuildWithExamples})
