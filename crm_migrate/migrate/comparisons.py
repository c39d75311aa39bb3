"""How two records agree, field by field: each comparison gives a pair an agreement level.

Level 0 is disagreement and the top level exact agreement; the levels between are the ways two values can
be close (a similarity band, one character apart, the same sound, the same city). A pair's level on every
comparison is what the Fellegi-Sunter weights (`match`) turn into evidence.

Comparisons by the field's type: exact for codes, phones and emails; bands of similarity for names,
addresses and text; closeness for dates and amounts. Some read more than one column: a company name
compares key, region, branch, sound and (across scripts) brand and trade; phones are compared as the set of
numbers a record holds, whatever column they came in (`features`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

from crm_migrate.cleaners.company_words import TRADES, calque_of, initials, is_pinyin, trade_in
from crm_migrate.cleaners.person import COMMON_SURNAMES
from crm_migrate.mappings.entities import ID_FIELD, Entity, FieldSpec, FieldType
from crm_migrate.migrate.columns import SOURCE, attr, key, val
from crm_migrate.migrate.features import m

MISSING = -1
BATCH = 200_000  # pairs whose strings go to rapidfuzz at once: it copies them all before it scores any
CACHED_STRINGS = 1_000_000  # up to this many records, a column's strings are kept for every pair that needs them
SET_WIDTH = 6  # values of a record's set compared (its phones, its contacts): a record rarely holds more


@dataclass(frozen=True)
class Comparison:
    """How one field of two records agrees: level 0 is disagreement, the top level exact agreement."""

    name: str
    levels: int
    compare: Callable[[Sides], np.ndarray]  # the pairs' two records -> a level per pair, -1 missing
    columns: tuple[str, ...]
    identity: bool = False  # level 0 means different records, whatever else agrees
    forbids: bool | None = None  # and, in a cluster, keeps them apart whatever other members join (default:
    # as identity; not for names, whose conflicts the cluster's exclusive attributes already keep apart)
    frequency: str | None = None  # column whose value frequency replaces u at the top level (common names)
    unique: bool = False  # two different records never share the exact value by chance (registered names)
    unique_levels: frozenset[int] = frozenset()  # other levels that chance gives as rarely as the top one
    prior_u: tuple[float, ...] | None = None  # chance agreement per level before data is seen; see prior_u()
    labels: tuple[str, ...] = ()  # what each level means, lowest first, for evidence and messages
    weak: frozenset[int] = frozenset()  # levels that alone never make a match (a name without its region)
    needs: tuple[str, ...] = ()  # at a weak level, one of these comparisons must agree exactly to merge
    neutral: frozenset[int] = frozenset()  # levels that say nothing either way (an office line colleagues share)
    personal: bool = False  # a person's own identifier: two of them disagreeing keep two records apart
    desk: bool = False  # a personal line at a desk, which namesakes who sit together share: the same one does not
    # outweigh two others differing (`match.own_identifiers_differ`)
    sole: bool = False  # a number only its holder uses (a mobile): another one, with nothing of the person's the
    # same, is doubt enough on its own (`match.own_identifiers_differ`)
    doubt: Callable[[Sides], np.ndarray] | None = None  # pairs that never merge on evidence other than one of
    # ``needs`` agreeing exactly (two different common surnames), whatever the levels say
    doubt_label: str = ""  # what a doubted pair's evidence says
    apart: frozenset[int] = frozenset()  # for a term of a deal (its amount, its close date): the levels past what
    # re-entering it changes (another amount, a date more than a week off); they never count for a match, and
    # a pair apart on every term it can compare, two at least, is two deals (`match.terms_apart`)

    def label(self, level: int) -> str:
        return self.labels[level] if 0 <= level < len(self.labels) else str(level)

    @property
    def forbidding(self) -> bool:
        return self.identity if self.forbids is None else self.forbids


class Sides:
    """The two records of each pair, column by column, computed only as a comparison asks for it.

    Equality is decided on 64-bit hashes of a column's values, gathered per pair (two different values
    sharing a hash is a one in 10^10 chance even among a million distinct values); strings are gathered
    only for the pairs a similarity must score. A list column (a record's phones) is compared as a set.
    """

    def __init__(self, frame: pl.DataFrame, pairs: pl.DataFrame, cache: dict | None = None) -> None:
        self.frame = frame
        self.left, self.right = pairs["l"].to_numpy().astype(np.int64), pairs["r"].to_numpy().astype(np.int64)
        # Per-record encodings (hashes, sets) depend on the frame only: random and candidate pairs share them.
        cache = cache if cache is not None else {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = cache.setdefault("codes", {})
        self._sets: dict[str, tuple[np.ndarray, np.ndarray]] = cache.setdefault("sets", {})
        self._strings: dict[str, np.ndarray] = cache.setdefault("strings", {})

    def __len__(self) -> int:
        return self.left.size

    def _coded(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._codes:
            series = self.frame[column]
            self._codes[column] = (series.hash(seed=0).to_numpy(), series.is_null().to_numpy())
        return self._codes[column]

    def values(self, column: str, where: np.ndarray) -> tuple[list, list]:
        """The left and right values of ``column`` for the pairs at positions ``where``."""
        if self.frame.height > CACHED_STRINGS:
            # Every record's value as a Python string would cost more than the pairs' own (a few hundred MB
            # per column at millions of records): gathered for these pairs only.
            series = self.frame[column]
            return series.gather(self.left[where]).to_list(), series.gather(self.right[where]).to_list()
        strings = self._strings.get(column)
        if strings is None:
            strings = self._strings[column] = self.frame[column].to_numpy()
        return strings[self.left[where]].tolist(), strings[self.right[where]].tolist()

    def flags(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A boolean column's left and right values per pair (false where null)."""
        values = self.frame[column].fill_null(False).to_numpy()
        return values[self.left], values[self.right]

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

    def _set(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A record's set as a row of value hashes (at most ``SET_WIDTH``, 0 for none), and its size."""
        if column not in self._sets:
            exploded = (
                self.frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("i"), pl.col(column))
                .explode(column)
                .drop_nulls(column)
                .select("i", pl.col(column).hash(seed=0).alias("h"))
                .unique(maintain_order=True)
            )
            rows, hashes = exploded["i"].to_numpy(), exploded["h"].to_numpy()
            size = np.bincount(rows, minlength=self.frame.height)
            start = np.concatenate([[0], np.cumsum(size)[:-1]])
            position = np.arange(rows.size) - start[rows]
            keep = position < SET_WIDTH
            # As wide as the largest set: most records hold one phone (at 2M records, 96 MB a column at full width).
            width = int(min(SET_WIDTH, max(int(size.max()) if size.size else 0, 1)))
            matrix = np.zeros((self.frame.height, width), dtype=np.uint64)
            matrix[rows[keep], position[keep]] = hashes[keep]
            self._sets[column] = (matrix, size)
        return self._sets[column]

    def shared(self, column: str, other: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: the two records' sets in ``column`` (the right one's in ``other``) share a value; either
        set is empty. Sets are compared as rows of hashes, every value of one against every value of the other."""
        left_set, left_size = self._set(column)
        right_set, right_size = self._set(other or column)
        missing = (left_size[self.left] == 0) | (right_size[self.right] == 0)
        both = np.flatnonzero(~missing)
        a, b = left_set[self.left[both]], right_set[self.right[both]]
        hit = np.zeros(both.size, dtype=bool)
        for i in range(a.shape[1]):
            rows = np.flatnonzero(a[:, i] != 0) if i else np.arange(both.size)
            if not rows.size:
                break
            for j in range(b.shape[1]):
                cols = rows if not j else rows[b[rows, j] != 0]
                if not cols.size:
                    break
                hit[cols] |= a[cols, i] == b[cols, j]
        out = np.zeros(len(self), dtype=bool)
        out[both] = hit
        return out, missing

    def shared_either_way(self, column: str, other: str) -> np.ndarray:
        """Per pair: the left record's ``column`` meets the right one's ``other``, or the other way round."""
        return self.shared(column, other)[0] | self.shared(other, column)[0]


def pdist(left: list, right: list, scorer, cutoff: float) -> np.ndarray:
    """``scorer`` of each pair of strings, on all cores, ``BATCH`` pairs at a time (rapidfuzz converts every
    string of a call before scoring: on millions of pairs that alone is gigabytes)."""
    if len(left) <= BATCH:
        return process.cpdist(left, right, scorer=scorer, score_cutoff=cutoff, workers=-1)
    return np.concatenate(
        [
            process.cpdist(left[i : i + BATCH], right[i : i + BATCH], scorer=scorer, score_cutoff=cutoff, workers=-1)
            for i in range(0, len(left), BATCH)
        ]
    )


def _scored(sides: Sides, column: str, where: np.ndarray, scorer, cutoff: float) -> np.ndarray:
    """``scorer`` on the two values of ``column`` of the pairs at ``where``, gathered ``BATCH`` pairs at a time."""
    if where.size <= BATCH:
        left, right = sides.values(column, where)
        return pdist(left, right, scorer, cutoff)
    return np.concatenate(
        [_scored(sides, column, where[i : i + BATCH], scorer, cutoff) for i in range(0, where.size, BATCH)]
    )


def _similarity(
    sides: Sides, column: str, scorer, cutoff: float, where: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the similarity of the two values of ``column`` (1 where equal, 0 below ``cutoff``) and
    where one is missing. Only the pairs with two different values (among ``where``) are scored, on all
    cores."""
    same, missing = sides.same(column)
    scores = same.astype(float)
    todo = ~missing & ~same
    if where is not None:
        todo &= where
    todo = np.flatnonzero(todo)
    if todo.size:
        scores[todo] = _scored(sides, column, todo, scorer, cutoff)
    return scores, missing


def exact(name: str, column: str, identity: bool = False) -> Comparison:
    def compare(sides: Sides) -> np.ndarray:
        same, missing = sides.same(column)
        levels = same.astype(np.int8)
        levels[missing] = MISSING
        return levels

    return Comparison(name, 2, compare, (column,), identity, labels=("different", "same"))


def similar(
    name: str,
    column: str,
    bands: tuple[float, ...],
    scorer=JaroWinkler.normalized_similarity,
    exact_column: str | None = None,
    conflicts: tuple[str, ...] = (),
    identity: bool = False,
    frequency: str | None = None,
    unique: bool = False,
) -> Comparison:
    """Levels: 0 below every band, then one per band reached, the top for equal ``exact_column`` values.

    ``conflicts`` are parts that make two similar values different things when they differ. A pair whose
    parts conflict is put at level 0 however alike the rest is.
    """
    columns = (column,) + ((exact_column,) if exact_column else ()) + conflicts

    def compare(sides: Sides) -> np.ndarray:
        scores, missing = _similarity(sides, column, scorer, min(bands))
        levels = _banded(scores, bands)
        if exact_column:
            levels[sides.same(exact_column)[0]] = len(bands) + 1
        for part in conflicts:
            levels[sides.differ(part, either=False)] = 0
        levels[missing] = MISSING
        return levels

    labels = ("different", *(f"similar ≥{b:.2f}" for b in sorted(bands)), *(("same",) if exact_column else ()))
    return Comparison(
        name,
        len(bands) + 1 + (1 if exact_column else 0),
        compare,
        columns,
        identity,
        frequency=frequency,
        unique=unique,
        labels=labels,
    )


def _banded(scores: np.ndarray, bands: tuple[float, ...]) -> np.ndarray:
    levels = np.zeros(len(scores), dtype=np.int8)
    for i, band in enumerate(sorted(bands), start=1):
        levels[scores >= band] = i
    return levels


def days_apart(name: str, column: str) -> Comparison:
    """Dates: 3 same day, 2 within a week, 1 within a year or the day and month swapped, 0 further."""

    def compare(sides: Sides) -> np.ndarray:
        date = sides.frame[column].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        day = date.cast(pl.Int64).fill_null(np.iinfo(np.int64).min).to_numpy()
        mdy = (
            (
                date.dt.month().cast(pl.Int64) * 100
                + date.dt.day().cast(pl.Int64)
                + date.dt.year().cast(pl.Int64) * 10_000
            )
            .fill_null(-1)
            .to_numpy()
        )
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

    return Comparison(
        name,
        4,
        compare,
        (column,),
        prior_u=(0.95, 0.0459, 0.004, 1e-4),
        labels=("over a year apart", "within a year", "within a week", "same day"),
    )


def amounts(name: str, column: str) -> Comparison:
    """Money: 2 the same amount, 1 within 5% of each other, 0 further apart."""

    def compare(sides: Sides) -> np.ndarray:
        value = sides.frame[column].cast(pl.Float64, strict=False).to_numpy()
        a, b = value[sides.left], value[sides.right]
        missing = np.isnan(a) | np.isnan(b)
        levels = np.zeros(len(sides), dtype=np.int8)
        with np.errstate(invalid="ignore", divide="ignore"):
            close = np.abs(a - b) <= 0.05 * np.maximum(np.abs(a), np.abs(b))
        levels[close] = 1
        levels[a == b] = 2
        levels[missing] = MISSING
        return levels

    return Comparison(
        name, 3, compare, (column,), prior_u=(0.97, 0.029, 0.001), labels=("different", "within 5%", "same")
    )


# -- company names --------------------------------------------------------------------------------------------


def company_name(name: str, identity: bool) -> Comparison:
    """Two names in the same script. Levels: 0 different, or the region or branch conflicts (北京星辰科技 and
    上海星辰科技 are two registered companies; a branch is not its parent); 1 and 2 similar (Jaro-Winkler on
    the brands where the trades are the same, since 联博华医疗器械 and 云中汇医疗器械 share only their trade;
    else on the key, or on the key with its region in front, so 北京星辰 meets 星辰科技（北京）); 3 one
    character dropped, added or changed (星辰科技 / 星科技); 4 the same sound (星辰 / 星晨, typed through a pinyin
    input method); 5 the same sound, one character typed for another, in two full names (brand and trade) whose
    sound the data gives one company in that trade where it is (星晨科技 / 北京星辰科技); 6 to 8 the same brand
    with the trade left out on one side (星辰 / 星辰科技, 星辰集团), weak where the data holds that brand with
    several trades or (the short name saying nowhere) in several places, distinctive where the data gives the
    brand one company; 9 the same name where one side has no region and the data holds the name in several
    regions (weak: it needs further evidence); 10 the same name, unique by law.

    A pair in different scripts is missing here: `across_scripts` compares it."""
    k, whole, sound = key(name), m("whole"), m("pinyin")
    brand, trade = attr(name, "brand"), attr(name, "trade")
    region, branch, script, ambiguous = attr(name, "region"), m("branch"), m("script"), m("ambiguous")
    brand_ambiguous, province, city = m("brand_ambiguous"), m("province"), m("city")

    def compare(sides: Sides) -> np.ndarray:
        same, missing = sides.same(k)
        cross = sides.differ(script, either=False)
        columns = sides.frame.columns
        none = np.zeros(len(sides), dtype=bool)
        same_trade = sides.same(trade)[0] if trade in columns else none
        one_trade = (
            (sides.differ(trade, either=True) & ~sides.differ(trade, either=False)) if trade in columns else none
        )
        scores, _ = _similarity(sides, k, JaroWinkler.normalized_similarity, 0.75, where=~cross & ~same_trade)
        if whole in columns:
            wholes, _ = _similarity(
                sides, whole, JaroWinkler.normalized_similarity, 0.75, where=~cross & ~same & ~same_trade
            )
            scores = np.maximum(scores, wholes)
        if brand in columns:
            # The brand is what tells companies of one trade apart; with the trade left out on one side (a
            # short name) the brands are what the two share.
            brands, _ = _similarity(
                sides, brand, JaroWinkler.normalized_similarity, 0.75, where=~cross & ~same & (same_trade | one_trade)
            )
            scores = np.where(same_trade & ~same, brands, np.where(one_trade, np.maximum(scores, brands), scores))
        levels = _banded(scores, (0.75, 0.88))
        close = np.flatnonzero(~missing & ~same & ~cross & (levels < 3))
        if close.size:
            distance = _scored(sides, k, close, Levenshtein.distance, 1)
            lengths = sides.frame[k].str.len_chars().fill_null(0).to_numpy()
            length = np.minimum(lengths[sides.left[close]], lengths[sides.right[close]])
            levels[close[(distance <= 1) & (length >= 3)]] = 3
        if sound in columns:
            levels[sides.same(sound)[0] & ~same] = 4
        if m("latin") in columns:  # the brands sound alike, the trades agree or one is left out
            levels[sides.same(m("latin"))[0] & (same_trade | one_trade) & ~same & (scores < 1)] = 4
        if m("sound_alone") in columns:
            # One character typed for another of the same sound, in a full name whose sound the data gives one
            # company in its trade: far likelier that company's name mistyped than a second company's.
            a, b = sides.flags(m("sound_alone"))
            alone = np.flatnonzero((levels == 4) & a & b & same_trade)
            if alone.size:
                levels[alone[_scored(sides, k, alone, Levenshtein.distance, 1) <= 1]] = 5
        if brand in columns and trade in columns:
            short = sides.same(brand)[0] & one_trade & ~same
            levels[short] = 7
            # A brand names one company where the data gives it one (锐宏集团 / 上海锐宏建筑工程; brand_ambiguous
            # where it holds the brand with several trades or, the short name saying nowhere, in several places).
            long_brand = (sides.frame[brand].str.len_chars().fill_null(0) >= 2).to_numpy()
            levels[short & long_brand[sides.left]] = 8
            if brand_ambiguous in columns:
                a, b = sides.flags(brand_ambiguous)
                levels[short & (a | b)] = 6
            # One brand inside the other, of one trade (恒通网络 / 华信恒通网络技术, 星辰 / 星辰云): a short name
            # may keep only part of a long brand, or a company of its own may hold the shorter brand in a longer
            # one; weak, it needs further evidence (a shared person, a phone).
            within = np.flatnonzero(
                (same_trade | one_trade) & ~same & ~missing & ~cross & (levels < 3) & ~sides.same(brand)[0]
            )
            if within.size:
                inside = _scored(sides, brand, within, fuzz.partial_ratio, 100) == 100
                both_long = long_brand[sides.left[within]] & long_brand[sides.right[within]]
                levels[within[inside & both_long]] = 6
        levels[same] = 10
        if brand in columns and trade in columns and brand_ambiguous in columns:
            # Two short names alike (赛明集团 twice, 北京沃吉 / 沃吉): a registered name is unique, a brand
            # without its trade is not; it names one company only where the data gives the brand one.
            a, b = sides.flags(brand_ambiguous)
            untraded = sides.frame[trade].is_null().to_numpy() & sides.frame[brand].is_not_null().to_numpy()
            both_short = same & untraded[sides.left] & untraded[sides.right]
            levels[both_short] = np.where((a | b)[both_short], 6, 8)
        if ambiguous in columns:
            # A registered name is unique within its region. Where a side says nothing of where it is (no region
            # in its name, no street address, no landline) and the data holds the name in several regions, the
            # same name is only a hint (航精科技 may be 航精科技（吉林） or the one in 昆明); where the data holds
            # it in one region, that is the company it names, unless the one city it gives (a sign-up's) is
            # another.
            a, b = sides.flags(ambiguous)
            levels[same & (a | b)] = 9
            if m("hint_province") in columns:
                levels[same & _hint_conflicts(sides)] = 9
        for part in (province, city):
            if part in columns:
                levels[sides.differ(part, either=False)] = 0
        if branch in columns:
            levels[sides.differ(branch, either=False)] = 0
        levels[missing | cross] = MISSING
        return levels

    labels = (
        "different",
        "similar ≥0.75",
        "similar ≥0.88",
        "one character apart",
        "same sound",
        "same sound, one company of it in its trade",
        "short name the data gives several companies",
        "short name",
        "distinctive short name",
        "same without region",
        "same",
    )
    columns = (
        k,
        whole,
        sound,
        brand,
        trade,
        region,
        branch,
        script,
        ambiguous,
        brand_ambiguous,
        province,
        city,
        m("sound_alone"),
    )
    # Two names that differ are never merged as a pair; but a record whose name is only unlike one variant of a
    # company's (two typos of one brand) may still join it through the others.
    return Comparison(
        name,
        11,
        compare,
        columns,
        identity=identity,
        forbids=False,
        unique=True,
        unique_levels=frozenset({8}),
        labels=labels,
        weak=frozenset({6, 9}),
    )


def _hint_conflicts(sides: Sides) -> np.ndarray:
    """Per pair: one side's only hint of where it is (a city) conflicts with where the other side is."""
    out = np.zeros(len(sides), dtype=bool)
    for hint, place in ((m("hint_province"), m("province")), (m("hint_city"), m("city"))):
        h_codes, h_null = sides._coded(hint)
        p_codes, p_null = sides._coded(place)
        for a, b in ((sides.left, sides.right), (sides.right, sides.left)):
            out |= ~h_null[a] & ~p_null[b] & (h_codes[a] != p_codes[b])
    return out


def across_scripts(name: str) -> Comparison:
    """A Chinese name against an English (or pinyin) one. Levels: 0 the English brand is pinyin and is not the
    Chinese one, or trades of different families, or regions or branches that conflict; 1 the English brand
    is a translation that cannot be checked (Blue Whale / 蓝鲸), nothing conflicting; 2 brands alike (a pinyin
    spelt a little differently, or the brand's initials: BRD / 博锐达); 3 the same brand, in pinyin (Hengrun
    Precision Mould / 恒润精密模具) or translated word by word from `company_words.GLOSSARY` (StarCloud /
    星云) where the data holds several Chinese companies reading that way (星辰科技 in 北京 and in 上海, or
    星辰科技 and 星辰贸易: the English name could be either); 4 the same brand where the data holds one such
    company, but neither trade nor region to check it by (XINGCHEN / 星辰科技); 5 the same brand and trade
    (科技 / Technology) or region; 6 the same brand, trade and region. "The same brand": the English reads as
    the whole Chinese brand, or as its first characters where the Chinese name's trade is none we know (辉雅鹏刀具
    / Huiyapeng Tools), never where it is (精盛福软件 / Jingsheng Software: another brand). Missing unless the
    scripts differ."""
    script, latin, family = m("script"), m("latin"), m("family")
    trade, branch, brand = attr(name, "trade"), m("branch"), attr(name, "brand")
    read = (
        latin,
        trade,
        family,
        m("region_latin"),
        m("province"),
        m("city"),
        branch,
        brand,
        m("heads"),
        m("sounds"),
        m("sounds_in_trade"),
        script,
    )

    def compare(sides: Sides) -> np.ndarray:
        levels = np.full(len(sides), MISSING, dtype=np.int8)
        cross = np.flatnonzero(sides.differ(script, either=False))
        if cross.size:
            levels[cross] = _cross_levels(sides, cross, read)
        return levels

    labels = (
        "different",
        "translated brand",
        "brand alike",
        "same brand the data gives several companies",
        "same distinctive brand",
        "same brand and trade or region",
        "same brand, trade and region",
    )
    # Region, brand and trade are what a registered name is made of: the same brand with its trade or region in
    # English, where no other Chinese name in the data reads the same, is as rare by chance as the same name.
    return Comparison(
        f"{name} across scripts", 7, compare, read, labels=labels, unique=True, unique_levels=frozenset({5})
    )


def _cross_levels(sides: Sides, cross: np.ndarray, read: tuple[str, ...]) -> np.ndarray:
    """`across_scripts` for the pairs at ``cross`` (one Chinese and one English name each), whole-frame."""
    frame = sides.frame.select(*(pl.col(c) if c in sides.frame.columns else pl.lit(None).alias(c) for c in read))
    names = (
        "latin",
        "trade",
        "family",
        "region",
        "province",
        "city",
        "branch",
        "brand",
        "heads",
        "sounds",
        "in_trade",
        "script",
    )
    frame.columns = list(names)
    left, right = sides.left[cross], sides.right[cross]
    zh_left = frame["script"].to_numpy()[left] == "zh"
    zh, en = np.where(zh_left, left, right), np.where(zh_left, right, left)
    c = frame[zh].rename(lambda x: f"c_{x}")
    e = (
        frame[en]
        .select("latin", "trade", "family", "region", "province", "city", "branch", "heads")
        .rename(lambda x: f"e_{x}")
    )
    pairs = pl.concat([c, e], how="horizontal").with_row_index("_p")
    col = pl.col
    head = (
        pl.when(col("e_heads").list.first() != col("e_latin"))
        .then(col("e_heads").list.first())
        .otherwise(col("e_latin"))
    )
    pairs = pairs.with_columns(head.alias("e_head"))
    place_conflict = (
        pl.when(col("c_province").is_not_null() & col("e_province").is_not_null())
        .then(
            (col("c_province") != col("e_province"))
            | (col("c_city").is_not_null() & col("e_city").is_not_null() & (col("c_city") != col("e_city")))
        )
        .otherwise(col("c_region").is_not_null() & col("e_region").is_not_null() & (col("c_region") != col("e_region")))
    )
    branch_conflict = (
        col("c_branch").is_not_null() & col("e_branch").is_not_null() & (col("c_branch") != col("e_branch"))
    )
    family_differs = (
        col("c_family").is_not_null() & col("e_family").is_not_null() & (col("c_family") != col("e_family"))
    )
    # The English brand reads as the whole Chinese brand; or as its first characters only where the Chinese
    # name says no trade we know, the rest being its trade (辉雅鹏刀具 / Huiyapeng Tools). Where the trade is
    # known, the brand is known whole, and an English name of its first characters is another brand (精盛福软件 /
    # Jingsheng Software, 帆卓泰科技 / FANZHUO SCI-TECH).
    same = (
        (col("c_latin") == col("e_latin"))
        | (col("c_latin") == col("e_head"))
        | (
            col("c_trade").is_null()
            & (col("c_heads").list.contains(col("e_head")) | col("c_heads").list.contains(col("e_latin")))
        )
    )
    pairs = pairs.with_columns(
        place_conflict.fill_null(False).alias("conflict"),
        branch_conflict.fill_null(False).alias("branch_conflict"),
        family_differs.fill_null(False).alias("family_differs"),
        same.fill_null(False).alias("same"),
    )
    pairs = _unexplained_rest(pairs)
    # What whole-frame expressions cannot say, asked once per distinct value or only where it matters.
    heads = pairs["e_head"].drop_nulls().unique().to_list()
    pinyin = (
        pairs.select(
            col("e_head").replace_strict({h: is_pinyin(h) for h in heads}, default=False, return_dtype=pl.Boolean)
        )
        .to_series()
        .to_numpy()
    )
    need = (
        pairs.select(
            col("family_differs")
            | (col("same") & col("e_trade").is_not_null() & col("c_trade").ne_missing(col("e_trade")))
        )
        .to_series()
        .to_numpy()
    )
    trade_found = np.zeros(pairs.height, dtype=bool)
    where = np.flatnonzero(need)
    if where.size:
        picked = pairs[where].select("c_brand", "e_trade").rows()
        trade_found[where] = [bool(b and t and trade_in(t, b)) for b, t in picked]
    base = pairs.select("same", "conflict", "branch_conflict", "family_differs").to_numpy()
    same_brand, conflict = base[:, 0].astype(bool), base[:, 1].astype(bool) | base[:, 2].astype(bool)
    conflict |= base[:, 3].astype(bool) & ~trade_found
    walk = np.flatnonzero(~same_brand & ~conflict & ~pinyin)  # a translation: read it word by word
    if walk.size:
        picked = pairs[walk].select("c_brand", "e_latin").rows()
        same_brand[walk] = [bool(b and x and calque_of(x, b)) for b, x in picked]
    agree = pairs.select(
        (col("e_trade").is_not_null() & (col("c_trade") == col("e_trade"))).fill_null(False),
        (
            (col("c_city").is_not_null() | col("c_province").is_not_null())
            & (col("c_city").eq_missing(col("e_city")))
            & (col("c_province").eq_missing(col("e_province")))
        ).fill_null(False),
        # Companies the Chinese name may be: of its sound in its trade, or of its sound at all where either
        # side says no trade (湖蓝 may be any 湖蓝, Hulan Packaging any of them).
        pl.when(col("e_trade").is_not_null() & col("c_trade").is_not_null())
        .then(col("c_in_trade"))
        .otherwise(col("c_sounds"))
        .fill_null(0),
    ).to_numpy()
    trade_agrees = agree[:, 0].astype(bool) | trade_found
    ambiguous = agree[:, 2] >= 2
    out = np.where(ambiguous, 3, 4 + trade_agrees.astype(np.int8) + agree[:, 1].astype(np.int8)).astype(np.int8)
    # Not the same brand: alike (its initials, or pinyin spelt a little differently), a translation that cannot
    # be checked, or a different pinyin brand.
    other = np.flatnonzero(~same_brand)
    if other.size:
        alike = _alike(pairs[other])
        out[other] = np.where(alike, 2, np.where(pinyin[other], 0, 1))
    out[conflict] = 0
    missing = pairs.select(col("c_latin").is_null() | col("e_latin").is_null()).to_series().to_numpy()
    out[missing] = MISSING
    return out


def _unexplained_rest(pairs: pl.DataFrame) -> pl.DataFrame:
    """Not the same brand after all where the English reads as only the first characters of a Chinese brand
    whose trade is none we know, and says a trade we know that the rest of the Chinese brand holds no character
    of: 辰青玻璃钢 / Chenqing Home Products (家居用品), 杰文刀具 / Jiewen Decoration Engineering (装饰工程); but
    辉雅鹏刀具 / Huiyapeng Tools (工具) is its own, and so is an English name that says no trade."""
    col = pl.col
    partial = (
        col("same")
        & col("c_trade").is_null()
        & col("e_trade").is_not_null()
        & (col("c_latin") != col("e_latin"))
        & (col("c_latin") != col("e_head"))
    ).fill_null(False)
    where = np.flatnonzero(pairs.select(partial).to_series().to_numpy())
    if not where.size:
        return pairs
    part = pairs[where].select("c_brand", "e_trade", "c_heads", "e_head", "e_latin")
    unexplained = []
    for brand, trade, heads, head, latin in part.iter_rows():
        # the characters of the brand the English covers: its heads are the readings of the first 2, 3, ... 6
        covered = next((i + 2 for i, h in enumerate(heads or []) if h in (head, latin)), None)
        rest = (brand or "")[covered:] if covered is not None else ""
        unexplained.append(bool(rest) and not any(ch in _trade_chars(trade) for ch in rest))
    flags = np.zeros(pairs.height, dtype=bool)
    flags[where] = unexplained
    return pairs.with_columns((col("same") & ~pl.Series(flags)).alias("same"))


@lru_cache(maxsize=256)
def _trade_chars(code: str) -> str:
    """Every character of the Chinese words of a trade (tools: 工具, 五金工具)."""
    return "".join({ch for zh, t in TRADES.items() if t.code == code for ch in zh})


def _alike(pairs: pl.DataFrame) -> np.ndarray:
    """Brands alike across scripts: the English is the Chinese brand's initials (BRD / 博锐达), or its pinyin
    within Jaro-Winkler 0.88 of the Chinese reading."""
    heads, latin = pairs["e_head"].fill_null("").to_list(), pairs["c_latin"].fill_null("").to_list()
    close = pdist(heads, latin, JaroWinkler.normalized_similarity, 0.88) >= 0.88
    brands = pairs["c_brand"].drop_nulls().unique().to_list()
    first = pairs.select(
        pl.col("c_brand")
        .replace_strict({b: initials(b) for b in brands}, default=None, return_dtype=pl.String)
        .alias("i"),
        "e_latin",
    )
    abbreviated = (
        first.select((pl.col("i") == pl.col("e_latin")) & pl.col("e_latin").str.len_chars().is_between(2, 5))
        .to_series()
        .fill_null(False)
        .to_numpy()
    )
    return close | abbreviated


# -- people ------------------------------------------------------------------------------------------------------


def person_name(name: str) -> Comparison:
    """Levels: 0 different; 1 only a surname and a salutation on one side (王经理) whose surname the other
    name has (weak: it needs the same mobile, email or ID number); 2-4 similar (Jaro-Winkler on the pinyin
    key, so 张伟 and Zhang Wei meet); 5 the same name. A common name weighs less than a rare one. Two names in
    characters whose surnames, both common ones, read differently (王芳 / 杨帆, alike only in pinyin) are two
    people unless the same mobile, email or ID number says otherwise (`another_surname`)."""
    k, v, form, family = key(name), val(name), attr(name, "form"), attr(name, "family_key")

    def compare(sides: Sides) -> np.ndarray:
        scores, missing = _similarity(sides, k, JaroWinkler.normalized_similarity, 0.80)
        levels = _banded(scores, (0.80, 0.90, 0.96)) + 1
        levels[scores < 0.80] = 0
        levels[sides.same(v)[0]] = 5
        if form in sides.frame.columns and family in sides.frame.columns:
            # Pairs with both forms known where one side is only a surname (王经理), found whole-frame.
            only = (sides.frame[form] == "surname").fill_null(False).to_numpy()
            a_only_all, b_only_all = only[sides.left], only[sides.right]
            where = np.flatnonzero(~sides.same(form)[1] & (a_only_all | b_only_all))
            if where.size:
                fam_a, fam_b = sides.values(family, where)
                key_a, key_b = sides.values(k, where)
                for n, idx in enumerate(where):
                    a_only, b_only = a_only_all[idx], b_only_all[idx]
                    if a_only and b_only:
                        agree = fam_a[n] == fam_b[n]
                    else:
                        surname_key, other = (fam_a[n], key_b[n]) if a_only else (fam_b[n], key_a[n])
                        agree = bool(surname_key) and surname_key in (other or "").split()
                    levels[idx] = 1 if agree else 0
        levels[missing] = MISSING
        return levels

    labels = ("different", "surname and salutation", "similar ≥0.80", "similar ≥0.90", "similar ≥0.96", "same")
    return Comparison(
        name,
        6,
        compare,
        (k, v, form, family),
        frequency=k,
        labels=labels,
        weak=frozenset({1}),
        needs=("mobile", "email", "id_card"),
        doubt=another_surname(name),
        doubt_label="another surname",
    )


def another_surname(name: str) -> Callable[[Sides], np.ndarray]:
    """Per pair: both names in characters begin with one of the commonest surnames and the two read differently.
    Such a surname is read for sure (a homophone typed for it, 汪 for 王, reads the same); in Latin letters which
    word is the surname is a guess (Wang Fang, Fang Wang), and a rarer first character may be a nickname's (小金,
    老欧阳) or read another way. Kept out of the levels: it says when likeness of the pinyin keys is no evidence,
    not how often namesakes occur."""
    script, characters, family = attr(name, "script"), attr(name, "family"), attr(name, "family_key")

    def doubt(sides: Sides) -> np.ndarray:
        if not {script, characters, family} <= set(sides.frame.columns):
            return np.zeros(len(sides), dtype=bool)
        sure = (
            ((sides.frame[script] == "zh") & sides.frame[characters].is_in(list(COMMON_SURNAMES)))
            .fill_null(False)
            .to_numpy()
        )
        return sure[sides.left] & sure[sides.right] & sides.differ(family, either=False)

    return doubt


def phones(name: str, numbers: str, local: str, own: str | None = None) -> Comparison:
    """Phones as the sets of numbers two records hold. Levels: 0 no number in common; 1 (people only) the same
    office line, which several people share or which is their company's switchboard: it says nothing about the
    person; 2 the same number once the area code is left out (one side wrote none); 3 the same number."""

    def compare(sides: Sides) -> np.ndarray:
        hit, missing = sides.shared(numbers)
        local_hit, local_missing = sides.shared(local)
        levels = np.zeros(len(sides), dtype=np.int8)
        levels[local_hit] = 2
        if own is not None:
            levels[hit] = 1
            levels[sides.shared(own)[0]] = 3
        else:
            levels[hit] = 3
        levels[missing & local_missing] = MISSING
        return levels

    labels = ("different", "shared office line", "same number without area code", "same")
    return Comparison(
        name,
        4,
        compare,
        (numbers, local) + ((own,) if own else ()),
        labels=labels,
        neutral=frozenset({1}) if own else frozenset(),
        prior_u=(0.99, 1e-3, 1e-3, 1e-4),
    )


def mailboxes(name: str) -> Comparison:
    """A person's email: 2 the same own mailbox; 1 the same mailbox that several people use or that is named
    for a function (office@, sales@): it says nothing about the person; 0 different."""

    def compare(sides: Sides) -> np.ndarray:
        hit, missing = sides.shared(m("emails"))
        levels = hit.astype(np.int8)
        levels[sides.shared(m("own_emails"))[0]] = 2
        levels[missing] = MISSING
        return levels

    return Comparison(
        name,
        3,
        compare,
        (m("emails"), m("own_emails")),
        labels=("different", "shared mailbox", "same"),
        neutral=frozenset({1}),
        prior_u=(0.999, 5e-4, 5e-4),
        personal=True,
    )


def in_set(name: str, column: str, label: str = "same") -> Comparison:
    """Two sets of values (an account's contacts' mobiles and emails) that share one (1) or none (0)."""

    def compare(sides: Sides) -> np.ndarray:
        hit, missing = sides.shared(column)
        levels = hit.astype(np.int8)
        levels[missing] = MISSING
        return levels

    return Comparison(name, 2, compare, (column,), labels=("different", label))


def employer(name: str, account: str) -> Comparison:
    """A contact's company: 2 the same account; 1 two accounts whose names are the same or whose brands read
    the same across scripts (Xingchen Tech / 星辰科技); 0 different companies."""

    def compare(sides: Sides) -> np.ndarray:
        same, missing = sides.same(account)
        levels = same.astype(np.int8) * 2
        for column in (m("employer"), m("employer_latin")):
            if column in sides.frame.columns:
                levels[sides.same(column)[0] & ~same] = 1
        levels[missing] = MISSING
        return levels

    return Comparison(
        name,
        3,
        compare,
        (account, m("employer"), m("employer_latin")),
        labels=("different", "company names alike", "same"),
    )


# -- addresses ----------------------------------------------------------------------------------------------


def address(name: str) -> Comparison:
    """Full addresses: 0 different, 1-3 similar, 4 the same. Missing where either side is only a city (a sign-up's
    city column): `city` compares those."""
    k, detail = key(name), attr(name, "detail")
    inner = similar(name, k, (0.70, 0.85, 0.95), exact_column=k)

    def compare(sides: Sides) -> np.ndarray:
        levels = inner.compare(sides)
        coarse = _coarse(sides, name)
        if coarse is not None:
            levels[coarse[0] | coarse[1]] = MISSING
        return levels

    return Comparison(name, inner.levels, compare, (k, detail), labels=inner.labels)


def _coarse(sides: Sides, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Per pair, whether each side's address is only a city or a province (no district, no street)."""
    code, detail, flag = attr(name, "code"), attr(name, "detail"), attr(name, "coarse")
    if code not in sides.frame.columns or detail not in sides.frame.columns:
        return None
    coarse = sides.frame[code].is_not_null() & sides.frame[detail].is_null() & sides.frame[code].str.ends_with("00")
    if flag in sides.frame.columns:
        coarse = coarse | sides.frame[flag].is_not_null()
    flags = coarse.to_numpy()
    return flags[sides.left], flags[sides.right]


def city(name: str) -> Comparison:
    """Where one address is only a city: 1 the same city (or province, when that is all one side says), 0
    another. An event's city is often the attendee's, so this weighs as much as the data shows it does."""
    code = attr(name, "code")

    def compare(sides: Sides) -> np.ndarray:
        levels = np.full(len(sides), MISSING, dtype=np.int8)
        coarse = _coarse(sides, name)
        if coarse is None:
            return levels
        either = coarse[0] | coarse[1]
        if not either.any():
            return levels
        codes = sides.frame[code]
        province = codes.str.slice(0, 2).cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
        prefecture = codes.str.slice(0, 4).cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
        province_only = codes.str.slice(2, 2).eq("00").fill_null(False).to_numpy()
        a, b = sides.left, sides.right
        known = either & (province[a] >= 0) & (province[b] >= 0)
        # Compared at the finer level both sides give: a province where either gives only that, else the city.
        by_province = province_only[a] | province_only[b]
        same = np.where(by_province, province[a] == province[b], prefecture[a] == prefecture[b])
        levels[known] = same[known].astype(np.int8)
        return levels

    return Comparison(
        f"{name} city",
        2,
        compare,
        (code, attr(name, "detail")),
        labels=("another city", "same city"),
        prior_u=(0.9, 0.1),
    )


# -- which comparisons an entity gets -----------------------------------------------------------------------

# Fields that describe the relationship (who owns it, what happened when), not who the customer is: they
# are neither compared nor blocked on, or records with the same owner would look like one customer.
DESCRIPTIVE = frozenset(
    {
        "note",
        "content",
        "subject",
        "owner",
        "title",
        "status",
        "level",
        "industry",
        "gender",
        "department",
        "lead_source",
        "type",
        "stage",
        "amount",
        "created_at",
        "last_activity_at",
        "close_date",
        "occurred_at",
    }
)
# An opportunity is what it is worth and when it closes: for it those fields identify.
IDENTIFYING = {
    Entity.opportunities: frozenset({"amount", "close_date", "created_at"}),
    # Two records of one person mostly give one title; two namesakes at one company seldom do.
    Entity.contacts: frozenset({"title", "department"}),
}
# What a deal is: a duplicate of an opportunity (typed again, copied into a salesperson's sheet) holds the same
# amount and close date, or nearly (rounded, a few days moved); a renewal or a repeat order under the same name
# holds another amount and another quarter's or year's date. When a record was created is no term: a copy typed
# again is created later.
TERMS = {Entity.opportunities: frozenset({"amount", "close_date"})}
# Most dates say when something happened (a sign-up, a visit): only these say who someone is.
IDENTIFYING_DATES = frozenset({"birthday", "date_of_birth", "founded_on", "registered_on"})


def _as_term(comp: Comparison, spec: FieldSpec, entity: Entity, apart: frozenset[int]) -> Comparison:
    """``comp`` as a term of the entity's records where it is one (`TERMS`), with the levels that are ``apart``."""
    return replace(comp, apart=apart) if spec.name in TERMS.get(entity, ()) else comp


def identifying_date(spec: FieldSpec, entity: Entity | None) -> bool:
    return spec.name in IDENTIFYING_DATES or (entity is not None and spec.name in IDENTIFYING.get(entity, ()))


def identifying(fields: list[FieldSpec], entity: Entity | None = None) -> list[FieldSpec]:
    extra = IDENTIFYING.get(entity, frozenset()) if entity else frozenset()
    return [s for s in fields if (s.name not in DESCRIPTIVE or s.name in extra) and s.name != ID_FIELD]


def comparisons_for(fields: list[FieldSpec], frame: pl.DataFrame, entity: Entity, linked: bool) -> list[Comparison]:
    """The comparisons an entity's identifying fields allow, chosen by type."""
    from crm_migrate.migrate.link import ACCOUNT

    out: list[Comparison] = []
    phone_done = False
    for spec in identifying(fields, entity):
        v, k = val(spec.name), key(spec.name)
        if v not in frame.columns:
            continue
        t = spec.type
        if t in (FieldType.uscc, FieldType.id_card):
            out.append(exact(spec.name, k, identity=True))
        elif t is FieldType.phone:
            if phone_done or m("mobiles") not in frame.columns:
                continue
            phone_done = True  # every phone field of the record is in the sets
            out.extend(_phone_comparisons(entity, frame))
        elif t is FieldType.email and entity is Entity.contacts and m("own_emails") in frame.columns:
            out.append(mailboxes(spec.name))
        elif t in (FieldType.email, FieldType.url):
            out.append(exact(spec.name, k))
        elif t is FieldType.company_name:
            out.append(company_name(spec.name, identity=spec.name == "name"))
            if spec.name == "name" and m("latin") in frame.columns:
                out.append(across_scripts(spec.name))
        elif t is FieldType.person_name:
            # Not an identity: a person's name is written in too many ways (order, initials, nicknames) for
            # a difference to prove two people; it weighs, it does not veto.
            out.append(person_name(spec.name))
        elif t is FieldType.address and entity is Entity.contacts and m("own_address") in frame.columns:
            # An address several people give is their office's or their family's: it says nothing of the person.
            out.append(similar(spec.name, m("own_address"), (0.70, 0.85, 0.95), exact_column=m("own_address")))
        elif t is FieldType.address:
            out.append(address(spec.name))
            out.append(city(spec.name))
        elif t is FieldType.date:
            if identifying_date(spec, entity):
                out.append(_as_term(days_apart(spec.name, v), spec, entity, frozenset({0, 1})))
        elif t is FieldType.money:
            out.append(_as_term(amounts(spec.name, v), spec, entity, frozenset({0})))
        elif entity is Entity.opportunities and spec.name == "name" and m("deal") in frame.columns:
            # Two opportunities of one account under different names are two deals: 设备采购 is not 年度采购,
            # however alike the brand in front makes them look to Jaro-Winkler.
            # Within one account a deal's name comes back by itself (年度采购 every year, 服务续约 every
            # quarter): before the data says otherwise, one pair in 50 shares it by chance, not one in 10,000.
            out.append(
                replace(
                    similar(
                        spec.name,
                        m("deal"),
                        (0.80, 0.90),
                        scorer=Indel.normalized_similarity,
                        exact_column=m("deal"),
                        identity=True,
                    ),
                    prior_u=(0.9, 0.05, 0.03, 0.02),
                )
            )
        elif t in (FieldType.text, FieldType.id, FieldType.number, FieldType.picklist):
            out.append(similar(spec.name, k, (0.85, 0.95), exact_column=k))
    if entity in (Entity.accounts, Entity.contacts) and SOURCE in frame.columns and frame[SOURCE].n_unique() > 1:
        # How often one source holds a customer twice differs from how often two sources both hold it: two
        # contacts of one CRM with their own ids are more often two people than a sign-up and a CRM record.
        out.append(Comparison("source", 2, _same_source, (SOURCE,), labels=("another source", "same source")))
    if entity is Entity.accounts and m("people") in frame.columns:
        out.append(in_set("contacts", m("people"), "a contact in common"))
    if entity is Entity.accounts and m("deals") in frame.columns:
        # Other deals say nothing: a salesperson's pipeline lists the deals it works on, the old CRM those it
        # closed. (Where the generator made every pipeline deal a copy of a CRM one, EM learned -2.5 bits.)
        out.append(replace(in_set("opportunities", m("deals"), "an opportunity in common"), neutral=frozenset({0})))
    if linked and ACCOUNT in frame.columns:
        if entity is Entity.contacts and m("employer") in frame.columns:
            out.append(employer("account", ACCOUNT))
        else:
            # An opportunity or activity of another account is another one.
            out.append(exact("account", ACCOUNT, identity=entity is not Entity.contacts))
    return out


def _same_source(sides: Sides) -> np.ndarray:
    same, missing = sides.same(SOURCE)
    return same.astype(np.int8)


def _phone_comparisons(entity: Entity, frame: pl.DataFrame) -> list[Comparison]:
    if entity is Entity.contacts:
        return [
            replace(in_set("mobile", m("mobiles")), personal=True, sole=True),
            replace(phones("phone", m("lines"), m("locals"), own=m("own_lines")), personal=True, desk=True),
        ]
    return [phones("phone", m("phones"), m("locals"))]
