"""Finding the same customer written differently, without labels: blocking, comparisons, Fellegi-Sunter.

1. **Blocking.** Candidate pairs come only from records that share a blocking key built from the cleaners'
   match keys (credit code, mobile, email, company-name key, pinyin name key with another field, ...).
   Blocks larger than `MAX_BLOCK` are skipped and counted, so no step is ever all-pairs.
2. **Comparisons** by field type give each pair an agreement level per field: exact for codes, phones and
   emails; rapidfuzz similarity bands for names, addresses and text; closeness for dates.
3. **Weights** are estimated from the data itself: u (how often a level occurs by chance) from random
   pairs, m (how often among true matches) and the match rate by EM over the candidate pairs. A pair's
   match weight is the sum of log2(m/u) over its fields; its probability follows. Each field's
   contribution is kept as the pair's evidence.
4. **Clustering** joins pairs from the most to the least likely, and refuses a join when any two records
   it would bring together were compared and scored as a clear non-match, so a weak link cannot chain two
   groups of records into one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from crm_migrate.mappings.entities import FieldSpec, FieldType
from crm_migrate.migrate.columns import OUTCOME, attr, key, val
from crm_migrate.migrate.link import ACCOUNT

MAX_BLOCK = 500  # records sharing one blocking key; a larger block is too common to say anything
RANDOM_PAIRS = 200_000
EM_ITERATIONS = 30
MISSING = -1


@dataclass(frozen=True)
class Comparison:
    """How one field of two records agrees: level 0 is disagreement, the top level exact agreement."""

    name: str
    levels: int
    compare: Callable[[pl.DataFrame], np.ndarray]  # pairs frame (columns <c>_l, <c>_r) -> levels, -1 missing
    columns: tuple[str, ...]
    identity: bool = False  # different values mean different records, whatever else agrees


@dataclass
class MatchSettings:
    merge: float = 0.95  # pairs at or above: same record
    review: float = 0.60  # pairs at or above (and below merge): a steward decides
    never: float = 0.05  # a compared pair below this forbids putting its two records in one cluster


@dataclass
class MatchResult:
    pairs: pl.DataFrame  # l, r, probability, weight, and per comparison: level and its weight
    comparisons: list[Comparison]
    m: dict[str, list[float]] = field(default_factory=dict)
    u: dict[str, list[float]] = field(default_factory=dict)
    match_rate: float = 0.0
    skipped_blocks: int = 0


# -- comparisons ---------------------------------------------------------------------------------------

def _pair_values(pairs: pl.DataFrame, column: str) -> tuple[list, list, np.ndarray]:
    left, right = pairs[f"{column}_l"], pairs[f"{column}_r"]
    missing = (left.is_null() | right.is_null()).to_numpy()
    return left.fill_null("").to_list(), right.fill_null("").to_list(), missing


def exact(name: str, column: str, identity: bool = False) -> Comparison:
    def compare(pairs: pl.DataFrame) -> np.ndarray:
        left, right = pairs[f"{column}_l"], pairs[f"{column}_r"]
        levels = (left == right).fill_null(False).to_numpy().astype(np.int8)
        levels[(left.is_null() | right.is_null()).to_numpy()] = MISSING
        return levels

    return Comparison(name, 2, compare, (column,), identity)


def similar(name: str, column: str, bands: tuple[float, ...], scorer=JaroWinkler.normalized_similarity,
            exact_column: str | None = None) -> Comparison:
    """Levels: 0 below every band, then one per band reached, the top for equal ``exact_column`` values."""
    columns = (column,) + ((exact_column,) if exact_column else ())

    def compare(pairs: pl.DataFrame) -> np.ndarray:
        left, right, missing = _pair_values(pairs, column)
        scores = process.cpdist(left, right, scorer=scorer, workers=1) if left else np.zeros(0)
        levels = np.zeros(len(left), dtype=np.int8)
        for i, band in enumerate(sorted(bands), start=1):
            levels[scores >= band] = i
        if exact_column:
            same = (pairs[f"{exact_column}_l"] == pairs[f"{exact_column}_r"]).fill_null(False).to_numpy()
            levels[same] = len(bands) + 1
        levels[missing] = MISSING
        return levels

    return Comparison(name, len(bands) + 1 + (1 if exact_column else 0), compare, columns)


def days_apart(name: str, column: str) -> Comparison:
    """Dates: 3 same day, 2 within a week, 1 within a year or the day and month swapped, 0 further."""
    def compare(pairs: pl.DataFrame) -> np.ndarray:
        left = pairs[f"{column}_l"].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        right = pairs[f"{column}_r"].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        gap = (left - right).dt.total_days().abs().to_numpy()
        swapped = ((left.dt.month() == right.dt.day()) & (left.dt.day() == right.dt.month())
                   & (left.dt.year() == right.dt.year())).fill_null(False).to_numpy()
        levels = np.zeros(len(pairs), dtype=np.int8)
        with np.errstate(invalid="ignore"):
            levels[(gap <= 366) | swapped] = 1
            levels[gap <= 7] = 2
            levels[gap == 0] = 3
        levels[(left.is_null() | right.is_null()).to_numpy()] = MISSING
        return levels

    return Comparison(name, 4, compare, (column,))


def comparisons_for(fields: list[FieldSpec], frame: pl.DataFrame, linked: bool) -> list[Comparison]:
    """The comparisons an entity's mapped fields allow, chosen by type."""
    out: list[Comparison] = []
    for spec in fields:
        v, k = val(spec.name), key(spec.name)
        if v not in frame.columns:
            continue
        t = spec.type
        if t in (FieldType.uscc, FieldType.id_card):
            out.append(exact(spec.name, k, identity=True))
        elif t in (FieldType.phone, FieldType.email, FieldType.url):
            out.append(exact(spec.name, k))
        elif t is FieldType.company_name:
            out.append(similar(spec.name, k, (0.75, 0.88, 0.95), exact_column=k))
            region = attr(spec.name, "region")
            if region in frame.columns:
                out.append(exact(f"{spec.name}.region", region))
        elif t is FieldType.person_name:
            out.append(similar(spec.name, k, (0.80, 0.90, 0.96), exact_column=v))
        elif t is FieldType.address:
            out.append(similar(spec.name, k, (0.70, 0.85, 0.95), exact_column=k))
        elif t is FieldType.date:
            out.append(days_apart(spec.name, v))
        elif t in (FieldType.text, FieldType.id, FieldType.number, FieldType.money, FieldType.picklist):
            if spec.name in ("note", "content", "subject", "owner", "title", "status", "level", "industry",
                             "gender", "department", "lead_source", "type", "stage"):
                continue  # describes the relationship, not the identity
            out.append(similar(spec.name, k, (0.85, 0.95), exact_column=k))
    if linked and ACCOUNT in frame.columns:
        out.append(exact("account", ACCOUNT))
    return out


