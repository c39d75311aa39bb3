"""Names of the columns every stage shares: origin, outcome, and per field its raw, cleaned, key, reason,
notes and part columns (``raw:name``, ``v:name``, ``k:name``, ``r:name``, ``n:name``, ``a:name.part``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from crm_migrate.mappings.entities import ID_FIELD
from crm_migrate.migrate.readers import ROW, SHEET
from crm_migrate.outcomes import FILTERED as FILTERED
from crm_migrate.outcomes import KEPT as KEPT
from crm_migrate.outcomes import MERGED as MERGED
from crm_migrate.outcomes import OUTCOMES as OUTCOMES
from crm_migrate.outcomes import REJECTED as REJECTED
from crm_migrate.outcomes import WRITTEN as WRITTEN

SOURCE, SEQ, SYSTEM = "_source", "_seq", "_system"
OUTCOME, REASON, RECORD_ID, KEY = "_outcome", "_reason", "_record_id", "_key"
EMPTY = "_empty"  # the row holds no record of this entity at all
RULE = "_rule"  # which rule decided the row, for grouping in reports
FILLED = "_filled_from"  # cells filled from the row above (fill_down), for lineage: "name filled from row 5 (同上)"
ORIGIN = [SOURCE, SHEET, ROW]


def raw(field: str) -> str:
    return f"raw:{field}"


def val(field: str) -> str:
    return f"v:{field}"


def key(field: str) -> str:
    return f"k:{field}"


def why(field: str) -> str:
    return f"r:{field}"


def notes(field: str) -> str:
    return f"n:{field}"


def attr(field: str, name: str) -> str:
    return f"a:{field}.{name}"


# What may be missing from a stage's frame without anything being wrong: a part no value of a field has
# (a:address.city), the other values of merged members where nothing merged (o:phone), the reason of a field no
# value of which was invalid (r:email), the fill-down notes of a project without fill_down, and the legacy id
# of an entity no source gives one. Any other missing column is a stage's mistake (a misspelt name, a column an
# earlier stage did not make), and an error: never a column of nulls in an output.
_MAY_BE_ABSENT = re.compile(r"(?:a:[^.]+\.\w+|o:.+|r:.+)")


class MissingColumns(RuntimeError):
    """A frame handed from one stage to the next lacks columns the next one reads: a defect of crm-migrate,
    not of the data."""

    def __init__(self, stage: str, missing: list[str], present: Iterable[str]) -> None:
        present = sorted(present)
        super().__init__(
            f"{stage}: the frame has no column {', '.join(map(repr, missing))} "
            f"(it has {len(present)}: {', '.join(present[:12])}{', ...' if len(present) > 12 else ''})"
        )
        self.stage, self.missing = stage, missing


def may_be_absent(name: str) -> bool:
    return name in (FILLED, val(ID_FIELD), key(ID_FIELD)) or _MAY_BE_ABSENT.fullmatch(name) is not None


def require(frame: pl.DataFrame | pl.LazyFrame, names: Iterable[str], stage: str) -> None:
    """Check at a stage boundary that ``frame`` has every column ``stage`` reads."""
    present = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    missing = [n for n in dict.fromkeys(names) if n not in present]
    if missing:
        raise MissingColumns(stage, missing, present)


def optional(frame: pl.DataFrame, name: str, stage: str) -> pl.Expr:
    """The column ``name``, or text nulls where it may legitimately be absent (`may_be_absent`); any other
    absent column is `MissingColumns`."""
    if name in frame.columns:
        return pl.col(name)
    if not may_be_absent(name):
        raise MissingColumns(stage, [name], frame.columns)
    return pl.lit(None, pl.String)
