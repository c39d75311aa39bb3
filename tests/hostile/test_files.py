"""Hostile projects and files, run through the command as a user would: paths that leave the project, YAML
bombs, workbooks that would expand to gigabytes, damaged workbooks, a 10 MB cell.

Each case builds a small project in tmp_path, runs ``python -m crm_migrate`` in a subprocess, and asserts
the exit status (1 for bad input: never 3, an internal error, nor 134, a native abort), the message (the
file, and its line, sheet or row), that nothing of a file outside the project reaches the output, and the
row accounting where a run happens. Every file written here is small on disk.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.xlsx import write_xlsx

SECRET = "TOPSECRET-4242"  # in the outside files' header and rows: must never be printed or written
ACCOUNTS = "客户编号,客户名称,电话\nA1,星辰科技有限公司,13800000001\nA2,云帆贸易有限公司,13800000002\n"
MAPPING = """\
file: {file}
system: crm
entities:
  accounts:
    columns: {{客户编号: id, 客户名称: name, 电话: phone}}
"""
LOOKUP_MAPPING = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {{客户编号: id, 客户名称: name}}
    derive:
      note: {{column: 电话, lookup: {{file: {table}, key: code, value: name, unknown: keep}}}}
"""
ROWS = [
    ["客户编号", "客户名称", "电话"],
    ["A1", "星辰科技有限公司", "13800000001"],
    ["A2", "云帆贸易有限公司", "13800000002"],
]
FAR_CELL = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CRM_MIGRATE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "crm_migrate", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def said(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def refused(result: subprocess.CompletedProcess, *expected: str) -> str:
    """The run ended as bad input should: exit 1, each expected text in the output, no secret, no traceback."""
    text = said(result)
    assert result.returncode == 1, text
    for part in expected:
        assert part in text, f"{part!r} not in:\n{text}"
    assert SECRET not in text and "Traceback" not in text and "internal error" not in text
    return text


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project holding files the project must not read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.csv").write_text(
        f"客户编号,客户名称,电话,{SECRET}\nA9,{SECRET},13900000009,x\n", encoding="utf-8"
    )
    (folder / "codes.csv").write_text(f"code,name\n13800000001,{SECRET}\n", encoding="utf-8")
    (folder / "profile.yaml").write_text(f"name: {SECRET}\n{SECRET}: 1\n", encoding="utf-8")
    (folder / "decisions.csv").write_text(
        f"entity,record,decision,into\naccounts,{SECRET},keep apart,\n", encoding="utf-8"
    )
    return folder


def project(make_project, file: str = "data/accounts.csv", migration: str = "name: t\n", **files) -> Path:
    return make_project(migration, {"accounts": MAPPING.format(file=file)}, {"data/accounts.csv": ACCOUNTS, **files})


def outcomes(root: Path) -> list[tuple[str, str, str]]:
    with (root / "out" / "lineage.csv").open(encoding="utf-8-sig") as f:
        return [(r["row"], r["outcome"], r["reason"]) for r in csv.DictReader(f) if r["entity"] == "accounts"]


# --- a project reads only its own files ---------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_an_absolute_source_path_outside_the_project_is_refused_unread(make_project, outside, verb):
    root = project(make_project, str(outside / "secret.csv"))
    text = refused(cli(verb, root), "mappings/accounts.yaml:1:", "is outside the project folder", "allow_outside")
    assert not (root / "out" / "import").exists()
    assert "secretcol" not in text.lower()


def test_a_dotdot_path_leaving_the_project_is_refused(make_project, outside):
    root = project(make_project, "../outside/secret.csv")
    refused(cli("validate", root), "accounts.yaml:1:", "leads outside the project folder", str(outside / "secret.csv"))


def test_a_dotdot_path_to_a_file_that_does_not_exist_says_nothing_of_the_folder_outside(make_project, outside):
    root = project(make_project, "../outside/secret.cs")  # no 'did you mean secret.csv' listing outside files
    text = refused(cli("validate", root), "leads outside the project folder")
    assert "did you mean" not in text


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_a_symlink_in_data_pointing_outside_is_refused(make_project, outside, verb):
    root = project(make_project, "data/linked.csv")
    (root / "data" / "linked.csv").symlink_to(outside / "secret.csv")
    refused(cli(verb, root), "accounts.yaml:1:", "'data/linked.csv' is a symlink to", "outside the project")
    assert not (root / "out").exists()


