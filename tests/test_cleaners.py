"""Cleaners: table tests of the common real-world forms; issue-by-issue depth grows here."""

from __future__ import annotations

import contextlib

import polars as pl
import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
from crm_migrate.cleaners.codes import id_check_digit, uscc_check_char
from crm_migrate.cleaners.phone import EXCEL_RUINED
from crm_migrate.mappings.entities import FieldType as T

CTX = CleanContext()


@pytest.mark.parametrize(
    "kind, raw, value, reason",
    [
        (T.phone, "139 1234 5678", "+8613912345678", None),
        (T.phone, "+86-139-1234-5678", "+8613912345678", None),
        (T.phone, "１３９１２３４５６７８", "+8613912345678", None),
        (T.phone, "手机：13912345678", "+8613912345678", None),
        (T.phone, "(0755)8888 8888", "+8675588888888", None),
        (T.phone, "010-62345678转8001", "+861062345678", None),
        (T.phone, "010-62345678-8001", "+861062345678", None),
        (T.phone, "75588888888", "+8675588888888", None),
        (T.phone, "852 91234567", "+85291234567", None),
        (T.phone, "400-800-8888", "+864008008888", None),
        (T.phone, "95588", "95588", None),
        (T.phone, "138 0013 8000", "138 0013 8000", "placeholder number"),
        (T.phone, "11111111111", "11111111111", "placeholder number"),
        (T.phone, "12345678901", "12345678901", "placeholder number"),
        (T.phone, "62345678", "62345678", "local number without area code"),
        (T.phone, "123456", "123456", "placeholder number"),
        (T.phone, "call me", "call me", "not a phone number"),
        (T.phone, "1.3912E+10", "1.3912E+10", EXCEL_RUINED),
        (T.phone, "1.39123e10", "1.39123e10", EXCEL_RUINED),
        (T.email, " Zhang.Wei＠QQ.COM ", "zhang.wei@qq.com", None),
        (T.email, "wang@163。com", "wang@163.com", None),
        (T.email, "li@qq.con", "li@qq.com", None),
        (T.email, "zhangwei@", "zhangwei@", "not an email address"),
        (T.date, "2023年3月5日", "2023-03-05", None),
        (T.date, "2023/3/5 14:30", "2023-03-05 14:30:00", None),
        (T.date, "20230305", "2023-03-05", None),
        (T.date, "25/12/2023", "2023-12-25", None),
        (
            T.date,
            "05/03/2023",
            "05/03/2023",
            "day and month order unknown in this column; set date_order (dmy or mdy) in the mapping",
        ),
        (T.date, "12/25/2023", "2023-12-25", None),
        (T.date, "44260", "2021-03-05", None),
        (T.date, "2021.3.5", "2021-03-05", None),
        (T.date, "2023-02-30", "2023-02-30", "no such day"),
        (T.money, "¥12.5万", "125000.00", None),
        (T.money, "1,234.5元", "1234.50", None),
        (T.money, "面议", "面议", "not an amount"),
        (T.money, "3.5亿", "350000000.00", None),
        (T.money, "USD 1,200", "1200.00", None),
        (T.id_card, "1.10101E+17", "1.10101E+17", "ruined by Excel: the last digits were lost and cannot be recovered"),
        (
            T.id_card,
            "110101199003075000",
            "110101199003075000",
            "ruined by Excel: the last digits were lost and cannot be recovered",
        ),
        (T.id_card, "110105491231002", "11010519491231002X", None),
        (T.id_card, "11010519491231002X", "11010519491231002X", None),
        (T.id_card, "110105194913310021", "110105194913310021", "no such birth date"),
        (T.uscc, "A1350100M000100Y4X", "A1350100M000100Y4X", "wrong check character"),
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
    ],
)
def test_cleaners(kind, raw, value, reason):
    cleaned = CLEANERS[kind](raw, CTX)
    assert (cleaned.value, cleaned.reason) == (value, reason)


def test_check_characters_match_published_examples():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert id_check_digit("11010519491231002") == "X"


