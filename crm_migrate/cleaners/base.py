"""What a cleaner returns, and how a cleaner is applied to a whole column.

A cleaner is a pure function from one raw text value to a `Cleaned`: the standardised value for the
target, a key for matching, and the reason the value is invalid (None when it is fine). It is applied once
per distinct raw value, so a column of a million rows with ten thousand distinct values costs ten thousand
calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Cleaned:
    value: str | None
    key: str | None = None
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class CleanContext:
    region: str = "CN"


Cleaner = Callable[[str, CleanContext], Cleaned]


def clean_column(raw: pl.Series, cleaner: Cleaner, ctx: CleanContext) -> pl.DataFrame:
    """Columns ``value``, ``key``, ``reason`` for every row of ``raw`` (null in, nulls out)."""
    distinct = raw.drop_nulls().unique(maintain_order=True)
    results = [cleaner(v, ctx) for v in distinct.to_list()]
    table = pl.DataFrame({
        "raw": distinct,
        "value": pl.Series([r.value for r in results], dtype=pl.String),
        "key": pl.Series([r.key for r in results], dtype=pl.String),
        "reason": pl.Series([r.reason for r in results], dtype=pl.String),
    })
    return pl.DataFrame({"raw": raw}).join(table, on="raw", how="left", maintain_order="left").drop("raw")
