"""More settings that validate as types but would do nothing, each refused by `validate` with its file, line,
key and a hint (tests/test_config_refusals.py has the earlier ones): weights that do not fit the comparison,
read options the file's kind does not take, a lookup table mapping one key twice, target profiles whose
settings cannot act, and an output encoding for a target that writes workbooks."""

from __future__ import annotations

import pytest
import xlsxwriter
from typer.testing import CliRunner

from crm_migrate.cli import app
from crm_migrate.mappings.models import READ_KINDS
from crm_migrate.mappings.targets import built_in_names, load_target
from crm_migrate.migrate.readers import TEXT_SUFFIXES
from crm_migrate.migrate.readers.workbook import WORKBOOK_SUFFIXES

CSV = "客户编号,客户名称,电话,行业代码\nC1,北京星辰科技有限公司,010-62345678,I65\nC2,上海云帆贸易有限公司,021-62345678,F51\n"
HEAD = """\
file: data/a.csv
entities:
  accounts:
    columns:
      客户编号: id
      客户名称: name
      电话: phone
"""  # lines 1-7


def validate(root):
    result = CliRunner().invoke(app, ["validate", str(root)])
    assert "Traceback" not in result.output
    return result


def refused(result, path: str, line: int, message: str, hint: str) -> None:
    """Exactly one line says ``message``, at ``path:line``, as an error, with ``hint``."""
    assert result.exit_code == 1, result.output
    [shown] = [ln for ln in result.output.splitlines() if message in ln]
    assert shown.startswith(f"{path}:{line}: error: ") and hint in shown, shown


# --- (a) weights that cannot fit: found by validate, not only by a run that has read everything ----------

WEIGHTS = {
    "m of the wrong length": (
        "      name: {m: [0.5, 0.5]}\n",
        5,
        "matching.accounts.weights.name: m has 2 numbers, and name has 11 levels",
        "give 11 positive numbers, one per level: different",
    ),
    "u of the wrong length": (
        "      phone: {u: [0.2, 0.3, 0.5]}\n",
        5,
        "matching.accounts.weights.phone: u has 3 numbers, and phone has",
        "one per level",
    ),
    "a field matching never compares": (
        "      industry: {m: [0.5, 0.5]}\n",
        5,
        "matching.accounts.weights.industry: accounts are not matched on industry, so its m and u would not be used",
        "weights apply to the fields compared: name, phone",
    ),
}


@pytest.mark.parametrize("case", WEIGHTS)
def test_weights_that_do_not_fit_are_refused_by_validate(make_project, case):
    added, line, message, hint = WEIGHTS[case]
    migration = "name: t\nmatching:\n  accounts:\n    weights:\n" + added
    mapping = HEAD + "      行业代码: industry\n"
    root = make_project(migration=migration, mappings={"crm": mapping}, files={"data/a.csv": CSV})
    refused(validate(root), f"{root}/migration.yaml", line, message, hint)


def test_weights_that_fit_still_validate(make_project):
    """As many numbers as the comparison has levels (name: 10, phone: as the run estimates them), or ignore."""
    from crm_migrate.migrate.comparisons import comparisons_for
    from crm_migrate.migrate.validate import _EveryColumn
    from crm_migrate.project import load_project

    root = make_project(mappings={"crm": HEAD}, files={"data/a.csv": CSV})
    [plan] = load_project(root).sources[0].entities
    levels = {
        c.name: c.levels for c in comparisons_for([f.spec for f in plan.data_fields], _EveryColumn(), plan.entity, True)
    }
    phone = ", ".join(["0.1"] * levels["phone"])
    migration = (
        "name: t\nmatching:\n  accounts:\n    weights:\n      name: {m: ["
        + ", ".join(["0.1"] * 11)
        + "]}\n      phone: {u: ["
        + phone
        + "]}\n"
    )
    (root / "migration.yaml").write_text(migration, encoding="utf-8")
    result = validate(root)
    assert result.exit_code == 0, result.output


# --- (b) read options that do not apply to the file's kind --------------------------------------------------


def workbook(path) -> bytes:
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("客户")
        for r, row in enumerate(CSV.splitlines()):
            for c, cell in enumerate(row.split(",")):
                sheet.write_string(r, c, cell)
    return path.read_bytes()


VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张伟\r\nTEL;TYPE=CELL:13800138000\r\nEND:VCARD\r\n"
CONTACTS = "entities:\n  contacts:\n    columns:\n      FN: name\n      TEL.cell: mobile\n"

