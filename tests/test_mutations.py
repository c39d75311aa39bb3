"""Behaviours that mutation testing (`scripts/mutate.py`) found no test would notice breaking, each pinned
here on the function that keeps the promise, small and fast: formulas neutralised, steward decisions
applied, golden records chosen by their rule, sensitive values masked, the project secret kept, every row
accounted for, and junk rows told apart from customers."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from crm_migrate.mappings.entities import Entity, FieldSpec, FieldType
from crm_migrate.migrate.columns import OUTCOME, REASON, RECORD_ID, ROW, RULE, SEQ, SHEET, SOURCE, raw

# --- migrate/formulas.py ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 5, 1.5, "", b"=1"])
def test_what_is_not_text_is_no_formula(value):
    from crm_migrate.reports.formulas import is_formula

    assert is_formula(value) is False and is_formula(value, plain=True) is False


@pytest.mark.parametrize("text", ["  星辰科技", "\u3000张三", "\u00a0note", " 1+1", "  "])
def test_leading_spaces_alone_make_no_formula(text):
    """A spreadsheet looks past leading spaces; what follows them decides."""
    from crm_migrate.reports.formulas import is_formula, neutralise

    assert not is_formula(text) and neutralise(text) == text


def test_risky_is_strict_unless_told_the_column_holds_phones_or_amounts():
    from crm_migrate.reports.formulas import risky

    frame = pl.DataFrame({"a": ["+86 10 6234 5678", "-5.00", "=1", None]})
    assert frame.select(risky("a"))["a"].to_list() == [True, False, True, False]
    assert frame.select(risky("a", plain=True))["a"].to_list() == [False, False, True, False]


def test_the_columns_of_phones_amounts_and_numbers_are_plain(make_project):
    """Rejects write the raw values of these columns as they are ("-1 200", "010-6234 5678"), never with
    the apostrophe a text column's value would get."""
    from crm_migrate.migrate.output_frames import plain_columns
    from crm_migrate.project import load_project

    mapping = (
        "file: data/a.csv\nentities:\n  accounts:\n    columns:\n      名称: name\n      电话: phone\n"
        "      金额: {field: budget, type: money}\n      人数: {field: staff, type: number}\n"
        "      备注: note\n"
    )
    root = make_project(mappings={"a": mapping}, files={"data/a.csv": "名称,电话,金额,人数,备注\n星辰,1,2,3,4\n"})
    assert plain_columns(load_project(root).sources[0]) == {"电话", "金额", "人数"}


def test_a_frame_of_one_row_no_text_or_no_rows_is_neutralised_all_the_same():
    from crm_migrate.reports.formulas import neutralise_frame

    done, counts = neutralise_frame(pl.DataFrame({"a": ["=1"]}))
    assert done["a"].to_list() == ["'=1"] and counts == {"a": 1}
    numbers = pl.DataFrame({"n": [1, 2]})
    done, counts = neutralise_frame(numbers)
    assert done.equals(numbers) and counts == {}
    empty = pl.DataFrame(schema={"a": pl.String})
    done, counts = neutralise_frame(empty)
    assert done.equals(empty) and counts == {}


def test_plain_columns_may_be_given_as_any_iterable():
    from crm_migrate.reports.formulas import neutralise_frame

    frame = pl.DataFrame({"note": ["+86 10 1"], "phone": ["+86 10 6234 5678"], "fax": ["+86 10 6234 5679"]})
    done, counts = neutralise_frame(frame, plain=(c for c in ("phone", "fax")))
    assert done.row(0) == ("'+86 10 1", "+86 10 6234 5678", "+86 10 6234 5679") and counts == {"note": 1}


def test_quoted_cells_keep_each_style_apart_and_quote_only_formulas_by_default(tmp_path):
    import openpyxl
    import xlsxwriter

    from crm_migrate.reports.formulas import QuotedCells

    path = tmp_path / "q.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet, cells = book.add_worksheet("s"), QuotedCells(book)
        cells.write(sheet, 0, 0, "=1", {"bold": True})
        cells.write(sheet, 0, 1, "=2", {"italic": True})
        cells.write(sheet, 0, 2, "+86 10 6234 5678")  # not said to be a phone: a formula to a spreadsheet
        sheet.write_number(0, 3, 5, cells.format({"num_format": "0.00"}))
        sheet.write_number(0, 4, 6, cells.format(None))
    row = next(openpyxl.load_workbook(path)["s"].iter_rows())
    assert [c.quotePrefix for c in row] == [True, True, True, False, False]
    assert (row[0].font.b, row[0].font.i, row[1].font.b, row[1].font.i) == (True, False, False, True)
    assert row[3].number_format == "0.00"


