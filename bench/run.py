"""The whole CLI run at scale, as users run it: ``python -m crm_migrate run PROJECT`` with every output
written (import files, review workbook, report, lineage, provenance, rejects, manifest), each size in a fresh
process, its wall seconds and peak resident memory taken from that process alone (os.wait4).

Two kinds of data: ``demo``, the demo generator's projects (bench/data/r<rows>/, as bench/dedupe.py builds
them; accounts and contacts scored; ``rows`` counts their account and contact records as bench/dedupe.py
does, and ``source_rows`` all the sources' rows, opportunities and activities too) and ``febrl``, Febrl-like
people in one source (bench/data/febrl-<rows>/, built by bench/febrl.py; contacts scored). After the date
and the machine it prints, per kind and size:

    run kind=<k> rows=<n> seconds=<s> peak_mb=<m> precision=<p> recall=<r> f1=<f> entity=<e> records=<n>
        source_rows=<n> bars: ...
    plan|dry-run kind=demo rows=<n> seconds=<s> peak_mb=<m> exit=<x> ratio_to_run=<r>
    verify kind=demo rows=<n> entity=accounts sent=<n> export_rows=<n> ... seconds=<s> peak_mb=<m>
    splink kind=febrl rows=<n> seconds=<s> wall_seconds=<s> peak_mb=<m> precision=... ratio ours/splink=<x>

and per kind a ``growth`` line: the exponents of time and of peak memory from the smallest size to the
largest (log of their ratio over log of the rows' ratio; 1.0 is linear) and the recall change. The bars the
issue sets are printed beside the figures, not enforced. Precision, recall and F1 are pairwise, of the
clusters the run wrote (out/lineage.csv: each source row's golden record) against the truth, over the rows
that entered matching (written or merged), as bench/dedupe.py counts them. Splink (4, DuckDB) deduplicates
the same Febrl-like records in a fresh process of its own, its seconds being training, prediction and
clustering (bench/splink_dedupe.py). ``verify`` gets an export made from the run's own accounts import
files: read back, a few values changed on purpose, dates given back with a time, rows in another order,
and lengthened to the size's rows with copies under new external ids where the run wrote fewer accounts;
the line says how many of each verify found.

    python bench/run.py                                  # both kinds at 100k, 300k and 1M rows
    python bench/run.py --sizes 100000,300000 --kind febrl
    python bench/run.py --kind demo --stages run         # the run alone, no plan, dry-run or verify
    python bench/run.py --no-splink

Data sets are built once, then reused. Needs the benchmark extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

SIZES = (100_000, 300_000, 1_000_000)
STAGES = ("run", "plan", "dry-run", "verify")
SCORED = {"demo": ("accounts", "contacts"), "febrl": ("contacts",)}
RUN_SECONDS, RUN_MB, GROWTH, RECALL_DRIFT = 120, 4096, 1.1, 0.002  # the bars, at 1M rows
PLAN_RATIO, DRY_RUN_RATIO, VERIFY_SECONDS, SPLINK_RATIO = 0.6, 1.0, 60, 0.5
CHANGES = 5  # values the verify export changes on purpose
ENV = dict(os.environ, PYTHONPATH=str(ROOT))  # this checkout's crm_migrate, whatever is installed


@dataclass
class Timed:
    exit: int
    seconds: float
    peak_mb: float
    log: Path


def timed(command: list[str], log: Path) -> Timed:
    """Run ``command`` in a process started for it alone; its wall time and its own peak RSS (ru_maxrss,
    KiB on Linux, from wait4 on that pid, so neither this process nor an earlier child counts)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as f:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Timed(child.returncode, seconds, usage.ru_maxrss / 1024, log)


def result_of(log: Path) -> dict:
    """The JSON a child of this script printed last (``RESULT {...}``)."""
    for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise SystemExit(f"no result in {log}:\n" + log.read_text(encoding="utf-8", errors="replace")[-3000:])


