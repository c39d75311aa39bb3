"""What a data steward reviews: duplicate groups with their evidence, golden-record provenance, orphans,
and stale decisions.

Per entity, the groups of ``review/duplicates.xlsx`` (written by `crm_migrate.reports.workbook`): each
record in one group, a group being the records joined by a merge, by a review-band pair or by a steward's
decision. Review groups first (most likely first), then merged ones (the least certain first, those merged
by identity alone last), then those the steward decided; each member record with its values as read
(sensitive ones masked), the cells where members differ highlighted, its best pair's probability and
evidence, the steward's decision on it, and the proposed golden record. At most ``options.review.max_rows``
rows a sheet besides the decided groups; every group is listed in ``review/duplicate_groups.csv``. All of
it is built over whole frames (joins, group_by, connected components); only the evidence texts,
fingerprints and masks of the rows shown are worked out.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from crm_migrate.migrate.link import ORPHAN_RULES, ORPHANED
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.merge import FROM
from crm_migrate.migrate.pipeline import EntityResult, Migration
from crm_migrate.reports.workbook import ReviewSheet
from crm_migrate.reports.workbook import write_workbook as write_sheets

MAX_ROWS = ReviewOptions.model_fields["max_rows"].default  # per sheet (options.review.max_rows); the rest is counted
# on the Summary sheet
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


@dataclass
class Review:
    """What `write_workbook` wrote: the groups listed on its sheets, and the full list of groups (every
    entity's, listed or not) for ``review/duplicate_groups.csv``."""

    listed: int
    groups: pl.DataFrame


def write_workbook(path: Path, migration: Migration) -> Review:
    """Write review/duplicates.xlsx, at most ``options.review.max_rows`` rows a sheet (every decided group
    besides); return the number of groups listed and the full list of groups, for the caller to write beside
    it as ``review/duplicate_groups.csv``. Each entity's groups are built as the workbook reaches its sheet."""
    options = migration.project.config.options
    max_rows = options.review.max_rows
    full: list[pl.DataFrame] = []

    def sheets() -> Iterator[ReviewSheet]:
        for entity, result in migration.entities.items():
            stale = len(result.decisions.stale) if result.decisions else 0
            found = groups(result, max_rows)
            if found.keys.height == 0:
                if stale:
                    yield ReviewSheet(entity.value, found.keys, found.listed, stale)
                continue
            full.append(groups_frame(found, entity.value))
            thresholds = (
                {"merge": result.settings.merge, "review": result.settings.review}
                if result.settings is not None
                else {}
            )
            yield ReviewSheet(
                entity.value,
                found.keys,
                found.listed,
                stale,
                sheet_frame(found, result, entity.value, migration.secret, options.mask_mobiles),
                result.fields,
                **thresholds,
            )

    listed = write_sheets(path, sheets(), max_rows, CHOICES)
    schema = {
        "entity": pl.String,
        "group": pl.String,
        "kind": pl.String,
        "record": pl.String,
        "record_id": pl.String,
        "probability": pl.Float64,
        "in_workbook": pl.String,
    }
    return Review(listed, pl.concat(full) if full else pl.DataFrame(schema=schema))


def _decided(result: EntityResult, members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The steward's applied decisions: per decided row its decision and ``into`` (the first, where an earlier
    workbook listed a row twice), and per row kept apart the rows it was kept apart from, as record pairs."""
    applied = result.decisions
    index = members["_i"].dtype
    rows = pl.DataFrame(
        {
            "_i": [i for i, _ in applied.decided] if applied else [],
            "decision": [d.decision for _, d in applied.decided] if applied else [],
            "into": [d.into for _, d in applied.decided] if applied else [],
        },
        schema={"_i": index, "decision": pl.String, "into": pl.String},
    )
    rows = rows.unique("_i", keep="first", maintain_order=True).join(members.select("_i"), on="_i")
    vetoes = pl.DataFrame(
        {
            "l": [a for a, _ in applied.vetoes] if applied else [],
            "r": [b for _, b in applied.vetoes] if applied else [],
        },
        schema={"l": index, "r": index},
    )
    ids = members.select("_i", "_c")
    apart = (
        vetoes.join(ids.rename({"_i": "l", "_c": "_a"}), on="l")
        .join(ids.rename({"_i": "r", "_c": "_b"}), on="r")
        .filter(pl.col("_a") != pl.col("_b"))
        .select("_a", "_b")
    )
    return rows, apart


def _components(nodes: pl.Series, links: pl.DataFrame) -> pl.DataFrame:
    """Per node (a record's code), the smallest node it is linked to through ``links`` (``_a``, ``_b``)."""
    import numpy as np

    from crm_migrate.migrate.clustering import components

    at = nodes.unique().sort().to_numpy()
    ends = np.column_stack([links["_a"].to_numpy(), links["_b"].to_numpy()]).astype(np.int64).reshape(-1, 2)
    root = components(at.size, np.searchsorted(at, ends))
    return pl.DataFrame({"_c": at, "_g": at[root]}).with_columns(
        pl.col("_g").cast(nodes.dtype), pl.col("_c").cast(nodes.dtype)
    )


def groups(result: EntityResult, max_rows: int = MAX_ROWS) -> Groups:
    """One group per set of records linked by the merges, the review-band pairs between records and the
    steward's decisions, so each record is in one group: a merged record with its review candidates beside
    it. Numbered in workbook order; the groups whose rows (members and golden row) fit within ``max_rows``,
    and every group the steward decided, are listed."""
    frame = result.frame.select(SEQ, OUTCOME, RULE, RECORD_ID, SOURCE, SHEET, ROW).with_row_index("_i")
    members = frame.filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))  # the values only for the rows listed
    index = members["_i"].dtype
    pairs = result.matches.pairs if result.matches is not None else pl.DataFrame(schema=_NO_PAIRS)
    pairs = (
        pairs.select("l", "r", "probability")
        .with_row_index("_p")
        .with_columns(pl.col("l").cast(index), pl.col("r").cast(index))
    )
    # Each pair's two records as numbers, not as their ids' text (16 bytes a row and the text itself, per side
    # of every candidate pair: at 2M records the groups' rise 888 -> 714 MB). The number is the id's dense rank,
    # so comparing two numbers (equal, smaller) says what comparing the two ids would, and the groups' order
    # is the same; the ids' text is taken back for the few groups found.
    members = members.with_columns(pl.col(RECORD_ID).rank("dense").alias("_c"))
    ids = members.select("_i", "_c")
    sides = pairs.join(ids.rename({"_i": "l", "_c": "_a"}), on="l").join(ids.rename({"_i": "r", "_c": "_b"}), on="r")
    sizes = members.group_by("_c").agg(pl.len().alias("_n"), pl.col(SEQ).min().alias("_first"))

    # Per member position, its most likely pair with another member of the same record.
    same = sides.filter(pl.col("_a") == pl.col("_b")).sort(MOST_LIKELY_FIRST, descending=[True, False, False])
    same = same.with_row_index("_o")
    best = (
        pl.concat([same.select("_o", pl.col("l").alias("_i"), "_p"), same.select("_o", pl.col("r").alias("_i"), "_p")])
        .group_by("_i")
        .agg(pl.col("_p").sort_by("_o").first().alias("_bp"))
    )

    # Review pairs: one per two records, the most likely.
    if result.settings is not None:
        p = pl.col("probability")
        band = sides.filter(
            (p >= result.settings.review) & (p < result.settings.merge) & (pl.col("_a") != pl.col("_b"))
        )
    else:
        band = sides.clear()
    review = (
        band.with_columns(pl.min_horizontal("_a", "_b").alias("_lo"), pl.max_horizontal("_a", "_b").alias("_hi"))
        .sort(MOST_LIKELY_FIRST, descending=[True, False, False])
        .unique(["_lo", "_hi"], keep="first", maintain_order=True)
    )
    # Per record in a review pair, its most likely one and the member it names (``_re``).
    ends = (
        pl.concat(
            [
                review.select(pl.col("_a").alias("_c"), pl.col("l").alias("_re"), "_p", "probability"),
                review.select(pl.col("_b").alias("_c"), pl.col("r").alias("_re"), "_p", "probability"),
            ]
        )
        .sort(MOST_LIKELY_FIRST[:1] + ["_p"], descending=[True, False])
        .group_by("_c")
        .agg(pl.col("_re").first(), pl.col("_p").first().alias("_rp"), pl.col("probability").max().alias("_rprob"))
    )
    decided, apart = _decided(result, members)

    # Records that form groups (merged ones, those in a review pair, those a steward decided) and the links
    # between them; a group is the records linked to one another.
    nodes = pl.concat(
        [
            sizes.filter(pl.col("_n") > 1)["_c"],
            review["_a"],
            review["_b"],
            apart["_a"],
            apart["_b"],
            decided.join(ids, on="_i")["_c"],
        ]
    )
    links = pl.concat([review.select("_a", "_b"), apart])
    record = (
        _components(nodes, links)
        .join(sizes, on="_c")
        .join(ends, on="_c", how="left")
        .join(members.join(decided, on="_i").group_by("_c").agg(pl.len().alias("_decided")), on="_c", how="left")
    )
    # The group's own record: the largest, then the first read.
    record = record.sort(["_g", "_n", "_first"], descending=[False, True, False]).with_columns(
        pl.col("_g").is_first_distinct().alias("_main")
    )
    lowest = (
        members.join(best, on="_i")
        .join(pairs.select("_p", "probability"), left_on="_bp", right_on="_p")
        .group_by("_c")
        .agg(pl.col("probability").min().alias("_low"))
    )
    pairs_in = (
        review.join(record.select(pl.col("_c").alias("_a"), "_g"), on="_a").group_by("_g").agg(pl.len().alias("_pairs"))
    )
    keys = (
        record.join(lowest, on="_c", how="left")
        .group_by("_g")
        .agg(
            pl.col("_n").sum(),
            pl.col("_first").min(),
            pl.col("_decided").sum().alias("_d"),
            pl.col("_rprob").max(),
            pl.col("_low").filter(pl.col("_main")).min(),
        )
        .with_columns(
            pl.when(pl.col("_d") > 0)
            .then(pl.lit("decided"))
            .when(pl.col("_rprob").is_not_null())
            .then(pl.lit("review"))
            .otherwise(pl.lit("merge"))
            .alias("kind")
        )
        .with_columns(
            pl.when(pl.col("kind") == "review")
            .then(pl.col("_rprob"))
            .when(pl.col("kind") == "merge")
            .then(pl.col("_low"))
            .alias("probability"),
            pl.col("kind").replace_strict({"review": 0, "merge": 1, "decided": 2}).alias("_kind"),
        )
        .join(pairs_in, on="_g", how="left")
        .with_columns(pl.col("_pairs").fill_null(0))
    )
    # Review groups the most likely first, merged groups the least certain first (merged by identity alone,
    # with no scored pair, last), decided groups in record order; ties in record order.
    keys = keys.sort(
        [
            "_kind",
            pl.when(pl.col("_kind") == 0).then(-pl.col("probability")).otherwise(pl.col("probability")),
            "_first",
        ],
        nulls_last=True,
    )
    # Every decided group is listed (its decisions come back with the next workbook); the others while they fit.
    decided_rows = int(keys.filter(pl.col("_kind") == 2)["_n"].sum()) + int((keys["_kind"] == 2).sum())
    fits = (
        pl.when(pl.col("_kind") == 2)
        .then(True)
        .otherwise(((pl.col("_n") + 1) * (pl.col("_kind") != 2)).cum_sum() <= max(max_rows - decided_rows, 0))
    )
    keys = (
        keys.with_columns(fits.alias("_listed"))
        .sort([~pl.col("_listed"), pl.col("_kind") == 2], maintain_order=True)
        .with_row_index("group", offset=1)
        .select("group", "kind", "probability", "_n", "_pairs", "_g", "_listed")
    )
    listed = int(keys["_listed"].sum())

    main = pl.col("_main")
    rows = (
        members.join(record.select("_c", "_g", "_main", "_n", "_first", "_re", "_rp"), on="_c")
        .join(keys.select("_g", "group", "kind"), on="_g")
        .join(best, on="_i", how="left")
        .join(decided, on="_i", how="left")
        .with_columns(
            # A record's member named by its review pair shows that pair, a merged member its own best pair.
            pl.when((pl.col("_i") == pl.col("_re")) & (~main | (pl.col("_n") == 1)))
            .then(pl.col("_rp"))
            .when(pl.col("_n") > 1)
            .then(pl.col("_bp"))
            .otherwise(pl.col("_rp"))
            .alias("_p"),
            pl.when(main & (pl.col(OUTCOME) == WRITTEN))
            .then(pl.lit("survivor"))
            .when(main)
            .then(pl.lit("merged"))
            .when(pl.col("_rp").is_not_null())
            .then(pl.lit("candidate"))
            .otherwise(pl.lit("kept apart"))
            .alias("role"),
            refs().alias("_ref"),
        )
        .join(pairs.select("_p", pl.col("probability").alias("_probability")), on="_p", how="left")
        .sort(["group", ~main, "_first", pl.col(OUTCOME) != WRITTEN, SEQ])
        .drop("_bp", "_rp", "_re", "_first", "_n", "_g")
    )
    return Groups(keys.drop("_g", "_listed"), rows, listed)


