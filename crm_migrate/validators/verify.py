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
``0755...`` as ``755...``, ``13800138000`` as ``13800138000.0``) is a change, "came back as a number". The report is written to
``out/verify/<entity>.csv`` (one line per difference or missing record) and ``<entity>.json`` (the totals).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
from openpyxl.utils.exceptions import InvalidFileException

from crm_migrate.cleaners.masking import mask_frame
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import FileSpec
from crm_migrate.migrate.readers import ROW, SHEET, read_path
from crm_migrate.migrate.run import MANIFEST
from crm_migrate.migrate.steps import step
from crm_migrate.migrate.outdir import PRIVATE, SHARED, restrict
from crm_migrate.migrate.write import write_csv
from crm_migrate.migrate.writers import file_stem
from crm_migrate.validators.readback import difference, read_table


@dataclass
class Verification:
    entity: str
    key: list[str]  # the sent columns records were matched by
    sent: int
    exported: int
    matched: int
    missing: int
    extra: int
    compared_columns: list[str]
    unmatched_columns: list[str]  # sent columns the export lacks
    differences: dict[str, int] = field(default_factory=dict)  # rule -> values
    by_column: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> rule -> values
    report: str = ""  # the CSV of differences
    earlier: int = 0  # exported records that an earlier batch sent (the migration state knows them): not extra
    batch: int | None = None  # the state's batch these import files are, where the run kept a state

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.differences)


