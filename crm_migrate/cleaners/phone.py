"""Phone numbers to E.164 with `phonenumbers`, after the pre-processing Chinese data needs.

    138 0013 8000 / +86-138-0013-8000 / 手机：13800138000   -> +8613800138000 (mobile)
    010-62345678转8001 / 010-62345678-8001                    -> +861062345678, extension 8001
    75588888888 (a number cell lost its leading zero)        -> +8675588888888, noted as repaired
    13800138000 / 138 0013 8000  (two numbers in one cell)   -> the first; the rest kept as "others"
    13800138000, 11111111111, 12345678901                    -> invalid: placeholder
    62345678 (no area code)                                  -> invalid unless the row's city supplies one
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType as PNT

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import ascii_width, tidy

_LABEL = re.compile(r"^\s*(tel|phone|mobile|cell|电话|手机|座机|固话|办公电话|联系电话)\s*[:：]?\s*", re.I)
_SPLIT = re.compile(r"\s*(?:[/;,，、；|]|或|\s{2,})\s*")
_EXTENSION = re.compile(r"\s*(?:转|轉|分机|分機|ext\.?|x|#)\s*(\d{1,6})\s*$", re.I)
_DASH_EXTENSION = re.compile(r"^(0\d{2,3}[- ]?\d{7,8})-(\d{1,5})$")
PLACEHOLDERS = {"13800138000", "12345678901", "13888888888", "13900000000", "10086", "10000"}
KINDS = {PNT.MOBILE: "mobile", PNT.FIXED_LINE: "landline", PNT.FIXED_LINE_OR_MOBILE: "landline",
         PNT.TOLL_FREE: "service", PNT.SHARED_COST: "service", PNT.PREMIUM_RATE: "service", PNT.VOIP: "voip",
         PNT.UAN: "service"}


def is_placeholder(digits: str) -> bool:
    core = digits[-11:] if digits.startswith("86") and len(digits) == 13 else digits
    if core in PLACEHOLDERS or len(set(core)) == 1:
        return True
    return len(core) >= 6 and (core in "1234567890123456789" or core in "9876543210987654321")


def _one(text: str, ctx: CleanContext) -> tuple[Cleaned, str | None]:
    """One number (with its extension split off), and the extension."""
    notes: list[str] = []
    extension = None
    if m := _EXTENSION.search(text):
        extension, text = m.group(1), text[: m.start()]
    elif m := _DASH_EXTENSION.match(text):
        text, extension = m.group(1), m.group(2)
    digits = re.sub(r"\D", "", text)
    if not digits:
        return Cleaned(text, None, "not a phone number"), extension
    if is_placeholder(digits):
        return Cleaned(text, None, "placeholder number"), extension
    if ctx.region == "CN" and not text.lstrip().startswith(("+", "0")) and len(digits) in (10, 11) \
            and digits[0] not in "01" and not digits.startswith("86"):
        candidate = phonenumbers.parse("0" + digits, "CN")
        if phonenumbers.is_valid_number(candidate) and phonenumbers.number_type(candidate) in (
                PNT.FIXED_LINE, PNT.FIXED_LINE_OR_MOBILE):
            text = "0" + digits
            notes.append("leading zero restored")
    try:
        number = phonenumbers.parse(text, ctx.region)
    except phonenumbers.NumberParseException:
        return Cleaned(text, None, "not a phone number"), extension
    if not phonenumbers.is_valid_number(number) and ctx.region == "CN" and digits[:3] in ("852", "853", "886"):
        try:  # Hong Kong, Macao, Taiwan written without the +
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            pass
    if not phonenumbers.is_valid_number(number):
        from phonenumbers import shortnumberinfo

        if len(digits) <= 6 and shortnumberinfo.is_valid_short_number_for_region(number, ctx.region):
            return Cleaned(digits, digits, None, ("service number",), (("kind", "service"),)), extension
        if ctx.region == "CN" and len(digits) in (7, 8) and digits[0] != "0":
            return Cleaned(digits, None, "local number without area code", tuple(notes),
                           (("kind", "landline"), ("local", digits))), extension
        return Cleaned(text, None, "not a valid phone number", tuple(notes)), extension
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = KINDS.get(phonenumbers.number_type(number), "other")
    return Cleaned(e164, e164, None, tuple(notes), (("kind", kind),)), extension


def clean_phone(raw: str, ctx: CleanContext) -> Cleaned:
    text = _LABEL.sub("", ascii_width(tidy(raw)).replace("\n", " ")).strip()
    if not text:
        return Cleaned(None)
    notes: list[str] = []
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    if not parts:
        return Cleaned(text, None, "not a phone number")
    if len(parts) == 1 and len(re.sub(r"\D", "", text)) >= 20:
        found = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(text, ctx.region)]
        parts = found or parts
    results = [_one(p, ctx) for p in parts]
    (first, extension), others = results[0], results[1:]
    if others:
        notes.append("several numbers in one cell")
    if extension:
        notes.append("extension kept apart")
    attrs = dict(first.attrs)
    attrs["extension"] = extension
    attrs["others"] = "; ".join(r.value for r, _ in others if r.value and r.valid) or None
    if first.value != text and first.valid and not first.notes and not others and not extension:
        notes.append("formatted as E.164")
    return Cleaned(first.value, first.key, first.reason, tuple(notes) + first.notes, tuple(attrs.items()))


@lru_cache(maxsize=1)
def _area_codes() -> dict[str, str]:
    """Region description (广东省深圳市) -> area code, read off phonenumbers' offline geocoder."""
    from phonenumbers import geocoder

    index: dict[str, str] = {}
    codes = ["10", *(f"2{i}" for i in range(10)), *(f"{n}" for n in range(300, 1000))]
    for code in codes:
        for local in ("62345678", "6234567"):
            number = phonenumbers.parse(f"+86{code}{local}")
            if phonenumbers.is_valid_number(number):
                if description := geocoder.description_for_number(number, "zh"):
                    index.setdefault(description, code)
                break
    return index


def area_code_for(province: str | None, city: str | None) -> str | None:
    """The area code of a city (深圳市 -> 755), or of a municipality (北京市 -> 10)."""
    for description, code in _area_codes().items():
        if city and city != province and city in description and (not province or description.startswith(province)):
            return code
        if province and (city is None or city == province) and description == province:
            return code
    return None


def complete_local(local: str, area_code: str, ctx: CleanContext) -> Cleaned:
    """A local landline number with the area code its row's address gives."""
    result, extension = _one(f"0{area_code}{local}", ctx)
    notes = ("area code added from the row's city",) + result.notes
    return Cleaned(result.value, result.key, result.reason, notes, result.attrs + (("extension", extension),))
