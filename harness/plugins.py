"""The plugin manager factory and the component registry built from the ``register_*`` hooks."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from harness import hookspecs
from harness.components import (
    Cleaner,
    Component,
    DataSource,
    Deduplicator,
    InstructionGenerator,
    Metric,
    ModelSource,
    PeftMethod,
    ReportFormat,
    Structurer,
    Tracker,
    Trainer,
)
from harness.errors import PluginError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from harness.spec.common import ComponentRef

ENTRY_POINT_GROUP = "harness"

#: Built-in plugins, registered through the same calls as third-party ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "harness.runner.executor",
    "harness.runner.tracking",
    "harness_plugins.models",
    "harness_plugins.corpus",
    "harness_plugins.instructions",
    "harness_plugins.training",
    "harness_plugins.peft_methods",
    "harness_plugins.metrics",
    "harness_plugins.reports",
    "harness_plugins.tracking",
)

#: Built-ins without which nothing runs (pytest's "essential plugins"): never disabled.
ESSENTIAL_PLUGINS: tuple[str, ...] = ("harness.runner.executor", "harness.runner.tracking")

#: family name → (hook name, base class)
FAMILIES: dict[str, tuple[str, type[Component]]] = {
    "data_sources": ("register_data_sources", DataSource),
    "cleaners": ("register_cleaners", Cleaner),
    "structurers": ("register_structurers", Structurer),
    "deduplicators": ("register_deduplicators", Deduplicator),
    "instruction_generators": ("register_instruction_generators", InstructionGenerator),
    "trainers": ("register_trainers", Trainer),
    "peft_methods": ("register_peft_methods", PeftMethod),
    "metrics": ("register_metrics", Metric),
    "model_sources": ("register_model_sources", ModelSource),
    "report_formats": ("register_report_formats", ReportFormat),
    "trackers": ("register_trackers", Tracker),
}


@dataclass
class BrokenPlugin:
    """A third-party plugin that failed to load; kept to explain missing components later."""

    name: str
    distribution: str
    error: str


@dataclass
class PluginInfo:
    """One loaded plugin as ``harness plugins`` shows it."""

    name: str
    version: str
    origin: str  # builtin | entry point
    distribution: str


@dataclass
class Registered:
    """One component and the plugin that gave it."""

    name: str
    cls: type[Component]
    plugin: str
    distribution: str


@dataclass
class Registry:
    """Components by family, the loaded plugins, and the plugins that failed to load."""

    components: dict[str, dict[str, Registered]] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    broken: list[BrokenPlugin] = field(default_factory=list)
    #: (family, name) → every component registered under that name by more than one plugin
    collisions: dict[tuple[str, str], list[Registered]] = field(default_factory=dict)

    def get(self, family: str, name: str) -> Registered:
        """Return a component or raise the error the CLI reports (exit 2, or 3 if a plugin broke
        or two plugins register the name)."""
        clash = self.collisions.get((family, name))
        if clash:
            who = " and ".join(f"plugin {r.plugin!r} ({r.distribution})" for r in clash)
            # name a third-party plugin as the culprit where there is one
            culprit = next((r for r in clash if r.distribution != "harness"), clash[-1])
            raise PluginError(
                f"{family} component {name!r} is registered by {who}; uninstall or disable one "
                "(HARNESS_DISABLE_PLUGINS)",
                plugin=culprit.plugin,
                distribution=culprit.distribution,
            )
        found = self.components.get(family, {}).get(name)
        if found is not None:
            return found
        if self.broken:
            who = "; ".join(f"{b.name} ({b.distribution}): {b.error}" for b in self.broken)
            raise PluginError(
                f"{family} component {name!r} is not available; a plugin that may provide it failed to load: {who}",
                plugin=self.broken[0].name,
                distribution=self.broken[0].distribution,
            )
        from harness.errors import SpecError

        known = sorted(self.components.get(family, {}))
        raise SpecError(f"unknown {family} component {name!r}; known: {', '.join(known) or 'none'}")

    def build(self, family: str, ref: ComponentRef) -> Component:
        """Instantiate a component with its options validated (errors name the component)."""
        from pydantic import ValidationError

        registered = self.get(family, ref.name)
        try:
            options = registered.cls.Options.model_validate(ref.options)
        except ValidationError as exc:
            from harness.errors import SpecError

            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise SpecError(f"{family} component {ref.name!r}: option {field}: {first['msg']}") from None
        return registered.cls(options)

    def identity(self, family: str, ref: ComponentRef) -> dict[str, Any]:
        """What a cache key needs to know about a component: name, plugin, versions, options."""
        registered = self.get(family, ref.name)
        return {
            "family": family,
            "name": ref.name,
            "plugin": registered.plugin,
            "plugin_version": _version_of(registered.distribution),
            "component_version": registered.cls.version,
            "options": registered.cls.Options.model_validate(ref.options).model_dump(mode="json"),
        }

    def names(self, family: str) -> list[str]:
        """Registered names of one family, sorted."""
        return sorted(self.components.get(family, {}))


def _disabled() -> set[str]:
    raw = os.environ.get("HARNESS_DISABLE_PLUGINS", "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """Build a plugin manager: specs, entry-point plugins, then the built-in tuple.

    ``HARNESS_DISABLE_PLUGINS`` (comma-separated plugin names, or ``*`` for every entry-point
    plugin) skips plugins.  A third-party plugin that fails to import is reported with a warning
    and recorded on ``pm.harness_broken``; the harness goes on without it.
    """
    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.harness_broken = []  # type: ignore[attr-defined]
    pm.harness_origins = {}  # type: ignore[attr-defined]
    disabled = _disabled()
    for name in sorted(disabled & set(ESSENTIAL_PLUGINS)):
        warnings.warn(f"harness plugin {name!r} runs the stages and cannot be disabled", stacklevel=2)
    disabled -= set(ESSENTIAL_PLUGINS)
    if load_entrypoints and "*" not in disabled:
        _load_entrypoints(pm, disabled)
    for module_name in BUILTIN_PLUGINS:
        if module_name in disabled or pm.has_plugin(module_name):
            continue
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        pm.harness_origins[module_name] = ("builtin", "harness")  # type: ignore[attr-defined]
    pm.check_pending()
    return pm


def _load_entrypoints(pm: pluggy.PluginManager, disabled: set[str]) -> None:
    for ep in _entry_points():
        if ep.name in disabled or pm.has_plugin(ep.name):
            continue
        dist = ep.dist.name if ep.dist is not None else "unknown"
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - any failure of foreign code is reported, not raised
            error = f"{type(exc).__name__}: {exc}"
            pm.harness_broken.append(BrokenPlugin(ep.name, dist, error))  # type: ignore[attr-defined]
            warnings.warn(
                f"harness plugin {ep.name!r} from distribution {dist!r} failed to load: {error}",
                stacklevel=2,
            )
            continue
        pm.harness_origins[ep.name] = ("entry point", dist)  # type: ignore[attr-defined]


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _version_of(distribution: str) -> str:
    if distribution == "harness":
        from harness import __version__

        return __version__
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every ``register_*`` hook, one plugin at a time so each component knows its plugin."""
    registry = Registry(broken=list(getattr(pm, "harness_broken", [])))
    origins: dict[str, tuple[str, str]] = getattr(pm, "harness_origins", {})
    for plugin_name, _ in pm.list_name_plugin():
        origin, dist = origins.get(plugin_name, ("registered", "unknown"))
        registry.plugins.append(PluginInfo(plugin_name, _version_of(dist), origin, dist))
    for family, (hook_name, base) in FAMILIES.items():
        table: dict[str, Registered] = registry.components.setdefault(family, {})
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            plugin_name = impl.plugin_name
            dist = origins.get(plugin_name, ("", "unknown"))[1]
            impl.function(register=_register_into(registry, table, family, base, plugin_name, dist))
    return registry


def _register_into(
    registry: Registry, table: dict[str, Registered], family: str, base: type[Component], plugin: str, dist: str
) -> Any:
    def register(name: str, cls: type[Component]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(
                f"{family} component {name!r} must be a subclass of {base.__name__}, got {cls!r}",
                plugin=plugin,
                distribution=dist,
            )
        this = Registered(name, cls, plugin, dist)
        if name in table:
            # a collision makes only this name unusable: other commands and specs keep working
            registry.collisions.setdefault((family, name), [table[name]]).append(this)
            return
        table[name] = this

    return register


def load_registry(load_entrypoints: bool = True) -> Registry:
    """Plugin manager and registry in one call (what the CLI uses)."""
    return build_registry(get_plugin_manager(load_entrypoints=load_entrypoints))
