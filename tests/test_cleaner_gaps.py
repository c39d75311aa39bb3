"""Values real exports hold that the cleaners once misread (issue 13, item 6): hand-made cases, raw value ->
cleaned value, reason and notes, one table per kind of value."""

from __future__ import annotations

import unicodedata

import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext
from crm_migrate.mappings.entities import FieldType as T

CTX = CleanContext(secret=b"test")
PLAIN = "written as a plain decimal"
CHINESE = "Chinese numerals read"


def approx(word: str) -> str:
    return f"approximate amount: {word} dropped"


def cleaned(kind: T, raw: str, ctx: CleanContext = CTX):
    c = CLEANERS[kind](raw, ctx)
    return c.value, c.reason, c.notes


# ---- money ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value, notes", [
    ("约50万", "500000.00", (approx("约"), PLAIN)),
    ("大约50万", "500000.00", (approx("大约"), PLAIN)),
    ("约合50万元", "500000.00", (approx("约合"), PLAIN)),
    ("大概30万", "300000.00", (approx("大概"), PLAIN)),
    ("50万左右", "500000.00", (approx("左右"), PLAIN)),
    ("50万上下", "500000.00", (approx("上下"), PLAIN)),
    ("100万以上", "1000000.00", (approx("以上"), PLAIN)),
    ("20万以内", "200000.00", (approx("以内"), PLAIN)),
    ("20万以下", "200000.00", (approx("以下"), PLAIN)),
    ("50多万", "500000.00", (approx("多"), PLAIN)),
    ("5万多", "50000.00", (approx("多"), PLAIN)),
    ("100余万", "1000000.00", (approx("余"), PLAIN)),
    ("5万余元", "50000.00", (approx("余"), PLAIN)),
    ("三十来万", "300000.00", (approx("来"), CHINESE, PLAIN)),
    ("十多万", "100000.00", (approx("多"), CHINESE, PLAIN)),
    ("近50万", "500000.00", (approx("近"), PLAIN)),
    ("将近50万", "500000.00", (approx("将近"), PLAIN)),
    ("超过100万", "1000000.00", (approx("超过"), PLAIN)),
    ("不到10万", "100000.00", (approx("不到"), PLAIN)),
    ("~50万", "500000.00", (approx("~"), PLAIN)),
    ("～50万", "500000.00", (approx("~"), PLAIN)),  # full-width tilde
    ("120万+", "1200000.00", (approx("+"), PLAIN)),
    ("1000+", "1000.00", (approx("+"), PLAIN)),
    ("10万起", "100000.00", (approx("起"), PLAIN)),
    ("预计80万", "800000.00", (approx("预计"), PLAIN)),
    ("约 50 万元左右", "500000.00", (approx("约, 左右"), PLAIN)),
])
def test_money_approximate_amounts_keep_the_number(raw, value, notes):
    assert cleaned(T.money, raw) == (value, None, notes)


@pytest.mark.parametrize("raw, value, currency", [
    ("伍仟玖佰元整", "5900.00", "CNY"),
    ("壹佰贰拾万元整", "1200000.00", "CNY"),
    ("人民币叁拾伍万元整", "350000.00", "CNY"),
    ("壹仟零伍拾元伍角", "1050.50", "CNY"),
    ("贰万元", "20000.00", "CNY"),
    ("贰万元正", "20000.00", "CNY"),
    ("壹拾元零伍分", "10.05", "CNY"),
    ("叁佰元伍角陆分", "300.56", "CNY"),
    ("伍角", "0.50", None),
    ("壹亿贰仟万元整", "120000000.00", "CNY"),
    ("壹万零伍佰元", "10500.00", "CNY"),
    ("拾万元", "100000.00", "CNY"),
    ("陆萬元", "60000.00", "CNY"),  # traditional 萬
    ("一百二十万", "1200000.00", None),
    ("三千五百元", "3500.00", "CNY"),
    ("十二万五千", "125000.00", None),
    ("两万", "20000.00", None),
    ("一千零五十", "1050.00", None),
    ("一千零五", "1005.00", None),  # after 零 a bare digit is ones, not hundreds
    ("壹万零伍元", "10005.00", "CNY"),
    ("一千零十", "1010.00", None),
    ("三千五", "3500.00", None),  # a bare last digit counts in the unit below
    ("一万五", "15000.00", None),
    ("三块五", "3.50", "CNY"),
    ("12万5千", "125000.00", None),
    ("五千美元", "5000.00", "USD"),
])
def test_money_chinese_numerals(raw, value, currency):
    c = CLEANERS[T.money](raw, CTX)
    assert (c.value, c.reason, c.notes, dict(c.attrs)["currency"]) == (value, None, (CHINESE, PLAIN), currency)


