"""Text files: encoding detection (per file) and the CSV reader.

Excel on Chinese Windows writes CSV as GBK ("ANSI"), its "Unicode text" as UTF-16 with tabs, and newer
versions UTF-8 with a BOM; old CRMs export any of these. We decode GBK as gb18030, its superset, so that
characters GBK lacks (䶮) survive, and we never guess per field: one encoding per file.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from crm_migrate.errors import Problem, SourceError
from crm_migrate.migrate.readers.table import (
    SourceTable,
    extra_cells_problem,
    find_header,
    name_columns,
    rows_to_frame,
)

DELIMITERS = [",", "\t", ";", "|"]
_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "ansi": "gb18030", "utf8": "utf-8",
            "unicode": "utf-16", "utf-8-bom": "utf-8-sig"}


def detect_encoding(raw: bytes) -> str:
    """The encoding of a whole file: BOM, then strict UTF-8, UTF-16 by its NULs, then GB18030, then a guess."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = raw[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:1_000_000]).best()
    if best is None:
        raise ValueError("the encoding could not be recognised")
    return normalise_encoding(best.encoding)


def normalise_encoding(name: str) -> str:
    name = name.strip().lower().replace("_", "-")
    name = _ALIASES.get(name, name)
    codecs.lookup(name)  # raises LookupError for an unknown name
    return name


def decode_file(file: Path, shown: str, encoding: str) -> tuple[str, str]:
    """(text, encoding used); an undecodable byte is an error naming its line."""
    raw = file.read_bytes()
    try:
        used = detect_encoding(raw) if encoding == "auto" else normalise_encoding(encoding)
    except LookupError:
        raise SourceError(Problem(shown, f"unknown encoding {encoding!r}",
                                  hint="use one of utf-8, utf-8-sig, gb18030, utf-16, big5, latin-1")) from None
    except ValueError as exc:
        raise SourceError(Problem(shown, str(exc), hint="set read.encoding in the mapping file")) from None
    try:
        text = raw.decode(used)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SourceError(Problem(shown, f"byte {raw[exc.start]:#04x} cannot be read as {used}", line=line,
                                  hint="set read.encoding in the mapping file (gb18030 for files from Chinese "
                                       "Windows, utf-16 for Excel's Unicode text)")) from None
    return text.removeprefix("\ufeff"), used


def sniff_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same, largest number of fields."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        counts = [len(row) - 1 for row in csv.reader(lines, delimiter=delim)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode == 0:
            continue
        score = (counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(file: Path, shown: str, *, encoding: str = "auto", delimiter: str = "auto",
             header_row: int | str = "auto", wanted: set[str] | None = None,
             header_only: bool = False) -> SourceTable:
    text, used = decode_file(file, shown, encoding)
    delim = sniff_delimiter(text) if delimiter == "auto" else delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    try:
        # A record is one Excel row even when a quoted value spans lines, so rows are counted by record.
        rows = [row for row in reader]
    except csv.Error as exc:
        raise SourceError(Problem(shown, f"CSV: {exc}", line=reader.line_num,
                                  hint="check the quotes on this line")) from None
    if not any(any(c.strip() for c in r) for r in rows):
        raise SourceError(Problem(shown, "the file has no rows", hint="check that this is the right file"))
    h = find_header(rows, wanted or set()) if header_row == "auto" else int(header_row) - 1
    if h >= len(rows):
        raise SourceError(Problem(shown, f"header row {h + 1} is past the end of the file ({len(rows)} rows)",
                                  hint="fix read.header_row in the mapping file"))
    names, warnings = name_columns(rows[h], shown, None, h + 1)
    table = SourceTable(rows_to_frame([], names), "csv", encoding=used, delimiter=delim, sheets=[],
                        header_rows={"": h + 1}, headers={"": names}, warnings=warnings)
    if header_only:
        return table
    records = []
    for i, cells in enumerate(rows[h + 1:], start=h + 2):
        if not any(c.strip() for c in cells):
            table.blank_rows += 1
            continue
        if len(cells) > len(names) and (p := extra_cells_problem(shown, None, i, cells, len(names))):
            table.warnings.append(p)
        records.append((None, i, cells))
    table.frame = rows_to_frame(records, names)
    return table
