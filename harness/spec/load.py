"""Load a spec: YAML with lines → profile overrides → pydantic → checks against the plugins."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from harness.errors import HarnessError, SpecError
from harness.precision import Precision, resolve_precision
from harness.spec.model import Spec
from harness.spec.yamlload import LineMap, Loc, load_yaml_with_lines

if TYPE_CHECKING:
    from harness.plugins import Registry

PROFILES = ("auto", "cpu", "gpu")


class SpecErrors(HarnessError):
    """Several spec problems at once; each is a :class:`SpecError` with file and line."""

    exit_code = 2

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__(errors[0].message, file=errors[0].file, line=errors[0].line, field=errors[0].field)
        self.errors = errors

    def one_line(self) -> str:
        return "\n".join(error.one_line() for error in self.errors)


@dataclass
class LoadedSpec:
    """A validated spec with what is needed to report on it."""

    spec: Spec
    path: Path
    profile: str
    profile_reason: str
    raw: dict[str, Any]
    lines: LineMap = field(default_factory=LineMap)
    #: ``precision`` resolved for this machine (:func:`harness.precision.resolve_precision`)
    precision: Precision | None = None
    #: the component registry the spec was checked against (the plan resolves adapters with it)
    registry: Registry | None = None

    def __post_init__(self) -> None:
        if self.precision is None:
            self.precision = resolve_precision(self.spec.precision)
        self._plan: Any = None

    @property
    def plan(self) -> Any:
        """The spec's :class:`harness.plan.Plan`, built on first use and then shared (against
        :attr:`registry`, or the installed plugins when the spec was loaded without one)."""
        if self._plan is None:
            from harness.plan import build_plan

            if self.registry is None:
                from harness.plugins import load_registry

                self.registry = load_registry()
            self._plan = build_plan(self.spec, self.registry, self.base_dir)
        return self._plan

    @property
    def base_dir(self) -> Path:
        """Relative paths in the spec resolve against the spec file's folder."""
        return self.path.parent

    def error(self, loc: Loc, message: str) -> SpecError:
        """A :class:`SpecError` pointing at ``loc`` in the spec file."""
        return SpecError(message, file=str(self.path), line=self.lines.line_for(loc), field=dotted(loc))


def dotted(loc: Loc) -> str:
    """``("corpus", "cleaners", 2, "name")`` → ``corpus.cleaners[2].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def undotted(field: str) -> Loc:
    """``corpus.cleaners[2].name`` → ``("corpus", "cleaners", 2, "name")`` (:func:`dotted` undone)."""
    loc: list[str | int] = []
    for part in field.split("."):
        name, *indices = part.split("[")
        if name:
            loc.append(name)
        loc += [int(i.rstrip("]")) for i in indices]
    return tuple(loc)


def pick_profile(requested: str) -> tuple[str, str]:
    """Resolve ``auto`` by CUDA availability; return the profile and why it was picked."""
    if requested not in PROFILES:
        raise SpecError(f"unknown profile {requested!r}; choose one of {', '.join(PROFILES)}", field="--profile")
    if requested != "auto":
        return requested, "requested"
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    return ("gpu", "auto: CUDA is available") if cuda else ("cpu", "auto: no CUDA device")


def _merge(base: Any, override: Any, lines: LineMap, base_loc: Loc, over_loc: Loc) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base.get(key), value, lines, (*base_loc, key), (*over_loc, key))
        return out
    # the overriding value now sits at base_loc: point its lines at the profile block
    for loc, line in list(lines.items()):
        if loc[: len(over_loc)] == over_loc:
            lines[(*base_loc, *loc[len(over_loc) :])] = line
    return copy.deepcopy(override)


def load_spec(
    path: str | Path,
    profile: str = "auto",
    registry: Registry | None = None,
    check_paths: bool = True,
    precision: str | None = None,
) -> LoadedSpec:
    """Load, apply the profile, validate; with a registry also check every named component.

    ``precision`` (the ``--precision`` option) replaces the spec's own ``precision``."""
    path = Path(path)
    raw, lines = load_yaml_with_lines(path)
    if not isinstance(raw, dict):
        raise SpecError("the spec must be a mapping", file=str(path), line=1)
    chosen, reason = pick_profile(profile)
    profiles = raw.get("profiles") or {}
    if isinstance(profiles, dict):
        unknown = [name for name in profiles if name not in ("cpu", "gpu")]
        if unknown:
            loc = ("profiles", unknown[0])
            raise SpecError(
                f"unknown profile {unknown[0]!r}; profiles are cpu and gpu",
                file=str(path),
                line=lines.line_for(loc),
                field=dotted(loc),
            )
        override = profiles.get(chosen)
        if isinstance(override, dict):
            body = {k: v for k, v in raw.items() if k != "profiles"}
            raw = {**_merge(body, override, lines, (), ("profiles", chosen)), "profiles": profiles}
    if precision is not None:
        raw = {**raw, "precision": precision}
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise SpecErrors([_from_pydantic(path, lines, err) for err in exc.errors()]) from None
    try:
        precision = resolve_precision(spec.precision)
    except SpecError as exc:
        if precision is not None:  # from the command line
            raise SpecError(exc.message, field="--precision") from None
        raise SpecError(exc.message, file=str(path), line=lines.line_for(("precision",)), field="precision") from None
    loaded = LoadedSpec(spec, path, chosen, reason, raw, lines, precision, registry)
    problems = check_spec(loaded, registry, check_paths=check_paths)
    if problems:
        raise SpecErrors(problems)
    return loaded


def _from_pydantic(path: Path, lines: LineMap, err: Any) -> SpecError:
    loc = tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    elif ("input" in err and err["type"].endswith("_type")) or err["type"].endswith("_parsing"):
        message = f"{message} (got {err['input']!r})"
    message = message.removeprefix("Value error, ")
    return SpecError(message, file=str(path), line=lines.line_for(loc), field=dotted(loc))


def check_spec(loaded: LoadedSpec, registry: Registry | None, check_paths: bool = True) -> list[SpecError]:
    """Cross-field checks, then components against the plugin registry (when given)."""
    from harness.spec.checks import check_components, check_structure

    problems = check_structure(loaded)
    if registry is not None:
        problems += check_components(loaded, registry, check_paths=check_paths)
    return problems
