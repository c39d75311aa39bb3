"""The steps API (crm_migrate/steps.py): silent and free by default, told to listeners when one listens."""

from __future__ import annotations

import pytest

from crm_migrate.migrate.dryrun import dry_run
from crm_migrate.migrate.run import prepare, run
from crm_migrate.project import load_project
from crm_migrate.steps import Listener, Recorder, listening, named, recording, step

from .test_pipeline import ACCOUNTS, ACCOUNTS_CSV, CONTACTS, CONTACTS_CSV, MIGRATION


@pytest.fixture
def root(make_project):
    return make_project(
        MIGRATION,
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
    )


def test_library_calls_print_nothing(root, tmp_path, capfd):
    prepare(load_project(root))
    run(load_project(root), tmp_path / "out")
    dry_run(load_project(root), tmp_path / "dry", size=5)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert (tmp_path / "out" / "run.log").is_file()  # the steps ran, and were recorded, silently


class Seen(Listener):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def started(self, s):
        self.events.append(("started", s.name, s.done))

    def advanced(self, s):
        self.events.append(("advanced", s.name, s.done))

    def finished(self, s):
        self.events.append(("failed" if s.failed else "finished", s.name, s.counted))


def test_listeners_are_told_start_progress_and_end_with_counts():
    seen = Seen()
    with listening(seen):
        with step("Scoring accounts", total=3, unit="pairs") as s:
            s.advance(2)
            s.advance(1)
        with named("sample"), step("Writing lineage.csv") as s:
            s.finish(7)
        with pytest.raises(KeyboardInterrupt), step("Blocking contacts"):
            raise KeyboardInterrupt
    with step("unheard") as s:  # nobody listens any more
        s.advance()
    assert seen.events == [
        ("started", "Scoring accounts", 0),
        ("advanced", "Scoring accounts", 2),
        ("advanced", "Scoring accounts", 3),
        ("finished", "Scoring accounts", 3),
        ("started", "sample: Writing lineage.csv", 0),
        ("finished", "sample: Writing lineage.csv", 7),
        ("started", "Blocking contacts", 0),
        ("failed", "Blocking contacts", None),
    ]


def test_recorder_lines_and_one_recorder_per_run():
    with recording() as outer:
        with step("Reading data/a.csv\t(a)") as s:
            s.finish(3)
        with recording() as inner:  # a run inside a dry run records into the dry run's log
            assert inner is outer
            with step("Writing reports/quality.json", unit=""):
                pass
    lines = Recorder.text(outer).splitlines()
    assert lines[0] == "time\tstep\tcount\tunit\tseconds"
    assert [line.split("\t")[1:4] for line in lines[1:]] == [
        ["Reading data/a.csv (a)", "3", "rows"],
        ["Writing reports/quality.json", "", ""],
        ["total", "", ""],
    ]
