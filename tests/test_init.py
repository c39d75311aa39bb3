"""`crm-migrate init`: a starter project whose mappings follow the headers and values, ready to validate."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.run import prepare
from crm_migrate.migrate.suggest import fold, suggest
from crm_migrate.project import load_project

EXPORT = (
    "Company Name,联系人,手机号,E-mail,证件,备用,Remark\n"
    "北京星辰科技有限公司,张伟,13800138001,zw@x.cn,11010519491231002X,13911112222,老客户\n"
    "上海云帆贸易有限公司,李娜,139 0013 9000,ln@y.cn,,13722223333,\n"
)


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


# -- issue 13: a project that runs --------------------------------------------------------------------

import polars as pl  # noqa: E402
import pytest  # noqa: E402

from crm_migrate.migrate.suggest import propose_values  # noqa: E402

ROOT_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent


def _init(tmp_path, *files, target=None):
    folder = tmp_path / "proj"
    args = ["init", str(folder)] + [a for f in files for a in ("--source", str(f))]
    if target:
        args += ["--target", str(target)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder


def _mapping(folder, stem):
    text = (folder / "mappings" / f"{stem}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text), text


def _columns(mapping, entity):
    """column -> field, whatever form the mapping gives it."""
    cols = mapping["entities"][entity]["columns"]
    return {k: v if isinstance(v, str) else v["field"] for k, v in cols.items()}


def _workbook(path, sheets, merges=()):
    """sheets: {name: rows}; merges: (sheet, first_row, col, last_row) zero-based, value from the first row."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is not None:
                    ws.write_string(r, c, v)
        for sheet, first, col, last in merges:
            if sheet == name:
                ws.merge_range(first, col, last, col, rows[first][col])
    book.close()
    return path


def _written(folder, entity):
    return prepare(load_project(folder)).migration.entities[entity].written()


SALES = {
    "华东": [
        ["华东区客户表", None, None, None],
        ["公司名称", "联系人", "手机", "职务"],
        ["北京星辰科技有限公司", "张伟", "13800138001", "经理"],
        ["同上", "李娜", "13900139002", "采购"],
        ["上海云帆贸易有限公司", "王强", "13700137003", "总经理"],
        ["〃", "赵敏", "13600136004", "会计"],
    ],
    "华南": [
        ["单位", "姓名", "手机号码", "职位"],
        ["深圳蓝海电子有限公司", "陈静", "13500135005", "工程师"],
        ["广州青松食品有限公司", "周杰", "13300133007", "主管"],
        ["单位", "姓名", "手机号码", "职位"],  # the header again, where two lists were pasted together
        ["杭州绿野农业有限公司", "孙丽", "13200132008", "经理"],
    ],
    "台灣": [["客戶名稱", "聯繫人", "聯繫電話", "職稱"], ["台北新光電子有限公司", "林志明", "13100131009", "經理"]],
}


def test_one_column_spelt_differently_per_sheet_is_one_mapping_with_every_spelling(tmp_path):
    book = _workbook(tmp_path / "客户表.xlsx", SALES)
    folder = _init(tmp_path, book)
    mapping, _ = _mapping(folder, "客户表")
    assert _columns(mapping, "accounts") == {"公司名称|单位|客戶名稱": "name"}
    assert _columns(mapping, "contacts") == {
        "联系人|姓名|聯繫人": "name",
        "手机|手机号码|聯繫電話": "mobile",
        "职务|职位|職稱": "title",
    }
    assert "read" not in mapping  # every sheet holds the same entities: one mapping reads them all
    contacts = _written(folder, Entity.contacts)
    assert sorted(contacts["v:name"].to_list()) == sorted(
        ["张伟", "李娜", "王强", "赵敏", "陈静", "周杰", "孙丽", "林志明"]
    )
    assert contacts["_account"].null_count() == 0  # 李娜 and 赵敏 (同上, 〃) have their company


def test_fold_reads_traditional_headers_as_simplified():
    assert fold("客戶名稱") == fold("客户名称") and fold("聯繫電話") == "联系电话"
    guesses, _ = suggest(pl.DataFrame({"客戶名稱": ["星辰科技"], "聯繫人": ["張偉"], "手機號碼": ["13800138001"]}))
    assert {g.column: g.field for g in guesses[Entity.contacts]} == {"聯繫人": "name", "手機號碼": "mobile"}


