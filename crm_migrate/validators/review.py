"""What a data steward reviews: duplicate groups with their evidence, golden-record provenance, orphans,
and stale decisions.

``review/duplicates.xlsx`` holds, per entity, one sheet of groups: every merged cluster and every pair in
the review band, each member record side by side with its values as read (sensitive ones masked), the
cells where members differ highlighted, the best score and its evidence, and the proposed golden record.
The ``decision`` column has a drop-down (merge / keep apart / merge into); the filled-in workbook, given
back with ``run --decisions``, is applied on the next run (see `crm_migrate.migrate.decisions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_migrate.cleaners.codes import mask
from crm_migrate.cleaners.masking import mask_texts, masked_whole
from crm_migrate.mappings.entities import FieldType
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
from crm_migrate.migrate.formulas import PLAIN_FIELDS, QuotedCells
from crm_migrate.migrate.link import ORPHAN_RULES, ORPHANED
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.merge import FROM
from crm_migrate.migrate.pipeline import EntityResult, Migration

MAX_ROWS = 200_000  # per sheet; the rest is counted on the how-to sheet
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


@dataclass
class Group:
    kind: str  # merge | review
    rows: pl.DataFrame  # member rows of the frame, with _i (position), _ref, best probability and evidence
    golden: dict[str, str | None]


def groups(result: EntityResult) -> list[Group]:
    """Merged clusters of two or more records, then review-band pairs between different records."""
    frame = result.frame.with_row_index("_i")
    members = frame.filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
    pairs = result.matches.pairs if result.matches is not None else pl.DataFrame(
        schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64})
    comparisons = result.matches.comparisons if result.matches is not None else []
    settings = result.settings
    out: list[Group] = []
    sizes = members.group_by(RECORD_ID).len().filter(pl.col("len") > 1)
    clustered = members.join(sizes.select(RECORD_ID), on=RECORD_ID, how="semi")
    record_of = dict(zip(members["_i"].to_list(), members[RECORD_ID].to_list(), strict=True))
    best = _best_pairs(pairs, record_of)
    for rows in _by(clustered, RECORD_ID):
        out.append(Group("merge", _annotate(rows, best, comparisons), _golden(rows, result)))
    if settings is not None and pairs.height:
        review = result.review_pairs()
        seen: set[tuple[str, str]] = set()
        for pair in review.sort(MOST_LIKELY_FIRST, descending=[True, False, False]).iter_rows(named=True):
            a, b = record_of.get(pair["l"]), record_of.get(pair["r"])
            if a is None or b is None or a == b or (min(a, b), max(a, b)) in seen:
                continue
            seen.add((min(a, b), max(a, b)))
            rows = members.filter(pl.col(RECORD_ID).is_in([a, b])).sort(SEQ)
            note = {"probability": pair["probability"], "evidence": evidence(pair, comparisons)}
            out.append(Group("review", _annotate(rows, best, comparisons, note), _golden(rows, result)))
    return out


def _by(frame: pl.DataFrame, column: str):
    for _, rows in frame.sort(SEQ).group_by(column, maintain_order=True):
        yield rows


MOST_LIKELY_FIRST = ["probability", "l", "r"]  # ties in record order, so the workbook is the same every run


def _best_pairs(pairs: pl.DataFrame, record_of: dict[int, str]) -> dict[int, dict]:
    """Per record position, its most likely scored pair with another member of the same record."""
    if pairs.height == 0:
        return {}
    same = pairs.with_columns(
        pl.col("l").replace_strict(record_of, default=None, return_dtype=pl.String).alias("_a"),
        pl.col("r").replace_strict(record_of, default=None, return_dtype=pl.String).alias("_b"),
    ).filter(pl.col("_a").is_not_null() & (pl.col("_a") == pl.col("_b")))
    best: dict[int, dict] = {}
    for pair in same.sort(MOST_LIKELY_FIRST, descending=[True, False, False]).iter_rows(named=True):
        for side in (pair["l"], pair["r"]):
            best.setdefault(side, pair)
    return best


def _annotate(rows: pl.DataFrame, best: dict[int, dict], comparisons, note: dict | None = None) -> pl.DataFrame:
    probability, text = [], []
    for i, rule in zip(rows["_i"].to_list(), rows[RULE].to_list(), strict=True):
        pair = best.get(i)
        if note is not None:
            probability.append(note["probability"])
            text.append(note["evidence"])
        elif pair is not None:
            probability.append(pair["probability"])
            text.append(evidence(pair, comparisons))
        else:
            probability.append(None)
            text.append("same source record, credit code or ID number" if rule == "duplicate" else "")
    return rows.with_columns(pl.Series("_probability", probability, dtype=pl.Float64),
                             pl.Series("_evidence", text, dtype=pl.String))


def _golden(rows: pl.DataFrame, result: EntityResult) -> dict[str, str | None]:
    survivor = rows.filter(pl.col(OUTCOME) == WRITTEN)
    if survivor.height == 0:
        return {}
    row = survivor.row(0, named=True)
    return {spec.name: row.get(val(spec.name)) for spec in result.fields}


def write_workbook(path: Path, migration: Migration) -> int:
    """Write review/duplicates.xlsx; return the number of groups listed."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    # Every text a spreadsheet would take for a formula gets the quote-prefix style, its value unchanged.
    cells = QuotedCells(book)
    header = {"bold": True, "bg_color": "#DDE4EE", "border": 1}
    differs = {"bg_color": "#FFF2B3"}
    golden_format = {"bold": True, "bg_color": "#E2F0D9"}
    how = book.add_worksheet("How to use")
    for i, line in enumerate(HOW_TO.splitlines()):
        cells.write(how, i, 0, line)
    how.set_column(0, 0, 140)
    total, line = 0, len(HOW_TO.splitlines()) + 1
    for entity, result in migration.entities.items():
        found = groups(result)
        if not found:
            continue
        sheet = book.add_worksheet(entity.value)
        fields = result.fields
        sensitive = {s.name for s in fields if s.sensitive or s.type is FieldType.id_card}
        columns = ["entity", "group", "kind", "record", "role", "probability", "evidence", "decision", "into",
                   *(s.name for s in fields), "members", "fingerprint"]
        for c, name in enumerate(columns):
            cells.write(sheet, 0, c, name, header)
        first_field = columns.index("into") + 1
        r, listed = 1, 0
        masked = iter(_shown(found, fields, migration.project.config.options.mask_mobiles))
        for number, group in enumerate(found, start=1):
            rows = group.rows.with_columns(refs().alias("_ref"))
            if r + rows.height + 1 > MAX_ROWS:
                break
            listed += 1
            member_refs = "; ".join(rows["_ref"].to_list())
            prints = fingerprints(rows, fields, migration.secret)  # of the values as read, not as shown
            values = {s.name: [_show(next(masked), s.name in sensitive) for _ in range(rows.height)] for s in fields}
            evidence = [next(masked) for _ in range(rows.height)]
            golden = {s.name: next(masked) for s in fields}
            for k, row in enumerate(rows.iter_rows(named=True)):
                role = "survivor" if row[OUTCOME] == WRITTEN else ("merged" if group.kind == "merge" else "candidate")
                row_cells = [entity.value, str(number), group.kind, row["_ref"], role,
                         "" if row["_probability"] is None else f"{row['_probability']:.4f}",
                         evidence[k] or "", "", ""]
                for c, text in enumerate(row_cells):
                    cells.write(sheet, r, c, text)
                for c, spec in enumerate(fields):
                    shown = values[spec.name][k]
                    distinct = {v for v in values[spec.name] if v}
                    cells.write(sheet, r, first_field + c, shown or "", differs if len(distinct) > 1 and shown else None,
                                spec.type in PLAIN_FIELDS)
                cells.write(sheet, r, len(columns) - 2, member_refs)
                cells.write(sheet, r, len(columns) - 1, prints[k])
                r += 1
            for c, text in ((0, entity.value), (1, str(number)), (2, group.kind), (4, "golden")):
                cells.write(sheet, r, c, text, golden_format)
            for c, spec in enumerate(fields):
                cells.write(sheet, r, first_field + c, _show(golden[spec.name], spec.name in sensitive) or "",
                            golden_format, spec.type in PLAIN_FIELDS)
            r += 1
        if r > 1:
            sheet.data_validation(1, columns.index("decision"), r - 1, columns.index("decision"),
                                  {"validate": "list", "source": list(CHOICES)})
        sheet.freeze_panes(1, 4)
        sheet.autofilter(0, 0, max(r - 1, 1), len(columns) - 1)
        sheet.set_column(columns.index("evidence"), columns.index("evidence"), 60)
        sheet.set_column(len(columns) - 2, len(columns) - 1, None, None, {"hidden": True})
        total += listed
        if listed < len(found):
            cells.write(how, line, 0, f"{entity.value}: {len(found) - listed} more groups than fit on the sheet "
                             f"are not listed; raise the merge threshold or review in several rounds.")
            line += 1
    book.close()
    return total


