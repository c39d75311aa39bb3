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
from crm_migrate.migrate.decisions import CHOICES, fingerprints, refs
from crm_migrate.migrate.formulas import PLAIN_FIELDS, QuotedCells, risky
from crm_migrate.migrate.link import ORPHAN_RULES, ORPHANED
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.merge import FROM
from crm_migrate.migrate.pipeline import EntityResult, Migration

MAX_ROWS = ReviewOptions.model_fields["max_rows"].default  # per sheet (options.review.max_rows); the rest is counted
# on the how-to sheet
HOW_TO = """\
How to use this workbook
Each sheet lists one entity's duplicate groups. A group is either a merge the tool made ('merge') or a pair it was not sure about ('review').
Every member record is one row, with its values as they were read; cells where the members of a group differ are highlighted. The 'golden' row is the record the tool proposes to write.
'probability' and 'evidence' say why: each compared field, how it agreed, and the weight (in bits) it added to or took from the score.
Decide in the 'decision' column (drop-down):
  merge       - this row belongs with the other rows of its group marked 'merge' (or, marked alone, with the group's first record)
  keep apart  - this row is a record of its own; it will not be merged with the other rows of the group
  merge into  - merge this row into the record written in the 'into' column (copy that record's 'record' cell)
Leave the decision empty to accept what the tool proposes.
Save the workbook outside the out/ folder (the next run replaces out/), then run:
  crm-migrate run PROJECT --decisions path/to/duplicates.xlsx
or name the file under 'decisions:' in migration.yaml. Decisions are tied to source rows (the 'record' column), not to group numbers, so they survive re-runs and new data. A decision whose row has changed or gone is reported in review/stale_decisions.csv and not applied.
Sensitive values (ID numbers) are masked here.
"""


