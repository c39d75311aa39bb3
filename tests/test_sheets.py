"""Sheets as salespeople keep them: one column spelt differently per sheet, 同上 and merged company cells,
and rows that are not records (the header again, 合计, an export's footer, dashes)."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import prepare
from crm_migrate.migrate.validate import validate_project
from crm_migrate.project import load_project

MAPPING = """\
    file: data/sales.xlsx
    entities:
      accounts:
        columns:
          {company}: {{field: name, fill_down: true}}
      contacts:
        columns:
          联系人|姓名: name
          手机|手机号|手機: mobile
    """


def _workbook(path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    a = book.add_worksheet("张三")
    a.merge_range(0, 0, 0, 2, "2026年 张三 客户清单")
    a.write_row(2, 0, ["公司名称", "联系人", "手机"])
    a.merge_range(3, 0, 5, 0, "北京星辰科技有限公司")  # rows 4-6: one company, three people
    a.write_row(3, 1, ["王芳", "13812345671"])
    a.write_row(4, 1, ["李雷", "13812345672"])
    a.write_row(5, 1, ["韩梅梅", "13812345673"])
    a.write_row(6, 0, ["公司名称", "联系人", "手机"])  # row 7: the header again (pages glued together)
    a.write_row(7, 0, ["上海云帆物流有限公司", "赵强", "13812345674"])
    a.write_row(8, 0, ["同上", "钱多多", "13812345675"])  # row 9: ditto
    a.write_row(9, 0, ["合计", "3家", ""])  # row 10
    a.write_row(10, 0, ["-----", "-----", "-----"])  # row 11
    a.write_row(11, 0, ["共 5 条记录"])  # row 12
    b = book.add_worksheet("李四")
    b.write_row(0, 0, ["客戶名稱", "姓名", "手机号"])  # another salesperson's spellings, traditional too
    b.write_row(1, 0, ["深圳市海岸电子有限公司", "孙悦", "13812345676"])
    b.write_row(2, 0, ["", "周杰", "13812345677"])  # blank under the company above: the same company
    b.write_row(4, 0, ["同上", "吴敏", "13812345678"])  # after a blank row: nothing above in its block
    b.write_row(5, 0, ["导出时间：2026-05-01 12:00"])
    book.close()


@pytest.fixture
def sheets(make_project, tmp_path):
    def make(company: str = "公司名称|客户名称|客戶名稱"):
        root = make_project(mappings={"sales": MAPPING.format(company=company)})
        (root / "data").mkdir(exist_ok=True)
        _workbook(root / "data" / "sales.xlsx")
        return root

    return make


def _rows(result, entity: Entity) -> dict[tuple[str, int], tuple[str | None, str | None, str | None]]:
    frame = result.migration.entities[entity].frame
    return {
        (s, r): (o, reason, name)
        for s, r, o, reason, name in frame.select("_sheet", "_row", "_outcome", "_reason", "v:name").iter_rows()
    }


def test_spellings_fill_down_and_rows_that_are_not_records(sheets):
    root = sheets()
    assert not [p for p in validate_project(root) if p.severity == "error"]
    result = prepare(load_project(root))
    accounts, contacts = _rows(result, Entity.accounts), _rows(result, Entity.contacts)
    # the merged cell and the ditto give every person of the block the company above
    for row in (5, 6):
        assert accounts[("张三", row)][2] == "北京星辰科技有限公司"
    assert accounts[("张三", 9)][2] == "上海云帆物流有限公司"
    assert accounts[("李四", 3)][2] == "深圳市海岸电子有限公司"
    # a ditto after a blank row has nothing above it in its block: no company, and the person is kept
    assert accounts[("李四", 5)][0] == "filtered" and accounts[("李四", 5)][2] is None
    assert contacts[("李四", 5)][2] == "吴敏" and contacts[("李四", 5)][0] in (None, "written")
    # the other sheet's spellings (traditional header included) are read
    assert contacts[("李四", 2)][2] == "孙悦"
    # rows that are not records are filtered with their reason, for every entity of the source
    for entity in (accounts, contacts):
        assert entity[("张三", 7)][:2] == ("filtered", "not a record: repeated header row")
        assert entity[("张三", 10)][:2] == ("filtered", "not a record: total row (合计)")
        assert entity[("张三", 11)][:2] == ("filtered", "not a record: separator row")
        assert entity[("张三", 12)][0] == "filtered" and "export footer" in entity[("张三", 12)][1]
        assert entity[("李四", 6)][0] == "filtered" and "export footer" in entity[("李四", 6)][1]
    # one company on three rows is one account
    ids = result.migration.entities[Entity.accounts].frame.filter(
        pl.col("_sheet") == "张三", pl.col("_row").is_in([4, 5, 6])
    )["_record_id"]
    assert ids.n_unique() == 1


def test_each_filled_value_is_noted_in_lineage(sheets, tmp_path):
    from crm_migrate.migrate.run import run

    root = sheets()
    run(load_project(root), tmp_path / "out")
    lineage = pl.read_csv(tmp_path / "out" / "lineage.csv", infer_schema=False)
    notes = dict(
        zip(
            lineage.filter(pl.col("entity") == "accounts", pl.col("sheet") == "张三")["row"],
            lineage.filter(pl.col("entity") == "accounts", pl.col("sheet") == "张三")["notes"],
        )
    )
    assert notes["5"] == "name filled from row 4 (empty cell)"
    assert notes["9"] == "name filled from row 8 (同上)"
    assert not notes["4"]


def test_without_fill_down_a_ditto_still_takes_the_value_above_and_says_so(sheets):
    root = sheets().parent / "project"
    mapping = root / "mappings" / "sales.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace(", fill_down: true", ""), encoding="utf-8")
    result = prepare(load_project(root))
    warning = next(p for p in result.migration.warnings if "same as above" in p.message)
    assert "fill_down: true" in warning.hint and "row 9" in warning.hint
    lineage = result.lineage.filter(pl.col("entity") == "accounts", pl.col("sheet") == "张三")
    notes = dict(zip(lineage["row"].cast(pl.Int64).to_list(), lineage["notes"].to_list(), strict=True))
    assert notes[9] == "name filled from row 8 (同上)"  # 同上 is the name above, not a company called 同上
    assert "filled" not in (notes.get(5) or "")  # an empty cell is not, without fill_down


def test_only_a_field_no_sheet_fills_is_reported(sheets):
    problems = validate_project(sheets("公司名称|客户名称|客戶名稱"))
    assert not [p for p in problems if "spellings" in p.message]
    problems = validate_project(sheets("公司|单位"))
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and "none of the spellings '公司|单位'" in errors[0].message


def test_also_is_the_list_form_of_spellings(make_project):
    root = make_project(
        mappings={
            "s": """\
        file: data/a.csv
        entities:
          accounts:
            columns:
              公司: {field: name, also: [客户名称, 单位]}
        """
        },
        files={"data/a.csv": "单位\n星辰科技\n"},
    )
    result = prepare(load_project(root))
    assert result.migration.entities[Entity.accounts].frame["v:name"].to_list() == ["星辰科技"]


def test_a_childs_link_survives_the_ways_people_mangle_legacy_ids(make_project):
    root = make_project(
        mappings={
            "accounts": """\
            file: data/accounts.csv
            system: old_crm
            entities:
              accounts:
                columns: {客户编号: id, 客户名称: name}
            """,
            "contacts": """\
            file: data/contacts.csv
            system: old_crm
            entities:
              contacts:
                columns: {所属客户: account_id, 姓名: name, 手机: mobile}
            """,
        },
        files={
            "data/accounts.csv": "客户编号,客户名称\nKH008793,星辰科技有限公司\nKH2239,云帆物流有限公司\nKH01,海岸电子有限公司\n"
            "KH001,蓝鲸数据有限公司\n",
            "data/contacts.csv": "所属客户,姓名,手机\nkh008793,王芳,13812345671\nKH002239,李雷,13812345672\n"
            "ＫＨ８７９３,韩梅梅,13812345673\nKH-2239 ,赵强,13812345674\nKH9999,钱多多,13812345675\n",
        },
    )
    result = prepare(load_project(root))
    accounts = result.migration.entities[Entity.accounts].frame
    contacts = result.migration.entities[Entity.contacts].frame
    by_name = dict(zip(accounts["v:name"], accounts["_record_id"]))
    linked = dict(zip(contacts["v:name"], contacts["_account"]))
    assert linked["王芳"] == linked["韩梅梅"] == by_name["星辰科技有限公司"]
    assert linked["李雷"] == linked["赵强"] == by_name["云帆物流有限公司"]
    reason = contacts.filter(pl.col("v:name") == "钱多多")["_reason"][0]
    assert reason == "no account with id KH9999 in old_crm"  # the id as written, not its key
    # two accounts whose ids differ only in padding are reported: a child could not tell them apart
    warning = next(p for p in result.migration.warnings if "read as one id" in p.message)
    assert "KH001, KH01" in warning.message and "old_crm" in warning.message


def test_a_row_that_names_its_own_company_takes_nothing_from_the_company_above(make_project):
    mapping = """\
    file: data/sales.csv
    entities:
      accounts:
        columns:
          公司: {field: name, fill_down: true}
          电话: {field: phone, fill_down: true}
      contacts:
        columns: {联系人: name, 手机: mobile}
    """
    csv_text = (
        "公司,电话,联系人,手机\n北京星辰科技有限公司,010-62345678,王芳,13812345671\n,,李雷,13812345672\n"
        "-,,赵强,13812345674\n,,钱多多,13812345675\n上海云帆物流有限公司,,孙悦,13812345676\n"
    )
    root = make_project(mappings={"sales": mapping}, files={"data/sales.csv": csv_text})
    frame = prepare(load_project(root)).migration.entities[Entity.accounts].frame
    phones = dict(frame.select("_row", "v:phone").iter_rows())
    names = dict(frame.select("_row", "v:name").iter_rows())
    assert phones[3] == phones[2] and names[3] == "北京星辰科技有限公司"  # the same company, continued
    assert phones[4] is None and phones[5] is None  # '-' is no company: not given 星辰's phone, nor the row under it
    assert phones[6] is None  # another company with no phone of its own
