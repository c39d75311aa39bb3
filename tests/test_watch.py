"""`crm-migrate watch` on a small hand-made project: a run records the state, then the CRM's export (the import
files as the CRM gives them back, plus records typed into it since) is watched: new duplicates against the
state and among themselves, invalid and incomplete values by field and owner, limits and exit codes, the
trend against the last watch, masking, and the refusals of exports that cannot be used."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.migrate import state as state_module
from crm_migrate.migrate.run import run
from crm_migrate.project import load_project

runner = CliRunner()

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {编号: id, 名称: name, 电话: phone, 负责人: owner}
"""
CONTACTS = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns: {编号: id, 客户编号: account_id, 姓名: name, 手机: mobile, 负责人: owner}
"""
# A4 is A1 again: the run merges them, so the state keeps weights estimated on a real pair.
ACCOUNTS_CSV = """编号,名称,电话,负责人
A1,北京星辰科技有限公司,010-62345678,王强
A2,上海云帆贸易有限公司,021-52345678,李明
A3,广州明远电子有限公司,020-82345678,王强
A4,北京星辰科技有限公司,010-62345678,李明
A5,深圳海天物流有限公司,0755-82345678,李明
"""
CONTACTS_CSV = """编号,客户编号,姓名,手机,负责人
C1,A1,张伟,13812345678,王强
C2,A2,李娜,13912345678,李明
C3,A3,王芳,13712345678,王强
"""
MIGRATION = "name: t\nentities: [accounts, contacts]\noptions: {today: 2026-01-01}\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def migrated(make_project):
    """A project whose run recorded batch 1 in the state."""

    def make(watch: str = "", run_it: bool = True):
        root = make_project(
            MIGRATION + watch,
            {"accounts": ACCOUNTS, "contacts": CONTACTS},
            {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
        )
        if run_it:
            run(load_project(root))
        return root

    return make


def export(root, entity: str, extra: list[dict], name: str | None = None):
    """The run's import file of ``entity`` as the CRM exports it, with ``extra`` records typed in since."""
    sent = next((root / "out" / "import").glob(f"*_{entity}_*.csv")) if (root / "out").exists() else None
    if sent is not None:
        rows = list(csv.DictReader(io.StringIO(sent.read_text(encoding="utf-8-sig"))))
        header = list(rows[0])
    else:
        rows, header = [], list(extra[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows + extra)
    path = root.parent / (name or f"export_{entity}.csv")
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


NEW_ACCOUNTS = [
    {"name": "北京星辰科技有限公司", "phone": "010-62345678", "owner": "李明"},  # a migrated account typed again
    {"name": "杭州青禾农业有限公司", "phone": "0571-87654321", "owner": "赵敏"},  # two new ones, the same company
    {"name": "杭州青禾农业有限公司", "phone": "0571-87654321", "owner": "赵敏"},
    {"name": "成都锦程文化有限公司", "phone": "028-86543210", "owner": "赵敏"},  # a new one, no duplicate
]


def report_of(done_output: str, root) -> dict:
    folder = sorted((root / "watch").iterdir())[-1]
    return json.loads((folder / "watch.json").read_text(encoding="utf-8"))


def test_duplicates_of_new_records_against_the_state_and_among_themselves(migrated):
    root = migrated("watch: {max_new_duplicates: 0}\n")
    file = export(root, "accounts", NEW_ACCOUNTS)
    # a migrated account edited in the CRM into another migrated one: a duplicate, but none created since go-live
    file.write_text(
        file.read_text(encoding="utf-8").replace(
            "广州明远电子有限公司,+862082345678", "深圳海天物流有限公司,+8675582345678"
        ),
        encoding="utf-8",
    )
    done = invoke("watch", root, "--exported", file)
    assert done.exit_code == 1, done.output
    assert "over the limit: accounts.new_duplicates 2 > 0" in done.output
    report = report_of(done.output, root)
    accounts = report["entities"]["accounts"]
    assert accounts["records"] == 8 and accounts["new"] == 4
    assert accounts["new_by"] == "external id not in the migration state"
    d = accounts["duplicates"]
    assert d["clusters"] == 2 and d["records"] == 4 and d["new_records"] == 3 and d["weights"] == "state"
    assert d["clusters_without_new"] == 1
    members = [[(m["row"], m["new"]) for m in c["members"]] for c in d["listed"]]
    assert sorted(members) == [[(2, False), (6, True)], [(7, True), (8, True)]]
    against_state = next(c for c in d["listed"] if c["members"][0]["row"] == 2)
    assert against_state["members"][0]["external_id"].startswith("acc_")
    assert against_state["pairs"][0]["rows"] == [2, 6] and "name" in against_state["pairs"][0]["evidence"]
    folder = sorted((root / "watch").iterdir())[-1]
    assert (folder / "watch.html").is_file()
    listed = list(csv.DictReader(io.StringIO((folder / "duplicates.csv").read_text(encoding="utf-8"))))
    assert len(listed) == 4 and {r["cluster"] for r in listed} == {"1", "2"}


def test_the_state_weights_are_used_rather_than_estimated_again(migrated):
    """Weights in the state that make every agreement count against a match leave no duplicate at all."""
    root = migrated()
    with sqlite3.connect(root / "state" / "migration.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM weights WHERE entity = 'accounts'").fetchone()[0] > 0
        conn.execute(
            "UPDATE weights SET m = CASE WHEN level = 0 THEN 0.99 ELSE 0.0001 END, "
            "u = CASE WHEN level = 0 THEN 0.01 ELSE 0.5 END WHERE entity = 'accounts'"
        )
    done = invoke("watch", root, "--exported", export(root, "accounts", NEW_ACCOUNTS))
    assert done.exit_code == 0, done.output
    d = report_of(done.output, root)["entities"]["accounts"]["duplicates"]
    assert d["weights"] == "state" and d["clusters"] == 0


def test_without_a_state_every_record_is_new_and_the_watch_is_not_kept(migrated):
    root = migrated(run_it=False)
    file = export(
        root,
        "accounts",
        [{"external_id": "", "name": n["name"], "phone": n["phone"], "owner": n["owner"]} for n in NEW_ACCOUNTS],
    )
    done = invoke("watch", root, "--exported", file)
    assert done.exit_code == 0, done.output
    assert "No migration state: every record counts as new" in done.output and "not kept" in done.output
    report = report_of(done.output, root)
    assert report["entities"]["accounts"]["new"] == 4 and report["state"]["exists"] is False
    assert report["entities"]["accounts"]["duplicates"]["clusters"] == 1  # the two 青禾 only: 星辰 is alone here
    assert not (root / "state").exists()  # a watch never starts a state


def test_invalid_and_incomplete_values_by_field_and_owner_against_limits(migrated):
    root = migrated(
        "watch:\n  max_invalid_rate: 0.5\n  max_incomplete_rate: 0.5\n"
        "  fields: {accounts.phone: {max_invalid_rate: 0.1}}\n"
    )
    typed = [
        {"name": "", "phone": "0571-87654321", "owner": "赵敏"},  # no name: incomplete
        {"name": "成都锦程文化有限公司", "phone": "电话待补", "owner": "赵敏"},  # invalid phone
        {"name": "重庆山城火锅有限公司", "phone": "023-6", "owner": ""},
    ]  # invalid, no owner
    done = invoke("watch", root, "--exported", export(root, "accounts", typed))
    assert done.exit_code == 1, done.output
    report = report_of(done.output, root)
    fields = {f["field"]: f for f in report["entities"]["accounts"]["fields"]}
    assert fields["phone"]["invalid"] == 2 and fields["phone"]["filled"] == 7
    assert fields["phone"]["invalid_rate"] == round(2 / 7, 4)
    assert fields["name"]["required"] and fields["name"]["missing"] == 1
    assert fields["name"]["incomplete_rate"] == round(1 / 7, 4)
    over = {o["figure"]: o["limit"] for o in report["over"]}
    assert over == {"accounts.phone.invalid_rate": 0.1}  # the field's own limit, not the looser default
    owners = {o["owner"]: o for o in report["entities"]["accounts"]["owners"]}
    assert owners["赵敏"]["invalid_values"] == 1 and owners["赵敏"]["incomplete_records"] == 1
    assert owners["(no owner)"]["invalid_values"] == 1 and owners["(no owner)"]["new"] == 1


def test_each_watch_is_kept_and_the_next_shows_the_trend(migrated):
    root = migrated()
    path = root / "state" / "migration.sqlite"
    with sqlite3.connect(path) as conn:  # a state of schema 1, as runs before watch wrote it
        conn.execute("DROP TABLE watches")
        conn.execute("UPDATE schema_version SET version = 1")
    first = invoke("watch", root, "--exported", export(root, "accounts", NEW_ACCOUNTS[:1]))
    assert first.exit_code == 0, first.output
    second = invoke("watch", root, "--exported", export(root, "accounts", NEW_ACCOUNTS))
    assert second.exit_code == 0, second.output
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (state_module.SCHEMA_VERSION,)
        kept = conn.execute("SELECT figures FROM watches ORDER BY watch").fetchall()
    assert [json.loads(f)["accounts.new"] for (f,) in kept] == [1, 4]
    trend = {t["figure"]: t for t in report_of(second.output, root)["trend"]}
    assert trend["accounts.new"] == {"figure": "accounts.new", "now": 4, "before": 1, "change": 3}
    assert trend["accounts.new_duplicates"]["before"] == 1 and trend["accounts.new_duplicates"]["now"] == 2
    assert "(last watch 1)" in second.output
    shown = invoke("state", root, "show")
    assert shown.exit_code == 0 and "2 watch(es) of the CRM's export" in shown.output
    exported = invoke("state", root, "export", "--out", root / "dump", "--format", "json")
    assert exported.exit_code == 0, exported.output
    assert len(json.loads((root / "dump" / "watches.json").read_text(encoding="utf-8"))) == 2


def test_names_mobiles_and_id_numbers_are_masked_in_the_report(migrated):
    root = migrated()
    typed = [{"account_external_id": "", "name": "张伟", "mobile": "13812345678", "owner": "李明"}]
    file = export(root, "contacts", typed)
    head, _, last = file.read_text(encoding="utf-8").rstrip("\n").rpartition("\n")
    # an ID number and another mobile typed after the owner
    file.write_text(f"{head}\n{last} 110105199003070025 13900001111\n", encoding="utf-8")
    done = invoke("watch", root, "--exported", f"contacts={file}")
    assert done.exit_code == 0, done.output
    folder = sorted((root / "watch").iterdir())[-1]
    report = report_of(done.output, root)
    cluster = report["entities"]["contacts"]["duplicates"]["listed"][0]
    assert [m["name"] for m in cluster["members"]] == ["张*", "张*"]
    for name in ("watch.json", "watch.html", "duplicates.csv"):
        shown = (folder / name).read_text(encoding="utf-8")
        for value in ("13812345678", "张伟", "110105199003070025", "13900001111"):
            assert value not in shown, (name, value)


def test_an_export_that_cannot_be_used_exits_2_with_the_file_named(migrated, tmp_path):
    root = migrated()
    missing = invoke("watch", root, "--exported", tmp_path / "nothere.csv")
    assert missing.exit_code == 2 and "nothere.csv: error: export file not found" in missing.output
    other = tmp_path / "other.csv"
    other.write_text("客户,城市\n星辰,北京\n", encoding="utf-8")
    wrong = invoke("watch", root, "--exported", f"contacts={other}")
    assert wrong.exit_code == 2 and "no column of the export is one of the generic profile's contacts" in wrong.output
    assert "external_id" in wrong.output  # the headers it reads, as a hint
    twice = invoke("watch", root, "--exported", other, "--exported", f"accounts={other}")
    assert twice.exit_code == 2 and "two exports of accounts" in twice.output
    misspelt = invoke("watch", root, "--exported", f"acounts={other}")
    assert misspelt.exit_code == 2 and "'acounts' is no entity, did you mean 'accounts'?" in misspelt.output
    for result in (missing, wrong, twice, misspelt):
        assert "Traceback" not in result.output


def test_a_misspelt_field_under_watch_is_refused_with_its_line(migrated):
    root = migrated("watch:\n  fields:\n    accounts.phnoe: {max_invalid_rate: 0}\n", run_it=False)
    done = invoke("validate", root)
    assert done.exit_code == 1
    assert (
        "migration.yaml:6: error: watch.fields: accounts have no field 'phnoe' — did you mean 'phone'?" in done.output
    ), done.output


PROFILE = """\
name: crm
rests_on: a hand-made template
entities:
  accounts:
    object: Account
    columns:
      - {header: 客户名称, value: name, required: true, max_length: 12}
      - {header: 级别, value: level, type: picklist, picklist: [A, B]}
      - {header: 创建日期, value: created_at, type: date}
      - {header: 负责人, value: owner}
"""


def test_without_external_ids_new_is_by_created_date_and_the_target_refusals_are_invalid(make_project):
    import datetime as dt

    mapping = ACCOUNTS.replace(
        "负责人: owner}", "负责人: owner, 级别: {field: level, values: {重要: A, 一般: B}}, 创建日期: created_at}"
    )
    root = make_project(
        "name: t\ntarget: crm\nentities: [accounts]\noptions: {today: 2026-01-01}\n",
        {"accounts": mapping},
        {
            "data/accounts.csv": "编号,名称,电话,负责人,级别,创建日期\n"
            "A1,北京星辰科技有限公司,010-62345678,王强,重要,2024-03-01\n"
            "A2,上海云帆贸易有限公司,021-52345678,李明,一般,2024-05-01\n",
            "targets/crm.yaml": PROFILE,
        },
    )
    run(load_project(root))
    today = dt.date.today().isoformat()
    file = root.parent / "crm.csv"
    file.write_text(
        "客户名称,级别,创建日期,负责人\n北京星辰科技有限公司,A,2024-03-01,王强\n上海云帆贸易有限公司,B,2024-05-01,李明\n"
        f"深圳前海明日之星国际贸易有限公司,C,{today},赵敏\n",
        encoding="utf-8",
    )
    done = invoke("watch", root, "--exported", file)
    assert done.exit_code == 0, done.output
    accounts = report_of(done.output, root)["entities"]["accounts"]
    assert accounts["new"] == 1 and accounts["new_by"].startswith("created on or after go-live")
    fields = {f["field"]: f for f in accounts["fields"]}
    assert fields["name"]["reasons"] == {"longer than the target keeps (12)": 1}
    assert fields["level"]["reasons"] == {"not one of the target's values": 1}


def test_an_export_with_no_rows_or_no_ids_is_watched_and_says_how_new_was_told(migrated):
    root = migrated()
    empty = root.parent / "empty.csv"
    empty.write_text("external_id,name,phone,owner\n", encoding="utf-8")
    done = invoke("watch", root, "--exported", empty)
    assert done.exit_code == 0, done.output
    assert "accounts: 0 record(s), 0 new; 0 duplicate cluster(s)" in done.output
    bare = root.parent / "bare.csv"
    bare.write_text("name,phone\n北京星辰科技有限公司,010-62345678\n", encoding="utf-8")
    done = invoke("watch", root, "--exported", bare)
    assert done.exit_code == 0, done.output
    assert (
        report_of(done.output, root)["entities"]["accounts"]["new_by"]
        == "the export has neither external ids nor a created date: every record counts as new"
    )
