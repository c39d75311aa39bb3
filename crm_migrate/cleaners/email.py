"""Email addresses: syntax checked offline, case folded."""

from __future__ import annotations

import re

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import half_width, tidy

_SYNTAX = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def clean_email(raw: str, ctx: CleanContext) -> Cleaned:
    value = half_width(tidy(raw)).replace("＠", "@").replace(" ", "")
    if not value:
        return Cleaned(None)
    value = value.lower()
    if not _SYNTAX.match(value) or ".." in value:
        return Cleaned(value, None, "not an email address")
    return Cleaned(value, value)
