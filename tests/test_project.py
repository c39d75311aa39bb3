"""Project files: errors name the file and line and suggest the fix; a good project loads."""

from __future__ import annotations

import pytest

from crm_migrate.errors import ProjectError
from crm_migrate.mappings.entities import Entity, FieldType
from crm_migrate.migrate.validate import validate_project
from crm_migrate.project import load_project

CSV = "客户编号,客户名称,电话\nC1,北京星辰科技有限公司,010-62345678\n".encode("gb18030")
GOOD_MAPPING = """\
file: data/accounts.csv
entities:
  accounts:
    columns:
      客户编号: id
      客户名称: name
      电话: phone
"""


def errors_of(root) -> list[str]:
    with pytest.raises(ProjectError) as exc:
        load_project(root)
    return [p.render() for p in exc.value.problems]


def test_good_project_loads(make_project):
    root = make_project(mappings={"crm": GOOD_MAPPING}, files={"data/accounts.csv": CSV})
    project = load_project(root)
    assert [s.name for s in project.sources] == ["crm"]
    plan = project.sources[0].plan_for(Entity.accounts)
    assert [(f.column, f.spec.name, f.spec.type) for f in plan.fields] == [
        ("客户编号", "id", FieldType.id),
        ("客户名称", "name", FieldType.company_name),
        ("电话", "phone", FieldType.phone),
    ]
    assert project.entities == list(Entity)
    assert len(project.fingerprint()) == 64


def test_unknown_key_in_migration_yaml_has_line_and_suggestion(make_project):
    root = make_project(
        migration="name: t\nentites: [accounts]\n", mappings={"crm": GOOD_MAPPING}, files={"data/accounts.csv": CSV}
    )
    [message] = errors_of(root)
    assert message.endswith("migration.yaml:2: error: unknown key 'entites' — did you mean 'entities'?")


def test_unknown_field_suggests_the_closest(make_project):
    mapping = GOOD_MAPPING.replace("电话: phone", "电话: phnoe")
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [message] = errors_of(root)
    assert "mappings/crm.yaml:7: error: accounts have no field 'phnoe' — did you mean 'phone'?" in message


def test_custom_field_needs_a_type_and_gets_one(make_project):
    mapping = GOOD_MAPPING + "      备注: {field: remark_x, type: text}\n"
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    plan = load_project(root).sources[0].plan_for(Entity.accounts)
    assert plan.field("remark_x").custom and plan.field("remark_x").spec.type is FieldType.text


def test_wrong_type_name_and_wrong_entity_name(make_project):
    mapping = """\
    file: data/accounts.csv
    entities:
      acounts:
        columns: {客户名称: name}
      contacts:
        columns:
          电话: {field: score, type: nmber}
    """
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    messages = errors_of(root)
    assert any(":3: " in m and "did you mean 'accounts'?" in m for m in messages)
    assert any(":7: " in m and "did you mean 'number'?" in m for m in messages)
    assert not any("valid string" in m for m in messages)  # the union's other branch is not noise


def test_missing_source_file_suggests_the_file_that_is_there(make_project):
    mapping = GOOD_MAPPING.replace("accounts.csv", "acounts.csv")
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [message] = errors_of(root)
    assert "crm.yaml:1: error: source file 'data/acounts.csv' not found — did you mean 'data/accounts.csv'?" in message


def test_required_field_not_mapped(make_project):
    mapping = GOOD_MAPPING.replace("      客户名称: name\n", "")
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [message] = errors_of(root)
    assert "crm.yaml:3: error: accounts need 'name'" in message


def test_children_without_account_link_need_one_unless_the_row_has_an_account(make_project):
    mapping = """\
    file: data/accounts.csv
    entities:
      opportunities:
        columns: {客户名称: name}
    """
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    assert any("opportunities need 'account_id'" in m for m in errors_of(root))


def test_duplicate_key_and_yaml_syntax_errors(make_project):
    root = make_project(
        migration="name: a\nname: b\n", mappings={"crm": "file: [unclosed\n"}, files={"data/accounts.csv": CSV}
    )
    messages = errors_of(root)
    assert any("migration.yaml:2: error: duplicate key 'name'" in m for m in messages)
    assert any("crm.yaml:2: error: YAML syntax" in m for m in messages)


def test_sources_list_names_a_missing_mapping(make_project):
    root = make_project(
        migration="name: t\nsources: [crn]\n", mappings={"crm": GOOD_MAPPING}, files={"data/accounts.csv": CSV}
    )
    [message] = errors_of(root)
    assert "migration.yaml:2:" in message and "did you mean 'crm'?" in message


def test_no_migration_yaml(tmp_path):
    with pytest.raises(ProjectError, match="no migration.yaml"):
        load_project(tmp_path)


