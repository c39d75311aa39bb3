"""The run refuses early, with a message, when its sources will not fit in the memory it may use."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crm_migrate.mappings.sizes import parse_size
from crm_migrate.migrate import memory

SIGNUPS = "file: data/s.csv\nentities:\n  contacts:\n    columns: {姓名: name, 手机: mobile}\n"
ROWS = "姓名,手机\n" + "".join(f"张伟{i},1391234{i:04d}\n" for i in range(2000))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crm_migrate", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "text, size",
    [
        ("8GB", 8 * 2**30),
        ("512 MB", 512 * 2**20),
        ("6GiB", 6 * 2**30),
        ("1000000", 1_000_000),
        ("1.5g", int(1.5 * 2**30)),
        ("none", None),
    ],
)
def test_sizes_as_a_project_writes_them(text, size):
    assert parse_size(text) == size


def test_a_run_that_will_not_fit_stops_before_reading_with_the_figures(make_project):
    root = make_project("name: t\noptions:\n  memory_limit: 1MB\n", {"s": SIGNUPS}, {"data/s.csv": ROWS})
    done = _cli("run", str(root))
    assert done.returncode == 1, done.stderr
    assert (
        "migration.yaml:3: error: the sources (" in done.stderr
        and "more than the 1.0 MB of options.memory_limit" in done.stderr
        and "split the sources into waves" in done.stderr
    )
    assert not (root / "out").exists()
    assert _cli("plan", str(root)).returncode == 1  # plan reads everything too


def test_a_run_that_fits_or_a_limit_of_none_runs(make_project):
    for limit in ("8GB", "none"):
        root = make_project(f"name: t\noptions:\n  memory_limit: {limit}\n", {"s": SIGNUPS}, {"data/s.csv": ROWS})
        done = _cli("run", str(root))
        assert done.returncode == 0, done.stderr


def test_a_size_that_is_not_one_is_a_validate_error(make_project):
    root = make_project("name: t\noptions:\n  memory_limit: lots\n", {"s": SIGNUPS}, {"data/s.csv": ROWS})
    done = _cli("validate", str(root))
    assert done.returncode == 1 and "'lots' is not a size" in done.stdout + done.stderr


def test_an_address_space_limit_counts_at_half(monkeypatch):
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda what: (6 * 2**30, resource.RLIM_INFINITY))
    have, source = memory.available()
    assert have == 3 * 2**30 and "ulimit -v" in source


def test_the_estimate_grows_with_the_sources(tmp_path):
    small, big = tmp_path / "a.csv", tmp_path / "b.csv"
    small.write_text(ROWS, encoding="utf-8")
    big.write_text(ROWS * 10, encoding="utf-8")
    assert memory.estimate([big]) - memory.BASE == 10 * (memory.estimate([small]) - memory.BASE)


def test_compact_keeps_every_value_and_type():
    import polars as pl

    from crm_migrate.migrate.pipeline import compact

    a = pl.DataFrame({"id": ["1", "2"], "note": [None, None], "n": [1, None]}, schema_overrides={"note": pl.String})
    b = pl.DataFrame({"id": ["3"], "other": ["x"]})
    frame = pl.concat([a, b], how="diagonal_relaxed", rechunk=True)  # 'note' materialised, 'other' partly set
    out = compact(frame)
    assert out.schema == frame.schema and out.equals(frame)
    assert out["note"].null_count() == 3 and out["other"].to_list() == [None, None, "x"]
    assert compact(frame.head(0)).schema == frame.schema
