"""The general-Spanish lm-eval tasks (``es_general``); YAMLs and data are package data."""
