"""The demo data comes from the seeded generator: same seed, same bytes; the truth covers every row."""

from __future__ import annotations

import csv
import importlib.util
import sys

from .conftest import DEMO, ROOT


def load_generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "samples" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_demo_data(tmp_path):
    load_generator().generate(tmp_path, 240, 20261122)
    for path in sorted((DEMO / "data").iterdir()) + sorted((DEMO / "truth").iterdir()):
        rel = path.relative_to(DEMO)
        assert (tmp_path / rel).read_bytes() == path.read_bytes(), rel
    assert (tmp_path / "migration.yaml").exists()  # a generated project is runnable


def test_truth_names_a_true_identity_for_every_row_of_the_matching_sources():
    with (DEMO / "truth" / "truth.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_source = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    assert set(by_source) == {"old_crm_accounts", "old_crm_contacts", "old_crm_opportunities", "old_crm_activities",
                              "sales_workbook", "sales_pipeline", "event_signups", "address_book"}
    assert all(r["truth"].split(":")[0] in {"company", "person", "opportunity", "activity", "garbage", "none"}
               for r in rows)
    # Duplicates exist across sources: the same company shows up more than once.
    companies = [r["truth"] for r in rows if r["entity"] == "accounts" and r["truth"].startswith("company:")]
    assert len(companies) > len(set(companies))


def test_truth_tags_name_the_phenomena_the_generator_plants():
    """Every phenomenon issue 12 lists shows up in the demo, tagged, in a minority of rows."""
    with (DEMO / "truth" / "truth.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tags = [t for r in rows for t in r["tag"].split(";") if t]
    for tag in ("english_pinyin", "english_calque", "homophone", "dropped_char", "legal_form_typo", "short_name",
                "event_city", "landline_in_mobile", "salutation", "title_in_name", "pinyin_name",
                "dup_opportunity"):
        assert tag in tags, tag
    accounts = [r for r in rows if r["entity"] == "accounts"]
    assert sum(1 for r in accounts if r["tag"] not in ("", "spacing")) < 0.5 * len(accounts)
