"""Text files: encoding detection, and the CSV reader that loses no line.

Excel on Chinese Windows writes CSV as GBK ("ANSI"), its "Unicode text" as UTF-16 with tabs, and newer
versions UTF-8 with a BOM; old CRMs export any of these. We decode GBK as gb18030, its superset, so that
characters GBK lacks (䶮) survive, and we never guess per field: one encoding per file, except for a file
whose lines were appended by programs with different encodings (UTF-8 and GBK mixed), which is read line by
line (UTF-8 where the line is UTF-8, else GB18030) and reported with the lines of each.

Every physical line is accounted for. The reader splits the file into lines itself and parses records with
line numbers; whatever a line holds that a clean CSV would not (a quote never closed or closed in the
middle of a value, fewer or more values than the header, a quote inside an unquoted value, NUL bytes, a CR
alone, a cell over the size limit, bytes the encoding cannot read) is reported with its lines and either
recovered (the line read on its own, its quotes as characters; NULs removed; missing cells empty) or
rejected with the reason, the row staying in the table so that lineage accounts for it. The count of rows
is then checked against `crm_migrate.validators.linecount`, which counts the file's records again from its
lines without the CSV reader.
"""

from __future__ import annotations

import codecs
import csv
import gc
from dataclasses import dataclass, field
from pathlib import Path

from crm_migrate.errors import Problem, SourceError
from crm_migrate.migrate.readers.table import (
    HEADER_SEARCH_ROWS,
    SourceTable,
    column_letter,
    find_header,
    name_columns,
    rows_to_frame,
)
from crm_migrate.validators.linecount import MAX_QUOTED_LINES, count_records

DELIMITERS = [",", "\t", ";", "|"]
MAX_COLUMNS = 16_384  # Excel's widest sheet (column XFD): a header wider than that is not a table
DEFAULT_MAX_CELL_BYTES = 1_000_000  # options.limits.cell_bytes
csv.field_size_limit(2**31 - 1)  # the module's own limit (128 KiB) would end a read with an exception
_ALIASES = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "ansi": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-16",
    "utf-8-bom": "utf-8-sig",
}


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
        raise SourceError(
            Problem(
                shown,
                f"unknown encoding {encoding!r}",
                hint="use one of utf-8, utf-8-sig, gb18030, utf-16, big5, latin-1",
            )
        ) from None
    except ValueError as exc:
        raise SourceError(Problem(shown, str(exc), hint="set read.encoding in the mapping file")) from None
    try:
        text = raw.decode(used)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            Problem(
                shown,
                f"byte {raw[exc.start]:#04x} cannot be read as {used}",
                line=line,
                hint="set read.encoding in the mapping file (gb18030 for files from Chinese "
                "Windows, utf-16 for Excel's Unicode text)",
            )
        ) from None
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


# ---------------------------------------------------------------------------------------------------------
# Decoding into lines


@dataclass
class Decoded:
    lines: list[str]  # physical lines with their line ends
    encoding: str
    bad: dict[int, str] = field(default_factory=dict)  # line index -> why its bytes could not be read
    warnings: list[Problem] = field(default_factory=list)


