"""Finding the same customer written differently, without labels: blocking, comparisons, Fellegi-Sunter.

1. **Blocking.** Candidate pairs come only from records that share a blocking key built from the cleaners'
   match keys of identifying fields (credit code, mobile, email, company-name key, pinyin name key with
   another field, ...). Blocks larger than `MAX_BLOCK` are skipped, and a key that would give more than
   `PAIRS_PER_ROW` pairs per record is dropped and reported, so no step is ever all-pairs.
2. **Comparisons** by field type give each pair an agreement level per field: exact for codes, phones and
   emails; rapidfuzz similarity bands for names, addresses and text; closeness for dates.
3. **Weights** are estimated from the data itself: u (how often a level occurs by chance) from random
   pairs, m (how often among true matches) by EM once per blocking key, and the prior (the chance that
   two random records are one) from the expected matches among all pairs. A pair's match weight is the
   sum of log2(m/u) over its fields; its probability follows. Each field's contribution is kept as the
   pair's evidence. A project may set m and u itself.
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

from crm_migrate.mappings.entities import ID_FIELD, FieldSpec, FieldType
from crm_migrate.migrate.columns import OUTCOME, attr, key, val
from crm_migrate.migrate.link import ACCOUNT

MAX_BLOCK = 100  # records sharing one blocking key; a larger block is too common a value to say anything
PAIRS_PER_ROW = 4  # a blocking key giving more candidate pairs than this per record is too coarse
MIN_BUDGET = 20_000  # ... unless the data is small enough for that not to matter
RANDOM_PAIRS = 500_000
EM_ITERATIONS = 30
MIN_TRAINING_PAIRS = 30  # a blocking key with fewer pairs does not train m
UNIQUE_COLLISIONS = 0.01  # share of records whose unique-by-law value another record holds by chance
U_PSEUDO_PAIRS = 1_000  # weight of prior_u against the random pairs
M_PSEUDO_MATCHES = 10  # weight of prior_m against the matches EM found
MIN_SUPPORT = 5.0  # expected matches with values on both sides needed to trust a learnt m
MIN_EVIDENCE = 200  # random pairs with values needed before a field may be judged useless
NOT_DISCRIMINATING = 0.5  # share of random pairs agreeing exactly above which a field says nothing
MISSING = -1


@dataclass(frozen=True)
class Comparison:
    """How one field of two records agrees: level 0 is disagreement, the top level exact agreement."""

    name: str
    levels: int
    compare: Callable[[Sides], np.ndarray]  # the pairs' two records -> a level per pair, -1 missing
    columns: tuple[str, ...]
    identity: bool = False  # level 0 means different records, whatever else agrees
    frequency: str | None = None  # column whose value frequency replaces u at the top level (common names)
    unique: bool = False  # two different records never share the exact value by chance (registered names)
    prior_u: tuple[float, ...] | None = None  # chance agreement per level before data is seen; see prior_u()
    labels: tuple[str, ...] = ()  # what each level means, lowest first, for evidence and messages

    def label(self, level: int) -> str:
        return self.labels[level] if 0 <= level < len(self.labels) else str(level)


@dataclass
class MatchSettings:
    merge: float = 0.95  # pairs at or above: same record
    review: float = 0.60  # pairs at or above (and below merge): a steward decides
    never: float = 0.05  # a compared pair below this forbids putting its two records in one cluster
    weights: dict = field(default_factory=dict)  # field -> models.Weights: m/u set by the project, or ignore


@dataclass
class MatchResult:
    pairs: pl.DataFrame  # l, r, probability, weight, and per comparison: level and its weight
    comparisons: list[Comparison]
    m: dict[str, list[float]] = field(default_factory=dict)
    u: dict[str, list[float]] = field(default_factory=dict)
    match_rate: float = 0.0  # λ: the probability that two records drawn at random are the same
    skipped_blocks: int = 0
    skipped_keys: list[SkippedKey] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # fields that could not tell records apart


# -- comparisons ---------------------------------------------------------------------------------------

class Sides:
    """The two records of each pair, column by column, computed only as a comparison asks for it.

    Equality is decided on 64-bit hashes of a column's values, gathered per pair (two different values
    sharing a hash is a one in 10^10 chance even among a million distinct values); strings are gathered
    only for the pairs a similarity must score.
    """

    def __init__(self, frame: pl.DataFrame, pairs: pl.DataFrame) -> None:
        self.frame = frame
        self.left, self.right = pairs["l"].to_numpy().astype(np.int64), pairs["r"].to_numpy().astype(np.int64)
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return self.left.size

    def _coded(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._codes:
            series = self.frame[column]
            self._codes[column] = (series.hash(seed=0).to_numpy(), series.is_null().to_numpy())
        return self._codes[column]

    def values(self, column: str, where: np.ndarray) -> tuple[list, list]:
        """The left and right values of ``column`` for the pairs at positions ``where``."""
        series = self.frame[column]
        return (series.gather(pl.Series(self.left[where])).to_list(),
                series.gather(pl.Series(self.right[where])).to_list())

    def same(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: both values present and equal; either value missing."""
        codes, null = self._coded(column)
        missing = null[self.left] | null[self.right]
        return (codes[self.left] == codes[self.right]) & ~missing, missing

    def differ(self, column: str, either: bool) -> np.ndarray:
        """Per pair: the values differ, both present (or, with ``either``, also where only one is)."""
        codes, null = self._coded(column)
        a_null, b_null = null[self.left], null[self.right]
        unequal = (codes[self.left] != codes[self.right]) & ~a_null & ~b_null
        return unequal | (a_null != b_null) if either else unequal


