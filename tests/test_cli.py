"""The command line on the demo project and on broken projects, through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate import __version__
from crm_migrate.cli import app
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


# Every verb of the CLI, as a user types it, with a phrase its --help must say.
VERBS = {
    "validate": "Check the project files",
    "plan": "without writing anything",
    "run": "write the import files",
    "dry-run": "representative sample",
    "verify": "compare the target's export",
    "schema": "JSON Schema",
    "init": "Start a project",
    "state": "what every run wrote",
    "watch": "the quality of the new CRM's export",
    "target": "Target profiles",
    "target from-describe": "field metadata",
}


def test_help_explains_every_command():
    """Every verb the CLI has is in this table (a verb added without help fails here), is listed by --help,
    and has help of its own that says what it does, and is one of the README's verbs."""
    import typer

    def verbs(command, path=()):
        for name, sub in command.commands.items():
            yield " ".join((*path, name))
            if hasattr(sub, "commands"):
                yield from verbs(sub, (*path, name))

    assert sorted(verbs(typer.main.get_command(app))) == sorted(VERBS)
    top = invoke("--help")
    assert top.exit_code == 0
    listed = {line.split()[0] for line in top.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {v for v in VERBS if " " not in v}
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for verb, phrase in VERBS.items():
        sub = invoke(*verb.split(), "--help")
        assert sub.exit_code == 0, verb
        assert "[OPTIONS]" in sub.output.splitlines()[0] and verb in sub.output.splitlines()[0], sub.output
        assert phrase in " ".join(sub.output.split()), (verb, sub.output)
        assert f"crm-migrate {verb} " in readme, f"README's verbs do not show {verb}"


def test_version():
    """--version prints the version the package declares in pyproject.toml (not just its own __version__)."""
    import tomllib

    declared = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"crm-migrate {declared['project']['version']}"
    assert __version__ == declared["project"]["version"]


def test_validate_demo_is_clean(demo_copy):
    result = invoke("validate", demo_copy)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def broken(make_project) -> Path:
    mapping = "file: data/a.csv\nentities:\n  accounts:\n    columns:\n      客户名: name\n"
    return make_project("name: t\n", {"crm": mapping}, {"data/a.csv": "客户名称\n北京星辰科技有限公司\n"})


def test_validate_text_format_has_path_line_and_hint(make_project):
    root = broken(make_project)
    result = invoke("validate", root)
    assert result.exit_code == 1
    assert (
        f"{root}/mappings/crm.yaml:5: error: column '客户名' is not in data/a.csv — did you mean '客户名称'?"
        in result.output
    )


def test_validate_github_annotations(make_project):
    result = invoke("validate", broken(make_project), "--format", "github")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("::error file=") and ",line=5," in line and "did you mean '客户名称'?" in line


def test_validate_json(make_project):
    result = invoke("validate", broken(make_project), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["errors"] == 1 and data["problems"][0]["line"] == 5


def test_plan_fails_like_run_would(make_project):
    result = invoke("plan", broken(make_project))
    assert result.exit_code == 1
    assert "did you mean '客户名称'?" in result.output and "Traceback" not in result.output


def test_plan_fails_when_no_child_finds_its_account(make_project):
    """Contacts from another export whose system differs from the accounts': every one would be rejected."""
    root = make_project(
        mappings={
            "crm": "file: data/a.csv\nsystem: old_crm\nentities:\n  accounts:\n    columns: {编号: id, 名称: name}\n",
            "people": "file: data/c.csv\nentities:\n  contacts:\n    columns: {客户编号: account_id, 姓名: name}\n",
        },
        files={"data/a.csv": "编号,名称\nC1,星辰科技有限公司\n", "data/c.csv": "客户编号,姓名\nC1,王芳\n"},
    )
    result = invoke("plan", root)
    assert result.exit_code == 1 and "not one of the 1 contacts of people found its account" in result.output
    assert "system:" in result.output and "account_id" in result.output
    (root / "mappings" / "people.yaml").write_text(
        "file: data/c.csv\nsystem: old_crm\nentities:\n  contacts:\n    columns: {客户编号: account_id, 姓名: name}\n",
        encoding="utf-8",
    )
    assert invoke("plan", root).exit_code == 0


def test_usage_error_exit_code():
    assert invoke("run").exit_code == 2


def test_schema_writes_both_json_schemas(tmp_path):
    result = invoke("schema", "--out", tmp_path)
    assert result.exit_code == 0
    mapping = json.loads((tmp_path / "mapping.schema.json").read_text())
    migration = json.loads((tmp_path / "migration.schema.json").read_text())
    assert mapping["additionalProperties"] is False and "entities" in mapping["required"]
    assert "name" in migration["required"]


def source_rows(project: Path) -> dict[str, set[tuple[str, int]]]:
    """Rows per source counted straight from the files, independently of crm-migrate's readers."""
    import openpyxl

    def csv_rows(path: Path, encoding: str, delimiter: str = ",") -> set[tuple[str, int]]:
        records = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=delimiter))
        return {("", i + 1) for i, r in enumerate(records) if i > 0 and any(c.strip() for c in r)}

    data = project / "data"
    book = openpyxl.load_workbook(data / "销售团队客户表.xlsx", read_only=True)

    def rows_of(ws, first: int) -> set[tuple[str, int]]:
        return {
            (ws.title, n)
            for n, cells in enumerate(ws.iter_rows(min_row=first), start=first)
            if any(c.value not in (None, "") for c in cells)
        }

    sheet_rows = {r for ws in book.worksheets if ws.title != "商机跟进" for r in rows_of(ws, 4)}
    pipeline_rows = rows_of(book["商机跟进"], 3)  # a banner, then the header on row 2
    vcf = (data / "通讯录.vcf").read_text(encoding="utf-8").splitlines()
    return {
        "old_crm_accounts": csv_rows(data / "老CRM_客户导出.csv", "gb18030"),
        "old_crm_contacts": csv_rows(data / "老CRM_联系人导出.csv", "gb18030"),
        "old_crm_opportunities": csv_rows(data / "老CRM_商机导出.csv", "utf-8"),
        "old_crm_activities": csv_rows(data / "老CRM_跟进记录.txt", "utf-16", "\t"),
        "sales_workbook": sheet_rows,
        "sales_pipeline": pipeline_rows,
        "event_signups": csv_rows(data / "市场活动报名.csv", "utf-8-sig"),
        "address_book": {("", i + 1) for i, line in enumerate(vcf) if line == "BEGIN:VCARD"},
    }


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    import shutil

    from .conftest import DEMO

    project = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("out", ".out*", "state"))
    before = {p: p.read_bytes() for p in (project / "data").iterdir()}
    result = invoke("run", project)
    return project, result, before


