"""The dry run: the demo's planted problems found and nothing else; each check (read-back, expectations,
database) shown to catch what it is for on files spoiled on purpose; PostgreSQL when a server is given."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import load_target
from crm_migrate.migrate.dryrun import dry_run
from crm_migrate.project import load_project
from crm_migrate.validators import database, expectations, readback
from crm_migrate.validators.readback import WrittenFile
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def demo_dry(tmp_path_factory):
    root = tmp_path_factory.mktemp("dry") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out"))
    return root, dry_run(load_project(root))


def lines_where(path, encoding: str, column: str, value: str) -> list[int]:
    """The line numbers (as lineage counts them) of the rows of a CSV whose ``column`` holds ``value``."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    index = rows[0].index(column)
    return [n for n, row in enumerate(rows, start=1) if n > 1 and len(row) > index and row[index] == value]


def test_the_demo_dry_run_finds_the_planted_problems_and_nothing_else(demo_dry):
    root, dry = demo_dry
    data = root / "data"
    long_name = lines_where(data / "老CRM_客户导出.csv", "gb18030", "客户编号", "C70001")
    its_contacts = lines_where(data / "老CRM_联系人导出.csv", "gb18030", "客户编号", "C70001")
    unmapped_stage = lines_where(data / "老CRM_商机导出.csv", "utf-8", "阶段", "暂缓推进")
    assert len(long_name) == 1 and len(its_contacts) == 2 and len(unmapped_stage) == 2  # as the generator plants
    errors = sorted((f.entity, f.rule, f.column, f.row) for f in dry.findings if f.severity == "error")
    assert errors == [
        ("accounts", "max_length", "name", long_name[0]),  # the over-long company name
        *[("contacts", "link", "account_external_id", n) for n in its_contacts],  # its two contacts
        *[("opportunities", "picklist", "stage", n) for n in unmapped_stage],
    ]  # a stage no map covers
    excel = [f for f in dry.findings if f.column == "mobile" and "scientific notation" in f.message]
    excel_row = lines_where(data / "老CRM_联系人导出.csv", "gb18030", "手机", "1.3912E+10")
    assert [(f.file, f.row, f.value) for f in excel] == [("data/老CRM_联系人导出.csv", excel_row[0], "1.3912E+10")]
    # The other mobiles found wanting are landlines typed in the mobile column without their area code.
    others = {f.message for f in dry.findings if f.column == "mobile" and f not in excel}
    assert all("without area code" in m for m in others), others
    # The checks on the written files find nothing: conform held back what the target would refuse.
    assert not [f for f in dry.findings if f.check in ("read-back", "expectations", "database")]
    # The warnings are the other problems planted in the demo, each a kind the generator plants.
    kinds = {f.rule.split(": ")[0] for f in dry.findings if f.severity == "warning"}
    assert kinds <= {
        "test record",
        "required field empty or invalid",
        "account not found",
        "invalid mobile",
        "invalid id_card",
    }
    # A rule that a field breaks names the field.
    required = {f.rule for f in dry.findings if f.rule.startswith("required field empty or invalid")}
    assert all(r.startswith("required field empty or invalid: ") for r in required), required
    assert dry.failed


def test_the_sample_covers_sources_entities_and_links_and_balances(demo_dry):
    root, dry = demo_dry
    result = dry.result
    assert {r.source.name for r in result.migration.reads if r.rows} == {s.name for s in load_project(root).sources}
    assert all(res.written().height for res in result.migration.entities.values())
    assert result.reconciliation.balanced
    assert 250 <= sum(dry.sample_counts.values()) <= 450
    accounts = pl.read_csv(root / "out/dry-run/import/01_accounts_001.csv", infer_schema=False)
    for name in ("02_contacts", "03_opportunities", "04_activities"):
        child = pl.read_csv(root / f"out/dry-run/import/{name}_001.csv", infer_schema=False)
        assert set(child["account_external_id"].drop_nulls()) <= set(accounts["external_id"])
    # Kept beside the files: the suites and Data Docs, the schema, the findings; the report has them.
    out = root / "out" / "dry-run"
    assert (out / expectations.DOCS).is_file()
    assert json.loads((out / "gx/expectations/xingchen/accounts.json").read_text())["expectations"]
    assert 'CHECK (length("name") <= 60)' in (out / "target_schema.sql").read_text()
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    assert findings.height == len(dry.findings)
    id_cards = findings.filter(pl.col("column") == "id_card")["value"].to_list()
    assert id_cards and all("*" in v for v in id_cards)  # sensitive values masked
    quality = json.loads((out / "reports/quality.json").read_text(encoding="utf-8"))
    assert quality["dry_run"]["errors"] == 5
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dry_run"]["findings"] == len(dry.findings)


