"""The quality report's figures: sources, fields before and after cleaning, duplicates, what blocking left
out, mapping coverage, the rules that decided rows, matching, reconciliation; one dict of plain data that
`crm_migrate.reports.quality` writes as ``quality.json`` and ``quality.html``."""

from __future__ import annotations

from typing import Any

import polars as pl

from crm_migrate.cleaners.base import NOTES_SEPARATOR
from crm_migrate.migrate.columns import EMPTY, MERGED, OUTCOME, RECORD_ID, RULE, WRITTEN, notes, raw, val, why
from crm_migrate.migrate.explain import matching
from crm_migrate.migrate.pipeline import Migration
from crm_migrate.outcomes import OUTCOMES
from crm_migrate.validators.reconcile import Reconciliation
from crm_migrate.version import __version__

EXAMPLES = 5


def quality(migration: Migration, reconciliation: Reconciliation, conformed: dict | None = None) -> dict[str, Any]:
    project = migration.project
    return {
        "tool": {"name": "crm-migrate", "version": __version__},
        "project": project.config.name,
        "target": project.config.target,
        "sources": [_source(r) for r in migration.reads],
        "entities": {e.value: _outcomes(res.frame) for e, res in migration.entities.items()},
        "fields": {e.value: _fields(migration, e) for e in migration.entities},
        "duplicates": {e.value: duplicates(res) for e, res in migration.entities.items()},
        "blocking": {e.value: left_out(res) for e, res in migration.entities.items()},
        "mapping": _mapping(migration, conformed or {}),
        "decisions": {e.value: _decisions(res.frame) for e, res in migration.entities.items()},
        "matching": {e.value: m for e, res in migration.entities.items() if (m := matching(res)) is not None},
        "reconciliation": reconciliation.rows(),
        "balanced": reconciliation.balanced,
        # what the report's texts have masked (ID numbers always; mobiles by options.mask_mobiles)
        "masked": {"id_numbers": True, "mobiles": project.config.options.mask_mobiles},
    }


def duplicates(result) -> dict[str, Any]:
    """Clusters of several records, their sizes, rows merged, and the pairs of distinct records left for a
    steward to review (as many as the review workbook lists)."""
    members = (
        result.frame.select(OUTCOME, RECORD_ID).with_row_index("_i").filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
    )
    sizes = members.group_by(RECORD_ID).len().filter(pl.col("len") > 1)
    histogram = sizes.group_by("len").len(name="clusters").sort("len")
    ids = members.select(pl.col("_i"), pl.col(RECORD_ID))
    band = (
        result.review_pairs()
        .select("l", "r")
        .join(ids.rename({"_i": "l", RECORD_ID: "a"}), on="l")
        .join(ids.rename({"_i": "r", RECORD_ID: "b"}), on="r")
        .filter(pl.col("a") != pl.col("b"))
    )
    review = (
        band.select(pl.min_horizontal("a", "b").alias("lo"), pl.max_horizontal("a", "b").alias("hi")).unique().height
    )
    return {
        "records": members.filter(pl.col(OUTCOME) == WRITTEN).height,
        "clusters": sizes.height,
        "merged_rows": int(sizes["len"].sum() - sizes.height) if sizes.height else 0,
        "largest": int(sizes["len"].max()) if sizes.height else 0,
        "sizes": {str(k): int(v) for k, v in histogram.iter_rows()},
        "review_pairs": review,
    }


def left_out(result) -> dict[str, list[dict[str, Any]]]:
    """What blocking left out to stay within the pair budget: the keys dropped (why: too coarse or past the
    budget), with the pairs each would have given and the records it would have compared, and per key the
    blocks skipped for size (how many, the largest, the records in them, and the limit: the records a block
    may hold and be paired, lowered where the key did not fit the budget whole)."""
    matches = result.matches
    if matches is None:
        return {"keys_left_out": [], "blocks_skipped": []}
    return {
        "keys_left_out": [
            {"key": k.name, "why": k.reason, "detail": k.why, "pairs": k.pairs, "records": k.records}
            for k in matches.skipped_keys
        ],
        "blocks_skipped": [
            {
                "key": c.name,
                "blocks": c.blocks,
                "largest": c.largest,
                "records": c.records,
                "pairs": c.pairs,
                "limit": c.limit,
            }
            for c in matches.capped
        ],
    }


