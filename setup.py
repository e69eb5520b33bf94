"""Package layout: ``plugins/`` installs as ``harness_plugins`` and ``tasks/`` as ``harness_tasks``."""

from __future__ import annotations

from setuptools import find_packages, setup

MAPPED = {"harness_plugins": "plugins", "harness_tasks": "tasks"}


def _packages() -> list[str]:
    found = find_packages(include=["harness", "harness.*"])
    for name, folder in MAPPED.items():
        found += [name + sub[len(folder) :] for sub in find_packages(include=[folder, f"{folder}.*"])]
    return found


setup(packages=_packages(), package_dir={"harness": "harness", **MAPPED})