def test_run_demo_accounts_for_every_source_row(demo_run):
    project, result, _ = demo_run
    assert result.exit_code == 0, result.output
    assert "Every source row is accounted for" in result.output
    lineage = pl.read_csv(project / "out" / "lineage.csv", infer_schema=False)
    assert lineage.columns == [
        "source",
        "file",
        "sheet",
        "row",
        "entity",
        "record_id",
        "outcome",
        "reason",
        "notes",
        "wave",
        "batch",
    ]
    expected = source_rows(project)
    entities = {
        "old_crm_accounts": {"accounts"},
        "old_crm_contacts": {"contacts"},
        "old_crm_opportunities": {"opportunities"},
        "old_crm_activities": {"activities"},
        "sales_workbook": {"accounts", "contacts"},
        "sales_pipeline": {"accounts", "opportunities"},
        "event_signups": {"accounts", "contacts"},
        "address_book": {"accounts", "contacts"},
    }
    for source, rows in expected.items():
        mine = lineage.filter(pl.col("source") == source)
        assert set(mine["entity"]) == entities[source]
        for entity in entities[source]:
            got = mine.filter(pl.col("entity") == entity)
            seen = Counter((s or "", int(r)) for s, r in zip(got["sheet"], got["row"]))
            assert set(seen) == rows, (source, entity)
            assert max(seen.values()) == 1  # one line per source row and entity
    assert set(lineage["outcome"]) == {"written", "merged", "filtered", "rejected"}
    # Written and merged rows name a record that is in the import file; the others name none.
    for entity, name in [("accounts", "01_accounts"), ("contacts", "02_contacts")]:
        ids = set(pl.read_csv(project / "out" / "import" / f"{name}_001.csv", infer_schema=False)["external_id"])
        kept = lineage.filter((pl.col("entity") == entity) & pl.col("outcome").is_in(["written", "merged"]))
        assert set(kept["record_id"]) == ids
        dropped = lineage.filter((pl.col("entity") == entity) & pl.col("outcome").is_in(["filtered", "rejected"]))
        assert dropped["record_id"].is_null().all() and dropped["reason"].is_not_null().all()


