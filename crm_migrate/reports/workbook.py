"""The review workbook, ``review/duplicates.xlsx``, written from the sheets `crm_migrate.migrate.review`
builds: a Summary sheet, a how-to sheet and one sheet per entity with duplicates, its columns fitted to their
content, numbers stored as numbers, probabilities coloured by band, and print setup (landscape, one page
wide, the header row on every page). xlsxwriter is handed the cells row by row, streamed to disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from crm_migrate.mappings.entities import FieldSpec
from crm_migrate.reports.formulas import PLAIN_FIELDS, QuotedCells, risky

FULL_LIST = "review/duplicate_groups.csv"  # every group, listed in the workbook or not

HOW_TO = """\
How to use this workbook
The Summary sheet counts, per entity, the groups, those to review, those merged and those decided, the decisions not applied (stale) and the groups left out.
Each entity's sheet lists its duplicate groups, each record in one group only. A group is a merge the tool made ('merge'), a record with the records it was not sure about ('review': its own record first, then each 'candidate'), or a group where the steward's decisions were applied ('decided').
Every member record is one row, with its values as they were read; cells where the members of a group differ are highlighted. The 'golden' row is the record the tool proposes to write.
'probability' and 'evidence' say why: each compared field, how it agreed, and the weight (in bits) it added to or took from the score. Green: merged; yellow: for review; red: below review.
Decide in the 'decision' column (drop-down):
  merge       - this row belongs with its group's record (the group's first row, or the next one where that one is kept apart or moved); every row marked 'merge' joins it
  keep apart  - this row is a record of its own; it will not be merged with the other rows of the group
  merge into  - move this row, alone, into the record written in the 'into' column (copy that record's 'record' cell); the rest of its group stays as it is
Leave the decision empty to accept what the tool proposes.
Save the workbook outside the out/ folder (the next run replaces out/), then run:
  crm-migrate run PROJECT --decisions path/to/duplicates.xlsx
or name the file under 'decisions:' in migration.yaml. The next workbook shows each decision applied again, in its 'decided' group, so it can be given back as it is and filled in over several sessions.
Decisions are tied to source rows (the 'record' column), not to group numbers, so they survive re-runs and new data. A decision whose row has changed or gone is reported in review/stale_decisions.csv and not applied.
Sensitive values (ID numbers) are masked here.
"""




@dataclass
class ReviewSheet:
    """One entity's part of the workbook, as plain data: its groups in workbook order (``keys``: per group
    its number, ``kind`` and pairs, the first ``listed`` of them on the sheet), the steward's decisions that
    no longer apply, and the rows the sheet shows (members and golden rows, values masked) with the fields
    they hold and the thresholds that colour the probabilities. Without ``rows`` (no group, only stale
    decisions) the entity has a line on the Summary sheet and no sheet of its own."""

    entity: str
    keys: pl.DataFrame
    listed: int
    stale: int
    rows: pl.DataFrame | None = None
    fields: list[FieldSpec] = field(default_factory=list)
    merge: float = 0.95
    review: float = 0.60

    def count(self, kind: str, listed: bool) -> int:
        """The groups of ``kind`` listed on the sheet, or left out of it."""
        part = self.keys.head(self.listed) if listed else self.keys.slice(self.listed)
        return int((part["kind"] == kind).sum())


def write_workbook(path: Path, sheets: Iterable[ReviewSheet], max_rows: int, choices: Sequence[str]) -> int:
    """Write review/duplicates.xlsx: the Summary sheet, how to use it, and a sheet per entity with groups,
    whose decision column offers ``choices``; ``max_rows`` is the limit the Summary says groups were left out
    by. ``sheets`` may be a generator: each entity's rows are written before the next one's are made.
    Return the number of groups listed."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    # constant_memory: each row goes to disk once the next one starts, so a sheet costs no more than a row
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "constant_memory": True})
    # Every text a spreadsheet would take for a formula gets the quote-prefix style, its value unchanged.
    cells = QuotedCells(book)
    summary = book.add_worksheet(SUMMARY)
    how = book.add_worksheet("How to use")
    for i, line in enumerate(HOW_TO.splitlines()):
        cells.write(how, i, 0, line)
    how.set_column(0, 0, 140)
    _print_setup(how, repeat=False)
    total, counts = 0, []
    for sheet in sheets:
        if sheet.rows is not None:
            _write_sheet(book, cells, sheet, choices)
            total += sheet.listed
        counts.append(replace(sheet, rows=None))  # the Summary needs the counts only
    _write_summary(summary, cells, counts, max_rows)
    book.close()
    return total


