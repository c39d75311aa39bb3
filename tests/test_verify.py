"""verify: the target's export compared with what was sent, on a stored export with planted losses."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import run
from crm_migrate.validators.verify import verify
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
    assert v.by_column == {"name": {"truncated": 1, "lost characters": 1}, "mobile": {"float": 1, "dropped": 1},
                           "birthday": {"date moved": 1}}  # 1949-12-31 00:00:00 is the date sent
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
    result = CliRunner().invoke(app, ["verify", str(p.root), "--entity", "contacts", "--exported", str(EXPORT),
                                      "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "Reconciliation of contacts" in result.output and "truncated" in result.output
    bad = CliRunner().invoke(app, ["verify", str(p.root), "--entity", "leads", "--exported", str(EXPORT)])
    assert bad.exit_code == 1 and "no entity 'leads'" in bad.output
