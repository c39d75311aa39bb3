"""`crm-migrate target from-describe`: profiles from Salesforce and Fxiaoke describe output, used in a run."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import yaml
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.mappings.targets import load_target
from crm_migrate.migrate.run import run
from crm_migrate.project import load_project

DESCRIBE = Path(__file__).parent / "fixtures" / "describe"
ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns: {编号: id, 名称: name, 电话: phone, 级别: level}
  contacts:
    columns: {联系人: name, 手机: mobile}
"""
DATA = (
    "编号,名称,电话,级别,联系人,手机\nA1,北京星辰科技有限公司,010-62345678,重要客户,张伟,13800138001\n"
    "A2,上海云帆贸易有限公司,,VIP,李娜,13900139000\n"
)


def describe(tmp_path: Path, *names: str, name: str = "tenant"):
    return CliRunner().invoke(
        app,
        ["target", "from-describe", *(str(DESCRIBE / n) for n in names), "--name", name, "--project", str(tmp_path)],
    )


def test_salesforce_describe_gives_columns_required_flags_picklists_and_the_external_id_link(tmp_path):
    result = describe(tmp_path, "salesforce_Account.json", "salesforce_Contact.json", name="sf")
    assert result.exit_code == 0, result.output
    assert "1 column(s) still need a value" in result.output
    profile, _ = load_target("sf", tmp_path, "migration.yaml", None)
    accounts = {c.header: c for c in profile.entities["accounts"].columns}
    assert list(accounts) == ["Name", "Phone", "Industry", "Legacy_Code__c", "Ext_Key__c"]  # createable only
    assert accounts["Name"].required and accounts["Name"].max_length == 255 and accounts["Name"].value == "name"
    assert accounts["Industry"].picklist == ["Technology", "Retail"]  # inactive values left out
    assert accounts["Legacy_Code__c"].value is None and accounts["Legacy_Code__c"].required
    assert accounts["Ext_Key__c"].value == "external_id"
    contacts = {c.header: c for c in profile.entities["contacts"].columns}
    link = contacts["Account.Ext_Key__c"]
    assert link.value == "account_external_id" and link.parent.value == "accounts"
    assert contacts["LastName"].value == "name_family" and contacts["LastName"].required
    text = (tmp_path / "targets" / "sf.yaml").read_text(encoding="utf-8")
    assert "Legacy_Code__c" in text and "# no crm-migrate field fills this yet" in text


def test_fxiaoke_describe_round_trips_through_a_run(tmp_path, make_project):
    root = make_project(
        "name: t\ntarget: fx\nentities: [accounts, contacts]\n", {"sheet": ACCOUNTS}, {"data/accounts.csv": DATA}
    )
    result = describe(root, "fxiaoke_AccountObj.json", "fxiaoke_ContactObj.json", name="fx")
    assert result.exit_code == 0, result.output
    profile = yaml.safe_load((root / "targets" / "fx.yaml").read_text(encoding="utf-8"))
    assert profile["file"]["format"] == "xlsx"
    headers = [c["header"] for c in profile["entities"]["accounts"]["columns"]]
    assert headers == ["客户名称", "电话", "客户级别", "合作年限", "外部ID"]  # system fields (_id, 创建人) left out
    done = run(load_project(root), root / "out")
    accounts = done.migration.entities[next(e for e in done.conformed if e.value == "accounts")].frame.sort("_row")
    # VIP is not one of the tenant's 客户级别 options: that account is refused, and so is its contact.
    assert accounts["_outcome"].to_list() == ["written", "rejected"]
    assert "客户级别: VIP is not one of the target's values (重要客户, 普通客户)" in accounts["_reason"][1]
    book = openpyxl.load_workbook(root / "out" / "import" / "02_contacts_001.xlsx")
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "客户名称", "手机", "外部ID")
    assert rows[1][:3] == ("张伟", "北京星辰科技有限公司", "+8613800138001") and len(rows) == 2
    rejects = pl.read_csv(root / "out" / "rejects" / "contacts.csv", infer_schema=False)
    assert "was rejected by the target (fx)" in rejects["reason"][0]


def test_a_file_that_is_no_describe_is_refused_with_a_message(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    result = CliRunner().invoke(app, ["target", "from-describe", str(bad), "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "neither a Salesforce sObject describe" in result.output
    assert not (tmp_path / "targets").exists()
