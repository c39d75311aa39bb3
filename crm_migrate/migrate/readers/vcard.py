"""vCard address books (.vcf, versions 2.1, 3.0 and 4.0), as phones export them.

Each card becomes one row, numbered by the line its BEGIN:VCARD stands on. Properties become columns:
``FN``, ``N.family``, ``N.given``, ``ORG``, ``ORG.unit``, ``TITLE``, ``TEL``, ``TEL.cell``, ``TEL.work``,
``TEL.home``, ``EMAIL``, ``ADR``, ``URL``, ``BDAY``, ``NOTE``; a property given twice keeps both values,
joined by ``; ``. Android's 2.1 exports write Chinese names as QUOTED-PRINTABLE UTF-8, decoded here.
"""

from __future__ import annotations

import quopri
import re
from pathlib import Path

from crm_migrate.errors import Problem, SourceError
from crm_migrate.mappings.models import Limits
from crm_migrate.migrate.readers.table import SourceTable, rows_to_frame
from crm_migrate.migrate.readers.text import decode_file

COLUMNS = [
    "FN",
    "N.family",
    "N.given",
    "ORG",
    "ORG.unit",
    "TITLE",
    "TEL",
    "TEL.cell",
    "TEL.work",
    "TEL.home",
    "EMAIL",
    "ADR",
    "URL",
    "BDAY",
    "NOTE",
]
_TEL_TYPES = {"cell": "TEL.cell", "mobile": "TEL.cell", "work": "TEL.work", "home": "TEL.home"}
_ESCAPES = re.compile(r"\\([\\,;nN])")


def _unescape(value: str) -> str:
    if "\\" not in value:  # nothing escaped (most values)
        return value
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split(value: str, sep: str) -> list[str]:
    """Split on unescaped ``sep``."""
    if "\\" not in value:  # nothing escaped: every sep splits, and no part has an escape to undo
        return value.split(sep)
    return [_unescape(p) for p in re.split(rf"(?<!\\){re.escape(sep)}", value)]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfold continuation lines (a leading space, or a quoted-printable soft break) keeping line numbers."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if out and line[:1] in (" ", "\t"):
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
        elif out and out[-1][1].endswith("=") and "QUOTED-PRINTABLE" in out[-1][1].split(":", 1)[0].upper():
            out[-1] = (out[-1][0], out[-1][1][:-1] + line)
        else:
            out.append((number, line))
    return out


def _property(line: str) -> tuple[str, dict[str, str], list[str], str]:
    head, _, value = line.partition(":")
    parts = head.split(";")
    name = parts[0].split(".")[-1].upper()  # drop an "item1." group
    params: dict[str, str] = {}
    types: list[str] = []
    for p in parts[1:]:
        key, eq, val = p.partition("=")
        if not eq:  # vCard 2.1 bare type: TEL;CELL:...
            types.append(key.lower())
        elif key.upper() == "TYPE":
            types += [t.strip('"').lower() for t in val.split(",")]
        else:
            params[key.upper()] = val
    if params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
        value = quopri.decodestring(value.encode("ascii", "replace")).decode(params.get("CHARSET", "utf-8"), "replace")
    return name, params, types, value


def read_vcard(
    file: Path, shown: str, *, encoding: str = "auto", header_only: bool = False, limits: Limits | None = None
) -> SourceTable:
    """A card holding a value over ``limits.cell_bytes`` is kept as a row the source's entities reject with
    the reason, the value cut to a short preview."""
    from crm_migrate.migrate.readers.workbook import big_cell_reason, oversized, preview

    limit = (limits or Limits()).cell_bytes
    text, used = decode_file(file, shown, encoding)
    records: list[tuple[None, int, list[str]]] = []
    rejected: dict[tuple[str | None, int], str] = {}
    card: dict[str, list[str]] | None = None
    start = 0
    for number, line in _logical_lines(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            card, start = {}, number
            continue
        if upper == "END:VCARD":
            if card is not None:
                cells = ["; ".join(card.get(c, [])) for c in COLUMNS]
                if big := oversized(cells, limit):
                    for j, _ in big:
                        cells[j] = preview(cells[j])
                    rejected[(None, start)] = big_cell_reason(COLUMNS[big[0][0]], big[0][1], limit)
                records.append((None, start, cells))
            card = None
            continue
        if card is None or ":" not in line:
            continue
        name, _params, types, value = _property(line)
        for column, val in _columns_of(name, types, value):
            if val.strip():
                card.setdefault(column, []).append(val.strip())
    if not records:
        raise SourceError(
            Problem(
                shown,
                "no BEGIN:VCARD ... END:VCARD card found",
                hint="check that this is a vCard file; set read.encoding if it is garbled",
            )
        )
    table = SourceTable(
        rows_to_frame([] if header_only else records, COLUMNS),
        "vcf",
        encoding=used,
        header_rows={},
        headers={"": COLUMNS},
        rejected_rows={} if header_only else rejected,
    )
    return table


def _columns_of(name: str, types: list[str], value: str) -> list[tuple[str, str]]:
    if name == "N":
        parts = _split(value, ";") + ["", ""]
        return [("N.family", parts[0]), ("N.given", parts[1])]
    if name == "ORG":
        parts = _split(value, ";") + [""]
        return [("ORG", parts[0]), ("ORG.unit", " ".join(p for p in parts[1:] if p))]
    if name == "TEL":
        column = next((_TEL_TYPES[t] for t in types if t in _TEL_TYPES), "TEL")
        return [(column, _unescape(value.removeprefix("tel:")))]
    if name == "ADR":
        # pobox; extended; street; locality; region; postcode; country -> written largest first
        p = _split(value, ";") + [""] * 7
        return [("ADR", " ".join(x for x in (p[6], p[4], p[3], p[2], p[1], p[0]) if x.strip()))]
    if name in ("FN", "TITLE", "EMAIL", "URL", "BDAY", "NOTE"):
        return [(name, _unescape(value))]
    return []
