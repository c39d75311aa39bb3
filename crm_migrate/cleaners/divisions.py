"""China's administrative divisions from the official table, with the short names people write.

The table is the Ministry of Civil Affairs' list as of 2025-12-31 (Xzqh20251231: 33 provinces, 333
prefecture-level and 2,845 county-level units, and 38,723 townships), vendored as ``data/divisions.csv``:
one row per unit, its code and its name, in code order, as the ministry publishes them. A unit's level and
parent follow from its code (``level_and_parent``); where the table came from and how to rebuild it from a
new publication (``scripts/rebuild_divisions.py``) is in ``data/SOURCE.md``. Every unit is known by its full name (广东省, 深圳市, 南山区) and, where it stays
unambiguous enough to be useful, its short name (广东, 深圳, 南山): suffixes dropped, and for autonomous
units the ethnic names too (延边朝鲜族自治州 -> 延边).

Names that changed keep being written: 新津县 became 新津区 in 2020, 崇文区 was merged into 东城区 in 2010.
``data/renamed_divisions.csv`` is their history (our own table, each row one change the State Council
approved, with the year of the approval): the old name, its level then (县, 县级市, 市辖区, 地区, 地级市),
the parent it is under today, the name it took, the code of the unit it is today, the year, and whether it
was renamed or merged into another unit. A name changed twice (余杭县 -> 余杭市 -> 余杭区) is two rows. Only
full old names are read: a short one (崇文) is a gate and a street too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

ETHNIC = sorted(
    """蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西
景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京
塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各""".split(),
    key=len,
    reverse=True,
)
PROVINCE_SUFFIXES = ["维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"]
CITY_SUFFIXES = ["自治州", "地区", "市", "盟"]
COUNTY_SUFFIXES = ["自治县", "自治旗", "新区", "林区", "特区", "区", "县", "市", "旗"]
TOWNSHIP_SUFFIXES = ["民族乡", "民族苏木", "街道", "苏木", "镇", "乡"]


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: int  # 1 province, 2 prefecture (city), 3 county (district)
    parent: str  # parent code, "" for a province

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


def short_name(name: str, suffixes: list[str]) -> str | None:
    """南山区 -> 南山, 延边朝鲜族自治州 -> 延边; None where the short form would be under two characters."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            core = name[: -len(suffix)]
            break
    else:
        return None
    if suffix.startswith("自治") or suffix in ("维吾尔自治区", "壮族自治区", "回族自治区"):
        stripped = True
        while stripped:
            stripped = False
            core = core.removesuffix("族")
            for ethnic in ETHNIC:
                if core.endswith(ethnic) and len(core) - len(ethnic) >= 2:
                    core, stripped = core[: -len(ethnic)], True
                    break
        core = core.removesuffix("族")
    return core if len(core) >= 2 and core != name else None


@dataclass(frozen=True)
class Rename:
    """A former name and the unit it is today (see ``data/renamed_divisions.csv``)."""

    old_name: str
    old_level: str
    parent: str
    new_name: str
    unit: Division
    year: int
    change: str  # "renamed" (the same unit under a new name or kind) or "merged" (into another unit)


