"""``plan``: what ``run`` would do, as plain data, the one source of its text tables and of ``plan --format
json``; and the summary ``run`` prints.

Every value a table shows is here under a stable key (see README, "plan --format json"), masked as the text
is (ID numbers, and mobiles where the project masks them), so the JSON says exactly what the text says. The
limits a team sets on a plan (``--max-rejects``, ``--max-reject-share``) and the entities in scope that would
write nothing are turned into problems here too; ``plan`` and ``validate`` exit 1 on any.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from crm_migrate.cleaners.masking import mask_texts
from crm_migrate.errors import Problem
from crm_migrate.mappings.entities import CATALOGUE
from crm_migrate.migrate.columns import FILTERED, OUTCOME, REJECTED, RULE, WRITTEN
from crm_migrate.migrate.run import RunResult, prepare
from crm_migrate.project import Project
from crm_migrate.validators.reconcile import OUTCOMES

FORMAT_VERSION = 1  # of the JSON; raised when a key changes meaning or goes, never for a key added
ALSO = ["rejects/<entity>.csv", "lineage.csv", "review/", "reports/quality.html", "manifest.json"]


@dataclass(frozen=True)
class RejectLimits:
    """How many refusals a team accepts per entity: rows (``--max-rejects``) and the share of the rows in
    scope, 0 to 1 (``--max-reject-share``). None: no limit."""

    rows: int | None = None
    share: float | None = None


@dataclass
class Plan:
    """What ``plan`` found: ``facts`` (everything it shows, in the order it shows it: the document ``plan
    --format json`` prints) and the prepared run they were read from, nothing written."""

    facts: dict[str, Any]
    result: RunResult

    @property
    def problems(self) -> list[Problem]:
        """What makes the plan fail: an entity in scope that would write nothing, children that find no
        account, rejects over a limit (masked as the facts are)."""
        return [
            Problem(**{**p, "values": tuple(p["values"]) if "values" in p else None}) for p in self.facts["problems"]
        ]

    @property
    def exit_code(self) -> int:
        """1 when there is any problem (``plan``'s exit status), else 0."""
        return 1 if self.facts["problems"] else 0


def plan(
    project: Project,
    *,
    max_rejects: int | None = None,
    max_reject_share: float | None = None,
    today: dt.date | None = None,
    decisions: Path | None = None,
) -> Plan:
    """Read everything and say what ``run`` would do, writing nothing. ``max_rejects`` (rows) and
    ``max_reject_share`` (0 to 1, of the rows in scope) are the rejects an entity may have before the plan
    fails."""
    result = prepare(project, today, decisions, recording=False)  # plan records no state
    return Plan(plan_facts(result, RejectLimits(max_rejects, max_reject_share)), result)


def plan_facts(result: RunResult, limits: RejectLimits = RejectLimits()) -> dict[str, Any]:
    """Everything ``plan`` shows, in the order it shows it, with the problems that make it exit 1."""
    migration = result.migration
    project = migration.project
    mobiles = project.config.options.mask_mobiles
    entities = entity_rows(result)
    facts: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "project": {"name": project.config.name, "target": project.config.target, "folder": str(project.root)},
        "sources": _sources(result),
        "columns": _columns(result),
        "unmapped_entities": [e.value for e, res in migration.entities.items() if res.frame.height == 0],
        "uncovered_fields": _uncovered(result),
        "entities": entities,
        "duplicates": _duplicates(result),
        "blocking": blocking_rows(result),
        "reasons": _reasons(result),
        "refusals": _refusals(result, mobiles),
        "files": _files(result),
        "warnings": [p.as_dict() for p in masked_problems(migration.warnings, mobiles)],
    }
    problems = unlinked(result) + nothing_written(result, entities) + over_limits(result, entities, limits)
    facts["problems"] = [p.as_dict() for p in masked_problems(problems, mobiles)]
    return facts


def run_summary(result: RunResult) -> dict[str, Any]:
    """What ``run`` prints once its tree is written, as plain data (`crm_migrate.reports.console`): the
    outcomes per entity, the reconciliation, the steward's decisions applied and stale, the fields matching
    left out, the blocking keys left out, the warnings while reading (masked)."""
    migration = result.migration
    mobiles = migration.project.config.options.mask_mobiles
    review = []
    for entity, res in migration.entities.items():
        decisions, matches = res.decisions, res.matches
        review.append(
            {
                "entity": entity.value,
                "applied": decisions.applied if decisions else 0,
                "stale": len(decisions.stale) if decisions else 0,
                "legacy": decisions.legacy if decisions else 0,
                "ignored": list(matches.ignored) if matches else [],
            }
        )
    return {
        "out": str(result.out),
        "entities": entity_rows(result),
        "balanced": result.reconciliation.balanced,
        "rows": sum(r["read"] for r in result.reconciliation.rows()),
        "review": review,
        "blocking": blocking_rows(result),
        "warnings": [p.as_dict() for p in masked_problems(migration.warnings, mobiles)],
    }


