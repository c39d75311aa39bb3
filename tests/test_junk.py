"""Junk and real values: the classifier in cleaners/garbage.py measured on a fixture of hand-written rows
(tests/fixtures/junk/values.csv: real-looking junk, and real values that look like junk), then unit tests of
each rule and of the choices the fixture cannot show one by one."""

from __future__ import annotations

import csv
import time
from collections import Counter

import pytest

from crm_migrate.cleaners import CleanContext
from crm_migrate.cleaners.company import clean_company_name
from crm_migrate.cleaners.garbage import (
    garbage_name,
    marked_as_test,
    not_a_contact,
    placeholder_company,
    placeholder_email,
    placeholder_person,
    placeholder_phone,
    service_number,
)
from crm_migrate.cleaners.person import clean_person_name
from tests.conftest import FIXTURES

CTX = CleanContext()
VALUES = FIXTURES / "junk" / "values.csv"
AGREEMENT = 0.98


def _rows() -> list[dict[str, str]]:
    with VALUES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(";") if p.strip()]


def classify(row: dict[str, str]) -> str | None:
    """Why the row's value is junk, or None: each kind as its caller sees it (a company's name cleaned, with its
    match key; a person's cleaned name for garbage_name and the name as typed for the contact rules)."""
    kind, value = row["kind"], row["value"]
    phones, emails = _split(row["phones"]), _split(row["emails"])
    if kind == "company":
        cleaned = clean_company_name(value, CTX)
        return garbage_name(cleaned.value or value, cleaned.key) or placeholder_company(value)
    if kind in ("person", "phone_book"):
        # The person cleaner moves bracketed and trailing words out of the name (王伟（测试） -> 王伟, title 测试),
        # so the name as typed is checked as well as the cleaned one.
        cleaned = clean_person_name(value, CTX).value if value.strip() else None
        return (
            (value.strip() and garbage_name(value))
            or (cleaned and garbage_name(cleaned))
            or placeholder_person(value, emails, phones)
            or not_a_contact(value, phones)
        )
    if kind == "email":
        return placeholder_email(value)
    if kind == "phone":
        return placeholder_phone(value)
    raise AssertionError(f"unknown kind {kind!r}")


def test_fixture_is_large_and_balanced():
    rows = _rows()
    assert len(rows) >= 180
    verdicts = Counter((r["kind"], r["verdict"]) for r in rows)
    for kind in ("company", "person", "phone_book", "email", "phone"):
        assert verdicts[kind, "junk"] >= 5 and verdicts[kind, "real"] >= 5, kind
    assert {r["verdict"] for r in rows} == {"junk", "real"}
    assert all(r["why"] for r in rows)


def test_classifier_agrees_with_the_fixture():
    rows = _rows()
    wrong, per_kind = [], Counter()
    for row in rows:
        reason = classify(row)
        got = "junk" if reason else "real"
        per_kind[row["kind"], got == row["verdict"]] += 1
        if got != row["verdict"]:
            wrong.append(
                f"{row['kind']:<10} {row['value']!r} phones={row['phones']!r} emails={row['emails']!r}: "
                f"expected {row['verdict']} ({row['why']}), got {got} ({reason})"
            )
    agreement = 1 - len(wrong) / len(rows)
    kinds = sorted({k for k, _ in per_kind})
    summary = ", ".join(f"{k} {per_kind[k, True]}/{per_kind[k, True] + per_kind[k, False]}" for k in kinds)
    print(f"\nagreement {agreement:.3f} on {len(rows)} rows ({summary})")
    print("\n".join(wrong))
    assert agreement >= AGREEMENT, "\n".join(wrong)


def test_fast_enough_for_every_distinct_value():
    rows = _rows()
    start = time.perf_counter()
    for _ in range(20):
        for row in rows:
            v, phones, emails = row["value"], _split(row["phones"]), _split(row["emails"])
            garbage_name(v), placeholder_company(v), placeholder_person(v, emails, phones), not_a_contact(v, phones)
    per_value = (time.perf_counter() - start) / (20 * len(rows))
    assert per_value < 200e-6, f"{per_value * 1e6:.0f} µs per value"


# --- garbage_name and its markers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, key, reason",
    [
        ("测试客户", None, "test marker in '测试客户'"),
        ("测试仪器有限公司", "测试仪器", None),
        ("北京测试有限公司", "测试", "test marker in '北京测试有限公司'"),  # the key without region is the marker alone
        ("北京软件测试有限公司", "软件测试", None),
        ("星辰科技有限公司（测试）", "星辰科技有限公司测试", "test marker in '星辰科技有限公司（测试）'"),
        ("某某科技有限公司", "某某科技", "'某某科技有限公司' is a stand-in, not a name"),
        ("A公司", "a", "'A公司' is a stand-in, not a name"),
        ("哈哈哈", None, "'哈哈哈' is not a name"),
        ("金金", None, None),
        ("360", "360", None),  # a company's digits may be its brand
        ("360", None, "'360' is not a name"),  # a person's never are
        ("123456", "123456", "'123456' is not a name"),
    ],
)
def test_garbage_name_reasons(value, key, reason):
    assert garbage_name(value, key) == reason


