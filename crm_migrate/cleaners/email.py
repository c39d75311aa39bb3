"""Email addresses: repaired (full-width ＠ and 。), case folded, syntax checked offline, typos flagged.

A likely typo of a common mail domain (qq.con, 163.cm, gmial.com) is flagged with the suggestion and fixed
only when the project says so (``options.fix_email_typos``); nothing here makes a network call.
"""

from __future__ import annotations

import re

import polars as pl
from rapidfuzz.distance import Levenshtein

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import ascii_width, tidy

_SYNTAX = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
                     r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$")
COMMON_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "sina.cn", "sohu.com", "foxmail.com", "aliyun.com",
                  "139.com", "yeah.net", "gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com",
                  "live.com", "msn.com", "vip.qq.com", "vip.163.com", "tom.com", "21cn.com"]


def suggest_domain(domain: str) -> str | None:
    if domain in COMMON_DOMAINS:
        return None
    best = min(COMMON_DOMAINS, key=lambda d: (Levenshtein.distance(domain, d), d))
    distance = Levenshtein.distance(domain, best)
    return best if 0 < distance <= (1 if len(best) <= 6 else 2) else None


def clean_email(raw: str, ctx: CleanContext) -> Cleaned:
    text = tidy(raw)
    if not text:
        return Cleaned(None)
    notes = []
    value = ascii_width(text.replace("＠", "@").replace("。", ".").replace("．", "."))
    value = re.sub(r"^mailto:", "", value, flags=re.I).replace(" ", "")
    if value != text:
        notes.append("full-width or spaces repaired")
    lowered = value.lower()
    if lowered != value:
        notes.append("case folded")
    value = lowered
    if not _SYNTAX.match(value):
        return Cleaned(value, None, "not an email address", tuple(notes))
    local, _, domain = value.rpartition("@")
    if (suggestion := suggest_domain(domain)) is not None:
        if ctx.fix_email_typos:
            value = f"{local}@{suggestion}"
            notes.append(f"domain typo fixed ({domain} -> {suggestion})")
        else:
            notes.append(f"possible domain typo: did you mean {suggestion}?")
            return Cleaned(value, value, None, tuple(notes), (("suggestion", f"{local}@{suggestion}"),))
    return Cleaned(value, value, None, tuple(notes))


@fast_path(clean_email)
def _fast_emails(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Addresses already in lower case at a well-known mail domain: nothing to change or flag."""
    domain = pl.col("raw").str.extract(r"@([^@]+)$")
    frame = pl.DataFrame({"raw": values}).filter(pl.col("raw").str.contains(_SYNTAX.pattern)
                                                 & domain.is_in(COMMON_DOMAINS))
    return frame.select("raw", pl.col("raw").alias("value"), pl.col("raw").alias("key"),
                        pl.lit(None, pl.String).alias("reason"), pl.lit(None, pl.String).alias("notes"))