# --- migrate/decisions.py -----------------------------------------------------------------------------------

SECRET = b"k" * 32


def frame_of(rows: int, gone: tuple[int, ...] = ()) -> pl.DataFrame:
    """Rows 2.. of source crm, the ones in ``gone`` already decided (filtered) before matching."""
    return pl.DataFrame(
        {
            SOURCE: ["crm"] * rows,
            SHEET: [None] * rows,
            ROW: list(range(2, rows + 2)),
            OUTCOME: ["filtered" if r + 2 in gone else None for r in range(rows)],
            raw("id"): [f"A{r + 1}" for r in range(rows)],
        },
        schema_overrides={SHEET: pl.String, OUTCOME: pl.String},
    )


def decision(
    record: str,
    choice: str = "merge",
    group: str = "1",
    members: tuple[str, ...] = (),
    into: str | None = None,
    fingerprint: str = "",
):
    from crm_migrate.migrate.decisions import Decision

    return Decision(Entity.accounts, group, record, choice, into, members, fingerprint, "test")


def together(links: list[tuple[int, int]]) -> list[set[int]]:
    """The groups of row indices the must-link pairs join (more than one row each)."""
    groups: list[set[int]] = []
    for a, b in links:
        touching = [g for g in groups if a in g or b in g]
        joined = {a, b}.union(*touching)
        groups = [g for g in groups if g not in touching] + [joined]
    return sorted(groups, key=min)


def apply(decisions, rows: int = 6, gone: tuple[int, ...] = (), fields=()):
    from crm_migrate.migrate.decisions import apply

    return apply(frame_of(rows, gone), decisions, list(fields), SECRET)


GROUP = ("crm:2", "crm:3", "crm:4", "crm:5")


def test_every_merge_of_a_group_joins_the_groups_first_row():
    done = apply([decision("crm:4", members=GROUP), decision("crm:5", members=GROUP)])
    assert together(done.links) == [{0, 2, 3}] and done.vetoes == [] and done.applied == 2


def test_a_lone_merge_joins_the_groups_first_row():
    done = apply([decision("crm:5", members=GROUP)])
    assert done.links == [(3, 0)]


def test_merges_join_the_next_row_where_the_first_is_kept_apart_or_moved():
    kept = apply([decision("crm:2", "keep apart", members=GROUP), decision("crm:4", members=GROUP)])
    assert kept.links == [(2, 1)]
    assert sorted(kept.vetoes) == [(0, 1), (0, 2), (0, 3)]
    moved = apply(
        [
            decision("crm:2", "merge into", members=GROUP, into="crm:7"),
            decision("crm:3", "keep apart", members=GROUP),
            decision("crm:5", members=GROUP),
        ],
        rows=7,
    )
    assert sorted(moved.links) == [(0, 5), (3, 2)] and moved.moved == [0]


def test_merges_without_the_group_members_join_each_other():
    """A decisions CSV without the members column: the rows marked merge in one group become one record."""
    done = apply([decision("crm:3"), decision("crm:5"), decision("crm:6"), decision("crm:4", group="2")])
    assert together(done.links) == [{1, 3, 4}]


def test_groups_are_told_apart_by_entity_group_and_members():
    done = apply(
        [
            decision("crm:3", group="1", members=("crm:2", "crm:3")),
            decision("crm:5", group="1", members=("crm:4", "crm:5")),
            decision("crm:6", group="2", members=("crm:3", "crm:6")),
        ]
    )
    assert sorted(done.links) == [(1, 0), (3, 2), (4, 1)]  # each joins its own group's first row


def test_merge_into_links_the_row_to_the_named_record_and_moves_it_alone():
    done = apply([decision("crm:3", "merge into", members=GROUP, into="crm:6")])
    assert done.links == [(1, 4)] and done.moved == [1] and done.vetoes == []
    assert [(i, d.record) for i, d in done.decided] == [(1, "crm:3")]


def test_stale_decisions_say_why_and_are_not_applied():
    from crm_migrate.migrate.decisions import STALE_KEY, fingerprint

    spec = [FieldSpec("name", FieldType.company_name, "name")]
    theirs = fingerprint(["A3"], b"x" * 32)
    mine = fingerprint(["A9"], SECRET)  # crm:5 holds A4
    done = apply(
        [
            decision("crm:9"),
            decision("crm:3", fingerprint=theirs),
            decision("crm:5", fingerprint=mine),
            decision("crm:4", "merge into", into="crm:99"),
            decision("crm:6", members=("crm:6", "crm:7")),
        ],
        rows=6,
        gone=(6,),
        fields=spec,
    )
    why = {s.decision.record: s.why for s in done.stale}
    assert why == {
        "crm:9": "the record is no longer in the sources (or no longer enters matching)",
        "crm:3": STALE_KEY,
        "crm:5": "the record's source values changed since the review",
        "crm:4": "the record to merge into, crm:99, is no longer in the sources",
        "crm:6": "the record is no longer in the sources (or no longer enters matching)",
    }
    assert done.links == [] and done.applied == 0 and done.decided == []