@pytest.mark.parametrize(
    "value",
    [
        "测试",
        "測試",
        "ｔｅｓｔ",
        "TEST",
        "ce shi",
        "ceshi01",
        "cs01",
        "CS-001",
        "cs客户",
        "test_company",
        "testuser",
        "test-星辰",
        "测试 - 请勿修改",
        "【测试】星辰科技",
        "demo123",
        "演示账号",
        "样本",
        "sample data",
        "新建客户",
        "未命名",
        "请勿删除",
        "lorem ipsum dolor",
        "内部测试",
        "UAT测试",
        "张伟测试01",
        "王伟 test",
    ],
)
def test_test_markers(value):
    assert marked_as_test(value) is not None


@pytest.mark.parametrize(
    "value, key",
    [
        ("测试仪器有限公司", "测试仪器"),
        ("深圳市测试科技有限公司", "测试科技"),
        ("模拟电子", None),
        ("虚拟现实科技有限公司", None),
        ("上海假日酒店管理有限公司", None),
        ("Testin", None),
        ("Testo", None),
        ("Testbird", None),
        ("Sample Tech Ltd", None),
        ("Test Instruments Co., Ltd.", None),
        ("Contest Media", None),
        ("Barco", None),
        ("Tempo Logistics", None),
        ("Newco", None),
        ("New Balance", None),
        ("CS Wind", None),
        ("新建设集团有限公司", None),
        ("Lorena", None),
    ],
)
def test_real_names_that_start_like_markers(value, key):
    assert marked_as_test(value, key) is None


@pytest.mark.parametrize("value", ["金金", "林林", "文文", "明明", "丽丽", "婷婷", "王一", "丁一", "欧阳", "妈妈"])
def test_reduplicated_and_short_names_are_not_mash(value):
    assert garbage_name(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "啊啊",
        "啊啊啊",
        "哈哈",
        "哈哈哈",
        "呵呵",
        "嗯嗯",
        "嘻嘻",
        "111",
        "xxx",
        "XX",
        "aaa",
        "。。。",
        "...",
        "???",
        "---",
        "😊",
        "asdf",
        "qwer",
        "aaa bbb",
        "金金金",
    ],
)
def test_mash_stays_junk(value):
    assert garbage_name(value) is not None


def test_someone_alone_is_left_to_the_contact_rules():
    """某某 as a person's name is a placeholder that a real phone outweighs; as a company it is a stand-in."""
    assert garbage_name("某某") is None
    assert garbage_name("某某", "某某") is not None
    assert garbage_name("某某公司") is not None


# --- one email, one number ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "test@test.com",
        "123@qq.com",
        "123456@qq.com",
        "a@a.com",
        "xxx@xxx.com",
        "test@example.com",
        "ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "test001@qq.com",
        "1111@qq.com",
        "00000@qq.com",
        "noreply@xingchen.cn",
        "13800138000@163.com",
        "无",
        "暂无邮箱",
        "-",
    ],
)
def test_placeholder_emails(value):
    assert placeholder_email(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "zhang.wei@163.com",
        "285746123@qq.com",
        "10001@qq.com",
        "test.lab@sgs.com",
        "info@example-corp.cn",
        "x@xingchen.cn",
        "li.na@mail.com",
        "13912345670@139.com",
        "wu@xingchen.cn",
        "na@xingchen.cn",
        "zhangsan@163.com",
    ],
)
def test_real_emails(value):
    assert placeholder_email(value) is None


