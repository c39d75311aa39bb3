"""The migration state, deltas and waves on a small hand-made project: what a rerun writes, what one changed
value, one removed row, a wave and a held-back child do, and the refusals of a state or of waves that cannot
be used."""

from __future__ import annotations

import csv
import json
import sqlite3
import stat

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.errors import MigrateError, ReconciliationError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate import state as state_module
from crm_migrate.migrate.run import run
from crm_migrate.migrate.state import connect, row_fingerprints, snapshot
from crm_migrate.project import load_project
from crm_migrate.validators.reconcile import reconcile_waves

runner = CliRunner()

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {编号: id, 名称: name, 电话: phone, 省份: {field: region, type: text}}
"""
CONTACTS = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns: {编号: id, 客户编号: account_id, 姓名: name, 手机: mobile}
"""
ACCOUNTS_CSV = """编号,名称,电话,省份
A1,北京星辰科技有限公司,010-62345678,北京
A2,上海云帆贸易有限公司,021-52345678,上海
A3,广州明远电子有限公司,020-82345678,广东
"""
CONTACTS_CSV = """编号,客户编号,姓名,手机
C1,A1,张伟,13812345678
C2,A2,李娜,13912345678
C3,A3,王芳,13712345678
"""
MIGRATION = "name: t\nentities: [accounts, contacts]\noptions: {today: 2026-01-01}\n"
WAVES = (
    MIGRATION
    + """\
waves:
  - {name: firms, entities: [accounts]}
  - {name: people, entities: [contacts]}
"""
)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def project(make_project, migration: str = MIGRATION, accounts: str = ACCOUNTS_CSV, contacts: str = CONTACTS_CSV):
    return make_project(
        migration,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": accounts, "data/contacts.csv": contacts},
    )


def sent(root, entity: str) -> list[dict]:
    """The records of the last run's import file of an entity (none when it wrote no file)."""
    files = sorted((root / "out" / "import").glob(f"*_{entity}_*.csv")) if (root / "out" / "import").is_dir() else []
    rows = []
    for f in files:
        rows += list(csv.DictReader(f.read_text(encoding="utf-8-sig").splitlines()))
    return rows


def counts(result, entity: Entity) -> dict:
    return result.batch.counts()[entity.value]


def test_first_run_records_every_record_in_batch_one_and_a_rerun_with_no_change_writes_nothing(make_project):
    root = project(make_project)
    done = invoke("run", root)
    assert done.exit_code == 0, done.output
    assert "Batch 1 (full)" in done.output
    assert len(sent(root, "accounts")) == 3 and len(sent(root, "contacts")) == 3
    path = root / "state" / "migration.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(state_module.SCHEMA_VERSION,)]
        assert conn.execute("SELECT batch, kind FROM batches").fetchall() == [(1, "full")]
    again = invoke("run", root)
    assert again.exit_code == 0, again.output
    assert "Nothing new or changed since batch 1: no import file written" in again.output
    assert sent(root, "accounts") == [] and sent(root, "contacts") == []
    assert not (root / "out" / "import").exists()
    lineage = pl.read_csv(root / "out" / "lineage.csv", infer_schema_length=0)
    assert lineage.columns[-2:] == ["wave", "batch"]
    assert set(lineage.filter(pl.col("outcome") == "written")["batch"].to_list()) == {"1"}  # sent in batch 1


def test_one_value_changed_is_one_upsert_under_the_same_external_id(make_project):
    root = project(make_project)
    first = run(load_project(root))
    ids = {r["legacy_id"]: r["external_id"] for r in sent(root, "accounts")}
    (root / "data" / "accounts.csv").write_text(ACCOUNTS_CSV.replace("021-52345678", "021-52345999"), encoding="utf-8")
    second = run(load_project(root))
    assert first.batch.number == 1 and second.batch.number == 2
    rows = sent(root, "accounts")
    assert [(r["legacy_id"], r["external_id"], r["phone"]) for r in rows] == [("A2", ids["A2"], "+862152345999")]
    assert counts(second, Entity.accounts) | {"rows_gone": 0} == {
        "new": 0,
        "changed": 1,
        "unchanged": 2,
        "withdrawn": 0,
        "held": 0,
        "sent": 1,
        "rows_gone": 0,
    }
    assert sent(root, "contacts") == []  # a contact of A2 links by external id, which did not change


