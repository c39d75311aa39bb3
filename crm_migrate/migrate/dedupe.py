"""Deduplication of one entity: exact identities must link, fuzzy matches merge above the threshold.

Accounts and contacts are matched with `match` (blocking, Fellegi-Sunter weights estimated from the data,
clustering that does not chain). Every entity also merges records that are the same by identity: the same
legacy id in the same system, the same credit code, the same ID number.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_migrate.mappings.entities import Entity, FieldSpec, FieldType
from crm_migrate.migrate.columns import KEY, OUTCOME, SEQ, key
from crm_migrate.migrate.decisions import Applied, Decision, apply
from crm_migrate.migrate.match import MatchResult, MatchSettings, clusters, score
from crm_migrate.migrate.merge import LABEL

FUZZY = {Entity.accounts, Entity.contacts}


def _must_link(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """Pairs (first, other) chaining together the live records that share an identity value."""
    live = frame.lazy().with_row_index("_i").filter(pl.col(OUTCOME).is_null())
    parts = [live.select("_i", column).drop_nulls(column)
             .select(pl.col("_i").min().over(column).alias("first"), pl.col("_i").alias("other"))
             .filter(pl.col("first") != pl.col("other")) for column in columns]
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = pl.concat(parts).collect()
    return np.column_stack([pairs["first"].to_numpy(), pairs["other"].to_numpy()]).astype(np.int64)


def resolve(frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec], settings: MatchSettings | None = None,
            decisions: list[Decision] | None = None) -> tuple[pl.DataFrame, MatchResult | None, Applied]:
    """Label the live rows with their cluster (the smallest ``_seq`` of its members), honouring the
    steward's decisions; return the scored pairs and what became of the decisions."""
    settings = settings or MatchSettings()
    identities = [key(s.name) for s in fields if s.type in (FieldType.uscc, FieldType.id_card)
                  and key(s.name) in frame.columns]
    if entity in FUZZY and frame.height:
        result = score(frame, fields, linked=entity is not Entity.accounts, settings=settings)
    else:
        result = MatchResult(pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}), [])
    applied = apply(frame, decisions or [], fields)
    labels = clusters(frame.height, result, settings, must_link=_must_link(frame, [KEY]),
                      steward_links=applied.links, vetoes=applied.vetoes,
                      identity_links=_must_link(frame, identities))
    seq = frame[SEQ].to_numpy()
    first = np.full(frame.height, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, labels, seq)  # a cluster's label: the smallest _seq among its members
    labelled = frame.with_columns(pl.when(pl.col(OUTCOME).is_null()).then(pl.Series(first[labels])).alias(LABEL))
    return labelled, result if result.comparisons else None, applied
