"""Finding the same customer written differently, without labels: Fellegi-Sunter weights from the data.

1. **Blocking** (`blocking`): candidate pairs come only from records that share a blocking key.
2. **Comparisons** (`comparisons`) give each pair an agreement level per field.
3. **Weights** are estimated from the data itself: u (how often a level occurs by chance) from random
   pairs, m (how often among true matches) by EM once per blocking key, and the prior (the chance that
   two random records are one) from the expected matches among all pairs. A pair's match weight is the
   sum of log2(m/u) over its fields; its probability follows. Each field's contribution is kept as the
   pair's evidence. A project may set m and u itself. Some levels are weak (a name without its region, a
   surname and a salutation): their weight alone never reaches a match, and a weak person name needs a
   strong identifier besides; some say nothing (an office line colleagues share) and weigh 0.
4. **Clustering** (`clustering`) joins pairs from the most to the least likely, never putting together
   two records scored as a clear non-match or holding two values of an exclusive attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from crm_migrate.mappings.entities import Entity, FieldSpec
from crm_migrate.migrate.blocking import BlockingKey, SkippedKey, blocking_keys, candidate_pairs
from crm_migrate.migrate.clustering import cluster, edges
from crm_migrate.migrate.columns import OUTCOME
from crm_migrate.migrate.comparisons import MISSING, Comparison, Sides, comparisons_for
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.steps import Step, step

RANDOM_PAIRS = 200_000
LEVEL_CHUNK = 1_000_000  # candidate pairs compared at once
KEEP_PAIRS = 1_000_000  # candidate pairs past which only those anyone is shown are kept (`keep_shown`)
HISTOGRAM_BANDS = 100
EM_ITERATIONS = 30
MIN_TRAINING_PAIRS = 30  # a blocking key with fewer pairs does not train m
UNIQUE_COLLISIONS = 0.001  # share of records whose unique-by-law value a different record holds (cleaning artefacts)
U_PSEUDO_PAIRS = 1_000  # weight of prior_u against the random pairs
M_PSEUDO_MATCHES = 10  # weight of prior_m against the matches EM found
MIN_SUPPORT = 5.0  # expected matches with values on both sides needed to trust a learnt m
MIN_EVIDENCE = 200  # random pairs with values needed before a field may be judged useless
NOT_DISCRIMINATING = 0.5  # share of random pairs agreeing exactly above which a field says nothing
UNIQUE_MARGIN = 6.0  # bits past even odds a unique-by-law level alone gives at least: 64 to 1 (0.985)
WEAK_MARGIN = 1.0  # bits a weak level alone stays below even odds: alone it gives at most 1 in 3
WITHIN_ACCOUNT = (Entity.opportunities, Entity.activities)

__all__ = ["Comparison", "MatchResult", "MatchSettings", "WeightsError", "clusters", "evidence", "keep_shown", "score"]


@dataclass
class MatchSettings:
    merge: float = 0.95  # pairs at or above: same record
    review: float = 0.60  # pairs at or above (and below merge): a steward decides
    against: float = -6.0  # bits of evidence against (vs a random pair) that forbid a pair in one cluster
    weights: dict = field(default_factory=dict)  # field -> models.Weights: m/u set by the project, or ignore


@dataclass
class MatchResult:
    pairs: pl.DataFrame  # l, r, probability, weight, and per comparison: level and its weight
    comparisons: list[Comparison]
    m: dict[str, list[float]] = field(default_factory=dict)
    u: dict[str, list[float]] = field(default_factory=dict)
    match_rate: float = 0.0  # λ: the probability that two records drawn at random are the same
    skipped_blocks: int = 0  # blocks of more than blocking.MAX_BLOCK records, not paired
    skipped_keys: list[SkippedKey] = field(default_factory=list)  # keys dropped: too coarse, or past the budget
    ignored: list[str] = field(default_factory=list)  # fields that could not tell records apart
    capped: list[SkippedKey] = field(default_factory=list)  # per key, its blocks skipped and the largest one
    scored: int = 0  # candidate pairs scored (``pairs`` may hold fewer: `keep_shown`)
    histogram: list[int] = field(default_factory=list)  # pairs scored per probability band of 0.01, lowest first
    fields_rate: float = 0.0  # the match rate the fields' weights were taken at (`level_weights`): their caps


def _by_chunks(
    frame: pl.DataFrame, pairs: pl.DataFrame, cache: dict | None, compute, progress: Step | None = None
) -> np.ndarray:
    """``compute`` of the pairs' `Sides`, ``LEVEL_CHUNK`` pairs at a time: what a comparison gathers per pair
    (two hashes, two sets of phones, strings) exists for one chunk only, not for every candidate pair at once
    (at 2M records, 6M pairs: +0.6 GB). ``progress`` is advanced by each chunk's pairs."""
    chunks = []
    for i in range(0, max(pairs.height, 1), LEVEL_CHUNK):
        part = pairs if pairs.height <= LEVEL_CHUNK else pairs.slice(i, LEVEL_CHUNK)
        chunks.append(compute(Sides(frame, part, cache)))
        if progress is not None:
            progress.advance(part.height)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _levels(
    frame: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: list[Comparison],
    cache: dict | None = None,
    progress: Step | None = None,
) -> np.ndarray:
    if not comparisons:
        return np.zeros((pairs.height, 0), dtype=np.int8)
    return _by_chunks(
        frame, pairs, cache, lambda sides: np.stack([comp.compare(sides) for comp in comparisons], axis=1), progress
    )


