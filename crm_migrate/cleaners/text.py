"""Text hygiene every value gets, and the helpers other cleaners build on.

Invisible and control characters go, runs of spaces (ideographic ones too) collapse, full-width digits and
letters become half-width, and mojibake is repaired where the repair is certain: text that was UTF-8 but
was read as GBK (浣犲ソ -> 你好) or as Latin-1 (ä½ å¥½ -> 你好). Full-width punctuation such as （） and ，
stays: registered Chinese names use it. Traditional characters become simplified in match keys always, and
in values when the project asks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_C0_AND_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_FULL_WIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
_FULL_WIDTH_ASCII = re.compile(r"[\uff01-\uff5e\u3000]")
_MOJIBAKE_LATIN = re.compile(r"[\u00c0-\u00ff][\u0080-\u00bf]")


def _repair_utf8_as_gbk(value: str) -> str | None:
    try:
        fixed = value.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return fixed if fixed != value and _CJK.search(fixed) else None


def _repair_utf8_as_latin1(value: str) -> str | None:
    if not _MOJIBAKE_LATIN.search(value):
        return None
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = value.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != value and re.sub(r"\s", "", fixed).isprintable():
            return fixed
    return None


def repair_mojibake(value: str) -> str | None:
    """The text as it was meant, when it is certainly UTF-8 decoded with the wrong codec; else None.

    Certain means the wrong round trip succeeds strictly in reverse: a string of two or more CJK characters
    that happens to re-encode as valid UTF-8 is vanishingly rare, and a Latin-1 reading of UTF-8 leaves the
    tell-tale pairs of accented letters and C1 characters.
    """
    if value.isascii():
        return None
    if len(_CJK.findall(value)) >= 2:
        return _repair_utf8_as_gbk(value)
    return _repair_utf8_as_latin1(value)


def tidy(value: str) -> str:
    """Remove zero-width and control characters, collapse runs of spaces (ideographic too), trim lines."""
    value = _INVISIBLE.sub("", value)
    if "\r" in value or "\n" in value:
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(t for line in lines if (t := _SPACES.sub(" ", line).strip()))
    return _SPACES.sub(" ", value).strip()


def half_width(value: str) -> str:
    """Full-width digits, letters and the ideographic space to ASCII; punctuation left as it is."""
    return _FULL_WIDTH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group()), value)


def ascii_width(value: str) -> str:
    """Every full-width ASCII form to ASCII, punctuation included (for phones, emails, codes, dates)."""
    return _FULL_WIDTH_ASCII.sub(lambda m: unicodedata.normalize("NFKC", m.group()), value)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(value: str) -> str:
    """Traditional characters to simplified (OpenCC t2s); ASCII passes untouched."""
    return value if value.isascii() else _t2s().convert(value)


def hygiene(raw: str, ctx: CleanContext) -> tuple[str, list[str]]:
    """The value after the rules every text gets, and the notes of those that changed it.

    Applied until nothing changes (rarely twice: an invisible character can hide mojibake), so that
    cleaning a clean value never changes it.
    """
    value, notes = _hygiene_once(raw, ctx)
    if not notes:
        return value, notes
    for _ in range(3):
        again, more = _hygiene_once(value, ctx)
        if again == value:
            break
        value, notes = again, notes + [n for n in more if n not in notes]
    return value, notes


def _hygiene_once(raw: str, ctx: CleanContext) -> tuple[str, list[str]]:
    notes = []
    raw = _C0_AND_ZERO_WIDTH.sub("", raw)
    fixed = repair_mojibake(raw)  # before tidying: mojibake holds C1 controls, no-break spaces, soft hyphens
    if fixed is not None:
        notes.append("mojibake repaired")
    value = tidy(fixed if fixed is not None else raw)
    if value != (fixed if fixed is not None else raw).strip():
        notes.append("whitespace or invisible characters removed")
    narrow = half_width(value)
    if narrow != value:
        value = narrow
        notes.append("full-width characters narrowed")
    if ctx.simplified_output and not value.isascii():
        converted = simplified(value)
        if converted != value:
            value = converted
            notes.append("traditional to simplified")
    return value, notes


@lru_cache(maxsize=1)
def traditional_chars() -> list[str]:
    """The common characters that simplified Chinese writes otherwise (們, 國, 貿): a name holding one is
    written in traditional characters."""
    chars = "".join(chr(c) for c in range(0x4E00, 0x9FA6))
    return [a for a, b in zip(chars, simplified(chars), strict=True) if a != b]


def text_key(value: str) -> str:
    return simplified(unicodedata.normalize("NFKC", value)).lower()


def clean_text(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    return Cleaned(value or None, text_key(value) or None, notes=tuple(notes))


def legacy_key(value: str) -> str:
    """A legacy id as people mangle it, read one way: case, full-width characters, separators and the zero
    padding of its numbers do not count (kh008793 = KH-8793 = ＫＨ００８７９３ -> KH8793)."""
    text = re.sub(r"[\s\-_/.#:：·]+", "", half_width(value).upper())
    return re.sub(r"(?<!\d)0+(?=\d)", "", text) or value


def clean_id(raw: str, ctx: CleanContext) -> Cleaned:
    """Legacy ids: trimmed and half-width, otherwise exactly as the old system wrote them; the key, which
    links children to their account, is `legacy_key`."""
    value = half_width(tidy(raw))
    if not value:
        return Cleaned(None)
    return Cleaned(value, legacy_key(value))


def clean_number(raw: str, ctx: CleanContext) -> Cleaned:
    value = ascii_width(tidy(raw)).replace(",", "")
    if not value:
        return Cleaned(None)
    try:
        float(value)
    except ValueError:
        return Cleaned(value, None, "not a number")
    return Cleaned(value, value)


def clean_url(raw: str, ctx: CleanContext) -> Cleaned:
    value = ascii_width(tidy(raw))
    if not value:
        return Cleaned(None)
    if " " in value or "." not in value:
        return Cleaned(value, None, "not a web address")
    key = re.sub(r"^https?://(www\.)?", "", value.lower()).rstrip("/")
    return Cleaned(value, key)


@fast_path(clean_text)
def _fast_texts(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Text of simplified Chinese characters and printable ASCII, single spaces inside (年度采购 2024, 星辰-A
    项目): hygiene changes nothing, and its key is only lower case."""
    frame = pl.DataFrame({"raw": plain_chinese(values, r"^[\u4e00-\u9fa5!-~]+(?: [\u4e00-\u9fa5!-~]+)*$")})
    return frame.select(
        "raw",
        pl.col("raw").alias("value"),
        pl.col("raw").str.to_lowercase().alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("notes"),
    )


