"""Which records a run sends: the batch. With a state (`crm_migrate.migrate.state`) a run writes only the golden
records that are new or whose values changed since they were last written (upserts, by the same external
ids), those of one wave with ``--wave``, everything with ``--full``; and it says per entity how many are new,
changed, unchanged, withdrawn (in the state, no longer in the data: the source rows behind them are gone) and
held back (a child whose account is in a later wave, or in one not written yet: never written with a link
that would not hold).

A record's fingerprint is the keyed hash of its row as the target receives it (the conformed import row), so
a change anywhere the target would see (a value, a format, the account it links to) is a change, and nothing
else is. Everything here is whole-frame: joins on external ids, no loop over records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from crm_migrate.mappings.entities import MULTI_VALUED, Entity, FieldType, has_account_link
from crm_migrate.mappings.models import Wave
from crm_migrate.migrate.columns import OUTCOME, RECORD_ID, SOURCE, WRITTEN, val
from crm_migrate.migrate.link import ACCOUNT, orphan_id
from crm_migrate.migrate.merge import OTHERS
from crm_migrate.migrate.state import GOLDEN_SCHEMA, LIVE, WITHDRAWN, Snapshot, identifier_hash, row_fingerprints
from crm_migrate.migrate.waves import assign, field_columns
from crm_migrate.outcomes import KEPT

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
HASHED = (FieldType.phone, FieldType.email, FieldType.id_card, FieldType.uscc)  # exact identifiers: kept as hashes
COUNTS = ("new", "changed", "unchanged", "withdrawn", "held", "sent")


@dataclass
class Batch:
    """What one run sends, and how it stands against the state."""

    number: int
    kind: str  # full: every record of the selection; delta: the new and changed ones
    wave: str | None  # --wave NAME, or None for every wave
    # per entity, one row per record the target would receive: external_id, fingerprint, wave, change
    # (new/changed/unchanged), send (in this batch), held (why a record that should go cannot), batch (the
    # batch it went out in: this one, an earlier one, or none yet), account (a child's parent)
    records: dict[Entity, pl.DataFrame]
    withdrawn: dict[Entity, pl.DataFrame]  # external ids the state has live and this run no longer writes
    rows_gone: dict[Entity, int] = field(default_factory=dict)  # source rows of the state no longer read
    snapshot: Snapshot | None = None
    row_prints: pl.DataFrame | None = None  # source, _sheet, _row, fingerprint: every source row read
    waves: list[str] = field(default_factory=list)  # the project's waves, in order
    accounting: list[dict] = field(default_factory=list)  # per wave, source and entity: rows sent, held, pending
    matched: dict[str, dict[str, int]] = field(default_factory=dict)  # --incremental: per entity, new rows that
    # joined a record of the state, started a new one, or went to review

    def sent(self, entity: Entity) -> pl.Series:
        frame = self.records.get(entity)
        if frame is None:
            return pl.Series("external_id", [], pl.String)
        return frame.filter(pl.col("send"))["external_id"]

    def counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for entity, frame in self.records.items():
            scoped = frame.filter(pl.col("in_scope"))
            out[entity.value] = {
                NEW: int((scoped["change"] == NEW).sum()),
                CHANGED: int((scoped["change"] == CHANGED).sum()),
                UNCHANGED: int((scoped["change"] == UNCHANGED).sum()),
                "withdrawn": self.withdrawn.get(entity, pl.DataFrame()).height,
                "held": int(scoped["held"].is_not_null().sum()),
                "sent": int(frame["send"].sum()),
                "rows_gone": self.rows_gone.get(entity, 0),
            }
        return out

    @property
    def nothing(self) -> bool:
        return not any(c["sent"] for c in self.counts().values())


def select(
    result, snapshot: Snapshot, waves: list[Wave], wave: Wave | None, full: bool, incremental: bool = False
) -> Batch:
    """The batch of a run: ``result`` is the run's `RunResult` (its migration and conformed entities). With
    ``incremental`` the run read only new sources: the state's records it does not hold stay as they are (none
    is withdrawn), and its children may link to any live account of the state."""
    migration = result.migration
    secret = migration.secret
    records: dict[Entity, pl.DataFrame] = {}
    withdrawn: dict[Entity, pl.DataFrame] = {}
    attrs = {e: _written_attrs(migration.entities[e], waves) for e in result.conformed}
    assigned = (
        assign(
            waves,
            {e: _with_ids(result.conformed[e], attrs[e]) for e in result.conformed},
            {e: migration.entities[e].fields for e in result.conformed},
        )
        if waves
        else {}
    )
    for entity, done in result.conformed.items():
        frame = _with_ids(done, attrs[entity]).select(
            "external_id",
            pl.Series("fingerprint", row_fingerprints(done.frame, done.frame.columns, secret)),
            pl.col(ACCOUNT).alias("account")
            if ACCOUNT in attrs[entity].columns
            else pl.lit(None, pl.String).alias("account"),
        )
        computed = assigned.get(entity, pl.Series("wave", [None] * frame.height, pl.String))
        prev = snapshot.records(entity).select(
            "external_id",
            pl.col("fingerprint").alias("_prev"),
            pl.col("wave").alias("_prev_wave"),
            pl.col("batch").alias("_prev_batch"),
            "status",
        )
        frame = frame.with_columns(computed.alias("_computed")).join(
            prev, on="external_id", how="left", maintain_order="left"
        )
        change = (
            pl.when(pl.col("_prev").is_null())
            .then(pl.lit(NEW))
            .when(pl.col("_prev") != pl.col("fingerprint"))
            .then(pl.lit(CHANGED))
            .otherwise(pl.lit(UNCHANGED))
        )
        # A record stays in the wave it was first written in.
        frame = frame.with_columns(change.alias("change"), pl.coalesce("_prev_wave", "_computed").alias("wave"))
        in_scope = pl.lit(True) if wave is None else (pl.col("wave") == wave.name).fill_null(False)
        frame = frame.with_columns(in_scope.alias("in_scope"))
        frame = frame.with_columns(
            (pl.col("in_scope") & (pl.lit(full) | (pl.col("change") != UNCHANGED))).alias("send"),
            pl.lit(None, pl.String).alias("held"),
        )
        if has_account_link(entity) and Entity.accounts in records:
            frame, records[Entity.accounts] = _hold_orphans(
                frame, records[Entity.accounts], waves, wave, snapshot.records(Entity.accounts) if incremental else None
            )
        records[entity] = frame
        current = frame["external_id"]
        withdrawn[entity] = (
            snapshot.records(entity)
            .filter(
                (pl.col("status") == LIVE) & ~pl.col("external_id").is_in(current.implode()) & pl.lit(not incremental)
            )
            .select("external_id")
        )
    for entity, frame in records.items():
        records[entity] = frame.with_columns(
            pl.when(pl.col("send")).then(pl.lit(snapshot.batch)).otherwise(pl.col("_prev_batch")).alias("batch")
        ).drop("_prev", "_prev_wave", "_prev_batch", "_computed", "status")
    kind = "incremental" if incremental else "full" if full or not snapshot.exists else "delta"
    prints = result.row_prints if result.row_prints is not None else row_prints(migration)
    batch = Batch(
        snapshot.batch,
        kind,
        wave.name if wave else None,
        records,
        withdrawn,
        snapshot=snapshot,
        row_prints=prints,
        waves=[w.name for w in waves],
    )
    batch.rows_gone = {} if incremental else _rows_gone(snapshot, result.lineage, prints)
    return batch


def _written_attrs(res, waves: list[Wave]) -> pl.DataFrame:
    """The written rows' id, source, account and the value columns the waves read."""
    wanted = {w.field for w in waves if w.field is not None}
    columns = field_columns(res.fields)
    keep = [
        RECORD_ID,
        SOURCE,
        *([ACCOUNT] if ACCOUNT in res.frame.columns else []),
        *sorted({columns[f] for f in wanted if f in columns and columns[f] in res.frame.columns}),
    ]
    return res.written_lazy().select(keep).collect()


