"""A fast path must give exactly what its per-value cleaner gives, on every value it takes."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_migrate.cleaners import CLEANERS, CleanContext
from crm_migrate.cleaners.base import FAST_PATHS, NOTES_SEPARATOR
from crm_migrate.mappings.entities import FieldType as T
from crm_migrate.mappings.spellings import present
from crm_migrate.migrate.readers import read_source
from crm_migrate.project import load_project

from .conftest import DEMO

CTX = CleanContext(secret=b"test")
FAST = [t for t in CLEANERS if CLEANERS[t] in FAST_PATHS]
# Every fast path is also compared on every value of the demo and on the hand-made lists below; the generated
# values, about 15 tests' worth, run a quarter of the profile's examples (HYPOTHESIS_PROFILE=search: 750).
FEWER = settings(max_examples=max(40, settings().max_examples // 4))


def assert_same(kind: T, values: list[str]) -> int:
    """Compare the fast path with the cleaner on ``values``; return how many the fast path took."""
    cleaner = CLEANERS[kind]
    fast = FAST_PATHS[cleaner](pl.Series("raw", values, dtype=pl.String), CTX)
    for row in fast.iter_rows(named=True):
        slow = cleaner(row["raw"], CTX)
        attrs = {k.removeprefix("attr:"): v for k, v in row.items() if k.startswith("attr:")}
        assert (row["value"], row["key"], row["reason"], row["notes"]) == (
            slow.value,
            slow.key,
            slow.reason,
            NOTES_SEPARATOR.join(slow.notes) or None,
        ), (kind, row, slow)
        # an attribute with no value is as good as none (two fast paths' rows together hold each other's columns)
        given = {k: v for k, v in attrs.items() if v is not None}
        assert given == {k: v for k, v in slow.attrs if v is not None}, (kind, row, slow)
    return fast.height


def demo_values() -> dict[T, list[str]]:
    out: dict[T, set[str]] = {}
    for source in load_project(DEMO).sources:
        table = read_source(source)
        for plan in source.entities:
            for f in plan.fields:
                for column in present(f.column, table.frame.columns):  # every spelling a sheet has (公司名称|单位)
                    out.setdefault(f.spec.type, set()).update(table.frame[column].drop_nulls().to_list())
    return {k: sorted(v) for k, v in out.items()}


def test_every_fast_path_is_exercised_and_agrees_on_the_demo():
    values = demo_values()
    for kind in FAST:
        taken = assert_same(kind, values.get(kind, []))
        assert taken > 0, f"the {kind.value} fast path took none of the demo's values"


def test_address_fast_path_agrees_on_every_division_path():
    from crm_migrate.cleaners.address import _full_prefixes

    prefixes = list(_full_prefixes())
    assert assert_same(
        T.address, prefixes + [p + "人民路1号" for p in prefixes] + [p + "长安镇" for p in prefixes]
    ) >= 2 * len(prefixes)


def test_no_division_name_extends_another_of_the_same_parent():
    """The address fast path relies on it: a full name is then always the longest match at its level."""
    from crm_migrate.cleaners.divisions import divisions

    d = divisions()
    for siblings in d.children.values():
        names = [s.name for s in siblings]
        for a in names:
            assert not any(b != a and b.startswith(a) for b in names), a


NAMEISH = st.text(
    alphabet="张王李单曾欧阳司马吕伟娜明總经理先生北京深圳市区县省有限公司股份集团科技银行分公司0123456789-号路 （）()",
    min_size=1,
    max_size=16,
)
PHONEISH = st.from_regex(
    r"[+]?(86|0086)?[ -]?(1[3-9][0-9]|0[1-9][0-9]{1,2})[ -]?[0-9]{3,4}[ -]?[0-9]{4}", fullmatch=True
)


@pytest.mark.parametrize("kind", FAST, ids=lambda k: k.value)
@FEWER
@given(values=st.lists(st.one_of(NAMEISH, PHONEISH, st.emails().map(str.lower)), min_size=1, max_size=20))
def test_fast_paths_agree_on_generated_values(kind, values):
    assert_same(kind, values)


def test_date_fast_path_agrees_on_year_first_dates_and_times():
    """Both separators, padded or not, with a time or midnight; days, months, hours and years out of range."""
    import random

    r = random.Random(3)
    values = []
    for _ in range(4000):
        sep = r.choice("-/")
        month, day = r.randint(0, 13), r.randint(0, 32)
        time = r.choice(
            [
                "",
                f" {r.randint(0, 25)}:{r.randint(0, 61):02d}",
                " 00:00",
                " 0:00:00",
                f" {r.randint(0, 24):02d}:{r.randint(0, 60):02d}:{r.randint(0, 61):02d}",
            ]
        )
        values.append(
            f"{r.choice([1899, 1900, 2019, 2024, 2100, 2101])}{sep}{month}{r.choice([sep, '-'])}{day:02d}{time}"
        )
    assert assert_same(T.date, sorted(set(values))) > 1000


def test_company_fast_path_agrees_on_names_with_and_without_a_legal_form():
    """Short names (星辰科技, 南京达恒世, 北京银行), regions in front or in brackets, forms right and mistyped."""
    import itertools

    regions = ["", "北京", "北京市", "南京", "苏州工业园区", "海淀区", "（上海）", "广东省深圳市"]
    brands = ["星辰", "达恒世", "银行", "中", "华为", "科技", "有线"]
    trades = ["", "科技", "信息技术", "医疗器械", "集团", "建筑工程", "电子"]
    forms = [
        "",
        "有限公司",
        "股份有限公司",
        "有限责任公司",
        "有现公司",
        "有限公",
        "公司",
        "集团",
        " ",
        "市场部",
        " 采购处",
        "研发中心",
        "事业部",
    ]
    names = ["".join(p) for p in itertools.product(regions, brands, trades, forms)]
    assert assert_same(T.company_name, names) > 300


def test_email_fast_path_agrees_on_upper_and_mixed_case():
    values = [
        "LIAOYANHAI@QQ.COM",
        "Wang.Fang@XingChen.com.cn",
        "K@163.com",
        "A@QQ.CON",
        "x@GMIAL.com",
        "Li@Sina.Cn",
        "ZHANG_WEI@HUATUO-E.COM",
        "a@b.com",
        "İ@qq.com",
        "Mail@126.COM.",
    ]
    assert assert_same(T.email, values) >= 5


LATIN_NAMES = [
    "rebecca",
    "john smith",
    "Mary Ann Lee",
    "LYU Bo",  # ü written yu: folded as pypinyin writes it, lv
    "nyue lyu",
    "Zhang Wei",
    "O Brien",
    "a",
    "mr",  # an honorific alone is a name
    "Dr",
    # left to the cleaner: an honorific before a name, a comma, spaces, hyphens, apostrophes, digits
    "Mr Smith",
    "mrs jones",
    "Prof. Li",
    "Smith, John",
    " john",
    "john  smith",
    "jean-luc picard",
    "o'brien",
    "hobson 3yan",
]


def test_person_name_fast_path_agrees_on_names_in_latin_letters():
    assert assert_same(T.person_name, LATIN_NAMES) == 10


@FEWER
@given(
    values=st.lists(st.from_regex(r"((mr|Mrs|dr|miss) )?[A-Za-z]{1,6}( {1,2}[A-Za-z,.\-]{1,6}){0,3}", fullmatch=True))
)
def test_person_name_fast_path_agrees_on_generated_latin_names(values):
    assert_same(T.person_name, values)


LATIN_ADDRESSES = [
    "42 Miller Street",
    "Flat 3, 15 Gordon Ave",
    "No. 5 Beijing Road",  # a place's pinyin in a street's name is not the place
    "1 shanghai",
    "12 o'connell st",
    "#12-03 Orchard Rd",
    "Room 1201, Tower 5, 88 Century Ave, Pudong, Shanghai",
    # left to the cleaner: no digit (a place in pinyin, perhaps), spaces, Chinese
    "shanghai",
    "Miller Street",
    "5  x road",
    " 5 road",
    "上海市 88 Century Ave",
]


def test_address_fast_path_agrees_on_streets_in_latin_letters():
    assert assert_same(T.address, LATIN_ADDRESSES) == 7


@FEWER
@given(values=st.lists(st.from_regex(r"[A-Za-z0-9#,.\-']{1,8}( {1,2}[A-Za-z0-9,.]{1,8}){0,4}", fullmatch=True)))
def test_address_fast_path_agrees_on_generated_latin_streets(values):
    assert_same(T.address, values)
