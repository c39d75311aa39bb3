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
    return pl.DataFrame(
        {
            "_outcome": [None] * 6,
            "p": [["a", "b"], ["a"], ["b"], ["c"], [None], ["a", "b"]],
            "q": ["x", "x", "x", "x", "y", "y"],
        },
        schema_overrides={"_outcome": pl.String},
    )


KEYS = [BlockingKey("p", pl.col("p"), ()), BlockingKey("q", pl.col("q"), ())]


def test_a_key_too_coarse_counts_its_pairs_and_each_record_once(monkeypatch):
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)
    pairs, _, dropped, capped = candidate_pairs(_frame(), KEYS)
    assert pairs.is_empty() and capped == []
    assert [(d.name, d.pairs, d.records, d.reason) for d in dropped] == [
        ("p", 6, 4, blocking.TOO_COARSE),
        ("q", 7, 6, blocking.TOO_COARSE),
    ]


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
        ("p", 2, 3, 4, 6, blocking.BLOCKS_TOO_LARGE),
        ("q", 1, 4, 4, 6, blocking.BLOCKS_TOO_LARGE),
    ]


def _coarse() -> pl.DataFrame:
    # c and e: blocks of 2, 2, 3 and 5 records (1 + 1 + 3 + 10 = 15 pairs) over twelve records each, on other rows.
    shape = ["a", "a", "b", "b", "c", "c", "c", "d", "d", "d", "d", "d"]
    return pl.DataFrame(
        {"_outcome": [None] * 24, "c": shape + [None] * 12, "e": [None] * 12 + shape},
        schema_overrides={"_outcome": pl.String, "c": pl.String, "e": pl.String},
    )


def test_a_key_past_its_budget_is_kept_without_its_largest_blocks(monkeypatch):
    """A coarse key (a brand's sound at a million companies) loses its most common values, not all of them: its
    block limit is lowered until its pairs fit the key's budget."""
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "MIN_BUDGET", 6)  # 6 pairs a key: the blocks of 2, 2 and 3 (5 pairs) fit
    pairs, _, dropped, capped = candidate_pairs(_coarse(), [BlockingKey("c", pl.col("c"), ())])
    assert dropped == [] and pairs.height == 5
    assert (7, 8) not in pairs.rows() and (4, 6) in pairs.rows()
    [c] = capped
    assert (c.name, c.blocks, c.largest, c.records, c.pairs, c.reason) == ("c", 1, 5, 5, 10, blocking.BLOCKS_TOO_LARGE)
    assert c.limit == 4  # the highest that fits: its blocks of 2, 2 and 3 records paired, of 5 not
    assert f"(lowered from {blocking.MAX_BLOCK} to keep within the pair budget)" in c.why


def test_keys_past_the_budget_share_what_is_left_of_it(monkeypatch):
    """Two coarse keys get one lowered limit, at which both fit the total left: neither takes it all."""
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "TOTAL_PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "MAX_PAIRS", 0)
    monkeypatch.setattr(blocking, "MIN_BUDGET", 12)  # 12 pairs a key and in all: 5 + 5 fit, 15 + 5 do not
    keys = [BlockingKey("c", pl.col("c"), ()), BlockingKey("e", pl.col("e"), ())]
    pairs, by_key, dropped, capped = candidate_pairs(_coarse(), keys)
    assert dropped == [] and pairs.height == 10
    assert [(k.name, where.size) for k, where in by_key] == [("c", 5), ("e", 5)]
    assert [(c.name, c.largest) for c in capped] == [("c", 5), ("e", 5)]
    monkeypatch.setattr(blocking, "MIN_BUDGET", 4)  # the blocks of two alone (2 + 2) fit; of three not
    pairs, by_key, dropped, capped = candidate_pairs(_coarse(), keys)
    assert pairs.height == 4 and dropped == [] and [c.largest for c in capped] == [5, 5]
    monkeypatch.setattr(blocking, "MIN_BUDGET", 3)  # not even both keys' blocks of two: the coarsest stays out
    pairs, by_key, dropped, capped = candidate_pairs(_coarse(), keys)
    assert pairs.height == 2 and [(d.name, d.reason) for d in dropped] == [("e", blocking.TOO_COARSE)]


BRANDS = [
    "星辰",
    "云帆",
    "华创",
    "博远",
    "恒通",
    "瑞丰",
    "嘉禾",
    "天泽",
    "鼎盛",
    "汇智",
    "锐思",
    "启明",
    "联宏",
    "卓越",
    "金桥",
    "德信",
    "海岳",
    "松涛",
    "梅林",
    "竹石",
]


@pytest.fixture
def crowded(make_project, monkeypatch, tmp_path):
    """Twenty companies, five on each of four switchboards, and nine records of one company with numbers of
    their own; the budget made small enough for that to matter: a key may give 1 pair per record, a block
    hold 8 records. The phone key's four blocks give 4 x 10 = 40 pairs over 20 records, more than 1 per
    record of the 29: left out as too coarse. The name's one block of 9 (36 pairs) is skipped for size."""
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)
    monkeypatch.setattr(blocking, "PAIRS_PER_ROW", 1)
    monkeypatch.setattr(blocking, "MAX_BLOCK", 8)
    rows = ["名称,电话"] + [f"{b}贸易有限公司,010-6234{i // 5:04d}" for i, b in enumerate(BRANDS)]
    rows += [f"北京青木科技有限公司,021-5555{i:04d}" for i in range(9)]
    root = make_project(
        "name: crowded\nentities: [accounts]\noptions: {today: 2026-01-01}\n",
        {"a": "file: data/a.csv\nentities:\n  accounts:\n    columns: {名称: name, 电话: phone}\n"},
        {"data/a.csv": "\n".join(rows) + "\n"},
    )
    result = CliRunner().invoke(app, ["run", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    return tmp_path / "out", result.output


def test_a_key_left_out_is_in_quality_json_the_report_and_the_summary(crowded):
    out, output = crowded
    blocking_json = json.loads((out / "reports/quality.json").read_text(encoding="utf-8"))["blocking"]
    assert blocking_json["accounts"]["keys_left_out"] == [
        {"key": "phone", "why": "too coarse", "detail": "more than 1 pairs per record", "pairs": 40, "records": 20}
    ]
    page = (out / "reports/quality.html").read_text(encoding="utf-8")
    assert "<h2>Blocking keys left out: accounts</h2>" in page
    assert (
        '<tr><td>phone</td><td>too coarse: more than 1 pairs per record</td><td class="n">40</td>'
        '<td class="n">20</td></tr>'
    ) in page
    assert "accounts: blocking key phone left out (40 pairs over 20 records: more than 1 pairs per record)" in output


def test_blocks_skipped_for_size_are_in_quality_json_the_report_and_the_summary(crowded):
    out, output = crowded
    skipped = json.loads((out / "reports/quality.json").read_text(encoding="utf-8"))["blocking"]["accounts"][
        "blocks_skipped"
    ]
    assert {"key": "name", "blocks": 1, "largest": 9, "records": 9, "pairs": 36, "limit": 8} in skipped
    page = (out / "reports/quality.html").read_text(encoding="utf-8")
    assert "<h2>Blocks skipped for size: accounts</h2>" in page
    assert (
        '<tr><td>name</td><td class="n">1</td><td class="n">8</td><td class="n">9</td><td class="n">9</td>'
        '<td class="n">36</td></tr>'
    ) in page
    assert (
        "accounts: blocking key name: 1 block(s) of more than 8 records, the largest 9 records sharing one "
        "value, not paired (36 pairs over 9 records)"
    ) in output