def _evidence(rows: pl.DataFrame, result: EntityResult) -> pl.Series:
    """The evidence text of each row: its pair's, computed once per distinct evidence of the pairs shown (the
    levels, weights and doubts a text is made of: a few thousand at most, however many pairs); without a pair,
    what merged it."""
    wanted = rows["_p"].drop_nulls().unique()
    paired = pl.Series("_e", [None] * rows.height, dtype=pl.String)
    if wanted.len() and result.matches is not None:
        comparisons = result.matches.comparisons
        pairs = result.matches.pairs
        read = [
            c
            for comp in comparisons
            for c in (f"level:{comp.name}", f"weight:{comp.name}", f"doubt:{comp.name}")
            if c in pairs.columns
        ]
        shown = pairs.select(read).with_row_index("_p").filter(pl.col("_p").is_in(wanted.implode()))
        if read:
            kinds = shown.group_by(read, maintain_order=True).agg(pl.col("_p"))
            said = [evidence(kind, comparisons) for kind in kinds.select(read).iter_rows(named=True)]
        else:
            kinds, said = shown.select(pl.col("_p").implode()), [evidence({}, comparisons)]
        texts = kinds.select("_p", pl.Series("_e", said, dtype=pl.String)).explode("_p")
        paired = rows.select("_p").join(texts, on="_p", how="left", maintain_order="left")["_e"]
    frame = pl.DataFrame({"_e": paired, RULE: rows[RULE]})
    return frame.select(
        pl.when(pl.col("_e").is_not_null())
        .then(pl.col("_e"))
        .when(pl.col(RULE) == "duplicate")
        .then(pl.lit(IDENTITY))
        .otherwise(pl.lit(""))
        .alias("evidence")
    )["evidence"]


