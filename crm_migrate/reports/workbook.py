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
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True},
    )
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
            _write_sheet(book, cells, sheet, sheet.rows, choices)
            total += sheet.listed
        counts.append(replace(sheet, rows=None))  # the Summary needs the counts only
    _write_summary(summary, cells, counts, max_rows)
    book.close()
    return total


SUMMARY = "Summary"
_HEADER = {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
_SUMMARY_COLUMNS = (
    "entity",
    "groups",
    "to review",
    "review pairs",
    "merged",
    "decided",
    "stale decisions",
    "listed",
    "left out",
)


def _write_summary(sheet, cells: QuotedCells, counts: list[ReviewSheet], max_rows: int) -> None:
    """Per entity the groups, those to review (and their pairs), merged and decided, the stale decisions and
    how many groups are listed and left out; then per entity a line saying where the full list is."""
    for c, name in enumerate(_SUMMARY_COLUMNS):
        cells.write(sheet, 0, c, name, _HEADER)
    for r, found in enumerate(counts, start=1):
        entity, stale, keys = found.entity, found.stale, found.keys
        figures = [
            keys.height,
            found.count("review", True) + found.count("review", False),
            int(keys.filter(pl.col("kind") == "review")["_pairs"].sum()),
            found.count("merge", True) + found.count("merge", False),
            found.count("decided", True),
            stale,
            found.listed,
            keys.height - found.listed,
        ]
        cells.write(sheet, r, 0, entity)
        for c, n in enumerate(figures, start=1):
            sheet.write_number(r, c, n)
    line = len(counts) + 2
    for found in counts:
        entity, stale = found.entity, found.stale
        listed = (found.count("merge", True), found.count("review", True), found.count("decided", True))
        left = (found.count("merge", False), found.count("review", False))
        text = (
            f"{entity}: {_counted(listed[1], 'review pair')}, {_counted(listed[0], 'merged group')} and "
            f"{_counted(listed[2], 'decided group')} listed"
        )
        if sum(left):
            text += (
                f"; {_counted(left[1], 'review pair')} and {_counted(left[0], 'merged group')} left out (the "
                f"sheet holds at most {max_rows:,} rows besides the decided groups: options.review.max_rows; "
                "the most certain merges are left out first)"
            )
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


def _write_sheet(book, cells: QuotedCells, entity: ReviewSheet, rows: pl.DataFrame, choices: Sequence[str]) -> None:
    fields = entity.fields
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
    for test, colour in (
        (f"{cell}>={merge}", "#C6EFCE"),
        (f"AND({cell}>={review},{cell}<{merge})", "#FFEB9C"),
        (f"{cell}<{review}", "#FFC7CE"),
    ):
        sheet.conditional_format(
            1,
            column,
            last,
            column,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({cell}),{test})",
                "format": book.add_format({"bg_color": colour}),
            },
        )


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