FULL_LIST = "review/duplicate_groups.csv"
IDENTITY = "same source record, credit code or ID number"
MOST_LIKELY_FIRST = ["probability", "l", "r"]  # ties in record order, so the workbook is the same every run
_NO_PAIRS = {"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}


@dataclass
class Groups:
    """One entity's groups, all built over whole frames.

    ``keys``: one row per group in workbook order (review pairs, most likely first; then merged groups, the
    least certain first), with its number, kind, the record ids it joins (``_a``, ``_b``), its pair (``_p``),
    its probability and its rows (members and the golden row). ``rows``: one row per member record of every
    group, in workbook order, with the position of the pair its probability and evidence come from."""

    keys: pl.DataFrame
    rows: pl.DataFrame
    listed: int  # groups that fit within the row limit: the first ``listed`` keys

    def count(self, kind: str, listed: bool) -> int:
        part = self.keys.head(self.listed) if listed else self.keys.slice(self.listed)
        return int((part["kind"] == kind).sum())


def groups(result: EntityResult, max_rows: int = MAX_ROWS) -> Groups:
    """Review-band pairs between different records, then merged clusters of two or more records, numbered in
    that order; the groups whose rows (members and golden row) fit within ``max_rows`` are listed."""
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
    sizes = members.group_by("_c").agg(pl.col(RECORD_ID).first(), pl.len().alias("_n"),
                                       pl.col(SEQ).min().alias("_first"))

    # Per member position, its most likely pair with another member of the same record.
    same = sides.filter(pl.col("_a") == pl.col("_b")).sort(MOST_LIKELY_FIRST, descending=[True, False, False])
    same = same.with_row_index("_o")
    best = (pl.concat([same.select("_o", pl.col("l").alias("_i"), "_p", "probability"),
                       same.select("_o", pl.col("r").alias("_i"), "_p", "probability")])
            .group_by("_i").agg(pl.all().sort_by("_o").first()).drop("_o"))

    # Review pairs: one per two records, the most likely first.
    if result.settings is not None:
        p = pl.col("probability")
        band = sides.filter((p >= result.settings.review) & (p < result.settings.merge) & (pl.col("_a") != pl.col("_b")))
    else:
        band = sides.clear()
    review = (band.with_columns(pl.min_horizontal("_a", "_b").alias("_lo"), pl.max_horizontal("_a", "_b").alias("_hi"))
              .sort(MOST_LIKELY_FIRST, descending=[True, False, False])
              .unique(["_lo", "_hi"], keep="first", maintain_order=True)
              .join(sizes.select(pl.col("_c").alias("_lo"), pl.col(RECORD_ID).alias("_al"), pl.col("_n").alias("_nl")),
                    on="_lo", maintain_order="left")
              .join(sizes.select(pl.col("_c").alias("_hi"), pl.col(RECORD_ID).alias("_bh"), pl.col("_n").alias("_nh")),
                    on="_hi", maintain_order="left")
              .select(pl.lit("review").alias("kind"), pl.col("_al").alias("_a"), pl.col("_bh").alias("_b"), "_p",
                      "probability", (pl.col("_nl") + pl.col("_nh")).alias("_n")))

    # Merged groups: the least certain first (the lowest probability any member was merged by), those merged
    # by identity alone (no scored pair) last; ties in record order.
    lowest = (members.select("_i", "_c").join(best, on="_i").group_by("_c")
              .agg(pl.col("probability").min()))
    merged = (sizes.filter(pl.col("_n") > 1).join(lowest, on="_c", how="left")
              .sort(["probability", "_first"], nulls_last=True)
              .select(pl.lit("merge").alias("kind"), pl.col(RECORD_ID).alias("_a"), pl.lit(None, pl.String).alias("_b"),
                      pl.lit(None, pairs["_p"].dtype).alias("_p"), "probability", "_n"))

    keys = pl.concat([review, merged]).with_row_index("group", offset=1)
    fits = ((keys["_n"] + 1).cum_sum() <= max_rows).sum()  # each group: its members and its golden row

    # Every member of every group (a record of a review pair may itself be a merged cluster).
    member = pl.concat([keys.select("group", "kind", "_p", pl.col("probability").alias("_gp"),
                                    pl.col("_a").alias(RECORD_ID)),
                        keys.filter(pl.col("_b").is_not_null()).select(
                            "group", "kind", "_p", pl.col("probability").alias("_gp"), pl.col("_b").alias(RECORD_ID))])
    rows = (member.join(members.drop("_c"), on=RECORD_ID)
            .join(best.rename({"_p": "_bp", "probability": "_bprob"}), on="_i", how="left")
            .sort(["group", SEQ])
            .with_columns(
                pl.when(pl.col("kind") == "review").then(pl.col("_p")).otherwise(pl.col("_bp")).alias("_p"),
                pl.when(pl.col("kind") == "review").then(pl.col("_gp")).otherwise(pl.col("_bprob"))
                .alias("_probability"),
                refs().alias("_ref"))
            .drop("_bp", "_bprob", "_gp"))
    return Groups(keys, rows, int(fits))


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
    shown = rows.select(
        "group", pl.lit(0).alias("_order"), "kind", pl.col("_ref").alias("record"),
        pl.when(pl.col(OUTCOME) == WRITTEN).then(pl.lit("survivor"))
        .when(pl.col("kind") == "merge").then(pl.lit("merged")).otherwise(pl.lit("candidate")).alias("role"),
        pl.Series("probability", ["" if v is None else f"{v:.4f}" for v in rows["_probability"].to_list()],
                  dtype=pl.String), *values,
    ).with_columns(_evidence(rows, result),
                   pl.Series("fingerprint", fingerprints(rows, fields, secret), dtype=pl.String))
    shown = shown.join(joined, on="group", how="left", maintain_order="left")
    survivor = (rows.filter(pl.col(OUTCOME) == WRITTEN).unique("group", keep="first", maintain_order=True)
                .select("group", *goldens))
    golden = (found.keys.head(found.listed).select("group", "kind")
              .join(survivor, on="group", how="left", maintain_order="left")
              .with_columns(pl.lit(1).alias("_order"), pl.lit("golden").alias("role")))
    sheet = pl.concat([shown, golden], how="diagonal_relaxed").sort(["group", "_order"], maintain_order=True)
    sheet = mask_frame(sheet, mobiles, keep=("kind", "record", "role", "probability", "members", "fingerprint"))
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
    """Write review/duplicates.xlsx, at most ``options.review.max_rows`` rows a sheet; return the number of
    groups listed and the full list of groups, for the caller to write beside it as `FULL_LIST`."""
    import xlsxwriter

    options = migration.project.config.options
    max_rows = options.review.max_rows
    path.parent.mkdir(parents=True, exist_ok=True)
    # constant_memory: each row goes to disk once the next one starts, so a sheet costs no more than a row
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "constant_memory": True})
    # Every text a spreadsheet would take for a formula gets the quote-prefix style, its value unchanged.
    cells = QuotedCells(book)
    header = {"bold": True, "bg_color": "#DDE4EE", "border": 1}
    how = book.add_worksheet("How to use")
    for i, line in enumerate(HOW_TO.splitlines()):
        cells.write(how, i, 0, line)
    how.set_column(0, 0, 140)
    total, line, full = 0, len(HOW_TO.splitlines()) + 1, []
    for entity, result in migration.entities.items():
        found = groups(result, max_rows)
        if found.keys.height == 0:
            continue
        full.append(groups_frame(found, entity.value))
        rows = sheet_frame(found, result, entity.value, migration.secret, options.mask_mobiles)
        sheet = book.add_worksheet(entity.value)
        fields = result.fields
        columns = [*_SHOWN, "decision", "into", *(s.name for s in fields), "members", "fingerprint"]
        for c, name in enumerate(columns):
            cells.write(sheet, 0, c, name, header)
        first_field = columns.index("into") + 1
        r = _write_rows(sheet, cells, rows, fields, first_field, len(columns) - 2) + 1
        if r > 1:
            sheet.data_validation(1, columns.index("decision"), r - 1, columns.index("decision"),
                                  {"validate": "list", "source": list(CHOICES)})
        sheet.freeze_panes(1, 4)
        sheet.autofilter(0, 0, max(r - 1, 1), len(columns) - 1)
        sheet.set_column(columns.index("evidence"), columns.index("evidence"), 60)
        sheet.set_column(len(columns) - 2, len(columns) - 1, None, None, {"hidden": True})
        total += found.listed
        listed = (found.count("merge", True), found.count("review", True))
        left = (found.count("merge", False), found.count("review", False))
        text = f"{entity.value}: {_counted(listed[1], 'review pair')} and {_counted(listed[0], 'merged group')} listed"
        if sum(left):
            text += (f"; {_counted(left[1], 'review pair')} and {_counted(left[0], 'merged group')} left out (the "
                     f"sheet holds at most "
                     f"{max_rows:,} rows: options.review.max_rows; the most certain merges are left out first)")
        cells.write(how, line, 0, f"{text}. All of them: {FULL_LIST}.")
        line += 1
    book.close()
    schema = {"entity": pl.String, "group": pl.String, "kind": pl.String, "record": pl.String,
              "record_id": pl.String, "probability": pl.Float64, "in_workbook": pl.String}
    return Review(total, pl.concat(full) if full else pl.DataFrame(schema=schema))


