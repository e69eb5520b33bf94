"""Plugin core: registration, collisions, entry points (broken ones too), disabling."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pluggy
import pytest

from harness import hookimpl, hookspecs
from harness.components import Cleaner, CleanResult, Document
from harness.errors import PluginError, SpecError
from harness.plugins import FAMILIES, build_registry, get_plugin_manager


class Upper(Cleaner):
    """Upper-cases text (a test component)."""

    def clean(self, doc: Document) -> CleanResult:
        doc.text = doc.text.upper()
        return CleanResult(doc, {"changed": 1})


class PluginA:
    @hookimpl
    def register_cleaners(self, register) -> None:
        register("upper", Upper)


class PluginB:
    @hookimpl
    def register_cleaners(self, register) -> None:
        register("upper", Upper)


def fresh_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    return pm


def test_register_records_the_plugin_that_gave_each_component() -> None:
    pm = fresh_manager()
    pm.register(PluginA(), name="plugin-a")
    registry = build_registry(pm)
    found = registry.get("cleaners", "upper")
    assert found.cls is Upper
    assert found.plugin == "plugin-a"
    doc = Document("x", "t", "ley", "hola")
    assert registry.build("cleaners", _ref("upper")).clean(doc).document.text == "HOLA"


def test_name_collision_names_both_plugins_only_when_the_name_is_used() -> None:
    pm = fresh_manager()
    pm.register(PluginA(), name="plugin-a")
    pm.register(PluginB(), name="plugin-b")
    registry = build_registry(pm)  # the registry (and `harness plugins`) still builds
    assert [r.plugin for r in registry.collisions[("cleaners", "upper")]] == ["plugin-a", "plugin-b"]
    with pytest.raises(PluginError) as info:
        registry.get("cleaners", "upper")
    message = str(info.value)
    assert "plugin-a" in message and "plugin-b" in message and "upper" in message
    assert info.value.exit_code == 3


def test_register_rejects_a_class_of_the_wrong_family() -> None:
    class Wrong:
        @hookimpl
        def register_trainers(self, register) -> None:
            register("upper", Upper)

    pm = fresh_manager()
    pm.register(Wrong(), name="wrong")
    with pytest.raises(PluginError, match="must be a subclass of Trainer"):
        build_registry(pm)


def test_unknown_component_lists_known_names() -> None:
    pm = fresh_manager()
    pm.register(PluginA(), name="plugin-a")
    with pytest.raises(SpecError, match="known: upper"):
        build_registry(pm).get("cleaners", "lower")


def test_builtins_register_every_family(registry) -> None:
    for family in FAMILIES:
        assert registry.names(family), f"no built-in component in family {family}"
    origins = {p.origin for p in registry.plugins}
    assert origins == {"builtin"}


def _fake_distribution(tmp_path: Path, name: str, entry: str) -> Path:
    """A real installed-distribution record on sys.path whose entry point is ``entry``."""
    info = tmp_path / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[harness]\n{entry}\n")
    return tmp_path


def test_broken_entry_point_warns_and_the_harness_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(_fake_distribution(tmp_path, "broken-dist", "broken = no_such_module_xyz")))
    with pytest.warns(
        UserWarning, match=r"'broken' from distribution 'broken-dist' failed to load: ModuleNotFoundError"
    ):
        pm = get_plugin_manager()
    registry = build_registry(pm)
    assert [b.name for b in registry.broken] == ["broken"]
    assert registry.names("model_sources")  # built-ins still there
    with pytest.raises(PluginError) as info:
        registry.get("cleaners", "strip_everything")
    assert info.value.exit_code == 3
    assert "broken-dist" in str(info.value)


def test_entry_point_plugin_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "fancy_plugin.py"
    package.write_text(
        textwrap.dedent("""
        from harness import hookimpl
        from harness.components import Cleaner, CleanResult

        class Noop(Cleaner):
            def clean(self, doc):
                return CleanResult(doc)

        @hookimpl
        def register_cleaners(register):
            register("noop_cleaner", Noop)
    """)
    )
    monkeypatch.syspath_prepend(str(_fake_distribution(tmp_path, "fancy-dist", "fancy = fancy_plugin")))
    registry = build_registry(get_plugin_manager())
    found = registry.get("cleaners", "noop_cleaner")
    assert (found.plugin, found.distribution) == ("fancy", "fancy-dist")
    assert any(p.name == "fancy" and p.origin == "entry point" for p in registry.plugins)
    sys.modules.pop("fancy_plugin", None)


def test_disable_plugins_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(_fake_distribution(tmp_path, "broken-dist", "broken = no_such_module_xyz")))
    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "broken,harness_plugins.reports")
    registry = build_registry(get_plugin_manager())
    assert not registry.broken
    assert not registry.names("report_formats")
    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "*")
    registry = build_registry(get_plugin_manager())
    assert all(p.origin == "builtin" for p in registry.plugins)
    # the executor runs every stage: disabling it would give runs that do nothing
    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "harness.runner.executor")
    with pytest.warns(UserWarning, match="cannot be disabled"):
        pm = get_plugin_manager()
    assert pm.has_plugin("harness.runner.executor")


def test_check_pending_rejects_an_unknown_hook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "typo_plugin.py").write_text(
        "from harness import hookimpl\n\n@hookimpl\ndef register_cleanerz(register):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(_fake_distribution(tmp_path, "typo-dist", "typo = typo_plugin")))
    with pytest.raises(pluggy.PluginValidationError, match="register_cleanerz"):
        get_plugin_manager()
    sys.modules.pop("typo_plugin", None)


def _ref(name: str):
    from harness.spec.common import ComponentRef

    return ComponentRef(name=name)