def helper(name: str, *args: object, log: Path) -> dict:
    """One of this script's own steps (building data, scoring, making the export) in a child process, so
    this process stays small: a child starts with its parent's peak memory counted as its own."""
    done = timed([sys.executable, __file__, "--child", name, *map(str, args)], log)
    if done.exit:
        raise SystemExit(f"{name} failed, see {log}:\n" + log.read_text(errors="replace")[-3000:])
    return result_of(log)


def cli(verb: str, project: Path, *args: str, log: Path) -> Timed:
    return timed([sys.executable, "-m", "crm_migrate", verb, str(project), *args], log)


def bar(value: float, limit: float, applies: bool = True, unit: str = "") -> str:
    """The bar beside a figure: ``<=120s`` where it does not apply at this size, ``<=120s met`` where it does."""
    text = f"<={limit}{unit}"
    return f"{text} {'met' if value <= limit else 'MISSED'}" if applies else f"{text} at 1M"


# -- the children ---------------------------------------------------------------------------------


def child_data(kind: str, rows: str) -> dict:
    if kind == "demo":
        from dedupe import scaled_project

        return {"project": str(scaled_project(int(rows)))}
    from febrl import febrl_like_project

    return {"project": str(febrl_like_project(int(rows)))}


def child_score(kind: str, project: str) -> dict:
    """Pairwise scores per entity of the clusters in the run's out/lineage.csv against truth/truth.csv."""
    import polars as pl
    from accuracy import pairwise
    from dedupe import demo_truth

    lineage = pl.read_csv(Path(project) / "out" / "lineage.csv", infer_schema=False)
    rows = demo_truth(lineage, Path(project)).filter(pl.col("outcome").is_in(["written", "merged"]))
    scores = {"source_rows": lineage.select("source", "sheet", "row").unique().height}
    for entity in SCORED[kind]:
        mine = rows.filter(pl.col("entity") == entity).rename({"record_id": "predicted"})
        s = pairwise(mine)
        scores[entity] = {"precision": s.precision, "recall": s.recall, "f1": s.f1, "records": mine.height}
    return scores


def child_export(project: str, rows: str, export: str) -> dict:
    """The target's export of the accounts the run sent: its import files read back, ``CHANGES`` values
    changed on purpose (each a rule verify names), dates given back with a time of day, rows reordered, and
    lengthened to ``rows`` with copies under new external ids where the run wrote fewer accounts."""
    import polars as pl

    out = Path(project) / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    key = manifest["target"]["external_id"]["accounts"]
    files = [o["path"] for o in manifest["outputs"] if "_accounts_" in o["path"] and o["path"].startswith("import/")]
    sent = pl.concat([pl.read_csv(out / p, infer_schema=False) for p in files])
    changes = {  # column -> (rule verify should give, the value changed)
        "name": ("truncated", lambda v: v[:6]),
        "phone": ("dropped", lambda v: None),
        "address": ("lost characters", lambda v: v[:3] + v[4:]),
        "industry": ("changed", lambda v: v + "服务"),
        "created_at": ("date moved", lambda v: str(dt.date.fromisoformat(v) + dt.timedelta(days=1))),
    }
    export_frame = sent.with_row_index("_i")
    planted = []
    for k, (column, (rule, change)) in enumerate(list(changes.items())[:CHANGES]):
        # The k-th change on a row of its own, the first after row k*997 with a value in that column.
        at = export_frame.filter((pl.col("_i") >= k * 997) & pl.col(column).is_not_null())["_i"][0]
        value = export_frame[column][at]
        export_frame = export_frame.with_columns(
            pl.when(pl.col("_i") == at).then(pl.lit(change(value), pl.String)).otherwise(pl.col(column)).alias(column)
        )
        planted.append(rule)
    dates = [c for c in ("created_at", "last_activity_at") if c in sent.columns]
    export_frame = export_frame.drop("_i").with_columns(
        pl.when(pl.col(c).is_not_null()).then(pl.col(c) + " 00:00:00").alias(c) for c in dates
    )
    copies = max(int(rows) - sent.height, 0)
    if copies:
        extra = (
            pl.concat([export_frame] * math.ceil(copies / sent.height))
            .head(copies)
            .with_columns((pl.lit("copy") + pl.int_range(pl.len()).cast(pl.String) + "_" + pl.col(key)).alias(key))
        )
        export_frame = pl.concat([export_frame, extra])
    export_frame = export_frame.sample(fraction=1.0, shuffle=True, seed=15)
    Path(export).parent.mkdir(parents=True, exist_ok=True)
    export_frame.write_csv(export)
    return {"sent": sent.height, "rows": export_frame.height, "copies": copies, "planted": planted}


