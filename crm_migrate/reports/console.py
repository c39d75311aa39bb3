"""What the verbs print, as rich tables and lines: ``plan`` (sources, columns, entity outcomes, files),
``run``'s summary, the dry run's findings and ``verify``'s reconciliation. Each is drawn from plain data: the
plan's facts, the summaries `RunResult.summary` and `DryRun.summary` make, a `Verification`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from crm_migrate.errors import Problem
from crm_migrate.validators.findings import summary as findings_summary
from crm_migrate.validators.reconcile import OUTCOMES
from crm_migrate.validators.roundtrip import Verification


def render_plan(facts: dict[str, Any], console: Console, all_warnings: bool = False) -> None:
    """The plan's tables, from ``plan_facts`` (the same data ``plan --format json`` prints)."""
    project = facts["project"]
    console.print(f"[bold]{escape(project['name'])}[/] → target {escape(str(project['target']))}")

    sources = Table(
        "source",
        "file",
        "format",
        "encoding",
        "sheets (header row)",
        "rows",
        "blank rows",
        title="Sources",
        title_justify="left",
    )
    for r in facts["sources"]:
        sheets = ", ".join(
            f"{s['sheet']} ({'empty' if s['header_row'] is None else s['header_row']})" for s in r["sheets"]
        ) or (f"header row {r['header_row']}" if r["header_row"] else "")
        sources.add_row(
            *_cells(r["source"], r["file"], r["format"], r["encoding"] or "", sheets, r["rows"], r["blank_rows"])
        )
    console.print(sources)

    columns = Table("source", "entity", "mapped columns", "unmapped columns", title="Columns", title_justify="left")
    for r in facts["columns"]:
        for i, e in enumerate(r["entities"]):
            mapped = ", ".join(f"{'+'.join(m['columns']) or 'constant'}→{m['field']}" for m in e["mapped"])
            columns.add_row(
                *_cells(r["source"] if i == 0 else "", e["entity"], mapped, ", ".join(r["unmapped"]) if i == 0 else "")
            )
    console.print(columns)

    if facts["unmapped_entities"]:
        console.print("[yellow]In scope, but no source maps them:[/] " + escape(", ".join(facts["unmapped_entities"])))
    if facts["uncovered_fields"]:
        console.print(
            "[yellow]Fields the target needs that no source fills:[/] " + escape("; ".join(facts["uncovered_fields"]))
        )

    _entity_table(facts["entities"], console, "What run would do")
    table = Table(
        "entity",
        "records",
        "duplicate clusters",
        "rows merged",
        "largest",
        "pairs to review",
        title="Expected duplicates",
        title_justify="left",
    )
    for d in facts["duplicates"]:
        table.add_row(
            *_cells(d["entity"], d["records"], d["clusters"], d["merged_rows"], d["largest"], d["review_pairs"])
        )
    console.print(table)
    _blocking(facts["blocking"], console)
    table = Table("entity", "outcome", "rule", "rows", title="Why rows are not written", title_justify="left")
    for r in facts["reasons"]:
        table.add_row(*_cells(r["entity"], r["outcome"], r["rule"], r["rows"]))
    if table.row_count:
        console.print(table)
    table = Table(
        "entity", "column", "rule", "records", "example", title="Expected refusals by the target", title_justify="left"
    )
    for r in facts["refusals"]:
        table.add_row(*_cells(r["entity"], r["column"], r["rule"], r["records"], r["example"]))
    if table.row_count:
        console.print(table)
    _files(facts["files"], console)
    _warnings(facts["warnings"], console, all_warnings, "--all to list them")


def _cells(*values: object) -> list[Text]:
    """Table cells as plain text: a sheet or a value holding [brackets] is not rich markup."""
    return [Text(str(v)) for v in values]


def _files(files: dict[str, Any], console: Console) -> None:
    limits = ", ".join(
        x
        for x in (
            f"{files['max_rows']} rows" if files["max_rows"] else "",
            f"{files['max_bytes']:,} bytes" if files["max_bytes"] else "",
        )
        if x
    )
    table = Table(
        "entity",
        "files (load batches)",
        "rows",
        "files",
        title="Files run would write" + (f" (at most {limits} per file)" if limits else ""),
        title_justify="left",
    )
    for f in files["entities"]:
        paths = f["paths"]
        names = paths[0] + (f" … {paths[-1].rsplit('_', 1)[-1]}" if len(paths) > 1 else "")
        table.add_row(*_cells(f["entity"], f["files"], f["rows"], names))
    console.print(table)
    console.print("Also: " + ", ".join(files["also"]), markup=False)


def _entity_table(rows: list[dict[str, Any]], console: Console, title: str) -> None:
    table = Table("entity", "source rows", *OUTCOMES, title=title, title_justify="left")
    for r in rows:
        table.add_row(*_cells(r["entity"], r["source_rows"], *[r[o] for o in OUTCOMES]))
    console.print(table)