def _write_rows(
    sheet, cells: QuotedCells, rows: pl.DataFrame, fields, first_field: int, first_hidden: int
) -> tuple[int, dict[int, int]]:
    """Write the rows of `sheet_frame` below the header; return how many and the widest text per column.
    Per cell, the text to write (None: no cell) and its style are worked out over whole columns (a
    formula's quote prefix by `risky`, the same test `QuotedCells` makes); the numbers (group, probability)
    are written as numbers; the loop only hands them to xlsxwriter."""
    golden = pl.col("role") == "golden"
    texts: list[pl.Expr] = []
    codes: list[pl.Expr] = []
    at: list[int] = []
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
        codes.append(
            risky(spec.name, spec.type in PLAIN_FIELDS).cast(pl.Int8)
            + 2 * golden.cast(pl.Int8)
            + 4 * pl.col(f"_d:{spec.name}").fill_null(False).cast(pl.Int8)
        )
        at.append(first_field + c)
    for c, name in enumerate(("members", "fingerprint")):
        texts.append(pl.when(~golden).then(pl.col(name).fill_null("")))
        codes.append(risky(name).cast(pl.Int8))
        at.append(first_hidden + c)
    m = len(at)
    # An empty text without a style is no cell at all.
    frame = rows.select(
        [t.alias(f"t{i}") for i, t in enumerate(texts)]
        + [c.alias(f"c{i}") for i, c in enumerate(codes)]
        + [n.alias(f"n{i}") for i, n in enumerate(numbers)]
        + [golden.alias("_golden")]
    )
    frame = frame.with_columns(
        [
            pl.when((pl.col(f"t{i}") == "") & (pl.col(f"c{i}") == 0))
            .then(None)
            .otherwise(pl.col(f"t{i}"))
            .alias(f"t{i}")
            for i in range(m)
        ]
    )
    widths = (
        dict(zip(at, frame.select([_display_width(f"t{i}").fill_null(0) for i in range(m)]).row(0), strict=True))
        if frame.height
        else {}
    )
    styles = []
    for code in range(8):
        props = {**(_GOLDEN if code & 2 else {}), **(_DIFFERS if code & 4 and not code & 2 else {})}
        styles.append(cells.format(props or None, bool(code & 1)))
    formats = [
        (
            cells.format({"num_format": _NUMBERS[_SHOWN[c]]}),
            cells.format({**_GOLDEN, "num_format": _NUMBERS[_SHOWN[c]]}),
        )
        for c in number_at
    ]
    return _stream_rows(sheet, frame, at, number_at, styles, formats), widths


# -- the rows as xlsxwriter would write them ------------------------------------------------------------
# In constant_memory mode xlsxwriter writes each row's XML to a file of its own as the next row starts, a
# dozen Python calls a cell. Here the same XML is built over whole columns: the cells of a row in column
# order, each as xlsxwriter writes an inline string (its control characters escaped as _xHHHH_, a text in
# <r>...</r> as it is, xml:space="preserve" where it starts or ends with a space, & < > escaped) or a number
# (%.16G), its style's index taken in the order xlsxwriter would first meet it. tests/test_review.py
# compares the XML with xlsxwriter's own, cell by cell.

_CHUNK = 20_000  # rows built into one text at a time
# What Python's \s matches (str.isspace), where xlsxwriter marks a text's leading or trailing space
_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _SPACE) + "]"
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + ["\ufffe", "\uffff"]
_CONTROL_ESCAPED = [f"_x{ord(c):04X}_" for c in _CONTROL]


def _escaped(text: pl.Expr) -> pl.Expr:
    """A text as xlsxwriter stores it inline: its control characters as _xHHHH_ (and a literal _xHHHH_ kept)."""
    return text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1").str.replace_many(_CONTROL, _CONTROL_ESCAPED)


def _text_cell(escaped: pl.Expr, ref: pl.Expr, style: pl.Expr) -> pl.Expr:
    """A text cell's XML from its `_escaped` text (null where there is no cell): a text in <r>...</r> as it
    is, any other with & < > escaped, xml:space="preserve" where it starts or ends with a space."""
    rich = escaped.str.starts_with("<r>") & escaped.str.ends_with("</r>")
    preserve = escaped.str.contains(f"^{_SPACE_CLASS}|{_SPACE_CLASS}$")
    inner = (
        pl.when(rich)
        .then(escaped)
        .otherwise(
            pl.concat_str(
                [
                    pl.when(preserve).then(pl.lit('<t xml:space="preserve">')).otherwise(pl.lit("<t>")),
                    escaped.str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"]),
                    pl.lit("</t>"),
                ]
            )
        )
    )
    return pl.concat_str(
        [pl.lit('<c r="'), ref, pl.lit('"'), style, pl.lit(' t="inlineStr"><is>'), inner, pl.lit("</is></c>")]
    )


