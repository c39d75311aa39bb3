"""Which records are compared at all: those sharing a blocking key.

Keys are built from the cleaners' match keys and the matching features (`features`): each identifying code,
phone and email alone (every number a record holds, whatever column it came in); the name key alone, by its
two ends, and with its start in front of each other identifying field; a company's brand by its sound and
trade (homophones and English names meet); an address with the name's start and with its end; a person's
name syllables within the same account (王经理 meets 王建国 there). Four guards keep the work, and the
memory, linear in the rows: a block of more than ``MAX_BLOCK`` records (for a person's sub-blocked key,
`common_block`: one record in 1,000 on more records) is too common a value to say anything and is
skipped (reported per key with the largest block's size); a person's block of more than ``WIDE`` records is sub-blocked, each record paired
with the next ``WINDOW`` in the key's order (the name, or the other identifying values: sorted
neighbourhood), so that a key whose blocks grow with the data (a birthday, a common name) keeps a fixed
number of pairs per record and is kept rather than dropped; a key may give at most ``PAIRS_PER_ROW`` pairs
per record, and all keys together stay within the pair budget, ``TOTAL_PAIRS_PER_ROW`` per record and never
more than ``MAX_PAIRS``: keys are taken finest first, and those that do not fit whole are kept with a lower
block limit, one for all of them (`_lowered`: a brand's sound loses the values a hundred companies share at a
million records, not its other blocks), and dropped only where even their smallest blocks do not fit. A key
dropped is reported with the pairs it would have given and the records it would have compared, and a key's
blocks skipped with their count, the largest and the limit, all counted on the block sizes before any pair
exists.
Everything matching holds per pair (levels, weights, the strings rapidfuzz scores, in batches) is
bounded by that budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from crm_migrate.mappings.entities import Entity, FieldSpec, FieldType
from crm_migrate.migrate.columns import OUTCOME, key
from crm_migrate.migrate.comparisons import identifying, identifying_date
from crm_migrate.migrate.features import m

MAX_BLOCK = 100  # records sharing one blocking key; a larger block is too common a value to say anything ...
COMMON_SHARE = 0.001  # ... or, on more than MAX_BLOCK / COMMON_SHARE records, more than this share of them
WIDE = 3  # a block of more records is sub-blocked: each record paired with its neighbours, not all
WINDOW = 2  # the records after each, in each order of a wide block, it is paired with
PAIRS_PER_ROW = 4  # a blocking key giving more candidate pairs than this per record is too coarse
MIN_BUDGET = 20_000  # ... unless the data is small enough for that not to matter
TOTAL_PAIRS_PER_ROW = 12  # all keys together: the pair budget, which bounds matching's memory ...
MAX_PAIRS = 12_000_000  # ... and at most this many pairs scored, whatever the rows (about 2 GB at the peak)
IDENTIFIERS = (FieldType.uscc, FieldType.id_card, FieldType.phone, FieldType.email, FieldType.url)  # alone
SEP = "\x1f"
SLICE = 1 << 22  # pair codes looked up at a time, when their positions among the unique ones are found
LONG_NAME = 7  # characters from which a name's two ends leave out enough of its middle to be a key of their own


@dataclass(frozen=True)
class BlockingKey:
    name: str
    expr: pl.Expr  # a value per record, or a list of values (a record in several blocks)
    fields: tuple[str, ...]  # the comparisons its pairs agree on by construction
    differ: str | None = None  # pair only records whose values of this column differ (a Chinese and an English name)
    order: tuple[pl.Expr, ...] = ()  # what a wide block is sorted by, one pass each (see `_neighbours`)


TOO_COARSE, PAST_BUDGET, BLOCKS_TOO_LARGE = "too coarse", "past the budget", "blocks too large"  # SkippedKey.reason


@dataclass(frozen=True)
class SkippedKey:
    """A blocking key dropped (``reason`` `TOO_COARSE` or `PAST_BUDGET`), or a key's blocks skipped
    (`BLOCKS_TOO_LARGE`: ``blocks`` of them, the largest of ``largest`` records)."""

    name: str
    pairs: int  # the pairs it would have produced
    why: str
    blocks: int = 0
    records: int = 0  # the records it would have compared: those in a block it would have paired, each once
    largest: int = 0
    reason: str = ""
    limit: int = 0  # the records a block of the key may hold and be paired (its blocks of more are skipped)


def _head(name_key: pl.Expr) -> pl.Expr:
    """The start of a name key: two characters of a Chinese key (a company's brand, a surname and more),
    four of a Latin one (a pinyin syllable or most of a given name)."""
    return (
        pl.when(name_key.str.contains(r"^[\x00-\x7f]"))
        .then(name_key.str.slice(0, 4))
        .otherwise(name_key.str.slice(0, 2))
    )


def _joined(*parts: pl.Expr) -> pl.Expr:
    return pl.concat_str(list(parts), separator=SEP)


def blocking_keys(fields: list[FieldSpec], frame: pl.DataFrame, entity: Entity, linked: bool) -> list[BlockingKey]:
    """The keys under which an entity's records are compared (see the module text)."""
    from crm_migrate.migrate.link import ACCOUNT

    keys: list[BlockingKey] = []
    columns = set(frame.columns)
    spec_of = {s.name: s for s in fields}
    name = spec_of.get("name")
    name_key = key("name") if name and key("name") in columns else None
    head = _head(pl.col(name_key)) if name_key else pl.lit(None, pl.String)  # used only with a name
    account = linked and ACCOUNT in columns
    phones_done = False
    for spec in identifying(fields, entity):
        k = key(spec.name)
        if k not in columns or spec.name == "name":
            continue
        if spec.type is FieldType.phone:
            if not phones_done:
                phones_done = True
                keys += _phone_keys(entity, columns)
            continue
        if spec.shared:
            continue  # a shared value (an office phone) would pair colleagues and teach EM they are one
        if spec.type is FieldType.date and not identifying_date(spec, entity):
            continue
        if spec.type in (*IDENTIFIERS, FieldType.date, FieldType.id) or (
            entity is Entity.opportunities and spec.type is FieldType.money
        ):
            keys.append(BlockingKey(spec.name, pl.col(k), (spec.name,)))
        company = name is not None and name.type is FieldType.company_name
        if head is not None and spec.type not in IDENTIFIERS and not company:
            keys.append(BlockingKey(f"{spec.name}+name start", _joined(pl.col(k), head), (spec.name, "name")))
        if spec.type is FieldType.address and company and name_key:
            # A company's address with its name's end (its trade): a brand mistyped, at the same address; and with
            # its start (the brand's first characters, the region being off the key): a short name that keeps only
            # part of the trade (百利达包装 / 百利达包装制品), whose sound and ends differ from the full name's.
            keys.append(
                BlockingKey(f"{spec.name}+name end", _joined(pl.col(k), pl.col(name_key).str.slice(-2)), (spec.name,))
            )
            keys.append(BlockingKey(f"{spec.name}+name start", _joined(pl.col(k), head), (spec.name,)))
    if name_key:
        keys.append(BlockingKey("name", pl.col(name_key), ("name",)))
        # Both ends of a long name, for a typo in its middle (a short name's ends are all of it, and its typos
        # meet under the brand's sound or its variants).
        ends = _joined(pl.col(name_key).str.slice(0, 3), pl.col(name_key).str.slice(-3))
        keys.append(
            BlockingKey(
                "name[:3]+name[-3:]", pl.when(pl.col(name_key).str.len_chars() >= LONG_NAME).then(ends), ("name",)
            )
        )
        if account and name is not None and name.type is FieldType.person_name:
            # Every syllable group of the name within one account: 王经理 (wang) meets 王建国 (jianguo wang).
            keys.append(
                BlockingKey(
                    "name part+account", _with_last(pl.col(name_key).str.split(" "), pl.col(ACCOUNT)), ("account",)
                )
            )
        elif account:
            keys.append(BlockingKey("name start+account", _joined(head, pl.col(ACCOUNT)), ("name", "account")))
    if name and name.type is FieldType.company_name and m("latin") in columns:
        # The brand by its sound (homophones and English names meet), by the pinyin an English name starts with,
        # with one character left out (a character dropped or changed) within the trade's family, and translated
        # character by character (StarCloud / 星云, from the glossary; the comparison reads it word by word).
        trade = pl.col(m("family")).fill_null("")
        keys.append(BlockingKey("brand sound", pl.col(m("latin")), ()))
        if m("short") in columns:
            # Its pairs of a short name with a full one, which the brand's sound and trade cannot give: what is
            # left of it where the brand's sound alone is too common a key (two-character brands, in the tens of
            # thousands of companies).
            keys.append(BlockingKey("brand sound, short name", pl.col(m("latin")), (), differ=m("short")))
        keys.append(
            BlockingKey("brand sound+trade", _joined(pl.col(m("latin")), trade), ())
        )  # where that is too coarse
        keys.append(BlockingKey("brand head across scripts", pl.col(m("heads")).fill_null([]), (), differ=m("script")))
        keys.append(BlockingKey("brand typo+trade", _with_last(pl.col(m("variants")).fill_null([]), trade), ()))
        if m("calques") in columns:  # StarCloud meets 星云科技: the brand translated character by character
            keys.append(
                BlockingKey(
                    "brand translated across scripts", pl.col(m("calques")).fill_null([]), (), differ=m("script")
                )
            )
    if entity is Entity.accounts and m("people") in columns:
        keys.append(BlockingKey("contact", pl.col(m("people")), ("contacts",)))
    if entity is Entity.accounts and m("deals") in columns:
        keys.append(BlockingKey("opportunity", pl.col(m("deals")), ("opportunities",)))
    if entity is not Entity.contacts:
        return keys
    # People's blocks grow with the data (more people share a birthday or a common name, each its own), so a
    # wide one is sub-blocked. (A company's are not yet: its keys are the brand's, and side by side in the
    # name's order sit the look-alikes, the same brand in another city, that its weights must learn apart.)
    return [replace(bk, order=_orders(bk, fields, frame, entity, name_key)) for bk in keys]


def _orders(
    bk: BlockingKey, fields: list[FieldSpec], frame: pl.DataFrame, entity: Entity, name_key: str | None
) -> tuple[pl.Expr, ...]:
    """What a key's wide blocks are sorted by: a key on the name by the whole name, then the record's other
    identifying values (its address, birthday, ...); any other key by those values, then the name (its blocks
    sorted by the name are what its key with the name's start gives)."""
    # (A key's own value is the same throughout its blocks: left in, so that keys share their orders.)
    rest = [
        pl.col(key(s.name)).fill_null("")
        for s in identifying(fields, entity)
        if s.name != "name" and frame.schema.get(key(s.name)) == pl.String
    ]
    name = [pl.col(name_key).fill_null("")] if name_key and bk.name != "name" else []
    order = name + rest if "name" in bk.fields else rest + name
    return (pl.concat_str(order, separator=SEP),) if order else ()


def _with_last(values: pl.Expr, suffix: pl.Expr) -> pl.Expr:
    """Each value of a list joined with the record's ``suffix``: [jianguo, wang] + A1 -> [jianguo|A1, wang|A1]."""
    return pl.concat_list([values, suffix]).list.eval(
        pl.element().head(pl.element().len() - 1) + SEP + pl.element().last()
    )


def _phone_keys(entity: Entity, columns: set[str]) -> list[BlockingKey]:
    """Every number a record holds; for people only their own lines, not those colleagues share."""
    if entity is Entity.contacts:
        keys = [BlockingKey("mobile", pl.col(m("mobiles")), ("mobile",))]
        if m("own_lines") in columns:
            keys.append(BlockingKey("phone", pl.col(m("own_lines")), ()))
        return keys
    if m("phones") in columns:
        return [BlockingKey("phone", pl.col(m("phones")), ("phone",))]
    return []


def candidate_pairs(
    frame: pl.DataFrame, keys: list[BlockingKey], within: str | None = None, new_rows: int | None = None
) -> tuple[pl.DataFrame, list[tuple[BlockingKey, np.ndarray]], list[SkippedKey], list[SkippedKey]]:
    """Unique pairs (l < r, by row index, in that order) of live records sharing a blocking key, and per key the
    positions of its own pairs among them; the keys dropped (too coarse, or past the pair budget) and the blocks
    skipped (each key's blocks of more than its limit, ``MAX_BLOCK`` or `common_block`, as a `SkippedKey` per
    key naming the largest), each with the records it would have compared. With ``within`` (a column), only
    records with the same value there are paired: an opportunity only with those of its account. A block of more
    than ``WIDE`` records is paired by its neighbours (`_neighbours`), not every two.

    Memory stays within the pair budget: keys are sized on value hashes before any pair exists, a key is
    dropped once the pairs kept so far and its own would pass ``TOTAL_PAIRS_PER_ROW`` per record (or
    ``MAX_PAIRS``), and each key's pairs are joined on their own, as one 64-bit code per pair.

    With ``new_rows`` (an incremental run: the frame's first rows are new, the others the state's rows that
    share a key with them), only pairs with a new row are made: keys and blocks are sized on the whole frame
    as a full run would size them, but two old rows, matched before, are never joined."""
    empty = pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32})
    if not keys:
        return empty, [], [], []
    # One key's values at a time (a list key's are many per record: all of them at once would be gigabytes
    # of strings at millions of records), reduced to hashes at once.
    live = frame.lazy().with_row_index("_i").filter(pl.col(OUTCOME).is_null())
    if within:
        live = live.filter(pl.col(within).is_not_null())
    records = live.select(pl.len()).collect().item()
    budget, total = pair_budget(records)
    # A sub-blocked key's blocks give a fixed number of pairs per record, however large: the block too common
    # to say anything grows with the data. Any other key's give every two, so its limit stays MAX_BLOCK (at
    # 1M company records one record in 1,000 let 400-record blocks be paired whole: +2 GB at the peak).
    common = {n: common_block(records) if bk.order else MAX_BLOCK for n, bk in enumerate(keys)}
    n_rows = max(frame.height, 1)
    # Each key's blocks as (record, value hash); a key whose blocks would give too many pairs is dropped
    # before it costs anything more.
    sized = [(n, *_blocks(live, bk, within, common[n])) for n, bk in enumerate(keys)]
    # The finest keys first, so that the budget goes to the keys that say most per pair; a key that does not
    # fit whole waits for a lower block limit (`_lowered`).
    dropped, skipped_blocks, chosen, spent, waiting = [], [], [], 0, []
    for n, part, sizes, usable, expected, listed in sorted(sized, key=lambda x: (x[4], x[0])):
        if expected > budget or spent + expected > total:
            waiting.append((n, part, sizes, usable, expected, listed))
            continue
        spent += expected
        chosen.append((n, part, sizes, usable, common[n], listed))
    lowered = _lowered({n: (sizes, common[n]) for n, _, sizes, _, _, _ in waiting}, budget, total - spent)
    for n, part, sizes, usable, expected, listed in waiting:
        bk = keys[n]
        if n in lowered:
            usable = sizes.filter((pl.col("paired") > 0) & (pl.col("len") <= lowered[n]))
            chosen.append((n, part, sizes, usable, lowered[n], listed))
            continue
        if expected > budget:
            why, reason = f"more than {PAIRS_PER_ROW} pairs per record", TOO_COARSE
        else:
            why, reason = f"past the pair budget ({total:,} pairs, {spent:,} spent on finer keys)", PAST_BUDGET
        dropped.append(SkippedKey(bk.name, expected, why, records=_records_in(part, usable, listed), reason=reason))
    kept = []  # per key kept, its (record, value hash) rows in the blocks it pairs, with their sizes
    for n, part, sizes, usable, limit, listed in chosen:
        bk = keys[n]
        big = sizes.filter(pl.col("len") > limit)
        if big.height:
            largest = int(big.select(pl.col("len").max()).item())
            note = f" (lowered from {common[n]} to keep within the pair budget)" if limit < common[n] else ""
            skipped_blocks.append(
                SkippedKey(
                    bk.name,
                    int(big["pairs"].sum()),
                    f"{big.height:,} block(s) of more than {limit} records{note}, the largest "
                    f"{largest:,} records sharing one value",
                    big.height,
                    _records_in(part, big, listed),
                    largest,
                    BLOCKS_TOO_LARGE,
                    limit,
                )
            )
        kept.append((n, part.join(usable.select("_h", "len"), on="_h", how="inner")))
    # Each key's (record, value hash) rows are read no more (the kept keys' are in ``kept``, with their sizes).
    del sized, chosen, waiting
    dropped.sort(key=lambda d: [bk.name for bk in keys].index(d.name))
    skipped_blocks.sort(key=lambda d: [bk.name for bk in keys].index(d.name))
    if not kept:
        return empty, [], dropped, skipped_blocks
    # One code per pair, l * rows + r, each key's on its own (its join is at most about twice its pairs).
    kept.sort(key=lambda x: x[0])
    order = [n for n, _ in kept]
    orders: dict[str, np.ndarray] = {}  # each order's values, per row of the frame, made once for all keys
    codes = [_codes(part, keys[n], n_rows, _order_values(frame, keys[n], orders), new_rows) for n, part in kept]
    del kept, orders  # not held while the codes are made unique
    pairs, where, bounds = _unique_pairs(codes, n_rows)
    by_key = [(keys[n], where[bounds[i] : bounds[i + 1]]) for i, n in enumerate(order) if bounds[i + 1] > bounds[i]]
    return pairs, by_key, dropped, skipped_blocks


