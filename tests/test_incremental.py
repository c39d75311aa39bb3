"""``run --incremental`` on a small hand-made project: a sign-up list found after the full run is matched against
the state's records with the state's weights (a person already migrated joins their record, a new one starts
a record), the state grows by an incremental batch, the old sources are not read again, and the refusals."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import run
from crm_migrate.migrate.state import get_blobs
from crm_migrate.migrate.state_views import batch_lines
from crm_migrate.project import load_project

runner = CliRunner()

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {编号: id, 名称: name, 电话: phone, 地址: address}
"""
CONTACTS = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns: {编号: id, 客户编号: account_id, 姓名: name, 手机: mobile, 邮箱: email}
"""
EVENT = """\
file: data/event.csv
entities:
  accounts:
    columns: {公司: name}
  contacts:
    columns: {姓名: name, 手机: mobile, 邮箱: email}
"""
ACCOUNTS_CSV = """编号,名称,电话,地址
A1,北京星辰科技有限公司,010-62345678,北京市海淀区中关村大街1号
A2,上海云帆贸易有限公司,021-52345678,上海市浦东新区世纪大道100号
A3,广州明远电子有限公司,020-82345678,广州市天河区天河路200号
A4,深圳华创软件有限公司,0755-26345678,深圳市南山区科技园南路8号
A5,杭州西湖茶业有限公司,0571-87345678,杭州市西湖区龙井路18号
A6,成都天府物流有限公司,028-85345678,成都市武侯区人民南路4段9号
A7,深圳华创软件有限公司,0755-26345678,深圳市南山区科技园南路8号
A8,杭州西湖茶业有限公司,0571-87345678,
"""
CONTACTS_CSV = """编号,客户编号,姓名,手机,邮箱
C1,A1,张伟,13812345678,zhangwei@xingchen.cn
C2,A2,李娜,13912345678,lina@yunfan.cn
C3,A3,王芳,13712345678,wangfang@mingyuan.cn
C4,A4,刘洋,13612345678,liuyang@huachuang.cn
C5,A5,陈静,13512345678,chenjing@xihu.cn
C6,A6,杨磊,13412345678,yanglei@tianfu.cn
C7,A7,刘洋,13612345678,liuyang@huachuang.cn
C8,A8,陈静,13512345678,
"""
# 张伟 of 星辰 again (same mobile and email), and a person of a company nobody has seen
EVENT_CSV = """公司,姓名,手机,邮箱
北京星辰科技有限公司,张伟,13812345678,zhangwei@xingchen.cn
南京紫金农业有限公司,赵敏,13312345678,zhaomin@zijin.cn
"""
MIGRATION = "name: t\nentities: [accounts, contacts]\noptions: {today: 2026-01-01}\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def migrated(make_project):
    """A project whose full run is recorded in the state, then given the sign-up list as a new source."""
    root = make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
    )
    run(load_project(root))
    (root / "mappings" / "event.yaml").write_text(EVENT, encoding="utf-8")
    (root / "data" / "event.csv").write_text(EVENT_CSV, encoding="utf-8")
    return root


def state_rows(root, kind: str, entity: str) -> pl.DataFrame:
    """A per-record table of the state, the parts incremental batches added after it."""
    with sqlite3.connect(root / "state" / "migration.sqlite") as conn:
        blobs = get_blobs(conn, kind, entity)
    return pl.concat([pl.read_parquet(io.BytesIO(b)) for b in blobs], how="diagonal_relaxed")


def test_a_new_row_joins_the_record_it_is_and_another_starts_one(migrated):
    before = state_rows(migrated, "golden", "contacts")
    zhang = before.filter(pl.col("name") == "张伟")["external_id"].item()
    result = run(load_project(migrated), incremental=True)
    assert [r.source.name for r in result.migration.reads] == ["event"]  # the old sources are not read again
    assert result.batch.kind == "incremental"
    assert result.batch.matched["contacts"] == {"joined": 1, "new": 1, "review": 0}
    assert result.batch.matched["accounts"] == {"joined": 1, "new": 1, "review": 0}
    assert result.reconciliation.balanced
    lineage = result.lineage.filter(pl.col("entity") == "contacts")
    assert lineage.filter(pl.col("row") == 2)["record_id"].item() == zhang  # the update goes to the same id
    # nothing migrated earlier is withdrawn, and the new record is added beside the old ones
    counts = result.batch.counts()["contacts"]
    assert counts["withdrawn"] == 0 and counts["new"] == 1
    after = state_rows(migrated, "golden", "contacts")
    assert after.height == before.height + 1
    assert set(before["external_id"]) < set(after["external_id"])
    rows = state_rows(migrated, "rows", "")
    assert set(rows["source"]) == {"accounts", "contacts", "event"}
    assert state_rows(migrated, "match_ids", "contacts").height == 10  # 8 old rows and 2 new behind the records
    with sqlite3.connect(migrated / "state" / "migration.sqlite") as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM batches ORDER BY batch")]
    assert kinds == ["full", "incremental"]
    written = list(
        csv.DictReader(
            next((migrated / "out" / "import").glob("*_contacts_*.csv")).read_text(encoding="utf-8-sig").splitlines()
        )
    )
    assert zhang in {r[next(iter(r))] for r in written} or any(zhang in r.values() for r in written)


def test_the_same_decisions_as_a_full_run_on_old_and_new(migrated, make_project, tmp_path):
    known = set(state_rows(migrated, "rows", "")["record_id"].drop_nulls())
    incremental = run(load_project(migrated), incremental=True)
    fresh = tmp_path / "full"
    import shutil

    shutil.copytree(migrated, fresh, ignore=shutil.ignore_patterns("state", "out", ".crm-migrate*"))
    full = run(load_project(fresh))

    def decided(result, others):
        """Per row of the sign-ups: whether it went into a record of the old sources."""
        lineage = result.lineage.filter(pl.col("source") == "event")
        return sorted((e, r, rid in others) for e, r, rid in lineage.select("entity", "row", "record_id").iter_rows())

    olds = set(full.lineage.filter(pl.col("source") != "event")["record_id"].drop_nulls())
    assert decided(incremental, known) == decided(full, olds)
    assert sum(joined for _, _, joined in decided(full, olds)) == 2  # 张伟 and 星辰 in both


def test_identifiers_are_kept_only_as_keyed_hashes(migrated):
    run(load_project(migrated), incremental=True)
    for entity in ("accounts", "contacts"):
        text = str(state_rows(migrated, "match", entity).to_dicts())
        for secret in ("13812345678", "13312345678", "zhangwei@xingchen.cn", "62345678"):
            assert secret not in text, (entity, secret)
        assert "张伟" in text or entity == "accounts"  # names stay in clear: fuzzy matching compares them


def test_refused_without_a_state(make_project):
    root = make_project(MIGRATION, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV})
    got = invoke("run", root, "--incremental")
    assert got.exit_code == 1 and "Traceback" not in got.output
    assert "needs the migration state" in got.output and "without --incremental" in got.output


def test_refused_when_an_old_source_changed_or_is_gone(migrated):
    path = migrated / "data" / "contacts.csv"
    path.write_text(CONTACTS_CSV + "C7,A1,周杰,13212345678,zhoujie@xingchen.cn\n", encoding="utf-8")
    got = invoke("run", migrated, "--incremental")
    assert got.exit_code == 1 and "changed since the state read it" in got.output
    assert "run without --incremental" in got.output
    path.write_text(CONTACTS_CSV, encoding="utf-8")
    (migrated / "mappings" / "contacts.yaml").unlink()
    got = invoke("run", migrated, "--incremental")
    assert got.exit_code == 1 and "no longer in the project" in got.output and "Traceback" not in got.output


def test_refused_on_a_state_without_weights(migrated):
    with sqlite3.connect(migrated / "state" / "migration.sqlite") as conn:
        for table in ("weights", "matching"):  # as an older crm-migrate wrote it
            conn.execute(f"DELETE FROM {table}")
    got = invoke("run", migrated, "--incremental")
    assert got.exit_code == 1 and "no matching weights" in got.output and "without --incremental" in got.output
    with pytest.raises(MigrateError):
        run(load_project(migrated), incremental=True)


def test_refused_with_nothing_new_or_with_wave(make_project):
    root = make_project(MIGRATION, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV})
    run(load_project(root))
    got = invoke("run", root, "--incremental")
    assert got.exit_code == 1 and "no new source" in got.output
    got = invoke("run", root, "--incremental", "--full")
    assert got.exit_code == 1 and "cannot be combined" in got.output


def test_the_summary_says_joined_new_and_review(migrated):
    got = invoke("run", migrated, "--incremental")
    assert got.exit_code == 0, got.output
    assert "contacts: 2 new row(s) matched against the state — 1 joined" in got.output
    assert Entity.contacts.value in got.output


def test_a_batch_adds_its_rows_as_parts_and_a_full_run_replaces_them(migrated):
    def stored():
        with sqlite3.connect(migrated / "state" / "migration.sqlite") as conn:
            return {(k, e): n for k, e, n in conn.execute("SELECT kind, entity, rows FROM records")}

    before = stored()
    run(load_project(migrated), incremental=True)
    after = stored()
    # the full run's tables are not rewritten: the new rows are parts of batch 2 beside them
    for kind, entity in [("match", "contacts"), ("match_ids", "contacts"), ("rows", "")]:
        assert after[(kind, entity)] == before[(kind, entity)]
    assert after[("match_ids", "contacts/2")] == 2 and after[("rows", "/2")] == 4  # 2 sign-ups, 2 entities
    assert state_rows(migrated, "rows", "").height == before[("rows", "")] + 4
    run(load_project(migrated), full=True)  # reads every source again: whole tables, no parts left
    again = stored()
    assert not [k for k in again if "/" in k[1]]
    assert again[("rows", "")] == before[("rows", "")] + 4 and again[("match_ids", "contacts")] == 10


def test_stored_rows_meet_their_ids_whatever_their_order():
    """The rows matching compared are set beside their golden records' ids by position where both are in the
    run's order (a row without an id, rejected later, left out), and joined on _seq where they are not."""
    from crm_migrate.migrate.incremental import _joined

    compared = pl.DataFrame({"_seq": [1, 2, 3, 4], "k": ["a", "b", "c", "d"]})
    ids = pl.DataFrame({"_seq": [1, 3, 4], "_ext": ["X1", "X3", "X4"]})
    want = {("a", "X1"), ("c", "X3"), ("d", "X4")}
    assert set(_joined(compared, ids).iter_rows()) == want
    shuffled = ids.reverse()  # another order: a join, the same pairs
    assert set(_joined(compared, shuffled).iter_rows()) == want
    assert _joined(compared, shuffled).columns == ["k", "_ext"]


