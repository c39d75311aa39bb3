"""Workbooks (xlsx, xlsm, xls, xlsb, ods) through calamine, every cell turned into the text Excel shows.

Cells are read from A1 (not from the first used cell), so row numbers are the ones Excel shows. A number
cell is written without a spurious ``.0``; one that holds more than 15 significant digits (an 18-digit ID
typed into a number cell) is reported, because Excel kept only 15 of them and the rest cannot be recovered.

Before calamine sees a workbook, `inspect.check_workbook` refuses one whose sheets or unpacked parts are
larger than the project's limits; a sheet calamine has built is checked again before its cells become
Python values. A cell over ``limits.cell_bytes`` rejects its row with the reason (the cell is kept only as
a short preview), so one absurd value costs neither memory downstream nor the other rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from crm_migrate.errors import Problem, SourceError
from crm_migrate.mappings.models import Limits
from crm_migrate.migrate.readers.inspect import check_workbook
from crm_migrate.migrate.readers.table import (
    HEADER_SEARCH_ROWS,
    SourceTable,
    column_letter,
    extra_cells_problem,
    find_header,
    name_columns,
    rows_to_frame,
)

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
MAX_EXACT = 10**15  # Excel's 15 significant digits


def cell_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_EXACT:
            return str(int(value))
        if value.is_integer() and abs(value) < 1e21:
            # What Excel shows in a number format: 15 significant digits, then zeros. The binary value's
            # further digits were never typed by anyone, so they are not invented here.
            return str(int(Decimal(format(value, ".15g"))))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def oversized(cells: list[str], limit: int) -> list[tuple[int, int]]:
    """(index, size in bytes) of the cells over ``limit`` bytes of UTF-8 (a character is at most 4 bytes, so
    only long cells are encoded to be measured)."""
    out = []
    for i, c in enumerate(cells):
        if len(c) * 4 > limit and (size := len(c.encode("utf-8", "surrogatepass"))) > limit:
            out.append((i, size))
    return out


def preview(text: str) -> str:
    return text[:40] + "…"


def big_cell_reason(column: str, size: int, limit: int) -> str:
    return (
        f"unreadable row: cell {column} holds {size:,} bytes, more than options.limits.cell_bytes "
        f"({limit:,}); only its first 40 characters are kept"
    )


def read_workbook(
    file: Path,
    shown: str,
    *,
    sheets: list[str] | str = "all",
    header_row: int | str = "auto",
    wanted: set[str] | None = None,
    header_only: bool = False,
    limits: Limits | None = None,
) -> SourceTable:
    from python_calamine import CalamineWorkbook

    limits = limits or Limits()
    check_workbook(file, shown, limits, sheets)
    try:
        book = CalamineWorkbook.from_path(str(file))
    except Exception as exc:  # calamine raises its own types for damaged or encrypted files
        raise SourceError(
            Problem(
                shown,
                f"cannot open the workbook: {exc}",
                hint="open it in Excel and save it again as .xlsx; remove any password",
            )
        ) from None
    names = book.sheet_names
    chosen = names if sheets == "all" else list(sheets)
    missing = [s for s in chosen if s not in names]
    if missing:
        from crm_migrate.errors import did_you_mean

        raise SourceError(
            [
                Problem(
                    shown, f"no sheet {s!r} in the workbook (it has {', '.join(names)})", hint=did_you_mean(s, names)
                )
                for s in missing
            ]
        )
    table = SourceTable(rows_to_frame([], []), file.suffix.lower().lstrip("."), sheets=[])
    records: list[tuple[str, int, list[str]]] = []
    all_names: list[str] = []
    for sheet_name in chosen:
        try:
            sheet = book.get_sheet_by_name(sheet_name)
        except Exception as exc:  # calamine's own error types for a damaged sheet
            raise SourceError(
                Problem(
                    shown,
                    f"cannot read the sheet: {exc}",
                    sheet=sheet_name,
                    hint="open it in Excel and save it again as .xlsx",
                )
            ) from None
        end_row, end_col = sheet.end or (0, 0)
        if (end_row + 1) * (end_col + 1) > limits.sheet_cells:
            raise SourceError(
                Problem(
                    shown,
                    f"sheet {sheet_name!r} holds data as far as row {end_row + 1:,} and "
                    f"column {column_letter(end_col)} ({(end_row + 1) * (end_col + 1):,} cells "
                    f"from A1), more than options.limits.sheet_cells ({limits.sheet_cells:,})",
                    sheet=sheet_name,
                    hint="delete the rows and columns beyond the data in "
                    "Excel and save it again, or raise the limit in migration.yaml",
                )
            )
        if header_only:
            raw = _first_rows(sheet, HEADER_SEARCH_ROWS)
        else:
            raw = sheet.to_python(skip_empty_area=False)
        if not any(any(c not in (None, "") for c in r) for r in raw):
            table.empty_sheets.append(sheet_name)
            continue
        # a text cell is its own text: cell_text only for the others
        text_rows = [[c if c.__class__ is str else cell_text(c) for c in r] for r in raw]
        h = find_header(text_rows, wanted or set()) if header_row == "auto" else int(header_row) - 1
        if h >= len(text_rows):
            raise SourceError(
                Problem(
                    shown,
                    f"header row {h + 1} is past the end of the sheet",
                    sheet=sheet_name,
                    hint="fix read.header_row in the mapping file",
                )
            )
        if big := oversized(text_rows[h], limits.cell_bytes):
            i, size = big[0]
            raise SourceError(
                Problem(
                    shown,
                    f"header cell {column_letter(i)}{h + 1} holds {size:,} bytes, more than "
                    f"options.limits.cell_bytes ({limits.cell_bytes:,})",
                    line=h + 1,
                    sheet=sheet_name,
                    hint="check that this is the right file and header row",
                )
            )
        columns, warnings = name_columns(text_rows[h], shown, sheet_name, h + 1)
        table.sheets.append(sheet_name)
        table.header_rows[sheet_name] = h + 1
        table.headers[sheet_name] = columns
        table.warnings += warnings
        all_names += [c for c in columns if c not in all_names]
        if header_only:
            continue
        place = _placing(columns, all_names)
        for i in range(h + 1, len(raw)):
            cells = text_rows[i]
            # (a row whose longest cell cannot pass the limit needs no cell measured)
            if cells and max(map(len, cells)) * 4 > limits.cell_bytes and (big := oversized(cells, limits.cell_bytes)):
                for j, _ in big:
                    cells[j] = preview(cells[j])
                table.rejected_rows[(sheet_name, i + 1)] = big_cell_reason(
                    f"{column_letter(big[0][0])}{i + 1}", big[0][1], limits.cell_bytes
                )
                records.append((sheet_name, i + 1, place(cells)))
                continue
            if not "".join(cells).strip():  # nothing but spaces in every cell
                table.blank_rows += 1
                continue
            if len(cells) > len(columns) and (p := extra_cells_problem(shown, sheet_name, i + 1, cells, len(columns))):
                table.warnings.append(p)
            if _has_lost_digits(raw[i], len(columns)):
                table.warnings += _lost_digits(raw[i], columns, shown, sheet_name, i + 1)
            # Cells are placed by this sheet's own header, so sheets with other column orders line up.
            records.append((sheet_name, i + 1, place(cells)))
    if not table.sheets:
        raise SourceError(
            Problem(
                shown,
                f"the workbook holds no data: every sheet read ({', '.join(chosen) or 'none'}) is empty",
                hint="check that this is the right file, or choose the sheets with read.sheets in the mapping file",
            )
        )
    table.frame = rows_to_frame(records, all_names)
    return table


def _placing(columns: list[str], all_names: list[str]):
    """A function placing a row's cells, in the order of this sheet's header ``columns``, at their columns'
    places among ``all_names`` (empty where the sheet has no such column)."""
    at = [all_names.index(name) for name in columns]
    width, n = len(all_names), len(columns)
    if at == list(range(n)):  # the sheet's columns come first, in its order: the row as it is, cut or padded

        def as_it_is(cells: list[str]) -> list[str]:
            out = cells[:n]
            out += [""] * (width - len(out))
            return out

        return as_it_is

    def place(cells: list[str]) -> list[str]:
        out = [""] * width
        for i, value in zip(at, cells):
            out[i] = value
        return out

    return place


def _has_lost_digits(raw: list[object], n: int) -> bool:
    """Whether one of the first ``n`` cells is a number of more than 15 significant digits (`_lost_digits`)."""
    return any(isinstance(v, float) and v.is_integer() and abs(v) >= MAX_EXACT for v in raw[:n])


def _first_rows(sheet: Any, n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    start_row, start_col = sheet.start or (0, 0)  # iter_rows begins at the first used cell
    rows += [[] for _ in range(start_row)]
    for row in sheet.iter_rows():
        rows.append([""] * start_col + list(row))
        if len(rows) >= n:
            break
    return rows


def _lost_digits(raw: list[object], columns: list[str], shown: str, sheet: str, row: int) -> list[Problem]:
    out = []
    for i, value in enumerate(raw[: len(columns)]):
        if isinstance(value, float) and value.is_integer() and abs(value) >= MAX_EXACT:
            out.append(
                Problem(
                    shown,
                    f"{columns[i]!r} holds {cell_text(value)} as a number: Excel keeps only 15 "
                    "significant digits, so the last digits are lost",
                    line=row,
                    sheet=sheet,
                    column=column_letter(i),
                    severity="warning",
                    hint="take this value from the system it came from; format the column as Text "
                    "before typing such numbers",
                )
            )
    return out
