"""Do the mapped columns exist in the source? Checked on the headers alone, so ``validate`` stays cheap.

A column written with several spellings (``公司|客户名称``) is there when any sheet has any of them: the
mapping says the sheets differ, so a sheet without any is not reported; only a field no sheet fills is."""

from __future__ import annotations

from typing import Protocol

from crm_migrate.errors import Problem, did_you_mean
from crm_migrate.mappings.spellings import present, spellings
from crm_migrate.project import Source


class Headers(Protocol):
    """What the check needs of a source as read (a reader's `SourceTable`): each sheet's header ("" for a
    file without sheets), the columns, the sheets."""

    headers: dict[str, list[str]]
    sheets: list[str]

    @property
    def columns(self) -> list[str]: ...


def check_columns(source: Source, table: Headers) -> list[Problem]:
    problems = []
    headers = table.headers or {"": table.columns}
    every = sorted({c for cols in headers.values() for c in cols})
    for plan in source.entities:
        for mf in plan.fields:
            line = source.doc.line_of(mf.loc)
            columns = mf.derive.inputs() if mf.derive else [mf.column]
            for column in columns:
                lacking = [sheet for sheet, cols in headers.items() if not present(column, cols)]
                several = len(spellings(column)) > 1
                if len(lacking) == len(headers):
                    where = f"{source.rel_file}" + (f" (sheets {', '.join(headers)})" if table.sheets else "")
                    what = f"none of the spellings {column!r} is" if several else f"column {column!r} is not"
                    near = next((h for s in spellings(column) if (h := did_you_mean(s, every))), None)
                    problems.append(
                        Problem(
                            source.mapping_path,
                            f"{what} in {where}",
                            line=line,
                            hint=near
                            or f"the header has: {', '.join(every[:12])}" + (" ..." if len(every) > 12 else ""),
                        )
                    )
                elif lacking and not several:
                    problems.append(
                        Problem(
                            source.mapping_path,
                            f"column {column!r} is missing from sheet(s) "
                            f"{', '.join(lacking)}; those rows have no {mf.spec.name}",
                            line=line,
                            severity="warning",
                            hint="add the column to those sheets if they hold "
                            "it, or add the sheet's own spelling: 'a|b: field'",
                        )
                    )
    return problems
