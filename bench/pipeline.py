"""Throughput of a whole run on a generated project: prints seconds per stage and per million source rows.

python bench/pipeline.py --companies 100000      # about 600k rows by entity
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from generated import generator

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    project = ROOT / "bench" / "data" / f"c{args.companies}"
    t0 = time.perf_counter()
    generator().generate(project, args.companies, args.seed)
    generated = time.perf_counter() - t0

    from crm_migrate.migrate.run import run
    from crm_migrate.project import load_project

    t0 = time.perf_counter()
    result = run(load_project(project), project / "out")
    total = time.perf_counter() - t0
    rows = sum(r["read"] for r in result.reconciliation.rows())
    source_rows = sum(r.rows for r in result.migration.reads)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings = " ".join(f"{k}={v:.2f}s" for k, v in result.migration.timings.items())
    print(f"companies={args.companies} source_rows={source_rows} rows_by_entity={rows} generate={generated:.1f}s")
    print(f"run total={total:.2f}s {timings}")
    print(
        f"per_million_rows_by_entity={total / rows * 1e6:.1f}s peak_mb={peak_mb:.0f} "
        f"balanced={result.reconciliation.balanced}"
    )


if __name__ == "__main__":
    main()
