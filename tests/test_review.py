"""Golden records, steward decisions and the review workbook on small hand-made projects."""

from __future__ import annotations

import csv

import polars as pl
import pytest
from openpyxl import load_workbook

from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate.output_frames import import_frame
from crm_migrate.migrate.run import prepare, run
from crm_migrate.project import load_project

ACCOUNTS = """\
file: data/accounts.csv
system: crm
entities:
  accounts:
    columns:
      编号: id
      名称: name
      电话: phone
      地址: address
      最近跟进: last_activity_at
"""
# A1 and A2 are one company (the same registered name); A3 is another company; A4 has the same name as A3
# but both records say nothing else: the tool merges them, the steward knows better.
ACCOUNTS_CSV = """编号,名称,电话,地址,最近跟进
A1,北京星辰科技有限公司,010-62345678,北京市海淀区中关村大街1号,2024-01-01
A2,北京星辰科技有限责任公司,010-62345679,北京市海淀区中关村大街1号院,2025-06-01
A3,上海云帆贸易有限公司,,,2025-03-03
A4,上海云帆贸易有限公司,,,2025-04-04
"""


def project(make_project, migration: str = "name: t\noptions: {today: 2026-01-01}\n"):
    return make_project(migration, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV})


def golden(result, legacy: str) -> dict:
    accounts = import_frame(result.migration.entities[Entity.accounts])
    return accounts.filter(pl.col("legacy_id") == legacy).row(0, named=True)


def test_source_priority_by_default_and_the_loser_phone_is_kept(make_project):
    result = prepare(load_project(project(make_project)))
    a1 = golden(result, "A1")
    assert a1["name"] == "北京星辰科技有限公司"
    assert a1["phone"] == "+861062345678"  # the first row wins
    assert a1["phone_others"] == "+861062345679"  # and the other number is not lost


def test_survivorship_rules_per_field(make_project):
    migration = """\
name: t
options: {today: 2026-01-01}
matching:
  accounts:
    survivorship:
      fields: {phone: most_recent, address: longest}
"""
    result = prepare(load_project(project(make_project, migration)))
    a1 = golden(result, "A1")
    assert a1["phone"] == "+861062345679"  # A2 followed up later
    assert a1["address"].endswith("1号院")  # the longer address
    assert a1["name"] == "北京星辰科技有限公司"  # fields without a rule: source priority


def test_a_survivorship_tie_goes_to_source_priority(make_project):
    migration = """\
name: t
options: {today: 2026-01-01}
matching:
  accounts:
    survivorship:
      default: most_frequent
"""
    # Each phone is held once: a tie, which the first source row wins.
    result = prepare(load_project(project(make_project, migration)))
    assert golden(result, "A1")["phone"] == "+861062345678"


def test_a_survivorship_rule_on_an_unmapped_field_is_an_error_with_its_line(make_project):
    migration = """\
name: t
matching:
  accounts:
    survivorship:
      fields: {phnoe: most_recent}
"""
    with pytest.raises(MigrateError) as exc:
        load_project(project(make_project, migration))
    problem = exc.value.problems[0]
    assert problem.line == 5 and "phnoe" in problem.message and "phone" in problem.hint


def test_provenance_names_the_source_row_of_each_golden_value(make_project, tmp_path):
    migration = """\
name: t
options: {today: 2026-01-01}
matching:
  accounts:
    survivorship:
      fields: {phone: most_recent}
"""
    out = tmp_path / "out"
    run(load_project(project(make_project, migration)), out)
    with (out / "review" / "provenance.csv").open(encoding="utf-8-sig") as f:
        rows = {r["field"]: r for r in csv.DictReader(f) if r["entity"] == "accounts"}
    assert rows["phone"]["from_row"] == "3" and rows["name"]["from_row"] == "2"


def review_rows(out) -> list[dict]:
    book = load_workbook(out / "review" / "duplicates.xlsx")
    sheet = book["accounts"]
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, r, strict=True)) for r in values[1:]]


