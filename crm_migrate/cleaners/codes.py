"""Chinese identity codes, checked by their check characters (our own code; see the research notes).

统一社会信用代码 (GB 32100-2015): 18 characters, MOD 31 check; registration classes A (military), N (rural
collectives) and Y (others) allowed besides 1-9. 居民身份证号 (GB 11643-1999): 17 digits and a MOD 11-2 check
digit, a plausible birth date and a valid province; a 15-digit number of the 1985 series is upgraded and
flagged. A number that Excel ruined (1.10101E+17, or its last digits turned to 0) is reported as
unrecoverable, never passed on as if valid. ID numbers are personal data: match keys are keyed hashes and
reports show them masked.

A placeholder typed where no code was known is empty, not an invalid code (value None, no reason), with a
note: 0, 00, 无, 暂无, 不详, 未知, 个人, /, --, N/A, null, none, and one character repeated
(000000000000000000, 111111111111111111, XXXXXX).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import ascii_width, tidy

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_USCC = re.compile(r"^[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_PROVINCES = {
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
    83,
}
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.I)
RUINED = "ruined by Excel: the last digits were lost and cannot be recovered"
SUSPECT = "ends in 000 as Excel-ruined numbers do: not used for matching"
PLACEHOLDER_WORDS = {
    "无",
    "暂无",
    "没有",
    "不详",
    "未知",
    "空",
    "待补充",
    "待定",
    "待查",
    "不知道",
    "个人",
    "无代码",
    "无信用代码",
    "na",
    "n/a",
    "n.a.",
    "null",
    "none",
    "nil",
    "nan",
    "unknown",
    "tbd",
}
_PUNCTUATION_ONLY = re.compile(r"^[\s/\\\-—–_.·。、*?？#＃]+$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def id_check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def mask(value: str) -> str:
    """First 6 and last 4 characters kept: 110105********002X."""
    return value if len(value) <= 10 else value[:6] + "*" * (len(value) - 10) + value[-4:]


def keyed_hash(value: str, secret: bytes) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def _compact(raw: str) -> str:
    return re.sub(r"[\s\-]", "", ascii_width(tidy(raw))).upper()


def placeholder(raw: str) -> str | None:
    """The note for a value that stands for "no code" (暂无, N/A, --, 000000000000000000), or None."""
    text = ascii_width(tidy(raw))
    compact = re.sub(r"\s", "", text)
    if not compact:
        return None
    if (
        compact.lower() in PLACEHOLDER_WORDS
        or _PUNCTUATION_ONLY.match(compact)
        or (len(set(compact)) == 1 and (len(compact) >= 2 or compact == "0"))
    ):
        return f"placeholder '{text}' read as empty"
    return None


def _ruined(value: str, check_ok: bool) -> bool:
    """Excel shows (and a CSV saved from it holds) 15 significant digits: 1.10101E+17 or 1101011990030750000."""
    return bool(_SCIENTIFIC.match(value)) or (not check_ok and value.isdigit() and value.endswith("000"))


def clean_uscc(raw: str, ctx: CleanContext) -> Cleaned:
    if (note := placeholder(raw)) is not None:
        return Cleaned(None, notes=(note,))
    value = _compact(raw)
    if not value:
        return Cleaned(None)
    if _SCIENTIFIC.match(value):
        return Cleaned(value, None, RUINED)
    if not _USCC.match(value):
        return Cleaned(value, None, "not an 18-character credit code")
    if uscc_check_char(value[:17]) != value[17]:
        return Cleaned(value, None, "wrong check character")
    return Cleaned(value, value)


@fast_path(clean_uscc)
def _fast_usccs(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Codes written as they should be (18 characters of the code's alphabet, upper case, nothing around
    them) whose MOD 31 check character is right, checked whole-frame: valid as they stand. (One character
    repeated is a placeholder: the slow path says so.)"""
    frame = pl.DataFrame({"raw": values}).filter(
        pl.col("raw").str.contains(_USCC.pattern) & (pl.col("raw").str.split("").list.n_unique() > 1)
    )
    index = {c: i for i, c in enumerate(USCC_CHARS)}
    total = pl.sum_horizontal(
        [
            pl.col("raw").str.slice(i, 1).replace_strict(index, return_dtype=pl.Int64) * w
            for i, w in enumerate(USCC_WEIGHTS)
        ]
    )
    check = ((31 - total % 31) % 31).replace_strict(dict(enumerate(USCC_CHARS)), return_dtype=pl.String)
    frame = frame.filter(check == pl.col("raw").str.slice(17, 1))
    return frame.select(
        "raw",
        pl.col("raw").alias("value"),
        pl.col("raw").alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("notes"),
    )


