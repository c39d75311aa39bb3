"""The pipeline on small projects: scope, required fields, merges, links, golden records, determinism."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.output_frames import import_frame
from crm_migrate.migrate.run import prepare, run
from crm_migrate.project import load_project

MIGRATION = "name: t\noptions: {today: 2026-01-01}\n"
ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns:
      编号: id
      名称: name
      信用代码: uscc
      电话: phone
      最近跟进: last_activity_at
    where:
      - {field: last_activity_at, since: 3y, reason: "no activity in 3 years"}
"""
CONTACTS = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns:
      编号: id
      客户: account_id
      姓名: name
      手机: mobile
      身份证: id_card
"""
ACCOUNTS_CSV = """编号,名称,信用代码,电话,最近跟进
A1,北京星辰科技有限公司,91350100M000100Y43,010-62345678,2025-05-01
A2,星辰科技有限公司,,,2018-01-01
A3,,,021-55556666,2025-01-01
A4,北京星辰科技有限责任公司,91350100M000100Y43,,2025-02-02
A5,上海云帆贸易有限公司,,,2025-03-03
A6,广州恒通物流有限公司,,,最近
"""
CONTACTS_CSV = """编号,客户,姓名,手机,身份证
L1,A1,张伟,13800138001,
L2,A4,张 伟,138 0013 8001,11010519491231002X
L3,A9,李娜,13900139000,11010519491231002X
L4,A2,王芳,,
L5,A3,赵立新,,
L6,,孙七,13700137000,
"""


@pytest.fixture
def small(make_project):
    return load_project(
        make_project(
            MIGRATION,
            {"accounts": ACCOUNTS, "contacts": CONTACTS},
            {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
        )
    )


def outcome(result, entity: Entity, row: int) -> tuple[str, str | None]:
    f = result.migration.entities[entity].frame.filter(pl.col("_row") == row)
    assert f.height == 1
    return f["_outcome"][0], f["_reason"][0]


def test_scope_filter_and_required_field(small):
    result = prepare(small)
    assert outcome(result, Entity.accounts, 3) == ("filtered", "no activity in 3 years")
    assert outcome(result, Entity.accounts, 4) == ("rejected", "required name is empty (column 名称)")
    assert outcome(result, Entity.accounts, 7) == ("filtered", "no activity in 3 years")  # not a date


def test_same_credit_code_merges_and_the_golden_record_keeps_every_value(small):
    result = prepare(small)
    assert outcome(result, Entity.accounts, 2)[0] == "written"
    status, reason = outcome(result, Entity.accounts, 5)
    assert status == "merged"
    accounts = import_frame(result.migration.entities[Entity.accounts])
    survivor = accounts.filter(pl.col("legacy_id") == "A1").row(0, named=True)
    assert reason == f"merged into {survivor['external_id']}"
    assert survivor["name"] == "北京星辰科技有限公司"  # the first source row wins
    assert survivor["phone"] == "+861062345678"
    assert accounts.height == 2  # A1 (with A4 merged in) and A5; A6 is out of scope


def test_links_follow_merges_and_report_orphans(small):
    result = prepare(small)
    contacts = import_frame(result.migration.entities[Entity.contacts])
    accounts = import_frame(result.migration.entities[Entity.accounts])
    a1 = accounts.filter(pl.col("legacy_id") == "A1")["external_id"][0]
    # L1 (account A1) and L2 (account A4, merged into A1) are the same person: one contact, linked to A1.
    assert outcome(result, Entity.contacts, 2)[0] == "written"
    assert outcome(result, Entity.contacts, 3)[0] == "merged"
    zhang = contacts.filter(pl.col("legacy_id") == "L1").row(0, named=True)
    assert zhang["account_external_id"] == a1
    assert zhang["id_card"] == "11010519491231002X"  # taken from the merged member that had it
    assert outcome(result, Entity.contacts, 4) == ("rejected", "no account with id A9 in crm")
    assert outcome(result, Entity.contacts, 5) == ("filtered", "its account A2 was filtered: no activity in 3 years")
    assert outcome(result, Entity.contacts, 6)[0] == "rejected"
    assert "its account A3 was rejected" in outcome(result, Entity.contacts, 6)[1]
    # Contacts may stand without an account; opportunities and activities may not.
    sun = contacts.filter(pl.col("legacy_id") == "L6").row(0, named=True)
    assert sun["account_external_id"] is None


def test_golden_record_prefers_a_valid_value_over_an_earlier_invalid_one(make_project):
    contacts = (
        "编号,客户,姓名,手机,身份证\nL1,,张伟,13800138001,110101199003074512\nL2,,张伟,13800138001,11010519491231002X\n"
    )
    root = make_project(MIGRATION, {"contacts": CONTACTS}, {"data/contacts.csv": contacts})
    frame = import_frame(prepare(load_project(root)).migration.entities[Entity.contacts])
    assert frame["id_card"].to_list() == ["11010519491231002X"]


def test_same_row_link_in_a_sheet_holding_company_and_person(make_project):
    mapping = """\
    file: data/signups.csv
    entities:
      accounts:
        columns: {公司: name}
      contacts:
        columns: {姓名: name, 手机: mobile}
    """
    csv = "姓名,公司,手机\n张伟,北京星辰科技有限公司,13800138001\n李娜,,13900139000\n,上海云帆贸易有限公司,\n"
    root = make_project("name: t\n", {"signups": mapping}, {"data/signups.csv": csv})
    result = prepare(load_project(root))
    accounts = import_frame(result.migration.entities[Entity.accounts])
    contacts = import_frame(result.migration.entities[Entity.contacts])
    xingchen = accounts.filter(pl.col("name") == "北京星辰科技有限公司")["external_id"][0]
    assert contacts.filter(pl.col("name") == "张伟")["account_external_id"][0] == xingchen
    assert contacts.filter(pl.col("name") == "李娜")["account_external_id"][0] is None
    assert outcome(result, Entity.contacts, 4) == ("filtered", "no contact on this row (姓名, 手机 empty)")
    assert outcome(result, Entity.accounts, 3)[0] == "filtered"


def test_every_row_has_one_outcome_per_entity(small):
    result = prepare(small)
    lineage = result.lineage
    assert lineage.height == 6 + 6
    assert lineage["outcome"].is_in(["written", "merged", "filtered", "rejected"]).all()
    assert result.reconciliation.balanced


def test_record_ids_are_stable_across_runs_and_independent_of_row_position(make_project, small):
    first = import_frame(prepare(small).migration.entities[Entity.accounts])
    shuffled = ACCOUNTS_CSV.splitlines()
    reordered = "\n".join([shuffled[0], *reversed(shuffled[1:])]) + "\n"
    root = make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": reordered, "data/contacts.csv": CONTACTS_CSV},
    )
    second = import_frame(prepare(load_project(root)).migration.entities[Entity.accounts])
    ids_first = dict(zip(first["legacy_id"], first["external_id"]))
    ids_second = dict(zip(second["legacy_id"], second["external_id"]))
    assert ids_first["A5"] == ids_second["A5"]  # moved from row 6 to row 2, same id
    # A1 and A4 merge either way; which one survives follows row order, and so does the id.
    assert ids_second["A4"] != ids_first["A1"] and len(ids_second) == 2


def test_a_mapped_column_missing_from_the_file_stops_the_run(make_project):
    csv = "编号,名称\nA1,北京星辰科技有限公司\n"
    root = make_project(MIGRATION, {"accounts": ACCOUNTS}, {"data/accounts.csv": csv})
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(root))
    assert any("column '信用代码' is not in data/accounts.csv" in p.message for p in exc.value.problems)


def test_run_writes_the_output_tree_and_replaces_it_only_on_success(small, tmp_path):
    out = tmp_path / "out"
    result = run(small, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "import/01_accounts_001.csv",
        "import/02_contacts_001.csv",
        "import/03_opportunities_001.csv",
        "import/04_activities_001.csv",
        "lineage.csv",
        "manifest.json",
        "rejects/accounts.csv",
        "rejects/activities.csv",
        "rejects/contacts.csv",
        "rejects/held_back.csv",
        "rejects/opportunities.csv",
        "reports/quality.html",
        "reports/quality.json",
        "review/duplicate_groups.csv",
        "review/duplicates.xlsx",
        "review/orphans.csv",
        "review/provenance.csv",
        "review/stale_decisions.csv",
        "run.log",
    ]
    assert result.reconciliation.balanced
    before = (out / "lineage.csv").read_bytes()
    # A run that fails (a source turned unreadable) leaves the previous output untouched.
    (small.root / "data" / "accounts.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MigrateError):
        run(load_project(small.root), out)
    assert (out / "lineage.csv").read_bytes() == before
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_run_refuses_to_replace_a_folder_it_did_not_write(small, tmp_path):
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    with pytest.raises(MigrateError, match="was not written by crm-migrate"):
        run(small, foreign)
    with pytest.raises(MigrateError, match="would replace the project"):
        run(small, small.root)
    assert (foreign / "thesis.docx").read_text() == "precious"


def test_rejects_keep_original_values_and_reason(small, tmp_path):
    run(small, tmp_path / "out")
    rejects = pl.read_csv(tmp_path / "out" / "rejects" / "contacts.csv", infer_schema=False)
    row = rejects.filter(pl.col("row") == "4").row(0, named=True)
    assert row["reason"] == "no account with id A9 in crm"
    assert (row["编号"], row["客户"], row["姓名"], row["手机"]) == ("L3", "A9", "李娜", "13900139000")
    assert row["身份证"] == "110105********002X"  # a review file shows ID numbers masked


def test_test_records_are_rejected_by_default_and_configurable(make_project):
    csv = (
        "编号,名称,信用代码,电话,最近跟进\nA1,测试客户,,,2025-01-01\nA2,asdf有限公司,,,2025-01-01\n"
        "A3,北京星辰科技有限公司,,,2025-01-01\nA4,,,13800138000,2025-01-01\n"
    )
    root = make_project(MIGRATION, {"accounts": ACCOUNTS}, {"data/accounts.csv": csv})
    result = prepare(load_project(root))
    assert outcome(result, Entity.accounts, 2) == ("rejected", "test record: test marker in '测试客户'")
    assert outcome(result, Entity.accounts, 3)[1].startswith("test record:")
    assert outcome(result, Entity.accounts, 4)[0] == "written"
    assert outcome(result, Entity.accounts, 5) == (
        "rejected",
        "test record: no name and only placeholder phone numbers",
    )
    root = make_project(
        MIGRATION.replace("{today: 2026-01-01}", "{today: 2026-01-01, test_records: keep}"),
        {"accounts": ACCOUNTS},
        {"data/accounts.csv": csv},
    )
    assert outcome(prepare(load_project(root)), Entity.accounts, 2)[0] == "written"


def test_ambiguous_date_column_is_reported_and_the_mapping_settles_it(make_project):
    mapping = """\
    file: data/acts.csv
    system: crm
    entities:
      accounts:
        columns: {客户: name, 日期: last_activity_at}
    """
    csv = "客户,日期\n北京星辰科技有限公司,05/03/2025\n上海云帆贸易有限公司,04/02/2025\n"
    root = make_project(MIGRATION, {"acts": mapping}, {"data/acts.csv": csv})
    result = prepare(load_project(root))
    frame = import_frame(result.migration.entities[Entity.accounts])
    assert frame["last_activity_at"].to_list() == [None, None]  # invalid until settled: left out of the import
    [warning] = [w for w in result.migration.warnings if "日期" in w.message]
    assert warning.line == 5 and "date_order" in warning.hint
    root = make_project(
        MIGRATION,
        {"acts": mapping.replace("日期: last_activity_at", "日期: {field: last_activity_at, date_order: dmy}")},
        {"data/acts.csv": csv},
    )
    frame = import_frame(prepare(load_project(root)).migration.entities[Entity.accounts])
    assert frame["last_activity_at"].to_list() == ["2025-03-05", "2025-02-04"]


VALUES = """\
file: data/accounts.csv
entities:
  accounts:
    columns:
      名称: name
      行业:
        field: industry
        values: {信息技术: IT, 制造业: Manufacturing, 醫療健康: Healthcare}