def split_lines(text: str | bytes) -> list:
    """Physical lines with their ends: LF (or CRLF) ends a line; in a file without any LF, CR does."""
    if isinstance(text, str):
        sep = "\n" if "\n" in text else "\r"
        parts: list = text.split(sep)
        lines: list = [p + sep for p in parts[:-1]]
    else:
        end = b"\n" if b"\n" in text else b"\r"
        parts = text.split(end)
        lines = [p + end for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _wide(encoding: str) -> bool:
    """UTF-16 and UTF-32 cannot be split into lines before decoding."""
    return encoding.replace("-", "").startswith(("utf16", "utf32"))


def decode_lines(raw: bytes, shown: str, encoding: str = "auto", errors: str = "strict") -> Decoded:
    """The file's lines, decoded. ``auto`` reads a file that mixes UTF-8 and GBK lines line by line; a line no
    encoding reads refuses the file (``errors: strict``) or is marked bad, its row to be rejected (``report``).
    The last line cut inside a character (a file cut short) is always marked bad rather than refused."""
    if encoding == "auto":
        return _decode_auto(raw, shown, errors)
    try:
        used = normalise_encoding(encoding)
    except LookupError:
        raise SourceError(
            Problem(
                shown,
                f"unknown encoding {encoding!r}",
                hint="use one of utf-8, utf-8-sig, gb18030, utf-16, big5, latin-1",
            )
        ) from None
    if _wide(used):
        try:
            return Decoded(split_lines(raw.decode(used).removeprefix("\ufeff")), used)
        except UnicodeDecodeError as exc:
            line = (
                raw[: exc.start].count("\n".encode(used.replace("utf-16", "utf-16-le") if used == "utf-16" else used))
                + 1
            )
            raise SourceError(
                Problem(
                    shown,
                    f"byte {raw[exc.start]:#04x} cannot be read as {used}",
                    line=line,
                    hint="set read.encoding in the mapping file to the file's encoding",
                )
            ) from None
    if used in ("utf-8", "utf-8-sig") and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    codec = "utf-8" if used == "utf-8-sig" else used
    try:
        return Decoded(split_lines(raw.decode(codec).removeprefix("\ufeff")), used)
    except UnicodeDecodeError:
        pass
    lines, bad = [], {}
    chunks = split_lines(raw)
    for i, chunk in enumerate(chunks):
        try:
            lines.append(chunk.decode(codec))
        except UnicodeDecodeError as exc:
            lines.append(chunk.decode(codec, "replace"))
            bad[i] = _why(chunk, exc, codec, i == len(chunks) - 1)
    decoded = Decoded(lines, used, bad)
    _refuse_or_report(decoded, shown, errors, f"encoding: {encoding}")
    return decoded


def _why(chunk: bytes, exc: UnicodeDecodeError, codec: str, last: bool) -> str:
    if last and _cut_short(chunk, exc):
        return f"the file ends inside a character ({codec}): it may have been cut short"
    return f"byte {chunk[exc.start]:#04x} cannot be read as {codec}"


def _cut_short(chunk: bytes, exc: UnicodeDecodeError) -> bool:
    """The bytes fail only because the file ends in the middle of a character."""
    return exc.end >= len(chunk.rstrip(b"\r\n")) and ("end of data" in exc.reason or "incomplete" in exc.reason)


def _refuse_or_report(decoded: Decoded, shown: str, errors: str, setting: str) -> None:
    bad = decoded.bad
    if not bad:
        return
    last = len(decoded.lines) - 1
    refused = [i for i in bad if i != last or "cut short" not in bad[i]]
    if errors == "strict" and refused:
        first = refused[0]
        raise SourceError(
            Problem(
                shown,
                f"line {first + 1} cannot be read with {setting}: {bad[first]}"
                + (f" ({len(refused) - 1} more line(s) like it)" if len(refused) > 1 else ""),
                line=first + 1,
                hint="set read.encoding to the file's encoding (gb18030 for files from Chinese Windows, utf-16 for "
                "Excel's Unicode text; auto reads a file mixing UTF-8 and GBK lines line by line), or add "
                "errors: report under read: to keep the other lines and reject these rows",
            )
        )
    decoded.warnings.append(
        Problem(
            shown,
            f"{len(bad)} line(s) cannot be read as {decoded.encoding}: {_lines(bad)}; their rows are rejected",
            line=min(bad) + 1,
            severity="warning",
            hint="see the reason of each in rejects/ and lineage.csv; set read.encoding if the whole file is in "
            "another encoding",
        )
    )


def _utf8(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_auto(raw: bytes, shown: str, errors: str) -> Decoded:
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    try:
        return Decoded(split_lines(body.decode("utf-8")), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        pass
    sample = raw[:4096]
    wide = (
        raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        and "utf-16"
        or (
            not bom
            and sample
            and sample.count(0) > len(sample) // 4
            and ("utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be")
        )
    )
    if wide:
        try:
            return Decoded(split_lines(raw.decode(wide).removeprefix("\ufeff")), wide)
        except UnicodeDecodeError as exc:
            raise SourceError(
                Problem(
                    shown,
                    f"the file looks like {wide} but byte {exc.start} cannot be read as it",
                    hint="set read.encoding in the mapping file",
                )
            ) from None
    # Line by line: UTF-8 where a line is UTF-8, else GB18030 (a GBK file, or one that mixes the two).
    lines, bad, utf8, gbk = [], {}, [], []
    chunks = split_lines(body)
    for i, chunk in enumerate(chunks):
        if chunk.isascii():
            lines.append(chunk.decode("ascii"))
            continue
        # Whether the line is UTF-8 without raising for every GBK line: a replacement character appears where
        # bytes are not UTF-8 (or where the line holds one itself: then ask strictly).
        text = chunk.decode("utf-8", "replace")
        if "\ufffd" not in text or (b"\xef\xbf\xbd" in chunk and _utf8(chunk)):
            lines.append(text)
            utf8.append(i)
            continue
        if i == len(chunks) - 1:
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                if _cut_short(chunk, exc):
                    lines.append(text)
                    bad[i] = _why(chunk, exc, "utf-8", True)
                    continue
        try:
            lines.append(chunk.decode("gb18030"))
            gbk.append(i)
        except UnicodeDecodeError as exc:
            lines.append(chunk.decode("gb18030", "replace"))
            bad[i] = _why(chunk, exc, "gb18030", i == len(chunks) - 1)
    broken = [i for i, w in bad.items() if "cut short" not in w]
    if broken and len(broken) >= len(gbk):
        # More lines that neither UTF-8 nor GB18030 reads than GB18030 lines: perhaps another encoding (Big5,
        # Latin-1, Shift-JIS) reads the whole file; a few damaged lines of a GBK file stay bad lines instead.
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(raw[:1_000_000]).best()
            if best is not None:
                other = normalise_encoding(best.encoding)
                if not _wide(other):
                    return Decoded(split_lines(raw.decode(other).removeprefix("\ufeff")), other)
        except (UnicodeDecodeError, LookupError):
            pass
    encoding = "utf-8+gb18030" if utf8 and gbk else "gb18030" if gbk or not utf8 else "utf-8"
    decoded = Decoded(lines, encoding, bad)
    if utf8 and gbk:
        decoded.warnings.append(
            Problem(
                shown,
                f"the file mixes encodings: {len(utf8)} line(s) are UTF-8 ({_lines(utf8)}) and {len(gbk)} "
                f"GBK/GB18030 ({_lines(gbk)}); each line is read in its own",
                line=min(utf8[0], gbk[0]) + 1,
                severity="warning",
                hint="check a few values of these lines; to read the whole file in one encoding "
                "instead, set read.encoding",
            )
        )
    elif bom and gbk:
        decoded.warnings.append(
            Problem(
                shown,
                f"the file starts with a UTF-8 byte order mark but its text is GBK/GB18030 ({_lines(gbk)}); it is "
                "read as GB18030",
                line=gbk[0] + 1,
                severity="warning",
                hint="set read.encoding: gb18030 to say so",
            )
        )
    _refuse_or_report(decoded, shown, errors, "encoding: auto")
    return decoded


def _lines(indexes) -> str:
    """'line 3', 'lines 3, 7, 9 and 12 more' from 0-based line indexes."""
    ordered = sorted(indexes)
    shown = ", ".join(str(i + 1) for i in ordered[:10])
    more = f" and {len(ordered) - 10} more" if len(ordered) > 10 else ""
    return ("line " if len(ordered) == 1 else "lines ") + shown + more


# ---------------------------------------------------------------------------------------------------------
# Records with their lines


def _records(lines: list[str], start: int, delimiter: str, width: int | None):
    """(first line, last line, cells, recovered) per record from line index ``start``.

    A record that spans lines stands only if its quotes close where a value can end, before the end of the
    file, within ``MAX_QUOTED_LINES`` lines and (once the header is known) with the header's width; otherwise
    its first line is read on its own with its quotes as characters (``recovered``) and reading resumes on the
    next line, so that one quote never closed cannot swallow the rows after it."""
    n = len(lines)
    i = start
    while i < n:
        # lines from i on, without walking the i lines before (islice would: quadratic after many broken quotes)
        reader = csv.reader(map(lines.__getitem__, range(i, n)), delimiter=delimiter, strict=True)
        used = 0
        broken = None
        while True:
            first = i + used
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                broken = first
                break
            used = reader.line_num
            last = i + used - 1
            if last > first and ((width is not None and len(cells) != width) or last - first >= MAX_QUOTED_LINES):
                broken = first
                break
            yield first, last, cells, False
        line = lines[broken]
        cells = next(csv.reader([line], delimiter=delimiter, quoting=csv.QUOTE_NONE))
        # a value that opens a quote and never closes it: the quote was meant as quoting, not as text
        cells = [c[1:] if c.startswith('"') and '"' not in c[1:] else c for c in cells]
        yield broken, broken, cells, True
        i = broken + 1


def _clean_lines(lines: list[str], found: dict[str, list[int]]) -> list[str]:
    """NULs removed and a CR alone inside a line read as a space, each noted by line index."""
    out = lines
    lf = bool(lines) and lines[0].endswith("\n")  # lines end at LF: a CR alone is inside a line
    for i, line in enumerate(lines):
        if "\0" in line:
            found["nul"].append(i)
            line = line.replace("\0", "")
        body = line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith(("\n", "\r")) else line
        if lf and "\r" in body:
            found["cr"].append(i)
            line = body.replace("\r", " ") + line[len(body) :]
        if line is not lines[i]:
            if out is lines:
                out = list(lines)
            out[i] = line
    return out


def _blank(cells: list[str]) -> bool:
    """Nothing but spaces (and quotes, on a line read with its quotes as characters): a blank row."""
    text = "".join(cells)
    inner = text.strip(' \t\r\n"')
    if inner and not inner[0].isspace():
        return False
    return not inner.replace('"', "").strip()


def read_csv(
    file: Path,
    shown: str,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    header_row: int | str = "auto",
    wanted: set[str] | None = None,
    header_only: bool = False,
    errors: str = "strict",
    max_cell_bytes: int = DEFAULT_MAX_CELL_BYTES,
) -> SourceTable:
    # Millions of small strings and lists, none of them cyclic: the cycle collector would only rescan them.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_csv(file, shown, encoding, delimiter, header_row, wanted, header_only, errors, max_cell_bytes)
    finally:
        if enabled:
            gc.enable()


def _read_csv(
    file: Path,
    shown: str,
    encoding: str,
    delimiter: str,
    header_row: int | str,
    wanted: set[str] | None,
    header_only: bool,
    errors: str,
    max_cell_bytes: int,
) -> SourceTable:
    raw = file.read_bytes()
    decoded = decode_lines(raw, shown, encoding, errors)
    found: dict[str, list[int]] = {k: [] for k in ("nul", "cr", "quote", "stray", "short", "long", "big")}
    lines = _clean_lines(decoded.lines, found)
    if lines and "\n" not in lines[0] and lines[0].endswith("\r"):
        decoded.warnings.append(
            Problem(
                shown,
                "lines end with a carriage return alone (CR, as classic Mac OS wrote them); each is read as a line end",
                severity="warning",
                hint="nothing to do unless rows look wrong",
            )
        )
    delim = sniff_delimiter("".join(lines[:200])) if delimiter == "auto" else delimiter

    # The header: among the first records (title rows above it are not records).
    wanted_rows = HEADER_SEARCH_ROWS if header_row == "auto" else max(HEADER_SEARCH_ROWS, int(header_row))
    head = []
    for rec in _records(lines, 0, delim, None):
        head.append(rec)
        if len(head) >= wanted_rows:
            break
    if not any(not _blank(cells) for _, _, cells, _ in head):
        raise SourceError(Problem(shown, "the file has no rows", hint="check that this is the right file"))
    h = (
        find_header([cells for _, _, cells, _ in head], wanted or set())
        if header_row == "auto"
        else int(header_row) - 1
    )
    if h >= len(head):
        raise SourceError(
            Problem(
                shown,
                f"header row {h + 1} is past the end of the file ({len(head)} rows)",
                hint="fix read.header_row in the mapping file",
            )
        )
    header_first, header_last, header, _ = head[h]
    if len(header) > MAX_COLUMNS:
        raise SourceError(
            Problem(
                shown,
                f"the header has {len(header):,} columns; a table has at most {MAX_COLUMNS:,} (Excel's limit)",
                line=header_first + 1,
                hint="check read.delimiter in the mapping file, and that this file is a table",
            )
        )
    if bad := [i for i in range(header_first, header_last + 1) if i in decoded.bad]:
        raise SourceError(
            Problem(
                shown,
                f"the header (line {bad[0] + 1}) cannot be read: {decoded.bad[bad[0]]}",
                line=bad[0] + 1,
                hint="set read.encoding to the file's encoding",
            )
        )
    names, warnings = name_columns(header, shown, None, h + 1)
    table = SourceTable(
        rows_to_frame([], names),
        "csv",
        encoding=decoded.encoding,
        delimiter=delim,
        sheets=[],
        header_rows={"": h + 1},
        headers={"": names},
        warnings=decoded.warnings + warnings,
    )
    if header_only:
        return table
    width = len(names)
    records: list[tuple[str | None, int, list[str]]] = []
    rejected: dict[tuple[str | None, int], str] = {}
    for k, (first, last, cells, recovered) in enumerate(_records(lines, header_last + 1, delim, width)):
        row = h + 2 + k  # as Excel numbers rows: one per record, blank ones included
        if _blank(cells):
            table.blank_rows += 1
            continue
        reasons = (
            [f"line {i + 1}: {decoded.bad[i]}" for i in range(first, last + 1) if i in decoded.bad]
            if decoded.bad
            else []
        )
        if recovered:
            found["quote"].append(first)
        elif first == last and lines[first].count('"') % 2:
            found["stray"].append(first)
        if 1 < len(cells) < width:  # (a line of one cell is a footer or a note, which rows.py sorts out)
            found["short"].append(first)
        elif len(cells) > width and (extra := [c for c in cells[width:] if c.strip()]):
            found["long"].append(first)
            reasons.append(
                f"line {first + 1}: {len(extra)} value(s) beyond the header's {width} columns "
                f"(first: {extra[0][:30]!r}); a delimiter or quote inside a value may have split the row"
            )
        for j, c in enumerate(cells[:width] if len(lines[first]) * 4 > max_cell_bytes or last > first else ()):
            if len(c) * 4 > max_cell_bytes and (size := len(c.encode("utf-8", "replace"))) > max_cell_bytes:
                found["big"].append(first)
                reasons.append(
                    f"line {first + 1}: column {names[j]!r} holds {size:,} bytes, more than "
                    f"options.limits.cell_bytes ({max_cell_bytes:,})"
                )
                cells = [*cells[:j], c[:100] + f"… ({size:,} bytes, cut)", *cells[j + 1 :]]
        if reasons:
            rejected[(None, row)] = "unreadable row: " + "; ".join(reasons)
        records.append((None, row, cells))
    table.frame = rows_to_frame(records, names)
    table.rejected_rows = rejected
    table.records = table.frame.height
    table.counted = count_records(decoded.lines, delim, header_last, width)
    table.warnings += _anomalies(shown, found, width, names, max_cell_bytes)
    return table


_ANOMALIES = {
    "quote": (
        "a quote that does not close where a value can end, or never closes, on {lines}: each such line is "
        "read as a row of its own, its quotes as characters",
        "check the quotes there: a value holding the delimiter, a quote or a line break is written "
        '"..." whole, with inner quotes doubled',
    ),
    "stray": (
        "a quote inside a value that is not quoted, on {lines}: read as a character",
        'quote the whole value ("...", inner quotes doubled) if the quote was meant as quoting',
    ),
    "short": (
        "fewer values than the header's {width} columns on {lines}: the missing cells are read as empty",
        "a line break inside a value that is not quoted splits a row in two; check these lines",
    ),
    "long": (
        "values beyond the header's last column (column {column}) on {lines}: the rows are rejected",
        "a delimiter or quote inside a value may have split it; check these lines in the file",
    ),
    "nul": ("NUL bytes on {lines}: removed", "the file may be damaged or not all text; check these rows"),
    "cr": (
        "a carriage return (CR) alone inside {lines}: read as a space",
        "a line break typed into a cell by another program; nothing to do unless the rows look wrong",
    ),
    "big": (
        "a cell larger than options.limits.cell_bytes ({limit:,} bytes) on {lines}: the rows are rejected",
        "a quote never closed may have swallowed the lines after it; otherwise raise "
        "options.limits.cell_bytes in migration.yaml",
    ),
}


def _anomalies(shown: str, found: dict[str, list[int]], width: int, names: list[str], limit: int) -> list[Problem]:
    problems = []
    for kind, (message, hint) in _ANOMALIES.items():
        at = sorted(set(found[kind]))
        if not at:
            continue
        problems.append(
            Problem(
                shown,
                message.format(lines=_lines(at), width=width, column=column_letter(width), limit=limit),
                line=at[0] + 1,
                severity="warning",
                hint=hint,
                column=column_letter(width) if kind == "long" else None,
            )
        )
    return problems
