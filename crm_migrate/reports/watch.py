"""The watch report, written from its figures (one dict, made by `crm_migrate.migrate.watch`) as ``watch.json``,
a self-contained ``watch.html`` (no script, nothing loaded from elsewhere) and the few lines the command
prints. ID numbers and mobiles in any text are masked as in the quality report (its masking, applied to the
whole dict); person names come masked from the figures (张伟 as 张*), and fields of a sensitive type never appear.
"""

from __future__ import annotations

import html
import json
from typing import Any

# The quality report's table, style and masking: one look and one masking rule for both reports.
from crm_migrate.reports.quality import _CSS, _mask_all, _table


def write_json(report: dict[str, Any]) -> str:
    return json.dumps(_mask_all(report), ensure_ascii=False, indent=2) + "\n"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


def _change(row: dict[str, Any]) -> str:
    if row["before"] is None:
        return "new figure"
    change = row["change"]
    if not change:
        return "="
    rate = row["figure"].endswith("_rate")
    return ("+" if change > 0 else "") + (f"{change:.2%}" if rate else f"{change:g}")


def write_html(report: dict[str, Any]) -> str:
    """The report as one page: the verdict, then per entity its duplicates, fields and owners, then the trend."""
    report = _mask_all(report)
    e = html.escape
    state = report["state"]
    over = report["over"]
    parts = [f"<h1>{e(report['project'])}: watch of {e(report['watched_at'])}</h1>"]
    verdict = (
        (
            f'<p class="bad">{len(over)} figure(s) above their limit: '
            + e(
                ", ".join(
                    f"{o['figure']} {_shown(o['figure'], o['value'])} > {_shown(o['figure'], o['limit'])}" for o in over
                )
            )
            + "</p>"
        )
        if over
        else '<p class="good">Every figure within its limit.</p>'
    )
    parts.append(verdict)
    if not state["exists"]:
        parts.append("<p>No migration state: every record counts as new, and this watch is not kept for a trend.</p>")
    else:
        parts.append(
            f"<p>State {e(str(state['file']))}: {state['batches']} batch(es), go-live {e(str(state['go_live']))}"
            f"; compared with the watch of {e(str(state['last_watch'] or 'none (the first watch)'))}.</p>"
        )
    parts.append(f"<p>Rates over {'every record' if report['scope'] == 'all' else 'the new records only'}.</p>")
    for entity, data in report["entities"].items():
        parts.append(_entity_html(entity, data))
    if report["limits"]:
        parts.append(
            "<h2>Limits</h2>"
            + _table(
                [
                    {
                        **c,
                        "value": _shown(c["figure"], c["value"]),
                        "limit": _shown(c["figure"], c["limit"]),
                        "over": "over" if c["over"] else "",
                    }
                    for c in report["limits"]
                ],
                ["figure", "value", "limit", "over"],
            )
        )
    parts.append(
        "<h2>Trend against the last watch</h2>"
        + _table(
            [
                {
                    "figure": t["figure"],
                    "now": _shown(t["figure"], t["now"]),
                    "before": "" if t["before"] is None else _shown(t["figure"], t["before"]),
                    "change": _change(t),
                }
                for t in report["trend"]
            ],
            ["figure", "now", "before", "change"],
        )
    )
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{e(report["project"])} — '
        f"watch</title><style>{_CSS} .bad{{color:#b22;font-weight:bold}} .good{{color:#272}}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def _shown(figure: str, value: float) -> str:
    return _rate(value) if figure.endswith("_rate") else f"{value:g}"


def _entity_html(entity: str, data: dict[str, Any]) -> str:
    e = html.escape
    d = data["duplicates"]
    out = [
        f"<h2>{e(entity)}: {data['records']} record(s), {data['new']} new</h2>",
        f"<p>{e(data['file'])} (sha256 {e(data['sha256'][:12])}…). New: {e(data['new_by'])}.</p>",
        f"<h3>Duplicates holding a new record: {d['clusters']} cluster(s), {d['records']} record(s)</h3>",
        (
            f"<p>Weights: {e(d['weights'])}. Clusters of migrated records only: {d['clusters_without_new']}. "
            "Every cluster is in duplicates.csv.</p>"
        ),
    ]
    for c in d["listed"]:
        out.append(
            f"<h4>Cluster {c['cluster']}</h4>"
            + _table(
                [{**m, "new": "new" if m["new"] else ""} for m in c["members"]],
                ["row", "external_id", "new", "name", "owner"],
            )
            + (
                _table(
                    [{**p, "rows": " – ".join(str(r) for r in p["rows"])} for p in c["pairs"]],
                    ["rows", "probability", "evidence"],
                )
                if c["pairs"]
                else "<p>Linked by an identity (same credit code or ID number).</p>"
            )
        )
    rows = [
        {
            **f,
            "invalid_rate": _rate(f["invalid_rate"]),
            "incomplete_rate": _rate(f.get("incomplete_rate")),
            "required": "yes" if f["required"] else "",
            "reasons": "; ".join(f"{k}: {v}" for k, v in f["reasons"].items()),
        }
        for f in data["fields"]
    ]
    out.append(
        "<h3>Fields</h3>"
        + _table(
            rows,
            ["field", "type", "filled", "invalid", "invalid_rate", "required", "missing", "incomplete_rate", "reasons"],
        )
    )
    if data["rejected"]:
        out.append(
            "<h3>Records run would reject</h3>"
            + _table([{"rule": k, "records": v} for k, v in data["rejected"].items()], ["rule", "records"])
        )
    out.append(
        "<h3>By owner</h3>"
        + _table(data["owners"], ["owner", "records", "new", "invalid_values", "incomplete_records"])
    )
    return "".join(out)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """What the command prints: per entity the records, new ones, new duplicates, the worst fields; the limits
    gone over; where the report is."""
    lines = []
    if not report["state"]["exists"]:
        lines.append("No migration state: every record counts as new; this watch is not kept for a trend.")
    before = {t["figure"]: t for t in report["trend"]}
    for entity, data in report["entities"].items():
        d = data["duplicates"]
        dup = before.get(f"{entity}.new_duplicates")
        was = f" (last watch {dup['before']:g})" if dup and dup["before"] is not None else ""
        lines.append(
            f"{entity}: {data['records']} record(s), {data['new']} new; {d['clusters']} duplicate "
            f"cluster(s) holding a new record{was}"
        )
        worst = sorted(
            (f for f in data["fields"] if f["invalid"] or f.get("missing")),
            key=lambda f: -(f["invalid_rate"] + f.get("incomplete_rate", 0)),
        )[:3]
        for f in worst:
            lines.append(
                f"  {f['field']}: {f['invalid']} invalid ({_rate(f['invalid_rate'])})"
                + (f", {f['missing']} missing ({_rate(f['incomplete_rate'])})" if f.get("missing") else "")
            )
    for o in report["over"]:
        lines.append(
            f"over the limit: {o['figure']} {_shown(o['figure'], o['value'])} > {_shown(o['figure'], o['limit'])}"
        )
    return _mask_all({"masked": {"mobiles": True}, "lines": lines})["lines"]
