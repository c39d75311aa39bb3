"""Keyed fingerprints and masks: nothing written outside import/ gives an ID number (or, by option, a mobile)
away, in full or through a hash anyone could recompute."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
import zipfile
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from crm_migrate.cleaners.codes import id_check_digit
from crm_migrate.cleaners.masking import mask_frame, mask_texts
from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.decisions import _values, fingerprint, legacy_fingerprint, refs
from crm_migrate.migrate.run import prepare, run
from crm_migrate.project import load_project
from crm_migrate.secret import SECRET_ENV, key_id, project_secret, secret_path


def valid_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


ID_A = valid_id("11010519900307002")  # 110105199003070025
ID_B = valid_id("44030519851224123")
ID_C = valid_id("31010419780512004")  # typed into 备注 of a rejected row
ID_D = valid_id("32058319990101001")
ID_E = valid_id("51010719700101001")  # a note too long for the target: its reason quotes the value
MOBILE = "13912345678"

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns:
      编号: id
      名称: name
      电话: phone
      备注: note
"""
# A1 and A2 are one company (merged: the review workbook and provenance show their notes); A3 is a test
# record (rejected: rejects/ holds its 备注 and 其他 as read); A4 is kept; A5's note is longer than the
# target keeps, and the reason quotes its start (in lineage, rejects, findings and the report).
ACCOUNTS_CSV = f"""编号,名称,电话,备注,其他
A1,北京星辰科技有限公司,13812345678,法人身份证 {ID_A},
A2,北京星辰科技有限公司,13812345678,联系人身份证号:{ID_B} 手机{MOBILE},
A3,测试客户,{MOBILE},"身份证 {ID_C}，手机 {MOBILE}",证件 {ID_D[:6]} {ID_D[6:14]} {ID_D[14:]}
A4,上海云帆贸易有限公司,,无,
A5,广州海川物流有限公司,,{ID_E}是法人的证件号码请核对后再录入系统,
"""
IDS = (ID_A, ID_B, ID_C, ID_D, ID_E)
TARGET = """\
name: t
rests_on: a test template
file: {format: csv, encoding: utf-8, bom: true}
entities:
  accounts:
    object: accounts
    columns:
      - {header: external_id, value: external_id, type: id, required: true}
      - {header: name, value: name, type: text}
      - {header: phone, value: phone, type: phone}
      - {header: note, value: note, type: text, max_length: 30}
"""


def project(make_project, options: str = "") -> Path:
    migration = f"name: t\ntarget: targets/t.yaml\nentities: [accounts]\noptions: {{today: 2026-01-01{options}}}\n"
    return make_project(
        migration, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV, "targets/t.yaml": TARGET}
    )


def texts_outside_import(out: Path) -> dict[str, str]:
    """Every file under ``out`` but import files, as text; a workbook as the XML inside it."""
    found = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or "import" in rel.parts:
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    found[f"{rel}!{name}"] = z.read(name).decode("utf-8", "replace")
        else:
            found[str(rel)] = path.read_bytes().decode("utf-8", "replace")
    return found


def digits_only(text: str) -> str:
    return re.sub(r"[ \-]", "", text)


# --- the secret ---------------------------------------------------------------------------------------------


def test_the_secret_is_created_once_owner_only_and_reused(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project)
    path = secret_path(root)
    assert path == root / ".crm-migrate" / "secret" and not path.exists()
    prepare(load_project(root))  # plan writes nothing, the secret included
    assert not path.exists()
    run(load_project(root), tmp_path / "out")
    first = path.read_bytes()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    run(load_project(root), tmp_path / "out")
    assert path.read_bytes() == first  # reused, not replaced
    assert project_secret(root) == bytes.fromhex(first.decode().strip())
    assert not any(first.decode().strip() in t for t in texts_outside_import(tmp_path / "out").values())


def test_the_secret_file_can_be_named_by_the_environment(make_project, tmp_path, monkeypatch):
    root = project(make_project)
    elsewhere = tmp_path / "keys" / "crm.secret"
    monkeypatch.setenv(SECRET_ENV, str(elsewhere))
    run(load_project(root), tmp_path / "out")
    assert elsewhere.is_file() and not (root / ".crm-migrate").exists()
    monkeypatch.setenv(SECRET_ENV, str(tmp_path / "out" / "secret"))
    with pytest.raises(MigrateError) as exc:
        run(load_project(root), tmp_path / "out")
    assert "inside the output folder" in exc.value.problems[0].message