def _mapping(migration: Migration, conformed: dict) -> dict[str, Any]:
    """Per source the columns mapped and left out; per entity how full each template column is."""
    sources = []
    for r in migration.reads:
        used = {c for plan in r.source.entities for f in plan.fields for c in f.inputs}
        columns = r.table.columns
        sources.append(
            {
                "source": r.source.name,
                "columns": len(columns),
                "mapped": sum(c in used for c in columns),
                "unmapped": [c for c in columns if c not in used],
            }
        )
    target = {}
    for entity, done in conformed.items():
        frame = done.frame
        target[entity.value] = [
            {"column": c, "filled": int(frame[c].is_not_null().sum()), "rows": frame.height} for c in frame.columns
        ]
    return {"sources": sources, "target": target}


def _source(read) -> dict[str, Any]:
    t = read.table
    return {
        "name": read.source.name,
        "file": read.source.rel_file,
        "format": t.format,
        "encoding": t.encoding,
        "delimiter": t.delimiter,
        "sheets": t.sheets,
        "empty_sheets": t.empty_sheets,
        "header_rows": t.header_rows,
        "rows": read.rows,
        "blank_rows": t.blank_rows,
        "columns": t.columns,
        "warnings": len(t.warnings),
        "warning_examples": [w.render() for w in t.warnings[:EXAMPLES]],
    }


def _outcomes(frame: pl.DataFrame) -> dict[str, int]:
    counts = dict(frame.group_by(OUTCOME).len().iter_rows())
    return {"rows": frame.height, **{o: int(counts.get(o, 0)) for o in OUTCOMES}}


def _fields(migration: Migration, entity) -> list[dict[str, Any]]:
    result = migration.entities[entity]
    # Lazily: each figure filters only the columns it reads (a filter of the whole frame copies the entity).
    frame = result.frame
    rows = frame.lazy().filter(~pl.col(EMPTY)) if EMPTY in frame.columns else frame.lazy()
    height = rows.select(pl.len()).collect().item()
    out = []
    for spec in result.fields:
        if val(spec.name) not in frame.columns:
            continue
        r, v, w = pl.col(raw(spec.name)), pl.col(val(spec.name)), pl.col(why(spec.name))
        stats = (
            rows.select(
                r.is_not_null().sum().alias("filled"),
                (v.is_not_null() & w.is_null()).sum().alias("valid"),
                w.is_not_null().sum().alias("invalid"),
                (r.is_not_null() & (r != v)).sum().alias("changed"),
                (r.is_not_null() & (r == v)).sum().alias("unchanged"),
            )
            .collect()
            .row(0, named=True)
        )
        out.append(
            {
                "field": spec.name,
                "type": spec.type.value,
                "rows": height,
                **stats,
                "completeness": round(stats["filled"] / height, 4) if height else None,
                "invalid_reasons": _counts(rows.select(why(spec.name)).collect().to_series()),
                "rules": _counts(
                    rows.select(pl.col(notes(spec.name)).str.split(NOTES_SEPARATOR).explode()).collect().to_series()
                )
                if notes(spec.name) in frame.columns
                else {},
            }
        )
    return out


def _counts(values: pl.Series) -> dict[str, int]:
    """How often each value occurs, most frequent first."""
    counts = values.drop_nulls().value_counts(name="n")
    return dict(counts.sort(["n", values.name], descending=[True, False]).iter_rows())


def _decisions(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Filtered, rejected and merged rows grouped by the rule that decided them, with a few examples."""
    decided = frame.select(OUTCOME, RULE, "_source", "_sheet", "_row", "_reason").filter(pl.col(RULE).is_not_null())
    groups = decided.group_by(OUTCOME, RULE).agg(
        pl.len().alias("count"), pl.struct("_source", "_sheet", "_row", "_reason").head(EXAMPLES).alias("examples")
    )
    return [
        {
            "outcome": g[OUTCOME],
            "rule": g[RULE],
            "count": g["count"],
            "examples": [
                {"source": x["_source"], "sheet": x["_sheet"], "row": x["_row"], "reason": x["_reason"]}
                for x in g["examples"]
            ],
        }
        for g in groups.sort(["count", RULE], descending=[True, False]).to_dicts()
    ]
