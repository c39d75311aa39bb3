"""How right `crm-migrate init` is on the demo generator's files, and how well its project runs unedited.

    python bench/init.py                      # the demo generator's data, default size and seed
    python bench/init.py --companies 600 --seed 3
    python bench/init.py --project DIR        # a generated project (data, truth, hand-written mappings)

Generates the demo (samples/generate.py) into a temporary folder (data, truth and the hand-written project
files), runs `crm-migrate init` (the command line) on its data files in the hand-written project's source
order, and prints:

    columns right=<n>/<total> share=<s>             against bench/init_key.yaml, written by hand
    column <file> <header>: init=<what init did> key=<the answer>    for every miss
    <project> <entity> rows=<n> precision=<p> recall=<r> f1=<f>      hand-written, init, init-generic
    ratio <entity> init/hand=<r>

The key gives, per file, each header's entity.field (``-``: must not be mapped; ``entity.custom``: a custom
field of that entity; alternatives joined by ``|``); a header it does not list must not be mapped, and a
column empty in every row must not be mapped whatever the key says. Matching F1 is computed as
bench/dedupe.py computes it (pairs of rows in one record against pairs with one true identity, rows that
entered matching), the init project's rows joined to the truth by file, sheet and row. Init is given the
hand-written project's target profile, so that both runs conform to the same template; init-generic is the
project as init writes it with no --target (the generic profile), run as well.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import pairwise  # noqa: E402
from generated import generator  # noqa: E402

from crm_migrate.mappings.entities import CATALOGUE  # noqa: E402
from crm_migrate.migrate.readers import read_path  # noqa: E402
from crm_migrate.migrate.run import prepare  # noqa: E402
from crm_migrate.project import load_project  # noqa: E402

KEY = ROOT / "bench" / "init_key.yaml"


def init(hand: Path, out: Path, same_target: bool = True) -> None:
    """`crm-migrate init` on the hand-written project's files, in its source order and with its target
    (or, with ``same_target`` false, init's default: generic)."""
    project = load_project(hand)
    files = list(dict.fromkeys(s.file for s in project.sources))
    command = [sys.executable, "-m", "crm_migrate", "init", str(out)]
    for f in files:
        command += ["--source", str(f)]
    target = project.config.target
    if same_target:
        command += ["--target", str(hand / target) if target.endswith((".yaml", ".yml")) else target]
    subprocess.run(
        command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    )


def init_answers(project: Path) -> dict[str, dict[str, set[str]]]:
    """file name -> header -> what the init project maps it to (entity.field, entity.custom)."""
    out: dict[str, dict[str, set[str]]] = {}
    for source in load_project(project).sources:
        answers = out.setdefault(source.file.name, {})
        for plan in source.entities:
            for f in plan.fields:
                name = "custom" if f.custom or f.spec.name not in CATALOGUE[plan.entity] else f.spec.name
                for column in f.inputs:
                    answers.setdefault(column, set()).add(f"{plan.entity.value}.{name}")
    return out


def column_score(data: Path, project: Path) -> tuple[int, int, list[str]]:
    key = yaml.safe_load(KEY.read_text(encoding="utf-8"))
    answers = init_answers(project)
    right = total = 0
    misses = []
    for file in sorted(data.iterdir()):
        table = read_path(file)
        frame = table.frame
        headers = [c for c in table.columns if c in frame.columns]
        filled = {c for c in headers if frame[c].drop_nulls().str.strip_chars().str.len_chars().gt(0).any()}
        wanted = key.get(file.name, {})
        got = answers.get(file.name, {})
        for header in headers:
            expected = set(str(wanted.get(header, "-")).split("|")) if header in filled else {"-"}
            given = got.get(header, {"-"})
            total += 1
            if given & expected and len(given) == 1:
                right += 1
            else:
                misses.append(
                    f"column {file.name} {header}: init={'|'.join(sorted(given))} key={'|'.join(sorted(expected))}"
                )
    return right, total, misses


def f1s(project: Path, truth: pl.DataFrame) -> dict[str, tuple[int, float, float, float]]:
    """Per entity (rows, precision, recall, F1) of the project's run against the truth (by file, sheet, row)."""
    loaded = load_project(project)
    files = {s.name: s.file.name for s in loaded.sources}
    result = prepare(loaded)
    rows = (
        result.lineage.with_columns(
            pl.col("source").replace_strict(files).alias("file"),
            pl.col("sheet").fill_null(""),
            pl.col("row").cast(pl.Int64),
        )
        .join(truth, on=["file", "sheet", "row", "entity"])
        .filter(pl.col("outcome").is_in(["written", "merged"]))
    )
    out = {}
    for entity in ("accounts", "contacts"):
        mine = rows.filter(pl.col("entity") == entity).rename({"record_id": "predicted"})
        s = pairwise(mine)
        out[entity] = (mine.height, s.precision, s.recall, s.f1)
    return out


def truth_by_file(hand: Path) -> pl.DataFrame:
    """The generator's truth, its rows named by file instead of the hand-written source names."""
    loaded = load_project(hand)
    files = {s.name: s.file.name for s in loaded.sources}
    truth = pl.read_csv(hand / "truth" / "truth.csv", infer_schema=False).with_columns(
        pl.col("sheet").fill_null(""), pl.col("row").cast(pl.Int64)
    )
    truth = truth.filter(pl.col("truth").str.contains("^(company|person|opportunity|activity):"))
    return truth.with_columns(pl.col("source").replace_strict(files).alias("file")).drop("source", "tag", strict=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=240)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--project", type=Path, help="an existing generated project instead of a new one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        hand = args.project.resolve() if args.project else Path(tmp) / "hand"
        if not args.project:
            generator().generate(hand, args.companies, args.seed)
        out = Path(tmp) / "init"
        init(hand, out)
        right, total, misses = column_score(hand / "data", out)
        print(f"columns right={right}/{total} share={right / max(total, 1):.4f}")
        for m in misses:
            print(m)
        truth = truth_by_file(hand)
        init(hand, Path(tmp) / "init-generic", same_target=False)
        scores = {
            name: f1s(p, truth)
            for name, p in (("hand", hand), ("init", out), ("init-generic", Path(tmp) / "init-generic"))
        }
        for name, per in scores.items():
            for entity, (n, p, r, f) in per.items():
                print(f"{name} {entity} rows={n} precision={p:.4f} recall={r:.4f} f1={f:.4f}")
        for entity in ("accounts", "contacts"):
            h, i = scores["hand"][entity][3], scores["init"][entity][3]
            print(f"ratio {entity} init/hand={i / h if h else 0:.4f}")


if __name__ == "__main__":
    main()