class Divisions:
    def __init__(self, records: list[tuple[int, str, str, str]], renames: list[dict[str, str]] | None = None) -> None:
        self.by_code: dict[str, Division] = {}
        self.townships: dict[str, list[str]] = {}  # a county's (or a city without counties') townships, by code
        for level, code, parent, name in records:
            if level <= 3:
                self.by_code[code] = Division(code, name, level, parent)
            elif level == 4:
                self.townships.setdefault(parent, []).append(name)
        self.names: dict[int, dict[str, list[Division]]] = {1: {}, 2: {}, 3: {}}
        suffixes = {1: PROVINCE_SUFFIXES, 2: CITY_SUFFIXES, 3: COUNTY_SUFFIXES}
        for d in self.by_code.values():
            aliases = {d.name}
            if (short := short_name(d.name, suffixes[d.level])) is not None:
                aliases.add(short)
            for alias in aliases:
                self.names[d.level].setdefault(alias, []).append(d)
        self._region_starts = {n[:2] for level in (1, 2) for n in self.names[level]}
        self.children: dict[str, list[Division]] = {}
        for d in self.by_code.values():
            self.children.setdefault(d.parent, []).append(d)
        self._child_names: dict[str, tuple[str, ...]] = {}
        self.renamed: dict[int, dict[str, list[Rename]]] = {1: {}, 2: {}, 3: {}}
        self._history: dict[tuple[str, str], Rename] = {}  # (old name, parent) -> its row
        for row in renames or ():
            unit = self.by_code[row["new_code"]]
            r = Rename(
                row["old_name"], row["old_level"], row["parent"], row["new_name"], unit, int(row["year"]), row["change"]
            )
            self.renamed[unit.level].setdefault(r.old_name, []).append(r)
            self._history[(r.old_name, r.parent)] = r

    def rename_note(self, r: Rename) -> str:
        """renamed division: 新津县 -> 新津区 (2020); a chain of changes in full: 余杭县 -> 余杭市 (1994) -> 余杭区 (2001)."""
        steps = [r.old_name]
        current: Rename | None = r
        while current is not None and len(steps) < 10:
            steps.append(f"{current.new_name} ({current.year})")
            current = self._history.get((current.new_name, current.parent))
        return "renamed division: " + " -> ".join(steps)

    def former_names(self, d: Division) -> list[str]:
        return [r.old_name for names in self.renamed.values() for rs in names.values() for r in rs if r.unit == d]

    def child_names(self, d: Division) -> tuple[str, ...]:
        """The names, full and short, of the units one level below ``d``: a province's cities, a city's
        counties (or its townships when it has no counties), a county's townships."""
        if (known := self._child_names.get(d.code)) is not None:
            return known
        names: set[str] = set()
        for child in self.children.get(d.code, ()):
            suffixes = CITY_SUFFIXES if child.level == 2 else COUNTY_SUFFIXES
            names.update(n for n in (child.name, short_name(child.name, suffixes)) if n)
        for township in self.townships.get(d.code, ()):
            names.update(n for n in (township, short_name(township, TOWNSHIP_SUFFIXES)) if n)
        self._child_names[d.code] = known = tuple(sorted(names, key=len, reverse=True))
        return known

    def path(self, d: Division) -> tuple[Division | None, Division | None, Division | None]:
        """(province, city, county) of a unit; city is None under a municipality or for a county-level city
        directly under its province (仙桃市)."""
        chain: dict[int, Division] = {}
        current: Division | None = d
        while current is not None:
            chain[current.level] = current
            current = self.by_code.get(current.parent)
        return chain.get(1), chain.get(2), chain.get(3)

    def region_prefix(self, text: str) -> tuple[str, Division] | None:
        """The longest province or city name (full or short) that ``text`` starts with."""
        if text[:2] not in self._region_starts:
            return None
        for length in range(min(len(text), 9), 1, -1):
            head = text[:length]
            for level in (1, 2):
                found = self.names[level].get(head)
                if found and len(found) == 1:
                    return head, found[0]
        return None

    def is_region(self, text: str) -> Division | None:
        for level in (1, 2):
            found = self.names[level].get(text)
            if found and len(found) == 1:
                return found[0]
        return None


def level_and_parent(code: str, known: set[str] | frozenset[str]) -> tuple[int, str]:
    """A unit's level and parent from its code, the way the official codes are built: ``XX0000`` a province,
    ``XXYY00`` a prefecture under ``XX0000``, ``XXYYZZ`` a county under ``XXYY00`` or, where there is no such
    prefecture (a municipality's districts, 仙桃市 under 湖北省), under ``XX0000``; a nine-digit township under
    the unit of its first six digits (a county, or a city without counties such as 东莞市)."""
    if len(code) == 9 and code.isdigit():
        if code[:6] not in known:
            raise ValueError(f"township {code}: no unit {code[:6]} above it")
        return 4, code[:6]
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"not a division code: {code!r}")
    if code.endswith("0000"):
        return 1, ""
    if code.endswith("00"):
        return 2, code[:2] + "0000"
    prefecture = code[:4] + "00"
    return 3, prefecture if prefecture in known else code[:2] + "0000"


def records(rows: Iterable[tuple[str, str]]) -> list[tuple[int, str, str, str]]:
    """(level, code, parent, name) of (code, name) rows, provinces first, then prefectures, counties and
    townships, each in code order."""
    rows = list(rows)
    known = frozenset(code for code, _ in rows)
    out = []
    for code, name in rows:
        level, parent = level_and_parent(code, known)
        out.append((level, code, parent, name))
    return sorted(out, key=lambda r: (r[0], r[1]))


def read_table(lines: Iterable[str]) -> list[tuple[str, str]]:
    """The rows of ``data/divisions.csv`` (header ``code,name``)."""
    reader = csv.reader(lines)
    if next(reader, None) != ["code", "name"]:
        raise ValueError("divisions.csv: the header must be code,name")
    return [(code, name) for code, name in reader]


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    table = resources.files("crm_migrate.cleaners").joinpath("data/divisions.csv")
    with io.TextIOWrapper(table.open("rb"), encoding="utf-8", newline="") as f:
        units = records(read_table(f))
    history = resources.files("crm_migrate.cleaners").joinpath("data/renamed_divisions.csv")
    with io.TextIOWrapper(history.open("rb"), encoding="utf-8", newline="") as f:
        renames = list(csv.DictReader(f))
    return Divisions(units, renames)
