"""What `crm-migrate state PROJECT show|export|reset` does, and the lines a run prints about its batch: plain
text and frames, no rich (the CLI renders them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.state import GOLDEN, GOLDEN_SCHEMA, ROWS, ROWS_SCHEMA, connect, get_frame

TABLES = ("batches", "verifications", "matching", "weights", "watches")
FORMATS = ("csv", "parquet", "json")


def batch_lines(result) -> list[str]:
    """What a run says of its batch: per entity new, changed, unchanged, withdrawn, held back; or that nothing
    was new or changed, and nothing was written."""
    batch = result.batch
    if batch is None:
        return []
    counts = batch.counts()
    wave = f"wave {batch.wave}, " if batch.wave else ""
    lines = []
    if batch.nothing:
        lines.append(
            f"Nothing new or changed since batch {batch.number - 1}: no import file written "
            f"({wave}state {result.state})."
        )
    else:
        lines.append(f"Batch {batch.number} ({wave}{batch.kind}) recorded in {result.state}:")
    for entity, c in counts.items():
        if not any(c.values()):
            continue  # nothing of this entity in the wave, nothing withdrawn
        gone = f", {c['rows_gone']} source row(s) gone" if c.get("rows_gone") else ""
        lines.append(
            f"  {entity}: {c['sent']} written — {c['new']} new, {c['changed']} changed, {c['unchanged']} "
            f"unchanged, {c['withdrawn']} withdrawn, {c['held']} held back{gone}"
        )
    for entity, c in batch.matched.items():
        lines.append(
            f"  {entity}: {sum(c.values())} new row(s) matched against the state — {c['joined']} joined a "
            f"record of the state, {c['new']} new, {c['review']} to review"
        )
    if any(c["review"] for c in batch.matched.values()):
        lines.append(
            f"  To review (each new row and the record of the state it may be): "
            f"{result.out / 'review' / 'incremental.csv'}"
        )
    ties = {e.value: t for e, t in result.against.ties.items() if t.height} if result.against is not None else {}
    for entity, t in ties.items():
        same = int(t["same"].sum())
        lines.append(
            f"  {entity}: {t.height} pair(s) of records of the state that new contacts or deals tie together, "
            f"{same} of them as sure as a merge (only a steward merges records in the CRM): "
            f"{result.out / 'review' / 'state_merges.csv'}"
        )
    reasons = (
        result.lineage.filter(pl.col("reason").str.starts_with("held back:").fill_null(False))
        .group_by("entity", "reason")
        .len()
        .sort("len", descending=True)
        .head(5)
    )
    for entity, reason, n in reasons.iter_rows():
        lines.append(f"  {entity}: {n} row(s) {reason}")
    if any(c["held"] for c in counts.values()):
        lines.append(f"  Held back, with the reasons: {result.out / 'rejects' / 'held_back.csv'}")
    if any(c["withdrawn"] for c in counts.values()):
        lines.append(
            "  Withdrawn records are not deleted from the target: their source rows are gone; "
            "`crm-migrate state PROJECT export` lists them (status withdrawn)."
        )
    return lines


def _connect(path: Path):
    conn = connect(path)
    if conn is None:
        raise MigrateError(
            Problem(
                str(path),
                "no migration state here yet",
                hint="a run records one (options.state.file; run --since FILE for another)",
            )
        )
    return conn


def tables(path: Path) -> dict[str, pl.DataFrame]:
    """Every table of the state as a frame: batches, verifications, matching, weights, watches, golden_<entity>,
    rows."""
    conn = _connect(path)
    try:
        out = {}
        for name in TABLES:
            cursor = conn.execute(f"SELECT * FROM {name}")  # our own table names
            columns = [d[0] for d in cursor.description]
            out[name] = pl.DataFrame(cursor.fetchall(), schema=columns, orient="row", infer_schema_length=None)
        for entity in Entity:
            out[f"golden_{entity.value}"] = get_frame(conn, GOLDEN, entity.value, GOLDEN_SCHEMA)
        out["rows"] = get_frame(conn, ROWS, "", ROWS_SCHEMA)
        out["meta"] = pl.DataFrame(
            conn.execute("SELECT key, value FROM meta").fetchall(), schema=["key", "value"], orient="row"
        )
        out["schema_version"] = pl.DataFrame(
            {"version": [conn.execute("SELECT version FROM schema_version").fetchone()[0]]}
        )
    finally:
        conn.close()
    return out


def show(path: Path) -> list[str]:
    """A summary of the state: its file, schema and batches; per entity its golden records, live and
    withdrawn, by wave; the verify results; the matching it keeps."""
    t = tables(path)
    meta = dict(t["meta"].iter_rows())
    lines = [
        f"State {path} (schema {t['schema_version']['version'][0]}, {os.path.getsize(path):,} bytes), "
        f"created {meta.get('created_at', '?')} by {meta.get('created_by', '?')}"
    ]
    batches = t["batches"]
    lines.append(f"{batches.height} batch(es):")
    for row in batches.iter_rows(named=True):
        counts = json.loads(row["counts"])
        sent = ", ".join(f"{e} {c.get('sent', 0)}" for e, c in counts.items())
        files = len(json.loads(row["files"]))
        lines.append(
            f"  {row['batch']}  {row['created_at']}  {row['kind']}"
            + (f"  wave {row['wave']}" if row["wave"] else "")
            + f"  {files} file(s): {sent}"
        )
    for entity in Entity:
        golden = t[f"golden_{entity.value}"]
        if golden.is_empty():
            continue
        by_wave = golden.group_by("wave", "status").len().sort("wave", "status", nulls_last=True)
        parts = ", ".join(f"{n} {status}" + (f" in wave {w}" if w else "") for w, status, n in by_wave.iter_rows())
        lines.append(f"{entity.value}: {golden.height} golden record(s) ({parts})")
    checks = t["verifications"]
    for row in checks.iter_rows(named=True):
        verdict = (
            "clean"
            if row["clean"]
            else (f"{row['missing']} missing, {row['extra']} extra, {row['differences']} value(s) different")
        )
        lines.append(
            f"verified batch {row['batch']} {row['entity']} at {row['verified_at']}: {verdict} "
            f"({row['matched']} of {row['sent']} sent found; {row['earlier']} of earlier batches)"
        )
    for row in t["matching"].iter_rows(named=True):
        levels = t["weights"].filter(pl.col("entity") == row["entity"])
        lines.append(
            f"matching {row['entity']} (from batch {row['batch']}, {row['records']:,} records): merge "
            f"{row['merge']}, review {row['review']}, {levels['comparison'].n_unique()} comparisons, "
            f"{levels.height} levels with m and u"
        )
    watches = t["watches"]
    if watches.height:
        last = watches.sort("watch")[-1]
        lines.append(
            f"{watches.height} watch(es) of the CRM's export, the last at {last['watched_at'][0]} "
            "(crm-migrate watch compares the next one with it)"
        )
    return lines


def export(path: Path, folder: Path, fmt: str) -> list[Path]:
    """Every table of the state written to ``folder`` as CSV, Parquet or JSON; private as the output tree
    (0700 folder, 0600 files): the golden tables hold names and addresses in clear."""
    if fmt not in FORMATS:
        raise MigrateError(Problem("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}"))
    from crm_migrate.cleaners.masking import mask_frame
    from crm_migrate.migrate.output_frames import write_csv

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for name, frame in tables(path).items():
        target = folder / f"{name}.{fmt}"
        if fmt != "parquet":  # as every file outside import/: an ID number in a value masked; hashes left alone
            frame = mask_frame(
                frame,
                False,
                keep=tuple(
                    c
                    for c in frame.columns
                    if c.startswith("h:")
                    or c in ("fingerprint", "external_id", "record_id", "account", "export_sha256", "project_sha256")
                ),
            )
        if fmt == "csv":
            flat = frame.with_columns(
                pl.col(c).list.join("; ") for c, t in frame.schema.items() if isinstance(t, pl.List)
            )
            write_csv(flat, target)
        elif fmt == "parquet":
            frame.write_parquet(target)
        else:
            target.write_text(
                json.dumps(frame.to_dicts(), ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
            )
        target.chmod(0o600)
        written.append(target)
    return written


def reset(path: Path, yes: bool) -> bool:
    """Forget every batch: the state file removed. Without ``yes`` nothing is done (the caller asks)."""
    if not Path(path).exists():
        raise MigrateError(Problem(str(path), "no migration state here to reset", hint="nothing to do"))
    import sqlite3

    from crm_migrate.migrate.state import _open, _version

    conn = _open(Path(path))
    try:
        _version(conn, Path(path))  # refuses a file that is no crm-migrate state: reset deletes only ours
    except sqlite3.DatabaseError as exc:
        raise MigrateError(Problem(str(path), f"not a crm-migrate state ({exc})", hint="nothing was deleted")) from None
    finally:
        conn.close()
    if not yes:
        return False
    for suffix in ("", "-journal", "-wal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.unlink()
    return True


def verify_batch(project: Path, out: Path, entity: Entity | str, exported: Path, key: list[str] | None = None):
    """``verify`` of the batch in ``out`` against the migration state the run recorded it in: the import files
    must be the ones the state says the batch wrote (their sha256), records the target holds from earlier
    batches count as earlier (not extra), and the result is recorded beside the batch. A run without a state
    is verified as before."""
    from crm_migrate.migrate.pipeline import sha256_of
    from crm_migrate.migrate.run import MANIFEST
    from crm_migrate.migrate.state import record_verification
    from crm_migrate.migrate.verify import _entity, verify

    entity, exported = _entity(entity), Path(exported)

    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    batch = manifest.get("batch") if isinstance(manifest, dict) else None
    if not isinstance(batch, dict) or not batch.get("state"):
        return verify(out, entity, exported, key)
    path = project / batch["state"]
    conn = _connect(path)
    try:
        row = conn.execute("SELECT files FROM batches WHERE batch = ?", (batch["number"],)).fetchone()
        known = set(get_frame(conn, GOLDEN, entity.value, GOLDEN_SCHEMA, ["external_id"])["external_id"].to_list())
    finally:
        conn.close()
    if row is None:
        raise MigrateError(
            Problem(
                str(path),
                f"the state has no batch {batch['number']}, which {out} says it is",
                hint="verify against the state the run recorded its batch in (was it reset?)",
            )
        )
    recorded = {f["path"]: f.get("sha256") for f in json.loads(row[0])}
    changed = [p for p, sha in recorded.items() if not (out / p).is_file() or sha256_of(out / p) != sha]
    if changed:
        raise MigrateError(
            Problem(
                str(out / changed[0]),
                f"not the file batch {batch['number']} wrote, as the state recorded it (changed or missing)",
                hint="verify the output folder of the run whose files were imported, as that run left it",
            )
        )
    result = verify(out, entity, exported, key, known=known)
    result.batch = batch["number"]
    record_verification(
        path,
        {
            "batch": batch["number"],
            "entity": entity.value,
            "export_file": exported.name,
            "export_sha256": sha256_of(exported),
            "sent": result.sent,
            "exported": result.exported,
            "matched": result.matched,
            "missing": result.missing,
            "extra": result.extra,
            "earlier": result.earlier,
            "differences": sum(result.differences.values()),
            "clean": int(result.clean),
        },
    )
    return result