def child_splink(project: str) -> dict:
    """Splink on the Febrl-like records of ``project``, as they are in its CSV (Febrl's values are already
    lower case and unpunctuated): its seconds and pairwise scores."""
    import polars as pl
    from accuracy import pairwise
    from splink_dedupe import splink_dedupe

    root = Path(project)
    records = pl.read_csv(root / "data" / "febrl.csv", infer_schema=False)
    truth = pl.read_csv(root / "truth" / "truth.csv", infer_schema=False)
    folder = root / "bench_run"
    folder.mkdir(exist_ok=True)
    path = folder / "splink_febrl.parquet"
    records.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("unique_id"),
        truth["truth"],
        "name",
        "address",
        "suburb",
        "postcode",
        "state",
        pl.col("date_of_birth").alias("birthday"),
        "soc_sec_id",
    ).write_parquet(path)
    scored, seconds = splink_dedupe(
        path,
        ("soc_sec_id", "birthday", "postcode", "suburb"),
        ("soc_sec_id",),
        folder / "splink_febrl_clusters.parquet",
    )
    s = pairwise(scored)
    return {"seconds": seconds, "precision": s.precision, "recall": s.recall, "f1": s.f1, "records": scored.height}


CHILDREN = {"data": child_data, "score": child_score, "export": child_export, "splink": child_splink}


# -- the figures ----------------------------------------------------------------------------------


def measure_size(kind: str, rows: int, stages: set[str], splink: bool) -> dict | None:
    """Print the lines of one kind at one size; return what the growth line needs."""
    project = Path(helper("data", kind, rows, log=ROOT / "bench" / "data" / f"build-{kind}-{rows}.log")["project"])
    logs = project / "bench_run"
    for left in ("out", "state"):  # a run from scratch: no earlier dry run in its report, no state to be a delta of
        if (project / left).exists():
            shutil.rmtree(project / left)
    ran = cli("run", project, log=logs / "run.log")
    head = f"kind={kind} rows={rows}"
    if ran.exit:
        print(
            f"run {head} exit={ran.exit} seconds={ran.seconds:.1f} peak_mb={ran.peak_mb:.0f} failed: see {ran.log}",
            flush=True,
        )
        return None
    big = rows >= 1_000_000
    scores = helper("score", kind, project, log=logs / "score.log")
    source_rows = scores.pop("source_rows")
    for entity, s in scores.items():
        print(
            f"run {head} seconds={ran.seconds:.1f} peak_mb={ran.peak_mb:.0f} precision={s['precision']:.4f} "
            f"recall={s['recall']:.4f} f1={s['f1']:.4f} entity={entity} records={s['records']} "
            f"source_rows={source_rows} "
            f"bars: seconds {bar(ran.seconds, RUN_SECONDS, big)}, peak_mb {bar(ran.peak_mb, RUN_MB, big)}",
            flush=True,
        )
    if kind == "demo":
        for verb, limit in (("plan", PLAN_RATIO), ("dry-run", DRY_RUN_RATIO)):
            if verb in stages:
                t = cli(verb, project, log=logs / f"{verb}.log")
                ratio = t.seconds / ran.seconds
                print(
                    f"{verb} {head} seconds={t.seconds:.1f} peak_mb={t.peak_mb:.0f} exit={t.exit} "
                    f"ratio_to_run={ratio:.2f} bar {bar(ratio, limit)}",
                    flush=True,
                )
        if "verify" in stages:
            verify_line(head, project, rows, big)
    if kind == "febrl" and splink:
        t = timed([sys.executable, __file__, "--child", "splink", str(project)], logs / "splink.log")
        if t.exit:
            print(f"splink {head} exit={t.exit} failed: see {t.log}", flush=True)
        else:
            s = result_of(t.log)
            ratio = ran.seconds / s["seconds"]
            print(
                f"splink {head} seconds={s['seconds']:.1f} wall_seconds={t.seconds:.1f} peak_mb={t.peak_mb:.0f} "
                f"precision={s['precision']:.4f} recall={s['recall']:.4f} f1={s['f1']:.4f} entity=contacts "
                f"ratio ours/splink={ratio:.2f} bar {bar(ratio, SPLINK_RATIO)}",
                flush=True,
            )
    return {
        "rows": rows,
        "seconds": ran.seconds,
        "peak_mb": ran.peak_mb,
        "recall": {e: s["recall"] for e, s in scores.items()},
    }


