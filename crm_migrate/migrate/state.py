"""The migration state: one SQLite file that remembers what every run wrote, so that later runs (a wave, the
changes after go-live) write only what is new or changed, and link to parents written before.

Where: ``PROJECT/state/migration.sqlite`` (``options.state.file``, or ``run --since FILE``), never inside the
output folder, which every run replaces; its folder 0700, the file 0600. Written by `run` only, in one
transaction at the end of a run that succeeded: a failed or interrupted run leaves it as it was.

Tables (schema version 2, in ``schema_version``; a newer or unknown file is refused, an older one migrated):

    schema_version  version
    meta            key, value: created_at, tool version, the project's name, the secret's key id
    batches         batch, created_at, kind (full | delta), wave, out, files (JSON: path, rows, sha256),
                    counts (JSON: per entity new, changed, unchanged, withdrawn, held, sent)
    verifications   batch, entity, verified_at, export_file, export_sha256, sent, exported, matched, missing,
                    extra, earlier, differences, clean
    matching        entity, batch, merge, review, match_rate, fields_rate, records: the thresholds and prior of
                    the run that last matched the whole data
    weights         entity, comparison, level, label, m, u, weight: its m and u per comparison level
    records         kind, entity, rows, data: the per-record tables, each stored as one Parquet blob (a million
                    rows inserted one by one would cost seconds; a blob costs a fraction of one):
                    kind 'golden', per entity: external_id, fingerprint, wave, first_batch, batch, status
                    (live | withdrawn), withdrawn_batch, then the values matching needs (`delta.match_values`);
                    kind 'rows' (entity ''): source, sheet, row, entity, record_id, outcome, fingerprint, wave,
                    batch: every source row of the last run and the golden record it is behind;
                    kind 'sources' (entity ''): source, file, sha256, rows of every source read;
                    kind 'match', per entity: what matching compared of every live row (by _seq), identifiers
                    as keyed hashes, and kind 'match_ids': the golden record (_ext) and account of each row
                    written or merged (`incremental`: new rows are matched against the two joined).
                    An entity ``ENTITY/BATCH`` is a part: the rows an incremental batch added to the table
                    ENTITY (its rows, and its rows' match and match_ids), read after it; a full or delta run
                    stores the whole table again and drops its parts.
    watches         watch, watched_at, export_sha256 (JSON: entity -> sha256 of its export), figures (JSON: the
                    headline figures of `crm-migrate watch`, which the next watch compares with). Version 2.

Fingerprints and the hashes of identifiers are HMAC-SHA256 under keys derived from the project secret
(`crm_migrate.secret`), so the state confirms nothing about a customer to anyone without the secret. Names,
addresses and the other values fuzzy matching compares are kept in clear, as the import files hold them:
protect the file as ``out/import``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.secret import key_id
from crm_migrate.version import __version__

SCHEMA_VERSION = 2
FIRST_VERSION = 1  # the oldest schema this version can migrate from
GOLDEN, ROWS = "golden", "rows"
PART = "/"  # in `records.entity`: ENTITY/BATCH names the rows a batch added to the table (`put_frame`)
LIVE, WITHDRAWN = "live", "withdrawn"
GOLDEN_SCHEMA = {
    "external_id": pl.String,
    "fingerprint": pl.String,
    "wave": pl.String,
    "first_batch": pl.Int64,
    "batch": pl.Int64,
    "status": pl.String,
    "withdrawn_batch": pl.Int64,
}
ROWS_SCHEMA = {
    "source": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
    "entity": pl.String,
    "record_id": pl.String,
    "outcome": pl.String,
    "fingerprint": pl.String,
    "wave": pl.String,
    "batch": pl.Int64,
}

_TABLES = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE batches (batch INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, wave TEXT,
                      out TEXT, files TEXT NOT NULL, counts TEXT NOT NULL, tool_version TEXT, project_sha256 TEXT);
CREATE TABLE verifications (batch INTEGER NOT NULL, entity TEXT NOT NULL, verified_at TEXT NOT NULL,
                            export_file TEXT, export_sha256 TEXT, sent INTEGER, exported INTEGER, matched INTEGER,
                            missing INTEGER, extra INTEGER, earlier INTEGER, differences INTEGER, clean INTEGER);
CREATE TABLE matching (entity TEXT PRIMARY KEY, batch INTEGER, merge REAL, review REAL, match_rate REAL,
                       fields_rate REAL, records INTEGER);
CREATE TABLE weights (entity TEXT NOT NULL, comparison TEXT NOT NULL, level INTEGER NOT NULL, label TEXT,
                      m REAL, u REAL, weight REAL, PRIMARY KEY (entity, comparison, level));
CREATE TABLE records (kind TEXT NOT NULL, entity TEXT NOT NULL, rows INTEGER NOT NULL, data BLOB NOT NULL,
                      PRIMARY KEY (kind, entity));
"""
_WATCHES = """
CREATE TABLE watches (watch INTEGER PRIMARY KEY, watched_at TEXT NOT NULL, export_sha256 TEXT NOT NULL,
                      figures TEXT NOT NULL)"""
