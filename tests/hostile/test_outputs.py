"""Hostile cases for what crm-migrate writes (issue 14, items 5 to 7), each through the command line.

Every case runs ``python -m crm_migrate`` in a subprocess (where a failure must be forced, such as a full
disk or a file deleted mid-run, the same entry point with one function patched, in a subprocess too) and
asserts the exit status (never 3, the status of an internal error), the message and the rows accounted for.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest

from crm_migrate.reports.formulas import is_formula
from tests.hostile.outputs_project import SOURCE_ROWS, write_project

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
ENV.pop("CRM_MIGRATE_DEBUG", None)
ACCOUNTED = "Every source row is accounted for"


def cli(*args: str, cwd: Path, patch: str | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    """The command line, as a user runs it; ``patch``: Python run first, in the same process."""
    if patch is None:
        command = [sys.executable, "-m", "crm_migrate", *args]
    else:
        code = textwrap.dedent(patch) + textwrap.dedent(f"""
            import sys
            sys.argv = ["crm-migrate", *{list(args)!r}]
            from crm_migrate.cli import main
            main()
            """)
        command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode != 3, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project")


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """The project after one run (CSV import files), shared by the cases that only read its output."""
    root = write_project(tmp_path_factory.mktemp("ran") / "project")
    done = cli("run", str(root), cwd=root.parent)
    assert done.returncode == 0 and ACCOUNTED in done.stdout
    return root


@pytest.fixture(scope="module")
def ran_xlsx(tmp_path_factory) -> Path:
    """The same with XLSX import files (as Fxiaoke takes them)."""
    root = write_project(tmp_path_factory.mktemp("ran_xlsx") / "project", fmt="xlsx")
    done = cli("run", str(root), cwd=root.parent)
    assert done.returncode == 0 and ACCOUNTED in done.stdout
    return root


@pytest.fixture
def earlier(ran, tmp_path) -> Path:
    """A copy of the project with the output of an earlier run, for the cases that must leave it intact."""
    return Path(shutil.copytree(ran, tmp_path / "project", symlinks=True))


def leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name or p.name.endswith(".lock")
    )


def csv_cells(path: Path) -> list[tuple[str, str]]:
    """(header, value) of every cell of a CSV output."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return [(rows[0][j], v) for row in rows[1:] for j, v in enumerate(row)]


def lineage_rows(out: Path) -> int:
    return len(list(csv.DictReader(io.StringIO((out / "lineage.csv").read_text(encoding="utf-8-sig")))))


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# --- item 5: formulas neutralised, phones and amounts kept --------------------------------------------------


def test_no_csv_output_holds_a_live_formula(ran):
    out = ran / "out"
    assert lineage_rows(out) == 3 * SOURCE_ROWS  # three entities per source row, every one accounted for
    files = sorted(out.rglob("*.csv"))
    assert {f.name for f in files} >= {
        "01_accounts_001.csv",
        "accounts.csv",
        "lineage.csv",
        "provenance.csv",
        "orphans.csv",
    }
    for f in files:
        for header, value in csv_cells(f):
            assert not is_formula(value, plain=header in ("电话", "其他电话", "手机", "金额")), (f.name, header, value)
    rejects = {v for _, v in csv_cells(out / "rejects" / "accounts.csv")}
    assert {"'=cmd|' /C calc'!A0", "'=SUM(1)+1", "'+SUM(1)"} <= rejects
    assert "'-1+1" in {v for _, v in csv_cells(out / "import" / "01_accounts_001.csv")}
    assert "'＝李四" in {v for _, v in csv_cells(out / "import" / "02_contacts_001.csv")}
    assert "'=HYPERLINK(1)" in {v for _, v in csv_cells(out / "import" / "03_opportunities_001.csv")}
    assert "'-1+1" in {v for _, v in csv_cells(out / "review" / "provenance.csv")}


