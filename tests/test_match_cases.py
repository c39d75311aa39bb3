"""Hand-made cases of what real exports hold, each with the decision matching must reach on it: renewals of one
deal name against a deal typed in twice, and people with nothing in common in a tiny project."""

from __future__ import annotations

import polars as pl

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

OPPORTUNITIES = """\
file: data/opps.csv
entities:
  accounts:
    columns: {公司: name}
  opportunities:
    columns: {编号: id, 商机: name, 金额: amount, 预计成交: close_date, 创建: created_at}
"""
# An old CRM's opportunity export: each account's deals, some of them renewed every year or quarter under the
# same name, and a few typed in a second time (a new number, the same terms, or the amount rounded and the
# date moved a few days by the salesperson who typed it again).
DEALS = [
    ("北京星辰科技有限公司", "O1", "年度采购", "120000", "2024-06-30", "2024-01-05"),
    ("北京星辰科技有限公司", "O2", "年度采购", "135000", "2025-06-28", "2025-01-08"),  # next year's renewal
    ("北京星辰科技有限公司", "O3", "年度采购", "120000", "2024-06-30", "2024-02-11"),  # O1 typed again
    ("北京星辰科技有限公司", "O4", "服务器扩容", "80000", "2024-09-01", "2024-03-02"),
    ("上海蓝鲸物流有限公司", "O5", "服务续约", "42000", "2024-03-01", "2023-12-01"),
    ("上海蓝鲸物流有限公司", "O6", "服务续约", "42500", "2024-03-05", "2024-01-15"),  # O5 re-entered
    ("上海蓝鲸物流有限公司", "O7", "服务续约", "48000", "2024-06-10", "2024-04-01"),  # next quarter's
    ("上海蓝鲸物流有限公司", "O8", "仓储系统", "260000", "2024-11-20", "2024-05-06"),
    ("广州恒润精密模具有限公司", "O9", "设备采购", "310000", "2024-05-15", "2024-02-01"),
    ("广州恒润精密模具有限公司", "O10", "设备采购", "95000", "2024-08-20", "2024-06-01"),  # another order
    ("广州恒润精密模具有限公司", "O11", "模具维保", "36000", "2024-12-31", "2024-06-20"),
    ("深圳博锐达电子有限公司", "O12", "年度采购", "88000", "2025-01-15", "2024-07-01"),
    ("深圳博锐达电子有限公司", "O13", "年度采购", "91000", "2026-01-20", "2025-07-03"),  # renewal
    ("深圳博锐达电子有限公司", "O14", "年度采购", "88000", "2025-01-15", "2024-07-01"),  # O12 exported twice
]


def deal_clusters(make_project) -> dict[str, int]:
    rows = "公司,编号,商机,金额,预计成交,创建\n" + "".join(",".join(d) + "\n" for d in DEALS)
    root = make_project(
        "name: t\nentities: [accounts, opportunities]\n", {"opps": OPPORTUNITIES}, {"data/opps.csv": rows}
    )
    result = prepare(load_project(root))
    lineage = result.lineage.filter(pl.col("entity") == "opportunities").sort("row")
    return dict(zip([d[1] for d in DEALS], lineage["record_id"].to_list(), strict=True)), result


def test_renewals_stay_apart_and_deals_typed_twice_merge(make_project):
    ids, _ = deal_clusters(make_project)
    assert ids["O1"] == ids["O3"] and ids["O5"] == ids["O6"] and ids["O12"] == ids["O14"]  # one deal each
    # Same name and account, another amount and another quarter's or year's date: a renewal, another order.
    for a, b in [("O1", "O2"), ("O5", "O7"), ("O6", "O7"), ("O9", "O10"), ("O12", "O13"), ("O14", "O13")]:
        assert ids[a] != ids[b], (a, b)
    assert len(set(ids.values())) == len(DEALS) - 3


