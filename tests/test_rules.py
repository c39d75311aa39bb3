"""The target's rules stated once (mappings/rules.py) and read by three translators: every kind of rule is
translated by conform, the expectation suite and the database DDL (or refused by name), and on one
hand-made column per kind the three refuse the same bad value and let the good ones through."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import polars as pl
import pytest

from crm_migrate.errors import ProjectError
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.rules import (
    KINDS,
    MissingTranslation,
    Parent,
    Rule,
    RuleKind,
    Untranslated,
    python_pattern,
    rules_for,
    strftime_pattern,
)
from crm_migrate.mappings.targets import load_target
from crm_migrate.migrate import conform
from crm_migrate.validators import database, expectations
from crm_migrate.validators.readback import WrittenFile

# One column per kind of rule (the external id states two: required and unique; the GBK file puts the
# encoding rule on every column, Note states nothing else); contacts link by external id and by name.
PROFILE = """\
name: rules
rests_on: a test
file: {format: csv, encoding: gbk}
entities:
  accounts:
    object: Account
    columns:
      - {header: Id, value: external_id}
      - {header: Name, value: name, required: true}
      - {header: Short, value: short_name, max_length: 4}
      - {header: Level, value: level, type: picklist, picklist: [A, B]}
      - {header: Since, value: created_at, type: date, format: "%Y-%m-%d"}
      - {header: Revenue, value: "custom:revenue", type: money, format: "2"}
      - {header: Note, value: note}
  contacts:
    object: Contact
    columns:
      - {header: Id, value: external_id}
      - {header: Account, value: account_external_id, parent: accounts}
      - {header: AccountName, value: account_external_id, parent: accounts, parent_key: name}
"""
ACCOUNT_COLUMNS = ["Id", "Name", "Short", "Level", "Since", "Revenue", "Note"]
GOOD = ["星辰", "简称", "A", "2024-01-02", "100.00", "老客户"]  # Name .. Note of a record that breaks nothing
BROKEN = {  # line -> (column, bad value): one rule broken per row, so the database names each
    5: ("Name", None),
    6: ("Short", "星辰科技有限"),
    7: ("Level", "Z"),
    8: ("Since", "2024/01/02"),
    9: ("Revenue", "1,200.00"),
    10: ("Note", "王䶮"),
    11: ("Revenue", "100.00\n"),
}  # Python's $ takes "\n"


def accounts() -> pl.DataFrame:
    rows = [["a2", *GOOD], ["a0", "云帆", *GOOD[1:]], ["a0", "恒通", *GOOD[1:]]]  # lines 2-4: a0 twice
    for line, (column, bad) in BROKEN.items():
        row = [f"a{line - 2}", f"名{line}", *GOOD[1:]]
        row[ACCOUNT_COLUMNS.index(column)] = bad
        rows.append(row)
    rows += [["a10", "嵩山", *GOOD[1:]], ["a11", "星辰", *GOOD[1:]]]  # a11 shares a2's name
    return pl.DataFrame(rows, schema={c: pl.String for c in ACCOUNT_COLUMNS}, orient="row")


# As written: c2 links to no account, c3 by a name two accounts carry.
CONTACTS = pl.DataFrame(
    [["c1", "a2", "嵩山"], ["c2", "a99", None], ["c3", None, "星辰"]],
    schema={c: pl.String for c in ("Id", "Account", "AccountName")},
    orient="row",
)
# What conform links from: the parent's external id in both columns, before the name is looked up.
CONTACT_LINKS = CONTACTS.with_columns(pl.Series("AccountName", ["a10", None, "a2"]))
EXPECTED = {
    ("unique", "accounts", "Id", 3),
    ("unique", "accounts", "Id", 4),
    ("required", "accounts", "Name", 5),
    ("max_length", "accounts", "Short", 6),
    ("picklist", "accounts", "Level", 7),
    ("format", "accounts", "Since", 8),
    ("format", "accounts", "Revenue", 9),
    ("encoding", "accounts", "Note", 10),
    ("format", "accounts", "Revenue", 11),
    ("parent", "contacts", "Account", 3),
    ("parent", "contacts", "AccountName", 4),
}
# The database takes the first of two rows sharing an id and refuses the second: a0 is refused once.
EXPECTED_BY_DATABASE = EXPECTED - {("unique", "accounts", "Id", 3)}


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    (root / "targets").mkdir()
    (root / "targets" / "rules.yaml").write_text(PROFILE, encoding="utf-8")
    return load_target("targets/rules.yaml", root, "migration.yaml", None)[0]


def all_rules(profile, entity: Entity) -> list[Rule]:
    return [r for c in profile.entities[entity].columns for r in rules_for(c, profile.file.encoding)]


def files() -> list[WrittenFile]:
    out = [
        WrittenFile(Entity.accounts, "import/01_accounts_001.csv", accounts()),
        WrittenFile(Entity.contacts, "import/02_contacts_001.csv", CONTACTS),
    ]
    for f in out:
        f.read = f.intended
    return out


def conform_refusals(profile) -> set[tuple[str, str, str, int]]:
    """What conform's translation of each rule refuses: (rule, entity, column, line)."""
    found = set()
    frame = accounts()
    reasons = frame.select(
        conform.check(r, conform.Against(frame, pl.col(r.column))).alias(str(i))
        for i, r in enumerate(all_rules(profile, Entity.accounts))
    )
    for i, rule in enumerate(all_rules(profile, Entity.accounts)):
        found |= {(rule.name, "accounts", rule.column, n + 2) for n, why in enumerate(reasons[str(i)]) if why}
    kept = frame.filter(reasons.select(pl.all_horizontal(pl.all().is_null()))[:, 0])
    parents = kept.select(
        pl.col("Id").alias("external_id"), pl.col("Name").alias("name"), pl.lit(None, pl.String).alias("legacy_id")
    )
    for rule in all_rules(profile, Entity.contacts):
        on = conform.Against(CONTACT_LINKS, pl.col(rule.column), parents=parents, target="rules")
        why = CONTACT_LINKS.select(conform.check(rule, on))[:, 0]
        found |= {(rule.name, "contacts", rule.column, n + 2) for n, w in enumerate(why) if w}
    return found


