"""Names of the columns every stage shares: origin, outcome, and per field its raw, cleaned, key, reason,
notes and part columns (``raw:name``, ``v:name``, ``k:name``, ``r:name``, ``n:name``, ``a:name.part``)."""

from __future__ import annotations

from crm_migrate.migrate.readers import ROW, SHEET

SOURCE, SEQ, SYSTEM = "_source", "_seq", "_system"
OUTCOME, REASON, RECORD_ID, KEY = "_outcome", "_reason", "_record_id", "_key"
EMPTY = "_empty"  # the row holds no record of this entity at all
RULE = "_rule"  # which rule decided the row, for grouping in reports
FILLED = "_filled_from"  # cells filled from the row above (fill_down), for lineage: "name filled from row 5 (同上)"
ORIGIN = [SOURCE, SHEET, ROW]

WRITTEN, MERGED, FILTERED, REJECTED = "written", "merged", "filtered", "rejected"


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

