"""How each kind of mess issue 12 lists is read and compared: the level a pair gets, on small projects.

Levels do not depend on the weights the data teaches, so these tests pin what each comparison sees; the
labelled pairs (test_pairs.py) judge the decisions those levels lead to among a project's records.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext
from crm_migrate.cleaners.company_words import calque_of, calques, english_name, is_pinyin, romanise
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.entities import FieldType as T
from crm_migrate.migrate.clustering import NONE, cluster
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.output_frames import import_frame
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

CTX = CleanContext(secret=b"test")

COMPANIES = """\
file: data/rows.csv
entities:
  accounts:
    columns: {公司: name, 电话: phone, 地址: address}
  contacts:
    columns: {姓名: name, 手机: mobile, 座机: phone, 邮箱: email, 职务: title}
"""


def company(name: str) -> dict:
    cleaned = CLEANERS[T.company_name](name, CTX)
    return {"key": cleaned.key, **dict(cleaned.attrs), "notes": cleaned.notes}


def person(name: str) -> dict:
    cleaned = CLEANERS[T.person_name](name, CTX)
    return {"value": cleaned.value, **dict(cleaned.attrs)}


@pytest.mark.parametrize(
    "name, key, brand, trade, region",
    [
        ("北京星辰科技有限公司", "星辰科技", "星辰", "technology", "北京市"),
        ("星辰科技有线公司", "星辰科技", "星辰", "technology", None),  # 有线 for 有限
        ("星辰科技有限公公司", "星辰科技", "星辰", "technology", None),
        ("星辰科技股份有线公司", "星辰科技", "星辰", "technology", None),
        ("星辰科技有限公司销售部", "星辰科技", "星辰", "technology", None),  # a department is the company
        ("星辰科技 市场部", "星辰科技", "星辰", "technology", None),
        ("星辰科技有限公司-采购部", "星辰科技", "星辰", "technology", None),  # however it is set off
        ("星辰科技有限公司/财务部", "星辰科技", "星辰", "technology", None),
        ("星辰科技有限公司_销售一部", "星辰科技", "星辰", "technology", None),
        ("星辰科技有限公司采购处", "星辰科技", "星辰", "technology", None),
        ("星辰科技有限公司华东大区", "星辰科技", "星辰", "technology", None),  # a sales region is the company too
        ("星辰科技（华南区）", "星辰科技", "星辰", "technology", None),
        ("星辰科技【北京】有限公司", "星辰科技", "星辰", "technology", "北京市"),  # brackets of any style
        ("星辰科技[北京]有限公司", "星辰科技", "星辰", "technology", "北京市"),
        ("北京星辰科技(有限公司)", "星辰科技", "星辰", "technology", "北京市"),  # the form in brackets
        ("北京星辰科技有限公司（原名：星辰电子）", "星辰科技", "星辰", "technology", "北京市"),  # a former name noted
        ("北京星辰科技有限公司(曾用名北京星辰电子有限公司)", "星辰科技", "星辰", "technology", "北京市"),
        ("苏州工业园区晶川光学材料有限公司", "晶川光学材料", "晶川光学", "materials", "苏州市"),  # a zone is where
        ("北京市海淀区星辰科技有限公司", "星辰科技", "星辰", "technology", "北京市"),  # so is a district
        ("成都德润达建材有限公司。", "德润达建材", "德润达", "building materials", "成都市"),
        ("北京星辰", "星辰", "星辰", None, "北京市"),  # a region and a brand of two characters
        ("北京银行", "北京银行", "北京银行", None, None),  # a region and a generic word: the name itself
        ("Beijing Xingchen Technology Co., Ltd.", "xingchentechnology", "xingchen", "technology", "北京市"),
        ("XINGCHEN TECH", "xingchentechnology", "xingchen", "technology", None),
        ("ＸＩＮＧＣＨＥＮ ＴＥＣＨ", "xingchentechnology", "xingchen", "technology", None),
        ("Xingchen Technology (Shanghai) Co.,Ltd", "xingchentechnology", "xingchen", "technology", "上海市"),
        ("Xing Chen Keji Youxian Gongsi", "xingchentechnology", "xingchen", "technology", None),  # pinyin words
        ("Beijing Xingchen Sci & Tech Co Ltd", "xingchentechnology", "xingchen", "technology", "北京市"),
    ],
)
def test_company_names_in_either_script_give_brand_trade_and_region(name, key, brand, trade, region):
    parts = company(name)
    assert (parts["key"], parts["brand"], parts["trade"], parts["region"]) == (key, brand, trade, region)


def test_mistyped_legal_forms_are_noted_and_branches_found_without_one():
    assert "legal form misspelt" in company("星辰科技有线公司")["notes"]
    assert "legal form misspelt" not in company("星辰科技有限公司")["notes"]
    assert company("歌华有线")["key"] == "歌华有线"  # 有线 (cable) in a brand is not a legal form
    assert company("恒新永医疗器械成都分公司")["branch"] == "成都分公司"
    assert company("上海恒新永医疗器械股份有限公司成都分公司")["key"] == company("恒新永医疗器械成都分公司")["key"]
    assert company("Shanghai Hengtong Trading Co Ltd Shenzhen Branch")["branch"] == "shenzhen branch"


def test_english_names_pinyin_calques_and_initials():
    assert english_name("Suzhou Hengrun Precision Mould Co., Ltd.").head == "hengrun"  # the pinyin part
    assert english_name("Blue Whale Data Technology (Beijing) Co., Ltd.").head is None  # a translation
    assert is_pinyin("xingchen") and is_pinyin("hengrun") and not is_pinyin("blue") and not is_pinyin("brd")
    assert "starcloud" in calques("星云") and calque_of("worldstarfang", "世星方") and not calque_of("blue", "星云")
    assert romanise("星辰") == "xingchen" and romanise("吕") == romanise("Lyu") == "lu"
    assert romanise("长城") == "changcheng"  # the reading a name uses, not the commonest


def test_the_fixed_syllable_list_holds_every_reading_pypinyin_gives():
    from pypinyin import lazy_pinyin

    from crm_migrate.cleaners.company_words import PINYIN_SYLLABLES, fold_latin

    readings = {fold_latin(p) for p in lazy_pinyin("".join(chr(c) for c in range(0x4E00, 0x9FA6)))}
    missing = {r for r in readings if r.isascii() and r.isalpha()} - PINYIN_SYLLABLES - {"m", "n", "hm"}
    assert not missing


@pytest.mark.parametrize(
    "raw, value, title, form",
    [
        ("王经理", "王", "经理", "surname"),
        ("张总", "张", "总", "surname"),
        ("小李", "李", "小", "surname"),
        ("老王", "王", "老", "surname"),
        ("李先生", "李", "先生", "surname"),
        ("何然工程师", "何然", "工程师", "full"),
        ("陈晶-经理", "陈晶", "经理", "full"),
        ("万蕾_助理", "万蕾", "助理", "full"),
        ("张伟（采购经理）", "张伟", "采购经理", "full"),
        ("张伟采购经理", "张伟", "采购经理", "full"),
        ("刘洋 销售", "刘洋", "销售", "full"),
        ("星辰科技-张伟", "张伟", None, "full"),  # the company written before the person: beside it, not its title
        ("欧阳 靖宇", "欧阳靖宇", None, "full"),  # a space inside a name is not a title
        ("小明", "小明", None, "full"),  # a nickname, not a salutation: 明 is no common surname
        ("Mr. Zhang", "Zhang", "Mr.", "surname"),
        ("Zhang Wei (Sales)", "Zhang Wei", "Sales", "full"),
    ],
)
def test_person_names_lose_their_titles_and_salutations(raw, value, title, form):
    parts = person(raw)
    assert (parts["value"], parts["title"], parts["form"]) == (value, title, form)


def test_a_city_in_pinyin_is_a_place_and_an_ambiguous_one_only_coarse():
    shanghai = CLEANERS[T.address]("Shanghai", CTX)
    assert shanghai.value == "上海市" and dict(shanghai.attrs)["code"] == "310000"
    suzhou = CLEANERS[T.address]("Suzhou", CTX)  # 苏州 or 宿州
    assert dict(suzhou.attrs) == {"coarse": "yes"}


def run_rows(make_project, csv: str, extra: str = ""):
    root = make_project(
        "name: t\nentities: [accounts, contacts]\noptions: {today: 2026-06-30}\n" + extra,
        {"rows": COMPANIES},
        {"data/rows.csv": "公司,电话,地址,姓名,手机,座机,邮箱,职务\n" + csv},
    )
    return prepare(load_project(root))


def level(result, entity: Entity, comparison: str, row_a: int, row_b: int) -> int | None:
    """The level two source rows (line numbers) got on a comparison, None if they were never compared."""
    er = result.migration.entities[entity]
    rows = er.frame.with_row_index("_i").select("_i", pl.col("_row").cast(pl.Int64))
    index = {r: i for i, r in rows.iter_rows()}
    a, b = sorted((index[row_a], index[row_b]))
    pair = er.matches.pairs.filter((pl.col("l") == a) & (pl.col("r") == b))
    return None if pair.is_empty() else pair[f"level:{comparison}"][0]


def labelled(result, entity: Entity, comparison: str, row_a: int, row_b: int) -> str | None:
    found = level(result, entity, comparison, row_a, row_b)
    comp = next(c for c in result.migration.entities[entity].matches.comparisons if c.name == comparison)
    return None if found is None else comp.label(found)


def test_company_name_levels(make_project):
    result = run_rows(
        make_project,
        "\n".join(
            [
                "北京星辰科技有限公司,010-62345678,,,,,,",  # 2
                "星晨科技（北京）有限公司,,,,,,,",  # 3 a homophone
                "北京星科技有限公司,010-62345678,,,,,,",  # 4 a character dropped (and the same phone)
                "星辰集团,,,,,,,",  # 5 the brand without its trade
                "上海星辰科技有限公司,,,,,,,",  # 6 the same brand in another city
                "星辰科技有限公司,,,,,,,",  # 7 the same name without a region
                '"Beijing Xingchen Technology Co., Ltd.",010-62345678,,,,,,',  # 8 in English
                '"Xingchen Trading Co., Ltd.",,,,,,,',  # 9 another trade in English
            ]
        )
        + "\n",
    )
    assert labelled(result, Entity.accounts, "name", 2, 3) == "same sound"
    assert labelled(result, Entity.accounts, "name", 2, 4) == "one character apart"
    assert labelled(result, Entity.accounts, "name", 2, 5) in (
        "short name",
        "short name the data gives several companies",
    )
    assert level(result, Entity.accounts, "name", 2, 6) == 0  # 北京 and 上海: two registered companies
    assert labelled(result, Entity.accounts, "name", 6, 7) in ("same", "same without region")
    # 星辰科技 in 北京 (rows 2, 3) and in 上海 (row 6) read xingchen, tech: the English name is only "the same
    # brand" of either company, its region notwithstanding.
    assert (
        labelled(result, Entity.accounts, "name across scripts", 2, 8) == "same brand the data gives several companies"
    )
    assert level(result, Entity.accounts, "name", 2, 8) == -1  # scripts differ: only the other comparison
    assert labelled(result, Entity.accounts, "name across scripts", 2, 9) == "different"


def test_a_sound_the_data_gives_one_company_is_that_companys_name_mistyped(make_project):
    # 星辰 / 星晨 typed through a pinyin input method: where the data holds one company of that sound in that trade
    # (its own records, in one city), the homophone and an English brand alone are that company's, and say so.
    alone = run_rows(
        make_project,
        "\n".join(
            [
                "北京星辰科技有限公司,,,,,,,",  # 2
                "星晨科技（北京）有限公司,,,,,,,",  # 3 a homophone, one character
                "XINGCHEN,,,,,,,",  # 4 the brand alone in English
                "北京兴晨达科技有限公司,,,,,,,",  # 5 another brand
            ]
        )
        + "\n",
    )
    assert labelled(alone, Entity.accounts, "name", 2, 3) == "same sound, one company of it in its trade"
    assert labelled(alone, Entity.accounts, "name across scripts", 2, 4) == "same distinctive brand"
    # The same names beside a 星辰科技 in 上海: two companies read xingchen in tech, and neither is singled out.
    two = run_rows(
        make_project,
        "\n".join(
            [
                "北京星辰科技有限公司,,,,,,,",  # 2
                "星晨科技（北京）有限公司,,,,,,,",  # 3
                "XINGCHEN,,,,,,,",  # 4
                "上海星辰科技有限公司,,,,,,,",  # 5
            ]
        )
        + "\n",
    )
    assert labelled(two, Entity.accounts, "name", 2, 3) == "same sound"
    assert labelled(two, Entity.accounts, "name across scripts", 2, 4) == "same brand the data gives several companies"
    # Two characters of one sound changed (星辰 / 兴晨) is another brand that sounds alike, not a slip.
    other = run_rows(make_project, "北京星辰科技有限公司,,,,,,,\n兴晨科技（北京）有限公司,,,,,,,\n")
    assert labelled(other, Entity.accounts, "name", 2, 3) == "same sound"


def test_a_translated_brand_meets_its_chinese_name_without_other_evidence(make_project):
    result = run_rows(make_project, "上海星云科技有限公司,,,,,,,\nStarCloud Technology,,,,,,,\n")
    assert labelled(result, Entity.accounts, "name across scripts", 2, 3) is not None  # blocked by the calque


def test_an_english_name_that_only_one_chinese_name_reads_like_is_that_company(make_project):
    result = run_rows(
        make_project,
        "\n".join(
            [
                "北京星辰科技有限公司,,,,,,,",  # 2
                '"Beijing Xingchen Technology Co., Ltd.",,,,,,,',  # 3
            ]
        )
        + "\n",
    )
    assert labelled(result, Entity.accounts, "name across scripts", 2, 3) == "same brand, trade and region"
    accounts = result.migration.entities[Entity.accounts].frame
    assert accounts["_record_id"].n_unique() == 1


def test_phones_are_sets_by_kind_and_shared_lines_say_nothing_of_a_person(make_project):
    result = run_rows(
        make_project,
        "\n".join(
            [
                "星辰科技有限公司,,,张伟,0755-26738841,,,",  # 2 a landline typed in the mobile column
                "星辰科技有限公司,,,张伟,,0755-2673 8841,,",  # 3 ... in the phone column elsewhere
                "星辰科技有限公司,,,王芳,13911728045,0755-86000000,,",  # 4 and 5: colleagues sharing the switchboard
                "星辰科技有限公司,,,李强,13911728046,0755-86000000,,",
                "星辰科技有限公司,,,王经理,13911728045,,,",  # 6 a salutation with 王芳's mobile
                "星辰科技有限公司,,,李先生,,,,",  # 7 a salutation and nothing else
            ]
        )
        + "\n",
    )
    assert labelled(result, Entity.contacts, "phone", 2, 3) == "same"
    assert (
        labelled(result, Entity.contacts, "mobile", 2, 3) is None
        or level(result, Entity.contacts, "mobile", 2, 3) == -1
    )
    assert labelled(result, Entity.contacts, "phone", 4, 5) in (None, "shared office line")  # no key pairs them
    assert labelled(result, Entity.contacts, "name", 4, 6) == "surname and salutation"
    contacts = result.migration.entities[Entity.contacts].frame
    outcome = dict(zip(contacts["_row"].to_list(), contacts["_record_id"].to_list(), strict=True))
    assert outcome[4] != outcome[5]  # colleagues stay two people
    assert outcome[4] == outcome[6]  # a salutation with the same mobile is the person
    assert outcome[7] not in (outcome[4], outcome[5])  # a surname alone is never enough


def test_the_golden_record_takes_the_full_chinese_name_and_keeps_the_english_one(make_project):
    result = run_rows(
        make_project,
        "\n".join(
            [
                '"Beijing Xingchen Technology Co., Ltd.",010-62345678,,Zhang Wei,13800001111,,,',
                "北京星辰科技有限公司,010-62345678,,张总,13800001111,,,",
                "星辰科技（北京）有限公司,010-62345678,,张伟,13800001111,,,销售经理",
            ]
        )
        + "\n",
    )
    accounts = import_frame(result.migration.entities[Entity.accounts])
    assert accounts.select("name", "name_en").rows() == [
        ("北京星辰科技有限公司", "Beijing Xingchen Technology Co., Ltd.")
    ]
    contacts = import_frame(result.migration.entities[Entity.contacts])
    assert contacts["name"].to_list() == ["张伟"]  # not Zhang Wei (first in priority), not 张总


def test_a_title_in_the_name_fills_the_title(make_project):
    result = run_rows(make_project, "星辰科技有限公司,,,何然工程师,13512345678,,,\n")
    contacts = import_frame(result.migration.entities[Entity.contacts])
    assert contacts.select("name", "title").rows() == [("何然", "工程师")]


def test_a_cluster_never_holds_two_exclusive_values_however_the_chain_runs():
    # 0 and 2 were never compared; 1 has no value: scored joins 0-1 and 1-2 would chain 0 and 2 together.
    stages = [np.empty((0, 2), np.int64)] * 3 + [np.array([[0, 1], [1, 2]])]
    region = np.array([[0], [NONE], [1]])  # 吉林, none, 昆明
    labels = cluster(3, stages, np.empty((0, 2), np.int64), np.empty((0, 2), np.int64), region)
    assert labels[0] != labels[2] and labels[1] in (labels[0], labels[2])
    without = cluster(3, stages, np.empty((0, 2), np.int64), np.empty((0, 2), np.int64))
    assert len(set(without)) == 1  # the same joins without the attribute: one cluster


def test_evidence_names_the_new_kinds(make_project):
    result = run_rows(
        make_project,
        "\n".join(["北京星辰科技有限公司,,,王芳,13911728045,,,", "Xingchen Tech,,,Wang Fang,13911728045,,,"]) + "\n",
    )
    er = result.migration.entities[Entity.accounts]
    text = evidence(er.matches.pairs.row(0, named=True), er.matches.comparisons)
    assert "name across scripts same brand and trade" in text and "contacts a contact in common" in text


def test_opportunity_levels_read_the_deal_not_its_wording(make_project):
    mapping = """\
