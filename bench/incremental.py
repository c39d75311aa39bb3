"""Issue 18 item 4: new records matched against what was migrated (``run --incremental``).

1. Accuracy: a demo-generator project (default: a copy of bench/data/g2000 in a temporary folder) is split
   80/20: the last 20% of the data rows of each CSV source become a new source file (its own mapping, the
   same system). A full run on 100% is scored against the truth, and so is a full run on the 80% followed by
   ``--incremental`` on the 20% (the lineage of both runs together, the new files' rows read as the rows they
   were cut from): pairwise precision, recall and F1 per entity, and the difference. The sources that are not
   CSV (the workbook, the address book, the follow-up log) stay whole in the 80%.
2. Time (``--big DIR``, e.g. bench/data/r1000000, copied to a temporary folder, never written in place): the
   last ``--new-rows`` rows of the event sign-ups held back, a full run on the rest (the state of about 1M
   migrated records), then ``crm-migrate run --incremental`` on the held-back rows timed as a fresh process,
   with its peak RSS.

    python bench/incremental.py                       # accuracy on g2000
    python bench/incremental.py --big bench/data/r1000000 --skip-accuracy
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import pairwise  # noqa: E402
from dedupe import demo_truth  # noqa: E402

from crm_migrate.migrate.run import run  # noqa: E402
from crm_migrate.project import load_project  # noqa: E402

NEW = "_new"  # suffix of the held-back sources
# The CLI in a fresh process that says its own peak resident memory on its last line of stderr.
PEAK = (
    "import resource, runpy, sys\nsys.argv = ['crm-migrate', *sys.argv[1:]]\ntry:\n"
    "    runpy.run_module('crm_migrate', run_name='__main__')\nfinally:\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    print('peak_kb=%d cpu_s=%.1f' % (u.ru_maxrss, u.ru_utime + u.ru_stime), file=sys.stderr)"
)


def split(project: Path, share: float, only: set[str] | None = None, rows: int | None = None) -> dict[str, int]:
    """Cut the last ``share`` (or ``rows``) data rows of each CSV source (of ``only``) into a new file with its
    own mapping, not yet listed in migration.yaml; return per new source the rows kept before it (its row r
    is the original's r + kept)."""
    kept = {}
    for mapping in sorted((project / "mappings").glob("*.yaml")):
        text = mapping.read_text(encoding="utf-8")
        line = next((x for x in text.splitlines() if x.startswith("file:")), "")
        name = mapping.stem
        rel = line.split(":", 1)[1].split("#")[0].strip()
        if not rel.endswith(".csv") or (only and name not in only):
            continue
        path = project / rel
        lines = path.read_bytes().splitlines(keepends=True)
        header, data = lines[0], lines[1:]
        cut = len(data) - (rows if rows is not None else round(len(data) * share))
        new_rel = rel[:-4] + NEW + ".csv"
        path.write_bytes(b"".join([header, *data[:cut]]))
        (project / new_rel).write_bytes(b"".join([header, *data[cut:]]))
        (project / "mappings" / f"{name}{NEW}.yaml").write_text(
            text.replace(line, f"file: {new_rel}"), encoding="utf-8"
        )
        kept[name + NEW] = cut
    return kept


def list_new(project: Path, names: list[str]) -> None:
    """Add the new sources to migration.yaml's sources, after the others (the lowest priority)."""
    lines = (project / "migration.yaml").read_text(encoding="utf-8").splitlines()
    at = lines.index("sources:") + 1
    while at < len(lines) and lines[at].startswith("  - "):
        at += 1
    lines[at:at] = [f"  - {n}" for n in names]
    (project / "migration.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def hide(project: Path, names: list[str]) -> None:
    """Keep the new sources' mappings out of the folder for the 80% run (a project lists them by file too)."""
    for n in names:
        (project / "mappings" / f"{n}.yaml").rename(project / f"{n}.yaml.held")


def unhide(project: Path, names: list[str]) -> None:
    for n in names:
        (project / f"{n}.yaml.held").rename(project / "mappings" / f"{n}.yaml")


def scores(lineage: pl.DataFrame, project: Path) -> dict[str, tuple]:
    rows = demo_truth(lineage, project).filter(pl.col("outcome").is_in(["written", "merged"]))
    out = {}
    for entity in ("accounts", "contacts", "opportunities", "activities"):
        mine = rows.filter(pl.col("entity") == entity).rename({"record_id": "predicted"})
        if mine.height:
            s = pairwise(mine)
            out[entity] = (mine.height, s.precision, s.recall, s.f1)
    return out


def differing(whole: pl.DataFrame, together: pl.DataFrame, project: Path) -> dict[str, tuple[dict, int]]:
    """Per entity: the true pairs (same truth) one run put in one record and the other did not, the missed ones
    by where their rows were (old_old, old_new, new_new), and the number gained."""
    live = pl.col("outcome").is_in(["written", "merged"])
    at = ["source", "sheet", "row", "entity"]
    a = demo_truth(whole, project).filter(live).select(*at, "truth", pl.col("record_id").alias("pf"))
    b = demo_truth(together, project).filter(live).select(*at, pl.col("record_id").alias("pi"), "_new")
    rows = a.join(b, on=at, how="inner").with_row_index("_k")
    pairs = rows.join(rows, on=["entity", "truth"], suffix="_2").filter(pl.col("_k") < pl.col("_k_2"))
    out = {}
    for entity in ("accounts", "contacts", "opportunities", "activities"):
        mine = pairs.filter(pl.col("entity") == entity)
        missed = mine.filter((pl.col("pf") == pl.col("pf_2")) & (pl.col("pi") != pl.col("pi_2")))
        where = missed.select(
            pl.when(pl.col("_new") & pl.col("_new_2"))
            .then(pl.lit("new_new"))
            .when(pl.col("_new") | pl.col("_new_2"))
            .then(pl.lit("old_new"))
            .otherwise(pl.lit("old_old"))
            .alias("w")
        )["w"].value_counts()
        gained = mine.filter((pl.col("pf") != pl.col("pf_2")) & (pl.col("pi") == pl.col("pi_2"))).height
        out[entity] = ({w: int(c) for w, c in where.iter_rows()}, gained)
    return out


def proposed(lineage: pl.DataFrame, review: Path) -> pl.DataFrame:
    """``lineage`` with the records of the state each review row says are one (its state_record and
    also_state_records) under one record id, the smallest."""
    if not review.exists():
        return lineage
    table = pl.read_csv(review, infer_schema=False)
    if "also_state_records" not in table.columns:
        return lineage
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for record, also in (
        table.filter(pl.col("also_state_records").is_not_null())
        .select("state_record", "also_state_records")
        .iter_rows()
    ):
        for other in also.split(";"):
            a, b = sorted((root(record), root(other)))
            if a != b:
                parent[b] = a
    merges = review.parent / "state_merges.csv"  # records of the state a new contact or deal ties
    if merges.exists():
        for record, other in (
            pl.read_csv(merges, infer_schema=False)
            .filter(pl.col("same") == "true")
            .select("state_record", "other_state_record")
            .iter_rows()
        ):
            a, b = sorted((root(record), root(other)))
            if a != b:
                parent[b] = a
    if not parent:
        return lineage
    mapping = pl.DataFrame({"record_id": list(parent), "_to": [root(x) for x in parent]})
    return (
        lineage.join(mapping, on="record_id", how="left")
        .with_columns(pl.coalesce("_to", "record_id").alias("record_id"))
        .drop("_to")
    )


def accuracy(source: Path, share: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="crm-inc-"))
    full, part = work / "full", work / "split"
    shutil.copytree(source, full, ignore=shutil.ignore_patterns("out", "state", ".crm-migrate"))
    shutil.copytree(full, part)
    kept = split(part, share)
    names = sorted(kept)
    t0 = time.perf_counter()
    whole = run(load_project(full), work / "out-full")
    t_full = time.perf_counter() - t0
    hide(part, names)
    t0 = time.perf_counter()
    first = run(load_project(part), work / "out-80")
    t_80 = time.perf_counter() - t0
    unhide(part, names)
    list_new(part, names)
    t0 = time.perf_counter()
    later = run(load_project(part), work / "out-20", incremental=True)
    t_20 = time.perf_counter() - t0
    back = pl.DataFrame({"source": names, "_kept": [kept[n] for n in names]})
    translated = (
        later.lineage.join(back, on="source", how="left")
        .with_columns(
            pl.col("source").str.replace(f"{NEW}$", ""),
            (pl.col("row").cast(pl.Int64) + pl.col("_kept").fill_null(0)).alias("row"),
            pl.lit(True).alias("_new"),
        )
        .drop("_kept")
    )
    together = pl.concat(
        [first.lineage.with_columns(pl.lit(False).alias("_new")).select(translated.columns), translated],
        how="vertical_relaxed",
    )
    a, b = scores(whole.lineage, full), scores(together, full)
    new_rows = sum(r.rows for r in later.migration.reads)
    print(
        f"# accuracy: {source.name} split {1 - share:.0%}/{share:.0%} by rows of each CSV source "
        f"({new_rows:,} rows in {len(names)} new source(s)); pairwise scores of the clusters against the truth: "
        "full_f1 of one full run on 100%, incremental_f1 of a full run on the 80% and --incremental on the 20% "
        "(the lineage of both together)"
    )
    for entity in a:
        n, p, r, f = a[entity]
        n2, p2, r2, f2 = b.get(entity, (0, 0.0, 0.0, 0.0))
        print(
            f"incremental {entity} rows={n} full_f1={f:.4f} (p={p:.4f} r={r:.4f}) "
            f"incremental_f1={f2:.4f} (p={p2:.4f} r={r2:.4f}) diff={f2 - f:+.4f}"
        )
    print(
        "# the true pairs the full run put together and the 80% + incremental runs left apart, by where their two "
        "rows were: old_old (both in the 80%: the 80% run's own decision, or a new row whose cluster holds two "
        "records of the state, which it never merges: sent to review), old_new and new_new (the incremental matching's); and the reverse (gained)"
    )
    for entity, (missed, gained) in differing(whole.lineage, together, full).items():
        print(f"incremental differing {entity} missed {missed} gained {gained}")
    # How much of the difference the 80% run made on its own rows, before any new row: the full run's clusters
    # and the 80% run's, both over the rows of the 80% only.
    at = ["source", "sheet", "row", "entity"]
    old_rows = first.lineage.select(at)
    d, e = scores(whole.lineage.join(old_rows, on=at, how="semi", nulls_equal=True), full), scores(first.lineage, full)
    for entity in a:
        f, f4 = d.get(entity, (0, 0.0, 0.0, 0.0))[3], e.get(entity, (0, 0.0, 0.0, 0.0))[3]
        print(f"incremental old_rows_only {entity} full_f1={f:.4f} run_80_f1={f4:.4f} diff={f4 - f:+.4f}")
    merged = proposed(together, work / "out-20" / "review" / "incremental.csv")
    c = scores(merged, full)
    print(
        "# the same, had a steward merged in the CRM the records of the state that review/incremental.csv says a "
        "new row's cluster holds (state_record and also_state_records): what the run proposes, not what it wrote"
    )
    for entity in a:
        f, f3 = a[entity][3], c.get(entity, (0, 0.0, 0.0, 0.0))[3]
        print(f"incremental proposed {entity} incremental_f1={f3:.4f} diff={f3 - f:+.4f}")
    for entity, (missed, gained) in differing(whole.lineage, merged, full).items():
        print(f"incremental proposed differing {entity} missed {missed} gained {gained}")
    ties = pl.read_csv(work / "out-20" / "review" / "state_merges.csv", infer_schema=False)
    print(
        f"incremental state_merges pairs={ties.height} same={ties.filter(pl.col('same') == 'true').height} "
        "(pairs of the state's records that the new contacts and deals tie together: review/state_merges.csv; "
        "the proposed lines merge those marked same)"
    )
    print(f"incremental matched {later.batch.matched}")
    print(f"incremental seconds full_100={t_full:.1f} full_80={t_80:.1f} incremental_20={t_20:.1f} (in-process runs)")
    shutil.rmtree(work, ignore_errors=True)


def timing(big: Path, new_rows: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="crm-inc-big-"))
    project = work / big.name
    shutil.copytree(big, project, ignore=shutil.ignore_patterns("out", "state", ".crm-migrate"))
    kept = split(project, 0.0, only={"event_signups"}, rows=new_rows)
    names = sorted(kept)
    hide(project, names)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t_state, state_peak, state_cpu, _ = measured(["run", str(project), "-q"], env)
    unhide(project, names)
    list_new(project, names)
    seconds, peak, cpu, done = measured(["run", str(project), "--incremental"], env)
    state_mb = (project / "state" / "migration.sqlite").stat().st_size / 1e6
    print(
        f"# time: {big.name}, the last {new_rows:,} sign-up rows held back; each run a fresh process: wall clock "
        "from start to exit, CPU seconds (user + system, all threads) and peak resident memory"
    )
    print(
        f"incremental full_run seconds={t_state:.1f} cpu_s={state_cpu:.1f} peak_rss_mb={state_peak:.0f} "
        f"state_mb={state_mb:.0f} (the full run on the rest that records the state, the rows matching compared "
        "included)"
    )
    print(
        f"incremental time new_rows={new_rows} seconds={seconds:.1f} cpu_s={cpu:.1f} peak_rss_mb={peak:.0f} "
        "(`run --incremental`: starting Python, reading the state, the new rows, matching, writing out/ and "
        "recording the state)"
    )
    for line in done.stdout.splitlines():
        if "matched against the state" in line or "Batch" in line:
            print("  " + line.strip())
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def measured(args: list[str], env: dict) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """``crm-migrate ARGS`` in a fresh process: wall seconds, peak RSS in MB, CPU seconds, the process."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(1)
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    figures = dict(x.split("=") for x in last.split() if "=" in x)
    return (seconds, float(figures.get("peak_kb", "nan")) / 1024, float(figures.get("cpu_s", "nan")), done)


def machine() -> str:
    """Where the figures were measured: the date, the cores and the load when the bench started."""
    load = os.getloadavg()[0]
    return (
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average "
        f"{load:.1f} at the start (other processes share the cores: wall times grow with it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=ROOT / "bench" / "data" / "g2000")
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--big", type=Path, default=None)
    parser.add_argument("--new-rows", type=int, default=10_000)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the big project's copy")
    args = parser.parse_args()
    print(machine())
    if not args.skip_accuracy:
        accuracy(args.project, args.share)
    if args.big:
        timing(args.big, args.new_rows, args.keep)


if __name__ == "__main__":
    main()
