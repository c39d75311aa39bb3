"""Target profiles and import files: headers and order, encoding bytes, XLSX text cells, row and size limits,
formula prefixes, records the target would refuse, links across files, and profile errors with lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crm_migrate.errors import ProjectError
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import BUILT_IN, built_in_names, load_target
from crm_migrate.migrate.run import prepare, run
from crm_migrate.project import load_project

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {编号: id, 名称: name, 信用代码: uscc, 电话: phone, 备注: note, 级别: level}
"""
CONTACTS = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns: {编号: id, 客户: account_id, 姓名: name, 手机: mobile, 身份证: id_card, 生日: birthday}
"""
ACCOUNTS_CSV = """编号,名称,信用代码,电话,备注,级别
A1,北京星辰科技有限公司,91350100M000100Y43,010-62345678,=HYPERLINK("http://x"),A
A2,上海云帆贸易有限公司,,+86 21 5555 6666,-5 折扣,B
A3,广州恒通物流有限公司,,,老客户,A
"""
CONTACTS_CSV = """编号,客户,姓名,手机,身份证,生日
L1,A1,张伟,13800138001,11010519491231002X,1949-12-31
L2,A2,李娜,13900139000,,1990/3/5
L3,A3,王芳,13700137000,,
"""
ENTITIES = "entities: [accounts, contacts]\n"
USCC2 = "91110108MA0123456G"


def project(make_project, target: str, extra: dict[str, str] | None = None, accounts_csv: str = ACCOUNTS_CSV):
    files = {"data/accounts.csv": accounts_csv, "data/contacts.csv": CONTACTS_CSV, **(extra or {})}
    return load_project(
        make_project(
            f"name: t\ntarget: {target}\n{ENTITIES}options: {{today: 2026-01-01}}\n",
            {"accounts": ACCOUNTS, "contacts": CONTACTS},
            files,
        )
    )


@pytest.mark.parametrize("name", built_in_names())
def test_every_built_in_profile_loads_and_names_what_it_rests_on(name):
    profile, doc = load_target(name, Path("."), "migration.yaml", None)
    assert profile.rests_on and profile.entities
    assert doc.path == f"<built-in>/{name}.yaml"
    assert (BUILT_IN / f"{name}.yaml").read_text(encoding="utf-8").startswith("#")  # a comment: what it rests on


@pytest.mark.parametrize("name", ["generic", "salesforce", "hubspot", "dynamics"])
def test_csv_targets_write_the_template_headers_in_order_and_the_encoding_bytes(make_project, tmp_path, name):
    p = project(make_project, name)
    result = run(p, tmp_path / "out")
    for entity in (Entity.accounts, Entity.contacts):
        done = result.conformed[entity]
        path = tmp_path / "out" / "import" / f"{entity.order:02d}_{entity.value}_001.csv"
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == p.target.file.bom
        # Read back as the target reads it: its encoding, its delimiter; value for value what was meant.
        text = raw.decode("utf-8-sig" if p.target.file.bom else "utf-8")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=p.target.file.delimiter))
        assert rows[0] == done.frame.columns
        if not p.target.entities[entity].mapped_only:
            assert rows[0] == [c.header for c in p.target.entities[entity].columns]
        intended = [["" if v is None else v for v in row] for row in done.frame.iter_rows()]
        assert rows[1:] == intended


def test_generic_keeps_the_columns_the_project_maps(make_project, tmp_path):
    run(project(make_project, "generic"), tmp_path / "out")
    header = (tmp_path / "out/import/01_accounts_001.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",")[:5] == ["external_id", "legacy_id", "name", "uscc", "phone"]
    assert "website" not in header  # no source maps it


def test_fxiaoke_xlsx_keeps_identifiers_as_text_with_chinese_headers(make_project, tmp_path):
    p = project(make_project, "fxiaoke")
    run(p, tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out/import/01_accounts_001.xlsx")
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("客户名称", "统一社会信用代码", "客户编号", "外部ID")
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["统一社会信用代码"] == "91350100M000100Y43"
    assert first["电话"] == "+861062345678" and isinstance(first["电话"], str)
    contacts = list(
        openpyxl.load_workbook(tmp_path / "out/import/02_contacts_001.xlsx").active.iter_rows(values_only=True)
    )
    row = dict(zip(contacts[0], contacts[1], strict=True))
    assert row["客户名称"] == "北京星辰科技有限公司"  # Fxiaoke looks the account up by its name
    assert row["手机"] == "+8613800138001"
    assert all(isinstance(v, str) for v in row.values() if v is not None)


def test_formula_values_are_prefixed_and_counted_but_phones_and_amounts_are_not(make_project, tmp_path):
    result = run(project(make_project, "generic"), tmp_path / "out")
    frame = result.conformed[Entity.accounts].frame
    notes = dict(zip(frame["legacy_id"].to_list(), frame["note"].to_list(), strict=True))
    assert notes["A1"] == '\'=HYPERLINK("http://x")'
    assert notes["A2"] == "'-5 折扣"
    assert frame.filter(pl.col("legacy_id") == "A2")["phone"][0] == "+862155556666"
    manifest = json.loads((tmp_path / "out/manifest.json").read_text(encoding="utf-8"))
    assert manifest["target"]["formulas_neutralised"] == {"accounts": {"note": 2}}


def own_profile(columns_accounts: str, file: str = "{format: csv, encoding: utf-8}", contacts: str = "") -> str:
    """A project profile; the column lines are given at six spaces' indent."""
    link = contacts or "      - {header: Account, value: account_external_id, parent: accounts}\n"
    return (
        "name: mine\nrests_on: a test\nfile: " + file + "\nentities:\n"
        "  accounts:\n    object: Account\n    columns:\n"
        + columns_accounts
        + "  contacts:\n    object: Contact\n    columns:\n"
        "      - {header: Id, value: external_id, required: true}\n"
        "      - {header: Name, value: name}\n" + link
    )


