"""Dates in the forms Chinese and Western exports use, written as ISO 8601 (time kept when given)."""

from __future__ import annotations

import datetime as dt
import re

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import half_width, tidy

_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[T\s]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?)?秒?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _build(y: int, m: int, d: int, time: tuple[int, int, int] | None = None) -> dt.date | dt.datetime:
    if time and any(time):
        return dt.datetime(y, m, d, *time)
    return dt.date(y, m, d)


def parse_date(text: str) -> dt.date | dt.datetime | str:
    """The date, or a reason why it is not one."""
    if m := _YMD.match(text):
        time = tuple(int(x) for x in m.groups()[3:6] if x is not None)
        time = (time + (0, 0, 0))[:3] if time else None
        return _build(int(m[1]), int(m[2]), int(m[3]), time)
    if m := _COMPACT.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.match(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        if a <= 12 and b <= 12 and a != b:
            return f"ambiguous day and month in {text!r}"
        return _build(y, a, b) if b > 12 else _build(y, b, a)
    if text.isdigit() and 20000 <= int(text) <= 80000:  # an Excel serial day number from a number cell
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    return "not a date"


def clean_date(raw: str, ctx: CleanContext) -> Cleaned:
    text = half_width(tidy(raw))
    if not text:
        return Cleaned(None)
    try:
        parsed = parse_date(text)
    except ValueError:
        return Cleaned(text, None, "no such day")
    if isinstance(parsed, str):
        return Cleaned(text, None, parsed)
    if not (1900 <= parsed.year <= 2100):
        return Cleaned(text, None, "year out of range")
    value = parsed.isoformat(sep=" ") if isinstance(parsed, dt.datetime) else parsed.isoformat()
    return Cleaned(value, value[:10])
