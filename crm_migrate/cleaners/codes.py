"""Chinese identity codes, checked by their check characters (our own code; see the research notes).

统一社会信用代码 (GB 32100-2015): 18 characters, MOD 31 check. 居民身份证号 (GB 11643-1999): 17 digits and a
MOD 11-2 check digit, with a plausible birth date and province.
"""

from __future__ import annotations

import datetime as dt
import re

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import half_width, tidy

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_USCC = re.compile(r"^[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def id_check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def _compact(raw: str) -> str:
    return re.sub(r"[\s-]", "", half_width(tidy(raw))).upper()


def clean_uscc(raw: str, ctx: CleanContext) -> Cleaned:
    value = _compact(raw)
    if not value:
        return Cleaned(None)
    if not _USCC.match(value):
        return Cleaned(value, None, "not an 18-character credit code")
    if uscc_check_char(value[:17]) != value[17]:
        return Cleaned(value, None, "wrong check character")
    return Cleaned(value, value)


def clean_id_card(raw: str, ctx: CleanContext) -> Cleaned:
    value = _compact(raw)
    if not value:
        return Cleaned(None)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return Cleaned(value, None, "not an 18-digit ID number")
    if int(value[:2]) not in ID_PROVINCES:
        return Cleaned(value, None, "no such province code")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return Cleaned(value, None, "no such birth date")
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return Cleaned(value, None, "birth date out of range")
    if id_check_digit(value[:17]) != value[17]:
        return Cleaned(value, None, "wrong check digit")
    return Cleaned(value, value)