SUMMARY = "Summary"
_HEADER = {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
_SUMMARY_COLUMNS = ("entity", "groups", "to review", "review pairs", "merged", "decided", "stale decisions",
                    "listed", "left out")


def _write_summary(sheet, cells: QuotedCells, counts: list[ReviewSheet], max_rows: int) -> None:
    """Per entity the groups, those to review (and their pairs), merged and decided, the stale decisions and
    how many groups are listed and left out; then per entity a line saying where the full list is."""
    for c, name in enumerate(_SUMMARY_COLUMNS):
        cells.write(sheet, 0, c, name, _HEADER)
    for r, found in enumerate(counts, start=1):
        entity, stale, keys = found.entity, found.stale, found.keys
        figures = [keys.height, found.count("review", True) + found.count("review", False),
                   int(keys.filter(pl.col("kind") == "review")["_pairs"].sum()),
                   found.count("merge", True) + found.count("merge", False), found.count("decided", True), stale,
                   found.listed, keys.height - found.listed]
        cells.write(sheet, r, 0, entity)
        for c, n in enumerate(figures, start=1):
            sheet.write_number(r, c, n)
    line = len(counts) + 2
    for found in counts:
        entity, stale = found.entity, found.stale
        listed = (found.count("merge", True), found.count("review", True), found.count("decided", True))
        left = (found.count("merge", False), found.count("review", False))
        text = (f"{entity}: {_counted(listed[1], 'review pair')}, {_counted(listed[0], 'merged group')} and "
                f"{_counted(listed[2], 'decided group')} listed")
        if sum(left):
            text += (f"; {_counted(left[1], 'review pair')} and {_counted(left[0], 'merged group')} left out (the "
                     f"sheet holds at most {max_rows:,} rows besides the decided groups: options.review.max_rows; "
                     "the most certain merges are left out first)")
        if stale:
            text += f"; {_counted(stale, 'decision')} not applied, listed in review/stale_decisions.csv"
        cells.write(sheet, line, 0, f"{text}. All groups: {FULL_LIST}.")
        line += 1
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, len(_SUMMARY_COLUMNS) - 1, 10)
    _print_setup(sheet, repeat=False)


def _print_setup(sheet, repeat: bool = True) -> None:
    """Landscape A4, as wide as one page, the header row on every page."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    if repeat:
        sheet.repeat_rows(0)


def _write_sheet(book, cells: QuotedCells, entity: ReviewSheet, choices: Sequence[str]) -> None:
    fields, rows = entity.fields, entity.rows
    sheet = book.add_worksheet(entity.entity)
    columns = [*_SHOWN, *(s.name for s in fields), "members", "fingerprint"]
    for c, name in enumerate(columns):
        cells.write(sheet, 0, c, name, _HEADER)
    first_field = len(_SHOWN)
    r, widths = _write_rows(sheet, cells, rows, fields, first_field, len(columns) - 2)
    last = max(r, 1)
    decision = columns.index("decision")
    if r:
        sheet.data_validation(1, decision, r, decision, {"validate": "list", "source": list(choices)})
        _bands(book, sheet, columns.index("probability"), r, entity.merge, entity.review)
    sheet.freeze_panes(1, 4)
    sheet.autofilter(0, 0, last, len(columns) - 1)
    for c, name in enumerate(columns[:-2]):
        sheet.set_column(c, c, _width(name, widths.get(c, 0)))
    sheet.set_column(len(columns) - 2, len(columns) - 1, None, None, {"hidden": True})
    _print_setup(sheet)


_WIDEST = {"evidence": 80}  # characters; any other column at most 40
_NARROW = {"group": 7, "probability": 11}  # numbers: the width of the header and the figure


def _width(name: str, content: int) -> float:
    """A column's width in characters: its widest cell or its header (an autofilter button beside it), capped."""
    if name in _NARROW:
        return _NARROW[name]
    return min(max(content, len(name) + 3), _WIDEST.get(name, 40)) + 1