# -- blocking ------------------------------------------------------------------------------------------

def blocking_keys(fields: list[FieldSpec], frame: pl.DataFrame, linked: bool) -> list[tuple[str, pl.Expr]]:
    """Keys under which records are compared: every identifying key alone, and the name key with others."""
    keys: list[tuple[str, pl.Expr]] = []
    names = [s for s in fields if s.type in (FieldType.company_name, FieldType.person_name)
             and key(s.name) in frame.columns]
    for spec in fields:
        k = key(spec.name)
        if k not in frame.columns:
            continue
        if spec.type in (FieldType.uscc, FieldType.id_card, FieldType.phone, FieldType.email):
            keys.append((spec.name, pl.col(k)))
        elif spec.type in (FieldType.company_name, FieldType.person_name):
            keys.append((spec.name, pl.col(k)))
        elif spec.type in (FieldType.date, FieldType.id, FieldType.text, FieldType.address) and names:
            # another field with the start of the name: catches typos later in the name
            for n in names:
                keys.append((f"{spec.name}+{n.name}[:2]",
                             pl.concat_str([pl.col(k), pl.col(key(n.name)).str.slice(0, 2)], separator="\x1f")))
        if spec.type in (FieldType.date, FieldType.id) and spec.name not in ("id",):
            keys.append((spec.name, pl.col(k)))
    for n in names:
        keys.append((f"{n.name}[:3]+{n.name}[-3:]",
                     pl.concat_str([pl.col(key(n.name)).str.slice(0, 3),
                                    pl.col(key(n.name)).str.slice(-3)], separator="\x1f")))
        if linked and ACCOUNT in frame.columns:
            keys.append((f"{n.name}[:1]+account", pl.concat_str([pl.col(key(n.name)).str.slice(0, 1),
                                                                  pl.col(ACCOUNT)], separator="\x1f")))
    return keys