def test_run_demo_links_children_and_reports(demo_run):
    project, _, before = demo_run
    out = project / "out"
    accounts = set(pl.read_csv(out / "import" / "01_accounts_001.csv", infer_schema=False)["external_id"])
    for name in ("02_contacts", "03_opportunities", "04_activities"):
        frame = pl.read_csv(out / "import" / f"{name}_001.csv", infer_schema=False)
        links = set(frame["account_external_id"].drop_nulls())
        assert links <= accounts, name  # every link points at an account that is written
    opportunities = pl.read_csv(out / "import" / "03_opportunities_001.csv", infer_schema=False)
    assert opportunities["account_external_id"].is_not_null().all()
    rejects = pl.read_csv(out / "rejects" / "contacts.csv", infer_schema=False)
    assert rejects.filter(pl.col("reason").str.starts_with("no account with id")).height > 0
    quality = json.loads((out / "reports" / "quality.json").read_text(encoding="utf-8"))
    assert quality["balanced"] is True
    assert {s["encoding"] for s in quality["sources"]} >= {"gb18030", "utf-16", "utf-8-sig"}
    html = (out / "reports" / "quality.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained, no CDN
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool"]["version"] == __version__
    assert {o["path"] for o in manifest["outputs"]} >= {"import/01_accounts_001.csv", "lineage.csv"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {p: p.read_bytes() for p in (project / "data").iterdir()} == before  # sources untouched


def test_run_twice_gives_byte_identical_import_files(demo_run):
    """With --full (a plain rerun writes only what changed: nothing); lineage differs only in the batch number."""
    project, _, _ = demo_run
    first = {p.name: p.read_bytes() for p in (project / "out" / "import").iterdir()}
    lineage = (project / "out" / "lineage.csv").read_text(encoding="utf-8-sig")
    again = invoke("run", project, "--full")
    assert again.exit_code == 0
    assert {p.name: p.read_bytes() for p in (project / "out" / "import").iterdir()} == first
    now = (project / "out" / "lineage.csv").read_text(encoding="utf-8-sig")
    assert now.replace(",2\n", ",1\n") == lineage and now != lineage


def test_plan_on_demo_writes_nothing(demo_copy):
    result = invoke("plan", demo_copy)
    assert result.exit_code == 0, result.output
    assert not (demo_copy / "out").exists()
    for text in (
        "old_crm_accounts",
        "gb18030",
        "张三 (3)",
        "import/01_accounts_001.csv",
        "unmapped columns",
        "Expected duplicates",
        "Expected refusals by the target",
        "Files run would write",
    ):
        assert text in result.output
    # The predictions are the run's figures: the clusters and merged rows run finds; the planted refusals.
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.output.splitlines()]
    accounts = prepare(load_project(demo_copy)).migration.entities[Entity.accounts].frame
    merged = accounts.filter(pl.col("_outcome") == "merged")
    clusters = merged["_record_id"].n_unique()
    table = result.output.split("Expected duplicates", 1)[1].splitlines()
    predicted = next(
        cells for line in table if (cells := [c.strip() for c in line.split("│")[1:-1]])[:1] == ["accounts"]
    )
    assert predicted[2:4] == [str(clusters), str(merged.height)] and clusters > 50
    assert any(r[:4] == ["opportunities", "stage", "picklist", "2"] for r in rows)


def _commands(group, path=()):
    """Every command of the click tree typer builds, with the words that invoke it."""
    import click

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def test_help_shows_metavars_not_placeholders():
    import re

    import typer

    for words in _commands(typer.main.get_command(app)):
        result = invoke(*words, "--help")
        assert result.exit_code == 0, words
        assert not re.search(r"<[a-z][\w\[\]|, ]*>|\{\w+\}", result.output), (words, result.output)
    assert "validate [OPTIONS] PROJECT\n" in invoke("validate", "--help").output
    assert "FILE..." in invoke("target", "from-describe", "--help").output


def test_shell_completion_is_offered_and_completes_verbs(monkeypatch):
    import typer.completion

    assert "--install-completion" in invoke("--help").output
    # typer finds the shell from the processes above this one (shellingham), which differ from a terminal to
    # CI: the shell is given here, so the test is about our completion and not about who started pytest
    monkeypatch.setattr(typer.completion, "_get_shell_name", lambda: "bash")
    shown = runner.invoke(app, ["--show-completion", "bash"], prog_name="crm-migrate")
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert "_CRM_MIGRATE_COMPLETE=complete_bash" in shown.output
    completed = runner.invoke(
        app,
        [],
        prog_name="crm-migrate",
        env={"_CRM_MIGRATE_COMPLETE": "complete_bash", "COMP_WORDS": "crm-migrate pl", "COMP_CWORD": "1"},
    )
    assert completed.output.split() == ["plan"]


def test_paths_written_with_backslashes_are_found_and_still_confined(make_project, tmp_path):
    root = make_project(
        "name: t\ntarget: targets\\t.yaml\nentities: [accounts]\n",
        {
            "crm": (
                "file: data\\sub\\a.csv\nentities:\n  accounts:\n    columns: {名称: name}\n"
                "    derive:\n      industry: {column: 行业, lookup: {file: data\\codes.csv, key: code, value: name}}\n"
            )
        },
        {
            "data/sub/a.csv": "名称,行业\n北京星辰科技有限公司,I\n",
            "data/codes.csv": "code,name\nI,软件\n",
            "targets/t.yaml": "name: t\nrests_on: x\nentities:\n  accounts:\n    object: accounts\n    columns:\n"
            "      - {header: name, value: name}\n",
        },
    )
    result = invoke("validate", root)
    assert result.exit_code == 0, result.output
    assert invoke("plan", root).exit_code == 0
    (tmp_path / "outside.csv").write_text("名称\n外面的公司\n", encoding="utf-8")
    (root / "mappings" / "crm.yaml").write_text(
        "file: ..\\outside.csv\nentities:\n  accounts:\n    columns: {名称: name}\n", encoding="utf-8"
    )
    refused = invoke("validate", root)
    assert refused.exit_code == 1 and "leads outside the project folder" in refused.output
    assert "外面的公司" not in refused.output


def test_annotation_paths_are_relative_to_the_repository_root(make_project, tmp_path, monkeypatch):
    root = broken(make_project)  # tmp_path/project
    (tmp_path / ".git").mkdir()  # the repository is tmp_path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in (root, Path("..") / "project"):
        [line] = invoke("validate", given, "--format", "github").output.strip().splitlines()
        assert line.startswith("::error file=project/mappings/crm.yaml,line=5,"), line
    [line] = invoke("validate", "../project", "--format", "github", "--root", root).output.strip().splitlines()
    assert line.startswith("::error file=mappings/crm.yaml,line=5,"), line


def test_no_color_and_NO_COLOR_are_honoured(make_project):
    import os
    import re
    import subprocess
    import sys

    root = broken(make_project)

    def colours(*args: str, **env: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "crm_migrate", *args, "validate", str(root)],
            capture_output=True,
            text=True,
            env={**os.environ, "FORCE_COLOR": "1", **env},
        )
        assert done.returncode == 1
        codes = re.findall(r"\x1b\[([0-9;]*)m", done.stdout + done.stderr)
        return [c for c in codes for n in c.split(";") if n.isdigit() and (30 <= int(n) <= 49 or 90 <= int(n) <= 107)]

    assert colours(NO_COLOR=""), "a terminal gets colours (else this test could not fail)"
    assert colours(NO_COLOR="1") == []
    assert colours("--no-color", NO_COLOR="") == []


