"""New records matched against what was migrated: ``run --incremental``.

A new export (an event's sign-ups, a salesperson's sheet found later, the new CRM's own export) is not matched
among itself alone: its rows are blocked and scored against every row behind the state's golden records, with
the weights and thresholds the state keeps from the run that matched the whole data (no estimate on a small
batch), and each new row then

- **joins** a golden record of the state (the record is written again as an update, under its external id),
- starts a **new** golden record (alone, or with other new rows), or
- goes to **review**: it starts a new record, and its most likely record of the state, in the review band, is
  listed in ``review/incremental.csv`` for a steward.

The sources whose file the state already saw (the same sha256) are not read again: the state's rows stand in
for them. What matching compared of each of those rows (its keys and features, `EntityResult.compared`) is kept
in the state as records of kind ``match``, exact identifiers (phones, emails, ID numbers, credit codes, the
source key) as keyed hashes (`state.identifier_hash`) compared with the new rows' hashed the same way, with the
golden record each row is behind in kind ``match_ids``; the files of every source as records of kind
``sources``. An incremental batch adds its rows to these (and to the state's rows) as parts of the tables
(`state.put_frame`), never rewriting the million rows of the full run. Only the old rows that share a blocking key value with a
new row are paired, found by joins: the time grows with the new rows, not with the state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import polars as pl

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import ID_FIELD, Entity, FieldSpec
from crm_migrate.migrate.columns import KEY, MERGED, OUTCOME, RECORD_ID, SEQ, SOURCE, SYSTEM, WRITTEN, key, val
from crm_migrate.migrate.delta import HASHED
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.merge import LABEL
from crm_migrate.migrate.stable_ids import renamed
from crm_migrate.migrate.state import Blob, connect, encoded, get_blobs, get_frame, identifier_hash, part_of, streamed

MATCH, MATCH_IDS, SOURCES = "match", "match_ids", "sources"  # the `records` kinds this module adds
# The people (hashed) and deals that new contacts and opportunities gave accounts of the state, by the account
# row's source and source key (hashed): an incremental batch adds them as a part, a full run empties the table.
CHILDREN = "children"
TIED = ("m:people", "m:deals")  # the features of an account that its children give it
CHILDREN_SCHEMA: dict[Any, Any] = {SOURCE: pl.String, KEY: pl.String, **{c: pl.List(pl.String) for c in TIED}}
SOURCES_SCHEMA = {"source": pl.String, "file": pl.String, "sha256": pl.String, "rows": pl.Int64}
F = TypeVar("F", pl.DataFrame, pl.LazyFrame)
EXTERNAL = "_ext"  # in the rows of the state: the golden record's external id
JOINED, NEW, REVIEW = "joined", "new", "review"
# The features that hold phone numbers or email addresses (or parts of them): hashed like the identifiers.
IDENTIFYING_FEATURES = frozenset(
    f"m:{n}"
    for n in (
        "mobiles",
        "lines",
        "locals",
        "own_lines",
        "own_phones",
        "phones",
        "people",
        "contact_lines",
        "emails",
        "own_emails",
    )
)
HINT = "run without --incremental: a full run reads every source again and records a new state"


# -- what the state keeps --------------------------------------------------------------------------------


def compared_by(frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec]) -> pl.DataFrame:
    """What matching compares of each row (`EntityResult.compared`): its source key, source and system, the
    keys, values and parts of its identifying fields, and its features."""
    from crm_migrate.migrate.comparisons import identifying

    names = {s.name for s in identifying(fields, entity)}
    wanted = {f"v:{n}" for n in names} | {f"k:{n}" for n in names} | {key(ID_FIELD)}
    columns = [
        c
        for c in frame.columns
        if c in wanted or c.startswith("m:") or (c.startswith("a:") and c[2:].split(".", 1)[0] in names)
    ]
    return frame.select(SEQ, KEY, SOURCE, SYSTEM, *columns)


def hashed(frame: F, fields: list[FieldSpec], secret: bytes) -> F:
    """``frame`` with every exact identifier replaced by its keyed hash: the values and keys of phone, email,
    ID-number and credit-code fields (their parts left out), the features made of phones and emails (lists hashed
    element by element), and the source key (a legacy id or a position)."""
    exact = {s.name for s in fields if s.type in HASHED}
    columns = {f"{p}:{n}" for n in exact for p in ("k", "v")} | IDENTIFYING_FEATURES | {KEY}
    schema = frame.collect_schema()
    frame = frame.drop([c for c in schema if c.startswith("a:") and c[2:].split(".", 1)[0] in exact])
    out = []
    for c, dtype in frame.collect_schema().items():
        if c not in columns:
            continue
        if isinstance(dtype, pl.List):
            out.append(pl.col(c).list.eval(identifier_hash(pl.element(), secret)).alias(c))
        elif dtype == pl.String:
            out.append(identifier_hash(c, secret).alias(c))
    return frame.with_columns(out) if out else frame


def compared_blob(frame: pl.DataFrame, entity: Entity, fields: list[FieldSpec], secret: bytes) -> Blob | None:
    """For the state (kind ``match``): what matching compared of every live row of one entity, by ``_seq``,
    identifiers hashed, encoded at once. The pipeline calls it right after matching: kept as a frame until the
    state is written, it would hold every feature and key column alive through the later entities and the
    write stage (at 1M rows, 2.3 GB more at the peak); encoded, it is a small fraction of that. None for an
    entity not matched against the state."""
    from crm_migrate.migrate.dedupe import FUZZY

    if entity not in FUZZY:  # activities: an incremental run matches their new rows among themselves only
        return None
    # The values of exact identifiers are not kept: their keys are what blocking and comparisons read (the
    # value's column only says the field is there, and the new rows have it), and hashing both cost as much.
    exact = {val(s.name) for s in fields if s.type in HASHED}
    columns = [c for c in compared_by(frame.head(0), entity, fields).columns if c not in exact]
    # Streamed into the encoding: the live rows' copies of these columns and their hashes exist a slice at a
    # time, never for every row at once (collected first, they put 1.7 GB on the 2M-row run's peak).
    live = pl.col(OUTCOME).is_null()
    rows = int(frame.select(live.sum()).item())
    return streamed(hashed(frame.lazy().filter(live).select(columns), fields, secret), rows)


def match_ids(res) -> pl.DataFrame:
    """For the state (kind ``match_ids``): every written or merged row of one entity (``_seq``) with the golden
    record it is behind (``_ext``) and its account: what the rows of kind ``match`` are joined with."""
    return (
        res.frame.lazy()
        .filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
        .select(SEQ, pl.col(RECORD_ID).alias(EXTERNAL), *([pl.col(ACCOUNT)] if ACCOUNT in res.frame.columns else []))
        .collect()
    )


def source_files(migration) -> pl.DataFrame:
    """For the state (kind ``sources``): every source read, its file, sha256 and rows."""
    return pl.DataFrame(
        [
            {"source": r.source.name, "file": r.source.rel_file, "sha256": r.sha256, "rows": r.rows}
            for r in migration.reads
        ],
        schema=SOURCES_SCHEMA,
    )


def extra_records(migration, secret: bytes) -> dict[tuple[str, str], pl.DataFrame | Blob]:
    """The records of this module's kinds that a run hands the state."""
    out: dict[tuple[str, str], pl.DataFrame | Blob] = {(SOURCES, ""): source_files(migration)}
    for entity, res in migration.entities.items():
        if res.compared is not None:
            out[(MATCH, entity.value)] = res.compared
            out[(MATCH_IDS, entity.value)] = encoded(match_ids(res))
    if Entity.accounts in migration.entities:  # what earlier batches' children gave the accounts goes
        out[(CHILDREN, Entity.accounts.value)] = pl.DataFrame(schema=CHILDREN_SCHEMA)
    return out


