"""The helper process that cleans half of each large batch of values: the same results, whatever it does."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time

import pytest

from crm_migrate.cleaners import CLEANERS, CleanContext, helper
from crm_migrate.mappings.entities import FieldType

NAMES = [
    f"{city}星辰{trade}{i}有限公司"
    for i in range(40)
    for city in ("北京", "（上海）", "深圳市")
    for trade in ("科技", "贸易 ")
] + ["Xingchen Tech Co., Ltd.", "  星辰科技有限公司上海分公司 ", "无"]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(helper, "MIN_VALUES", 10)
    monkeypatch.delenv(helper.OFF, raising=False)


def _ready(within: float = 60.0) -> helper._Helper:
    worker = helper._helper
    assert worker is not None
    deadline = time.monotonic() + within
    while not worker.usable():
        assert not worker.dead and time.monotonic() < deadline, "the helper did not start"
        time.sleep(0.05)
    return worker


def test_the_helper_cleans_half_a_batch_as_this_process_would(small_batches):
    cleaner, ctx = CLEANERS[FieldType.company_name], CleanContext(secret=b"k" * 32)
    expected = [cleaner(v, ctx) for v in NAMES]
    with helper.helping():
        worker = _ready()
        got = helper.clean_values(NAMES, cleaner, ctx)
        assert worker.batches == 1 and not worker.dead  # the worker did clean its half
    assert got == expected
    assert helper._helper is None and worker.process.poll() is not None  # it ended with the block


def test_a_helper_that_dies_costs_only_its_half_cleaned_here(small_batches):
    cleaner, ctx = CLEANERS[FieldType.company_name], CleanContext()
    with helper.helping():
        worker = _ready()
        worker.process.kill()
        worker.process.wait()
        got = helper.clean_values(NAMES, cleaner, ctx)
        assert worker.dead
    assert got == [cleaner(v, ctx) for v in NAMES]


def test_a_helper_that_never_answers_is_given_up(small_batches, monkeypatch):
    ready = pickle.dumps(("ready",))
    stuck = (
        f"import sys, time; sys.stdout.buffer.write({helper._HEAD.pack(len(ready)) + ready!r}); "
        "sys.stdout.flush(); sys.stdin.buffer.read(); time.sleep(120)"
    )

    def start() -> helper._Helper:
        return helper._Helper(
            subprocess.Popen([sys.executable, "-c", stuck], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        )

    monkeypatch.setattr(helper._Helper, "start", staticmethod(start))
    monkeypatch.setattr(helper, "WAIT_LEAST", 0.5)
    cleaner, ctx = CLEANERS[FieldType.company_name], CleanContext()
    got = []
    with helper.helping():
        worker = _ready()
        cleaning = threading.Thread(target=lambda: got.extend(helper.clean_values(NAMES, cleaner, ctx)), daemon=True)
        cleaning.start()
        cleaning.join(30)
        alive = cleaning.is_alive()
        if alive:
            worker.process.kill()  # so that the test fails instead of hanging
    assert not alive, "clean_values waited for a worker that never answers"
    assert got == [cleaner(v, ctx) for v in NAMES]
    assert worker.dead and worker.process.poll() is not None


def test_a_helper_that_would_run_another_crm_migrate_is_not_used(small_batches, monkeypatch):
    monkeypatch.setattr(helper, "_package_file", lambda: "/elsewhere/crm_migrate/__init__.py")
    cleaner, ctx = CLEANERS[FieldType.company_name], CleanContext()
    with helper.helping():
        worker = helper._helper
        worker.process.wait(60)  # it stops at once, without a word
        got = helper.clean_values(NAMES, cleaner, ctx)
        assert worker.dead and worker.batches == 0
    assert got == [cleaner(v, ctx) for v in NAMES]
