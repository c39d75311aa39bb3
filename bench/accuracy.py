"""Pairwise precision, recall and F1 of a clustering against known true identities."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: pl.Expr) -> pl.Expr:
    return (n * (n - 1) // 2).sum()


def pairwise(labels: pl.DataFrame, predicted: str = "predicted", truth: str = "truth") -> PairScores:
    """Pairs in the same predicted cluster against pairs with the same true identity. A row with a truth
    but no cluster (rejected, filtered) still counts in the true pairs: losing it loses its pairs."""
    true_pairs = labels.drop_nulls(truth).group_by(truth).len().select(_pairs(pl.col("len"))).item()
    predicted_pairs = labels.drop_nulls(predicted).group_by(predicted).len().select(_pairs(pl.col("len"))).item()
    correct = (
        labels.drop_nulls([predicted, truth]).group_by(predicted, truth).len().select(_pairs(pl.col("len"))).item()
    )
    return PairScores(int(true_pairs or 0), int(predicted_pairs or 0), int(correct or 0))


def lookalikes_merged(labels: pl.DataFrame, lookalikes: pl.DataFrame, by_kind: bool = False):
    """(look-alike pairs seen, pairs merged into one record): rows of truth ``a`` and of truth ``b`` (columns
    entity, a, b, kind) sharing a predicted record. With ``by_kind``, a frame of both per entity and kind."""
    records = labels.drop_nulls(["predicted", "truth"]).select("entity", "truth", "predicted").unique()
    pairs = lookalikes.join(records.rename({"truth": "a", "predicted": "pa"}), on=["entity", "a"]).join(
        records.rename({"truth": "b", "predicted": "pb"}), on=["entity", "b"]
    )
    if by_kind:
        keys = ["entity", "kind", "a", "b"]
        seen = pairs.select(keys).unique().group_by("entity", "kind").len("seen")
        merged = (
            pairs.filter(pl.col("pa") == pl.col("pb")).select(keys).unique().group_by("entity", "kind").len("merged")
        )
        return (
            seen.join(merged, on=["entity", "kind"], how="left")
            .with_columns(pl.col("merged").fill_null(0))
            .sort("entity", "kind")
        )
    seen = pairs.select("entity", "a", "b").unique().height
    merged = pairs.filter(pl.col("pa") == pl.col("pb")).select("entity", "a", "b").unique().height
    return seen, merged


def recall_by_tag(
    labels: pl.DataFrame, predicted: str = "predicted", truth: str = "truth", tags: str = "tag"
) -> pl.DataFrame:
    """Per phenomenon tag (``tag`` holds a row's tags, ";"-separated): the true pairs with at least one row of
    that tag (``pairs``), how many of them share a predicted record (``found``), and the share (``recall``).

    A group of n rows of one truth with k of them tagged has C(n,2) - C(n-k,2) such pairs; the same count
    within each predicted record gives those found."""
    rows = labels.drop_nulls(truth).with_columns(pl.col(tags).fill_null("").str.split(";").alias("_tags"))
    names = sorted({t for ts in rows["_tags"].to_list() for t in ts if t})
    out = []
    for name in names:
        flagged = rows.with_columns(pl.col("_tags").list.contains(name).cast(pl.Int64).alias("_k"))

        def pairs(by: list[str], flagged: pl.DataFrame = flagged) -> int:
            groups = flagged.group_by(by).agg(pl.len().alias("n"), pl.col("_k").sum().alias("k"))
            n, k = pl.col("n").cast(pl.Int64), pl.col("k").cast(pl.Int64)
            return int(groups.select((n * (n - 1) // 2 - (n - k) * (n - k - 1) // 2).sum()).item() or 0)

        total = pairs([truth])
        found = pairs([truth, predicted]) if predicted in flagged.columns else 0
        if total:
            out.append({"tag": name, "pairs": total, "found": found, "recall": found / total})
    return pl.DataFrame(out, schema={"tag": pl.String, "pairs": pl.Int64, "found": pl.Int64, "recall": pl.Float64})