ACCOUNT_COLUMNS = """\
      - {header: Id, value: external_id, required: true}
      - {header: Name, value: name, max_length: 10}
      - {header: Level, value: level, type: picklist, picklist: [A]}
"""


def test_a_record_the_target_would_refuse_is_rejected_with_its_reason_and_so_are_its_children(make_project, tmp_path):
    p = project(make_project, "targets/mine.yaml", {"targets/mine.yaml": (own_profile(ACCOUNT_COLUMNS))})
    result = run(p, tmp_path / "out")
    accounts = result.migration.entities[Entity.accounts].frame.sort("_row")
    reasons = dict(zip(accounts["_row"].to_list(), accounts["_reason"].to_list(), strict=True))
    assert "Name: 10 characters" not in (reasons[2] or "")  # 北京星辰科技有限公司 is exactly 10
    assert reasons[3].startswith("target mine: ") and "Level: B is not one of the target's values (A)" in reasons[3]
    assert "Name: 10 characters" not in reasons[3]
    contacts = result.migration.entities[Entity.contacts].frame.sort("_row")
    row3 = contacts.filter(pl.col("_row") == 3)
    assert row3["_outcome"][0] == "rejected"
    assert "Account: its account" in row3["_reason"][0] and "was rejected by the target (mine)" in row3["_reason"][0]
    rejects = pl.read_csv(tmp_path / "out/rejects/contacts.csv", infer_schema=False)
    assert rejects.filter(pl.col("reason").str.contains("rejected by the target")).height == 1
    written = pl.read_csv(tmp_path / "out/import/02_contacts_001.csv", infer_schema=False)
    assert set(written["Account"]) <= set(
        pl.read_csv(tmp_path / "out/import/01_accounts_001.csv", infer_schema=False)["Id"]
    )
    assert result.reconciliation.balanced


def test_orphans_go_to_a_placeholder_account_where_the_project_says_so(make_project, tmp_path):
    contacts_csv = CONTACTS_CSV + "L4,A9,赵磊,13600136000,,\n"  # A9 does not exist; A3 the target refuses (level B)
    files = {
        "data/accounts.csv": ACCOUNTS_CSV.replace(
            "A3,广州恒通物流有限公司,,,老客户,A", "A3,广州恒通物流有限公司,,,老客户,B"
        ),
        "data/contacts.csv": contacts_csv,
        "targets/mine.yaml": own_profile(ACCOUNT_COLUMNS),
    }
    config = (
        f"name: t\ntarget: targets/mine.yaml\n{ENTITIES}options:\n  today: 2026-01-01\n"
        "  orphans: {send_to: account, account_name: 待分配客户}\n"
    )
    p = load_project(make_project(config, {"accounts": ACCOUNTS, "contacts": CONTACTS}, files))
    result = run(p, tmp_path / "out")
    accounts = pl.read_csv(tmp_path / "out/import/01_accounts_001.csv", infer_schema=False)
    contacts = pl.read_csv(tmp_path / "out/import/02_contacts_001.csv", infer_schema=False)
    placeholder = accounts.filter(pl.col("Name") == "待分配客户")["Id"].to_list()
    assert len(placeholder) == 1 and accounts.height == 2  # A1 and the placeholder; A2 and A3 refused by level
    by_name = dict(zip(contacts["Name"].to_list(), contacts["Account"].to_list(), strict=True))
    assert by_name["赵磊"] == placeholder[0]  # missing account
    assert by_name["李娜"] == placeholder[0] and by_name["王芳"] == placeholder[0]  # accounts the target refused
    assert by_name["张伟"] != placeholder[0]
    lineage = pl.read_csv(tmp_path / "out/lineage.csv", infer_schema=False).filter(pl.col("entity") == "contacts")
    reasons = dict(zip(lineage["row"].to_list(), lineage["reason"].to_list(), strict=True))
    assert reasons["5"] == "linked to the placeholder account: no account with id A9 in crm"
    assert reasons["3"].startswith("linked to the placeholder account: its account acc_")
    assert "was rejected by the target (mine)" in reasons["3"]
    orphans = pl.read_csv(tmp_path / "out/review/orphans.csv", infer_schema=False)
    assert sorted(orphans["row"].to_list()) == ["3", "4", "5"]
    manifest = json.loads((tmp_path / "out/manifest.json").read_text(encoding="utf-8"))
    assert manifest["target"]["placeholder_account"] == {
        "external_id": placeholder[0],
        "name": "待分配客户",
        "children": {"contacts": 3},
    }
    assert result.reconciliation.balanced