@pytest.mark.skipif(os.name != "posix", reason="owner-only modes are POSIX")
def test_a_secret_others_can_read_or_a_damaged_one_is_refused(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project)
    run(load_project(root), tmp_path / "out")
    path = secret_path(root)
    path.chmod(0o644)
    with pytest.raises(MigrateError) as exc:
        run(load_project(root), tmp_path / "out")
    assert "chmod 600" in exc.value.problems[0].hint
    path.chmod(0o600)
    path.write_text("abc\n", encoding="ascii")
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(root))
    assert "damaged" in exc.value.problems[0].message and "abc" not in str(exc.value)


# --- fingerprints ---------------------------------------------------------------------------------------------


def test_a_fingerprint_depends_on_the_secret_and_cannot_be_recomputed_without_it():
    values = ["A1", "北京星辰科技有限公司", "13812345678", ID_A]
    one, two = fingerprint(values, b"s" * 32), fingerprint(values, b"t" * 32)
    assert one != two and one.split(":")[0] == key_id(b"s" * 32)
    joined = "\x1f".join(values).encode()
    plain = {hashlib.new(name, joined).hexdigest() for name in ("sha1", "sha256", "md5", "blake2b")}
    digest = one.split(":")[1]
    assert not any(digest in p or p.startswith(digest) for p in plain)
    assert legacy_fingerprint(values) not in one
    # trying every birth date of the masked number finds nothing without the secret
    masked = ID_A[:6] + "********" + ID_A[-4:]
    assert masked.startswith("110105")
    guesses = {
        legacy_fingerprint([*values[:3], f"110105{1990:04d}{m:02d}{d:02d}{ID_A[-4:]}"])
        for m in range(1, 13)
        for d in range(1, 32)
    }
    assert legacy_fingerprint(values) in guesses  # what the unkeyed one gave away
    assert not any(g in one for g in guesses)


def test_the_review_workbook_carries_keyed_fingerprints(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project)
    result = run(load_project(root), tmp_path / "out")
    secret = project_secret(root)
    sheet = load_workbook(tmp_path / "out" / "review" / "duplicates.xlsx")["accounts"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = rows[0]
    prints = {r[header.index("record")]: r[header.index("fingerprint")] for r in rows[1:] if r[header.index("record")]}
    assert set(prints) == {"accounts:2", "accounts:3"}
    frame = result.migration.entities[Entity.accounts].frame.with_columns(refs().alias("_ref"))
    fields = result.migration.entities[Entity.accounts].fields
    for ref, shown in prints.items():
        values = list(_values(frame.filter(pl.col("_ref") == ref), fields)[0])
        assert shown == fingerprint(values, secret)
        assert shown != legacy_fingerprint(values) and legacy_fingerprint(values) not in shown


def decisions_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entity", "record", "decision", "into", "fingerprint"])
        for record, decision, fp in rows:
            w.writerow(["accounts", record, decision, "", fp])
    return path


def test_decisions_of_an_earlier_version_still_apply_and_are_counted(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project)
    first = prepare(load_project(root))
    res = first.migration.entities[Entity.accounts]
    frame = res.frame.with_columns(refs().alias("_ref"))
    old = legacy_fingerprint(list(_values(frame.filter(pl.col("_ref") == "accounts:3"), res.fields)[0]))
    path = decisions_csv(root / "old.csv", [("accounts:3", "keep apart", old)])
    again = run(load_project(root), tmp_path / "out", decisions=path)
    applied = again.migration.entities[Entity.accounts].decisions
    assert applied.applied == 1 and applied.legacy == 1 and not applied.stale
    # the same decision with a fingerprint that matches no row's values is stale, not applied
    path = decisions_csv(root / "wrong.csv", [("accounts:3", "keep apart", "0123456789ab")])
    applied = prepare(load_project(root), decisions=path).migration.entities[Entity.accounts].decisions
    assert applied.applied == 0 and "changed" in applied.stale[0].why


def test_a_fingerprint_under_another_secret_is_stale_with_the_reason(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project)
    run(load_project(root), tmp_path / "out")
    res = prepare(load_project(root)).migration.entities[Entity.accounts]
    frame = res.frame.with_columns(refs().alias("_ref"))
    values = list(_values(frame.filter(pl.col("_ref") == "accounts:3"), res.fields)[0])
    path = decisions_csv(root / "d.csv", [("accounts:3", "keep apart", fingerprint(values, b"x" * 32))])
    result = run(load_project(root), tmp_path / "out", decisions=path)
    stale = result.migration.entities[Entity.accounts].decisions.stale
    assert len(stale) == 1 and "another project secret" in stale[0].why
    with (tmp_path / "out" / "review" / "stale_decisions.csv").open(encoding="utf-8-sig") as f:
        assert [r["record"] for r in csv.DictReader(f)] == ["accounts:3"]
    ok = decisions_csv(root / "ok.csv", [("accounts:3", "keep apart", fingerprint(values, project_secret(root)))])
    applied = prepare(load_project(root), decisions=ok).migration.entities[Entity.accounts].decisions
    assert applied.applied == 1 and not applied.stale and applied.legacy == 0


# --- masks ----------------------------------------------------------------------------------------------------


def test_id_numbers_in_any_form_are_masked_and_look_alikes_are_not():
    with_x = valid_id("11010519900307005")
    assert with_x.endswith("X")
    texts = [
        f"身份证 {ID_A} 完",
        f"号码{with_x.lower()}号",
        "".join("０１２３４５６７８９"[int(c)] for c in ID_B),
        f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}",
        "旧证 110105900307002 作废",
        f"{ID_A}x1",
        "913101284463376896",
        ID_A[:17] + str((int(ID_A[17]) + 1) % 10),
        "卡号 6222021234567890123",
        f"手机 {MOBILE}",
        None,
    ]
    masked = mask_texts(texts)
    assert masked[0] == f"身份证 {ID_A[:6]}********{ID_A[-4:]} 完"
    assert masked[1] == "号码110105********005x号"
    assert "********" in masked[2]
    assert masked[3] == f"{ID_A[:6]}**********{ID_A[-4:]}"
    assert masked[4] == "旧证 110105*****7002 作废"
    assert masked[5] == f"{ID_A[:6]}********{ID_A[-4:]}x1"
    assert masked[6:] == texts[6:]  # a credit code, a wrong check digit, a bank card, a mobile (no option), None
    assert mask_texts([f"手机 {MOBILE}", "+86 139-1234-5678", "8613912345678"], mobiles=True) == [
        "手机 139****5678",
        "+86 139-****-5678",
        "86139****5678",
    ]