def test_clean_column_calls_the_cleaner_once_per_distinct_value():
    calls = []

    def cleaner(raw, ctx):
        calls.append(raw)
        return CLEANERS[T.phone](raw, ctx)

    series = pl.Series(["13912345678", None, "13912345678", "010-62345678转8"] * 50)
    result = clean_column(series, cleaner, CTX)
    assert sorted(calls) == ["010-62345678转8", "13912345678"]
    assert result.height == 200 and result["value"][1] is None
    assert result["value"][:4].to_list() == ["+8613912345678", None, "+8613912345678", "+861062345678"]
    assert result["attr:extension"][:4].to_list() == [None, None, None, "8"]


def test_phone_parts():
    c = CLEANERS[T.phone]("010-62345678转8001", CTX)
    assert dict(c.attrs)["extension"] == "8001" and dict(c.attrs)["kind"] == "landline"
    c = CLEANERS[T.phone]("13912345678 / 136 1234 5678", CTX)
    assert c.value == "+8613912345678" and dict(c.attrs)["others"] == "+8613612345678"
    assert "several numbers in one cell" in c.notes
    c = CLEANERS[T.phone]("75588888888", CTX)
    assert "leading zero restored" in c.notes and dict(c.attrs)["kind"] == "landline"
    assert dict(CLEANERS[T.phone]("13912345678", CTX).attrs)["kind"] == "mobile"
    assert dict(CLEANERS[T.phone]("95588", CTX).attrs)["kind"] == "service"


@pytest.mark.parametrize(
    "raw, suggestion",
    [("li@qq.con", "qq.com"), ("wang@163.cm", "163.com"), ("a@gmial.com", "gmail.com"), ("x@company.cn", None)],
)
def test_email_domain_typos_are_fixed_unless_the_project_turns_it_off(raw, suggestion):
    flagged = CLEANERS[T.email](raw, CleanContext(fix_email_typos=False))
    assert flagged.value == raw
    assert any(suggestion in n for n in flagged.notes) if suggestion else not flagged.notes
    fixed = CLEANERS[T.email](raw, CTX)  # fixing is the default: no mail reaches qq.con
    assert fixed.value == (raw.split("@")[0] + "@" + suggestion if suggestion else raw)


@pytest.mark.parametrize(
    "names, key, region",
    [
        (
            [
                "北京星辰科技有限公司",
                "星辰科技（北京）有限公司",
                "星辰科技(北京)有限公司",
                "北京 星辰科技有限责任公司",
                "北京市星辰科技集团有限公司",
            ],
            "星辰科技",
            "北京市",
        ),
        (["深圳市大疆创新科技有限公司", "大疆创新科技（深圳）有限公司"], "大疆创新科技", "深圳市"),
        (["北京银行股份有限公司", "北京银行"], "北京银行", None),  # place-as-brand keeps its place
        (["華為技術有限公司", "华为技术有限公司"], "华为技术", None),
        (["Acme Trading Co., Ltd.", "ACME TRADING LIMITED", "Acme Trading Inc."], "acmetrading", None),
    ],
)
def test_company_keys(names, key, region):
    for name in names:
        c = CLEANERS[T.company_name](name, CTX)
        assert (c.key, dict(c.attrs)["region"]) == (key, region), name


def test_company_branch_stays_apart_and_display_is_tidied():
    parent = CLEANERS[T.company_name]("华为技术有限公司", CTX)
    branch = CLEANERS[T.company_name]("华为技术有限公司深圳分公司", CTX)
    assert branch.key != parent.key and dict(branch.attrs)["branch"] == "深圳分公司"
    assert CLEANERS[T.company_name]("星辰科技 (北京) 有限公司", CTX).value == "星辰科技（北京）有限公司"
    assert CLEANERS[T.company_name]("有限公司", CTX).reason == "no name besides the legal form"


