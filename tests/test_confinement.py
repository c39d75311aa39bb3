"""Unit tests of the bounds on what a project reads: confinement to the project folder, bounded YAML, and
workbooks measured before they are expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_migrate.confine import Confinement
from crm_migrate.errors import SourceError
from crm_migrate.mappings.models import Limits
from crm_migrate.mappings.yamlfile import MAX_NODES, load_yaml
from crm_migrate.migrate.readers.inspect import check_workbook
from crm_migrate.migrate.readers.workbook import oversized, read_workbook
from tests.hostile.xlsx import write_xlsx

ROWS = [["客户名称", "电话"], ["星辰科技有限公司", "13800000001"]]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "project", tmp_path / "outside"
    (root / "data").mkdir(parents=True)
    outside.mkdir()
    (root / "data" / "a.csv").write_text("x\n", encoding="utf-8")
    (outside / "b.csv").write_text("y\n", encoding="utf-8")
    return root, outside


def test_paths_inside_the_project_pass(tree):
    root, _ = tree
    c = Confinement(root)
    assert c.check("data/a.csv", "source file") is None
    assert c.check("data/../data/a.csv", "source file") is None
    assert c.check("data/not-there-yet.csv", "source file") is None
    assert c.check(str(root / "data" / "a.csv"), "source file") is None  # absolute, but inside


def test_each_way_out_is_named(tree):
    root, outside = tree
    c = Confinement(root)
    assert "is outside the project folder" in c.check(str(outside / "b.csv"), "source file").message
    assert "leads outside the project folder (to " in c.check("../outside/b.csv", "lookup table").message
    (root / "data" / "l.csv").symlink_to(outside / "b.csv")
    refusal = c.check("data/l.csv", "source file")
    assert refusal.message == f"source file 'data/l.csv' is a symlink to {outside / 'b.csv'}, outside the project"
    assert f"allow_outside: [{outside}]" in refusal.hint
    (root / "data" / "d").symlink_to(outside, target_is_directory=True)
    assert "passes through the symlink 'd'" in c.check("data/d/b.csv", "source file").message


def test_allow_outside_takes_absolute_and_project_relative_folders(tree):
    root, outside = tree
    assert Confinement(root, [str(outside)]).check(str(outside / "b.csv"), "x") is None
    assert Confinement(root, ["../outside"]).check("../outside/b.csv", "x") is None
    assert Confinement(root, [str(outside / "sub")]).check(str(outside / "b.csv"), "x") is not None


def test_a_project_reached_through_a_symlink_reads_its_own_files(tree, tmp_path):
    root, _ = tree
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    assert Confinement(tmp_path / "alias").check("data/a.csv", "source file") is None


def test_a_command_line_path_is_taken_from_where_the_command_runs(tree, monkeypatch):
    root, outside = tree
    monkeypatch.chdir(outside)
    c = Confinement(root)
    assert c.check("b.csv", "decisions file", relative_to=Path.cwd()) is not None
    monkeypatch.chdir(root)
    assert c.check("data/a.csv", "decisions file", relative_to=Path.cwd()) is None


def test_a_billion_laughs_is_refused_without_being_built(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]  # 10**12 values
    path = tmp_path / "m.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc, problems = load_yaml(path, "m.yaml")  # built, it would be 10**12 values: this returning is the test
    assert doc.data is None and [p.line for p in problems] == [6] and f"{MAX_NODES:,}" in problems[0].message


def test_aliases_within_the_bound_still_work(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {field: name, fill_down: true}\ncolumns: {公司: *b, 单位: *b}\n", encoding="utf-8")
    doc, problems = load_yaml(path, "m.yaml")
    assert problems == [] and doc.data["columns"]["单位"] == {"field": "name", "fill_down": True}


def test_a_non_text_key_and_deep_nesting_are_problems_not_exceptions(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("? [a, b]\n: 1\n", encoding="utf-8")
    assert "a key must be plain text" in load_yaml(path, "m.yaml")[1][0].message
    path.write_text("x: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    assert "nested too deeply" in load_yaml(path, "m.yaml")[1][0].message


def test_a_workbook_is_measured_from_its_xml_without_reading_it(tmp_path):
    limits = Limits(sheet_cells=1000)
    ok = write_xlsx(tmp_path / "ok.xlsx", ROWS)
    check_workbook(ok, "ok.xlsx", limits)
    far = write_xlsx(tmp_path / "far.xlsx", ROWS, extra_cells='<row r="40"><c r="Z40"><v>1</v></c></row>')
    with pytest.raises(SourceError, match="as far as row 40 and column Z"):
        check_workbook(far, "far.xlsx", limits)
    # a styled empty cell (no value) far away is not data, and neither is a sheet the mapping does not read
    styled = write_xlsx(tmp_path / "styled.xlsx", ROWS, extra_cells='<row r="40"><c r="Z40" s="1"/></row>')
    check_workbook(styled, "styled.xlsx", limits)
    check_workbook(far, "far.xlsx", limits, sheets=["another"])


def test_cells_without_a_reference_count_from_the_last_one(tmp_path):
    cells = '<row r="5">' + "<c><v>1</v></c>" * 300 + "</row>"  # A5 ... KN5 by position alone
    path = write_xlsx(tmp_path / "w.xlsx", ROWS, extra_cells=cells)
    with pytest.raises(SourceError, match="row 5 and column KN"):
        check_workbook(path, "w.xlsx", Limits(sheet_cells=1000))


def test_oversized_measures_bytes_of_utf8():
    assert oversized(["短", "x" * 10, "汉" * 4], 11) == [(2, 12)]  # 4 characters, 12 bytes
    assert oversized(["x" * 11], 11) == []


def test_a_big_cell_rejects_its_row_in_the_table(tmp_path):
    path = write_xlsx(tmp_path / "w.xlsx", [*ROWS, ["云帆贸易有限公司", "y" * 5000]])
    table = read_workbook(path, "w.xlsx", limits=Limits(cell_bytes=1000))
    assert (
        list(table.rejected_rows) == [("客户", 3)] and "cell B3 holds 5,000 bytes" in table.rejected_rows[("客户", 3)]
    )
    assert table.frame["_row"].to_list() == [2, 3] and len(table.frame["电话"][1]) == 41


def test_cells_written_otherwise_than_excel_does_are_read_tag_by_tag(tmp_path):
    limits = Limits(sheet_cells=1000)
    for n, cells in enumerate(
        [
            '<x:row r="50"><x:c r="AB50"><x:v>1</x:v></x:c></x:row>',  # a prefix
            "<row r='50'><c t='n' r='AB50'><v>1</v></c></row>",
        ]
    ):  # reference last, quoted '
        path = write_xlsx(tmp_path / f"w{n}.xlsx", ROWS, extra_cells=cells)
        with pytest.raises(SourceError, match="row 50 and column AB"):
            check_workbook(path, "w.xlsx", limits)


def test_a_path_that_cannot_be_one_is_refused_not_raised(tree):
    root, _ = tree
    c = Confinement(root)
    assert "embedded null byte" in c.check("data/\x00.csv", "source file").message
    assert "File name too long" in c.check("data/" + "a" * 5000 + ".csv", "source file").message
    (root / "data" / "l1").symlink_to("l2")
    (root / "data" / "l2").symlink_to("l1")
    assert "not a path that can be read" in c.check("data/l1", "source file").message
