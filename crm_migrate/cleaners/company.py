"""Company names: the display value as registered (tidied), and a key that ignores legal form and region.

    北京星辰科技有限公司, 星辰科技（北京）有限公司, 北京 星辰科技有限责任公司  -> key 星辰科技, region 北京
    华为技术有限公司深圳分公司                                          -> key 华为技术深圳分公司 (a branch
                                                                          stays apart from its parent)
    星辰科技有线公司, 星辰科技有限公公司 (a legal form mistyped)       -> key 星辰科技, noted
    Beijing Xingchen Technology Co., Ltd., XINGCHEN TECH          -> key xingchentechnology, brand xingchen,
                                                                     trade technology (region 北京市)

A leading region is taken out of the key only when what remains is a name of its own: three characters or
more, or two that are not a generic word, so that place-as-brand names keep theirs (北京银行 stays 北京银行
and never meets 上海银行, while 北京星辰 is 星辰 in 北京). Besides the key, every name carries its brand and
trade (the 字号 and the 行业, `company_words.TRADES`), in Chinese or in the English the name is written in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.company_words import MIN_BRAND, TRADE_WORD, TRADES, english_name, trade_of, trade_suffixes
from crm_migrate.cleaners.divisions import divisions
from crm_migrate.cleaners.text import hygiene, plain_chinese, simplified

# Longest first, so 股份有限公司 goes whole rather than leaving 股份.
LEGAL_FORMS = [
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "有限合伙企业",
    "个人独资企业",
    "合伙企业",
    "有限公司",
    "总公司",
    "集团",
    "公司",
    "company limited",
    "limited",
    "ltd",
    "inc",
    "corporation",
    "corp",
    "llc",
    "gmbh",
    "co",
    "pte",
]
# What a branch is called (a branch, a representative office, a school's campus, an insurer's 支公司): a unit
# of its own, not its parent, however the rest of the name reads. One list, which `migrate.features` reads too.
BRANCH_KINDS = (
    "分公司",
    "子公司",
    "支公司",
    "分行",
    "支行",
    "分理处",
    "分店",
    "分厂",
    "分所",
    "分部",
    "分中心",
    "分校",
    "分院",
    "分社",
    "办事处",
    "代表处",
    "营业部",
)
_KINDS = "|".join(BRANCH_KINDS)
BRANCH = re.compile(r"^(.+?(?:有限责任公司|股份有限公司|有限公司|公司|集团|银行))(.+?(?:" + _KINDS + "))$")
# A branch in brackets after its parent (星辰科技有限公司（北京分公司）), or its place in brackets before the kind
# (星辰科技（上海）分公司): the brackets come off.
_BRACKETED_BRANCH = re.compile(r"\(([^()]*?(?:" + _KINDS + r"))\)$")
_PLACE_BRACKETED_BEFORE_KIND = re.compile(r"\(([^()]+)\)(" + _KINDS + ")$")
_BRANCH_LEAD = re.compile(r"^[-－—_/／、·|\s]+|^驻")  # 星辰科技有限公司-上海分公司, 驻上海办事处
_BRACKETED = re.compile(r"[（(]([^（）()]*)[）)]")


def _place_branch(text: str) -> tuple[str, str] | None:
    """A branch written without its parent's legal form (恒新永医疗器械成都分公司): a place the division table
    knows, then the kind of branch; the name before it and the branch."""
    for kind in BRANCH_KINDS:
        if not text.endswith(kind):
            continue
        before = text[: -len(kind)]
        for n in range(min(len(before) - 2, 7), 1, -1):
            place = before[-n:]
            if divisions().is_region(place) is not None or _county_at(place) is not None:
                return before[:-n], place + kind
    return None


# A department written with the company (星辰科技有限公司销售部, 星辰科技（采购中心）, 星辰科技 市场部): the
# company is the same, unlike a branch (分公司), which is a company of its own.
_DEPARTMENT = re.compile(
    r"[\u4e00-\u9fffA-Za-z]{0,6}(?:事业部|部门|部|采购中心|研发中心|服务中心|办公室|项目组|科室|处)"
    r"|(?:华东|华南|华北|华中|西南|西北|东北)(?:大区|区域|区)"
)  # 采购处; a sales region
_DEPARTMENT_AFTER_FORM = re.compile(
    r"^(.+?(?:有限责任公司|股份有限公司|有限公司|公司|集团|银行))[-－—_/／、·|]*(?:" + _DEPARTMENT.pattern + ")$"
)
_DEPARTMENT_AT_END = re.compile(
    r"(?:销售|市场|采购|财务|人事|人力资源|行政|技术|研发|工程|客服|综合|运营|生产|质量|法务)"
    r"(?:部|中心|处)$|(?:总经办|总裁办|董事会办公室)$"
)
_UNIT_SEPARATORS = " -－—_/／、·|"  # between a company and its department: 星辰科技有限公司-采购部
_SPACED_DEPARTMENT = re.compile(r"(?<=[\u4e00-\u9fff）)])\s+(?:" + _DEPARTMENT.pattern + ")$")
_PUNCT = re.compile(r"[\s()\[\]（）【】,.，。、&·\-_'\"/]+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff（）])\s+|\s+(?=[\u3400-\u9fff（）])")
QUALIFIERS = {"中国", "集团", "控股", "总部"}
MIN_CORE_AFTER_REGION = 3
# Two characters after a region that name a kind of institution, not a brand: 北京银行 is a bank's name.
GENERIC_AFTER_REGION = frozenset(
    """银行 大学 学院 医院 日报 晚报 电视 广电 机场 地铁 证券 农商 商行 电信 移动 联通 烟草 电力
