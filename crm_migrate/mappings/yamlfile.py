"""Load YAML keeping the line of every key and value, so that errors can say ``path:line``.

PyYAML's composer gives the node tree with positions; we build plain Python values from it and remember,
for every path (``("entities", "accounts", "columns", "客户名称")``), the line it starts on. Duplicate
keys, which YAML loaders usually resolve silently to the last one, are reported.

A project file is small, so anything else is refused as a problem with its line before it is built: a file
over `MAX_BYTES`, aliases that expand to more than `MAX_NODES` values (a "billion laughs" of anchors that
would take gigabytes), an alias that refers to itself, nesting deeper than Python can follow, and a key
that is not plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crm_migrate.errors import Problem

Path_ = tuple[str | int, ...]
MAX_BYTES = 5_000_000  # a mapping or profile is a few kilobytes; the largest built-in profile is 30 KB
MAX_NODES = 200_000  # values once aliases are expanded; a mapping has a few hundred


@dataclass
class YamlDocument:
    path: str  # as shown to the user
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest part of ``loc`` that the file has (an unknown key has its own line)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


class _Builder:
    def __init__(self, shown_path: str) -> None:
        self.shown_path = shown_path
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, loc: Path_) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Refused(
                        Problem(
                            self.shown_path,
                            "a key must be plain text, not a list or a mapping",
                            line=key_node.start_mark.line + 1,
                            hint="write the key as text",
                        )
                    )
                key = self.constructor.construct_object(key_node, deep=True)
                key = key if isinstance(key, str) else str(key)  # a column may be named 2023
                if key in out:
                    self.problems.append(
                        Problem(
                            self.shown_path,
                            f"duplicate key {key!r}",
                            line=key_node.start_mark.line + 1,
                            hint=f"it is already set on line {self.lines[(*loc, key)]}; keep one",
                        )
                    )
                    continue
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _check_expansion(root: yaml.Node, shown_path: str) -> None:
    """Refuse a tree whose aliases expand past `MAX_NODES`, or refer to themselves, without expanding it: the
    expanded size of every distinct node is counted once (aliases share the node they name)."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise _Refused(
                Problem(
                    shown_path,
                    "an alias refers to the value that holds it (an endless value)",
                    line=node.start_mark.line + 1,
                    hint="remove the alias (*name) on this line",
                )
            )
        busy.add(key)
        total = 1
        for child in children(node):
            total += size(child)
            if total > MAX_NODES:
                break
        busy.discard(key)
        sizes[key] = total
        return total

    try:
        if size(root) <= MAX_NODES:
            return
    except RecursionError:
        raise _Refused(
            Problem(shown_path, "values nested too deeply", hint="a project file needs a few levels")
        ) from None
    # Say where: the outermost value that is too large by itself (usually the key that starts the bomb).
    node = root
    while True:
        big = next((c for c in children(node) if sizes.get(id(c), 0) > MAX_NODES), None)
        if big is None or node is not root:
            break
        node = big
    raise _Refused(
        Problem(
            shown_path,
            f"aliases (*name) here expand to more than {MAX_NODES:,} values; a "
            "project file never needs that many (a YAML bomb?)",
            line=node.start_mark.line + 1,
            hint="write the values out, or remove the anchors (&name) and aliases (*name)",
        )
    )


def load_yaml(file: Path, shown_path: str) -> tuple[YamlDocument, list[Problem]]:
    """Parse ``file``; syntax errors come back as problems with their line, never as exceptions."""
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            return YamlDocument(shown_path, None), [
                Problem(
                    shown_path,
                    f"{size:,} bytes: larger than a project file can be ({MAX_BYTES:,} bytes)",
                    hint="check that this is the right file; a mapping or profile is a few kilobytes",
                )
            ]
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return YamlDocument(shown_path, None), [
            Problem(shown_path, f"not UTF-8 text ({exc.reason} at byte {exc.start})", hint="save the file as UTF-8")
        ]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return YamlDocument(shown_path, None), [
            Problem(
                shown_path,
                f"YAML syntax: {exc.problem or exc.context}",
                line=line,
                hint="check the indentation and quoting on this line and the one before",
            )
        ]
    except RecursionError:
        return YamlDocument(shown_path, None), [
            Problem(shown_path, "values nested too deeply", hint="a project file needs a few levels")
        ]
    if node is None:
        return YamlDocument(shown_path, {}, {(): 1}), []
    builder = _Builder(shown_path)
    try:
        _check_expansion(node, shown_path)
        data = builder.build(node, ())
    except _Refused as exc:
        return YamlDocument(shown_path, None), [exc.problem]
    except RecursionError:
        return YamlDocument(shown_path, None), [
            Problem(shown_path, "values nested too deeply", hint="a project file needs a few levels")
        ]
    return YamlDocument(shown_path, data, builder.lines), builder.problems


def quote(text: str) -> str:
    """A string as a YAML scalar that any text survives (JSON's quoting is valid YAML), CJK left readable."""
    return json.dumps(text, ensure_ascii=False)
