"""Deduplication of one entity: exact identities must link, fuzzy matches merge above the threshold.

Accounts, contacts and opportunities are matched with `match` (blocking, Fellegi-Sunter weights estimated
from the data, clustering that does not chain); activities merge when they are the same in every field.
Every entity also merges records that are the same by identity: the same legacy id in the same system, the
same credit code, the same ID number. The matching features (`features`) are added before and dropped after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_migrate.mappings.entities import Entity, FieldSpec, FieldType
from crm_migrate.migrate.clustering import exclusive_codes
from crm_migrate.migrate.columns import KEY, OUTCOME, SEQ, key, val
from crm_migrate.migrate.decisions import Applied, Decision, apply
from crm_migrate.migrate.features import account_features, contact_features, m, opportunity_features
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.match import MatchResult, MatchSettings, clusters, keep_shown, score
from crm_migrate.migrate.merge import LABEL
from crm_migrate.steps import step

FUZZY = {Entity.accounts, Entity.contacts, Entity.opportunities}


@dataclass
class Related:
    """What other entities tell about an entity's records: an account's contacts (`features.people_of_accounts`),
    a contact's account (`features.account_context`)."""

    people: pl.DataFrame | None = None
    accounts: pl.DataFrame | None = None


def _must_link(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """Pairs (first, other) chaining together the live records that share an identity value."""
    live = frame.lazy().with_row_index("_i").filter(pl.col(OUTCOME).is_null())
    parts = [
        live.select("_i", column)
        .drop_nulls(column)
        .select(pl.col("_i").min().over(column).alias("first"), pl.col("_i").alias("other"))
        .filter(pl.col("first") != pl.col("other"))
        for column in columns
    ]
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = pl.concat(parts).collect()
    return np.column_stack([pairs["first"].to_numpy(), pairs["other"].to_numpy()]).astype(np.int64)


def _moved(frame: pl.DataFrame, rows: list[int]) -> np.ndarray:
    """The rows a steward's 'merge into' moves, with the other rows of the same source record (same key): no
    automatic join (identity, score) holds them, so the record leaves its former cluster alone."""
    if not rows:
        return np.empty(0, dtype=np.int64)
    indexed = frame.select(KEY).with_row_index("_i")
    keys = indexed.filter(pl.col("_i").is_in(rows))[KEY].drop_nulls()
    found = indexed.filter(pl.col("_i").is_in(rows) | pl.col(KEY).is_in(keys.implode()))["_i"]
    return found.to_numpy().astype(np.int64)


def with_features(
    frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec], related: Related | None
) -> pl.DataFrame:
    """The entity's frame with the ``m:`` columns its matching reads."""
    related = related or Related()
    if entity is Entity.accounts:
        return account_features(frame, fields, related.people)
    if entity is Entity.contacts:
        return contact_features(frame, fields, related.accounts)
    if entity is Entity.opportunities:
        return opportunity_features(frame)
    return frame


def exclusive_columns(frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec]) -> list[str]:
    """Attributes two records of one cluster never differ in: a company's region, branch and credit code; a
    person's ID number; an opportunity's account."""
    columns = [key(s.name) for s in fields if s.type in (FieldType.uscc, FieldType.id_card)]
    if entity is Entity.accounts:
        columns += [m("province"), m("city"), m("branch")]
    if entity is Entity.opportunities:
        columns.append(ACCOUNT)
    return [c for c in columns if c in frame.columns]


SAME_ALL = "_same_all"


def _same_in_every_field(frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec]) -> pl.Expr | None:
    """For activities: every identifying value and the account, joined, so that records the same in all of
    them are linked (a follow-up exported twice)."""
    if entity is not Entity.activities:
        return None
    columns = [val(s.name) for s in fields if val(s.name) in frame.columns and s.name != "owner"]
    columns += [ACCOUNT] if ACCOUNT in frame.columns else []
    if len(columns) < 2:
        return None
    return (
        pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c in columns]))
        .then(pl.concat_str([pl.col(c).fill_null("") for c in columns], separator="\x1f"))
        .alias(SAME_ALL)
    )


def resolve(
    frame: pl.DataFrame,
    entity: Entity,
    fields: list[FieldSpec],
    settings: MatchSettings | None = None,
    decisions: list[Decision] | None = None,
    related: Related | None = None,
    secret: bytes = b"",
) -> tuple[pl.DataFrame, MatchResult | None, Applied]:
    """Label the live rows with their cluster (the smallest ``_seq`` of its members), honouring the
    steward's decisions; return the scored pairs and what became of the decisions. The frame comes back with
    its matching features (``m:`` columns, added here unless `with_features` already did); `drop_features`
    takes them off. ``secret`` keys the fingerprints decisions are checked by (the project secret)."""
    settings = settings or MatchSettings()
    identities = [
        key(s.name) for s in fields if s.type in (FieldType.uscc, FieldType.id_card) and key(s.name) in frame.columns
    ]
    if frame.height and not any(c.startswith("m:") for c in frame.columns):
        frame = with_features(frame, entity, fields, related)
    same_all = _same_in_every_field(frame, entity, fields)
    exact = [SAME_ALL] if same_all is not None else []
    if exact:
        frame = frame.with_columns(same_all)
    if entity in FUZZY and frame.height:
        result = score(frame, fields, entity, linked=entity is not Entity.accounts, settings=settings)
    else:
        result = MatchResult(pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}), [])
    with step(f"Clustering {entity.value}", unit="records") as clustering:
        applied = apply(frame, decisions or [], fields, secret)
        labels = clusters(
            frame.height,
            result,
            settings,
            must_link=_must_link(frame, [KEY]),
            steward_links=applied.links,
            vetoes=applied.vetoes,
            detached=_moved(frame, applied.moved),
            identity_links=_must_link(frame, identities + exact),
            exclusive=exclusive_codes(frame, exclusive_columns(frame, entity, fields)),
        )
        seq = frame[SEQ].to_numpy()
        first = np.full(frame.height, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, labels, seq)  # a cluster's label: the smallest _seq among its members
        labelled = frame.with_columns(pl.when(pl.col(OUTCOME).is_null()).then(pl.Series(first[labels])).alias(LABEL))
        if exact:
            labelled = labelled.drop(exact)
        shown = keep_shown(result, labels, settings) if result.comparisons else None
        clustering.finish(frame.height)
    return labelled, shown, applied


def drop_features(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in frame.columns if c.startswith("m:")])
