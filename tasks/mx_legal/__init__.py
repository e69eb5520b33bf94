"""The ``mx_legal`` lm-eval tasks; YAMLs, item sources and frozen data are package data."""