def test_a_source_row_removed_is_one_withdrawn_record(make_project):
    root = project(make_project)
    run(load_project(root))
    gone = {r["legacy_id"]: r["external_id"] for r in sent(root, "contacts")}["C3"]
    (root / "data" / "contacts.csv").write_text(CONTACTS_CSV.replace("C3,A3,王芳,13712345678\n", ""), encoding="utf-8")
    result = run(load_project(root))
    c = counts(result, Entity.contacts)
    assert (c["withdrawn"], c["unchanged"], c["sent"], c["rows_gone"]) == (1, 2, 0, 1)
    golden = snapshot(root / "state" / "migration.sqlite", result.migration.secret).records(Entity.contacts)
    assert golden.filter(pl.col("status") == "withdrawn")["external_id"].to_list() == [gone]


def test_full_writes_everything_again(make_project):
    root = project(make_project)
    run(load_project(root))
    result = run(load_project(root), full=True)
    assert result.batch.kind == "full" and len(sent(root, "accounts")) == 3
    assert counts(result, Entity.accounts)["unchanged"] == 3


def test_a_failed_run_leaves_the_state_as_it_was(make_project, monkeypatch):
    import crm_migrate.migrate.run as run_module

    root = project(make_project)
    run(load_project(root))
    path = root / "state" / "migration.sqlite"
    before = path.read_bytes()
    (root / "data" / "accounts.csv").write_text(ACCOUNTS_CSV.replace("北京星辰", "北京晨星"), encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_module, "_replace", broken)
    with pytest.raises(MigrateError):
        run(load_project(root))
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM batches").fetchone() == (1,)


def test_a_first_run_that_fails_leaves_no_state(make_project, monkeypatch):
    import crm_migrate.migrate.run as run_module

    root = project(make_project)
    monkeypatch.setattr(run_module, "_replace", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "full")))
    with pytest.raises(MigrateError):
        run(load_project(root))
    assert not (root / "state" / "migration.sqlite").exists()


def test_wave_two_children_link_to_wave_one_parents_through_the_state(make_project):
    root = project(make_project, WAVES)
    firms = run(load_project(root), wave="firms")
    accounts = {r["legacy_id"]: r["external_id"] for r in sent(root, "accounts")}
    assert len(accounts) == 3 and sent(root, "contacts") == []
    assert firms.batch.counts()["contacts"]["sent"] == 0
    people = run(load_project(root), wave="people")
    assert sent(root, "accounts") == []  # written in batch 1
    links = {r["legacy_id"]: r["account_external_id"] for r in sent(root, "contacts")}
    assert links == {"C1": accounts["A1"], "C2": accounts["A2"], "C3": accounts["A3"]}
    assert counts(people, Entity.contacts)["held"] == 0
    accounting = {(r["wave"], r["entity"]): (r["rows"], r["sent"], r["pending"]) for r in people.batch.accounting}
    assert accounting == {("firms", "accounts"): (3, 3, 0), ("people", "contacts"): (3, 3, 0)}


def test_a_child_whose_parent_is_in_a_later_wave_is_held_back_with_the_reason(make_project):
    migration = (
        MIGRATION
        + """\
waves:
  - {name: people, entities: [contacts]}
  - {name: firms, entities: [accounts]}
"""
    )
    root = project(make_project, migration)
    done = invoke("run", root, "--wave", "people")
    assert done.exit_code == 0, done.output
    assert sent(root, "contacts") == [] and sent(root, "accounts") == []
    assert "contacts: 0 written — 3 new, 0 changed, 0 unchanged, 0 withdrawn, 3 held back" in done.output
    assert "is in wave firms, which comes later: run --wave firms, then this wave again" in done.output
    invoke("run", root, "--wave", "firms")
    again = invoke("run", root, "--wave", "people")
    assert len(sent(root, "contacts")) == 3 and "0 held back" in again.output


def test_children_without_the_wave_field_go_with_their_account(make_project):
    migration = (
        MIGRATION
        + """\
waves:
  - {name: north, field: region, in: [北京]}
  - {name: south, field: region, in: [广东]}
  - {name: rest}
"""
    )
    root = project(make_project, migration)
    done = invoke("run", root, "--wave", "north")
    assert done.exit_code == 0, done.output
    # The contacts have no region: each goes with its account's wave. Only 张伟's account is in the north.
    assert [r["legacy_id"] for r in sent(root, "contacts")] == ["C1"]
    assert [r["legacy_id"] for r in sent(root, "accounts")] == ["A1"]
    early = invoke("run", root, "--wave", "rest")  # 李娜's account A2 is in rest too; C3's A3 is in south, later
    assert early.exit_code == 0, early.output
    assert [r["legacy_id"] for r in sent(root, "accounts")] == ["A2"]
    assert [r["legacy_id"] for r in sent(root, "contacts")] == ["C2"]
    south = invoke("run", root, "--wave", "south")
    assert [r["legacy_id"] for r in sent(root, "contacts")] == ["C3"]
    assert south.exit_code == 0


