"""The run proves that nothing was lost: for every source and entity, rows read = written + merged +
filtered + rejected, every row has exactly one outcome (none twice, none without), and every written record
is in its import file; and for a text source, the rows its reader yielded are as many as an independent
count of the file's records from its lines (`crm_migrate.validators.linecount`), so a reader that glued or
dropped rows fails the run too."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_migrate.errors import Problem, ReconciliationError
from crm_migrate.outcomes import FILTERED, KEPT, REJECTED, WRITTEN
from crm_migrate.outcomes import OUTCOMES as ALL_OUTCOMES

OUTCOMES = list(ALL_OUTCOMES)


@dataclass(frozen=True)
class Reconciliation:
    table: pl.DataFrame  # source, entity, read, written, merged, filtered, rejected, balanced

    @property
    def balanced(self) -> bool:
        return bool(self.table["balanced"].all()) if self.table.height else True

    def rows(self) -> list[dict[str, object]]:
        return self.table.to_dicts()


def reconcile(
    lineage: pl.DataFrame,
    rows_read: dict[str, int],
    entities_by_source: dict[str, list[str]],
    files: dict[str, str],
    counted: dict[str, tuple[int, int]] | None = None,
) -> Reconciliation:
    """Count lineage outcomes per source and entity against the rows each source yielded, and the rows a text
    source yielded (``counted``: source -> (rows read, records counted from its lines)) against its count."""
    miscounted = [
        Problem(
            files[s],
            f"{read} rows read, but the file holds {lines} records by an independent "
            "count of its lines; nothing is written",
            hint="this is a bug in crm-migrate; please report it with the file (rows may have been "
            "glued together or dropped)",
        )
        for s, (read, lines) in (counted or {}).items()
        if read != lines
    ]
    if miscounted:
        raise ReconciliationError(miscounted)
    # Per sheet first, where a row number is one row ("distinct"): a row twice and another missing add up.
    tallies = [*OUTCOMES, "undecided", "lines", "distinct"]
    counts = (
        lineage.group_by("source", "entity", "sheet")
        .agg(
            *[(pl.col("outcome") == o).sum().alias(o) for o in OUTCOMES],
            pl.col("outcome").is_null().sum().alias("undecided"),
            pl.len().alias("lines"),
            pl.col("row").n_unique().alias("distinct"),
        )
        .group_by("source", "entity")
        .agg(pl.col(c).sum() for c in tallies)
    )
    expected = pl.DataFrame(
        [{"source": s, "entity": e, "read": rows_read[s]} for s, ents in entities_by_source.items() for e in ents],
        schema={"source": pl.String, "entity": pl.String, "read": pl.Int64},
    )
    table = (
        expected.join(counts, on=["source", "entity"], how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in tallies)
        .with_columns(
            (
                (pl.sum_horizontal(OUTCOMES) == pl.col("read"))
                & (pl.col("undecided") == 0)
                & (pl.col("lines") == pl.col("read"))
                & (pl.col("distinct") == pl.col("read"))
            ).alias("balanced")
        )
    )
    result = Reconciliation(table.drop("lines", "undecided", "distinct"))
    if not result.balanced:
        problems = [
            Problem(
                files[r["source"]],
                f"{r['entity']}: {r['read']} rows read but "
                f"{sum(r[o] for o in OUTCOMES)} accounted for ("
                + ", ".join(f"{r[o]} {o}" for o in OUTCOMES)
                + ")"
                + (
                    f"; {r['lines'] - r['distinct']} line(s) of lineage repeat a row"
                    if r["distinct"] < r["lines"]
                    else ""
                ),
                hint="this is a bug in crm-migrate; please report it with the project",
            )
            for r in table.filter(~pl.col("balanced")).to_dicts()
        ]
        raise ReconciliationError(problems)
    return result


def check_written(
    lineage: pl.DataFrame, written_ids: dict[str, set[str]], placeholders: frozenset[str] | set[str] = frozenset()
) -> None:
    """Every row lineage calls written or merged points at a record that is in its import file, and every
    record in an import file is one that lineage says was written (or a placeholder, such as the account
    orphans are linked to, which no source row is)."""
    problems = []
    for entity, ids in written_ids.items():
        mine = lineage.filter((pl.col("entity") == entity) & pl.col("outcome").is_in(KEPT))
        claimed = set(mine["record_id"].to_list())
        missing = claimed - ids
        if missing:
            problems.append(
                Problem(
                    f"import/{entity}",
                    f"{len(missing)} record id(s) in lineage but not in the "
                    f"import file, e.g. {sorted(missing, key=str)[0]}",
                    hint="this is a bug in crm-migrate; please report it with the project",
                )
            )
        extra = ids - set(mine.filter(pl.col("outcome") == WRITTEN)["record_id"].to_list()) - set(placeholders)
        if extra:
            problems.append(
                Problem(
                    f"import/{entity}",
                    f"{len(extra)} record id(s) in the import file that no "
                    f"source row was written as, e.g. {sorted(extra, key=str)[0]}",
                    hint="this is a bug in crm-migrate; please report it with the project",
                )
            )
    if problems:
        raise ReconciliationError(problems)


def reconcile_waves(lineage: pl.DataFrame, read: pl.DataFrame) -> list[dict[str, object]]:
    """Per wave, source and entity, the rows behind the wave's golden records: sent (in this batch or an
    earlier one), held back, pending (the wave not written yet); and the proof that every source row is
    accounted for once across all waves: per source and entity, rows read = filtered + rejected + the
    written and merged rows of each wave (and of none), and no row of an entity is counted twice.
    ``lineage`` carries ``wave`` and ``batch`` (`delta.with_batches`); ``read``: source, entity, read."""
    key = ["source", "sheet", "row", "entity"]
    twice = lineage.group_by(key).len().filter(pl.col("len") > 1)
    problems = [
        Problem(
            f"lineage: {r['source']}",
            f"{r['entity']}: row {r['row']}"
            + (f" of sheet {r['sheet']}" if r["sheet"] else "")
            + f" is counted {r['len']} times "
            "across the waves",
            hint="this is a bug in crm-migrate; please report it with the project",
        )
        for r in twice.head(5).to_dicts()
    ]
    kept = pl.col("outcome").is_in(OUTCOMES[:2])
    totals = lineage.group_by("source", "entity").agg(
        *[(pl.col("outcome") == o).sum().alias(o) for o in OUTCOMES[2:]], kept.sum().alias("in_waves")
    )
    joined = read.join(totals, on=["source", "entity"], how="left").with_columns(
        pl.col(FILTERED, REJECTED, "in_waves").fill_null(0)
    )
    for r in joined.filter(pl.col("read") != pl.col(FILTERED) + pl.col(REJECTED) + pl.col("in_waves")).to_dicts():
        problems.append(
            Problem(
                f"lineage: {r['source']}",
                f"{r['entity']}: {r['read']} rows read, but the waves "
                f"account for {r['filtered'] + r['rejected'] + r['in_waves']} ({r['filtered']} "
                f"filtered, {r['rejected']} rejected, {r['in_waves']} in golden records)",
                hint="this is a bug in crm-migrate; please report it with the project",
            )
        )
    if problems:
        raise ReconciliationError(problems)
    held = pl.col("reason").str.starts_with("held back:").fill_null(False)
    table = (
        lineage.filter(kept)
        .group_by("wave", "source", "entity")
        .agg(
            pl.len().alias("rows"),
            pl.col("batch").is_not_null().sum().alias("sent"),
            (pl.col("batch").is_null() & held).sum().alias("held"),
            (pl.col("batch").is_null() & ~held).sum().alias("pending"),
        )
        .sort("wave", "source", "entity", nulls_last=True)
    )
    return table.to_dicts()
