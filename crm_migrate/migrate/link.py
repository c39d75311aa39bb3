"""Links from child records (contacts, opportunities, activities) to their account.

A child names its account by the legacy id the old system gave it (``account_id``), looked up among the
accounts of the same system; or, in a sheet where one row holds both a company and a person, by sharing the
row. The link follows merges: a child of a merged account points at the surviving record. A link to an
account that does not exist, or that was rejected or filtered, decides the child's outcome with a reason;
nothing is linked by guess. Where the project sends orphans to a placeholder account
(``options.orphans.send_to: account``), a child whose account is missing or was rejected is linked to that
account instead, and the reason is kept in ``_orphaned`` for lineage and the review; a filtered account's
children stay filtered, as the project put them out of scope.
"""

from __future__ import annotations

import polars as pl

from crm_migrate.mappings.entities import ACCOUNT_LINK, ID_FIELD, Entity
from crm_migrate.migrate.columns import (
    EMPTY,
    FILTERED,
    MERGED,
    OUTCOME,
    REASON,
    RECORD_ID,
    REJECTED,
    ROW,
    RULE,
    SHEET,
    SOURCE,
    SYSTEM,
    WRITTEN,
    key,
    val,
)
from crm_migrate.migrate.junk import says_no_company
from crm_migrate.migrate.merge import record_id

ACCOUNT = "_account"  # the record id of the account a child is linked to
NOT_FOUND, NO_ACCOUNT = "account not found", "no account"
ORPHAN_RULES = (NOT_FOUND, NO_ACCOUNT)  # rules of children whose link points at no account
ORPHANED = "_orphaned"  # why a child was linked to the placeholder account (null for the others)
NONE = pl.lit(None, pl.String)


def account_index(accounts: pl.DataFrame | None) -> pl.DataFrame:
    """One row per (system, legacy id): the best outcome any account row with that id reached."""
    if accounts is None or key(ID_FIELD) not in accounts.columns:
        return pl.DataFrame(
            schema={
                SYSTEM: pl.String,
                "_ref": pl.String,
                "_a_outcome": pl.String,
                "_a_reason": pl.String,
                "_a_record": pl.String,
                "_a_none": pl.Boolean,
            }
        )
    rank = pl.col(OUTCOME).replace_strict({WRITTEN: 0, MERGED: 0, FILTERED: 1, REJECTED: 2}, default=3)
    # lazily, with only the columns read: a sort of the whole frame would copy every account
    return (
        accounts.lazy()
        .select(SYSTEM, key(ID_FIELD), OUTCOME, REASON, RECORD_ID, RULE, "_seq")
        .filter(pl.col(key(ID_FIELD)).is_not_null())
        .sort([rank, "_seq"])
        .group_by([SYSTEM, key(ID_FIELD)], maintain_order=True)
        .first()
        .select(
            SYSTEM,
            pl.col(key(ID_FIELD)).alias("_ref"),
            pl.col(OUTCOME).alias("_a_outcome"),
            pl.col(REASON).alias("_a_reason"),
            pl.col(RECORD_ID).alias("_a_record"),
            says_no_company().alias("_a_none"),
        )
        .collect()
    )


def same_row_index(accounts: pl.DataFrame, source: str) -> pl.DataFrame:
    """The account on each row of ``source``. A row whose company has no name (a sign-up that left the company
    blank but gave a city) or says there is none (无, 个人, 自由职业) holds no account for its person: the
    person is not lost with it."""
    nameless = pl.col(val("name")).is_null() if val("name") in accounts.columns else pl.lit(False)
    nameless = nameless | says_no_company()  # 无, 个人: the person has no company
    return (
        accounts.lazy()
        .filter(pl.col(SOURCE) == source)  # lazily: the filter copies only the columns read
        .select(
            SHEET,
            ROW,
            pl.col(OUTCOME).alias("_s_outcome"),
            pl.col(REASON).alias("_s_reason"),
            pl.col(RECORD_ID).alias("_s_record"),
            (pl.col(EMPTY) | nameless).alias("_s_empty"),
        )
        .collect()
    )


def id_collisions(frame: pl.DataFrame) -> list[tuple[str, str, list[str]]]:
    """(system, normalised key, the legacy ids written that read as it) where ids that differ as written are
    one id once case, width, separators and zero padding are set aside (KH01 and KH001): a child pointing at
    either would find the first."""
    if key(ID_FIELD) not in frame.columns:
        return []
    clashes = (
        frame.select(SYSTEM, key(ID_FIELD), val(ID_FIELD))
        .drop_nulls(key(ID_FIELD))
        .unique()
        .group_by(SYSTEM, key(ID_FIELD))
        .agg(pl.col(val(ID_FIELD)).sort())
        .filter(pl.col(val(ID_FIELD)).list.len() > 1)
        .sort(SYSTEM, key(ID_FIELD))
    )
    return [(s, k, ids) for s, k, ids in clashes.iter_rows()]


