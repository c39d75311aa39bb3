"""Junk rows in a run: "no company" is no account (its person stays), placeholder people and test records are
rejected, family and service entries are not contacts; and the fast pass over plain names never skips a value
the rules would object to."""

from __future__ import annotations

import csv
import itertools

import polars as pl

from crm_migrate.cleaners.garbage import garbage_name, not_a_contact, placeholder_person, plain_person, plain_text
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.output_frames import import_frame
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project
from tests.conftest import FIXTURES

SIGNUPS = """\
file: data/signups.csv
entities:
  accounts:
    columns: {单位: name}
  contacts:
    columns: {姓名: name, 手机: mobile, 邮箱: email}
"""


def _lineage(result, entity: Entity) -> dict[int, tuple[str | None, str | None, str | None]]:
    f = result.migration.entities[entity].frame
    return {r: (o, why, rule) for r, o, why, rule in f.select("_row", "_outcome", "_reason", "_rule").iter_rows()}


def test_no_company_is_no_account_and_its_person_stays(make_project):
    rows = [
        "姓名,单位,手机,邮箱",
        "张伟,无,13912345670,",
        "李娜,个人,13587264311,",
        "王芳,自由职业,18620934472,",
        "刘洋,N/A,15057812093,",
        "陈静,/,13388164520,",
        "杨晓东,個體戶,17719835046,",
        "赵磊,暂无,15928340617,",
        "黄敏,星辰科技有限公司,13679402851,",
        "周杰,张三个人独资企业,18840271639,",
    ]
    root = make_project("name: t\n", {"signups": SIGNUPS}, {"data/signups.csv": "\n".join(rows) + "\n"})
    result = prepare(load_project(root))
    accounts, contacts = _lineage(result, Entity.accounts), _lineage(result, Entity.contacts)
    for row in range(2, 9):
        outcome, reason, rule = accounts[row]
        assert (outcome, rule) == ("filtered", "no company"), (row, reason)
        assert reason.startswith("not an account: no company (")
    assert accounts[9][0] == accounts[10][0] == "written"  # a registered sole proprietorship is a company
    written = import_frame(result.migration.entities[Entity.contacts])
    assert all(contacts[r][0] == "written" for r in range(2, 11))
    alone = written.filter(pl.col("name").is_in(["张伟", "李娜", "王芳", "刘洋", "陈静", "杨晓东", "赵磊"]))
    assert alone.height == 7 and alone["account_external_id"].is_null().all()
    assert written.filter(pl.col("name") == "黄敏")["account_external_id"].is_not_null().all()


def test_a_child_of_a_no_company_account_keeps_no_account(make_project):
    accounts = "file: data/accounts.csv\nsystem: crm\nentities:\n  accounts:\n    columns: {编号: id, 名称: name}\n"
    contacts = (
        "file: data/contacts.csv\nsystem: crm\nentities:\n  contacts:\n"
        "    columns: {编号: id, 客户: account_id, 姓名: name, 手机: mobile}\n"
    )
    root = make_project(
        "name: t\n",
        {"accounts": accounts, "contacts": contacts},
        {
            "data/accounts.csv": "编号,名称\nA1,个人客户\nA2,北京星辰科技有限公司\n",
            "data/contacts.csv": "编号,客户,姓名,手机\nL1,A1,张伟,13912345670\nL2,A2,李娜,13912345671\nL3,A7,王芳,13912345672\n",
        },
    )
    result = prepare(load_project(root))
    assert _lineage(result, Entity.accounts)[2][2] == "no company"
    contacts_ = _lineage(result, Entity.contacts)
    assert contacts_[2][0] == "written" and contacts_[3][0] == "written"
    assert contacts_[4][:2] == ("rejected", "no account with id A7 in crm")  # a missing id is still missing
    frame = import_frame(result.migration.entities[Entity.contacts])
    assert frame.filter(pl.col("legacy_id") == "L1")["account_external_id"].to_list() == [None]


