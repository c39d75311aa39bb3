"""What a cleaner returns, and how a cleaner is applied to a whole column.

A cleaner is a pure function from one raw text value to a `Cleaned`: the standardised value for the
target, a key for matching, the reason the value is invalid (None when it is fine), notes naming each rule
that changed or flagged it (the quality report counts them per field and rule), and attributes: parts the
value carries (a phone's extension, an address's province, a company's region). It is applied once per
distinct raw value, so a column of a million rows with ten thousand distinct values costs ten thousand calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class Cleaned:
    value: str | None
    key: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str | None], ...] = ()

    @property
    def valid(self) -> bool:
        return self.reason is None


# Match keys of personal data are keyed hashes. A migration keys them with the project secret
# (crm_migrate.secret); a context made without one gets a key that lives only in this process.
_RUN_SECRET = secrets.token_bytes(32)


@dataclass(frozen=True)
class CleanContext:
    region: str = "CN"
    simplified_output: bool = False  # traditional -> simplified in output values too, not only in keys
    fix_email_typos: bool = True  # a mistyped common mail domain (qq.con) reaches no one: corrected
    date_order: str | None = None  # "dmy" or "mdy" for a/b/yyyy dates, when the column or project says
    secret: bytes = field(default=_RUN_SECRET, repr=False)


Cleaner = Callable[[str, CleanContext], Cleaned]
# A fast path takes a column of distinct raw values and returns the rows it can clean without the per-value
# cleaner (columns raw, value, key, reason, notes, attr:*), giving exactly what the cleaner would.
FastPath = Callable[[pl.Series, CleanContext], pl.DataFrame]
NOTES_SEPARATOR = "; "
FAST_PATHS: dict[Cleaner, FastPath] = {}


def fast_path(cleaner: Cleaner) -> Callable[[FastPath], FastPath]:
    """Register a vectorised fast path for the common forms a cleaner sees."""

    def register(fast: FastPath) -> FastPath:
        FAST_PATHS[cleaner] = fast
        return fast

    return register


def clean_column(raw: pl.Series, cleaner: Cleaner, ctx: CleanContext) -> pl.DataFrame:
    """Columns ``value``, ``key``, ``reason``, ``notes`` and ``attr:<name>`` for every row of ``raw``."""
    distinct = raw.drop_nulls().unique(maintain_order=True).rename("raw")
    tables = []
    if (fast := FAST_PATHS.get(cleaner)) is not None and len(distinct):
        done = fast(distinct, ctx)
        tables.append(done)
        distinct = distinct.filter(~distinct.is_in(done["raw"].implode()))
    tables.append(_slow(distinct, cleaner, ctx))
    table = pl.concat(tables, how="diagonal_relaxed") if len(tables) > 1 else tables[0]
    return pl.DataFrame({"raw": raw}).join(table, on="raw", how="left", maintain_order="left").drop("raw")


def _slow(distinct: pl.Series, cleaner: Cleaner, ctx: CleanContext) -> pl.DataFrame:
    from crm_migrate.cleaners.helper import clean_values

    results = clean_values(distinct.to_list(), cleaner, ctx)  # a large batch half in the helper process
    attr_names = list(dict.fromkeys(name for r in results for name, _ in r.attrs))
    data = {
        "raw": distinct,
        "value": pl.Series([r.value for r in results], dtype=pl.String),
        "key": pl.Series([r.key for r in results], dtype=pl.String),
        "reason": pl.Series([r.reason for r in results], dtype=pl.String),
        "notes": pl.Series([NOTES_SEPARATOR.join(r.notes) or None for r in results], dtype=pl.String),
    }
    for name in attr_names:
        data[f"attr:{name}"] = pl.Series([dict(r.attrs).get(name) for r in results], dtype=pl.String)
    return pl.DataFrame(data)
