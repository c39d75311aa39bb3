"""Import files as the target's profile says: CSV in its encoding and delimiter, or XLSX with text cells.

A file never holds more rows or bytes than the target accepts: an entity's rows are cut into
``01_accounts_001.csv``, ``01_accounts_002.csv``, ... (numbered even when one file is enough, so scripts
need no special case), and a part that comes out too large is halved until it fits. In XLSX every value
is a text cell except amounts and numbers, so Excel keeps an ID number's 18 digits and a code's leading
zeros; the identifier columns are formatted as text too, so a cell edited in Excel stays text. A text
that a spreadsheet would read as a formula gets the quote-prefix cell style, its value unchanged (in CSV
conform() has already put the apostrophe in front of it).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import NUMERIC, ColumnType, FileSpec
from crm_migrate.migrate.output_frames import write_csv
from crm_migrate.reports.formulas import QuotedCells
from crm_migrate.steps import step

TEXT_CELLS = (ColumnType.id, ColumnType.code, ColumnType.phone)


def file_stem(entity: Entity) -> str:
    return f"{entity.order:02d}_{entity.value}"


def write_import(
    frame: pl.DataFrame,
    types: dict[str, ColumnType],
    spec: FileSpec,
    folder: Path,
    entity: Entity,
    plain: frozenset[str] = frozenset(),
) -> list[tuple[Path, int]]:
    """Write one entity's rows in as many files as the target's limits need; return (path, rows) per file.
    ``plain``: the headers of phones and amounts, where a number is never taken for a formula."""
    folder.mkdir(parents=True, exist_ok=True)

    def fits(chunk: pl.DataFrame, number: int) -> bool:
        path = folder / f"{file_stem(entity)}_{number:03d}.{spec.format}"
        with step(f"Writing {folder.name}/{path.name}") as writing:
            _write(chunk, types, spec, path, plain)
            writing.finish(chunk.height)
            if spec.max_bytes and path.stat().st_size > spec.max_bytes and chunk.height > 1:
                writing.name += " (over the size limit: written again in two)"
                path.unlink()
                return False
        return True

    parts = split(frame, spec, fits)
    return [(folder / f"{file_stem(entity)}_{i:03d}.{spec.format}", part.height) for i, part in enumerate(parts, 1)]


def split(frame: pl.DataFrame, spec: FileSpec, fits) -> list[pl.DataFrame]:
    """The rows of each file: cut at the row limit, and a part that ``fits(part, number)`` refuses halved."""
    chunks = _by_rows(frame, spec.max_rows) if frame.height else [frame]
    out: list[pl.DataFrame] = []
    while chunks:
        chunk = chunks.pop(0)
        if not fits(chunk, len(out) + 1):
            half = chunk.height // 2
            chunks[:0] = [chunk.head(half), chunk.tail(chunk.height - half)]
            continue
        out.append(chunk)
    return out


def planned_files(frame: pl.DataFrame, spec: FileSpec, entity: Entity) -> list[tuple[str, int]]:
    """The files ``run`` will write for these rows, without writing: the row limit exactly, the size limit
    exactly for CSV (the bytes are rendered in memory), not at all for XLSX (its size is known once written)."""

    def fits(chunk: pl.DataFrame, number: int) -> bool:
        if not spec.max_bytes or spec.format != "csv" or chunk.height <= 1:
            return True
        text = chunk.write_csv(None, separator=spec.delimiter, line_terminator="\r\n")
        return len(text.encode(spec.codec)) <= spec.max_bytes

    return [
        (f"import/{file_stem(entity)}_{i:03d}.{spec.format}", part.height)
        for i, part in enumerate(split(frame, spec, fits), 1)
    ]


def _by_rows(frame: pl.DataFrame, max_rows: int | None) -> list[pl.DataFrame]:
    size = max_rows or frame.height
    return [frame.slice(i, size) for i in range(0, frame.height, size)]


def _write(
    frame: pl.DataFrame, types: dict[str, ColumnType], spec: FileSpec, path: Path, plain: frozenset[str] = frozenset()
) -> None:
    if spec.format == "xlsx":
        _write_xlsx(frame, types, path, plain)
    else:  # conform() refused what the encoding cannot hold, and put the apostrophe before formulas
        write_csv(frame, path, spec.codec, spec.delimiter, neutralise=False)


def _write_xlsx(
    frame: pl.DataFrame, types: dict[str, ColumnType], path: Path, plain: frozenset[str] = frozenset()
) -> None:
    import xlsxwriter

    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        sheet = book.add_worksheet("data")
        cells = QuotedCells(book)
        text = book.add_format({"num_format": "@"})
        for j, header in enumerate(frame.columns):
            cells.write(sheet, 0, j, header, {"bold": True})
            kind = types.get(header, ColumnType.text)
            if kind in TEXT_CELLS:
                sheet.set_column(j, j, 20, text)
        numeric = [types.get(h) in NUMERIC for h in frame.columns]
        # a quoted cell keeps its column's text format: the style replaces the column's
        style = [{"num_format": "@"} if types.get(h, ColumnType.text) in TEXT_CELLS else None for h in frame.columns]
        kept = [h in plain or types.get(h) in (ColumnType.phone, *NUMERIC) for h in frame.columns]
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                number = _number(value) if numeric[j] else None
                if number is not None:
                    sheet.write_number(i, j, number)
                else:
                    cells.write(sheet, i, j, value, style[j], kept[j])


def _number(text: str) -> float | None:
    """An amount as a number cell only when a float holds it exactly (15 significant digits)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return float(value) if len(value.as_tuple().digits) <= 15 and Decimal(repr(float(value))) == value else None
