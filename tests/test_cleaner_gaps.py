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


# ---- email ----------------------------------------------------------------------------------------------------

def fixed(typo: str, domain: str) -> str:
    return f"domain typo fixed ({typo} -> {domain})"


@pytest.mark.parametrize("raw, value, notes", [
    ("li@qq.con", "li@qq.com", (fixed("qq.con", "qq.com"),)),
    ("li@qq.comm", "li@qq.com", (fixed("qq.comm", "qq.com"),)),
    ("li@qq.cpm", "li@qq.com", (fixed("qq.cpm", "qq.com"),)),
    ("li@qq.ocm", "li@qq.com", (fixed("qq.ocm", "qq.com"),)),
    ("wang@163.cm", "wang@163.com", (fixed("163.cm", "163.com"),)),
    ("wang@163.co", "wang@163.com", (fixed("163.co", "163.com"),)),
    ("wang@126.con", "wang@126.com", (fixed("126.con", "126.com"),)),
    ("zhao@sina.con", "zhao@sina.com", (fixed("sina.con", "sina.com"),)),  # not sina.cn, also one edit away
    ("a@gmial.com", "a@gmail.com", (fixed("gmial.com", "gmail.com"),)),
    ("a@gmai.com", "a@gmail.com", (fixed("gmai.com", "gmail.com"),)),
    ("a@gamil.com", "a@gmail.com", (fixed("gamil.com", "gmail.com"),)),
    ("b@hotmial.com", "b@hotmail.com", (fixed("hotmial.com", "hotmail.com"),)),
    ("b@hotmial.con", "b@hotmail.com", (fixed("hotmial.con", "hotmail.com"),)),
    ("c@foxmial.com", "c@foxmail.com", (fixed("foxmial.com", "foxmail.com"),)),
    ("c@outlok.com", "c@outlook.com", (fixed("outlok.com", "outlook.com"),)),
    ("c@vip.qq.con", "c@vip.qq.com", (fixed("vip.qq.con", "vip.qq.com"),)),
    ("d@qqcom", "d@qq.com", (fixed("qqcom", "qq.com"),)),
    ("Li@QQ.CON", "li@qq.com", ("case folded", fixed("qq.con", "qq.com"))),
    ("wang@126,com", "wang@126.com", ("punctuation repaired",)),
    ("wang@126，com", "wang@126.com", ("full-width or spaces repaired", "punctuation repaired")),
    ("wang@qq。com", "wang@qq.com", ("full-width or spaces repaired",)),
    ("wang@@qq.com", "wang@qq.com", ("punctuation repaired",)),
    ("wang@qq.com.", "wang@qq.com", ("punctuation repaired",)),
    ("wang@qq..com", "wang@qq.com", ("punctuation repaired",)),
    ("<wang@qq.com>", "wang@qq.com", ("punctuation repaired",)),
    ("wang wei@qq.com", "wangwei@qq.com", ("full-width or spaces repaired",)),
    ("wang@qq .com", "wang@qq.com", ("full-width or spaces repaired",)),
    ("wang@qq,con", "wang@qq.com", ("punctuation repaired", fixed("qq.con", "qq.com"))),
])
def test_email_repairs_and_typo_fixes(raw, value, notes):
    assert cleaned(T.email, raw) == (value, None, notes)


@pytest.mark.parametrize("raw", ["d@qq.cn", "e@188.com", "e@189.cn", "f@vip.126.com", "g@mail.com", "g@email.com",
                                 "g@ymail.com", "h@163.net", "h@sina.com.cn", "i@live.cn", "j@company.cn",
                                 "k@yahoo.com.cn", "l@sina.cn", "m@21cn.com"])
def test_email_real_domains_are_left_alone(raw):
    assert cleaned(T.email, raw) == (raw, None, ())


@pytest.mark.parametrize("raw, suggestion", [("a@136.com", "163.com"), ("a@sian.com", "sina.com"),
                                             ("a@126.cn", "126.com")])
def test_email_domains_merely_near_a_common_one_are_flagged_not_fixed(raw, suggestion):
    c = CLEANERS[T.email](raw, CTX)
    assert (c.value, c.reason, c.notes) == (raw, None, (f"possible domain typo: did you mean {suggestion}?",))
    assert dict(c.attrs)["suggestion"] == raw.split("@")[0] + "@" + suggestion


@pytest.mark.parametrize("raw, value, notes", [
    ("li@qq.con", "li@qq.con", ("possible domain typo: did you mean qq.com?",)),
    ("a@gmial.com", "a@gmial.com", ("possible domain typo: did you mean gmail.com?",)),
    ("wang@126,com", "wang@126.com", ("punctuation repaired",)),  # a repair, not a typo fix: always made
])
def test_email_typo_fix_can_be_turned_off(raw, value, notes):
    assert cleaned(T.email, raw, CleanContext(secret=b"test", fix_email_typos=False)) == (value, None, notes)


def test_email_typo_fix_is_the_default_of_the_project_option_too():
    from crm_migrate.mappings.models import Options

    assert Options().fix_email_typos is True and CleanContext().fix_email_typos is True
    assert Options(fix_email_typos=False).fix_email_typos is False


@pytest.mark.parametrize("raw", ["zhangwei@", "@qq.com", "zhang@@", "zhang@qq", "张伟"])
def test_email_still_invalid(raw):
    assert cleaned(T.email, raw)[1] == "not an email address"


# ---- dates without a year -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, month_day", [
    ("5月6日", "05-06"), ("5月6号", "05-06"), ("05月06日", "05-06"), ("5月6", "05-06"), ("5 月 6 日", "05-06"),
    ("５月６日", "05-06"), ("12月31日", "12-31"), ("2月29日", "02-29"), ("5/6", "05-06"), ("05/06", "05-06"),
    ("05-06", "05-06"), ("5-6", "05-06"), ("5.6", "05-06"), ("12.31", "12-31"), ("25/12", "12-25"),
    ("31.12", "12-31"),
])
def test_dates_without_a_year_keep_month_and_day(raw, month_day):
    c = CLEANERS[T.date](raw, CTX)
    text = unicodedata.normalize("NFKC", raw)
    assert (c.value, c.key, c.reason, c.notes, c.attrs) == (text, None, "date without a year", (),
                                                            (("month_day", month_day),))


def test_a_day_first_column_reads_a_date_without_a_year_day_first():
    c = CLEANERS[T.date]("5/6", CleanContext(date_order="dmy"))
    assert (c.reason, dict(c.attrs)["month_day"]) == ("date without a year", "06-05")
    assert CLEANERS[T.date]("25/12", CleanContext(date_order="mdy")).reason == "not a date"  # no month 25


@pytest.mark.parametrize("raw, value, reason", [
    ("2/30", "2/30", "no such day"), ("4月31日", "4月31日", "no such day"),
    ("13/13", "13/13", "not a date"), ("0/5", "0/5", "not a date"), ("5/0", "5/0", "not a date"),
    ("2021", "2021", "not a date"), ("2021.3", "2021.3", "not a date"), ("3/2021", "3/2021", "not a date"),
    ("20210305", "2021-03-05", None), ("44260", "2021-03-05", None), ("2021-03-05", "2021-03-05", None),
    ("2021年3月5日", "2021-03-05", None), ("5/6/2021", "2021-05-06", None),
])
def test_other_dates_are_read_as_before(raw, value, reason):
    c = CLEANERS[T.date](raw, CleanContext(date_order="mdy"))
    assert (c.value, c.reason) == (value, reason) and "month_day" not in dict(c.attrs)