def test_a_renewal_says_why_it_is_another_deal(make_project):
    _, result = deal_clusters(make_project)
    matches = result.migration.entities[Entity.opportunities].matches
    rows = result.migration.entities[Entity.opportunities].frame  # not in source order once merged
    pairs = matches.pairs.filter(pl.col("level:amount") == 0).filter(pl.col("level:close_date") <= 1)
    assert pairs.height and (pairs["probability"] == 0).all(), rows.height
    assert evidence(pairs.row(0, named=True), matches.comparisons).startswith("another deal: amount and close_date")


SIGNUPS = """\
file: data/signups.csv
entities:
  contacts:
    columns: {姓名: name, 手机: mobile, 邮箱: email, 活动: {field: note}}
"""
# Two events' sign-up sheets, nine people and no companies: 王芳 and 李娜 came to both.
ATTENDEES = """姓名,手机,邮箱,活动
王芳,18620934472,wangfang@163.com,2024春季展会
杨帆,17719835046,,2024春季展会
李娜,13912345678,lina@qq.com,2024春季展会
张伟,13800138000,,2024春季展会
王芳,18620934472,,2024秋季展会
陈静,15012345678,chenjing@126.com,2024秋季展会
刘洋,18912345678,,2024秋季展会
李娜,13912345678,,2024秋季展会
赵磊,13612345678,zhaolei@sina.com,2024秋季展会
"""


def signups(make_project):
    root = make_project("name: t\nentities: [contacts]\n", {"signups": SIGNUPS}, {"data/signups.csv": ATTENDEES})
    result = prepare(load_project(root))
    lineage = result.lineage.filter(pl.col("entity") == "contacts").sort("row")
    return lineage["record_id"].to_list(), result


def test_another_chinese_surname_and_nothing_in_common_never_merges(make_project):
    ids, result = signups(make_project)
    wang, yang, li, wang_again, li_again = ids[0], ids[1], ids[2], ids[4], ids[7]
    assert wang == wang_again and li == li_again  # the same name and mobile
    assert yang != wang  # 杨帆 and 王芳 are alike only in pinyin (fan yang / fang wang)
    assert len(set(ids)) == 7


def test_surnames_in_characters_that_read_differently_need_a_shared_identifier(make_project):
    _, result = signups(make_project)
    matches = result.migration.entities[Entity.contacts].matches
    frame = result.migration.entities[Entity.contacts].frame
    rows = dict(zip(frame["_row"].cast(pl.Int64).to_list(), range(frame.height), strict=True))
    pair = matches.pairs.filter((pl.col("l") == min(rows[2], rows[3])) & (pl.col("r") == max(rows[2], rows[3])))
    assert pair["probability"][0] < 0.95
    assert "name another surname: needs the same mobile" in evidence(pair.row(0, named=True), matches.comparisons)


def test_a_tiny_project_learns_little_from_a_few_pairs(make_project):
    # EM over a few candidate pairs finds some split whatever they hold; what it learns must count for no more
    # than the matches it rests on, so the prior (a match mostly agrees) still shows, and where no pair has
    # two emails to compare the prior is all there is.
    _, result = signups(make_project)
    m = result.migration.entities[Entity.contacts].matches.m
    assert m["mobile"][0] < 0.25 and m["name"][-1] > 0.6, m
    assert m["email"][-1] > 0.9, m


CRM_AND_SIGNUPS = {
    "crm": """\
file: data/crm.csv
entities:
  accounts:
    columns: {客户名称: name, 电话: phone, 地址: address, 最近跟进时间: last_activity_at}
    where:
      - field: last_activity_at
        since: 3y
        reason: "no activity in the last 3 years"
""",
    "signups": """\
file: data/signups.csv
entities:
  accounts:
    columns: {单位: name, 城市: address}
""",
}


