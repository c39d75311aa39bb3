"""What the quality report says about matching: per entity the weights as estimated, the pairs' probabilities
by band of 0.01 with the thresholds, and the evidence of a few pairs (drawn as waterfall charts by
`crm_migrate.reports.charts`).

Everything here is small whatever the run's size: the weights are per comparison and level, the counts come
from `MatchResult.histogram` (every pair scored, also those let go past a million), and the pairs explained
are the review pairs closest to the merge threshold and a fixed sample of merges, picked with whole-frame
polars. Labels are field names and level labels, never values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from crm_migrate.migrate.columns import RECORD_ID, ROW, SOURCE
from crm_migrate.migrate.comparisons import MISSING
from crm_migrate.migrate.match import HISTOGRAM_BANDS, level_weights
from crm_migrate.reports.charts import bits_of

REVIEW_SHOWN = 8  # review pairs explained, the most likely first
MERGE_WEAKEST = 2  # merges explained: the two closest to the threshold ...
MERGE_SAMPLED = 2  # ... and two more, picked by a fixed hash of the pair
SAMPLE_SEED = 16
CUTS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)  # where the threshold table cuts, with the two thresholds


def matching(result) -> dict[str, Any] | None:
    """One entity's matching as the report shows it, or None when nothing was scored."""
    matches, settings = result.matches, result.settings
    if matches is None or settings is None or not matches.comparisons or not matches.scored:
        return None
    return {
        "match_rate": matches.match_rate,
        "prior_bits": round(bits_of(matches.match_rate), 6),
        "merge": settings.merge,
        "review": settings.review,
        "scored": matches.scored,
        "kept": matches.pairs.height,
        "histogram": list(matches.histogram),
        "bands": bands(matches.histogram, settings.review, settings.merge),
        "weights": weights_table(matches),
        "pairs": explained(result),
    }


def weights_table(matches) -> list[dict[str, Any]]:
    """Per comparison and level: its label, m and u as estimated, and the weight a pair at that level gets
    (log2(m/u), with the caps `level_weights` applies and says why)."""
    rate = matches.fields_rate or matches.match_rate
    out = []
    for comp in matches.comparisons:
        m, u = np.array(matches.m[comp.name]), np.array(matches.u[comp.name])
        used = level_weights(comp, m, u, rate)
        raw = np.log2(m) - np.log2(u)
        for level in range(comp.levels):
            notes = []
            if level in comp.neutral:
                notes.append("says nothing: 0")
            if level in comp.weak:
                notes.append("weak: alone below even odds")
            if comp.unique and level in (comp.levels - 1, *comp.unique_levels):
                notes.append("unique by law: decides alone")
            if level in comp.apart:
                notes.append("another deal's term: at most 0")
            if comp.frequency and level == comp.levels - 1:
                notes.append("less for a common value")
            out.append(
                {
                    "field": comp.name,
                    "level": level,
                    "label": comp.label(level),
                    "m": round(float(m[level]), 6),
                    "u": round(float(u[level]), 8),
                    "log2(m/u)": round(float(raw[level]), 2),
                    "weight": round(float(used[level]), 2),
                    "note": "; ".join(notes),
                }
            )
    return out


def bands(histogram: list[int], review: float, merge: float) -> list[dict[str, Any]]:
    """The pairs between consecutive cuts (0.5, 0.6, ... and the two thresholds), counted from the bands of
    0.01, with what each group is today and what moving a threshold to its edge would do."""
    if not histogram:
        return []
    counts = np.array(histogram, dtype=np.int64)
    start = [0, *sorted({_band(c) for c in (*CUTS, review, merge) if 0 < _band(c) < HISTOGRAM_BANDS})]
    edges = [*start, HISTOGRAM_BANDS]
    r, m = _band(review), _band(merge)

    def between(a: int, b: int) -> int:
        return int(counts[min(a, b) : max(a, b)].sum())

    out = []
    for a, b in zip(edges, edges[1:], strict=False):
        n = int(counts[a:b].sum())
        if b <= r:
            today, moving = "left apart", f"review at {a / 100:.2f}: {between(a, r)} more pairs to review"
        elif a >= m:
            today, moving = (
                "merged",
                (
                    f"merge at {b / 100:.2f}: {between(m, b)} of the merges go to review instead"
                    if b < HISTOGRAM_BANDS
                    else ""
                ),
            )
        else:
            today = "to review"
            moving = (
                f"merge at {a / 100:.2f}: {between(a, m)} more merge unreviewed; "
                f"review at {b / 100:.2f}: {between(r, b)} fewer to review"
            )
        out.append(
            {
                "probability": f"{a / 100:.2f}–{b / 100:.2f}",
                "from": a / 100,
                "to": b / 100,
                "pairs": n,
                "today": today,
                "moving a threshold to this edge": moving,
            }
        )
    return out