@fast_path(clean_id)
def _fast_ids(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Ids that are plain printable ASCII words already."""
    frame = pl.DataFrame({"raw": values}).filter(pl.col("raw").str.contains(r"^[!-~]+(?: [!-~]+)*$"))
    key = (
        pl.col("raw")
        .str.to_uppercase()
        .str.replace_all(r"[\s\-_/.#:]+", "")
        .str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}")
    )
    # lazily, so that the key is worked out once for its two uses
    return (
        frame.lazy()
        .select(
            "raw",
            pl.col("raw").alias("value"),
            pl.when(key != "").then(key).otherwise("raw").alias("key"),
            pl.lit(None, pl.String).alias("reason"),
            pl.lit(None, pl.String).alias("notes"),
        )
        .collect()
    )


def plain_chinese(values: pl.Series, pattern: str) -> pl.Series:
    """The values matching ``pattern`` that hygiene leaves untouched: no character that t2s would change
    (checked once per distinct character) and no mojibake. Fast paths start from these."""
    candidates = values.filter(values.str.contains(pattern))
    if candidates.is_empty():
        return candidates
    chars = candidates.str.split("").explode().unique().to_list()
    changing = [c for c in chars if c and not c.isascii() and simplified(c) != c]
    if changing:
        candidates = candidates.filter(~candidates.str.contains_any(changing))
    suspects = candidates.filter(maybe_mojibake(candidates))
    if suspects.is_empty():
        return candidates
    repaired = [v for v in suspects.to_list() if repair_mojibake(v) is not None]
    return candidates.filter(~candidates.is_in(repaired)) if repaired else candidates


@lru_cache(maxsize=1)
def _utf8_leads() -> list[str]:
    """The characters whose GBK bytes could begin a UTF-8 sequence (a lead byte, then a continuation byte): the
    first non-ASCII character of any text that is UTF-8 read as GBK is one of them (鍖 of 鍖椾含, 北京 so read)."""
    out = []
    for code in range(0x80, 0x10000):
        char = chr(code)
        try:
            raw = char.encode("gbk")
        except UnicodeEncodeError:
            continue
        if len(raw) == 2 and 0xC2 <= raw[0] <= 0xF4 and 0x80 <= raw[1] <= 0xBF:
            out.append(char)
    return out


def maybe_mojibake(values: pl.Series) -> pl.Series:
    """Per value, whether `repair_mojibake` could repair it, whole-frame: Latin-1 mojibake holds an accented
    letter followed by a C1 character; UTF-8 read as GBK begins (after any ASCII) with a character of
    `_utf8_leads`. False is certain; true asks `repair_mojibake`."""
    first = values.str.extract(r"([^\x00-\x7f])", 1)
    return (values.str.contains(_MOJIBAKE_LATIN.pattern) | first.is_in(_utf8_leads())).fill_null(False)