def test_a_full_run_keeps_the_dry_run_and_reports_its_findings(demo_dry, tmp_path):
    from crm_migrate.migrate.run import run

    root, dry = demo_dry
    run(load_project(root))
    assert (root / "out/dry-run/findings.csv").is_file()
    quality = json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8"))
    assert quality["dry_run"]["errors"] == 5


def test_the_report_shows_the_dry_runs_findings_as_stale_once_a_source_or_the_project_changed(demo_dry, tmp_path):
    from crm_migrate.migrate.run import run

    root = tmp_path / "demo"
    shutil.copytree(demo_dry[0], root)  # the project with its out/dry-run
    dry = json.loads((root / "out/dry-run/reports/quality.json").read_text(encoding="utf-8"))["dry_run"]
    manifest = json.loads((root / "out/dry-run/manifest.json").read_text(encoding="utf-8"))
    assert dry["at"] == manifest["created_at"] and dry["project_hash"] == load_project(root).fingerprint()

    def report():
        run(load_project(root))
        page = (root / "out/reports/quality.html").read_text(encoding="utf-8")
        return json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8")).get("dry_run"), page

    found, page = report()
    assert found["stale"] == [] and 'class="stale"' not in page
    assert f'Dry run of {dry["at"].replace("T", " ")}, project <code title="{dry["project_hash"]}">' in page
    with open(root / "data/老CRM_客户导出.csv", "ab") as f:  # a fix at the source: one more line
        f.write(b"\r\n")
    found, page = report()
    assert found["stale"] == ["source data/老CRM_客户导出.csv changed since"]
    assert '<div class="stale" id="stale"><strong>These findings are stale.</strong>' in page
    assert "<li>source data/老CRM_客户导出.csv changed since</li>" in page and 'id="summary-stale"' in page
    with open(root / "migration.yaml", "a", encoding="utf-8") as f:
        f.write("# reviewed\n")
    found, _ = report()
    assert found["stale"][0].startswith("the project files changed: project hash ")
    assert "project migration.yaml changed since" in found["stale"]
    # A dry-run report that is not ours (hand-edited, cut short) is left out; the run does not break.
    (root / "out/dry-run/reports/quality.json").write_text('{"dry_run": {"findings": "many"}}', encoding="utf-8")
    found, page = report()
    assert found is None and 'id="dry-run"' not in page


@pytest.mark.skipif(not expectations.available(), reason="the validate extra is not installed")
def test_a_suite_whose_files_passed_while_the_dry_run_held_records_back_is_not_shown_as_passed(demo_dry):
    root, dry = demo_dry
    suites = json.loads((root / "out/dry-run/reports/quality.json").read_text(encoding="utf-8"))["dry_run"]["suites"]
    status = {s["entity"]: s["status"] for s in suites}
    errors = {f.entity for f in dry.findings if f.severity == "error"}
    assert errors == {"accounts", "contacts", "opportunities"}
    assert status == {
        "accounts": "contradicted",
        "contacts": "contradicted",
        "opportunities": "contradicted",
        "activities": "passed",
    }
    accounts = next(s for s in suites if s["entity"] == "accounts")
    name = next(r for r in accounts["results"] if r["rule"] == "max_length" and r["column"] == "name")
    assert (
        name["result"] == "held" and name["dry-run errors"] == 1
    )  # held on the files, as the long name is not in them
    page = (root / "out/dry-run/reports/quality.html").read_text(encoding="utf-8")
    for s in suites:
        assert f'<tr data-suite="{s["suite"]}" data-status="{s["status"]}">' in page
    assert page.count('<span class="ok">passed</span>') == 1
    assert "http" not in page.split("<body>")[1]  # our page of the suites needs no network


