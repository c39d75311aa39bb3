"""Email addresses: repaired (full-width ＠ and 。, 126,com, @@, a trailing dot, spaces), case folded, syntax
checked offline, and mistyped common mail domains corrected.

    " Zhang.Wei＠QQ.COM " -> zhang.wei@qq.com;  "wang@126,com" / "wang@@126.com" / "wang@126.com." -> wang@126.com
    "li@qq.con" -> li@qq.com, noted "domain typo fixed (qq.con -> qq.com)": no mail can reach qq.con
    "a@gmial.com" -> a@gmail.com;  "b@hotmial.com" -> b@hotmail.com;  "c@163.cm" -> c@163.com
    "d@qq.cn", "e@188.com", "f@vip.126.com", "g@mail.com" -> left as written: real or unknown domains are never
    "fixed" (qq.cn is not a known mail domain, but nothing says it is a typo either)

A domain is corrected when it is a common mail domain with its ending mistyped (qq.con, 163.cm, sina.comm)
or, for a name of five letters or more, with one letter wrong, missing, added or swapped (gmial.com). A
domain merely near a common one (136.com, near 163.com) is only flagged with the suggestion. A project turns
correction off with ``options.fix_email_typos: false``: every typo is then flagged, none changed. Nothing
here makes a network call.
"""

from __future__ import annotations

import re

import polars as pl
from rapidfuzz.distance import OSA

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import ascii_width, tidy

_SYNTAX = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"
)
# The mail domains Chinese CRM data holds most, commonest first (a tie between two suggestions goes to the
# earlier one: sina.con is sina.com, not sina.cn).
COMMON_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "foxmail.com",
    "aliyun.com",
    "139.com",
    "yeah.net",
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "live.com",
    "msn.com",
    "vip.qq.com",
    "vip.163.com",
    "tom.com",
    "21cn.com",
]
# Real mail domains near a common one, never to be corrected to it nor flagged.
REAL_DOMAINS = {
    "188.com",
    "189.cn",
    "wo.cn",
    "263.net",
    "163.net",
    "vip.126.com",
    "vip.sina.com",
    "sina.com.cn",
    "vip.sohu.com",
    "2980.com",
    "live.cn",
    "msn.cn",
    "yahoo.cn",
    "yahoo.com.cn",
    "yahoo.com.hk",
    "hotmail.co.uk",
    "mail.com",
    "email.com",
    "ymail.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.com",
    "gmx.net",
    "proton.me",
    "protonmail.com",
}
# Endings typed for .com: letters next to each other on the keyboard, doubled, dropped or swapped.
COM_TYPOS = {
    "con",
    "cm",
    "co",
    "om",
    "comm",
    "coom",
    "cpm",
    "vom",
    "xom",
    "cim",
    "cmo",
    "ocm",
    "c0m",
    "comn",
    "coml",
    "cok",
}
_COMMON_SET = set(COMMON_DOMAINS)


def _split(domain: str) -> tuple[str, str]:
    name, _, ending = domain.rpartition(".")
    return name, ending


def correction(domain: str) -> str | None:
    """The common domain that ``domain`` certainly mistypes, or None."""
    if domain in _COMMON_SET or domain in REAL_DOMAINS:
        return None
    name, ending = _split(domain)
    if not name:  # qqcom, 163com: the dot left out
        name, ending = next(((domain[: -len(e)], e) for e in ("com", "net", "cn") if domain.endswith(e)), ("", ""))
    endings = {ending, "com"} if ending in COM_TYPOS else {ending}
    for common in COMMON_DOMAINS:
        c_name, c_ending = _split(common)
        if c_ending not in endings:
            continue
        if name == c_name or (
            len(c_name) >= 5 and not c_name.replace(".", "").isdigit() and OSA.distance(name, c_name) == 1
        ):
            return common
    return None


def suggest_domain(domain: str) -> str | None:
    """A common domain ``domain`` is near enough to be a typo of, certain or not."""
    if domain in _COMMON_SET or domain in REAL_DOMAINS:
        return None
    if (fixed := correction(domain)) is not None:
        return fixed
    best = min(COMMON_DOMAINS, key=lambda d: (OSA.distance(domain, d), COMMON_DOMAINS.index(d)))
    distance = OSA.distance(domain, best)  # a swap counts as one edit: 136.com is 163.com typed fast
    return best if 0 < distance <= (1 if len(best) <= 6 else 2) else None


def _repair_punctuation(value: str) -> str:
    """126,com -> 126.com, a@@b -> a@b, a trailing dot or comma dropped, <a@b.com> unwrapped."""
    value = value.strip("<>").rstrip(".,;:")
    value = re.sub(r"@{2,}", "@", value)
    local, at, domain = value.rpartition("@")
    if at:
        domain = re.sub(r"\.{2,}", ".", domain.replace(",", ".")).strip(".")
        value = f"{local}@{domain}"
    return value


def clean_email(raw: str, ctx: CleanContext) -> Cleaned:
    text = tidy(raw)
    if not text:
        return Cleaned(None)
    notes = []
    value = ascii_width(text.replace("＠", "@").replace("。", ".").replace("．", "."))
    value = re.sub(r"^mailto:", "", value, flags=re.I).replace(" ", "")
    if value != text:
        notes.append("full-width or spaces repaired")
    repaired = _repair_punctuation(value)
    if repaired != value:
        value = repaired
        notes.append("punctuation repaired")
    lowered = value.lower()
    if lowered != value:
        notes.append("case folded")
    value = lowered
    local, _, domain = value.rpartition("@")
    fixed = correction(domain) if local and ctx.fix_email_typos else None
    if fixed is not None:  # before the syntax check: qqcom has no dot
        value = f"{local}@{fixed}"
        notes.append(f"domain typo fixed ({domain} -> {fixed})")
    if not _SYNTAX.match(value):
        return Cleaned(value, None, "not an email address", tuple(notes))
    if fixed is None and (suggestion := suggest_domain(domain)) is not None:
        notes.append(f"possible domain typo: did you mean {suggestion}?")
        return Cleaned(value, value, None, tuple(notes), (("suggestion", f"{local}@{suggestion}"),))
    return Cleaned(value, value, None, tuple(notes))


@fast_path(clean_email)
def _fast_emails(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Addresses valid once in lower case (LIAO@QQ.COM is folded, and says so) at a domain that is no typo (a
    well-known mail domain, or one no common domain is near: a company's own), judged once per distinct
    domain: nothing else to change or flag."""
    lowered = pl.col("raw").str.to_lowercase()
    domain = lowered.str.extract(r"@([^@]+)$")
    valid = pl.DataFrame({"raw": values}).filter(lowered.str.contains(_SYNTAX.pattern))
    domains = valid.select(domain.unique().alias("d"))["d"].drop_nulls().to_list()
    plain = [
        d
        for d in domains
        if d in _COMMON_SET or ((not ctx.fix_email_typos or correction(d) is None) and suggest_domain(d) is None)
    ]
    frame = valid.filter(domain.is_in(plain))
    return frame.select(
        "raw",
        lowered.alias("value"),
        lowered.alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.when(lowered != pl.col("raw")).then(pl.lit("case folded")).alias("notes"),
    )