# -- weights -------------------------------------------------------------------------------------------
# -- weights -------------------------------------------------------------------------------------------


def prior_u(comp: Comparison) -> np.ndarray:
    """What chance agreement looks like before any data is seen: the top level 1 in 10,000, the levels
    below it from 1 in 100 down, the rest disagreement. Small projects lean on it; large ones overrule it."""
    if comp.prior_u:
        return np.array(comp.prior_u)
    out = np.zeros(comp.levels)
    out[1:] = np.geomspace(1e-2, 1e-4, comp.levels - 1) if comp.levels > 2 else 1e-4
    out[0] = 1 - out[1:].sum()
    return out


def prior_m(comp: Comparison) -> np.ndarray:
    """What a match looks like before any data is seen: mostly exact agreement."""
    out = np.full(comp.levels, 0.05 / max(comp.levels - 1, 1))
    out[-1] = 0.95
    return out


def _frequencies(
    levels: np.ndarray, comparisons: list[Comparison], weight: np.ndarray | None = None
) -> list[np.ndarray]:
    """Per comparison, the share of each level among the pairs with values on both sides (each pair counted
    with its ``weight``: how surely it is not a match), drawn towards `prior_u` by ``U_PSEUDO_PAIRS``
    imaginary pairs."""
    out = []
    for j, comp in enumerate(comparisons):
        column = levels[:, j]
        present = column != MISSING
        seen = column[present]
        counts = np.bincount(seen, weights=None if weight is None else weight[present], minlength=comp.levels).astype(
            float
        ) + U_PSEUDO_PAIRS * prior_u(comp)
        out.append(counts / counts.sum())
    return out


def _seed(levels: np.ndarray, comparisons: list[Comparison]) -> tuple[list[np.ndarray], float]:
    """A starting point for EM from the pairs that are matches on any reading: at least two fields agree
    exactly and no identity field disagrees. Starting there, EM refines the split between the same and
    different customers instead of wandering off to another split the candidates also have (pairs from
    the same event, the same owner)."""
    top = np.stack([levels[:, j] == comp.levels - 1 for j, comp in enumerate(comparisons)], axis=1)
    sure = top.sum(axis=1) >= 2
    for j, comp in enumerate(comparisons):
        if comp.identity:
            sure &= levels[:, j] != 0
    m = []
    for j, comp in enumerate(comparisons):
        default = prior_m(comp)
        column = levels[sure, j]
        seen = column[column != MISSING]
        if seen.size:
            from_seed = (np.bincount(seen, minlength=comp.levels) + 0.5) / (seen.size + 0.5 * comp.levels)
            default = (default + from_seed) / 2
        m.append(default)
    return m, float(np.clip(sure.mean() if sure.size else 0.1, 0.01, 0.9))


