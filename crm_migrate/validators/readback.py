"""Reading the written import files back the way the target reads them, and comparing cell by cell.

A CSV file is decoded strictly in the target's encoding (a byte it cannot decode is a finding, with its
line), its BOM checked against the profile, and split with the target's delimiter; an XLSX file is read with
openpyxl, cell types included (a number cell where text was meant is how Excel destroys a phone or an ID
number). Each cell is compared with the value crm-migrate meant to write: a lost character, a truncated
value, a shifted column, a number that became a float or a date that moved is a finding.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import NUMERIC, ColumnType, FileSpec
from crm_migrate.steps import step
from crm_migrate.validators.findings import Finding

_FLOATISH = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)$|^-?\d+\.0+$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
AS_NUMBER = "came back as a number"  # text of digits without what made it text: the +, leading zeros, the X


@dataclass
class WrittenFile:
    entity: Entity
    path: str  # relative to the output folder: import/01_accounts_001.csv
    intended: pl.DataFrame  # what crm-migrate meant to write into this file
    read: pl.DataFrame | None = None  # what the target reads from it (every value a string or null)


def read_back(
    out: Path, files: list[WrittenFile], spec: FileSpec, types: dict[Entity, dict[str, ColumnType]]
) -> list[Finding]:
    """Fill each file's ``read`` and return what differs from what was meant."""
    findings: list[Finding] = []
    for f in files:
        with step(f"Reading back {f.path}") as reading:
            findings += _read_back(out, f, spec, types)
            reading.finish(None if f.read is None else f.read.height)
    return findings


def _read_back(out: Path, f: WrittenFile, spec: FileSpec, types: dict[Entity, dict[str, ColumnType]]) -> list[Finding]:
    path = out / f.path
    if spec.format == "xlsx":
        rows, found = _read_xlsx(path, f, types[f.entity])
    else:
        rows, found = _read_csv(path, f, spec)
    if rows is None:
        return found
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    numeric = {h for h, k in types[f.entity].items() if k in NUMERIC} if spec.format == "xlsx" else set()
    found += _compare(f, header, body, numeric)
    f.read = _frame(f.intended.columns, body)
    return found


def _frame(header: list[str], rows: list[list[str | None]]) -> pl.DataFrame:
    """Rows as a frame of strings under ``header``; a short row padded with nulls, a long one cut."""
    width = len(header)
    return pl.DataFrame(
        [(list(r) + [None] * width)[:width] for r in rows], schema={h: pl.String for h in header}, orient="row"
    )


def read_table(path: Path, rel: str, entity: Entity, spec: FileSpec) -> pl.DataFrame:
    """One import file as the target reads it: its header and rows, every value a string or null."""
    f = WrittenFile(entity, rel, pl.DataFrame())
    rows, found = _read_xlsx(path, f, {}) if spec.format == "xlsx" else _read_csv(path, f, spec)
    if rows is None or not rows:
        raise ValueError(found[0].message if found else f"{rel} is empty")
    return _frame([str(h) for h in rows[0]], rows[1:])


def _finding(
    f: WrittenFile, row: int | None, column: str | None, value: str | None, rule: str, message: str, hint: str
) -> Finding:
    return Finding("read-back", "error", f.entity.value, f.path, row, column, value, rule, message, hint)


def _read_csv(path: Path, f: WrittenFile, spec: FileSpec) -> tuple[list[list[str | None]] | None, list[Finding]]:
    raw = path.read_bytes()
    found = []
    has_bom = raw.startswith(codecs.BOM_UTF8)
    if spec.encoding == "utf-8" and has_bom != spec.bom:
        found.append(
            _finding(
                f,
                1,
                None,
                None,
                "bom",
                "the file "
                + ("starts with" if has_bom else "lacks")
                + " a byte-order mark, which the target "
                + ("does not expect" if has_bom else "needs"),
                "set bom in the target profile's file section to what the target's importer reads",
            )
        )
    try:
        text = raw.decode(spec.codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        found.append(
            _finding(
                f,
                line,
                None,
                None,
                "encoding",
                f"a byte the target cannot decode as {spec.encoding.upper()} at byte {exc.start}",
                "write the file in the target's "
                "encoding (file.encoding in the profile); this is a bug if the profile says so",
            )
        )
        return None, found
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter))
    return [[v if v != "" else None for v in r] for r in rows], found


