"""External ids that stay with the golden record from one run to the next, so that a later run's upsert
updates the record the target already has instead of creating a second one.

A record id is derived from its source key (`merge.record_id`): the legacy id in its system where the row has
one, which is stable by construction; otherwise the source, sheet and row number, which moves when a row is
inserted or deleted above it. And a golden record takes the id of its first member by source priority, which
changes when a new row of a higher-priority source joins it. Against the migration state both are put right,
per golden record of this run, whole-frame:

1. it keeps the id its members were behind when the state last saw them, recognised by content (the keyed
   fingerprint of the source row, per source, where that fingerprint was one row's alone): a row that moved
   keeps its record, a cluster that gained a member keeps its id;
2. else it keeps its own id, unless another record has just claimed that id by content (a row inserted where
   another one stood): then it gets a new one, derived from its key and this batch's number.

A row both moved and changed cannot be recognised: it starts a new record, and the old one is withdrawn.
Children follow their account's id.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from crm_migrate.mappings.entities import Entity, has_account_link
from crm_migrate.migrate.columns import KEY, MERGED, OUTCOME, REASON, RECORD_ID, ROW, SEQ, SHEET, SOURCE, WRITTEN
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.merge import record_id


def keep_external_ids(migration, snapshot, prints: pl.DataFrame):
    """This run's migration with its golden record ids re-anchored on the state's (see the module): a new
    migration, the one given left as it is. Its ``moved`` says per entity how many golden records took
    another id than the one derived today."""
    moved: dict[Entity, int] = {}
    accounts: dict[str, str] = {}
    results = {}
    for entity, res in migration.entities.items():
        mapping = _mapping(entity, res.frame, snapshot, prints)
        frame = res.frame
        if mapping:
            frame = renamed(frame, mapping)
        if accounts and has_account_link(entity) and ACCOUNT in frame.columns:
            frame = frame.with_columns(pl.col(ACCOUNT).replace(accounts))
        results[entity] = replace(res, frame=frame)
        if entity is Entity.accounts:
            accounts = mapping
        moved[entity] = len(mapping)
    return replace(migration, entities=results, moved_ids=moved)


def renamed(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
    """``frame`` with the golden records of ``mapping`` (record id today -> the id to keep) under their kept id:
    the written and merged rows' record ids, and the "merged into" reasons that name them."""
    live = pl.col(OUTCOME).is_in([WRITTEN, MERGED])
    new = pl.col(RECORD_ID).replace(mapping)
    return frame.with_columns(
        pl.when(live).then(new).otherwise(pl.col(RECORD_ID)).alias(RECORD_ID),
        pl.when(live & (pl.col(OUTCOME) == MERGED) & pl.col(REASON).str.starts_with("merged into "))
        .then(pl.format("merged into {}", new))
        .otherwise(pl.col(REASON))
        .alias(REASON),
    )


def _mapping(entity: Entity, frame: pl.DataFrame, snapshot, prints: pl.DataFrame) -> dict[str, str]:
    before = snapshot.rows.filter((pl.col("entity") == entity.value) & pl.col("record_id").is_not_null())
    before = before.filter(pl.len().over("source", "fingerprint") == 1).select(
        "source", "fingerprint", pl.col("record_id").alias("_was")
    )
    if before.is_empty():
        return {}
    known = snapshot.records(entity)["external_id"].implode()
    positional = pl.concat_str(
        [pl.col(SOURCE), pl.col(SHEET).fill_null(""), pl.col(ROW).cast(pl.String)], separator="\x1f"
    ) == pl.col(KEY)
    # A golden record the state knows, led by a row with a legacy id (its survivor, the row written), keeps its id
    # as it is: only the others (new to the state, or led by a row known by its position) are looked at.
    settled = (
        frame.lazy()
        .filter((pl.col(OUTCOME) == WRITTEN) & ~positional & pl.col(RECORD_ID).is_in(known))
        .select(RECORD_ID)
        .collect()[RECORD_ID]
    )
    members = (
        frame.lazy()
        .filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
        .select(SEQ, SOURCE, SHEET, ROW, RECORD_ID, KEY)
        .collect()
    )
    members = (
        members.filter(~pl.col(RECORD_ID).is_in(settled.implode()))
        .join(prints.rename({"source": SOURCE}), on=[SOURCE, SHEET, ROW], how="left", nulls_equal=True)
        .with_columns(pl.len().over(SOURCE, "fingerprint").alias("_n"))
    )
    if members.is_empty():
        return {}
    members = members.join(before.rename({"source": SOURCE}), on=[SOURCE, "fingerprint"], how="left")
    # an id a settled record keeps is nobody else's to claim
    members = members.with_columns(
        pl.when((pl.col("_n") == 1) & ~pl.col("_was").is_in(settled.implode())).then(pl.col("_was")).alias("_was")
    )
    claimed = (
        members.filter(pl.col("_was").is_not_null())
        .sort(SEQ)
        .group_by(RECORD_ID, maintain_order=True)
        .agg(pl.col("_was").first(), pl.col(SEQ).first().alias("_at"))
        .sort("_at")
        .unique("_was", keep="first", maintain_order=True)
    )
    golden = (
        members.sort(SEQ)
        .group_by(RECORD_ID, maintain_order=True)
        .agg(pl.col(KEY).first())
        .join(claimed.select(RECORD_ID, "_was"), on=RECORD_ID, how="left")
    )
    taken = claimed["_was"]
    displaced = golden.filter(pl.col("_was").is_null() & pl.col(RECORD_ID).is_in(taken.implode()))
    fresh = {
        g: record_id(entity, f"{k}\x1fbatch {snapshot.batch}") for g, k in displaced.select(RECORD_ID, KEY).iter_rows()
    }  # the few records displaced by a moved row
    mapping = {
        g: w
        for g, w in golden.filter(pl.col("_was").is_not_null() & (pl.col("_was") != pl.col(RECORD_ID)))
        .select(RECORD_ID, "_was")
        .iter_rows()
    }
    return mapping | fresh
