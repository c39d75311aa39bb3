"""Phone numbers to E.164 with `phonenumbers`, after the pre-processing Chinese data needs.

138 0013 8000 / +86-138-0013-8000 / 手机：13800138000   -> +8613800138000 (mobile)
010-62345678转8001 / 010-62345678-8001                    -> +861062345678, extension 8001
75588888888 (a number cell lost its leading zero)        -> +8675588888888, noted as repaired
13800138000 / 138 0013 8000  (two numbers in one cell)   -> the first; the rest kept as "others"
13800138000, 11111111111, 12345678901                    -> invalid: placeholder
1.3912E+10 (Excel showed it in scientific notation)      -> invalid: the digits are gone from the file
62345678 (no area code)                                  -> invalid unless the row's city supplies one
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType as PNT

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import ascii_width, tidy

_LABEL = re.compile(r"^\s*(tel|phone|mobile|cell|电话|手机|座机|固话|办公电话|联系电话)\s*[:：]?\s*", re.I)
_SPLIT = re.compile(r"\s*(?:[/;,，、；|]|或|\s{2,})\s*")
_EXTENSION = re.compile(r"\s*(?:转|轉|分机|分機|ext\.?|x|#)\s*(\d{1,6})\s*$", re.I)
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d{1,2}$", re.IGNORECASE)
EXCEL_RUINED = (
    "ruined by Excel: saved in scientific notation, the digits are lost; take the number from the original system"
)
_DASH_EXTENSION = re.compile(r"^(0\d{2,3}[- ]?\d{7,8})-(\d{1,5})$")
PLACEHOLDERS = {"13800138000", "12345678901", "13888888888", "13900000000", "10086", "10000"}
KINDS = {
    PNT.MOBILE: "mobile",
    PNT.FIXED_LINE: "landline",
    PNT.FIXED_LINE_OR_MOBILE: "landline",
    PNT.TOLL_FREE: "service",
    PNT.SHARED_COST: "service",
    PNT.PREMIUM_RATE: "service",
    PNT.VOIP: "voip",
    PNT.UAN: "service",
}


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
    if (
        ctx.region == "CN"
        and not text.lstrip().startswith(("+", "0"))
        and len(digits) in (10, 11)
        and digits[0] not in "01"
        and not digits.startswith("86")
    ):
        candidate = phonenumbers.parse("0" + digits, "CN")
        if phonenumbers.is_valid_number(candidate) and phonenumbers.number_type(candidate) in (
            PNT.FIXED_LINE,
            PNT.FIXED_LINE_OR_MOBILE,
        ):
            text = "0" + digits
            notes.append("leading zero restored")
    try:
        number = phonenumbers.parse(text, ctx.region)
    except phonenumbers.NumberParseException:
        return Cleaned(text, None, "not a phone number"), extension
    if not phonenumbers.is_valid_number(number) and ctx.region == "CN" and digits[:3] in ("852", "853", "886"):
        with contextlib.suppress(phonenumbers.NumberParseException):  # Hong Kong, Macao, Taiwan without the +
            number = phonenumbers.parse("+" + digits, None)
    if not phonenumbers.is_valid_number(number):
        from phonenumbers import shortnumberinfo

        if len(digits) <= 6 and shortnumberinfo.is_valid_short_number_for_region(number, ctx.region):
            return Cleaned(digits, digits, None, ("service number",), (("kind", "service"),)), extension
        if ctx.region == "CN" and len(digits) in (7, 8) and digits[0] != "0":
            return Cleaned(
                digits, None, "local number without area code", tuple(notes), (("kind", "landline"), ("local", digits))
            ), extension
        return Cleaned(text, None, "not a valid phone number", tuple(notes)), extension
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = KINDS.get(phonenumbers.number_type(number), "other")
    return Cleaned(e164, e164, None, tuple(notes), (("kind", kind),)), extension


_PLAIN_MOBILE = re.compile(r"^(?:\+?86|0086)?[\s-]*(1[3-9]\d)[\s-]*(\d{4})[\s-]*(\d{4})$")
_PLAIN_LANDLINE = re.compile(r"^[(（]?(0[1-9]\d{1,2})[)）]?[\s-]*([2-9]\d{2,3})[\s-]*(\d{4})$")


_PREFIX_VALID: dict[str, bool] = {}


def _valid_prefix(digits: str) -> bool:
    """Whether phonenumbers accepts numbers with these first five digits and this length (its CN ranges are
    prefix-based), asked once per prefix."""
    prefix = digits[:5] + str(len(digits))
    if prefix not in _PREFIX_VALID:
        _PREFIX_VALID[prefix] = phonenumbers.is_valid_number(phonenumbers.parse("+86" + digits, None))
    return _PREFIX_VALID[prefix]


def _fast(text: str, ctx: CleanContext) -> Cleaned | None:
    """The common forms (a mainland mobile, an area code and a number) without the full parser."""
    if ctx.region != "CN":
        return None
    if m := _PLAIN_MOBILE.match(text):
        digits = "".join(m.groups())
        kind = "mobile"
    elif m := _PLAIN_LANDLINE.match(text):
        digits = "".join(m.groups())[1:]
        kind = "landline"
    else:
        return None
    if is_placeholder(digits) or not _valid_prefix(digits):
        return None
    e164 = "+86" + digits
    notes = () if text == e164 else ("formatted as E.164",)
    return Cleaned(e164, e164, None, notes, (("kind", kind), ("extension", None), ("others", None)))


def clean_phone(raw: str, ctx: CleanContext) -> Cleaned:
    tidied = ascii_width(tidy(raw)).replace("\n", " ").strip()
    text = _LABEL.sub("", tidied).strip()
    if not text:  # blank, or a label with no number after it (电话, TEL:, Mobile): said, not lost unseen
        return Cleaned(tidied, None, "a label without a number") if tidied else Cleaned(None)
    if (fast := _fast(text, ctx)) is not None:
        return fast
    if _SCIENTIFIC.match(text):
        return Cleaned(text, None, EXCEL_RUINED)
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


_SEQUENCES = {
    s[i : i + n]
    for s in ("1234567890123456789", "9876543210987654321")
    for n in range(6, 14)
    for i in range(len(s) - n + 1)
}
FAST_MOBILE = r"^(?:\+?86|0086)?[ -]*(1[3-9]\d)[ -]*(\d{4})[ -]*(\d{4})$"
FAST_LANDLINE = r"^\(?0([1-9]\d{1,2})\)?[ -]*([2-9]\d{2,3})[ -]*(\d{4})$"


@fast_path(clean_phone)
def _fast_phones(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Plain mainland mobiles and area-code landlines, and landlines whose zero a number cell dropped,
    checked against phonenumbers once per prefix."""
    frame = pl.DataFrame({"raw": values})
    if ctx.region != "CN":
        return frame.clear()
    mobile = pl.col("raw").str.extract_groups(FAST_MOBILE)
    landline = pl.col("raw").str.extract_groups(FAST_LANDLINE)
    lost_zero = pl.col("raw").str.contains(r"^[2-9]\d{9,10}$") & ~pl.col("raw").str.starts_with("86")
    frame = frame.with_columns(
        pl.coalesce(
            pl.concat_str([mobile.struct[i] for i in ("1", "2", "3")]),
            pl.concat_str([landline.struct[i] for i in ("1", "2", "3")]),
            pl.when(lost_zero).then(pl.col("raw")),
        ).alias("digits"),
        pl.when(mobile.struct["1"].is_not_null())
        .then(pl.lit("mobile"))
        .otherwise(pl.lit("landline"))
        .alias("attr:kind"),
        lost_zero.alias("lost_zero"),
    )
    frame = frame.filter(
        pl.col("digits").is_not_null()
        & ~pl.col("digits").is_in(list(PLACEHOLDERS | _SEQUENCES))
        & (pl.col("digits").str.split("").list.n_unique() > 1)
    )
    # phonenumbers asked once per prefix (`_valid_prefix`: five digits and the length), not per number
    prefix = pl.col("digits").str.slice(0, 5) + pl.col("digits").str.len_chars().cast(pl.String)
    shown = frame.select(prefix.alias("p"), "digits").unique("p")
    valid = [p for p, digits in shown.iter_rows() if _valid_prefix(digits)]
    frame = frame.filter(prefix.is_in(valid))
    e164 = pl.lit("+86") + pl.col("digits")
    notes = (
        pl.when(pl.col("lost_zero"))
        .then(pl.lit("leading zero restored"))
        .when(pl.col("raw") != e164)
        .then(pl.lit("formatted as E.164"))
    )
    return frame.select(
        "raw",
        e164.alias("value"),
        e164.alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        notes.alias("notes"),
        "attr:kind",
        pl.lit(None, pl.String).alias("attr:extension"),
        pl.lit(None, pl.String).alias("attr:others"),
    )