def verify_line(head: str, project: Path, rows: int, big: bool) -> None:
    logs = project / "bench_run"
    export = logs / "accounts_export.csv"
    made = helper("export", project, rows, export, log=logs / "export.log")
    t = cli("verify", project, "--entity", "accounts", "--exported", str(export), log=logs / "verify.log")
    report = project / "out" / "verify" / "accounts.json"
    found = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    rules = found.get("differences", {})
    caught = sum(1 for r in set(made["planted"]) if rules.get(r))
    print(
        f"verify {head} entity=accounts sent={made['sent']} export_rows={made['rows']} "
        f"(copies under new ids {made['copies']}) seconds={t.seconds:.1f} peak_mb={t.peak_mb:.0f} exit={t.exit} "
        f"found: differences={sum(rules.values())} of {len(made['planted'])} planted, rules {caught} of "
        f"{len(made['planted'])}, missing={found.get('missing')} extra={found.get('extra')} "
        f"bar seconds {bar(t.seconds, VERIFY_SECONDS, big)}",
        flush=True,
    )


def growth_line(kind: str, figures: list[dict]) -> None:
    if len(figures) < 2:
        return
    small, large = figures[0], figures[-1]
    span = math.log(large["rows"] / small["rows"])
    time_exp = math.log(large["seconds"] / small["seconds"]) / span
    memory_exp = math.log(large["peak_mb"] / small["peak_mb"]) / span
    drift = " ".join(f"{e}={large['recall'][e] - small['recall'][e]:+.4f}" for e in large["recall"])
    applies = small["rows"] <= 100_000 and large["rows"] >= 1_000_000
    print(
        f"growth kind={kind} rows={small['rows']}..{large['rows']} time_exponent={time_exp:.2f} "
        f"memory_exponent={memory_exp:.2f} recall_change {drift} bars: exponents {bar(max(time_exp, memory_exp), GROWTH)}, "
        f"recall change within {RECALL_DRIFT} from 100k to 1M"
        + (
            " "
            + (
                "met"
                if all(abs(large["recall"][e] - small["recall"][e]) <= RECALL_DRIFT for e in large["recall"])
                else "MISSED"
            )
            if applies
            else ""
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="source rows, comma-separated")
    parser.add_argument("--kind", choices=["demo", "febrl", "both"], default="both")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="of the demo kind, besides the run: plan, dry-run, verify (comma-separated)",
    )
    parser.add_argument("--no-splink", action="store_true", help="leave Splink out (febrl kind)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        print("RESULT " + json.dumps(CHILDREN[name](*rest)), flush=True)
        return
    from memory import machine

    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}", flush=True)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    stages = set(args.stages.split(","))
    for kind in ["demo", "febrl"] if args.kind == "both" else [args.kind]:
        figures = [f for rows in sizes if (f := measure_size(kind, rows, stages, not args.no_splink))]
        growth_line(kind, figures)


if __name__ == "__main__":
    main()
