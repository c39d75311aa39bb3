"""What ``plan`` and ``run`` print: sources, columns, entity outcomes and files, as rich tables."""

from __future__ import annotations

import polars as pl
from rich.console import Console
from rich.table import Table

from crm_migrate.cleaners.masking import mask_texts
from crm_migrate.errors import Problem
from crm_migrate.mappings.entities import CATALOGUE, has_account_link
from crm_migrate.migrate.columns import OUTCOME, RULE
from crm_migrate.migrate.run import RunResult
from crm_migrate.validators.reconcile import OUTCOMES


def render_plan(result: RunResult, console: Console) -> None:
    migration = result.migration
    project = migration.project
    console.print(f"[bold]{project.config.name}[/] → target {project.config.target}")

    sources = Table("source", "file", "format", "encoding", "sheets (header row)", "rows", "blank rows",
                    title="Sources", title_justify="left")
    for r in migration.reads:
        t = r.table
        sheets = ", ".join([f"{s} ({t.header_rows[s]})" for s in t.sheets] + [f"{s} (empty)" for s in t.empty_sheets]
                           ) or (f"header row {t.header_rows['']}" if "" in t.header_rows else "")
        sources.add_row(r.source.name, r.source.rel_file, t.format, t.encoding or "", sheets, str(r.rows),
                        str(t.blank_rows))
    console.print(sources)

    columns = Table("source", "entity", "mapped columns", "unmapped columns", title="Columns", title_justify="left")
    for r in migration.reads:
        used = {c for plan in r.source.entities for f in plan.fields for c in f.inputs}
        unmapped = [c for c in r.table.columns if c not in used]
        for i, plan in enumerate(r.source.entities):
            mapped = ", ".join(f"{'+'.join(f.inputs) or 'constant'}→{f.spec.name}" for f in plan.fields)
            columns.add_row(r.source.name if i == 0 else "", plan.entity.value, mapped,
                            ", ".join(unmapped) if i == 0 else "")
    console.print(columns)

    unmapped = [e.value for e, res in migration.entities.items() if res.frame.height == 0]
    if unmapped:
        console.print(f"[yellow]In scope, but no source maps them:[/] {', '.join(unmapped)}")
    uncovered = _uncovered(result)
    if uncovered:
        console.print("[yellow]Fields the target needs that no source fills:[/] " + "; ".join(uncovered))

    entity_table(result, console, "What run would do")
    _duplicates(result, console)
    left_out(result, console)
    _reasons(result, console)
    _refusals(result, console)
    _files(result, console)
    _read_warnings(result, console)


def unlinked(result: RunResult) -> list[Problem]:
    """Child entities of which not one record found its account: the project, not the data, is wrong."""
    from crm_migrate.migrate.link import ACCOUNT, ORPHAN_RULES, ORPHANED

    out = []
    for entity, res in result.migration.entities.items():
        frame = res.frame
        if not has_account_link(entity) or frame.height == 0 or ACCOUNT not in frame.columns:
            continue
        lost = frame.filter(pl.col(RULE).is_in(list(ORPHAN_RULES))
                            | (pl.col(ORPHANED).is_not_null() if ORPHANED in frame.columns else pl.lit(False)))
        linked = frame.filter(pl.col(ACCOUNT).is_not_null()
                              & (pl.col(ORPHANED).is_null() if ORPHANED in frame.columns else pl.lit(True)))
        if lost.height and not linked.height:
            sources = sorted(set(lost["_source"].to_list()))
            out.append(Problem(result.migration.project.doc.path, f"not one of the {lost.height} {entity.value} of "
                               f"{', '.join(sources)} found its account ({lost['_reason'][0]})",
                               hint="map the column holding the account's legacy id to account_id, and give the "
                                    "child's mapping the same system: as the accounts' mapping"))
    return out


def _duplicates(result: RunResult, console: Console) -> None:
    from crm_migrate.validators.report import duplicates as figures

    table = Table("entity", "records", "duplicate clusters", "rows merged", "largest", "pairs to review",
                  title="Expected duplicates", title_justify="left")
    for entity, res in result.migration.entities.items():
        d = figures(res)
        table.add_row(entity.value, str(d["records"]), str(d["clusters"]), str(d["merged_rows"]), str(d["largest"]),
                      str(d["review_pairs"]))
    console.print(table)