def masked_problems(problems: list[Problem], mobiles: bool) -> list[Problem]:
    """Problems with ID numbers (and mobiles, where the project says) masked in their texts, as every output
    but the import files holds them."""
    texts = [t for p in problems for t in (p.message, p.hint or "")]
    masked = iter(mask_texts(texts, mobiles))
    out = []
    for p in problems:
        message, hint = next(masked), next(masked)
        values = tuple(v or "" for v in mask_texts(list(p.values), mobiles)) if p.values else p.values
        out.append(replace(p, message=message or "", hint=hint or None, values=values))
    return out


def _sources(result: RunResult) -> list[dict[str, Any]]:
    out = []
    for r in result.migration.reads:
        t = r.table
        out.append(
            {
                "source": r.source.name,
                "file": r.source.rel_file,
                "format": t.format,
                "encoding": t.encoding or None,
                "sheets": [{"sheet": s, "header_row": t.header_rows[s]} for s in t.sheets]
                + [{"sheet": s, "header_row": None} for s in t.empty_sheets],
                "header_row": t.header_rows.get(""),
                "rows": r.rows,
                "blank_rows": t.blank_rows,
            }
        )
    return out


def _columns(result: RunResult) -> list[dict[str, Any]]:
    out = []
    for r in result.migration.reads:
        used = {c for plan in r.source.entities for f in plan.fields for c in f.inputs}
        out.append(
            {
                "source": r.source.name,
                "unmapped": [c for c in r.table.columns if c not in used],
                "entities": [
                    {
                        "entity": plan.entity.value,
                        "mapped": [{"columns": list(f.inputs), "field": f.spec.name} for f in plan.fields],
                    }
                    for plan in r.source.entities
                ],
            }
        )
    return out


def _uncovered(result: RunResult) -> list[str]:
    """Well-known required fields (besides identity and links) that are mapped by no source at all."""
    out = []
    for entity, res in result.migration.entities.items():
        if res.frame.height == 0:
            continue
        mapped = {s.name for s in res.fields}
        out += [
            f"{entity.value}.{n}"
            for n, s in CATALOGUE[entity].items()
            if s.required and n not in mapped and n not in ("id", "account_id")
        ]
    return out


def entity_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per entity: source rows and how many would be written, merged, filtered and rejected."""
    out = []
    for entity, res in result.migration.entities.items():
        counts = dict(res.frame.group_by(OUTCOME).len().iter_rows())
        out.append(
            {"entity": entity.value, "source_rows": res.frame.height, **{o: int(counts.get(o, 0)) for o in OUTCOMES}}
        )
    return out


def _duplicates(result: RunResult) -> list[dict[str, Any]]:
    from crm_migrate.migrate.quality import duplicates as figures

    out = []
    for entity, res in result.migration.entities.items():
        d = figures(res)
        out.append(
            {
                "entity": entity.value,
                **{k: d[k] for k in ("records", "clusters", "merged_rows", "largest", "review_pairs")},
            }
        )
    return out


def blocking_rows(result: RunResult) -> list[dict[str, Any]]:
    """Blocking keys matching left out for their pairs ("left out"), and keys whose blocks it skipped for size
    ("not paired")."""
    out = []
    for entity, res in result.migration.entities.items():
        matches = res.matches
        for k in matches.skipped_keys if matches else ():
            out.append(
                {
                    "entity": entity.value,
                    "key": k.name,
                    "kind": "left out",
                    "pairs": k.pairs,
                    "records": k.records,
                    "why": k.why,
                }
            )
        for c in matches.capped if matches else ():
            out.append(
                {
                    "entity": entity.value,
                    "key": c.name,
                    "kind": "not paired",
                    "pairs": c.pairs,
                    "records": c.records,
                    "why": c.why,
                }
            )
    return out


def _reasons(result: RunResult) -> list[dict[str, Any]]:
    out = []
    for entity, res in result.migration.entities.items():
        groups = (
            res.frame.filter(pl.col(RULE).is_not_null())
            .group_by(OUTCOME, RULE)
            .len()
            .sort(["len", RULE], descending=[True, False])
        )
        out += [
            {"entity": entity.value, "outcome": outcome, "rule": rule, "rows": n}
            for outcome, rule, n in groups.iter_rows()
        ]
    return out


def _refusals(result: RunResult, mobiles: bool) -> list[dict[str, Any]]:
    """Records the target's template would refuse, by column and rule, with an example (masked)."""
    from crm_migrate.migrate.conform import WHY

    out = []
    for entity, done in (result.conformed or {}).items():
        refused = done.refused
        if refused is None or refused.height == 0:
            continue
        for name in [c for c in refused.columns if c.startswith(WHY)]:
            hits = refused[name].drop_nulls()
            if hits.len():
                rule, header = name.removeprefix(WHY).split(":", 1)
                example = hits[0].rsplit("; ", 1)[0] if "; " in hits[0] else hits[0]
                out.append(
                    {
                        "entity": entity.value,
                        "column": header,
                        "rule": rule,
                        "records": hits.len(),
                        "example": (mask_texts([example], mobiles)[0] or "")[:80],
                    }
                )
    return out