def test_a_new_row_between_two_records_joins_the_likelier_and_names_the_other(make_project):
    # The state holds 王芳 twice, apart (another company, another email, one without a mobile); a sign-up gives
    # the first one's mobile and the second one's email. The run never merges two records of the state: the new
    # row joins the one it is most like (not a third record) and goes to review, naming the other.
    contacts = CONTACTS_CSV + "C9,A6,王芳,,wf2026@tianfu.cn\n"
    root = make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": contacts},
    )
    run(load_project(root))
    records = state_rows(root, "golden", "contacts").height
    golden = state_rows(root, "golden", "contacts").filter(pl.col("name") == "王芳")
    assert golden.height == 2  # apart after the full run
    (root / "mappings" / "event.yaml").write_text(EVENT, encoding="utf-8")
    (root / "data" / "event.csv").write_text(
        "公司,姓名,手机,邮箱\n广州明远电子有限公司,王芳,13712345678,wf2026@tianfu.cn\n", encoding="utf-8"
    )
    result = run(load_project(root), incremental=True)
    assert result.batch.matched["contacts"] == {"joined": 0, "new": 0, "review": 1}
    joined = result.lineage.filter(pl.col("entity") == "contacts")["record_id"].item()
    assert joined in set(golden["external_id"])
    review = pl.read_csv(root / "out" / "review" / "incremental.csv", infer_schema=False).filter(
        pl.col("entity") == "contacts"
    )
    assert review["state_record"].to_list() == [joined]
    assert review["also_state_records"].to_list() == list(set(golden["external_id"]) - {joined})
    assert state_rows(root, "golden", "contacts").height == records  # no third 王芳


