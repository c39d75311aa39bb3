"""Company names: the display value as registered (tidied), and a key that ignores the legal form."""

from __future__ import annotations

import re
import unicodedata

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import tidy

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
LEGAL_FORMS = ["股份有限公司", "有限责任公司", "股份合作公司", "有限公司", "有限合伙", "合伙企业", "个人独资企业",
               "集团", "公司", "co., ltd.", "co.,ltd.", "co. ltd.", "co ltd", "co., ltd", "limited", "ltd.", "ltd",
               "inc.", "inc", "corp.", "corporation", "llc", "gmbh"]
_PUNCT = re.compile(r"[\s()\[\]（）【】,.，。、&·\-_'\"]+")


def company_key(name: str) -> str:
    key = unicodedata.normalize("NFKC", name).lower()
    changed = True
    while changed:
        changed = False
        stripped = key.rstrip(" .,")
        for form in LEGAL_FORMS:
            if stripped.endswith(form) and len(stripped) > len(form):
                key, changed = stripped[: -len(form)], True
                break
    return _PUNCT.sub("", key)


def clean_company_name(raw: str, ctx: CleanContext) -> Cleaned:
    value = tidy(raw).replace("\n", " ")
    if not value:
        return Cleaned(None)
    key = company_key(value)
    if not key:
        return Cleaned(value, None, "no name besides the legal form")
    return Cleaned(value, key)
