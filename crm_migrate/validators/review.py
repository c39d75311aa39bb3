"""What a data steward reviews: duplicate groups with their evidence, golden-record provenance, orphans,
and stale decisions.

``review/duplicates.xlsx`` holds, per entity, one sheet of groups: the pairs in the review band (most likely
first), then the merged clusters (the least certain first, those merged by identity alone last), each member
record side by side with its values as read (sensitive ones masked), the cells where members differ
highlighted, the best score and its evidence, and the proposed golden record; at most
``options.review.max_rows`` rows a sheet, the groups left out counted on the first sheet and every group
listed in ``review/duplicate_groups.csv``. All of it is built over whole frames (joins, group_by, windows);
only the evidence texts, fingerprints and masks of the rows shown are worked out, and xlsxwriter is handed
the cells row by row, streamed to disk.
The ``decision`` column has a drop-down (merge / keep apart / merge into); the filled-in workbook, given
back with ``run --decisions``, is applied on the next run (see `crm_migrate.migrate.decisions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_migrate.cleaners.masking import mask_frame, masked_whole
from crm_migrate.mappings.entities import ID_FIELD, FieldType
from crm_migrate.mappings.models import ReviewOptions
from crm_migrate.migrate.columns import (
    MERGED,
    OUTCOME,
    REASON,
    RECORD_ID,
    ROW,
    RULE,
    SEQ,
    SHEET,
    SOURCE,
    WRITTEN,
    raw,
    val,
)
from crm_migrate.migrate.decisions import CHOICES, MERGE_INTO, fingerprints, refs
from crm_migrate.migrate.formulas import PLAIN_FIELDS, QuotedCells, risky
from crm_migrate.migrate.link import ORPHAN_RULES, ORPHANED
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.merge import FROM
from crm_migrate.migrate.pipeline import EntityResult, Migration

MAX_ROWS = ReviewOptions.model_fields["max_rows"].default  # per sheet (options.review.max_rows); the rest is counted
# on the how-to sheet
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


FULL_LIST = "review/duplicate_groups.csv"
IDENTITY = "same source record, credit code or ID number"
MOST_LIKELY_FIRST = ["probability", "l", "r"]  # ties in record order, so the workbook is the same every run
_NO_PAIRS = {"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}


@dataclass
class Groups:
    """One entity's groups, all built over whole frames.

    ``keys``: one row per group in workbook order (the listed review groups, most likely first; the listed
    merged groups, the least certain first; the groups the steward decided; then the groups left out), with
    its number, kind (review, merge, decided), probability and rows (members and the golden row). ``rows``:
    one row per member record of every group, in workbook order: the group's own record first (``_main``),
    then its review candidates and the records the steward kept apart from it, each with its role, the
    pair its probability and evidence come from, and the steward's decision on it, if any."""

    keys: pl.DataFrame
    rows: pl.DataFrame
    listed: int  # groups within the row limit (and every decided one): the first ``listed`` keys

    def count(self, kind: str, listed: bool) -> int:
        part = self.keys.head(self.listed) if listed else self.keys.slice(self.listed)
        return int((part["kind"] == kind).sum())