_TABLES += _WATCHES + ";"


def _add_watches(conn: sqlite3.Connection) -> None:
    """1 -> 2: the watches table (each `crm-migrate watch` of the new CRM's export, for the next one's trend)."""
    conn.execute(_WATCHES)


MIGRATIONS: dict[int, object] = {1: _add_watches}  # version -> function(connection) that brings it to version + 1


def _refused(path: Path, message: str, hint: str) -> MigrateError:
    return MigrateError(Problem(str(path), message, hint=hint))


# -- keys ----------------------------------------------------------------------------------------------


def derived_key(secret: bytes, purpose: str) -> str:
    """A key of its own for each use of the project secret in the state (fingerprints, identifiers), as hex."""
    return hmac.new(secret, f"crm-migrate state {purpose}".encode(), hashlib.sha256).hexdigest()


def _hashing():
    try:
        import polars_hash
    except ImportError:  # pragma: no cover - a dependency of the package
        raise MigrateError(
            Problem(
                "polars-hash",
                "the migration state needs the polars-hash package",
                hint="pip install polars-hash, or set options.state.enabled: false",
            )
        ) from None
    return polars_hash


def row_fingerprints(frame: pl.DataFrame, columns: list[str], secret: bytes) -> pl.Series:
    """Per row, a keyed fingerprint of its values in ``columns`` (nulls and column boundaries encoded, so
    ("ab", "c") and ("a", "bc") differ): 32 hex digits of HMAC-SHA256, computed over the whole frame at once."""
    plh = _hashing()
    if not columns:
        return pl.Series("fingerprint", [None] * frame.height, pl.String)
    key = derived_key(secret, "fingerprints")
    return frame.select(
        plh.hash_rows([pl.col(c).cast(pl.String) for c in columns])
        .chash.hmac_sha256(key=key)
        .str.slice(0, 32)
        .alias("fingerprint")
    )["fingerprint"]


def identifier_hash(values: pl.Expr | str, secret: bytes) -> pl.Expr:
    """The keyed hash an exact identifier (a mobile, an email, an ID number, a credit code) is kept as in the
    state: equal values give equal hashes, and nobody without the secret can tell which value gave one. Item
    matching compares a new record's cleaned value by this same expression."""
    plh = _hashing()
    expr = pl.col(values) if isinstance(values, str) else values
    return plh.CryptographicHashingNameSpace(expr).hmac_sha256(key=derived_key(secret, "identifiers")).str.slice(0, 32)