def test_ditto_marks_give_fill_down_with_the_reason(tmp_path):
    folder = _init(tmp_path, _workbook(tmp_path / "客户表.xlsx", SALES))
    mapping, text = _mapping(folder, "客户表")
    name = mapping["entities"]["accounts"]["columns"]["公司名称|单位|客戶名稱"]
    assert name["fill_down"] is True and "2 cell(s) say 同上 / 〃 (same as above)" in text
    assert not any(
        isinstance(v, dict) and v.get("fill_down") for v in mapping["entities"]["contacts"]["columns"].values()
    )


def test_merged_cells_give_fill_down(tmp_path):
    rows = [
        ["公司", "联系人", "手机"],
        ["深圳蓝海电子有限公司", "陈静", "13500135005"],
        [None, "刘洋", "13400134006"],
        ["广州青松食品有限公司", "周杰", "13300133007"],
    ]
    folder = _init(tmp_path, _workbook(tmp_path / "名单.xlsx", {"客户": rows}, merges=[("客户", 1, 0, 2)]))
    mapping, text = _mapping(folder, "名单")
    assert mapping["entities"]["accounts"]["columns"]["公司"]["fill_down"] is True
    assert "merged cells" in text
    contacts = _written(folder, Entity.contacts)
    accounts = _written(folder, Entity.accounts)
    lanhai = accounts.filter(pl.col("v:name") == "深圳蓝海电子有限公司")["_record_id"].item()
    assert contacts.filter(pl.col("v:name") == "刘洋")["_account"].item() == lanhai


def test_a_company_written_once_above_its_people_in_a_csv_is_filled_down_but_a_blank_signup_is_not(tmp_path):
    blocks = (
        "公司名称,公司地址,联系人,手机\n"
        "北京星辰科技有限公司,北京市海淀区中关村大街1号,张伟,13800138001\n"
        ",,李娜,13900139002\n"
        ",,王芳,13900139003\n"
        "上海云帆贸易有限公司,上海市浦东新区世纪大道2号,王强,13700137003\n"
        ",,赵敏,13600136004\n"
    )
    (tmp_path / "blocks.csv").write_text(blocks, encoding="utf-8")
    signups = (
        "姓名,单位,城市,手机\n张伟,北京星辰科技有限公司,北京,13800138001\n李娜,,上海,13900139002\n"
        "王强,,深圳,13700137003\n赵敏,上海云帆贸易有限公司,上海,13600136004\n"
    )
    (tmp_path / "signups.csv").write_text(signups, encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "blocks.csv", tmp_path / "signups.csv")
    mapping, text = _mapping(folder, "blocks")
    assert mapping["entities"]["accounts"]["columns"]["公司名称"]["fill_down"] is True
    assert "a company written once above its people" in text
    mapping, _ = _mapping(folder, "signups")
    assert _columns(mapping, "accounts") == {"单位": "name", "城市": "address"}
    assert mapping["entities"]["accounts"]["columns"]["单位"] == "name"  # no fill_down: a blank means no company


OLD_ACCOUNTS = (
    "客户编号,客户名称,电话\nC001,北京星辰科技有限公司,010-62345678\nC002,上海云帆贸易有限公司,021-58881234\n"
)
OLD_CONTACTS = "联系人编号,所属客户编号,客户名称,姓名,手机\nL1,C001,北京星辰科技有限公司,张伟,13800138001\nL2,C002,上海云帆,李娜,13900139002\n"


def test_files_of_one_old_crm_share_a_system_by_name_prefix_and_children_find_their_account(tmp_path):
    (tmp_path / "旧系统_客户.csv").write_text(OLD_ACCOUNTS, encoding="utf-8")
    (tmp_path / "旧系统_联系人.csv").write_text(OLD_CONTACTS, encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "旧系统_客户.csv", tmp_path / "旧系统_联系人.csv")
    accounts, _ = _mapping(folder, "旧系统_客户")
    contacts, text = _mapping(folder, "旧系统_联系人")
    assert accounts["system"] == contacts["system"] == "旧系统"
    # 所属客户编号 is the account's id: the contact is linked by it, the name beside it is not an account.
    assert list(contacts["entities"]) == ["contacts"]
    assert _columns(contacts, "contacts")["所属客户编号"] == "account_id"
    assert "客户名称" not in _columns(contacts, "contacts")
    written = _written(folder, Entity.contacts)
    assert written.height == 2 and written["_account"].null_count() == 0


