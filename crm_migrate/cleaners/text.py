"""Text hygiene every value gets: invisible characters out, whitespace collapsed, nothing else changed."""

from __future__ import annotations

import re
import unicodedata

from crm_migrate.cleaners.base import CleanContext, Cleaned

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")


def tidy(value: str) -> str:
    """Remove zero-width and control characters, collapse runs of spaces (ideographic too), trim."""
    value = _INVISIBLE.sub("", value)
    lines = [_SPACES.sub(" ", line).strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def half_width(value: str) -> str:
    """Full-width digits, letters and ASCII punctuation to their half-width forms (NFKC on those only)."""
    return "".join(unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" or ch == "\u3000" else ch
                   for ch in value)


def clean_text(raw: str, ctx: CleanContext) -> Cleaned:
    value = tidy(raw)
    return Cleaned(value or None, value.lower() or None)


def clean_id(raw: str, ctx: CleanContext) -> Cleaned:
    """Legacy ids: trimmed and half-width, otherwise exactly as the old system wrote them."""
    value = half_width(tidy(raw))
    return Cleaned(value or None, value or None)


def clean_number(raw: str, ctx: CleanContext) -> Cleaned:
    value = half_width(tidy(raw)).replace(",", "")
    if not value:
        return Cleaned(None)
    try:
        float(value)
    except ValueError:
        return Cleaned(value, None, "not a number")
    return Cleaned(value, value)


def clean_url(raw: str, ctx: CleanContext) -> Cleaned:
    value = half_width(tidy(raw))
    if not value:
        return Cleaned(None)
    if " " in value or "." not in value:
        return Cleaned(value, None, "not a web address")
    key = re.sub(r"^https?://(www\.)?", "", value.lower()).rstrip("/")
    return Cleaned(value, key)