def sheet_frame(found: Groups, result: EntityResult, entity: str, secret: bytes, mobiles: bool) -> pl.DataFrame:
    """Every row the sheet shows, in order: per listed group its members, then its golden row (``role``
    golden); ID numbers (and by the project option mobiles) masked wherever they appear, the values of a
    sensitive field masked whole; ``_d:<field>`` says where a member's value differs from another member's."""
    fields = result.fields
    rows = found.rows.filter(pl.col("group") <= found.listed)
    wanted = [
        c
        for c in dict.fromkeys([raw(ID_FIELD), *(raw(s.name) for s in fields), *(val(s.name) for s in fields)])
        if c in result.frame.columns
    ]
    if wanted:
        rows = pl.concat([rows, result.frame.select(pl.col(wanted).gather(rows["_i"]))], how="horizontal")
    values = [
        (pl.col(raw(s.name)) if raw(s.name) in rows.columns else pl.lit(None, pl.String)).alias(s.name) for s in fields
    ]
    goldens = [
        (pl.col(val(s.name)) if val(s.name) in rows.columns else pl.lit(None, pl.String)).alias(s.name) for s in fields
    ]
    joined = rows.group_by("group").agg(pl.col("_ref").str.join("; ").alias("members"))
    steward = pl.format("decided by the steward: {}", pl.col("decision"))
    shown = rows.select(
        "group",
        pl.lit(0).alias("_order"),
        "kind",
        pl.col("_ref").alias("record"),
        "role",
        pl.col("_probability").alias("probability"),
        "decision",
        pl.when(pl.col("decision") == MERGE_INTO).then(pl.col("into")).alias("into"),
        *values,
    ).with_columns(
        _evidence(rows, result), pl.Series("fingerprint", fingerprints(rows, fields, secret), dtype=pl.String)
    )
    shown = shown.with_columns(
        pl.when(pl.col("decision").is_null())
        .then(pl.col("evidence"))
        .when(pl.col("decision") == MERGE_INTO)
        .then(pl.concat_str([steward, pl.lit(" "), pl.col("into")]))
        .otherwise(steward)
        .alias("_steward")
    )
    shown = shown.with_columns(
        pl.when(pl.col("decision").is_null() | (pl.col("evidence") == ""))
        .then(pl.col("_steward"))
        .otherwise(pl.concat_str([pl.col("_steward"), pl.lit("; "), pl.col("evidence")]))
        .alias("evidence")
    ).drop("_steward")
    shown = shown.join(joined, on="group", how="left", maintain_order="left")
    survivor = (
        rows.filter(pl.col("_main") & (pl.col(OUTCOME) == WRITTEN))
        .unique("group", keep="first", maintain_order=True)
        .select("group", *goldens)
    )
    golden = (
        found.keys.head(found.listed)
        .select("group", "kind")
        .join(survivor, on="group", how="left", maintain_order="left")
        .with_columns(pl.lit(1).alias("_order"), pl.lit("golden").alias("role"))
    )
    sheet = pl.concat([shown, golden], how="diagonal_relaxed").sort(["group", "_order"], maintain_order=True)
    sheet = mask_frame(
        sheet, mobiles, keep=("kind", "record", "role", "probability", "decision", "into", "members", "fingerprint")
    )
    sensitive = {s.name for s in fields if s.sensitive or s.type is FieldType.id_card}
    sheet = sheet.with_columns([masked_whole(pl.col(n)).alias(n) for n in sensitive])
    member = pl.col("_order") == 0
    return sheet.with_columns(
        [
            (
                member
                & (pl.col(s.name).fill_null("") != "")
                & (pl.col(s.name).filter(member & (pl.col(s.name).fill_null("") != "")).n_unique().over("group") > 1)
            ).alias(f"_d:{s.name}")
            for s in fields
        ]
    ).with_columns(pl.lit(entity).alias("entity"))


