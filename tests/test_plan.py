"""plan for a team: the JSON says what the text says, the limits that make plan and validate exit 1, rules named
with their field, and every warning under --all."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crm_migrate.cli import app
from tests.test_secrets import ID_A

runner = CliRunner()

TARGET = """\
name: t
rests_on: a test template
file: {format: csv, encoding: utf-8, bom: true}
entities:
  accounts:
    object: accounts
    columns:
      - {header: external_id, value: external_id, type: id, required: true}
      - {header: name, value: name, type: text, max_length: 14}
      - {header: phone, value: phone, type: phone}
      - {header: note, value: note, type: text, max_length: 30}
      - {header: level, value: level, type: picklist, picklist: [A, B]}
  contacts:
    object: contacts
    columns:
      - {header: external_id, value: external_id, type: id, required: true}
      - {header: name, value: name, type: text}
"""
MAPPING = """\
file: data/a.csv
entities:
  accounts:
    columns: {编号: id, 名称: name, 电话: phone, 备注: note, 行业: industry, 地址: address, 网站: website, 邮箱: email,
              传真: {field: fax, type: text}, 级别: level}
"""
NAMES = [
    "广州恒通物流有限公司",
    "深圳锐宏建筑有限公司",
    "杭州青禾农业有限公司",
    "成都蓝海软件有限公司",
    "武汉长江化工有限公司",
    "南京金陵纺织有限公司",
    "西安秦川机械有限公司",
    "天津海河船舶有限公司",
]


def csv_text() -> str:
    """Eight good companies, each with a 同上 in another column (a warning each: eight, more than plan shows);
    one whose note is too long for the target and whose level is an ID number; two without a name; one whose
    name is too long; two total rows."""
    rows = [
        "编号,名称,电话,备注,行业,地址,网站,邮箱,传真,级别",
        f"A1,北京星辰科技有限公司,010-62345678,老客户 联系人王芳女士请回电 电话打不通时发邮件到她的工作邮箱,软件,北京市海淀区,www.a.com,a@a.com,"
        f"010-1,{ID_A}",
    ]
    for i, name in enumerate(NAMES):
        values = [f"A{i + 2}", name, "010-62345679", "x", "软件", "北京", "www.b.com", "b@b.com", "010-2", "B"]
        values[i + 2] = "同上"
        rows.append(",".join(values))
    rows += [
        "A20,,010-1,,,,,,,",
        "A21,,010-2,,,,,,,",
        "A22,上海云帆国际贸易集团股份有限公司总部,,,,,,,,",
        "合计,12,,,,,,,,",
        "小计,12,,,,,,,,",
    ]  # not records: filtered, so not in scope
    return "\n".join(rows) + "\n"


def make(make_project, migration: str = "name: t\ntarget: targets/t.yaml\nentities: [accounts]\n") -> Path:
    return make_project(
        migration + "options: {today: 2026-01-01}\n",
        {"crm": MAPPING},
        {"data/a.csv": csv_text(), "targets/t.yaml": TARGET},
    )


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def table_rows(text: str, title: str) -> list[list[str]]:
    """The rows of a rich table printed under ``title``: each row's first line, as its cells."""
    lines = text.split(title + "\n", 1)[1].splitlines()
    body = next(i for i, line in enumerate(lines) if line.startswith("┡")) + 1  # below the header, however tall
    rows = []
    for line in lines[body:]:
        if not line.startswith("│"):
            break
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells[0]:
            rows.append(cells)
    return rows


