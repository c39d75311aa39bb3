"""Splink 4 (DuckDB backend) deduplicating one file of records, for the benchmark scripts to compare with.

Used by bench/dedupe.py (the cleaned keys our matching saw) and bench/run.py (the Febrl-like records); not a
script of its own. Comparisons as close to ours as Splink's library allows: Jaro-Winkler on the name and the
address, exact matches on codes, phones, emails and dates; trained the way Splink's documentation shows
(the prior from deterministic rules, u by random sampling, m by EM over the first two blocking rules).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

NOT_RECORD_FIELDS = ("unique_id", "truth", "source", "sheet", "row")


def splink_dedupe(
    path: Path, exact: Sequence[str], identifiers: Sequence[str], out: Path
) -> tuple[pl.DataFrame, float]:
    """Cluster the records of the parquet file ``path`` (columns unique_id, truth, name, and any of
    ``exact`` and address) and return (unique_id, truth, predicted) with the seconds of training, prediction
    and clustering. ``identifiers`` are the exact columns also used as blocking rules, where some records
    share a value (a rule that yields no pairs cannot train anything). The clusters are written to ``out``."""
    import duckdb
    import splink.comparison_library as cl

    logging.getLogger("splink").setLevel(logging.ERROR)  # its training narrative would bury the figures
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    data = pl.read_parquet(path)
    present = set(data.columns)
    fields = ", ".join(["unique_id"] + [c for c in data.columns if c not in NOT_RECORD_FIELDS])
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"create table records as select {fields} from read_parquet('{path}')")
    comparisons = [cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.75])]
    comparisons += [cl.ExactMatch(c) for c in exact if c in present]
    if "address" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("address", [0.95, 0.85, 0.7]))
    shared = [c for c in identifiers if c in present and data[c].drop_nulls().is_duplicated().any()]
    rules = [block_on("name")] + [block_on(c) for c in shared]
    if "address" in present:
        rules.append(block_on("substr(name, 1, 2)", "address"))
    settings = SettingsCreator(
        link_type="dedupe_only", comparisons=comparisons, blocking_rules_to_generate_predictions=rules
    )
    linker = Linker("records", settings, db_api=DuckDBAPI(connection=con))
    deterministic = [block_on("name", c) for c in shared] or [block_on("name")]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    for rule in rules[:2]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    con.execute(f"copy (select unique_id, cluster_id from {clusters.physical_name}) to '{out}' (format parquet)")
    labels = pl.read_parquet(out)
    seconds = time.perf_counter() - started
    con.close()
    scored = data.select("unique_id", "truth").join(
        labels.with_columns(pl.col("unique_id").cast(data["unique_id"].dtype)), on="unique_id", how="left"
    )
    return scored.rename({"cluster_id": "predicted"}), seconds
