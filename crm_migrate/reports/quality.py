"""The quality report, written from its figures (one dict, made by `crm_migrate.migrate.quality`) as
``quality.json`` and as a self-contained HTML page.

The page opens offline: no script, no font or stylesheet from elsewhere; the charts (completeness before
and after cleaning, duplicate cluster sizes) are inline SVG. Customer data that appears in it (reasons,
examples, dry-run findings) is HTML-escaped, fields of a sensitive type are never shown, only counted, and
any run of 15 or more digits in a text (an ID number inside a reason) is masked: 110105********002X.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from crm_migrate.cleaners.codes import mask
from crm_migrate.cleaners.masking import mask_texts
from crm_migrate.reports.charts import FONTS, histogram_svg, waterfall

_LONG_DIGITS = re.compile(r"\d{15,}[\dXx]?")


def masked(text: str) -> str:
    """Any run of 15 or more digits (an ID number, a card number) inside a text, masked."""
    return _LONG_DIGITS.sub(lambda m: mask(m.group(0)), text)


UNMASKED = frozenset({"sha256", "project_hash"})  # digests, not data: a run of digits in one is no ID number


def _mask_all(report: Any) -> Any:
    """Every text of the report (keys too) with long digit runs masked, then ID numbers in any form (and
    mobiles, where the report says so) masked over all the texts at once."""
    mobiles = isinstance(report, dict) and bool((report.get("masked") or {}).get("mobiles"))
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            for v in value:
                collect(v)
        elif isinstance(value, dict):
            for k, v in value.items():
                collect(str(k))
                if k not in UNMASKED:
                    collect(v)

    collect(report)
    shown = iter(mask_texts([masked(t) for t in texts], mobiles))

    def rebuild(value: Any) -> Any:
        if isinstance(value, str):
            return next(shown)
        if isinstance(value, list):
            return [rebuild(v) for v in value]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                name = next(shown)
                out[name if isinstance(k, str) else k] = v if k in UNMASKED else rebuild(v)
            return out
        return value

    return rebuild(report)


def write_json(report: dict[str, Any]) -> str:
    return json.dumps(_mask_all(report), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def add_findings(
    folder: Path,
    findings: list,
    sample: dict[str, int],
    suites: list[dict] | None = None,
    ran_on: dict[str, Any] | None = None,
) -> None:
    """Rewrite ``quality.json`` and ``quality.html`` in ``folder`` with a dry run's findings, its suites'
    results and ``ran_on``: when and on what it ran (``at``, ``project_hash``, ``inputs``)."""
    from dataclasses import asdict

    from crm_migrate.validators.findings import summary

    path = folder / "quality.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report["dry_run"] = {
        **(ran_on or {}),
        "stale": [],
        "suites": suites,
        "sample": sample,
        "findings": len(findings),
        "errors": sum(f.severity == "error" for f in findings),
        "summary": summary(findings),
        "examples": [asdict(f) for f in findings[:200]],
    }
    path.write_text(write_json(report), encoding="utf-8")
    (folder / "quality.html").write_text(write_html(report), encoding="utf-8")


_CSS = (
    "body{font:14px/1.5 " + FONTS + ";margin:2em auto;max-width:1100px;color:#222}"
    """svg{font-family:inherit}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}td.n{text-align:right}
