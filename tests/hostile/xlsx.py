"""A minimal .xlsx written by hand, so a test can give a sheet what no spreadsheet program would write: a
cell at XFD1048576, a false used range, a part that inflates a thousandfold, a cell of 10 MB."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from crm_migrate.migrate.readers.table import column_letter

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""


def sheet_xml(
    rows: list[list[str]], *, dimension: str | None = None, extra_cells: str = "", after: str = "", padding: int = 0
) -> str:
    """Rows of inline strings from A1; ``extra_cells`` is raw XML put in a row of its own at the end
    (e.g. a cell at XFD1048576), ``after`` raw XML after the cells (merged ranges); ``padding`` adds that many spaces (a part that compresses a thousandfold)."""
    body = []
    for r, cells in enumerate(rows, start=1):
        body.append(
            f'<row r="{r}">'
            + "".join(
                f'<c r="{column_letter(c - 1)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                for c, v in enumerate(cells, start=1)
                if v != ""
            )
            + "</row>"
        )
    dim = f'<dimension ref="{dimension or "A1:" + column_letter(max(len(r) for r in rows) - 1) + str(len(rows))}"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main">{dim}<sheetData>{"".join(body)}{extra_cells}</sheetData>{after}'
        + " " * padding
        + "</worksheet>"
    )


def write_xlsx(path: Path, rows: list[list[str]], sheet: str = "客户", **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK.format(name=escape(sheet, {'"': "&quot;"})))
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml(rows, **options))
    return path
