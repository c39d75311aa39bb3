"""Record identity and golden records.

Every record gets a stable id derived from its source key (its legacy id in its system, or failing that
its source, sheet and row), so a re-run on the same data gives the same ids. Once deduplication has
labelled the clusters, `settle` writes the survivor (the earliest member by source priority, then
position), marks the others merged into it, and builds the golden record field by field by the
survivorship rules, recording where each value came from.
"""

from __future__ import annotations

import hashlib

import polars as pl

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.columns import (
    KEY,
    MERGED,
    OUTCOME,
    REASON,
    RECORD_ID,
    ROW,
    RULE,
    SEQ,
    SHEET,
    SOURCE,
    SYSTEM,
    WRITTEN,
    why,
)

LABEL = "_cluster"
_PREFIX = {Entity.accounts: "acc", Entity.contacts: "con", Entity.opportunities: "opp", Entity.activities: "act"}


def record_id(entity: Entity, source_key: str) -> str:
    return f"{_PREFIX[entity]}_{hashlib.sha1(f'{entity.value}|{source_key}'.encode()).hexdigest()[:16]}"


def assign_identity(frame: pl.DataFrame, entity: Entity, legacy: pl.Expr) -> pl.DataFrame:
    """``_key``: the record's source key; ``_record_id``: the stable id derived from it."""
    frame = frame.with_columns(
        pl.when(legacy.is_not_null())
        .then(pl.concat_str([pl.col(SYSTEM), pl.lit("id"), legacy], separator="\x1f"))
        .otherwise(
            pl.concat_str([pl.col(SOURCE), pl.col(SHEET).fill_null(""), pl.col(ROW).cast(pl.String)], separator="\x1f")
        )
        .alias(KEY)
    )
    keys = frame[KEY].unique()
    # typed, so that a source with no rows (a header-only CSV) still joins on it downstream
    ids = pl.DataFrame(
        {KEY: keys, RECORD_ID: pl.Series([record_id(entity, k) for k in keys.to_list()], dtype=pl.String)}
    )
    return frame.join(ids, on=KEY, how="left", maintain_order="left")


SOURCE_PRIORITY = "source_priority"
FROM = "_from:"  # per golden field: the _seq of the member its value came from
OTHERS = "o:"  # per phone/email field of a survivor: the members' other values, "; "-separated


def name_quality(frame: pl.DataFrame, specs) -> dict[str, pl.Expr]:
    """How good a record's name is as the golden one, higher first. A company's registered form first:
    Chinese, with its legal form (spelt right) and its region, in simplified characters; a short name, an
    English one or a typed variant only where no member has it. A person's full name over a surname and a
    salutation, Chinese over pinyin or English, simplified over traditional characters."""
    from crm_migrate.cleaners.company import LEGAL_FORMS
    from crm_migrate.cleaners.text import traditional_chars
    from crm_migrate.mappings.entities import FieldType

    spec = next((s for s in specs if s.name == "name"), None)
    if spec is None or "v:name" not in frame.columns:
        return {}
    name = pl.col("v:name")
    chinese = name.str.contains(r"[\u3400-\u9fff]").fill_null(False).cast(pl.Int64)
    if spec.type is FieldType.company_name:
        forms = "|".join(f for f in LEGAL_FORMS if not f.isascii())
        misspelt = (
            pl.col("n:name").str.contains("legal form misspelt").fill_null(False)
            if "n:name" in frame.columns
            else pl.lit(False)
        )
        legal = (name.str.contains(rf"(?:{forms})(?:（[^（）]*）)?$").fill_null(False) & ~misspelt).cast(pl.Int64)
        region = pl.col("a:name.region").is_not_null().cast(pl.Int64) if "a:name.region" in frame.columns else pl.lit(0)
        plain = (~name.str.contains_any(traditional_chars()).fill_null(False)).cast(pl.Int64)
        return {"v:name": chinese * 8 + legal * 2 + region * 2 + plain}
    if spec.type is not FieldType.person_name:
        return {}
    full = (
        (pl.col("a:name.form") != "surname").fill_null(True).cast(pl.Int64)
        if "a:name.form" in frame.columns
        else pl.lit(1)
    )
    plain = (
        pl.col("a:name.traditional").is_null().cast(pl.Int64) if "a:name.traditional" in frame.columns else pl.lit(1)
    )
    return {"v:name": full * 4 + chinese * 2 + plain}