SHEET = """\
file: data/sheet.csv
entities:
  accounts:
    columns: {公司: name}
  contacts:
    columns: {联系人: name, 手机: mobile}
"""
SHEET_CSV = "公司,联系人,手机\n北京星晨科技有限公司,张伟,13812345678\n上海云帆贸易有限公司,李娜,13912345678\n"
LATER_CONTACTS = CONTACTS.replace("data/contacts.csv", "data/contacts_later.csv")


@pytest.mark.parametrize("mobile, tied", [("13812345678", True), ("13800000001", False)])
def test_a_new_contact_that_ties_two_records_of_the_state_proposes_their_merge(make_project, tmp_path, mobile, tied):
    # The full run keeps 北京星辰 (the CRM's, its contact 张伟 not exported yet) and 北京星晨 (a sales sheet's, a
    # homophone typo, with 张伟's mobile) apart: a name one character off is not enough. A later export of the
    # CRM's contacts gives 星辰 张伟 with that mobile: a full run on old and new merges the two; the incremental
    # run cannot merge records already in the CRM, and proposes it in review/state_merges.csv.
    contacts = "".join(line + "\n" for line in CONTACTS_CSV.splitlines() if not line.startswith("C1,"))
    files = {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": contacts, "data/sheet.csv": SHEET_CSV}
    root = make_project(MIGRATION, {"accounts": ACCOUNTS, "contacts": CONTACTS, "sheet": SHEET}, files)
    run(load_project(root))
    golden = state_rows(root, "golden", "accounts")
    stars = set(golden.filter(pl.col("name").str.starts_with("北京星"))["external_id"])
    assert len(stars) == 2  # apart after the full run
    later = f"编号,客户编号,姓名,手机,邮箱\nC1,A1,张伟,{mobile},\n"
    fresh = tmp_path / "full"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("state", "out", ".crm-migrate*"))
    for folder in (root, fresh):
        (folder / "mappings" / "contacts_later.yaml").write_text(LATER_CONTACTS, encoding="utf-8")
        (folder / "data" / "contacts_later.csv").write_text(later, encoding="utf-8")
    result = run(load_project(root), incremental=True)
    ties = pl.read_csv(root / "out" / "review" / "state_merges.csv", infer_schema=False)
    full = run(load_project(fresh)).lineage.filter(pl.col("entity") == "accounts")
    both = full.filter(
        pl.struct("source", "row").is_in([{"source": "accounts", "row": 2}, {"source": "sheet", "row": 2}])
    )
    assert both.height == 2 and both["record_id"].n_unique() == (1 if tied else 2)  # what a full run decides
    if tied:
        assert ties.rows() == [("accounts", *sorted(stars), ties["probability"][0], "true", "a contact")]
        assert float(ties["probability"][0]) >= result.migration.entities[Entity.accounts].settings.merge
        assert any("state_merges.csv" in line and "1 pair(s)" in line for line in batch_lines(result))
    else:
        assert ties.is_empty()
        assert not any("state_merges.csv" in line for line in batch_lines(result))
    assert set(state_rows(root, "golden", "accounts")["external_id"]) == set(golden["external_id"])  # none merged