def test_every_kind_of_rule_is_stated_by_the_hand_made_profile_and_translated_three_ways(profile):
    rules = all_rules(profile, Entity.accounts) + all_rules(profile, Entity.contacts)
    assert {r.kind for r in rules} == set(RuleKind) == set(KINDS)  # a new kind needs a column above
    written = {Entity.accounts: ACCOUNT_COLUMNS, Entity.contacts: list(CONTACTS.columns)}
    keys = {"Account": ["a2"], "AccountName": ["嵩山"]}
    for rule in rules:
        frame = accounts() if rule.column in ACCOUNT_COLUMNS else CONTACT_LINKS
        expr = conform.check(
            rule,
            conform.Against(
                frame,
                pl.col(rule.column),
                parents=pl.DataFrame(
                    {"external_id": ["a2"], "name": ["星辰"], "legacy_id": [None]},
                    schema_overrides={"legacy_id": pl.String},
                ),
            ),
        )
        assert frame.select(expr).height == frame.height, rule
        suite = expectations.expectation(rule, keys)
        assert isinstance(suite, tuple) and suite[1]["column"] == rule.column and suite[2] == rule.name, rule
        sql = database.constraint(rule, profile, written)
        assert isinstance(sql, database.Constraint | Untranslated), rule
        assert rule.message and rule.hint and "; " not in rule.hint  # conform's reasons end "; <hint>"
    if expectations.available():
        import great_expectations.expectations as gxe

        assert all(hasattr(gxe, expectations.expectation(r, keys)[0]) for r in rules)
    # A link by name is no key: the DDL says so and the load counts parents of that name instead.
    by_name = next(r for r in rules if isinstance(r, Parent) and r.key == "name")
    assert isinstance(database.constraint(by_name, profile, written), Untranslated)