def test_a_shared_file_name_prefix_alone_makes_one_system(tmp_path):
    # Most of these contacts' accounts are not in the accounts file given: the ids alone would not say it.
    (tmp_path / "CRM-accounts.csv").write_text(OLD_ACCOUNTS, encoding="utf-8")
    (tmp_path / "CRM-contacts.csv").write_text(
        "联系人编号,客户编号,姓名\nL1,C001,张伟\nL2,C008,李娜\nL3,C009,王强\n", encoding="utf-8"
    )
    folder = _init(tmp_path, tmp_path / "CRM-accounts.csv", tmp_path / "CRM-contacts.csv")
    contacts, text = _mapping(folder, "crm_contacts")
    assert _mapping(folder, "crm_accounts")[0]["system"] == contacts["system"] == "crm"
    assert "file names start with 'CRM'" in text
    linked = prepare(load_project(folder)).migration.entities[Entity.contacts].frame
    assert linked.filter(pl.col("_account").is_not_null())["v:name"].to_list() == ["张伟"]


def test_a_system_is_found_by_ids_when_the_file_names_share_nothing(tmp_path):
    (tmp_path / "accounts.csv").write_text(OLD_ACCOUNTS, encoding="utf-8")
    (tmp_path / "people.csv").write_text(OLD_CONTACTS, encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "accounts.csv", tmp_path / "people.csv")
    accounts, _ = _mapping(folder, "accounts")
    contacts, text = _mapping(folder, "people")
    assert accounts["system"] == contacts["system"] == "accounts"
    assert "100% of the account ids in '所属客户编号' are ids of data/accounts.csv" in text
    assert _written(folder, Entity.contacts)["_account"].null_count() == 0


def test_a_child_naming_its_account_only_by_name_holds_the_account_on_its_row(tmp_path):
    (tmp_path / "商机.csv").write_text(
        "商机名称,所属客户,金额,阶段\n年度采购,北京星辰科技有限公司,120000,赢单\n", encoding="utf-8"
    )
    folder = _init(tmp_path, tmp_path / "商机.csv")
    mapping, _ = _mapping(folder, "商机")
    assert _columns(mapping, "accounts") == {"所属客户": "name"}
    assert _columns(mapping, "opportunities") == {"商机名称": "name", "金额": "amount", "阶段": "stage"}
    assert _written(folder, Entity.opportunities)["_account"].null_count() == 0


def test_deals_naming_no_account_are_left_out_so_that_the_project_loads(tmp_path):
    (tmp_path / "deals.csv").write_text("商机名称,金额\n年度采购,120000\n", encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "deals.csv")
    assert not (folder / "mappings" / "deals.yaml").exists()
    text = (folder / "migration.yaml").read_text(encoding="utf-8")
    assert "# data/deals.csv: nothing mapped (opportunities (商机名称, 金额) not mapped: no column names" in text
    assert (folder / "data" / "deals.csv").exists()


def test_picklist_values_are_mapped_onto_the_targets_values_and_the_rest_kept_with_a_comment(tmp_path):
    (tmp_path / "商机.csv").write_text(
        "商机编号,商机名称,客户名称,阶段\n"
        + "".join(
            f"O{i},单{i},星辰科技有限公司,{s}\n"
            for i, s in enumerate(["初步沟通", "已成交", "丢单", "暂缓推进", "方案報價", "商务谈判", "暂缓推进"])
        ),
        encoding="utf-8",
    )
    folder = _init(tmp_path, tmp_path / "商机.csv", target=ROOT_DIR / "samples" / "demo" / "targets" / "xingchen.yaml")
    mapping, text = _mapping(folder, "商机")
    stage = mapping["entities"]["opportunities"]["columns"]["阶段"]
    assert stage["values"] == {
        "初步沟通": "初步接洽",
        "已成交": "赢单",
        "丢单": "输单",
        "方案報價": "方案报价",
        "商务谈判": "商务谈判",
    }
    assert stage["unknown"] == "keep" and "暂缓推进 (2)" in text
    assert yaml.safe_load((folder / "migration.yaml").read_text(encoding="utf-8"))["target"] == "targets/xingchen.yaml"
    # The project runs as written: the values placed are written, the two kept are refused by the target
    # with the reason, for the team to map.
    result = prepare(load_project(folder))
    written = result.migration.entities[Entity.opportunities].written()
    assert sorted(written["v:stage"].to_list()) == sorted(["初步接洽", "赢单", "输单", "方案报价", "商务谈判"])
    refused = result.lineage.filter((pl.col("entity") == "opportunities") & (pl.col("outcome") == "rejected"))
    assert refused.height == 2 and refused["reason"].str.contains("暂缓推进").all()