# -- the file -------------------------------------------------------------------------------------------


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection | None:
    """The state's connection, its schema checked (and an older one migrated); None where there is no state
    and ``create`` is false. With ``create``, a missing file is made (0600, its folder 0700) with no tables:
    `recording` creates them in the transaction that records the first batch."""
    path = Path(path)
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        if not create:
            return None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        return _open(path)
    if path.is_dir():
        raise _refused(path, "the state file is a folder", "point options.state.file (or --since) at a file")
    conn = _open(path)
    try:
        version = _version(conn, path)
        if version > SCHEMA_VERSION:
            raise _refused(
                path,
                f"the state was written by a newer crm-migrate (schema {version}; this version "
                f"reads up to {SCHEMA_VERSION})",
                "upgrade crm-migrate to read it; do not start a new "
                "state instead, or the batches it remembers are lost",
            )
        if version < FIRST_VERSION:
            raise _refused(
                path,
                f"the state's schema {version} is older than any this version can migrate (from {FIRST_VERSION})",
                "export it with the crm-migrate that wrote it, then "
                "'crm-migrate state PROJECT reset --yes' and 'run --full' to start a new one",
            )
        while version < SCHEMA_VERSION:
            with conn:
                MIGRATIONS[version](conn)  # type: ignore[operator]
                conn.execute("UPDATE schema_version SET version = ?", (version + 1,))
            version += 1
    except BaseException:
        conn.close()
        raise
    return conn


def _open(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)  # transactions are begun explicitly
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise _refused(path, f"cannot open the state: {exc}", "check the file and its folder's permissions") from None
    return conn


def _create_tables(conn: sqlite3.Connection) -> None:
    """The schema, inside the caller's transaction (executescript would commit it first)."""
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("created_at", _now()), ("created_by", f"crm-migrate {__version__}")]
    )


def _is_new(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


def _version(conn: sqlite3.Connection, path: Path) -> int:
    try:
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
    except sqlite3.DatabaseError as exc:
        known = "no such table" in str(exc)
        raise _refused(
            path,
            "not a crm-migrate state" + ("" if known else f" ({exc})"),
            "point options.state.file (or --since) at the state a run wrote, or move this file away",
        ) from None
    if len(rows) != 1 or not isinstance(rows[0][0], int):
        raise _refused(
            path,
            "the state's schema_version is damaged (it must hold one version number)",
            "restore the file from a backup",
        )
    return rows[0][0]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Blob:
    """A per-record table already encoded as the state stores it (`encoded`): a run that must free a large
    frame before its write stage keeps these bytes instead, a fraction of the frame's memory."""

    rows: int
    data: bytes

    @property
    def height(self) -> int:
        """The rows of the table, as a frame's ``height``."""
        return self.rows


def encoded(frame: pl.DataFrame) -> Blob:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return Blob(frame.height, buffer.getvalue())


def streamed(frame: pl.LazyFrame, rows: int) -> Blob:
    """`encoded` for a lazy frame of ``rows`` rows, run by the streaming engine into the encoding: what the
    query computes is held a slice at a time, never whole."""
    buffer = io.BytesIO()
    frame.sink_parquet(buffer, compression="zstd", statistics=False)
    return Blob(rows, buffer.getvalue())


def put_frame(conn: sqlite3.Connection, kind: str, entity: str, frame: pl.DataFrame | Blob) -> None:
    """Store a per-record table. ``entity`` may name a part, ``ENTITY/BATCH``: rows a batch added to the table
    (an incremental run appends its new rows so, instead of rewriting a million old ones); storing the table
    itself replaces it and drops its parts."""
    blob = frame if isinstance(frame, Blob) else encoded(frame)
    if PART not in entity:
        conn.execute(
            "DELETE FROM records WHERE kind = ? AND substr(entity, 1, ?) = ?", (kind, len(entity) + 1, entity + PART)
        )
    conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", (kind, entity, blob.rows, blob.data))


def part_of(entity: str, batch: int) -> str:
    """The name of the part of a table (`put_frame`) that ``batch`` added."""
    return f"{entity}{PART}{batch}"


def get_blobs(conn: sqlite3.Connection, kind: str, entity: str) -> list[bytes]:
    """The stored table and its parts, in the order their batches added them."""
    found = conn.execute(
        "SELECT entity, data FROM records WHERE kind = ? AND (entity = ? OR substr(entity, 1, ?) = ?)",
        (kind, entity, len(entity) + 1, entity + PART),
    ).fetchall()
    order = {name: -1 if name == entity else int(name[len(entity) + 1 :] or 0) for name, _ in found}
    return [data for name, data in sorted(found, key=lambda f: order[f[0]])]


def get_frame(
    conn: sqlite3.Connection, kind: str, entity: str, schema: dict, columns: list[str] | None = None
) -> pl.DataFrame:
    """A per-record table as stored, its parts (`put_frame`) after it."""
    blobs = get_blobs(conn, kind, entity)
    if not blobs:
        empty = pl.DataFrame(schema=schema)
        return empty.select(columns) if columns else empty
    frames = [pl.read_parquet(io.BytesIO(b), columns=columns) for b in blobs]
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


# -- what a run compares against ------------------------------------------------------------------------


@dataclass
class Snapshot:
    """The state as a run found it: what earlier batches wrote."""

    path: Path
    exists: bool
    last_batch: int = 0
    key_id: str | None = None
    golden: dict[Entity, pl.DataFrame] = field(default_factory=dict)  # GOLDEN_SCHEMA columns, per entity
    rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ROWS_SCHEMA))
    waves_run: set[str] = field(default_factory=set)  # waves some batch wrote

    @property
    def batch(self) -> int:
        """The number the run's batch gets."""
        return self.last_batch + 1

    def records(self, entity: Entity) -> pl.DataFrame:
        return self.golden.get(entity, pl.DataFrame(schema=GOLDEN_SCHEMA))