READS = {
    "sheets for a CSV": (
        "data/a.csv",
        "read: {sheets: [Sheet1]}\n",
        2,
        "read.sheets does not apply to a CSV file (a.csv)",
        "a CSV file takes encoding, errors, delimiter, header_row",
    ),
    "encoding for a workbook": (
        "data/a.xlsx",
        "read: {encoding: gb18030}\n",
        2,
        "read.encoding does not apply to a workbook file (a.xlsx)",
        "a workbook file takes sheets, header_row",
    ),
    "delimiter for a workbook": (
        "data/a.xlsx",
        "read:\n  header_row: 1\n  delimiter: ';'\n",
        4,
        "read.delimiter does not apply to a workbook file",
        "remove it",
    ),
    "header_row for a vCard": (
        "data/a.vcf",
        "read: {header_row: 2}\n",
        2,
        "read.header_row does not apply to a vCard file (a.vcf)",
        "a vCard file takes encoding",
    ),
    "errors for a vCard": (
        "data/a.vcf",
        "read: {errors: report}\n",
        2,
        "read.errors does not apply to a vCard file",
        "a vCard file takes encoding",
    ),
}


@pytest.mark.parametrize("case", READS)
def test_read_options_the_file_does_not_take_are_refused(make_project, tmp_path, case):
    file, read, line, message, hint = READS[case]
    body = CONTACTS if file.endswith(".vcf") else HEAD.split("\n", 1)[1]
    content = VCARD if file.endswith(".vcf") else workbook(tmp_path / "a.xlsx") if file.endswith(".xlsx") else CSV
    root = make_project(mappings={"crm": f"file: {file}\n{read}{body}"}, files={file: content})
    refused(validate(root), f"{root}/mappings/crm.yaml", line, message, hint)


def test_read_options_that_apply_still_validate(make_project, tmp_path):
    root = make_project(
        mappings={
            "a": "file: data/a.csv\nread: {encoding: utf-8, errors: report, delimiter: ',', header_row: 1}\n"
            + HEAD.split("\n", 1)[1],
            "b": "file: data/b.xlsx\nread: {sheets: [客户], header_row: 1}\n" + HEAD.split("\n", 1)[1],
            "c": "file: data/c.vcf\nread: {encoding: utf-8}\n" + CONTACTS,
        },
        files={"data/a.csv": CSV, "data/b.xlsx": workbook(tmp_path / "b.xlsx"), "data/c.vcf": VCARD},
    )
    result = validate(root)
    assert result.exit_code == 0, result.output


def test_the_kinds_of_files_are_the_readers_kinds():
    """The table of which options apply is keyed by the readers' own file endings."""
    assert READ_KINDS["CSV"][0] == TEXT_SUFFIXES
    assert READ_KINDS["workbook"][0] == WORKBOOK_SUFFIXES
    assert READ_KINDS["vCard"][0] == {".vcf"}


# --- (c) a lookup table that maps one key twice, differently ------------------------------------------------

LOOKUP = HEAD + (
    "    derive:\n      industry: {column: 行业代码, lookup: {file: data/industry.csv, key: code, value: name}}\n"
)


def test_a_lookup_key_mapped_twice_differently_is_refused_with_both_rows(make_project):
    table = "code,name\nI65,软件和信息技术服务业\nF51,批发业\nI65,信息技术\nF51,批发业\n"
    root = make_project(mappings={"crm": LOOKUP}, files={"data/a.csv": CSV, "data/industry.csv": table})
    result = validate(root)
    refused(
        result,
        f"{root}/mappings/crm.yaml",
        9,
        "lookup table 'data/industry.csv' maps code 'I65' twice, differently: row 2 to '软件和信息技术服务业', "
        "row 4 to '信息技术'",
        "keep one row for 'I65' in data/industry.csv",
    )
    assert "'F51'" not in result.output  # the same value twice says one thing


def test_a_lookup_without_repeated_keys_still_validates(make_project):
    table = "code,name\nI65,软件和信息技术服务业\nF51,批发业\n"
    root = make_project(mappings={"crm": LOOKUP}, files={"data/a.csv": CSV, "data/industry.csv": table})
    assert validate(root).exit_code == 0


# --- (d) target profiles, checked like migration.yaml --------------------------------------------------------


def profile(file: str = "{format: csv, encoding: utf-8}", column: str = "") -> str:
    """A project profile of accounts; ``column`` is one more column line (line 9)."""
    return (
        "name: mine\nrests_on: a test\nfile: " + file + "\nentities:\n  accounts:\n    object: Account\n"
        "    columns:\n      - {header: Id, value: external_id, required: true}\n" + column
    )


