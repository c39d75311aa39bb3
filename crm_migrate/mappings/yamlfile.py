"""Load YAML keeping the line of every key and value, so that errors can say ``path:line``.

PyYAML's composer gives the node tree with positions; we build plain Python values from it and remember,
for every path (``("entities", "accounts", "columns", "客户名称")``), the line it starts on. Duplicate
keys, which YAML loaders usually resolve silently to the last one, are reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crm_migrate.errors import Problem

Path_ = tuple[str | int, ...]


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
                key = self.constructor.construct_object(key_node, deep=True)
                key = key if isinstance(key, str) else str(key)  # a column may be named 2023
                if key in out:
                    self.problems.append(Problem(
                        self.shown_path, f"duplicate key {key!r}", line=key_node.start_mark.line + 1,
                        hint=f"it is already set on line {self.lines[(*loc, key)]}; keep one"))
                    continue
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def load_yaml(file: Path, shown_path: str) -> tuple[YamlDocument, list[Problem]]:
    """Parse ``file``; syntax errors come back as problems with their line, never as exceptions."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return YamlDocument(shown_path, None), [Problem(
            shown_path, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint="save the file as UTF-8")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return YamlDocument(shown_path, None), [Problem(
            shown_path, f"YAML syntax: {exc.problem or exc.context}", line=line,
            hint="check the indentation and quoting on this line and the one before")]
    if node is None:
        return YamlDocument(shown_path, {}, {(): 1}), []
    builder = _Builder(shown_path)
    data = builder.build(node, ())
    return YamlDocument(shown_path, data, builder.lines), builder.problems


def quote(text: str) -> str:
    """A string as a YAML scalar that any text survives (JSON's quoting is valid YAML), CJK left readable."""
    return json.dumps(text, ensure_ascii=False)