def render_summary(summary: dict[str, Any], console: Console) -> None:
    """What ``run`` prints once the tree is written, from `RunResult.summary`."""
    out = Path(summary["out"])
    _entity_table(summary["entities"], console, f"Written to {out}")
    console.print(
        ("[green]Every source row is accounted for[/] " if summary["balanced"] else "[red]Unbalanced[/] ")
        + f"({summary['rows']} source rows by entity; see lineage.csv)."
    )
    console.print(f"Import files: {out / 'import'}   Report: {out / 'reports' / 'quality.html'}")
    for r in summary["review"]:
        entity = r["entity"]
        if r["applied"] or r["stale"]:
            console.print(
                f"{entity}: {r['applied']} steward decisions applied"
                + (f", [yellow]{r['stale']} stale[/] (see review/stale_decisions.csv)" if r["stale"] else "")
            )
        if r["legacy"]:
            console.print(
                f"[yellow]{entity}: {r['legacy']} decisions were checked by the unkeyed fingerprints "
                "of an earlier version's workbook[/]: they still apply; use the new "
                "review/duplicates.xlsx (keyed fingerprints) for the next round and delete the old "
                "file, whose fingerprints let anyone who guesses a row's values confirm them"
            )
        if r["ignored"]:
            console.print(
                f"{entity}: not used for matching, as most records share the value: {', '.join(r['ignored'])}"
            )
    _blocking(summary["blocking"], console)
    console.print(f"Duplicates to review: {out / 'review' / 'duplicates.xlsx'}")
    _warnings(summary["warnings"], console, False, "'plan --all' lists them")


def _blocking(rows: list[dict[str, Any]], console: Console) -> None:
    """One line per blocking key matching left out for its pairs, and per key whose blocks it skipped for size."""
    for k in rows:
        if k["kind"] == "left out":
            console.print(
                f"{k['entity']}: blocking key {k['key']} left out ({k['pairs']:,} pairs over "
                f"{k['records']:,} records: {k['why']})",
                style="yellow",
                markup=False,
            )
        else:
            console.print(
                f"{k['entity']}: blocking key {k['key']}: {k['why']}, not paired ({k['pairs']:,} pairs "
                f"over {k['records']:,} records)",
                style="yellow",
                markup=False,
            )


SHOWN = 5  # warnings a plan shows without --all


def _warnings(warnings: list[dict[str, Any]], console: Console, show_all: bool, how: str) -> None:
    if not warnings:
        return
    shown = warnings if show_all else warnings[:SHOWN]
    more = len(warnings) > len(shown)
    console.print(
        f"[yellow]{len(warnings)} warning(s) while reading[/]" + (f", e.g. ({escape(how)}):" if more else ":")
    )
    for w in shown:
        console.print(
            "  " + Problem(**{**w, "values": tuple(w["values"]) if "values" in w else None}).render(), markup=False
        )


def render_dry_run(dry: dict[str, Any], console: Console) -> None:
    """The sample, what each check did, the findings by kind, and the first findings in full, from
    `DryRun.summary`."""
    out = Path(dry["out"])
    console.print(
        f"[bold]Dry run[/] on {dry['rows']} source rows ("
        + ", ".join(f"{n} {why}" for why, n in dry["sample"].items())
        + f"), written to {out}"
    )
    _entity_table(dry["entities"], console, "The sample, as run would do it")
    for check, what in dry["checks"].items():
        console.print(f"  {check}: {what}", markup=False)
    findings = dry["findings"]
    groups = findings_summary(findings)
    if not groups:
        console.print("[green]No findings: the sample imports as it is.[/]")
        return
    table = Table("check", "severity", "entity", "rule", "count", "example", title="Findings", title_justify="left")
    for g in groups:
        style = "red" if g["severity"] == "error" else "yellow"
        table.add_row(
            g["check"],
            f"[{style}]{g['severity']}[/]",
            g["entity"],
            g["rule"],
            str(g["count"]),
            g["example"] if len(g["example"]) <= 80 else g["example"][:79] + "…",
        )
    console.print(table)
    for f in [f for f in findings if f.severity == "error"][:10]:
        console.print("  " + f.render(), markup=False, style="red")
    errors = sum(f.severity == "error" for f in findings)
    console.print(
        (
            f"[red]{errors} finding(s) would make the import fail or lose records[/]"
            if errors
            else "[green]Nothing would make the import fail[/]"
        )
        + f"; all findings: {out / 'findings.csv'}, report: {out / 'reports' / 'quality.html'}"
    )


def render_verification(v: Verification, console: Console) -> None:
    """Totals to sign off, then the differences per column and rule."""
    totals = Table(
        "sent",
        "exported",
        "matched",
        "missing",
        "extra",
        "values differing",
        title=f"Reconciliation of {v.entity} (matched by {', '.join(v.key)})",
        title_justify="left",
    )
    totals.add_row(
        str(v.sent), str(v.exported), str(v.matched), str(v.missing), str(v.extra), str(sum(v.differences.values()))
    )
    console.print(totals)
    if v.by_column:
        table = Table("column", "rule", "values", title="Values that came back different", title_justify="left")
        for column, rules in v.by_column.items():
            for rule, n in sorted(rules.items(), key=lambda kv: -kv[1]):
                table.add_row(column, rule, str(n))
        console.print(table)
    if v.unmatched_columns:
        console.print("[yellow]Not in the export, not compared:[/] " + ", ".join(v.unmatched_columns))
    console.print(
        ("[green]Everything sent came back as sent.[/]" if v.clean else "[red]Differences found.[/]")
        + f" Details: {v.report}"
    )
