"""A key whose blocks grow with the data (forty people born on one day) is kept, its wide block sub-blocked:
each record paired with its neighbours in the key's order, never every two; a key without an order is still
dropped as too coarse. People's keys get orders; companies' do not."""

from __future__ import annotations

import polars as pl

from crm_migrate.mappings.entities import Entity
from crm_migrate.migrate import blocking
from crm_migrate.migrate.blocking import BlockingKey, candidate_pairs

PEOPLE = 40


def _frame() -> pl.DataFrame:
    # Forty people born on one day; the first and the last are one person (the same name, written twice).
    names = [f"person {i:02d}" for i in range(PEOPLE)]
    names[-1] = "person 00"
    return pl.DataFrame(
        {"_outcome": [None] * PEOPLE, "birthday": ["1990-01-01"] * PEOPLE, "name": names},
        schema_overrides={"_outcome": pl.String},
    )


def _budget(monkeypatch) -> None:
    monkeypatch.setattr(blocking, "MIN_BUDGET", 0)  # 4 pairs per record: 160, not the block's 780


def test_a_wide_block_is_paired_by_neighbours_and_its_key_kept(monkeypatch):
    _budget(monkeypatch)
    key = BlockingKey("birthday", pl.col("birthday"), ("birthday",), order=(pl.col("name"),))
    pairs, by_key, dropped, capped = candidate_pairs(_frame(), [key])
    assert dropped == [] and capped == []
    assert pairs.height <= blocking.WINDOW * PEOPLE
    assert (0, PEOPLE - 1) in pairs.rows()  # side by side in the name's order, far apart in the file's
    [(_, where)] = by_key
    assert where.size == pairs.height


def test_a_wide_block_without_an_order_is_too_coarse_as_before(monkeypatch):
    _budget(monkeypatch)
    key = BlockingKey("birthday", pl.col("birthday"), ("birthday",))
    pairs, _, [d], _ = candidate_pairs(_frame(), [key])
    assert pairs.is_empty() and (d.name, d.pairs, d.reason) == ("birthday", 780, blocking.TOO_COARSE)


def test_a_block_too_common_grows_with_the_records():
    assert blocking.common_block(1_000) == blocking.MAX_BLOCK
    assert blocking.common_block(1_000_000) == 1_000


def test_people_keys_have_orders_companies_keys_not(make_project, monkeypatch):
    from crm_migrate.migrate.run import prepare
    from crm_migrate.project import load_project

    rows = ["名称,联系人,手机,生日"] + [f"公司{i},张{i}伟,1380013{i:04d},1990-01-0{i % 9 + 1}" for i in range(20)]
    root = make_project(
        "name: keys\nentities: [accounts, contacts]\n",
        {
            "a": "file: data/a.csv\nentities:\n  accounts:\n    columns: {名称: name}\n"
            "  contacts:\n    columns: {联系人: name, 手机: mobile, 生日: birthday}\n"
        },
        {"data/a.csv": "\n".join(rows) + "\n"},
    )
    import crm_migrate.migrate.pipeline as pipeline

    matched = {}  # each entity's frame as matching gets it (the match keys are dropped after)
    real = pipeline.resolve

    def resolve(frame, entity, *args, **kw):
        matched[entity] = frame
        return real(frame, entity, *args, **kw)

    monkeypatch.setattr(pipeline, "resolve", resolve)
    migration = prepare(load_project(root)).migration
    for entity, ordered in ((Entity.contacts, True), (Entity.accounts, False)):
        result = migration.entities[entity]
        keys = blocking.blocking_keys(result.fields, matched[entity], entity, entity is Entity.contacts)
        assert keys and all(bool(k.order) is ordered for k in keys), [(k.name, k.order) for k in keys]


def test_a_key_paired_every_two_keeps_its_block_limit_however_many_records(monkeypatch):
    """One record in 1,000 is the limit only for a sub-blocked key: a company key's block of more than
    MAX_BLOCK records is skipped on many records too (at 1M companies, 400-record blocks paired whole were
    +2 GB), while a person's key with an order still pairs such a block by neighbours."""
    monkeypatch.setattr(blocking, "COMMON_SHARE", 0.01)  # the limit at 20,000 records: 200, not 100
    n, shared = 20_000, 150
    frame = pl.DataFrame(
        {"_outcome": [None] * n, "name": ["同名"] * shared + [f"公司{i}" for i in range(n - shared)]},
        schema_overrides={"_outcome": pl.String},
    )
    whole = BlockingKey("name", pl.col("name"), ("name",))
    _, _, _, capped = candidate_pairs(frame, [whole])
    assert [(c.name, c.largest) for c in capped] == [("name", shared)]
    ordered = BlockingKey("name", pl.col("name"), ("name",), order=(pl.col("name"),))
    pairs, _, _, capped = candidate_pairs(frame, [ordered])
    assert capped == [] and 0 < pairs.height <= blocking.WINDOW * shared


def test_with_new_rows_only_the_pairs_with_a_new_row_are_made(monkeypatch):
    # An incremental run puts its new rows first: the pairs it gets are exactly the full pairing's pairs whose
    # lower row is new, in narrow blocks (the phone) and in a wide one paired by neighbours (the birthday).
    _budget(monkeypatch)
    frame = _frame().with_columns(phone=pl.Series([f"{i % 7}" for i in range(PEOPLE)]))
    keys = [
        BlockingKey("birthday", pl.col("birthday"), ("birthday",), order=(pl.col("name"),)),
        BlockingKey("phone", pl.col("phone"), ("phone",)),
    ]
    whole = candidate_pairs(frame, keys)[0]
    for new in (1, 5, 17, PEOPLE):
        pairs, by_key, _, _ = candidate_pairs(frame, keys, new_rows=new)
        assert pairs.height and pairs.rows() == whole.filter(pl.col("l") < new).rows()
        assert sum(w.size for _, w in by_key) >= pairs.height


def test_an_incremental_run_brings_in_only_the_neighbours_of_its_new_rows(monkeypatch):
    # The state's forty people born on one day, and three new rows born that day too (one of them also sharing
    # a phone with old rows, a narrow block). Of the wide block, only the old rows within WINDOW places of a
    # new row in the name's order come in, and with them the new rows get exactly the pairs they would get
    # beside the whole state.
    from crm_migrate.migrate.incremental import _candidates

    _budget(monkeypatch)
    old = _frame().with_columns(phone=pl.Series([f"{i % 13}" for i in range(PEOPLE)]), id=pl.int_range(PEOPLE))
    new = pl.DataFrame(
        {
            "_outcome": [None] * 3,
            "birthday": ["1990-01-01"] * 3,
            "name": ["person 05a", "person 30", "person 99"],
            "phone": ["3", "x", "y"],
            "id": [100, 101, 102],
        },
        schema_overrides={"_outcome": pl.String, "id": pl.Int64},
    )
    keys = [
        BlockingKey("birthday", pl.col("birthday"), ("birthday",), order=(pl.col("name"),)),
        BlockingKey("phone", pl.col("phone"), ("phone",)),
    ]
    near = old[_candidates(new, old, keys)]
    assert 0 < near.height < PEOPLE // 2  # not the whole block

    def pairs_of(rows: pl.DataFrame) -> set[tuple[int, int]]:
        combined = pl.concat([new, rows])
        ids = combined["id"].to_list()
        pairs = candidate_pairs(combined, keys, new_rows=new.height)[0]
        return {(ids[lo], ids[hi]) for lo, hi in pairs.rows()}

    assert pairs_of(near) == pairs_of(old)
    assert {i for i in near["id"]} >= {3, 16, 29}  # the phone 3's old rows, whatever their names