def _unique_pairs(codes: list[np.ndarray], n_rows: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The pairs of all keys' codes (each key's unique and sorted; ``codes`` is emptied as they are read), once
    each, in code order; the position of each key's codes among them, key after key; and where each key's start.

    Not np.unique(..., return_inverse=True): it sorts by an argsort and builds the inverse through a cumsum,
    five arrays of 8 bytes a code beside the codes themselves (with the keys' rows freed first: blocking's
    peak at 2M records 4,257 -> 4,043 MB). A key's codes being unique and sorted, their positions are where
    they sort in among the unique codes, found a slice at a time, and kept in 32 bits (fewer pairs than
    2**32, as ``MAX_PAIRS`` bounds them)."""
    bounds = np.concatenate([[0], np.cumsum([c.size for c in codes])])
    every = np.empty(int(bounds[-1]), np.int64)
    for i in range(len(codes)):  # into one array, each key's freed as it is copied (not twice at once)
        every[bounds[i] : bounds[i + 1]] = codes[i]
        codes[i] = np.empty(0, np.int64)  # freed
    unique = _sorted_unique(np.sort(every))
    where = np.empty(every.size, np.uint32)
    for start in range(0, every.size, SLICE):
        where[start : start + SLICE] = np.searchsorted(unique, every[start : start + SLICE])
    del every
    # l and r straight into 32 bits, without a 64-bit quotient and remainder first.
    left, right = np.empty(unique.size, np.uint32), np.empty(unique.size, np.uint32)
    np.floor_divide(unique, n_rows, out=left, casting="unsafe")
    np.remainder(unique, n_rows, out=right, casting="unsafe")
    del unique
    return pl.DataFrame({"l": left, "r": right}, schema={"l": pl.UInt32, "r": pl.UInt32}), where, bounds


def _blocks(
    live: pl.LazyFrame, bk: BlockingKey, within: str | None, common: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, int, bool]:
    """One key's blocks: its (record, value hash, kind) rows, the size and pairs of each
    block, the blocks it pairs (more than one pair, at most ``common`` records) and the pairs they give."""
    group = pl.col(within) if within else pl.lit("")
    lazy = live.select(
        "_i",
        group.alias("_g"),
        bk.expr.alias("_b"),
        (pl.col(bk.differ) if bk.differ else pl.lit(None, pl.String)).alias("_d"),
    )
    listed = isinstance(lazy.collect_schema()["_b"], pl.List)
    if listed:
        lazy = lazy.explode("_b")
    lazy = lazy.filter(pl.col("_b").is_not_null() & (pl.col("_b") != ""))
    value = pl.concat_str(["_g", "_b"], separator=SEP) if within else pl.col("_b")
    lazy = lazy.select("_i", value.hash(seed=0).alias("_h"), *(["_d"] if bk.differ else []))
    if listed:
        lazy = lazy.unique(["_i", "_h"])
    part = lazy.collect()
    # Per block, its records and the pairs it gives (only pairs of different kinds for a key with ``differ``).
    if bk.differ:
        sizes = (
            part.group_by("_h", "_d")
            .len("n")
            .group_by("_h")
            .agg(pl.col("n").sum().alias("len"), (pl.col("n").cast(pl.Int64) ** 2).sum().alias("sq"))
            .with_columns(((pl.col("len").cast(pl.Int64) ** 2 - pl.col("sq")) // 2).alias("pairs"))
        )
    else:
        sizes = (
            part.group_by("_h")
            .len("len")
            .with_columns((pl.col("len").cast(pl.Int64) * (pl.col("len").cast(pl.Int64) - 1) // 2).alias("pairs"))
        )
    if bk.order:  # a wide block: each record's next WINDOW neighbours in each order, at most
        windowed = (pl.col("len").cast(pl.Int64) * WINDOW - WINDOW * (WINDOW + 1) // 2) * len(bk.order)
        paired = pl.when(pl.col("len") > WIDE).then(pl.min_horizontal(windowed, "pairs")).otherwise("pairs")
    else:
        paired = pl.col("pairs")
    sizes = sizes.with_columns(paired.alias("paired"))
    usable = sizes.filter((pl.col("paired") > 0) & (pl.col("len") <= common))
    return part, sizes, usable, int(usable["paired"].sum()), listed


def _lowered(waiting: dict[int, tuple[pl.DataFrame, int]], budget: int, left: int) -> dict[int, int]:
    """The block limit each key that did not fit whole is kept with: one limit for all of them, the highest
    at which each key's blocks of at most that many records give at most ``budget`` pairs and all of them
    together at most ``left``, so that the pair budget skips the most common values of a coarse key (a brand's
    sound shared by a hundred companies at a million records) rather than the whole key. A key whose smallest
    blocks alone pass ``budget`` stays out (too coarse at any limit); where the keys' blocks of two records
    together pass ``left``, the coarsest stays out and the others are tried again. ``waiting``: per key
    (index), its block sizes (`_blocks`) and its own limit."""
    curves = {}
    for n, (sizes, common) in waiting.items():
        blocks = sizes.filter(pl.col("paired") > 0).sort("len")
        size = blocks["len"].to_numpy().astype(np.int64)
        curves[n] = (size, np.cumsum(blocks["paired"].to_numpy().astype(np.int64)), common)

    def pairs(n: int, limit: int) -> int:  # the key's pairs from its blocks of at most ``limit`` records
        size, total, common = curves[n]
        at = int(np.searchsorted(size, min(limit, common), side="right"))
        return int(total[at - 1]) if at else 0

    def fits(limit: int) -> bool:  # every key still in, at that limit
        spent = [pairs(n, limit) for n in keys]
        return max(spent) <= budget and sum(spent) <= left

    keys = [n for n, (size, _, _) in curves.items() if size.size and pairs(n, int(size[0])) <= budget]
    while keys:
        if not fits(2):
            keys.remove(max(keys, key=lambda n: (pairs(n, 2), n)))  # the coarsest, the later of equals
            continue
        low, high = 2, max(curves[n][2] for n in keys)  # fits(low); the highest limit that fits, by halves
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        return {n: min(low, curves[n][2]) for n in keys if pairs(n, low) > 0}
    return {}


def _order_values(frame: pl.DataFrame, bk: BlockingKey, made: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Each of the key's orders as a rank per row of ``frame``; an order several keys share ranked once."""
    out = []
    for order in bk.order:
        name = str(order)
        if name not in made:
            made[name] = frame.select(order.rank("dense")).to_series().to_numpy()
        out.append(made[name])
    return out


