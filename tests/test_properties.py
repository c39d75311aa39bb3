"""Properties every cleaner keeps: it never raises, cleaning a clean value changes nothing, and no digit of a
phone number or code is lost."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_migrate.cleaners import CLEANERS, CleanContext, Cleaned
from crm_migrate.mappings.entities import FieldType as T

CTX = CleanContext(secret=b"test")
ALL_TYPES = list(CLEANERS)
TEXTY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
CHINESE = st.text(
    alphabet="北京上海深圳星辰科技有限公司张伟李娜王（）() 区市省路号0123456789１２３-—/,，。@＠.", max_size=30
)


@pytest.mark.parametrize("kind", ALL_TYPES, ids=lambda k: k.value)
@given(value=st.one_of(TEXTY, CHINESE))
def test_never_raises(kind, value):
    """Whatever the text, a cleaner returns a whole `Cleaned`: text or nothing in each place, a reason that
    says something, notes that name a rule, parts as (name, text) pairs; a valid value is trimmed text, never
    empty; and a value with a letter or digit in it is never lost without a reason or a note saying why."""
    result = CLEANERS[kind](value, CTX)
    assert isinstance(result, Cleaned)
    assert result.value is None or isinstance(result.value, str)
    assert result.key is None or isinstance(result.key, str)
    assert result.reason is None or (isinstance(result.reason, str) and result.reason.strip())
    assert isinstance(result.notes, tuple) and all(isinstance(n, str) and n.strip() for n in result.notes)
    assert isinstance(result.attrs, tuple)
    assert all(isinstance(name, str) and (part is None or isinstance(part, str)) for name, part in result.attrs)
    if result.valid and result.value is not None:
        assert result.value and result.value == result.value.strip(), result
    if result.value is None and any(unicodedata.category(ch)[0] in "LN" for ch in value):
        assert result.reason or result.notes, (value, result)  # dropped, and saying why


@pytest.mark.parametrize("kind", [k for k in ALL_TYPES if k is not T.id_card], ids=lambda k: k.value)
@given(value=st.one_of(TEXTY, CHINESE))
def test_idempotent(kind, value):
    first = CLEANERS[kind](value, CTX)
    if first.value is None or not first.valid:
        return
    second = CLEANERS[kind](first.value, CTX)
    assert second.value == first.value, (value, first, second)


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
LANDLINE = st.from_regex(r"0(10|2[0-9]|[3-9][0-9]{2})[2-8][0-9]{6,7}", fullmatch=True)
DECORATION = st.sampled_from(["{}", "+86 {}", "86{}", "tel:{}", " {} ", "{}转88", "{} ext 12", "手机：{}"])


@given(number=st.one_of(MOBILE, LANDLINE), decoration=DECORATION, separator=st.sampled_from(["", " ", "-"]))
def test_phones_never_lose_digits(number, decoration, separator):
    written = separator.join([number[:3], number[3:7], number[7:]])
    raw = decoration.format(written)
    result = CLEANERS[T.phone](raw, CTX)
    parts = dict(result.attrs)
    kept = digits(result.value) + digits(parts.get("extension")) + digits(parts.get("others"))
    assert is_subsequence(number.lstrip("0"), kept), (raw, result)


@given(code=st.from_regex(r"[0-9A-Z]{15,18}", fullmatch=True), kind=st.sampled_from([T.uscc, T.id_card]))
def test_codes_never_lose_characters(code, kind):
    result = CLEANERS[kind](code, CTX)
    if len(set(code)) == 1:  # 000000000000000000: a placeholder, read as empty and said so
        assert result.value is None and result.notes == (f"placeholder '{code}' read as empty",), (code, result)
        return
    assert is_subsequence(code, result.value or ""), (code, result)
