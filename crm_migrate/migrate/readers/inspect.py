"""A workbook's sizes, checked before anything expands it.

A reader builds a sheet as one block from A1 to its farthest cell, so a single cell at XFD1048576 asks for
17 billion cells (a native allocation of 512 GB that kills the process), and a zipped sheet of a few
kilobytes can unpack to gigabytes. Both are found here from what the file says about itself and from a
streamed pass over the sheet's XML that keeps nothing but counters: the sizes the zip declares for its
parts (and that they hold, since zipfile stops and fails at the declared size), the compression ratio of
each large part, the used range a sheet declares (``<dimension ref="A1:XFD1048576"/>``), the farthest cell
that holds something, and the cells merged ranges cover (openpyxl makes an object for each). A workbook
over a limit is refused with its file, sheet and the option that sets the limit.
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from crm_migrate.errors import Problem, SourceError
from crm_migrate.mappings.models import Limits
from crm_migrate.migrate.readers.table import column_letter

RATIO_FLOOR = 10_000_000  # parts smaller than this unpacked are cheap whatever their ratio
CHUNK = 1 << 20
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension|mergeCell)\b([^>]*)>")
_ATTR = {name: re.compile(rb"(?:^|\s)" + name + rb"\s*=\s*[\"']([^\"']*)[\"']") for name in (b"r", b"ref")}
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\b([^>]*)>")
_REL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\b([^>]*)>")
_ANY_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*[\"']([^\"']*)[\"']")
ZIPPED = {".xlsx", ".xlsm", ".xlsb", ".ods"}
SHEET_XML = {".xlsx", ".xlsm"}


def _letters_to_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _cell(ref: str) -> tuple[int, int] | None:
    """(row, column), both from 1, of a reference such as XFD1048576."""
    m = _REF.match(ref.strip())
    return (int(m.group(2)), _letters_to_index(m.group(1))) if m else None


def _range(ref: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    parts = ref.strip().split(":")
    first = _cell(parts[0])
    last = _cell(parts[-1])
    return (first, last) if first and last else None


def check_workbook(file: Path, shown: str, limits: Limits, sheets: list[str] | str = "all") -> None:
    """Raise `SourceError` if the workbook is larger than ``limits`` allow, before anything unpacks it.
    A file that is not a zip is left to the reader, which says it cannot open it."""
    if file.suffix.lower() not in ZIPPED:
        return
    try:
        with file.open("rb") as f:
            head = f.read(8)
    except OSError:
        return  # the reader says why it cannot be read
    if not head:
        raise _refuse(shown, "the file is empty (0 bytes)", "export or save the workbook again")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(
            shown,
            f"this is not a {file.suffix.lower()} file inside but an old-format .xls or a workbook "
            "protected with a password",
            "remove the password in Excel, or save it again as .xlsx",
        )
    try:
        book = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(
            shown,
            f"not a readable {file.suffix.lower()} workbook: the file is damaged or truncated, or "
            "another kind of file renamed",
            "open it in Excel and save it again as .xlsx, or copy it again from where it came from",
        ) from None
    with book:
        _check_parts(book, shown, limits)
        if file.suffix.lower() in SHEET_XML:
            for name, part in _sheet_parts(book).items():
                if sheets == "all" or name in sheets:
                    _check_sheet(book, part, shown, name, limits)


def _refuse(shown: str, message: str, hint: str, sheet: str | None = None) -> SourceError:
    return SourceError(Problem(shown, message, sheet=sheet, hint=hint))


def _check_parts(book: zipfile.ZipFile, shown: str, limits: Limits) -> None:
    infos = book.infolist()
    total = sum(i.file_size for i in infos)
    if total > limits.workbook_bytes:
        raise _refuse(
            shown,
            f"the workbook unpacks to {total:,} bytes, more than options.limits.workbook_bytes "
            f"({limits.workbook_bytes:,})",
            "check that this is the right file; if it is, raise the limit in migration.yaml or save the sheets as CSV",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.compression_ratio:
            raise _refuse(
                shown,
                f"its part {info.filename} unpacks {ratio:,.0f} times its size ({info.compress_size:,} "
                f"to {info.file_size:,} bytes), beyond options.limits.compression_ratio "
                f"({limits.compression_ratio:,}): a zip bomb, or a sheet of nothing but empty cells",
                "open it in Excel, delete the empty rows and columns beyond the data, save it again",
            )


def _attrs(raw: bytes) -> dict[str, str]:
    return {
        k.decode("utf-8", "replace"): html.unescape(v.decode("utf-8", "replace")) for k, v in _ANY_ATTR.findall(raw)
    }


def _small(book: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = book.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > 50_000_000:
        return b""
    try:
        return book.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return b""


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from the workbook and its relationships."""
    workbook = _small(book, "xl/workbook.xml")
    rels = _small(book, "xl/_rels/workbook.xml.rels")
    targets = {}
    for raw in _REL.findall(rels):
        a = _attrs(raw)
        if "Id" in a and "Target" in a:
            target = a["Target"]
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            targets[a["Id"]] = str(PurePosixPath(*[p for p in PurePosixPath(path).parts if p != "."]))
    out = {}
    for raw in _SHEET.findall(workbook):
        a = _attrs(raw)
        rid = next((v for k, v in a.items() if k.endswith(":id") or k == "id"), None)
        if "name" in a and rid in targets:
            out[a["name"]] = targets[rid]
    return out


