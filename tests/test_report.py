"""The quality report in a real browser: headless Chromium opens it offline with no console errors, the
key figures are on the page, a customer name holding <script> is shown as text, and ID numbers are masked."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.dryrun import dry_run
from crm_migrate.migrate.run import run
from crm_migrate.project import load_project
from crm_migrate.reports.quality import masked
from tests.conftest import DEMO
from tests.test_targets import ACCOUNT_COLUMNS, ACCOUNTS, ACCOUNTS_CSV, CONTACTS, CONTACTS_CSV, ENTITIES, own_profile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
EVIL = "<script>document.title='pwned'</script>"


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after the page loaded, and the console messages Chromium logged while loading it."""
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return done.stdout, console


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A project whose over-long account name holds a script, dry-run then run, so the report has both."""
    root = tmp_path_factory.mktemp("report") / "project"
    (root / "mappings").mkdir(parents=True)
    (root / "targets").mkdir()
    (root / "data").mkdir()
    (root / "migration.yaml").write_text(
        f"name: t<b>x</b>\ntarget: targets/mine.yaml\n{ENTITIES}options: {{today: 2026-01-01}}\n", encoding="utf-8"
    )
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


# -- the report that explains matching ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """The demo run, its result in memory and its report: pairs to review and merges to explain."""
    root = tmp_path_factory.mktemp("demo-report") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out"))
    result = run(load_project(root))
    report = json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8"))
    return root, result, report


def test_the_histogram_counts_every_pair_scored_and_each_band_holds_its_pairs(demo_report):
    _, result, report = demo_report
    assert set(report["matching"]) >= {"accounts", "contacts"}
    for entity, data in report["matching"].items():
        matches = result.migration.entities[Entity(entity)].matches
        assert sum(data["histogram"]) == data["scored"] == matches.scored > 0
        assert sum(b["pairs"] for b in data["bands"]) == data["scored"]
        bands = (matches.pairs["probability"] * 100).floor().clip(upper_bound=99).cast(pl.Int64).value_counts()
        assert dict(bands.iter_rows()) == {i: n for i, n in enumerate(data["histogram"]) if n}
        p = matches.pairs["probability"]
        review = next(b for b in data["bands"] if b["from"] == data["review"])
        assert review["today"] == "to review" and review["pairs"] == int(
            ((p >= review["from"]) & (p < review["to"])).sum()
        )
    page = (demo_report[0] / "out/reports/quality.html").read_text(encoding="utf-8")
    svg = re.search(r'<svg class="histogram" id="histogram-accounts".*?</svg>', page).group(0)
    assert sum(map(int, re.findall(r'data-count="(\d+)"', svg))) == report["matching"]["accounts"]["scored"]


def test_past_the_pair_budget_the_histogram_still_counts_the_pairs_let_go(tmp_path, monkeypatch):
    from crm_migrate.migrate import match

    monkeypatch.setattr(match, "KEEP_PAIRS", 10)  # let go of the low pairs, as past a million
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out"))
    result = run(load_project(root))
    data = json.loads((root / "out/reports/quality.json").read_text(encoding="utf-8"))["matching"]["accounts"]
    matches = result.migration.entities[Entity.accounts].matches
    assert data["kept"] == matches.pairs.height < data["scored"] == sum(data["histogram"]) == matches.scored
    assert "the counts below cover all" in (root / "out/reports/quality.html").read_text(encoding="utf-8")


def test_each_waterfall_adds_up_to_its_pairs_weight_from_the_prior(demo_report):
    root, result, report = demo_report
    page = (root / "out/reports/quality.html").read_text(encoding="utf-8")
    kinds = set()
    for entity, data in report["matching"].items():
        res = result.migration.entities[Entity(entity)]
        pairs = res.matches.pairs
        assert data["prior_bits"] == pytest.approx(math.log2(res.matches.match_rate / (1 - res.matches.match_rate)))
        for i, pair in enumerate(data["pairs"], start=1):
            kinds.add(pair["kind"])
            row = pairs.filter((pl.col("l") == pair["l"]) & (pl.col("r") == pair["r"])).row(0, named=True)
            assert pair["weight"] == pytest.approx(row["weight"]) and pair["probability"] == row["probability"]
            assert pair["prior"] + sum(s["bits"] for s in pair["steps"]) == pytest.approx(row["weight"], abs=1e-9)
            compared = {c.name for c in res.matches.comparisons if row[f"level:{c.name}"] not in (None, -1)}
            assert {s["field"] for s in pair["steps"]} == compared
            assert set(pair["not_compared"]) == {c.name for c in res.matches.comparisons} - compared
            # and the chart drawn is that sum: each bar's bits, from the prior to the total
            svg = re.search(rf'<svg class="waterfall" id="pair-{entity}-{i}".*?</svg>', page).group(0)
            total = float(re.search(r'data-total="([-\d.]+)"', svg).group(1))
            steps = [float(b) for b in re.findall(r'class="(?:prior|step)"[^>]*data-bits="([-\d.]+)"', svg)]
            assert len(steps) == len(pair["steps"]) + 1 and sum(steps) == pytest.approx(total, abs=1e-5)
            assert total == pytest.approx(row["weight"], abs=1e-5)
    assert kinds == {"review", "merge"}


def test_the_weights_table_gives_each_level_the_weight_its_pairs_got(demo_report):
    _, result, report = demo_report
    matches = result.migration.entities[Entity.accounts].matches
    table = {(w["field"], w["level"]): w for w in report["matching"]["accounts"]["weights"]}
    assert {(c.name, level) for c in matches.comparisons for level in range(c.levels)} == set(table)
    for c in matches.comparisons:
        assert [table[(c.name, k)]["label"] for k in range(c.levels)] == list(c.labels)
        assert table[(c.name, 0)]["m"] == pytest.approx(matches.m[c.name][0], abs=1e-6)
        if c.frequency:
            continue  # its top level gives less for a common value, pair by pair
        seen = (
            matches.pairs.select(pl.col(f"level:{c.name}").alias("level"), pl.col(f"weight:{c.name}").alias("w"))
            .filter(pl.col("level") >= 0)
            .unique("level")
        )
        for level, weight in seen.iter_rows():
            assert table[(c.name, level)]["weight"] == pytest.approx(weight, abs=0.01)


def test_the_explained_pairs_show_no_customer_values(demo_report):
    root, result, _ = demo_report
    page = (root / "out/reports/quality.html").read_text(encoding="utf-8")
    explained = "".join(re.findall(r'<section id="matching-.*?</section>', page))
    frame = result.migration.entities[Entity.contacts].frame
    for column in ("v:name", "v:mobile", "v:email"):
        if column in frame.columns:
            values = [v for v in frame[column].drop_nulls().cast(pl.String).unique().to_list() if len(v) >= 2]
            assert values and not [v for v in values if v in explained], column


CHECK_LAYOUT = """<script>
const out = {waterfalls: [], bars: 0, links: []};
for (const svg of document.querySelectorAll('svg.waterfall, svg.histogram')) {
  const r = svg.getBoundingClientRect();
  out.waterfalls.push([svg.id, r.width, r.height]);
}
for (const rect of document.querySelectorAll('svg.waterfall rect.step')) {
  if (rect.getBBox().width > 0 && rect.getBBox().height > 0) out.bars += 1;
}
for (const a of document.querySelectorAll('nav#contents a')) {
  const id = decodeURIComponent(a.getAttribute('href').slice(1));
  const target = document.getElementById(id);
  a.click();
  const top = target ? target.getBoundingClientRect().top : null;
  const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
  out.links.push([id, target !== null, location.hash === '#' + id, top, bottom]);
}
const pre = document.createElement('pre'); pre.id = 'layout'; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_chromium
def test_chromium_draws_the_waterfalls_and_the_contents_jump_to_their_sections(demo_report, tmp_path):
    root, _, report = demo_report
    page = (root / "out/reports/quality.html").read_text(encoding="utf-8")
    assert "<script" not in page
    probe = tmp_path / "probe.html"  # a copy with a script that measures the layout; the report has none
    probe.write_text(page.replace("</body>", CHECK_LAYOUT + "</body>"), encoding="utf-8")
    done = chromium("--window-size=1200,900", "--dump-dom", probe.as_uri(), tmp_path=tmp_path)
    layout = json.loads(html.unescape(re.search(r'<pre id="layout">(.*?)</pre>', done.stdout).group(1)))
    drawn = {name: (w, h) for name, w, h in layout["waterfalls"]}
    explained = [
        f"pair-{entity}-{i}" for entity, d in report["matching"].items() for i in range(1, len(d["pairs"]) + 1)
    ]
    assert explained and all(drawn[name][0] > 200 and drawn[name][1] > 50 for name in explained)
    assert all(drawn[f"histogram-{entity}"][1] > 100 for entity in report["matching"])
    steps = sum(len(p["steps"]) for d in report["matching"].values() for p in d["pairs"])
    assert layout["bars"] == steps  # every field's bar has a size
    assert len(layout["links"]) >= 10
    for anchor, exists, hash_set, top, at_bottom in layout["links"]:
        assert exists and hash_set, anchor
        assert abs(top) < 2 or at_bottom, (anchor, top)  # the section is at the top of the window
    # Screenshots for a person to look at: the top of the report, and the first entity's matching section.
    shots = tmp_path / "screenshots"
    shots.mkdir()
    chromium(
        "--window-size=1200,1600",
        f"--screenshot={shots / 'report-top.png'}",
        (root / "out/reports/quality.html").as_uri(),
        tmp_path=tmp_path,
    )
    section = re.search(r'<section id="matching-accounts">.*?</section>', page, re.S).group(0)
    alone = tmp_path / "matching-accounts.html"
    alone.write_text(page[: page.index("<body>") + 6] + section + "</body></html>", encoding="utf-8")
    chromium(
        "--window-size=1200,3200", f"--screenshot={shots / 'matching-accounts.png'}", alone.as_uri(), tmp_path=tmp_path
    )
    for shot in ("report-top.png", "matching-accounts.png"):
        assert (shots / shot).stat().st_size > 10_000
    print(f"\nscreenshots of the report: {shots}")