def test_placeholder_email_reasons():
    assert placeholder_email("a@a.com") == "placeholder email 'a@a.com'"
    assert placeholder_email(" 无 ") == "no email ('无')"
    assert placeholder_email("") is None


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "8613800138000",
        "0086 13800138000",
        "１３８００１３８０００",
        "13888888888",
        "13900000000",
        "18600000000",
        "10000000000",
        "12345678901",
        "11111111111",
        "00000000",
        "0000-0000",
        "010-12345678",
        "0571-87654321",
        "13812345678",
        "1234",
        "0",
        "13800138000转123",
        "13800138000/13800138000",
        "手机：13800138000",
        "无",
        "暂无电话",
        "N/A",
        "-",
        "空号",
    ],
)
def test_placeholder_phones(value):
    assert placeholder_phone(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "13912345670",
        "13800138001",
        "13911112222",
        "0755-83765432",
        "(0755)83765432",
        "0755-26543210-8001",
        "+852 9123 4567",
        "95555",
        "10086",
        "110",
        "400-820-8820",
        "",
    ],
)
def test_real_phones(value):
    assert placeholder_phone(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "95555",
        "95588",
        "95533",
        "10086",
        "10010",
        "10000",
        "12345",
        "12315",
        "12306",
        "110",
        "114",
        "120",
        "119",
        "122",
        "999",
        "400-820-8820",
        "4006-123-456",
        "800-820-8820",
        "95598",
        "96166",
        "950618",
        "95105105",
        "1069012345678",
        "10657500123",
        "+86 95555",
        "010-12345",
        "0755-12345",
    ],
)
def test_service_numbers(value):
    assert service_number(value) == f"service number {value.strip()}"


@pytest.mark.parametrize("value", ["13912345670", "0755-83765432", "62345678", "13800138000", "1234"])
def test_not_service_numbers(value):
    assert service_number(value) is None


# --- people ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "张三",
        "李四",
        "王五",
        "赵六",
        "某某",
        "某人",
        "测试",
        "无名",
        "匿名",
        "佚名",
        "小明",
        "路人甲",
        "xxx",
        "先生",
        "女士",
        "張三",
        "张 三",
        "张三先生",
        "张某",
        "王某某",
        "李**",
        "王XX",
        "某先生",
        "x先生",
        "John Doe",
        "Zhang San",
        "无",
        "N/A",
        "null",
        "unknown",
    ],
)
def test_placeholder_names_without_contact_data(name):
    assert placeholder_person(name) == f"placeholder name {name!r} and no contact data"


@pytest.mark.parametrize(
    "emails, phones",
    [
        (["test@test.com"], []),
        ([], ["13800138000"]),
        (["a@a.com"], ["13888888888", "00000000"]),
        (["123@qq.com", "无"], ["12345678901"]),
        ([None, ""], [None, " "]),
    ],
)
def test_placeholder_name_with_only_placeholder_contacts(emails, phones):
    assert placeholder_person("张三", emails, phones) is not None


@pytest.mark.parametrize(
    "emails, phones",
    [
        ([], ["13912345670"]),
        (["zhangsan@huawei.com"], []),
        ([], ["0755-83765432"]),
        (["test@test.com"], ["13912345670"]),  # one real-looking contact keeps the person
        ([], ["13800138000", "13912345670"]),
    ],
)
def test_placeholder_name_with_a_real_contact_is_a_person(emails, phones):
    assert placeholder_person("张三", emails, phones) is None


@pytest.mark.parametrize("name", ["张伟", "王先生", "李四海", "张三丰", "王二小", "赵四", "小王", "老李", "王哥", ""])
def test_real_names_are_not_placeholders(name):
    assert placeholder_person(name, (), ()) is None


def test_placeholder_person_reason_lists_the_contacts():
    assert placeholder_person("张三", ["test@test.com"], ["13800138000"]) == (
        "placeholder name '张三' with placeholder contact data ('test@test.com', '13800138000')"
    )


@pytest.mark.parametrize(
    "name",
    [
        "妈妈",
        "老妈",
        "老爸",
        "爸",
        "爸爸",
        "老婆",
        "老公",
        "媳妇",
        "儿子",
        "女儿",
        "哥",
        "姐",
        "弟弟",
        "妹妹",
        "舅舅",
        "二姨",
        "姥姥",
        "奶奶",
        "岳父",
        "宝宝",
        "媽媽",
        "老婆❤️",
        "妈妈家",
        "老公 手机",
        "我老婆",
        "老婆大人",
        "老妈(新)",
        "老婆2",
        "大哥",
        "Mom",
        "My Wife",
        "Home",
    ],
)
def test_family_entries(name):
    assert not_a_contact(name, ["13912345670"]) == f"family entry ({name})"


@pytest.mark.parametrize(
    "name",
    [
        "顺丰快递-小王",
        "快递小哥",
        "中通快递",
        "圆通",
        "申通",
        "京东快递",
        "韵达快递 李师傅",
        "外卖",
        "美团",
        "饿了么",
        "滴滴司机",
        "滴滴出行",
        "物业",
        "房东",
        "链家中介小李",
        "保安",
        "开锁王师傅",
        "搬家",
        "送水",
        "家政",
        "维修",
        "修空调",
        "招商银行客服",
        "移动客服",
        "10086客服",
        "华为售后",
    ],
)
def test_courier_and_service_entries(name):
    assert not_a_contact(name, ["13912345670"]) == f"courier or service entry ({name})"