def _with_children(rows: pl.DataFrame, blobs: list[bytes]) -> pl.DataFrame:
    """The state's account rows with the people and deals that the children of earlier incremental batches
    gave them (kind ``children``), as `Against.note_children` gives them this batch's."""
    given = [pl.read_parquet(io.BytesIO(b)) for b in blobs]
    given = [g for g in given if g.height]
    if not given or rows.is_empty() or not {SOURCE, KEY} <= set(rows.columns):
        return rows
    by = (
        pl.concat(given, how="diagonal_relaxed")
        .group_by(SOURCE, KEY)
        .agg(pl.col(c).explode().drop_nulls().unique() for c in TIED)
    )
    added = rows.select(SOURCE, KEY).join(by, on=[SOURCE, KEY], how="left", maintain_order="left")
    return _grown_by(rows, added)


def _stored_rows(conn, entity: Entity) -> pl.DataFrame:
    """The rows of kinds ``match`` and ``match_ids`` of one entity joined, over the full run's table and the
    parts incremental batches added (each part's ``_seq`` is its own run's)."""
    compared = get_blobs(conn, MATCH, entity.value)
    ids = get_blobs(conn, MATCH_IDS, entity.value)
    parts = [_joined(pl.read_parquet(io.BytesIO(c)), pl.read_parquet(io.BytesIO(i))) for c, i in zip(compared, ids)]
    if not parts:
        return pl.DataFrame(schema={EXTERNAL: pl.String})
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")