燃气 水务 公交 港务 铁路 航空 海关 税务 邮政 师范 中学 小学 卫视 电台 信托 保险 期货 农信 城投 交投 建工 文旅 国资 控股 实业
集团 发展 投资 科技 贸易""".split()
)
# Zones written after a city in a registered name (苏州工业园区…, 成都高新区…): part of where, not of the name.
_ZONE = re.compile(r"(?:工业园区|经济技术开发区|经济开发区|高新技术产业开发区|高新区|开发区|自贸区|保税区|新区|市)")


def _strip_place(core: str) -> str:
    """A zone or a district written after the region, taken off while a name of its own remains."""
    for _ in range(2):
        m = _ZONE.match(core) or _county_at(core)
        if m is None:
            break
        rest = core[m.end() :]
        if len(rest) < MIN_CORE_AFTER_REGION or rest in _TRADE_WORDS:
            break
        core = rest
    return core


class _Match:
    def __init__(self, end: int) -> None:
        self._end = end

    def end(self) -> int:
        return self._end


@lru_cache(maxsize=1)
def _county_names() -> dict[int, frozenset[str]]:
    """Full names of county-level units (海淀区, 昆山市, 长沙县) by length."""
    out: dict[int, set[str]] = {}
    for unit in divisions().by_code.values():
        if unit.level == 3 and unit.name[-1] in "区县市旗":
            out.setdefault(len(unit.name), set()).add(unit.name)
    return {n: frozenset(v) for n, v in out.items()}


def _county_at(text: str) -> _Match | None:
    for n, names in sorted(_county_names().items(), reverse=True):
        if text[:n] in names:
            return _Match(n)
    return None


_TRAILING_PUNCT = re.compile(r"[\s。，、；;:：!！?？·．.,]+$")
# Legal forms as people mistype them: 有线/有现 for 有限 (one pinyin), 公 doubled or dropped, 股分 for 股份.
_LEGAL_TYPO_AT_END = re.compile(r"(?:股[份分])?有(?:[限线现陷]|限?)(?:责任|贵任|责)?(?:公公司|工司|公司|司|公)$|有限$")


_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_TWO_HAN = re.compile(r"[\u4e00-\u9fff]{2}")
_SPACE_BY_BRACKET = re.compile(r"\s+(?=\()|(?<=\))\s+$")
_SPACES = re.compile(r"\s+")


def _display(value: str) -> str:
    """Brackets as registered names write them (full-width around Chinese), no spaces between CJK."""
    if _HAS_CJK.search(value):
        value = value.replace("(", "（").replace(")", "）")
        value = _CJK_GAP.sub("", value)
    return value


_CJK_FORMS = "|".join(f for f in LEGAL_FORMS if not f.isascii())
_ASCII_FORMS = "|".join(re.escape(f) for f in sorted((f for f in LEGAL_FORMS if f.isascii()), key=len, reverse=True))
# One legal form at the end: Chinese ones anywhere, English ones as whole words ("costco" keeps its "co").
_LEGAL_FORM_AT_END = re.compile(rf"(?:{_CJK_FORMS}|(?:(?<=[\s,.&])|^)(?:{_ASCII_FORMS}))[\s.,]*$")


def _strip_legal_form(key: str) -> tuple[str, bool]:
    """Remove legal forms from the end until none is left (Co., Ltd. is two); and whether one was mistyped."""
    mistyped = False
    while key:
        proper, typo = _LEGAL_FORM_AT_END.search(key), _LEGAL_TYPO_AT_END.search(key)
        if typo is not None and (typo.start() == 0 or (proper is not None and proper.start() <= typo.start())):
            typo = None  # the form is written right (or nothing would remain)
        if typo is not None:
            key, mistyped = key[: typo.start()].rstrip(" ,."), True
        elif proper is not None:
            key = key[: proper.start()].rstrip(" ,.")
        else:
            break
    return key, mistyped


def _strips_region(core: str, prefix: str) -> bool:
    """Whether a region at the start of ``core`` is taken out of the key: a name of its own must remain."""
    rest = core[len(prefix) :]
    return len(rest) >= MIN_CORE_AFTER_REGION or (
        len(rest) == 2
        and rest not in GENERIC_AFTER_REGION
        and bool(_TWO_HAN.fullmatch(rest))
        and rest not in _TRADE_WORDS
    )


_TRADE_WORDS = frozenset(trade_suffixes())


@dataclass(frozen=True)
class CompanyParts:
    key: str
    region: str | None = None  # the division the name places it in (北京市)
    branch: str | None = None  # 上海分公司: a branch is not its parent
    brand: str | None = None  # 星辰, or xingchen in an English name
    trade: str | None = None  # the trade's code (technology), `company_words.TRADES`
    region_latin: str | None = None  # an English name's region as written (suzhou: 苏州 or 宿州)
    mistyped: bool = False  # a legal form written wrong (有线公司)
    head: str | None = None  # an English name's brand as far as it is pinyin (hengrun)


# Brackets of every style people type around a region or a note (【北京】, [北京], 〔北京〕, 《北京》) read as ( ).
_BRACKETS = str.maketrans("【[〔〈<《「『〖", "(((((((((") | str.maketrans("】]〕〉>》」』〗", ")))))))))")
# A note after the name about another name it had or has: (原北京星辰电子), （原名：星辰电子）, (曾用名…), (现…).
_FORMER_NAME = re.compile(r"\((?:原名|原|曾用名|曾用|旧名|更名为|已更名为?|现名|现更名为?|简称|下称)[:：]?[^()]*\)$")
# A legal form in brackets: 星辰科技(有限公司).
_FORM_IN_BRACKETS = re.compile(r"\((股份有限公司|有限责任公司|有限公司|公司)\)$")


def company_parts(name: str) -> CompanyParts:
    """Key, region, branch, brand and trade of a company name."""
    text = simplified(unicodedata.normalize("NFKC", name)).lower()
    if not _HAS_CJK.search(text):
        return _latin_parts(text)
    text = text.translate(_BRACKETS).strip()
    if ")" in text or "(" in text:  # each of these three needs a bracket
        text = _FORM_IN_BRACKETS.sub(r"\1", _FORMER_NAME.sub("", _SPACE_BY_BRACKET.sub("", text)).strip())
    text = _SPACED_DEPARTMENT.sub("", text.strip())  # 星辰科技 销售部: a department is part of the company
    if (m := _DEPARTMENT_AT_END.search(text)) and len(text) - len(m.group()) >= 4:
        text = text[: m.start()].rstrip(_UNIT_SEPARATORS)
    text = _SPACES.sub("", text)
    region = None
    branch = None
    if ")" in text:  # both end in a closing bracket
        text = _PLACE_BRACKETED_BEFORE_KIND.sub(r"\1\2", _BRACKETED_BRANCH.sub(r"\1", text))
    if m := BRANCH.match(text):
        text, branch = m.group(1), _BRANCH_LEAD.sub("", m.group(2))
    elif found := _place_branch(text):
        text, branch = found
    elif m := _DEPARTMENT_AFTER_FORM.match(text):
        text = m.group(1)

    def bracket(m: re.Match) -> str:
        nonlocal region
        inner = m.group(1).strip()
        if (d := divisions().is_region(inner)) is not None:
            region = region or d.name
            return ""
        return "" if inner in QUALIFIERS or _DEPARTMENT.fullmatch(inner) else m.group(0)

    if "(" in text or "（" in text:
        text = _BRACKETED.sub(bracket, text)
    core, mistyped = _strip_legal_form(_TRAILING_PUNCT.sub("", text))
    if (prefix := divisions().region_prefix(core)) is not None and _strips_region(core, prefix[0]):
        region = region or prefix[1].name
        core = core[len(prefix[0]) :]
        core = _strip_place(core)  # 苏州工业园区晶川光学, 北京市海淀区星辰: the zone or district is where, not who
    core = _PUNCT.sub("", core)
    brand, trade = core, None
    if found := trade_of(core):
        brand, trade = core[: -len(found[0])], found[1]
    key = core + (_PUNCT.sub("", branch) if branch else "")
    return CompanyParts(key, region, branch, brand or None, trade, None, mistyped)


def _latin_parts(text: str) -> CompanyParts:
    """A name in Latin letters (English or pinyin): brand and trade as `english_name` reads them; the key is
    the two joined, so Xingchen Tech and XINGCHEN TECHNOLOGY CO., LTD. meet."""
    english = english_name(text)
    if not english.brand:  # a name that is all trade and legal form: keep its words
        core = _PUNCT.sub("", _strip_legal_form(text)[0])
        return CompanyParts(core, english.region, english.branch, None, english.trade, english.region_latin)
    key = english.brand + (english.trade or "").replace(" ", "").replace("-", "")
    branch = english.branch
    return CompanyParts(
        key + (branch.replace(" ", "") if branch else ""),
        english.region,
        branch,
        english.brand,
        english.trade,
        english.region_latin,
        head=english.head,
    )


def clean_company_name(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    value = value.replace("\n", " ")
    if not value:
        return Cleaned(None)
    display = _display(value)
    if display != value:
        notes.append("brackets and spacing tidied")
    parts = company_parts(display)
    if parts.mistyped:
        notes.append("legal form misspelt")
    attrs = (
        ("region", parts.region),
        ("branch", parts.branch),
        ("brand", parts.brand),
        ("trade", parts.trade),
        ("region_latin", parts.region_latin),
        ("head", parts.head),
    )
    if not parts.key:
        return Cleaned(display, None, "no name besides the legal form", tuple(notes), attrs)
    return Cleaned(display, parts.key, None, tuple(notes), attrs)


_CHINESE_FORMS = "(?:股份有限公司|有限责任公司|有限公司)$"
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
    names = plain_chinese(
        values,
        r"^ *[\u4e00-\u9fff](?: ?[\u4e00-\u9fff])*(?:（[\u4e00-\u9fff]{2,9}）)?"
        r"(?:股份有限公司|有限责任公司|有限公司)? *$",
    )
    # A name without a legal form (星辰科技, 南京达恒世) comes too, unless its end looks like a mistyped one
    # (有现公司, 有限公, 集团) or a department's (市场部, 采购处): the slow path reads those.
    formal = names.str.contains(r"(?:股份有限公司|有限责任公司|有限公司) *$")
    formless = (
        ~names.str.contains(_LEGAL_TYPO_AT_END.pattern)
        & ~names.str.strip_chars(" ").str.contains(_FORM_AT_END)
        & ~names.str.strip_chars(" ").str.contains("(?:" + _DEPARTMENT.pattern + ")$")
    )  # 星辰科技市场部
    names = names.filter((formal | formless) & ~names.str.contains_any(list(BRANCH_KINDS)))
    aliases = _region_aliases()
    frame = pl.DataFrame({"raw": names}).with_columns(
        pl.col("raw").str.replace_all(" ", "").alias("value"),
        pl.col("raw").str.extract(r"（([\u4e00-\u9fff]+)）", 1).alias("bracket"),
    )
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
    frame = frame.filter(~pl.col("core").str.contains(_LEGAL_TYPO_AT_END.pattern))  # the slow path notes them
    rest = pl.col("core").str.slice(pl.col("prefix"))
    left = pl.col("core").str.len_chars() - pl.col("prefix")
    strip = pl.col("region").is_not_null() & (
        (left >= MIN_CORE_AFTER_REGION) | ((left == 2) & ~rest.is_in(list(GENERIC_AFTER_REGION | _TRADE_WORDS)))
    )
    place = rest.str.contains("^" + _ZONE.pattern) | pl.any_horizontal(
        [rest.str.slice(0, n).is_in(list(names)) for n, names in _county_names().items()]
    )
    frame = frame.filter(~(strip & place))  # a zone or district after the region: the slow path takes it off
    frame = frame.with_columns(pl.when(strip).then(rest).otherwise(pl.col("core")).alias("key"))
    words = trade_suffixes()
    # As `trade_of`: the longest trade word after one character at least, or trade words in a row after two.
    name_key = pl.col("key")
    one = name_key.str.slice(1).str.extract("(" + TRADE_WORD + ")$", 1)
    chain = name_key.str.slice(MIN_BRAND).str.extract("(" + TRADE_WORD + "+)$", 1)
    longest = pl.when(chain.str.len_chars() > one.str.len_chars().fill_null(0)).then(chain).otherwise(one)
    trade = pl.when(~name_key.str.contains("^" + TRADE_WORD + "+$")).then(longest)
    frame = frame.with_columns(trade.alias("trade_word"))
    inner_space = pl.col("raw").str.strip_chars(" ").str.contains(" ", literal=True)
    brand = pl.col("key").str.slice(
        0, pl.col("key").str.len_chars() - pl.col("trade_word").str.len_chars().fill_null(0)
    )
    return frame.select(
        "raw",
        "value",
        "key",
        pl.lit(None, pl.String).alias("reason"),
        pl.when(inner_space).then(pl.lit("brackets and spacing tidied")).alias("notes"),
        pl.coalesce(pl.col("bracket_region"), pl.when(strip).then(pl.col("region"))).alias("attr:region"),
        pl.lit(None, pl.String).alias("attr:branch"),
        brand.alias("attr:brand"),
        pl.col("trade_word")
        .str.extract("^(" + TRADE_WORD + ")", 1)
        .replace_strict({w: TRADES[w].code for w in words}, default=None, return_dtype=pl.String)
        .alias("attr:trade"),
        pl.lit(None, pl.String).alias("attr:region_latin"),
        pl.lit(None, pl.String).alias("attr:head"),
    )
