"""Several spellings of one column: ``公司|客户名称|单位: name`` reads whichever of them a sheet or file has.

Salespeople name the same column differently, sheet by sheet (公司, 客户名称, 单位, 客戶名稱). A mapping
names all the spellings of one column, joined by ``|`` (or listed under ``also:``); on each row the value
comes from the spelling that row's sheet has. A header that itself contains ``|`` is still found as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

SEPARATOR = "|"


def spellings(name: str) -> list[str]:
    """The spellings a column reference names, in the order given: ``公司|客户名称`` -> [公司, 客户名称]."""
    parts = [p.strip() for p in name.split(SEPARATOR)]
    return [p for p in dict.fromkeys(parts) if p] or [name]


def joined(names: Iterable[str]) -> str:
    return SEPARATOR.join(dict.fromkeys(names))


def present(name: str, columns: Iterable[str]) -> list[str]:
    """The spellings of ``name`` that ``columns`` has; the whole name first when a header holds it as it is."""
    columns = set(columns)
    if name in columns:
        return [name]
    return [s for s in spellings(name) if s in columns]


def column_expr(name: str, columns: Iterable[str]) -> pl.Expr | None:
    """The column's value on each row: the first filled spelling the frame has; None when it has none."""
    found = present(name, columns)
    if not found:
        return None
    return pl.col(found[0]) if len(found) == 1 else pl.coalesce([pl.col(c) for c in found])
