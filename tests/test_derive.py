"""The mapping language's derived fields: concat, template, split, extract, constant, lookup, if_empty and
per-field required, and the errors each gives, with their lines."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.errors import MigrateError, ProjectError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

SHEET = """编号,公司,省,市,详细地址,姓,名,职务部门,备注,行业代码,级别
A1,北京星辰科技有限公司,北京,海淀区,中关村大街1号,张,伟,经理/销售部,信用代码 91350100M000100Y43 见合同,I65,
A2,上海云帆贸易有限公司,上海,浦东新区,世纪大道100号,李,娜,总监/市场部,无,F51,A
A3,广州恒通物流有限公司,,,,王,芳,,,G54,
"""
INDUSTRY = "code,name\nI65,软件和信息技术服务业\nF51,批发业\n"


def mapping(derive_accounts: str, derive_contacts: str = "") -> str:
    return f"""\
file: data/sheet.csv
system: crm
entities:
  accounts:
    columns: {{编号: id, 公司: name}}
    derive:
{derive_accounts}
  contacts:
    columns: {{}}
    derive:
      name: {{concat: [姓, 名]}}
{derive_contacts}
"""


ACCOUNTS = """\
      address: {template: "{省}{市}{详细地址}"}
      uscc: {column: 备注, extract: "([0-9A-Z]{18})"}
      industry: {column: 行业代码, lookup: {file: data/industry.csv, key: code, value: name, unknown: keep}}
      level: {column: 级别, if_empty: C}
      lead_source: {constant: 老系统}
"""
CONTACTS = """\
      title: {column: 职务部门, split: {by: /, part: 1}}
      department: {column: 职务部门, split: {by: /, part: -1}}
"""


def build(make_project, derive_accounts=ACCOUNTS, derive_contacts=CONTACTS, files=None):
    root = make_project(
        "name: t\nentities: [accounts, contacts]\noptions: {today: 2026-01-01}\n",
        {"sheet": mapping(derive_accounts, derive_contacts)},
        {"data/sheet.csv": SHEET, "data/industry.csv": INDUSTRY, **(files or {})},
    )
    return load_project(root)


def written(result, entity: Entity) -> pl.DataFrame:
    return result.migration.entities[entity].frame.sort("_row")


def test_each_transform_builds_its_field(make_project):
    result = prepare(build(make_project))
    accounts = written(result, Entity.accounts)
    assert accounts["v:address"].to_list()[:2] == ["北京市海淀区中关村大街1号", "上海市浦东新区世纪大道100号"]
    assert accounts["v:address"][2] is None  # every piece empty: no address, not ""
    assert accounts["v:uscc"].to_list() == ["91350100M000100Y43", None, None]
    assert accounts["v:industry"].to_list() == ["软件和信息技术服务业", "批发业", "G54"]  # unknown: keep
    assert accounts["v:level"].to_list() == ["C", "A", "C"]
    assert set(accounts["v:lead_source"].to_list()) == {"老系统"}
    contacts = written(result, Entity.contacts)
    assert contacts["v:name"].to_list() == ["张伟", "李娜", "王芳"]
    assert contacts["v:title"].to_list() == ["经理", "总监", None]
    assert contacts["v:department"].to_list() == ["销售部", "市场部", None]


def test_a_lookup_value_missing_from_the_table_stops_the_run_with_the_values_and_line(make_project):
    project = build(make_project, ACCOUNTS.replace("unknown: keep", "unknown: error"))
    with pytest.raises(MigrateError) as exc:
        prepare(project)
    problem = next(p for p in exc.value.problems if "lookup table" in p.message)
    assert "1 value(s) of industry are not in the lookup table data/industry.csv: G54 (1)" in problem.message
    assert problem.line == 9 and "unknown: keep" in problem.hint


def test_required_on_a_field_rejects_the_rows_where_it_is_empty(make_project):
    project = build(make_project, ACCOUNTS + "      note: {column: 备注, required: true}\n")
    accounts = written(prepare(project), Entity.accounts)
    assert accounts["_outcome"].to_list() == ["written", "written", "rejected"]
    assert accounts["_reason"][2] == "required note is empty (column note (derived))"


@pytest.mark.parametrize(
    ("derive", "message", "hint"),
    [
        ("      address: {template: '{省}{城市}'}\n", "column '城市' is not in data/sheet.csv", "did you mean '市'"),
        ("      address: {column: 省, concat: [省, 市]}\n", "exactly one of column, concat, template, constant", None),
        ("      uscc: {column: 备注, extract: '([0-9'}\n", "not a valid regular expression", None),
        (
            "      industry: {column: 行业代码, lookup: {file: data/nope.csv, key: code, value: name}}\n",
            "lookup table 'data/nope.csv' not found",
            "relative to the project folder",
        ),
        (
            "      industry: {column: 行业代码, lookup: {file: data/industry.csv, key: kode, value: name}}\n",
            "has no column 'kode'",
            "did you mean 'code'",
        ),
        ("      adress: {column: 省}\n", "accounts have no field 'adress'", "did you mean 'address'"),
    ],
)
def test_a_bad_transform_is_reported_with_its_line(make_project, derive, message, hint):
    from crm_migrate.migrate.validate import validate_project

    try:
        project = build(make_project, derive)
    except ProjectError as exc:
        problems = exc.problems
    else:
        problems = validate_project(project.root)
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].line == 7
    if hint:
        assert hint in (found[0].hint or "")
