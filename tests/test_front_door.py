"""The library's front door: ``crm_migrate`` exports the verbs as functions and their results, each result's
``exit_code`` is the command's exit status (the CLI takes it from there), the README's example runs as it is
written, and importing the package imports none of the heavy parts."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout

import pytest
from typer.testing import CliRunner

import crm_migrate
from crm_migrate.cli import app
from crm_migrate.errors import MigrateError
from crm_migrate.migrate.plan import Plan
from crm_migrate.migrate.validate import Validation
from crm_migrate.validators.findings import Finding
from tests.conftest import DEMO, ROOT
from tests.test_plan import make

VERBS = ["load_project", "validate", "plan", "run", "dry_run", "verify", "watch"]
RESULTS = ["Project", "Validation", "Plan", "RunResult", "DryRun", "Verification", "Watch", "MigrateError", "Problem"]


def test_the_verbs_and_their_results_are_exported():
    assert set(crm_migrate.__all__) == {*VERBS, *RESULTS}
    assert all(callable(getattr(crm_migrate, name)) for name in VERBS)
    assert crm_migrate.run.__module__ == "crm_migrate.migrate.run"
    assert crm_migrate.Verification.__module__ == "crm_migrate.validators.roundtrip"
    assert set(crm_migrate.__all__) <= set(dir(crm_migrate))
    with pytest.raises(AttributeError, match="no attribute 'runn'"):
        crm_migrate.runn  # noqa: B018


def test_importing_the_package_imports_nothing_heavy():
    """The names are imported on first use: ``import crm_migrate`` loads no dataframe, model or CLI library,
    and the first use of a verb does."""
    code = (
        "import sys, crm_migrate\n"
        "heavy = ('polars', 'pydantic', 'typer', 'rich', 'crm_migrate.')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "crm_migrate.plan\n"
        "print('polars' in sys.modules, 'crm_migrate.migrate.plan' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=True,
    )
    assert done.stdout.splitlines() == ["[]", "True True"], done.stdout + done.stderr


def test_each_result_says_its_exit_status(make_project, tmp_path):
    root = make(make_project)
    project = crm_migrate.load_project(root)
    assert crm_migrate.validate(root).exit_code == 0
    assert crm_migrate.validate(project).problems == crm_migrate.validate(root).problems  # a project or its folder

    strict = crm_migrate.plan(project, max_rejects=0)
    assert strict.exit_code == 1 and any("--max-rejects 0" in p.message for p in strict.problems)
    assert crm_migrate.plan(project).exit_code == 0 and not crm_migrate.plan(project).problems

    result = crm_migrate.run(project, tmp_path / "out")
    assert result.exit_code == 0 and result.reconciliation.balanced
    sent = next((tmp_path / "out" / "import").glob("01_accounts_*.csv"))
    assert crm_migrate.verify(result.out, "accounts", sent).exit_code == 0
    rows = list(csv.reader(io.StringIO(sent.read_text(encoding="utf-8-sig"))))
    short = tmp_path / "export.csv"
    with short.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows[:-1])  # one record did not arrive
    back = crm_migrate.verify(result.out, "accounts", short)
    assert (back.exit_code, back.missing) == (1, 1)
    with pytest.raises(MigrateError) as raised:
        crm_migrate.verify(result.out, "acounts", short)
    assert raised.value.exit_code == 1 and "no entity 'acounts'" in raised.value.problems[0].message

    (root / "mappings" / "crm.yaml").write_text(
        (root / "mappings" / "crm.yaml").read_text(encoding="utf-8").replace("entities:", "entites:"), encoding="utf-8"
    )
    broken = crm_migrate.validate(root)
    assert broken.exit_code == 1 and broken.errors and set(broken.problems) >= set(broken.errors)
    with pytest.raises(MigrateError) as raised:
        crm_migrate.load_project(root)
    assert raised.value.exit_code == 1


def test_a_dry_run_fails_on_an_error_finding_only():
    def finding(severity: str) -> Finding:
        return Finding("target", severity, "accounts", "data/a.csv", 2, "name", "x", "max_length", "too long", "cut")

    assert crm_migrate.DryRun(None, {}, [finding("warning")]).exit_code == 0  # type: ignore[arg-type]
    assert crm_migrate.DryRun(None, {}, [finding("warning"), finding("error")]).exit_code == 1  # type: ignore[arg-type]


def test_the_command_exits_with_the_results_code(make_project, monkeypatch):
    """The CLI decides no exit status of its own: give a result another code and the command exits with it."""
    root = make(make_project)
    runner = CliRunner()
    monkeypatch.setattr(Validation, "exit_code", property(lambda self: 7))
    assert runner.invoke(app, ["validate", str(root)]).exit_code == 7
    monkeypatch.setattr(Plan, "exit_code", property(lambda self: 5))
    assert runner.invoke(app, ["plan", str(root)]).exit_code == 5
    monkeypatch.setattr(MigrateError, "exit_code", 4)
    assert runner.invoke(app, ["plan", str(root / "nowhere")]).exit_code == 4


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\*\*From Python\.\*\*.*?```python\n(.*?)```", text, re.S)
    assert found, "README.md: the From Python example is gone"
    return found.group(1)


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    assert all(f"crm_migrate.{verb}(" in code for verb in ("load_project", "validate", "plan", "run", "verify"))
    shutil.copytree(DEMO, tmp_path / "samples" / "demo", ignore=shutil.ignore_patterns("out"))
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})  # the README's own example
    assert printed.getvalue().splitlines()[-1].split("#")[0].split() == ["0", "0", "0", "0"]
    assert code.splitlines()[-1].split("# ")[-1] == printed.getvalue().strip()  # the comment says what it prints
    assert (tmp_path / "out" / "import" / "02_contacts_001.csv").is_file()