file: data/opps.csv
entities:
  accounts:
    columns: {公司: name}
  opportunities:
    columns: {商机: name, 金额: amount, 预计成交: close_date}
"""
    rows = "公司,商机,金额,预计成交\n" + "".join(
        f"星辰科技有限公司,{n},{a},{d}\n"
        for n, a, d in [
            ("2025年度采购", "120000", "2025-06-30"),
            ("【2025年度采购项目】", "12万", "2025-06-30"),  # one deal
            ("2026年度采购", "150000", "2026-06-30"),
            ("服务器扩容", "80000", "2025-09-01"),
        ]
    )
    root = make_project("name: t\nentities: [accounts, opportunities]\n", {"opps": mapping}, {"data/opps.csv": rows})
    result = prepare(load_project(root))
    assert [labelled(result, Entity.opportunities, c, 2, 3) for c in ("name", "amount", "close_date")] == [
        "same",
        "same",
        "same day",
    ]
    assert [labelled(result, Entity.opportunities, c, 2, 4) for c in ("name", "amount", "close_date")] == [
        "similar ≥0.80",
        "different",
        "within a year",
    ]  # next year's renewal
    assert labelled(result, Entity.opportunities, "name", 2, 5) in (None, "different")  # another deal


@pytest.mark.parametrize(
    "first, registered",
    [
        ("星辰科技", "北京星辰科技有限公司"),  # a short name from the source first in priority
        ('"Beijing Xingchen Technology Co., Ltd."', "北京星辰科技有限公司"),  # English
        ("北京星辰科技有线公司", "北京星辰科技有限公司"),  # a misspelt legal form
        ("北京星辰科技有限公司", "北京星辰科技有限公司"),
        ("北京星辰貿易有限公司", "北京星辰贸易有限公司"),  # traditional characters
        ("星辰贸易（北京）", "星辰贸易（北京）有限公司"),  # the region there, the legal form not
    ],
)
def test_the_golden_company_name_is_the_registered_form_any_member_has(make_project, first, registered):
    result = run_rows(
        make_project,
        f"{first},010-62345678,北京市海淀区中关村大街1号,王芳,13812345671,,,\n"
        f"{registered},010-62345678,北京市海淀区中关村大街1号,王芳,13812345671,,,\n",
    )
    written = import_frame(result.migration.entities[Entity.accounts])
    assert written["name"].to_list() == [registered]


def test_each_brand_gets_its_own_calques_as_a_list_and_none_without_english_names():
    """m:calques is built as one flat column of forms grouped back per brand: each brand keeps its own forms
    in calques' order, a brand the glossary cannot translate an empty list, none at all without English."""
    from crm_migrate.migrate.features import _brand_table

    brands = pl.Series(["星云", "世星方", "云帆星", "垚淼", "星云", None])
    table = _brand_table(brands, has_english=True)
    got = dict(zip(table["_brand"].to_list(), table["_calques"].to_list(), strict=True))
    assert got == {b: list(calques(b)) for b in ("星云", "世星方", "云帆星", "垚淼")}
    assert got["垚淼"] == [] and len(got["世星方"]) >= 2  # one without a translation, one with several forms
    assert _brand_table(brands, has_english=False)["_calques"].null_count() == 4