def test_a_fingerprint_that_matches_applies_and_an_earlier_versions_one_is_counted():
    from crm_migrate.migrate.decisions import fingerprint, legacy_fingerprint

    spec = [FieldSpec("name", FieldType.company_name, "name")]
    ours, old = fingerprint(["A2"], SECRET), legacy_fingerprint(["A3"])  # the ids of crm:3 and crm:4
    assert old == hashlib.sha1(b"A3").hexdigest()[:12]
    done = apply(
        [
            decision("crm:3", "keep apart", members=GROUP, fingerprint=ours),
            decision("crm:4", "keep apart", members=GROUP, fingerprint=old.upper()),
        ],
        fields=spec,
    )
    assert done.stale == [] and done.applied == 2 and done.legacy == 1
    assert len(done.vetoes) == 6


def test_a_fingerprint_is_keyed_and_names_its_key():
    from crm_migrate.migrate.decisions import fingerprint
    from crm_migrate.secret import key_id

    one = fingerprint(["A1", "星辰", None], SECRET)
    assert one.startswith(key_id(SECRET) + ":") and len(one.split(":")[1]) == 20
    assert one != fingerprint(["A1", "星辰", None], b"x" * 32)  # another key
    assert one != fingerprint(["A1", "星辰科技", None], SECRET) and one != fingerprint(["A1", "星辰"], SECRET)
    assert one == fingerprint(["A1", "星辰", ""], SECRET)  # an empty cell, however it was read


def test_decisions_are_read_with_their_columns_whatever_their_order(tmp_path):
    from crm_migrate.migrate.decisions import read_decisions

    path = tmp_path / "d.csv"
    path.write_text(
        "members,into,decision,record,group,entity,fingerprint\n"
        "crm:2; crm:3,,Merge,crm:3,7,accounts,ab:cd\n"
        ",,,crm:4,7,accounts,\n"
        ",crm:2,merge into,crm:5,8,contacts,\n",
        encoding="utf-8",
    )
    got = read_decisions(path)
    assert [(d.entity, d.group, d.record, d.decision, d.into, d.members, d.fingerprint) for d in got] == [
        (Entity.accounts, "7", "crm:3", "merge", None, ("crm:2", "crm:3"), "ab:cd"),
        (Entity.contacts, "8", "crm:5", "merge into", "crm:2", (), ""),
    ]
    assert got[0].origin == "d.csv row 2"