def _bands(book, sheet, column: int, last: int, merge: float, review: float) -> None:
    """Colour the probability cells by band: merged (at or above ``merge``), for review, below review."""
    cell = f"{xl_col_to_name(column)}2"
    for test, colour in ((f"{cell}>={merge}", "#C6EFCE"), (f"AND({cell}>={review},{cell}<{merge})", "#FFEB9C"),
                         (f"{cell}<{review}", "#FFC7CE")):
        sheet.conditional_format(1, column, last, column, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({cell}),{test})",
            "format": book.add_format({"bg_color": colour})})


def _counted(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


_DIFFERS = {"bg_color": "#FFF2B3"}
_GOLDEN = {"bold": True, "bg_color": "#E2F0D9"}
_SHOWN = ("entity", "group", "kind", "record", "role", "probability", "evidence", "decision", "into")
_NUMBERS = {"group": "0", "probability": "0.0000"}
_ON_GOLDEN = ("entity", "group", "kind", "role")  # and the fields: the golden row's other cells stay empty


def _display_width(column: str) -> pl.Expr:
    """A text's width in characters as a spreadsheet shows it: a CJK character (3 bytes in UTF-8) is two."""
    value = pl.col(column)
    return (value.str.len_chars() + (value.str.len_bytes() - value.str.len_chars()) // 2).max()


def _write_rows(sheet, cells: QuotedCells, rows: pl.DataFrame, fields, first_field: int, first_hidden: int
                ) -> tuple[int, dict[int, int]]:
    """Write the rows of `sheet_frame` below the header; return how many and the widest text per column.
    Per cell, the text to write (None: no cell) and its style are worked out over whole columns (a
    formula's quote prefix by `risky`, the same test `QuotedCells` makes); the numbers (group, probability)
    are written as numbers; the loop only hands them to xlsxwriter."""
    golden = pl.col("role") == "golden"
    texts, codes, at = [], [], []
    numbers, number_at = [], []
    for c, name in enumerate(_SHOWN):
        on = ~golden if name not in _ON_GOLDEN else pl.lit(True)
        if name in _NUMBERS:
            numbers.append(pl.when(on).then(pl.col(name).cast(pl.Float64)))
            number_at.append(c)
            continue
        texts.append(pl.when(on).then(pl.col(name).fill_null("")))
        codes.append(risky(name).cast(pl.Int8) + 2 * golden.cast(pl.Int8))
        at.append(c)
    for c, spec in enumerate(fields):
        value = pl.col(spec.name).fill_null("")
        texts.append(value)
        codes.append(risky(spec.name, spec.type in PLAIN_FIELDS).cast(pl.Int8) + 2 * golden.cast(pl.Int8)
                     + 4 * pl.col(f"_d:{spec.name}").fill_null(False).cast(pl.Int8))
        at.append(first_field + c)
    for c, name in enumerate(("members", "fingerprint")):
        texts.append(pl.when(~golden).then(pl.col(name).fill_null("")))
        codes.append(risky(name).cast(pl.Int8))
        at.append(first_hidden + c)
    m, k = len(at), len(number_at)
    # An empty text without a style is no cell at all.
    frame = rows.select([t.alias(f"t{i}") for i, t in enumerate(texts)] + [c.alias(f"c{i}") for i, c in enumerate(codes)]
                        + [n.alias(f"n{i}") for i, n in enumerate(numbers)] + [golden.alias("_golden")])
    frame = frame.with_columns([pl.when((pl.col(f"t{i}") == "") & (pl.col(f"c{i}") == 0)).then(None)
                                .otherwise(pl.col(f"t{i}")).alias(f"t{i}") for i in range(m)])
    widths = dict(zip(at, frame.select([_display_width(f"t{i}").fill_null(0) for i in range(m)]).row(0), strict=True)) \
        if frame.height else {}
    styles = []
    for code in range(8):
        props = {**(_GOLDEN if code & 2 else {}), **(_DIFFERS if code & 4 and not code & 2 else {})}
        styles.append(cells.format(props or None, bool(code & 1)))
    formats = [(cells.format({"num_format": _NUMBERS[_SHOWN[c]]}), cells.format({**_GOLDEN, "num_format": _NUMBERS[_SHOWN[c]]}))
               for c in number_at]
    write, number = sheet.write_string, sheet.write_number
    r = 0
    for r, row in enumerate(frame.iter_rows(), start=1):
        for i in range(m):
            text = row[i]
            if text is not None:
                write(r, at[i], text, styles[row[m + i]])
        gold = row[-1]
        for j in range(k):
            value = row[2 * m + j]
            if value is not None:
                number(r, number_at[j], value, formats[j][gold])
    return r, widths
