"""``verify``: after the import, compare what the target exported back with what was sent.

What was sent is read from the run's import files (``out/import/<NN>_<entity>_*``), the way the target
read them (the profile recorded in ``out/manifest.json``). The export is read like any source (encoding,
delimiter and header row detected; CSV or workbook). Records are matched by external id where both sides
have that column, otherwise by the key columns given (``--key``). Columns are matched by header, ignoring
case, spaces, underscores and hyphens.

The reconciliation: records sent, exported, matched, missing from the export and extra in it; per
column, values equal, and values that differ, each classified (truncated, lost characters, dropped value,
text that came back as a number, number became a float, date moved, changed). A value equal up to the form a
target gives it back in (a date with a time of 00:00:00, an amount with other decimals) is equal; other
decimals are equal only in a column the template types as money or number (``types`` in the manifest): a
phone, an id or a code sent as text that came back as a number (``+8675567158223`` as ``8675567158223``,
``0755...`` as ``755...``, ``13800138000`` as ``13800138000.0``) is a change, "came back as a number". The
comparison is a check of its own (`crm_migrate.validators.roundtrip`); here the files are read and the
report written to ``out/verify/<entity>.csv`` (one line per difference or missing record) and
``<entity>.json`` (the totals).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import asdict, replace
from pathlib import Path

import polars as pl
from openpyxl.utils.exceptions import InvalidFileException

from crm_migrate.cleaners.masking import mask_frame
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import FileSpec
from crm_migrate.migrate.import_files import file_stem
from crm_migrate.migrate.outdir import PRIVATE, SHARED, restrict
from crm_migrate.migrate.output_frames import write_csv
from crm_migrate.migrate.readers import ROW, SHEET, read_path
from crm_migrate.migrate.run import MANIFEST
from crm_migrate.steps import step
from crm_migrate.validators.readback import read_table
from crm_migrate.validators.roundtrip import Verification, compare


def verify(
    out: Path | str,
    entity: Entity | str,
    exported: Path | str,
    key: list[str] | None = None,
    known: set[str] | None = None,
) -> Verification:
    """Compare the target's export of ``entity`` (a CSV or workbook) with the import files of the run in
    ``out``; records matched by external id, or by the ``key`` columns. Write ``out/verify/<entity>.csv``
    (every difference, every record missing or extra) and ``<entity>.json`` (the totals). ``known``: external
    ids that earlier batches sent (from the migration state): an exported record with one of them is counted
    as ``earlier``, not as extra."""
    out, exported, entity = Path(out), Path(exported), _entity(entity)
    with step(f"Reading the {entity.value} sent") as reading:
        sent = _sent(out, entity)
        reading.finish(sent.height)
    with step(f"Reading the export {exported.name}") as reading:
        theirs = _exported(exported)
        reading.finish(theirs.height)
    columns = {norm_header(c): c for c in theirs.columns}
    pairs = [(c, columns[norm_header(c)]) for c in sent.columns if norm_header(c) in columns]
    unmatched = [c for c in sent.columns if norm_header(c) not in columns]
    theirs = theirs.select([pl.col(t).alias(m) for m, t in pairs] + [ROW])
    keys = key or [_external_id_column(out, entity, sent)]
    numeric = _numeric_columns(out, entity)
    for k in keys:
        if k not in sent.columns or k not in theirs.columns:
            raise MigrateError(
                Problem(
                    str(exported),
                    f"cannot match records by {k!r}: "
                    + ("the export lacks it" if k in sent.columns else "no such column sent"),
                    hint="export the external id column too, or give --key with columns "
                    "both files have: " + ", ".join(m for m, _ in pairs[:8]),
                )
            )
    compared = [m for m, _ in pairs if m not in keys]
    with step(f"Comparing {entity.value}", unit="records") as comparing:
        found, lines = compare(
            entity.value, sent, theirs, keys, compared, unmatched, numeric, ROW, known if key is None else None
        )
        comparing.finish(found.matched)
    folder = out / "verify"
    report = folder / f"{entity.value}.csv"
    schema = {
        "record": pl.String,
        "sent_line": pl.Int64,
        "export_row": pl.Int64,
        "column": pl.String,
        "sent": pl.String,
        "exported": pl.String,
        "rule": pl.String,
        "message": pl.String,
    }
    # Values sent and exported are outside import/ here: ID numbers (and mobiles where the run masked them)
    # masked; the record column is left readable when it is the tool's own external id.
    frame = mask_frame(
        pl.DataFrame(lines, schema=schema), _mobiles_masked(out), keep=("record",) if key is None else ()
    )
    write_csv(frame, report)
    result = replace(found, report=str(report))
    (folder / f"{entity.value}.json").write_text(
        json.dumps(asdict(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    restrict(folder, SHARED if out.stat().st_mode & 0o055 else PRIVATE)  # as private as the run's tree
    return result


def _entity(entity: Entity | str) -> Entity:
    try:
        return Entity(entity)
    except ValueError:
        raise MigrateError(
            Problem("--entity", f"no entity {entity!r}", hint="one of " + ", ".join(e.value for e in Entity))
        ) from None


def _mobiles_masked(out: Path) -> bool:
    """Whether the run that wrote ``out`` masked mobiles (options.mask_mobiles), as its report says."""
    try:
        report = json.loads((out / "reports" / "quality.json").read_text(encoding="utf-8"))
        return bool(report.get("masked", {}).get("mobiles"))
    except (OSError, ValueError, AttributeError):
        return False


def _sent(out: Path, entity: Entity) -> pl.DataFrame:
    """The entity's import files of the run in ``out``, read as the target read them, in one frame."""
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise MigrateError(
            Problem(
                str(manifest_path),
                "no run here to verify against",
                hint="give the output folder of the run whose files were imported (--out)",
            )
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    spec = FileSpec(**(manifest.get("target") or {}).get("file", {}))
    outputs = [o for o in manifest["outputs"] if str(o["path"]).startswith(f"import/{file_stem(entity)}_")]
    if not outputs:
        raise MigrateError(
            Problem(
                str(out / "import"),
                f"the run wrote no {entity.value}",
                hint="choose an entity the run wrote: see out/import",
            )
        )
    frames = []
    for o in outputs:
        try:
            frames.append(read_table(out / str(o["path"]), str(o["path"]), entity, spec))
        except (OSError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:  # unreadable, not a workbook
            raise MigrateError(
                Problem(
                    str(out / str(o["path"])),
                    f"cannot read what was sent: {exc}",
                    hint="verify against the run folder whose files were imported",
                )
            ) from None
    return pl.concat(frames, how="diagonal_relaxed")


def _exported(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise MigrateError(
            Problem(
                str(path), "export file not found", hint="give the CSV or workbook the target exported after the import"
            )
        )
    table = read_path(path)
    return table.frame.drop(SHEET)


def _external_id_column(out: Path, entity: Entity, sent: pl.DataFrame) -> str:
    """The sent column holding the external id: the profile's, else a column named like one."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    name = (manifest.get("target") or {}).get("external_id", {}).get(entity.value)
    if name and name in sent.columns:
        return name
    for c in sent.columns:
        if norm_header(c) in ("externalid", "外部id") or norm_header(c).endswith("externalidc"):
            return c
    return sent.columns[0]


def norm_header(header: str) -> str:
    """A header as two spellings of it share it: case, spaces, _ and - aside (External_Id, external id)."""
    return re.sub(r"[\s_\-]+", "", str(header)).lower()


def _numeric_columns(out: Path, entity: Entity) -> set[str] | None:
    """The sent columns the template types as money or number; None when the run's manifest does not say
    (a run of an earlier version)."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    types = ((manifest.get("target") or {}).get("types") or {}).get(entity.value)
    if types is None:
        return None
    return {h for h, t in types.items() if t in ("money", "number")}