def test_value_maps_with_the_generic_target_write_spellings_of_one_value_as_one():
    assert propose_values(__import__("collections").Counter({"A类": 3, "a类": 1, "A 类": 1, "B类": 2}), None) == (
        {"A类": "A类", "a类": "A类", "A 类": "A类", "B类": "B类"},
        [],
    )
    mapped, left = propose_values(
        __import__("collections").Counter({"Closed Won": 1, "谈判": 1, "M": 1}),
        ["Prospecting", "Id. Decision Makers", "Negotiation/Review", "Closed Won"],
    )
    assert mapped == {"Closed Won": "Closed Won", "谈判": "Negotiation/Review"} and left == ["M"]


def test_dates_of_sign_ups_and_visits_are_never_birthdays_or_creation_dates():
    table = pl.DataFrame(
        {
            "姓名": ["张伟", "李娜"],
            "单位": ["星辰科技", "云帆贸易"],
            "报名时间": ["2026-04-03", "2026-04-05"],
            "拜访日期": ["2026-05-01", "2026-05-02"],
            "日期": ["2020-01-01", "2021-02-02"],
            "出生": ["1980-01-01", "1990-02-02"],
        }
    )
    guesses, unmapped = suggest(table)
    fields = {(e, g.column): g.field for e, gs in guesses.items() for g in gs}
    assert fields[(Entity.accounts, "单位")] == "name"
    assert fields[(Entity.contacts, "报名时间")] == "signed_up_at"  # a custom field of the sign-up
    assert not any(c in ("拜访日期", "日期") for _, c in fields)  # of what, the header does not say
    assert fields[(Entity.contacts, "出生")] == "birthday"  # the values are dates, the header says birth
    assert {c for c, _ in unmapped} == {"拜访日期", "日期"}


VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张伟\r\nN:张;伟;;;\r\nORG:星辰科技有限公司;采购部\r\nTITLE:采购经理\r\n"
    "TEL;TYPE=WORK:010-62345678\r\nTEL;TYPE=CELL:13800138001\r\nEMAIL:zw@xingchen.cn\r\n"
    "ADR;TYPE=WORK:;;中关村大街1号;北京;北京;100080;中国\r\nNOTE:老客户\r\nBDAY:1985-04-12\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nORG:云帆贸易有限公司\r\nTEL;TYPE=CELL:13900139002\r\nEND:VCARD\r\n"
)


def test_vcard_properties_that_are_there_are_mapped_and_none_that_are_not(tmp_path):
    (tmp_path / "phone.vcf").write_text(VCF, encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "phone.vcf")
    mapping, text = _mapping(folder, "phone")
    assert _columns(mapping, "accounts") == {"ORG": "name"}
    assert _columns(mapping, "contacts") == {
        "FN": "name",
        "ORG.unit": "department",
        "TITLE": "title",
        "TEL.cell": "mobile",
        "TEL.work": "phone",
        "EMAIL": "email",
        "ADR": "address",
        "NOTE": "note",
        "BDAY": "birthday",
    }
    assert "Empty in every row, not mapped: TEL, TEL.home, URL" in text
    contact = _written(folder, Entity.contacts).filter(pl.col("v:name") == "张伟")
    assert contact["v:department"].item() == "采购部" and contact["v:phone"].item() == "+861062345678"


