"""Hostile cases for the project secret and the masks, run through the CLI as a user would: exit status,
message, and every source row accounted for in lineage."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import ROOT
from tests.test_secrets import ACCOUNTS, ACCOUNTS_CSV, ID_A, ID_C, IDS, MOBILE, TARGET, valid_id

ROWS = ACCOUNTS_CSV.count("\n") - 1  # data rows of the source


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "CRM_MIGRATE_SECRET_FILE"}
    environment.update(env or {}, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "crm_migrate", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        timeout=300,
        cwd=ROOT,
    )


def make(make_project, options: str = "", csv_text: str = ACCOUNTS_CSV) -> Path:
    migration = f"name: t\ntarget: targets/t.yaml\nentities: [accounts]\noptions: {{today: 2026-01-01{options}}}\n"
    return make_project(migration, {"accounts": ACCOUNTS}, {"data/accounts.csv": csv_text, "targets/t.yaml": TARGET})


def lineage(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "lineage.csv").read_text(encoding="utf-8-sig"))))


def assert_every_row_accounted(out: Path, rows: int = ROWS) -> list[dict[str, str]]:
    lines = lineage(out)
    assert sorted(int(r["row"]) for r in lines) == list(range(2, rows + 2))  # one line per row (one entity)
    assert all(r["outcome"] in ("written", "merged", "filtered", "rejected") for r in lines)
    return lines


def outside_import(out: Path) -> str:
    parts = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and "import" not in path.relative_to(out).parts:
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as z:
                    parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
            else:
                parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts).translate(str.maketrans("０１２３４５６７８９", "0123456789")).replace(" ", "")


def test_an_id_number_typed_into_the_notes_of_a_rejected_row_is_masked_outside_import(make_project):
    root = make(make_project)
    done = cli("run", str(root))
    assert done.returncode == 0, done.stderr
    assert "Every source row is accounted for" in done.stdout
    out = root / "out"
    lines = assert_every_row_accounted(out)
    a3 = next(r for r in lines if r["row"] == "4")
    assert a3["outcome"] == "rejected" and a3["reason"].startswith("test record")
    rejects = list(csv.DictReader(io.StringIO((out / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig"))))
    row = next(r for r in rejects if r["row"] == "4")
    assert row["file"] == "data/accounts.csv" and row["备注"] == f"身份证 {ID_C[:6]}********{ID_C[-4:]}，手机 {MOBILE}"
    text = outside_import(out)
    assert not [n for n in IDS if n in text]
    assert ID_A in (out / "import" / "01_accounts_001.csv").read_text(encoding="utf-8-sig")
    secret = (root / ".crm-migrate" / "secret").read_text(encoding="ascii").strip()
    assert secret not in done.stdout + done.stderr and secret not in text


def test_mobiles_in_free_text_are_masked_with_the_option_whatever_their_form(make_project):
    grouped = ACCOUNTS_CSV.replace(
        "A4,上海云帆贸易有限公司,,无,", 'A4,测试客户2,,"电话 139 1234 5678, +86-139-1234-5678",'
    )
    root = make(make_project, ", mask_mobiles: true", grouped)
    done = cli("run", str(root))
    assert done.returncode == 0, done.stderr
    out = root / "out"
    assert_every_row_accounted(out)
    text = outside_import(out).replace("-", "")
    assert MOBILE not in text and "13812345678" not in text and "139****5678" in text
    rejects = (out / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig")
    assert "电话 139 **** 5678, +86-139-****-5678" in rejects


def test_a_damaged_secret_is_refused_by_name_without_its_content(make_project):
    root = make(make_project)
    (root / ".crm-migrate").mkdir(mode=0o700)
    secret = root / ".crm-migrate" / "secret"
    secret.write_text("not-a-key-0123\n", encoding="ascii")
    secret.chmod(0o600)
    done = cli("run", str(root))
    assert done.returncode == 1
    assert ".crm-migrate/secret" in done.stderr and "damaged" in done.stderr and "nothing was written" in done.stderr
    assert "not-a-key-0123" not in done.stdout + done.stderr
    assert not (root / "out").exists()


@pytest.mark.skipif(os.name != "posix", reason="owner-only modes are POSIX")
def test_a_secret_other_users_can_read_is_refused_with_the_fix(make_project):
    root = make(make_project)
    first = cli("run", str(root))
    assert first.returncode == 0, first.stderr
    manifest = (root / "out" / "manifest.json").read_bytes()
    (root / ".crm-migrate" / "secret").chmod(0o644)
    done = cli("run", str(root))
    assert done.returncode == 1
    assert "can be read by other users" in done.stderr and "chmod 600" in done.stderr
    assert (root / "out" / "manifest.json").read_bytes() == manifest  # the earlier output stays as it was
    assert_every_row_accounted(root / "out")


def test_a_secret_file_named_inside_the_output_folder_is_refused(make_project, tmp_path):
    root = make(make_project)
    out = tmp_path / "handed-on"
    done = cli("run", str(root), "--out", str(out), env={"CRM_MIGRATE_SECRET_FILE": str(out / "key")})
    assert done.returncode == 1
    assert "inside the output folder" in done.stderr and "CRM_MIGRATE_SECRET_FILE" in done.stderr
    assert not out.exists() and not (root / ".crm-migrate").exists()


def test_plan_writes_no_secret(make_project):
    root = make(make_project)
    done = cli("plan", str(root))
    assert done.returncode == 0, done.stderr
    assert not (root / ".crm-migrate").exists() and not (root / "out").exists()


def _legacy_print(root: Path, record: str) -> str:
    """The unkeyed fingerprint an earlier version wrote into its review workbook for ``record``."""
    from crm_migrate.mappings.entities import Entity
    from crm_migrate.migrate.decisions import _values, legacy_fingerprint, refs
    from crm_migrate.migrate.run import prepare
    from crm_migrate.project import load_project

    res = prepare(load_project(root)).migration.entities[Entity.accounts]
    frame = res.frame.with_columns(refs().alias("_ref")).filter(pl.col("_ref") == record)
    return legacy_fingerprint(list(_values(frame, res.fields)[0]))


def test_decisions_made_on_an_earlier_versions_workbook_still_apply_with_a_notice(make_project, tmp_path):
    root = make(make_project)
    decisions = root / "decided.csv"  # a project reads only its own files
    decisions.write_text(
        "entity,group,record,decision,into,members,fingerprint\n"
        f"accounts,1,accounts:3,keep apart,,accounts:2; accounts:3,{_legacy_print(root, 'accounts:3')}\n",
        encoding="utf-8",
    )
    done = cli("run", str(root), "--decisions", str(decisions))
    assert done.returncode == 0, done.stderr
    assert "1 steward decisions applied" in done.stdout and "unkeyed fingerprints" in done.stdout
    lines = assert_every_row_accounted(root / "out")
    a2 = next(r for r in lines if r["row"] == "3")
    assert a2["outcome"] == "rejected" and "at most 30" in a2["reason"]  # kept apart: alone, its note is too long
    workbook = outside_import(root / "out")
    assert _legacy_print(root, "accounts:3") not in workbook  # the new workbook carries keyed ones


def test_a_decision_under_another_secret_is_listed_stale_not_applied(make_project, tmp_path):
    root = make(make_project)
    assert cli("run", str(root)).returncode == 0
    decisions = root / "decided.csv"  # a project reads only its own files
    decisions.write_text(
        "entity,group,record,decision,into,members,fingerprint\n"
        "accounts,1,accounts:3,keep apart,,accounts:2; accounts:3,abcdef:00000000000000000000\n",
        encoding="utf-8",
    )
    done = cli("run", str(root), "--decisions", str(decisions))
    assert done.returncode == 0, done.stderr
    assert "1 stale" in done.stdout
    stale = list(
        csv.DictReader(io.StringIO((root / "out" / "review" / "stale_decisions.csv").read_text(encoding="utf-8-sig")))
    )
    assert [(s["record"], s["read_from"]) for s in stale] == [("accounts:3", "decided.csv row 2")]
    assert "another project secret" in stale[0]["why_not_applied"]
    lines = assert_every_row_accounted(root / "out")
    assert [r["outcome"] for r in lines if r["row"] in ("2", "3")] == ["written", "merged"]  # not applied


def test_a_fifteen_digit_id_and_one_with_a_lower_case_x_are_masked_in_rejects(make_project):
    with_x = valid_id("11010519900307005")
    hostile = ACCOUNTS_CSV.replace(
        "A4,上海云帆贸易有限公司,,无,", f"A4,测试公司,,旧证110105900307002新证{with_x.lower()}号,"
    )
    root = make(make_project, csv_text=hostile)
    done = cli("run", str(root))
    assert done.returncode == 0, done.stderr
    lines = assert_every_row_accounted(root / "out")
    assert next(r for r in lines if r["row"] == "5")["outcome"] == "rejected"
    rejects = (root / "out" / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig")
    assert "旧证110105*****7002新证110105********005x号" in rejects
    assert "110105900307002" not in outside_import(root / "out")
