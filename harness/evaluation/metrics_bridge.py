"""The one place where plugin metrics enter lm-eval's registry.

lm-eval's registry refuses a second registration of a name with a different function, and a
spec's metric options differ between runs in one process (tests, ``harness regress``).  So each
metric name is registered once with a small dispatcher that calls the *current* component, and
pushing again only swaps the component behind it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from harness.errors import PluginError
from harness.spec.common import ComponentRef

if TYPE_CHECKING:
    from harness.components import Metric, MetricSpec
    from harness.plugins import Registry

log = logging.getLogger("harness")

_lock = threading.Lock()
#: metric name → (component, its spec) currently behind the dispatcher
_active: dict[str, tuple[Metric, MetricSpec]] = {}
#: metric names whose dispatcher is in lm-eval's registry
_registered: set[str] = set()


#: metric name → (plugin, distribution) that provides it, for the error when it raises
_owners: dict[str, tuple[str, str]] = {}


def _failed(name: str, exc: Exception) -> PluginError:
    plugin, distribution = _owners.get(name, (name, "unknown"))
    return PluginError(f"metric {name!r} failed: {type(exc).__name__}: {exc}", plugin=plugin, distribution=distribution)


def _dispatcher(name: str) -> Any:
    def metric(*args: Any, **kwargs: Any) -> Any:
        try:
            return _active[name][1].fn(*args, **kwargs)
        except Exception as exc:  # a plugin's failure names the plugin (exit 3)
            raise _failed(name, exc) from exc

    metric.__name__ = name
    metric.__qualname__ = f"harness_metric[{name}]"
    return metric


def _aggregation_dispatcher(name: str) -> Any:
    def aggregate(items: Any) -> Any:
        try:
            return _active[name][1].aggregation(items)
        except Exception as exc:  # a plugin's failure names the plugin (exit 3)
            raise _failed(name, exc) from exc

    aggregate.__name__ = f"harness_{name}"
    return aggregate


def _register_in_lm_eval(name: str, spec: MetricSpec, plugin: str, distribution: str) -> None:
    import lm_eval.api.metrics  # noqa: F401 - defines the built-in aggregations ("mean", …)
    from lm_eval.api import registry as lm_registry

    _owners[name] = (plugin, distribution)
    if name not in _registered:
        if name in lm_registry.metric_registry:
            raise PluginError(
                f"metric {name!r} clashes with a metric lm-eval already defines; rename it",
                plugin=plugin,
                distribution=distribution,
            )
        lm_registry.metric_registry.register(name, target=_dispatcher(name))
        lm_registry.higher_is_better_registry.register(name, target=bool(spec.higher_is_better))
        if isinstance(spec.aggregation, str):
            aggregation = lm_registry.aggregation_registry.get(spec.aggregation, None)
            if aggregation is None:
                raise PluginError(
                    f"metric {name!r}: unknown lm-eval aggregation {spec.aggregation!r}",
                    plugin=plugin,
                    distribution=distribution,
                )
        else:
            aggregation = _aggregation_dispatcher(name)
            lm_registry.aggregation_registry.register(f"harness_{name}", target=aggregation)
        lm_registry.metric_agg_registry.register(name, target=aggregation)
        _registered.add(name)


def push_metrics(registry: Registry, options: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Make every registered metric usable by name in task YAMLs; return the names pushed.

    ``options`` (the spec's ``evaluation.metric_options``) maps a metric name to its options.
    Call before lm-eval loads tasks.
    """
    options = options or {}
    pushed = []
    with _lock:
        for name in registry.names("metrics"):
            registered = registry.get("metrics", name)
            component = registry.build("metrics", ComponentRef(name=name, options=options.get(name, {})))
            try:
                spec = component.spec()  # type: ignore[attr-defined]
            except Exception as exc:
                raise PluginError(
                    f"metric {name!r}: spec() failed: {exc}",
                    plugin=registered.plugin,
                    distribution=registered.distribution,
                ) from exc
            _active[name] = (component, spec)  # type: ignore[assignment]
            _register_in_lm_eval(name, spec, registered.plugin, registered.distribution)
            pushed.append(name)
    return pushed


def ensure_pushed() -> None:
    """Push with default options unless the harness already did (used by the shipped tasks'
    ``utils.py`` so that plain ``lm_eval`` knows the metrics too)."""
    if _active:
        return
    from harness.plugins import load_registry

    try:
        registry = load_registry()
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop plain lm_eval
        log.warning("loading harness plugins failed (%s); pushing only the built-in metrics", exc)
        registry = _builtin_metrics_registry()
    push_metrics(registry)


def _builtin_metrics_registry() -> Registry:
    import pluggy

    from harness import hookspecs
    from harness.plugins import build_registry

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    import harness_plugins.metrics as builtin

    pm.register(builtin, name="harness_plugins.metrics")
    pm.harness_origins = {"harness_plugins.metrics": ("builtin", "harness")}  # type: ignore[attr-defined]
    return build_registry(pm)


def runtime_info() -> dict[str, Any]:
    """What the active metric components report about themselves (e.g. the BERTScore encoder)."""
    info: dict[str, Any] = {}
    for name, (component, _) in sorted(_active.items()):
        describe = getattr(component, "runtime_info", None)
        if callable(describe):
            value = describe()
            if value:
                info[name] = value
    return info