def _counted(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


_DIFFERS = {"bg_color": "#FFF2B3"}
_GOLDEN = {"bold": True, "bg_color": "#E2F0D9"}
_SHOWN = ("entity", "group", "kind", "record", "role", "probability", "evidence")
_ON_GOLDEN = ("entity", "group", "kind", "role")  # and the fields: the golden row's other cells stay empty


def _write_rows(sheet, cells: QuotedCells, rows: pl.DataFrame, fields, first_field: int, first_hidden: int) -> int:
    """Write the rows of `sheet_frame` below the header; return how many. Per cell, the text to write (None:
    no cell) and its style are worked out over whole columns (a formula's quote prefix by `risky`, the same
    test `QuotedCells` makes); the loop only hands them to xlsxwriter."""
    rows = rows.with_columns(pl.col("group").cast(pl.String))
    golden = pl.col("role") == "golden"
    texts, codes, at = [], [], []
    for c, name in enumerate(_SHOWN):
        on = ~golden if name not in _ON_GOLDEN else pl.lit(True)
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
    m = len(at)
    # An empty text without a style is no cell at all.
    frame = rows.select([t.alias(f"t{k}") for k, t in enumerate(texts)] + [c.alias(f"c{k}") for k, c in enumerate(codes)])
    frame = frame.with_columns([pl.when((pl.col(f"t{k}") == "") & (pl.col(f"c{k}") == 0)).then(None)
                                .otherwise(pl.col(f"t{k}")).alias(f"t{k}") for k in range(m)])
    styles = []
    for code in range(8):
        props = {**(_GOLDEN if code & 2 else {}), **(_DIFFERS if code & 4 and not code & 2 else {})}
        styles.append(cells.format(props or None, bool(code & 1)))
    write = sheet.write_string
    r = 0
    for r, row in enumerate(frame.iter_rows(), start=1):
        for k in range(m):
            text = row[k]
            if text is not None:
                write(r, at[k], text, styles[row[m + k]])
    return r


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