def _birth_date(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def clean_id_card(raw: str, ctx: CleanContext) -> Cleaned:
    if (note := placeholder(raw)) is not None:
        return Cleaned(None, notes=(note,))
    value = _compact(raw)
    if not value:
        return Cleaned(None)
    notes: tuple[str, ...] = ()
    if _SCIENTIFIC.match(value):
        return Cleaned(value, None, RUINED)
    if re.fullmatch(r"\d{15}", value):  # the 1985 series: yymmdd birth date, no check digit
        body = value[:6] + "19" + value[6:]
        value, notes = body + id_check_digit(body), ("15-digit ID upgraded to 18",)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return Cleaned(value, None, "not an 18-digit ID number")
    check_ok = id_check_digit(value[:17]) == value[17]
    if _ruined(value, check_ok):
        return Cleaned(value, None, RUINED)
    if int(value[:2]) not in ID_PROVINCES:
        return Cleaned(value, None, "no such province code")
    born = _birth_date(value)
    if born is None:
        return Cleaned(value, None, "no such birth date")
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return Cleaned(value, None, "birth date out of range")
    if not check_ok:
        return Cleaned(value, None, "wrong check digit")
    attrs = (("birth_date", born.isoformat()), ("gender", "男" if int(value[16]) % 2 else "女"))
    if value.endswith("000"):
        # Valid, but one in eleven Excel-ruined numbers passes the check digit by chance, and every ruined
        # one ends in 000: kept, yet not trusted to tell people apart or together.
        return Cleaned(value, None, None, (*notes, SUSPECT), attrs)
    return Cleaned(value, keyed_hash(value, ctx.secret), None, notes, attrs)


@fast_path(clean_id_card)
def _fast_id_cards(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """18-character ID numbers that pass every check, computed over the column; only the keyed hash is
    computed value by value."""
    frame = pl.DataFrame({"raw": values}).filter(pl.col("raw").str.contains(r"^\d{17}[\dX]$"))
    total = pl.sum_horizontal([pl.col("raw").str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(ID_WEIGHTS)])
    check = (total % 11).replace_strict({i: c for i, c in enumerate("10X98765432")}, return_dtype=pl.String)
    born = pl.col("raw").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    frame = frame.with_columns(born.alias("born")).filter(
        (check == pl.col("raw").str.slice(17, 1))
        & ~pl.col("raw").str.ends_with("000")  # left to the per-value cleaner (SUSPECT)
        & pl.col("raw").str.slice(0, 2).cast(pl.Int64).is_in(list(ID_PROVINCES))
        & pl.col("born").is_between(dt.date(1900, 1, 1), dt.date.today())
    )
    keys = pl.Series([keyed_hash(v, ctx.secret) for v in frame["raw"].to_list()], dtype=pl.String)
    gender = pl.when(pl.col("raw").str.slice(16, 1).cast(pl.Int64) % 2 == 1).then(pl.lit("男")).otherwise(pl.lit("女"))
    return frame.select(
        "raw",
        pl.col("raw").alias("value"),
        keys.alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("notes"),
        pl.col("born").dt.to_string("%Y-%m-%d").alias("attr:birth_date"),
        gender.alias("attr:gender"),
    )