def test_an_english_name_of_a_brand_s_first_characters_is_another_brand_where_the_trade_is_known(make_project):
    # 精盛福软件: the trade (software) is read, so the brand is 精盛福 whole, and "Jingsheng Software" names
    # another company (精盛). Where the trade is one no table knows (刀具), the brand may hold it, and an English
    # name of the brand's first characters with its trade in English is that company.
    result = run_rows(
        make_project,
        "\n".join(
            [
                "南京精盛福软件有限公司,,,,,,,",  # 2
                '"Jingsheng Software (Nanjing) Co., Ltd.",,,,,,,',  # 3 another brand
                '"Jingshengfu Software (Nanjing) Co., Ltd.",,,,,,,',  # 4 the same brand
                "辉雅鹏刀具（北京）股份有限公司,,,,,,,",  # 5
                '"Huiyapeng Tools (Beijing) Co., Ltd.",,,,,,,',  # 6
                "武汉辰青玻璃钢有限公司,,,,,,,",  # 7
                '"Wuhan Chenqing Decoration Engineering Co. Ltd",,,,,,,',  # 8 a trade the rest (玻璃钢) is not
            ]
        )
        + "\n",
    )
    assert labelled(result, Entity.accounts, "name across scripts", 2, 3) in (None, "different", "brand alike")
    assert labelled(result, Entity.accounts, "name across scripts", 2, 4) == "same brand, trade and region"
    assert labelled(result, Entity.accounts, "name across scripts", 5, 6) in (
        "same brand and trade or region",
        "same brand, trade and region",
    )
    records = dict(
        result.migration.entities[Entity.accounts].frame.select(pl.col("_row").cast(pl.Int64), "_record_id").iter_rows()
    )
    assert records[2] != records[3] and records[2] == records[4] and records[5] == records[6]
    assert labelled(result, Entity.accounts, "name across scripts", 7, 8) in (None, "different", "brand alike")
    assert records[7] != records[8]
    # An English name that says no trade may be 辰青玻璃钢.
    alone = run_rows(make_project, '武汉辰青玻璃钢有限公司,,,,,,,\n"Wuhan Chenqing Co. Ltd",,,,,,,\n')
    assert labelled(alone, Entity.accounts, "name across scripts", 2, 3) not in (None, "different")
