"""Fixtures for the evaluation tests: the tiny model wrapped for lm-eval."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_lm(tiny_model):
    """The tiny LLaMA as a :class:`harness.evaluation.lm.HarnessLM` (batch size 4)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.evaluation.lm import wrap

    model = AutoModelForCausalLM.from_pretrained(tiny_model.path).eval()
    tok = AutoTokenizer.from_pretrained(tiny_model.path)
    return wrap(model, tok, batch_size=4)


def builtin_registry(*extra: object):
    """A registry of the built-in metrics and model sources only (plus ``extra`` plugin objects),
    so these tests do not depend on the other plugin families."""
    import pluggy

    import harness_plugins.metrics
    import harness_plugins.models
    from harness import hookspecs
    from harness.plugins import build_registry

    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    pm.harness_origins = {}
    for plugin in (harness_plugins.metrics, harness_plugins.models):
        pm.register(plugin, name=plugin.__name__)
        pm.harness_origins[plugin.__name__] = ("builtin", "harness")
    for i, plugin in enumerate(extra):
        pm.register(plugin, name=f"extra{i}")
        pm.harness_origins[f"extra{i}"] = ("entry point", "harness-test-plugin")
    return build_registry(pm)


@pytest.fixture(scope="session")
def eval_registry():
    """Registry with the built-in metrics and model sources."""
    return builtin_registry()