def test_person_pinyin_key_meets_across_scripts_and_orders():
    keys = {
        CLEANERS[T.person_name](n, CTX).key
        for n in ["张伟", "張偉", "Zhang Wei", "ZHANG, Wei", "Wei Zhang", "张 伟", "张伟先生"]
    }
    assert keys == {"wei zhang"}
    assert CLEANERS[T.person_name]("单雄信", CTX).key == "shan xiongxin"
    assert CLEANERS[T.person_name]("曾国藩", CTX).key == "guofan zeng"
    assert CLEANERS[T.person_name]("吕布", CTX).key == CLEANERS[T.person_name]("Lyu Bu", CTX).key


def test_person_titles_kept_apart():
    c = CLEANERS[T.person_name]("王经理", CTX)
    assert (c.value, dict(c.attrs)["title"]) == ("王", "经理")
    c = CLEANERS[T.person_name]("Smith, John", CTX)
    assert (dict(c.attrs)["given"], dict(c.attrs)["family"]) == ("John", "Smith")


@pytest.mark.parametrize(
    "garbled, meant",
    [
        ("北京星辰科技有限公司".encode().decode("latin-1"), "北京星辰科技有限公司"),
        ("张伟".encode().decode("gbk"), "张伟"),
        ("深圳市南山区".encode().decode("gbk"), "深圳市南山区"),
        ("école".encode().decode("cp1252"), "école"),
    ],
)
def test_mojibake_is_repaired(garbled, meant):
    c = CLEANERS[T.text](garbled, CTX)
    assert c.value == meant and "mojibake repaired" in c.notes


def test_the_whole_frame_mojibake_screen_misses_no_repairable_value():
    """`maybe_mojibake` lets the fast paths skip the per-value repair: it may flag a clean value, never pass a
    garbled one."""
    import itertools

    import polars as pl

    from crm_migrate.cleaners.text import maybe_mojibake, repair_mojibake

    words = [
        "北京",
        "星辰",
        "科技",
        "有限公司",
        "深圳市",
        "南山区",
        "张伟",
        "你好",
        "物流",
        "医疗器械",
        "（上海）",
        "A座",
    ]
    texts = ["".join(p) for p in itertools.permutations(words, 3)]
    garbled = []
    for t in texts:
        for codec in ("gbk", "latin-1", "cp1252"):
            with contextlib.suppress(UnicodeDecodeError):
                garbled.append(t.encode().decode(codec))
    values = pl.Series(texts + garbled)
    flagged = dict(zip(values.to_list(), maybe_mojibake(values).to_list(), strict=True))
    repairable = [v for v in values.to_list() if repair_mojibake(v) is not None]
    assert len(repairable) > 500 and all(flagged[v] for v in repairable)
    assert sum(flagged[t] for t in texts) < len(texts) / 10  # and it does screen most clean ones out


@pytest.mark.parametrize("clean", ["北京星辰科技有限公司", "张伟", "René Müller", "你好", "Straße", "（北京）"])
def test_clean_text_is_left_alone(clean):
    assert CLEANERS[T.text](clean, CTX).value == clean and not CLEANERS[T.text](clean, CTX).notes


def test_traditional_to_simplified_in_keys_always_and_values_on_request():
    assert CLEANERS[T.text]("廣東省", CTX).value == "廣東省"
    assert CLEANERS[T.text]("廣東省", CTX).key == "广东省"
    assert CLEANERS[T.text]("廣東省", CleanContext(simplified_output=True)).value == "广东省"


def test_date_order_comes_from_the_column_or_the_mapping():
    from crm_migrate.cleaners.dates import infer_order

    assert infer_order(["05/03/2021", "25/03/2021"]) == "dmy"
    assert infer_order(["05/03/2021", "03/25/2021"]) == "mdy"
    assert infer_order(["05/03/2021", "03/25/2021", "25/03/2021"]) == "mixed"
    assert infer_order(["05/03/2021"]) == "ambiguous"
    assert infer_order(["2021-03-05"]) is None
    assert CLEANERS[T.date]("05/03/2021", CleanContext(date_order="dmy")).value == "2021-03-05"
    assert CLEANERS[T.date]("05/03/2021", CleanContext(date_order="mdy")).value == "2021-05-03"