def verify(out: Path, entity: Entity, exported: Path, key: list[str] | None = None,
           known: set[str] | None = None) -> Verification:
    """``known``: external ids that earlier batches sent (from the migration state): an exported record with one
    of them is counted as ``earlier``, not as extra."""
    with step(f"Reading the {entity.value} sent") as reading:
        sent = _sent(out, entity)
        reading.finish(sent.height)
    with step(f"Reading the export {exported.name}") as reading:
        theirs = _exported(exported)
        reading.finish(theirs.height)
    columns = {_norm(c): c for c in theirs.columns}
    pairs = [(c, columns[_norm(c)]) for c in sent.columns if _norm(c) in columns]
    unmatched = [c for c in sent.columns if _norm(c) not in columns]
    theirs = theirs.select([pl.col(t).alias(m) for m, t in pairs] + [ROW])
    keys = key or [_external_id_column(out, entity, sent)]
    numeric = _numeric_columns(out, entity)
    for k in keys:
        if k not in sent.columns or k not in theirs.columns:
            raise MigrateError(Problem(str(exported), f"cannot match records by {k!r}: "
                                       + ("the export lacks it" if k in sent.columns else "no such column sent"),
                                       hint="export the external id column too, or give --key with columns "
                                       "both files have: " + ", ".join(m for m, _ in pairs[:8])))
    with step(f"Comparing {entity.value}", unit="records") as comparing:
        left = sent.with_row_index("_line", offset=2)
        joined = left.join(theirs, on=keys, how="full", suffix="__exported", coalesce=True, nulls_equal=False)
        in_sent = pl.col("_line").is_not_null()
        in_export = pl.col(ROW).is_not_null()
        missing = joined.filter(in_sent & ~in_export)
        extra = joined.filter(~in_sent & in_export)
        earlier = 0
        if known and key is None:  # records of earlier batches: in the target already, sent before
            before = extra[keys[0]].is_in(pl.Series(sorted(known), dtype=pl.String).implode())
            earlier = int(before.sum())
            extra = extra.filter(~before)
        both = joined.filter(in_sent & in_export)
        lines: list[dict[str, object]] = []
        for row in missing.iter_rows(named=True):
            lines.append({"record": _key(row, keys), "sent_line": row["_line"], "export_row": None, "column": None,
                          "sent": None, "exported": None, "rule": "missing", "message": "sent, not in the export"})
        for row in extra.iter_rows(named=True):
            lines.append({"record": _key(row, keys), "sent_line": None, "export_row": row[ROW], "column": None,
                          "sent": None, "exported": None, "rule": "extra", "message": "in the export, never sent"})
        compared = [m for m, _ in pairs if m not in keys]
        by_column: dict[str, dict[str, int]] = {}

        def trimmed(name: str) -> pl.Expr:
            text = pl.col(name).str.strip_chars()
            return pl.when(text != "").then(text)

        # Only rows where some value differs as text are looked at value by value (the forms _same allows).
        unequal = [trimmed(c).ne_missing(trimmed(f"{c}__exported")) for c in compared]
        differing = both.filter(pl.any_horizontal(unequal)) if unequal else both.clear()
        for row in differing.iter_rows(named=True):
            values = tuple(row.get(c) for c in compared)
            for j, column in enumerate(compared):
                want, have = row[column], row.get(f"{column}__exported")
                if _same(want, have, None if numeric is None else column in numeric):
                    continue
                rule, message, _ = ("dropped", f"{want!r} was sent, the export has nothing", "") if not have \
                    else difference(want, have, values, j)
                by_column.setdefault(column, {}).setdefault(rule, 0)
                by_column[column][rule] += 1
                lines.append({"record": _key(row, keys), "sent_line": row["_line"], "export_row": row[ROW],
                              "column": column, "sent": want, "exported": have, "rule": rule, "message": message})
        differences: dict[str, int] = {}
        for rules in by_column.values():
            for rule, n in rules.items():
                differences[rule] = differences.get(rule, 0) + n
        comparing.finish(both.height)
    folder = out / "verify"
    report = folder / f"{entity.value}.csv"
    schema = {"record": pl.String, "sent_line": pl.Int64, "export_row": pl.Int64, "column": pl.String,
              "sent": pl.String, "exported": pl.String, "rule": pl.String, "message": pl.String}
    # Values sent and exported are outside import/ here: ID numbers (and mobiles where the run masked them)
    # masked; the record column is left readable when it is the tool's own external id.
    frame = mask_frame(pl.DataFrame(lines, schema=schema), _mobiles_masked(out),
                       keep=("record",) if key is None else ())
    write_csv(frame, report)
    result = Verification(entity.value, keys, sent.height, theirs.height, both.height, missing.height, extra.height,
                          compared, unmatched, differences, by_column, str(report), earlier)
    (folder / f"{entity.value}.json").write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
    restrict(folder, SHARED if out.stat().st_mode & 0o055 else PRIVATE)  # as private as the run's tree
    return result


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
        raise MigrateError(Problem(str(manifest_path), "no run here to verify against",
                                   hint="give the output folder of the run whose files were imported (--out)"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    spec = FileSpec(**(manifest.get("target") or {}).get("file", {}))
    outputs = [o for o in manifest["outputs"] if str(o["path"]).startswith(f"import/{file_stem(entity)}_")]
    if not outputs:
        raise MigrateError(Problem(str(out / "import"), f"the run wrote no {entity.value}",
                                   hint="choose an entity the run wrote: see out/import"))
    frames = []
    for o in outputs:
        try:
            frames.append(read_table(out / str(o["path"]), str(o["path"]), entity, spec))
        except (OSError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:  # unreadable, not a workbook
            raise MigrateError(Problem(str(out / str(o["path"])), f"cannot read what was sent: {exc}",
                                       hint="verify against the run folder whose files were imported")) from None
    return pl.concat(frames, how="diagonal_relaxed")


def _exported(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise MigrateError(Problem(str(path), "export file not found", hint="give the CSV or workbook the target "
                                   "exported after the import"))
    table = read_path(path)
    return table.frame.drop(SHEET)


def _external_id_column(out: Path, entity: Entity, sent: pl.DataFrame) -> str:
    """The sent column holding the external id: the profile's, else a column named like one."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    name = (manifest.get("target") or {}).get("external_id", {}).get(entity.value)
    if name and name in sent.columns:
        return name
    for c in sent.columns:
        if _norm(c) in ("externalid", "外部id") or _norm(c).endswith("externalidc"):
            return c
    return sent.columns[0]


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(header)).lower()


def _key(row: dict, keys: list[str]) -> str:
    return " / ".join(str(row.get(k)) for k in keys)


def _numeric_columns(out: Path, entity: Entity) -> set[str] | None:
    """The sent columns the template types as money or number; None when the run's manifest does not say
    (a run of an earlier version)."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    types = ((manifest.get("target") or {}).get("types") or {}).get(entity.value)
    if types is None:
        return None
    return {h for h, t in types.items() if t in ("money", "number")}


# Text only a text column holds: a leading + or zero, or digits enough for a phone or an ID number.
_TEXTUAL = re.compile(r"^\+|^0\d|^\d{11,}$")


def _same(want: str | None, have: str | None, numeric: bool | None = None) -> bool:
    """Equal, or equal up to the form a target gives values back in. Amounts with other decimals are equal
    in a ``numeric`` column; where the column's type is unknown (None), unless the value sent is text-shaped."""
    want, have = (want or "").strip() or None, (have or "").strip() or None
    if want == have:
        return True
    if want is None or have is None:
        return False
    try:
        if (numeric or (numeric is None and not _TEXTUAL.search(want))) and Decimal(want) == Decimal(have):
            return True
    except InvalidOperation:
        pass
    dw, dh = _as_date(want), _as_date(have)
    return dw is not None and dw == dh and len(want) <= 10


def _as_date(text: str) -> dt.date | None:
    m = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
