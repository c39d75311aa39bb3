"""Every stored file under tests/ that a test compares with or reads as input, reviewed: one sentence each on
what it pins, the test that uses it, and for the golden copies the claims of that sentence checked on the
file itself, so that regenerating a copy (CRM_MIGRATE_UPDATE_GOLDEN=1) cannot quietly change what it says.

A file added under tests/golden or tests/fixtures without a line here fails `test_every_stored_file_is_listed`;
a line whose test no longer reads its file fails `test_every_stored_file_is_used_by_its_test`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

# path under tests/ -> (the test module that reads it (a path from tests/), what it names the file by in its
# source, what it pins)
STORED: dict[str, tuple[str, str, str]] = {
    # Golden copies: the import files of test_targets.project (three accounts, three contacts) per built-in
    # profile, compared byte for byte (CSV) or cell for cell with types (XLSX) by test_golden.
    "golden/dynamics/01_accounts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "Dynamics 365 accounts: UTF-8 with a BOM and CRLF, its headers in order, the record id as Account Number, "
        "and a note that is a formula written with the apostrophe, inside quotes.",
    ),
    "golden/dynamics/02_contacts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "Dynamics 365 contacts: the name split into Last Name and First Name (张, 伟), the account linked by its "
        "name (parent_key: name), the birthday as a date.",
    ),
    "golden/fxiaoke/01_accounts_001.xlsx.json": (
        "test_golden.py",
        "GOLDEN / name",
        "Fxiaoke accounts as XLSX cells: Chinese headers, ids, codes and phones as text cells ('@'), a formula "
        "kept as written with the quote-prefix style instead of an apostrophe.",
    ),
    "golden/fxiaoke/02_contacts_001.xlsx.json": (
        "test_golden.py",
        "GOLDEN / name",
        "Fxiaoke contacts as XLSX cells: the account linked by its name (客户名称), mobiles as text cells.",
    ),
    "golden/generic/01_accounts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "The generic profile's accounts: UTF-8 with a BOM, only the mapped columns (external_id, legacy_id, name, "
        "uscc, phone with its extension and others, level, note), the picklist mapped (A, B).",
    ),
    "golden/generic/02_contacts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "The generic profile's contacts: linked to their accounts by external id, the ID number in full (import/ "
        "is the one place it may be).",
    ),
    "golden/hubspot/01_accounts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "HubSpot companies: UTF-8 without a BOM, the constant Country/Region China on every row.",
    ),
    "golden/hubspot/02_contacts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "HubSpot contacts: First Name before Last Name, the company linked by its external id.",
    ),
    "golden/salesforce/01_accounts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "Salesforce accounts: UTF-8 without a BOM, External_Id__c first, the legacy id as AccountNumber, "
        "BillingCountry China.",
    ),
    "golden/salesforce/02_contacts_001.csv": (
        "test_golden.py",
        "GOLDEN / name",
        "Salesforce contacts: the account linked by Account.External_Id__c, LastName before FirstName, Birthdate.",
    ),
    # Inputs of the readers, written by tests/fixtures/make_fixtures.py (on purpose only).
    "fixtures/make_fixtures.py": (
        "../README.md",
        "tests/fixtures/make_fixtures.py",
        "The script that writes the reader fixtures below; it is the record of what each of them holds.",
    ),
    "fixtures/accounts_gbk.csv": (
        "test_readers.py",
        "accounts_gbk.csv",
        "An old CRM's export as Chinese Windows saves it: GBK, CRLF, a title row above the header, a blank "
        "line, a quoted comma, and 䶮, which only GB18030 holds.",
    ),
    "fixtures/contacts_bom.csv": (
        "test_readers.py",
        "contacts_bom.csv",
        "UTF-8 with a BOM and semicolons, a quoted value over two lines, leading zeros that must stay.",
    ),
    "fixtures/activities_utf16.txt": (
        "test_readers.py",
        "activities_utf16.txt",
        'Excel\'s "Unicode text": UTF-16 LE with a BOM, tab-separated.',
    ),
    "fixtures/sales.xlsx": (
        "test_readers.py",
        "sales.xlsx",
        "A salesperson's workbook: a merged banner, the header on row 3, phones and an 18-digit ID typed into "
        "number cells (the ID's last digits lost), a sheet with its columns in another order, an empty sheet.",
    ),
    "fixtures/legacy.xls": (
        "test_readers.py",
        "legacy.xls",
        "An .xls of an old system: a title row, then the header, a mobile as a number.",
    ),
    "fixtures/contacts.vcf": (
        "test_readers.py",
        "contacts.vcf",
        "A phone's address book: vCard 3.0 with a folded line and two mobiles, and 2.1 in quoted-printable UTF-8.",
    ),
    # Hand-written inputs and labelled sets.
    "fixtures/describe/salesforce_Account.json": (
        "test_describe.py",
        "salesforce_Account",
        "Salesforce describe output of Account: field types, lengths, required fields and picklists a profile is "
        "made from.",
    ),
    "fixtures/describe/salesforce_Contact.json": (
        "test_describe.py",
        "salesforce_Contact",
        "Salesforce describe output of Contact, with its link to Account.",
    ),
    "fixtures/describe/fxiaoke_AccountObj.json": (
        "test_describe.py",
        "fxiaoke_AccountObj",
        "Fxiaoke's field list of AccountObj (客户), the same made from Fxiaoke.",
    ),
    "fixtures/describe/fxiaoke_ContactObj.json": (
        "test_describe.py",
        "fxiaoke_ContactObj",
        "Fxiaoke's field list of ContactObj (联系人), linked to AccountObj.",
    ),
    "fixtures/divisions/county_and_above.html": (
        "test_divisions.py",
        "county_and_above.html",
        "A hand-made page in the layout of the ministry's division publication, for the rebuild script: a "
        "municipality, a prefecture and county, a county-level city under its province, a city without "
        "counties, the special regions and 台湾省 (left out).",
    ),
    "fixtures/divisions/townships.csv": (
        "test_divisions.py",
        "townships.csv",
        "Nine-digit township codes in the publication's two-column layout.",
    ),
    "fixtures/junk/values.csv": (
        "test_junk.py",
        "values.csv",
        "Hand-labelled values (696), junk and real (测试客户 beside 测试仪器有限公司), that the test-record and "
        "not-a-customer rules must agree with at 98% or better.",
    ),
    "fixtures/pairs/accounts.csv": (
        "test_pairs.py",
        'PAIRS / f"{entity}.csv"',
        "Labelled pairs of accounts written the ways real exports differ, each with its verdict (same, "
        "different) and phenomenon, that matching must decide right.",
    ),
    "fixtures/pairs/contacts.csv": (
        "test_pairs.py",
        'PAIRS / f"{entity}.csv"',
        "The same for contacts (namesakes, a colleague, a new mobile).",
    ),
    "fixtures/pairs/opportunities.csv": (
        "test_pairs.py",
        'PAIRS / f"{entity}.csv"',
        "The same for opportunities (a deal entered twice against a renewal under the same name).",
    ),
    "fixtures/verify/contacts_export.csv": (
        "test_verify.py",
        "contacts_export.csv",
        "A target's export of the golden contacts with planted losses (GBK, other header case, a mobile as "
        "1.38001E+10, a lost character, a moved date, times on dates) for verify to find.",
    ),
}


def stored_files() -> set[str]:
    return {
        p.relative_to(TESTS).as_posix()
        for folder in ("golden", "fixtures")
        for p in (TESTS / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_every_stored_file_is_listed():
    assert sorted(stored_files() - set(STORED)) == [], "say what these pin in STORED"
    assert sorted(set(STORED) - stored_files()) == [], "these are listed but gone"


@pytest.mark.parametrize("path", STORED)
def test_every_stored_file_is_used_by_its_test(path):
    module, named_as, pins = STORED[path]
    source = (TESTS / module).read_text(encoding="utf-8")
    assert named_as in source, f"{module} no longer reads {path}"
    assert (TESTS / path).stat().st_size > 0 and pins.endswith(".")


def golden(path: str) -> bytes:
    return (TESTS / "golden" / path).read_bytes()


def lines(path: str) -> list[str]:
    data = golden(path)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), f"{path}: CRLF line ends"
    return data.decode("utf-8-sig").splitlines()


def cells(path: str) -> list[list[list]]:
    return [json.loads(line) for line in golden(path).decode("utf-8").splitlines() if not line.startswith("#")]


def test_the_golden_copies_say_what_their_lines_above_claim():
    bom = b"\xef\xbb\xbf"
    accounts = lines("dynamics/01_accounts_001.csv")
    assert golden("dynamics/01_accounts_001.csv").startswith(bom)
    assert accounts[0].startswith("Account Name,Account Number,Main Phone,")
    assert accounts[1].split(",")[1].startswith("acc_") and accounts[1].endswith(',"\'=HYPERLINK(""http://x"")"')
    contacts = [r.split(",") for r in lines("dynamics/02_contacts_001.csv")]
    assert contacts[0][:3] == ["Last Name", "First Name", "Company Name"]
    assert contacts[1][:3] == ["张", "伟", "北京星辰科技有限公司"] and "1949-12-31" in contacts[1]

    header, first = cells("fxiaoke/01_accounts_001.xlsx.json")[:2]
    assert header[0][:2] == ["str", "客户名称"] and all(c[0] == "str" for c in header)
    texts = {h[1]: c for h, c in zip(header, first, strict=True)}
    assert texts["外部ID"][2] == texts["电话"][2] == texts["统一社会信用代码"][2] == "@"
    assert texts["备注"][1:] == ['=HYPERLINK("http://x")', "General", "quote"]
    header, first = cells("fxiaoke/02_contacts_001.xlsx.json")[:2]
    texts = {h[1]: c for h, c in zip(header, first, strict=True)}
    assert texts["客户名称"][1] == "北京星辰科技有限公司" and texts["手机"][1:] == ["+8613800138001", "@"]

    assert golden("generic/01_accounts_001.csv").startswith(bom)
    accounts = [r.split(",") for r in lines("generic/01_accounts_001.csv")]
    assert accounts[0] == [
        "external_id",
        "legacy_id",
        "name",
        "uscc",
        "phone",
        "phone_extension",
        "phone_others",
        "level",
        "note",
    ]
    assert [r[7] for r in accounts[1:]] == ["A", "B", "A"]
    contacts = [r.split(",") for r in lines("generic/02_contacts_001.csv")]
    assert contacts[1][1].startswith("acc_") and contacts[1][7] == "11010519491231002X"

    assert not golden("hubspot/01_accounts_001.csv").startswith(bom)
    accounts = [r.split(",") for r in lines("hubspot/01_accounts_001.csv")]
    country = accounts[0].index("Country/Region")
    assert [r[country] for r in accounts[1:]] == ["China"] * 3
    contacts = [r.split(",") for r in lines("hubspot/02_contacts_001.csv")]
    assert contacts[0][:4] == ["External ID", "Company External ID", "First Name", "Last Name"]
    assert contacts[1][1].startswith("acc_") and contacts[1][2:4] == ["伟", "张"]

    assert not golden("salesforce/01_accounts_001.csv").startswith(bom)
    accounts = [r.split(",") for r in lines("salesforce/01_accounts_001.csv")]
    assert accounts[0][:3] == ["External_Id__c", "Name", "AccountNumber"] and accounts[1][2] == "A1"
    assert accounts[1][accounts[0].index("BillingCountry")] == "China"
    contacts = [r.split(",") for r in lines("salesforce/02_contacts_001.csv")]
    assert contacts[0][:4] == ["External_Id__c", "Account.External_Id__c", "LastName", "FirstName"]
    assert contacts[1][contacts[0].index("Birthdate")] == "1949-12-31"


def test_the_reader_fixtures_hold_what_make_fixtures_says():
    fixtures = TESTS / "fixtures"
    gbk = (fixtures / "accounts_gbk.csv").read_bytes()
    assert "䶮".encode("gb18030") in gbk and b"\r\n\r\n" in gbk and not gbk.startswith(b"\xef\xbb\xbf")
    assert (fixtures / "contacts_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (fixtures / "activities_utf16.txt").read_bytes().startswith(b"\xff\xfe")
    assert (fixtures / "contacts.vcf").read_bytes().count(b"BEGIN:VCARD") == 2
    with (fixtures / "junk" / "values.csv").open(encoding="utf-8", newline="") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 696
