"""Matching rules on hand-made cases, and the demo scored against its truth."""

from __future__ import annotations

import polars as pl
import pytest

from bench.accuracy import pairwise
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.match import Comparison, MatchResult, MatchSettings, clusters
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

from .conftest import DEMO


def result(pairs: list[tuple[int, int, float]], identity_conflicts: list[tuple[int, int]] = ()) -> MatchResult:
    frame = pl.DataFrame(
        {"l": [p[0] for p in pairs], "r": [p[1] for p in pairs], "probability": [p[2] for p in pairs]},
        schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64},
    )
    frame = frame.with_columns(
        pl.Series("level:uscc", [0 if (p[0], p[1]) in identity_conflicts else 1 for p in pairs], dtype=pl.Int8),
        (pl.col("probability") / (1 - pl.col("probability"))).log(2).alias("weight"),
    )
    # At a match rate of one half, a pair's weight is its evidence: 0.01 is 6.6 bits against.
    return MatchResult(frame, [Comparison("uscc", 2, lambda f: None, ("k:uscc",), identity=True)], match_rate=0.5)


def test_a_weak_link_does_not_chain_two_groups():
    # 0-1 and 2-3 are sure matches; 1-2 passes the threshold, but 0 and 3 were compared: clearly not the same.
    r = result([(0, 1, 0.999), (2, 3, 0.999), (1, 2, 0.96), (0, 3, 0.01)])
    labels = clusters(4, r, MatchSettings())
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]


def test_without_contrary_evidence_a_chain_is_one_cluster():
    labels = clusters(3, result([(0, 1, 0.99), (1, 2, 0.98)]), MatchSettings())
    assert len(set(labels)) == 1 and labels[2] == 0  # labelled by the smallest member


def test_different_identity_codes_never_merge():
    labels = clusters(2, result([(0, 1, 0.999)], identity_conflicts=[(0, 1)]), MatchSettings())
    assert labels[0] != labels[1]


def test_must_link_wins_and_bands_decide():
    r = result([(0, 1, 0.80), (2, 3, 0.97)])
    assert list(clusters(4, r, MatchSettings())) == [0, 1, 2, 2]  # 0.80 is a review pair, not a merge
    assert list(clusters(4, r, MatchSettings(merge=0.75))) == [0, 0, 2, 2]
    assert list(clusters(4, r, MatchSettings(), must_link=[(0, 1)])) == [0, 0, 2, 2]


@pytest.fixture(scope="module")
def demo_result():
    return prepare(load_project(DEMO))


@pytest.mark.parametrize("entity", ["accounts", "contacts"])
def test_demo_matching_meets_the_bar(demo_result, entity):
    truth = pl.read_csv(DEMO / "truth" / "truth.csv", infer_schema=False).with_columns(
        pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64)
    )
    rows = (
        demo_result.lineage.with_columns(pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64))
        .join(truth, on=["source", "sheet", "row", "entity"])
        .filter(
            (pl.col("entity") == entity)
            & pl.col("outcome").is_in(["written", "merged"])
            & pl.col("truth").str.contains("^(company|person):")
        )
    )
    scores = pairwise(rows.rename({"record_id": "predicted"}))
    assert scores.true_pairs > 50
    # The draw of the issue-13 generator gives 0.978 (misses: short names, a dropped character); 0.975 catches
    # a regression of two pairs among its 307.
    assert scores.f1 >= 0.975, scores


def test_demo_lookalikes_stay_apart(demo_result):
    from bench.accuracy import lookalikes_merged

    truth = pl.read_csv(DEMO / "truth" / "truth.csv", infer_schema=False).with_columns(
        pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64)
    )
    rows = (
        demo_result.lineage.with_columns(pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64))
        .join(truth, on=["source", "sheet", "row", "entity"])
        .rename({"record_id": "predicted"})
    )
    seen, merged = lookalikes_merged(rows, pl.read_csv(DEMO / "truth" / "lookalikes.csv"))
    assert seen >= 10 and merged / seen < 0.01, (seen, merged)


