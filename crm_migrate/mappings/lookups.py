"""Fields built from source columns (the ``derive:`` block of a mapping) and the lookup tables they use.

A derived field starts from one column, several joined, a template or a constant, then may be split,
searched with a regular expression, looked up in a project CSV table and defaulted where empty. Every step
is a polars expression over the source table, so a derived field costs what a copied one does, and the
result is cleaned, checked and written like any other field. No Python code is ever read from a mapping.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from crm_migrate.errors import Problem
from crm_migrate.mappings.models import Derived
from crm_migrate.mappings.spellings import column_expr


def read_table(path: Path) -> pl.DataFrame:
    """A lookup table, every cell as text."""
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None


def repeated_keys(table: pl.DataFrame, key: str, value: str) -> list[tuple[str, int, str | None, int, str | None]]:
    """Keys the table maps twice, differently: (key, row, value, other row, other value), rows numbered as
    in the file (the header is row 1), first of each key first. Only the last of them would be used."""
    rows = table.select(pl.col(key).alias("k"), pl.col(value).alias("v")).with_row_index("row", offset=2)
    firsts = rows.unique(["k", "v"], keep="first", maintain_order=True)
    clashes = firsts.filter(pl.col("k").is_not_null() & (pl.len().over("k") > 1))
    pairs = clashes.group_by("k", maintain_order=True).agg(pl.col("row").head(2), pl.col("v").head(2))
    return [(k, r[0], v[0], r[1], v[1]) for k, r, v in pairs.iter_rows()]


def _blank_is_null(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def derive(frame: pl.DataFrame, d: Derived, root: Path) -> tuple[pl.Series, list[tuple[str, int]]]:
    """The derived values for every row, and the values a lookup with ``unknown: error`` lacks (with counts)."""

    def col(name: str) -> pl.Expr:
        expr = column_expr(name, frame.columns)
        return _blank_is_null(expr) if expr is not None else pl.lit(None, pl.String)

    if d.column is not None:
        expr = col(d.column)
    elif d.concat is not None:
        expr = _blank_is_null(pl.concat_str([col(c) for c in d.concat], separator=d.separator, ignore_nulls=True))
    elif d.template is not None:
        expr = _template(d.template, col)
    else:
        expr = pl.lit(d.constant, pl.String)
    if d.split is not None:
        parts = expr.str.split(d.split.by)
        index = d.split.part - 1 if d.split.part > 0 else d.split.part
        expr = _blank_is_null(parts.list.get(index, null_on_oob=True))
    if d.extract is not None:
        expr = _blank_is_null(expr.str.extract(d.extract, 1 if re.compile(d.extract).groups else 0))
    values = frame.with_columns(expr.alias("\x00derived"))["\x00derived"].rename("v")
    missing: list[tuple[str, int]] = []
    if d.lookup is not None:
        table = read_table(root / d.lookup.file)
        mapping = dict(zip(table[d.lookup.key].to_list(), table[d.lookup.value].to_list(), strict=True))
        looked = values.replace_strict(mapping, default=None, return_dtype=pl.String)
        unknown = values.is_not_null() & ~values.is_in(list(mapping))
        if d.lookup.unknown == "keep":
            looked = pl.select(pl.when(unknown).then(values).otherwise(looked)).to_series()
        elif d.lookup.unknown == "error":
            counts = values.filter(unknown).value_counts(sort=True, name="n")
            missing = [(v, n) for v, n in counts.iter_rows()]
        values = looked
    if d.if_empty is not None:
        values = values.fill_null(d.if_empty)
    return values, missing


def _template(template: str, col) -> pl.Expr:
    """'{省}{市}{地址}' as one expression; a placeholder whose column is empty adds nothing."""
    pieces, rest = [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        if before:
            pieces.append(pl.lit(before))
        pieces.append(col(name).fill_null(""))
    if rest:
        pieces.append(pl.lit(rest))
    return _blank_is_null(pl.concat_str(pieces))


def lookup_problem(
    mapping_path: str, line: int | None, field: str, d: Derived, missing: list[tuple[str, int]]
) -> Problem | None:
    if not missing:
        return None
    table = d.lookup.file if d.lookup is not None else "the lookup table"
    listed = ", ".join(f"{v} ({n})" for v, n in missing[:10]) + (
        f", and {len(missing) - 10} more" if len(missing) > 10 else ""
    )
    return Problem(
        mapping_path,
        f"{len(missing)} value(s) of {field} are not in the lookup table {table}: {listed}",
        line=line,
        hint=f"add them to {table}, or set lookup.unknown: keep (or empty)",
    )