def test_a_kind_no_translator_knows_is_an_error_not_a_rule_left_out(profile):
    class Novel(Rule):
        kind = RuleKind.required  # a subclass the translators have no case for

        message = hint = "new"

    rule = Novel("Name")
    with pytest.raises(MissingTranslation, match="conform"):
        conform.check(rule, conform.Against(accounts(), pl.col("Name")))
    with pytest.raises(MissingTranslation, match="expectations"):
        expectations.expectation(rule, {})
    with pytest.raises(MissingTranslation, match="database"):
        database.constraint(rule, profile, {Entity.accounts: ACCOUNT_COLUMNS})


def test_conform_refuses_each_bad_value_and_only_those(profile):
    assert conform_refusals(profile) == EXPECTED


def test_conform_takes_an_empty_text_for_no_value_as_the_file_writes_it():
    frame = pl.DataFrame({"Level": ["", "Z"], "Since": ["", "x"], "Revenue": ["", "x"], "Id": ["", ""]})
    rules = [
        KINDS[RuleKind.picklist]("Level", ("A",)),
        KINDS[RuleKind.date_format]("Since", "%Y-%m-%d"),
        KINDS[RuleKind.number_format]("Revenue", 2),
        KINDS[RuleKind.unique]("Id"),
        KINDS[RuleKind.required]("Id"),
    ]
    got = frame.select(
        conform.check(r, conform.Against(frame, pl.col(r.column))).alias(str(i)) for i, r in enumerate(rules)
    )
    assert got.row(0) == (
        None,
        None,
        None,
        None,
        "Id: required by the target but empty; fill the source column or map a default",
    )
    assert got.row(1)[:3] == (
        "Level: Z is not one of the target's values (A); add it to the field's value map",
        "Since: x is not a date written as %Y-%m-%d; map a date field to the column or fix the value at the source",
        "Revenue: x is not a plain decimal with 2 places; map an "
        "amount or number field to the column or fix the value at the source",
    )


def test_the_database_refuses_the_same_values(profile, tmp_path):
    found = database.load(profile, files(), schema_file=tmp_path / "schema.sql")
    assert {(f.rule, f.entity, f.column, f.row) for f in found} == EXPECTED_BY_DATABASE
    schema = (tmp_path / "schema.sql").read_text(encoding="utf-8")
    assert "REGEXP '^[0-9]{4}[-](?:0[1-9]|1[0-2]|[1-9])[-]" in schema  # the date's shape, as SQLite checks it
    hints = {f.column: f.hint for f in found}
    assert hints["Short"] == "shorten it at the source or map it to a longer field"  # the rule's own hint


@pytest.mark.skipif(not expectations.available(), reason="the validate extra is not installed")
def test_the_expectation_suite_refuses_the_same_values(profile, tmp_path):
    found = expectations.validate(tmp_path, profile, files())
    assert {(f.rule, f.entity, f.column, f.row) for f in found} == EXPECTED


@pytest.mark.skipif(
    not os.environ.get("CRM_MIGRATE_TEST_POSTGRES"),
    reason="set CRM_MIGRATE_TEST_POSTGRES=postgresql://... to test against a server",
)
def test_postgresql_refuses_the_same_values(profile):
    found = database.load(profile, files(), os.environ["CRM_MIGRATE_TEST_POSTGRES"])
    assert {(f.rule, f.entity, f.column, f.row) for f in found} == EXPECTED_BY_DATABASE


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%Y年%m月%d日", "%Y%m%d", "%y.%m.%d"])
def test_the_shape_of_a_date_format_holds_every_date_written_in_it_and_refuses_others(fmt):
    days = pl.date_range(dt.date(1999, 1, 1), dt.date(2001, 12, 31), "17d", eager=True)
    written = days.dt.strftime(fmt)
    pattern = strftime_pattern(fmt)
    assert written.str.contains(pattern).all()
    assert all(re.search(python_pattern(pattern), w) for w in written)
    assert all(dt.datetime.strptime(w, fmt) for w in written)  # and they are what the suite parses
    assert not re.search(python_pattern(pattern), "2000-13-01" if fmt == "%Y-%m-%d" else "1.1.1.1")