def test_a_child_held_back_is_in_held_back_csv_and_the_summary_never_written_with_a_broken_link(make_project):
    root = project(make_project, WAVES)
    done = invoke("run", root, "--wave", "people")
    assert done.exit_code == 0, done.output
    assert sent(root, "contacts") == []  # every contact's account is in wave firms, not written yet
    assert "3 held back" in done.output and "run --wave firms first" in done.output
    held = list(
        csv.DictReader((root / "out" / "rejects" / "held_back.csv").read_text(encoding="utf-8-sig").splitlines())
    )
    assert [r["row"] for r in held] == ["2", "3", "4"]
    assert all(r["reason"].startswith("held back: its account acc_") and "wave firms" in r["reason"] for r in held)
    lineage = pl.read_csv(root / "out" / "lineage.csv", infer_schema_length=0).filter(pl.col("entity") == "contacts")
    assert lineage["batch"].null_count() == 3 and lineage["reason"].str.starts_with("held back").all()
    # the same wave once its parents are written: the contacts go, nothing held
    invoke("run", root, "--wave", "firms")
    again = invoke("run", root, "--wave", "people")
    assert len(sent(root, "contacts")) == 3 and "0 held back" in again.output


@pytest.mark.parametrize(
    "waves, message",
    [
        ("[{name: a, sources: [acounts]}]", "waves.a: no source 'acounts'"),
        ("[{name: a, field: regoin, in: [北京]}]", "waves.a: no source maps a field 'regoin'"),
        ("[{name: a, entities: [opportunities]}]", "waves.a: opportunities are not among the entities in scope"),
        ("[{name: a, entities: [leads]}]", "'leads' is not one of"),
        ("[{name: a, entities: [accounts]}, {name: a, entities: [contacts]}]", "wave 'a' is declared twice"),
        ("[{name: all}, {name: b, entities: [contacts]}]", "wave 'all' has no criterion"),
        ("[{name: a, field: region}]", "'field' and 'in' go together"),
        ("[{name: a, sources: []}]", "sources: [] takes no record"),
    ],
)
def test_waves_that_cannot_act_are_refused_with_their_line(make_project, waves, message):
    root = project(make_project, MIGRATION + f"waves: {waves}\n")
    with pytest.raises(MigrateError) as caught:
        load_project(root)
    shown = "\n".join(p.render() for p in caught.value.problems)
    assert message in shown and "migration.yaml:4" in shown


def test_an_unknown_wave_or_a_wave_without_waves_is_refused_before_anything_is_read(make_project):
    root = project(make_project, WAVES)
    done = invoke("run", root, "--wave", "peple")
    assert done.exit_code == 1 and "no such wave" in done.output and "people" in done.output
    plain = project(make_project)
    done = invoke("run", plain, "--wave", "firms")
    assert done.exit_code == 1 and "declares no waves" in done.output
    assert not (plain / "out").exists() and not (plain / "state").exists()


def _with_version(path, version) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (version,))


