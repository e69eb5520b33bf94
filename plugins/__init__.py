"""Built-in plugins of harness, installed as ``harness_plugins``.

Each submodule is a pluggy plugin registered through the same hooks as third-party plugins
(see ``harness.plugins.BUILTIN_PLUGINS``).
"""