_COLS = re.compile(rb'<c r="([A-Z]{1,3})\d')  # as Excel writes a cell: its reference first, in double quotes
_ROWS = re.compile(rb'<c r="[A-Z]{1,3}(\d{1,7})"')
_FEW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(dimension|mergeCell)\b([^>]*)>")


class _Extent:
    """How far a sheet's filled cells reach, and the cells its merged ranges cover, counted as it streams."""

    def __init__(self, shown: str, sheet: str, limit: int) -> None:
        self.shown, self.sheet, self.limit = shown, sheet, limit
        self.max_row = self.max_col = 0
        self.row = self.col = 0  # where the last cell was, for cells that give no reference
        self.merged = 0

    def hint(self) -> str:
        return (
            "open it in Excel, delete the rows and columns beyond the data (select them, Delete), save it "
            "again; or raise options.limits.sheet_cells in migration.yaml if the sheet really is that large"
        )

    def feed(self, body: bytes) -> None:
        if b"dimension" in body or b"mergeCell" in body:
            for kind, attrs in _FEW.findall(body):
                self._range_tag(kind, attrs)
        cells = body.count(b"<c ") + body.count(b"<c>") + body.count(b"<c/")
        cols = _COLS.findall(body)
        if len(cols) != cells or b":c " in body or b":c>" in body or b":c/" in body:
            self._precise(body)  # cells placed by position, prefixed or written otherwise: tag by tag
        elif cols:
            # Every cell as Excel writes it: the farthest references found in C, styled empty cells included;
            # only when that passes the limit is the chunk read tag by tag, to count filled cells alone.
            rows = _ROWS.findall(body)
            far_row = max(self.max_row, max(map(int, set(rows))))
            far_col = max(self.max_col, max(_letters_to_index(x.decode()) for x in set(cols)))
            if far_row * far_col > self.limit:
                self._precise(body)
            else:
                self.max_row, self.max_col = far_row, far_col
                self.row, self.col = int(rows[-1]), _letters_to_index(cols[-1].decode())
        if self.max_row * self.max_col > self.limit:
            raise _refuse(
                self.shown,
                f"sheet {self.sheet!r} holds data as far as row {self.max_row:,} and column "
                f"{column_letter(self.max_col - 1)} ({self.max_row * self.max_col:,} cells from A1), more "
                f"than options.limits.sheet_cells ({self.limit:,})",
                self.hint(),
                self.sheet,
            )

    def _precise(self, body: bytes) -> None:
        """Tag by tag, for cells placed by position alone (no r="..."): each follows the one before."""
        for m in _TAG.finditer(body):
            kind, attrs = m.group(1), m.group(2)
            if kind == b"c":
                r = _ATTR[b"r"].search(attrs)
                at = _cell(r.group(1).decode("ascii", "replace")) if r else None
                if at is not None:
                    self.row, self.col = at
                else:
                    self.col += 1
                if not attrs.rstrip().endswith(b"/"):  # <c .../> holds nothing (a styled empty cell)
                    self.max_row, self.max_col = max(self.max_row, self.row), max(self.max_col, self.col)
            elif kind == b"row":
                r = _ATTR[b"r"].search(attrs)
                self.row = int(r.group(1)) if r and r.group(1).isdigit() else self.row + 1
                self.col = 0

    def _range_tag(self, kind: bytes, attrs: bytes) -> None:
        ref = _ATTR[b"ref"].search(attrs)
        rng = _range(ref.group(1).decode("ascii", "replace")) if ref else None
        if ref is None or rng is None:
            return
        written = ref.group(1).decode("ascii", "replace")
        if kind == b"dimension":
            rows, cols = rng[1]
            if rows * cols > self.limit:
                raise _refuse(
                    self.shown,
                    f"sheet {self.sheet!r} declares its used range as {written} ({rows:,} rows "
                    f"by {cols:,} columns from A1, {rows * cols:,} cells), more than "
                    f"options.limits.sheet_cells ({self.limit:,})",
                    self.hint(),
                    self.sheet,
                )
            return
        self.merged += (abs(rng[1][0] - rng[0][0]) + 1) * (abs(rng[1][1] - rng[0][1]) + 1)
        if self.merged > self.limit:
            raise _refuse(
                self.shown,
                f"sheet {self.sheet!r} merges {self.merged:,} cells (the last range {written}), "
                f"more than options.limits.sheet_cells ({self.limit:,})",
                "unmerge the cells in Excel and save it again",
                self.sheet,
            )


def _check_sheet(book: zipfile.ZipFile, part: str, shown: str, sheet: str, limits: Limits) -> None:
    """Stream the sheet's XML once, keeping counters only; refuse as soon as a limit is passed."""
    extent = _Extent(shown, sheet, limits.sheet_cells)
    tail = b""
    try:
        stream = book.open(part)
    except (KeyError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
        return
    with stream:
        while True:
            try:
                chunk = stream.read(CHUNK)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
                raise _refuse(
                    shown,
                    f"the workbook is damaged: its part {part} cannot be unpacked ({exc})",
                    "open it in Excel and save it again as .xlsx",
                    sheet,
                ) from None
            data = tail + chunk
            if chunk:
                cut = data.rfind(b"<")
                body, tail = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
            else:
                body, tail = data, b""
            extent.feed(body)
            if not chunk:
                break