def _read_xlsx(
    path: Path, f: WrittenFile, types: dict[str, ColumnType]
) -> tuple[list[list[str | None]] | None, list[Finding]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    found, rows = [], []
    header = None
    for i, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if header is None:
            header = [None if v is None else str(v) for v in cells]
            rows.append(header)
            continue
        values: list[str | None] = []
        for j, v in enumerate(cells):
            column = header[j] if j < len(header) else None
            kind = types.get(column or "", ColumnType.text)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and kind not in NUMERIC:
                found.append(
                    _finding(
                        f,
                        i,
                        column,
                        str(v),
                        "number cell",
                        f"a number cell ({v}) where the "
                        "template takes text: Excel drops leading zeros and digits past the 15th",
                        "write identifiers as text cells (the XLSX writer does; check the "
                        "column's type in the profile)",
                    )
                )
            if isinstance(v, dt.datetime | dt.date):
                values.append(v.strftime("%Y-%m-%d"))
            elif isinstance(v, float) and kind in NUMERIC:
                values.append(repr(v))
            else:
                values.append(None if v is None else str(v))
        rows.append(values)
    book.close()
    return rows, found


def _compare(
    f: WrittenFile, header: list[str | None], body: list[list[str | None]], numeric: set[str]
) -> list[Finding]:
    """Cell by cell; in ``numeric`` columns (number cells of a workbook) equal amounts are equal values."""
    expected = f.intended.columns
    if header != expected:
        return [
            _finding(
                f,
                1,
                None,
                None,
                "header",
                f"the header row is {header[:8]}, the template's is {expected[:8]}",
                "the file and the template disagree; re-run with the profile",
            )
        ]
    found = []
    if len(body) != f.intended.height:
        found.append(
            _finding(
                f,
                None,
                None,
                None,
                "rows",
                f"{len(body)} rows read back, {f.intended.height} written",
                "a line break or quote inside a value split or joined rows",
            )
        )
    for i, (meant, got) in enumerate(zip(f.intended.iter_rows(), body, strict=False), start=2):
        if len(got) != len(expected):
            found.append(
                _finding(
                    f,
                    i,
                    None,
                    None,
                    "shifted",
                    f"{len(got)} cells where the template has {len(expected)}",
                    "a delimiter or quote inside a value shifted the columns",
                )
            )
            continue
        for j, column in enumerate(expected):
            want, have = meant[j], got[j]
            if (want or None) == have or (column in numeric and _equal_amounts(want, have)):
                continue
            rule, message, hint = difference(want, have, meant, j)
            found.append(_finding(f, i, column, have, rule, message, hint))
    return found


def difference(want: str | None, have: str | None, row: tuple, j: int) -> tuple[str, str, str]:
    """What kind of change turned ``want`` into ``have``, and what to do about it."""
    if want and have and (lost := _as_number(want, have)):
        return (
            AS_NUMBER,
            f"{want!r} came back as a number, {have!r} ({lost})",
            "the target stores the column as a number: make its field text there (phones, ids and codes "
            "are text), then import the records again",
        )
    if want and have and _same_number(want, have):
        return (
            "float",
            f"{want!r} came back as the number {have!r}",
            "write the column as text, or as a number only where its type is money or number",
        )
    if want and have and _FLOATISH.match(have) and re.fullmatch(r"\+?\d+[Xx]?", want):
        return ("float", f"{want!r} came back as a number, the float {have!r}", "identifiers must stay text")
    if want and have and want.startswith(have):
        return (
            "truncated",
            f"{want!r} came back cut to {len(have)} characters",
            "a length limit on the way; check the profile's max_length against the target",
        )
    if have is not None and have in [v for k, v in enumerate(row) if k != j and v]:
        return (
            "shifted",
            f"{have!r} is another column's value; {want!r} was meant here",
            "a delimiter inside a value shifted the columns",
        )
    dw, dh = _date(want), _date(have)
    if dw and dh and dw != dh:
        return (
            "date moved",
            f"the date {want} came back as {have}",
            "a time zone or date format on the way; write dates as the profile's format says",
        )
    if want and have and len(want) == len(have) and any(h in "?\ufffd" and w != h for w, h in zip(want, have)):
        lost = "".join(w for w, h in zip(want, have) if h in "?\ufffd" and w != h)
        return (
            "lost characters",
            f"{want!r} came back as {have!r} (lost: {lost})",
            "choose an encoding that holds every character (UTF-8 or GB18030)",
        )
    if want and have and len(have) < len(want):
        lost = "".join(sorted(set(want) - set(have)))
        return (
            "lost characters",
            f"{want!r} came back as {have!r} (lost: {lost})",
            "choose an encoding that holds every character (UTF-8 or GB18030)",
        )
    return ("changed", f"{want!r} came back as {have!r}", "compare the template's column with the profile")


def _as_number(want: str, have: str) -> str | None:
    """What text of digits lost when it came back as the whole number ``have``: a leading + (a phone),
    leading zeros (an area code, a code), a final X (an ID number); None when that is not what happened."""
    want, have = want.strip(), have.strip()
    if not have.isdigit() or have.startswith("0") and have != "0":
        return None
    if want.startswith("+") and want[1:] == have:
        return "the leading + is gone"
    if len(want) > len(have) and want.isdigit() and want.lstrip("0") == have.lstrip("0") and want.startswith("0"):
        return "the leading zeros are gone"
    if want[-1:] in "Xx" and want[:-1] == have:
        return "the final X is gone"
    return None


def _equal_amounts(want: str | None, have: str | None) -> bool:
    try:
        return want is not None and have is not None and Decimal(want) == Decimal(have)
    except InvalidOperation:
        return False


def _same_number(want: str, have: str) -> bool:
    try:
        return want != have and Decimal(want) == Decimal(have) and not re.fullmatch(r"[+\d]+", want)
    except InvalidOperation:
        return False


def _date(text: str | None) -> tuple[int, int, int] | None:
    m = _DATE.match(text or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