def test_matching_thresholds_come_from_the_project(make_project):
    mapping = """\
    file: data/a.csv
    entities:
      accounts:
        columns: {名称: name, 电话: phone}
    """
    csv = "名称,电话\n北京星辰科技有限公司,010-62345678\n星辰科技（北京）有限公司,010-62345678\n" + "".join(
        f"上海第{i}贸易有限公司,021-5555{i:04d}\n" for i in range(30)
    )
    root = make_project("name: t\n", {"a": mapping}, {"data/a.csv": csv})
    merged = prepare(load_project(root)).migration.entities[Entity.accounts].frame
    assert merged.filter(pl.col("_outcome") == "merged").height == 1
    root = make_project(
        "name: t\nmatching: {accounts: {merge: 1.0, review: 0.9}}\n", {"a": mapping}, {"data/a.csv": csv}
    )
    kept = prepare(load_project(root)).migration.entities[Entity.accounts].frame
    assert kept.filter(pl.col("_outcome") == "merged").height == 0


def test_different_deals_in_two_sources_say_nothing_of_the_account():
    """A salesperson's pipeline lists the deals it is working on, the old CRM those it closed: an account's
    record in each holding other deals is what one company looks like, so that level weighs nothing, however
    often EM saw the two share one; sharing a deal still counts."""
    import numpy as np

    from crm_migrate.migrate.comparisons import comparisons_for
    from crm_migrate.migrate.features import m as feature
    from crm_migrate.migrate.match import level_weights

    frame = pl.DataFrame({feature("deals"): [["a"], ["b"]]})
    deals = next(c for c in comparisons_for([], frame, Entity.accounts, linked=False) if c.name == "opportunities")
    weights = level_weights(deals, np.array([0.05, 0.95]), np.array([0.999, 0.001]), 1e-5)
    assert weights[0] == 0.0 and weights[1] > 5


def test_what_saves_memory_at_scale_changes_nothing_anyone_sees(demo_result, monkeypatch):
    """At scale, levels and doubts are computed a chunk of pairs at a time, and the pairs nobody is shown
    (below the review band, between records left apart) are let go after clustering. Forced here on the demo
    (chunks of 61 pairs; every run "past" the pairs kept): no level, doubt, weight, probability or cluster
    changes, and the review workbook's groups, probabilities and evidence are the same."""
    from crm_migrate.migrate import match
    from crm_migrate.migrate.review import _evidence, groups

    seen: list[int] = []
    original = match.Sides
    monkeypatch.setattr(match, "LEVEL_CHUNK", 61)
    monkeypatch.setattr(match, "KEEP_PAIRS", 0)
    monkeypatch.setattr(match, "Sides", lambda f, p, c=None: seen.append(p.height) or original(f, p, c))
    again = prepare(load_project(DEMO))
    assert max(seen) == 61
    assert again.lineage.equals(demo_result.lineage)
    for entity in (Entity.accounts, Entity.contacts, Entity.opportunities):
        before, after = demo_result.migration.entities[entity], again.migration.entities[entity]
        whole, kept = before.matches.pairs, after.matches.pairs
        assert whole.height > 61, entity
        assert after.matches.scored == whole.height == sum(after.matches.histogram), entity
        label = before.frame.with_row_index("_i").select("_i", pl.col("_cluster").alias("_label"))
        ends = (
            whole.with_row_index("_p")
            .join(label.rename({"_i": "l", "_label": "_a"}), on="l")
            .join(label.rename({"_i": "r", "_label": "_b"}), on="r")
            .sort("_p")
        )
        shown = ends.filter((pl.col("probability") >= before.settings.review) | (pl.col("_a") == pl.col("_b")))
        assert 0 < kept.height < whole.height, entity
        assert kept.equals(shown.drop("_p", "_a", "_b")), entity
        assert after.review_pairs().equals(before.review_pairs()), entity
        found_before, found_after = groups(before), groups(after)
        assert found_after.keys.drop("_p", strict=False).equals(found_before.keys.drop("_p", strict=False)), entity
        assert found_after.rows.drop("_p", strict=False).equals(found_before.rows.drop("_p", strict=False)), entity
        assert _evidence(found_after.rows, after).equals(_evidence(found_before.rows, before)), entity
