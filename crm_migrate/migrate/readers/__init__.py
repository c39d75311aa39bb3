"""Readers: one per kind of file, each returning a `SourceTable` of text exactly as the file holds it."""

from __future__ import annotations

import csv
from pathlib import Path

from crm_migrate.errors import Problem, SourceError, unreadable
from crm_migrate.migrate.readers.table import ROW, SHEET, SourceTable
from crm_migrate.migrate.readers.text import DEFAULT_MAX_CELL_BYTES as DEFAULT_MAX_CELL_BYTES
from crm_migrate.migrate.readers.text import read_csv
from crm_migrate.migrate.readers.vcard import read_vcard
from crm_migrate.migrate.readers.workbook import WORKBOOK_SUFFIXES, read_workbook
from crm_migrate.project import Source

__all__ = ["ROW", "SHEET", "SourceTable", "read_source"]

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}

# The csv module refuses a field over 128 KiB with an exception that ended init and run as internal errors.
# The whole file is in memory already, so a long field costs nothing more; how large a cell may be is the
# project's limit (options.limits.cell_bytes), applied to the row that holds it.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


def read_source(source: Source, *, header_only: bool = False, max_cell_bytes: int | None = None) -> SourceTable:
    """Read a source file as its mapping says; ``header_only`` reads no more than the header search needs.
    ``max_cell_bytes`` is the project's options.limits.cell_bytes (a row with a larger cell is rejected)."""
    shown = source.shown_file
    opts = source.mapping.read
    wanted = {c for plan in source.entities for f in plan.fields for c in f.inputs}
    suffix = source.file.suffix.lower()
    try:
        if suffix in WORKBOOK_SUFFIXES:
            return read_workbook(
                source.file,
                shown,
                sheets=opts.sheets,
                header_row=opts.header_row,
                wanted=wanted,
                header_only=header_only,
                limits=source.limits,
            )
        if suffix == ".vcf":
            return read_vcard(source.file, shown, encoding=opts.encoding, header_only=header_only, limits=source.limits)
        if suffix in TEXT_SUFFIXES:
            return read_csv(
                source.file,
                shown,
                encoding=opts.encoding,
                delimiter=opts.delimiter,
                header_row=opts.header_row,
                wanted=wanted,
                header_only=header_only,
                errors=opts.errors,
                max_cell_bytes=max_cell_bytes or source.limits.cell_bytes,
            )
    except OSError as exc:
        raise SourceError(unreadable(shown, exc)) from None
    raise SourceError(
        Problem(
            source.mapping_path,
            f"{source.rel_file}: files ending in {suffix or '(nothing)'} cannot be read",
            line=source.doc.line_of(("file",)),
            hint="save it as .csv, .xlsx or .vcf",
        )
    )


def read_path(file: Path) -> SourceTable:
    """A file read with everything detected (encoding, delimiter, header row, sheets), as ``init`` needs."""
    suffix = file.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(file, str(file))
    if suffix == ".vcf":
        return read_vcard(file, str(file))
    if suffix in TEXT_SUFFIXES:
        return read_csv(file, str(file))
    raise SourceError(
        Problem(
            str(file), f"files ending in {suffix or '(nothing)'} cannot be read", hint="save it as .csv, .xlsx or .vcf"
        )
    )
