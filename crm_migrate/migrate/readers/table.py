"""What every reader returns, and the header search that CSV files and workbooks share.

A reader turns a file into rows of text exactly as the file holds them, each row tagged with the sheet and
the row number a person sees when opening the file (Excel's row number; for a vCard, the line the card
starts on). Nothing is typed, trimmed or dropped here except wholly blank rows, which are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from crm_migrate.errors import Problem

SHEET = "_sheet"
ROW = "_row"
HEADER_SEARCH_ROWS = 30


@dataclass
class SourceTable:
    """The rows of one source file, every value a string (or null for an empty cell)."""

    frame: pl.DataFrame  # _sheet, _row, then the source's columns
    format: str  # csv, xlsx, xls, vcf, ...
    encoding: str | None = None
    delimiter: str | None = None
    sheets: list[str] = field(default_factory=list)  # sheets read
    empty_sheets: list[str] = field(default_factory=list)  # chosen sheets that hold nothing
    header_rows: dict[str, int] = field(default_factory=dict)  # sheet ("" for a CSV) -> Excel row number
    headers: dict[str, list[str]] = field(default_factory=dict)  # sheet -> its columns
    blank_rows: int = 0
    warnings: list[Problem] = field(default_factory=list)
    non_records: pl.Series | None = None  # per row, why it is not a record (migrate.rows computes it once)
    # (sheet, row) -> why the reader could not take the row as it is (a cell over the size limit): every
    # entity of the source rejects it with this reason, so it is accounted for and nothing else reads it.
    rejected_rows: dict[tuple[str | None, int], str] = field(default_factory=dict)
    records: int | None = None  # rows the reader yielded, before any sampling
    counted: int | None = None  # the same, counted independently from the file's lines (text files)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in (SHEET, ROW)]


def find_header(rows: list[list[str]], wanted: set[str]) -> int:
    """Index of the header row among the first rows: below title rows and merged banners.

    With the mapped column names known, the header is the row that holds most of them. Otherwise it is the
    first row filled across most of the table's width with distinct labels, which a title row (one cell,
    or one merged banner) never is.
    """
    head = rows[:HEADER_SEARCH_ROWS]
    if wanted:
        hits = [len(wanted.intersection(c.strip() for c in r)) for r in head]
        if hits and max(hits) > 0:
            return hits.index(max(hits))
    filled = [[c for c in r if c.strip()] for r in head]
    widest = max((len(f) for f in filled), default=0)
    for i, cells in enumerate(filled):
        if (
            len(cells) >= max(1, (widest * 6 + 9) // 10)
            and len(set(cells)) == len(cells)
            and not all(_looks_numeric(c) for c in cells)
        ):
            return i
    return 0


def _looks_numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("-", "", 1).strip().isdigit()


def name_columns(header: list[str], path: str, sheet: str | None, header_row: int) -> tuple[list[str], list[Problem]]:
    """Column names from a header row: blanks named by their letter, repeats numbered, both reported."""
    names: list[str] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}  # name -> its column: a wide header is named in linear time
    for i, raw in enumerate(header):
        name = raw.strip()
        if not name:
            name = f"({column_letter(i)})"
        if name in seen:
            first = seen[name]
            n = 2
            while f"{name}.{n}" in seen:
                n += 1
            problems.append(
                Problem(
                    path,
                    f"column {column_letter(i)} repeats the header {name!r} of column "
                    f"{column_letter(first)}; it is read as {name + '.' + str(n)!r}",
                    line=header_row,
                    sheet=sheet,
                    severity="warning",
                    hint="rename one of them in the file, or map the numbered name",
                )
            )
            name = f"{name}.{n}"
        seen[name] = i
        names.append(name)
    return names, problems


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as Excel names columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def rows_to_frame(records: Sequence[tuple[str | None, int, list[str]]], names: list[str]) -> pl.DataFrame:
    """Build the text frame from (sheet, row, cells); short rows are padded, empty cells become null."""
    width = len(names)
    padded = [cells if len(cells) == width else (list(cells) + [""] * width)[:width] for _, _, cells in records]
    data = {
        SHEET: pl.Series(SHEET, [s for s, _, _ in records], dtype=pl.String),
        ROW: pl.Series(ROW, [r for _, r, _ in records], dtype=pl.Int64),
    }
    if width and SHEET not in names and ROW not in names:
        # the cells row by row, as polars takes them (a transpose into columns in Python costs more than this)
        cells = pl.DataFrame(padded, schema={n: pl.String for n in names}, orient="row")
        frame = pl.DataFrame(data).hstack(cells.get_columns())
    else:
        columns = list(zip(*padded)) if padded and width else [() for _ in range(width)]
        for name, values in zip(names, columns):
            data[name] = pl.Series(name, values, dtype=pl.String)
        frame = pl.DataFrame(data)
    return frame.with_columns(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names) if names else frame


def extra_cells_problem(path: str, sheet: str | None, row: int, cells: list[str], width: int) -> Problem | None:
    """A data row with values beyond the header's last column: those values have no column to go to."""
    extra = [c for c in cells[width:] if c.strip()]
    if not extra:
        return None
    return Problem(
        path,
        f"{len(extra)} value(s) beyond the last header column (first: {extra[0][:30]!r})",
        line=row,
        sheet=sheet,
        column=column_letter(width),
        hint="a delimiter or quote inside a value may have split it; check this row in the file",
    )