# A Salesforce-like English export (Data Export names its files by object): headers and an answer key
# written by hand, not taken from what init writes.
SF = {
    "Account.csv": (
        "Account ID,Account Name,Parent Account,Billing Street,Billing City,Billing State/Province,"
        "Billing Country,Phone,Website,Industry,Type,Rating,Account Owner,Created Date,Description\n"
        "0015g00000A1,Beijing Xingchen Technology Co. Ltd.,,1 Zhongguancun St,Beijing,Beijing,China,"
        "010-62345678,www.xingchen.cn,Technology,Customer,Hot,Zhang San,2021-03-05,key account\n"
        "0015g00000A2,Shanghai Yunfan Trading Co. Ltd.,0015g00000A1,2 Century Ave,Shanghai,Shanghai,"
        "China,021-58881234,www.yunfan.cn,Retail,Prospect,Warm,Li Si,2022-07-01,\n"
    ),
    "Contact.csv": (
        "Contact ID,Account ID,First Name,Last Name,Title,Department,Email,Business Phone,Mobile Phone,"
        "Birthdate,Lead Source,Created Date\n"
        "0035g00000C1,0015g00000A1,Wei,Zhang,Purchasing Manager,Purchasing,wei.zhang@xingchen.cn,"
        "010-62345678,13800138001,1985-04-12,Web,2021-03-06\n"
        "0035g00000C2,0015g00000A2,Na,Li,CFO,Finance,na.li@yunfan.cn,,13900139002,,Trade Show,"
        "2022-07-02\n"
    ),
    "Opportunity.csv": (
        "Opportunity ID,Account ID,Account Name,Opportunity Name,Amount,Close Date,Stage,"
        "Probability (%),Type,Lead Source,Opportunity Owner\n"
        "0065g00000O1,0015g00000A1,Beijing Xingchen Technology Co. Ltd.,Xingchen annual order,"
        '"120,000.00",2024-06-30,Closed Won,100,New Business,Web,Zhang San\n'
        "0065g00000O2,0015g00000A2,Shanghai Yunfan Trading Co. Ltd.,Yunfan upgrade,50000,2024-09-30,"
        "Negotiation/Review,80,Existing Business,Trade Show,Li Si\n"
    ),
}
SF_KEY = {
    "account": {
        "Account ID": "accounts.id",
        "Account Name": "accounts.name",
        "Billing Street": "accounts.address",
        "Billing City": "accounts.address",
        "Billing State/Province": "accounts.address",
        "Phone": "accounts.phone",
        "Website": "accounts.website",
        "Industry": "accounts.industry",
        "Rating": "accounts.level",
        "Account Owner": "accounts.owner",
        "Created Date": "accounts.created_at",
        "Description": "accounts.note",
    },
    "contact": {
        "Contact ID": "contacts.id",
        "Account ID": "contacts.account_id",
        "First Name": "contacts.name",
        "Last Name": "contacts.name",
        "Title": "contacts.title",
        "Department": "contacts.department",
        "Email": "contacts.email",
        "Business Phone": "contacts.phone",
        "Mobile Phone": "contacts.mobile",
        "Birthdate": "contacts.birthday",
        "Created Date": "contacts.created_at",
    },
    "opportunity": {
        "Opportunity ID": "opportunities.id",
        "Account ID": "opportunities.account_id",
        "Opportunity Name": "opportunities.name",
        "Amount": "opportunities.amount",
        "Close Date": "opportunities.close_date",
        "Stage": "opportunities.stage",
        "Opportunity Owner": "opportunities.owner",
    },
}


def test_a_salesforce_like_english_export_is_mapped_right_and_runs(tmp_path):
    for name, text in SF.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    folder = _init(tmp_path, *(tmp_path / n for n in SF), target="salesforce")
    project = load_project(folder)
    got = {
        s.name: {c: f"{p.entity.value}.{f.spec.name}" for p in s.entities for f in p.fields for c in f.inputs}
        for s in project.sources
    }
    right = total = 0
    for source, header_line in zip(SF_KEY, (t.splitlines()[0] for t in SF.values())):
        for header in header_line.split(","):
            total += 1
            right += got[source].get(header, "-") == SF_KEY[source].get(header, "-")
    assert right / total >= 0.9, got
    assert len({s.mapping.system for s in project.sources}) == 1 and project.sources[0].mapping.system
    assert _written(folder, Entity.contacts)["_account"].null_count() == 0
    stages = _written(folder, Entity.opportunities)["v:stage"].to_list()
    assert sorted(stages) == ["Closed Won", "Negotiation/Review"]