def _codes(
    part: pl.DataFrame, bk: BlockingKey, n_rows: int, orders: list[np.ndarray], new_rows: int | None = None
) -> np.ndarray:
    """One key's pairs as codes l * rows + r, unique: every two records of a block of at most ``WIDE``, and
    in a wider one each record with its neighbours (`_neighbours`); with ``new_rows``, only pairs whose first
    record (the lower row) is one of the first ``new_rows``."""
    narrow = part.filter((pl.col("len") <= WIDE) | (len(bk.order) == 0))
    left = narrow if new_rows is None else narrow.filter(pl.col("_i") < new_rows)
    joined = left.join(narrow, on="_h", suffix="_r").filter(pl.col("_i") < pl.col("_i_r"))
    if bk.differ:
        joined = joined.filter(pl.col("_d") != pl.col("_d_r"))
    code = joined.select((pl.col("_i").cast(pl.Int64) * n_rows + pl.col("_i_r").cast(pl.Int64)).alias("c"))
    out = [code["c"].to_numpy()]
    del joined, code
    if bk.order:
        out += _neighbours(part.filter(pl.col("len") > WIDE), bk, n_rows, orders)
    codes = np.concatenate(out)
    del out
    if new_rows is not None:
        codes = codes[codes < new_rows * n_rows]  # l < new_rows
    codes.sort()
    return _sorted_unique(codes)


