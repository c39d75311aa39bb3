"""verify: the target's export compared with what was sent, on a stored export with planted losses."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import run
from crm_migrate.migrate.verify import verify
from crm_migrate.validators.readback import AS_NUMBER
from tests.conftest import FIXTURES
from tests.test_targets import project

EXPORT = FIXTURES / "verify" / "contacts_export.csv"  # GBK, other header case, dates with a time


@pytest.fixture
def sent(make_project, tmp_path):
    p = project(make_project, "generic")
    run(p, tmp_path / "out")
    return p, tmp_path / "out"


def test_verify_counts_missing_and_extra_records_and_classifies_each_difference(sent):
    _, out = sent
    v = verify(out, Entity.contacts, EXPORT)
    assert (v.sent, v.exported, v.matched, v.missing, v.extra) == (3, 3, 2, 1, 1)
    assert v.key == ["external_id"]
    assert v.by_column == {
        "name": {"truncated": 1, "lost characters": 1},
        "mobile": {"float": 1, "dropped": 1},
        "birthday": {"date moved": 1},
    }  # 1949-12-31 00:00:00 is the date sent
    assert "mobile_extension" in v.unmatched_columns and not v.clean
    report = pl.read_csv(out / "verify" / "contacts.csv", infer_schema=False)
    missing = report.filter(pl.col("rule") == "missing")
    assert missing["record"].to_list() == ["con_018dea881e038b72"] and missing["sent_line"].to_list() == ["4"]
    moved = report.filter(pl.col("rule") == "date moved").row(0, named=True)
    assert (moved["sent"], moved["exported"], moved["export_row"]) == ("1990-03-05", "1990-03-04", "3")
    assert (out / "verify" / "contacts.json").is_file()


def test_an_export_equal_to_what_was_sent_verifies_clean(sent, tmp_path):
    _, out = sent
    copy = tmp_path / "export.csv"
    copy.write_bytes((out / "import" / "02_contacts_001.csv").read_bytes())
    v = verify(out, Entity.contacts, copy)
    assert v.clean and v.matched == 3


def test_verify_by_key_columns_and_a_missing_key_names_the_fix(sent, tmp_path):
    _, out = sent
    v = verify(out, Entity.contacts, EXPORT, key=["legacy_id"])
    assert v.key == ["legacy_id"] and v.matched == 2
    no_id = tmp_path / "no_id.csv"
    pl.read_csv(EXPORT, encoding="gbk", infer_schema=False).drop("External_ID").write_csv(no_id)
    with pytest.raises(MigrateError) as exc:
        verify(out, Entity.contacts, no_id)
    assert "cannot match records by 'external_id': the export lacks it" in exc.value.problems[0].message


def test_the_verify_command_prints_totals_and_fails_on_differences(sent):
    p, out = sent
    result = CliRunner().invoke(
        app, ["verify", str(p.root), "--entity", "contacts", "--exported", str(EXPORT), "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "Reconciliation of contacts" in result.output and "truncated" in result.output
    bad = CliRunner().invoke(app, ["verify", str(p.root), "--entity", "leads", "--exported", str(EXPORT)])
    assert bad.exit_code == 1 and "no entity 'leads'" in bad.output


def _export_changed(sent_file, path, changes: dict[tuple[int, str], str]):
    """A copy of an import file with some cells changed: (row index, column) -> value."""
    frame = pl.read_csv(sent_file, infer_schema=False, encoding="utf8-lossy")
    for (i, column), value in changes.items():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == i).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        )
    frame.write_csv(path)
    return frame


def test_text_that_came_back_as_a_number_is_a_change_named_so(make_project, tmp_path):
    """A phone without its +, a code without its leading zeros, an ID without its X, a mobile as a float:
    what a target that stores the column as a number gives back. None of them is the value sent."""
    from tests.test_targets import ACCOUNTS_CSV

    accounts = ACCOUNTS_CSV.replace("A3,广州", "007,广州")  # a legacy code with leading zeros
    p = project(make_project, "generic", accounts_csv=accounts)
    out = tmp_path / "out"
    run(p, out)
    sent_accounts = pl.read_csv(out / "import" / "01_accounts_001.csv", infer_schema=False)
    i_phone = sent_accounts["phone"].to_list().index("+861062345678")
    i_code = sent_accounts["legacy_id"].to_list().index("007")
    _export_changed(
        out / "import" / "01_accounts_001.csv",
        tmp_path / "accounts.csv",
        {(i_phone, "phone"): "861062345678", (i_code, "legacy_id"): "7"},
    )
    v = verify(out, Entity.accounts, tmp_path / "accounts.csv")
    assert v.by_column == {"phone": {AS_NUMBER: 1}, "legacy_id": {AS_NUMBER: 1}}, v.by_column
    assert not v.clean
    report = pl.read_csv(out / "verify" / "accounts.csv", infer_schema=False)
    messages = dict(zip(report["column"], report["message"]))
    assert "came back as a number" in messages["phone"] and "leading +" in messages["phone"]
    assert "leading zeros" in messages["legacy_id"]

    sent_contacts = pl.read_csv(out / "import" / "02_contacts_001.csv", infer_schema=False)
    mobiles = sent_contacts["mobile"].to_list()
    i_x = sent_contacts["id_card"].to_list().index("11010519491231002X")
    _export_changed(
        out / "import" / "02_contacts_001.csv",
        tmp_path / "contacts.csv",
        {
            (i_x, "id_card"): "11010519491231002",
            (mobiles.index("+8613900139000"), "mobile"): "8613900139000.0",
            (mobiles.index("+8613800138001"), "mobile"): "8613800138001",
        },
    )
    v = verify(out, Entity.contacts, tmp_path / "contacts.csv")
    assert v.by_column == {"mobile": {"float": 1, AS_NUMBER: 1}, "id_card": {AS_NUMBER: 1}}, v.by_column
    report = pl.read_csv(out / "verify" / "contacts.csv", infer_schema=False)
    assert report.filter(pl.col("column") == "mobile")["message"].str.contains("came back as a number").all()


def test_amounts_with_other_decimals_stay_equal_only_where_the_column_holds_numbers():
    from crm_migrate.validators.roundtrip import _same

    assert _same("1200.00", "1200", numeric=True) and _same("0.50", ".5", numeric=True)
    assert not _same("+8675567158223", "8675567158223", numeric=False)
    assert not _same("13800138000", "13800138000.0", numeric=False)
    # A run whose manifest does not type its columns: text-shaped values are text, amounts numbers.
    assert _same("1200.00", "1200") and not _same("+8675567158223", "8675567158223")
    assert not _same("075512345678", "75512345678") and not _same("13800138000", "1.3800138e+10")


def test_each_way_text_comes_back_as_a_number_is_named():
    from crm_migrate.validators.readback import difference

    for want, have in [
        ("+8675567158223", "8675567158223"),
        ("075512345678", "75512345678"),
        ("0042", "42"),
        ("11010519491231002X", "11010519491231002"),
        ("13800138000", "1.3800138e+10"),
        ("13800138000", "13800138000.0"),
    ]:
        rule, message, _ = difference(want, have, (want,), 0)
        assert rule in (AS_NUMBER, "float") and "came back as a number" in message, (want, have, rule, message)