def _stream_rows(sheet, frame: pl.DataFrame, at: list[int], number_at: list[int], styles: list, formats: list) -> int:
    """Write ``frame``'s cells (``t<i>`` texts at columns ``at``, styled by ``c<i>``; ``n<j>`` numbers at
    ``number_at``) as rows 1.. of ``sheet``, as its own write_string and write_number would have; return the
    last row written."""
    from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name

    m = len(at)
    frame = frame.head(sheet.xls_rowmax - 1)  # xlsxwriter leaves out cells past Excel's last row
    if frame.height == 0:
        return 0
    long = [f"t{i}" for i in range(m) if (frame[f"t{i}"].str.len_chars().max() or 0) > sheet.xls_strmax // 2]
    if long:  # over Excel's 32,767 UTF-16 units: cut, as xlsxwriter cuts it
        frame = frame.with_columns(
            pl.col(c).map_elements(
                lambda v: _utf16_truncate(v, sheet.xls_strmax) if _utf16_len(v) > sheet.xls_strmax else v,
                return_dtype=pl.String,
            )
            for c in long
        )
    sheet._write_single_row(1)  # the header row goes out first, as writing row 1 would send it
    # Style indexes in the order xlsxwriter would first write each style: by row, then by column.
    first = []
    for i, c in enumerate(at):
        seen = (
            frame.lazy()
            .with_row_index("_r")
            .filter(pl.col(f"t{i}").is_not_null())
            .group_by(f"c{i}")
            .agg(pl.col("_r").min())
            .collect()
        )
        first += [(r, c, styles[code]) for code, r in seen.iter_rows() if styles[code] is not None]
    for j, c in enumerate(number_at):
        seen = (
            frame.lazy()
            .with_row_index("_r")
            .filter(pl.col(f"n{j}").is_not_null())
            .group_by("_golden")
            .agg(pl.col("_r").min())
            .collect()
        )
        first += [(r, c, formats[j][gold]) for gold, r in seen.iter_rows()]
    index = {}
    for _, _, fmt in sorted(first, key=lambda x: x[:2]):
        index[id(fmt)] = fmt._get_xf_index()
    attr = {None: ""} | {key: f' s="{n}"' for key, n in index.items()}  # a style no cell has: never looked up
    style_of = {code: attr.get(None if f is None else id(f), "") for code, f in enumerate(styles)}
    numbers = {
        f"n{j}": pl.Series([None if v is None else f"{v:.16G}" for v in frame[f"n{j}"].to_list()], dtype=pl.String)
        for j in range(len(number_at))
    }
    gold_style = [{g: attr.get(id(formats[j][g]), "") for g in (False, True)} for j in range(len(number_at))]
    frame = frame.with_columns(**numbers)
    row = pl.col("_row")
    cells = {}
    for i, c in enumerate(at):
        style = pl.col(f"c{i}").replace_strict(style_of, return_dtype=pl.String)
        cells[c] = _text_cell(pl.col(f"e{i}"), pl.lit(xl_col_to_name(c)) + row, style)
    for j, c in enumerate(number_at):
        style = pl.col("_golden").replace_strict(gold_style[j], return_dtype=pl.String)
        cells[c] = pl.concat_str(
            [
                pl.lit('<c r="'),
                pl.lit(xl_col_to_name(c)) + row,
                pl.lit('"'),
                style,
                pl.lit("><v>"),
                pl.col(f"n{j}"),
                pl.lit("</v></c>"),
            ]
        )
    body = pl.concat_str([cells[c] for c in sorted(cells)], ignore_nulls=True).fill_null("")
    xml = pl.when(pl.col("_b") != "").then(
        pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), pl.col("_b"), pl.lit("</row>")])
    )
    last = 0
    for start in range(0, frame.height, _CHUNK):
        part = (
            frame.slice(start, _CHUNK)
            .with_row_index("_r", offset=start + 2)
            .with_columns(
                pl.col("_r").cast(pl.String).alias("_row"),
                *(_escaped(pl.col(f"t{i}")).alias(f"e{i}") for i in range(m)),
            )
            .select("_r", "_row", body.alias("_b"))
        )
        sheet.row_data_fh.write(part.select(xml.str.join("")).item() or "")
        written = part.filter(pl.col("_b") != "")["_r"]
        if written.len():
            last = int(part.select(pl.col("_r").filter(pl.col("_b") != "").max()).item()) - 1
    sheet.previous_row = frame.height
    if last:
        sheet.dim_rowmax = max(sheet.dim_rowmax or 0, last)
    return frame.height
