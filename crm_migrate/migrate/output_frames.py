"""The frames of the output tree: import files, lineage and rejects, and writing them as CSV.

Rows are ordered by source priority and position, and ids are derived from source keys, so the same inputs
give byte-identical files.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from crm_migrate.cleaners.masking import masked_whole
from crm_migrate.mappings.entities import ID_FIELD, MULTI_VALUED, OUTPUT_PARTS, Entity, FieldType, has_account_link
from crm_migrate.migrate.columns import (
    FILLED,
    OUTCOME,
    REASON,
    RECORD_ID,
    REJECTED,
    ROW,
    SEQ,
    SHEET,
    SOURCE,
    attr,
    optional,
    require,
    val,
    why,
)
from crm_migrate.migrate.link import ACCOUNT, ORPHANED
from crm_migrate.migrate.merge import OTHERS
from crm_migrate.migrate.pipeline import EntityResult, Migration
from crm_migrate.outcomes import KEPT, WRITTEN
from crm_migrate.reports.formulas import PLAIN_FIELDS, neutralise_frame

LINEAGE_COLUMNS = ["source", "file", "sheet", "row", "entity", "record_id", "outcome", "reason", "notes"]


def import_file_name(entity: Entity) -> str:
    return f"{entity.order:02d}_{entity.value}.csv"


def import_frame(result: EntityResult) -> pl.DataFrame:
    """What the target receives for one entity: external id, account link, legacy id, then the fields."""
    frame = result.frame  # its columns; the written rows are filtered lazily, only the columns selected
    stage = f"import file of {result.entity.value}"
    linked = has_account_link(result.entity)
    require(
        frame, [RECORD_ID, OUTCOME, SEQ, *([ACCOUNT] if linked else []), *(val(s.name) for s in result.fields)], stage
    )
    columns = [pl.col(RECORD_ID).alias("external_id")]
    if linked:
        columns.append(pl.col(ACCOUNT).alias("account_external_id"))
    columns.append(optional(frame, val(ID_FIELD), stage).alias("legacy_id"))
    for spec in result.fields:
        # An invalid value (2021-02-30, a 200-digit phone) is left out, as dry-run says it will be; its
        # parts with it.
        valid = pl.col(why(spec.name)).is_null() if why(spec.name) in frame.columns else pl.lit(True)
        columns.append(pl.when(valid).then(pl.col(val(spec.name))).alias(spec.name))
        columns += [
            pl.when(valid).then(optional(frame, attr(spec.name, part), stage)).alias(f"{spec.name}_{part}")
            for part in OUTPUT_PARTS.get(spec.type, ())
        ]
        if spec.type in MULTI_VALUED:  # merged members' other numbers and addresses
            columns.append(optional(frame, f"{OTHERS}{spec.name}", stage).alias(f"{spec.name}_others"))
    return result.written_lazy().select(columns).collect()


def lineage_frame(migration: Migration) -> pl.DataFrame:
    files = {r.source.name: r.source.rel_file for r in migration.reads}
    parts = []
    for entity, result in migration.entities.items():
        require(result.frame, [SOURCE, SHEET, ROW, OUTCOME, RECORD_ID, REASON, SEQ], f"lineage of {entity.value}")
        parts.append(
            result.frame.select(
                pl.col(SOURCE).alias("source"),
                pl.col(SOURCE).replace_strict(files, return_dtype=pl.String).alias("file"),
                pl.col(SHEET).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.lit(entity.value).alias("entity"),
                pl.when(pl.col(OUTCOME).is_in(KEPT)).then(pl.col(RECORD_ID)).alias("record_id"),
                pl.col(OUTCOME).alias("outcome"),
                _reason(result.frame),
                optional(result.frame, FILLED, "lineage").alias("notes"),
                pl.col(SEQ).alias("_seq"),
                pl.lit(entity.order).alias("_order"),
            )
        )
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in LINEAGE_COLUMNS})
    return pl.concat(parts).sort(["_seq", "_order"]).drop("_seq", "_order")


def _reason(frame: pl.DataFrame) -> pl.Expr:
    """Why a row ended as it did; for a written child linked to the placeholder account, why it was."""
    if ORPHANED not in frame.columns:
        return pl.col(REASON).alias("reason")
    return (
        pl.when((pl.col(OUTCOME) == WRITTEN) & pl.col(ORPHANED).is_not_null())
        .then(pl.lit("linked to the placeholder account: ") + pl.col(ORPHANED))
        .otherwise(pl.col(REASON))
        .alias("reason")
    )


def rejects_frame(migration: Migration, result: EntityResult) -> pl.DataFrame:
    """Every rejected row of one entity with its reason and all its original values, as read."""
    rejected = result.frame.lazy().filter(pl.col(OUTCOME) == REJECTED).select(SOURCE, SEQ, SHEET, ROW, REASON).collect()
    parts = []
    for r in migration.reads:
        mine = rejected.filter(pl.col(SOURCE) == r.source.name).select(SEQ, SHEET, ROW, REASON)
        if mine.height == 0:
            continue
        original = mine.join(r.table.frame, on=[SHEET, ROW], how="left", nulls_equal=True, maintain_order="left")
        original = original.with_columns(
            masked_whole(pl.col(c)).alias(c) for c in sensitive_columns(r.source) if c in original.columns
        )
        parts.append(
            original.select(
                pl.lit(r.source.name).alias("source"),
                pl.lit(r.source.rel_file).alias("file"),
                pl.col(SHEET).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.col(REASON).alias("reason"),
                pl.col(SEQ).alias("_seq"),
                *[pl.col(c) for c in r.table.columns],
            )
        )
    head = {"source": pl.String, "file": pl.String, "sheet": pl.String, "row": pl.Int64, "reason": pl.String}
    if not parts:
        return pl.DataFrame(schema=head)
    return pl.concat(parts, how="diagonal_relaxed").sort("_seq").drop("_seq")


def plain_columns(source) -> set[str]:
    """Source columns that feed a phone or an amount: a number there is written as it is, never prefixed."""
    return {c for plan in source.entities for f in plan.fields for c in f.inputs if f.spec.type in PLAIN_FIELDS}


def sensitive_columns(source) -> set[str]:
    """Source columns that feed a sensitive field: review files show them masked (110105********002X)."""
    return {
        c
        for plan in source.entities
        for f in plan.fields
        for c in f.inputs
        if f.spec.sensitive or f.spec.type is FieldType.id_card
    }


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    plain: Iterable[str] = (),
    neutralise: bool = True,
) -> None:
    """CSV with a header, every value quoted only where needed; UTF-8 with a BOM unless told otherwise.
    A value a spreadsheet would run as a formula gets the apostrophe in front (reports/formulas.py), except a
    number in the ``plain`` columns (phones, amounts); import files come neutralised from conform()."""
    if neutralise:
        frame = neutralise_frame(frame, plain)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding in ("utf-8", "utf-8-sig"):  # polars' own bytes, straight into the file
        with _os_error_of(path):
            frame.write_csv(
                path,
                include_bom=encoding == "utf-8-sig",
                separator=delimiter,
                line_terminator="\r\n",
                check_extension=False,
            )
        return
    text = frame.write_csv(None, separator=delimiter, line_terminator="\r\n")
    path.write_bytes(text.encode(encoding))


def write_csv_parts(parts: Iterable[pl.DataFrame], path: Path, plain: Iterable[str] = ()) -> int:
    """One CSV (UTF-8 with a BOM, as `write_csv` writes it) from frames of the same columns written one after
    the other, the header once: a table of millions of rows made part by part never exists whole. Returns the
    rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, first = 0, True
    with _os_error_of(path), path.open("wb") as f:
        for part in parts:
            neutralise_frame(part, plain)[0].write_csv(
                f, include_bom=first, include_header=first, separator=",", line_terminator="\r\n"
            )
            rows, first = rows + part.height, False
    return rows


@contextlib.contextmanager
def _os_error_of(path: Path) -> Iterator[None]:
    """polars says "No space left on device (os error 28)" without the errno a caller tells a full disk by."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None and (code := re.search(r"\(os error (\d+)\)", str(exc))):
            raise OSError(int(code.group(1)), os.strerror(int(code.group(1))), str(path)) from None
        raise