def test_a_suite_with_an_expectation_that_failed_is_failed_and_one_without_errors_passed():
    from crm_migrate.validators.findings import Finding

    suites = [
        {
            "suite": f"t.{e}",
            "entity": e,
            "results": [
                {
                    "expectation": "column values to not be null",
                    "column": "Id",
                    "rule": "required",
                    "success": e != "a",
                    "unexpected": int(e == "a"),
                }
            ],
        }
        for e in ("a", "b", "c")
    ]
    refused = Finding("target", "error", "b", "data/b.csv", 2, "Id", None, "required", "Id is empty", "fill it")
    warned = Finding("cleaning", "warning", "c", "data/c.csv", 2, None, None, "test record", "test", "on purpose")
    judged = {s["entity"]: s for s in expectations.judge(suites, [refused, warned])}
    assert [judged[e]["status"] for e in "abc"] == ["failed", "contradicted", "passed"]
    assert judged["b"]["results"][0]["dry-run errors"] == 1 and "target: required" in judged["b"]["why"]


# -- each check catches what it is for ------------------------------------------------------------------

PROFILE = """\
name: mine
rests_on: a test
file: {format: csv, encoding: utf-8, bom: true}
entities:
  accounts:
    object: Account
    columns:
      - {header: Id, value: external_id, required: true}
      - {header: Name, value: name, required: true, max_length: 6}
      - {header: Level, value: level, type: picklist, picklist: [A, B]}
      - {header: Since, value: created_at, type: date, format: "%Y-%m-%d"}
  contacts:
    object: Contact
    columns:
      - {header: Id, value: external_id, required: true}
      - {header: Account, value: account_external_id, parent: accounts}
      - {header: Mobile, value: mobile, type: phone}
"""


def profile(tmp_path: Path):
    (tmp_path / "targets").mkdir(exist_ok=True)
    (tmp_path / "targets" / "mine.yaml").write_text(PROFILE, encoding="utf-8")
    return load_target("targets/mine.yaml", tmp_path, "migration.yaml", None)[0]


def frame(rows: list[list[str | None]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")


GOOD_ACCOUNTS = frame(
    [["a1", "星辰科技", "A", "2024-01-02"], ["a2", "云帆贸易", "B", None]], ["Id", "Name", "Level", "Since"]
)
BAD_ACCOUNTS = frame(
    [["a1", "星辰科技有限公司", "A", "2024-01-02"], ["a1", None, "Z", "2024/01/02"]], ["Id", "Name", "Level", "Since"]
)
CONTACTS = frame([["c1", "a1", "+8613800138001"], ["c2", "a9", None]], ["Id", "Account", "Mobile"])


def spoiled() -> list[WrittenFile]:
    files = [
        WrittenFile(Entity.accounts, "import/01_accounts_001.csv", GOOD_ACCOUNTS),
        WrittenFile(Entity.contacts, "import/02_contacts_001.csv", CONTACTS),
    ]
    files[0].read, files[1].read = BAD_ACCOUNTS, CONTACTS
    return files


def test_the_database_load_refuses_what_the_template_forbids_and_keeps_nothing(tmp_path):
    found = database.load(profile(tmp_path), spoiled(), schema_file=tmp_path / "schema.sql")
    got = sorted((f.entity, f.row, f.column, f.rule) for f in found)
    # c1's account a1 was refused in both its rows, so c1 has no parent either, as in the target.
    assert got == [
        ("accounts", 2, "Name", "max_length"),
        ("accounts", 3, "Name", "required"),
        ("contacts", 2, "Account", "parent"),
        ("contacts", 3, "Account", "parent"),
    ]
    assert all(f.check == "database" and f.file.startswith("import/") for f in found)
    assert 'REFERENCES "accounts" ("Id")' in (tmp_path / "schema.sql").read_text()


def test_the_database_load_reports_each_rule_on_its_own_row(tmp_path):
    files = spoiled()
    files[0].read = frame(
        [["a1", "星辰", "A", None], ["a1", "云帆", "B", None], ["a2", "恒通", "Z", None]],
        ["Id", "Name", "Level", "Since"],
    )
    found = database.load(profile(tmp_path), files)
    assert sorted((f.row, f.column, f.rule) for f in found) == [
        (3, "Account", "parent"),
        (3, "Id", "unique"),
        (4, "Level", "picklist"),
    ]


@pytest.mark.skipif(not expectations.available(), reason="the validate extra is not installed")
def test_the_expectation_suite_finds_each_broken_rule(tmp_path):
    found = expectations.validate(tmp_path, profile(tmp_path), spoiled())
    got = sorted({(f.entity, f.row, f.column, f.rule) for f in found})
    assert got == [
        ("accounts", 2, "Id", "unique"),
        ("accounts", 2, "Name", "max_length"),
        ("accounts", 3, "Id", "unique"),
        ("accounts", 3, "Level", "picklist"),
        ("accounts", 3, "Name", "required"),
        ("accounts", 3, "Since", "format"),
        ("contacts", 3, "Account", "parent"),
    ]
    assert (tmp_path / expectations.DOCS).is_file()


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))