def groups_frame(found: Groups, entity: str) -> pl.DataFrame:
    """The full list of groups, listed on the sheet or not: one line per member record, no values."""
    return found.rows.select(
        pl.lit(entity).alias("entity"),
        pl.col("group").cast(pl.String),
        "kind",
        pl.col("_ref").alias("record"),
        pl.col(RECORD_ID).alias("record_id"),
        pl.col("_probability").round(4).alias("probability"),
        pl.when(pl.col("group") <= found.listed).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("in_workbook"),
    )


PROVENANCE = {  # its columns: the golden record's field, its value, and the source row it came from
    **{c: pl.String for c in ("entity", "record_id", "field", "value", "from_source", "from_sheet")},
    "from_row": pl.Int64,
}
PROVENANCE_ROWS = 250_000  # rows of review/provenance.csv made and written at a time


def provenance_parts(migration: Migration) -> Iterator[pl.DataFrame]:
    """For every golden record built from two or more source rows: each field's value and the source row
    it came from; entity by entity in alphabetical order, each entity's records by id, each record's fields
    in the entity's order, in slices of `PROVENANCE_ROWS` written one after the other (at 1M records the whole
    table is 1.8M rows). No entity has any: one empty frame."""
    made = False
    for entity, result in sorted(migration.entities.items(), key=lambda kv: kv[0].value):
        frame = result.frame
        fields = [s for s in result.fields if f"{FROM}{s.name}" in frame.columns]
        if not fields:
            continue
        merged = frame.lazy().filter(pl.col(OUTCOME) == MERGED).select(RECORD_ID).unique().collect()
        sensitive = {s.name for s in result.fields if s.sensitive or s.type is FieldType.id_card}
        # The survivors once, with only the columns read (a filter of the whole frame copies the entity), then
        # one long table of (record, field, value, member) and one join for where each member was read. The
        # order (record id, then field) is sorted on one number: the survivor's rank by its id, then the
        # field's place.
        survivors = (
            frame.lazy()
            .filter((pl.col(OUTCOME) == WRITTEN) & pl.col(RECORD_ID).is_in(merged[RECORD_ID].implode()))
            .select(RECORD_ID, *(val(s.name) for s in fields), *(f"{FROM}{s.name}" for s in fields))
            .with_columns((pl.col(RECORD_ID).rank("dense").cast(pl.UInt64) * len(fields)).alias("_r"))
            .collect()
        )
        long = (
            pl.concat(
                [
                    survivors.lazy()
                    .filter(pl.col(f"{FROM}{spec.name}").is_not_null())
                    .select(
                        pl.lit(entity.value).alias("entity"),
                        pl.col(RECORD_ID).alias("record_id"),
                        pl.lit(spec.name).alias("field"),
                        (
                            masked_whole(pl.col(val(spec.name))) if spec.name in sensitive else pl.col(val(spec.name))
                        ).alias("value"),
                        pl.col(f"{FROM}{spec.name}").alias(SEQ),
                        (pl.col("_r") + f).alias("_r"),
                    )
                    for f, spec in enumerate(fields)
                ]
            )
            .sort("_r", maintain_order=True)
            .drop("_r")
            .collect()
        )
        del survivors
        origin = frame.select(
            pl.col(SEQ),
            pl.col(SOURCE).alias("from_source"),
            pl.col(SHEET).alias("from_sheet"),
            pl.col(ROW).alias("from_row"),
        )
        # Masked whole, before it is sliced: a number found in one row is masked wherever it appears (`mask_frame`),
        # whichever slice holds it.
        long = mask_frame(long, migration.project.config.options.mask_mobiles, keep=("record_id",))
        for start in range(0, long.height, PROVENANCE_ROWS):  # where each was read joined, written a slice
            made = True
            yield (
                long.slice(start, PROVENANCE_ROWS)
                .join(origin, on=SEQ, how="left", maintain_order="left")
                .drop(SEQ)
                .with_columns(pl.col("value").cast(pl.String))
            )
        del long, origin
    if not made:
        yield pl.DataFrame(schema=PROVENANCE)