def test_phones_and_amounts_are_never_prefixed(ran):
    out = ran / "out"
    phones = {v for h, v in csv_cells(out / "import" / "01_accounts_001.csv") if h in ("电话", "其他电话") and v}
    # phone_others, typed text in the profile, still holds phones: "+861062345679; +861062345680" as it is
    assert phones == {"+861062345678", "+861062345679; +861062345680"}
    assert {v for h, v in csv_cells(out / "import" / "03_opportunities_001.csv") if h == "金额"} == {
        "1200.00",
        "-350.00",
        "-0.50",
        "3000.00",
    }
    rejected = csv_cells(out / "rejects" / "accounts.csv")  # the source's values as read
    assert ("电话", "+86 10 6234 5670") in rejected and ("金额", "-5.00") in rejected
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    counted = manifest["target"]["formulas_neutralised"]
    assert counted["accounts"] == {"备注": 2, "行业": 1} and "电话" not in counted["accounts"]


def test_a_formula_as_long_as_the_limit_is_checked_as_written(ran, ran_xlsx):
    csv_project, xlsx_project = ran, ran_xlsx
    # CSV: '=SUM(1)+1 is 10 characters under a limit of 9, so the record is refused and says why
    reasons = [v for h, v in csv_cells(csv_project / "out" / "rejects" / "accounts.csv") if h == "reason"]
    assert any("10 characters with the apostrophe" in r and "at most 9" in r for r in reasons)
    names = {v for h, v in csv_cells(csv_project / "out" / "import" / "01_accounts_001.csv") if h == "名称"}
    assert all(len(n) <= 9 for n in names)
    # XLSX: the value is the 9 characters; the apostrophe is the cell's style, so it fits
    sheet = openpyxl.load_workbook(xlsx_project / "out" / "import" / "01_accounts_001.xlsx")["data"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=SUM(1)+1")
    assert cell.quotePrefix and cell.data_type == "s"


def test_xlsx_cells_carry_the_quote_prefix_not_an_apostrophe(ran_xlsx):
    root = ran_xlsx
    books = sorted((root / "out" / "import").glob("*.xlsx")) + [root / "out" / "review" / "duplicates.xlsx"]
    quoted = set()
    for path in books:
        for sheet in openpyxl.load_workbook(path).worksheets:
            if sheet.title == "How to use":  # the tool's own prose
                continue
            for row in sheet.iter_rows():
                for c in row:
                    if not isinstance(c.value, str):
                        continue
                    assert not c.value.startswith("'"), (path.name, c.coordinate, c.value)
                    plain = sheet.cell(1, c.column).value in ("电话", "其他电话", "手机", "phone")
                    assert c.quotePrefix == is_formula(c.value, plain), (path.name, c.coordinate, c.value)
                    if c.quotePrefix:
                        quoted.add(c.value)
    assert {"=cmd|' /C calc'!A0", "-1+1", "＝李四", "=HYPERLINK(1)", "@x"} <= quoted
    review = openpyxl.load_workbook(root / "out" / "review" / "duplicates.xlsx")["accounts"]
    assert any(c.value == "@x" and c.quotePrefix for row in review.iter_rows() for c in row)


def test_html_in_a_value_is_escaped_in_the_report(ran):
    html = (ran / "out" / "reports" / "quality.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_dry_run_findings_are_neutralised(project):
    done = cli("dry-run", str(project), cwd=project.parent)
    assert done.returncode == 1 and "would make the import fail" in done.stdout  # the refused records
    cells = csv_cells(project / "out" / "dry-run" / "findings.csv")
    assert ("value", "'=SUM(1)+1") in cells
    assert not any(is_formula(v) for _, v in cells)
    assert not leftovers(project / "out") and not leftovers(project)


# --- item 6: clear errors, nothing left behind -------------------------------------------------------------


def test_header_only_source_runs_with_a_warning(tmp_path):
    root = write_project(tmp_path / "project", rows=[])
    done = cli("run", str(root), cwd=tmp_path)
    assert done.returncode == 0 and ACCOUNTED in done.stdout
    assert "the file has a header and no data rows" in done.stdout
    assert lineage_rows(root / "out") == 0


def test_out_naming_a_file(project):
    target = project.parent / "report.txt"
    target.write_text("mine\n", encoding="utf-8")
    done = cli("run", str(project), "--out", str(target), cwd=project.parent)
    assert done.returncode == 1 and "--out names a file, not a folder" in done.stderr
    assert target.read_text(encoding="utf-8") == "mine\n" and not leftovers(project.parent)


def test_damaged_decisions_workbook(earlier):
    project = earlier
    before = tree(project / "out")
    damaged = project / "decided.xlsx"  # inside the project: a project reads only its own files
    damaged.write_bytes((project / "out" / "review" / "duplicates.xlsx").read_bytes()[:2000])  # cut short
    done = cli("run", str(project), "--decisions", str(damaged), cwd=project.parent)
    assert done.returncode == 1 and "decided.xlsx: error: not a readable .xlsx workbook" in done.stderr
    assert "save it again" in done.stderr
    assert tree(project / "out") == before and not leftovers(project)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_unreadable_source(project):
    source = project / "data" / "acc.csv"
    source.chmod(0)
    try:
        done = cli("run", str(project), cwd=project.parent)
    finally:
        source.chmod(0o644)
    assert done.returncode == 1 and "acc.csv" in done.stderr and "permission denied" in done.stderr
    assert not (project / "out").exists()


def test_unreadable_source_as_the_system_says_it(project):
    """The same refusal, forced where the tests run as root: open() fails as it does for a 000 file."""
    patch = """
        import builtins, errno
        real = builtins.open
        def refusing(file, *a, **k):
            if str(file).endswith("acc.csv"):
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real(file, *a, **k)
        builtins.open = refusing
        """
    done = cli("run", str(project), cwd=project.parent, patch=patch)
    assert done.returncode == 1
    assert "data/acc.csv: error: permission denied: this user may not read the file" in done.stderr
    assert "chmod u+r" in done.stderr and not (project / "out").exists() and not leftovers(project)


def test_source_deleted_between_plan_and_run(project):
    assert cli("plan", str(project), cwd=project.parent).returncode == 0
    (project / "data" / "acc.csv").unlink()
    done = cli("run", str(project), cwd=project.parent)
    assert done.returncode == 1 and "acc.csv" in done.stderr and "nothing was written" in done.stderr
    assert not (project / "out").exists() and not leftovers(project)


def test_source_deleted_mid_run(project):
    patch = f"""
        import os
        from crm_migrate.migrate import run
        real = run._write_tree
        def deleting(tmp, *a, **k):
            os.remove({str(project / "data" / "acc.csv")!r})  # while the tree is written
            return real(tmp, *a, **k)
        run._write_tree = deleting
        """
    done = cli("run", str(project), cwd=project.parent, patch=patch)
    assert done.returncode == 1
    assert "data/acc.csv: error: the file was deleted or moved while the run was reading it" in done.stderr
    assert not (project / "out").exists() and not leftovers(project)


def test_full_disk(earlier):
    project = earlier
    before = tree(project / "out")
    # lineage.csv is written by polars straight to the file (UTF-8): the disk fills there.
    patch = """
        import errno, pathlib
        import polars as pl
        real = pl.DataFrame.write_csv
        def full(self, file=None, *args, **kwargs):
            if file is not None and pathlib.Path(str(file)).name == "lineage.csv":
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(self, file, *args, **kwargs)
        pl.DataFrame.write_csv = full
        """
    done = cli("run", str(project), cwd=project.parent, patch=patch)
    assert done.returncode == 1
    assert f"{project / 'out'}: error: the disk is full" in done.stderr and "nothing was replaced" in done.stderr
    assert tree(project / "out") == before and not leftovers(project)


def test_ctrl_c_one_line_exit_130_nothing_left(earlier):
    project = earlier
    before = tree(project / "out")
    marker = project.parent / "writing"
    code = textwrap.dedent(f"""
        import pathlib, sys, time
        from crm_migrate.migrate import run
        real = run._write_tree
        def slow(tmp, *a, **k):
            outputs = real(tmp, *a, **k)  # the new tree is written in the temporary folder...
            pathlib.Path({str(marker)!r}).touch()
            time.sleep(60)  # ...and Ctrl-C comes before it replaces the old one
            return outputs
        run._write_tree = slow
        sys.argv = ["crm-migrate", "run", {str(project)!r}]
        from crm_migrate.cli import main
        main()
        """)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=project.parent,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), child.communicate()
    assert any(p.name.startswith(".out.tmp-") for p in project.iterdir())
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert stderr.strip().splitlines() == [
        "interrupted; nothing was written or replaced (the output folder is as it was)"
    ]
    assert "Traceback" not in stderr + stdout
    assert tree(project / "out") == before and not leftovers(project)


def test_stale_temporary_folders_of_killed_runs_are_removed(project):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    stale = project / f".out.tmp-{pid}"
    (stale / "import").mkdir(parents=True)
    (stale / "import" / "01_accounts_001.csv").write_text("customer data\n", encoding="utf-8")
    (project / ".out.lock").write_text(f"{pid}\n", encoding="ascii")  # its lock, too
    done = cli("run", str(project), cwd=project.parent)
    assert done.returncode == 0 and ACCOUNTED in done.stdout
    assert f".out.tmp-{pid}: warning: removed: left by a run (pid {pid})" in done.stderr
    assert not stale.exists() and not leftovers(project)
    assert lineage_rows(project / "out") == 3 * SOURCE_ROWS


def test_a_set_aside_tree_of_a_killed_run_is_put_back(earlier):
    project = earlier
    before = tree(project / "out")
    (project / "out").rename(project / ".out.old-999999999")  # killed between the two renames
    done = cli("run", str(project), "--full", cwd=project.parent)  # --full: the same import files again
    assert done.returncode == 0 and "put back the previous output" in done.stderr
    assert tree(project / "out").keys() == before.keys() and not leftovers(project)


def test_a_second_run_on_the_same_folder_is_refused(project):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (project / ".out.lock").write_text(f"{holder.pid}\n", encoding="ascii")
        done = cli("run", str(project), cwd=project.parent)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert f"another crm-migrate run (pid {holder.pid}) is writing {project / 'out'}" in done.stderr
    assert not (project / "out").exists() and (project / ".out.lock").exists()  # the holder's, left alone


# --- item 7: private outputs, a manifest of every input ----------------------------------------------------


def test_outputs_are_private_by_default(ran):
    out = ran / "out"
    assert out.stat().st_mode & 0o777 == 0o700
    for path in out.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
    assert any(p.suffix == ".xlsx" for p in out.rglob("*")) and any(p.suffix == ".html" for p in out.rglob("*"))


def test_outputs_shared_when_the_project_says_so(tmp_path):
    root = write_project(tmp_path / "project", options="  output_mode: shared\n")
    done = cli("run", str(root), cwd=tmp_path)
    assert done.returncode == 0
    for path in [root / "out", *(root / "out").rglob("*")]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


def test_manifest_lists_every_input_with_its_sha256(earlier):
    project = earlier
    decisions = project / "decisions.xlsx"
    shutil.copy(project / "out" / "review" / "duplicates.xlsx", decisions)
    done = cli("run", str(project), "--decisions", str(decisions), cwd=project.parent)
    assert done.returncode == 0 and ACCOUNTED in done.stdout
    manifest = json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))
    inputs = {(i["kind"], i["path"]): i["sha256"] for i in manifest["inputs"]}
    assert set(inputs) == {
        ("source", "data/acc.csv"),
        ("project", "migration.yaml"),
        ("project", "mappings/acc.yaml"),
        ("lookup", "data/industry.csv"),
        ("target", "targets/t.yaml"),
        ("decisions", "decisions.xlsx"),
    }
    for (_, path), digest in inputs.items():
        assert digest == hashlib.sha256((project / path).read_bytes()).hexdigest(), path
