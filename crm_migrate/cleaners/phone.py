"""Phone numbers to E.164 with `phonenumbers`; the region applies to numbers without a country code."""

from __future__ import annotations

import re

import phonenumbers

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import half_width, tidy

_NOISE = re.compile(r"^(tel:|电话[:：]?|手机[:：]?|mobile[:：]?)", re.I)


def clean_phone(raw: str, ctx: CleanContext) -> Cleaned:
    value = half_width(tidy(raw))
    value = _NOISE.sub("", value).strip()
    if not value:
        return Cleaned(None)
    try:
        number = phonenumbers.parse(value, ctx.region)
    except phonenumbers.NumberParseException:
        return Cleaned(value, None, "not a phone number")
    if not phonenumbers.is_valid_number(number):
        return Cleaned(value, None, "not a valid phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Cleaned(e164, e164)