def test_placeholder_people_family_and_service_entries(make_project):
    rows = [
        "姓名,单位,手机,邮箱",
        "张三,,13800138000,test@test.com",  # the textbook name with the textbook number: a test record
        "张三,,13912345670,",  # a real 张三 with a real mobile
        "某某,,,",  # nobody
        "妈妈,,13912345671,",  # family
        "顺丰快递-小王,,13912345672,",  # a courier
        "招商银行,,95555,",  # a hotline saved in a phone book
        "王哥,,13912345673,",  # how a salesperson saves a customer
        "金金,,13912345674,",  # a real reduplicated name
        "ceshi01,,13912345675,",  # a pinyin test marker
        "李娜,,10086,",
    ]  # a person whose only number is a carrier's: not a contact to migrate
    root = make_project("name: t\n", {"signups": SIGNUPS}, {"data/signups.csv": "\n".join(rows) + "\n"})
    contacts = _lineage(prepare(load_project(root)), Entity.contacts)
    assert contacts[2][0] == "rejected" and contacts[2][1].startswith("test record: placeholder name '张三'")
    assert contacts[3][0] == "written"
    assert contacts[4][0] == "rejected" and "'某某'" in contacts[4][1]
    assert contacts[5][:1] == ("filtered",) and contacts[5][1] == "not a contact: family entry (妈妈)"
    assert contacts[6][0] == "filtered" and contacts[6][1].startswith("not a contact: courier or service entry")
    assert contacts[7][0] == "filtered" and contacts[7][2] == "not a contact"
    assert contacts[8][0] == contacts[9][0] == "written"
    assert contacts[10][0] == "rejected" and contacts[10][2] == "test record"
    assert contacts[11][:2] == ("filtered", "not a contact: service number 10086")


def test_test_records_option_keeps_them(make_project):
    rows = ["姓名,单位,手机,邮箱", "张三,,13800138000,test@test.com", "妈妈,,13912345671,"]
    root = make_project(
        "name: t\noptions: {test_records: keep}\n", {"signups": SIGNUPS}, {"data/signups.csv": "\n".join(rows) + "\n"}
    )
    contacts = _lineage(prepare(load_project(root)), Entity.contacts)
    assert contacts[2][0] == "written"  # the project said keep test records
    assert contacts[3][0] == "filtered"  # a family entry is not a test record: still no contact


def _names() -> list[str]:
    """Real and junk person names: the fixture's, and every surname with common and junk-looking given names."""
    with (FIXTURES / "junk" / "values.csv").open(encoding="utf-8", newline="") as f:
        fixture = [r["value"] for r in csv.DictReader(f) if r["kind"] in ("person", "phone_book")]
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗金欧阳"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华某三四五六哥姐总工妈爸子女快递客服先生女士小老"
    combos = ["".join(p) for p in itertools.product(surnames, given)]
    combos += ["".join(p) for p in itertools.product(surnames[:8], given[:20], given[:20])]
    return fixture + combos


def test_the_fast_pass_only_skips_names_no_rule_objects_to():
    names = pl.DataFrame({"n": _names()})
    plain = names.filter(plain_person(pl.col("n")))["n"].to_list()
    assert len(plain) > 3000  # the pass does skip most ordinary names (黄平 too: 平 is in 平台, not alone)
    objected = [n for n in plain if garbage_name(n) or not_a_contact(n) or placeholder_person(n, phones=["1"])]
    assert objected == []
    assert "王伟" in plain and not {"张三", "王哥", "妈妈", "孙子", "张某", "張偉"} & set(plain)
    words = pl.DataFrame({"n": ["王快递", "李客服", "陈物业", "黄平"]})  # a rule's word, none of its characters
    assert words.filter(plain_person(pl.col("n")))["n"].to_list() == ["黄平"]


def test_the_fast_pass_over_deal_names_only_skips_what_no_rule_objects_to():
    with (FIXTURES / "junk" / "values.csv").open(encoding="utf-8", newline="") as f:
        fixture = [r["value"] for r in csv.DictReader(f)]
    parts = [
        "星辰",
        "年度",
        "采购",
        "测试",
        "样本",
        "演示",
        "假",
        "服务",
        "续约",
        "啊",
        "哈",
        "金",
        "系统",
        "升级",
        "临时",
        "一",
        "客户",
        "数据",
        "勿删",
        "新建",
    ]
    names = pl.DataFrame({"n": fixture + ["".join(p) for p in itertools.product(parts, parts, parts)]})
    plain = names.filter(plain_text(pl.col("n")))["n"].to_list()
    assert len(plain) > 1000 and "星辰年度采购" in plain
    assert [n for n in plain if garbage_name(n)] == []