def _joined(compared: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """The rows matching compared with their golden record's ids, on ``_seq``: both are written in the run's
    row order, the ids for the fewer rows (those written or merged), so the rows of ``compared`` that have ids
    are kept and set beside them, a filter and no join (a join gathers every column of a million rows: 0.7 s).
    Where the orders do not agree, a join."""
    kept = compared.filter(pl.col(SEQ).is_in(ids[SEQ].implode()))
    if kept[SEQ].equals(ids[SEQ]):
        return kept.drop(SEQ).hstack(ids.drop(SEQ))
    return compared.join(ids, on=SEQ, how="inner").drop(SEQ)


# -- what an incremental run finds in the state ---------------------------------------------------------


@dataclass
class Stored:
    """The state as an incremental run needs it."""

    sources: pl.DataFrame
    rows: dict[Entity, pl.DataFrame]  # kind match, per entity
    weights: dict[Entity, dict[str, tuple[list[float], list[float]]]]  # comparison -> (m, u) per level
    matching: dict[Entity, tuple[float, float, float, float]]  # merge, review, match rate, fields rate


def load(path, project) -> Stored:
    """Read what ``--incremental`` needs from the state, or refuse: no state, or one an older version wrote
    (no weights, no rows to match against)."""
    conn = connect(path)
    if conn is None:
        raise MigrateError(
            Problem(
                str(path),
                "--incremental needs the migration state, and there is none yet",
                hint="run without --incremental first: the full run records the state the new rows are matched against",
            )
        )
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM records")} if "records" in tables else set()
        weights: dict[Entity, dict] = {}
        matching: dict[Entity, tuple] = {}
        if "weights" in tables:
            for entity, comp, _level, m, u in conn.execute(
                "SELECT entity, comparison, level, m, u FROM weights ORDER BY entity, comparison, level"
            ):
                ms, us = weights.setdefault(Entity(entity), {}).setdefault(comp, ([], []))
                ms.append(m)
                us.append(u)
            for entity, merge, review, rate, fields_rate in conn.execute(
                "SELECT entity, merge, review, match_rate, fields_rate FROM matching"
            ):
                matching[Entity(entity)] = (merge, review, rate, fields_rate)
        # An entity the full run found no candidate pair for has no weights (nothing to learn them from): its new
        # rows are matched among themselves. A state with no matching at all, or without the rows matching
        # compared, was written by an older crm-migrate.
        if not matching or not {SOURCES, MATCH, MATCH_IDS} <= kinds:
            raise MigrateError(
                Problem(
                    str(path),
                    "the migration state holds no matching weights or no rows to "
                    "match against (an older crm-migrate wrote it)",
                    hint=HINT,
                )
            )
        sources = get_frame(conn, SOURCES, "", SOURCES_SCHEMA)
        rows = {e: _stored_rows(conn, e) for e in project.entities}
        if Entity.accounts in rows:
            rows[Entity.accounts] = _with_children(rows[Entity.accounts], get_blobs(conn, CHILDREN, "accounts"))
    finally:
        conn.close()
    return Stored(sources, rows, weights, matching)


def new_sources(project, stored: Stored, sha256_of) -> list:
    """The project's sources the state has not seen; refused where a source it saw changed or is gone."""
    known = {s: h for s, h in stored.sources.select("source", "sha256").iter_rows()}
    files = {s: f for s, f in stored.sources.select("source", "file").iter_rows()}
    problems, fresh = [], []
    names = {s.name for s in project.sources}
    for source in project.sources:
        if source.name not in known:
            fresh.append(source)
            continue
        try:
            same = sha256_of(source.file) == known[source.name]
        except OSError as exc:
            problems.append(Problem(source.shown_file, f"cannot read the file ({exc.strerror})", hint=HINT))
            continue
        if not same:
            problems.append(
                Problem(
                    source.shown_file,
                    f"source {source.name!r} changed since the state read it: --incremental only adds new sources",
                    hint=HINT,
                )
            )
    for name in sorted(set(known) - names):
        problems.append(
            Problem(
                files[name] or name,
                f"source {name!r}, which the state read, is no longer in the "
                "project: --incremental only adds new sources",
                hint=HINT,
            )
        )
    if problems:
        raise MigrateError(problems)
    if not fresh:
        raise MigrateError(
            Problem(
                project.doc.path,
                "--incremental found no new source: the state has read every source of the project",
                hint="add the new export as a source (a mapping in mappings/), or run without --incremental",
            )
        )
    return fresh


# -- matching new rows against the state ----------------------------------------------------------------


@dataclass
class Against:
    """Handed to `pipeline.build`: the state's rows and weights, and what became of each new row."""

    stored: Stored
    secret: bytes
    outcomes: dict[Entity, pl.DataFrame] = field(default_factory=dict)  # _seq, status, _ext, candidate, p
    # per account row of the state (``_i``, its place in ``stored.rows``): the people (hashed) and deals of the
    # new contacts and opportunities that point at it by its legacy id (`note_children`)
    children: pl.DataFrame | None = None
    # per entity: pairs of the state's records that new rows now give something in common (`_state_merges`)
    ties: dict[Entity, pl.DataFrame] = field(default_factory=dict)

    def note_children(self, contact_parts: list[pl.DataFrame], opportunity_parts: list[pl.DataFrame]) -> None:
        """The new contacts and opportunities that point at an account of the state (by its legacy id in its
        system): their people and deals are that account's too, as a full run on old and new would see them,
        so two records of the state a new contact or deal now ties together are scored again."""
        from crm_migrate.migrate.columns import ROW, SHEET
        from crm_migrate.migrate.features import related_to_accounts

        old = self.stored.rows.get(Entity.accounts)
        parts = [*contact_parts, *opportunity_parts]
        if old is None or old.is_empty() or not parts or not {SYSTEM, key(ID_FIELD)} <= set(old.columns):
            return
        like = parts[0].schema  # no child row is on an account row of the state: those are in its sources
        stub = old.select(
            pl.lit(None, like.get(SOURCE, pl.String)).alias(SOURCE),
            pl.lit(None, like.get(SHEET, pl.String)).alias(SHEET),
            pl.lit(-1, like.get(ROW, pl.Int64)).alias(ROW),
            pl.int_range(pl.len(), dtype=pl.Int64).alias(SEQ),
            SYSTEM,
            key(ID_FIELD),
        )
        found = related_to_accounts(stub, contact_parts, opportunity_parts).select(
            pl.col(SEQ).cast(pl.UInt32).alias("_i"), *TIED
        )
        found = found.filter(pl.any_horizontal(pl.col(c).list.len() > 0 for c in TIED))
        if not found.is_empty():
            self.children = hashed(found, [], self.secret)

    def account_index(self, index: pl.DataFrame) -> pl.DataFrame:
        """Linking children: the accounts of the state by their legacy ids, after this run's own."""
        rows = self.stored.rows.get(Entity.accounts)
        if rows is None or key(ID_FIELD) not in rows.columns or SYSTEM not in rows.columns:
            return index
        old = (
            rows.lazy()
            .filter(pl.col(key(ID_FIELD)).is_not_null())
            .select(
                SYSTEM,
                pl.col(key(ID_FIELD)).alias("_ref"),
                pl.lit(WRITTEN).alias("_a_outcome"),
                pl.lit(None, pl.String).alias("_a_reason"),
                pl.col(EXTERNAL).alias("_a_record"),
                pl.lit(False).alias("_a_none"),
            )
            .unique([SYSTEM, "_ref"], keep="first")
            .collect()
        )
        old = old.join(index.select(SYSTEM, "_ref"), on=[SYSTEM, "_ref"], how="anti")
        return pl.concat([index, old.select(index.columns).cast(index.schema)])

    def resolve(self, frame, entity, fields, settings, decisions=None, related=None, secret=b""):
        """`dedupe.resolve` with the state's rows beside the new ones (see the module)."""
        from crm_migrate.migrate import dedupe

        old = self.stored.rows.get(entity)
        stored = self.stored.weights.get(entity)
        ties_only = entity is Entity.accounts and self.children is not None  # new children, maybe no new account
        if (
            entity not in dedupe.FUZZY
            or not (frame.height or ties_only)
            or old is None
            or old.is_empty()
            or not stored
            or entity not in self.stored.matching
        ):
            labelled, shown, applied = dedupe.resolve(frame, entity, fields, settings, decisions, related, secret)
            self.outcomes[entity] = _alone(labelled)
            return labelled, shown, applied
        if not any(c.startswith("m:") for c in frame.columns):
            frame = dedupe.with_features(frame, entity, fields, related)
        return _resolve_against(self, frame, entity, fields, settings, decisions or [], old, secret)

    def settled(self, entity: Entity, frame: pl.DataFrame) -> pl.DataFrame:
        """The golden records new rows joined take the state's external id (their members are merged into it)."""
        found = self.outcomes.get(entity)
        joined = None if found is None else found.filter(pl.col(EXTERNAL).is_not_null()).select(SEQ, EXTERNAL)
        if joined is None or joined.is_empty():
            return frame
        mapping = (
            frame.lazy()
            .filter(pl.col(OUTCOME) == WRITTEN)
            .select(SEQ, RECORD_ID)
            .collect()
            .join(joined, on=SEQ, how="inner")
        )
        if mapping.is_empty():
            return frame
        return renamed(frame, dict(mapping.select(RECORD_ID, EXTERNAL).iter_rows()))

    def counts(self) -> dict[str, dict[str, int]]:
        """Per entity, the new rows that joined a record of the state, started a new one, or went to review."""
        out = {}
        for entity, found in self.outcomes.items():
            tally = dict(found.group_by("status").len().iter_rows())
            out[entity.value] = {s: int(tally.get(s, 0)) for s in (JOINED, NEW, REVIEW)}
        return out

    def review(self, migration) -> pl.DataFrame:
        """review/incremental.csv: each new row sent to review, its record of this run and the state's record
        it may be (no values: the lineage and the state have them)."""
        from crm_migrate.migrate.columns import ROW, SHEET

        parts = []
        for entity, found in self.outcomes.items():
            picked = found.filter(pl.col("status") == REVIEW)
            if picked.is_empty():
                continue
            frame = migration.entities[entity].frame.select(SEQ, SOURCE, SHEET, ROW, RECORD_ID)
            parts.append(
                picked.join(frame, on=SEQ, how="inner").select(
                    pl.col(SOURCE).alias("source"),
                    pl.col(SHEET).alias("sheet"),
                    pl.col(ROW).alias("row"),
                    pl.lit(entity.value).alias("entity"),
                    pl.col(RECORD_ID).alias("record_id"),
                    pl.col("candidate").alias("state_record"),
                    pl.col("probability").round(4),
                    pl.col("also").alias("also_state_records"),
                )
            )
        schema = {
            "source": pl.String,
            "sheet": pl.String,
            "row": pl.Int64,
            "entity": pl.String,
            "record_id": pl.String,
            "state_record": pl.String,
            "probability": pl.Float64,
            "also_state_records": pl.String,
        }
        return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema)

    def state_merges(self) -> pl.DataFrame:
        """review/state_merges.csv: pairs of the state's records that the new rows (a contact, an opportunity
        now in common) make likely one, with the probability a full run on old and new gives their likeliest
        pair of rows; ``same`` where it is at or above the merge threshold (a full run would have merged them).
        Only a steward merges records already in the CRM."""
        schema: dict[Any, Any] = {
            "entity": pl.String,
            "state_record": pl.String,
            "other_state_record": pl.String,
            "probability": pl.Float64,
            "same": pl.Boolean,
            "in_common": pl.String,
        }
        parts = [t.select(pl.lit(e.value).alias("entity"), *list(schema)[1:]) for e, t in self.ties.items()]
        return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def _ties(old: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """Pairs of the state's rows (``a`` < ``b``, places in ``old``), of two different records, that a value of a
    new child (``children``: a contact's phone or email, a deal) not on its account's row before now gives in
    common. A value on more than ``MAX_BLOCK`` rows (a switchboard, a placeholder) ties none, as it blocks none."""
    from crm_migrate.migrate.blocking import MAX_BLOCK

    found = []
    for c in TIED:
        if c not in old.columns or c not in children.columns:
            continue
        had = old[c].gather(children["_i"]).fill_null([])
        fresh = (
            pl.DataFrame({"_i": children["_i"], "_v": children[c], "_had": had})
            .select("_i", pl.col("_v").list.set_difference("_had"))
            .explode("_v")
            .drop_nulls("_v")
        )
        if fresh.is_empty():
            continue
        holders = (
            old.lazy()
            .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_j"), pl.col(c).alias("_v"))
            .explode("_v")
            .join(fresh.lazy().select("_v").unique(), on="_v", how="semi")
            .collect()
        )
        holders = pl.concat([holders, fresh.rename({"_i": "_j"})]).unique()
        holders = holders.filter(pl.len().over("_v") <= MAX_BLOCK)
        found.append(
            fresh.join(holders, on="_v")
            .filter(pl.col("_i") != pl.col("_j"))
            .select(pl.min_horizontal("_i", "_j").alias("a"), pl.max_horizontal("_i", "_j").alias("b"))
        )
    if not found:
        return pl.DataFrame(schema={"a": pl.UInt32, "b": pl.UInt32})
    pairs = pl.concat(found).unique()
    ext = old[EXTERNAL]
    return pairs.filter(pl.Series(ext.gather(pairs["a"]) != ext.gather(pairs["b"])).fill_null(True)).sort("a", "b")


def _grown(near: pl.DataFrame, rows: pl.Series, children: pl.DataFrame) -> pl.DataFrame:
    """The state's rows brought in (``near``, at places ``rows``) with the new children's people and deals added
    to the rows they point at."""
    return _grown_by(
        near, pl.DataFrame({"_i": rows.cast(pl.UInt32)}).join(children, on="_i", how="left", maintain_order="left")
    )


def _grown_by(rows: pl.DataFrame, added: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with the lists of ``added`` (row for row) added to their people and deals."""
    columns = [c for c in TIED if c in rows.columns and c in added.columns]
    grown = rows.with_columns(added[c].alias(f"_add{c}") for c in columns).with_columns(
        pl.when(pl.col(f"_add{c}").list.len().fill_null(0) == 0)
        .then(pl.col(c))
        .otherwise(pl.concat_list(pl.col(c).fill_null([]), pl.col(f"_add{c}")).list.unique(maintain_order=True))
        .alias(c)
        for c in columns
    )
    return grown.drop(f"_add{c}" for c in columns)


def _state_merges(scored: pl.DataFrame, combined: pl.DataFrame, n: int, merge: float, review: float) -> pl.DataFrame:
    """Per pair of the state's records (``state_record`` < ``other_state_record``) whose rows a new child ties
    (the scored pairs of two old rows), in the review band or above: the likeliest pair's probability, whether
    a full run would merge them (``same``), and what they now have in common."""
    ext = combined[EXTERNAL]
    old = scored.filter((pl.col("l") >= n) & (pl.col("probability") >= review))
    common = [
        pl.when(pl.col(f"level:{name}") >= 1).then(pl.lit(label))
        for name, label in (("contacts", "a contact"), ("opportunities", "an opportunity"))
        if f"level:{name}" in old.columns
    ]
    pairs = old.select(
        pl.Series("_a", ext.gather(old["l"])),
        pl.Series("_b", ext.gather(old["r"])),
        "probability",
        (pl.concat_str(common, separator=", ", ignore_nulls=True) if common else pl.lit(None, pl.String)).alias(
            "in_common"
        ),
    ).filter(pl.col("_a") != pl.col("_b"))
    return (
        pairs.select(
            pl.min_horizontal("_a", "_b").alias("state_record"),
            pl.max_horizontal("_a", "_b").alias("other_state_record"),
            "probability",
            "in_common",
        )
        .sort("probability", descending=True)
        .unique(["state_record", "other_state_record"], keep="first")
        .with_columns(pl.col("probability").round(4), (pl.col("probability") >= merge).alias("same"))
        .sort("state_record", "other_state_record")
    )


def _alone(labelled: pl.DataFrame) -> pl.DataFrame:
    """Outcomes where nothing of the state is compared (activities, or an entity the state has no rows of)."""
    return labelled.filter(pl.col(OUTCOME).is_null()).select(
        SEQ,
        pl.lit(NEW).alias("status"),
        pl.lit(None, pl.String).alias(EXTERNAL),
        pl.lit(None, pl.String).alias("candidate"),
        pl.lit(None, pl.Float64).alias("probability"),
        pl.lit(None, pl.String).alias("also"),
    )


def _values(frame: pl.LazyFrame, expr: pl.Expr, orders: tuple[pl.Expr, ...] = ()) -> pl.LazyFrame:
    """A blocking key's values per row (``_i``, ``_v``), a list key's exploded, with the row's value of each of
    the key's orders (``_o0``, ...)."""
    out = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"),
        expr.alias("_v"),
        *(o.alias(f"_o{j}") for j, o in enumerate(orders)),
    )
    if isinstance(out.collect_schema()["_v"], pl.List):
        out = out.explode("_v")
    return out.drop_nulls("_v")


def _candidates(new: pl.DataFrame, old: pl.DataFrame, keys, also: pl.Series | None = None) -> pl.Series:
    """The old rows a full run on old and new would pair with a live new row: those sharing a value of some
    blocking key with it, one join per key, in the blocks `blocking.candidate_pairs` pairs (a block of more
    records of the whole data, old and new, than it pairs is skipped there, so its old rows are not brought in
    here); and of a block it sub-blocks (a person's key, more than ``WIDE`` records), only the old rows within
    ``WINDOW`` places of a new row in one of the key's orders, the only ones it pairs a new row with (at 1M
    contacts, a tenth of the rows sharing a block with a new one). Their places in ``old``, sorted, with those
    of ``also``."""
    from crm_migrate.migrate.blocking import MAX_BLOCK, WIDE, WINDOW, common_block

    live = new.filter(pl.col(OUTCOME).is_null())
    records = live.height + old.height
    found: list[pl.DataFrame] = []  # one key at a time: its values of the old rows exist until reduced to these
    for bk in keys:
        try:
            wanted = _values(live.lazy(), bk.expr, bk.order)
            had = _values(old.lazy(), bk.expr, bk.order)
            if had.collect_schema()["_v"] != wanted.collect_schema()["_v"]:
                continue
        except pl.exceptions.ColumnNotFoundError:
            continue
        near = had.join(wanted.select("_v").unique(), on="_v", how="semi")
        limit = common_block(records) if bk.order else MAX_BLOCK  # as `blocking.candidate_pairs` sizes them
        sizes = (
            pl.concat([wanted, near]).group_by("_v").agg(pl.col("_i").len().alias("_n")).filter(pl.col("_n") <= limit)
        )
        if not bk.order:
            found.append(near.join(sizes, on="_v", how="semi").select("_i").collect())
            continue
        # made once (the old rows' values and orders), then read once per order
        both = (
            pl.concat([wanted.with_columns(pl.lit(True).alias("_new")), near.with_columns(pl.lit(False).alias("_new"))])
            .join(sizes, on="_v", how="inner")
            .collect()
        )
        found.append(both.filter(~pl.col("_new") & (pl.col("_n") <= WIDE)).select("_i"))
        wide = both.filter(pl.col("_n") > WIDE)
        close = pl.any_horizontal([pl.col("_new").shift(d).over("_v") for d in range(-WINDOW, WINDOW + 1) if d])
        for j in range(len(bk.order)):
            # sorted as candidate_pairs sorts a block: by the order, then by row (the new rows come first)
            ranked = wide.sort("_v", f"_o{j}", "_new", "_i", descending=[False, False, True, False])
            found.append(ranked.filter(~pl.col("_new") & close.fill_null(False)).select("_i"))
    if also is not None:
        found.append(pl.DataFrame({"_i": also.cast(pl.UInt32)}))
    if not found:
        return pl.Series("_i", [], pl.UInt32)
    return pl.concat(found).unique()["_i"].sort()


def _resolve_against(
    against: Against,
    frame: pl.DataFrame,
    entity: Entity,
    fields: list[FieldSpec],
    settings,
    decisions,
    old: pl.DataFrame,
    secret: bytes,
):
    from crm_migrate.migrate import match as M
    from crm_migrate.migrate.blocking import blocking_keys, candidate_pairs
    from crm_migrate.migrate.clustering import exclusive_codes
    from crm_migrate.migrate.comparisons import comparisons_for
    from crm_migrate.migrate.decisions import apply
    from crm_migrate.migrate.dedupe import _must_link, exclusive_columns

    stored = against.stored.weights[entity]
    merge, review, rate, fields_rate = against.stored.matching[entity]
    settings = replace(settings, merge=merge, review=review)
    told = {name for name, w in settings.weights.items() if w.ignore}
    fields = [f for f in fields if f.name not in told]
    linked = entity is not Entity.accounts
    within = ACCOUNT if entity in M.WITHIN_ACCOUNT and ACCOUNT in frame.columns else None
    n = frame.height
    compared = compared_by(frame, entity, fields)
    new = hashed(
        compared.with_columns(frame[OUTCOME], *([frame[ACCOUNT]] if ACCOUNT in frame.columns else [])),
        fields,
        against.secret,
    )
    new = new.with_columns(pl.lit(None, pl.String).alias(EXTERNAL))
    old = old.with_columns(
        pl.lit(None, pl.String).alias(OUTCOME),
        *(pl.lit(None, dtype).alias(c) for c, dtype in new.schema.items() if c not in old.columns and c != OUTCOME),
    )
    schema: dict[Any, Any] = {
        c: (old.schema[c] if t == pl.Null and c in old.columns else t) for c, t in new.schema.items()
    }
    new = new.cast(schema)
    old = old.select(new.columns).cast({c: t for c, t in schema.items() if old.schema[c] != t})
    children = against.children if entity is Entity.accounts else None
    ties = _ties(old, children) if children is not None else None
    also = None if ties is None else pl.concat([ties["a"], ties["b"]]).unique()
    rows = _candidates(new, old, blocking_keys(fields, new, entity, linked), also)
    near = old[rows] if children is None else _grown(old[rows], rows, children)
    combined = pl.concat([new, near])
    comparisons = [
        c
        for c in comparisons_for(fields, combined, entity, linked)
        if c.name in stored and len(stored[c.name][0]) == c.levels and not (within and c.columns == (within,))
    ]
    # (l < r) at least one new row: old rows were matched before
    pairs, _, _, _ = candidate_pairs(combined, blocking_keys(fields, combined, entity, linked), within, new_rows=n)
    if ties is not None and ties.height:  # two of the state's rows a new child ties: scored again, as a full run would
        places = rows.cast(pl.UInt32)
        again = pl.DataFrame(
            {"l": places.search_sorted(ties["a"]) + n, "r": places.search_sorted(ties["b"]) + n},
            schema={"l": pl.UInt32, "r": pl.UInt32},
        )
        pairs = pl.concat([pairs.select("l", "r").cast(pl.UInt32), again])
    comparisons = [
        replace(c, unique=False) if c.name in settings.weights and settings.weights[c.name].u else c
        for c in comparisons
    ]
    if pairs.height and comparisons:
        levels = M._levels(combined, pairs, comparisons, {})
        m = [np.array(stored[c.name][0], dtype=float) for c in comparisons]
        u = [np.array(stored[c.name][1], dtype=float) for c in comparisons]
        # a value's share among all the rows, the state's included, not among the few paired here
        held = {
            c.frequency: new[c.frequency].drop_nulls().len()
            + (old[c.frequency].drop_nulls().len() if c.frequency in old.columns else 0)
            for c in comparisons
            if c.frequency
        }
        shares = {
            j: M._value_share(combined, pairs, c.frequency, held[c.frequency])
            for j, c in enumerate(comparisons)
            if c.frequency
        }
        total = np.log2(rate / (1 - rate)) + M._weight_total(levels, m, u, comparisons, shares, fields_rate)
        probability = 1 / (1 + np.power(2.0, -np.clip(total, -60, 60)))
        doubts = {c.name: M._by_chunks(combined, pairs, {}, c.doubt) for c in comparisons if c.doubt is not None}
        probability = M._guards(probability, levels, comparisons, settings, doubts)
        scored = pairs.with_columns(
            pl.Series("probability", probability),
            pl.Series("weight", total),
            *[pl.Series(f"doubt:{name}", d) for name, d in doubts.items()],
            *[pl.Series(f"level:{c.name}", levels[:, j]) for j, c in enumerate(comparisons)],
            *[
                pl.Series(f"weight:{c.name}", M._weight_column(levels, j, m, u, comparisons, shares, fields_rate))
                for j, c in enumerate(comparisons)
            ],
        )
        result = M.MatchResult(
            scored,
            comparisons,
            {c.name: list(stored[c.name][0]) for c in comparisons},
            {c.name: list(stored[c.name][1]) for c in comparisons},
            rate,
            scored=scored.height,
            histogram=M.histogram(probability),
            fields_rate=fields_rate,
        )
    else:
        result = M.MatchResult(
            pairs.with_columns(pl.lit(0.0).alias("probability"), pl.lit(0.0).alias("weight")), comparisons
        )
    identities = [key(s.name) for s in fields if s.type.name in ("uscc", "id_card") and key(s.name) in combined.columns]
    applied = apply(frame, decisions, fields, secret)
    labels = M.clusters(
        combined.height,
        result,
        settings,
        must_link=np.concatenate([_must_link(combined, [KEY]), _must_link(combined, [EXTERNAL])]),
        steward_links=applied.links,
        vetoes=applied.vetoes,
        identity_links=_must_link(combined, identities),
        exclusive=exclusive_codes(combined, exclusive_columns(combined, entity, fields)),
    )
    outcomes = _outcomes(combined, labels, result.pairs, n, review)
    against.outcomes[entity] = outcomes
    if ties is not None and ties.height:
        against.ties[entity] = _state_merges(result.pairs, combined, n, merge, review)
    labelled = frame.join(outcomes.select(SEQ, LABEL), on=SEQ, how="left", maintain_order="left")
    own = result.pairs.filter(pl.col("r") < n)  # the pairs of two new rows: the review workbook's
    shown = M.keep_shown(replace(result, pairs=own), labels[:n], settings) if comparisons else None
    return labelled, shown, applied


def _outcomes(combined: pl.DataFrame, labels: np.ndarray, pairs: pl.DataFrame, n: int, review: float) -> pl.DataFrame:
    """Per live new row: its label among the new rows, and whether it joined a record of the state (its cluster
    holds the rows of exactly one), starts a new one, or goes to review: its most likely record of the state
    scored in the review band (it starts a new one); or its cluster holds the rows of two records of the state
    or more, which only a steward can merge in the CRM: it joins the one its new rows are most like (their
    likeliest pair within the cluster) rather than start a third, and ``also`` names the others."""
    ext = combined[EXTERNAL]
    olds = (
        pl.DataFrame({"_c": labels[n:], EXTERNAL: ext.slice(n)})
        .group_by("_c")
        .agg(pl.col(EXTERNAL).n_unique().alias("_k"), pl.col(EXTERNAL).min(), pl.col(EXTERNAL).unique().alias("_all"))
    )
    cross = pairs.filter((pl.col("r") >= n) & (pl.col("l") < n))  # a new row and one of the state
    left, right = cross["l"].to_numpy(), cross["r"].to_numpy()
    within = labels[left] == labels[right]
    into = (
        pl.DataFrame(
            {
                "_c": labels[left[within]],
                "_into": ext.gather(right[within]),
                "_p": cross["probability"].filter(pl.Series(within)),
            }
        )
        .group_by("_c")
        .agg(pl.col("_into").sort_by("_p", descending=True).first())
    )
    rows = (
        pl.DataFrame(
            {
                "_i": np.arange(n, dtype=np.int64),
                "_c": labels[:n],
                SEQ: combined[SEQ].slice(0, n),
                "_live": combined[OUTCOME].slice(0, n).is_null(),
            }
        )
        .filter(pl.col("_live"))
        .join(olds, on="_c", how="left", maintain_order="left")
    )
    positions = pl.DataFrame({"r": np.arange(combined.height, dtype=np.uint32), "candidate": ext})
    best = (
        cross.select(pl.col("l").cast(pl.Int64).alias("_i"), "r", "probability")
        .sort("probability", descending=True)
        .unique("_i", keep="first")
        .join(positions, on="r", how="left")
    )
    rows = rows.join(best.select("_i", "candidate", "probability"), on="_i", how="left", maintain_order="left")
    rows = rows.join(into, on="_c", how="left", maintain_order="left")
    joined = pl.col("_k") == 1
    # A cluster that holds two records of the state or more joins the likeliest (the others are listed).
    split = (pl.col("_k") > 1).fill_null(False)
    chosen = pl.coalesce("_into", EXTERNAL)
    status = (
        pl.when(joined)
        .then(pl.lit(JOINED))
        .when(split | (pl.col("probability") >= review).fill_null(False))
        .then(pl.lit(REVIEW))
        .otherwise(pl.lit(NEW))
    )
    return rows.select(
        SEQ,
        status.alias("status"),
        pl.when(joined).then(pl.col(EXTERNAL)).when(split).then(chosen).alias(EXTERNAL),
        pl.when(split).then(chosen).otherwise(pl.col("candidate")).alias("candidate"),
        "probability",
        pl.when(split)
        .then(pl.col("_all").list.set_difference(pl.concat_list(chosen)).list.sort().list.join(";"))
        .alias("also"),
        pl.col(SEQ).min().over("_c").alias(LABEL),
    )


def added_to(record, against: Against):
    """The state's record of an incremental batch: its rows, and the rows matching compared, as parts the batch
    adds to the state's tables (`state.put_frame`: the million rows there are neither read nor rewritten), the
    golden tables of the entities it sent records of, the sources it read added to the state's, and the weights
    and thresholds of the full run kept as they are."""
    extra: dict = {}
    for (kind, entity), frame in record.extra.items():
        if kind == SOURCES:
            extra[(kind, entity)] = pl.concat([against.stored.sources, frame], how="diagonal_relaxed")
        elif kind != CHILDREN:
            extra[(kind, part_of(entity, record.batch))] = frame
    if against.children is not None:  # what this batch's children gave the state's accounts, for later batches
        old, at = against.stored.rows[Entity.accounts], against.children["_i"]
        given = pl.DataFrame({SOURCE: old[SOURCE].gather(at), KEY: old[KEY].gather(at)}).hstack(
            against.children.drop("_i")
        )
        extra[(CHILDREN, part_of(Entity.accounts.value, record.batch))] = given.cast(CHILDREN_SCHEMA)
    # Its golden tables are those of the entities it sent records of (`delta.to_record`, as `run` asks): an entity
    # it sent nothing of keeps its table as it is (an incremental run withdraws nothing).
    return replace(record, rows_part=part_of("", record.batch), matching=[], weights=[], extra=extra)