"""
VALUES_CSV = (
    "名称,行业\n北京星辰科技有限公司,信息技术\n上海云帆贸易有限公司,批发零售\n广州恒通物流有限公司,批发零售\n"
    "深圳大疆创新科技有限公司,医疗健康\n杭州云栖科技有限公司,\n"
)


def test_picklist_values_are_mapped_and_unknown_values_stop_plan_and_validate(make_project):
    from crm_migrate.migrate.validate import validate_project

    root = make_project(MIGRATION, {"accounts": VALUES}, {"data/accounts.csv": VALUES_CSV})
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(root))
    [problem] = exc.value.problems
    assert (
        problem.line == 6
        and "1 value(s) of '行业' are not in the value map of industry: 批发零售 (2)" in problem.message
    )
    assert [p.message for p in validate_project(root)] == [problem.message]


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("unknown: keep", ["IT", "批发零售", "批发零售", "Healthcare", None]),
        ("{unknown: default, default: Other}", ["IT", "Other", "Other", "Healthcare", None]),
    ],
)
def test_picklist_unknown_policies(make_project, policy, expected):
    mapping = VALUES + "        " + policy.strip("{}").replace(", ", "\n        ") + "\n"
    root = make_project(MIGRATION, {"accounts": mapping}, {"data/accounts.csv": VALUES_CSV})
    frame = import_frame(prepare(load_project(root)).migration.entities[Entity.accounts])
    assert frame["industry"].to_list() == expected


def test_row_signals_settle_districts_and_complete_area_codes(make_project):
    mapping = """\
    file: data/a.csv
    entities:
      accounts:
        columns: {名称: name, 地址: address, 电话: phone}
    """
    csv = (
        "名称,地址,电话\n北京星辰科技有限公司,朝阳区建国路88号,010-62345678\n"
        "长春一汽贸易有限公司,朝阳区人民大街1号,0431-88888888\n上海云帆贸易有限公司,朝阳区某路,\n"
        "深圳大疆创新科技有限公司,广东省深圳市南山区科技园,26656677\n"
    )
    root = make_project("name: t\n", {"a": mapping}, {"data/a.csv": csv})
    frame = import_frame(prepare(load_project(root)).migration.entities[Entity.accounts])
    rows = frame.select("address", "address_city", "address_code", "phone").rows()
    assert rows[0][:3] == ("北京市朝阳区建国路88号", "北京市", "110105")
    assert rows[1][:3] == ("吉林省长春市朝阳区人民大街1号", "长春市", "220104")
    assert rows[2][:3] == ("朝阳区某路", None, None)  # no signal on the row: left as written
    assert rows[3] == ("广东省深圳市南山区科技园", "深圳市", "440305", "+8675526656677")


def test_run_leaves_out_every_value_dry_run_says_is_left_out(make_project, tmp_path):
    """0000-00-00, 2021-02-30 and a 200-digit phone: dry-run reports them as imported without the value,
    and the import file holds no such value."""
    from crm_migrate.migrate.dryrun import held_back

    mapping = """\
    file: data/a.csv
    entities:
      accounts:
        columns: {客户: name, 电话: phone, 创建: created_at}
    """
    csv = (
        "客户,电话,创建\n北京星辰科技有限公司,010-62345678,0000-00-00\n上海云帆贸易有限公司,"
        + "1" * 200
        + ",2021-02-30\n广州海岸电子有限公司,020-83886688,2021-03-05\n"
    )
    root = make_project(MIGRATION, {"a": mapping}, {"data/a.csv": csv})
    result = run(load_project(root), tmp_path / "out")
    written = pl.read_csv(tmp_path / "out" / "import" / "01_accounts_001.csv", infer_schema=False)
    rows = {r["name"]: r for r in written.iter_rows(named=True)}
    lost = {(f.row, f.column) for f in held_back(result) if f.rule.startswith("invalid")}
    assert lost == {(2, "created_at"), (3, "phone"), (3, "created_at")}
    assert rows["北京星辰科技有限公司"]["created_at"] is None and rows["北京星辰科技有限公司"]["phone"]
    assert rows["上海云帆贸易有限公司"]["phone"] is None and rows["上海云帆贸易有限公司"]["created_at"] is None
    assert rows["广州海岸电子有限公司"]["created_at"] == "2021-03-05"


def test_extracting_returns_its_problems_and_leaves_the_table_read_as_it_was(make_project):
    """A 同上 column's warning and a lookup's missing values come back from extract, once per call; the table
    it reads keeps only what its reader found (a dry run extracts the same table again)."""
    import datetime as dt

    from crm_migrate.cleaners import CleanContext
    from crm_migrate.errors import ProjectError
    from crm_migrate.migrate.extract import extract
    from crm_migrate.migrate.pipeline import build, read_all

    p = load_project(
        make_project(
            "name: t\nentities: [accounts]\noptions: {today: 2026-01-01}\n",
            {
                "crm": (
                    "file: data/a.csv\nentities:\n  accounts:\n    columns: {名称: name, 行业: industry}\n"
                    "    derive:\n      level: {column: 级别, lookup: {file: data/levels.csv, key: code, value: name}}\n"
                )
            },
            {
                "data/a.csv": "名称,行业,级别\n北京星辰科技有限公司,软件,A\n上海云帆贸易有限公司,同上,Z\n",
                "data/levels.csv": "code,name\nA,重点\n",
            },
        )
    )
    read = read_all(p, None, None)[0]
    table, plan = read.table, read.source.plan_for(Entity.accounts)
    assert plan is not None
    kept = list(table.warnings)
    first = extract(read.source, table, plan, 0, CleanContext(), dt.date(2026, 1, 1))
    again = extract(read.source, table, plan, 0, CleanContext(), dt.date(2026, 1, 1))
    assert [w.message for w in first.warnings] == [w.message for w in again.warnings]
    assert sum("same as above" in w.message for w in first.warnings) == 1
    assert len(first.errors) == 1 and "not in the lookup table" in first.errors[0].message
    assert table.warnings == kept  # nothing appended to the table read
    assert first.frame.equals(again.frame)
    with pytest.raises(ProjectError, match="not in the lookup table"):
        build(p)  # the error extract returned stops the build


def test_a_column_a_stage_reads_and_the_frame_lacks_is_an_error_not_nulls(small):
    """Before, a missing column became a column of nulls: contacts without their account link would have been
    written with empty links. Now the stage names what is missing; only what may legitimately be absent (a
    part no value has, merged members' other values) reads as nulls."""
    from dataclasses import replace

    from crm_migrate.migrate.columns import MissingColumns, optional

    result = prepare(small)
    contacts = result.migration.entities[Entity.contacts]
    assert import_frame(contacts)["account_external_id"].null_count() < contacts.frame.height
    unlinked = replace(contacts, frame=contacts.frame.drop("_account"))
    with pytest.raises(MissingColumns, match="import file of contacts: the frame has no column '_account'"):
        import_frame(unlinked)
    frame = contacts.frame
    assert "a:name.nickname" not in frame.columns
    assert frame.with_columns(optional(frame, "a:name.nickname", "t").alias("x"))["x"].null_count() == frame.height
    for misspelt in ("_filed_from", "v;name", "account"):
        with pytest.raises(MissingColumns, match=misspelt):
            optional(frame, misspelt, "t")


def test_plan_keeps_nothing_for_the_migration_state_a_run_would_record(small):
    """What matching compared is encoded for the state only where a state will record the build: a run does,
    plan never does (it would pay for it at every plan)."""
    from crm_migrate.migrate.plan import plan

    assert small.config.options.state.enabled
    kept = prepare(small).migration.entities[Entity.accounts].compared
    assert kept is not None
    planned = plan(small).result.migration.entities
    assert all(r.compared is None for r in planned.values())