def test_a_frame_is_masked_over_whole_columns_but_its_record_ids():
    frame = pl.DataFrame({"record_id": ["acc_" + ID_A], "reason": [f"has {ID_A}"], "row": [3]})
    masked = mask_frame(frame, keep=("record_id",))
    assert masked["record_id"][0] == "acc_" + ID_A and ID_A not in masked["reason"][0] and masked["row"][0] == 3


def test_no_id_number_leaves_import_in_full(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    from crm_migrate.migrate.dryrun import dry_run

    root = project(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    dry_run(load_project(root), out / "dry-run", size=10)
    imported = "".join(p.read_text(encoding="utf-8-sig") for p in out.rglob("import/*.csv"))
    assert ID_A in imported  # the target gets the note as written
    texts = texts_outside_import(out)
    assert any(n.startswith("rejects") for n in texts) and any("duplicates.xlsx!" in n for n in texts)
    assert any(n.startswith("dry-run/findings") for n in texts)
    lineage = (out / "lineage.csv").read_text(encoding="utf-8-sig")
    assert f"({ID_E[:6]}********{ID_E[-4:]}" in lineage  # the target's reason, masked where it quotes the note
    for name, text in texts.items():
        for number in IDS:
            assert number not in digits_only(text), (name, number)
            assert number not in text.translate(str.maketrans("０１２３４５６７８９", "0123456789")), (name, number)
    rejects = (out / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig")
    assert f"{ID_C[:6]}********{ID_C[-4:]}" in rejects and MOBILE in rejects  # mobiles only by the option


def test_mobiles_are_masked_by_the_project_option(make_project, tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    root = project(make_project, ", mask_mobiles: true")
    out = tmp_path / "out"
    run(load_project(root), out)
    imported = "".join(p.read_text(encoding="utf-8-sig") for p in (out / "import").glob("*.csv"))
    assert "13812345678" in imported  # the import keeps them
    for name, text in texts_outside_import(out).items():
        for number in (MOBILE, "13812345678"):
            assert number not in digits_only(text), (name, number)
    rejects = list(csv.DictReader(io.StringIO((out / "rejects" / "accounts.csv").read_text(encoding="utf-8-sig"))))
    assert rejects[0]["电话"] == "139****5678"
