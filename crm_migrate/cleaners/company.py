"""Company names: the display value as registered (tidied), and a key that ignores legal form and region.

    北京星辰科技有限公司, 星辰科技（北京）有限公司, 北京 星辰科技有限责任公司  -> key 星辰科技, region 北京
    华为技术有限公司深圳分公司                                          -> key 华为技术深圳分公司 (a branch
                                                                          stays apart from its parent)
    Acme Trading Co., Ltd.  -> key acmetrading

A leading region is taken out of the key only when at least three characters remain, so that place-as-brand
names keep theirs (北京银行 stays 北京银行 and never meets 上海银行).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.divisions import divisions
from crm_migrate.cleaners.text import hygiene, plain_chinese, simplified

# Longest first, so 股份有限公司 goes whole rather than leaving 股份.
LEGAL_FORMS = ["股份有限公司", "有限责任公司", "股份合作公司", "有限合伙企业", "个人独资企业", "合伙企业", "有限公司",
               "总公司", "集团", "公司", "company limited", "limited",
               "ltd", "inc", "corporation", "corp", "llc", "gmbh", "co", "pte"]
BRANCH = re.compile(r"^(.+?(?:有限责任公司|股份有限公司|有限公司|公司|集团|银行))(.+?(?:分公司|分行|支行|分店|营业部|办事处|"
                    r"分部|分厂|分所|分中心))$")
_BRACKETED = re.compile(r"[（(]([^（）()]*)[）)]")
_PUNCT = re.compile(r"[\s()\[\]（）【】,.，。、&·\-_'\"/]+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff（）])\s+|\s+(?=[\u3400-\u9fff（）])")
QUALIFIERS = {"中国", "集团", "控股", "总部"}
MIN_CORE_AFTER_REGION = 3


def _display(value: str) -> str:
    """Brackets as registered names write them (full-width around Chinese), no spaces between CJK."""
    if re.search(r"[\u3400-\u9fff]", value):
        value = value.replace("(", "（").replace(")", "）")
        value = _CJK_GAP.sub("", value)
    return value


_CJK_FORMS = "|".join(f for f in LEGAL_FORMS if not f.isascii())
_ASCII_FORMS = "|".join(re.escape(f) for f in sorted((f for f in LEGAL_FORMS if f.isascii()), key=len, reverse=True))
# One legal form at the end: Chinese ones anywhere, English ones as whole words ("costco" keeps its "co").
_LEGAL_FORM_AT_END = re.compile(rf"(?:{_CJK_FORMS}|(?:(?<=[\s,.&])|^)(?:{_ASCII_FORMS}))[\s.,]*$")


def _strip_legal_form(key: str) -> str:
    """Remove legal forms from the end until none is left (Co., Ltd. is two)."""
    while key and (m := _LEGAL_FORM_AT_END.search(key)):
        key = key[: m.start()].rstrip(" ,.")
    return key


def company_parts(name: str) -> tuple[str, str | None, str | None]:
    """(key, region, branch) of a company name."""
    text = simplified(unicodedata.normalize("NFKC", name)).lower()
    text = re.sub(r"\s+", "", text) if re.search(r"[\u3400-\u9fff]", text) else re.sub(r"\s+", " ", text)
    region = None
    branch = None
    if m := BRANCH.match(text):
        text, branch = m.group(1), m.group(2)

    def bracket(m: re.Match) -> str:
        nonlocal region
        inner = m.group(1).strip()
        if (d := divisions().is_region(inner)) is not None:
            region = region or d.name
            return ""
        return "" if inner in QUALIFIERS else m.group(0)

    text = _BRACKETED.sub(bracket, text)
    core = _strip_legal_form(text)
    if (prefix := divisions().region_prefix(core)) is not None and len(core) - len(prefix[0]) >= MIN_CORE_AFTER_REGION:
        region = region or prefix[1].name
        core = core[len(prefix[0]):]
    key = _PUNCT.sub("", core) + (_PUNCT.sub("", branch) if branch else "")
    return key, region, branch


def clean_company_name(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    value = value.replace("\n", " ")
    if not value:
        return Cleaned(None)
    display = _display(value)
    if display != value:
        notes.append("brackets and spacing tidied")
    key, region, branch = company_parts(display)
    attrs = (("region", region), ("branch", branch))
    if not key:
        return Cleaned(display, None, "no name besides the legal form", tuple(notes), attrs)
    return Cleaned(display, key, None, tuple(notes), attrs)


_CHINESE_FORMS = "(?:股份有限公司|有限责任公司|有限公司)$"
_BRANCH_WORDS = ["分公司", "分行", "支行", "分店", "营业部", "办事处", "分部", "分厂", "分所", "分中心"]
_FORM_AT_END = "(?:" + _CJK_FORMS + ")$"


@lru_cache(maxsize=1)
def _region_aliases() -> dict[str, str]:
    """Every province or city name (full or short) that names one unit: alias -> the unit's name, as
    `Divisions.region_prefix` chooses it (province first)."""
    d = divisions()
    out: dict[str, str] = {}
    for level in (2, 1):
        for alias, units in d.names[level].items():
            if len(units) == 1 and 2 <= len(alias) <= 9:
                out[alias] = units[0].name
    return out


@fast_path(clean_company_name)
def _fast_company_names(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Chinese names ending in a legal form, perhaps with a bracketed region before it （北京） and stray
    spaces, without branch: the common cases."""
    names = plain_chinese(values, r"^ *[\u4e00-\u9fff](?: ?[\u4e00-\u9fff])*(?:（[\u4e00-\u9fff]{2,9}）)?"
                                  r"(?:股份有限公司|有限责任公司|有限公司) *$")
    names = names.filter(~names.str.contains_any(_BRANCH_WORDS))
    aliases = _region_aliases()
    frame = pl.DataFrame({"raw": names}).with_columns(
        pl.col("raw").str.replace_all(" ", "").alias("value"),
        pl.col("raw").str.extract(r"（([\u4e00-\u9fff]+)）", 1).alias("bracket"))
    bracket_region = pl.col("bracket").replace_strict(aliases, default=None)
    frame = frame.filter(pl.col("bracket").is_null() | bracket_region.is_not_null())
    core = pl.col("value").str.replace(r"（[\u4e00-\u9fff]+）", "")
    for _ in range(4):  # 集团股份有限公司 and the like: forms stack
        core = core.str.replace(_FORM_AT_END, "")
    frame = frame.with_columns(core.alias("core"), bracket_region.alias("bracket_region"))
    frame = frame.filter((pl.col("core").str.len_chars() > 0) & ~pl.col("core").str.contains(_FORM_AT_END))
    lengths = range(9, 1, -1)
    region = pl.coalesce([pl.col("core").str.slice(0, n).replace_strict(aliases, default=None) for n in lengths])
    prefix = pl.coalesce([pl.when(pl.col("core").str.slice(0, n).is_in(list(aliases))).then(n) for n in lengths])
    frame = frame.with_columns(region.alias("region"), prefix.alias("prefix"))
    strip = pl.col("region").is_not_null() & (pl.col("core").str.len_chars() - pl.col("prefix") >= MIN_CORE_AFTER_REGION)
    inner_space = pl.col("raw").str.strip_chars(" ").str.contains(" ", literal=True)
    return frame.select(
        "raw", "value",
        pl.when(strip).then(pl.col("core").str.slice(pl.col("prefix"))).otherwise(pl.col("core")).alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.when(inner_space).then(pl.lit("brackets and spacing tidied")).alias("notes"),
        pl.coalesce(pl.col("bracket_region"), pl.when(strip).then(pl.col("region"))).alias("attr:region"),
        pl.lit(None, pl.String).alias("attr:branch"))
