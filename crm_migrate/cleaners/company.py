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

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.divisions import divisions
from crm_migrate.cleaners.text import hygiene, simplified

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


def _strip_legal_form(key: str) -> str:
    """Remove legal forms from the end until none is left (Co., Ltd. is two); English ones as whole words."""
    changed = True
    while changed and key:
        changed = False
        stripped = key.rstrip(" .,")
        for form in LEGAL_FORMS:
            bare = form.rstrip(".")
            if not stripped.endswith(bare):
                continue
            before = stripped[: -len(bare)]
            if form.isascii() and before and before[-1] not in " ,.&":
                continue  # "costco" does not end in the form "co"
            key, changed = before.rstrip(" ,"), True
            break
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