def test_what_one_batch_s_contacts_gave_an_account_ties_it_in_a_later_batch(make_project):
    # 北京星辰 (A1) and 北京星晨 (A9), both in the CRM, apart after the full run. A first batch gives A1 a contact
    # with a mobile nobody else has: nothing to tie. A second gives A9 a contact with that mobile: the state
    # must remember what the first batch's contact gave A1 for the two to be tied, as a full run would.
    accounts = ACCOUNTS_CSV + "A9,北京星晨科技有限公司,,\n"
    contacts = "".join(line + "\n" for line in CONTACTS_CSV.splitlines() if not line.startswith("C1,"))
    root = make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": accounts, "data/contacts.csv": contacts},
    )
    run(load_project(root))
    stars = set(state_rows(root, "golden", "accounts").filter(pl.col("name").str.starts_with("北京星"))["external_id"])
    assert len(stars) == 2
    for n, line in ((1, "C1,A1,张伟,13812345678,"), (2, "C9,A9,张伟,13812345678,")):
        (root / "mappings" / f"later{n}.yaml").write_text(
            CONTACTS.replace("data/contacts.csv", f"data/later{n}.csv"), encoding="utf-8"
        )
        (root / "data" / f"later{n}.csv").write_text(f"编号,客户编号,姓名,手机,邮箱\n{line}\n", encoding="utf-8")
        run(load_project(root), incremental=True)
        ties = pl.read_csv(root / "out" / "review" / "state_merges.csv", infer_schema=False)
        if n == 1:
            assert ties.is_empty()
    assert ties.select("state_record", "other_state_record", "in_common").rows() == [(*sorted(stars), "a contact")]
