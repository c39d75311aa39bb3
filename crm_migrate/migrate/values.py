"""Picklist value maps: source values to the target's, with an explicit policy for values the map lacks."""

from __future__ import annotations

import polars as pl

from crm_migrate.cleaners.text import text_key, tidy
from crm_migrate.errors import Problem
from crm_migrate.project import MappedField, Source

SHOWN = 20  # unmapped values a message lists; JSON output lists them all
UNMAPPED_NOTE = "not in the value map"
DEFAULTED_NOTE = "not in the value map, default written"


def lookup(mf: MappedField) -> dict[str, str]:
    """Map keys compared ignoring case, spacing and traditional/simplified."""
    return {text_key(tidy(k)): v for k, v in (mf.values or {}).items()}


def apply_values(values: pl.Series, mf: MappedField) -> tuple[pl.Series, pl.Series]:
    """(mapped values, notes) for a cleaned picklist column; unknown values as the field's policy says."""
    table = lookup(mf)
    distinct = values.drop_nulls().unique().to_list()
    mapped = {v: table.get(text_key(v)) for v in distinct}
    unknown = {v for v, m in mapped.items() if m is None}
    if mf.unknown == "default":
        mapped = {v: (m if m is not None else mf.default) for v, m in mapped.items()}
    elif mf.unknown == "keep":
        mapped = {v: (m if m is not None else v) for v, m in mapped.items()}
    note = DEFAULTED_NOTE if mf.unknown == "default" else UNMAPPED_NOTE
    out = values.replace_strict(mapped, default=None, return_dtype=pl.String)
    notes = pl.select(
        pl.when(values.is_in(list(unknown))).then(pl.lit(note)).otherwise(pl.lit(None, pl.String))
    ).to_series()
    return out, notes.rename("notes")


def unknown_values_problem(source: Source, entity: str, mf: MappedField, values: pl.Series) -> Problem | None:
    """The values a map with ``unknown: error`` does not cover, each with its count."""
    table = lookup(mf)
    counts = values.drop_nulls().value_counts(sort=True, name="n")
    missing = [(v, n) for v, n in counts.iter_rows() if text_key(v) not in table]
    if not missing:
        return None
    every = tuple(f"{v} ({n})" for v, n in missing)
    listed = ", ".join(every[:SHOWN]) + (f", and {len(every) - SHOWN} more" if len(every) > SHOWN else "")
    return Problem(
        source.mapping_path,
        f"{len(missing)} value(s) of {mf.column!r} are not in the value map of {mf.spec.name}: {listed}",
        line=source.doc.line_of(mf.loc),
        hint="add them under 'values', or set unknown: keep (or default)",
        values=every,
    )