@pytest.mark.parametrize(
    "header,field",
    [
        ("Account Name", "name"),
        ("Billing City", "address"),
        ("Lead Source", "lead_source"),
        ("Account ID", "id"),
        ("客户全称", "name"),
        ("所属行业", "industry"),
        ("客戶等級", "level"),
    ],
)
def test_export_headers_of_accounts(header, field):
    guesses, _ = suggest(pl.DataFrame({header: ["x1", "x2"], "公司名称" if header != "客户全称" else "x": ["a", "b"]}))
    assert {g.column: g.field for g in guesses[Entity.accounts]}.get(header) == field


def test_a_sheet_of_instructions_beside_the_data_is_not_mapped_and_the_project_loads(tmp_path):
    book = _workbook(
        tmp_path / "客户.xlsx",
        {
            "客户": [["公司名称", "联系人", "手机"], ["星辰科技有限公司", "张伟", "13800138001"]],
            "填写说明": [["说明"], ["请按格式填写，手机填11位"]],
        },
    )
    folder = _init(tmp_path, book)
    mapping, _ = _mapping(folder, "客户")
    assert mapping["read"] == {"sheets": ["客户"]}
    assert "nothing mapped (accounts (说明) not mapped: no column gives their name)" in (
        folder / "migration.yaml"
    ).read_text(encoding="utf-8")
    assert _written(folder, Entity.contacts)["v:name"].to_list() == ["张伟"]


def test_the_owner_of_a_row_holding_a_deal_is_the_deals_and_a_record_id_is_the_records_own():
    guesses, _ = suggest(
        pl.DataFrame(
            {"客户名称": ["星辰科技"], "商机名称": ["年度采购"], "负责人": ["张三"], "创建时间": ["2024-01-02"]}
        )
    )
    assert {g.column: g.field for g in guesses[Entity.opportunities]} == {
        "商机名称": "name",
        "负责人": "owner",
        "创建时间": "created_at",
    }
    assert {g.column: g.field for g in guesses[Entity.accounts]} == {"客户名称": "name"}
    guesses, _ = suggest(
        pl.DataFrame({"Record ID": ["501"], "First Name": ["Wei"], "Last Name": ["Zhang"], "Email": ["wz@x.cn"]})
    )
    assert {g.column: g.field for g in guesses[Entity.contacts]} == {"Record ID": "id", "Email": "email"}


def test_values_of_someone_elses_phone_or_id_are_not_the_contacts():
    guesses, unmapped = suggest(
        pl.DataFrame(
            {
                "姓名": ["张伟", "李娜"],
                "手机": ["13800138001", "13900139002"],
                "负责人手机": ["13700137003", "13600136004"],
                "法人身份证": ["11010519491231002X", "11010519491231002X"],
            }
        )
    )
    assert {g.column: g.field for g in guesses[Entity.contacts]} == {"姓名": "name", "手机": "mobile"}
    assert {c for c, _ in unmapped} == {"负责人手机", "法人身份证"}


def test_a_bare_name_column_of_company_names_is_the_accounts_name():
    guesses, _ = suggest(
        pl.DataFrame(
            {
                "Name": ["Beijing Xingchen Technology Co., Ltd.", "Yunfan Trading Ltd"],
                "Phone": ["010-62345678", "021-58881234"],
            }
        )
    )
    assert list(guesses) == [Entity.accounts] and guesses[Entity.accounts][0].field == "name"
    guesses, _ = suggest(pl.DataFrame({"Name": ["Zhang Wei", "Li Na"], "Mobile": ["13800138001", "13900139002"]}))
    assert list(guesses) == [Entity.contacts]


