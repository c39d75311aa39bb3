"""Cleaners: table tests of the common real-world forms; issue-by-issue depth grows here."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
from crm_migrate.cleaners.codes import id_check_digit, uscc_check_char
from crm_migrate.mappings.entities import FieldType as T

CTX = CleanContext()


@pytest.mark.parametrize("kind, raw, value, reason", [
    (T.phone, "138 0013 8000", "+8613800138000", None),
    (T.phone, "+86-138-0013-8000", "+8613800138000", None),
    (T.phone, "１３８００１３８０００", "+8613800138000", None),
    (T.phone, "(0755)8888 8888", "+8675588888888", None),
    (T.phone, "12345", "12345", "not a valid phone number"),
    (T.email, " Zhang.Wei＠QQ.COM ", "zhang.wei@qq.com", None),
    (T.email, "zhangwei@", "zhangwei@", "not an email address"),
    (T.date, "2023年3月5日", "2023-03-05", None),
    (T.date, "2023/3/5 14:30", "2023-03-05 14:30:00", None),
    (T.date, "20230305", "2023-03-05", None),
    (T.date, "25/12/2023", "2023-12-25", None),
    (T.date, "05/03/2023", "05/03/2023", "ambiguous day and month in '05/03/2023'"),
    (T.date, "2023-02-30", "2023-02-30", "no such day"),
    (T.money, "¥12.5万", "125000.00", None),
    (T.money, "1,234.5元", "1234.50", None),
    (T.money, "面议", "面议", "not an amount"),
    (T.company_name, "  北京星辰科技有限公司\u200b ", "北京星辰科技有限公司", None),
    (T.person_name, "张 伟", "张伟", None),
    (T.person_name, "Zhang  Wei", "Zhang Wei", None),
    (T.uscc, "91350100M000100Y43", "91350100M000100Y43", None),
    (T.uscc, "91350100M000100Y44", "91350100M000100Y44", "wrong check character"),
    (T.id_card, "11010519491231002x", "11010519491231002X", None),
    (T.id_card, "110101199003074512", "110101199003074512", "wrong check digit"),
    (T.id_card, "990101199003074514", "990101199003074514", "no such province code"),
    (T.id, " 0012 ", "0012", None),
    (T.text, "a\u3000\u3000b\r\n\r\nc", "a b\nc", None),
])
def test_cleaners(kind, raw, value, reason):
    cleaned = CLEANERS[kind](raw, CTX)
    assert (cleaned.value, cleaned.reason) == (value, reason)


def test_company_key_ignores_legal_form_and_spacing():
    key = lambda s: CLEANERS[T.company_name](s, CTX).key  # noqa: E731
    assert key("北京星辰科技有限公司") == key("北京 星辰科技有限责任公司") == key("北京星辰科技") == "北京星辰科技"
    assert key("Acme Trading Co., Ltd.") == key("ACME TRADING LIMITED") == "acmetrading"


def test_check_characters_match_published_examples():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert id_check_digit("11010519491231002") == "X"


def test_clean_column_calls_the_cleaner_once_per_distinct_value():
    calls = []

    def cleaner(raw, ctx):
        calls.append(raw)
        return CLEANERS[T.phone](raw, ctx)

    series = pl.Series(["13800138000", None, "13800138000", "010-62345678"] * 50)
    result = clean_column(series, cleaner, CTX)
    assert sorted(calls) == ["010-62345678", "13800138000"]
    assert result.height == 200 and result["value"][1] is None
    assert result["value"][:4].to_list() == ["+8613800138000", None, "+8613800138000", "+861062345678"]