def test_the_review_workbook_lists_groups_with_evidence_and_a_decision_list(make_project, tmp_path):
    out = tmp_path / "out"
    run(load_project(project(make_project)), out)
    rows = review_rows(out)
    members = [r for r in rows if r["role"] != "golden"]
    assert {r["record"] for r in members} == {"accounts:2", "accounts:3", "accounts:4", "accounts:5"}
    a3 = next(r for r in members if r["record"] == "accounts:4")
    assert "name same" in a3["evidence"] and float(a3["probability"]) >= 0.95
    assert all(isinstance(r["phone"], (str, type(None))) for r in rows)  # phones are text
    book = load_workbook(out / "review" / "duplicates.xlsx")
    validations = book["accounts"].data_validations.dataValidation
    assert validations and "keep apart" in validations[0].formula1
    assert "How to use" in book.sheetnames


def decide(out, tmp_path, choices: dict[str, tuple[str, str | None]]):
    """Fill the decision column of the review workbook as a steward would; return the saved copy."""
    book = load_workbook(out / "review" / "duplicates.xlsx")
    sheet = book["accounts"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        record = row[header.index("record")].value
        if record in choices:
            row[header.index("decision")].value, row[header.index("into")].value = choices[record]
    path = tmp_path / "project" / "decided.xlsx"  # a project reads decisions from inside itself
    book.save(path)
    return path


def test_a_keep_apart_decision_overrules_a_merge_and_survives_a_rerun(make_project, tmp_path):
    root = project(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    before = import_frame(prepare(load_project(root)).migration.entities[Entity.accounts])
    assert set(before["legacy_id"]) == {"A1", "A3"}  # the tool merged A4 into A3
    decisions = decide(out, tmp_path, {"accounts:5": ("keep apart", None)})
    again = run(load_project(root), out, decisions=decisions)
    accounts = import_frame(again.migration.entities[Entity.accounts])
    assert set(accounts["legacy_id"]) == {"A1", "A3", "A4"}
    assert again.migration.entities[Entity.accounts].decisions.applied == 1
    assert again.reconciliation.balanced


def test_a_merge_into_decision_joins_records_the_tool_kept_apart(make_project, tmp_path):
    root = project(make_project)
    decisions = tmp_path / "project" / "decisions.csv"
    decisions.write_text("entity,record,decision,into\naccounts,accounts:4,merge into,accounts:2\n", encoding="utf-8")
    result = prepare(load_project(root), decisions=decisions)
    accounts = import_frame(result.migration.entities[Entity.accounts])
    assert set(accounts["legacy_id"]) == {"A1", "A4"}  # A3 now belongs to A1; A4, merged with it before, stays


def records_of(result) -> dict[str, set[str]]:
    """Per written record (its legacy id), the legacy ids of the source rows it holds."""
    rows = result.migration.entities[Entity.accounts].frame.filter(pl.col("_outcome").is_in(["written", "merged"]))
    held = rows.group_by("_record_id").agg(
        pl.col("raw:id").filter(pl.col("_outcome") == "written").first(), pl.col("raw:id").alias("all")
    )
    return {legacy: set(members) for legacy, members in held.select("raw:id", "all").iter_rows()}


def test_merge_into_moves_the_one_record_never_its_cluster_and_the_workbook_shows_it_again(make_project, tmp_path):
    root = project(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    assert records_of(prepare(load_project(root))) == {"A1": {"A1", "A2"}, "A3": {"A3", "A4"}}
    decisions = decide(out, tmp_path, {"accounts:4": ("merge into", "accounts:2")})
    again = run(load_project(root), out, decisions=decisions)
    assert records_of(again) == {"A1": {"A1", "A2", "A3"}, "A4": {"A4"}}  # A4 stays where it was
    rows = review_rows(out)
    a3 = [r for r in rows if r["record"] == "accounts:4"]
    assert len(a3) == 1 and (a3[0]["decision"], a3[0]["into"]) == ("merge into", "accounts:2")
    group = [r for r in rows if r["group"] == a3[0]["group"]]
    assert {r["kind"] for r in group} == {"decided"}  # decided by the steward, not a merge of the tool's
    assert "steward" in a3[0]["evidence"]
    assert {r["record"] for r in group if r["role"] != "golden"} == {"accounts:2", "accounts:3", "accounts:4"}
    # The regenerated workbook, given back as it is (a second session), decides the same.
    book = tmp_path / "project" / "second.xlsx"
    book.write_bytes((out / "review" / "duplicates.xlsx").read_bytes())
    third = run(load_project(root), out, decisions=book)
    assert records_of(third) == {"A1": {"A1", "A2", "A3"}, "A4": {"A4"}}
    assert third.migration.entities[Entity.accounts].decisions.applied == 1


def test_a_decision_on_a_changed_row_is_reported_not_applied(make_project, tmp_path):
    root = project(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    decisions = decide(out, tmp_path, {"accounts:5": ("keep apart", None)})
    (root / "data" / "accounts.csv").write_text(
        ACCOUNTS_CSV.replace("A4,上海云帆贸易有限公司", "A4,上海云帆贸易股份有限公司"), encoding="utf-8"
    )
    result = run(load_project(root), out, decisions=decisions)
    stale = result.migration.entities[Entity.accounts].decisions.stale
    assert [s.decision.record for s in stale] == ["accounts:5"] and "changed" in stale[0].why
    with (out / "review" / "stale_decisions.csv").open(encoding="utf-8-sig") as f:
        assert [r["record"] for r in csv.DictReader(f)] == ["accounts:5"]
    assert set(import_frame(result.migration.entities[Entity.accounts])["legacy_id"]) == {"A1", "A3"}


def test_a_decision_on_a_row_that_is_gone_is_reported(make_project, tmp_path):
    root = project(make_project)
    decisions = tmp_path / "project" / "decisions.csv"
    decisions.write_text("entity,record,decision,into\naccounts,accounts:99,keep apart,\n", encoding="utf-8")
    result = prepare(load_project(root), decisions=decisions)
    stale = result.migration.entities[Entity.accounts].decisions.stale
    assert len(stale) == 1 and "no longer" in stale[0].why


def test_a_bad_decision_value_names_the_file_row_and_column(make_project, tmp_path):
    root = project(make_project)
    decisions = root / "decisions.csv"
    decisions.write_text("entity,record,decision,into\naccounts,accounts:2,merg,\n", encoding="utf-8")
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(root), decisions=decisions)
    problem = exc.value.problems[0]
    assert problem.line == 2 and problem.column == "decision" and "drop-down" in problem.hint


def test_orphans_are_listed_with_their_rows(make_project, tmp_path):
    contacts = """\
file: data/contacts.csv
system: crm
entities:
  contacts:
    columns: {编号: id, 客户: account_id, 姓名: name}
"""
    root = make_project(
        "name: t\noptions: {today: 2026-01-01}\n",
        {"accounts": ACCOUNTS, "contacts": contacts},
        {"data/accounts.csv": ACCOUNTS_CSV, "data/contacts.csv": "编号,客户,姓名\nL1,A1,张伟\nL2,A9,李娜\n"},
    )
    out = tmp_path / "out"
    run(load_project(root), out)
    with (out / "review" / "orphans.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["entity"], r["row"]) for r in rows] == [("contacts", "3")] and "A9" in rows[0]["reason"]


def test_project_weights_override_the_estimates(make_project):
    migration = """\
name: t
options: {today: 2026-01-01}
matching:
  accounts:
    weights:
      name: {m: [0.35, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05], u: [0.35, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]}
"""
    # With name agreement worth nothing (m = u), A3 and A4 (nothing else in common) stay apart.
    result = prepare(load_project(project(make_project, migration)))
    assert {"A3", "A4"} <= set(import_frame(result.migration.entities[Entity.accounts])["legacy_id"])
    assert result.migration.entities[Entity.accounts].matches.m["name"][-1] == pytest.approx(0.05)


def test_weights_of_the_wrong_length_say_which_levels_exist(make_project):
    migration = """\
name: t
matching:
  accounts:
    weights:
      name: {m: [0.5, 0.5]}
"""
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(project(make_project, migration)))
    problem = exc.value.problems[0]
    assert "same" in problem.hint and "different" in problem.hint
    assert problem.line == 5 and "matching.accounts.weights.name" in problem.message


def test_the_review_workbook_stops_at_the_row_limit_and_the_full_list_has_every_group(make_project, tmp_path):
    # A3/A4 only just miss the merge threshold: a review pair. A1, A2 and A5 merge, and so do A6 and A7.
    more = (
        "A5,北京星辰科技有限公司,010-62345678,北京市海淀区中关村大街1号,2024-02-01\n"
        "A6,深圳海角电子有限公司,0755-23456789,,2024-01-01\nA7,深圳海角电子有限公司,0755-23456789,,2024-01-01\n"
    )
    migration = (
        "name: t\noptions: {today: 2026-01-01, review: {max_rows: 5}}\n"
        "matching:\n  accounts: {merge: 0.9999, review: 0.5}\n"
    )
    root = make_project(migration, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV + more})
    out = tmp_path / "out"
    result = run(load_project(root), out)
    rows = review_rows(out)
    assert 0 < len(rows) <= 5
    assert [r["kind"] for r in rows] == ["review"] * len(rows)  # review pairs first
    assert {r["record"] for r in rows if r["role"] != "golden"} == {"accounts:4", "accounts:5"}
    book = load_workbook(out / "review" / "duplicates.xlsx")
    summary = [c for (c,) in book["Summary"].iter_rows(values_only=True, max_col=1) if c and "accounts:" in c]
    assert len(summary) == 1 and "2 merged groups left out" in summary[0]
    assert "review/duplicate_groups.csv" in summary[0]
    with (out / "review" / "duplicate_groups.csv").open(encoding="utf-8-sig") as f:
        full = list(csv.DictReader(f))
    assert {r["group"] for r in full} == {"1", "2", "3"}
    assert {r["record"] for r in full} == {f"accounts:{n}" for n in range(2, 9)}
    assert {r["group"] for r in full if r["in_workbook"] == "yes"} == {"1"}
    assert [r["kind"] for r in full] == ["review"] * 2 + ["merge"] * 5
    assert set(full[0]) == {"entity", "group", "kind", "record", "record_id", "probability", "in_workbook"}
    files = {o["path"]: o["rows"] for o in result.files}
    assert files["review/duplicates.xlsx"] == 1 and files["review/duplicate_groups.csv"] == 7


# A1 and A2 merge; A5 (A1's name, nothing else) is a review candidate of that record; A3, A4 and A6 (one name,
# nothing else) are review pairs among themselves: one group, A3 its record, A4 and A6 its candidates.
REVIEWED = "name: t\noptions: {today: 2026-01-01}\nmatching:\n  accounts: {merge: 0.9999, review: 0.5}\n"
MORE = "A5,北京星辰科技有限公司,,,2025-05-05\nA6,上海云帆贸易有限公司,,,2025-04-05\n"


def reviewed(make_project):
    return make_project(REVIEWED, {"accounts": ACCOUNTS}, {"data/accounts.csv": ACCOUNTS_CSV + MORE})


def test_each_record_is_in_one_group_a_merged_one_with_its_review_candidates(make_project, tmp_path):
    out = tmp_path / "out"
    run(load_project(reviewed(make_project)), out)
    rows = [r for r in review_rows(out) if r["role"] != "golden"]
    records = [r["record"] for r in rows]
    assert len(records) == len(set(records)) == 6  # every record once
    first = [(r["record"], r["role"]) for r in rows if r["group"] == rows[0]["group"]]
    assert first == [("accounts:2", "survivor"), ("accounts:3", "merged"), ("accounts:6", "candidate")]
    assert {r["kind"] for r in rows} == {"review"}
    assert [(r["record"], r["role"]) for r in rows if r["group"] == 2] == [
        ("accounts:4", "survivor"),
        ("accounts:5", "candidate"),
        ("accounts:7", "candidate"),
    ]


def test_several_merges_in_one_group_all_join_its_record(make_project, tmp_path):
    root = reviewed(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    decisions = decide(
        out,
        tmp_path,
        {"accounts:5": ("merge", None), "accounts:7": ("merge", None), "accounts:3": ("merge into", "accounts:4")},
    )
    again = run(load_project(root), out, decisions=decisions)
    # A4 and A6 join A3 (not only each other); A2 moves alone from A1 into A3; A1 and A5 stay as they were.
    assert records_of(again) == {"A1": {"A1"}, "A2": {"A2", "A3", "A4", "A6"}, "A5": {"A5"}}  # A2 read first
    rows = review_rows(out)
    shown = {r["record"]: (r["kind"], r["decision"], r["into"]) for r in rows if r["role"] != "golden"}
    assert shown["accounts:5"] == shown["accounts:7"] == ("decided", "merge", None)
    assert shown["accounts:3"] == ("decided", "merge into", "accounts:4")
    assert shown["accounts:4"] == ("decided", None, None)  # the record they joined, in their group
    # A1 and A5 are review pairs of A2, now in that group: their candidates, undecided.
    assert {r["record"]: r["role"] for r in rows if r["record"] in ("accounts:2", "accounts:6")} == {
        "accounts:2": "candidate",
        "accounts:6": "candidate",
    }


def test_a_decision_on_a_record_in_a_review_pair_and_a_group(make_project, tmp_path):
    # A1 is a merged group's record (with A2) and in a review pair (with A5): listed once, with both.
    root = reviewed(make_project)
    out = tmp_path / "out"
    run(load_project(root), out)
    decisions = decide(out, tmp_path, {"accounts:6": ("merge", None), "accounts:3": ("keep apart", None)})
    again = run(load_project(root), out, decisions=decisions)
    assert records_of(again)["A1"] == {"A1", "A5"} and records_of(again)["A2"] == {"A2"}
    rows = [r for r in review_rows(out) if r["role"] != "golden"]
    decided = [r for r in rows if r["kind"] == "decided"]
    assert [(r["record"], r["role"], r["decision"]) for r in decided] == [
        ("accounts:2", "survivor", None),
        ("accounts:6", "merged", "merge"),
        ("accounts:3", "candidate", "keep apart"),
    ]  # A2 and A5: still a review pair
    assert len({r["group"] for r in decided}) == 1
    assert len([r["record"] for r in rows]) == len({r["record"] for r in rows})  # still one place each
    assert "decided by the steward: keep apart" in decided[2]["evidence"]


def test_the_workbook_fits_its_columns_keeps_numbers_as_numbers_and_prints_on_one_page_wide(make_project, tmp_path):
    out = tmp_path / "out"
    run(load_project(reviewed(make_project)), out)
    book = load_workbook(out / "review" / "duplicates.xlsx")
    assert book.sheetnames[:2] == ["Summary", "How to use"]
    sheet = book["accounts"]
    header = [c.value for c in sheet[1]]
    rows = review_rows(out)
    assert all(isinstance(r["group"], int) for r in rows)
    assert all(isinstance(r["probability"], float) for r in rows if r["role"] != "golden")
    width = {name: sheet.column_dimensions[chr(65 + i)].width for i, name in enumerate(header) if i < 26}
    assert width["record"] >= len("accounts:2") and width["name"] >= 2 * len("北京星辰科技有限责任公司")
    assert width["evidence"] <= 81 and all(w <= 41 for n, w in width.items() if n != "evidence")
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth in (None, 1)  # 1 by default
    assert sheet.page_setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    bands = [r.formula[0] for rules in sheet.conditional_formatting for r in rules.rules]
    assert len(bands) == 3 and any("0.9999" in f for f in bands) and any("0.5" in f for f in bands)
    summary = list(book["Summary"].iter_rows(values_only=True))
    counts = dict(zip(summary[0], summary[1], strict=True))
    assert counts["entity"] == "accounts" and counts["groups"] == 2 and counts["to review"] == 2
    assert counts["review pairs"] == 4 and counts["decided"] == 0 and counts["stale decisions"] == 0


def test_a_merge_into_naming_no_record_says_the_file_row_and_column(make_project, tmp_path):
    root = project(make_project)
    decisions = root / "decisions.csv"
    decisions.write_text(
        "entity,record,decision,into\naccounts,accounts:2,merge into,A1\naccounts,accounts:3,merge into,accounts:3\n",
        encoding="utf-8",
    )
    with pytest.raises(MigrateError) as exc:
        prepare(load_project(root), decisions=decisions)
    problems = exc.value.problems
    assert [(p.line, p.column) for p in problems] == [(2, "into"), (3, "into")]
    assert "not a record" in problems[0].message and "the row itself" in problems[1].message
    assert "record" in problems[0].hint


def test_the_workbook_rows_are_the_xml_xlsxwriter_writes_cell_by_cell(tmp_path):
    """The review sheet's rows are built over whole columns (`_stream_rows`); xlsxwriter's own write_string
    and write_number, cell by cell, must give the same sheet and the same styles."""
    import zipfile

    import xlsxwriter

    from crm_migrate.reports.formulas import QuotedCells
    from crm_migrate.reports.workbook import _HEADER, _SPACE, _stream_rows

    texts = [
        "plain",
        " leading space",
        "trailing\u3000",
        'a & b < c > d "q"',
        "line\nbreak",
        "tab\there",
        "bell\x07 and \x1f",
        "_x0041_ kept literally",
        "<r>looks rich</r>",
        "",
        None,
        "两个字 😀",
        "\ufffe\uffff",
        "=cmd|' /C calc'!A0",
        "x" * 20_000 + "😀" * 7_000,
        "\x85next line",
        "end\n",
    ]
    n = len(texts)
    frame = pl.DataFrame(
        {
            "t0": texts,
            "t1": list(reversed(texts)),
            "c0": pl.Series([i % 8 for i in range(n)], dtype=pl.Int8),
            "c1": pl.Series([(i * 3) % 8 for i in range(n)], dtype=pl.Int8),
            "n0": [
                0.1,
                1e-5,
                123.0,
                0.9999999999999999,
                None,
                2.5e20,
                1 / 3,
                0.0,
                7.0,
                None,
                42.0,
                0.95,
                1e-300,
                None,
                3.0,
                0.6,
                12345678901234567.0,
            ],
            "_golden": [i % 3 == 0 for i in range(n)],
        }
    )
    at, number_at = [0, 2], [1]

    def book(path, stream: bool):
        wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        cells = QuotedCells(wb)
        sheet = wb.add_worksheet("s")
        for c in range(3):
            cells.write(sheet, 0, c, f"h{c}", _HEADER)
        styles = [
            cells.format(
                {"bold": True} if code & 2 else ({"bg_color": "#FFF2B3"} if code & 4 else None), bool(code & 1)
            )
            for code in range(8)
        ]
        formats = [(cells.format({"num_format": "0.0000"}), cells.format({"bold": True, "num_format": "0.0000"}))]
        if stream:
            _stream_rows(sheet, frame, at, number_at, styles, formats)
        else:
            for r, row in enumerate(frame.iter_rows(named=True), start=1):
                for i, c in enumerate(at):
                    if row[f"t{i}"] is not None:
                        sheet.write_string(r, c, row[f"t{i}"], styles[row[f"c{i}"]])
                if row["n0"] is not None:
                    sheet.write_number(r, 1, row["n0"], formats[0][row["_golden"]])
        sheet.autofilter(0, 0, n, 2)
        wb.close()
        with zipfile.ZipFile(path) as z:
            return z.read("xl/worksheets/sheet1.xml"), z.read("xl/styles.xml")

    streamed = book(tmp_path / "streamed.xlsx", True)
    by_cell = book(tmp_path / "by_cell.xlsx", False)
    assert streamed[0] == by_cell[0]
    assert streamed[1] == by_cell[1]
    assert set(_SPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}  # Python's \s, as xlsxwriter's


def test_each_row_shows_the_evidence_of_its_own_pair(make_project):
    """The evidence texts are worked out once per distinct levels and weights, then joined back to the
    rows: each row still reads what its own pair rests on."""
    from crm_migrate.migrate.match import evidence
    from crm_migrate.migrate.review import _evidence, groups

    result = prepare(load_project(project(make_project))).migration.entities[Entity.accounts]
    rows = groups(result).rows
    pairs = result.matches.pairs.with_row_index("_p")
    shown = rows["_p"].to_list()
    expected = {p["_p"]: evidence(p, result.matches.comparisons) for p in pairs.iter_rows(named=True)}
    got = _evidence(rows, result).to_list()
    assert len({expected[p] for p in shown if p is not None}) >= 2  # pairs that rest on different things
    assert [got[i] for i, p in enumerate(shown) if p is not None] == [expected[p] for p in shown if p is not None]


def test_provenance_written_slice_by_slice_is_the_table_written_whole(make_project, tmp_path, monkeypatch):
    # Two merged groups of accounts: with one row a slice, review/provenance.csv is written in a dozen parts,
    # and must be byte for byte the file written at once (one header, one BOM, the same order).
    from crm_migrate.migrate import review

    root = project(make_project)
    run(load_project(root), tmp_path / "whole")
    monkeypatch.setattr(review, "PROVENANCE_ROWS", 1)
    run(load_project(root), tmp_path / "sliced")
    whole = (tmp_path / "whole" / "review" / "provenance.csv").read_bytes()
    assert whole.count(b"record_id") == 1 and len(whole.splitlines()) > 4
    assert (tmp_path / "sliced" / "review" / "provenance.csv").read_bytes() == whole


def test_a_table_written_in_parts_has_one_header_and_every_part_neutralised(tmp_path):
    from crm_migrate.migrate.output_frames import write_csv_parts

    parts = [pl.DataFrame({"a": ["x", "=1+1"], "b": [1, 2]}), pl.DataFrame({"a": ["@SUM(A1)"], "b": [3]})]
    path = tmp_path / "t.csv"
    assert write_csv_parts(iter(parts), path) == 3
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfa,b\r\n") and data.count(b"\xef\xbb\xbf") == 1
    assert data.decode("utf-8-sig").splitlines() == ["a,b", "x,1", "'=1+1,2", "'@SUM(A1),3"]


def test_a_run_lets_the_rows_it_read_go_and_still_counts_them(make_project, tmp_path):
    kept = run(load_project(project(make_project)), tmp_path / "kept")  # a library caller's: the frames stay
    assert kept.migration.reads[0].table.frame.height == 4 and kept.conformed[Entity.accounts].frame.height == 2
    result = run(load_project(project(make_project)), tmp_path / "out", keep_frames=False)  # the command line's
    assert result.conformed[Entity.accounts].frame.height == 0
    read = result.migration.reads[0]
    assert read.table.frame.height == 0 and read.rows == 4  # the frame let go, its count kept
    assert read.table.columns == ["编号", "名称", "电话", "地址", "最近跟进"]
    report = (tmp_path / "out" / "reports" / "quality.json").read_text(encoding="utf-8")
    assert '"rows": 4' in report