def test_an_account_column_whose_header_says_nothing_is_found_by_its_values_but_row_numbers_are_not_ids(tmp_path):
    (tmp_path / "accounts.csv").write_text(OLD_ACCOUNTS, encoding="utf-8")
    (tmp_path / "people.csv").write_text("联系人编号,归属,姓名\nL1,C001,张伟\nL2,C002,李娜\n", encoding="utf-8")
    folder = _init(tmp_path, tmp_path / "accounts.csv", tmp_path / "people.csv")
    contacts, text = _mapping(folder, "people")
    assert _columns(contacts, "contacts")["归属"] == "account_id"
    assert "100% of its values are account ids of another source" in text
    assert contacts["system"] == _mapping(folder, "accounts")[0]["system"]
    # Ids 1, 2, 3 in both files are as likely row numbers: no system is made of them.
    (tmp_path / "a2.csv").write_text("客户编号,客户名称\n1,星辰科技有限公司\n2,云帆贸易有限公司\n", encoding="utf-8")
    (tmp_path / "c2.csv").write_text("联系人编号,客户编号,姓名\n1,1,张伟\n2,2,李娜\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    folder = _init(other, tmp_path / "a2.csv", tmp_path / "c2.csv")
    assert "system" not in _mapping(folder, "c2")[0]


def test_a_header_naming_its_entity_then_a_field_and_numbered_columns():
    guesses, unmapped = suggest(
        pl.DataFrame(
            {
                "客户名称": ["星辰科技"],
                "客户地址": ["北京市海淀区"],
                "联系人": ["张伟"],
                "联系人手机": ["13800138001"],
                "联系人邮箱": ["zw@x.cn"],
                "电话1": ["010-62345678"],
                "电话2": ["010-62345679"],
            }
        )
    )
    fields = {(e, g.column): g.field for e, gs in guesses.items() for g in gs}
    assert fields[(Entity.accounts, "客户地址")] == "address"
    assert fields[(Entity.contacts, "联系人手机")] == "mobile" and fields[(Entity.contacts, "联系人邮箱")] == "email"
    assert fields[(Entity.accounts, "电话1")] == "phone"
    assert fields[(Entity.contacts, "电话2")] == "phone"  # the account's phone is taken: the contact's office phone


# A Chinese CRM's export of four lists, named otherwise than the demo's (客户ID, 所属客户ID, 关联客户ID, the
# address in four columns, 先生 / 女士, B级): written by hand, with its own hand key.
CN = {
    "客户列表_2024.csv": (
        "客户ID,客户名称,客户级别,所属行业,省份,城市,区县,详细地址,客户来源,负责人,创建时间,最后跟进时间\n"
        "K1001,北京星辰科技有限公司,A,信息技术,北京市,北京市,海淀区,中关村大街1号,展会,张三,2021-03-05,2024-05-01\n"
        "K1002,上海云帆贸易有限公司,B级,批发零售,上海市,上海市,浦东新区,世纪大道2号,官网,李四,2022-07-01,2024-03-02\n"
        "K1003,深圳蓝海电子有限公司,重点,制造业,广东省,深圳市,南山区,科技园3号,转介绍,张三,2020-01-15,2023-12-12\n"
    ),
    "联系人列表_2024.csv": (
        "联系人ID,姓名,所属客户ID,所属客户,手机,电话,邮箱,部门,职务,性别,生日\n"
        "P1,张伟,K1001,北京星辰科技有限公司,13800138001,010-62345678,zw@xingchen.cn,采购部,经理,先生,1985-04-12\n"
        "P2,李娜,K1002,上海云帆贸易有限公司,13900139002,,ln@yunfan.cn,财务部,总监,女士,\n"
        "P3,王强,K1003,深圳蓝海电子有限公司,13700137003,,wq@lanhai.cn,研发部,工程师,先生,1990-11-30\n"
    ),
    "商机列表_2024.csv": (
        "商机ID,商机名称,所属客户ID,销售阶段,商机金额,预计成交时间,负责人\n"
        "S1,星辰年度采购,K1001,已成交,120万,2024-06-30,张三\n"
        "S2,云帆升级,K1002,方案,50000,2024-09-30,李四\n"
        "S3,蓝海试点,K1003,初步沟通,30000,2024-12-31,张三\n"
    ),
    "跟进记录_2024.csv": (
        "跟进ID,关联客户ID,跟进方式,跟进内容,跟进时间,跟进人\n"
        "F1,K1001,电话,沟通续约,2024-05-01 10:00,张三\n"
        "F2,K1002,上门拜访,现场演示,2024-03-02 14:00,李四\n"
    ),
}
CN_KEY = {
    "客户列表_2024": {
        "客户ID": "accounts.id",
        "客户名称": "accounts.name",
        "客户级别": "accounts.level",
        "所属行业": "accounts.industry",
        "省份": "accounts.address",
        "城市": "accounts.address",
        "区县": "accounts.address",
        "详细地址": "accounts.address",
        "客户来源": "accounts.lead_source",
        "负责人": "accounts.owner",
        "创建时间": "accounts.created_at",
        "最后跟进时间": "accounts.last_activity_at",
    },
    "联系人列表_2024": {
        "联系人ID": "contacts.id",
        "姓名": "contacts.name",
        "所属客户ID": "contacts.account_id",
        "手机": "contacts.mobile",
        "电话": "contacts.phone",
        "邮箱": "contacts.email",
        "部门": "contacts.department",
        "职务": "contacts.title",
        "性别": "contacts.gender",
        "生日": "contacts.birthday",
    },
    "商机列表_2024": {
        "商机ID": "opportunities.id",
        "商机名称": "opportunities.name",
        "所属客户ID": "opportunities.account_id",
        "销售阶段": "opportunities.stage",
        "商机金额": "opportunities.amount",
        "预计成交时间": "opportunities.close_date",
        "负责人": "opportunities.owner",
    },
    "跟进记录_2024": {
        "跟进ID": "activities.id",
        "关联客户ID": "activities.account_id",
        "跟进方式": "activities.type",
        "跟进内容": "activities.content",
        "跟进时间": "activities.occurred_at",
        "跟进人": "activities.owner",
    },
}


def test_a_chinese_crms_four_lists_named_otherwise_are_mapped_right_and_every_child_finds_its_account(tmp_path):
    for name, text in CN.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    xingchen = ROOT_DIR / "samples" / "demo" / "targets" / "xingchen.yaml"
    folder = _init(tmp_path, *(tmp_path / n for n in CN), target=xingchen)
    project = load_project(folder)
    got = {
        s.name: {c: f"{p.entity.value}.{f.spec.name}" for p in s.entities for f in p.fields for c in f.inputs}
        for s in project.sources
    }
    pairs = [
        (got[src].get(h, "-"), want)
        for src, key in CN_KEY.items()
        for h, want in [(h, key.get(h, "-")) for h in CN[src + ".csv"].splitlines()[0].split(",")]
    ]
    assert sum(a == b for a, b in pairs) / len(pairs) >= 0.9, got
    assert got["跟进记录_2024"]["跟进ID"] == "activities.id"  # <entity>ID: the follow-up's own id
    assert len({s.mapping.system for s in project.sources}) == 1
    result = prepare(project)
    for entity in (Entity.contacts, Entity.opportunities, Entity.activities):
        assert result.migration.entities[entity].written()["_account"].null_count() == 0
    levels = _mapping(folder, "客户列表_2024")[0]["entities"]["accounts"]["columns"]["客户级别"]["values"]
    assert levels == {"A": "A类", "B级": "B类", "重点": "重点客户"}
    genders = _mapping(folder, "联系人列表_2024")[0]["entities"]["contacts"]["columns"]["性别"]["values"]
    assert genders == {"先生": "男", "女士": "女"}


def test_hubspot_exports_share_their_prefix_as_system_and_contacts_find_companies_by_associated_ids(tmp_path):
    companies = (
        "Record ID,Company name,Phone Number,City,State/Region,Company owner,Create Date\n"
        "901,Beijing Xingchen Technology Co. Ltd.,010-62345678,Beijing,Beijing,Zhang San,2021-03-05\n"
    )
    contacts = (
        "Record ID,First Name,Last Name,Email,Mobile Phone Number,Company Name,Associated Company IDs\n"
        "501,Wei,Zhang,wz@xingchen.cn,13800138001,Beijing Xingchen Technology Co. Ltd.,901\n"
    )
    a = tmp_path / "hubspot-crm-exports-all-companies-2024-05-01.csv"
    c = tmp_path / "hubspot-crm-exports-all-contacts-2024-05-01.csv"
    a.write_text(companies, encoding="utf-8")
    c.write_text(contacts, encoding="utf-8")
    folder = _init(tmp_path, a, c, target="hubspot")
    project = load_project(folder)
    assert {s.mapping.system for s in project.sources} == {"hubspot"}
    company = project.sources[0].plan_for(Entity.accounts)
    assert {f.spec.name for f in company.fields} == {"id", "name", "phone", "address", "owner", "created_at"}
    assert company.field("address").derive.template == "{State/Region} {City}"
    assert project.sources[1].plan_for(Entity.contacts).field("account_id").column == "Associated Company IDs"
    written = prepare(project).migration.entities[Entity.contacts].written()
    assert written["v:name"].to_list() == ["Wei Zhang"] and written["_account"].null_count() == 0