@pytest.mark.parametrize(
    "name",
    [
        "王哥",
        "李姐",
        "张叔",
        "刘姨",
        "陈阿姨",
        "王爸爸",
        "朵朵妈妈",
        "赵总",
        "王老师",
        "小李",
        "老王",
        "张伟",
        "李娜 客服",
        "客服部 李娜",
        "售后 王工",
        "中通快递 张经理",
        "顺丰 刘总",
        "物业 王主任",
        "美团 王经理",
        "李经理-顺丰",
        "王师傅",
        "哥伦布",
        "Uncle Wang",
        "小姐",
    ],
)
def test_real_contacts_that_look_like_entries(name):
    assert not_a_contact(name, ["13912345670"]) is None


def test_service_numbers_make_a_contact_not_a_person():
    assert not_a_contact("招商银行", ["95555"]) == "service number 95555"
    assert not_a_contact("", ["10086"]) == "service number 10086"
    assert not_a_contact(None, ["110", "120"]) == "service number 110"
    assert not_a_contact("张伟", ["95588"]) == "service number 95588"  # a short number is nobody's own
    assert not_a_contact("海尔", ["400-699-9999"]) == "service number 400-699-9999"
    assert not_a_contact("王伟", ["4008123123"]) is None  # a named person reached through a hotline
    assert not_a_contact("李娜", ["13912345670", "95555"]) is None  # one own number keeps the contact
    assert not_a_contact("李娜", []) is None


def test_nuisance_entries():
    assert not_a_contact("骚扰电话", ["13912345670"]) == "nuisance entry (骚扰电话)"
    assert not_a_contact("推销保险", ["13912345670"]) == "nuisance entry (推销保险)"


def test_contact_rules_need_the_name_as_typed():
    """The person cleaner moves 哥 out of 王哥 (value 王): the cleaned value is still fine, and 妈妈 stays 妈妈."""
    assert clean_person_name("王哥", CTX).value == "王"
    assert not_a_contact(clean_person_name("王哥", CTX).value) is None
    assert not_a_contact(clean_person_name("妈妈", CTX).value) == "family entry (妈妈)"


# --- companies ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "无",
        "暂无",
        "没有",
        "无单位",
        "个人",
        "個人",
        "个体",
        "个体户",
        "私人",
        "自由职业",
        "自由职业者",
        "散户",
        "学生",
        "退休",
        "待业",
        "未知",
        "不详",
        "待定",
        "待补充",
        "空",
        "/",
        "-",
        "--",
        "—",
        ".",
        "N/A",
        "NA",
        "n/a",
        "none",
        "null",
        "NULL",
        "nil",
        "0",
        "?",
        "？",
        "家庭主妇",
        "其他",
        "其它",
        "（无）",
        "#N/A",
        "个人（无公司）",
        "个人/无",
        "无名称",
        "self-employed",
        "个人独资企业",
        "个体工商户",
    ],
)
def test_placeholder_companies(value):
    assert placeholder_company(value) == f"no company ({value.strip()!r})"


@pytest.mark.parametrize(
    "value",
    [
        "张三个人独资企业",
        "李记面馆（个体工商户）",
        "城关区王小二个体工商户",
        "无锡星辰科技有限公司",
        "无印良品",
        "无限极（中国）有限公司",
        "广州个人护理用品有限公司",
        "学生之家教育咨询有限公司",
        "其他科技有限公司",
        "Null Studio",
        "NA Capital",
        "华为技术有限公司",
        None,
        "",
        "  ",
    ],
)
def test_real_companies_are_not_placeholders(value):
    assert placeholder_company(value) is None


def test_fast_on_many_distinct_values():
    """The caller applies the rules once per distinct value: 10,000 distinct names well under a second."""
    names = [f"{s}{g}{n}" for s in "王李张刘陈杨黄赵吴周" for g in "伟芳娜敏静丽强磊军洋" for n in range(100)]
    start = time.perf_counter()
    for name in names:
        garbage_name(name), placeholder_person(name, (), ("13912345670",)), not_a_contact(name, ("13912345670",))
        placeholder_company(name)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "value",
    [
        "测试" + "1" * 200 + "星",
        "某" * 200 + "x",
        "测试" + "一号" * 100 + "星",
        "测试" + "数据勿动" * 20 + "星",
        "星辰" + "测试" * 1000 + "x",
        "哥" * 5000,
    ],
)
def test_no_runaway_backtracking(value):
    """A run of digits, stand-ins or fillers is read one way only: the rules stay fast on long odd values."""
    start = time.perf_counter()
    garbage_name(value, value), placeholder_person(value), not_a_contact(value, [value]), placeholder_company(value)
    placeholder_email(value), placeholder_phone(value)
    assert time.perf_counter() - start < 0.2