def _decided(result: EntityResult, members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The steward's applied decisions: per decided row its decision and ``into`` (the first, where an earlier
    workbook listed a row twice), and per row kept apart the rows it was kept apart from, as record pairs."""
    applied = result.decisions
    index = members["_i"].dtype
    rows = pl.DataFrame({"_i": [i for i, _ in applied.decided] if applied else [],
                         "decision": [d.decision for _, d in applied.decided] if applied else [],
                         "into": [d.into for _, d in applied.decided] if applied else []},
                        schema={"_i": index, "decision": pl.String, "into": pl.String})
    rows = rows.unique("_i", keep="first", maintain_order=True).join(members.select("_i"), on="_i")
    vetoes = pl.DataFrame({"l": [a for a, _ in applied.vetoes] if applied else [],
                           "r": [b for _, b in applied.vetoes] if applied else []}, schema={"l": index, "r": index})
    ids = members.select("_i", "_c")
    apart = (vetoes.join(ids.rename({"_i": "l", "_c": "_a"}), on="l").join(ids.rename({"_i": "r", "_c": "_b"}), on="r")
             .filter(pl.col("_a") != pl.col("_b")).select("_a", "_b"))
    return rows, apart


def _components(nodes: pl.Series, links: pl.DataFrame) -> pl.DataFrame:
    """Per node (a record's code), the smallest node it is linked to through ``links`` (``_a``, ``_b``)."""
    import numpy as np

    from crm_migrate.migrate.clustering import components

    at = nodes.unique().sort().to_numpy()
    ends = np.column_stack([links["_a"].to_numpy(), links["_b"].to_numpy()]).astype(np.int64).reshape(-1, 2)
    root = components(at.size, np.searchsorted(at, ends))
    return pl.DataFrame({"_c": at, "_g": at[root]}).with_columns(pl.col("_g").cast(nodes.dtype),
                                                                  pl.col("_c").cast(nodes.dtype))


def groups(result: EntityResult, max_rows: int = MAX_ROWS) -> Groups:
    """One group per set of records linked by the merges, the review-band pairs between records and the
    steward's decisions, so each record is in one group: a merged record with its review candidates beside
    it. Numbered in workbook order; the groups whose rows (members and golden row) fit within ``max_rows``,
    and every group the steward decided, are listed."""
    frame = result.frame.select(SEQ, OUTCOME, RULE, RECORD_ID, SOURCE, SHEET, ROW).with_row_index("_i")
    members = frame.filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))  # the values only for the rows listed
    index = members["_i"].dtype
    pairs = result.matches.pairs if result.matches is not None else pl.DataFrame(schema=_NO_PAIRS)
    pairs = pairs.select("l", "r", "probability").with_row_index("_p").with_columns(
        pl.col("l").cast(index), pl.col("r").cast(index))
    # Each pair's two records as numbers, not as their ids' text (16 bytes a row and the text itself, per side
    # of every candidate pair: at 2M records the groups' rise 888 -> 714 MB). The number is the id's dense rank,
    # so comparing two numbers (equal, smaller) says what comparing the two ids would, and the groups' order
    # is the same; the ids' text is taken back for the few groups found.
    members = members.with_columns(pl.col(RECORD_ID).rank("dense").alias("_c"))
    ids = members.select("_i", "_c")
    sides = (pairs.join(ids.rename({"_i": "l", "_c": "_a"}), on="l")
             .join(ids.rename({"_i": "r", "_c": "_b"}), on="r"))
    sizes = members.group_by("_c").agg(pl.len().alias("_n"), pl.col(SEQ).min().alias("_first"))

    # Per member position, its most likely pair with another member of the same record.
    same = sides.filter(pl.col("_a") == pl.col("_b")).sort(MOST_LIKELY_FIRST, descending=[True, False, False])
    same = same.with_row_index("_o")
    best = (pl.concat([same.select("_o", pl.col("l").alias("_i"), "_p"), same.select("_o", pl.col("r").alias("_i"), "_p")])
            .group_by("_i").agg(pl.col("_p").sort_by("_o").first().alias("_bp")))

    # Review pairs: one per two records, the most likely.
    if result.settings is not None:
        p = pl.col("probability")
        band = sides.filter((p >= result.settings.review) & (p < result.settings.merge) & (pl.col("_a") != pl.col("_b")))
    else:
        band = sides.clear()
    review = (band.with_columns(pl.min_horizontal("_a", "_b").alias("_lo"), pl.max_horizontal("_a", "_b").alias("_hi"))
              .sort(MOST_LIKELY_FIRST, descending=[True, False, False])
              .unique(["_lo", "_hi"], keep="first", maintain_order=True))
    # Per record in a review pair, its most likely one and the member it names (``_re``).
    ends = (pl.concat([review.select(pl.col("_a").alias("_c"), pl.col("l").alias("_re"), "_p", "probability"),
                       review.select(pl.col("_b").alias("_c"), pl.col("r").alias("_re"), "_p", "probability")])
            .sort(MOST_LIKELY_FIRST[:1] + ["_p"], descending=[True, False])
            .group_by("_c").agg(pl.col("_re").first(), pl.col("_p").first().alias("_rp"),
                                pl.col("probability").max().alias("_rprob")))
    decided, apart = _decided(result, members)

    # Records that form groups (merged ones, those in a review pair, those a steward decided) and the links
    # between them; a group is the records linked to one another.
    nodes = pl.concat([sizes.filter(pl.col("_n") > 1)["_c"], review["_a"], review["_b"], apart["_a"], apart["_b"],
                       decided.join(ids, on="_i")["_c"]])
    links = pl.concat([review.select("_a", "_b"), apart])
    record = (_components(nodes, links).join(sizes, on="_c")
              .join(ends, on="_c", how="left")
              .join(members.join(decided, on="_i").group_by("_c").agg(pl.len().alias("_decided")), on="_c", how="left"))
    # The group's own record: the largest, then the first read.
    record = record.sort(["_g", "_n", "_first"], descending=[False, True, False]).with_columns(
        pl.col("_g").is_first_distinct().alias("_main"))
    lowest = (members.join(best, on="_i").join(pairs.select("_p", "probability"), left_on="_bp", right_on="_p")
              .group_by("_c").agg(pl.col("probability").min().alias("_low")))
    pairs_in = review.join(record.select(pl.col("_c").alias("_a"), "_g"), on="_a").group_by("_g").agg(
        pl.len().alias("_pairs"))
    keys = (record.join(lowest, on="_c", how="left").group_by("_g")
            .agg(pl.col("_n").sum(), pl.col("_first").min(), pl.col("_decided").sum().alias("_d"),
                 pl.col("_rprob").max(), pl.col("_low").filter(pl.col("_main")).min())
            .with_columns(pl.when(pl.col("_d") > 0).then(pl.lit("decided"))
                          .when(pl.col("_rprob").is_not_null()).then(pl.lit("review"))
                          .otherwise(pl.lit("merge")).alias("kind"))
            .with_columns(pl.when(pl.col("kind") == "review").then(pl.col("_rprob"))
                          .when(pl.col("kind") == "merge").then(pl.col("_low")).alias("probability"),
                          pl.col("kind").replace_strict({"review": 0, "merge": 1, "decided": 2}).alias("_kind"))
            .join(pairs_in, on="_g", how="left").with_columns(pl.col("_pairs").fill_null(0)))
    # Review groups the most likely first, merged groups the least certain first (merged by identity alone,
    # with no scored pair, last), decided groups in record order; ties in record order.
    keys = keys.sort(["_kind", pl.when(pl.col("_kind") == 0).then(-pl.col("probability")).otherwise(pl.col("probability")),
                      "_first"], nulls_last=True)
    # Every decided group is listed (its decisions come back with the next workbook); the others while they fit.
    decided_rows = int(keys.filter(pl.col("_kind") == 2)["_n"].sum()) + int((keys["_kind"] == 2).sum())
    fits = pl.when(pl.col("_kind") == 2).then(True).otherwise(
        ((pl.col("_n") + 1) * (pl.col("_kind") != 2)).cum_sum() <= max(max_rows - decided_rows, 0))
    keys = (keys.with_columns(fits.alias("_listed"))
            .sort([~pl.col("_listed"), pl.col("_kind") == 2], maintain_order=True)
            .with_row_index("group", offset=1).select("group", "kind", "probability", "_n", "_pairs", "_g", "_listed"))
    listed = int(keys["_listed"].sum())

    main = pl.col("_main")
    rows = (members.join(record.select("_c", "_g", "_main", "_n", "_first", "_re", "_rp"), on="_c")
            .join(keys.select("_g", "group", "kind"), on="_g")
            .join(best, on="_i", how="left").join(decided, on="_i", how="left")
            .with_columns(
                # A record's member named by its review pair shows that pair, a merged member its own best pair.
                pl.when((pl.col("_i") == pl.col("_re")) & (~main | (pl.col("_n") == 1))).then(pl.col("_rp"))
                .when(pl.col("_n") > 1).then(pl.col("_bp")).otherwise(pl.col("_rp")).alias("_p"),
                pl.when(main & (pl.col(OUTCOME) == WRITTEN)).then(pl.lit("survivor"))
                .when(main).then(pl.lit("merged"))
                .when(pl.col("_rp").is_not_null()).then(pl.lit("candidate"))
                .otherwise(pl.lit("kept apart")).alias("role"),
                refs().alias("_ref"))
            .join(pairs.select("_p", pl.col("probability").alias("_probability")), on="_p", how="left")
            .sort(["group", ~main, "_first", pl.col(OUTCOME) != WRITTEN, SEQ])
            .drop("_bp", "_rp", "_re", "_first", "_n", "_g"))
    return Groups(keys.drop("_g", "_listed"), rows, listed)