def test_a_state_of_a_newer_or_unknown_schema_is_refused_and_an_older_one_is_migrated(make_project, monkeypatch):
    root = project(make_project)
    run(load_project(root))
    path = root / "state" / "migration.sqlite"
    _with_version(path, 99)
    done = invoke("run", root)
    assert done.exit_code == 1 and "written by a newer crm-migrate (schema 99" in done.output
    assert "upgrade crm-migrate" in done.output
    _with_version(path, 0)
    done = invoke("run", root)
    assert done.exit_code == 1 and "schema 0 is older than any this version can migrate" in done.output
    assert "reset --yes" in done.output
    other = root / "state" / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    done = invoke("run", root, "--since", other)
    assert done.exit_code == 1 and "not a crm-migrate state" in done.output
    # an older schema this version knows is brought up to date, in place
    _with_version(path, 1)
    monkeypatch.setattr(state_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(state_module.MIGRATIONS, 1, lambda conn: conn.execute("ALTER TABLE batches ADD note TEXT"))
    connect(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)
        assert "note" in [c[1] for c in conn.execute("PRAGMA table_info(batches)")]


def test_state_reset_asks_for_yes_then_the_next_run_starts_a_new_state(make_project):
    root = project(make_project)
    run(load_project(root))
    path = root / "state" / "migration.sqlite"
    asked = invoke("state", root, "reset")
    assert asked.exit_code == 2 and "add --yes" in asked.output and path.exists()
    done = invoke("state", root, "reset", "--yes")
    assert done.exit_code == 0 and not path.exists()
    result = run(load_project(root))
    assert result.batch.number == 1 and counts(result, Entity.accounts)["new"] == 3


def test_state_show_and_export_and_identifiers_kept_only_as_keyed_hashes(make_project, tmp_path):
    root = project(make_project)
    run(load_project(root))
    shown = invoke("state", root, "show")
    assert shown.exit_code == 0, shown.output
    assert "1 batch(es):" in shown.output and "contacts: 3 golden record(s) (3 live)" in shown.output
    for fmt in ("csv", "json", "parquet"):
        done = invoke("state", root, "export", "--format", fmt, "--out", tmp_path / fmt)
        assert done.exit_code == 0, done.output
        assert (tmp_path / fmt / f"golden_contacts.{fmt}").is_file()
    golden = pl.read_parquet(tmp_path / "parquet" / "golden_contacts.parquet")
    assert golden["name"].to_list() == ["张伟", "李娜", "王芳"]  # in clear, for fuzzy matching
    assert "mobile" not in golden.columns and golden["h:mobile"].str.len_chars().to_list() == [32] * 3
    text = "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "csv").iterdir())
    assert "13812345678" not in text and "010-62345678" not in text and "62345678" not in text
    accounts = pl.read_parquet(tmp_path / "parquet" / "golden_accounts.parquet")
    assert accounts["h:phone"].null_count() == 0


def test_fingerprints_are_keyed_by_the_project_secret():
    frame = pl.DataFrame({"a": ["张伟", "李娜"], "b": ["138", None]})
    one, two = b"1" * 32, b"2" * 32
    assert row_fingerprints(frame, ["a", "b"], one).to_list() == row_fingerprints(frame, ["a", "b"], one).to_list()
    assert row_fingerprints(frame, ["a", "b"], one).to_list() != row_fingerprints(frame, ["a", "b"], two).to_list()
    split = pl.DataFrame({"a": ["ab", "a"], "b": ["c", "bc"]})
    assert len(set(row_fingerprints(split, ["a", "b"], one).to_list())) == 2  # ("ab","c") is not ("a","bc")


def test_a_state_written_under_another_secret_is_refused(make_project):
    root = project(make_project)
    run(load_project(root))
    secret = root / ".crm-migrate" / "secret"
    secret.write_text("ab" * 32 + "\n", encoding="ascii")
    done = invoke("run", root)
    assert done.exit_code == 1 and "written under another project secret" in done.output


def test_verify_of_a_wave_counts_earlier_batches_as_earlier_and_records_the_result(make_project, tmp_path):
    root = project(make_project, WAVES)
    run(load_project(root), wave="firms")
    run(load_project(root), wave="people")
    # the target's export after both batches: every contact, and nothing else
    export = tmp_path / "export.csv"
    export.write_text(
        (root / "out" / "import" / "02_contacts_001.csv").read_text(encoding="utf-8-sig"), encoding="utf-8"
    )
    done = invoke("verify", root, "--entity", "contacts", "--exported", export)
    assert done.exit_code == 0, done.output
    assert "Batch 2: 0 exported record(s) were sent by earlier batches" in done.output
    with sqlite3.connect(root / "state" / "migration.sqlite") as conn:
        assert conn.execute("SELECT batch, entity, sent, matched, clean FROM verifications").fetchall() == [
            (2, "contacts", 3, 3, 1)
        ]
    # a record of the export that no batch sent is extra; one an earlier batch sent is not
    run(load_project(root), wave="firms", full=True)  # batch 3: the accounts again
    rows = (root / "out" / "import" / "01_accounts_001.csv").read_text(encoding="utf-8-sig").splitlines()
    export.write_text("\n".join([*rows, rows[1].replace("acc_", "acc_0")]) + "\n", encoding="utf-8")
    done = invoke("verify", root, "--entity", "accounts", "--exported", export)
    assert done.exit_code == 1 and "1 " in done.output
    (root / "out" / "import" / "01_accounts_001.csv").write_text("changed", encoding="utf-8")
    done = invoke("verify", root, "--entity", "accounts", "--exported", export)
    assert done.exit_code == 1 and "not the file batch 3 wrote" in done.output


def test_every_source_row_is_accounted_for_once_across_the_waves(make_project):
    root = project(make_project, WAVES)
    result = run(load_project(root), wave="firms")
    lineage = result.lineage
    read = result.reconciliation.table.select("source", "entity", "read")
    assert {(r["wave"], r["entity"]): r["rows"] for r in reconcile_waves(lineage, read)} == {
        ("firms", "accounts"): 3,
        ("people", "contacts"): 3,
    }
    # A row counted in a second wave besides its own, or lost from every wave, breaks the accounting.
    twice = pl.concat([lineage, lineage.head(1).with_columns(pl.lit("people").alias("wave"))])
    with pytest.raises(ReconciliationError, match="counted 2 times across the waves"):
        reconcile_waves(twice, read)
    with pytest.raises(ReconciliationError, match="3 rows read, but the waves account for 2"):
        reconcile_waves(lineage.slice(1), read)


def test_manifest_and_report_name_the_batch(make_project):
    root = project(make_project, WAVES)
    run(load_project(root), wave="firms")
    manifest = json.loads((root / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["batch"]["number"] == 1 and manifest["batch"]["wave"] == "firms"
    assert manifest["batch"]["state"] == "state/migration.sqlite"
    report = json.loads((root / "out" / "reports" / "quality.json").read_text(encoding="utf-8"))
    assert report["batch"]["counts"]["accounts"]["sent"] == 3


def test_a_project_without_a_state_writes_everything_every_time(make_project):
    root = project(
        make_project,
        MIGRATION.replace("options: {today: 2026-01-01}", "options: {today: 2026-01-01, state: {enabled: false}}"),
    )
    run(load_project(root))
    result = run(load_project(root))
    assert result.batch is None and len(sent(root, "accounts")) == 3 and not (root / "state").exists()


SIGNUPS = """\
file: data/signups.csv
entities:
  accounts:
    columns: {公司: name, 电话: phone}
"""
SIGNUPS_CSV = """公司,电话
北京星辰科技有限公司,010-62345678
上海云帆贸易有限公司,021-52345678
广州明远电子有限公司,020-82345678
"""


def test_rows_without_an_id_keep_their_records_when_a_row_is_inserted_above_them(make_project):
    root = make_project(
        "name: t\nentities: [accounts]\noptions: {today: 2026-01-01}\n",
        {"signups": SIGNUPS},
        {"data/signups.csv": SIGNUPS_CSV},
    )
    run(load_project(root))
    before = {r["name"]: r["external_id"] for r in sent(root, "accounts")}
    lines = SIGNUPS_CSV.splitlines()
    (root / "data" / "signups.csv").write_text(
        "\n".join([lines[0], "深圳博锐达电子有限公司,0755-26345678", *lines[1:]]) + "\n", encoding="utf-8"
    )
    result = run(load_project(root))
    c = counts(result, Entity.accounts)
    assert (c["new"], c["changed"], c["unchanged"], c["withdrawn"]) == (1, 0, 3, 0)
    [new] = sent(root, "accounts")
    assert new["name"] == "深圳博锐达电子有限公司" and new["external_id"] not in before.values()
    ids = {r["external_id"] for r in result.batch.records[Entity.accounts].iter_rows(named=True)}
    assert set(before.values()) < ids  # the three kept the ids the target has them by


def test_a_golden_record_keeps_its_id_when_a_row_of_a_higher_priority_source_joins_it(make_project):
    crm_csv = "编号,名称,电话,省份\nA1,北京星辰科技有限公司,010-62345678,北京\n"
    root = make_project(
        "name: t\nentities: [accounts]\nsources: [accounts, signups]\noptions: {today: 2026-01-01}\n",
        {"accounts": ACCOUNTS, "signups": SIGNUPS},
        {"data/accounts.csv": crm_csv, "data/signups.csv": SIGNUPS_CSV},
    )
    run(load_project(root))
    before = {r["name"]: r["external_id"] for r in sent(root, "accounts")}
    (root / "data" / "accounts.csv").write_text(
        crm_csv + "A2,上海云帆贸易有限公司,021-52345678,上海\n", encoding="utf-8"
    )
    result = run(load_project(root))
    c = counts(result, Entity.accounts)
    assert (c["new"], c["withdrawn"]) == (0, 0)  # the sign-up's record, now led by the CRM's row, is the same one
    [changed] = sent(root, "accounts")
    assert changed["external_id"] == before["上海云帆贸易有限公司"] and changed["legacy_id"] == "A2"


def test_since_compares_with_and_records_into_the_state_it_names(make_project, monkeypatch):
    root = project(make_project)
    monkeypatch.chdir(root)
    done = invoke("run", root, "--since", "state/production.sqlite")
    assert done.exit_code == 0, done.output
    assert (root / "state" / "production.sqlite").is_file() and not (root / "state" / "migration.sqlite").exists()
    again = invoke("run", root, "--since", "state/production.sqlite")
    assert "Nothing new or changed since batch 1" in again.output
    outside = invoke("run", root, "--since", root.parent / "elsewhere.sqlite")
    assert outside.exit_code == 1 and "outside the project" in outside.output
