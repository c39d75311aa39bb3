"""Matching stays within its pair budget on a pathological source: one company name and one switchboard on
thousands of rows give one huge block per key, which is skipped and reported, never paired out."""

from __future__ import annotations

import polars as pl
import pytest

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate import blocking
from crm_migrate.migrate.quality import left_out
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

MAPPING = """\
file: data/a.csv
entities:
  accounts:
    columns: {名称: name, 电话: phone, 地址: address}
"""
SAME = 5_000  # rows with one name and one phone
COMPANIES = 4_000
BRANDS = "星辰云帆华创博远恒通瑞丰嘉禾天泽鼎盛汇智锐思启明联宏达新卓越航金桥德信"


def _csv() -> str:
    rows = ["名称,电话,地址"]
    rows += ["北京星辰科技有限公司,010-88888888,"] * SAME
    # Ordinary companies, each written twice (the second time without its region): enough of them that the
    # common name and phone stay a minority of random pairs (else they would say nothing and be left out).
    n = len(BRANDS)
    for i in range(COMPANIES):
        brand = BRANDS[i % n] + BRANDS[(i // n) % n] + BRANDS[(i // n // n) % n]
        phone = f"021-5{i:07d}"
        rows.append(f"上海{brand}贸易有限公司,{phone},上海市浦东新区世纪大道{i + 1}号")
        rows.append(f"{brand}贸易有限公司,{phone},")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def pathological(tmp_path_factory):
    root = tmp_path_factory.mktemp("budget") / "project"
    (root / "mappings").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "migration.yaml").write_text("name: budget\nentities: [accounts]\n", encoding="utf-8")
    (root / "mappings" / "a.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "data" / "a.csv").write_text(_csv(), encoding="utf-8")
    return root


def test_a_huge_block_is_skipped_reported_and_the_pairs_stay_within_the_budget(pathological):
    migration = prepare(load_project(pathological)).migration
    result = migration.entities[Entity.accounts]
    frame, matches = result.frame, result.matches
    live = SAME + 2 * COMPANIES
    assert matches.pairs.height <= blocking.pair_budget(live)[1]
    # No pair inside the block of 5,000 (it alone would be 12.5 million).
    assert matches.pairs.height < 20 * COMPANIES
    capped = {c.name: c for c in matches.capped}
    assert "phone" in capped and "name" in capped and capped["phone"].blocks == 1
    assert f"{SAME:,} records sharing one value" in capped["phone"].why
    # The report has them, with the records in the block (the key's one block of 5,000) and its pairs.
    skipped = {b["key"]: b for b in left_out(result)["blocks_skipped"]}
    assert skipped["phone"] == {
        "key": "phone",
        "blocks": 1,
        "largest": SAME,
        "records": SAME,
        "pairs": SAME * (SAME - 1) // 2,
        "limit": blocking.MAX_BLOCK,
    }
    assert skipped["name"]["largest"] == SAME
    assert not any("blocking key" in w.message for w in migration.warnings)  # not as a warning besides
    # The ordinary companies still meet their other half.
    assert frame.filter(pl.col("_outcome") == "merged").height >= 0.95 * COMPANIES


def test_keys_past_the_total_budget_are_dropped_finest_first(pathological, monkeypatch):
    monkeypatch.setattr(blocking, "TOTAL_PAIRS_PER_ROW", 0)
    monkeypatch.setattr(blocking, "MIN_BUDGET", 400)
    monkeypatch.setattr(blocking, "MAX_PAIRS", 0)
    migration = prepare(load_project(pathological)).migration
    matches = migration.entities[Entity.accounts].matches
    per_key, total = blocking.pair_budget(SAME + 2 * COMPANIES)
    assert (per_key, total) == (4 * (SAME + 2 * COMPANIES), 400)
    assert matches.pairs.height <= total
    past = [k for k in matches.skipped_keys if "past the pair budget" in k.why]
    assert past, matches.skipped_keys
    assert any(
        k["why"] == "past the budget" and k["records"] > 0
        for k in left_out(migration.entities[Entity.accounts])["keys_left_out"]
    )
