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

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import hygiene, simplified

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


@lru_cache(maxsize=4096)
def _syllables(chars: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(chars, v_to_u=False)


def _fold(syllable: str) -> str:
    """lv / lyu / lü (吕) and nv / nyu (女) become one spelling."""
    return syllable.replace("ü", "v").replace("yu", "v") if syllable.startswith(("l", "n")) else syllable


def split_chinese(name: str) -> tuple[str, str]:
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES or name[:2] in SURNAME_READINGS else name[:1]
    return surname, name[len(surname):]


def pinyin_key(family: str, given: str) -> str:
    family_py = SURNAME_READINGS.get(family) or "".join(_syllables(family))
    given_py = "".join(_syllables(given))
    return " ".join(sorted(_fold(p) for p in (family_py, given_py) if p))


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