# -- progress: --verbose, --quiet and out/run.log -------------------------------------------------------------

TIMING = re.compile(r"^ *\d+\.\d\d s  (?P<step>.+?)(?:: (?P<count>[\d,]+) (?P<unit>\w+))?$")


@pytest.fixture(scope="module")
def verbose_run(tmp_path_factory):
    import shutil

    from .conftest import DEMO

    project = tmp_path_factory.mktemp("verbose") / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("out", ".out*", ".crm-migrate"))
    result = runner.invoke(app, ["run", str(project), "--verbose"])
    assert result.exit_code == 0, result.output
    lines = {}
    for line in result.stderr.splitlines():
        if found := TIMING.match(line):
            lines[found["step"]] = int(found["count"].replace(",", "")) if found["count"] else None
    return project, result, lines


DEMO_SOURCES = (
    "data/老CRM_客户导出.csv (old_crm_accounts)",
    "data/老CRM_联系人导出.csv (old_crm_contacts)",
    "data/销售团队客户表.xlsx (sales_workbook)",
    "data/销售团队客户表.xlsx (sales_pipeline)",
    "data/通讯录.vcf (address_book)",
)


def test_verbose_prints_a_timing_line_for_every_step_and_output_file(verbose_run):
    project, _, lines = verbose_run
    manifest = json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))
    rows = {r["source"]: r["rows"] for r in manifest["inputs"] if r["kind"] == "source"}
    assert lines["Reading data/老CRM_客户导出.csv (old_crm_accounts)"] == rows["old_crm_accounts"]
    for source in DEMO_SOURCES:
        assert f"Reading {source}" in lines, source
    for entity in ("accounts", "contacts", "opportunities", "activities"):
        for step in (
            f"Cleaning {entity}",
            f"Clustering {entity}",
            f"Golden records of {entity}",
            f"Conforming {entity}",
        ):
            assert step in lines, step
    for entity in ("accounts", "contacts", "opportunities"):
        for step in (f"Blocking {entity}", f"Scoring {entity}"):
            assert step in lines, step
    assert lines["Blocking accounts"] == lines["Scoring accounts"] > 0  # candidate pairs, all scored
    # every output file, the review workbook included, with the rows the manifest says it holds
    for output in manifest["outputs"]:
        assert f"Writing {output['path']}" in lines, output["path"]
        if output["rows"] is not None:
            assert lines[f"Writing {output['path']}"] == output["rows"], output["path"]
    assert "Writing review/duplicates.xlsx" in lines and "Writing manifest.json" in lines


