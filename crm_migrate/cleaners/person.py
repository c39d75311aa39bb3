"""Person names: Chinese names without inner spaces or titles, Western names split, and a pinyin key.

    张 伟 -> 张伟;  张伟先生 -> 张伟 (title 先生);  王经理 -> 王 (title 经理)
    张伟, 張偉, "Zhang Wei", "ZHANG, Wei", "Wei Zhang"  -> key "wei zhang"

The key is the set of name syllables in a fixed order, so both name orders meet; it is for blocking only,
since homophones (张伟, 张维) meet too. Surnames are read as surnames (单 shan, 曾 zeng, 解 xie), not as the
common word.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.text import hygiene, plain_chinese, simplified

SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha", "乐": "yue",
    "缪": "miao", "覃": "qin", "翟": "zhai", "盖": "ge", "秘": "bi", "召": "shao", "折": "she", "种": "chong",
    "员": "yun", "句": "gou", "过": "guo", "黑": "he", "隗": "wei", "宓": "mi", "繁": "po", "薄": "bo",
    "牟": "mou", "祭": "zhai", "冼": "xian", "尉": "yu", "重": "chong", "曲": "qu", "莘": "shen", "长": "chang",
    "长孙": "zhangsun", "尉迟": "yuchi", "万俟": "moqi", "单于": "chanyu", "澹台": "tantai", "令狐": "linghu",
}
COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                     "夏侯", "轩辕", "令狐", "钟离", "澹台", "万俟", "单于", "南宫", "西门", "独孤", "端木", "百里"}
TITLES = ["总经理", "副总", "董事长", "总监", "经理", "主任", "主管", "先生", "女士", "小姐", "老师", "博士", "教授",
          "老板", "总", "工"]
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
    return surname, name[len(surname):]


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


def clean_person_name(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    value = value.replace("\n", " ")
    spaced = _CJK_GAP.sub("", value)
    if spaced != value:
        value = spaced
        notes.append("spaces inside a Chinese name removed")
    if not value:
        return Cleaned(None)
    title = None
    if _CJK_NAME.match(value):
        for t in TITLES:
            if value.endswith(t) and len(value) > len(t):
                value, title = value[: -len(t)], t
                notes.append("title moved out of the name")
                break
        family, given = split_chinese(simplified(value))
        key = pinyin_key(family, given.replace("·", ""))
        return Cleaned(value, key, None, tuple(notes), (("family", family), ("given", given), ("title", title)))
    if not any(ch.isalpha() for ch in value):
        return Cleaned(value, None, "no letters in the name", tuple(notes))
    key, given, family = _latin_key(value)
    return Cleaned(value, key, None, tuple(notes), (("family", family), ("given", given), ("title", title)))


_TITLE_AT_END = "(?:" + "|".join(TITLES) + ")$"
_TWO_CHAR_SURNAMES = sorted(COMPOUND_SURNAMES | {s for s in SURNAME_READINGS if len(s) == 2})


@fast_path(clean_person_name)
def _fast_person_names(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Plain Chinese names of two to four characters (spaces around or between them allowed): one-character
    surname, no title."""
    names = plain_chinese(values, r"^ *[\u4e00-\u9fff](?: ?[\u4e00-\u9fff]){1,3} *$")
    frame = pl.DataFrame({"raw": names}).with_columns(pl.col("raw").str.replace_all(" ", "").alias("value"))
    frame = frame.filter(~pl.col("value").str.contains(_TITLE_AT_END)
                         & ~pl.col("value").str.slice(0, 2).is_in(_TWO_CHAR_SURNAMES))
    chars = frame["value"].str.split("").explode().unique().to_list()
    reading = {c: _syllable(c) for c in chars if c}
    surname_reading = {c: SURNAME_READINGS.get(c) or reading[c] for c in reading}
    frame = frame.with_columns(
        pl.col("value").str.slice(0, 1).alias("attr:family"), pl.col("value").str.slice(1).alias("attr:given"))
    family = pl.col("attr:family").replace_strict(surname_reading, return_dtype=pl.String)
    given = pl.col("attr:given").str.split("").list.eval(pl.element().replace_strict(reading, return_dtype=pl.String)
                                                         ).list.join("")
    frame = frame.with_columns(family.alias("f"), given.alias("g"))
    key = pl.when(pl.col("f") <= pl.col("g")).then(pl.concat_str(["f", "g"], separator=" ")) \
        .otherwise(pl.concat_str(["g", "f"], separator=" "))
    inner_space = pl.col("raw").str.strip_chars(" ").str.contains(" ", literal=True)
    return frame.select("raw", "value", key.alias("key"), pl.lit(None, pl.String).alias("reason"),
                        pl.when(inner_space).then(pl.lit("spaces inside a Chinese name removed")).alias("notes"),
                        "attr:family", "attr:given", pl.lit(None, pl.String).alias("attr:title"))