def test_a_symlinked_folder_leading_outside_is_refused(make_project, outside):
    root = project(make_project, "data/exports/secret.csv")
    (root / "data" / "exports").symlink_to(outside, target_is_directory=True)
    refused(cli("validate", root), "passes through the symlink 'exports'", "outside the project")


def test_a_symlink_to_etc_passwd_shows_nothing_of_it(make_project):
    if not Path("/etc/passwd").is_file():
        pytest.skip("no /etc/passwd here")
    root = project(make_project, "data/x.csv")
    (root / "data" / "x.csv").symlink_to("/etc/passwd")
    text = refused(cli("validate", root), "'data/x.csv' is a symlink to /etc/passwd, outside the project")
    assert "root:" not in text


def test_a_file_name_too_long_is_a_problem_not_an_internal_error(make_project):
    root = project(make_project, "data/" + "a" * 5000 + ".csv")
    refused(cli("validate", root), "accounts.yaml:1:", "is not a path that can be read (File name too long)")


def test_a_symlink_inside_the_project_is_followed(make_project):
    root = project(make_project, "data/current.csv")
    (root / "data" / "current.csv").symlink_to(root / "data" / "accounts.csv")
    assert cli("validate", root).returncode == 0


@pytest.mark.parametrize("where", ["absolute", "symlink"])
def test_a_lookup_table_outside_the_project_is_refused(make_project, outside, where):
    table = str(outside / "codes.csv") if where == "absolute" else "data/codes.csv"
    root = make_project("name: t\n", {"accounts": LOOKUP_MAPPING.format(table=table)}, {"data/accounts.csv": ACCOUNTS})
    if where == "symlink":
        (root / "data" / "codes.csv").symlink_to(outside / "codes.csv")
    refused(cli("validate", root), "mappings/accounts.yaml:7:", "lookup table", "outside the project")
    refused(cli("run", root), "lookup table")
    assert not (root / "out").exists()


def test_a_target_profile_outside_the_project_is_refused(make_project, outside):
    root = project(make_project, migration=f"name: t\ntarget: {outside / 'profile.yaml'}\n")
    refused(cli("validate", root), "migration.yaml:2:", "target profile", "is outside the project folder")


def test_a_project_profile_symlinked_outside_is_refused(make_project, outside):
    root = project(make_project, migration="name: t\ntarget: tenant\n")
    (root / "targets").mkdir()
    (root / "targets" / "tenant.yaml").symlink_to(outside / "profile.yaml")
    refused(cli("plan", root), "migration.yaml:2:", "'targets/tenant.yaml' is a symlink to", "outside the project")


def test_a_decisions_file_outside_the_project_is_refused(make_project, outside):
    root = project(make_project, migration=f"name: t\ndecisions: {outside / 'decisions.csv'}\n")
    refused(cli("run", root), "migration.yaml:2:", "decisions file", "outside the project folder")
    assert not (root / "out").exists()


def test_a_decisions_file_given_on_the_command_line_outside_the_project_is_refused(make_project, outside):
    root = project(make_project)
    refused(cli("run", root, "--decisions", outside / "decisions.csv"), "decisions file", "outside the project")
    inside = root / "decisions.csv"
    inside.write_text("entity,record,decision,into\n", encoding="utf-8")
    assert cli("run", root, "--decisions", inside).returncode == 0


def test_a_mapping_file_symlinked_outside_is_refused(make_project, outside):
    root = project(make_project)
    (outside / "m.yaml").write_text(MAPPING.format(file="data/accounts.csv"), encoding="utf-8")
    (root / "mappings" / "other.yaml").symlink_to(outside / "m.yaml")
    refused(cli("validate", root), "mappings/other.yaml", "mapping file", "is a symlink to")


def test_allow_outside_permits_the_folder_it_lists(make_project, outside):
    migration = f"name: t\nallow_outside: [{outside}]\n"
    root = make_project(
        migration, {"accounts": LOOKUP_MAPPING.format(table=outside / "codes.csv")}, {"data/accounts.csv": ACCOUNTS}
    )
    result = cli("run", root)
    assert result.returncode == 0, said(result)
    assert [o for _, o, _ in outcomes(root)] == ["written", "written"]
    assert SECRET in (root / "out" / "import" / "01_accounts_001.csv").read_text(encoding="utf-8-sig")


