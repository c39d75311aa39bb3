"""Rows that must not become a customer: test records, placeholders, "no company", family and service entries.

The verdicts come from ``cleaners.garbage``; this module applies them to a source's rows, once per distinct
value, and says what each verdict does to the row:

    test record      测试客户, ceshi01, 张三 with test@test.com   rejected (``options.test_records``: reject,
                     or a project may filter or keep them)
    no company       无, 个人, 自由职业, N/A as the account name      the account is filtered ("not an account");
                                                                   the person on its row stays, without one
    not a contact    妈妈, 顺丰快递-小王, only 95555 or 10086         the contact is filtered ("not a contact")

Plain Chinese names (a common surname and ordinary characters, most of a contact list) are told apart by one
vectorised expression first, so that the rules run only on the values that might be junk.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.garbage import (
    garbage_name,
    not_a_contact,
    placeholder_company,
    placeholder_person,
    plain_company_patterns,
    plain_person,
    plain_text,
    real_company_pattern,
    service_number,
)
from crm_migrate.mappings.entities import FieldType
from crm_migrate.migrate.columns import RULE, key, raw, val, why
from crm_migrate.project import EntityPlan

NO_COMPANY, NOT_A_CONTACT, TEST_RECORD = "no company", "not a contact", "test record"
Rule = tuple[pl.Expr, pl.Expr]


def says_no_company() -> pl.Expr:
    """Rows decided as "no company" (an account named 无, 个人, N/A): their people have no account."""
    return (pl.col(RULE) == NO_COMPANY).fill_null(False)


def _plain_person(column: str) -> pl.Expr:
    return plain_person(pl.col(column))


@lru_cache(maxsize=1)
def _company_patterns() -> tuple[str, str]:
    return plain_company_patterns()


def _plain_company(name: str, key_: str) -> pl.Expr:
    value, k = pl.col(name), pl.col(key_)
    repeated = k.str.slice(1) == k.str.slice(0, k.str.len_chars() - 1)  # 啊啊啊: one character over and over
    return (
        value.str.contains(_company_patterns()[0])
        & k.str.contains(r"^[\u4e00-\u9fa5]{2,}$")
        & k.str.contains(_company_patterns()[1])
        & ~repeated
    ).fill_null(False)


def _by_value(frame: pl.DataFrame, column: str, verdict, skip: pl.Expr | None = None) -> pl.Expr | None:
    """``verdict(value)`` for every distinct value of ``column`` (except where ``skip`` holds), as an
    expression giving each row its value's verdict."""
    values = frame.lazy().filter(pl.col(column).is_not_null() & ~(skip if skip is not None else pl.lit(False)))
    distinct = values.select(pl.col(column).unique()).collect().to_series().to_list()
    reasons = {v: r for v in distinct if (r := verdict(v)) is not None}
    if not reasons:
        return None
    return pl.col(column).replace_strict(reasons, default=None, return_dtype=pl.String)


def _phones(plan: EntityPlan) -> list[str]:
    return [f.spec.name for f in plan.fields if f.spec.type is FieldType.phone]


def _emails(plan: EntityPlan) -> list[str]:
    return [f.spec.name for f in plan.fields if f.spec.type is FieldType.email]


def _by_row(frame: pl.DataFrame, rows: pl.Expr, columns: list[str], verdict) -> pl.Expr | None:
    """``verdict(*values)`` for every distinct combination of ``columns`` on the rows where ``rows`` holds."""
    combos = frame.lazy().filter(rows.fill_null(False)).select(columns).unique().collect()
    if not combos.height:
        return None
    found = [(*r, reason) for r in combos.iter_rows() if (reason := verdict(*r)) is not None]
    if not found:
        return None
    table = pl.DataFrame(found, schema={**{c: pl.String for c in columns}, "_verdict": pl.String}, orient="row")
    verdicts = frame.select(columns).join(table, on=columns, how="left", nulls_equal=True, maintain_order="left")
    return pl.lit(verdicts["_verdict"])