def test_no_placeholder_account_is_written_when_no_child_needs_it(make_project, tmp_path):
    config = f"name: t\ntarget: generic\n{ENTITIES}options:\n  today: 2026-01-01\n  orphans: {{send_to: account}}\n"
    files = {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV}
    p = load_project(make_project(config, {"accounts": ACCOUNTS, "contacts": CONTACTS}, files))
    result = prepare(p)
    assert result.conformed[Entity.accounts].frame.height == 3
    assert "待分配客户（迁移）" not in result.conformed[Entity.accounts].frame["name"].to_list()


def test_placeholder_values_must_be_account_fields_a_source_maps(make_project):
    config = (
        f"name: t\ntarget: generic\n{ENTITIES}options:\n  orphans:\n    send_to: account\n    fields: {{onwer: 张伟}}\n"
    )
    files = {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV}
    with pytest.raises(ProjectError) as exc:
        load_project(make_project(config, {"accounts": ACCOUNTS, "contacts": CONTACTS}, files))
    problem = exc.value.problems[0]
    assert "no source maps an account field 'onwer'" in problem.message and problem.line == 7


def test_an_over_long_value_and_a_gbk_character_are_refused_by_row_and_column(make_project, tmp_path):
    columns = """\
      - {header: Id, value: external_id, required: true}
      - {header: Name, value: name, max_length: 9}
      - {header: Note, value: note}
"""
    accounts = ACCOUNTS_CSV.replace("老客户", "王䶮的客户")
    p = project(
        make_project,
        "targets/mine.yaml",
        {"targets/mine.yaml": (own_profile(columns, "{format: csv, encoding: gbk}"))},
        accounts,
    )
    result = prepare(p)
    reasons = result.migration.entities[Entity.accounts].frame.sort("_row")["_reason"].to_list()
    assert "Name: 10 characters, the target keeps at most 9 (北京星辰科技有限公司...)" in reasons[0]
    assert "Note: 䶮 (U+4DAE) cannot be written in GBK" in reasons[2]


def test_a_link_by_name_that_two_parents_share_is_refused_not_resolved_to_the_first(make_project, tmp_path):
    link = "      - {header: Account, value: account_external_id, parent: accounts, parent_key: name}\n"
    columns = """\
      - {header: Id, value: external_id, required: true}
      - {header: Name, value: name}
"""
    # A3 has A1's name but another credit code: two companies the target could not tell apart by name.
    accounts = ACCOUNTS_CSV.replace("A3,广州恒通物流有限公司,,", "A3,北京星辰科技有限公司,USCC2,")
    accounts = accounts.replace("USCC2", USCC2)
    p = project(
        make_project, "targets/mine.yaml", {"targets/mine.yaml": (own_profile(columns, contacts=link))}, accounts
    )
    result = prepare(p)
    assert result.migration.entities[Entity.accounts].written().height == 3
    contacts = result.migration.entities[Entity.contacts].frame.sort("_row")
    assert contacts["_outcome"].to_list() == ["rejected", "written", "rejected"]
    assert (
        "Account: ambiguous link, 2 accounts are called 北京星辰科技有限公司 and the target looks them up by name"
        in contacts["_reason"][0]
    )
    assert result.conformed[Entity.contacts].frame["Account"].to_list() == ["上海云帆贸易有限公司"]