def test_allow_outside_lists_folders_not_the_whole_machine(make_project, outside, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    root = project(make_project, str(outside / "secret.csv"), migration=f"name: t\nallow_outside: [{other}]\n")
    refused(cli("validate", root), "is outside the project folder")


# --- bounded YAML -------------------------------------------------------------------------------------------


def bomb(prefix: str = "a", levels: int = 9) -> str:
    """Billion laughs: ten aliases of ten aliases of ... ten strings, 10**levels values once expanded."""
    lines = [f'{prefix}0: &{prefix}0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{prefix}{i}: &{prefix}{i} [" + ", ".join([f"*{prefix}{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_a_yaml_bomb_in_migration_yaml_is_refused_with_its_line(make_project, verb):
    root = project(make_project, migration="name: t\n" + bomb())
    refused(cli(verb, root), "migration.yaml:7:", "expand to more than", "YAML bomb")
    assert (root / "migration.yaml").stat().st_size < 2000


def test_a_yaml_bomb_in_a_mapping_is_refused_with_its_line(make_project):
    root = project(make_project)
    path = root / "mappings" / "accounts.yaml"
    path.write_text(path.read_text(encoding="utf-8") + bomb("b"), encoding="utf-8")  # b0 on line 6
    refused(cli("plan", root), "mappings/accounts.yaml:11:", "expand to more than")


def test_an_alias_inside_itself_is_refused(make_project):
    root = project(make_project, migration="name: t\nsources: &s [accounts, *s]\n")
    refused(cli("validate", root), "migration.yaml:2:", "refers to the value that holds it")


def test_a_yaml_file_over_5_mb_is_refused_unread(make_project):
    root = project(make_project)
    with (root / "migration.yaml").open("r+b") as f:
        f.truncate(6_000_000)  # sparse: nothing of it is on disk
    refused(cli("validate", root), "migration.yaml", "6,000,000 bytes: larger than a project file can be")


# --- workbooks checked before they are expanded -------------------------------------------------------------


def workbook_project(make_project, migration: str = "name: t\n") -> Path:
    return project(make_project, "data/accounts.xlsx", migration=migration)


@pytest.mark.parametrize("verb", ["validate", "plan", "run", "dry-run"])
def test_a_cell_at_xfd1048576_is_refused_not_a_512_gb_allocation(make_project, verb):
    root = workbook_project(make_project)
    write_xlsx(root / "data" / "accounts.xlsx", ROWS, extra_cells=FAR_CELL)  # dimension declares A1:C3
    refused(cli(verb, root), "data/accounts.xlsx [客户]", "row 1,048,576 and column XFD", "options.limits.sheet_cells")
    assert (root / "data" / "accounts.xlsx").stat().st_size < 5000


def test_a_declared_used_range_of_the_whole_sheet_is_refused(make_project):
    root = workbook_project(make_project)
    write_xlsx(root / "data" / "accounts.xlsx", ROWS, dimension="A1:XFD1048576")
    refused(cli("validate", root), "[客户]", "declares its used range as A1:XFD1048576")


def test_merged_cells_over_the_whole_sheet_are_refused_before_init_expands_them(tmp_path):
    source = write_xlsx(
        tmp_path / "merged.xlsx", ROWS, after='<mergeCells count="1"><mergeCell ref="A4:XFD1048576"/></mergeCells>'
    )
    refused(cli("init", tmp_path / "new", "--source", source), "merged.xlsx [客户]", "merges")


def test_a_zip_bomb_workbook_is_refused_from_its_declared_sizes(make_project):
    root = workbook_project(make_project)
    write_xlsx(root / "data" / "accounts.xlsx", ROWS, padding=60_000_000)  # 60 MB of XML in ~60 KB
    assert (root / "data" / "accounts.xlsx").stat().st_size < 100_000
    refused(cli("run", root), "data/accounts.xlsx", "unpacks", "times its size", "compression_ratio")


def test_a_workbook_over_the_unpacked_size_limit_is_refused(make_project):
    root = workbook_project(make_project, "name: t\noptions: {limits: {workbook_bytes: 100000}}\n")
    write_xlsx(root / "data" / "accounts.xlsx", ROWS, padding=200_000)
    refused(cli("validate", root), "the workbook unpacks to", "options.limits.workbook_bytes (100,000)")


def test_the_sheet_limit_is_an_option(make_project):
    root = workbook_project(make_project, "name: t\noptions: {limits: {sheet_cells: 6}}\n")
    write_xlsx(root / "data" / "accounts.xlsx", ROWS)  # 3 rows by 3 columns
    refused(cli("validate", root), "9 cells", "sheet_cells (6)")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty (0 bytes)"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "not a readable .xlsx workbook: the file is damaged or truncated"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
            "an old-format .xls or a workbook protected with a password",
        ),
    ],
    ids=["empty", "garbage", "ole"],
)
def test_a_damaged_workbook_is_named_with_what_to_do(make_project, content, message):
    root = workbook_project(make_project)
    (root / "data" / "accounts.xlsx").write_bytes(content)
    refused(cli("run", root), "data/accounts.xlsx", message)