def _refusals(result: RunResult, console: Console) -> None:
    """Records the target's template would refuse, by column and rule."""
    from crm_migrate.migrate.conform import WHY

    table = Table("entity", "column", "rule", "records", "example", title="Expected refusals by the target",
                  title_justify="left")
    for entity, done in (result.conformed or {}).items():
        refused = done.refused
        if refused is None or refused.height == 0:
            continue
        for name in [c for c in refused.columns if c.startswith(WHY)]:
            hits = refused[name].drop_nulls()
            if hits.len():
                rule, header = name.removeprefix(WHY).split(":", 1)
                example = hits[0].rsplit("; ", 1)[0] if "; " in hits[0] else hits[0]
                example = mask_texts([example], result.migration.project.config.options.mask_mobiles)[0]
                table.add_row(entity.value, header, rule, str(hits.len()), example[:80])
    if table.row_count:
        console.print(table)


def _files(result: RunResult, console: Console) -> None:
    """Per entity, the import files (the batches of the load, in load order) and their rows."""
    spec = result.target.file if result.target else None
    limits = ", ".join(x for x in (f"{spec.max_rows} rows" if spec and spec.max_rows else "",
                                   f"{spec.max_bytes:,} bytes" if spec and spec.max_bytes else "") if x)
    table = Table("entity", "files (load batches)", "rows", "files", title="Files run would write"
                  + (f" (at most {limits} per file)" if limits else ""), title_justify="left")
    by_entity: dict[str, list[dict]] = {}
    for f in result.files:
        by_entity.setdefault(str(f.get("entity", "")), []).append(f)
    for entity, files in by_entity.items():
        names = str(files[0]["path"]) + (f" … {str(files[-1]['path']).rsplit('_', 1)[-1]}" if len(files) > 1 else "")
        table.add_row(entity, str(len(files)), str(sum(int(f["rows"] or 0) for f in files)), names)
    console.print(table)
    console.print("Also: rejects/<entity>.csv, lineage.csv, review/, reports/quality.html, manifest.json")


def _uncovered(result: RunResult) -> list[str]:
    """Well-known required fields (besides identity and links) that are mapped by no source at all."""
    out = []
    for entity, res in result.migration.entities.items():
        if res.frame.height == 0:
            continue
        mapped = {s.name for s in res.fields}
        out += [f"{entity.value}.{n}" for n, s in CATALOGUE[entity].items()
                if s.required and n not in mapped and n not in ("id", "account_id")]
    return out


def entity_table(result: RunResult, console: Console, title: str) -> None:
    table = Table("entity", "source rows", *OUTCOMES, title=title, title_justify="left")
    for entity, res in result.migration.entities.items():
        counts = dict(res.frame.group_by(OUTCOME).len().iter_rows())
        table.add_row(entity.value, str(res.frame.height), *[str(counts.get(o, 0)) for o in OUTCOMES])
    console.print(table)


def _reasons(result: RunResult, console: Console) -> None:
    table = Table("entity", "outcome", "rule", "rows", title="Why rows are not written", title_justify="left")
    for entity, res in result.migration.entities.items():
        groups = (res.frame.filter(pl.col(RULE).is_not_null()).group_by(OUTCOME, RULE).len()
                  .sort(["len", RULE], descending=[True, False]))
        for outcome, rule, n in groups.iter_rows():
            table.add_row(entity.value, outcome, rule, str(n))
    if table.row_count:
        console.print(table)


def render_summary(result: RunResult, console: Console) -> None:
    entity_table(result, console, f"Written to {result.out}")
    rec = result.reconciliation
    console.print(("[green]Every source row is accounted for[/] " if rec.balanced else "[red]Unbalanced[/] ")
                  + f"({sum(r['read'] for r in rec.rows())} source rows by entity; see lineage.csv).")
    console.print(f"Import files: {result.out / 'import'}   Report: {result.out / 'reports' / 'quality.html'}")
    review = [(e.value, r.matches, r.decisions) for e, r in result.migration.entities.items()]
    for entity, matches, decisions in review:
        if decisions and (decisions.applied or decisions.stale):
            console.print(f"{entity}: {decisions.applied} steward decisions applied"
                          + (f", [yellow]{len(decisions.stale)} stale[/] (see review/stale_decisions.csv)"
                             if decisions.stale else ""))
        if decisions and decisions.legacy:
            console.print(f"[yellow]{entity}: {decisions.legacy} decisions were checked by the unkeyed fingerprints "
                          "of an earlier version's workbook[/]: they still apply; use the new "
                          "review/duplicates.xlsx (keyed fingerprints) for the next round and delete the old "
                          "file, whose fingerprints let anyone who guesses a row's values confirm them")
        if matches and matches.ignored:
            console.print(f"{entity}: not used for matching, as most records share the value: "
                          f"{', '.join(matches.ignored)}")
    left_out(result, console)
    console.print(f"Duplicates to review: {result.out / 'review' / 'duplicates.xlsx'}")
    _read_warnings(result, console)


