"""From a source's rows to one entity's records: map columns, clean, apply scope rules and required fields.

The frame this returns has exactly one row per source row, so that every row can be accounted for:
each row is either still a candidate record (``_outcome`` null) or already ``filtered`` or ``rejected``,
with ``_reason`` saying why. Column names: ``raw:<field>`` the text as read, ``v:<field>`` the cleaned
value, ``k:<field>`` its match key, ``r:<field>`` why it is invalid.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import polars as pl

from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
from crm_migrate.cleaners.base import NOTES_SEPARATOR
from crm_migrate.cleaners.dates import AMBIGUOUS, MIXED, infer_order
from crm_migrate.errors import Problem
from crm_migrate.mappings.entities import ACCOUNT_LINK, ID_FIELD, FieldType
from crm_migrate.mappings.lookups import derive, lookup_problem
from crm_migrate.mappings.models import Filter
from crm_migrate.mappings.spellings import column_expr
from crm_migrate.migrate.columns import (
    EMPTY,
    FILLED,
    FILTERED,
    OUTCOME,
    REASON,
    REJECTED,
    ROW,
    RULE,
    SEQ,
    SHEET,
    SOURCE,
    SYSTEM,
    attr,
    key,
    notes,
    raw,
    val,
    why,
)
from crm_migrate.migrate.junk import (
    NO_COMPANY,
    NOT_A_CONTACT,
    TEST_RECORD,
    no_company_rule,
    not_a_contact_rule,
    test_record_rule,
)
from crm_migrate.migrate.readers import SourceTable
from crm_migrate.migrate.rows import fill_down, is_ditto, non_records, written
from crm_migrate.migrate.signals import apply_row_signals
from crm_migrate.migrate.values import apply_values, unknown_values_problem
from crm_migrate.project import EntityPlan, MappedField, Source


class Extracted(NamedTuple):
    """What extracting one entity from one source gives: the frame, and the problems found on the way (errors
    stop the run after every source is extracted; warnings go to the run's summary). Nothing is appended to
    the table read: the same table may be extracted again (the dry run's sample reuses the full run's)."""

    frame: pl.DataFrame
    errors: list[Problem]
    warnings: list[Problem]


def extract(
    source: Source,
    table: SourceTable,
    plan: EntityPlan,
    seq_base: int,
    ctx: CleanContext,
    today: dt.date,
    test_records: str = "reject",
) -> Extracted:
    """One row per source row: the entity's cleaned fields, and an outcome for rows already decided."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    frame = table.frame
    n = frame.height
    columns = [
        pl.lit(source.name).alias(SOURCE),
        frame[SHEET].alias(SHEET),
        frame[ROW].alias(ROW),
        pl.int_range(seq_base, seq_base + n, dtype=pl.Int64).alias(SEQ),
        pl.lit(source.system).alias(SYSTEM),
    ]
    out = frame.select(columns)
    stop = non_records(table)
    filled: list[pl.Series] = []
    starts = _record_starts(plan, frame, stop)
    for mf in plan.fields:
        if mf.derive is not None:
            series, missing = derive(frame, mf.derive, source.root)
            series = series.rename(mf.column)
            if p := lookup_problem(source.mapping_path, source.doc.line_of(mf.loc), mf.spec.name, mf.derive, missing):
                errors.append(p)
        elif (expr := column_expr(mf.column, frame.columns)) is not None:
            series = frame.select(expr.alias(mf.column)).to_series()
        else:
            series = pl.Series(mf.column, [None] * n, pl.String)
        fill_note = None
        if mf.fill_down:
            series, fill_note = fill_down(series, frame, stop.is_not_null(), None if mf.spec.name == "name" else starts)
            filled.append(pl.select(pl.lit(f"{mf.spec.name} ") + fill_note).to_series())
        elif ditto := _ditto_warning(source, table, mf, series, stop):
            warnings.append(ditto)
            # 同上 means the value above whatever the mapping says; empty cells stay empty without fill_down.
            series, fill_note = fill_down(series, frame, stop.is_not_null(), empty_cells=False)
            filled.append(pl.select(pl.lit(f"{mf.spec.name} ") + fill_note).to_series())
        field_ctx = ctx
        if mf.spec.type is FieldType.date:
            field_ctx = replace(ctx, date_order=_date_order(source, table, plan.entity.value, mf, series))
        cleaned = clean_column(series, CLEANERS[mf.spec.type], field_ctx)
        name = mf.spec.name
        if mf.values is not None:
            mapped, value_notes = apply_values(cleaned["value"], mf)
            if mf.unknown == "error" and (p := unknown_values_problem(source, plan.entity.value, mf, cleaned["value"])):
                errors.append(p)
            cleaned = cleaned.with_columns(
                mapped.alias("value"), pl.coalesce(value_notes, cleaned["notes"]).alias("notes")
            )
        field_notes = cleaned["notes"]
        if fill_note is not None:
            field_notes = pl.select(
                pl.concat_str([fill_note, field_notes], separator=NOTES_SEPARATOR, ignore_nulls=True)
            ).to_series()
        out = out.with_columns(
            series.alias(raw(name)),
            cleaned["value"].alias(val(name)),
            cleaned["key"].alias(key(name)),
            cleaned["reason"].alias(why(name)),
            field_notes.alias(notes(name)),
            *[cleaned[c].alias(attr(name, c.removeprefix("attr:"))) for c in cleaned.columns if c.startswith("attr:")],
        )
    out = _years_from_row(out, plan, source)
    out = apply_row_signals(out, plan, ctx)
    empty, empty_reason = _empty_rule(plan)
    out = out.with_columns(
        pl.lit(None, pl.String).alias(OUTCOME),
        pl.lit(None, pl.String).alias(REASON),
        pl.lit(None, pl.String).alias(RULE),
        empty.alias(EMPTY),
        (
            pl.concat_str(filled, separator=NOTES_SEPARATOR, ignore_nulls=True) if filled else pl.lit(None, pl.String)
        ).alias(FILLED),
    )
    if table.rejected_rows:
        out = _decide(out, _unreadable_rule(table), REJECTED, "unreadable row")
    out = _decide(out, (stop.is_not_null(), pl.lit("not a record: ") + stop), FILTERED, "not a record")
    out = _decide(out, (pl.col(EMPTY), empty_reason), FILTERED, "empty row")
    out = _decide(out, no_company_rule(plan, out), FILTERED, NO_COMPANY)
    if test_records != "keep":
        out = _decide(out, test_record_rule(plan, out), REJECTED if test_records == "reject" else FILTERED, TEST_RECORD)
    out = _decide(out, not_a_contact_rule(plan, out), FILTERED, NOT_A_CONTACT)
    for rule in plan.mapping.where:
        for condition in _scope_rule(rule, today):  # all must hold: a row goes with the first it fails
            out = _decide(out, condition, FILTERED, f"out of scope: {rule.field}")
    out = _decide(out, *_required_rule(plan))
    return Extracted(out, errors, warnings)


def _unreadable_rule(table: SourceTable) -> tuple[pl.Expr, pl.Expr]:
    """Rows the reader could not take as they are (a cell over the size limit), with the reader's reason."""
    bad = pl.DataFrame(
        {
            SHEET: [k[0] for k in table.rejected_rows],
            ROW: [k[1] for k in table.rejected_rows],
            "reason": list(table.rejected_rows.values()),
        },
        schema={SHEET: pl.String, ROW: pl.Int64, "reason": pl.String},
    )
    reasons = table.frame.select(SHEET, ROW).join(
        bad, on=[SHEET, ROW], how="left", nulls_equal=True, maintain_order="left"
    )["reason"]
    return pl.lit(reasons).is_not_null(), pl.lit(reasons)


def _record_starts(plan: EntityPlan, frame: pl.DataFrame, stop: pl.Series) -> pl.Series | None:
    """Rows whose own name is written (not empty, not 同上): each begins a record, whose other cells are not
    filled from the record above."""
    name = plan.field("name")
    if name is None or name.derive is not None or (expr := column_expr(name.column, frame.columns)) is None:
        return None
    return frame.select(written(expr) & pl.lit(stop).is_null()).to_series()


_YEAR = r"((?:19|20)\d{2})\s*年?"


def _years_from_row(out: pl.DataFrame, plan: EntityPlan, source: Source) -> pl.DataFrame:
    """A date written without its year (5月6日) takes the year of the row's other date (a visit on 5月6日 logged
    on 2025-05-07), or else of the period its sheet or file is named for (2025年拜访记录); a date no year can
    be found for stays invalid and is reported as such."""
    dates = [f.spec.name for f in plan.fields if f.spec.type is FieldType.date]
    if not any(attr(d, "month_day") in out.columns for d in dates):
        return out
    period = re.findall(_YEAR, Path(source.rel_file).stem)
    file_year = pl.lit(period[0] if len(set(period)) == 1 else None, pl.String)
    sheet_year = pl.col(SHEET).str.extract(_YEAR, 1)
    for d in dates:
        md = attr(d, "month_day")
        if md not in out.columns:
            continue
        others = [o for o in dates if o != d]
        from_row = pl.coalesce([pl.col(key(o)).str.slice(0, 4) for o in others]) if others else pl.lit(None, pl.String)
        where = pl.coalesce(
            [pl.when(pl.col(key(o)).is_not_null()).then(pl.lit(f"the row's {o}")) for o in others]
            + [
                pl.when(sheet_year.is_not_null()).then(pl.lit("the sheet's name")),
                pl.when(file_year.is_not_null()).then(pl.lit("the file's name")),
            ]
        )
        year = pl.coalesce(from_row, sheet_year, file_year)
        # MM-DD, or MM-DD HH:MM:SS where a time was written (1月26日 18:30)
        day = (year + "-" + pl.col(md).str.slice(0, 5)).str.to_date("%Y-%m-%d", strict=False).dt.to_string("%Y-%m-%d")
        moment = pl.when(pl.col(md).str.len_chars() > 5).then(day + pl.col(md).str.slice(5)).otherwise(day)
        hit = (pl.col(why(d)) == "date without a year") & day.is_not_null()
        note = pl.format("year {} taken from {}", year, where)
        out = out.with_columns(
            pl.when(hit).then(moment).otherwise(pl.col(val(d))).alias(val(d)),
            pl.when(hit).then(day).otherwise(pl.col(key(d))).alias(key(d)),
            pl.when(hit).then(pl.lit(None, pl.String)).otherwise(pl.col(why(d))).alias(why(d)),
            pl.when(hit)
            .then(pl.concat_str([pl.col(notes(d)), note], separator=NOTES_SEPARATOR, ignore_nulls=True))
            .otherwise(pl.col(notes(d)))
            .alias(notes(d)),
        )
    return out


def _ditto_warning(
    source: Source, table: SourceTable, mf: MappedField, series: pl.Series, stop: pl.Series
) -> Problem | None:
    """Where a column without ``fill_down`` says 同上 somewhere, a warning that those cells take the value
    above and that empty cells below a value (a merged cell) would too with ``fill_down``; else None."""
    ditto = pl.select(is_ditto(pl.lit(series)) & stop.is_null()).to_series()
    count = int(ditto.sum())
    if not count:
        return None
    first = ditto.arg_true()[0]
    return Problem(
        source.mapping_path,
        f"{count} cell(s) of column {mf.column!r} say {series[first]!r} (same as above): each "
        f"takes the {mf.spec.name} of the row above",
        line=source.doc.line_of(mf.loc),
        severity="warning",
        hint=f"where empty cells below a value mean the same (merged cells), write {mf.column}: "
        f"{{field: {mf.spec.name}, fill_down: true}}; first at {source.rel_file}"
        + (f"!{table.frame[SHEET][first]}" if table.frame[SHEET][first] else "")
        + f" row {table.frame[ROW][first]}",
    )


def _date_order(source: Source, table: SourceTable, entity: str, mf: MappedField, series: pl.Series) -> str | None:
    """The column's day/month order: the mapping's, or what its values show; unclear columns are reported."""
    if mf.date_order:
        return mf.date_order
    order = infer_order(series.drop_nulls().unique().to_list())
    if order in (AMBIGUOUS, MIXED):
        what = (
            "mixes day-first and month-first dates"
            if order == MIXED
            else "has dates like 05/03/2021 whose day and month order no value settles"
        )
        table.warnings.append(
            Problem(
                source.mapping_path,
                f"column {mf.column!r} {what}; they are invalid until the mapping says",
                line=source.doc.line_of(mf.loc),
                severity="warning",
                hint=f"write {mf.column}: {{field: {mf.spec.name}, date_order: dmy}}}} (or mdy)",
            )
        )
    return order


def _decide(
    frame: pl.DataFrame, rule: tuple[pl.Expr | pl.Series, pl.Expr] | None, outcome: str, code: str | pl.Expr
) -> pl.DataFrame:
    """Give ``outcome`` and the rule's reason to undecided rows where the rule's condition holds; ``code`` is
    the rule's name, or an expression naming it per row (with the field that broke it)."""
    if rule is None:
        return frame
    condition, reason = rule
    hit = pl.col(OUTCOME).is_null() & condition.fill_null(False)
    return frame.with_columns(
        pl.when(hit).then(pl.lit(outcome)).otherwise(pl.col(OUTCOME)).alias(OUTCOME),
        pl.when(hit).then(reason).otherwise(pl.col(REASON)).alias(REASON),
        pl.when(hit).then(pl.lit(code) if isinstance(code, str) else code).otherwise(pl.col(RULE)).alias(RULE),
    )


def _empty_rule(plan: EntityPlan) -> tuple[pl.Expr, pl.Expr]:
    """A row where none of the entity's data columns is filled holds no such record (a sales-sheet row with
    a company but no person holds no contact)."""
    data = [raw(f.spec.name) for f in plan.data_fields] or [raw(f.spec.name) for f in plan.fields]
    columns = ", ".join(f.column for f in plan.data_fields) or "any mapped column"
    return (
        pl.all_horizontal([pl.col(c).is_null() for c in data]),
        pl.lit(f"no {plan.entity.singular} on this row ({columns} empty)"),
    )


def _scope_rule(rule: Filter, today: dt.date) -> list[tuple[pl.Expr, pl.Expr]]:
    """Per condition of the rule, in the order written in `models.CONDITIONS`: (row fails it, reason)."""
    v = pl.col(val(rule.field))
    out = []
    for condition in rule.conditions():
        if condition == "equals":
            keep, text = v == rule.equals, f"{rule.field} is not {rule.equals}"
        elif condition == "in":
            listed = rule.in_ or []
            keep, text = v.is_in(listed), f"{rule.field} not in {', '.join(listed)}"
        elif condition == "not_in":
            listed = rule.not_in or []
            keep, text = ~v.is_in(listed), f"{rule.field} is one of {', '.join(listed)}"
        elif condition == "since":
            day = rule.since_date(today)
            since = day.isoformat() if day is not None else ""  # a "since" condition has its date
            # The match key of a date is its ISO day, and null when the value is not a date.
            keep, text = pl.col(key(rule.field)) >= since, f"{rule.field} before {since} or unknown"
        else:  # not_empty: true (false is refused by the model)
            keep, text = v.is_not_null(), f"{rule.field} is empty"
        out.append((~keep.fill_null(False), pl.lit(rule.reason or f"out of scope: {text}")))
    return out


REQUIRED = "required field empty or invalid"  # the rule's name; ": <field>" names the field that broke it


def _required_rule(plan: EntityPlan) -> tuple[tuple[pl.Expr, pl.Expr] | None, str, pl.Expr]:
    """A required field that is empty or invalid rejects the row; the reason names field and column, the
    rule the field (``required field empty or invalid: phone``). ``_decide``'s arguments after the frame."""
    checks, codes = [], []
    for mf in plan.fields:
        if not (mf.spec.required or mf.required) or mf.spec.name == ACCOUNT_LINK:
            continue  # the account link is checked when links are resolved
        name = mf.spec.name
        broken = pl.col(val(name)).is_null() | pl.col(why(name)).is_not_null()
        checks.append(
            pl.when(pl.col(val(name)).is_null())
            .then(pl.lit(f"required {name} is empty (column {mf.column})"))
            .when(pl.col(why(name)).is_not_null())
            .then(
                pl.format(
                    f"required {name} is invalid: {{}} (column {mf.column}: {{}})", pl.col(why(name)), pl.col(raw(name))
                )
            )
        )
        codes.append(pl.when(broken).then(pl.lit(f"{REQUIRED}: {name}")))
    if not checks:
        return None, REJECTED, pl.lit(REQUIRED)
    reason = pl.coalesce(checks)
    return (reason.is_not_null(), reason), REJECTED, pl.coalesce(codes)


def legacy_id(plan: EntityPlan) -> pl.Expr:
    """The row's own id in its legacy system, if the source maps one."""
    return pl.col(val(ID_FIELD)) if plan.field(ID_FIELD) else pl.lit(None, pl.String)
