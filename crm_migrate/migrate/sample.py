"""Choosing the dry run's sample: a few hundred source rows that exercise what the full run will meet.

In this order, each step within its share of the size asked for:

1. problems: rows the cleaners or the target rejected, and rows with a value a cleaner could not keep, a
   few of each rule, so every kind of problem the full run has shows up in the sample;
2. every source and every entity it feeds, with each outcome it has (written, merged, filtered);
3. whole duplicate clusters (every member), and both records of pairs left for review;
4. the rows the cleaners changed most;
5. rows spread evenly over each source, up to the size.

Before step 5 and after it, whatever the size: the account of every child chosen (all the rows merged into it, or the rows that
carry the legacy id it names), so a link in the sample points where it points in the full run, and one
child for accounts that have some, so that links are exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from crm_migrate.mappings.entities import ACCOUNT_LINK, ID_FIELD, Entity, has_account_link
from crm_migrate.migrate.columns import (
    MERGED,
    OUTCOME,
    RECORD_ID,
    REJECTED,
    ROW,
    RULE,
    SHEET,
    SOURCE,
    SYSTEM,
    WRITTEN,
    raw,
    val,
    why,
)
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.pipeline import Migration, Sample

PER_RULE = 5  # rows per rejection rule or invalid-value reason
PER_SOURCE = 3  # rows per source, entity and outcome
CHILDREN = 5  # accounts of the sample given one of their children, per child entity
KEY = [SOURCE, SHEET, ROW]


@dataclass
class Chosen:
    rows: pl.DataFrame  # _source, _sheet, _row, why (the first reason the row was chosen)
    counts: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def sample(self) -> Sample:
        return {s: part.select(SHEET, ROW) for (s,), part in self.rows.partition_by(SOURCE, as_dict=True).items()}


def choose(migration: Migration, size: int = 300) -> Chosen:
    # Only the columns choosing reads, and how many values the cleaners changed per row: every filter, sort
    # and partition below then copies a few columns, not the hundreds of an entity's frame (at 1M rows, the
    # whole frames copied made the dry run's peak, 1.4 GB over the prepare's).
    frames = {e: _narrow(r.frame, r.fields) for e, r in migration.entities.items() if r.frame.height}
    picked: list[pl.DataFrame] = []

    def take(rows: pl.DataFrame, reason: str, limit: int | None = None) -> None:
        rows = rows.select(KEY).unique(maintain_order=True)
        if picked:
            rows = rows.join(pl.concat(picked).select(KEY), on=KEY, how="anti", nulls_equal=True, maintain_order="left")
        if limit is not None:
            rows = rows.head(max(limit, 0))
        if rows.height:
            picked.append(rows.with_columns(pl.lit(reason).alias("why")))

    def total() -> int:
        return sum(p.height for p in picked)

    for entity, frame in frames.items():  # 1. problems
        rejected = frame.filter(pl.col(OUTCOME) == REJECTED)
        for part in rejected.partition_by(RULE, maintain_order=True):
            take(part, "rejected", PER_RULE)
        for spec in migration.entities[entity].fields:
            if why(spec.name) in frame.columns:
                invalid = frame.filter(pl.col(why(spec.name)).is_not_null() & (pl.col(OUTCOME) != REJECTED))
                for part in invalid.partition_by(why(spec.name), maintain_order=True):
                    take(part, "invalid value", PER_RULE)
    for frame in frames.values():  # 2. every source, entity and outcome
        for part in frame.partition_by(SOURCE, OUTCOME, maintain_order=True):
            take(part, "coverage", PER_SOURCE)
    budget = max(size - total(), 0)
    for entity, frame in frames.items():  # 3. clusters and review pairs
        members = frame.filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
        merged = members.filter(pl.col(OUTCOME) == MERGED)[RECORD_ID].unique(maintain_order=True).head(8)
        take(
            members.filter(pl.col(RECORD_ID).is_in(merged.to_list())), "duplicate cluster", budget // (3 * len(frames))
        )
        review = migration.entities[entity].review_pairs().head(5)
        if review.height:
            at = pl.concat([review["l"], review["r"]]).cast(pl.UInt32)
            take(frame.filter(pl.col("_i").is_in(at.to_list())), "review pair", 10)
    for frame in frames.values():  # 4. most changed by the cleaners
        ranked = frame.filter(pl.col("_changed") > 0)
        if ranked.height:
            take(ranked.sort("_changed", "_i", descending=[True, False]), "most changed", budget // (3 * len(frames)))
    _close_links(frames, picked, take)
    everything = (
        pl.concat([f.select(KEY) for f in frames.values()]).unique(maintain_order=True)
        if frames
        else pl.DataFrame(schema={SOURCE: pl.String, SHEET: pl.String, ROW: pl.Int64})
    )
    room = size - total()
    if room > 0 and everything.height:  # 5. spread
        step = max(everything.height // room, 1)
        take(everything.gather_every(step), "spread", room)
    _close_links(frames, picked, take)
    rows = pl.concat(picked) if picked else pl.DataFrame(schema={**dict.fromkeys(KEY, pl.String), "why": pl.String})
    counts = dict(rows.group_by("why", maintain_order=True).len().iter_rows())
    return Chosen(rows, counts)


def _narrow(frame: pl.DataFrame, fields) -> pl.DataFrame:
    """The columns of an entity's frame that choosing reads, with its row number (``_i``, what review pairs
    name) and the number of fields whose value the cleaners changed (``_changed``)."""
    changed = [
        (pl.col(raw(s.name)).is_not_null() & (pl.col(raw(s.name)) != pl.col(val(s.name))).fill_null(True)).cast(
            pl.Int32
        )
        for s in fields
        if raw(s.name) in frame.columns and val(s.name) in frame.columns
    ]
    wanted = [*KEY, OUTCOME, RULE, RECORD_ID, ACCOUNT, SYSTEM, val(ACCOUNT_LINK), val(ID_FIELD)]
    wanted += [why(s.name) for s in fields]
    present = [c for c in dict.fromkeys(wanted) if c in frame.columns]
    return frame.with_row_index("_i").select(
        "_i", *present, (pl.sum_horizontal(changed) if changed else pl.lit(0, pl.Int32)).alias("_changed")
    )


def _close_links(frames: dict[Entity, pl.DataFrame], picked: list[pl.DataFrame], take) -> None:
    """The accounts of the children chosen, and a child of each of a few accounts chosen (with its account's
    other rows: the child may be linked to a merged account)."""
    accounts = frames.get(Entity.accounts)
    if accounts is None:
        return
    _parents(frames, accounts, picked, take, by_legacy_id=True)
    chosen = pl.concat(picked).select(KEY)
    picked_accounts = accounts.join(chosen, on=KEY, how="semi", nulls_equal=True)[RECORD_ID].drop_nulls().unique()
    for entity, frame in frames.items():  # a few accounts with their children, per child entity
        if has_account_link(entity) and ACCOUNT in frame.columns:
            children = frame.filter(pl.col(ACCOUNT).is_in(picked_accounts.to_list()) & (pl.col(OUTCOME) == WRITTEN))
            take(children.unique(ACCOUNT, keep="first", maintain_order=True), "child", CHILDREN)
    _parents(frames, accounts, picked, take, by_legacy_id=False)


def _parents(
    frames: dict[Entity, pl.DataFrame], accounts: pl.DataFrame, picked: list[pl.DataFrame], take, by_legacy_id: bool
) -> None:
    """Every row of the account record each chosen child is linked to; with ``by_legacy_id``, also the rows
    carrying the legacy id a child names, whatever became of that account."""
    chosen = pl.concat(picked).select(KEY)
    for entity, frame in frames.items():
        if not has_account_link(entity):
            continue
        mine = frame.join(chosen, on=KEY, how="semi", nulls_equal=True)
        if ACCOUNT in mine.columns:
            take(accounts.filter(pl.col(RECORD_ID).is_in(mine[ACCOUNT].drop_nulls().unique().to_list())), "parent")
        ref, own = val(ACCOUNT_LINK), val(ID_FIELD)
        if by_legacy_id and ref in mine.columns and own in accounts.columns:
            refs = mine.select(SYSTEM, pl.col(ref).alias(own)).drop_nulls().unique()
            take(accounts.join(refs, on=[SYSTEM, own], how="semi"), "parent")