def test_money_currency():
    assert dict(CLEANERS[T.money]("¥35,000.00", CTX).attrs)["currency"] == "CNY"
    assert dict(CLEANERS[T.money]("HK$ 300", CTX).attrs)["currency"] == "HKD"
    assert dict(CLEANERS[T.money]("120万", CTX).attrs)["currency"] is None


def test_id_numbers_are_matched_by_keyed_hash_and_masked_for_people():
    from crm_migrate.cleaners.codes import mask

    c = CLEANERS[T.id_card]("11010519491231002X", CTX)
    assert c.key != c.value and len(c.key) == 32 and "11010519491231002X" not in c.key
    assert CLEANERS[T.id_card]("11010519491231002X", CleanContext(secret=b"other")).key != c.key
    assert mask("11010519491231002X") == "110105********002X"
    upgraded = CLEANERS[T.id_card]("110105491231002", CTX)
    assert upgraded.key == c.key and "15-digit ID upgraded to 18" in upgraded.notes


def test_an_id_ending_in_000_that_passes_its_check_digit_is_kept_but_not_matched_on():
    # 330108198908019086 shown by Excel as 330108198908019000, whose check digit happens to be right.
    from crm_migrate.cleaners.codes import id_check_digit

    assert id_check_digit("33010819890801900") == "0"
    c = CLEANERS[T.id_card]("330108198908019000", CTX)
    assert c.value == "330108198908019000" and c.reason is None and c.key is None
    assert any("Excel" in n for n in c.notes)


@pytest.mark.parametrize(
    "raw, value, province, city, district, code",
    [
        ("广东深圳南山区科技园", "广东省深圳市南山区科技园", "广东省", "深圳市", "南山区", "440305"),
        ("深圳南山科技园", "广东省深圳市南山区科技园", "广东省", "深圳市", "南山区", "440305"),
        ("廣東省深圳市南山區科技園", "广东省深圳市南山区科技园", "广东省", "深圳市", "南山区", "440305"),
        ("北京朝阳建国路", "北京市朝阳区建国路", "北京市", "北京市", "朝阳区", "110105"),
        ("中国 上海 浦东新区 张江路", "上海市浦东新区张江路", "上海市", "上海市", "浦东新区", "310115"),
        ("辽宁朝阳双塔区", "辽宁省朝阳市双塔区", "辽宁省", "朝阳市", "双塔区", "211302"),
        ("湖北省仙桃市", "湖北省仙桃市", "湖北省", None, "仙桃市", "429004"),
        ("广东省东莞市长安镇", "广东省东莞市长安镇", "广东省", "东莞市", None, "441900"),
    ],
)
def test_addresses(raw, value, province, city, district, code):
    c = CLEANERS[T.address](raw, CTX)
    parts = dict(c.attrs)
    assert (c.value, parts["province"], parts["city"], parts["district"], parts["code"]) == (
        value,
        province,
        city,
        district,
        code,
    )


@pytest.mark.parametrize("raw", ["朝阳区建国路88号", "鼓楼区"])
def test_ambiguous_district_is_left_as_written_and_flagged(raw):
    c = CLEANERS[T.address](raw, CTX)
    assert c.value == raw and "ambiguous district left unresolved" in c.notes
    assert "province" not in dict(c.attrs)


def test_a_street_is_not_a_city():
    c = CLEANERS[T.address]("中山路1号", CTX)
    assert c.value == "中山路1号" and "no division recognised" in c.notes


def test_address_benchmark_sample_meets_the_target():
    from bench.address import score

    result = score(300, 7)
    assert result["all"] >= 0.98, result
    assert min(result[k] for k in "ABCDF") >= 0.97, result


