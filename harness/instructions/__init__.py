"""Instruction generation: the ``instructions`` stage, its filters, decontamination and card.

The generators themselves are plugins (``harness_plugins.instructions`` ships ``mx_templates``,
``bonito`` and ``llm_instruct``); see ``docs/generators.md``.
"""