def settle(
    frame: pl.DataFrame | list[pl.DataFrame],
    fields: dict[str, list[str]],
    rules: dict[str, str] | None = None,
    recency: str | None = None,
    keep_others: frozenset[str] = frozenset(),
    quality: dict[str, pl.Expr] | None = None,
) -> pl.DataFrame:
    """Mark survivors written and the other members merged into them; give survivors the golden values.
    ``frame`` may come in a one-item list, which settle empties: then the caller holds no reference to it, and
    each column replaced by its golden one is freed as settle goes, instead of all of them at the end.

    ``fields`` maps each field's value column to its columns (the value and its parts: an address's
    province, a phone's extension); a field's columns always come from one member, so parts never mix.
    ``rules`` gives a survivorship rule per value column (default: source priority); ``recency`` is the
    value column of the date that decides ``most_recent``. For the value columns in ``keep_others`` (phones,
    emails) the values of other members are kept in ``o:<field>``. ``_from:<field>`` records the member
    (its ``_seq``) each golden value came from. ``quality`` ranks a field's values before the rule does (a
    full name before a salutation).
    """
    if isinstance(frame, list):
        frame = frame.pop()
    rules = rules or {}
    columns = [c for cols in fields.values() for c in cols]
    frame = _rule_inputs(frame, fields, rules, recency)
    frame = frame.with_columns(pl.when(pl.col(LABEL).is_not_null()).then(pl.len().over(LABEL)).alias("_size"))
    # Only clusters of several members need choosing; a record alone is its own golden record. Lazily, so
    # the sort and the aggregation touch only the columns the rules read.
    several = (
        frame.lazy()
        .filter(pl.col("_size") > 1)
        .select(
            LABEL,
            SEQ,
            RECORD_ID,
            *columns,
            *(_preference(frame, value, (quality or {}).get(value)) for value in fields),
        )
        .sort(SEQ)
        .collect()
        .lazy()
    )
    chosen = [e for value, cols in fields.items() for e in _from_one_member(value, cols)]
    survivors = several.filter(pl.col(LABEL) == pl.col(SEQ)).select(LABEL, pl.col(RECORD_ID).alias("_survivor"))
    chosen_lazy = several.group_by(LABEL).agg(*chosen).join(survivors, on=LABEL)
    for value in fields:
        if value in keep_others:
            chosen_lazy = chosen_lazy.join(_others(several, chosen_lazy, value), on=LABEL, how="left")
    golden = chosen_lazy.collect()
    # Each golden column is set beside the frame one at a time, through the position of each row's cluster
    # in `golden` (one join on the label): joining them all at once held every golden column at the frame's
    # length beside the old and the new ones (at 2M records the run's peak, 3.9 -> 6.7 GB).
    golden = golden.rename({c: f"{c}_golden" for c in golden.columns if c != LABEL and c in frame.columns})
    at = frame.select(LABEL).join(
        golden.select(LABEL).with_row_index("_g"), on=LABEL, how="left", maintain_order="left"
    )["_g"]

    def aligned(column: str) -> pl.Expr:
        return pl.lit(golden[column].gather(at))  # the cluster's golden value on each of its rows

    frame = frame.with_columns(aligned("_survivor").alias("_survivor"))
    labelled = pl.col(LABEL).is_not_null()
    is_survivor = pl.col(LABEL) == pl.col(SEQ)
    merged_away = labelled & ~is_survivor
    alone = is_survivor & (pl.col("_size") == 1)
    frame = frame.with_columns(
        pl.when(is_survivor)
        .then(pl.lit(WRITTEN))
        .when(labelled)
        .then(pl.lit(MERGED))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME),
        pl.when(merged_away)
        .then(pl.format("merged into {}", pl.col("_survivor")))
        .otherwise(pl.col(REASON))
        .alias(REASON),
        pl.when(labelled & ~alone).then(pl.col("_survivor")).otherwise(pl.col(RECORD_ID)).alias(RECORD_ID),
        pl.when(merged_away).then(pl.lit("duplicate")).otherwise(pl.col(RULE)).alias(RULE),
    )
    # Survivors carry the golden values; other rows keep their own (they are not written). A record alone
    # keeps its values, the parts of a field only with the field's value, as a chosen member's would (a
    # value column replaced before its parts is the same on the rows alone, so the order does not matter).
    own = {c: value for value, cols in fields.items() for c in cols}
    own |= {f"{FROM}{value.removeprefix('v:')}": value for value in fields}
    for c in columns:
        frame = frame.with_columns(
            pl.when(alone)
            .then(pl.when(pl.col(own[c]).is_not_null()).then(pl.col(c)))
            .when(is_survivor)
            .then(aligned(f"{c}_golden"))
            .otherwise(pl.col(c))
            .alias(c)
        )
    for c in golden.columns:
        if c.startswith(FROM):
            frame = frame.with_columns(
                pl.when(alone & pl.col(own[c]).is_not_null())
                .then(pl.col(SEQ))
                .when(is_survivor)
                .then(aligned(c))
                .alias(c)
            )
        elif c.startswith(OTHERS):
            frame = frame.with_columns(pl.when(is_survivor).then(aligned(c)).alias(c))
    helpers = [c for c in frame.columns if c.startswith("_rank:")] + ["_filled", "_size", "_survivor"]
    return frame.drop([c for c in helpers if c in frame.columns])


