"""ID numbers (and, where a project asks, mobiles) found anywhere in a text, masked for every output but import/.

A steward types an ID number into 备注 as readily as into its own column, so rejects, lineage, the review
files, the report and the findings mask them in every column, not only in the fields of a sensitive type.
The search runs over whole columns: one regular expression finds the texts that hold a long enough run of
digits, the runs are taken out of those texts, and only these candidates (once each) are checked: an
18-character ID by its check character, a valid province and a plausible birth date; a 15-digit ID of the
1985 series by its province and birth date; a mobile by its prefix (1[3-9], with or without 86). What passes
is replaced in the whole column at once: 110105********002X, 138****5678.

Full-width digits (１１０１０５…) and the grouped ways of writing either (110105 19900307 002X, 138-1234-5678)
are found too. A run of digits longer than an ID (a bank card) is not an ID number and is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl

from crm_migrate.cleaners.codes import ID_PROVINCES, ID_WEIGHTS

_FULL = "０１２３４５６７８９"
_ASCII = "0123456789"
_DIGIT = "[0-9０-９]"
_SEP = r"[ \-]"
# The grouped forms first: at a position where both could start, the longer reading wins.
_ID_GROUPED = rf"[0-9]{{6}}{_SEP}[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx]"
_MOBILE_GROUPED = rf"1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"
_RUN = rf"{_DIGIT}+[XxＸｘ]?"
_QUICK_ID = rf"{_DIGIT}{{15}}|[0-9]{{6}}{_SEP}[0-9]{{8}}{_SEP}"
_QUICK_MOBILE = rf"{_DIGIT}{{11}}|{_MOBILE_GROUPED}"


def found(values: pl.Series, mobiles: bool = False) -> dict[str, str]:
    """The ID numbers (and mobiles) written in ``values``, each as written, with its masked form."""
    texts = values.drop_nulls()
    if texts.dtype != pl.String or texts.is_empty():
        return {}
    texts = texts.filter(texts.str.contains(_quick(mobiles)))
    if texts.is_empty():
        return {}
    pattern = "|".join([_ID_GROUPED, *([_MOBILE_GROUPED] if mobiles else []), _RUN])
    tokens = texts.str.extract_all(pattern).explode().drop_nulls().unique()
    tokens = tokens.filter(tokens.str.len_chars() >= 11)
    if tokens.is_empty():
        return {}
    frame = pl.DataFrame({"token": tokens}).with_columns(
        # the token without a trailing X (a mobile or a 15-digit ID followed by x1, 转, ...)
        pl.col("token").str.replace(r"[XxＸｘ]$", "").alias("core")
    )
    frame = frame.with_columns(_digits("token").alias("n18"), _digits("core").alias("n"))
    today = dt.date.today()
    mobile = (pl.col("n").str.contains(r"^(86)?1[3-9][0-9]{9}$")) if mobiles else pl.lit(False)
    frame = frame.with_columns(
        _id18(pl.col("n18"), today).alias("whole"),
        (_id18(pl.col("n"), today) | _id15(pl.col("n"), today)).alias("id"),
        mobile.alias("mobile"),
    )
    out: dict[str, str] = {}
    for token, core, whole, is_id, _ in (
        frame.filter(pl.col("whole") | pl.col("id") | pl.col("mobile"))
        .select("token", "core", "whole", "id", "mobile")
        .iter_rows()
    ):
        if whole:  # 11010519900307002X
            out[token] = _mask_id(token)
        elif is_id:  # 110105199003070021 followed by an x that is not its check character
            out[core] = _mask_id(core)
        else:
            out[core] = _mask_mobile(core)
    return out


def _quick(mobiles: bool) -> str:
    """What a text must hold to be looked at more closely: 15 digits in a row (or an ID's groups), or 11."""
    return _QUICK_ID + (f"|{_QUICK_MOBILE}" if mobiles else "")


def _digits(column: str) -> pl.Expr:
    """Full-width digits narrowed, separators out, x upper case."""
    return (
        pl.col(column)
        .str.replace_many(list(_FULL) + ["Ｘ", "ｘ", "x"], list(_ASCII) + ["X", "X", "X"])
        .str.replace_all(_SEP, "")
    )


def _id18(n: pl.Expr, today: dt.date) -> pl.Expr:
    digits = n.str.contains(r"^[0-9]{17}[0-9X]$")
    total = pl.sum_horizontal([n.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(ID_WEIGHTS)])
    check = (total % 11).replace_strict(
        {i: c for i, c in enumerate("10X98765432")}, default=None, return_dtype=pl.String
    )
    born = n.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return (
        digits & (check == n.str.slice(17, 1)) & _province(n) & born.is_between(dt.date(1900, 1, 1), today)
    ).fill_null(False)


def _id15(n: pl.Expr, today: dt.date) -> pl.Expr:
    born = (pl.lit("19") + n.str.slice(6, 6)).str.to_date("%Y%m%d", strict=False)
    return (n.str.contains(r"^[0-9]{15}$") & _province(n) & born.is_between(dt.date(1900, 1, 1), today)).fill_null(
        False
    )


def _province(n: pl.Expr) -> pl.Expr:
    return n.str.slice(0, 2).cast(pl.Int64, strict=False).is_in(sorted(ID_PROVINCES))


def _mask_id(text: str) -> str:
    """First 6 and last 4 kept, as the id_card cleaner masks: 110105********002X."""
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def _mask_mobile(text: str) -> str:
    """The four digits before the last four: 138****5678, +86 138 **** 5678."""
    tail = 5 if text[-5] in " -" else 4
    return text[: -(tail + 4)] + "****" + text[-tail:]


def mask_series(values: pl.Series, mobiles: bool = False) -> pl.Series:
    """``values`` with every ID number (and mobile) in them masked."""
    if values.dtype != pl.String:
        return values
    table = found(values, mobiles)
    return _replace(values, table)


def _replace(values: pl.Series, table: dict[str, str]) -> pl.Series:
    if not table:
        return values
    patterns = sorted(table, key=len, reverse=True)  # leftmost first, and of two at one place the longer
    return values.str.replace_many(patterns, [table[p] for p in patterns], leftmost=True)


def mask_frame(frame: pl.DataFrame, mobiles: bool = False, keep: Iterable[str] = ()) -> pl.DataFrame:
    """Every text column of ``frame`` but those in ``keep`` (ids the tool made) with ID numbers masked. Only
    the rows the quick expression finds are rewritten, so a lineage of a million rows costs one scan."""
    kept = set(keep)
    columns = [c for c, t in frame.schema.items() if t == pl.String and c not in kept]
    if not columns or frame.height == 0:
        return frame
    quick = _quick(mobiles)
    hits = {c: h for c in columns if (h := frame[c].str.contains(quick).fill_null(False)).any()}
    if not hits:
        return frame
    table = found(pl.concat([frame[c].filter(h) for c, h in hits.items()]), mobiles)
    if not table:
        return frame
    replaced = []
    for c, h in hits.items():
        rows = h.arg_true()
        column = frame[c].clone()
        column.scatter(rows, _replace(frame[c].gather(rows), table))
        replaced.append(column)
    return frame.with_columns(replaced)


def mask_texts(texts: Sequence[str | None], mobiles: bool = False) -> list[str | None]:
    """The same for a list of texts (a report's strings, the cells of a workbook)."""
    if not texts:
        return list(texts)
    return mask_series(pl.Series(list(texts), dtype=pl.String), mobiles).to_list()


def masked_whole(value: pl.Expr) -> pl.Expr:
    """A value of a sensitive field masked whole, over the column: the first 6 and the last 4 characters kept
    (110105********002X), as `crm_migrate.cleaners.codes.mask` does one value."""
    n = value.str.len_chars()
    middle = value.str.slice(6, (n - 10).clip(lower_bound=0)).str.replace_all(r"(?s).", "*")
    return pl.when(n > 10).then(value.str.slice(0, 6) + middle + value.str.slice(-4)).otherwise(value)


TEXT_SUFFIXES = (".html", ".json", ".csv", ".txt", ".md", ".sql")


def mask_tree(folder, mobiles: bool = False) -> None:
    """The text files another tool wrote under ``folder`` (Great Expectations' suites, results and Data Docs,
    which quote unexpected values), with ID numbers (and mobiles) masked in place."""
    from pathlib import Path

    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        shown = mask_texts([text], mobiles)[0]
        if shown is not None and shown != text:
            path.write_text(shown, encoding="utf-8")
