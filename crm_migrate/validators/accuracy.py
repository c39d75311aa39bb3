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
    correct = labels.drop_nulls([predicted, truth]).group_by(predicted, truth).len().select(
        _pairs(pl.col("len"))).item()
    return PairScores(int(true_pairs or 0), int(predicted_pairs or 0), int(correct or 0))


def lookalikes_merged(labels: pl.DataFrame, lookalikes: pl.DataFrame) -> tuple[int, int]:
    """(look-alike pairs seen, pairs merged into one record): rows of truth ``a`` and of truth ``b`` (columns
    entity, a, b) sharing a predicted record."""
    records = labels.drop_nulls(["predicted", "truth"]).select("entity", "truth", "predicted").unique()
    pairs = (lookalikes.join(records.rename({"truth": "a", "predicted": "pa"}), on=["entity", "a"])
             .join(records.rename({"truth": "b", "predicted": "pb"}), on=["entity", "b"]))
    seen = pairs.select("entity", "a", "b").unique().height
    merged = pairs.filter(pl.col("pa") == pl.col("pb")).select("entity", "a", "b").unique().height
    return seen, merged