def _sorted_unique(codes: np.ndarray) -> np.ndarray:
    """The distinct values of sorted ``codes``, in order. Not np.unique: numpy 2.4's goes through a hash table
    before it sorts, 15x slower on millions of pair codes than comparing each with the next."""
    keep = np.empty(codes.size, bool)
    keep[:1] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def _neighbours(part: pl.DataFrame, bk: BlockingKey, n_rows: int, orders: list[np.ndarray]) -> list[np.ndarray]:
    """The pairs of wide blocks, sub-blocked by the key's orders: in each, a block's records are sorted (by the
    order, then by row) and each is paired with the next ``WINDOW``. Records of one customer sit side by side
    in some order (the same name, or the same address) while a block of a common value grows with the data,
    so the pairs stay a fixed number per record at any size: sorted neighbourhood, per block."""
    out = []
    block, record = part["_h"].to_numpy(), part["_i"].to_numpy().astype(np.int64)
    kinds = part["_d"].to_numpy() if bk.differ else None
    for rank in orders:
        sort = np.lexsort((record, rank[record], block))
        h, i = block[sort], record[sort]
        kind = kinds[sort] if kinds is not None else None
        for d in range(1, WINDOW + 1):
            same = h[:-d] == h[d:]
            if kind is not None:
                same &= kind[:-d] != kind[d:]
            a, b = i[:-d][same], i[d:][same]
            out.append(np.minimum(a, b) * n_rows + np.maximum(a, b))
    return out


def _records_in(part: pl.DataFrame, blocks: pl.DataFrame, listed: bool) -> int:
    """The records in ``blocks`` (some of a key's block sizes: value hash, records): their sizes summed, as a
    record holds one value of a key; of a list key (a record with two numbers is in two blocks), the records
    among ``part``'s (record, value hash) rows in those blocks, each counted once."""
    if not listed:
        return int(blocks["len"].sum())
    return part.join(blocks.select("_h"), on="_h", how="semi")["_i"].n_unique()


def pair_budget(records: int) -> tuple[int, int]:
    """The pairs a blocking key may give on ``records`` live records, and all keys together."""
    per_key = max(PAIRS_PER_ROW * records, MIN_BUDGET)
    return per_key, min(max(TOTAL_PAIRS_PER_ROW * records, MIN_BUDGET), max(MAX_PAIRS, per_key))


def common_block(records: int) -> int:
    """The records a block may hold before its value is too common to say anything: ``MAX_BLOCK``, or one record
    in ``COMMON_SHARE`` where there are more records, so that the same values are skipped at any size."""
    return max(MAX_BLOCK, int(records * COMMON_SHARE))