@pytest.mark.parametrize("raw", ["三五万", "千百元", "万", "元", "整", "十百", "伍仟伍仟", "一万万", "万一", "元伍",
                                 "壹仟元伍角伍角", "九十九十"])
def test_money_invalid_chinese_numerals_are_not_amounts(raw):
    assert cleaned(T.money, raw) == (raw, "not an amount", ())


@pytest.mark.parametrize("raw, value, currency", [
    ("1200k", "1200000.00", None), ("1.2k", "1200.00", None), ("1.2K", "1200.00", None),
    ("120w", "1200000.00", None), ("120W", "1200000.00", None), ("1.2m", "1200000.00", None),
    ("1.2M", "1200000.00", None), ("12K元", "12000.00", "CNY"), ("1.2 million", "1200000.00", None),
    ("3百万", "3000000.00", None), ("1.2千万", "12000000.00", None), ("100美元", "100.00", "USD"),
    ("5万港元", "50000.00", "HKD"), ("50欧元", "50.00", "EUR"), ("¥12.5万", "125000.00", "CNY"),
    ("5000元整", "5000.00", "CNY"), ("RMB 8,000", "8000.00", "CNY"),
])
def test_money_multipliers_and_currencies(raw, value, currency):
    c = CLEANERS[T.money](raw, CTX)
    assert (c.value, c.reason, c.notes, dict(c.attrs)["currency"]) == (value, None, (PLAIN,), currency)


@pytest.mark.parametrize("raw", ["10-20万", "10~20万", "10～20万", "5万-10万", "5万—10万", "三到五万", "10至20万",
                                 "8-12k", "约10-20万", "100-200元"])
def test_money_ranges_are_not_read_as_one_amount(raw):
    value, reason, notes = cleaned(T.money, raw)
    assert (reason, notes) == ("a range, not an amount", ())


@pytest.mark.parametrize("raw", ["2021-03", "20-10万", "面议", "待定"])
def test_money_what_is_neither_amount_nor_range(raw):
    assert cleaned(T.money, raw)[1] == "not an amount"


# ---- credit codes and ID numbers ------------------------------------------------------------------------------

PLACEHOLDERS = ["0", "00", "000", "无", "暂无", "没有", "不详", "未知", "/", "//", "-", "--", "—", "——", "N/A", "n/a", "NA",
                "n.a.", "null", "NULL", "None", "nil", "空", "待补充", "待定", "个人", "?", "？", "***", ". ",
                "000000000000000000", "111111111111111111", "999999999999999999", "XXXXXXXXXXXXXXXXXX", "xxx",
                "0000 0000 0000 0000 00", "０００００"]


@pytest.mark.parametrize("kind", [T.uscc, T.id_card], ids=lambda k: k.value)
@pytest.mark.parametrize("raw", PLACEHOLDERS)
def test_code_placeholders_are_empty_not_invalid(kind, raw):
    shown = " ".join(unicodedata.normalize("NFKC", raw).split())  # as tidied: half-width, spaces collapsed
    assert cleaned(kind, raw) == (None, None, (f"placeholder '{shown}' read as empty",))


@pytest.mark.parametrize("kind, raw, value, reason", [
    (T.uscc, "91350100M000100Y43", "91350100M000100Y43", None),
    (T.uscc, "9135 0100 M000 100Y 43", "91350100M000100Y43", None),
    (T.uscc, "1", "1", "not an 18-character credit code"),  # one character, not a run: a wrong code
    (T.uscc, "无效代码", "无效代码", "not an 18-character credit code"),
    (T.uscc, "0000000000000000001", "0000000000000000001", "not an 18-character credit code"),
    (T.id_card, "11010519491231002X", "11010519491231002X", None),
    (T.id_card, "110101199003074512", "110101199003074512", "wrong check digit"),
])
def test_codes_that_are_not_placeholders(kind, raw, value, reason):
    assert cleaned(kind, raw)[:2] == (value, reason)
