"""Test and garbage records: rows someone typed to try the old system, not customers.

A record is garbage when its name is a test marker (测试客户, test, demo, 样例), keyboard mash (asdf,
qwer), one character repeated (啊啊啊, xxx) or digits only; or when it has no name and every phone it has
is a placeholder (13800138000). The reason names the field and the value, so that a steward can check.
"""

from __future__ import annotations

import re

_FILLER = r"(客户|公司|用户|数据|账号|联系人|人员|记录|customer|company|user|account|data|record|co|ltd|inc)"
MARKERS = re.compile(rf"^(测试|样例|示例|演示|临时|test|testing|demo|sample|dummy)[\s\-_.]*{_FILLER}?[\s\-_.]*\d*$"
                     r"|(测试|样例)\d*$|\b(test|demo)\s*\d*$", re.I)
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "0987654321")


def _mash(text: str) -> bool:
    t = re.sub(r"[\s\W_]+", "", text.lower())
    if len(t) >= 2 and len(set(t)) == 1:
        return True
    if t.isdigit():
        return True
    return len(t) >= 3 and any(t in row for row in KEYBOARD_ROWS)


def garbage_name(value: str, key: str | None = None) -> str | None:
    """Why a name marks a test record, or None. ``key`` is the cleaner's match key where there is one
    (for a company: the name without legal form and region)."""
    core = (key or value).strip()
    if MARKERS.search(core) or MARKERS.search(value.strip()):
        return f"test marker in {value!r}"
    if _mash(core):
        return f"{value!r} is not a name"
    return None