def test_reading_back_finds_truncation_floats_shifts_lost_characters_and_moved_dates(tmp_path):
    target = profile(tmp_path)
    meant = frame(
        [["a1", "星辰科技", "A", "2024-01-02"], ["a2", "䶮云帆", "B", "2024-03-05"], ["a3", "恒通", "A", None]],
        ["Id", "Name", "Level", "Since"],
    )
    phones = frame([["c1", "a1", "13800138001"]], ["Id", "Account", "Mobile"])
    write(
        tmp_path / "import/01_accounts_001.csv",
        "Id,Name,Level,Since\na1,星辰,A,2024-01-02\na2,云帆,B,2024-03-04\na3,A,恒通,\n",
    )
    write(tmp_path / "import/02_contacts_001.csv", "Id,Account,Mobile\nc1,a1,1.38001E+10\n")
    files = [
        WrittenFile(Entity.accounts, "import/01_accounts_001.csv", meant),
        WrittenFile(Entity.contacts, "import/02_contacts_001.csv", phones),
    ]
    found = readback.read_back(tmp_path, files, target.file, {Entity.accounts: {}, Entity.contacts: {}})
    got = sorted((f.row, f.column, f.rule) for f in found)
    assert got == [
        (2, "Mobile", "float"),
        (2, "Name", "truncated"),
        (3, "Name", "lost characters"),
        (3, "Since", "date moved"),
        (4, "Level", "shifted"),
        (4, "Name", "shifted"),
    ]
    assert files[0].read.height == 3


def test_reading_back_finds_a_missing_bom_and_bytes_the_encoding_cannot_decode(tmp_path):
    target = profile(tmp_path)
    meant = frame([["a1", "星辰", None, None]], ["Id", "Name", "Level", "Since"])
    write(tmp_path / "import/01_accounts_001.csv", "Id,Name,Level,Since\na1,星辰,,\n", "utf-8")
    write(tmp_path / "import/02_x.csv", "Id,Name,Level,Since\na1,星辰,,\n", "gb18030")
    files = [
        WrittenFile(Entity.accounts, "import/01_accounts_001.csv", meant),
        WrittenFile(Entity.accounts, "import/02_x.csv", meant),
    ]
    found = readback.read_back(tmp_path, files, target.file, {Entity.accounts: {}})
    assert [(f.file, f.rule) for f in found] == [
        ("import/01_accounts_001.csv", "bom"),
        ("import/02_x.csv", "bom"),
        ("import/02_x.csv", "encoding"),
    ]
    assert found[2].row == 2
    assert not (tmp_path / "import/01_accounts_001.csv").read_bytes().startswith(codecs.BOM_UTF8)


