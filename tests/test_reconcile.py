"""The run's central promise, tested on its own: reconcile and check_written refuse what does not add up.

Each test feeds them lineage that is wrong in one way (a row missing, a row twice, a row without an outcome,
a written record missing from the import file, an import record no row was written as, a reader's count
that the independent line count contradicts), so that weakening either function fails here.
"""

from __future__ import annotations

import random

import polars as pl
import pytest

from crm_migrate.errors import ReconciliationError
from crm_migrate.migrate.readers.text import _records, count_records, read_csv
from crm_migrate.validators.reconcile import check_written, reconcile

FILES = {"crm": "data/a.csv"}


def lineage(*rows: tuple[int, str | None, str | None]) -> pl.DataFrame:
    """Lineage of source 'crm', entity accounts: (row, outcome, record id) per line."""
    return pl.DataFrame(
        {
            "source": ["crm"] * len(rows),
            "file": ["data/a.csv"] * len(rows),
            "sheet": [None] * len(rows),
            "row": [r for r, _, _ in rows],
            "entity": ["accounts"] * len(rows),
            "record_id": [i for _, _, i in rows],
            "outcome": [o for _, o, _ in rows],
            "reason": [None] * len(rows),
        },
        schema={
            "source": pl.String,
            "file": pl.String,
            "sheet": pl.String,
            "row": pl.Int64,
            "entity": pl.String,
            "record_id": pl.String,
            "outcome": pl.String,
            "reason": pl.String,
        },
    )


GOOD = [(2, "written", "a1"), (3, "merged", "a1"), (4, "rejected", None), (5, "filtered", None)]


def test_balanced_lineage_passes():
    result = reconcile(lineage(*GOOD), {"crm": 4}, {"crm": ["accounts"]}, FILES, {"crm": (4, 4)})
    assert result.balanced
    [row] = result.rows()
    assert (row["read"], row["written"], row["merged"], row["rejected"], row["filtered"]) == (4, 1, 1, 1, 1)
    check_written(lineage(*GOOD), {"accounts": {"a1"}})


def test_a_missing_row_is_refused():
    with pytest.raises(ReconciliationError) as exc:
        reconcile(lineage(*GOOD[:-1]), {"crm": 4}, {"crm": ["accounts"]}, FILES)
    [problem] = exc.value.problems
    assert problem.path == "data/a.csv" and "4 rows read but 3 accounted for" in problem.message


def test_a_row_counted_twice_is_refused():
    twice = [*GOOD[:-1], (4, "filtered", None)]  # row 5 lost, row 4 twice: the totals alone still add up
    with pytest.raises(ReconciliationError) as exc:
        reconcile(lineage(*twice), {"crm": 4}, {"crm": ["accounts"]}, FILES)
    assert "1 line(s) of lineage repeat a row" in exc.value.problems[0].message
    with pytest.raises(ReconciliationError):
        reconcile(lineage(*twice, (5, "filtered", None)), {"crm": 4}, {"crm": ["accounts"]}, FILES)


def test_a_row_without_an_outcome_is_refused():
    with pytest.raises(ReconciliationError):
        reconcile(lineage(*GOOD[:-1], (5, None, None)), {"crm": 4}, {"crm": ["accounts"]}, FILES)


def test_an_entity_with_no_lineage_at_all_is_refused():
    with pytest.raises(ReconciliationError, match="contacts: 4 rows read but 0"):
        reconcile(lineage(*GOOD), {"crm": 4}, {"crm": ["accounts", "contacts"]}, FILES)


def test_rows_read_that_the_line_count_contradicts_are_refused():
    with pytest.raises(ReconciliationError) as exc:
        reconcile(lineage(*GOOD), {"crm": 4}, {"crm": ["accounts"]}, FILES, {"crm": (4, 5)})
    assert "independent count" in exc.value.problems[0].message


def test_a_written_record_missing_from_the_import_file_is_refused():
    with pytest.raises(ReconciliationError, match="in lineage but not in the import file, e.g. a1"):
        check_written(lineage(*GOOD), {"accounts": set()})


def test_an_import_record_no_row_was_written_as_is_refused():
    with pytest.raises(ReconciliationError, match="that no source row was written as, e.g. zz"):
        check_written(lineage(*GOOD), {"accounts": {"a1", "zz"}})
    check_written(lineage(*GOOD), {"accounts": {"a1", "placeholder"}}, {"placeholder"})


# The independent count agrees with the reader on whatever the lines hold: quotes opened, closed, doubled
# and stray, delimiters, line breaks of every kind, NULs and blank lines.
PIECES = ['"', '""', ",", "a", "张", " ", "\0", "\r", "\n", "\r\n", '"x"', ",,", "\n\n"]


@pytest.mark.parametrize("seed", range(300))
def test_the_line_count_agrees_with_the_reader(tmp_path, seed):
    rng = random.Random(seed)
    body = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 60)))
    f = tmp_path / "x.csv"
    f.write_bytes(("h1,h2,h3\n" + body).encode("utf-8"))
    try:
        table = read_csv(f, "x.csv", delimiter=",", header_row=1)
    except Exception as exc:  # only a clear SourceError may stop it
        assert type(exc).__name__ == "SourceError", exc
        return
    assert table.records == table.counted, repr(body)


def test_the_line_count_is_not_the_readers_code():
    lines = ["a,b\n", '1,"x\n', "2,y\n"]  # a quote never closed
    assert count_records(lines, ",", 0, 2) == 2
    assert [(f, last) for f, last, _, _ in _records(lines, 1, ",", 2)] == [(1, 1), (2, 2)]


def test_many_broken_quotes_are_read_in_linear_time(tmp_path):
    """Each broken quote resumes reading on the next line without walking the lines before it again."""
    f = tmp_path / "x.csv"
    f.write_text("a,b,c\n" + "".join(f'{i},"name{i},010\n' for i in range(20_000)), encoding="utf-8")
    table = read_csv(f, "x.csv")
    assert table.records == table.counted == 20_000
    assert table.frame["b"][5] == "name5"
    [warning] = [w for w in table.warnings if "quote" in w.message]
    assert warning.line == 2 and "and 19990 more" in warning.message