def _show(value: str | None, sensitive: bool) -> str | None:
    return mask(value) if sensitive and value else value


def _shown(found: list[Group], fields, mobiles: bool) -> list[str | None]:
    """The texts the workbook shows of every group, in the order it writes them (per group: each field's
    member values as read, the members' evidence, the golden values), with ID numbers (and, by the project
    option, mobiles) masked wherever they appear, 备注 included: one pass over the whole sheet."""
    texts: list[str | None] = []
    for group in found:
        rows = group.rows
        for s in fields:
            texts += rows[raw(s.name)].to_list() if raw(s.name) in rows.columns else [None] * rows.height
        texts += rows["_evidence"].to_list()
        texts += [group.golden.get(s.name) for s in fields]
    return mask_texts(texts, mobiles)


def provenance_frame(migration: Migration) -> pl.DataFrame:
    """For every golden record built from two or more source rows: each field's value and the source row
    it came from."""
    parts = []
    for entity, result in migration.entities.items():
        frame = result.frame
        origin = frame.select(pl.col(SEQ), pl.col(SOURCE).alias("from_source"), pl.col(SHEET).alias("from_sheet"),
                              pl.col(ROW).alias("from_row"))
        merged = frame.filter(pl.col(OUTCOME) == MERGED).select(RECORD_ID).unique()
        survivors = frame.filter((pl.col(OUTCOME) == WRITTEN) & pl.col(RECORD_ID).is_in(merged[RECORD_ID].implode()))
        sensitive = {s.name for s in result.fields if s.sensitive or s.type is FieldType.id_card}
        for spec in result.fields:
            source = f"{FROM}{spec.name}"
            if source not in frame.columns:
                continue
            value = pl.col(val(spec.name))
            if spec.name in sensitive:
                value = masked_whole(value)
            part = survivors.filter(pl.col(source).is_not_null()).select(
                pl.lit(entity.value).alias("entity"), pl.col(RECORD_ID).alias("record_id"),
                pl.lit(spec.name).alias("field"), value.alias("value"), pl.col(source).alias(SEQ))
            parts.append(part.join(origin, on=SEQ, how="left").drop(SEQ))
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
        orphans = frame.filter(pl.col(RULE).is_in(ORPHAN_RULES) | placed)
        if orphans.height:
            parts.append(orphans.select(
                pl.lit(entity.value).alias("entity"), pl.col(SOURCE).alias("source"), pl.col(SHEET).alias("sheet"),
                pl.col(ROW).alias("row"), pl.col(OUTCOME).alias("outcome"),
                pl.when(placed).then(pl.lit("linked to the placeholder account: ") + pl.col(ORPHANED))
                .otherwise(pl.col(REASON)).alias("reason")))
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