def test_bad_scope_rule(make_project):
    mapping = (
        GOOD_MAPPING + "    where:\n      - {field: phone, since: 3 years}\n      - {field: phnoe, not_empty: true}\n"
    )
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    messages = errors_of(root)
    assert any(":9: " in m and "'since' takes a date" in m for m in messages)


def test_scope_rule_on_unmapped_field(make_project):
    mapping = GOOD_MAPPING + "    where:\n      - {field: phnoe, not_empty: true}\n"
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [message] = errors_of(root)
    assert ":9: " in message and "did you mean 'phone'?" in message


def test_validate_checks_columns_against_the_source_header(make_project):
    mapping = GOOD_MAPPING.replace("客户名称: name", "客户名: name")
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    problems = validate_project(root)
    [p] = [p for p in problems if p.severity == "error"]
    assert p.render().endswith(
        "crm.yaml:6: error: column '客户名' is not in data/accounts.csv — did you mean '客户名称'?"
    )


def test_validate_reports_unreadable_source_with_hint(make_project):
    mapping = GOOD_MAPPING + "read: {encoding: utf-8}\n"
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [p] = validate_project(root)
    assert p.path.endswith("project/data/accounts.csv") and p.line == 1 and "gb18030" in p.hint


def test_entities_out_of_scope_warn(make_project):
    root = make_project(
        migration="name: t\nentities: [contacts]\n", mappings={"crm": GOOD_MAPPING}, files={"data/accounts.csv": CSV}
    )
    project = load_project(root)
    assert any("not among the entities in scope" in w.message for w in project.warnings)


def test_since_needs_a_date_field(make_project):
    mapping = GOOD_MAPPING + "    where:\n      - {field: phone, since: 3y}\n"
    root = make_project(mappings={"crm": mapping}, files={"data/accounts.csv": CSV})
    [message] = errors_of(root)
    assert ":9: " in message and "'since' needs a date field; phone is phone" in message


def test_validate_reports_every_mistake_in_one_pass(make_project):
    """An unknown key, a bad regular expression, a missing column and unmapped picklist values, in two
    mapping files: all reported together, each at its line."""
    accounts = (
        GOOD_MAPPING.replace("file: data/accounts.csv\n", "file: data/accounts.csv\nsheet: 1\n")
        + "    derive:\n      website: {column: 网址, extract: '([a-z'}\n"
    )
    deals = """\
        file: data/deals.csv
        entities:
          opportunities:
            columns:
              商机: name
              客户编号: account_id
              阶段: {field: stage, values: {初步接洽: qualification}}
              金额X: amount
        """
    stages = "".join(f"D{i},商机{i},C1,阶段{i}\n" for i in range(30))
    root = make_project(
        mappings={"crm": accounts, "deals": deals},
        files={"data/accounts.csv": CSV, "data/deals.csv": "编号,商机,客户编号,阶段\n" + stages},
    )
    problems = {p.render() for p in validate_project(root) if p.severity == "error"}
    text = "\n".join(sorted(problems))
    assert "crm.yaml:2: error: unknown key 'sheet'" in text
    assert "extract is not a valid regular expression" in text
    assert "column '金额X' is not in data/deals.csv" in text
    [values] = [p for p in validate_project(root) if "value map" in p.message]
    assert "30 value(s) of '阶段'" in values.message and values.message.endswith(", and 10 more")
    assert len(values.as_dict()["values"]) == 30  # JSON lists them all


def test_validate_says_when_no_child_can_find_its_account(make_project):
    contacts = """\
        file: data/contacts.csv
        system: {system}
        entities:
          contacts:
            columns: {{客户编号: account_id, 姓名: name}}
        """
    crm = GOOD_MAPPING.replace("file: data/accounts.csv\n", "file: data/accounts.csv\nsystem: old_crm\n")
    files = {"data/accounts.csv": CSV, "data/contacts.csv": "客户编号,姓名\nc0001,王芳\n"}
    root = make_project(mappings={"crm": crm, "people": contacts.format(system="contacts_export")}, files=files)
    [p] = [p for p in validate_project(root) if p.severity == "error"]
    assert "no account source has system 'contacts_export'" in p.message and "system: old_crm" in p.hint
    (root / "mappings" / "people.yaml").write_text(
        contacts.format(system="old_crm").replace(" " * 8, ""), encoding="utf-8"
    )
    assert not [p for p in validate_project(root) if p.severity == "error"]  # c0001 is C1 as people write it
    (root / "data" / "contacts.csv").write_text("客户编号,姓名\nX9,王芳\n", encoding="utf-8")
    [p] = [p for p in validate_project(root) if p.severity == "error"]
    assert "no contact can be linked" in p.message and "account_id" in p.hint