def _files(result: RunResult) -> dict[str, Any]:
    """Per entity, the import files (the batches of the load, in load order) and their rows."""
    spec = result.target.file if result.target else None
    by_entity: dict[str, list[dict]] = {}
    for f in result.files:
        by_entity.setdefault(str(f.get("entity", "")), []).append(f)
    return {
        "max_rows": spec.max_rows if spec else None,
        "max_bytes": spec.max_bytes if spec else None,
        "entities": [
            {
                "entity": e,
                "files": len(files),
                "rows": sum(int(f["rows"] or 0) for f in files),
                "paths": [str(f["path"]) for f in files],
            }
            for e, files in by_entity.items()
        ],
        "also": ALSO,
    }


def unlinked(result: RunResult) -> list[Problem]:
    """Child entities of which not one record found its account: the project, not the data, is wrong."""
    from crm_migrate.mappings.entities import has_account_link
    from crm_migrate.migrate.link import ACCOUNT, ORPHAN_RULES, ORPHANED

    out = []
    for entity, res in result.migration.entities.items():
        frame = res.frame
        if not has_account_link(entity) or frame.height == 0 or ACCOUNT not in frame.columns:
            continue
        lost = frame.filter(
            pl.col(RULE).is_in(list(ORPHAN_RULES))
            | (pl.col(ORPHANED).is_not_null() if ORPHANED in frame.columns else pl.lit(False))
        )
        linked = frame.filter(
            pl.col(ACCOUNT).is_not_null() & (pl.col(ORPHANED).is_null() if ORPHANED in frame.columns else pl.lit(True))
        )
        if lost.height and not linked.height:
            sources = sorted(set(lost["_source"].to_list()))
            out.append(
                Problem(
                    result.migration.project.doc.path,
                    f"not one of the {lost.height} {entity.value} of "
                    f"{', '.join(sources)} found its account ({lost['_reason'][0]})",
                    hint="map the column holding the account's legacy id to account_id, and give the "
                    "child's mapping the same system: as the accounts' mapping",
                )
            )
    return out


def nothing_written(result: RunResult, entities: list[dict[str, Any]]) -> list[Problem]:
    """An entity in scope of which run would write no record. In scope: listed in migration.yaml's
    ``entities``, or, where the project does not list them, mapped by some source."""
    project = result.migration.project
    listed = "entities" in project.config.model_fields_set
    line = project.doc.line_of(("entities",)) if listed else None
    out = []
    for row in entities:
        if row[WRITTEN]:
            continue
        entity = row["entity"]
        if row["source_rows"] == 0:
            out += unmapped_in_scope(project, [e for e in project.config.entities if e.value == entity])
            continue
        out.append(
            Problem(
                project.doc.path,
                f"run would write no {entity}: all {row['source_rows']} source rows "
                f"are filtered ({row[FILTERED]}) or rejected ({row[REJECTED]})",
                line=line,
                hint=f"see 'Why rows are not written' for {entity}: a scope rule, a required field or "
                "the target refuses them all",
            )
        )
    return out


def unmapped_in_scope(project, entities: list | None = None) -> list[Problem]:
    """Entities listed in migration.yaml's ``entities`` that no source maps (of ``entities``, if given): run
    would write none. Where the project does not list its entities, those no source maps are out of scope."""
    if "entities" not in project.config.model_fields_set:
        return []
    mapped = {plan.entity for s in project.sources for plan in s.entities}
    line = project.doc.line_of(("entities",))
    return [
        Problem(
            project.doc.path,
            f"{e.value} are in scope but no source maps them: run would write no {e.value}",
            line=line,
            hint=f"map {e.value} in a mapping file, or take them out of 'entities'",
        )
        for e in (project.config.entities if entities is None else entities)
        if e not in mapped
    ]


def over_limits(result: RunResult, entities: list[dict[str, Any]], limits: RejectLimits) -> list[Problem]:
    """Entities whose rejected rows exceed a limit: rows, or the share of the rows in scope (not filtered)."""
    path = result.migration.project.doc.path
    out = []
    for row in entities:
        entity, rejected = row["entity"], row[REJECTED]
        if limits.rows is not None and rejected > limits.rows:
            out.append(
                Problem(
                    path,
                    f"{entity}: {rejected:,} rows would be rejected, more than --max-rejects {limits.rows:,}",
                    hint=_LIMIT_HINT.format(entity=entity),
                )
            )
        in_scope = row["source_rows"] - row[FILTERED]
        if limits.share is not None and in_scope and rejected / in_scope > limits.share:
            out.append(
                Problem(
                    path,
                    f"{entity}: {rejected:,} of the {in_scope:,} rows in scope would be rejected "
                    f"({rejected / in_scope:.1%}), more than --max-reject-share {limits.share:g}",
                    hint=_LIMIT_HINT.format(entity=entity),
                )
            )
    return out


_LIMIT_HINT = (
    "see 'Why rows are not written' and 'Expected refusals by the target' for {entity}; fix the sources "
    "or mappings, or raise the limit"
)