def _rule_inputs(
    frame: pl.DataFrame, fields: dict[str, list[str]], rules: dict[str, str], recency: str | None
) -> pl.DataFrame:
    """Per value column with a rule other than source priority, ``_rank:<value>``: higher is preferred."""
    values = list(fields)
    ranks = []
    for value, rule in rules.items():
        if value not in fields or rule == SOURCE_PRIORITY:
            continue
        if rule == "most_recent":
            date = (
                pl.col(recency).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
                if recency and recency in frame.columns
                else pl.lit(None, pl.Date)
            )
            rank = date.cast(pl.Int64).fill_null(-(10**6))
        elif rule == "most_complete":
            rank = pl.sum_horizontal([pl.col(v).is_not_null().cast(pl.Int64) for v in values])
        elif rule == "most_frequent":
            rank = pl.when(pl.col(value).is_not_null()).then(pl.len().over(LABEL, value)).otherwise(0)
        elif rule == "longest":
            rank = pl.col(value).str.len_chars().fill_null(0)
        else:
            raise ValueError(f"unknown survivorship rule {rule}")
        ranks.append(rank.cast(pl.Int64).alias(f"_rank:{value}"))
    return frame.with_columns(ranks) if ranks else frame


def _preference(frame: pl.DataFrame, value: str, quality: pl.Expr | None = None) -> pl.Expr:
    """``_pref:<value>``, per row: how much its value of the field is preferred. A valid value beats an
    invalid one, a filled one an empty one; within a tier the value's quality, then the rule's rank (none for
    source priority)."""
    filled = pl.col(value).is_not_null()
    reason = why(value.removeprefix("v:"))
    valid = filled & pl.col(reason).is_null() if reason in frame.columns else filled
    tier = pl.when(valid).then(2).when(filled).then(1).otherwise(0).cast(pl.Int64)
    if quality is not None:
        tier = tier * 16 + pl.when(filled).then(quality.fill_null(0)).otherwise(0).cast(pl.Int64)
    rank = f"_rank:{value}"
    preference = tier * (10**12) + pl.col(rank) if rank in frame.columns else tier  # ranks stay far below 10**12
    return preference.alias(f"_pref:{value}")


def _from_one_member(value: str, columns: list[str]) -> list[pl.Expr]:
    """The field's columns from the member its `_preference` puts first; ties, and the source_priority
    rule, go to the first in priority order (the members are sorted by it)."""
    index = pl.col(f"_pref:{value}").arg_max()
    filled = pl.col(value).is_not_null().any()
    name = value.removeprefix("v:")
    return [pl.when(filled).then(pl.col(c).get(index)).alias(c) for c in columns] + [
        pl.when(filled).then(pl.col(SEQ).get(index)).alias(f"{FROM}{name}")
    ]


def _others(members: pl.LazyFrame, golden: pl.LazyFrame, value: str) -> pl.LazyFrame:
    """Per cluster, the distinct values of ``value`` its members hold other than the golden one, in
    priority order (``members`` is sorted by it), "; "-separated."""
    name = value.removeprefix("v:")
    held = members.select(LABEL, value).drop_nulls(value).unique([LABEL, value], keep="first", maintain_order=True)
    # The join keeps the members' order: it is the priority order the values are listed in, the same every run.
    return (
        held.join(golden.select(LABEL, pl.col(value).alias("_chosen")), on=LABEL, maintain_order="left")
        .filter(pl.col(value) != pl.col("_chosen").fill_null(""))
        .group_by(LABEL, maintain_order=True)
        .agg(pl.col(value).str.join("; ").alias(f"{OTHERS}{name}"))
    )