def orphan_id() -> str:
    """The record id of the placeholder account that orphans are linked to, the same in every run."""
    return record_id(Entity.accounts, "\x1forphans")


def link(
    children: pl.DataFrame,
    by_id: pl.DataFrame,
    same_row: pl.DataFrame | None,
    required: bool,
    singular: str,
    orphan: str | None = None,
) -> pl.DataFrame:
    """Set ``_account`` for undecided children, or decide them when their account cannot be had.

    With ``orphan`` (the placeholder account's id), a child whose account is missing or rejected is linked
    to it instead of being rejected.
    """
    ref, shown = key(ACCOUNT_LINK), val(ACCOUNT_LINK)
    for column in (ref, shown):
        if column not in children.columns:
            children = children.with_columns(pl.lit(None, pl.String).alias(column))
    frame = children.join(by_id, left_on=[SYSTEM, ref], right_on=[SYSTEM, "_ref"], how="left", maintain_order="left")
    if same_row is not None:
        frame = frame.join(same_row, on=[SHEET, ROW], how="left", nulls_equal=True, maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in ("_s_outcome", "_s_reason", "_s_record"))
        frame = frame.with_columns(pl.lit(True).alias("_s_empty"))

    has_ref = pl.col(ref).is_not_null()
    # An id whose account says there is no company (个人客户, 无) is no account: the child stays, without one.
    no_company = pl.col("_a_none").fill_null(False)
    found = pl.col("_a_outcome").is_not_null() & ~no_company
    live = pl.col(OUTCOME).is_null()
    row_account = pl.col("_s_outcome").is_in([WRITTEN, MERGED])
    row_account_lost = pl.col("_s_outcome").is_in([REJECTED, FILTERED]) & ~pl.col("_s_empty")
    decided = (
        pl.when(~live)
        .then(pl.struct(o=pl.col(OUTCOME), r=pl.col(REASON), c=pl.col(RULE), a=NONE))
        .when(has_ref & found & pl.col("_a_outcome").is_in([WRITTEN, MERGED]))
        .then(pl.struct(o=NONE, r=NONE, c=NONE, a=pl.col("_a_record")))
        .when(has_ref & found)
        .then(
            pl.struct(
                o=pl.col("_a_outcome"),
                r=pl.format("its account {} was {}: {}", pl.col(shown), pl.col("_a_outcome"), pl.col("_a_reason")),
                c=pl.format("account {}", pl.col("_a_outcome")),
                a=NONE,
            )
        )
        .when(has_ref & ~no_company)
        .then(
            pl.struct(
                o=pl.lit(REJECTED),
                r=pl.format("no account with id {} in {}", pl.col(shown), pl.col(SYSTEM)),
                c=pl.lit(NOT_FOUND),
                a=NONE,
            )
        )
        .when(row_account)
        .then(pl.struct(o=NONE, r=NONE, c=NONE, a=pl.col("_s_record")))
        .when(row_account_lost)
        .then(
            pl.struct(
                o=pl.col("_s_outcome"),
                r=pl.format("the account on its row was {}: {}", pl.col("_s_outcome"), pl.col("_s_reason")),
                c=pl.format("account {}", pl.col("_s_outcome")),
                a=NONE,
            )
        )
        .when(pl.lit(required))
        .then(pl.struct(o=pl.lit(REJECTED), r=pl.lit(f"the {singular} names no account"), c=pl.lit(NO_ACCOUNT), a=NONE))
        .otherwise(pl.struct(o=NONE, r=NONE, c=NONE, a=NONE))
    )
    frame = frame.with_columns(decided.alias("_d"))
    lost = (pl.col("_d").struct.field("o") == REJECTED) & live
    frame = frame.with_columns(
        pl.when(lost & pl.lit(orphan is not None)).then(pl.col("_d").struct.field("r")).alias(ORPHANED)
    )
    orphaned = pl.col(ORPHANED).is_not_null()
    return frame.with_columns(
        pl.when(orphaned).then(NONE).otherwise(pl.col("_d").struct.field("o")).alias(OUTCOME),
        pl.when(orphaned).then(NONE).otherwise(pl.col("_d").struct.field("r")).alias(REASON),
        pl.when(orphaned).then(NONE).otherwise(pl.col("_d").struct.field("c")).alias(RULE),
        pl.when(orphaned).then(pl.lit(orphan, pl.String)).otherwise(pl.col("_d").struct.field("a")).alias(ACCOUNT),
    ).drop("_d", "_a_outcome", "_a_none", "_a_reason", "_a_record", "_s_outcome", "_s_reason", "_s_record", "_s_empty")
