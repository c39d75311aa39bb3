"""Cleaning that needs the rest of the row: an ambiguous district settled by the row's phone area code,
and a landline written without area code completed from the row's city. Both only where the row says
which; otherwise the value stays flagged as the cleaner left it."""

from __future__ import annotations

import polars as pl

from crm_migrate.cleaners.address import resolve_with_phone
from crm_migrate.cleaners.base import NOTES_SEPARATOR, CleanContext, Cleaned
from crm_migrate.cleaners.phone import area_code_for, complete_local
from crm_migrate.mappings.entities import FieldType
from crm_migrate.migrate.columns import attr, key, notes, val, why
from crm_migrate.project import EntityPlan


def _write_back(frame: pl.DataFrame, field: str, mask: pl.Series, results: list[Cleaned | None]) -> pl.DataFrame:
    """Replace the cleaned columns of ``field`` on the masked rows where a result was found."""
    rows = mask.arg_true().to_list()
    updates: dict[str, list] = {
        c: frame[c].to_list()
        for c in frame.columns
        if c in (val(field), key(field), why(field), notes(field)) or c.startswith(f"a:{field}.")
    }
    for row, result in zip(rows, results, strict=True):
        if result is None:
            continue
        updates[val(field)][row], updates[key(field)][row] = result.value, result.key
        updates[why(field)][row] = result.reason
        updates[notes(field)][row] = NOTES_SEPARATOR.join(result.notes) or None
        for name, value in result.attrs:
            column = attr(field, name)
            updates.setdefault(column, [None] * frame.height)[row] = value
        for column in updates:
            if column.startswith(f"a:{field}.") and column.removeprefix(f"a:{field}.") not in dict(result.attrs):
                updates[column][row] = None
    return frame.with_columns(pl.Series(c, v, dtype=pl.String) for c, v in updates.items())


def apply_row_signals(frame: pl.DataFrame, plan: EntityPlan, ctx: CleanContext) -> pl.DataFrame:
    phones = [f.spec.name for f in plan.fields if f.spec.type is FieldType.phone]
    addresses = [f.spec.name for f in plan.fields if f.spec.type is FieldType.address]
    for field in addresses:
        candidates = attr(field, "candidates")
        if candidates not in frame.columns or not phones:
            continue
        mask = frame[candidates].is_not_null()
        if not mask.any():
            continue
        rows = frame.filter(mask)
        results = [
            resolve_with_phone(row[val(field)], [row[val(p)] for p in phones], ctx)
            for row in rows.select(val(field), *[val(p) for p in phones]).iter_rows(named=True)
        ]
        frame = _write_back(frame, field, mask, results)
    for field in phones:
        local = attr(field, "local")
        if local not in frame.columns or not addresses:
            continue
        mask = frame[local].is_not_null()
        if not mask.any():
            continue
        results = []
        for row in frame.filter(mask).iter_rows(named=True):
            code = next(
                (c for a in addresses if (c := area_code_for(row.get(attr(a, "province")), row.get(attr(a, "city"))))),
                None,
            )
            results.append(complete_local(row[local], code, ctx) if code else None)
        frame = _write_back(frame, field, mask, results)
    return frame
