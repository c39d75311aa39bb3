"""Person names: Chinese names without inner spaces or titles, Western names split, and a pinyin key.

    张 伟 -> 张伟;  张伟先生 -> 张伟 (title 先生);  王经理 -> 王 (title 经理, a salutation: surname only)
    何然工程师, 陈晶-经理, 刘洋 销售, 张伟（采购经理）, 小李, 老王, Mr. Zhang  -> the name, and the title apart
    张伟, 張偉, "Zhang Wei", "ZHANG, Wei", "Wei Zhang"  -> key "wei zhang"

The key is the set of name syllables in a fixed order, so both name orders meet; homophones (张伟, 张维) meet
too. Surnames are read as surnames (单 shan, 曾 zeng, 解 xie), not as the common word. A name that is only a
surname and a salutation (王经理, 小李, 李先生) has form ``surname``: it can be matched on its surname and a
strong identifier, never on the name alone.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.company_words import trade_of
from crm_migrate.cleaners.text import hygiene, plain_chinese, simplified

SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "翟": "zhai",
    "盖": "ge",
    "秘": "bi",
    "召": "shao",
    "折": "she",
    "种": "chong",
    "员": "yun",
    "句": "gou",
    "过": "guo",
    "黑": "he",
    "隗": "wei",
    "宓": "mi",
    "繁": "po",
    "薄": "bo",
    "牟": "mou",
    "祭": "zhai",
    "冼": "xian",
    "尉": "yu",
    "重": "chong",
    "曲": "qu",
    "莘": "shen",
    "长": "chang",
    "长孙": "zhangsun",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "单于": "chanyu",
    "澹台": "tantai",
    "令狐": "linghu",
}
COMPOUND_SURNAMES = {
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "钟离",
    "澹台",
    "万俟",
    "单于",
    "南宫",
    "西门",
    "独孤",
    "端木",
    "百里",
}
TITLES = sorted(
    {
        "总经理",
        "副总经理",
        "经理",
        "副经理",
        "总监",
        "副总监",
        "董事长",
        "副董事长",
        "董事",
        "总裁",
        "副总裁",
        "副总",
        "老总",
        "总",
        "主任",
        "副主任",
        "主管",
        "助理",
        "秘书",
        "会计",
        "出纳",
        "律师",
        "医生",
        "院长",
        "校长",
        "处长",
        "科长",
        "局长",
        "部长",
        "厂长",
        "店长",
        "经理人",
        "工程师",
        "高工",
        "工",
        "先生",
        "女士",
        "小姐",
        "太太",
        "老师",
        "博士",
        "教授",
        "老板",
        "师傅",
        "专员",
        "顾问",
        "总工",
    },
    key=len,
    reverse=True,
)
# Departments and roles written in front of a title without a space (张伟采购经理) or alone after one (刘洋 销售).
DEPARTMENTS = [
    "采购",
    "销售",
    "财务",
    "技术",
    "行政",
    "项目",
    "市场",
    "人事",
    "人力",
    "运营",
    "生产",
    "质量",
    "质检",
    "客服",
    "研发",
    "商务",
    "业务",
    "工程",
    "信息",
    "IT",
    "it",
    "法务",
    "办公室",
    "物流",
    "仓储",
    "设计",
]
SALUTATIONS_BY_GENDER = {"先生": "男", "女士": "女", "小姐": "女", "太太": "女"}
# The hundred commonest surnames: 小李 and 老王 are salutations when the character is one of them; 小明 is a nickname.
COMMON_SURNAMES = frozenset(
    """王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任
沈姚卢钟姜崔谭陆汪范廖贾夏韦付邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤""".replace("\n", "")
)
_HONORIFIC = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|mister|madam)\.?\s+", re.I)
_DELIMITED = re.compile(r"^([\u3400-\u9fff·]{2,5})\s*(?:[-－—–/／|｜·_＿:：,，@＠]+|\s+)\s*(\S.*)$")
_COMPANY_FIRST = re.compile(r"^(.+?)\s*(?:[-－—–/／|｜·_＿:：,，@＠]+|\s+)\s*([\u3400-\u9fff·]{2,4})$")
# The company in brackets before the person (【星辰科技】王伟).
_COMPANY_BRACKETED_FIRST = re.compile(r"^\s*[（(【\[]([^（）()【】\[\]]+)[）)】\]]\s*(.+)$")
_BRACKET_TITLE = re.compile(r"^(.+?)\s*[（(【\[]([^（）()【】\[\]]+)[）)】\]]\s*$")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff·]+$")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char, v_to_u=False)[0]


def _syllables(chars: str) -> list[str]:
    """Character by character: a name's characters are read one by one, not as dictionary words."""
    return [_syllable(c) for c in chars]