def _patterns(levels: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``levels`` with a missing value coded as one level past the top, and how many
    pairs have each: EM only needs a pair's agreement pattern, and a few hundred patterns stand for a
    million pairs."""
    code = np.zeros(levels.shape[0], dtype=np.int64)
    for j, size in enumerate(sizes):  # column by column: no int64 copy of the whole levels array
        code *= size + 1
        code += np.where(levels[:, j] == MISSING, size, levels[:, j])
    _, first, counts = np.unique(code, return_index=True, return_counts=True)
    picked = levels[first].astype(np.int64)
    for j, size in enumerate(sizes):
        picked[picked[:, j] == MISSING, j] = size
    return picked.reshape(first.size, len(sizes)), counts.astype(float)


def _em(
    levels: np.ndarray, u: list[np.ndarray], comparisons: list[Comparison]
) -> tuple[list[np.ndarray], float, np.ndarray]:
    """Expectation-maximisation of m and the match rate over candidate pairs, u held fixed, started from
    `_seed`. Also returns, per comparison, the expected number of matches its m was learnt from (the pairs
    where it had values on both sides).

    Each step runs over the distinct agreement patterns weighted by their counts, a missing value being a
    level past the top whose log ratio is 0; iteration stops once no m moves by more than 1e-5.
    """
    m, rate = _seed(levels, comparisons)
    sizes = [c.levels for c in comparisons]
    coded, counts = _patterns(levels, sizes)
    total = counts.sum()
    log_u = [np.log(u[j]) for j in range(len(sizes))]
    p = np.zeros(coded.shape[0])
    for _ in range(EM_ITERATIONS):
        log_ratio = np.full(coded.shape[0], np.log(rate / (1 - rate)))
        for j in range(len(sizes)):
            log_ratio += np.append(np.log(m[j]) - log_u[j], 0.0)[coded[:, j]]
        p = 1 / (1 + np.exp(-np.clip(log_ratio, -50, 50)))
        rate = float(np.clip((p * counts).sum() / total, 1e-6, 1 - 1e-6)) if total else rate
        moved = 0.0
        for j in range(len(sizes)):
            found = np.bincount(coded[:, j], weights=p * counts, minlength=sizes[j] + 1)[: sizes[j]] + 1e-3
            new = found / found.sum()
            moved = max(moved, float(np.abs(new - m[j]).max()))
            m[j] = new
        if moved < 1e-5:
            break
    support = np.array([(p * counts)[coded[:, j] < sizes[j]].sum() for j in range(len(sizes))])
    return m, rate, support


def estimate(
    levels: np.ndarray,
    u: list[np.ndarray],
    comparisons: list[Comparison],
    by_key: Sequence[tuple[BlockingKey, np.ndarray]] = (),
) -> list[np.ndarray]:
    """m by EM (u, from random pairs, held fixed), one run per blocking key, as Splink does.

    The pairs of one blocking key agree on its fields by construction, which would teach EM that agreeing
    there is what a match is (pairs with the same common name would all look like matches). So each key's
    run estimates m only for the comparisons it did not block on, and a comparison's m is the average over
    those runs, weighted by the matches each run found. A comparison that every key blocked on takes its m
    from one run over all candidates.
    """
    names = [c.name for c in comparisons]
    sums = [np.zeros(c.levels) for c in comparisons]
    mass = np.zeros(len(comparisons))
    for bk, rows in by_key:
        free = np.array([j for j, name in enumerate(names) if name not in bk.fields], dtype=np.intp)
        if rows.size < MIN_TRAINING_PAIRS or not free.size:
            continue
        m_free, _, support = _em(levels[np.ix_(rows, free)], [u[j] for j in free], [comparisons[j] for j in free])
        for j, mj, matches in zip(free, m_free, support, strict=True):
            sums[j] += matches * mj
            mass[j] += matches
    if (mass < MIN_SUPPORT).any():
        # From one run over all candidates, weighted by the matches it found: on a few pairs (a small project,
        # the deals of a few accounts) EM finds a split of some kind whatever the data, and its m should
        # count for no more than the matches it rests on.
        m_all, _, support = _em(levels, u, comparisons)
        for j in np.flatnonzero(mass < MIN_SUPPORT):
            sums[j], mass[j] = support[j] * m_all[j], support[j]
    return [(sums[j] + M_PSEUDO_MATCHES * prior_m(c)) / (mass[j] + M_PSEUDO_MATCHES) for j, c in enumerate(comparisons)]


def prior(weights: np.ndarray, all_pairs: int) -> float:
    """The probability that two records drawn at random are the same, λ: the fixed point of λ = (expected
    matches among the candidates) / (all pairs), pairs outside the blocks counting as non-matches.

    The weights measure evidence against random pairs (u comes from random pairs), so the prior must be
    the random-pair one too; taking the share of matches among the candidates instead would count the
    blocking key's agreement twice and merge every two namesakes.
    """
    if weights.size == 0 or all_pairs <= 0:
        return 1e-9
    values, counts = np.unique(weights, return_counts=True)
    rate = min(0.5 * weights.size / all_pairs, 0.5)
    for _ in range(EM_ITERATIONS):
        log_odds = np.log2(rate / (1 - rate)) + values
        matches = (counts / (1 + np.power(2.0, -np.clip(log_odds, -60, 60)))).sum()
        rate = float(np.clip(matches / all_pairs, 1e-12, 0.5))
    return rate


class WeightsError(ValueError):
    """Weights a project set that do not fit the comparison; the pipeline names the line in migration.yaml."""

    def __init__(self, field: str, kind: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.field, self.kind, self.message, self.hint = field, kind, message, hint


def _overrides(
    comparisons: list[Comparison], weights: dict, m: list[np.ndarray], u: list[np.ndarray]
) -> dict[int, np.ndarray]:
    """Put the project's own m and u in place of the estimates; return the u values it fixed."""
    fixed = {}
    for j, comp in enumerate(comparisons):
        given = weights.get(comp.name)
        if given is None:
            continue
        for kind, values in (("m", given.m), ("u", given.u)):
            if values is None:
                continue
            if len(values) != comp.levels or any(v <= 0 for v in values):
                raise WeightsError(
                    comp.name,
                    kind,
                    f"{kind} has {len(values)} numbers",
                    f"give {comp.levels} positive numbers, one per level: {', '.join(comp.labels)}",
                )
            array = np.array(values, dtype=float) / sum(values)
            if kind == "m":
                m[j] = array
            else:
                u[j] = fixed[j] = array
    return fixed


def evidence(pair: dict, comparisons: list[Comparison]) -> str:
    """What a scored pair rests on: each compared field's level and the bits it added, strongest first."""
    parts = []
    levels = [
        np.array([MISSING if pair.get(f"level:{c.name}") is None else pair[f"level:{c.name}"]]) for c in comparisons
    ]
    renewal = terms_apart(levels, comparisons)
    if renewal is not None and renewal[0]:
        parts.append(
            (float("inf"), "another deal: " + " and ".join(c.name for c in comparisons if c.apart) + " differ")
        )
    own = own_identifiers_differ(levels, comparisons)
    if own is not None and own[0]:
        parts.append(
            (
                float("inf"),
                "own identifiers differ ("
                + " and ".join(c.name for c in comparisons if c.personal and pair.get(f"level:{c.name}") == 0)
                + "), none the same: a steward decides",
            )
        )
    for comp in comparisons:
        if comp.doubt_label and pair.get(f"doubt:{comp.name}"):
            parts.append((float("inf"), f"{comp.name} {comp.doubt_label}: needs the same {', '.join(comp.needs)}"))
        level = pair.get(f"level:{comp.name}")
        if level is None or level == MISSING:
            continue
        parts.append(
            (abs(pair[f"weight:{comp.name}"]), f"{comp.name} {comp.label(level)} {pair[f'weight:{comp.name}']:+.1f}")
        )
    return "; ".join(text for _, text in sorted(parts, key=lambda x: -x[0]))


def level_weights(comp: Comparison, m: np.ndarray, u: np.ndarray, rate: float) -> np.ndarray:
    """log2(m/u) per level, a neutral level 0, a weak level no more than alone stays below even odds by
    `WEAK_MARGIN` at the match rate ``rate``; a last 0 for a missing value."""
    weights = np.log2(m) - np.log2(u)
    for level in comp.neutral:
        weights[level] = 0.0
    against_prior = -np.log2(rate / (1 - rate))
    cap = max(0.0, against_prior - WEAK_MARGIN)
    for level in comp.weak:
        weights[level] = min(weights[level], cap)
    if comp.unique:
        # What no two companies share by chance (a registered name, a brand the data gives one company) decides
        # alone: however few matches EM saw at that level (a small m), it is not chance.
        for level in (comp.levels - 1, *comp.unique_levels):
            weights[level] = max(weights[level], against_prior + UNIQUE_MARGIN)
    for level in comp.apart:
        # Where the pairs of one account are few, EM takes the renewals (same name, another amount) for
        # duplicates and would learn that another amount is what a duplicate looks like.
        weights[level] = min(weights[level], 0.0)
    return np.append(weights, 0.0)


def _weights(
    levels: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    comparisons: list[Comparison],
    shares: dict[int, np.ndarray],
    rate: float,
) -> np.ndarray:
    """Per pair and comparison, the weight of its level (0 where a value is missing); at the top level of a
    comparison with value frequencies, u is at least the share of records holding the value."""
    weights = np.zeros(levels.shape, dtype=float)
    for j in range(len(comparisons)):
        weights[:, j] = _weight_column(levels, j, m, u, comparisons, shares, rate)
    return weights


def _weight_column(
    levels: np.ndarray,
    j: int,
    m: list[np.ndarray],
    u: list[np.ndarray],
    comparisons: list[Comparison],
    shares: dict[int, np.ndarray],
    rate: float,
) -> np.ndarray:
    """One comparison's column of `_weights`."""
    comp, column = comparisons[j], levels[:, j]
    weights = level_weights(comp, m[j], u[j], rate)[column]  # MISSING (-1): the 0 at the end
    if j in shares:
        top = column == comp.levels - 1
        weights[top] = np.log2(m[j][-1]) - np.log2(np.maximum(shares[j][top], u[j][-1]))
    return weights


def _weight_total(
    levels: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    comparisons: list[Comparison],
    shares: dict[int, np.ndarray],
    rate: float,
) -> np.ndarray:
    """Per pair, the sum of `_weights` over its comparisons, one column at a time: no pairs x comparisons
    array of floats (on millions of pairs, gigabytes)."""
    total = np.zeros(levels.shape[0], dtype=float)
    for j in range(len(comparisons)):
        total += _weight_column(levels, j, m, u, comparisons, shares, rate)
    return total


def _value_share(frame: pl.DataFrame, pairs: pl.DataFrame, column: str, held: int | None = None) -> np.ndarray:
    """Per pair, the share of records holding the left record's value of ``column``: agreeing on 张伟 says
    less than agreeing on 欧阳靖宇 (term frequency, as Winkler proposed and Splink does). ``held``: the records
    with a value, where ``frame`` is a part of them (an incremental run's new rows and their neighbours)."""
    held = frame[column].drop_nulls().len() if held is None else held
    counts = frame.select(pl.col(column).count().over(column).alias("n"))["n"].cast(pl.Float64).to_numpy()
    share = counts / (held + U_PSEUDO_PAIRS)  # a small project cannot tell a common name from a rare one
    return share[pairs["l"].to_numpy()]


def _random_pairs(frame: pl.DataFrame, seed: int, within: str | None = None) -> pl.DataFrame:
    """Pairs of live records drawn at random (with a fixed seed, so runs repeat); with ``within``, pairs of
    records with the same value there (two opportunities of one account)."""
    if within is None:
        live = np.flatnonzero(frame[OUTCOME].is_null().to_numpy())
        n = live.size
        if n * (n - 1) // 2 <= RANDOM_PAIRS:  # few records: every pair, no sampling noise
            left, right = np.triu_indices(n, k=1)
        else:
            rng = np.random.default_rng(seed)
            left, right = rng.integers(0, n, RANDOM_PAIRS), rng.integers(0, n, RANDOM_PAIRS)
        pairs = pl.DataFrame({"l": live[left], "r": live[right]}, schema={"l": pl.UInt32, "r": pl.UInt32})
        return pairs.filter(pl.col("l") != pl.col("r"))
    rows = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"),
            pl.col(within).alias("g"),
            pl.col(OUTCOME).is_null().alias("live"),
        )
        .filter(pl.col("live") & pl.col("g").is_not_null())
        .sort("g", "i")
    )
    if _pairs_within(frame, within) <= RANDOM_PAIRS:
        pairs = rows.join(rows, on="g", suffix="_r").filter(pl.col("i") < pl.col("i_r"))
        return pairs.select(pl.col("i").alias("l"), pl.col("i_r").alias("r"))
    # A record drawn in proportion to its group's other members, then a partner from its group.
    g = rows["g"].rank("dense").cast(pl.Int64).to_numpy() - 1
    index = rows["i"].to_numpy()
    sizes = np.bincount(g)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    weight = (sizes[g] - 1).astype(float)
    rng = np.random.default_rng(seed)
    first = rng.choice(index.size, RANDOM_PAIRS, p=weight / weight.sum())
    offset = rng.integers(0, np.maximum(sizes[g[first]] - 1, 1))
    second = starts[g[first]] + offset
    second = np.where(second >= first, second + 1, second)  # any member but itself
    pairs = pl.DataFrame({"l": index[first], "r": index[second]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    return pairs.filter(pl.col("l") != pl.col("r"))


def _pairs_within(frame: pl.DataFrame, within: str | None) -> int:
    """All pairs of live records (with ``within``: of live records with the same value there)."""
    if within is None:
        n = frame[OUTCOME].null_count()  # counted, not filtered: a copy of every live row's columns is gigabytes
        return n * (n - 1) // 2
    live = frame.select(within, OUTCOME).filter(pl.col(OUTCOME).is_null())
    sizes = live.drop_nulls(within).group_by(within).len()["len"].cast(pl.Int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _empty(frame: pl.DataFrame, comp: Comparison) -> bool:
    """No record has a value for the comparison's main column."""
    if comp.columns[0] not in frame.columns:
        return True
    column = frame[comp.columns[0]]
    if isinstance(column.dtype, pl.List):
        return int(column.list.len().fill_null(0).sum()) == 0
    return column.null_count() == frame.height


def score(
    frame: pl.DataFrame,
    fields: list[FieldSpec],
    entity: Entity,
    linked: bool,
    settings: MatchSettings | None = None,
    seed: int = 0,
) -> MatchResult:
    """Candidate pairs with their match probability and, per field, the level and weight behind it.

    A field on which most random pairs agree exactly (an event name that most sign-ups share, a country)
    cannot tell customers apart; it is left out of both comparison and blocking, and reported.
    """
    settings = settings or MatchSettings()
    told = {name for name, w in settings.weights.items() if w.ignore}
    # Opportunities and activities are one only within one account: they are compared, and chance is
    # measured, among the records of each account (else sharing the account would weigh as rare evidence).
    within = ACCOUNT if entity in WITHIN_ACCOUNT and ACCOUNT in frame.columns else None
    comparisons = [
        c
        for c in comparisons_for(fields, frame, entity, linked)
        if c.name not in told and not (within and c.columns == (within,))
    ]
    fields = [f for f in fields if f.name not in told]
    cache: dict = {}
    with step(f"Comparing random pairs of {entity.value}", unit="pairs") as chance:
        random = _random_pairs(frame, seed, within)
        random_levels = _levels(frame, random, comparisons, cache)
        chance.finish(random.height)
    ignored = []
    for j, comp in enumerate(comparisons):
        column = random_levels[:, j]
        present = column[column != MISSING]
        if within is None and present.size >= MIN_EVIDENCE and (present == comp.levels - 1).mean() > NOT_DISCRIMINATING:
            ignored.append(comp.name)
    empty = {c.name for c in comparisons if _empty(frame, c)}
    if ignored or empty:
        keep = [j for j, c in enumerate(comparisons) if c.name not in ignored and c.name not in empty]
        comparisons = [comparisons[j] for j in keep]
        random_levels = random_levels[:, keep]
        fields = [f for f in fields if f.name not in ignored]
    with step(f"Blocking {entity.value}", unit="pairs") as blocking:
        pairs, parts, dropped, capped = candidate_pairs(frame, blocking_keys(fields, frame, entity, linked), within)
        blocking.finish(pairs.height)
    skipped = sum(c.blocks for c in capped)
    if pairs.is_empty() or not comparisons:
        return MatchResult(
            pairs.with_columns(pl.lit(0.0).alias("probability"), pl.lit(0.0).alias("weight")),
            comparisons,
            skipped_blocks=skipped,
            skipped_keys=dropped,
            ignored=ignored,
            capped=capped,
        )
    with step(f"Scoring {entity.value}", total=pairs.height, unit="pairs") as scoring:
        levels = _levels(frame, pairs, comparisons, cache, scoring)
        observed = _frequencies(random_levels, comparisons)
        m = estimate(levels, observed, comparisons, parts)
        u = list(observed)
        fixed_u = _overrides(comparisons, settings.weights, m, u)
        # A project's own u says how rare by chance each level is: taken as it is, nothing decides alone unless its
        # numbers make it decide.
        comparisons = [replace(c, unique=False) if j in fixed_u else c for j, c in enumerate(comparisons)]
        shares = {j: _value_share(frame, pairs, c.frequency) for j, c in enumerate(comparisons) if c.frequency}
        live = frame[OUTCOME].null_count()
        all_pairs = _pairs_within(frame, within)
        floor = 0.5 / (random_levels.shape[0] + U_PSEUDO_PAIRS)
        rate = 1e-9
        for _ in range(3):
            rate = prior(_weight_total(levels, m, u, comparisons, shares, rate), all_pairs)
            # Random pairs include some true matches (many, where sources are full of duplicates, and most among
            # the records that hold a field at all); take each out of u by how likely it is a match, or agreeing
            # on a company's registered name or on a contact would look like something chance does.
            odds = np.log2(rate / (1 - rate)) + _weights(random_levels, m, u, comparisons, {}, rate).sum(axis=1)
            chance = 1 - 1 / (1 + np.power(2.0, -np.clip(odds, -60, 60)))
            u = [np.maximum(x, floor) for x in _frequencies(random_levels, comparisons, chance)]
            for j, comp in enumerate(comparisons):
                if comp.unique:
                    # However many records there are, a name unique by law is shared by a different company
                    # for at most UNIQUE_COLLISIONS of them: the evidence grows with the data as the prior
                    # (two random records being one) shrinks with it, so a shared name decides at any scale.
                    for level in (comp.levels - 1, *comp.unique_levels):
                        u[j][level] = min(u[j][level], floor, UNIQUE_COLLISIONS / max(live, 1))
            u = [x / x.sum() for x in u]
            for j, given in fixed_u.items():
                u[j] = given
        fields_rate = rate  # the weights per field are those at this rate, as their sum is
        summed = _weight_total(levels, m, u, comparisons, shares, fields_rate)
        rate = prior(summed, all_pairs)
        total = np.log2(rate / (1 - rate)) + summed
        del summed
        probability = 1 / (1 + np.power(2.0, -np.clip(total, -60, 60)))
        doubts = {c.name: _by_chunks(frame, pairs, cache, c.doubt) for c in comparisons if c.doubt is not None}
        probability = _guards(probability, levels, comparisons, settings, doubts)
        out = pairs.with_columns(
            pl.Series("probability", probability),
            pl.Series("weight", total),
            *[pl.Series(f"doubt:{name}", d) for name, d in doubts.items()],
        )
        del probability, total
        # Column by column, so that only one comparison's weights exist outside the frame at a time.
        out = out.with_columns([pl.Series(f"level:{c.name}", levels[:, j]) for j, c in enumerate(comparisons)])
        for j, c in enumerate(comparisons):
            out = out.with_columns(
                pl.Series(f"weight:{c.name}", _weight_column(levels, j, m, u, comparisons, shares, fields_rate))
            )
    return MatchResult(
        out,
        comparisons,
        {c.name: m[j].tolist() for j, c in enumerate(comparisons)},
        {c.name: u[j].tolist() for j, c in enumerate(comparisons)},
        rate,
        skipped,
        dropped,
        ignored,
        capped,
        out.height,
        histogram(out["probability"].to_numpy()),
        fields_rate,
    )


def histogram(probability: np.ndarray) -> list[int]:
    """Pairs per probability band of 0.01 (the last holds 0.99 to 1)."""
    bands = np.minimum((probability * HISTOGRAM_BANDS).astype(np.int64), HISTOGRAM_BANDS - 1)
    return np.bincount(bands, minlength=HISTOGRAM_BANDS).tolist()


def keep_shown(result: MatchResult, labels: np.ndarray, settings: MatchSettings) -> MatchResult:
    """Past ``KEEP_PAIRS`` candidate pairs, only those anyone is shown: pairs in the review band or above,
    and pairs within one cluster (a member's most likely pair, in the review workbook). Most candidate pairs
    are two records left apart below the review band; they are counted (``scored``, ``histogram``) and let
    go, not held through golden records and writing (at 2M records, 6M pairs of ~20 columns: 0.6 GB)."""
    pairs = result.pairs
    if pairs.height <= KEEP_PAIRS:
        return result
    left, right = pairs["l"].to_numpy(), pairs["r"].to_numpy()
    keep = (pairs["probability"].to_numpy() >= min(settings.review, settings.merge)) | (labels[left] == labels[right])
    return replace(result, pairs=pairs.filter(pl.Series(keep)))


def terms_apart(levels: list, comparisons: list[Comparison]):
    """Per pair, whether it is two deals: two terms at least (amount, close date) on both sides, every one of
    them apart (`Comparison.apart`): same name and account, another amount and another quarter's date is a
    renewal. ``levels`` holds a column per comparison (numpy arrays or polars expressions); what comes back
    is of the same kind."""
    terms = [(levels[j], sorted(c.apart)) for j, c in enumerate(comparisons) if c.apart]
    if len(terms) < 2:
        return None
    if isinstance(levels[0], pl.Expr):
        present = pl.sum_horizontal([(col != MISSING).cast(pl.Int8) for col, _ in terms])
        agree = pl.any_horizontal([(col != MISSING) & ~col.is_in(apart) for col, apart in terms])
        return (present >= 2) & ~agree
    present = sum((col != MISSING).astype(np.int8) for col, _ in terms)
    agree = np.any([(col != MISSING) & ~np.isin(col, apart) for col, apart in terms], axis=0)
    return (present >= 2) & ~agree


def own_identifiers_differ(levels: list, comparisons: list[Comparison], sole: bool = True):
    """Per pair, whether a person's own identifiers (`Comparison.personal`: mobile, email, direct line) speak for
    two people: two of them differ, or (with ``sole``) the one only its holder uses (`Comparison.sole`: the
    mobile), and none is the same but a desk line (`Comparison.desk`). ``levels`` holds a column per comparison
    (numpy arrays or polars expressions); what comes back is of the same kind, or None where none is compared."""
    own = [(levels[j], c) for j, c in enumerate(comparisons) if c.personal]
    if not own:
        return None
    counts = [(col, 2 if sole and c.sole else 1, c.levels - 1, c.desk) for col, c in own]
    if isinstance(levels[0], pl.Expr):
        differ = pl.sum_horizontal([(col == 0).cast(pl.Int8) * n for col, n, _, _ in counts])
        agree = [col == top for col, _, top, desk in counts if not desk]
        return (differ >= 2) & ~pl.any_horizontal(agree or [pl.lit(False)])
    differ = sum((col == 0).astype(np.int8) * n for col, n, _, _ in counts)
    agree = [col == top for col, _, top, desk in counts if not desk]
    return (differ >= 2) & ~(np.any(agree, axis=0) if agree else False)


def _guards(
    probability: np.ndarray,
    levels: np.ndarray,
    comparisons: list[Comparison],
    settings: MatchSettings,
    doubts: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """A disagreeing identity (two credit codes) makes a pair impossible, and so do a deal's terms apart (a
    renewal, `terms_apart`); a weak level that needs a strong identifier (a surname and a salutation) without
    one agreeing keeps the pair below the merge threshold, so at most a steward sees it, and so does a pair a
    comparison doubts (`Comparison.doubt`: two different common surnames)."""
    probability = probability.copy()
    names = {c.name: j for j, c in enumerate(comparisons)}
    renewal = terms_apart([levels[:, j] for j in range(len(comparisons))], comparisons)
    if renewal is not None:
        probability[renewal] = 0.0
    # Another mobile (or another email and direct line), none the same: two namesakes at one company look like
    # that; one person with a new mobile does too, and which it is no weight can tell. A steward decides.
    doubtful = own_identifiers_differ([levels[:, j] for j in range(len(comparisons))], comparisons)
    if doubtful is not None:
        probability[doubtful] = np.minimum(probability[doubtful], np.nextafter(settings.merge, 0))
    for j, comp in enumerate(comparisons):
        if comp.identity:
            probability[levels[:, j] == 0] = 0.0
        doubted = (doubts or {}).get(comp.name)
        if comp.needs and (comp.weak or doubted is not None):
            weak = np.isin(levels[:, j], list(comp.weak))
            if doubted is not None:
                weak |= doubted
            backed = np.zeros(len(probability), dtype=bool)
            for other in comp.needs:
                if other in names:
                    k = names[other]
                    backed |= levels[:, k] == comparisons[k].levels - 1
            capped = weak & ~backed
            probability[capped] = np.minimum(probability[capped], np.nextafter(settings.merge, 0))
    return probability


# -- clustering ----------------------------------------------------------------------------------------


def _two_own_identifiers_differ(result: MatchResult) -> pl.Expr:
    """`own_identifiers_differ` over the scored pairs, two of them differing: two namesakes at one company, which
    a third record without those identifiers must not bring together. (A mobile alone differing only keeps the
    pair itself from merging: one person's records with an old and a new number may still meet through a
    third that holds both, or the same email.)"""
    if not all(f"level:{c.name}" in result.pairs.columns for c in result.comparisons):
        return pl.lit(False)
    found = own_identifiers_differ(
        [pl.col(f"level:{c.name}") for c in result.comparisons], result.comparisons, sole=False
    )
    return pl.lit(False) if found is None else found


def _terms_apart(result: MatchResult) -> pl.Expr:
    """`terms_apart` over the scored pairs: two deals never share a cluster, whichever record would join them."""
    if not all(f"level:{c.name}" in result.pairs.columns for c in result.comparisons):
        return pl.lit(False)
    found = terms_apart([pl.col(f"level:{c.name}") for c in result.comparisons], result.comparisons)
    return pl.lit(False) if found is None else found


def clusters(
    n: int,
    result: MatchResult,
    settings: MatchSettings,
    must_link=(),
    steward_links=(),
    vetoes=(),
    identity_links=(),
    exclusive: np.ndarray | None = None,
    detached: np.ndarray | None = None,
) -> np.ndarray:
    """A cluster label per record: the smallest member index (see `clustering`). Pairs at or above the merge
    threshold join, most likely first. A compared pair whose evidence speaks against it (its fields' weights
    sum to ``against`` bits or less: far less likely to be one than two records drawn at random) or with a
    disagreeing identity is forbidden inside one cluster; a pair that merely lacks evidence is not.
    ``exclusive`` holds per record the codes of its exclusive attributes; ``detached`` the records only the
    must-links and the steward's links join (a steward's 'merge into' moved them)."""
    pairs = result.pairs
    strong = pairs.filter(pl.col("probability") >= settings.merge).sort(
        ["probability", "l", "r"], descending=[True, False, False]
    )
    bad = np.empty((0, 2), dtype=np.int64)
    if pairs.height and "weight" in pairs.columns:
        identity = [
            f"level:{c.name}" for c in result.comparisons if c.forbidding and f"level:{c.name}" in pairs.columns
        ]
        rate = min(max(result.match_rate, 1e-12), 0.5)
        evidence = pl.col("weight") - float(np.log2(rate / (1 - rate)))
        renewal = _terms_apart(result)
        bad = edges(
            pairs.filter(
                (evidence <= settings.against)
                | pl.any_horizontal([pl.col(c) == 0 for c in identity] or [pl.lit(False)])
                | _two_own_identifiers_differ(result)
                | renewal
            )
        )
    stages = [edges(must_link), edges(steward_links), edges(identity_links), edges(strong)]
    if detached is not None and detached.size:
        # A record the steward merged into another one leaves its former cluster: no identity or score
        # joins it to anything, only the steward's own links do.
        stages[2:] = [stage[~np.isin(stage, detached).any(axis=1)] for stage in stages[2:]]
    return cluster(n, stages, bad, edges(vetoes), exclusive)