def test_files_are_split_at_the_row_limit_parents_first(make_project, tmp_path):
    p = project(
        make_project,
        "targets/mine.yaml",
        {
            "targets/mine.yaml": (
                own_profile(
                    "      - {header: Id, value: external_id, required: true}\n      - {header: Name, value: name}\n",
                    "{format: csv, encoding: utf-8, max_rows: 2}",
                )
            )
        },
    )
    planned = [(f["path"], f["rows"]) for f in prepare(p).files]  # what plan predicts
    result = run(p, tmp_path / "out")
    names = sorted(f["path"] for f in result.files if str(f["path"]).startswith("import/"))
    assert names == [
        "import/01_accounts_001.csv",
        "import/01_accounts_002.csv",
        "import/02_contacts_001.csv",
        "import/02_contacts_002.csv",
    ]
    assert planned == [(f["path"], f["rows"]) for f in result.files if str(f["path"]).startswith("import/")]
    sizes = [
        f["rows"] for f in sorted(result.files, key=lambda f: str(f["path"])) if str(f["path"]).startswith("import/")
    ]
    assert sizes == [2, 1, 2, 1]


def test_files_are_split_at_the_size_limit(make_project, tmp_path):
    from crm_migrate.mappings.entities import Entity as E
    from crm_migrate.mappings.targets import ColumnType, FileSpec
    from crm_migrate.migrate.import_files import planned_files, write_import

    frame = pl.DataFrame({"Name": [f"客户{i:05d}" * 20 for i in range(300)]})
    spec = FileSpec(format="csv", encoding="utf-8", max_bytes=20_000)
    files = write_import(frame, {"Name": ColumnType.text}, spec, tmp_path, E.accounts)
    assert planned_files(frame, spec, E.accounts) == [(f"import/{path.name}", rows) for path, rows in files]
    assert len(files) > 1 and sum(rows for _, rows in files) == 300
    assert all(path.stat().st_size <= 20_000 for path, _ in files)
    back = pl.concat([pl.read_csv(path) for path, _ in files])
    assert back["Name"].to_list() == frame["Name"].to_list()


def test_a_profile_with_an_unknown_value_names_its_line_and_suggests(make_project):
    bad = own_profile("      - {header: Id, value: external_id, required: true}\n      - {header: Name, value: nmae}\n")
    with pytest.raises(ProjectError) as exc:
        project(make_project, "targets/mine.yaml", {"targets/mine.yaml": bad})
    problem = next(p for p in exc.value.problems if "nmae" in p.message)
    assert problem.line == 9 and "did you mean 'name'" in (problem.hint or "")


def test_an_unknown_target_suggests_the_built_in_ones(make_project):
    with pytest.raises(ProjectError) as exc:
        project(make_project, "salesfroce")
    assert "did you mean 'salesforce'" in (exc.value.problems[0].hint or "")


def test_a_target_without_an_entity_in_scope_is_an_error(make_project):
    root = make_project(
        "name: t\ntarget: salesforce\n",
        {"accounts": ACCOUNTS, "contacts": CONTACTS},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": CONTACTS_CSV},
    )
    with pytest.raises(ProjectError) as exc:
        load_project(root)
    assert any("target salesforce has no import template for activities" in p.message for p in exc.value.problems)


def test_conform_returns_a_new_migration_and_leaves_the_one_it_was_given_as_it_was(make_project, tmp_path):
    """The records the target refuses are rejected in the migration conform returns; the one it is given
    keeps its outcomes (a caller holding it, as the dry run does, sees the build as it was)."""
    from crm_migrate.migrate.conform import conform
    from crm_migrate.migrate.pipeline import build

    p = project(make_project, "targets/mine.yaml", {"targets/mine.yaml": (own_profile(ACCOUNT_COLUMNS))})
    migration = build(p)
    before = {e: r.frame.select("_seq", "_outcome", "_reason") for e, r in migration.entities.items()}
    assert p.target is not None
    conformed_migration, conformed = conform(migration, p.target)
    for entity, frame in before.items():
        assert migration.entities[entity].frame.select("_seq", "_outcome", "_reason").equals(frame)
    after = conformed_migration.entities[Entity.accounts].frame
    assert after.filter(pl.col("_row") == 3)["_outcome"][0] == "rejected"
    assert before[Entity.accounts].filter(pl.col("_outcome") == "rejected").height == 0
    assert (
        conformed_migration.entities[Entity.contacts].frame.filter(pl.col("_row") == 3)["_outcome"][0] == "rejected"
    )  # the refused account's contact
    assert set(conformed) == {Entity.accounts, Entity.contacts}
