"""The benchmark spec: its pydantic models, the line-tracking YAML loader and the checks."""
