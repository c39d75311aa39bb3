"""Person names: Chinese names without inner spaces; a key for matching."""

from __future__ import annotations

import re
import unicodedata

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import tidy

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def clean_person_name(raw: str, ctx: CleanContext) -> Cleaned:
    value = _CJK_GAP.sub("", tidy(raw).replace("\n", " "))
    if not value:
        return Cleaned(None)
    key = re.sub(r"[\s.,·]+", " ", unicodedata.normalize("NFKC", value).lower()).strip()
    if not any(ch.isalpha() for ch in value):
        return Cleaned(value, None, "no letters in the name")
    return Cleaned(value, key)