def test_plan_json_says_what_the_text_says(make_project):
    root = make(make_project)
    text = invoke("plan", root, "--all")
    data = invoke("plan", root, "--format", "json")
    assert text.exit_code == data.exit_code == 0, text.output
    facts = json.loads(data.stdout)  # stdout is the JSON alone
    assert list(facts) == [
        "format_version",
        "project",
        "sources",
        "columns",
        "unmapped_entities",
        "uncovered_fields",
        "entities",
        "duplicates",
        "blocking",
        "reasons",
        "refusals",
        "files",
        "warnings",
        "problems",
    ]
    out = text.stdout
    assert [
        [r["entity"], str(r["source_rows"]), *(str(r[o]) for o in ("written", "merged", "filtered", "rejected"))]
        for r in facts["entities"]
    ] == table_rows(out, "What run would do")
    assert [[r["entity"], r["outcome"], r["rule"], str(r["rows"])] for r in facts["reasons"]] == table_rows(
        out, "Why rows are not written"
    )
    assert [[r["entity"], r["column"], r["rule"], str(r["records"])] for r in facts["refusals"]] == [
        r[:4] for r in table_rows(out, "Expected refusals by the target")
    ]
    assert [[s["source"], s["file"], s["format"], s["encoding"]] for s in facts["sources"]] == [
        r[:4] for r in table_rows(out, "Sources")
    ]
    assert [
        [f["entity"], str(f["files"]), str(f["rows"]), f["paths"][0]] for f in facts["files"]["entities"]
    ] == table_rows(out, "Files run would write")
    # Every warning, in the words of the text (--all lists them all).
    shown = [line.strip() for line in out.split("warning(s) while reading", 1)[1].splitlines()[1:] if line.strip()]
    rendered = [f"{w['path']}:{w['line']}: warning: {w['message']} — {w['hint']}" for w in facts["warnings"]]
    assert len(rendered) == 8 and shown == rendered
    # Masked as the text masks: the ID number the level column holds appears in neither.
    assert ID_A not in data.stdout and ID_A not in out
    picklist = next(r for r in facts["refusals"] if r["rule"] == "picklist")
    assert picklist["example"].startswith(f"level: {ID_A[:6]}*")


def test_plan_names_each_rule_with_its_field(make_project):
    facts = json.loads(invoke("plan", make(make_project), "-f", "json").stdout)
    rules = {r["rule"]: r["rows"] for r in facts["reasons"]}
    assert rules == {
        "required field empty or invalid: name": 2,
        "target max_length: name": 1,
        "target max_length: note": 1,
        "not a record": 2,
    }, rules


def test_plan_shows_five_warnings_and_says_how_to_see_all(make_project):
    result = invoke("plan", make(make_project))
    assert "8 warning(s) while reading, e.g. (--all to list them):" in result.stdout
    assert result.stdout.count(": warning: ") == 5
    assert invoke("plan", make(make_project), "--all").stdout.count(": warning: ") == 8


def test_plan_and_validate_exit_1_over_the_reject_limits_and_say_which(make_project):
    root = make(make_project)  # 4 of 12 rows in scope rejected
    assert invoke("plan", root, "--max-rejects", 4, "--max-reject-share", 0.34).exit_code == 0
    over = invoke("plan", root, "--max-rejects", 3)
    assert over.exit_code == 1
    assert "accounts: 4 rows would be rejected, more than --max-rejects 3" in over.stderr
    share = invoke("plan", root, "--max-reject-share", 0.3, "-f", "json")
    assert share.exit_code == 1
    [problem] = json.loads(share.stdout)["problems"]
    assert problem["message"] == (
        "accounts: 4 of the 12 rows in scope would be rejected (33.3%), more than --max-reject-share 0.3"
    )
    assert invoke("validate", root, "--max-rejects", 4).exit_code == 0
    checked = invoke("validate", root, "--max-rejects", 3, "--format", "github")
    assert checked.exit_code == 1 and "more than --max-rejects 3" in checked.stdout
    assert checked.stdout.startswith("::error file=")
    assert invoke("plan", root, "--max-reject-share", 1.5).exit_code == 2  # a share is 0 to 1


def test_plan_and_validate_exit_1_when_an_entity_in_scope_would_write_nothing(make_project):
    root = make(make_project, "name: t\ntarget: targets/t.yaml\nentities: [accounts, contacts]\n")
    for verb in ("plan", "validate"):
        result = invoke(verb, root)
        assert result.exit_code == 1, (verb, result.output)
        assert "contacts are in scope but no source maps them: run would write no contacts" in result.output
    # Every account rejected (no name is short enough): run would write none.
    (root / "migration.yaml").write_text("name: t\ntarget: targets/t.yaml\nentities: [accounts]\n", encoding="utf-8")
    (root / "targets" / "t.yaml").write_text(TARGET.replace("max_length: 14", "max_length: 2"), encoding="utf-8")
    result = invoke("plan", root)
    assert result.exit_code == 1 and "run would write no accounts: all 14 source rows" in result.stderr
    assert invoke("validate", root, "--max-reject-share", 1).exit_code == 1


def test_an_entity_left_out_of_a_project_that_lists_none_is_out_of_scope(make_project):
    """Without 'entities:' the scope is what the mappings map: no contacts is not a failure."""
    root = make(make_project, "name: t\ntarget: generic\n")
    result = invoke("plan", root)
    assert result.exit_code == 0, result.output
