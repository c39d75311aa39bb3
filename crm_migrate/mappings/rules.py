"""The target's rules, stated once.

A column of a target profile (``ColumnSpec``) and the encoding of its file become a list of rules: small
frozen values, one class per kind, each naming its column, its parameters, what it asks in words
(``message``) and what to do when a value breaks it (``hint``). Three translators read the same list:

- ``migrate/conform.py``: a polars expression per rule giving, per record, why it breaks the rule (null
  where it does not), so the record is rejected before anything is written;
- ``validators/expectations.py``: the Great Expectations suite run on the import files as read back;
- ``validators/database.py``: the constraints of the table the dry run loads the files into.

A translator handles every kind, or returns ``Untranslated`` with the reason for one rule it cannot state
(a link by name is no key a FOREIGN KEY can reference); a kind it does not know raises ``MissingTranslation``,
and a test asks each translator for each kind, so a new kind cannot be forgotten by one of them.

>>> [r.kind.value for r in rules_for(ColumnSpec(header="Name", value="name", required=True, max_length=6), "gbk")]
['required', 'max_length', 'encoding']

Patterns (``pattern``) are written in what the three regex engines share (polars' Rust regex, Python's ``re``
and PostgreSQL's): anchors, ``[0-9]``, bracketed literals, ``{n}``, ``(?:a|b)``, ``\\uXXXX``; no ``\\d``
(Unicode digits in two of them), no lookaround. ``python_pattern`` ends in ``\\Z`` instead of ``$``, since
Python's ``$`` also matches before a last newline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import ClassVar

from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import NUMERIC, ColumnSpec, ColumnType

UNIVERSAL = ("utf-8", "utf-16", "gb18030")  # encodings that hold every character
KEY = "external_id"  # the value of the column that keys a record: required and unique whatever the profile says


class RuleKind(str, Enum):
    required = "required"
    unique = "unique"
    max_length = "max_length"
    picklist = "picklist"
    date_format = "date_format"
    number_format = "number_format"
    encoding = "encoding"
    parent = "parent"


@dataclass(frozen=True)
class Rule:
    """One rule of one column (``column``: the template's header)."""

    column: str
    kind: ClassVar[RuleKind]

    @property
    def name(self) -> str:
        """The rule as findings and rejects name it (both formats are ``format``)."""
        return self.kind.value

    @property
    def message(self) -> str:
        raise NotImplementedError

    @property
    def hint(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Required(Rule):
    """A value in every row; an empty text is no value (the file writes both as an empty cell)."""

    kind: ClassVar[RuleKind] = RuleKind.required

    @property
    def message(self) -> str:
        return "required by the target"

    @property
    def hint(self) -> str:
        return "fill the source column or map a default"


@dataclass(frozen=True)
class Unique(Rule):
    """No two rows share the value: the column of the record's external id, by which the target finds it."""

    kind: ClassVar[RuleKind] = RuleKind.unique

    @property
    def message(self) -> str:
        return "the record's external id, one per record"

    @property
    def hint(self) -> str:
        return "give each record an external id of its own (crm-migrate's own ids never repeat: report it)"


@dataclass(frozen=True)
class MaxLength(Rule):
    """At most ``limit`` characters (not bytes)."""

    limit: int
    kind: ClassVar[RuleKind] = RuleKind.max_length

    @property
    def message(self) -> str:
        return f"at most {self.limit} characters"

    @property
    def hint(self) -> str:
        return "shorten it at the source or map it to a longer field"


@dataclass(frozen=True)
class Picklist(Rule):
    """One of ``values``, exactly."""

    values: tuple[str, ...]
    kind: ClassVar[RuleKind] = RuleKind.picklist

    @property
    def shown(self) -> str:
        """The first values, for a message."""
        return ", ".join(self.values[:6]) + (", ..." if len(self.values) > 6 else "")

    @property
    def message(self) -> str:
        return f"one of the target's values ({self.shown})"

    @property
    def hint(self) -> str:
        return "add it to the field's value map"


@dataclass(frozen=True)
class DateFormat(Rule):
    """A date (``with_time``: a date and time) written as ``strftime``; conform writes it so, the suite parses
    it with the format, the database checks its shape (``pattern``: digits where the format has numbers)."""

    strftime: str
    with_time: bool = False
    kind: ClassVar[RuleKind] = RuleKind.date_format

    @property
    def name(self) -> str:
        return "format"

    @property
    def pattern(self) -> str:
        return strftime_pattern(self.strftime)

    @property
    def message(self) -> str:
        return f"a {'date and time' if self.with_time else 'date'} written as {self.strftime}"

    @property
    def hint(self) -> str:
        return "map a date field to the column or fix the value at the source"


@dataclass(frozen=True)
class NumberFormat(Rule):
    """A plain decimal (digits, a point, an optional minus), with exactly ``places`` decimals where given."""

    places: int | None = None
    kind: ClassVar[RuleKind] = RuleKind.number_format

    @property
    def name(self) -> str:
        return "format"

    @property
    def pattern(self) -> str:
        if self.places is None:
            return "^-?[0-9]+(?:[.][0-9]+)?$"
        return f"^-?[0-9]+[.][0-9]{{{self.places}}}$" if self.places else "^-?[0-9]+$"

    @property
    def message(self) -> str:
        return "a plain decimal" + (f" with {self.places} places" if self.places is not None else "")

    @property
    def hint(self) -> str:
        return "map an amount or number field to the column or fix the value at the source"


@dataclass(frozen=True)
class Encodable(Rule):
    """Only characters the file's ``encoding`` can hold (stated only for an encoding that is not universal)."""

    encoding: str
    kind: ClassVar[RuleKind] = RuleKind.encoding

    @property
    def pattern(self) -> str:
        return f"^[{encodable_class(self.encoding)}]*$"

    @property
    def message(self) -> str:
        return f"characters {self.encoding.upper()} can hold"

    @property
    def hint(self) -> str:
        return "choose a UTF-8 or GB18030 file in the target profile, or replace the character at the source"


@dataclass(frozen=True)
class Parent(Rule):
    """The value names a record of ``parent`` among those written, by its ``key`` (external id, name or
    legacy id); by a key other than the external id, exactly one parent may carry it."""

    parent: Entity
    key: str = KEY
    kind: ClassVar[RuleKind] = RuleKind.parent

    @property
    def message(self) -> str:
        return f"the {self.key} of one {self.parent.singular} among the records written"

    @property
    def hint(self) -> str:
        return "fix or import the parent first, or send orphans to a placeholder account (options.orphans)"


KINDS: dict[RuleKind, type[Rule]] = {
    c.kind: c for c in (Required, Unique, MaxLength, Picklist, DateFormat, NumberFormat, Encodable, Parent)
}


@dataclass(frozen=True)
class Untranslated:
    """A translator's explicit refusal of one rule, with the reason (and where it is checked instead)."""

    rule: Rule
    reason: str


class MissingTranslation(TypeError):
    """A translator met a kind of rule it has no translation for: a bug, caught by the coverage test."""

    def __init__(self, translator: str, rule: Rule) -> None:
        super().__init__(f"{translator} has no translation for the rule kind {rule.kind.value!r}")


def rules_for(spec: ColumnSpec, encoding: str) -> list[Rule]:
    """The rules of one template column, in the order their reasons are given when a value breaks several."""
    h = spec.header
    key = spec.value == KEY
    out: list[Rule] = []
    if spec.required or key:
        out.append(Required(h))
    if key:
        out.append(Unique(h))
    if spec.max_length:
        out.append(MaxLength(h, spec.max_length))
    if spec.picklist:
        out.append(Picklist(h, tuple(spec.picklist)))
    if spec.type in (ColumnType.date, ColumnType.datetime) and spec.format:
        out.append(DateFormat(h, spec.format, spec.type is ColumnType.datetime))
    if spec.type in NUMERIC:
        out.append(NumberFormat(h, int(spec.format) if spec.format and spec.format.isdigit() else None))
    if encoding not in UNIVERSAL:
        out.append(Encodable(h, encoding))
    if spec.parent is not None:
        out.append(Parent(h, spec.parent, spec.parent_key))
    return out


# -- date formats: the directives crm-migrate writes, and their shapes -----------------------------------

# Each number as Python's strptime reads it (a leading zero optional): the shape the database checks.
_SHAPES = {
    "Y": "[0-9]{4}",
    "y": "[0-9]{2}",
    "m": "(?:0[1-9]|1[0-2]|[1-9])",
    "d": "(?:0[1-9]|[12][0-9]|3[01]|[1-9])",
    "H": "(?:[01][0-9]|2[0-3]|[0-9])",
    "M": "(?:[0-5][0-9]|[0-9])",
    "S": "(?:[0-5][0-9]|6[01]|[0-9])",
    "%": "[%]",
}
DATE_DIRECTIVES = "Yymd%"  # what a date column's format may use
TIME_DIRECTIVES = "HMS"  # and a date-and-time column's, besides


def format_problem(strftime: str, with_time: bool) -> str | None:
    """Why crm-migrate cannot write (and check) dates in ``strftime``; None if it can."""
    allowed = DATE_DIRECTIVES + (TIME_DIRECTIVES if with_time else "")
    parts = re.findall(r"%(.?)", strftime)
    bad = sorted({f"%{p}" for p in parts if p not in allowed})
    if bad:
        return (
            f"the date format {strftime!r} uses {', '.join(bad)}; a "
            f"{'date-and-time' if with_time else 'date'} format may use "
            f"{', '.join('%' + d for d in allowed if d != '%')} (and %% for a percent sign)"
        )
    if not {"Y", "y"} & set(parts):
        return f"the date format {strftime!r} has no year (%Y or %y)"
    return None


def strftime_pattern(strftime: str) -> str:
    """The shape of the dates ``strftime`` writes, as a pattern (a format ``format_problem`` accepts)."""
    out, i = ["^"], 0
    while i < len(strftime):
        ch = strftime[i]
        if ch == "%" and i + 1 < len(strftime):
            out.append(_SHAPES[strftime[i + 1]])
            i += 2
            continue
        out.append(_literal_char(ch))
        i += 1
    return "".join(out) + "$"


def _literal_char(ch: str) -> str:
    if ch.isalnum() or ord(ch) > 127:
        return ch
    if ch in "]\\^":
        return "\\" + ch
    return f"[{ch}]"


def python_pattern(pattern: str) -> str:
    """``pattern`` for Python's ``re`` (Great Expectations, SQLite's REGEXP): the end of the text is ``\\Z``."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


# -- encodings ------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def encodable_class(encoding: str) -> str:
    """The characters ``encoding`` can hold, as the inside of a bracket expression of ``\\uXXXX`` ranges.
    Only the Basic Multilingual Plane is scanned: the encodings a profile may name that do not hold every
    character (GBK) hold none beyond it. NUL is left out: no text column of a database holds it."""
    ranges: list[tuple[int, int]] = []
    for cp in range(1, 0x10000):
        if 0xD800 <= cp <= 0xDFFF or not _encodes(chr(cp), encoding):
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(f"\\u{a:04X}" if a == b else f"\\u{a:04X}-\\u{b:04X}" for a, b in ranges)


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def unencodable(text: str, encoding: str) -> list[str]:
    """The characters of ``text`` that ``encoding`` cannot hold, sorted, each once."""
    return sorted({ch for ch in text if not _encodes(ch, encoding)})