@pytest.mark.parametrize(
    "raw, name, title, company",
    [
        ("王伟（星辰科技）", "王伟", None, "星辰科技"),
        ("星辰科技-王伟", "王伟", None, "星辰科技"),
        ("星辰科技王伟", "王伟", None, "星辰科技"),
        ("华拓精密机械刘建军", "刘建军", None, "华拓精密机械"),
        ("星辰科技有限公司王伟", "王伟", None, "星辰科技有限公司"),
        ("【星辰科技】王伟", "王伟", None, "星辰科技"),
        ("王伟@星辰科技", "王伟", None, "星辰科技"),
        ("北京星辰科技有限公司欧阳靖宇", "欧阳靖宇", None, "北京星辰科技有限公司"),
        ("星辰集团张总", "张", "总", "星辰集团"),
        ("王美燕 华拓模具", "王美燕", None, "华拓模具"),  # the brand and trade beside the person, either way round
        ("润通 赵乐渊", "赵乐渊", None, "润通"),
        ("星辰信息技术 林经理", "林", "经理", "星辰信息技术"),
        ("张伟（采购经理）", "张伟", "采购经理", None),  # a title, not a company
        ("陈晶-经理", "陈晶", "经理", None),
        ("欧阳 靖宇", "欧阳靖宇", None, None),  # a compound surname spaced from the given name: one person
        ("王 伟", "王伟", None, None),
        ("云帆 教育", "云帆教育", None, None),  # no person in it
        ("星辰科技有限公司", "星辰科技有限公司", None, None),  # a company in the name column: not a person to cut out
        ("李贸易", "李贸易", None, None),  # a name that happens to end in a trade word
        ("欧阳靖宇", "欧阳靖宇", None, None),
    ],
)
def test_a_company_written_with_a_persons_name_is_taken_out(raw, name, title, company):
    """The company is kept beside the person, never written as the person's job title."""
    from crm_migrate.cleaners.person import clean_person_name

    attrs = dict(clean_person_name(raw, CleanContext()).attrs or ())
    assert (clean_person_name(raw, CleanContext()).value, attrs.get("title"), attrs.get("company")) == (
        name,
        title,
        company,
    )


@pytest.mark.parametrize(
    "raw, key, branch",
    [
        ("星辰科技有限公司北京分公司", "星辰科技北京分公司", "北京分公司"),
        ("星辰科技有限公司（北京分公司）", "星辰科技北京分公司", "北京分公司"),  # in brackets after the parent
        ("星辰科技（北京）分公司", "星辰科技北京分公司", "北京分公司"),  # its place in brackets before the kind
        ("星辰科技有限公司-北京分公司", "星辰科技北京分公司", "北京分公司"),
        ("星辰科技有限公司驻北京办事处", "星辰科技北京办事处", "北京办事处"),
        ("星辰科技有限公司北京代表处", "星辰科技北京代表处", "北京代表处"),  # a representative office, not a department
        ("星辰保险有限公司苏州支公司", "星辰保险苏州支公司", "苏州支公司"),
        ("星辰教育咨询有限公司浦东分校", "星辰教育咨询浦东分校", "浦东分校"),
        ("星辰科技有限公司采购处", "星辰科技", None),  # a department is the company itself
        ("星辰科技（上海）有限公司", "星辰科技", None),
    ],
)
def test_every_way_of_writing_a_branch_keeps_it_apart_from_its_parent(raw, key, branch):
    from crm_migrate.cleaners.company import company_parts

    parts = company_parts(raw)
    assert (parts.key, parts.branch) == (key, branch)


@pytest.mark.parametrize("raw", ["TEL", "Tel:", "电话", "手机：", "Mobile"])
def test_a_phone_label_without_a_number_is_said_not_lost(raw):
    """A cell holding only the label (a sheet's 电话 typed where the number should be) is not a blank: it is
    kept (in half-width), not valid, with the reason."""
    result = CLEANERS[T.phone](raw, CTX)
    assert result.value and not result.valid and result.reason == "a label without a number"
    assert CLEANERS[T.phone]("  ", CTX).value is None and CLEANERS[T.phone]("  ", CTX).reason is None