def _with_ids(done, attrs: pl.DataFrame) -> pl.DataFrame:
    """The conformed records' ids (in their order) with the attributes of their written rows (the placeholder
    account has none)."""
    ids = pl.DataFrame({"external_id": pl.Series(done.ids, dtype=pl.String)})
    return ids.join(
        attrs.rename({RECORD_ID: "external_id"}), on="external_id", how="left", maintain_order="left"
    ).with_columns(pl.col("external_id").alias(RECORD_ID))


def _hold_orphans(
    children: pl.DataFrame,
    accounts: pl.DataFrame,
    waves: list[Wave],
    wave: Wave | None,
    known: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Children to send whose account is neither in this batch nor written before are held back, with why;
    the placeholder account goes with the first batch that has a child linked to it. ``known``: the state's
    accounts, which an incremental run's children may link to without the run holding them."""
    placeholder = orphan_id()
    if children.filter(pl.col("send") & (pl.col("account") == placeholder)).height:
        needed = (pl.col("external_id") == placeholder) & (
            pl.col("_prev_batch").is_null() | (pl.col("change") != UNCHANGED)
        )
        accounts = accounts.with_columns((pl.col("send") | needed).alias("send"))
    parents = accounts.select(
        pl.col("external_id").alias("account"),
        pl.col("send").alias("_p_send"),
        pl.col("_prev_batch").alias("_p_batch"),
        pl.col("wave").alias("_p_wave"),
    )
    if known is not None:
        state = (
            known.filter(pl.col("status") == LIVE)
            .select(
                pl.col("external_id").alias("account"),
                pl.lit(False).alias("_p_send"),
                pl.col("batch").alias("_p_batch"),
                pl.col("wave").alias("_p_wave"),
            )
            .join(parents.select("account"), on="account", how="anti")
        )
        parents = pl.concat([parents, state.cast(parents.schema)])
    joined = children.join(parents, on="account", how="left", maintain_order="left")
    there = pl.col("_p_send").fill_null(False) | pl.col("_p_batch").is_not_null()
    order = {w.name: i for i, w in enumerate(waves)}
    here = order[wave.name] if wave is not None else len(waves)
    later = pl.col("_p_wave").replace_strict(order, default=None, return_dtype=pl.Int64) > here
    why = (
        pl.when(pl.col("_p_wave").is_null())
        .then(pl.format("held back: its account {} is in no wave, so no batch writes it", pl.col("account")))
        .when(later)
        .then(
            pl.format(
                "held back: its account {} is in wave {}, which comes later: run --wave {}, then this wave again",
                pl.col("account"),
                pl.col("_p_wave"),
                pl.col("_p_wave"),
            )
        )
        .otherwise(
            pl.format(
                "held back: its account {} is in wave {}, not written yet: run --wave {} first",
                pl.col("account"),
                pl.col("_p_wave"),
                pl.col("_p_wave"),
            )
        )
    )
    lost = pl.col("send") & pl.col("account").is_not_null() & ~there
    joined = joined.with_columns(pl.when(lost).then(why).alias("held"), (pl.col("send") & ~lost).alias("send"))
    return joined.drop("_p_send", "_p_batch", "_p_wave"), accounts


def row_prints(migration) -> pl.DataFrame:
    """Every source row's keyed fingerprint (of its values as read, not its position: a row moved keeps it)."""
    from crm_migrate.migrate.readers import ROW, SHEET

    parts = []
    for r in migration.reads:
        table = r.table.frame
        parts.append(
            table.select(pl.lit(r.source.name).alias("source"), SHEET, ROW).with_columns(
                row_fingerprints(table, r.table.columns, migration.secret)
            )
        )
    if not parts:
        return pl.DataFrame(schema={"source": pl.String, SHEET: pl.String, ROW: pl.Int64, "fingerprint": pl.String})
    return pl.concat(parts, how="vertical_relaxed")


def _rows_gone(snapshot: Snapshot, lineage: pl.DataFrame, prints: pl.DataFrame) -> dict[Entity, int]:
    """Per entity, the source rows the state had that no source holds now (by fingerprint, per source)."""
    if snapshot.rows.is_empty():
        return {}
    now = prints.select("source", "fingerprint").unique()
    gone = snapshot.rows.join(now, on=["source", "fingerprint"], how="anti")
    counts = gone.group_by("entity").len()
    return {Entity(e): n for e, n in counts.iter_rows() if e in Entity._value2member_map_}


def with_batches(lineage: pl.DataFrame, batch: Batch) -> pl.DataFrame:
    """Lineage with the wave and batch of every row's golden record (empty where not written yet), and the reason
    a held-back record did not go."""
    parts = [
        f.select(pl.lit(e.value).alias("entity"), pl.col("external_id").alias("record_id"), "wave", "batch", "held")
        for e, f in batch.records.items()
    ]
    if not parts:
        return lineage.with_columns(pl.lit(None, pl.String).alias("wave"), pl.lit(None, pl.Int64).alias("batch"))
    known = pl.concat(parts)
    out = lineage.join(known, on=["entity", "record_id"], how="left", maintain_order="left")
    return out.with_columns(pl.coalesce("reason", "held").alias("reason")).drop("held")


def held_back(lineage: pl.DataFrame) -> pl.DataFrame:
    """The source rows of held-back records, for rejects/held_back.csv (lineage after `with_batches`)."""
    return lineage.filter(
        pl.col("reason").str.starts_with("held back:").fill_null(False) & pl.col("outcome").is_in(KEPT)
    ).select("source", "file", "sheet", "row", "entity", "record_id", "wave", "reason")


def sent_only(done, ids: pl.Series):
    """The conformed entity with only the records of this batch."""
    from dataclasses import replace

    keep = pl.Series(done.ids, dtype=pl.String).is_in(ids.implode())
    return replace(done, frame=done.frame.filter(keep), ids=[i for i, k in zip(done.ids, keep.to_list()) if k])


def match_values(res, secret: bytes, only: pl.Series | None = None) -> pl.DataFrame:
    """Per written record of one entity, the golden values a later matching of new records against the state
    needs: names, addresses, dates and the like in clear (fuzzy comparisons need them); exact identifiers
    (phones, mobiles, emails, ID numbers, credit codes) only as `identifier_hash` (their golden value in
    ``h:<field>``, the other members' in ``h:<field>_others`` as a list), which compare equal without
    showing the value; the account of a child and the source of the golden record."""
    from crm_migrate.migrate.comparisons import identifying

    frame = res.frame
    columns = [pl.col(RECORD_ID).alias("external_id"), pl.col(SOURCE).alias("source")]
    if ACCOUNT in frame.columns:
        columns.append(pl.col(ACCOUNT).alias("account"))
    for spec in identifying(res.fields, res.entity):
        value = val(spec.name)
        if value not in frame.columns:
            continue
        if spec.type in HASHED:
            columns.append(identifier_hash(value, secret).alias(f"h:{spec.name}"))
            others = f"{OTHERS}{spec.name}"
            if spec.type in MULTI_VALUED and others in frame.columns:
                columns.append(
                    pl.col(others)
                    .str.split("; ")
                    .list.eval(identifier_hash(pl.element(), secret))
                    .alias(f"h:{spec.name}_others")
                )
        else:
            columns.append(pl.col(value).alias(spec.name))
    written = pl.col(OUTCOME) == WRITTEN
    if only is not None:  # only the records this batch sends: the others keep the values they were sent with
        written = written & pl.col(RECORD_ID).is_in(only.implode())
    return frame.lazy().filter(written).select(columns).collect()


def golden_table(batch: Batch, entity: Entity, previous: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """The state's new golden table of one entity: the records of this batch as sent now (with their values),
    the others as they were last sent; those withdrawn marked so, and those back again live."""
    number = batch.number
    frame = batch.records[entity]
    sent = frame.filter(pl.col("send")).select("external_id", "fingerprint", "wave")
    first = previous.select("external_id", "first_batch") if "first_batch" in previous.columns else None
    sent = sent.join(values, on="external_id", how="left")
    if first is not None:
        sent = sent.join(first, on="external_id", how="left")
    sent = sent.with_columns(
        pl.coalesce(
            pl.col("first_batch") if "first_batch" in sent.columns else pl.lit(None, pl.Int64), pl.lit(number)
        ).alias("first_batch"),
        pl.lit(number).alias("batch"),
        pl.lit(LIVE).alias("status"),
        pl.lit(None, pl.Int64).alias("withdrawn_batch"),
    )
    gone = batch.withdrawn.get(entity, pl.DataFrame(schema={"external_id": pl.String}))["external_id"].implode()
    current = frame["external_id"].implode()
    kept = previous.filter(~pl.col("external_id").is_in(sent["external_id"].implode()))
    kept = kept.with_columns(
        pl.when(pl.col("external_id").is_in(gone))
        .then(pl.lit(WITHDRAWN))
        .when(pl.col("external_id").is_in(current))
        .then(pl.lit(LIVE))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(pl.col("external_id").is_in(gone))
        .then(pl.lit(number))
        .when(pl.col("external_id").is_in(current))
        .then(pl.lit(None, pl.Int64))
        .otherwise(pl.col("withdrawn_batch"))
        .alias("withdrawn_batch"),
    )
    head = list(GOLDEN_SCHEMA)
    out = pl.concat([kept, sent], how="diagonal_relaxed")
    return out.select(*head, *(c for c in out.columns if c not in head))


def state_rows(lineage: pl.DataFrame, prints: pl.DataFrame) -> pl.DataFrame:
    """Every source row of the run for the state: lineage (with wave and batch) and the row's fingerprint."""
    from crm_migrate.migrate.readers import ROW, SHEET

    keyed = prints.rename({SHEET: "sheet", ROW: "row"})
    return (
        lineage.select(
            "source",
            "sheet",
            pl.col("row").cast(pl.Int64),
            "entity",
            "record_id",
            "outcome",
            "wave",
            pl.col("batch").cast(pl.Int64),
        )
        .join(keyed, on=["source", "sheet", "row"], how="left", nulls_equal=True, maintain_order="left")
        .select("source", "sheet", "row", "entity", "record_id", "outcome", "fingerprint", "wave", "batch")
    )


def weights_of(migration) -> tuple[list[tuple], list[tuple]]:
    """The matching of the whole data as the state keeps it: per entity its thresholds and prior, and per
    comparison level its m, u, label and the weight a pair gets (after the caps)."""
    import numpy as np

    from crm_migrate.migrate.match import level_weights

    matching, weights = [], []
    for entity, res in migration.entities.items():
        result, settings = res.matches, res.settings
        if result is None or settings is None:
            continue
        matching.append(
            (entity.value, settings.merge, settings.review, result.match_rate, result.fields_rate, res.frame.height)
        )
        for comp in result.comparisons:
            m, u = result.m.get(comp.name), result.u.get(comp.name)
            if m is None or u is None:
                continue
            w = level_weights(comp, np.array(m), np.array(u), result.fields_rate or result.match_rate or 1e-9)
            weights += [
                (entity.value, comp.name, level, comp.label(level), float(m[level]), float(u[level]), float(w[level]))
                for level in range(comp.levels)
            ]
    return matching, weights


def to_record(
    batch: Batch,
    result,
    files: list[dict],
    out: str,
    previous: dict[Entity, pl.DataFrame],
    entities: Iterable[Entity] | None = None,
):
    """What the state remembers of this run (`state.Record`), with the golden tables of ``entities`` (all of
    the batch's; an incremental batch, which adds to the state's golden tables and withdraws nothing, those it
    sent records of, the others staying as the state holds them)."""
    from crm_migrate.migrate.state import Blob, Record, encoded

    # Each table is encoded as the state stores it as soon as it is made, so that only one exists at a time
    # (at the end of a 1M run, beside everything the run still holds, they made its peak).
    migration = result.migration
    golden: dict[Entity, pl.DataFrame | Blob] = {}
    wanted = set(batch.records if entities is None else entities)
    for entity in [e for e in batch.records if e in wanted]:
        values = match_values(migration.entities[entity], migration.secret, batch.sent(entity))
        golden[entity] = encoded(
            golden_table(batch, entity, previous.get(entity, pl.DataFrame(schema=GOLDEN_SCHEMA)), values)
        )
        del values
    matching, weights = weights_of(migration)
    project = migration.project
    from crm_migrate.migrate.incremental import extra_records

    return Record(
        batch.number,
        batch.kind,
        batch.wave,
        out,
        files,
        batch.counts(),
        golden,
        encoded(
            state_rows(result.lineage, batch.row_prints if batch.row_prints is not None else row_prints(migration))
        ),
        matching,
        weights,
        project.fingerprint(),
        project.config.name,
        extra_records(migration, migration.secret),
    )
