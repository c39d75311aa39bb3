"""Cleaning throughput: the generator's account and contact sources (about 1M rows at the default size)
through every typed field, with scope, test-record and required rules, as a run does them.

    python bench/clean.py                    # prints per-field figures, then the summary line last
    python bench/clean.py --companies 20000  # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

from generated import generated_project

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["old_crm_accounts", "old_crm_contacts", "sales_workbook", "event_signups", "address_book"]


def generated(companies: int) -> Path:
    return generated_project(f"c{companies}", companies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=330000, help="330k companies give about 1M rows")
    args = parser.parse_args()
    project_dir = generated(args.companies)

    from crm_migrate.cleaners import CleanContext
    from crm_migrate.migrate.extract import extract
    from crm_migrate.migrate.readers import read_source
    from crm_migrate.project import load_project

    project = load_project(project_dir)
    sources = [s for s in project.sources if s.name in SOURCES]
    t0 = time.perf_counter()
    tables = {s.name: read_source(s) for s in sources}
    read_seconds = time.perf_counter() - t0
    rows = sum(t.frame.height for t in tables.values())
    ctx = CleanContext()
    today = dt.date(2026, 6, 30)
    t0 = time.perf_counter()
    for s in sources:
        for plan in s.entities:
            started = time.perf_counter()
            extract(s, tables[s.name], plan, 0, ctx, today)  # (frame, errors, warnings): timed, not kept
            print(
                f"  {s.name}.{plan.entity.value}: {tables[s.name].frame.height} rows, "
                f"{len(plan.fields)} fields, {time.perf_counter() - started:.2f}s"
            )
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"read rows={rows} seconds={read_seconds:.2f}")
    print(f"clean rows={rows} seconds={seconds:.2f} rows_per_second={rows / seconds:.0f} peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
