"""What the pair budget left out is visible: a blocking key dropped (too coarse, or past the budget) and a
key's blocks skipped for size are counted (pairs, and the records they would have compared) on the block
sizes, and appear per entity in quality.json, the quality report and the run's summary in the terminal."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.migrate import blocking
from crm_migrate.migrate.blocking import BlockingKey, candidate_pairs


def _frame() -> pl.DataFrame:
    # p: a list key; record 0 and 5 hold a and b, so blocks a {0, 1, 5} and b {0, 2, 5} hold 4 records
    # between them and give 3 + 3 pairs. q: blocks x {0, 1, 2, 3} (6 pairs) and y {4, 5} (1 pair).
    return pl.DataFrame({"_outcome": [None] * 6, "p": [["a", "b"], ["a"], ["b"], ["c"], [None], ["a", "b"]],
                         "q": ["x", "x", "x", "x", "y", "y"]}, schema_overrides={"_outcome": pl.String})


KEYS = [BlockingKey("p", pl.col("p"), ()), BlockingKey("q", pl.col("q"), ())]


def test_a_key_too_coarse_counts_its_pairs_and_each_record_once(monkeypatch):
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)
    pairs, _, dropped, capped = candidate_pairs(_frame(), KEYS)
    assert pairs.is_empty() and capped == []
    assert [(d.name, d.pairs, d.records, d.reason) for d in dropped] == [
        ("p", 6, 4, blocking.TOO_COARSE), ("q", 7, 6, blocking.TOO_COARSE)]


def test_a_key_past_the_budget_counts_its_pairs_and_records(monkeypatch):
    monkeypatch.setattr(blocking, "TOTAL_PAIRS_PER_ROW", 1)  # 6 pairs on 6 records: p's fit, q's do not
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)
    monkeypatch.setattr(blocking, "MAX_PAIRS", 0)
    pairs, _, dropped, _ = candidate_pairs(_frame(), KEYS)
    assert pairs.height == 5  # 0 and 5 share a and b: one pair, counted in each block
    [d] = dropped
    assert (d.name, d.pairs, d.records, d.reason) == ("q", 7, 6, blocking.PAST_BUDGET)
    assert d.why.startswith("past the pair budget (6 pairs, 6 spent on finer keys)")


def test_blocks_skipped_for_size_count_blocks_the_largest_and_their_records(monkeypatch):
    monkeypatch.setattr(blocking, "MAX_BLOCK", 2)  # a, b and x are too large; y {4, 5} is paired
    pairs, _, dropped, capped = candidate_pairs(_frame(), KEYS)
    assert dropped == [] and pairs.rows() == [(4, 5)]
    assert [(c.name, c.blocks, c.largest, c.records, c.pairs, c.reason) for c in capped] == [
        ("p", 2, 3, 4, 6, blocking.BLOCKS_TOO_LARGE), ("q", 1, 4, 4, 6, blocking.BLOCKS_TOO_LARGE)]