def _band(threshold: float) -> int:
    """The band a threshold opens: pairs at or above it start there (a threshold between two band edges is
    counted from the edge below it)."""
    return int(math.floor(threshold * HISTOGRAM_BANDS + 1e-9))


def chosen_pairs(result) -> pl.DataFrame:
    """The pairs explained: the review pairs closest to merging, the merges closest to the threshold and a
    few more picked by a fixed hash of the pair (so runs repeat), each with ``kind``. Picked on four narrow
    columns with O(n) top-k selections (no sort, no copy of the pairs' other columns), then gathered."""
    pairs, settings = result.matches.pairs, result.settings
    p = pl.col("probability")
    narrow = pairs.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "l", "r", "probability")
    review = narrow.filter((p >= settings.review) & (p < settings.merge))
    if review.height:
        # Pairs of two records first: a pair inside one cluster (joined through others) is not the steward's call.
        ids = result.frame[RECORD_ID]
        review = review.with_columns((ids.gather(review["l"]) == ids.gather(review["r"])).alias("_same"))
        review = review.bottom_k(REVIEW_SHOWN, by=["_same", -p, "l", "r"])
    review = review.sort(["probability", "l", "r"], descending=[True, False, False])
    merges = narrow.filter(p >= settings.merge)
    weakest = merges.bottom_k(MERGE_WEAKEST, by=["probability", "l", "r"])
    pick = (pl.col("l").cast(pl.UInt64) * 2654435761 + pl.col("r").cast(pl.UInt64) * 40503 + SAMPLE_SEED) % 1000003
    taken = set(weakest["_i"].to_list())
    hashed = merges.bottom_k(MERGE_WEAKEST + MERGE_SAMPLED, by=[pick, pl.col("l"), pl.col("r")])
    sampled = hashed.filter(~pl.col("_i").is_in(list(taken))).head(MERGE_SAMPLED)
    merged = pl.concat([weakest, sampled]).sort(["probability", "l", "r"])
    order = pl.concat(
        [
            review.select("_i").with_columns(pl.lit("review").alias("kind")),
            merged.select("_i").with_columns(pl.lit("merge").alias("kind")),
        ]
    )
    return pairs[order["_i"].to_list()].with_columns(order["kind"])


def explained(result) -> list[dict[str, Any]]:
    """Each chosen pair's evidence: the prior, each compared field's level and weight, the total and the
    probability (and, where a rule held the probability elsewhere than the weight says, that)."""
    matches = result.matches
    chosen = chosen_pairs(result)
    if chosen.is_empty():
        return []
    # Gathered by index: a dozen rows of three columns, whatever the entity's size.
    frame = result.frame
    chosen = chosen.with_columns(
        frame[c].gather(chosen[s]).alias(f"{s}_{c}") for s in ("l", "r") for c in (RECORD_ID, SOURCE, ROW)
    )
    prior = bits_of(matches.match_rate)
    out = []
    for row in chosen.iter_rows(named=True):  # a dozen pairs at most
        steps, missing = [], []
        for comp in matches.comparisons:
            level = row.get(f"level:{comp.name}")
            if level is None or level == MISSING:
                missing.append(comp.name)
                continue
            steps.append(
                {
                    "field": comp.name,
                    "level": int(level),
                    "label": comp.label(int(level)),
                    "bits": float(row[f"weight:{comp.name}"]),
                }
            )
        weight, probability = float(row["weight"]), float(row["probability"])
        from_weight = 1 / (1 + 2.0 ** -max(min(weight, 60), -60))
        held = None
        if abs(from_weight - probability) > 1e-9:
            held = (
                f"a rule holds it at {probability:.4f} (the weight alone gives {from_weight:.4f}): an identity "
                "differs, a deal's terms are apart, or a weak level lacks a strong identifier"
            )
        out.append(
            {
                "kind": row["kind"],
                "l": row["l"],
                "r": row["r"],
                "left": _who(row, "l"),
                "right": _who(row, "r"),
                "prior": prior,
                "steps": steps,
                "not_compared": missing,
                "weight": weight,
                "probability": probability,
                "held": held,
            }
        )
    return out


def _who(row: dict, side: str) -> str:
    return f"{row[f'{side}_{RECORD_ID}']} ({row[f'{side}_{SOURCE}']} row {row[f'{side}_{ROW}']})"
