"""Junk and real values: the classifier in cleaners/garbage.py measured on a fixture of hand-written rows
(tests/fixtures/junk/values.csv: real-looking junk, and real values that look like junk), then unit tests of
each rule and of the choices the fixture cannot show one by one."""

from __future__ import annotations

import csv
import time
from collections import Counter

import pytest

from crm_migrate.cleaners import CleanContext
from crm_migrate.cleaners.company import clean_company_name
from crm_migrate.cleaners.garbage import (
    garbage_name,
    not_a_contact,
    placeholder_company,
    placeholder_email,
    placeholder_person,
    placeholder_phone,
    service_number,
    marked_as_test,
)
from crm_migrate.cleaners.person import clean_person_name
from tests.conftest import FIXTURES

CTX = CleanContext()
VALUES = FIXTURES / "junk" / "values.csv"
AGREEMENT = 0.98


def _rows() -> list[dict[str, str]]:
    with VALUES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(";") if p.strip()]


def classify(row: dict[str, str]) -> str | None:
    """Why the row's value is junk, or None: each kind as its caller sees it (a company's name cleaned, with its
    match key; a person's cleaned name for garbage_name and the name as typed for the contact rules)."""
    kind, value = row["kind"], row["value"]
    phones, emails = _split(row["phones"]), _split(row["emails"])
    if kind == "company":
        cleaned = clean_company_name(value, CTX)
        return garbage_name(cleaned.value or value, cleaned.key) or placeholder_company(value)
    if kind in ("person", "phone_book"):
        # The person cleaner moves bracketed and trailing words out of the name (王伟（测试） -> 王伟, title 测试),
        # so the name as typed is checked as well as the cleaned one.
        cleaned = clean_person_name(value, CTX).value if value.strip() else None
        return ((value.strip() and garbage_name(value)) or (cleaned and garbage_name(cleaned))
                or placeholder_person(value, emails, phones) or not_a_contact(value, phones))
    if kind == "email":
        return placeholder_email(value)
    if kind == "phone":
        return placeholder_phone(value)
    raise AssertionError(f"unknown kind {kind!r}")


def test_fixture_is_large_and_balanced():
    rows = _rows()
    assert len(rows) >= 180
    verdicts = Counter((r["kind"], r["verdict"]) for r in rows)
    for kind in ("company", "person", "phone_book", "email", "phone"):
        assert verdicts[kind, "junk"] >= 5 and verdicts[kind, "real"] >= 5, kind
    assert {r["verdict"] for r in rows} == {"junk", "real"}
    assert all(r["why"] for r in rows)


def test_classifier_agrees_with_the_fixture():
    rows = _rows()
    wrong, per_kind = [], Counter()
    for row in rows:
        reason = classify(row)
        got = "junk" if reason else "real"
        per_kind[row["kind"], got == row["verdict"]] += 1
        if got != row["verdict"]:
            wrong.append(f"{row['kind']:<10} {row['value']!r} phones={row['phones']!r} emails={row['emails']!r}: "
                         f"expected {row['verdict']} ({row['why']}), got {got} ({reason})")
    agreement = 1 - len(wrong) / len(rows)
    kinds = sorted({k for k, _ in per_kind})
    summary = ", ".join(f"{k} {per_kind[k, True]}/{per_kind[k, True] + per_kind[k, False]}" for k in kinds)
    print(f"\nagreement {agreement:.3f} on {len(rows)} rows ({summary})")
    print("\n".join(wrong))
    assert agreement >= AGREEMENT, "\n".join(wrong)


def test_fast_enough_for_every_distinct_value():
    rows = _rows()
    start = time.perf_counter()
    for _ in range(20):
        for row in rows:
            v, phones, emails = row["value"], _split(row["phones"]), _split(row["emails"])
            garbage_name(v), placeholder_company(v), placeholder_person(v, emails, phones), not_a_contact(v, phones)
    per_value = (time.perf_counter() - start) / (20 * len(rows))
    assert per_value < 200e-6, f"{per_value * 1e6:.0f} µs per value"
