"""`crm-migrate init`: a starter project whose mappings follow the headers and values, ready to validate."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.suggest import fold, suggest
from crm_migrate.migrate.run import prepare
from crm_migrate.project import load_project

EXPORT = ("Company Name,联系人,手机号,E-mail,证件,备用,Remark\n"
          "北京星辰科技有限公司,张伟,13800138001,zw@x.cn,11010519491231002X,13911112222,老客户\n"
          "上海云帆贸易有限公司,李娜,139 0013 9000,ln@y.cn,,13722223333,\n")


def test_headers_in_chinese_and_english_and_values_without_a_header_are_mapped(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text(EXPORT, encoding="gbk")
    folder = tmp_path / "proj"
    result = CliRunner().invoke(app, ["init", str(folder), "--source", str(src)])
    assert result.exit_code == 0, result.output
    assert (folder / "data" / "export.csv").read_bytes() == src.read_bytes()  # a copy; the original untouched
    text = (folder / "mappings" / "export.yaml").read_text(encoding="utf-8")
    mapping = yaml.safe_load(text)
    # A second column of mobiles with a header that says nothing: the free phone field, flagged for review.
    assert mapping["entities"]["accounts"]["columns"] == {"Company Name": "name", "备用": "phone", "Remark": "note"}
    contacts = mapping["entities"]["contacts"]["columns"]
    assert contacts["联系人"] == "name" and contacts["手机号"] == "mobile" and contacts["E-mail"] == "email"
    assert contacts["证件"] == "id_card"  # no header says so; the check digits do
    assert "100% of 1 sampled values look like id_card; the header says nothing, check it" in text
    assert "# header '手机号' says mobile; 100% of 2 sampled values look like mobile" in text
    assert "100% of 2 sampled values look like mobile; the header says nothing, check it" in text
    project = load_project(folder)
    written = prepare(project).migration.entities[Entity.contacts].written()
    assert written["v:mobile"].to_list() == ["+8613800138001", "+8613900139000"]


def test_init_never_overwrites_a_project(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text(EXPORT, encoding="utf-8")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "migration.yaml").write_text("name: mine\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "proj"), "--source", str(src)])
    assert result.exit_code == 1 and "a project already exists here" in result.output
    assert (tmp_path / "proj" / "migration.yaml").read_text(encoding="utf-8") == "name: mine\n"


def test_fold_ignores_case_spacing_and_required_marks():
    assert fold("客户名称（必填）") == fold("客户名称") == "客户名称"
    assert fold("Account  Name") == fold("account_name") == "accountname"


def test_a_file_of_people_without_a_company_column_is_contacts_only():
    import polars as pl

    guesses, _ = suggest(pl.DataFrame({"姓名": ["张伟"], "手机": ["13800138001"]}))
    assert list(guesses) == [Entity.contacts]
