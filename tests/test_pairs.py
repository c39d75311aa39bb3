"""Hand-written pairs of records with a verdict: does matching agree with what a steward would decide?

`tests/fixtures/pairs/` holds three files, one per entity, written from what real exports hold (not from
the demo generator): each pair is two source rows with a verdict (``same`` or ``different``) and the
phenomenon it shows: an English name beside a Chinese one, a homophone typed through a pinyin input
method, a salutation for a name, a landline in the mobile column; and the traps the other way, the same
brand in two cities, a branch and its parent, colleagues sharing a switchboard, namesakes, a renewal next
year. Each file is added as one more source to a copy of the demo project, so that the pairs are judged
among a project's records, as they would be in a real migration (a file of nothing but hard cases would
teach the weights that every second pair is a duplicate). The rows of a pair hold a company and, on the
same row, a person or an opportunity; a pair agrees when its two rows end in one record exactly when the
verdict is ``same``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

from .conftest import DEMO, FIXTURES

PAIRS = FIXTURES / "pairs"
MAPPINGS = {
    "accounts": """\
file: data/pairs.csv
entities:
  accounts:
    columns: {name: name, uscc: uscc, phone: phone, address: address, email: email}
  contacts:
    columns: {contact: name, mobile: mobile}
""",
    "contacts": """\
file: data/pairs.csv
entities:
  accounts:
    columns: {company: name, address: address}    # a sheet's address is the company's
  contacts:
    columns: {name: name, title: title, mobile: mobile, phone: phone, email: email}
""",
    "opportunities": """\
file: data/pairs.csv
entities:
  accounts:
    columns: {company: name}
  opportunities:
    columns: {name: name, amount: amount, stage: stage, close_date: close_date, created_at: created_at}
""",
}


def judge(entity: str, root: Path, background: Path = DEMO) -> pl.DataFrame:
    """Run the pairs of ``entity`` among the records of the ``background`` project (a copy under ``root``); per
    pair its verdict, phenomenon and whether its two rows became one record (``merged``)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(background, root, ignore=shutil.ignore_patterns("out", ".out*", "truth"))
    shutil.copy(PAIRS / f"{entity}.csv", root / "data" / "pairs.csv")
    (root / "mappings" / "pairs.yaml").write_text(MAPPINGS[entity], encoding="utf-8")
    migration = (root / "migration.yaml").read_text(encoding="utf-8")
    migration = migration.replace("  - address_book\n", "  - address_book\n  - pairs\n")
    # The generic target: the demo's own template refuses long (English) names, which is not matching's concern.
    migration = re.sub(r"^target: .*$", "target: generic", migration, flags=re.M)
    (root / "migration.yaml").write_text(migration, encoding="utf-8")
    lineage = prepare(load_project(root)).lineage.filter((pl.col("entity") == entity) & (pl.col("source") == "pairs"))
    rows = pl.read_csv(PAIRS / f"{entity}.csv", infer_schema=False).with_row_index("line", offset=2)
    joined = rows.join(
        lineage.select(pl.col("row").cast(pl.UInt32).alias("line"), "record_id", "outcome"), on="line", how="left"
    )
    return joined.group_by("pair", "verdict", "phenomenon", maintain_order=True).agg(
        (pl.col("record_id").n_unique() == 1).alias("merged"), pl.col("outcome").str.join(",").alias("outcomes")
    )


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> pl.DataFrame:
    base = tmp_path_factory.mktemp("pairs")
    return pl.concat([judge(entity, base / entity).with_columns(pl.lit(entity).alias("entity")) for entity in MAPPINGS])


def test_the_pairs_files_hold_enough_pairs_of_every_kind(verdicts):
    assert verdicts.height >= 400
    counts = verdicts.group_by("entity", "verdict").len()
    assert counts.filter(pl.col("len") < 20).is_empty(), counts
    assert verdicts.filter(pl.col("outcomes").str.contains("rejected|filtered")).is_empty(), (
        "a pair's row was rejected or filtered: the pair does not test matching"
    )


def test_matching_agrees_with_the_verdicts(verdicts):
    agree = verdicts.with_columns((pl.col("merged") == (pl.col("verdict") == "same")).alias("agree"))
    wrong = agree.filter(~pl.col("agree"))
    share = 1 - wrong.height / agree.height
    assert share >= 0.99, wrong.select("entity", "pair", "verdict", "phenomenon").to_dicts()


def test_no_look_alike_pair_is_merged(verdicts):
    """The opposite traps are the costly ones: a false merge loses a customer."""
    merged = verdicts.filter((pl.col("verdict") == "different") & pl.col("merged"))
    assert merged.height <= 0.01 * verdicts.filter(pl.col("verdict") == "different").height, merged.to_dicts()


@pytest.mark.parametrize("phenomenon", ["namesake_same_company", "colleagues_switchboard", "father_son"])
def test_people_who_share_a_name_or_a_line_stay_apart(verdicts, phenomenon):
    """Two 王芳 at one company with another mobile and another email each are two people, whatever their name,
    title, company and desk line say; so are colleagues on one switchboard and a father and his son."""
    kind = verdicts.filter(pl.col("phenomenon") == phenomenon)
    assert kind.height >= 10
    assert kind.filter((pl.col("verdict") == "different") & pl.col("merged")).is_empty()


def test_a_company_written_into_a_persons_name_is_taken_out_before_matching(verdicts):
    """华拓模具刘建军, 【云帆教育】孙丽, 周敏@长信物流: the company a salesperson typed with the name is not part
    of it; the person beside the same mobile or email is the same, another person of that company is not."""
    kind = verdicts.filter(pl.col("phenomenon") == "company_in_name")
    assert kind.height >= 5
    assert kind.filter(pl.col("merged") != (pl.col("verdict") == "same")).is_empty(), kind.to_dicts()
