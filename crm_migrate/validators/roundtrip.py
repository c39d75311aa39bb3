"""``verify``'s check: what the target exported back against what was sent, record by record and value by
value. Records are matched by the key columns; a value counts as the same when it is equal up to the form a
target gives values back in (a date with a time of 00:00:00, an amount with other decimals in a column the
template types as money or number); any other difference is classified (truncated, lost characters, dropped
value, text that came back as a number, number became a float, date moved, changed). Reading the files and
writing the report is `crm_migrate.migrate.verify`'s."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import polars as pl

from crm_migrate.validators.readback import difference


@dataclass
class Verification:
    entity: str
    key: list[str]  # the sent columns records were matched by
    sent: int
    exported: int
    matched: int
    missing: int
    extra: int
    compared_columns: list[str]
    unmatched_columns: list[str]  # sent columns the export lacks
    differences: dict[str, int] = field(default_factory=dict)  # rule -> values
    by_column: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> rule -> values
    report: str = ""  # the CSV of differences
    earlier: int = 0  # exported records that an earlier batch sent (the migration state knows them): not extra
    batch: int | None = None  # the state's batch these import files are, where the run kept a state

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.differences)

    @property
    def exit_code(self) -> int:
        """0 when everything sent came back as sent, else 1 (``verify``'s exit status)."""
        return 0 if self.clean else 1


def compare(
    entity: str,
    sent: pl.DataFrame,
    theirs: pl.DataFrame,
    keys: list[str],
    compared: list[str],
    unmatched: list[str],
    numeric: set[str] | None,
    row_column: str,
    known: set[str] | None = None,
) -> tuple[Verification, list[dict[str, object]]]:
    """Match ``sent`` and ``theirs`` (the export, its columns named as sent, its row numbers in
    ``row_column``) by ``keys`` and compare the ``compared`` columns, numbers as numbers in ``numeric`` ones
    (None: types not known). Return the totals and one line per record missing or extra and per value that
    differs. ``known``: external ids earlier batches sent (from the migration state): an exported record with
    one of them is counted as ``earlier``, not as extra."""
    left = sent.with_row_index("_line", offset=2)
    joined = left.join(theirs, on=keys, how="full", suffix="__exported", coalesce=True, nulls_equal=False)
    in_sent = pl.col("_line").is_not_null()
    in_export = pl.col(row_column).is_not_null()
    missing = joined.filter(in_sent & ~in_export)
    extra = joined.filter(~in_sent & in_export)
    earlier = 0
    if known:  # records of earlier batches: in the target already, sent before
        before = extra[keys[0]].is_in(pl.Series(sorted(known), dtype=pl.String).implode())
        earlier = int(before.sum())
        extra = extra.filter(~before)
    both = joined.filter(in_sent & in_export)
    lines: list[dict[str, object]] = []
    for row in missing.iter_rows(named=True):
        lines.append(
            {
                "record": _key(row, keys),
                "sent_line": row["_line"],
                "export_row": None,
                "column": None,
                "sent": None,
                "exported": None,
                "rule": "missing",
                "message": "sent, not in the export",
            }
        )
    for row in extra.iter_rows(named=True):
        lines.append(
            {
                "record": _key(row, keys),
                "sent_line": None,
                "export_row": row[row_column],
                "column": None,
                "sent": None,
                "exported": None,
                "rule": "extra",
                "message": "in the export, never sent",
            }
        )
    by_column: dict[str, dict[str, int]] = {}

    def trimmed(name: str) -> pl.Expr:
        text = pl.col(name).str.strip_chars()
        return pl.when(text != "").then(text)

    # Only rows where some value differs as text are looked at value by value (the forms _same allows).
    unequal = [trimmed(c).ne_missing(trimmed(f"{c}__exported")) for c in compared]
    differing = both.filter(pl.any_horizontal(unequal)) if unequal else both.clear()
    for row in differing.iter_rows(named=True):
        values = tuple(row.get(c) for c in compared)
        for j, column in enumerate(compared):
            want, have = row[column], row.get(f"{column}__exported")
            if _same(want, have, None if numeric is None else column in numeric):
                continue
            rule, message, _ = (
                ("dropped", f"{want!r} was sent, the export has nothing", "")
                if not have
                else difference(want, have, values, j)
            )
            by_column.setdefault(column, {}).setdefault(rule, 0)
            by_column[column][rule] += 1
            lines.append(
                {
                    "record": _key(row, keys),
                    "sent_line": row["_line"],
                    "export_row": row[row_column],
                    "column": column,
                    "sent": want,
                    "exported": have,
                    "rule": rule,
                    "message": message,
                }
            )
    differences: dict[str, int] = {}
    for rules in by_column.values():
        for rule, n in rules.items():
            differences[rule] = differences.get(rule, 0) + n
    verification = Verification(
        entity,
        keys,
        sent.height,
        theirs.height,
        both.height,
        missing.height,
        extra.height,
        compared,
        unmatched,
        differences,
        by_column,
        earlier=earlier,
    )
    return verification, lines


def _key(row: dict, keys: list[str]) -> str:
    return " / ".join(str(row.get(k)) for k in keys)


# Text only a text column holds: a leading + or zero, or digits enough for a phone or an ID number.
_TEXTUAL = re.compile(r"^\+|^0\d|^\d{11,}$")


def _same(want: str | None, have: str | None, numeric: bool | None = None) -> bool:
    """Equal, or equal up to the form a target gives values back in. Amounts with other decimals are equal
    in a ``numeric`` column; where the column's type is unknown (None), unless the value sent is text-shaped."""
    want, have = (want or "").strip() or None, (have or "").strip() or None
    if want == have:
        return True
    if want is None or have is None:
        return False
    try:
        if (numeric or (numeric is None and not _TEXTUAL.search(want))) and Decimal(want) == Decimal(have):
            return True
    except InvalidOperation:
        pass
    dw, dh = _as_date(want), _as_date(have)
    return dw is not None and dw == dh and len(want) <= 10


def _as_date(text: str) -> dt.date | None:
    m = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