def orphans_frame(migration: Migration) -> pl.DataFrame:
    """Child rows whose account link points at no account (they are in rejects/ too), and children linked to
    the placeholder account instead (``options.orphans``), with the reason; here together."""
    parts = []
    for entity, result in migration.entities.items():
        frame = result.frame
        placed = pl.col(ORPHANED).is_not_null() if ORPHANED in frame.columns else pl.lit(False)
        orphans = (
            frame.lazy()
            .filter(pl.col(RULE).is_in(ORPHAN_RULES) | placed)
            .select(
                pl.lit(entity.value).alias("entity"),
                pl.col(SOURCE).alias("source"),
                pl.col(SHEET).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.col(OUTCOME).alias("outcome"),
                (
                    pl.when(placed)
                    .then(pl.lit("linked to the placeholder account: ") + pl.col(ORPHANED))
                    .otherwise(pl.col(REASON))
                    if ORPHANED in frame.columns
                    else pl.col(REASON)
                ).alias("reason"),
            )
            .collect()
        )
        if orphans.height:
            parts.append(orphans)
    if not parts:
        return pl.DataFrame(
            schema={
                "entity": pl.String,
                "source": pl.String,
                "sheet": pl.String,
                "row": pl.Int64,
                "outcome": pl.String,
                "reason": pl.String,
            }
        )
    return pl.concat(parts)


def stale_frame(migration: Migration) -> pl.DataFrame:
    rows = [
        {
            "entity": d.decision.entity.value,
            "record": d.decision.record,
            "decision": d.decision.decision,
            "into": d.decision.into,
            "read_from": d.decision.origin,
            "why_not_applied": d.why,
        }
        for result in migration.entities.values()
        if result.decisions
        for d in result.decisions.stale
    ]
    schema = {c: pl.String for c in ("entity", "record", "decision", "into", "read_from", "why_not_applied")}
    return pl.DataFrame(rows, schema=schema)
