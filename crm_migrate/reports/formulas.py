"""Values a spreadsheet would run as a formula, made harmless in every file a spreadsheet opens.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or tab or carriage return, or the full-width
``＝ ＋ － ＠`` an input method types, after any leading spaces) is read by Excel, LibreOffice and WPS as a
formula: ``=cmd|' /C calc'!A0`` starts a program, ``=HYPERLINK(...)`` sends data away. Such a value gets
the protecting apostrophe OWASP recommends:

- in CSV, as a character in front of the value (``'=SUM(1)``): the spreadsheet shows the text, and the
  target's length limit is checked on what is written, apostrophe included;
- in XLSX, as the cell's quote-prefix style, the value itself unchanged: Excel shows ``=SUM(1)`` as text and
  keeps it text when the cell is edited, and a program reading the cell gets the value as it was.

A value that is one number (``-5.00``, ``+8613800138000``, ``-1,200``) is a value in every column, and in
the columns of phones and amounts (``plain`` columns) so is a number written with separators
(``010-6234 5678``, several phones separated by ``; ``): a spreadsheet reads them as numbers or text,
never as a call, so they are written as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from crm_migrate.mappings.entities import FieldType

PLAIN_FIELDS = (FieldType.phone, FieldType.money, FieldType.number)  # fields whose numbers are never formulas
PREFIX = "'"
STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠
_LEAD = " \u00a0\u3000"  # spaces a spreadsheet may trim before it looks at the first character
# The same patterns serve Python's re and polars' (Rust) regex engine.
_RISKY = "^[ \u00a0\u3000]*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]"
_NUMBER = "^[ \u00a0\u3000]*[+-]?[0-9]+(?:[.,][0-9]+)*$"
_ONE_PLAIN = "[+-]?[0-9][0-9 .()\\-]*"
_PLAIN = f"^[ \u00a0\u3000]*{_ONE_PLAIN}(?:[;,/] ?{_ONE_PLAIN})*$"
_risky, _number, _plain = re.compile(_RISKY), re.compile(_NUMBER), re.compile(_PLAIN)


def is_formula(text: object, plain: bool = False) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula; ``plain``: a phone or amount column."""
    if not isinstance(text, str) or not text or (text[0] not in STARTS and text[0] not in _LEAD):
        return False
    if not _risky.match(text):
        return False
    return not (_number.match(text) or (plain and _plain.match(text)))


def neutralise(text: str, plain: bool = False) -> str:
    return PREFIX + text if is_formula(text, plain) else text


def risky(column: str, plain: bool = False) -> pl.Expr:
    """True where the column's value would be read as a formula (false for nulls)."""
    value = pl.col(column)
    safe = value.str.contains(_NUMBER)
    if plain:
        safe = safe | value.str.contains(_PLAIN)
    return (value.str.contains(_RISKY) & ~safe).fill_null(False)


def neutralise_frame(frame: pl.DataFrame, plain: Iterable[str] = ()) -> tuple[pl.DataFrame, dict[str, int]]:
    """Every text column with the apostrophe in front of a formula; and how many values, per column."""
    plain = set(plain)
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text or frame.height == 0:
        return frame, {}
    # Only a column where some value starts like a formula can hold one: the others are not tested further.
    starts = frame.select(pl.col(c).str.contains(_RISKY).any().alias(c) for c in text).row(0, named=True)
    maybe = [c for c in text if starts[c]]
    counts = frame.select(risky(c, c in plain).sum().alias(c) for c in maybe).row(0, named=True) if maybe else {}
    hit = [c for c in maybe if counts[c]]
    if not hit:
        return frame, {}
    frame = frame.with_columns(
        pl.when(risky(c, c in plain)).then(pl.lit(PREFIX) + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in hit
    )
    return frame, {c: int(counts[c]) for c in hit}


class QuotedCells:
    """Writes text into an xlsxwriter workbook, with the quote-prefix style where the text is a formula.

    ``write(sheet, row, col, text, props)`` takes the cell's other style as a dict of xlsxwriter format
    properties (or None); each distinct style is added to the workbook once, with and without the prefix."""

    def __init__(self, book) -> None:
        self.book = book
        self._formats: dict[tuple, object] = {}

    def format(self, props: dict | None, quoted: bool = False):
        if not props and not quoted:
            return None
        key = (tuple(sorted((props or {}).items())), quoted)
        if key not in self._formats:
            self._formats[key] = self.book.add_format({**(props or {}), **({"quote_prefix": True} if quoted else {})})
        return self._formats[key]

    def write(self, sheet, row: int, col: int, text: str, props: dict | None = None, plain: bool = False) -> bool:
        """Write one text cell; True when it needed the prefix."""
        quoted = is_formula(text, plain)
        sheet.write_string(row, col, text, self.format(props, quoted))
        return quoted
