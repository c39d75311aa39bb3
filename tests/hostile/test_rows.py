"""Hostile CSV sources: no crash, no row lost. Each case is a small project run through the command line.

Every case asserts the exit status (1 for a refusal, 0 for a run that recovered; never 3, an internal
error), the message (the file and its line), and for runs that finish, that lineage holds an outcome for
every line of the file that holds a record.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import ROOT

HEADER = "编号,客户名称,电话\n"
GOOD = [
    "1,北京星辰科技有限公司,010-62345678\n",
    "2,上海云帆贸易有限公司,021-55556666\n",
    "3,广州天河电子有限公司,020-12345678\n",
]
OUTCOMES = {"written", "merged", "filtered", "rejected"}


def mapping(read: str = "") -> str:
    return (
        f"file: data/a.csv\n{read}entities:\n  accounts:\n    columns:\n"
        "      编号: id\n      客户名称: name\n      电话: phone\n"
    )


def project(make_project, data: bytes, read: str = "", options: str = "") -> Path:
    return make_project(f"name: t\nentities: [accounts]\n{options}", {"crm": mapping(read)}, {"data/a.csv": data})


def cli(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "1000"}
    return subprocess.run(
        [sys.executable, "-m", "crm_migrate", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def said(result: subprocess.CompletedProcess) -> str:
    """What the command printed, with rich's line wrapping undone."""
    return " ".join((result.stdout + result.stderr).split())


def lineage(root: Path) -> dict[int, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((root / "out" / "lineage.csv").read_text(encoding="utf-8-sig"))))
    assert all(r["outcome"] in OUTCOMES for r in rows)
    by_row = {int(r["row"]): r for r in rows}
    assert len(by_row) == len(rows), "a row has two outcomes"
    return by_row