def test_a_name_without_region_is_not_given_to_one_company_while_another_city_has_it(make_project):
    # The old CRM holds 泰明瑞电子 in 苏州 (not followed up for years, so not migrated) and in 北京; a sign-up
    # writes only 泰明瑞电子. Which one it means, nothing says: the company left out of scope still exists.
    crm = (
        "客户名称,电话,地址,最近跟进时间\n"
        "苏州泰明瑞电子有限公司,0512-65432101,江苏省苏州市姑苏区人民路100号,2019-03-01\n"
        "北京泰明瑞电子股份有限公司,010-62345678,北京市朝阳区建国路88号,2026-01-10\n"
        + "".join(f"上海第{i}号贸易有限公司,021-5555{i:04d},上海市徐汇区漕溪路{i}号,2026-02-01\n" for i in range(20))
    )
    signups = "单位,城市\n泰明瑞电子,\n北京泰明瑞电子股份有限公司,北京\n"
    root = make_project(
        "name: t\nentities: [accounts]\noptions: {today: 2026-06-30}\n",
        CRM_AND_SIGNUPS,
        {"data/crm.csv": crm, "data/signups.csv": signups},
    )
    result = prepare(load_project(root))
    lineage = result.lineage.filter(pl.col("entity") == "accounts")
    ids = {(r["source"], r["row"]): r["record_id"] for r in lineage.iter_rows(named=True)}
    assert ids[("signups", 3)] == ids[("crm", 3)]  # the registered name, in both
    assert ids[("signups", 2)] != ids[("crm", 3)]  # 泰明瑞电子 alone may be either
    matches = result.migration.entities[Entity.accounts].matches
    text = [evidence(p, matches.comparisons) for p in matches.pairs.iter_rows(named=True)]
    assert any("name same without region" in t for t in text), text


STAFF = """\
file: data/staff.csv
entities:
  accounts:
    columns: {公司: name}
  contacts:
    columns: {姓名: name, 职务: title, 手机: mobile, 座机: phone, 邮箱: email}
"""
# An old CRM's contacts and a salesperson's sheet of the same companies: 华拓电子 has two 王芳 in its sales team,
# who sit together (one desk line) and hold the same title; 启明软件's 李娜 changed her mobile, not her email;
# its 陈刚 appears with two mobiles and one desk line: a new number, or a second 陈刚, which a steward decides.
COLLEAGUES = """公司,姓名,职务,手机,座机,邮箱
深圳市华拓电子有限公司,王芳,销售经理,13823456718,0755-86231190,wangfang@huatuo-e.com
深圳市华拓电子有限公司,王芳,销售经理,13923087412,0755-86231190,wang.fang@huatuo-e.com
深圳市华拓电子有限公司,王芳,销售经理,13823456718,,wangfang@huatuo-e.com
杭州启明软件股份有限公司,李娜,采购主管,13980124471,,lina@qiming-soft.cn
杭州启明软件股份有限公司,李娜,采购主管,18758219064,,lina@qiming-soft.cn
杭州启明软件股份有限公司,陈刚,技术总监,13605710042,0571-86900213,
杭州启明软件股份有限公司,陈刚,技术总监,15158102976,0571-86900213,
"""


def test_two_namesakes_at_one_company_are_two_people_and_a_steward_sees_why(make_project):
    root = make_project("name: t\nentities: [accounts, contacts]\n", {"staff": STAFF}, {"data/staff.csv": COLLEAGUES})
    result = prepare(load_project(root))
    ids = result.lineage.filter(pl.col("entity") == "contacts").sort("row")["record_id"].to_list()
    assert ids[0] == ids[2] and ids[0] != ids[1]  # another mobile and another email: the other 王芳
    assert ids[3] == ids[4]  # a new mobile, the same email: the same 李娜
    assert ids[5] != ids[6]
    contacts = result.migration.entities[Entity.contacts]
    rows = dict(zip(contacts.frame["_row"].cast(pl.Int64).to_list(), range(contacts.frame.height), strict=True))
    for (a, b), says in [
        ((2, 3), "own identifiers differ (mobile and email), none the same"),
        ((7, 8), "own identifiers differ (mobile), none the same"),
    ]:
        first, second = sorted((rows[a], rows[b]))
        pair = contacts.matches.pairs.filter((pl.col("l") == first) & (pl.col("r") == second))
        assert pair.height and pair["probability"][0] < 0.95
        assert says in evidence(pair.row(0, named=True), contacts.matches.comparisons)