ACTIVITIES = """\
file: data/2025年拜访记录.csv
entities:
  activities:
    columns: {客户: account_id, 内容: content, 拜访日期: occurred_at, 录入时间: {field: logged_at, type: date}}
"""


def test_a_date_without_its_year_takes_the_rows_other_date_or_the_files_period(make_project, monkeypatch):
    csv_text = (
        "客户,内容,拜访日期,录入时间\nA1,拜访,5月6日,2024-05-07\nA1,电话,12月30日,\nA1,微信,2月29日,\n"
        "A1,会议,2023-03-01,\nA1,拜访,1月26日 18:30,2024-01-27\n"
    )
    root = make_project("name: t\n", {"visits": ACTIVITIES}, {"data/2025年拜访记录.csv": csv_text})
    import crm_migrate.migrate.pipeline as pipeline

    matched = {}  # the frame as matching gets it: the match keys are dropped after
    real = pipeline.resolve
    monkeypatch.setattr(
        pipeline,
        "resolve",
        lambda frame, entity, *a, **k: (matched.setdefault(entity, frame), real(frame, entity, *a, **k))[1],
    )
    frame = prepare(load_project(root)).migration.entities[Entity.activities].frame
    rows = {r["_row"]: r for r in frame.iter_rows(named=True)}
    keys = dict(matched[Entity.activities].select("_row", "k:occurred_at").iter_rows())
    assert rows[2]["v:occurred_at"] == "2024-05-06"
    assert "year 2024 taken from the row's logged_at" in rows[2]["n:occurred_at"]
    assert rows[3]["v:occurred_at"] == "2025-12-30" and "the file's name" in rows[3]["n:occurred_at"]
    assert rows[4]["r:occurred_at"] == "date without a year"  # 2025 had no 29 February: still invalid
    assert rows[5]["v:occurred_at"] == "2023-03-01"
    assert (rows[6]["v:occurred_at"], keys[6]) == ("2024-01-26 18:30:00", "2024-01-26")
    assert "k:occurred_at" not in frame.columns  # what later stages hold has no match keys


def test_the_fast_pass_over_companies_only_skips_names_no_rule_objects_to():
    from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
    from crm_migrate.mappings.entities import FieldType
    from crm_migrate.migrate.junk import _plain_company

    with (FIXTURES / "junk" / "values.csv").open(encoding="utf-8", newline="") as f:
        fixture = [r["value"] for r in csv.DictReader(f) if r["kind"] == "company"]
    brands, trades = (
        "星辰云帆华创演示样本测试某某啊啊客户数据金桥",
        ["科技", "信息技术", "贸易", "数据服务", "客户", ""],
    )
    legal = ["有限公司", "股份有限公司", "集团", ""]
    made = ["北京" + a + b + t + lf for a, b in zip(brands, brands[1:]) for t in trades for lf in legal]
    names = pl.Series("name", fixture + made)
    cleaned = clean_column(names, CLEANERS[FieldType.company_name], CleanContext())
    frame = pl.DataFrame({"v": cleaned["value"], "k": cleaned["key"]}).drop_nulls("v").unique()
    plain = frame.filter(_plain_company("v", "k"))
    assert plain.height > 100
    objected = [(v, k) for v, k in plain.iter_rows() if garbage_name(v, k)]
    assert objected == []
    assert not plain.filter(pl.col("v").str.contains("测试|某某|演示样本")).height


def test_the_fast_pass_over_no_company_values_only_skips_companies():
    from crm_migrate.cleaners.garbage import placeholder_company, real_company_pattern

    with (FIXTURES / "junk" / "values.csv").open(encoding="utf-8", newline="") as f:
        fixture = [r["value"] for r in csv.DictReader(f) if r["kind"] == "company"]
    values = pl.Series(
        "v",
        fixture
        + [
            "无",
            "个人",
            "個體戶",
            "自由职业者",
            "暂无单位",
            "个人（无公司）",
            "北京星辰科技有限公司",
            "张三个人独资企业",
            "无锡星辰科技",
            "其他",
        ],
    )
    skipped = values.filter(values.str.contains(real_company_pattern())).to_list()
    assert "北京星辰科技有限公司" in skipped and "无锡星辰科技" in skipped
    assert [v for v in skipped if placeholder_company(v)] == []
    assert [v for v in values if placeholder_company(v)]  # the fixture does hold placeholders