def _evidence(rows: pl.DataFrame, result: EntityResult) -> pl.Series:
    """The evidence text of each row: its pair's, computed once per pair shown; without a pair, what merged it."""
    wanted = rows["_p"].drop_nulls().unique()
    texts: dict[int, str] = {}
    if wanted.len() and result.matches is not None:
        comparisons = result.matches.comparisons
        shown = result.matches.pairs.with_row_index("_p").filter(pl.col("_p").is_in(wanted.implode()))
        texts = {pair["_p"]: evidence(pair, comparisons) for pair in shown.iter_rows(named=True)}
    paired = rows["_p"].replace_strict(texts, default=None, return_dtype=pl.String) if texts else \
        pl.Series([None] * rows.height, dtype=pl.String)
    frame = pl.DataFrame({"_e": paired, RULE: rows[RULE]})
    return frame.select(pl.when(pl.col("_e").is_not_null()).then(pl.col("_e"))
                        .when(pl.col(RULE) == "duplicate").then(pl.lit(IDENTITY))
                        .otherwise(pl.lit("")).alias("evidence"))["evidence"]


def sheet_frame(found: Groups, result: EntityResult, entity: str, secret: bytes, mobiles: bool) -> pl.DataFrame:
    """Every row the sheet shows, in order: per listed group its members, then its golden row (``role``
    golden); ID numbers (and by the project option mobiles) masked wherever they appear, the values of a
    sensitive field masked whole; ``_d:<field>`` says where a member's value differs from another member's."""
    fields = result.fields
    rows = found.rows.filter(pl.col("group") <= found.listed)
    wanted = [c for c in dict.fromkeys([raw(ID_FIELD), *(raw(s.name) for s in fields), *(val(s.name) for s in fields)])
              if c in result.frame.columns]
    if wanted:
        rows = pl.concat([rows, result.frame.select(pl.col(wanted).gather(rows["_i"]))], how="horizontal")
    values = [(pl.col(raw(s.name)) if raw(s.name) in rows.columns else pl.lit(None, pl.String)).alias(s.name)
              for s in fields]
    goldens = [(pl.col(val(s.name)) if val(s.name) in rows.columns else pl.lit(None, pl.String)).alias(s.name)
               for s in fields]
    joined = rows.group_by("group").agg(pl.col("_ref").str.join("; ").alias("members"))
    steward = pl.format("decided by the steward: {}", pl.col("decision"))
    shown = rows.select(
        "group", pl.lit(0).alias("_order"), "kind", pl.col("_ref").alias("record"), "role",
        pl.col("_probability").alias("probability"), "decision",
        pl.when(pl.col("decision") == MERGE_INTO).then(pl.col("into")).alias("into"), *values,
    ).with_columns(_evidence(rows, result),
                   pl.Series("fingerprint", fingerprints(rows, fields, secret), dtype=pl.String))
    shown = shown.with_columns(
        pl.when(pl.col("decision").is_null()).then(pl.col("evidence"))
        .when(pl.col("decision") == MERGE_INTO).then(pl.concat_str([steward, pl.lit(" "), pl.col("into")]))
        .otherwise(steward).alias("_steward"))
    shown = shown.with_columns(
        pl.when(pl.col("decision").is_null() | (pl.col("evidence") == "")).then(pl.col("_steward"))
        .otherwise(pl.concat_str([pl.col("_steward"), pl.lit("; "), pl.col("evidence")])).alias("evidence")
    ).drop("_steward")
    shown = shown.join(joined, on="group", how="left", maintain_order="left")
    survivor = (rows.filter(pl.col("_main") & (pl.col(OUTCOME) == WRITTEN)).unique("group", keep="first", maintain_order=True)
                .select("group", *goldens))
    golden = (found.keys.head(found.listed).select("group", "kind")
              .join(survivor, on="group", how="left", maintain_order="left")
              .with_columns(pl.lit(1).alias("_order"), pl.lit("golden").alias("role")))
    sheet = pl.concat([shown, golden], how="diagonal_relaxed").sort(["group", "_order"], maintain_order=True)
    sheet = mask_frame(sheet, mobiles, keep=("kind", "record", "role", "probability", "decision", "into", "members",
                                             "fingerprint"))
    sensitive = {s.name for s in fields if s.sensitive or s.type is FieldType.id_card}
    sheet = sheet.with_columns([masked_whole(pl.col(n)).alias(n) for n in sensitive])
    member = pl.col("_order") == 0
    return sheet.with_columns(
        [(member & (pl.col(s.name).fill_null("") != "")
          & (pl.col(s.name).filter(member & (pl.col(s.name).fill_null("") != "")).n_unique().over("group") > 1))
         .alias(f"_d:{s.name}") for s in fields]).with_columns(pl.lit(entity).alias("entity"))


