"""Golden files: each built-in profile's import files for one small project, compared with stored copies.

A CSV file must match its stored copy byte for byte (headers, order, quoting, encoding, BOM, line ends);
an XLSX file cell for cell as openpyxl reads it back, with each cell's type, since the bytes of a workbook
carry a timestamp. After a deliberate change to a profile or a writer, regenerate the copies with
``CRM_MIGRATE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest

from crm_migrate.mappings.targets import built_in_names
from crm_migrate.migrate.run import run
from tests.test_targets import project

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CRM_MIGRATE_UPDATE_GOLDEN") == "1"


def cells(path: Path) -> str:
    """A workbook as text: per sheet its name, then one JSON line per row, each cell [type, value, format]
    the way openpyxl reads it back, and "quote" after them for a cell with the quote-prefix style (a value
    a spreadsheet would otherwise run as a formula)."""
    book = openpyxl.load_workbook(path)
    lines = []
    for ws in book.worksheets:
        lines.append(f"# {ws.title}")
        lines += [
            json.dumps(
                [
                    [type(c.value).__name__, c.value, c.number_format, *(["quote"] if c.quotePrefix else [])]
                    for c in row
                ],
                ensure_ascii=False,
            )
            for row in ws.iter_rows()
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", built_in_names())
def test_import_files_match_the_stored_golden_copies(make_project, tmp_path, name):
    run(project(make_project, name), tmp_path / "out")
    written = sorted((tmp_path / "out" / "import").iterdir())
    assert written, "no import files"
    folder = GOLDEN / name
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    for path in written:
        actual = path.read_bytes() if path.suffix == ".csv" else cells(path).encode("utf-8")
        stored = folder / (path.name if path.suffix == ".csv" else path.name + ".json")
        if UPDATE:
            stored.write_bytes(actual)
        assert stored.is_file(), f"no golden copy {stored}; run with CRM_MIGRATE_UPDATE_GOLDEN=1"
        assert actual == stored.read_bytes(), f"{path.name} differs from {stored}"
    expected = sorted(p.name.removesuffix(".json") for p in folder.iterdir())
    assert [p.name for p in written] == expected