_U_SPELLINGS = {"lyu": "lv", "lü": "lv", "lu:": "lv", "nyu": "nv", "nü": "nv", "lyue": "lve", "nyue": "nve"}


def _fold(token: str) -> str:
    """Latin spellings of ü (Lyu, Lü) written as pypinyin writes them (lv), so that 吕 meets Lyu."""
    return _U_SPELLINGS.get(token, token)


def split_chinese(name: str) -> tuple[str, str]:
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES or name[:2] in SURNAME_READINGS else name[:1]
    return surname, name[len(surname) :]


def pinyin_key(family: str, given: str) -> str:
    family_py = SURNAME_READINGS.get(family) or "".join(_syllables(family))
    given_py = "".join(_syllables(given))
    return " ".join(sorted(p for p in (family_py, given_py) if p))


def _latin_key(name: str) -> tuple[str, str, str]:
    """(key, given, family) of a name written in Latin letters: "Smith, John" and "John Smith"."""
    if "," in name:
        family, _, given = name.partition(",")
    else:
        parts = name.split()
        given, family = (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else ("", name)
    tokens = [t for t in re.split(r"[\s,.\-]+", name.lower()) if t]
    return " ".join(sorted(_fold(t) for t in tokens)), given.strip(), family.strip()


def _strip_title(value: str) -> tuple[str, str | None]:
    """A Chinese name without the title written after it (何然工程师, 张伟采购经理, 王经理) or the
    salutation before it (小李, 老王): the name and the title."""
    for t in TITLES:
        if value.endswith(t) and len(value) > len(t):
            rest = value[: -len(t)]
            if len(t) == 1 and len(rest) > 1 and t in "总工":
                continue  # 张国总? a three-character name ending in 总 is a name, 张总 is a salutation
            for d in DEPARTMENTS:
                if rest.endswith(d) and len(rest) - len(d) >= 2:
                    return rest[: -len(d)], d + t
            return rest, t
    if len(value) == 2 and value[0] in "小老" and value[1] in COMMON_SURNAMES:
        return value[1], value[0]
    if len(value) == 2 and value[1] in "姐哥" and value[0] in COMMON_SURNAMES:
        return value[0], value[1]
    return value, None


_COMPANY_WORDS = re.compile(r"公司|集团|有限|科技|贸易|实业|工厂|厂$|店$|商行|中心$|研究院|事务所")


def _looks_like_company(text: str) -> bool:
    return bool(_COMPANY_WORDS.search(text)) and len(text) >= 4


def _looks_like_title(text: str) -> bool:
    """What follows a name after a dash or space is a title when it names one, a department, or is in Latin
    letters (陈晶-经理, 刘洋 销售, 王芳/市场部); otherwise it is the rest of the name (欧阳 靖宇)."""
    return (
        any(w in text for w in TITLES)
        or any(d in text for d in DEPARTMENTS)
        or _looks_like_company(text)
        or bool(re.search(r"[部科处组室]$|中心$", text))
        or bool(re.fullmatch(r"[A-Za-z .&/]+", text))
    )


def _company_glued(value: str) -> tuple[str, str] | None:
    """A company run into the person's name (星辰科技有限公司王伟, 华拓模具刘建军): the longest start that ends in
    a legal form or a trade word, followed by what reads as a person; (person, company), or None."""
    if not _CJK_NAME.match(value) or len(value) < 5:
        return None
    for cut in range(len(value) - 2, 2, -1):
        head, tail = value[:cut], value[cut:]
        if (_COMPANY_END.search(head) or trade_of(head) is not None) and _glued_name(tail):
            return tail, head
    return None


_COMPANY_END = re.compile(r"(?:有限责任公司|股份有限公司|有限公司|公司|集团|商行|工作室|事务所)$")


def _glued_name(tail: str) -> bool:
    """Whether what follows a company's closing word reads as a person (a surname, then one to three characters,
    perhaps a title): 王伟, 欧阳靖宇, 王伟经理; not the rest of the company (科技有限公司 after 星辰)."""
    name, title = _strip_title(tail)
    if _COMPANY_WORDS.search(tail) or not (2 <= len(name) <= 4 or (len(name) == 1 and title)):
        return False  # a surname alone only with its salutation: 星辰集团张总
    return name[:2] in COMPOUND_SURNAMES or name[0] in COMMON_SURNAMES


def _split_title(value: str) -> tuple[str, str | None, str | None]:
    """A name with a title or its company beside it: the name, the title and the company. In brackets
    (张伟（采购经理）, 王伟（星辰科技）, 【星辰科技】王伟), after a dash, slash, @ or space (陈晶-经理, 刘洋 销售,
    星辰科技-张伟, 王伟@星辰科技, 王美燕 桃图家具, 润通 赵乐渊), run into it (华拓模具刘建军), or an English
    honorific in front (Mr. Zhang)."""
    if m := _BRACKET_TITLE.match(value):
        return (m.group(1).strip(), *_title_or_company(m.group(2).strip()))
    if (m := _DELIMITED.match(value)) and _looks_like_title(m.group(2)):
        return (m.group(1), *_title_or_company(m.group(2).strip()))
    if (m := _COMPANY_FIRST.match(value)) and _looks_like_company(m.group(1)):
        return m.group(2), None, m.group(1).strip()  # 星辰科技-张伟: the company written before the person
    if (m := _COMPANY_BRACKETED_FIRST.match(value)) and _looks_like_company(m.group(1)):
        return m.group(2).strip(), None, m.group(1).strip()
    if glued := _company_glued(value):
        return glued[0], None, glued[1]
    if m := _HONORIFIC.match(value):
        return value[m.end() :].strip(), m.group().strip().rstrip(".").capitalize() + ".", None
    if m := _TWO_WORDS.match(value):
        # 王美燕 桃图家具, 润通 赵乐渊: a person and the company's brand (with its trade or not) beside it, in
        # either order; 欧阳 靖宇 or 王 伟 (a name spaced out) are one person.
        first, second = m.group(1), m.group(2)
        if first not in COMPOUND_SURNAMES:
            if _reads_as_person(first) and not _reads_as_person(second):
                return first, None, second
            if _reads_as_person(second) and not _reads_as_person(first):
                return second, None, first
    return value, None, None


def _title_or_company(text: str) -> tuple[str | None, str | None]:
    """What was written beside a name: a title (经理, 采购部) or the company (星辰科技, 华拓精密机械)."""
    if (_looks_like_company(text) or trade_of(text) is not None) and not any(t in text for t in TITLES):
        return None, text
    return text, None


_TWO_WORDS = re.compile(r"^\s*([\u3400-\u9fff·]{2,12})\s+([\u3400-\u9fff·]{2,12})\s*$")


def _reads_as_person(word: str) -> bool:
    """A surname and one or two characters (王美燕), a compound surname and one or two (欧阳靖宇), or a surname
    with its salutation (老李, 王总, 何小姐); not a brand or trade (桃图家具, 润通)."""
    if _COMPANY_WORDS.search(word) or trade_of(word) is not None:
        return False
    name, title = _strip_title(word)
    if title:
        return len(name) == 1 and name in COMMON_SURNAMES or name[:2] in COMPOUND_SURNAMES
    if name[:2] in COMPOUND_SURNAMES:
        return 3 <= len(name) <= 4
    return 2 <= len(name) <= 3 and name[0] in COMMON_SURNAMES


def clean_person_name(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    value = value.replace("\n", " ")
    value, title, company = _split_title(value)
    spaced = _CJK_GAP.sub("", value)
    if spaced != value:
        value = spaced
        notes.append("spaces inside a Chinese name removed")
    if not value:
        return Cleaned(None)
    if _CJK_NAME.match(value):
        value, inner = _strip_title(value)
        title = " ".join(t for t in (inner, title) if t) or None
        if title:
            notes.append("title moved out of the name")
        if company:
            notes.append("company written with the name moved out of it")
        family, given = split_chinese(simplified(value))
        form = "surname" if not given else "full"
        key = pinyin_key(family, given.replace("·", ""))
        family_key: str | None = SURNAME_READINGS.get(family) or "".join(_syllables(family))
        traditional = "yes" if simplified(value) != value else None
        return Cleaned(
            value, key, None, tuple(notes), _attrs(family, given, title, form, "zh", family_key, traditional, company)
        )
    if not any(ch.isalpha() for ch in value):
        return Cleaned(value, None, "no letters in the name", tuple(notes))
    honorific = title is not None and title.endswith(".")
    if title:
        notes.append("title moved out of the name")
    key, given, family = _latin_key(value)
    form = "surname" if honorific and " " not in value.strip() else "full"
    if form == "surname":
        given, family = "", value.strip()
    family_key = _fold(re.sub(r"[\s.\-]+", "", family.lower())) or None
    return Cleaned(
        value, key, None, tuple(notes), _attrs(family, given, title, form, "latin", family_key, None, company)
    )


def _attrs(
    family: str,
    given: str,
    title: str | None,
    form: str,
    script: str,
    family_key: str | None,
    traditional: str | None,
    company: str | None = None,
) -> tuple[tuple[str, str | None], ...]:
    return (
        ("family", family),
        ("given", given),
        ("title", title),
        ("gender", SALUTATIONS_BY_GENDER.get(title or "")),
        ("form", form),
        ("script", script),
        ("family_key", family_key),
        ("traditional", traditional),
        ("company", company),
    )


_TITLE_AT_END = "(?:" + "|".join(TITLES) + ")$"
_TWO_CHAR_SURNAMES = sorted(COMPOUND_SURNAMES | {s for s in SURNAME_READINGS if len(s) == 2})


@fast_path(clean_person_name)
def _fast_person_names(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Plain Chinese names (`_fast_chinese_names`) and plain names in Latin letters (`_fast_latin_names`)."""
    chinese = _fast_chinese_names(values, ctx)
    latin = _fast_latin_names(values.filter(~values.is_in(chinese["raw"].implode())))
    return pl.concat([chinese, latin.select(chinese.columns)]) if latin.height else chinese


# Words of Latin letters, one space between them, nothing before or after: no title, no company, no comma (a
# family name first), nothing hygiene changes. An honorific followed by a name (Mr Smith) is left to the cleaner.
_PLAIN_LATIN = r"^[A-Za-z]+(?: [A-Za-z]+)*$"
_HONORIFIC_FIRST = r"(?i)^(?:mr|mrs|ms|miss|dr|prof|mister|madam) "


def _fast_latin_names(values: pl.Series) -> pl.DataFrame:
    """Names such as "john smith" or "Rebecca" (Febrl's, a HubSpot export's): the value as written, the key its
    words lower-cased, ü spellings folded and sorted, the family name the last word."""
    value = pl.col("raw")
    frame = pl.DataFrame({"raw": values}).filter(
        value.str.contains(_PLAIN_LATIN) & ~value.str.contains(_HONORIFIC_FIRST)
    )
    family = value.str.extract(r"([A-Za-z]+)$", 1)
    return frame.select(
        "raw",
        value.alias("value"),
        value.str.to_lowercase()
        .str.split(" ")
        .list.eval(pl.element().replace(_U_SPELLINGS))
        .list.sort()
        .list.join(" ")
        .alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("notes"),
        family.alias("attr:family"),
        value.str.replace(r" ?[A-Za-z]+$", "").alias("attr:given"),
        pl.lit(None, pl.String).alias("attr:title"),
        pl.lit(None, pl.String).alias("attr:gender"),
        pl.lit("full").alias("attr:form"),
        pl.lit("latin").alias("attr:script"),
        family.str.to_lowercase().replace(_U_SPELLINGS).alias("attr:family_key"),
        pl.lit(None, pl.String).alias("attr:traditional"),
        pl.lit(None, pl.String).alias("attr:company"),
    )


def _fast_chinese_names(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Plain Chinese names of two to four characters (spaces around or between them allowed): one-character
    surname, no title."""
    names = plain_chinese(values, r"^ *[\u4e00-\u9fff](?: ?[\u4e00-\u9fff]){1,3} *$")
    frame = pl.DataFrame({"raw": names}).with_columns(pl.col("raw").str.replace_all(" ", "").alias("value"))
    salutation = (pl.col("value").str.len_chars() == 2) & (
        pl.col("value").str.contains("^[小老]") | pl.col("value").str.contains("[姐哥]$")
    )
    frame = frame.filter(
        ~pl.col("value").str.contains(_TITLE_AT_END)
        & ~salutation
        & ~pl.col("value").str.slice(0, 2).is_in(_TWO_CHAR_SURNAMES)
    )
    chars = frame["value"].str.split("").explode().unique().to_list()
    reading = {c: _syllable(c) for c in chars if c}
    surname_reading = {c: SURNAME_READINGS.get(c) or reading[c] for c in reading}
    frame = frame.with_columns(
        pl.col("value").str.slice(0, 1).alias("attr:family"), pl.col("value").str.slice(1).alias("attr:given")
    )
    family = pl.col("attr:family").replace_strict(surname_reading, return_dtype=pl.String)
    given = (
        pl.col("attr:given")
        .str.split("")
        .list.eval(pl.element().replace_strict(reading, return_dtype=pl.String))
        .list.join("")
    )
    frame = frame.with_columns(family.alias("f"), given.alias("g")).filter(pl.col("g").str.len_chars() > 0)
    key = (
        pl.when(pl.col("f") <= pl.col("g"))
        .then(pl.concat_str(["f", "g"], separator=" "))
        .otherwise(pl.concat_str(["g", "f"], separator=" "))
    )
    inner_space = pl.col("raw").str.strip_chars(" ").str.contains(" ", literal=True)
    return frame.select(
        "raw",
        "value",
        key.alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.when(inner_space).then(pl.lit("spaces inside a Chinese name removed")).alias("notes"),
        "attr:family",
        "attr:given",
        pl.lit(None, pl.String).alias("attr:title"),
        pl.lit(None, pl.String).alias("attr:gender"),
        pl.lit("full").alias("attr:form"),
        pl.lit("zh").alias("attr:script"),
        pl.col("f").alias("attr:family_key"),
        pl.lit(None, pl.String).alias("attr:traditional"),
        pl.lit(None, pl.String).alias("attr:company"),
    )
