"""Time and peak memory of the review workbook alone, on a synthetic entity result: many merged clusters (most
with a scored pair, some merged by identity), review-band pairs between them, and singletons.

No project and no matching: the frame and the pairs are made up directly (numpy and polars), then
``write_workbook`` (and the full list of groups, if it returns one) is written to a temporary folder:

    PYTHONPATH=. python bench/review.py                              # 200,000 records, 60,000 clusters
    PYTHONPATH=. python bench/review.py --records 1000000 --clusters 282614 --review 7768
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_migrate.mappings.entities import Entity, FieldSpec, FieldType  # noqa: E402
from crm_migrate.mappings.models import MatchingOptions  # noqa: E402
from crm_migrate.migrate.columns import MERGED, OUTCOME, RECORD_ID, RULE, SEQ, SOURCE, WRITTEN, raw, val  # noqa: E402
from crm_migrate.migrate.comparisons import Comparison  # noqa: E402
from crm_migrate.migrate.match import MatchResult  # noqa: E402
from crm_migrate.migrate.pipeline import EntityResult  # noqa: E402
from crm_migrate.migrate.readers import ROW, SHEET  # noqa: E402

FIELDS = [
    FieldSpec("name", FieldType.company_name, "名称"),
    FieldSpec("phone", FieldType.phone, "电话"),
    FieldSpec("id_number", FieldType.id_card, "证件号", sensitive=True),
    FieldSpec("note", FieldType.text, "备注"),
]
COMPARISONS = [
    Comparison(name, 3, lambda sides: np.zeros(0), (name,), labels=("different", "similar", "same"))
    for name in ("name", "phone", "address")
]


def build(records: int, clusters: int, review: int, seed: int = 7) -> EntityResult:
    rng = np.random.default_rng(seed)
    # cluster c takes members 2..4; the records after the clustered ones are singletons
    sizes = rng.integers(2, 5, clusters)
    sizes = sizes[np.cumsum(sizes) <= records * 0.8]
    clustered = int(sizes.sum())
    owner = np.concatenate(
        [np.repeat(np.arange(len(sizes)), sizes), np.arange(len(sizes), len(sizes) + records - clustered)]
    )
    order = rng.permutation(records)  # members of a cluster lie anywhere in the source
    owner = owner[order]
    first = pl.DataFrame({"o": owner}).with_row_index("i").group_by("o").agg(pl.col("i").min().alias("f"))
    seq = np.arange(records, dtype=np.int64)
    frame = (
        pl.DataFrame({SEQ: seq, "o": owner})
        .join(first, on="o", how="left")
        .with_columns(
            pl.format("r{}", pl.col("f")).alias(RECORD_ID),
            pl.when(pl.col(SEQ) == pl.col("f")).then(pl.lit(WRITTEN)).otherwise(pl.lit(MERGED)).alias(OUTCOME),
            pl.lit("accounts.csv").alias(SOURCE),
            pl.lit(None, pl.String).alias(SHEET),
            (pl.col(SEQ) + 2).alias(ROW),
            pl.when(pl.col("o") % 10 == 0).then(pl.lit("duplicate")).otherwise(pl.lit("match")).alias(RULE),
            pl.format("北京星辰科技{}有限公司", pl.col("o")).alias(raw("name")),
            pl.format("010-6{}", (pl.col(SEQ) % 10_000_000).cast(pl.String).str.zfill(7)).alias(raw("phone")),
            pl.when(pl.col(SEQ) % 50 == 0).then(pl.lit("11010519900307002X")).alias(raw("id_number")),
            pl.when(pl.col(SEQ) % 97 == 0).then(pl.lit("客户身份证 11010519900307002X")).alias(raw("note")),
        )
        .with_columns([pl.col(raw(s.name)).alias(val(s.name)) for s in FIELDS])
        .drop("o", "f")
    )
    # one scored pair per clustered record after the first (to the first), unless merged by identity
    members = frame.filter(pl.col(RULE) == "match").select(SEQ, RECORD_ID)
    firsts = frame.filter(pl.col(OUTCOME) == WRITTEN).select(pl.col(SEQ).alias("l"), RECORD_ID)
    merge = (
        members.join(firsts, on=RECORD_ID)
        .filter(pl.col("l") != pl.col(SEQ))
        .select(pl.min_horizontal("l", SEQ).alias("l"), pl.max_horizontal("l", SEQ).alias("r"))
    )
    merge = merge.with_columns(pl.Series("probability", rng.uniform(0.95, 1.0, merge.height)))
    a = rng.integers(0, records, review)
    b = rng.integers(0, records, review)
    band = pl.DataFrame(
        {"l": np.minimum(a, b), "r": np.maximum(a, b), "probability": rng.uniform(0.6, 0.95, review)}
    ).filter(pl.col("l") != pl.col("r"))
    pairs = pl.concat([merge, band]).with_columns(pl.col("l").cast(pl.UInt32), pl.col("r").cast(pl.UInt32))
    n = pairs.height
    for comp in COMPARISONS:
        pairs = pairs.with_columns(
            pl.Series(f"level:{comp.name}", rng.integers(-1, 3, n), dtype=pl.Int8),
            pl.Series(f"weight:{comp.name}", rng.normal(2, 3, n)),
        )
    settings = MatchingOptions()
    return EntityResult(Entity.accounts, frame, FIELDS, MatchResult(pairs, COMPARISONS), settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--clusters", type=int, default=60_000)
    parser.add_argument("--review", type=int, default=None, help="review-band pairs (default: clusters / 36)")
    parser.add_argument("--max-rows", type=int, default=None, help="options.review.max_rows (default: its default)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = build(args.records, args.clusters, args.review or args.clusters // 36)
    built = time.perf_counter() - t0
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from crm_migrate.mappings.models import Options, ReviewOptions
    from crm_migrate.migrate import review

    options = Options(review=ReviewOptions(max_rows=args.max_rows)) if args.max_rows else Options()
    migration = SimpleNamespace(
        entities={Entity.accounts: result},
        secret=b"bench-secret" * 3,
        project=SimpleNamespace(config=SimpleNamespace(options=options)),
    )
    builder = None
    if hasattr(review, "sheet_frame"):  # the whole-frame builder: its share of the time, without xlsxwriter
        t0 = time.perf_counter()
        found = review.groups(result, options.review.max_rows)
        shown = review.sheet_frame(found, result, "accounts", migration.secret, False)
        builder = (time.perf_counter() - t0, found.keys.height, found.listed, shown.height)
        del found, shown
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_workbook = review.write_workbook  # builds each entity's sheet, then reports/ writes it
        written = write_workbook(Path(tmp) / "review" / "duplicates.xlsx", migration)
        groups = getattr(written, "groups", None)
        if groups is not None:
            from crm_migrate.cleaners.masking import mask_frame
            from crm_migrate.migrate.output_frames import write_csv

            write_csv(mask_frame(groups, False, ("record_id",)), Path(tmp) / "review" / "duplicate_groups.csv")
        seconds = time.perf_counter() - t0
        size = (Path(tmp) / "review" / "duplicates.xlsx").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.processor() or ''}")
    print(f"records {args.records:,}, frame built in {built:.1f} s (peak RSS then {rss_built:,.0f} MB)")
    if builder is not None:
        print(
            f"groups + sheet_frame: {builder[0]:.1f} s for {builder[1]:,} groups, {builder[2]:,} listed "
            f"in {builder[3]:,} rows"
        )
    print(f"write_workbook: {seconds:.1f} s, workbook {size / 1e6:.1f} MB, peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
