"""A data steward's decisions on duplicates, read back from the review workbook and applied on the next run.

Decisions are keyed by source rows (``source:row`` or ``source/sheet:row``), never by cluster numbers,
so they survive re-runs and new data. Each carries a fingerprint of the row's source values as the
steward saw them: a decision on a row that has since changed, or that no longer exists, is stale. Stale
decisions are reported by the run (``review/stale_decisions.csv``), never applied and never silently
dropped.

A fingerprint is keyed (HMAC-SHA256 under the project secret, `crm_migrate.secret`), written as the key's
short id and the digest (``3fa2c1:9b0e...``): an unkeyed hash over a name, a mobile and an ID number would
let anyone with the workbook try every birth date until the masked ID number is found. Workbooks written
before carry a bare 12-digit SHA-1; those are still checked (the hash is computed in memory, never written)
and counted, so the run can say to use the new workbook. A fingerprint under another key (the secret was
replaced) cannot be checked: its decision is stale with that reason.

    merge        the row belongs with its group's record: the group's first row (the proposed survivor), or
                 the next one where the steward kept that one apart or moved it; every row marked merge in
                 a group joins that one record
    keep apart   the row is a record of its own: never merged with the other rows of its group
    merge into   the row, alone, is merged into the record named in the ``into`` column: it leaves its
                 former cluster (its other rows stay as they were) and only the rows the steward merged
                 into it come along

A decided row is listed again in the next review workbook, in a group marked ``decided``, with its
decision in the decision column, so that workbook can be given back as it is (several sessions).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import polars as pl

from crm_migrate.errors import Problem, ProjectError, unreadable
from crm_migrate.mappings.entities import ID_FIELD, Entity, FieldSpec
from crm_migrate.migrate.columns import OUTCOME, ROW, SHEET, SOURCE, raw
from crm_migrate.secret import key_id

MERGE, KEEP_APART, MERGE_INTO = "merge", "keep apart", "merge into"
CHOICES = (MERGE, KEEP_APART, MERGE_INTO)
# Columns of the review workbook that decisions are read from (the rest is for people).
COLUMNS = ("entity", "group", "record", "decision", "into", "members", "fingerprint")


@dataclass(frozen=True)
class Decision:
    entity: Entity
    group: str
    record: str
    decision: str
    into: str | None
    members: tuple[str, ...]
    fingerprint: str
    origin: str  # where it was read: file and row, for messages


@dataclass(frozen=True)
class Stale:
    decision: Decision
    why: str


def record_ref(source: str, sheet: str | None, row: int) -> str:
    return f"{source}/{sheet}:{row}" if sheet else f"{source}:{row}"


def refs() -> pl.Expr:
    """The `record_ref` of each row, as an expression."""
    return (
        pl.when(pl.col(SHEET).is_not_null())
        .then(pl.format("{}/{}:{}", pl.col(SOURCE), pl.col(SHEET), pl.col(ROW)))
        .otherwise(pl.format("{}:{}", pl.col(SOURCE), pl.col(ROW)))
    )


_LEGACY = re.compile(r"^[0-9a-f]{12}$")  # an unkeyed SHA-1 of the workbooks written before keyed fingerprints
STALE_KEY = (
    "its fingerprint was made under another project secret (the secret file was replaced or the "
    "workbook comes from another copy of the project), so the row cannot be checked: decide it again "
    "in the new review workbook"
)


def _joined(values: list[str | None]) -> bytes:
    return "\x1f".join("" if v is None else v for v in values).encode()


def fingerprint(values: list[str | None], secret: bytes) -> str:
    """Of a row's source values as read, keyed with the project secret: a decision is about the row the
    steward saw, and the fingerprint says nothing of the values to anyone without the secret."""
    return f"{key_id(secret)}:{hmac.new(secret, _joined(values), hashlib.sha256).hexdigest()[:20]}"


def legacy_fingerprint(values: list[str | None]) -> str:
    """The unkeyed fingerprint of earlier versions, only to check decisions made on their workbooks."""
    return hashlib.sha1(_joined(values)).hexdigest()[:12]


def _values(frame: pl.DataFrame, fields: list[FieldSpec]) -> list[tuple]:
    columns = [raw(n) for n in [ID_FIELD, *(s.name for s in fields)] if raw(n) in frame.columns]
    return frame.select(columns).rows() if columns else [()] * frame.height


def fingerprints(frame: pl.DataFrame, fields: list[FieldSpec], secret: bytes) -> list[str]:
    """Per row, the fingerprint of its source values (legacy id and every written field, as read)."""
    return [fingerprint(list(r), secret) for r in _values(frame, fields)]


def read_decisions(path: Path) -> list[Decision]:
    """Decisions from the filled-in review workbook (.xlsx) or a CSV with the same columns."""
    if not path.is_file():
        raise ProjectError(
            Problem(
                str(path),
                "decisions file not found",
                hint="pass the review workbook the steward filled in (out/review/duplicates.xlsx, "
                "copied out of out/ so the next run does not replace it)",
            )
        )
    try:
        tables = _read_tables(path)
    except OSError as exc:
        raise ProjectError(unreadable(str(path), exc)) from None
    except Exception as exc:  # calamine's and csv's errors for a file that is not what it says
        raise ProjectError(
            Problem(
                str(path),
                f"the decisions file cannot be read ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'damaged'})",
                hint="it is damaged or not a workbook: save the review workbook again from "
                "Excel (File > Save As > .xlsx), or pass the CSV export of it",
            )
        ) from None
    ours = any(sheet == "How to use" for sheet, _, _ in tables)  # a review workbook, with no group or with some
    if tables and not ours and not any("decision" in header and "record" in header for _, header, _ in tables):
        raise ProjectError(
            Problem(
                str(path),
                "no sheet of this file has the 'record' and 'decision' columns",
                hint="pass the review workbook crm-migrate wrote (review/duplicates.xlsx) with "
                "the steward's decisions filled in, its columns as written",
            )
        )
    out: list[Decision] = []
    problems: list[Problem] = []
    for sheet, header, rows in tables:
        if "decision" not in header or "record" not in header:
            continue
        at = {name: header.index(name) for name in COLUMNS if name in header}
        for number, row in rows:
            cell = {name: _text(row[i]) if i < len(row) else "" for name, i in at.items()}
            choice = cell.get("decision", "").lower()
            if not choice:
                continue
            origin = f"{path.name} [{sheet}] row {number}" if sheet else f"{path.name} row {number}"
            if choice not in CHOICES:
                problems.append(
                    Problem(
                        str(path),
                        f"decision {cell['decision']!r} is not one of {', '.join(CHOICES)}",
                        line=number,
                        sheet=sheet,
                        column="decision",
                        hint="choose from the drop-down list",
                    )
                )
                continue
            if choice == MERGE_INTO and not cell.get("into"):
                problems.append(
                    Problem(
                        str(path),
                        "'merge into' needs the record to merge into",
                        line=number,
                        sheet=sheet,
                        column="into",
                        hint="copy that record's 'record' cell here",
                    )
                )
                continue
            if not cell.get("record"):
                problems.append(
                    Problem(
                        str(path),
                        f"a {choice!r} decision on a row without its record",
                        line=number,
                        sheet=sheet,
                        column="record",
                        hint="keep the 'record' column as written: it says which source row is decided",
                    )
                )
                continue
            if choice == MERGE_INTO and (cell["into"] == cell["record"] or not _REF.match(cell["into"])):
                problems.append(
                    Problem(
                        str(path),
                        f"'merge into' names {cell['into']!r}, "
                        + ("the row itself" if cell["into"] == cell["record"] else "not a record"),
                        line=number,
                        sheet=sheet,
                        column="into",
                        hint="copy the 'record' cell of the record to merge into (source:row, as "
                        "accounts:12 or workbook/Sheet1:5)",
                    )
                )
                continue
            try:
                entity = Entity(cell.get("entity") or sheet)
            except ValueError:
                problems.append(
                    Problem(
                        str(path),
                        f"unknown entity {cell.get('entity') or sheet!r}",
                        line=number,
                        sheet=sheet,
                        column="entity",
                        hint="keep the entity column as written",
                    )
                )
                continue
            members = tuple(m for m in cell.get("members", "").split("; ") if m)
            out.append(
                Decision(
                    entity,
                    cell.get("group", ""),
                    cell["record"],
                    choice,
                    cell.get("into") or None,
                    members,
                    cell.get("fingerprint", ""),
                    origin,
                )
            )
    if problems:
        raise ProjectError(problems)
    return out


_REF = re.compile(r"^.+:\d+$")  # a `record_ref`


def _text(value) -> str:
    """A cell as text; a whole number the workbook holds as a number (the group) without its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_tables(path: Path) -> list[tuple[str | None, list[str], list[tuple[int, list]]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        tables: list[tuple[str | None, list[str], list[tuple[int, list]]]] = []
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python()
            if rows:
                header = [str(h).strip() for h in rows[0]]
                tables.append((name, header, [(i + 2, list(r)) for i, r in enumerate(rows[1:])]))
        return tables
    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    return [(None, [h.strip() for h in lines[0]], [(i + 2, r) for i, r in enumerate(lines[1:])])] if lines else []


@dataclass
class Applied:
    links: list[tuple[int, int]]  # row index pairs the steward merged
    vetoes: list[tuple[int, int]]  # row index pairs the steward kept apart
    stale: list[Stale]
    applied: int
    legacy: int = 0  # decisions checked by an unkeyed fingerprint of an earlier version's workbook
    moved: list[int] = field(default_factory=list)  # rows merged into another record: no automatic join keeps them
    decided: list[tuple[int, Decision]] = field(default_factory=list)  # each applied decision and its row index


def _anchor(group: list[Decision], members: list[str]) -> str | None:
    """The row a group's merges join: its first member the steward neither kept apart nor moved."""
    away = {d.record for d in group if d.decision != MERGE}
    return next((m for m in members if m not in away), None)


def apply(frame: pl.DataFrame, decisions: list[Decision], fields: list[FieldSpec], secret: bytes) -> Applied:
    """Turn one entity's decisions into must-link and cannot-link pairs of row indices, and the rows a
    'merge into' moves (the caller detaches them from every automatic join)."""
    if not decisions:
        return Applied([], [], [], 0)
    live = frame.with_row_index("_i").filter(pl.col(OUTCOME).is_null()).with_columns(refs().alias("_ref"))
    index = dict(zip(live["_ref"].to_list(), live["_i"].to_list(), strict=True))
    decided = live.filter(pl.col("_ref").is_in([d.record for d in decisions]))
    values = dict(zip(decided["_ref"].to_list(), _values(decided, fields), strict=True))
    mine = key_id(secret)
    links, vetoes, stale, applied, legacy = [], [], [], 0, 0
    good: list[Decision] = []
    for d in decisions:
        old = bool(d.fingerprint) and _LEGACY.match(d.fingerprint.lower()) is not None
        if d.record not in index:
            stale.append(Stale(d, "the record is no longer in the sources (or no longer enters matching)"))
        elif d.fingerprint and not old and d.fingerprint.split(":", 1)[0] != mine:
            stale.append(Stale(d, STALE_KEY))
        elif d.fingerprint and (
            legacy_fingerprint(list(values[d.record])) != d.fingerprint.lower()
            if old
            else fingerprint(list(values[d.record]), secret) != d.fingerprint
        ):
            stale.append(Stale(d, "the record's source values changed since the review"))
        elif d.decision == MERGE_INTO and d.into not in index:
            stale.append(Stale(d, f"the record to merge into, {d.into}, is no longer in the sources"))
        else:
            legacy += old
            good.append(d)
    by_group: dict[str, list[Decision]] = {}
    for d in good:
        by_group.setdefault(f"{d.entity.value}|{d.group}|{'; '.join(d.members)}", []).append(d)
    moved = []
    for group in by_group.values():
        members = [m for m in group[0].members if m in index]
        merging = [d.record for d in group if d.decision == MERGE]
        anchor = _anchor(group, members)
        if anchor is not None:
            links += [(index[r], index[anchor]) for r in merging if r != anchor]
        else:
            links += [(index[a], index[b]) for a, b in pairwise(merging)]
        for d in group:
            if d.decision == KEEP_APART:
                vetoes += [(index[d.record], index[m]) for m in members if m != d.record]
            elif d.decision == MERGE_INTO:
                links.append((index[d.record], index[d.into]))
                moved.append(index[d.record])
        applied += len(group)
    return Applied(links, vetoes, stale, applied, legacy, moved, [(index[d.record], d) for d in good])
