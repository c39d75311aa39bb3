"""Money amounts: currency signs, separators and 万/亿 multipliers out; a plain decimal number in."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import half_width, tidy

_SIGNS = re.compile(r"(rmb|cny|usd|¥|￥|\$|元|人民币)", re.I)
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "k": Decimal(1_000)}


def clean_money(raw: str, ctx: CleanContext) -> Cleaned:
    text = half_width(tidy(raw))
    if not text:
        return Cleaned(None)
    core = _SIGNS.sub("", text).replace(",", "").replace(" ", "").lower()
    factor = Decimal(1)
    if core and core[-1] in _MULTIPLIERS:
        factor, core = _MULTIPLIERS[core[-1]], core[:-1]
    try:
        amount = Decimal(core) * factor
    except InvalidOperation:
        return Cleaned(text, None, "not an amount")
    if not amount.is_finite():
        return Cleaned(text, None, "not an amount")
    value = format(amount.quantize(Decimal("0.01")), "f")
    return Cleaned(value, value)
