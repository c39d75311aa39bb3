"""Settings that validate as types but could do nothing (or not what they say) are refused by `validate`,
each with its file, line, key and a hint; and a scope rule with several conditions applies all of them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

CSV = (
    "客户编号,客户名称,电话,级别,最近跟进\nC1,北京星辰科技有限公司,010-62345678,重要,2025-01-02\n"
    "C2,上海云帆贸易有限公司,021-62345678,一般,2025-02-03\n"
)
HEAD = """\
file: data/a.csv
entities:
  accounts:
    columns:
      客户编号: id
      客户名称: name
      电话: phone
"""  # lines 1-7; what a case adds starts on line 8


def validate(root):
    return CliRunner().invoke(app, ["validate", str(root)])


MAPPING_CASES = {
    # The three of issue 17.
    "derived unknown: default without default": (
        "    derive:\n      level: {column: 级别, values: {重要: A}, unknown: default}\n",
        9,
        "entities.accounts.derive.level: unknown: default needs a 'default' value",
        "give default: VALUE, or use unknown: keep",
    ),
    "a rule with contradicting conditions": (
        "    where:\n      - {field: name, equals: A, not_in: [A]}\n",
        9,
        "entities.accounts.where.0: equals and not_in together let no value of name through",
        "conditions of one rule must all hold",
    ),
    "a rule with no condition": (
        "    where:\n      - {field: name}\n",
        9,
        "entities.accounts.where.0: scope rule on 'name' has no condition, so it filters nothing",
        "a condition needs one of equals, in, not_in, since, not_empty",
    ),
    # Others like them.
    "column unknown: default without default": (
        "      级别: {field: level, values: {重要: A}, unknown: default}\n",
        8,
        "entities.accounts.columns.级别: unknown: default needs a 'default' value",
        "use unknown: keep",
    ),
    "default without unknown: default": (
        "      级别: {field: level, values: {重要: A}, default: B}\n",
        8,
        "'default' is written only with unknown: default (this map has unknown: error)",
        "set unknown: default",
    ),
    "unknown without a value map": (
        "      级别: {field: level, unknown: keep}\n",
        8,
        "entities.accounts.columns.级别: unknown without a value map does nothing",
        "add values:",
    ),
    "an empty value map": (
        "    derive:\n      level: {column: 级别, values: {}}\n",
        9,
        "entities.accounts.derive.level: an empty value map maps nothing",
        "or remove 'values'",
    ),
    "separator without concat": (
        "    derive:\n      level: {column: 级别, separator: '-'}\n",
        9,
        "'separator' joins the columns of concat; this field has no concat",
        "remove 'separator'",
    ),
    "concat of no column": (
        "    derive:\n      level: {concat: []}\n",
        9,
        "concat: [] joins no column",
        "list the source columns",
    ),
    "split part 0": (
        "    derive:\n      level: {column: 级别, split: {by: '/', part: 0}}\n",
        9,
        "entities.accounts.derive.level.split.part: split.part counts from 1",
        "part: -1 for the last",
    ),
    "in: []": (
        "    where:\n      - {field: name, in: []}\n",
        9,
        "entities.accounts.where.0: in: [] lets no row through",
        "list the values to keep",
    ),
    "not_in: []": (
        "    where:\n      - {field: name, not_in: []}\n",
        9,
        "not_in: [] filters nothing",
        "list the values",
    ),
    "not_empty: false": (
        "    where:\n      - {field: name, not_empty: false}\n",
        9,
        "not_empty: false filters nothing",
        "write not_empty: true",
    ),
    "equals outside in": (
        "    where:\n      - {field: name, equals: A, in: [B, C]}\n",
        9,
        "equals and in together let no value of name through",
        "keep the one you mean",
    ),
    "two rules on one field that exclude each other": (
        "    where:\n      - {field: name, equals: A}\n      - {field: name, in: [B]}\n",
        10,
        "scope rules on 'name' together let no row through",
        "write one rule with in: [...]",
    ),
    "not_in leaving out all another rule keeps": (
        "    where:\n      - {field: name, in: [A, B]}\n      - {field: name, not_in: [A, B, C]}\n",
        10,
        "not_in leaves out A, B, all that the other rules keep",
        "remove the one you do not mean",
    ),
    "date_order on a field that is no date": (
        "      级别: {field: level, date_order: dmy}\n",
        8,
        "accounts.level: date_order applies to dates; level is picklist",
        "remove date_order",
    ),
    "sheets: []": ("read: {sheets: []}\n", 8, "read.sheets: sheets: [] reads no sheet", "sheets: all"),
}


@pytest.mark.parametrize("case", MAPPING_CASES)
def test_mapping_settings_that_do_nothing_are_refused(make_project, case):
    added, line, message, hint = MAPPING_CASES[case]
    root = make_project(mappings={"crm": HEAD + added}, files={"data/a.csv": CSV})
    result = validate(root)
    assert result.exit_code == 1, result.output
    [shown] = [ln for ln in result.output.splitlines() if message in ln]
    assert shown.startswith(f"{root}/mappings/crm.yaml:{line}: error: ") and hint in shown, shown
    assert "Traceback" not in result.output


MIGRATION_CASES = {
    "entities: []": ("entities: []\n", 2, "entities: entities: [] puts nothing in scope", "list the entities"),
    "sources: []": ("sources: []\n", 2, "sources: sources: [] reads no source", "list the mapping files"),
    "a source listed twice": ("sources: [crm, crm]\n", 2, "source 'crm' is listed twice", "list each source once"),
    "orphan placeholder settings while orphans are rejected": (
        "options:\n  orphans: {account_name: 待分配}\n",
        3,
        "options.orphans: account_name describe the placeholder account, which send_to: rejects does not use",
        "set send_to: account",
    ),
    "recency with no most_recent rule": (
        "matching:\n  accounts:\n    survivorship: {recency: last_activity_at}\n",
        4,
        "recency decides most_recent, which no field uses here",
        "or remove recency",
    ),
    "weights with ignore and m": (
        "matching:\n  accounts:\n    weights:\n      phone: {ignore: true, m: [0.1, 0.9]}\n",
        5,
        "matching.accounts.weights.phone: ignore: true leaves the field out of matching",
        "remove ignore",
    ),
    "weights that set nothing": (
        "matching:\n  accounts:\n    weights:\n      phone: {}\n",
        5,
        "weights with neither m, u nor ignore: true change nothing",
        "give m and/or u",
    ),
    "weights not positive": (
        "matching:\n  accounts:\n    weights:\n      phone: {u: [0.5, 0]}\n",
        5,
        "u needs one positive number per level",
        "from disagreement to exact agreement",
    ),
    "most_recent with no date to compare": (
        "matching:\n  accounts:\n    survivorship: {fields: {phone: most_recent}}\n",
        4,
        "matching.accounts: most_recent needs a date, and no source maps last_activity_at",
        "set survivorship.recency",
    ),
    "recency on a field that is no date": (
        "matching:\n  accounts:\n    survivorship:\n      default: most_recent\n      recency: phone\n",
        6,
        "recency: phone is phone, not a date",
        "name a date field",
    ),
}


@pytest.mark.parametrize("case", MIGRATION_CASES)
def test_migration_settings_that_do_nothing_are_refused(make_project, case):
    added, line, message, hint = MIGRATION_CASES[case]
    root = make_project(migration="name: t\n" + added, mappings={"crm": HEAD}, files={"data/a.csv": CSV})
    result = validate(root)
    assert result.exit_code == 1, result.output
    [shown] = [ln for ln in result.output.splitlines() if message in ln]
    assert shown.startswith(f"{root}/migration.yaml:{line}: error: ") and hint in shown, shown


def test_a_mapping_with_no_entity_is_refused(make_project):
    root = make_project(mappings={"crm": "file: data/a.csv\nentities: {}\n"}, files={"data/a.csv": CSV})
    result = validate(root)
    assert result.exit_code == 1
    assert f"{root}/mappings/crm.yaml:2: error: entities: entities: {{}} maps nothing of this file" in result.output


def test_matching_for_an_entity_out_of_scope_warns(make_project):
    root = make_project(
        migration="name: t\nentities: [accounts]\nmatching:\n  contacts: {merge: 0.9}\n",
        mappings={"crm": HEAD},
        files={"data/a.csv": CSV},
    )
    result = validate(root)
    assert result.exit_code == 0, result.output
    assert (
        f"{root}/migration.yaml:4: warning: matching.contacts: contacts are not among the entities in "
        "scope; these settings are ignored" in result.output
    )


def test_settings_that_act_still_validate(make_project):
    """The allowed forms next to each refusal: a default with unknown: default, concat with a separator,
    part -1, a rule with two conditions that can both hold, most_recent with a mapped date."""
    mapping = (
        HEAD
        + """\
      级别: {field: level, values: {重要: A}, unknown: default, default: B}
      最近跟进: last_activity_at
    derive:
      industry: {concat: [级别, 电话], separator: '-', split: {by: '-', part: -1}}
    where:
      - {field: level, in: [A, B], not_in: [B]}
      - {field: name, not_empty: true}
