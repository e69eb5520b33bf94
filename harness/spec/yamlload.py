"""YAML loading that remembers the line of every key, so errors can say ``file:line: field``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SpecError

Loc = tuple[Any, ...]


class SpecLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``)."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class LineMap(dict):
    """Maps a key path (``("dapt", "budget", "max_steps")``) to its 1-based line number."""

    def line_for(self, loc: Loc) -> int | None:
        """Line of ``loc`` or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self:
                return self[loc]
            loc = loc[:-1]
        return self.get((), None)


#: a spec (or item file) is a few KB; these bounds stop a hostile file before it costs anything
MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Builder:
    """Turns a composed node graph into Python values, counting nodes so that aliases cannot
    expand without limit (a "billion laughs" document) and recording every key's line."""

    def __init__(self, lines: LineMap) -> None:
        self.lines = lines
        self.nodes = 0

    def build(self, node: yaml.Node, path: Loc, depth: int = 0) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        if self.nodes > MAX_NODES:
            raise SpecError(f"the document expands to more than {MAX_NODES:,} values (aliases?)", line=line)
        if depth > MAX_DEPTH:
            raise SpecError(f"the document nests deeper than {MAX_DEPTH} levels (a recursive alias?)", line=line)
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        return _scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Loc, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                # ``<<: *defaults`` (or a list of them): keys given here win over merged ones
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    value = self.build(source, path, depth + 1)
                    if not isinstance(value, dict):
                        raise SpecError("a merge key ('<<') needs a mapping", line=key_node.start_mark.line + 1)
                    merged = {**value, **merged}
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError(
                    "a key must be a plain value, not a list or mapping",
                    line=key_node.start_mark.line + 1,
                    field=".".join(map(str, path)) or None,
                )
            key = _scalar(key_node, path)
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r}", line=key_node.start_mark.line + 1, field=".".join(map(str, (*path, key)))
                )
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, (*path, key), depth + 1)
        for key, value in merged.items():
            if key not in out:
                self.lines.setdefault((*path, key), node.start_mark.line + 1)
                out[key] = value
        return out


def _scalar(node: yaml.Node, path: Loc) -> Any:
    loader = SpecLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(
            f"unsupported value: {problem}", line=node.start_mark.line + 1, field=".".join(map(str, path)) or None
        ) from None
    finally:
        loader.dispose()


def read_text(path: Path) -> str:
    """A YAML file's text, or a :class:`SpecError` naming it (missing, a folder, too big, binary,
    not UTF-8)."""
    if path.is_dir():
        raise SpecError("is a folder, not a YAML file", file=str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("file not found", file=str(path)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"is {len(data):,} bytes; a spec is at most {MAX_BYTES:,}", file=str(path))
    if b"\x00" in data:
        raise SpecError("is a binary file, not YAML text", file=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", file=str(path), line=line
        ) from None


def load_yaml_with_lines(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path``; return the data and the line of every key path."""
    text = read_text(path)
    try:
        node = yaml.compose(text, Loader=SpecLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", file=str(path), line=mark.line + 1 if mark else None
        ) from None
    lines = LineMap()
    if node is None:
        return {}, lines
    try:
        return _Builder(lines).build(node, ()), lines
    except SpecError as exc:
        raise SpecError(exc.message, file=str(path), line=exc.line, field=exc.field) from None