TARGETS = {
    "an unknown key": (
        profile(column="      - {header: Name, value: name, maxlength: 30}\n"),
        9,
        "maxlength",
        "did you mean 'max_length'",
    ),
    "format on a text column": (
        profile(column="      - {header: Name, value: name, format: '%Y'}\n"),
        9,
        "format applies to date, datetime, number and money columns; this one is text",
        "remove format",
    ),
    "a date format without a directive": (
        profile(column="      - {header: Created, value: created_at, type: date, format: YYYY-MM-DD}\n"),
        9,
        "format 'YYYY-MM-DD' has no %-directive",
        "'%Y-%m-%d'",
    ),
    "a money format that is no number of places": (
        profile(column="      - {header: Revenue, value: name, type: money, format: '#,##0.00'}\n"),
        9,
        "format '#,##0.00' of a money column is its number of decimal places",
        "format: '2'",
    ),
    "parent_key without parent": (
        profile(column="      - {header: Name, value: name, parent_key: name}\n"),
        9,
        "parent_key says what a link to a parent carries; this column has no parent",
        "add parent: accounts",
    ),
    "a link that carries no parent id": (
        profile(column="      - {header: Name, value: name, parent: accounts}\n"),
        9,
        "a link to accounts carries the parent's external id",
        "write value: account_external_id",
    ),
    "an empty picklist": (
        profile(column="      - {header: Level, value: level, picklist: []}\n"),
        9,
        "picklist: [] accepts no value",
        "list the values the target accepts",
    ),
    "a constant outside the picklist": (
        profile(column="      - {header: Country, constant: China, picklist: [CN, US]}\n"),
        9,
        "the constant 'China' is not in the column's picklist",
        "write one of the picklist's values",
    ),
    "a constant longer than the column": (
        profile(column="      - {header: Country, constant: People's Republic of China, max_length: 10}\n"),
        9,
        "is longer than max_length 10",
        "shorten the constant",
    ),
    "a delimiter for an xlsx file": (
        profile(file="{format: xlsx, delimiter: ';'}"),
        3,
        "delimiter apply to CSV files; an XLSX file holds Unicode",
        "or write format: csv",
    ),
    "an encoding for an xlsx file": (
        profile(file="{format: xlsx, encoding: gb18030, bom: true}"),
        3,
        "encoding and bom apply to CSV files",
        "remove encoding and bom",
    ),
    "a bom for a GB18030 file": (
        profile(file="{format: csv, encoding: gb18030, bom: true}"),
        3,
        "bom: true adds the byte order mark of UTF-8; a gb18030 file has none",
        "remove bom",
    ),
    "no columns": (
        "name: mine\nrests_on: a test\nentities:\n  accounts:\n    object: Account\n    columns: []\n",
        4,
        "columns: [] writes files with no column",
        "list the template's columns",
    ),
}


@pytest.mark.parametrize("case", TARGETS)
def test_target_profile_settings_that_cannot_act_are_refused(make_project, case):
    text, line, message, hint = TARGETS[case]
    root = make_project(
        migration="name: t\ntarget: mine\nentities: [accounts]\n",
        mappings={"crm": HEAD},
        files={"data/a.csv": CSV, "targets/mine.yaml": text},
    )
    refused(validate(root), f"{root}/targets/mine.yaml", line, message, hint)


@pytest.mark.parametrize("name", built_in_names())
def test_every_built_in_profile_passes_its_own_checks(tmp_path, name):
    profile, _ = load_target(name, tmp_path, "migration.yaml", 1)
    assert profile.entities


def test_an_output_encoding_for_a_workbook_target_is_refused(make_project):
    root = make_project(
        migration="name: t\ntarget: mine\nentities: [accounts]\noptions:\n  output_encoding: gb18030\n",
        mappings={"crm": HEAD},
        files={"data/a.csv": CSV, "targets/mine.yaml": profile(file="{format: xlsx}")},
    )
    refused(
        validate(root),
        f"{root}/migration.yaml",
        5,
        "options.output_encoding: target mine writes XLSX files, which hold Unicode text in cells, so gb18030 "
        "would be ignored",
        "use a target profile with file: {format: csv}",
    )


# --- other settings that would do nothing -------------------------------------------------------------------


def test_if_empty_after_a_constant_is_refused(make_project):
    mapping = HEAD + "    derive:\n      lead_source: {constant: 老CRM, if_empty: 其他}\n"
    root = make_project(mappings={"crm": mapping}, files={"data/a.csv": CSV})
    refused(
        validate(root),
        f"{root}/mappings/crm.yaml",
        9,
        "entities.accounts.derive.lead_source: if_empty fills a result that is empty",
        "remove if_empty",
    )
    mapping = (
        HEAD + "    derive:\n      lead_source: {constant: 老CRM-市场, split: {by: '-', part: 3}, if_empty: 其他}\n"
    )
    (root / "mappings" / "crm.yaml").write_text(mapping, encoding="utf-8")
    assert validate(root).exit_code == 0  # a split may leave it empty