"""
    )
    migration = (
        "name: t\nmatching:\n  accounts:\n    survivorship: {default: most_recent, recency: last_activity_at}\n"
        "    weights:\n      phone: {ignore: true}\n"
    )
    root = make_project(migration=migration, mappings={"crm": mapping}, files={"data/a.csv": CSV})
    result = validate(root)
    assert result.exit_code == 0, result.output


def test_every_condition_of_a_rule_applies(make_project):
    """{in: [A, B], not_in: [B]} keeps A only (before, only the first condition, in, was applied); the row
    that fails goes with the reason of the condition it fails."""
    mapping = (
        HEAD + "      级别: {field: level, values: {重要: A, 一般: B}}\n    where:\n"
        "      - {field: level, in: [A, B], not_in: [B]}\n"
    )
    root = make_project(mappings={"crm": mapping}, files={"data/a.csv": CSV})
    frame = prepare(load_project(root)).migration.entities[Entity.accounts].frame
    got = {row: (o, r) for row, o, r in frame.select("_row", "_outcome", "_reason").iter_rows()}
    assert got[2][0] == "written"
    assert got[3] == ("filtered", "out of scope: level is one of B")


def test_json_schemas_say_which_lists_may_not_be_empty():
    """Editors checking against `crm-migrate schema` flag the empty lists validate refuses."""
    from crm_migrate.mappings.models import MigrationConfig, SourceMapping

    migration, mapping = MigrationConfig.model_json_schema(), SourceMapping.model_json_schema()
    assert migration["properties"]["entities"]["minItems"] == 1
    assert migration["properties"]["sources"]["minItems"] == 1 and migration["properties"]["sources"]["uniqueItems"]
    assert mapping["properties"]["entities"]["minProperties"] == 1
    assert mapping["$defs"]["Derived"]["properties"]["concat"]["minItems"] == 1
    assert mapping["$defs"]["Filter"]["properties"]["in"]["minItems"] == 1
    assert mapping["$defs"]["Filter"]["properties"]["not_in"]["minItems"] == 1