def _similarity(sides: Sides, column: str, scorer, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the similarity of the two values of ``column`` (1 where equal, 0 below ``cutoff``) and
    where one is missing. Only the pairs with two different values are scored, on all cores."""
    same, missing = sides.same(column)
    scores = same.astype(float)
    todo = np.flatnonzero(~missing & ~same)
    if todo.size:
        left, right = sides.values(column, todo)
        scores[todo] = process.cpdist(left, right, scorer=scorer, score_cutoff=cutoff, workers=-1)
    return scores, missing


def exact(name: str, column: str, identity: bool = False) -> Comparison:
    def compare(sides: Sides) -> np.ndarray:
        same, missing = sides.same(column)
        levels = same.astype(np.int8)
        levels[missing] = MISSING
        return levels

    return Comparison(name, 2, compare, (column,), identity, labels=("different", "same"))


def similar(name: str, column: str, bands: tuple[float, ...], scorer=JaroWinkler.normalized_similarity,
            exact_column: str | None = None, conflicts: tuple[str, ...] = (), identity: bool = False,
            frequency: str | None = None, unique: bool = False) -> Comparison:
    """Levels: 0 below every band, then one per band reached, the top for equal ``exact_column`` values.

    ``conflicts`` are parts that make two similar values different things when they differ: a company's
    region (北京星辰科技 and 上海星辰科技 are two registered companies) or its branch (a branch is not its
    parent). A pair whose parts conflict is put at level 0 however alike the rest is. A region conflicts
    only when both sides have one; a branch also when only one side has it.
    """
    columns = (column,) + ((exact_column,) if exact_column else ()) + conflicts

    def compare(sides: Sides) -> np.ndarray:
        scores, missing = _similarity(sides, column, scorer, min(bands))
        levels = np.zeros(len(scores), dtype=np.int8)
        for i, band in enumerate(sorted(bands), start=1):
            levels[scores >= band] = i
        if exact_column:
            levels[sides.same(exact_column)[0]] = len(bands) + 1
        for part in conflicts:
            levels[sides.differ(part, either=part.endswith(".branch"))] = 0
        levels[missing] = MISSING
        return levels

    labels = ("different", *(f"similar ≥{b:.2f}" for b in sorted(bands)), *(("same",) if exact_column else ()))
    return Comparison(name, len(bands) + 1 + (1 if exact_column else 0), compare, columns, identity, frequency,
                      unique, labels=labels)


def days_apart(name: str, column: str) -> Comparison:
    """Dates: 3 same day, 2 within a week, 1 within a year or the day and month swapped, 0 further."""
    def compare(sides: Sides) -> np.ndarray:
        date = sides.frame[column].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        day = date.cast(pl.Int64).fill_null(np.iinfo(np.int64).min).to_numpy()
        mdy = (date.dt.month().cast(pl.Int64) * 100 + date.dt.day().cast(pl.Int64)
               + date.dt.year().cast(pl.Int64) * 10_000).fill_null(-1).to_numpy()
        missing = (day[sides.left] == np.iinfo(np.int64).min) | (day[sides.right] == np.iinfo(np.int64).min)
        gap = np.abs(day[sides.left] - day[sides.right])
        a, b = mdy[sides.left], mdy[sides.right]
        swapped = (a // 10_000 == b // 10_000) & (a % 100 == (b // 100) % 100) & ((a // 100) % 100 == b % 100)
        levels = np.zeros(len(sides), dtype=np.int8)
        levels[(gap <= 366) | swapped] = 1
        levels[gap <= 7] = 2
        levels[gap == 0] = 3
        levels[missing] = MISSING
        return levels

    return Comparison(name, 4, compare, (column,), prior_u=(0.95, 0.0459, 0.004, 1e-4),
                      labels=("over a year apart", "within a year", "within a week", "same day"))


# Fields that describe the relationship (who owns it, what happened when), not who the customer is: they
# are neither compared nor blocked on, or records with the same owner would look like one customer.
DESCRIPTIVE = frozenset({
    "note", "content", "subject", "owner", "title", "status", "level", "industry", "gender", "department",
    "lead_source", "type", "stage", "amount", "created_at", "last_activity_at", "close_date", "occurred_at",
})


def identifying(fields: list[FieldSpec]) -> list[FieldSpec]:
    return [s for s in fields if s.name not in DESCRIPTIVE and s.name != ID_FIELD]


def comparisons_for(fields: list[FieldSpec], frame: pl.DataFrame, linked: bool) -> list[Comparison]:
    """The comparisons an entity's identifying fields allow, chosen by type."""
    out: list[Comparison] = []
    for spec in identifying(fields):
        v, k = val(spec.name), key(spec.name)
        if v not in frame.columns:
            continue
        t = spec.type
        if t in (FieldType.uscc, FieldType.id_card):
            out.append(exact(spec.name, k, identity=True))
        elif t in (FieldType.phone, FieldType.email, FieldType.url):
            out.append(exact(spec.name, k))
        elif t is FieldType.company_name:
            parts = tuple(c for c in (attr(spec.name, "region"), attr(spec.name, "branch")) if c in frame.columns)
            # A registered name is unique within its region by law (企业名称登记管理规定): records sharing
            # one are the same company unless the region or the branch conflicts (then level 0).
            out.append(similar(spec.name, k, (0.75, 0.88, 0.95), exact_column=k, conflicts=parts,
                               identity=spec.name == "name", unique=True))
        elif t is FieldType.person_name:
            # Not an identity: a person's name is written in too many ways (order, initials, nicknames) for
            # a difference to prove two people; it weighs, it does not veto.
            out.append(similar(spec.name, k, (0.80, 0.90, 0.96), exact_column=v, frequency=k))
        elif t is FieldType.address:
            out.append(similar(spec.name, k, (0.70, 0.85, 0.95), exact_column=k))
        elif t is FieldType.date:
            out.append(days_apart(spec.name, v))
        elif t in (FieldType.text, FieldType.id, FieldType.number, FieldType.money, FieldType.picklist):
            out.append(similar(spec.name, k, (0.85, 0.95), exact_column=k))
    if linked and ACCOUNT in frame.columns:
        out.append(exact("account", ACCOUNT))
    return out


# -- blocking ------------------------------------------------------------------------------------------

IDENTIFIERS = (FieldType.uscc, FieldType.id_card, FieldType.phone, FieldType.email, FieldType.url)  # alone


@dataclass(frozen=True)
class BlockingKey:
    name: str
    expr: pl.Expr
    fields: tuple[str, ...]  # the comparisons its pairs agree on by construction


@dataclass(frozen=True)
class SkippedKey:
    name: str
    pairs: int  # the pairs it would have produced
    why: str


def blocking_keys(fields: list[FieldSpec], frame: pl.DataFrame, linked: bool) -> list[BlockingKey]:
    """Keys under which records are compared: each identifying code, phone and email alone; the name key
    alone, by its two ends (a typo in the middle), and with the start of the name in front of each other
    identifying field (a typo later in the name); dates alone; for children, the name's initial within
    the same account."""
    keys: list[BlockingKey] = []
    spec_of = {s.name: s for s in fields}
    name = spec_of.get("name")
    name_key = key("name") if name and name.type in (FieldType.company_name, FieldType.person_name) \
        and key("name") in frame.columns else None
    head = _head(pl.col(name_key)) if name_key else None
    for spec in identifying(fields):
        k = key(spec.name)
        if k not in frame.columns or spec.name == "name" or spec.shared:
            continue  # a shared value (an office phone) would pair colleagues and teach EM they are one
        if spec.type in (*IDENTIFIERS, FieldType.date, FieldType.id):
            keys.append(BlockingKey(spec.name, pl.col(k), (spec.name,)))
        if head is not None and spec.type not in IDENTIFIERS:
            keys.append(BlockingKey(f"{spec.name}+name start", pl.concat_str([pl.col(k), head], separator="\x1f"),
                                    (spec.name, "name")))
    if name_key:
        keys.append(BlockingKey("name", pl.col(name_key), ("name",)))
        keys.append(BlockingKey("name[:3]+name[-3:]", pl.concat_str(
            [pl.col(name_key).str.slice(0, 3), pl.col(name_key).str.slice(-3)], separator="\x1f"), ("name",)))
        if linked and ACCOUNT in frame.columns:
            keys.append(BlockingKey("name[:1]+account", pl.concat_str(
                [pl.col(name_key).str.slice(0, 1), pl.col(ACCOUNT)], separator="\x1f"), ("name", "account")))
    return keys


def _head(name_key: pl.Expr) -> pl.Expr:
    """The start of a name key: two characters of a Chinese key (a company's brand, a surname and more),
    four of a Latin one (a pinyin syllable or most of a given name)."""
    return pl.when(name_key.str.contains(r"^[\x00-\x7f]")).then(name_key.str.slice(0, 4)) \
        .otherwise(name_key.str.slice(0, 2))


def candidate_pairs(frame: pl.DataFrame, keys: list[BlockingKey]
                    ) -> tuple[pl.DataFrame, list[tuple[BlockingKey, np.ndarray]], list[SkippedKey], int]:
    """Unique pairs (l < r, by row index, in that order) of live records sharing a blocking key, and per key
    the positions of its own pairs among them.

    Two guards keep the work linear in the rows: a block of more than ``MAX_BLOCK`` records is too common
    a value to say anything and is skipped (counted); a key whose blocks would still give more than
    ``PAIRS_PER_ROW`` pairs per record is too coarse for this data and is dropped (reported by name).
    """
    live = (frame.lazy().with_row_index("_i").filter(pl.col(OUTCOME).is_null())
            .select("_i", *(bk.expr.alias(f"_b{n}") for n, bk in enumerate(keys))).collect())
    budget = max(PAIRS_PER_ROW * live.height, MIN_BUDGET)
    n_rows = max(frame.height, 1)
    parts, dropped, skipped_blocks = [], [], 0
    for n, bk in enumerate(keys):
        block = live.select("_i", pl.col(f"_b{n}").alias("_b")).drop_nulls("_b")
        sizes = block.group_by("_b").len()
        too_big = sizes.filter(pl.col("len") > MAX_BLOCK)
        sizes = sizes.filter((pl.col("len") > 1) & (pl.col("len") <= MAX_BLOCK))
        expected = int((sizes["len"].cast(pl.Int64) * (sizes["len"].cast(pl.Int64) - 1) // 2).sum())
        if expected > budget:
            dropped.append(SkippedKey(bk.name, expected, f"more than {PAIRS_PER_ROW} pairs per record"))
            continue
        skipped_blocks += too_big.height
        block = block.join(sizes, on="_b", how="semi")
        pairs = block.join(block, on="_b", suffix="_r").filter(pl.col("_i") < pl.col("_i_r"))
        parts.append((bk, pairs["_i"].to_numpy().astype(np.int64) * n_rows + pairs["_i_r"].to_numpy()))
    # One code per pair, l * rows + r: the unique pairs in (l, r) order, and where each key's pairs are.
    unique, where = np.unique(np.concatenate([c for _, c in parts] or [np.empty(0, np.int64)]), return_inverse=True)
    bounds = np.cumsum([0] + [c.size for _, c in parts])
    pairs = pl.DataFrame({"l": unique // n_rows, "r": unique % n_rows}, schema={"l": pl.UInt32, "r": pl.UInt32})
    return pairs, [(bk, where[a:b]) for (bk, _), a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)], dropped, skipped_blocks


def _levels(frame: pl.DataFrame, pairs: pl.DataFrame, comparisons: list[Comparison]) -> np.ndarray:
    if not comparisons:
        return np.zeros((pairs.height, 0), dtype=np.int8)
    sides = Sides(frame, pairs)
    return np.stack([comp.compare(sides) for comp in comparisons], axis=1)


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


def _frequencies(levels: np.ndarray, comparisons: list[Comparison]) -> list[np.ndarray]:
    """Per comparison, the share of each level among the pairs with values on both sides, drawn towards
    `prior_u` by ``U_PSEUDO_PAIRS`` imaginary pairs."""
    out = []
    for j, comp in enumerate(comparisons):
        column = levels[:, j]
        seen = column[column != MISSING]
        counts = np.bincount(seen, minlength=comp.levels).astype(float) + U_PSEUDO_PAIRS * prior_u(comp)
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
    coded = np.stack([np.where(levels[:, j] == MISSING, sizes[j], levels[:, j]) for j in range(len(sizes))],
                     axis=1).astype(np.int64) if sizes else np.zeros((levels.shape[0], 0), dtype=np.int64)
    code = np.zeros(levels.shape[0], dtype=np.int64)
    for j, size in enumerate(sizes):
        code = code * (size + 1) + coded[:, j]
    _, first, counts = np.unique(code, return_index=True, return_counts=True)
    return coded[first], counts.astype(float)


def _em(levels: np.ndarray, u: list[np.ndarray], comparisons: list[Comparison]
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


def estimate(levels: np.ndarray, u: list[np.ndarray], comparisons: list[Comparison],
             by_key: list[tuple[BlockingKey, np.ndarray]] = ()) -> list[np.ndarray]:
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
        free = [j for j, name in enumerate(names) if name not in bk.fields]
        if rows.size < MIN_TRAINING_PAIRS or not free:
            continue
        m_free, _, support = _em(levels[np.ix_(rows, free)], [u[j] for j in free], [comparisons[j] for j in free])
        for j, mj, matches in zip(free, m_free, support, strict=True):
            sums[j] += matches * mj
            mass[j] += matches
    m_all = None
    if (mass < MIN_SUPPORT).any():
        m_all, _, _ = _em(levels, u, comparisons)
    m = [(sums[j] + M_PSEUDO_MATCHES * prior_m(c)) / (mass[j] + M_PSEUDO_MATCHES) if mass[j] >= MIN_SUPPORT
         else m_all[j] for j, c in enumerate(comparisons)]
    return m


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


def _overrides(comparisons: list[Comparison], weights: dict, m: list[np.ndarray], u: list[np.ndarray]
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
                raise WeightsError(comp.name, kind, f"{kind} has {len(values)} numbers",
                                   f"give {comp.levels} positive numbers, one per level: {', '.join(comp.labels)}")
            array = np.array(values, dtype=float) / sum(values)
            if kind == "m":
                m[j] = array
            else:
                u[j] = fixed[j] = array
    return fixed


def evidence(pair: dict, comparisons: list[Comparison]) -> str:
    """What a scored pair rests on: each compared field's level and the bits it added, strongest first."""
    parts = []
    for comp in comparisons:
        level = pair.get(f"level:{comp.name}")
        if level is None or level == MISSING:
            continue
        parts.append((abs(pair[f"weight:{comp.name}"]), f"{comp.name} {comp.label(level)} "
                      f"{pair[f'weight:{comp.name}']:+.1f}"))
    return "; ".join(text for _, text in sorted(parts, key=lambda x: -x[0]))


def _weights(levels: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], comparisons: list[Comparison],
             shares: dict[int, np.ndarray]) -> np.ndarray:
    """Per pair and comparison, log2(m/u) of its level (0 where a value is missing); at the top level of a
    comparison with value frequencies, u is at least the share of records holding the value."""
    weights = np.zeros(levels.shape, dtype=float)
    for j in range(len(comparisons)):
        column = levels[:, j]
        weights[:, j] = np.append(np.log2(m[j]) - np.log2(u[j]), 0.0)[column]  # MISSING (-1): the 0 at the end
        if j in shares:
            top = column == comparisons[j].levels - 1
            weights[top, j] = np.log2(m[j][-1]) - np.log2(np.maximum(shares[j][top], u[j][-1]))
    return weights


def _value_share(frame: pl.DataFrame, pairs: pl.DataFrame, column: str) -> np.ndarray:
    """Per pair, the share of records holding the left record's value of ``column``: agreeing on 张伟 says
    less than agreeing on 欧阳靖宇 (term frequency, as Winkler proposed and Splink does)."""
    held = frame[column].drop_nulls().len()
    counts = frame.select(pl.col(column).count().over(column).alias("n"))["n"].cast(pl.Float64).to_numpy()
    share = counts / (held + U_PSEUDO_PAIRS)  # a small project cannot tell a common name from a rare one
    return share[pairs["l"].to_numpy()]


def _random_pairs(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Pairs of live records drawn at random (with a fixed seed, so runs repeat)."""
    live = np.flatnonzero(frame[OUTCOME].is_null().to_numpy())
    n = live.size
    if n * (n - 1) // 2 <= RANDOM_PAIRS:  # few records: every pair, no sampling noise
        left, right = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        left, right = rng.integers(0, n, RANDOM_PAIRS), rng.integers(0, n, RANDOM_PAIRS)
    pairs = pl.DataFrame({"l": live[left], "r": live[right]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    return pairs.filter(pl.col("l") != pl.col("r"))


def score(frame: pl.DataFrame, fields: list[FieldSpec], linked: bool, settings: MatchSettings | None = None,
          seed: int = 0) -> MatchResult:
    """Candidate pairs with their match probability and, per field, the level and weight behind it.

    A field on which most random pairs agree exactly (an event name that most sign-ups share, a country)
    cannot tell customers apart; it is left out of both comparison and blocking, and reported.
    """
    settings = settings or MatchSettings()
    told = {name for name, w in settings.weights.items() if w.ignore}
    comparisons = [c for c in comparisons_for(fields, frame, linked) if c.name not in told]
    fields = [f for f in fields if f.name not in told]
    random = _random_pairs(frame, seed)
    random_levels = _levels(frame, random, comparisons)
    ignored = []
    for j, comp in enumerate(comparisons):
        column = random_levels[:, j]
        present = column[column != MISSING]
        if present.size >= MIN_EVIDENCE and (present == comp.levels - 1).mean() > NOT_DISCRIMINATING:
            ignored.append(comp.name)
    empty = {c.name for c in comparisons if frame[c.columns[0]].null_count() == frame.height}
    if ignored or empty:
        keep = [j for j, c in enumerate(comparisons) if c.name not in ignored and c.name not in empty]
        comparisons = [comparisons[j] for j in keep]
        random_levels = random_levels[:, keep]
        fields = [f for f in fields if f.name not in ignored]
    pairs, parts, dropped, skipped = candidate_pairs(frame, blocking_keys(fields, frame, linked))
    if pairs.is_empty() or not comparisons:
        return MatchResult(pairs.with_columns(pl.lit(0.0).alias("probability"), pl.lit(0.0).alias("weight")),
                           comparisons, skipped_blocks=skipped, skipped_keys=dropped, ignored=ignored)
    levels = _levels(frame, pairs, comparisons)
    by_key = parts
    observed = _frequencies(random_levels, comparisons)
    m = estimate(levels, observed, comparisons, by_key)
    u = list(observed)
    fixed_u = _overrides(comparisons, settings.weights, m, u)
    shares = {j: _value_share(frame, pairs, c.frequency) for j, c in enumerate(comparisons) if c.frequency}
    live = frame[OUTCOME].null_count()
    all_pairs = live * (live - 1) // 2
    floor = 0.5 / (random_levels.shape[0] + U_PSEUDO_PAIRS)
    for _ in range(3):
        weights = _weights(levels, m, u, comparisons, shares)
        rate = prior(weights.sum(axis=1), all_pairs)
        # Random pairs include some true matches (many, when a source is full of duplicates); take them
        # out of u, or agreeing on a company's registered name would look like something chance does.
        u = [np.maximum(obs - rate * mj, floor) / (1 - rate) for obs, mj in zip(observed, m, strict=True)]
        for j, comp in enumerate(comparisons):
            if comp.unique:
                # However many records there are, a name unique by law is shared by a different company
                # for at most UNIQUE_COLLISIONS of them: the evidence grows with the data as the prior
                # (two random records being one) shrinks with it, so a shared name decides at any scale.
                u[j][-1] = min(floor, UNIQUE_COLLISIONS / max(live, 1))
        u = [x / x.sum() for x in u]
        for j, given in fixed_u.items():
            u[j] = given
    weights = _weights(levels, m, u, comparisons, shares)
    rate = prior(weights.sum(axis=1), all_pairs)
    total = np.log2(rate / (1 - rate)) + weights.sum(axis=1)
    probability = 1 / (1 + np.power(2.0, -np.clip(total, -60, 60)))
    vetoed = np.zeros(levels.shape[0], dtype=bool)
    for j, comp in enumerate(comparisons):
        if comp.identity:
            vetoed |= levels[:, j] == 0
    probability[vetoed] = 0.0
    out = pairs.with_columns(pl.Series("probability", probability), pl.Series("weight", total))
    out = out.with_columns([pl.Series(f"level:{c.name}", levels[:, j]) for j, c in enumerate(comparisons)]
                           + [pl.Series(f"weight:{c.name}", weights[:, j]) for j, c in enumerate(comparisons)])
    return MatchResult(out, comparisons, {c.name: m[j].tolist() for j, c in enumerate(comparisons)},
                       {c.name: u[j].tolist() for j, c in enumerate(comparisons)}, rate, skipped, dropped, ignored)


# -- clustering ----------------------------------------------------------------------------------------

def _adjacency(pairs: np.ndarray) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for a, b in pairs.tolist():
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return out


def _edges(pairs) -> np.ndarray:
    """Pairs of record indices as an (n, 2) integer array."""
    if isinstance(pairs, np.ndarray):
        return pairs.astype(np.int64).reshape(-1, 2)
    if isinstance(pairs, pl.DataFrame):
        return np.column_stack([pairs["l"].to_numpy(), pairs["r"].to_numpy()]).astype(np.int64).reshape(-1, 2)
    return np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes: each node's label is the smallest node of its component.

    Vectorised hooking and pointer jumping: every round hooks the larger root of each edge whose ends
    differ under the smaller one, then flattens the trees, so the rounds grow with the log of a
    component's diameter, never with the number of records.
    """
    parent = np.arange(n, dtype=np.int64)
    left, right = edges[:, 0], edges[:, 1]
    while True:
        a, b = parent[left], parent[right]
        differ = a != b
        if not differ.any():
            return parent
        np.minimum.at(parent, np.maximum(a, b)[differ], np.minimum(a, b)[differ])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def clusters(n: int, result: MatchResult, settings: MatchSettings, must_link=(), steward_links=(), vetoes=(),
             identity_links=()) -> np.ndarray:
    """A cluster label per record: the smallest member index.

    Joins in this order: ``must_link`` (the same source record), a steward's merges, records sharing an
    identity (credit code, ID number), then pairs at or above the merge threshold, most likely first. A
    steward's ``vetoes`` (keep apart) stop every join after the first kind; a scored join is also refused
    when it would put together two records that were compared and scored below ``never``, so a weak link
    cannot chain two groups into one.

    Most groups contain no such conflict, and for them the order of joins does not matter: they are the
    connected components of all the joins, found at once. Only the records of a component that holds a
    forbidden pair are joined one pair at a time, with the checks (`_join_in_order`).
    """
    pairs = result.pairs
    strong = pairs.filter(pl.col("probability") >= settings.merge).sort(["probability", "l", "r"],
                                                                        descending=[True, False, False])
    bad = np.empty((0, 2), dtype=np.int64)
    if pairs.height:
        identity = [f"level:{c.name}" for c in result.comparisons if c.identity and f"level:{c.name}" in pairs.columns]
        bad = _edges(pairs.filter((pl.col("probability") < settings.never)
                                  | pl.any_horizontal([pl.col(c) == 0 for c in identity] or [pl.lit(False)])))
    stages = [_edges(must_link), _edges(steward_links), _edges(identity_links), _edges(strong)]
    labels = np.arange(n, dtype=np.int64)
    joins = np.concatenate(stages)
    if not joins.size:
        return labels
    nodes = np.unique(joins)  # records in some join, sorted: a component's smallest node is its smallest record
    root = components(nodes.size, np.searchsorted(nodes, joins))
    constraints = np.concatenate([bad, _edges(vetoes)])
    inside = np.isin(constraints, nodes).all(axis=1)
    ends = np.searchsorted(nodes, constraints[inside])
    conflicted = np.unique(root[ends[:, 0]][root[ends[:, 0]] == root[ends[:, 1]]])
    careful = np.isin(root, conflicted)
    labels[nodes[~careful]] = nodes[root[~careful]]
    if careful.any():
        chosen = nodes[careful]
        within = [stage[np.isin(stage[:, 0], chosen)] for stage in stages]
        forbidden = _adjacency(bad[np.isin(bad, chosen).all(axis=1)])
        labels[chosen] = _join_in_order(chosen, within, forbidden, _adjacency(_edges(vetoes)))
    return labels


def _join_in_order(records: np.ndarray, stages: list[np.ndarray], forbidden: dict[int, list[int]],
                   kept_apart: dict[int, list[int]]) -> np.ndarray:
    """Union-find over ``records`` joining the stages' pairs in order, with the checks of `clusters`; the
    smallest member of each record's cluster. A check walks the forbidden partners of the smaller side,
    so a join costs the size of the smaller cluster, never the product of both."""
    parent = {int(i): int(i) for i in records}
    members = {int(i): [int(i)] for i in records}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def blocked(small: int, big: int, against: dict[int, list[int]]) -> bool:
        return any(y in parent and find(y) == big for x in members[small] for y in against.get(x, ()))

    def join(a: int, b: int, checks: tuple[dict[int, list[int]], ...]) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        if any(against and blocked(rb, ra, against) for against in checks):
            return
        parent[rb] = ra
        members[ra].extend(members.pop(rb))

    checks = [(), (kept_apart,), (kept_apart,), (kept_apart, forbidden)]
    for stage, check in zip(stages, checks, strict=True):
        for a, b in stage.tolist():
            join(a, b, check)
    smallest = {root: min(group) for root, group in members.items()}
    return np.array([smallest[find(int(i))] for i in records], dtype=np.int64)