def snapshot(path: Path, secret: bytes, rows: bool = True) -> Snapshot:
    """Read the state (without creating it): its batches, its golden records' ids and fingerprints, its
    rows (not with ``rows`` false: an incremental run neither keeps the state's ids by them nor looks for rows
    gone). A state keyed under another project secret is refused: its fingerprints would all differ."""
    conn = connect(path)
    if conn is None:
        return Snapshot(Path(path), False)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        mine = key_id(secret)
        if meta.get("key_id") not in (None, mine):
            raise _refused(
                path,
                f"the state was written under another project secret (key {meta['key_id']}, "
                f"this project's is {mine}): its fingerprints cannot be compared",
                "restore the project's .crm-migrate/secret from a backup; or start a new state with "
                "'crm-migrate state PROJECT reset --yes' and run --full",
            )
        last = conn.execute("SELECT COALESCE(MAX(batch), 0) FROM batches").fetchone()[0]
        waves = {w for (w,) in conn.execute("SELECT DISTINCT wave FROM batches WHERE wave IS NOT NULL")}
        golden = {e: get_frame(conn, GOLDEN, e.value, GOLDEN_SCHEMA, list(GOLDEN_SCHEMA)) for e in Entity}
        wanted = ["source", "entity", "record_id", "fingerprint"]
        table = (
            get_frame(conn, ROWS, "", ROWS_SCHEMA, wanted) if rows else pl.DataFrame(schema=ROWS_SCHEMA).select(wanted)
        )
    finally:
        conn.close()
    return Snapshot(Path(path), True, last, meta.get("key_id"), golden, table, waves)


# -- recording a batch ----------------------------------------------------------------------------------


@dataclass
class Record:
    """What a run hands the state to remember, all of it in one transaction."""

    batch: int
    kind: str
    wave: str | None
    out: str
    files: list[dict]
    counts: dict[str, dict[str, int]]
    golden: dict[Entity, pl.DataFrame | Blob]  # the whole new golden table per entity (GOLDEN_SCHEMA + values)
    rows: pl.DataFrame | Blob  # ROWS_SCHEMA
    matching: list[tuple]  # (entity, merge, review, match_rate, fields_rate, records)
    weights: list[tuple]  # (entity, comparison, level, label, m, u, weight)
    project_sha256: str = ""
    project: str = ""  # the project's name
    extra: dict[tuple[str, str], pl.DataFrame | Blob] = field(default_factory=dict)  # (kind, entity) -> records of
    # another kind: the sources' files and the rows matching compared (`incremental`)
    rows_part: str = ""  # "": ``rows`` are all the rows (they replace the table); "/BATCH": rows added to it