def test_a_truncated_workbook_is_refused(make_project):
    root = workbook_project(make_project)
    whole = write_xlsx(root / "data" / "accounts.xlsx", ROWS).read_bytes()
    (root / "data" / "accounts.xlsx").write_bytes(whole[: len(whole) // 2])
    refused(cli("plan", root), "data/accounts.xlsx", "damaged or truncated")


def test_a_workbook_of_empty_sheets_says_so(make_project):
    root = workbook_project(make_project)
    write_xlsx(root / "data" / "accounts.xlsx", [[""]])
    refused(cli("validate", root), "data/accounts.xlsx", "every sheet read (客户) is empty")


# --- a cell larger than the limit ---------------------------------------------------------------------------


def ten_mb() -> str:
    """10 MB of text that compresses about a hundredfold, like a pasted log (so it is no zip bomb)."""
    rng = random.Random(14)
    block = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(30_000))
    return (block * 400)[: 10 * 1024 * 1024]


def test_a_10_mb_cell_rejects_its_row_with_the_reason_and_the_others_are_written(make_project):
    root = make_project(
        "name: t\n",
        {"accounts": MAPPING.format(file="data/accounts.xlsx").replace("电话: phone}", "电话: phone, 备注: note}")},
        {},
    )
    rows = [[*ROWS[0], "备注"], [*ROWS[1], ten_mb()], [*ROWS[2], "ok"]]
    write_xlsx(root / "data" / "accounts.xlsx", rows)
    assert (root / "data" / "accounts.xlsx").stat().st_size < 200_000
    result = cli("run", root)
    assert result.returncode == 0, said(result)
    assert "Every source row is accounted for" in said(result)
    (row2, outcome2, reason2), (row3, outcome3, _) = outcomes(root)
    assert (row2, outcome2, row3, outcome3) == ("2", "rejected", "3", "written")
    assert "cell D2 holds 10,485,760 bytes" in reason2 and "cell_bytes (1,000,000)" in reason2
    assert (root / "out" / "rejects" / "accounts.csv").stat().st_size < 5000  # not the 10 MB


def test_a_10_mb_vcard_note_rejects_its_card(make_project):
    vcf = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:张伟\nTEL;TYPE=CELL:13800000001\nNOTE:" + ten_mb() + "\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:李娜\nTEL;TYPE=CELL:13800000002\nEND:VCARD\n"
    )
    mapping = "file: data/phone.vcf\nentities:\n  contacts:\n    columns: {FN: name, TEL.cell: mobile, NOTE: note}\n"
    root = make_project("name: t\n", {"phone": mapping}, {"data/phone.vcf": vcf})
    result = cli("run", root)
    assert result.returncode == 0, said(result)
    with (root / "out" / "lineage.csv").open(encoding="utf-8-sig") as f:
        rows = [(r["row"], r["outcome"], r["reason"]) for r in csv.DictReader(f) if r["entity"] == "contacts"]
    assert [(r, o) for r, o, _ in rows] == [("1", "rejected"), ("7", "written")]
    assert "cell NOTE holds 10,485,760 bytes" in rows[0][2]


def test_init_reads_a_csv_cell_over_128_kib(tmp_path):
    source = tmp_path / "big.csv"
    source.write_text("客户名称,电话,备注\n星辰科技有限公司,13800000001," + "x" * 200_000 + "\n", encoding="utf-8")
    result = cli("init", tmp_path / "new", "--source", source)
    assert result.returncode == 0, said(result)
    assert (tmp_path / "new" / "mappings" / "big.yaml").is_file()


def test_init_refuses_a_far_cell_workbook_with_a_message(tmp_path):
    source = write_xlsx(tmp_path / "far.xlsx", ROWS, extra_cells=FAR_CELL)
    refused(cli("init", tmp_path / "new", "--source", source), "far.xlsx [客户]", "row 1,048,576 and column XFD")
    assert not (tmp_path / "new").exists()  # "nothing was written": not even the copy of the source