.bad{color:#b00}.ok{color:#070}.stale{background:#fff3cd;border:1px solid #d9a400;padding:.5em 1em}
h2{margin-top:1.5em}nav#contents ol{columns:3;margin:.5em 0 1em}nav#contents a{text-decoration:none}
.bar{background:#4a7;height:10px;display:inline-block}figure{margin:1em 0}figcaption{font-weight:600}"""
)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = ""
    for row in rows:
        cells = ""
        for c in columns:
            v = row.get(c)
            cls = ' class="n"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells += f"<td{cls}>{html.escape('' if v is None else str(v))}</td>"
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def _bars(rows: list[tuple[str, list[float]]], series: list[tuple[str, str]], title: str, percent: bool = True) -> str:
    """A horizontal bar chart as inline SVG: one group of bars per label, one bar per series."""
    if not rows:
        return ""
    top = max((v for _, values in rows for v in values), default=0) or 1
    scale = 1 if percent else top
    bar, gap, left, width = 12, 8, 190, 420
    group = bar * len(series) + gap
    height = 30 + group * len(rows) + 20
    e = html.escape
    out = [f'<svg role="img" aria-label="{e(title)}" width="{left + width + 80}" height="{height}" font-size="12">']
    for k, (name, colour) in enumerate(series):
        out.append(
            f'<rect x="{left + k * 140}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + k * 140 + 14}" y="13">{e(name)}</text>'
        )
    for i, (label, values) in enumerate(rows):
        y = 24 + i * group
        out.append(f'<text x="{left - 6}" y="{y + bar * len(series) / 2 + 4}" text-anchor="end">{e(label)}</text>')
        for k, v in enumerate(values):
            w = width * (v / scale)
            shown = f"{v:.0%}" if percent else f"{v:g}"
            out.append(
                f'<rect x="{left}" y="{y + k * bar}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{series[k][1]}"><title>{e(label)}: {e(series[k][0])} {shown}</title></rect>'
                f'<text x="{left + w + 4:.1f}" y="{y + k * bar + bar - 3}">{shown}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def write_html(report: dict[str, Any]) -> str:
    """The report as one page: the contents and the summary first, then a section per subject."""
    report = _mask_all(report)
    e = html.escape
    sections: list[tuple[str, str, str]] = []  # (anchor, title in the contents, the section's HTML)

    def section(anchor: str, title: str, body: str, heading: str | None = None) -> None:
        sections.append((anchor, title, f'<section id="{e(anchor)}"><h2>{e(heading or title)}</h2>{body}</section>'))

    dry = report.get("dry_run")
    section("summary", "Summary", _summary_html(report))
    if dry:
        section("dry-run-findings", "Dry run", _dry_run_html(dry))
        if dry.get("suites") is not None:
            section("expectations", "Expectation suites", _suites_html(dry))
    section(
        "reconciliation",
        "Reconciliation",
        "<p>For every source: read = written + merged + filtered + rejected.</p>"
        + _table(
            report["reconciliation"],
            ["source", "entity", "read", "written", "merged", "filtered", "rejected", "balanced"],
        ),
    )
    body = _table(
        [{**s, "sheets": ", ".join(s["sheets"])} for s in report["sources"]],
        ["name", "file", "format", "encoding", "sheets", "rows", "blank_rows", "warnings"],
    )
    for s in report["sources"]:
        if s["warning_examples"]:
            body += f"<p>{e(s['file'])}: " + "<br>".join(e(w) for w in s["warning_examples"]) + "</p>"
    section("sources", "Sources", body)
    section(
        "entities",
        "Entities",
        _table(
            [{"entity": k, **v} for k, v in report["entities"].items()],
            ["entity", "rows", "written", "merged", "filtered", "rejected"],
        ),
    )
    duplicates = report.get("duplicates") or {}
    if any(d["clusters"] or d["review_pairs"] for d in duplicates.values()):
        body = _table(
            [{"entity": k, **{c: v for c, v in d.items() if c != "sizes"}} for k, d in duplicates.items()],
            ["entity", "records", "clusters", "merged_rows", "largest", "review_pairs"],
        )
        for entity, d in duplicates.items():
            if d["sizes"]:
                body += f"<h3>Cluster sizes: {e(entity)}</h3>"
                body += _bars(
                    [(f"{k} records", [v]) for k, v in d["sizes"].items()],
                    [("clusters", "#47a")],
                    f"cluster sizes of {entity}",
                    percent=False,
                )
        section("duplicates", "Duplicates", body)
    for entity, data in (report.get("matching") or {}).items():
        section(f"matching-{entity}", f"Matching: {entity}", _matching_html(entity, data), f"How {entity} were matched")
    removed = [
        {"entity": entity, "rule": g["rule"], "rows": g["count"]}
        for entity, groups in report["decisions"].items()
        for g in groups
        if g["rule"] in ("test record", "empty row")
    ]
    if removed:
        section("removed", "Test and garbage records removed", _table(removed, ["entity", "rule", "rows"]))
    mapping = report.get("mapping")
    if mapping:
        body = _table(
            [{**m, "unmapped": ", ".join(m["unmapped"])} for m in mapping["sources"]],
            ["source", "columns", "mapped", "unmapped"],
        )
        for entity, columns in mapping["target"].items():
            empty = [c["column"] for c in columns if c["filled"] == 0]
            if empty:
                body += f"<p>{e(entity)}: template columns no record fills: {e(', '.join(empty))}</p>"
        section("mapping", "Mapping coverage", body)
    for entity, fields in report["fields"].items():
        chart = [(f["field"], [f["completeness"] or 0, (f["valid"] / f["rows"]) if f["rows"] else 0]) for f in fields]
        rows = [
            {
                **f,
                "completeness": f"{(f['completeness'] or 0):.0%}",
                "invalid_reasons": "; ".join(f"{k}: {v}" for k, v in f["invalid_reasons"].items()),
                "rules": "; ".join(f"{k}: {v}" for k, v in f["rules"].items()),
            }
            for f in fields
        ]
        section(
            f"fields-{entity}",
            f"Fields of {entity}",
            _bars(
                chart,
                [("filled before cleaning", "#9ab"), ("valid after cleaning", "#4a7")],
                f"completeness of {entity} before and after cleaning",
            )
            + _table(
                rows,
                [
                    "field",
                    "type",
                    "filled",
                    "completeness",
                    "valid",
                    "invalid",
                    "changed",
                    "unchanged",
                    "rules",
                    "invalid_reasons",
                ],
            ),
        )
    for anchor, title, body in _left_out_html(report.get("blocking") or {}):
        sections.append((anchor, title, body))
    for entity, groups in report["decisions"].items():
        if not groups:
            continue
        body = "".join(
            f"<h3>{e(g['outcome'])}: {e(g['rule'])} ({g['count']})</h3>"
            + _table(g["examples"], ["source", "sheet", "row", "reason"])
            for g in groups
        )
        section(f"decisions-{entity}", f"Filtered, rejected and merged {entity}", body)
    contents = "".join(f'<li><a href="#{e(anchor)}">{e(title)}</a></li>' for anchor, title, _ in sections)
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{e(report["project"])} — '
        f"quality</title><style>{_CSS}</style></head><body><h1>{e(report['project'])}: data quality</h1>"
        f'<nav id="contents"><strong>Contents</strong><ol>{contents}</ol></nav>'
        + "".join(body for _, _, body in sections)
        + "</body></html>\n"
    )


def _summary_html(report: dict[str, Any]) -> str:
    """What a project manager reads first: target and version, whether every row is accounted for, per
    entity what was written, merged and left for review, and the dry run's verdict."""
    e = html.escape
    out = [
        f"<p>Target: {e(str(report['target']))}. crm-migrate {e(report['tool']['version'])}. "
        + (
            '<span class="ok" id="balanced">Every source row is accounted for.</span>'
            if report["balanced"]
            else '<span class="bad" id="balanced">Rows are unaccounted for.</span>'
        )
        + "</p>"
    ]
    duplicates = report.get("duplicates") or {}
    rows = [
        {
            "entity": k,
            **v,
            "clusters": (duplicates.get(k) or {}).get("clusters", 0),
            "pairs to review": (duplicates.get(k) or {}).get("review_pairs", 0),
        }
        for k, v in report["entities"].items()
    ]
    out.append(
        _table(rows, ["entity", "rows", "written", "merged", "filtered", "rejected", "clusters", "pairs to review"])
    )
    dry = report.get("dry_run")
    if dry:
        verdict = (
            f'<span class="bad">{dry["errors"]} errors</span>' if dry["errors"] else '<span class="ok">no errors</span>'
        )
        stale = (
            '. <span class="bad" id="summary-stale">Stale: the project or its sources changed since</span>'
            if dry.get("stale")
            else ""
        )
        suites = dry.get("suites") or []
        passed = sum(s["status"] == "passed" for s in suites)
        held = (
            f'; expectation suites: {passed} of {len(suites)} passed (<a href="#expectations">why</a>)'
            if suites
            else ""
        )
        out.append(
            f"<p>Dry run{_when(dry)}: {dry['findings']} findings, {verdict}{held}{stale} "
            '(<a href="#dry-run-findings">details</a>).</p>'
        )
    return "".join(out)


def _when(dry: dict[str, Any]) -> str:
    """' of <date>, project <hash>' as far as the dry run recorded them."""
    e = html.escape
    at, digest = dry.get("at"), dry.get("project_hash")
    return (f" of {e(str(at).replace('T', ' '))}" if at else "") + (
        f', project <code title="{e(str(digest))}">{e(str(digest)[:12])}</code>' if digest else ""
    )


def _left_out_html(blocking: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Per entity, the blocking keys left out and the blocks skipped for size, each table with what it means:
    (anchor, title, section)."""
    e = html.escape
    parts = []
    for entity, b in blocking.items():
        if b["keys_left_out"]:
            title = f"Blocking keys left out: {entity}"
            parts.append(
                (
                    f"keys-left-out-{entity}",
                    title,
                    f'<section id="keys-left-out-{e(entity)}"><h2>{e(title)}</h2><p>These keys would have '
                    "given more pairs than the pair budget allows, so two records that only such a key would "
                    "have brought together were not compared; the finer keys still compared them where they "
                    "share other values (a number, an email, the name).</p>"
                    + _table(
                        [
                            {
                                "key": k["key"],
                                "why": f"{k['why']}: {k['detail']}",
                                "pairs it would have produced": k["pairs"],
                                "records it would have compared": k["records"],
                            }
                            for k in b["keys_left_out"]
                        ],
                        ["key", "why", "pairs it would have produced", "records it would have compared"],
                    )
                    + "</section>",
                )
            )
        if b["blocks_skipped"]:
            title = f"Blocks skipped for size: {entity}"
            parts.append(
                (
                    f"blocks-skipped-{entity}",
                    title,
                    f'<section id="blocks-skipped-{e(entity)}"><h2>{e(title)}</h2><p>A value that many '
                    "records share (a switchboard, a placeholder name) says nothing about who a record is: "
                    "its records were not paired on that key, and met on their other keys.</p>"
                    + _table(
                        [
                            {**c, "pairs left out": c["pairs"], "limit (records)": c["limit"]}
                            for c in b["blocks_skipped"]
                        ],
                        ["key", "blocks", "limit (records)", "largest", "records", "pairs left out"],
                    )
                    + "</section>",
                )
            )
    return parts


def _dry_run_html(dry: dict[str, Any]) -> str:
    e = html.escape
    errors = dry["errors"]
    stale = dry.get("stale") or []
    head = ""
    if stale:
        head = (
            '<div class="stale" id="stale"><strong>These findings are stale.</strong> They are the last dry '
            f"run's{_when(dry)}, and since then: <ul>"
            + "".join(f"<li>{e(r)}</li>" for r in stale)
            + "</ul>Run <code>crm-migrate dry-run</code> again to see what still holds.</div>"
        )
    head += (
        f'<p id="dry-run">{dry["findings"]} findings on a sample of '
        f"{sum(dry['sample'].values())} source rows; "
        + (
            f'<span class="bad">{errors} would make the import fail or lose records</span>'
            if errors
            else '<span class="ok">none would make the import fail</span>'
        )
        + ".</p>"
    )
    if not stale:
        head += f'<p id="dry-run-when">Dry run{_when(dry) or " (no date recorded)"}.</p>'
    sample = _table([{"chosen as": k, "rows": v} for k, v in dry["sample"].items()], ["chosen as", "rows"])
    summary = _table(dry["summary"], ["check", "severity", "entity", "rule", "count", "example"])
    examples = _table(dry["examples"][:50], ["severity", "entity", "file", "row", "column", "value", "message", "hint"])
    return (
        head
        + sample
        + summary
        + f"<h3>Findings (first {min(len(dry['examples']), 50)})</h3>"
        + examples
        + (f"<p>All findings: {e('out/dry-run/findings.csv')}</p>")
    )


def _suites_html(dry: dict[str, Any]) -> str:
    """The Great Expectations suites' results as the dry run judged them: a suite is passed only when every
    expectation held and no other check of the dry run found an error in its entity."""
    e = html.escape
    suites = dry.get("suites") or []
    if not suites:
        return "<p>No suite was run.</p>"
    shown = {
        "passed": '<span class="ok">passed</span>',
        "failed": '<span class="bad">failed</span>',
        "contradicted": '<span class="bad">not passed: the dry run found errors</span>',
    }
    rows = "".join(
        f'<tr data-suite="{e(s["suite"])}" data-status="{e(s["status"])}"><td>{e(s["suite"])}</td>'
        f'<td class="n">{s["expectations"]}</td><td class="n">{s["failed"]}</td>'
        f"<td>{shown.get(s['status'], e(s['status']))}</td><td>{e(s['why'])}</td></tr>"
        for s in suites
    )
    out = [
        "<p>Generated from the target profile and run on the import files as read back. Great Expectations' "
        "own Data Docs are in <code>out/dry-run/gx/</code>; they load their styles from the network and judge "
        "the files alone, so a suite whose files passed while the dry run held records back shows here as "
        "not passed.</p>",
        f'<table id="suites"><tr><th>suite</th><th>expectations</th><th>failed</th><th>result</th><th>why</th>'
        f"</tr>{rows}</table>",
    ]
    for s in suites:
        out.append(f"<h3>{e(s['suite'])}</h3>")
        out.append(_table(s["results"], ["expectation", "column", "rule", "result", "unexpected", "dry-run errors"]))
    return "".join(out)


def _matching_html(entity: str, data: dict[str, Any]) -> str:
    """One entity's matching: the weights per field and level, the pairs by probability with the thresholds
    and what moving one would do, and waterfall charts of the pairs explained."""
    e = html.escape
    kept = (
        ""
        if data["kept"] == data["scored"]
        else (
            f" Past a million pairs only those anyone is shown are kept ({data['kept']}); the counts below cover all."
        )
    )
    out = [
        f"<p>{data['scored']} candidate pairs scored. Two records drawn at random are one with probability "
        f"{data['match_rate']:.3g} (the prior, {data['prior_bits']:+.1f} bits); each field adds the weight of "
        f"its level, log2(m/u), and the sum gives the probability. Pairs at or above {data['merge']:g} merge; "
        f"from {data['review']:g} a steward reviews them.{kept}</p>",
        f'<figure id="bands-{e(entity)}"><figcaption>Pairs by probability</figcaption>',
        histogram_svg(data, entity),
        "</figure>",
        _table(data["bands"], ["probability", "pairs", "today", "moving a threshold to this edge"]),
        f"<h3>Weights of {e(entity)}</h3><p>m: how often a level occurs among matches (estimated by EM); u: "
        "among random pairs. The weight is what a pair at that level gets, after the rules in the note.</p>",
        _table(data["weights"], ["field", "level", "label", "m", "u", "log2(m/u)", "weight", "note"]),
    ]
    pairs = data["pairs"]
    if pairs:
        out.append(
            f"<h3>Evidence of {e(entity)} pairs</h3><p>The review pairs closest to merging and a fixed "
            "sample of merges: the prior, each field's weight added in turn, the total weight and the "
            "probability. Fields without a value on one side add nothing.</p>"
        )
    for i, pair in enumerate(pairs, start=1):
        anchor = f"pair-{entity}-{i}"
        missing = (
            f" Not compared (no value on one side): {', '.join(pair['not_compared'])}." if pair["not_compared"] else ""
        )
        held = f" {pair['held']}." if pair["held"] else ""
        out.append(
            f'<figure class="pair" data-kind="{e(pair["kind"])}"><figcaption>{e(pair["kind"])}: '
            f"{e(pair['left'])} and {e(pair['right'])}, probability {pair['probability']:.4f}</figcaption>"
            + waterfall(pair, anchor, data["merge"], data["review"])
            + f"<p>{e(missing + held)}</p></figure>"
        )
    return "".join(out)
