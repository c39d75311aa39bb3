"""Trade words (行业) as registered names hold them: many more than a short list, and several in a row (包装制品,
科技发展, 建筑装饰工程) after a brand of two characters; a name whose trade is read is a brand that a short name
(星辰) meets, even where the brand's sound alone is too common a blocking key."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext
from crm_migrate.cleaners.company_words import english_name, family_of, trade_of
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.entities import FieldType as T
from crm_migrate.migrate import blocking

from .test_fast_paths import assert_same
from .test_phenomena import labelled, run_rows

CTX = CleanContext(secret=b"test")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("星辰包装制品", ("包装制品", "packaging")),  # a trade and the word that follows it: the first is the trade
        ("星辰科技发展", ("科技发展", "technology")),
        ("星辰建筑装饰工程", ("建筑装饰工程", "construction")),
        ("华拓精密模具", ("精密模具", "precision mould")),
        ("星辰文化传播", ("文化传播", "culture communication")),
        ("星辰信息技术", ("信息技术", "information technology")),  # one word, the longest
        ("星科技", ("科技", "technology")),  # one character of brand before one word (a character dropped)
        ("华电子科技", ("电子科技", "electronic technology")),  # one word longer than the row after two characters
        ("信息技术", None),  # only trade words: no brand
        ("科技发展", None),
        ("星辰", None),
    ],
)
def test_trade_words_in_a_row_after_a_brand_of_two_characters(key, expected):
    assert trade_of(key) == expected


def test_brand_and_trade_of_registered_names_and_the_fast_path_agrees():
    names = [
        "北京星辰包装制品有限公司",
        "上海华拓精密模具有限公司",
        "深圳市鼎盛科技发展有限公司",
        "杭州恒通建筑装饰工程有限公司",
        "星辰塑料制品厂",
        "成都锐思信息技术服务有限公司",
        "信息技术有限公司",
        "华电子科技有限公司",
    ]
    cleaner = CLEANERS[T.company_name]
    attrs = {n: dict(cleaner(n, CTX).attrs) for n in names}
    assert (attrs[names[0]]["brand"], attrs[names[0]]["trade"]) == ("星辰", "packaging")
    assert (attrs[names[1]]["brand"], attrs[names[1]]["trade"]) == ("华拓", "precision mould")
    assert (attrs[names[2]]["brand"], attrs[names[2]]["trade"]) == ("鼎盛", "technology")
    assert (attrs[names[3]]["brand"], attrs[names[3]]["trade"]) == ("恒通", "construction")
    assert (attrs[names[5]]["brand"], attrs[names[5]]["trade"]) == ("锐思", "information technology")
    assert attrs[names[6]].get("brand") is None or attrs[names[6]].get("trade") is None
    assert assert_same(T.company_name, names) >= 4  # the fast path reads the rows of trade words as the cleaner


def _brand_trade(text: str) -> tuple[str, str | None]:
    name = english_name(text)
    return name.brand, name.trade


def test_english_trade_words_in_a_row_and_a_brand_that_is_a_trade_word():
    assert _brand_trade("Xingchen Packaging Products Co., Ltd.") == ("xingchen", "packaging")
    assert _brand_trade("Dingsheng Technology Development Co., Ltd.") == ("dingsheng", "technology")
    assert _brand_trade("HAOCHUAN HARDWARE TOOLS CO., LTD.") == ("haochuan", "hardware")  # 浩川五金工具
    assert _brand_trade("Fire Phoenix Intelligent Equipment (Suzhou) Co., Ltd.") == ("firephoenix", "intelligent")
    assert _brand_trade("Xingchen Development") == ("xingchen", "development")


def test_words_that_follow_a_trade_say_nothing_of_its_family():
    assert family_of("development") is None and family_of("services") is None
    assert family_of("packaging") == "materials" and family_of("hardware") == family_of("metal")


def test_a_short_name_meets_the_full_name_when_the_brands_sound_alone_is_too_coarse(make_project, monkeypatch):
    """At tens of thousands of companies a two-character brand's sound is shared by too many records to be a
    key; the short name (no trade) still meets the full names of that sound, and the dropped key is reported."""
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 0.9)
    rows = [
        "北京星辰包装制品有限公司,,,,,,,",  # 2
        "星辰,,,,,,,",  # 3 the brand alone, as a sign-up sheet has it
        "上海兴晨物流有限公司,,,,,,,",  # 4 .. 7: other names of that sound, in full
        "广州星晨科技有限公司,,,,,,,",
        "深圳星辰电子有限公司,,,,,,,",
        "杭州星尘贸易有限公司,,,,,,,",
    ]
    result = run_rows(make_project, "\n".join(rows) + "\n")
    matches = result.migration.entities[Entity.accounts].matches
    assert "brand sound" in {d.name for d in matches.skipped_keys}
    assert labelled(result, Entity.accounts, "name", 2, 3) is not None  # compared, under the short-name key
    assert labelled(result, Entity.accounts, "name", 4, 5) is None  # two full names: not by that key


def test_the_short_name_key_pairs_only_a_short_name_with_a_full_one():
    frame = pl.DataFrame(
        {"_outcome": [None] * 4, "s": ["xingchen"] * 4, "short": [True, False, False, True]},
        schema_overrides={"_outcome": pl.String},
    )
    pairs, _, _, _ = blocking.candidate_pairs(frame, [blocking.BlockingKey("k", pl.col("s"), (), differ="short")])
    assert sorted(pairs.rows()) == [(0, 1), (0, 2), (1, 3), (2, 3)]


def test_a_short_name_that_keeps_part_of_a_long_brand_needs_further_evidence(make_project):
    rows = [
        "北京华信恒通网络技术有限公司,,,郭文涛,13911728045,,,",  # 2
        "恒通网络,,,郭工,13911728045,,,",  # 3 part of the brand, of the same trade, and the same person
        "上海恒通达力物流有限公司,,,,,,,",  # 4 a longer brand of its own ...
        "恒通物流,,,,,,,",  # 5 ... beside a short one, nothing else shared
    ]
    result = run_rows(make_project, "\n".join(rows) + "\n")
    weak = "short name the data gives several companies"
    assert labelled(result, Entity.accounts, "name", 2, 3) == weak
    assert labelled(result, Entity.accounts, "name", 4, 5) in (weak, None)  # if compared at all
    ids = dict(
        result.migration.entities[Entity.accounts].frame.select(pl.col("_row").cast(pl.Int64), "_record_id").iter_rows()
    )
    assert ids[2] == ids[3]  # the person says it is one company
    assert ids[4] != ids[5]  # the name alone does not


def test_two_short_names_alike_name_one_company_only_where_the_data_gives_the_brand_one(make_project):
    """A registered name is unique by law; a brand without its trade is not: 赛明集团 twice, or 北京赛明 and
    赛明, are one company only where the data holds one company of that brand."""
    rows = [
        "上海赛明建筑工程有限公司,,,,,,,",  # 2 two companies of one brand
        "北京赛明药业有限公司,,,,,,,",  # 3
        "赛明集团,,,,,,,",  # 4 .. 5: either of them
        "赛明集团,,,,,,,",
        "北京沃吉包装制品有限公司,,,,,,,",  # 6 the only company of its brand
        "北京沃吉,,,,,,,",  # 7 .. 8
        "沃吉,,,,,,,",
    ]
    result = run_rows(make_project, "\n".join(rows) + "\n")
    assert labelled(result, Entity.accounts, "name", 4, 5) == "short name the data gives several companies"
    assert labelled(result, Entity.accounts, "name", 7, 8) == "distinctive short name"
    ids = dict(
        result.migration.entities[Entity.accounts].frame.select(pl.col("_row").cast(pl.Int64), "_record_id").iter_rows()
    )
    assert ids[4] != ids[5] and ids[6] == ids[7] == ids[8]


def test_a_short_chinese_name_against_an_english_one_counts_every_company_of_its_sound(make_project):
    rows = [
        "上海湖蓝物流有限公司,,,,,,,",  # 2 two companies of one brand, in two trades
        "西安湖蓝包装制品有限公司,,,,,,,",  # 3
        "湖蓝,,,,,,,",  # 4 the brand alone
        '"Xi\'an Hulan Packaging Products Co., Ltd.",,,,,,,',  # 5
    ]
    result = run_rows(make_project, "\n".join(rows) + "\n")
    assert (
        labelled(result, Entity.accounts, "name across scripts", 4, 5) == "same brand the data gives several companies"
    )
