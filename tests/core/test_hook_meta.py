"""Meta-tests: every hook spec is documented with its exact signature and has a test."""

from __future__ import annotations

import inspect
from pathlib import Path

from harness import hookspecs

REPO = Path(__file__).resolve().parents[2]


def hook_specs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(hookspecs).items()
        if callable(fn) and hasattr(fn, "harness_spec")
    }


def test_there_are_hook_specs() -> None:
    assert len(hook_specs()) >= 10


def test_every_hook_is_documented_with_its_signature() -> None:
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name, signature in hook_specs().items():
        params = ", ".join(signature.parameters)
        assert f"### `{name}({params})`" in docs, f"docs/plugins.md lacks a section for {name}({params})"


def test_every_hook_has_a_test() -> None:
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("test_*.py") if p.name != "test_hook_meta.py"
    )
    for name in hook_specs():
        assert f"def {name}(" in sources or f"hook.{name}(" in sources, f"no test implements or calls hook {name}"


def test_hook_docstrings_say_when_called_and_return() -> None:
    for name, fn in vars(hookspecs).items():
        if callable(fn) and hasattr(fn, "harness_spec"):
            doc = inspect.getdoc(fn) or ""
            assert doc.startswith("Called"), name
            assert ":return:" in doc and ":param" in doc, name