SHORT = """\
file: data/accounts.csv
entities:
  accounts:
    columns: {客户名称: name, 电话: phone, 地址: address}
"""


def _short_name_joins(make_project, rows: list[str]) -> tuple[bool, str]:
    """Whether the first two rows are one record, and the evidence of their pair."""
    root = make_project(
        "name: t\nentities: [accounts]\n",
        {"accounts": SHORT},
        {"data/accounts.csv": "客户名称,电话,地址\n" + "\n".join(rows) + "\n"},
    )
    result = prepare(load_project(root))
    ids = result.lineage.filter(pl.col("entity") == "accounts").sort("row")["record_id"]
    accounts = result.migration.entities[Entity.accounts]
    at = dict(zip(accounts.frame["_row"].cast(pl.Int64).to_list(), range(accounts.frame.height), strict=True))
    first, second = sorted((at[2], at[3]))
    pair = accounts.matches.pairs.filter((pl.col("l") == first) & (pl.col("r") == second))
    return ids[0] == ids[1], evidence(pair.row(0, named=True), accounts.matches.comparisons) if pair.height else ""


def test_a_short_name_joins_the_one_company_the_data_gives_its_brand_and_no_other(make_project):
    company = "上海锐宏建筑工程有限公司,021-63218890,上海市黄浦区中山南路100号"
    others = [
        "北京星辰科技有限公司,010-62345678,北京市海淀区中关村大街1号",
        "广州恒润精密模具有限公司,020-38825614,广东省广州市天河区天河北路233号",
    ]
    joined, why = _short_name_joins(make_project, [company, "锐宏集团,,", *others])
    assert joined and "name distinctive short name" in why  # a brand of two characters too
    # The data holds 锐宏 in 成都 as well: a short name that says nowhere is neither company.
    twin = "成都锐宏建筑工程有限公司,028-85541236,四川省成都市武侯区天府大道中段666号"
    joined, why = _short_name_joins(make_project, [company, "锐宏集团,,", twin, *others])
    assert not joined and "short name the data gives several companies" in why


def test_a_short_name_that_says_where_it_is_is_weighed_against_the_brand_there(make_project):
    """西安锐宏 names the 锐宏 of 西安: 锐宏 in another trade in 上海 is not a company it could name, but one in
    another trade in 西安 is, and so is one whose place nobody knows."""
    company = "西安锐宏生物科技有限公司,029-88325614,陕西省西安市雁塔区科技路48号"
    short = "西安锐宏,,"
    elsewhere = "上海锐宏贸易有限公司,021-63218890,上海市黄浦区中山南路100号"
    others = [
        "北京星辰科技有限公司,010-62345678,北京市海淀区中关村大街1号",
        "广州恒润精密模具有限公司,020-38825614,广东省广州市天河区天河北路233号",
    ]
    joined, why = _short_name_joins(make_project, [company, short, elsewhere, *others])
    assert joined and "name distinctive short name" in why
    here = "西安锐宏贸易有限公司,029-85541236,陕西省西安市碑林区南大街12号"
    joined, why = _short_name_joins(make_project, [company, short, elsewhere, here, *others])
    assert not joined and "short name the data gives several companies" in why
    nowhere = "锐宏贸易有限公司,,"
    joined, why = _short_name_joins(make_project, [company, short, elsewhere, nowhere, *others])
    assert not joined and "short name the data gives several companies" in why