@pytest.mark.parametrize(
    "row, column, says",
    [
        ("accounts,crm:3,merj,", "decision", "is not one of merge, keep apart, merge into"),
        ("accounts,crm:3,merge into,", "into", "'merge into' needs the record to merge into"),
        ("accounts,,keep apart,", "record", "a 'keep apart' decision on a row without its record"),
        ("accounts,crm:3,merge into,crm:3", "into", "the row itself"),
        ("accounts,crm:3,merge into,somewhere", "into", "not a record"),
        ("acounts,crm:3,merge,", "entity", "unknown entity 'acounts'"),
    ],
)
def test_a_decision_the_file_cannot_mean_names_its_row_and_column(tmp_path, row, column, says):
    from crm_migrate.errors import ProjectError
    from crm_migrate.migrate.decisions import read_decisions

    path = tmp_path / "d.csv"
    path.write_text("entity,record,decision,into\naccounts,crm:2,keep apart,\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ProjectError) as exc:
        read_decisions(path)
    [problem] = exc.value.problems
    assert (problem.line, problem.column) == (3, column) and says in problem.message and problem.hint


def test_a_group_number_the_workbook_holds_as_a_number_is_read_as_written():
    from crm_migrate.migrate.decisions import _text

    assert [_text(v) for v in (7.0, 7.5, None, " crm:2 ", 12)] == ["7", "7.5", "", "crm:2", "12"]


def test_the_decisions_of_a_workbook_are_read_from_every_sheet_that_has_them(tmp_path):
    import xlsxwriter

    from crm_migrate.migrate.decisions import read_decisions

    path = tmp_path / "d.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        book.add_worksheet("How to use").write_string(0, 0, "Pick a decision")
        for name, record in (("accounts", "crm:3"), ("contacts", "crm/Sheet1:4")):
            sheet = book.add_worksheet(name)
            for c, h in enumerate(("group", "record", "decision")):
                sheet.write_string(0, c, h)
            sheet.write_number(1, 0, 3)
            sheet.write_string(1, 1, record)
            sheet.write_string(1, 2, "keep apart")
    got = read_decisions(path)
    assert [(d.entity, d.group, d.record, d.origin) for d in got] == [
        (Entity.accounts, "3", "crm:3", "d.xlsx [accounts] row 2"),
        (Entity.contacts, "3", "crm/Sheet1:4", "d.xlsx [contacts] row 2"),
    ]


def test_a_legacy_fingerprint_joins_the_values_as_earlier_versions_did():
    from crm_migrate.migrate.decisions import fingerprints, legacy_fingerprint

    assert legacy_fingerprint(["A1", None, "星辰"]) == hashlib.sha1("A1\x1f\x1f星辰".encode()).hexdigest()[:12]
    bare = pl.DataFrame({ROW: [2, 3]})  # no source values at all: one fingerprint of nothing per row
    assert fingerprints(bare, [], SECRET) == [fingerprints(pl.DataFrame({raw("id"): [""]}), [], SECRET)[0]] * 2


def decisions_in(tmp_path, text: str, name: str = "d.csv"):
    from crm_migrate.migrate.decisions import read_decisions

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_decisions(path)


def test_a_decisions_csv_with_only_the_needed_columns_and_short_rows_is_read(tmp_path):
    got = decisions_in(tmp_path, "entity,record,decision,into\naccounts,crm:3,keep apart\naccounts,crm:4,,\n,\n")
    assert [(d.record, d.decision, d.into, d.group, d.members, d.fingerprint) for d in got] == [
        ("crm:3", "keep apart", None, "", (), "")
    ]
    assert decisions_in(tmp_path, "") == []  # an empty file decides nothing


@pytest.mark.parametrize("header", ["entity,decision\naccounts,merge\n", "entity,record\naccounts,crm:2\n"])
def test_a_file_without_both_record_and_decision_is_refused(tmp_path, header):
    from crm_migrate.errors import ProjectError

    with pytest.raises(ProjectError, match="no sheet of this file has the 'record' and 'decision' columns"):
        decisions_in(tmp_path, header)


def test_a_decisions_file_that_is_missing_or_unreadable_says_so(tmp_path, monkeypatch):
    from crm_migrate.errors import ProjectError
    from crm_migrate.migrate import decisions

    with pytest.raises(ProjectError, match="decisions file not found"):
        decisions.read_decisions(tmp_path / "gone.csv")
    (tmp_path / "d.csv").write_text("record,decision\n", encoding="utf-8")

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(decisions, "_read_tables", unreadable)
    with pytest.raises(ProjectError) as exc:
        decisions.read_decisions(tmp_path / "d.csv")
    assert exc.value.problems[0].path.endswith("d.csv")


def test_an_unknown_entity_on_the_first_row_is_a_problem_not_a_crash(tmp_path):
    from crm_migrate.errors import ProjectError

    with pytest.raises(ProjectError) as exc:
        decisions_in(tmp_path, "entity,record,decision\nacounts,crm:2,merge\n")
    assert [p.column for p in exc.value.problems] == ["entity"]


def review_book(path, sheets: dict[str, list[list[str]]]) -> None:
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as book:
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    sheet.write_string(r, c, cell)


def test_a_review_workbook_without_groups_or_with_other_sheets_is_read(tmp_path):
    from crm_migrate.migrate.decisions import read_decisions

    review_book(tmp_path / "none.xlsx", {"How to use": [["Pick a decision"]]})
    assert read_decisions(tmp_path / "none.xlsx") == []  # ours, with nothing to review yet
    review_book(
        tmp_path / "more.xlsx",
        {
            "How to use": [["x"]],
            "Summary": [["decision", "count"], ["merge", "3"]],
            "accounts": [["record", "decision"], ["crm:2", "merge"]],
        },
    )
    assert [d.record for d in read_decisions(tmp_path / "more.xlsx")] == ["crm:2"]
    review_book(tmp_path / "other.xlsx", {"Sheet1": [["a", "b"]]})
    from crm_migrate.errors import ProjectError

    with pytest.raises(ProjectError, match="'record' and 'decision' columns"):
        read_decisions(tmp_path / "other.xlsx")


@pytest.mark.parametrize("name", ["D.XLSX", "d.xlsm"])
def test_a_workbook_is_known_by_its_ending_in_any_case(tmp_path, name):
    from crm_migrate.migrate.decisions import read_decisions

    review_book(tmp_path / "book.xlsx", {"accounts": [["record", "decision"], ["crm:2", "keep apart"]]})
    (tmp_path / "book.xlsx").rename(tmp_path / name)
    assert [(d.record, d.decision) for d in read_decisions(tmp_path / name)] == [("crm:2", "keep apart")]


# --- migrate/merge.py: golden records -----------------------------------------------------------------------


def cluster(**values) -> pl.DataFrame:
    """One cluster of three members (sequence 0 first in priority) and a record alone (3)."""
    frame = pl.DataFrame(
        {
            "_cluster": [0, 0, 0, 3],
            SEQ: [0, 1, 2, 3],
            RECORD_ID: ["r0", "r1", "r2", "r3"],
            OUTCOME: [None] * 4,
            REASON: [None] * 4,
            RULE: [None] * 4,
        },
        schema_overrides={OUTCOME: pl.String, REASON: pl.String, RULE: pl.String},
    )
    return frame.with_columns(pl.Series(f"v:{k}", v, dtype=pl.String) for k, v in values.items())


def settled(frame: pl.DataFrame, rules: dict[str, str] | None = None, **kw) -> dict:
    from crm_migrate.migrate.merge import settle

    fields = {c: [c] for c in frame.columns if c.startswith("v:")}
    done = settle(frame, fields, rules, **kw)
    return done.filter(pl.col(SEQ) == 0).row(0, named=True)


def test_most_frequent_takes_the_value_most_members_hold():
    frame = cluster(phone=["+861", "+862", "+862", "+869"], email=["a@x.cn", "b@x.cn", None, None])
    golden = settled(frame, {"v:phone": "most_frequent", "v:email": "most_frequent"})
    assert golden["v:phone"] == "+862" and golden["_from:phone"] == 1
    assert golden["v:email"] == "a@x.cn"  # held once each: the tie goes to source priority
    assert settled(frame)["v:phone"] == "+861"  # by default source priority


def test_most_complete_takes_the_field_from_the_member_with_the_most_fields():
    frame = cluster(
        phone=["+861", "+862", "+863", None], email=[None, "b@x.cn", None, None], address=["北京", "上海", None, None]
    )
    golden = settled(frame, {"v:phone": "most_complete"})
    assert golden["v:phone"] == "+862" and golden["_from:phone"] == 1
    assert golden["v:address"] == "北京"  # no rule: source priority


def test_longest_and_most_recent():
    frame = cluster(
        address=["北京", "北京市海淀区", "北京海淀", None], seen=["2024-01-01", "2025-06-01 10:00", None, None]
    )
    golden = settled(frame, {"v:address": "longest", "v:seen": "most_recent"}, recency="v:seen")
    assert golden["v:address"] == "北京市海淀区" and golden["v:seen"] == "2025-06-01 10:00"
    frame = cluster(phone=["+861", "+862", "+863", None], seen=["2024-01-01", None, "2026-01-01", None])
    assert settled(frame, {"v:phone": "most_recent"}, recency="v:seen")["v:phone"] == "+863"
    assert settled(frame, {"v:phone": "most_recent"}, recency="v:gone")["v:phone"] == "+861"  # no date: priority


def test_an_unknown_rule_is_an_error():
    from crm_migrate.migrate.merge import settle

    frame = cluster(phone=["+861", "+862", "+863", None])
    with pytest.raises(ValueError, match="unknown survivorship rule newest"):
        settle(frame, {"v:phone": ["v:phone"]}, {"v:phone": "newest"})


def test_a_valid_value_beats_an_invalid_one_and_a_filled_one_an_empty_one():
    frame = cluster(phone=[None, "+86bad", "+862", None]).with_columns(
        pl.Series("r:phone", [None, "invalid", None, None], dtype=pl.String)
    )
    golden = settled(frame, {"v:phone": "longest"})
    assert golden["v:phone"] == "+862" and golden["_from:phone"] == 2


def test_members_are_marked_merged_into_the_survivor_and_a_record_alone_keeps_its_own():
    frame = cluster(phone=["+861", "+862", None, "+869"])
    from crm_migrate.migrate.merge import settle

    done = settle(frame, {"v:phone": ["v:phone"]}, keep_others=frozenset({"v:phone"}))
    rows = {r[SEQ]: r for r in done.to_dicts()}
    assert [rows[s][OUTCOME] for s in range(4)] == ["written", "merged", "merged", "written"]
    assert rows[1][REASON] == rows[2][REASON] == "merged into r0" and rows[0][REASON] is None
    assert [rows[s][RECORD_ID] for s in range(4)] == ["r0", "r0", "r0", "r3"]
    assert rows[1][RULE] == "duplicate" and rows[0][RULE] is None and rows[3][RULE] is None
    assert rows[0]["o:phone"] == "+862" and rows[3]["o:phone"] is None and "o:phone" in done.columns
    assert rows[3]["v:phone"] == "+869" and rows[3]["_from:phone"] == 3
    assert rows[1]["_from:phone"] is None
    assert not any(c.startswith("_rank:") or c in ("_size", "_survivor", "_filled") for c in done.columns)


def test_the_parts_of_a_field_come_from_the_member_its_value_came_from():
    frame = cluster(address=[None, "上海市浦东新区", "北京市", None]).with_columns(
        pl.Series("a:address.city", ["广州市", "上海市", "北京市", "深圳市"], dtype=pl.String)
    )
    from crm_migrate.migrate.merge import settle

    done = settle(frame, {"v:address": ["v:address", "a:address.city"]})
    rows = {r[SEQ]: r for r in done.to_dicts()}
    assert (rows[0]["v:address"], rows[0]["a:address.city"]) == ("上海市浦东新区", "上海市")
    assert rows[3]["a:address.city"] is None  # a part without its value is not written alone


def test_record_ids_are_stable_and_come_from_the_legacy_id_where_there_is_one():
    from crm_migrate.migrate.columns import KEY, SYSTEM
    from crm_migrate.migrate.merge import assign_identity, record_id

    frame = pl.DataFrame(
        {SYSTEM: ["crm", "crm"], SOURCE: ["a", "b"], SHEET: [None, "S"], ROW: [2, 3], "id": ["K1", None]},
        schema_overrides={SHEET: pl.String},
    )
    done = assign_identity(frame, Entity.accounts, pl.col("id"))
    assert done[KEY].to_list() == ["crm\x1fid\x1fK1", "b\x1fS\x1f3"]
    assert done[RECORD_ID].to_list() == [record_id(Entity.accounts, k) for k in done[KEY]]
    assert record_id(Entity.contacts, "x").startswith("con_") and len(record_id(Entity.accounts, "x")) == 20
    assert record_id(Entity.accounts, "x") == "acc_" + hashlib.sha1(b"accounts|x").hexdigest()[:16]


def test_the_golden_name_is_the_registered_one():
    from crm_migrate.migrate.merge import name_quality

    spec = [FieldSpec("name", FieldType.company_name, "name")]
    frame = pl.DataFrame(
        {
            "v:name": ["星辰科技", "北京星辰科技有限公司", "Xingchen Tech", "星辰科技有线公司", "北京星辰科技有限公司"],
            "n:name": [None, None, None, "legal form misspelt", None],
            "a:name.region": [None, "北京市", None, None, "北京市"],
        }
    )
    ranks = frame.select(**name_quality(frame, spec))["v:name"].to_list()
    assert ranks[1] > ranks[0] > ranks[2] and ranks[0] == ranks[3] and ranks[1] == ranks[4]
    person = [FieldSpec("name", FieldType.person_name, "name")]
    people = pl.DataFrame(
        {
            "v:name": ["张伟", "张", "Zhang Wei", "張偉"],
            "a:name.form": [None, "surname", None, None],
            "a:name.traditional": [None, None, None, "張偉"],
        }
    )
    ranks = people.select(**name_quality(people, person))["v:name"].to_list()
    assert ranks[0] > ranks[3] > ranks[2] > ranks[1]
    assert name_quality(people, [FieldSpec("name", FieldType.text, "name")]) == {}


# --- secret.py ----------------------------------------------------------------------------------------------


@pytest.fixture
def no_secret_env(monkeypatch):
    from crm_migrate.secret import SECRET_ENV

    monkeypatch.delenv(SECRET_ENV, raising=False)
    return monkeypatch


def test_the_secret_file_is_named_by_the_documented_variable(tmp_path, no_secret_env):
    from crm_migrate.secret import secret_path

    assert secret_path(tmp_path) == tmp_path / ".crm-migrate" / "secret"
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", f"  {tmp_path / 'k'}\n")
    assert secret_path(tmp_path) == tmp_path / "k"
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", "   ")
    assert secret_path(tmp_path) == tmp_path / ".crm-migrate" / "secret"


def test_a_secret_is_32_bytes_written_as_64_hex_digits_and_one_written_by_hand_is_read(tmp_path, no_secret_env):
    import os
    import stat

    from crm_migrate.secret import project_secret

    made = project_secret(tmp_path / "a", create=True)
    text = (tmp_path / "a" / ".crm-migrate" / "secret").read_text(encoding="ascii")
    assert len(made) == 32 and text == made.hex() + "\n"
    folder = tmp_path / "b" / ".crm-migrate"
    folder.mkdir(parents=True)  # its folder already there
    (folder / "secret").write_text("ab" * 32 + "\n", encoding="ascii")
    os.chmod(folder / "secret", 0o600)
    assert project_secret(tmp_path / "b") == bytes.fromhex("ab" * 32)
    assert stat.S_IMODE((folder / "secret").stat().st_mode) == 0o600


def test_a_secret_is_created_in_folders_that_do_not_exist_yet(tmp_path, no_secret_env):
    from crm_migrate.secret import project_secret

    (tmp_path / ".crm-migrate").mkdir()
    assert len(project_secret(tmp_path, create=True)) == 32
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", str(tmp_path / "x" / "y" / "z" / "secret"))
    assert project_secret(tmp_path, create=True) == project_secret(tmp_path)


def test_without_a_secret_plan_gets_one_key_per_project_for_the_process(tmp_path, no_secret_env):
    from crm_migrate.secret import project_secret

    one = project_secret(tmp_path / "p")
    assert project_secret(tmp_path / "p") == one and project_secret(tmp_path / "q") != one
    assert not (tmp_path / "p" / ".crm-migrate").exists()


def secret_problem(call) -> str:
    from crm_migrate.errors import ProjectError

    with pytest.raises(ProjectError) as exc:
        call()
    [problem] = exc.value.problems
    return f"{problem.message} | {problem.hint}"


def test_a_secret_that_cannot_be_read_or_made_says_why(tmp_path, no_secret_env):
    import os

    from crm_migrate.secret import project_secret

    dangling = tmp_path / "a" / ".crm-migrate"
    dangling.mkdir(parents=True)
    (dangling / "secret").symlink_to(tmp_path / "nowhere")
    assert "cannot read the project secret: No such file" in secret_problem(lambda: project_secret(tmp_path / "a"))
    folder = tmp_path / "b" / ".crm-migrate" / "secret"
    folder.mkdir(parents=True, mode=0o700)
    assert "cannot read the project secret: Is a directory" in secret_problem(
        lambda: project_secret(tmp_path / "b", create=True)
    )
    garbled = tmp_path / "c" / ".crm-migrate"
    garbled.mkdir(parents=True)
    (garbled / "secret").write_bytes("密钥".encode() + b"\n")
    os.chmod(garbled / "secret", 0o600)
    assert "cannot read the project secret: not a secret written by crm-migrate" in secret_problem(
        lambda: project_secret(tmp_path / "c")
    )
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", str(tmp_path / ("s" * 300)))
    said = secret_problem(lambda: project_secret(tmp_path, create=True))
    assert "cannot read the project secret: File name too long" in said and "CRM_MIGRATE_SECRET_FILE" in said
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", str(tmp_path / "d" / "secret"))

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    no_secret_env.setattr(os, "open", refused)
    said = secret_problem(lambda: project_secret(tmp_path, create=True))
    assert "cannot create the project secret: Permission denied" in said and "make the folder writable" in said


def test_the_secret_may_not_be_the_output_folder_or_inside_it(tmp_path, no_secret_env):
    from crm_migrate.secret import check_outside

    out = tmp_path / "out"
    check_outside(tmp_path, out)  # <project>/.crm-migrate/secret is outside
    for inside in (out, out / "secret", out / "a" / "secret"):
        no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", str(inside))
        assert "inside the output folder" in secret_problem(lambda: check_outside(tmp_path, out))
    no_secret_env.setenv("CRM_MIGRATE_SECRET_FILE", str(tmp_path / "outside" / "secret"))
    check_outside(tmp_path, out)


def test_a_key_id_is_six_hex_digits_of_the_keyed_name():
    import hmac

    from crm_migrate.secret import key_id

    assert key_id(SECRET) == hmac.new(SECRET, b"crm-migrate key id", "sha256").hexdigest()[:6]
    assert len(key_id(b"x")) == 6 and key_id(b"x") != key_id(b"y")


def test_a_secret_another_run_created_meanwhile_is_used_not_replaced(tmp_path, no_secret_env):
    import os

    from crm_migrate.secret import _create

    path = tmp_path / ".crm-migrate" / "secret"
    path.parent.mkdir()
    path.write_text("cd" * 32 + "\n", encoding="ascii")
    os.chmod(path, 0o600)
    assert _create(path) == bytes.fromhex("cd" * 32)  # as when two runs start together
    assert path.read_text(encoding="ascii") == "cd" * 32 + "\n"


# --- validators/reconcile.py: every row accounted for -------------------------------------------------------


def lineage(rows, source: str = "crm", entity: str = "accounts", sheet: str | None = None) -> pl.DataFrame:
    """Lineage lines: (row, outcome, record id) each."""
    n = len(rows)
    return pl.DataFrame(
        {
            "source": [source] * n,
            "sheet": [sheet] * n,
            "row": [r for r, _, _ in rows],
            "entity": [entity] * n,
            "record_id": [i for _, _, i in rows],
            "outcome": [o for _, o, _ in rows],
        },
        schema={
            "source": pl.String,
            "sheet": pl.String,
            "row": pl.Int64,
            "entity": pl.String,
            "record_id": pl.String,
            "outcome": pl.String,
        },
    )


FILES = {"crm": "data/a.csv", "book": "data/b.xlsx"}
FOUR = [(2, "written", "a1"), (3, "merged", "a1"), (4, "rejected", None), (5, "filtered", None)]


def refused_lineage(frame, read, entities=None) -> list[str]:
    from crm_migrate.errors import ReconciliationError
    from crm_migrate.validators.reconcile import reconcile

    with pytest.raises(ReconciliationError) as exc:
        reconcile(frame, read, entities or {s: ["accounts"] for s in read}, FILES)
    return [f"{p.path}: {p.message}" for p in exc.value.problems]


def test_an_outcome_that_is_none_of_the_four_is_refused():
    assert refused_lineage(lineage([*FOUR, (6, "writen", "a2")]), {"crm": 4})
    assert refused_lineage(lineage([(2, "written", "a1"), (3, "dropped", None)]), {"crm": 2}) == [
        "data/a.csv: accounts: 2 rows read but 1 accounted for (1 written, 0 merged, 0 filtered, 0 rejected)"
    ]


def test_the_same_row_number_on_two_sheets_is_two_rows():
    from crm_migrate.validators.reconcile import reconcile

    frame = pl.concat(
        [
            lineage(FOUR[:2], "book", sheet="张三"),
            lineage(FOUR[2:4], "book", sheet="李四"),
            lineage([(2, "written", "a2")], "book", sheet="李四"),
        ]
    )
    assert reconcile(frame, {"book": 5}, {"book": ["accounts"]}, FILES).balanced
    twice = pl.concat([frame, lineage([(2, "filtered", None)], "book", sheet="李四")])
    assert refused_lineage(twice, {"book": 5})  # 李四's row 2 twice


def test_sources_and_entities_are_counted_each_on_their_own():
    from crm_migrate.validators.reconcile import reconcile

    book = lineage([(2, "written", "b1"), (3, "filtered", None)], "book")
    people = lineage([(2, "written", "c1")], "book", "contacts")
    frame = pl.concat([lineage(FOUR), book, people])
    done = reconcile(frame, {"crm": 4, "book": 2}, {"crm": ["accounts"], "book": ["accounts"]}, FILES)
    assert done.balanced and [(r["source"], r["read"], r["written"]) for r in done.rows()] == [
        ("crm", 4, 1),
        ("book", 2, 1),
    ]
    said = refused_lineage(frame, {"crm": 4, "book": 2}, {"crm": ["accounts"], "book": ["accounts", "contacts"]})
    assert said == [
        "data/b.xlsx: contacts: 2 rows read but 1 accounted for (1 written, 0 merged, 0 filtered, 0 rejected)"
    ]  # only what does not add up is named


def test_every_written_and_merged_row_points_into_its_entitys_file_and_back():
    from crm_migrate.errors import ReconciliationError
    from crm_migrate.validators.reconcile import check_written

    frame = pl.concat([lineage(FOUR), lineage([(2, "written", "c1"), (3, "merged", "c1")], "crm", "contacts")])
    check_written(frame, {"accounts": {"a1"}, "contacts": {"c1"}})
    with pytest.raises(ReconciliationError, match="1 record id.s. in lineage but not in the import file, e.g. a9"):
        check_written(pl.concat([frame, lineage([(6, "merged", "a9")])]), {"accounts": {"a1"}, "contacts": {"c1"}})
    only_merged = pl.concat([lineage([(2, "merged", "a1"), (3, "written", "a2")])])
    with pytest.raises(ReconciliationError, match="that no source row was written as, e.g. a1"):
        check_written(only_merged, {"accounts": {"a1", "a2"}})
