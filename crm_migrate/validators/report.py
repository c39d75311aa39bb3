"""The quality report: one dict of figures, written as ``quality.json`` and as a self-contained HTML page.

Customer data that appears in it (rejected rows' reasons, examples) is HTML-escaped, and fields of a
sensitive type are never shown, only counted.
"""

from __future__ import annotations

import html
import json
from typing import Any

import polars as pl

from crm_migrate import __version__
from crm_migrate.cleaners.base import NOTES_SEPARATOR
from crm_migrate.migrate.columns import EMPTY, OUTCOME, RULE, notes, raw, val, why
from crm_migrate.migrate.pipeline import Migration
from crm_migrate.validators.reconcile import Reconciliation

EXAMPLES = 5


def quality(migration: Migration, reconciliation: Reconciliation) -> dict[str, Any]:
    project = migration.project
    return {
        "tool": {"name": "crm-migrate", "version": __version__},
        "project": project.config.name,
        "target": project.config.target,
        "sources": [_source(r) for r in migration.reads],
        "entities": {e.value: _outcomes(res.frame) for e, res in migration.entities.items()},
        "fields": {e.value: _fields(migration, e) for e in migration.entities},
        "decisions": {e.value: _decisions(res.frame) for e, res in migration.entities.items()},
        "reconciliation": reconciliation.rows(),
        "balanced": reconciliation.balanced,
    }


def _source(read) -> dict[str, Any]:
    t = read.table
    return {"name": read.source.name, "file": read.source.rel_file, "format": t.format, "encoding": t.encoding,
            "delimiter": t.delimiter, "sheets": t.sheets, "empty_sheets": t.empty_sheets, "header_rows": t.header_rows, "rows": read.rows,
            "blank_rows": t.blank_rows, "columns": t.columns, "warnings": len(t.warnings),
            "warning_examples": [w.render() for w in t.warnings[:EXAMPLES]]}


def _outcomes(frame: pl.DataFrame) -> dict[str, int]:
    counts = dict(frame.group_by(OUTCOME).len().iter_rows())
    return {"rows": frame.height, **{o: int(counts.get(o, 0)) for o in ("written", "merged", "filtered", "rejected")}}


def _fields(migration: Migration, entity) -> list[dict[str, Any]]:
    result = migration.entities[entity]
    rows = result.frame.filter(~pl.col(EMPTY)) if EMPTY in result.frame.columns else result.frame
    out = []
    for spec in result.fields:
        if val(spec.name) not in rows.columns:
            continue
        r, v, w = pl.col(raw(spec.name)), pl.col(val(spec.name)), pl.col(why(spec.name))
        stats = rows.select(
            r.is_not_null().sum().alias("filled"), (v.is_not_null() & w.is_null()).sum().alias("valid"),
            w.is_not_null().sum().alias("invalid"), (r.is_not_null() & (r != v)).sum().alias("changed"),
            (r.is_not_null() & (r == v)).sum().alias("unchanged")).row(0, named=True)
        out.append({"field": spec.name, "type": spec.type.value, "rows": rows.height, **stats,
                    "completeness": round(stats["filled"] / rows.height, 4) if rows.height else None,
                    "invalid_reasons": _counts(rows[why(spec.name)]),
                    "rules": _counts(rows[notes(spec.name)].str.split(NOTES_SEPARATOR).explode())
                    if notes(spec.name) in rows.columns else {}})
    return out


def _counts(values: pl.Series) -> dict[str, int]:
    """How often each value occurs, most frequent first."""
    counts = values.drop_nulls().value_counts(name="n")
    return dict(counts.sort(["n", values.name], descending=[True, False]).iter_rows())


def _decisions(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Filtered, rejected and merged rows grouped by the rule that decided them, with a few examples."""
    decided = frame.filter(pl.col(RULE).is_not_null())
    groups = decided.group_by(OUTCOME, RULE).agg(
        pl.len().alias("count"),
        pl.struct("_source", "_sheet", "_row", "_reason").head(EXAMPLES).alias("examples"))
    return [{"outcome": g[OUTCOME], "rule": g[RULE], "count": g["count"],
             "examples": [{"source": x["_source"], "sheet": x["_sheet"], "row": x["_row"], "reason": x["_reason"]}
                          for x in g["examples"]]}
            for g in groups.sort(["count", RULE], descending=[True, False]).to_dicts()]


def write_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


_CSS = """body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}.bad{color:#b00}.ok{color:#070}h2{margin-top:1.5em}
.bar{background:#4a7;height:10px;display:inline-block}"""


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


def write_html(report: dict[str, Any]) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"zh\"><meta charset=\"utf-8\"><title>{e(report['project'])} — quality"
             f"</title><style>{_CSS}</style><body><h1>{e(report['project'])}: data quality</h1>",
             f"<p>Target: {e(report['target'])}. crm-migrate {e(report['tool']['version'])}. "
             + ('<span class="ok">Every source row is accounted for.</span>' if report["balanced"]
                else '<span class="bad">Rows are unaccounted for.</span>') + "</p>"]
    parts.append("<h2>Reconciliation</h2><p>For every source: read = written + merged + filtered + rejected.</p>")
    parts.append(_table(report["reconciliation"],
                        ["source", "entity", "read", "written", "merged", "filtered", "rejected", "balanced"]))
    parts.append("<h2>Sources</h2>")
    parts.append(_table([{**s, "sheets": ", ".join(s["sheets"])} for s in report["sources"]],
                        ["name", "file", "format", "encoding", "sheets", "rows", "blank_rows", "warnings"]))
    for s in report["sources"]:
        if s["warning_examples"]:
            parts.append(f"<p>{e(s['file'])}: " + "<br>".join(e(w) for w in s["warning_examples"]) + "</p>")
    parts.append("<h2>Entities</h2>")
    parts.append(_table([{"entity": k, **v} for k, v in report["entities"].items()],
                        ["entity", "rows", "written", "merged", "filtered", "rejected"]))
    for entity, fields in report["fields"].items():
        parts.append(f"<h2>Fields of {e(entity)}</h2>")
        rows = [{**f, "completeness": f"{(f['completeness'] or 0):.0%}",
                 "invalid_reasons": "; ".join(f"{k}: {v}" for k, v in f["invalid_reasons"].items()),
                 "rules": "; ".join(f"{k}: {v}" for k, v in f["rules"].items())} for f in fields]
        parts.append(_table(rows, ["field", "type", "filled", "completeness", "valid", "invalid", "changed",
                                   "unchanged", "rules", "invalid_reasons"]))
    for entity, groups in report["decisions"].items():
        if not groups:
            continue
        parts.append(f"<h2>Filtered, rejected and merged {e(entity)}</h2>")
        for g in groups:
            parts.append(f"<h3>{e(g['outcome'])}: {e(g['rule'])} ({g['count']})</h3>")
            parts.append(_table(g["examples"], ["source", "sheet", "row", "reason"]))
    parts.append("</body></html>\n")
    return "".join(parts)
