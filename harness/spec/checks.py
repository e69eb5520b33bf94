"""Checks that need more than one field, or the plugin registry."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import ValidationError

from harness.errors import HarnessError, SpecError
from harness.spec.common import ComponentRef
from harness.spec.load import dotted, undotted
from harness.spec.yamlload import Loc

if TYPE_CHECKING:
    from harness.plugins import Registry
    from harness.spec.load import LoadedSpec


def check_structure(loaded: LoadedSpec) -> list[SpecError]:
    """Systems are unique and their adapters exist; sections that need each other are there."""
    spec, problems = loaded.spec, []
    if not spec.systems:
        problems.append(loaded.error(("systems",), "lists no system: name at least one (e.g. base)"))
    seen: set[str] = set()
    for i, system in enumerate(spec.systems):
        if system.name in seen:
            problems.append(loaded.error(("systems", i), f"duplicate system name {system.name!r}"))
        seen.add(system.name)
        for adapter in system.adapters or []:
            section = getattr(spec, adapter)
            if section is None or not section.enabled:
                problems.append(
                    loaded.error(
                        ("systems", i),
                        f"system {system.name!r} uses {adapter!r} but the spec trains no {adapter!r} adapter",
                    )
                )
    if spec.sft is not None and spec.sft.enabled:
        if spec.instructions is None:
            problems.append(loaded.error(("sft",), "an 'sft' section needs an 'instructions' section"))
    baseline = spec.regression.baseline
    if baseline and not baseline.endswith(".json"):
        # the gate reads results/<system>: a sweep expands a spec system into several named ones
        try:
            planned = [s.name for s in loaded.plan.systems]
        except Exception:  # noqa: BLE001 - other checks report what makes the plan fail
            planned = sorted(seen)
        if baseline not in planned:
            problems.append(
                loaded.error(
                    ("regression", "baseline"),
                    f"{baseline!r} is not a system this spec evaluates; systems: {', '.join(planned)}",
                )
            )
    return problems


def _refs(loaded: LoadedSpec) -> list[tuple[str, Loc, ComponentRef]]:
    """Every component reference in the spec: (family, location, ref)."""
    spec = loaded.spec
    refs: list[tuple[str, Loc, ComponentRef]] = []
    refs += [("data_sources", ("corpus", "sources", i), r) for i, r in enumerate(spec.corpus.sources)]
    refs += [("cleaners", ("corpus", "cleaners", i), r) for i, r in enumerate(spec.corpus.cleaners)]
    refs.append(("structurers", ("corpus", "structurer"), spec.corpus.structurer))
    refs += [("deduplicators", ("corpus", "dedup", i), r) for i, r in enumerate(spec.corpus.dedup)]
    if spec.instructions is not None:
        refs += [
            ("instruction_generators", ("instructions", "generators", i), r)
            for i, r in enumerate(spec.instructions.generators)
        ]
    for i, source in enumerate(spec.model.sources):
        refs.append(
            (
                "model_sources",
                ("model", "sources", i),
                ComponentRef(name=source, options=spec.model.source_options.get(source, {})),
            )
        )
    for role in ("dapt", "sft"):
        section = getattr(spec, role)
        if section is not None:
            refs.append(("trainers", (role, "trainer"), section.trainer))
    refs += [
        ("report_formats", ("report", "formats", i), ComponentRef(name=f)) for i, f in enumerate(spec.report.formats)
    ]
    refs += [("trackers", ("tracking", "trackers", i), ref) for i, ref in enumerate(spec.tracking.trackers)]
    return refs


def check_components(loaded: LoadedSpec, registry: Registry, check_paths: bool = True) -> list[SpecError]:
    """Every named component exists and accepts its options; paths exist; tasks are known."""
    problems: list[SpecError] = []
    for family, loc, ref in _refs(loaded):
        try:
            registered = registry.get(family, ref.name)
        except SpecError as exc:
            problems.append(loaded.error(loc, exc.message))
            continue
        except HarnessError:
            raise  # a broken plugin was to provide it: exit 3 with its message
        try:
            component = registered.cls(registered.cls.Options.model_validate(ref.options))
        except ValidationError as exc:
            for err in exc.errors():
                opt_loc = (
                    (*loc, "options", *err["loc"])
                    if loc[0] != "model"
                    else ("model", "source_options", ref.name, *err["loc"])
                )
                msg = (
                    f"unknown option {err['loc'][-1]!r} of {ref.name!r}"
                    if err["type"] == "extra_forbidden"
                    else err["msg"]
                )
                problems.append(loaded.error(opt_loc, msg))
            continue
        if check_paths:
            for option, message in component.check(loaded.base_dir):
                problems.append(loaded.error((*loc, "options", option), message))
    problems += _check_plan(loaded, registry)
    return problems


def _check_plan(loaded: LoadedSpec, registry: Registry) -> list[SpecError]:
    """Every adapter the spec plans (method, options, hyperparameters and budget) and every
    evaluation task (names, ``task_limits`` keys), as :func:`harness.plan.build_plan` found them
    while resolving the plan: its ``problems``, placed on the spec's lines."""
    if loaded.registry is None:
        loaded.registry = registry
    problems: dict[tuple[str, str], SpecError] = {}
    for exc in loaded.plan.problems:
        loc = undotted(exc.field) if exc.field else ("dapt",)
        # one message per field: the sweep points of a section share their error
        message = re.sub(r"^adapter '[^']*': ", "", exc.message)
        problems.setdefault((dotted(loc), message), loaded.error(loc, message))
    return list(problems.values())