def no_company_rule(plan: EntityPlan, frame: pl.DataFrame) -> Rule | None:
    """An account named 无, 个人, 自由职业, N/A ...: no account."""
    name = plan.field("name")
    if name is None or name.spec.type is not FieldType.company_name:
        return None
    reason = _by_value(
        frame, raw("name"), placeholder_company, skip=pl.col(raw("name")).str.contains(real_company_pattern())
    )
    if reason is None:
        return None
    return reason.is_not_null(), pl.lit("not an account: ") + reason


def test_record_rule(plan: EntityPlan, frame: pl.DataFrame) -> Rule | None:
    """A test marker or mash as the name, a placeholder person (张三 with test@test.com), or no name and only
    placeholder phone numbers."""
    name = plan.field("name")
    checks = []
    phones = _phones(plan)
    if name is not None:
        company = name.spec.type is FieldType.company_name
        person = name.spec.type is FieldType.person_name
        # A company is judged by its name key (legal form and region already gone), computed once per value.
        names = frame.lazy().select(val("name"), key("name") if company else pl.lit(None, pl.String).alias("_k"))
        skip = (
            _plain_person(val("name"))
            if person
            else _plain_company(val("name"), key("name"))
            if company
            else plain_text(pl.col(val("name")))
        )
        pairs = names.filter(pl.col(val("name")).is_not_null() & ~skip).unique().collect()
        reasons = {v: r for v, k in pairs.iter_rows() if (r := garbage_name(v, k)) is not None}
        if reasons:
            checks.append(pl.col(val("name")).replace_strict(reasons, default=None, return_dtype=pl.String))
        if person:
            contact = [raw(f) for f in _emails(plan) + phones]
            candidates = _by_value(frame, raw("name"), placeholder_person, skip=_plain_person(raw("name")))
            if candidates is not None and contact:
                n_emails = len(_emails(plan))

                def verdict(name: str, *values: str | None) -> str | None:
                    return placeholder_person(name, values[:n_emails], values[n_emails:])

                found = _by_row(frame, candidates.is_not_null(), [raw("name"), *contact], verdict)
                if found is not None:
                    checks.append(found)
            elif candidates is not None:
                checks.append(candidates)
    if phones:
        placeholder = [pl.col(why(p)) == "placeholder number" for p in phones]
        unnamed = pl.col(val("name")).is_null() if name is not None else pl.lit(True)
        checks.append(
            pl.when(
                unnamed
                & pl.any_horizontal(placeholder)
                & pl.all_horizontal([pl.col(val(p)).is_null() | c for p, c in zip(phones, placeholder, strict=True)])
            ).then(pl.lit("no name and only placeholder phone numbers"))
        )
    if not checks:
        return None
    reason = pl.coalesce(checks)
    return reason.is_not_null(), pl.lit("test record: ") + reason


def _service_candidate(column: str) -> pl.Expr:
    """Numbers that might be a service's (95555, 10086, 400 hotlines, 010-12345): short, or 400/800/106."""
    digits = pl.col(column).str.replace_all(r"\D", "")
    return (digits.str.len_chars() <= 10) | digits.str.contains(r"^(?:400|800|106)")


def not_a_contact_rule(plan: EntityPlan, frame: pl.DataFrame) -> Rule | None:
    """A family or service entry (妈妈, 顺丰快递-小王, 招商银行客服), or a contact whose only numbers are
    service numbers."""
    name = plan.field("name")
    if name is None or name.spec.type is not FieldType.person_name:
        return None
    checks = []
    by_name = _by_value(frame, raw("name"), not_a_contact, skip=_plain_person(raw("name")))
    if by_name is not None:
        checks.append(by_name)
    phones = [raw(p) for p in _phones(plan)]
    if phones:
        services = [_by_value(frame, p, service_number, skip=~_service_candidate(p)) for p in phones]
        if any(s is not None for s in services):
            only_services = pl.any_horizontal([pl.col(p).is_not_null() for p in phones]) & pl.all_horizontal(
                [
                    pl.col(p).is_null() | (s.is_not_null() if s is not None else pl.lit(False))
                    for p, s in zip(phones, services, strict=True)
                ]
            )
            found = _by_row(frame, only_services, [raw("name"), *phones], lambda n, *numbers: not_a_contact(n, numbers))
            if found is not None:
                checks.append(found)
    if not checks:
        return None
    reason = pl.coalesce(checks)
    return reason.is_not_null(), pl.lit("not a contact: ") + reason
