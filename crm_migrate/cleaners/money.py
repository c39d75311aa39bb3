"""Money amounts: a plain decimal with two places, and the currency the value names.

    "1,200,000" -> 1200000.00;  "120万" -> 1200000.00;  "¥35,000.00" -> 35000.00 CNY;  "3.5亿" -> 350000000.00;
    "USD 1,200" / "$1,200" -> 1200.00 USD
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import ascii_width, tidy

CURRENCIES = [("人民币", "CNY"), ("rmb", "CNY"), ("cny", "CNY"), ("¥", "CNY"), ("￥", "CNY"), ("元", "CNY"),
              ("hk$", "HKD"), ("hkd", "HKD"), ("港币", "HKD"), ("港元", "HKD"), ("us$", "USD"), ("usd", "USD"),
              ("美元", "USD"), ("$", "USD"), ("eur", "EUR"), ("€", "EUR"), ("欧元", "EUR"), ("jpy", "JPY"),
              ("日元", "JPY")]
MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000), "k": Decimal(1_000),
               "w": Decimal(10_000)}


def clean_money(raw: str, ctx: CleanContext) -> Cleaned:
    text = ascii_width(tidy(raw))
    if not text:
        return Cleaned(None)
    core = text.lower().replace(",", "").replace(" ", "")
    currency = None
    for sign, code in CURRENCIES:
        if sign in core:
            currency = currency or code
            core = core.replace(sign, "")
    factor = Decimal(1)
    while core and core[-1] in MULTIPLIERS:
        factor, core = factor * MULTIPLIERS[core[-1]], core[:-1]
    try:
        amount = Decimal(core) * factor
    except InvalidOperation:
        return Cleaned(text, None, "not an amount")
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 18:
        return Cleaned(text, None, "not an amount")
    value = format(amount.quantize(Decimal("0.01")), "f")
    notes = () if value == text else ("written as a plain decimal",)
    return Cleaned(value, value, None, notes, (("currency", currency),))