def groups_frame(found: Groups, entity: str) -> pl.DataFrame:
    """The full list of groups, listed on the sheet or not: one line per member record, no values."""
    return found.rows.select(
        pl.lit(entity).alias("entity"), pl.col("group").cast(pl.String), "kind", pl.col("_ref").alias("record"),
        pl.col(RECORD_ID).alias("record_id"), pl.col("_probability").round(4).alias("probability"),
        pl.when(pl.col("group") <= found.listed).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("in_workbook"))


@dataclass
class Review:
    """What `write_workbook` wrote: the groups listed on its sheets, and the full list of groups (every
    entity's, listed or not) for ``review/duplicate_groups.csv``."""

    listed: int
    groups: pl.DataFrame


def write_workbook(path: Path, migration: Migration) -> Review:
    """Write review/duplicates.xlsx, at most ``options.review.max_rows`` rows a sheet (every decided group
    besides); return the number of groups listed and the full list of groups, for the caller to write beside
    it as `FULL_LIST`."""
    import xlsxwriter

    options = migration.project.config.options
    max_rows = options.review.max_rows
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
    total, full, counts = 0, [], []
    for entity, result in migration.entities.items():
        stale = len(result.decisions.stale) if result.decisions else 0
        found = groups(result, max_rows)
        if found.keys.height == 0:
            if stale:
                counts.append((entity.value, found, stale))
            continue
        counts.append((entity.value, found, stale))
        full.append(groups_frame(found, entity.value))
        rows = sheet_frame(found, result, entity.value, migration.secret, options.mask_mobiles)
        _write_sheet(book, cells, entity.value, rows, result)
        total += found.listed
    _write_summary(summary, cells, counts, max_rows)
    book.close()
    schema = {"entity": pl.String, "group": pl.String, "kind": pl.String, "record": pl.String,
              "record_id": pl.String, "probability": pl.Float64, "in_workbook": pl.String}
    return Review(total, pl.concat(full) if full else pl.DataFrame(schema=schema))