def test_run_log_has_the_steps_and_no_value_from_the_data(verbose_run):
    import openpyxl

    project, _, lines = verbose_run
    log = (project / "out" / "run.log").read_text(encoding="utf-8").splitlines()
    assert log[0] == "time\tstep\tcount\tunit\tseconds"
    logged = {}
    for line in log[1:]:
        when, step, count, unit, seconds = line.split("\t")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", when) and float(seconds) >= 0
        logged[step] = int(count) if count else None
    text = "\n".join(log)
    data = project / "data"
    accounts = pl.read_csv(data / "老CRM_客户导出.csv", encoding="gb18030", infer_schema=False)
    contacts = pl.read_csv(data / "老CRM_联系人导出.csv", encoding="gb18030", infer_schema=False)
    signups = pl.read_csv(data / "市场活动报名.csv", encoding="utf-8", infer_schema=False)
    book = openpyxl.load_workbook(data / "销售团队客户表.xlsx", read_only=True)
    values = {
        *accounts["客户名称"].drop_nulls(),
        *accounts["电话"].drop_nulls(),
        *contacts["姓名"].drop_nulls(),
        *contacts["手机"].drop_nulls(),
        *contacts["身份证号"].drop_nulls(),
        *signups["手机"].drop_nulls(),
        *book.sheetnames,
    }  # a salesperson's sheet is named after them
    assert len(values) > 500 and "张三" in values
    leaked = sorted(v for v in values if v.strip() and v.strip() in text)
    assert leaked == []
    assert {k: v for k, v in logged.items() if k != "total"} == lines  # the same steps as --verbose, same counts


def test_quiet_prints_nothing_on_stderr_where_progress_would_show(make_project, monkeypatch):
    from .test_pipeline import ACCOUNTS, ACCOUNTS_CSV, CONTACTS, CONTACTS_CSV, MIGRATION

    root = make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
    )
    monkeypatch.setenv("FORCE_COLOR", "1")  # stderr taken for a terminal: the bars are drawn
    shown = runner.invoke(app, ["run", str(root)])
    assert shown.exit_code == 0 and shown.stderr != "", "progress is drawn (else this test could not fail)"
    for args in (["run", str(root), "--quiet"], ["--quiet", "run", str(root)], ["plan", str(root), "-q"]):
        quiet = runner.invoke(app, args)
        assert quiet.exit_code == 0, quiet.output
        assert quiet.stderr == "", args
    assert runner.invoke(app, ["run", str(root), "--quiet", "--verbose"]).exit_code == 2