def left_out(result: RunResult, console: Console) -> None:
    """One line per blocking key matching left out for its pairs, and per key whose blocks it skipped for size."""
    for entity, res in result.migration.entities.items():
        matches = res.matches
        for k in matches.skipped_keys if matches else ():
            console.print(f"{entity.value}: blocking key {k.name} left out ({k.pairs:,} pairs over {k.records:,} "
                          f"records: {k.why})", style="yellow", markup=False)
        for c in matches.capped if matches else ():
            console.print(f"{entity.value}: blocking key {c.name}: {c.why}, not paired ({c.pairs:,} pairs over "
                          f"{c.records:,} records)", style="yellow", markup=False)


def _read_warnings(result: RunResult, console: Console) -> None:
    warnings = result.migration.warnings
    if warnings:
        console.print(f"[yellow]{len(warnings)} warning(s) while reading[/], e.g.:")
        for w in warnings[:5]:
            console.print("  " + w.render(), markup=False)


def render_dry_run(dry, console: Console) -> None:
    """The sample, what each check did, the findings by kind, and the first findings in full."""
    from crm_migrate.validators.findings import summary

    result = dry.result
    rows = sum(r.rows for r in result.migration.reads)
    console.print(f"[bold]Dry run[/] on {rows} source rows ("
                  + ", ".join(f"{n} {why}" for why, n in dry.sample_counts.items()) + f"), written to {result.out}")
    entity_table(result, console, "The sample, as run would do it")
    for check, what in dry.checks.items():
        console.print(f"  {check}: {what}", markup=False)
    groups = summary(dry.findings)
    if not groups:
        console.print("[green]No findings: the sample imports as it is.[/]")
        return
    table = Table("check", "severity", "entity", "rule", "count", "example", title="Findings", title_justify="left")
    for g in groups:
        style = "red" if g["severity"] == "error" else "yellow"
        table.add_row(g["check"], f"[{style}]{g['severity']}[/]", g["entity"], g["rule"], str(g["count"]),
                      g["example"] if len(g["example"]) <= 80 else g["example"][:79] + "…")
    console.print(table)
    for f in [f for f in dry.findings if f.severity == "error"][:10]:
        console.print("  " + f.render(), markup=False, style="red")
    errors = sum(f.severity == "error" for f in dry.findings)
    console.print((f"[red]{errors} finding(s) would make the import fail or lose records[/]" if errors
                   else "[green]Nothing would make the import fail[/]")
                  + f"; all findings: {result.out / 'findings.csv'}, report: {result.out / 'reports' / 'quality.html'}")


def render_verification(v, console: Console) -> None:
    """Totals to sign off, then the differences per column and rule."""
    totals = Table("sent", "exported", "matched", "missing", "extra", "values differing",
                   title=f"Reconciliation of {v.entity} (matched by {', '.join(v.key)})", title_justify="left")
    totals.add_row(str(v.sent), str(v.exported), str(v.matched), str(v.missing), str(v.extra),
                   str(sum(v.differences.values())))
    console.print(totals)
    if v.by_column:
        table = Table("column", "rule", "values", title="Values that came back different", title_justify="left")
        for column, rules in v.by_column.items():
            for rule, n in sorted(rules.items(), key=lambda kv: -kv[1]):
                table.add_row(column, rule, str(n))
        console.print(table)
    if v.unmatched_columns:
        console.print("[yellow]Not in the export, not compared:[/] " + ", ".join(v.unmatched_columns))
    console.print(("[green]Everything sent came back as sent.[/]" if v.clean
                   else "[red]Differences found.[/]") + f" Details: {v.report}")