SUMMARY = "Summary"
_HEADER = {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
_SUMMARY_COLUMNS = ("entity", "groups", "to review", "review pairs", "merged", "decided", "stale decisions",
                    "listed", "left out")


def _write_summary(sheet, cells: QuotedCells, counts: list, max_rows: int) -> None:
    """Per entity the groups, those to review (and their pairs), merged and decided, the stale decisions and
    how many groups are listed and left out; then per entity a line saying where the full list is."""
    for c, name in enumerate(_SUMMARY_COLUMNS):
        cells.write(sheet, 0, c, name, _HEADER)
    for r, (entity, found, stale) in enumerate(counts, start=1):
        keys = found.keys
        figures = [keys.height, found.count("review", True) + found.count("review", False),
                   int(keys.filter(pl.col("kind") == "review")["_pairs"].sum()),
                   found.count("merge", True) + found.count("merge", False), found.count("decided", True), stale,
                   found.listed, keys.height - found.listed]
        cells.write(sheet, r, 0, entity)
        for c, n in enumerate(figures, start=1):
            sheet.write_number(r, c, n)
    line = len(counts) + 2
    for entity, found, stale in counts:
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


def _write_sheet(book, cells: QuotedCells, entity: str, rows: pl.DataFrame, result: EntityResult) -> None:
    fields = result.fields
    sheet = book.add_worksheet(entity)
    columns = [*_SHOWN, *(s.name for s in fields), "members", "fingerprint"]
    for c, name in enumerate(columns):
        cells.write(sheet, 0, c, name, _HEADER)
    first_field = len(_SHOWN)
    r, widths = _write_rows(sheet, cells, rows, fields, first_field, len(columns) - 2)
    last = max(r, 1)
    decision = columns.index("decision")
    if r:
        sheet.data_validation(1, decision, r, decision, {"validate": "list", "source": list(CHOICES)})
        _bands(book, sheet, columns.index("probability"), r, result)
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


def _bands(book, sheet, column: int, last: int, result: EntityResult) -> None:
    """Colour the probability cells by band: merged (at or above ``merge``), for review, below review."""
    merge = result.settings.merge if result.settings is not None else 0.95
    review = result.settings.review if result.settings is not None else 0.60
    cell = f"{_column_letter(column)}2"
    for test, colour in ((f"{cell}>={merge}", "#C6EFCE"), (f"AND({cell}>={review},{cell}<{merge})", "#FFEB9C"),
                         (f"{cell}<{review}", "#FFC7CE")):
        sheet.conditional_format(1, column, last, column, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({cell}),{test})",
            "format": book.add_format({"bg_color": colour})})


