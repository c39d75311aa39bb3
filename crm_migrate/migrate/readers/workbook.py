"""Workbooks (xlsx, xlsm, xls, xlsb, ods) through calamine, every cell turned into the text Excel shows.

Cells are read from A1 (not from the first used cell), so row numbers are the ones Excel shows. A number
cell is written without a spurious ``.0``; one that holds more than 15 significant digits (an 18-digit ID
typed into a number cell) is reported, because Excel kept only 15 of them and the rest cannot be recovered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from crm_migrate.errors import Problem, SourceError
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


def read_workbook(file: Path, shown: str, *, sheets: list[str] | str = "all", header_row: int | str = "auto",
                  wanted: set[str] | None = None, header_only: bool = False) -> SourceTable:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(file))
    except Exception as exc:  # calamine raises its own types for damaged or encrypted files
        raise SourceError(Problem(shown, f"cannot open the workbook: {exc}",
                                  hint="open it in Excel and save it again as .xlsx; remove any password")) from None
    names = book.sheet_names
    chosen = names if sheets == "all" else list(sheets)
    missing = [s for s in chosen if s not in names]
    if missing:
        from crm_migrate.errors import did_you_mean

        raise SourceError([Problem(shown, f"no sheet {s!r} in the workbook (it has {', '.join(names)})",
                                   hint=did_you_mean(s, names)) for s in missing])
    table = SourceTable(rows_to_frame([], []), file.suffix.lower().lstrip("."), sheets=[])
    records: list[tuple[str, int, list[str]]] = []
    all_names: list[str] = []
    for sheet_name in chosen:
        sheet = book.get_sheet_by_name(sheet_name)
        if header_only:
            raw = _first_rows(sheet, HEADER_SEARCH_ROWS)
        else:
            raw = sheet.to_python(skip_empty_area=False)
        if not any(any(c not in (None, "") for c in r) for r in raw):
            table.empty_sheets.append(sheet_name)
            continue
        text_rows = [[cell_text(c) for c in r] for r in raw]
        h = find_header(text_rows, wanted or set()) if header_row == "auto" else int(header_row) - 1
        if h >= len(text_rows):
            raise SourceError(Problem(shown, f"header row {h + 1} is past the end of the sheet", sheet=sheet_name,
                                      hint="fix read.header_row in the mapping file"))
        columns, warnings = name_columns(text_rows[h], shown, sheet_name, h + 1)
        table.sheets.append(sheet_name)
        table.header_rows[sheet_name] = h + 1
        table.headers[sheet_name] = columns
        table.warnings += warnings
        all_names += [c for c in columns if c not in all_names]
        if header_only:
            continue
        for i in range(h + 1, len(raw)):
            cells = text_rows[i]
            if not any(c.strip() for c in cells):
                table.blank_rows += 1
                continue
            if len(cells) > len(columns) and (p := extra_cells_problem(shown, sheet_name, i + 1, cells, len(columns))):
                table.warnings.append(p)
            table.warnings += _lost_digits(raw[i], columns, shown, sheet_name, i + 1)
            # Cells are placed by this sheet's own header, so sheets with other column orders line up.
            records.append((sheet_name, i + 1, _by_name(cells, columns, all_names)))
    table.frame = rows_to_frame(records, all_names)
    return table


def _by_name(cells: list[str], columns: list[str], all_names: list[str]) -> list[str]:
    out = [""] * len(all_names)
    for name, value in zip(columns, cells):
        out[all_names.index(name)] = value
    return out


def _first_rows(sheet: object, n: int) -> list[list[object]]:
    rows: list[list[object]] = []
    start_row, start_col = sheet.start or (0, 0)  # iter_rows begins at the first used cell
    rows += [[] for _ in range(start_row)]
    for row in sheet.iter_rows():
        rows.append([""] * start_col + list(row))
        if len(rows) >= n:
            break
    return rows


def _lost_digits(raw: list[object], columns: list[str], shown: str, sheet: str, row: int) -> list[Problem]:
    out = []
    for i, value in enumerate(raw[:len(columns)]):
        if isinstance(value, float) and value.is_integer() and abs(value) >= MAX_EXACT:
            out.append(Problem(shown, f"{columns[i]!r} holds {cell_text(value)} as a number: Excel keeps only 15 "
                               "significant digits, so the last digits are lost", line=row, sheet=sheet,
                               column=column_letter(i), severity="warning",
                               hint="take this value from the system it came from; format the column as Text "
                                    "before typing such numbers"))
    return out