def imported(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8-sig") for p in sorted((root / "out" / "import").glob("*.csv")))


def run_ok(root: Path) -> tuple[str, dict[int, dict[str, str]]]:
    result = cli("run", root)
    assert result.returncode == 0, said(result)
    assert "Traceback" not in said(result)
    return said(result), lineage(root)


def test_a_quote_never_closed_glues_no_rows(make_project):
    root = project(make_project, (HEADER + '1,"北京星辰科技有限公司,010-62345678\n' + "".join(GOOD[1:])).encode())
    out, rows = run_ok(root)
    assert f"{root}/data/a.csv:2: warning: a quote that does not close" in out and "line 2" in out
    assert sorted(rows) == [2, 3, 4] and all(r["outcome"] == "written" for r in rows.values())
    text = imported(root)
    assert "北京星辰科技有限公司" in text and "上海云帆贸易有限公司" in text and "广州天河电子有限公司" in text
    assert '"北京' not in text  # the quote that opened and never closed is not part of the name


def test_a_quote_closing_in_the_middle_of_a_value_and_a_stray_quote(make_project):
    data = HEADER + '1,"北京星辰科技有限公司,010-62345678\n2,上海云帆"贸易有限公司,021-55556666\n' + GOOD[2]
    root = project(make_project, data.encode())
    out, rows = run_ok(root)
    assert "a.csv:2: warning: a quote that does not close" in out
    assert "a.csv:3: warning: a quote inside a value that is not quoted, on line 3" in out
    assert sorted(rows) == [2, 3, 4] and all(r["outcome"] == "written" for r in rows.values())


def test_a_short_row_is_kept_with_empty_cells(make_project):
    root = project(make_project, (HEADER + GOOD[0] + "2,上海云帆贸易有限公司\n" + GOOD[2]).encode())
    out, rows = run_ok(root)
    assert "a.csv:3: warning: fewer values than the header's 3 columns on line 3" in out
    assert sorted(rows) == [2, 3, 4] and rows[3]["outcome"] == "written"


def test_a_long_row_is_rejected_with_the_reason(make_project):
    root = project(make_project, (HEADER + GOOD[0] + "2,上海云帆,贸易有限公司,021-55556666\n" + GOOD[2]).encode())
    out, rows = run_ok(root)
    assert "a.csv:3 column 'D': warning: values beyond the header's last column" in out
    assert sorted(rows) == [2, 3, 4]
    assert rows[3]["outcome"] == "rejected" and "line 3: 1 value(s) beyond the header's 3 columns" in rows[3]["reason"]
    assert rows[2]["outcome"] == rows[4]["outcome"] == "written"
    rejects = (root / "out" / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig")
    assert "上海云帆" in rejects


def test_nul_bytes_are_removed_and_reported(make_project):
    data = (
        HEADER.encode()
        + GOOD[0].encode()
        + "2,上海云帆\0贸易有限公司,021-55556666\n".encode()
        + b"\0\0\0\n"
        + GOOD[2].encode()
    )
    root = project(make_project, data)
    out, rows = run_ok(root)
    assert "a.csv:3: warning: NUL bytes on lines 3, 4: removed" in out
    assert sorted(rows) == [2, 3, 5]  # line 4 held only NULs: a blank row
    assert "上海云帆贸易有限公司" in imported(root)


def test_lines_ending_in_cr_alone(make_project):
    root = project(make_project, (HEADER + "".join(GOOD)).replace("\n", "\r").encode())
    out, rows = run_ok(root)
    assert "a.csv: warning: lines end with a carriage return alone" in out
    assert sorted(rows) == [2, 3, 4] and all(r["outcome"] == "written" for r in rows.values())


def test_a_cr_alone_inside_a_line(make_project):
    root = project(make_project, (HEADER + GOOD[0] + "2,上海云帆\r贸易有限公司,021-55556666\n" + GOOD[2]).encode())
    out, rows = run_ok(root)
    assert "a.csv:3: warning: a carriage return (CR) alone inside line 3" in out
    assert sorted(rows) == [2, 3, 4]


def test_an_empty_file_is_refused_clearly(make_project):
    root = project(make_project, b"")
    result = cli("run", root)
    assert result.returncode == 1 and f"{root}/data/a.csv: error: the file has no rows" in said(result)
    assert not (root / "out").exists()


def test_a_header_only_file_runs_with_zero_rows(make_project):
    root = project(make_project, HEADER.encode())
    _, rows = run_ok(root)
    assert rows == {}
    plan = cli("plan", root)
    assert plan.returncode == 0, said(plan)


def test_a_bom_on_a_gbk_file(make_project):
    root = project(make_project, b"\xef\xbb\xbf" + (HEADER + "".join(GOOD)).encode("gbk"))
    out, rows = run_ok(root)
    assert "a.csv:1: warning: the file starts with a UTF-8 byte order mark but its text is GBK" in out
    assert sorted(rows) == [2, 3, 4]
    assert "北京星辰科技有限公司" in imported(root)


def mixed() -> bytes:
    return HEADER.encode() + GOOD[0].encode("utf-8") + GOOD[1].encode("gbk") + GOOD[2].encode("utf-8")


def test_mixed_utf8_and_gbk_lines_are_each_read_right(make_project):
    root = project(make_project, mixed())
    out, rows = run_ok(root)
    assert (
        "a.csv:1: warning: the file mixes encodings: 3 line(s) are UTF-8 (lines 1, 2, 4) and 1 GBK/GB18030 "
        "(line 3)" in out
    )
    assert sorted(rows) == [2, 3, 4]
    text = imported(root)
    assert all(name in text for name in ("北京星辰科技有限公司", "上海云帆贸易有限公司", "广州天河电子有限公司"))


def test_mixed_lines_under_utf8_are_refused_naming_the_line_and_the_setting(make_project):
    root = project(make_project, mixed(), read="read: {encoding: utf-8}\n")
    result = cli("run", root)
    out = said(result)
    assert result.returncode == 1
    assert f"{root}/data/a.csv:3: error: line 3 cannot be read with encoding: utf-8" in out
    assert "errors: report" in out and "auto" in out


def test_utf8_with_errors_report_keeps_the_good_lines(make_project):
    root = project(make_project, mixed(), read="read: {encoding: utf-8, errors: report}\n")
    out, rows = run_ok(root)
    assert "a.csv:3: warning: 1 line(s) cannot be read as utf-8: line 3" in out
    assert rows[2]["outcome"] == rows[4]["outcome"] == "written"
    assert rows[3]["outcome"] == "rejected" and "line 3: byte 0xc9 cannot be read as utf-8" in rows[3]["reason"]


def test_a_10_mb_cell_rejects_its_row(make_project):
    data = HEADER + GOOD[0] + "2," + "长" * 3_500_000 + ",021-55556666\n" + GOOD[2]
    root = project(make_project, data.encode())
    out, rows = run_ok(root)
    assert "a.csv:3: warning: a cell larger than options.limits.cell_bytes (1,000,000 bytes) on line 3" in out
    assert rows[3]["outcome"] == "rejected" and "10,500,000 bytes" in rows[3]["reason"]
    assert rows[2]["outcome"] == rows[4]["outcome"] == "written"
    assert (root / "out" / "rejects" / "accounts.csv").stat().st_size < 10_000


def test_the_cell_limit_is_an_option_and_init_reads_cells_over_128_kib(make_project, tmp_path):
    big = "2," + "长" * 60_000 + ",021-55556666\n"  # 180,000 bytes: over the csv module's own limit
    root = project(make_project, (HEADER + GOOD[0] + big).encode(), options="options: {limits: {cell_bytes: 100000}}\n")
    _, rows = run_ok(root)
    assert rows[3]["outcome"] == "rejected" and "more than options.limits.cell_bytes (100,000)" in rows[3]["reason"]
    source = tmp_path / "big.csv"
    source.write_text(HEADER + GOOD[0] + big, encoding="utf-8")
    result = cli("init", tmp_path / "new", "--source", source)
    assert result.returncode == 0, said(result)


def test_a_header_of_100000_columns_is_refused_quickly(make_project):
    header = ",".join(f"c{i}" for i in range(100_000)) + "\n"
    root = project(make_project, (header + "1,2,3\n").encode())
    started = time.perf_counter()
    result = cli("run", root)
    assert time.perf_counter() - started < 20
    assert result.returncode == 1
    assert f"{root}/data/a.csv:1: error: the header has 100,000 columns; a table has at most 16,384" in said(result)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_file_cut_inside_its_last_character(make_project, encoding):
    data = (HEADER + GOOD[0] + GOOD[1]).encode(encoding) + "3,广州天河电子有限公司".encode(encoding)[:-1]
    root = project(make_project, data)
    out, rows = run_ok(root)
    assert "a.csv:4: warning: 1 line(s) cannot be read" in out
    assert sorted(rows) == [2, 3, 4] and rows[2]["outcome"] == rows[3]["outcome"] == "written"
    assert rows[4]["outcome"] == "rejected" and "the file ends inside a character" in rows[4]["reason"]


def test_a_quoted_line_break_is_one_row_and_the_count_agrees(make_project):
    data = HEADER + '1,"北京星辰科技有限公司\n（海淀）",010-62345678\n' + "".join(GOOD[1:])
    root = project(make_project, data.encode())
    out, rows = run_ok(root)
    assert "warning" not in out
    assert sorted(rows) == [2, 3, 4]  # rows as Excel numbers them: the value spanning two lines is one


def test_validate_and_plan_report_the_same_anomalies(make_project):
    root = project(make_project, (HEADER + '1,"北京星辰科技有限公司,010-62345678\n' + "".join(GOOD[1:])).encode())
    result = cli("plan", root)
    assert result.returncode == 0 and "a.csv:2: warning: a quote that does not close" in said(result)


def test_a_damaged_line_in_a_gbk_file_is_refused_or_rejected_as_the_mapping_says(make_project):
    data = (HEADER + GOOD[0]).encode("gbk") + b"2,\xff\xfe\xff,021-55556666\n" + GOOD[2].encode("gbk")
    root = project(make_project, data)
    result = cli("run", root)
    assert result.returncode == 1
    assert f"{root}/data/a.csv:3: error: line 3 cannot be read with encoding: auto: byte 0xff" in said(result)
    assert "errors: report" in said(result) and not (root / "out").exists()
    root = project(make_project, data, read="read: {errors: report}\n")
    _, rows = run_ok(root)
    assert sorted(rows) == [2, 3, 4] and rows[3]["outcome"] == "rejected" and "line 3" in rows[3]["reason"]