def _column_letter(column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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


def provenance_frame(migration: Migration) -> pl.DataFrame:
    """For every golden record built from two or more source rows: each field's value and the source row
    it came from."""
    parts = []
    for entity, result in migration.entities.items():
        frame = result.frame
        fields = [s for s in result.fields if f"{FROM}{s.name}" in frame.columns]
        if not fields:
            continue
        merged = frame.lazy().filter(pl.col(OUTCOME) == MERGED).select(RECORD_ID).unique().collect()
        sensitive = {s.name for s in result.fields if s.sensitive or s.type is FieldType.id_card}
        # The survivors once, with only the columns read (a filter of the whole frame copies the entity), then
        # one long table of (record, field, value, member) and one join for where each member was read.
        survivors = (frame.lazy()
                     .filter((pl.col(OUTCOME) == WRITTEN) & pl.col(RECORD_ID).is_in(merged[RECORD_ID].implode()))
                     .select(RECORD_ID, *(val(s.name) for s in fields), *(f"{FROM}{s.name}" for s in fields))
                     .collect())
        long = pl.concat([survivors.lazy().filter(pl.col(f"{FROM}{spec.name}").is_not_null()).select(
            pl.lit(entity.value).alias("entity"), pl.col(RECORD_ID).alias("record_id"),
            pl.lit(spec.name).alias("field"),
            (masked_whole(pl.col(val(spec.name))) if spec.name in sensitive else pl.col(val(spec.name))).alias("value"),
            pl.col(f"{FROM}{spec.name}").alias(SEQ)) for spec in fields]).collect()
        del survivors
        origin = frame.select(pl.col(SEQ), pl.col(SOURCE).alias("from_source"), pl.col(SHEET).alias("from_sheet"),
                              pl.col(ROW).alias("from_row"))
        parts.append(long.join(origin, on=SEQ, how="left", maintain_order="left").drop(SEQ))
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in ("entity", "record_id", "field", "value")})
    return pl.concat(parts, how="diagonal_relaxed").sort(["entity", "record_id"], maintain_order=True)


def orphans_frame(migration: Migration) -> pl.DataFrame:
    """Child rows whose account link points at no account (they are in rejects/ too), and children linked to
    the placeholder account instead (``options.orphans``), with the reason; here together."""
    parts = []
    for entity, result in migration.entities.items():
        frame = result.frame
        placed = pl.col(ORPHANED).is_not_null() if ORPHANED in frame.columns else pl.lit(False)
        orphans = frame.lazy().filter(pl.col(RULE).is_in(ORPHAN_RULES) | placed).select(
            pl.lit(entity.value).alias("entity"), pl.col(SOURCE).alias("source"), pl.col(SHEET).alias("sheet"),
            pl.col(ROW).alias("row"), pl.col(OUTCOME).alias("outcome"),
            (pl.when(placed).then(pl.lit("linked to the placeholder account: ") + pl.col(ORPHANED))
             .otherwise(pl.col(REASON)) if ORPHANED in frame.columns else pl.col(REASON)).alias("reason")).collect()
        if orphans.height:
            parts.append(orphans)
    if not parts:
        return pl.DataFrame(schema={"entity": pl.String, "source": pl.String, "sheet": pl.String, "row": pl.Int64,
                                    "outcome": pl.String, "reason": pl.String})
    return pl.concat(parts)


def stale_frame(migration: Migration) -> pl.DataFrame:
    rows = [{"entity": d.decision.entity.value, "record": d.decision.record, "decision": d.decision.decision,
             "into": d.decision.into, "read_from": d.decision.origin, "why_not_applied": d.why}
            for result in migration.entities.values() if result.decisions for d in result.decisions.stale]
    schema = {c: pl.String for c in ("entity", "record", "decision", "into", "read_from", "why_not_applied")}
    return pl.DataFrame(rows, schema=schema)
