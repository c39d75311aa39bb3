"""The quality report in a real browser: headless Chromium opens it offline with no console errors, the
key figures are on the page, a customer name holding <script> is shown as text, and ID numbers are masked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crm_migrate.migrate.run import run
from crm_migrate.project import load_project
from crm_migrate.validators.dryrun import dry_run
from crm_migrate.validators.report import masked
from tests.test_targets import ACCOUNT_COLUMNS, ACCOUNTS, ACCOUNTS_CSV, CONTACTS, CONTACTS_CSV, ENTITIES, own_profile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
EVIL = "<script>document.title='pwned'</script>"


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after the page loaded, and the console messages Chromium logged while loading it."""
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return done.stdout, console


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A project whose over-long account name holds a script, dry-run then run, so the report has both."""
    root = tmp_path_factory.mktemp("report") / "project"
    (root / "mappings").mkdir(parents=True)
    (root / "targets").mkdir()
    (root / "data").mkdir()
    (root / "migration.yaml").write_text(f"name: t<b>x</b>\ntarget: targets/mine.yaml\n{ENTITIES}"
                                         "options: {today: 2026-01-01}\n", encoding="utf-8")
    (root / "mappings/accounts.yaml").write_text(ACCOUNTS, encoding="utf-8")
    (root / "mappings/contacts.yaml").write_text(CONTACTS, encoding="utf-8")
    (root / "targets/mine.yaml").write_text(own_profile(ACCOUNT_COLUMNS), encoding="utf-8")
    (root / "data/accounts.csv").write_text(ACCOUNTS_CSV + f"A4,星辰{EVIL},,,,A\n", encoding="utf-8")
    (root / "data/contacts.csv").write_text(CONTACTS_CSV, encoding="utf-8")
    project = load_project(root)
    dry = dry_run(project)
    run(project)
    return root, dry


def test_the_report_figures_match_the_json_and_customer_text_is_escaped(reported):
    root, dry = reported
    page = (root / "out/reports/quality.html").read_text(encoding="utf-8")
    report = json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8"))
    assert report["dry_run"]["errors"] == sum(f.severity == "error" for f in dry.findings) > 0
    assert "<script" not in page and "http" not in page.split("<body>")[1]  # nothing runs, nothing is fetched
    assert "&lt;script&gt;document.title=" in page
    assert "<title>t&lt;b&gt;x&lt;/b&gt; — quality</title>" in page
    assert "11010519491231002X" not in page and "11010519491231002X" in (root / "data/contacts.csv").read_text()


@needs_chromium
def test_chromium_opens_the_report_with_no_console_errors_and_the_key_figures(reported, tmp_path):
    root, dry = reported
    dom, console = open_in_chromium(root / "out/reports/quality.html", tmp_path)
    assert console == []
    assert "<title>t&lt;b&gt;x&lt;/b&gt; — quality</title>" in dom  # the script in the name did not run
    assert "<script" not in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    report = json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8"))
    balanced = re.search(r'<span class="ok" id="balanced">([^<]+)</span>', dom)
    assert balanced and balanced.group(1) == "Every source row is accounted for."
    dry_line = re.search(r'<p id="dry-run">(\d+) findings on a sample of (\d+) source rows', dom)
    assert dry_line and int(dry_line.group(1)) == report["dry_run"]["findings"]
    for row in report["reconciliation"]:  # every source's reconciliation is in the page
        cells = "".join(f'<td class="n">{row[k]}</td>' for k in ("read", "written", "merged", "filtered", "rejected"))
        assert f"<td>{row['source']}</td><td>{row['entity']}</td>{cells}" in dom
    assert dom.count("<svg") >= 2  # completeness charts per entity, before and after


@needs_chromium
def test_the_console_check_catches_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><title>x</title><script>missing();</script>", encoding="utf-8")
    _, console = open_in_chromium(page, tmp_path)
    assert console and "missing is not defined" in console[0]


def test_long_digit_runs_are_masked_in_any_text():
    assert masked("id 11010519491231002X is invalid") == "id 110105********002X is invalid"
    assert masked("+8613800138001 and 2026-01-01") == "+8613800138001 and 2026-01-01"