@pytest.mark.parametrize(
    ("kind", "fmt", "said"),
    [
        ("date", "%Y-%m-%d %H:%M", "uses %H, %M"),
        ("date", "%b %d %Y", "uses %b"),
        ("date", "%m-%d", "no year"),
        ("datetime", "%Y-%m-%dT%H:%M:%S%z", "uses %z"),
    ],
)
def test_a_date_format_crm_migrate_cannot_write_is_refused_at_its_line(tmp_path: Path, kind, fmt, said):
    (tmp_path / "targets").mkdir()
    text = PROFILE.replace('type: date, format: "%Y-%m-%d"', f'type: {kind}, format: "{fmt}"')
    (tmp_path / "targets" / "rules.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError) as exc:
        load_target("targets/rules.yaml", tmp_path, "migration.yaml", None)
    problem = exc.value.problems[0]
    assert (
        said in problem.message
        and problem.line
        == text.splitlines().index(next(line for line in text.splitlines() if "header: Since" in line)) + 1
    )


def test_a_datetime_format_may_have_hours():
    from crm_migrate.mappings.targets import ColumnSpec

    spec = ColumnSpec(header="At", value="created_at", type="datetime", format="%Y-%m-%d %H:%M:%S")
    (rule,) = rules_for(spec, "utf-8")
    assert rule.name == "format" and re.search(python_pattern(rule.pattern), "2024-01-02 09:30:00")


def only_contacts() -> list[WrittenFile]:
    f = WrittenFile(Entity.contacts, "import/02_contacts_001.csv", CONTACTS.select("Id", "Account"))
    f.read = f.intended
    return [f]


def test_a_link_to_an_entity_no_file_holds_is_refused_by_conform_and_the_database(profile):
    rule = next(r for r in all_rules(profile, Entity.contacts) if isinstance(r, Parent) and r.column == "Account")
    why = CONTACT_LINKS.select(conform.check(rule, conform.Against(CONTACT_LINKS, pl.col("Account"))))[:, 0]
    assert why.to_list() == [
        "Account: no account a2 among the records written",
        "Account: no account a99 among the records written",
        None,
    ]
    found = database.load(profile, only_contacts())
    assert sorted((f.row, f.column, f.rule) for f in found) == [(2, "Account", "parent"), (3, "Account", "parent")]


@pytest.mark.skipif(not expectations.available(), reason="the validate extra is not installed")
def test_a_link_to_an_entity_no_file_holds_fails_its_expectation(profile, tmp_path):
    found = expectations.validate(tmp_path, profile, only_contacts())
    assert sorted((f.row, f.column, f.rule) for f in found) == [(2, "Account", "parent"), (3, "Account", "parent")]


def test_conform_refuses_an_amount_it_cannot_write_and_writes_dates_in_the_profiles_format(make_project):
    from crm_migrate.migrate.run import prepare
    from tests.test_targets import own_profile, project

    columns = (
        "      - {header: Id, value: external_id, required: true}\n"
        '      - {header: Note, value: note, type: money, format: "2"}\n'
    )
    birthday = '      - {header: Birthday, value: birthday, type: date, format: "%Y/%m/%d"}\n'
    result = prepare(
        project(make_project, "targets/mine.yaml", {"targets/mine.yaml": own_profile(columns, contacts=birthday)})
    )
    accounts = result.migration.entities[Entity.accounts].frame.sort("_row")
    assert accounts["_outcome"].to_list() == ["rejected"] * 3  # no note of theirs is an amount
    # as written: the apostrophe keeps a spreadsheet from running it as a formula
    assert "Note: '-5 折扣 is not a plain decimal with 2 places; map an amount" in accounts["_reason"][1]
    assert accounts["_rule"].to_list() == ["target format: Note"] * 3
    assert result.conformed[Entity.contacts].frame["Birthday"].to_list() == ["1949/12/31", "1990/03/05", None]