@contextlib.contextmanager
def recording(path: Path, record: Record, secret: bytes) -> Iterator[None]:
    """Write ``record`` inside one transaction that commits when the block (which puts the output tree in
    place) succeeds, and rolls back when it fails: the state never says a batch went out that did not."""
    existed = Path(path).is_file() and Path(path).stat().st_size > 0
    conn = connect(path, create=True)
    assert conn is not None
    try:
        conn.execute("BEGIN IMMEDIATE")  # a second run recording into this state waits, then sees our batch
        if _is_new(conn):
            _create_tables(conn)
        last = conn.execute("SELECT COALESCE(MAX(batch), 0) FROM batches").fetchone()[0]
        if last != record.batch - 1:
            raise _refused(
                path,
                f"another run recorded batch {last} in the state while this one ran (it "
                f"expected {record.batch - 1}); nothing was written",
                "run again: it compares with what that run wrote",
            )
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('key_id', ?)", (key_id(secret),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('project', ?)", (record.project,))
        conn.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.batch,
                _now(),
                record.kind,
                record.wave,
                record.out,
                json.dumps(record.files, ensure_ascii=False),
                json.dumps(record.counts, ensure_ascii=False),
                __version__,
                record.project_sha256,
            ),
        )
        for entity, frame in record.golden.items():
            put_frame(conn, GOLDEN, entity.value, frame)
        put_frame(conn, ROWS, record.rows_part, record.rows)
        for (kind, name), table in record.extra.items():
            put_frame(conn, kind, name, table)
        for entity, *rest in record.matching:
            conn.execute("INSERT OR REPLACE INTO matching VALUES (?, ?, ?, ?, ?, ?, ?)", (entity, record.batch, *rest))
        entities = {w[0] for w in record.weights} | {m[0] for m in record.matching}
        conn.executemany("DELETE FROM weights WHERE entity = ?", [(e,) for e in entities])
        conn.executemany("INSERT INTO weights VALUES (?, ?, ?, ?, ?, ?, ?)", record.weights)
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        if not existed:  # the run that would have made it failed: no state, as before
            with contextlib.suppress(OSError):
                Path(path).unlink()
        raise
    conn.close()


def record_verification(path: Path, row: dict) -> None:
    """Remember a verify of one entity of one batch (the last one of that batch and entity stays too: all are
    kept, newest last)."""
    conn = connect(path)
    if conn is None:
        return
    try:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO verifications VALUES (:batch, :entity, :verified_at, :export_file, "
                ":export_sha256, :sent, :exported, :matched, :missing, :extra, :earlier, :differences, "
                ":clean)",
                {"verified_at": _now(), **row},
            )
    finally:
        conn.close()


def previous_golden(path: Path, entities: Iterable[Entity] = tuple(Entity)) -> dict[Entity, pl.DataFrame]:
    """The golden tables of ``entities`` (all) as the state holds them, every column (values included)."""
    conn = connect(path)
    if conn is None:
        return {}
    try:
        return {e: get_frame(conn, GOLDEN, e.value, GOLDEN_SCHEMA) for e in entities}
    finally:
        conn.close()


def locate(project, since: Path | None, out: Path) -> Path | None:
    """The state file a run compares with and records into: ``--since FILE`` (relative to where the command
    runs), else ``options.state.file`` of the project; None when the project keeps no state. It must lie in
    the project (or a folder ``allow_outside`` lists), and never inside the output folder."""
    options = project.config.options.state
    if since is None and not options.enabled:
        return None
    if since is not None:
        path, shown, line = Path(since).absolute(), str(since), None
        refusal = project.confinement.check(path, "state file", relative_to=Path.cwd())
    else:
        path, shown = project.root / options.file, project.doc.path
        line = project.doc.line_of(("options", "state", "file"))
        refusal = project.confinement.check(options.file, "state file")
    if refusal is not None:
        raise MigrateError(Problem(shown, refusal.message, line=line, hint=refusal.hint))
    folder = Path(out).resolve()
    if folder == path.resolve() or folder in path.resolve().parents:
        raise MigrateError(
            Problem(
                shown,
                f"the state file {path} is inside the output folder {out}, which every run replaces",
                line=line,
                hint="keep it elsewhere: options.state.file (default state/migration.sqlite in the project)",
            )
        )
    return path
