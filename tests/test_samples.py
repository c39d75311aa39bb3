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
    assert set(by_source) == {
        "old_crm_accounts",
        "old_crm_contacts",
        "old_crm_opportunities",
        "old_crm_activities",
        "sales_workbook",
        "sales_pipeline",
        "event_signups",
        "address_book",
    }
    assert all(
        r["truth"].split(":")[0] in {"company", "person", "opportunity", "activity", "garbage", "none"} for r in rows
    )
    # Duplicates exist across sources: the same company shows up more than once.
    companies = [r["truth"] for r in rows if r["entity"] == "accounts" and r["truth"].startswith("company:")]
    assert len(companies) > len(set(companies))


def test_truth_tags_name_the_phenomena_the_generator_plants():
    """Every phenomenon issue 12 lists shows up in the demo, tagged, in a minority of rows."""
    with (DEMO / "truth" / "truth.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tags = [t for r in rows for t in r["tag"].split(";") if t]
    for tag in (
        "english_pinyin",
        "english_calque",
        "homophone",
        "dropped_char",
        "legal_form_typo",
        "short_name",
        "event_city",
        "landline_in_mobile",
        "salutation",
        "title_in_name",
        "pinyin_name",
        "dup_opportunity",
    ):
        assert tag in tags, tag
    accounts = [r for r in rows if r["entity"] == "accounts"]
    assert sum(1 for r in accounts if r["tag"] not in ("", "spacing")) < 0.5 * len(accounts)


ISSUE_13_TAGS = {
    "sales_workbook": (
        "merged_cell",
        "blank_below",
        "ditto",
        "repeated_header",
        "total_row",
        "separator_row",
        "placeholder_company",
        "test_record",
        "email_typo",
        "old_division",
        "district_in_street",
    ),
    "old_crm_accounts": ("placeholder_uscc", "test_record", "old_division"),
    "old_crm_contacts": ("export_footer", "placeholder_person", "test_record", "fk_unpadded"),
    "old_crm_opportunities": ("export_footer", "fk_padded"),
    "old_crm_activities": ("date_no_year",),
    "event_signups": ("placeholder_company", "test_record", "email_typo"),
    "address_book": ("family_entry", "courier_entry", "service_number", "tel_work", "org_unit", "short_real_name"),
}


def test_truth_tags_the_phenomena_of_issue_13_in_a_few_rows_each():
    with (DEMO / "truth" / "truth.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tags: dict[tuple[str, str], int] = {}
    for r in rows:
        for t in filter(None, r["tag"].split(";")):
            tags[r["source"], t] = tags.get((r["source"], t), 0) + 1
    for source, wanted in ISSUE_13_TAGS.items():
        size = sum(1 for r in rows if r["source"] == source)
        for tag in wanted:
            assert 0 < tags.get((source, tag), 0) < 0.2 * size, (source, tag)
    amounts = {t for (source, t) in tags if source in ("old_crm_opportunities", "sales_pipeline")}
    assert {"amount_approx", "amount_financial", "amount_k", "amount_w"} <= amounts
    fk = {t for (_, t) in tags if t.startswith("fk_")}
    assert fk == {"fk_lowercase", "fk_unpadded", "fk_padded", "fk_fullwidth", "fk_space"}
    # A retyped account id still names its account; a placeholder company is no account, its person is real.
    refs = [r for r in rows if r["entity"] == "account_ref"]
    assert refs and all(r["truth"].startswith("company:") and r["tag"].startswith("fk_") for r in refs)
    placeholder = [r for r in rows if "placeholder_company" in r["tag"]]
    assert {r["truth"] for r in placeholder if r["entity"] == "accounts"} == {"none"}
    assert all(r["truth"].startswith("person:") for r in placeholder if r["entity"] == "contacts")
    junk = [
        r
        for r in rows
        if r["tag"] in ("family_entry", "courier_entry", "service_number", "test_record", "placeholder_person")
        and r["entity"] == "contacts"
    ]
    assert junk and all(r["truth"].startswith("garbage:") for r in junk)


def review_pairs(project) -> dict[str, int]:
    """Per entity, the pairs of distinct records the review workbook lists at the project's thresholds."""
    from crm_migrate.migrate.quality import duplicates
    from crm_migrate.migrate.run import prepare
    from crm_migrate.project import load_project

    entities = prepare(load_project(project)).migration.entities
    return {e.value: duplicates(r)["review_pairs"] for e, r in entities.items() if r.matches is not None}


def test_the_demo_gives_a_steward_uncertain_cases_to_review_at_default_thresholds():
    """The generator plants uncertain cases (a name at its company with another mobile and no mail, a surname
    and a salutation with the person's own office line), some the person they look like and some not, so
    the demo's review workbook has pairs to decide without moving a threshold; without them it has 4."""
    with (DEMO / "truth" / "truth.csv").open(encoding="utf-8") as f:
        planted = [r for r in csv.DictReader(f) if r["tag"].startswith("uncertain_")]
    verdicts = {r["truth"].startswith("person:uncertain-") for r in planted}
    assert len(planted) >= 5 and verdicts == {True, False}, planted  # some are the person, some are another
    counts = review_pairs(DEMO)
    assert counts["accounts"] + counts["contacts"] >= 6, counts


def test_companies_have_mostly_two_character_brands_and_trades_beyond_a_short_list():
    """As registered names are: a brand (字号) of two characters mostly; trades of several words (包装制品,
    科技发展) and some that no trade table is sure to hold; short names that keep the brand alone."""
    from collections import Counter

    gen = load_generator()
    world = gen.World(600, 7)
    lengths = Counter(len(c.brand) for c in world.companies)
    assert lengths[2] > 0.45 * len(world.companies) and lengths[3] > 0.2 * len(world.companies), lengths
    trades = Counter(c.industry_word for c in world.companies)
    assert len(trades) >= 30 and trades["包装制品"] and trades["玻璃钢"], trades
    import random

    from crm_migrate.cleaners.company_words import trade_of

    unknown = [w for w in trades if trade_of("星辰" + w) is None]
    assert 0 < len(unknown) <= 3, unknown  # a few the matcher's table does not hold, as real data has
    r = random.Random(3)
    c = next(c for c in world.companies if c.industry_word == "包装制品" and not c.branch)
    forms = {gen.messy.company_name(r, c, "event")[0] for _ in range(400)}
    assert c.brand in forms and f"{c.brand}包装" in forms, forms  # the brand alone; a shortened trade