def candidate_pairs(frame: pl.DataFrame, keys: list[tuple[str, pl.Expr]]) -> tuple[pl.DataFrame, int]:
    """Unique pairs (l < r, by row index) of live records sharing any blocking key; blocks over the size
    limit are skipped and counted."""
    live = frame.with_row_index("_i").filter(pl.col(OUTCOME).is_null())
    parts, skipped = [], 0
    for _, expr in keys:
        block = live.select("_i", expr.alias("_b")).drop_nulls("_b")
        sizes = block.group_by("_b").len()
        skipped += sizes.filter(pl.col("len") > MAX_BLOCK).height
        block = block.join(sizes.filter((pl.col("len") > 1) & (pl.col("len") <= MAX_BLOCK)), on="_b", how="semi")
        pairs = block.join(block, on="_b", suffix="_r").filter(pl.col("_i") < pl.col("_i_r"))
        parts.append(pairs.select(pl.col("_i").alias("l"), pl.col("_i_r").alias("r")))
    if not parts:
        return pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32}), skipped
    return pl.concat(parts).unique(maintain_order=True), skipped


def _with_sides(frame: pl.DataFrame, pairs: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    side = frame.with_row_index("_i").select("_i", *sorted(columns))
    return (pairs.join(side.rename({c: f"{c}_l" for c in columns}), left_on="l", right_on="_i", how="left")
            .join(side.rename({c: f"{c}_r" for c in columns}), left_on="r", right_on="_i", how="left"))


def _levels(frame: pl.DataFrame, pairs: pl.DataFrame, comparisons: list[Comparison]) -> np.ndarray:
    columns = {c for comp in comparisons for c in comp.columns}
    sided = _with_sides(frame, pairs, columns)
    if not comparisons:
        return np.zeros((pairs.height, 0), dtype=np.int8)
    return np.stack([comp.compare(sided) for comp in comparisons], axis=1)


# -- weights -------------------------------------------------------------------------------------------

def _frequencies(levels: np.ndarray, comparisons: list[Comparison], smoothing: float) -> list[np.ndarray]:
    out = []
    for j, comp in enumerate(comparisons):
        column = levels[:, j]
        seen = column[column != MISSING]
        counts = np.bincount(seen, minlength=comp.levels).astype(float) + smoothing
        out.append(counts / counts.sum())
    return out


def estimate(levels: np.ndarray, random_levels: np.ndarray, comparisons: list[Comparison]
             ) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """u from random pairs; m and the match rate among candidates by EM, u held fixed."""
    u = _frequencies(random_levels, comparisons, smoothing=1.0)
    m = []
    for comp in comparisons:  # start: matches agree mostly at the top level
        start = np.full(comp.levels, 0.05 / max(comp.levels - 1, 1))
        start[-1] = 0.95
        m.append(start)
    rate = 0.3
    for _ in range(EM_ITERATIONS):
        log_ratio = np.full(levels.shape[0], np.log(rate / (1 - rate)))
        for j in range(len(comparisons)):
            column = levels[:, j]
            present = column != MISSING
            log_ratio[present] += np.log(m[j][column[present]]) - np.log(u[j][column[present]])
        p = 1 / (1 + np.exp(-np.clip(log_ratio, -50, 50)))
        rate = float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
        for j, comp in enumerate(comparisons):
            column = levels[:, j]
            present = column != MISSING
            counts = np.bincount(column[present], weights=p[present], minlength=comp.levels) + 1e-3
            m[j] = counts / counts.sum()
    return m, u, rate


def score(frame: pl.DataFrame, fields: list[FieldSpec], linked: bool, seed: int = 0) -> MatchResult:
    """Candidate pairs with their match probability and, per field, the level and weight behind it."""
    comparisons = comparisons_for(fields, frame, linked)
    pairs, skipped = candidate_pairs(frame, blocking_keys(fields, frame, linked))
    if pairs.is_empty() or not comparisons:
        return MatchResult(pairs.with_columns(pl.lit(0.0).alias("probability"), pl.lit(0.0).alias("weight")),
                           comparisons, skipped_blocks=skipped)
    levels = _levels(frame, pairs, comparisons)
    rng = np.random.default_rng(seed)
    n = frame.height
    size = min(RANDOM_PAIRS, n * (n - 1) // 2)
    random = pl.DataFrame({"l": rng.integers(0, n, size), "r": rng.integers(0, n, size)}).filter(
        pl.col("l") != pl.col("r")).with_columns(pl.col("l").cast(pl.UInt32), pl.col("r").cast(pl.UInt32))
    m, u, rate = estimate(levels, _levels(frame, random, comparisons), comparisons)
    weights = np.zeros(levels.shape, dtype=float)
    for j in range(len(comparisons)):
        column = levels[:, j]
        present = column != MISSING
        weights[present, j] = np.log2(m[j][column[present]]) - np.log2(u[j][column[present]])
    total = np.log2(rate / (1 - rate)) + weights.sum(axis=1)
    probability = 1 / (1 + np.power(2.0, -np.clip(total, -60, 60)))
    out = pairs.with_columns(pl.Series("probability", probability), pl.Series("weight", total))
    out = out.with_columns([pl.Series(f"level:{c.name}", levels[:, j]) for j, c in enumerate(comparisons)]
                           + [pl.Series(f"weight:{c.name}", weights[:, j]) for j, c in enumerate(comparisons)])
    return MatchResult(out, comparisons, {c.name: m[j].tolist() for j, c in enumerate(comparisons)},
                       {c.name: u[j].tolist() for j, c in enumerate(comparisons)}, rate, skipped)


# -- clustering ----------------------------------------------------------------------------------------

def clusters(n: int, result: MatchResult, settings: MatchSettings, must_link: list[tuple[int, int]] = ()
             ) -> np.ndarray:
    """A cluster label per record: the smallest member index. Must-link pairs join first; then pairs at or
    above the merge threshold, most likely first, unless the join would put together two records that
    were compared and scored below ``never``, or that disagree on an identity field."""
    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    pairs = result.pairs
    forbidden: set[tuple[int, int]] = set()
    if pairs.height:
        identity = [f"level:{c.name}" for c in result.comparisons if c.identity]
        bad = pairs.filter((pl.col("probability") < settings.never)
                           | pl.any_horizontal([pl.col(c) == 0 for c in identity] or [pl.lit(False)]))
        forbidden = set(zip(bad["l"].to_list(), bad["r"].to_list(), strict=True))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int, check: bool) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        if check and forbidden:
            for x in members[ra]:
                for y in members[rb]:
                    if (min(x, y), max(x, y)) in forbidden:
                        return
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        members[ra].extend(members.pop(rb))

    for a, b in must_link:
        join(a, b, check=False)
    strong = pairs.filter(pl.col("probability") >= settings.merge).sort("probability", descending=True)
    for a, b in zip(strong["l"].to_list(), strong["r"].to_list(), strict=True):
        join(a, b, check=True)
    labels = np.array([find(i) for i in range(n)])
    smallest = {}
    for i, root in enumerate(labels):
        smallest.setdefault(root, i)
    return np.array([smallest[root] for root in labels])
