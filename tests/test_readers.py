"""Readers against fixture files of every kind: values exactly as the file holds them, rows as Excel numbers them."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from crm_migrate.errors import SourceError
from crm_migrate.migrate.readers.table import column_letter, find_header
from crm_migrate.migrate.readers.text import detect_encoding, read_csv, sniff_delimiter
from crm_migrate.migrate.readers.vcard import read_vcard
from crm_migrate.migrate.readers.workbook import cell_text, read_workbook

from .conftest import FIXTURES


def rows(table) -> list[dict]:
    return table.frame.to_dicts()


def test_gbk_csv_is_detected_and_decoded_as_gb18030_with_excel_row_numbers():
    t = read_csv(FIXTURES / "accounts_gbk.csv", "accounts_gbk.csv")
    assert t.encoding == "gb18030"
    assert t.header_rows == {"": 2}  # below the title row
    assert t.blank_rows == 1
    got = rows(t)
    assert [r["_row"] for r in got] == [3, 5, 6]  # the blank line 4 still counts, as in Excel
    assert got[0]["客户名称"] == "北京星辰科技有限公司"
    assert got[1]["客户名称"] == "上海云帆贸易有限公司, 浦东分公司"  # quoted comma stays in the value
    assert got[2]["客户名称"] == "刘䶮餐饮管理有限公司"  # a character GBK lacks survives
    assert got[2]["电话"] == "0123456"  # leading zero kept
    assert got[2]["成立日期"] is None


def test_bom_csv_keeps_leading_zeros_and_multiline_values():
    t = read_csv(FIXTURES / "contacts_bom.csv", "contacts_bom.csv")
    assert t.encoding == "utf-8-sig"
    assert t.delimiter == ";"
    got = rows(t)
    assert list(got[0])[2:] == ["姓名", "手机", "邮编", "备注"]  # the BOM is not part of the first header
    assert got[0]["邮编"] == "010020" and got[1]["邮编"] == "000123"
    assert got[0]["备注"] == "第一行\r\n第二行"
    assert [r["_row"] for r in got] == [2, 3]  # a quoted line break does not start a new Excel row


def test_utf16_unicode_text_is_read_with_tabs():
    t = read_csv(FIXTURES / "activities_utf16.txt", "activities_utf16.txt")
    assert t.encoding == "utf-16" and t.delimiter == "\t"
    assert rows(t)[0] == {"_sheet": None, "_row": 2, "记录编号": "R1", "客户编号": "C001", "跟进内容": "电话沟通，报价"}


@pytest.mark.parametrize(
    "encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16")]
)
def test_detect_encoding(encoding, expected):
    text = "客户名称,电话\n北京星辰科技有限公司,010-62345678\n张伟,13800138000\n"
    assert detect_encoding(text.encode(encoding)) == expected


def test_utf16_without_bom_is_recognised_by_its_zero_bytes():
    assert detect_encoding("名称\tphone\nabc\t123\n".encode("utf-16-le")) == "utf-16-le"


def test_explicit_wrong_encoding_names_the_line(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_bytes("a,b\n1,2\n张,3\n".encode("gb18030"))
    with pytest.raises(SourceError) as exc:
        read_csv(f, "x.csv", encoding="utf-8")
    problem = exc.value.problems[0]
    assert problem.line == 3 and "utf-8" in problem.message and "gb18030" in problem.hint


def test_unknown_encoding_name_is_an_error(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="unknown encoding"):
        read_csv(f, "x.csv", encoding="klingon")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('name,note\n"x; y; z",1\n', ","),
    ],
)
def test_sniff_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


def test_header_found_by_mapped_column_names_even_below_a_wide_title():
    table = [["客户清单", "", "", ""], ["导出人", "张三", "日期", "2026-01-01"], ["客户名称", "电话", "地址", ""]]
    assert find_header(table, {"客户名称", "电话"}) == 2
    assert find_header([["一个标题"], ["a", "b", "c"], ["1", "2", "3"]], set()) == 1


def test_header_row_can_be_set(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("title\nx,y\na,b\n1,2\n", encoding="utf-8")
    t = read_csv(f, "x.csv", header_row=3)
    assert t.columns == ["a", "b"] and rows(t)[0]["_row"] == 4


def test_repeated_and_blank_headers_are_named_and_reported(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("电话,电话,,名称\n1,2,3,4\n", encoding="utf-8")
    t = read_csv(f, "x.csv")
    assert t.columns == ["电话", "电话.2", "(C)", "名称"]
    assert any("repeats the header" in w.message for w in t.warnings)


def test_values_beyond_the_header_are_reported(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2,3\n", encoding="utf-8")
    t = read_csv(f, "x.csv")
    assert t.warnings and t.warnings[0].line == 2 and t.warnings[0].column == "C"


def test_workbook_title_rows_numeric_cells_and_sheets():
    t = read_workbook(FIXTURES / "sales.xlsx", "sales.xlsx")
    assert t.sheets == ["张三", "李四"] and t.empty_sheets == ["空白"]
    assert t.header_rows == {"张三": 3, "李四": 1}
    got = rows(t)
    first = got[0]
    assert (first["_sheet"], first["_row"]) == ("张三", 4)
    assert first["手机"] == "13800138000"  # a number cell, without ".0" and without exponent
    assert first["电话"] == "75588888888"  # the file itself lost the zero; the phone cleaner repairs it
    # As Excel shows it: 15 significant digits, then zeros (the digits beyond were never stored).
    assert (
        len(first["身份证"]) == 18 and first["身份证"].startswith("11010119900307") and first["身份证"].endswith("000")
    )
    assert got[1]["_row"] == 6 and got[1]["身份证"] == "11010519491231002X"
    # The second sheet's columns are in another order: values land under their own header.
    assert got[2] == {
        "_sheet": "李四",
        "_row": 2,
        "公司名称": "杭州云栖科技有限公司",
        "联系人": "赵敏",
        "手机": "13600136000",
        "电话": None,
        "身份证": None,
    }
    lost = [w for w in t.warnings if "15 significant digits" in w.message]
    assert len(lost) == 1 and (lost[0].line, lost[0].sheet, lost[0].column) == (4, "张三", "E")


def test_workbook_chosen_sheets_and_unknown_sheet():
    t = read_workbook(FIXTURES / "sales.xlsx", "sales.xlsx", sheets=["李四"])
    assert t.sheets == ["李四"] and t.frame.height == 1
    with pytest.raises(SourceError) as exc:
        read_workbook(FIXTURES / "sales.xlsx", "sales.xlsx", sheets=["张3"])
    assert "张三" in exc.value.problems[0].hint


def test_header_only_reads_headers_without_rows():
    t = read_workbook(FIXTURES / "sales.xlsx", "sales.xlsx", header_only=True)
    assert t.frame.height == 0 and t.headers["张三"] == ["公司名称", "联系人", "手机", "电话", "身份证"]


def test_legacy_xls():
    t = read_workbook(FIXTURES / "legacy.xls", "legacy.xls")
    assert rows(t) == [{"_sheet": "客户", "_row": 3, "客户名称": "广州恒通物流有限公司", "手机": "13712345678"}]


def test_damaged_workbook_is_an_error_not_a_traceback(tmp_path: Path):
    f = tmp_path / "broken.xlsx"
    f.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceError, match="not a readable .xlsx workbook: the file is damaged"):
        read_workbook(f, "broken.xlsx")


@pytest.mark.parametrize(
    "value, text",
    [
        (13800138000.0, "13800138000"),
        (3.25, "3.25"),
        (0.1 + 0.2, "0.3"),
        (True, "TRUE"),
        ("0123", "0123"),
        (None, ""),
        (float(110101199003074514), "110101199003075000"),
        (1.10101e17, "110101000000000000"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_vcard_versions_folding_and_quoted_printable():
    t = read_vcard(FIXTURES / "contacts.vcf", "contacts.vcf")
    first, second = rows(t)
    assert first["_row"] == 1 and second["_row"] == 14  # the line each card begins on
    assert first["FN"] == "张伟" and first["ORG"] == "北京星辰科技有限公司" and first["ORG.unit"] == "销售部"
    assert first["TEL.cell"] == "138 0013 8000; 13900139000" and first["TEL.work"] == "010-62345678"
    assert first["NOTE"] == "第一行\n第二行，很长的备注会被折行"
    assert second["FN"] == "李娜" and second["N.family"] == "李"
    assert second["ADR"] == "中国 广东省 深圳市 科技园路1号"


def test_vcard_without_cards_is_an_error(tmp_path: Path):
    f = tmp_path / "x.vcf"
    f.write_text("hello\n")
    with pytest.raises(SourceError, match="BEGIN:VCARD"):
        read_vcard(f, "x.vcf")


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_fixture_bytes_are_what_the_tests_expect():
    """Guard against an editor re-saving a fixture in another encoding."""
    assert (FIXTURES / "contacts_bom.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert (FIXTURES / "activities_utf16.txt").read_bytes().startswith(codecs.BOM_UTF16_LE)
    with pytest.raises(UnicodeDecodeError):
        (FIXTURES / "accounts_gbk.csv").read_bytes().decode("utf-8")
