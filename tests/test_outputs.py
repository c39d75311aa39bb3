"""What the output tree promises, piece by piece: formulas neutralised (reports/formulas.py), the output
folder locked, tidied and private (migrate/outdir.py), and plain errors instead of internal ones."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crm_migrate.errors import MigrateError, ProjectError, unreadable
from crm_migrate.migrate.decisions import read_decisions
from crm_migrate.migrate.outdir import (
    PRIVATE,
    SHARED,
    alive,
    lock_path,
    output_lock,
    restrict,
    tidy_leftovers,
    write_problem,
)
from crm_migrate.migrate.output_frames import write_csv
from crm_migrate.reports.formulas import QuotedCells, is_formula, neutralise, neutralise_frame

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+SUM(1)",
    "@x",
    "-1+1",
    "＝李四",
    "＋1",
    "－1",
    "＠x",
    "\t=1",
    "\r=1",
    "  =1",
    "\u3000=1",
    '=HYPERLINK("http://x")',
    "-",
    "+86 138 0013 8000",
]
VALUES = ["星辰科技", "'=already", "a=b", "", "1+1", "+8613800138000", "-5.00", "-1,200.50", "350", "e=mc2"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formulas_are_recognised(text):
    assert is_formula(text) and neutralise(text) == "'" + text


@pytest.mark.parametrize("text", VALUES)
def test_values_are_left_alone(text):
    assert not is_formula(text) and neutralise(text) == text


@pytest.mark.parametrize(
    "text", ["+86 138 0013 8000", "010-6234 5678", "+8613800138000; +8613900139000", "(010) 62345678", "-350.00"]
)
def test_phones_and_amounts_in_their_columns_are_values(text):
    assert not is_formula(text, plain=True)


@pytest.mark.parametrize("text", ["=1", "+SUM(1)", "@x", "-1+A1", "+86 138 0013 8000 转 8001"])
def test_a_phone_column_still_refuses_formulas(text):
    assert is_formula(text, plain=True)


def test_frame_and_predicate_agree():
    frame = pl.DataFrame({"a": FORMULAS + VALUES})
    done, counts = neutralise_frame(frame)
    assert done["a"].to_list() == [neutralise(v) for v in FORMULAS + VALUES]
    assert counts == {"a": len(FORMULAS)}
    assert neutralise_frame(done)[1] == {}  # once is enough: a neutralised value is not a formula


def test_frame_leaves_numbers_nulls_and_plain_columns():
    frame = pl.DataFrame({"row": [1, 2], "phone": ["+86 10 6234 5678", None], "note": ["=1", None]})
    done, counts = neutralise_frame(frame, plain={"phone"})
    assert done.to_dicts() == [
        {"row": 1, "phone": "+86 10 6234 5678", "note": "'=1"},
        {"row": 2, "phone": None, "note": None},
    ]
    assert counts == {"note": 1}


def test_write_csv_neutralises_unless_told_not_to(tmp_path):
    frame = pl.DataFrame({"name": ["=SUM(1)", "星辰"], "phone": ["+86 10 6234 5678", "-"]})
    write_csv(frame, tmp_path / "a.csv", plain={"phone"})
    assert (tmp_path / "a.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "name,phone",
        "'=SUM(1),+86 10 6234 5678",
        "星辰,'-",
    ]
    write_csv(frame, tmp_path / "b.csv", neutralise=False)
    assert "'" not in (tmp_path / "b.csv").read_text(encoding="utf-8-sig")


def test_quoted_cells_style_not_value(tmp_path):
    import xlsxwriter

    path = tmp_path / "q.xlsx"
    with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False}) as book:
        sheet, cells = book.add_worksheet("s"), QuotedCells(book)
        assert cells.write(sheet, 0, 0, "=cmd|' /C calc'!A0", {"bold": True})
        assert not cells.write(sheet, 0, 1, "星辰", {"bold": True})
        assert not cells.write(sheet, 0, 2, "+8613800138000", None, plain=True)
        assert cells.write(sheet, 0, 3, "＠x")
    row = next(openpyxl.load_workbook(path)["s"].iter_rows())
    assert [c.value for c in row] == ["=cmd|' /C calc'!A0", "星辰", "+8613800138000", "＠x"]
    assert [c.quotePrefix for c in row] == [True, False, False, True]
    assert row[0].font.b and row[1].font.b  # the cell's other style kept


def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock_path(out).write_text(f"{holder.pid}\n", encoding="ascii")
        with (
            pytest.raises(MigrateError, match=rf"another crm-migrate run \(pid {holder.pid}\) is writing"),
            output_lock(out),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert not alive(holder.pid)
    with output_lock(out):  # its holder is gone: the lock is stale
        assert lock_path(out).read_text(encoding="ascii").strip() == str(os.getpid())
    assert not lock_path(out).exists()


def test_lock_is_released_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), output_lock(out):
        raise KeyboardInterrupt
    assert not lock_path(out).exists()


def test_tidy_removes_dead_runs_leftovers_and_reports_live_ones(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = tmp_path / ".out.tmp-999999999"
    live = tmp_path / f".out.tmp-{os.getppid()}"
    other = tmp_path / ".elsewhere.tmp-999999999"
    for folder in (dead, live, other):
        folder.mkdir()
    notes = tidy_leftovers(out)
    assert not dead.exists() and live.exists() and other.exists()
    assert [n.severity for n in notes] == ["warning", "warning"]
    assert any("still running" in n.message for n in notes) and any("removed" in n.message for n in notes)


def test_tidy_puts_back_a_tree_set_aside(tmp_path):
    out = tmp_path / "out"
    aside = tmp_path / ".out.old-999999999"
    aside.mkdir()
    (aside / "manifest.json").write_text("{}", encoding="utf-8")
    notes = tidy_leftovers(out)
    assert (out / "manifest.json").is_file() and not aside.exists() and "put back" in notes[0].message


@pytest.mark.parametrize(("mode", "folder", "file"), [(PRIVATE, 0o700, 0o600), (SHARED, 0o755, 0o644)])
def test_restrict(tmp_path, mode, folder, file):
    root = tmp_path / "t"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "x.csv").write_text("x", encoding="utf-8")
    (root / "r.html").write_text("x", encoding="utf-8")
    restrict(root, mode)
    for path in [root, *root.rglob("*")]:
        assert path.stat().st_mode & 0o777 == (folder if path.is_dir() else file)


def test_write_problems_say_the_folder_and_that_nothing_was_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    full = write_problem(out, OSError(errno.ENOSPC, "No space left on device"))
    assert full.path == str(out) and "disk is full" in full.message and "nothing was replaced" in full.message
    denied = write_problem(tmp_path / "new", PermissionError(errno.EACCES, "Permission denied", str(tmp_path)))
    assert "not allowed to write" in denied.message and "nothing was written" in denied.message


def test_unreadable_says_why():
    assert "not there" in unreadable("a.csv", FileNotFoundError(errno.ENOENT, "x")).message
    assert "permission denied" in unreadable("a.csv", PermissionError(errno.EACCES, "x")).message
    assert "folder" in unreadable("a.csv", IsADirectoryError(errno.EISDIR, "x")).message


@pytest.mark.parametrize("content", [b"not a workbook", b"PK\x03\x04" + b"\0" * 50])
def test_damaged_decisions_are_a_project_error(tmp_path, content):
    path = tmp_path / "d.xlsx"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match="the decisions file cannot be read"):
        read_decisions(path)


def test_decisions_without_the_decision_column_are_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="'record' and 'decision' columns"):
        read_decisions(path)


def test_run_refuses_out_naming_a_file(make_project, tmp_path):
    from crm_migrate.migrate.run import run
    from crm_migrate.project import load_project

    root = make_project(
        mappings={"a": "file: data/a.csv\nentities:\n  accounts:\n    columns: {名称: name}\n"},
        files={"data/a.csv": "名称\n星辰科技有限公司\n"},
    )
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(MigrateError, match="--out names a file"):
        run(load_project(root), target)


def test_header_only_source_in_process(make_project):
    from crm_migrate.migrate.run import run
    from crm_migrate.project import load_project

    root = make_project(
        migration="name: t\nentities: [accounts, contacts]\n",
        mappings={
            "a": "file: data/a.csv\nentities:\n  accounts:\n    columns: {名称: name, 电话: phone}\n"
            "  contacts:\n    columns: {姓名: name}\n"
        },
        files={"data/a.csv": "名称,电话,姓名\n"},
    )
    result = run(load_project(root))
    assert result.reconciliation.balanced and all(r.rows == 0 for r in result.migration.reads)
    assert any("header and no data rows" in w.message for w in result.migration.warnings)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs a device that is always full")
def test_a_full_disk_while_a_csv_is_written_is_an_oserror_that_says_so():
    """polars writes the UTF-8 outputs; a full disk must still reach the run as errno ENOSPC (its message
    names the disk as full), not as an OSError without one."""
    from crm_migrate.migrate.output_frames import write_csv

    with pytest.raises(OSError) as exc:
        write_csv(pl.DataFrame({"a": ["x" * 100] * 100_000}), Path("/dev/full"))
    assert exc.value.errno == errno.ENOSPC
