"""Dates in the forms Chinese and Western exports use, written as ISO 8601 (time kept when given).

    2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日, 20210305, 44260 (an Excel serial day) -> 2021-03-05

Day-first and month-first forms (05/03/2021) are decided per column, not per value: a column where some
value has a first part over 12 is day-first, one where some second part is over 12 is month-first. A column
with no such value is ambiguous and its a/b/yyyy values are invalid until the mapping sets ``date_order``;
a column with both is reported as mixed.

A date without a year (5月6日, 5/6, 05-06, 5.6) cannot be written as a date: it is invalid, "date without a
year", with the month and day kept as the attribute ``month_day`` (05-06, or 01-26 18:30:00 with the time
written after it) for a row whose other dates, or whose sheet or file name, tell the year. Month first, as Chinese dates are written, unless the column is day-first (``date_order: dmy``)
or the first number is over 12 (25/12 -> 12-25).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import ascii_width, tidy

_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?)?秒?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MONTH_DAY = re.compile(
    r"^(?:(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?|(\d{1,2})\s*[-/.]\s*(\d{1,2}))"
    r"(?:[T\s]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?秒?)?$"
)
NO_YEAR = "date without a year"
EXCEL_EPOCH = dt.date(1899, 12, 30)
AMBIGUOUS, MIXED = "ambiguous", "mixed"


def infer_order(values: Iterable[str]) -> str | None:
    """``dmy``, ``mdy``, ``ambiguous`` or ``mixed`` for a column's a/b/yyyy values; None when it has none."""
    day_first = month_first = seen = False
    for v in values:
        if m := _DMY.match(ascii_width(v.strip())):
            seen = True
            a, b = int(m[1]), int(m[2])
            day_first |= a > 12
            month_first |= b > 12
    if not seen:
        return None
    if day_first and month_first:
        return MIXED
    return "dmy" if day_first else "mdy" if month_first else AMBIGUOUS


def _build(y: int, m: int, d: int, time: tuple[int, ...] | None) -> dt.date | dt.datetime:
    if time and any(time):
        hour, minute, second = (time + (0, 0, 0))[:3]
        return dt.datetime(y, m, d, hour, minute, second)
    return dt.date(y, m, d)


def _time(groups: tuple[str | None, ...]) -> tuple[int, ...]:
    return tuple(int(x) for x in groups if x is not None)


def parse_date(text: str, order: str | None = None) -> dt.date | dt.datetime | str:
    """The date, or a reason why it is not one."""
    if m := _YMD.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), _time(m.groups()[3:6]))
    if m := _COMPACT.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), None)
    if m := _DMY.match(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        if order == "dmy":
            return _build(y, b, a, _time(m.groups()[3:6]))
        if order == "mdy":
            return _build(y, a, b, _time(m.groups()[3:6]))
        if a == b or b > 12:
            return _build(y, a, b, _time(m.groups()[3:6]))
        if a > 12:
            return _build(y, b, a, _time(m.groups()[3:6]))
        if order == MIXED:
            return "the column mixes day-first and month-first dates; set date_order in the mapping"
        return "day and month order unknown in this column; set date_order (dmy or mdy) in the mapping"
    if text.isdigit() and 20000 <= int(text) <= 80000:  # an Excel serial day number from a number cell
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    return "not a date"


def month_day(text: str, order: str | None = None) -> str | None:
    """MM-DD of a date written without a year (5月6日, 5/6, 05-06, 5.6), with its time when one follows
    (1月26日 18:30 -> 01-26 18:30:00); None for anything else. Raises ValueError for a month and day that are
    no day of any year (2/30)."""
    m = _MONTH_DAY.match(text)
    if m is None:
        return None
    if m[5] is not None:
        hour, minute, second = int(m[5]), int(m[6]), int(m[7] or 0)
        if not (hour < 24 and minute < 60 and second < 60):
            return None
        day = month_day(text[: m.start(5)].rstrip(" T"), order)
        return f"{day} {hour:02d}:{minute:02d}:{second:02d}" if day else None
    a, b = int(m[1] or m[3]), int(m[2] or m[4])
    if m[3] is not None and (order == "dmy" or (order != "mdy" and a > 12)):
        a, b = b, a
    if not (1 <= a <= 12 and 1 <= b <= 31):
        return None
    return dt.date(2000, a, b).strftime("%m-%d")  # 2000 is a leap year: 2月29日 is a day


def clean_date(raw: str, ctx: CleanContext) -> Cleaned:
    text = ascii_width(tidy(raw))
    if not text:
        return Cleaned(None)
    try:
        parsed = parse_date(text, ctx.date_order)
        md = month_day(text, ctx.date_order) if parsed == "not a date" else None  # the forms above come first
    except ValueError:
        return Cleaned(text, None, "no such day")
    if md is not None:
        return Cleaned(text, None, NO_YEAR, (), (("month_day", md),))
    if isinstance(parsed, str):
        return Cleaned(text, None, parsed)
    if not (1900 <= parsed.year <= 2100):
        return Cleaned(text, None, "year out of range")
    value = parsed.isoformat(sep=" ") if isinstance(parsed, dt.datetime) else parsed.isoformat()
    notes = () if value == text else ("written as ISO 8601",)
    if text.isdigit() and len(text) == 5:
        notes = ("Excel serial day converted",)
    return Cleaned(value, value[:10], None, notes)


@fast_path(clean_date)
def _fast_dates(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Dates written year first (2021-03-05, 2021/3/5), perhaps with a time of day (17:30, 17:30:15), that
    are real days of a plausible year at a real time: what an export or a sheet mostly holds, written as
    ISO 8601 whole-frame (midnight is the day alone, as the per-value cleaner gives it)."""
    parts = pl.col("raw").str.extract_groups(
        r"^(\d{4})([-/])(\d{1,2})([-/])(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
    )
    frame = pl.DataFrame({"raw": values}).with_columns(parts.alias("p")).unnest("p")
    frame = frame.filter(pl.col("1").is_not_null() & (pl.col("2") == pl.col("4")))
    number = {c: pl.col(c).cast(pl.Int32, strict=False) for c in ("1", "3", "5", "6", "7", "8")}
    day = pl.format("{}-{}-{}", pl.col("1"), pl.col("3").str.zfill(2), pl.col("5").str.zfill(2))
    hour, minute, second = number["6"].fill_null(0), number["7"].fill_null(0), number["8"].fill_null(0)
    frame = frame.with_columns(
        day.alias("day"),
        day.str.to_date("%Y-%m-%d", strict=False).alias("date"),
        hour.alias("h"),
        minute.alias("mi"),
        second.alias("s"),
    )
    frame = frame.filter(
        pl.col("date").is_not_null()
        & number["1"].is_between(1900, 2100)
        & (pl.col("h") <= 23)
        & (pl.col("mi") <= 59)
        & (pl.col("s") <= 59)
    )
    midnight = (pl.col("h") == 0) & (pl.col("mi") == 0) & (pl.col("s") == 0)
    value = (
        pl.when(midnight)
        .then(pl.col("day"))
        .otherwise(
            pl.format(
                "{} {}:{}:{}",
                pl.col("day"),
                pl.col("h").cast(pl.String).str.zfill(2),
                pl.col("mi").cast(pl.String).str.zfill(2),
                pl.col("s").cast(pl.String).str.zfill(2),
            )
        )
    )
    frame = frame.with_columns(value.alias("value"))
    return frame.select(
        "raw",
        "value",
        pl.col("day").alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.when(pl.col("value") != pl.col("raw")).then(pl.lit("written as ISO 8601")).alias("notes"),
    )