def test_reading_back_an_xlsx_finds_number_cells_where_text_was_meant(tmp_path):
    from crm_migrate.mappings.targets import ColumnType, FileSpec

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Id", "Mobile", "Amount"])
    sheet.append(["c1", 13800138001, 265000.0])
    (tmp_path / "import").mkdir()
    book.save(tmp_path / "import/02_contacts_001.xlsx")
    meant = frame([["c1", "13800138001", "265000.00"]], ["Id", "Mobile", "Amount"])
    files = [WrittenFile(Entity.contacts, "import/02_contacts_001.xlsx", meant)]
    types = {Entity.contacts: {"Id": ColumnType.id, "Mobile": ColumnType.phone, "Amount": ColumnType.money}}
    found = readback.read_back(tmp_path, files, FileSpec(format="xlsx"), types)
    assert [(f.row, f.column, f.rule) for f in found] == [(2, "Mobile", "number cell")]  # the amount is a number


@pytest.mark.skipif(
    not os.environ.get("CRM_MIGRATE_TEST_POSTGRES"),
    reason="set CRM_MIGRATE_TEST_POSTGRES=postgresql://... to test against a server",
)
def test_the_same_load_against_postgresql_refuses_the_same_rows_and_leaves_nothing(tmp_path):
    import psycopg

    url = os.environ["CRM_MIGRATE_TEST_POSTGRES"]
    found = database.load(profile(tmp_path), spoiled(), url)
    got = sorted((f.entity, f.row, f.column, f.rule) for f in found)
    assert got == [
        ("accounts", 2, "Name", "max_length"),
        ("accounts", 3, "Name", "required"),
        ("contacts", 2, "Account", "parent"),
        ("contacts", 3, "Account", "parent"),
    ]
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (database.SCHEMA_NAME,)
        ).fetchone()[0]
    assert left == 0


def test_the_dry_run_command_exits_1_on_the_demo_and_refuses_an_unreachable_database(demo_dry, tmp_path):
    from typer.testing import CliRunner

    from crm_migrate.cli import app

    root, _ = demo_dry
    result = CliRunner().invoke(app, ["dry-run", str(root), "--sample", "120", "--out", str(tmp_path / "dry")])
    assert result.exit_code == 1, result.output
    assert "would make the import fail" in result.output and "暂缓推进" in result.output
    bad = CliRunner().invoke(
        app,
        [
            "dry-run",
            str(root),
            "--database",
            "postgresql://bob:secret@localhost:1/x",
            "--out",
            str(tmp_path / "nothing"),
        ],
    )
    assert bad.exit_code == 1 and "bob:***@" in bad.output and "secret" not in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "nothing").exists()


def test_the_dry_run_reads_each_source_once_and_samples_copies_of_its_tables(tmp_path, monkeypatch):
    """The sample's rows come from the tables the full prepare read (a second read of every file was a
    run's reading time again), and taking them leaves those tables as they were."""
    import crm_migrate.migrate.dryrun as dryrun_module
    import crm_migrate.migrate.pipeline as pipeline
    from crm_migrate.migrate import run as run_module

    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out"))
    reads, preps = [], []
    real_read, real_prepare = pipeline.read_source, run_module.prepare

    def counted(source, **kw):
        reads.append(source.name)
        return real_read(source, **kw)

    def kept(*args, **kw):
        result = real_prepare(*args, **kw)
        preps.append({r.source.name: (r.table.frame.height, len(r.table.warnings)) for r in result.migration.reads})
        return result

    monkeypatch.setattr(pipeline, "read_source", counted)
    monkeypatch.setattr(run_module, "prepare", kept)  # the sample's, called by run
    monkeypatch.setattr(dryrun_module, "prepare", kept)  # the full one
    project = load_project(root)
    dry = dry_run(project)
    assert sorted(reads) == sorted(s.name for s in project.sources)  # once each
    full, sample = preps
    assert all(sample[name][0] <= full[name][0] for name in full) and sum(h for h, _ in sample.values()) < sum(
        h for h, _ in full.values()
    )
    assert dry.result.reconciliation.balanced
