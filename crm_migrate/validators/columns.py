"""Do the mapped columns exist in the source? Checked on the headers alone, so ``validate`` stays cheap."""

from __future__ import annotations

from crm_migrate.errors import Problem, did_you_mean
from crm_migrate.migrate.readers import SourceTable
from crm_migrate.project import Source


def check_columns(source: Source, table: SourceTable) -> list[Problem]:
    problems = []
    headers = table.headers or {"": table.columns}
    every = sorted({c for cols in headers.values() for c in cols})
    for plan in source.entities:
        for mf in plan.fields:
            line = source.doc.line_of(mf.loc)
            for column in mf.inputs:
                lacking = [sheet for sheet, cols in headers.items() if column not in cols]
                if len(lacking) == len(headers):
                    where = f"{source.rel_file}" + (f" (sheets {', '.join(headers)})" if table.sheets else "")
                    problems.append(Problem(source.mapping_path, f"column {column!r} is not in {where}", line=line,
                                            hint=did_you_mean(column, every) or f"the header has: "
                                            f"{', '.join(every[:12])}" + (" ..." if len(every) > 12 else "")))
                elif lacking:
                    problems.append(Problem(source.mapping_path, f"column {column!r} is missing from sheet(s) "
                                            f"{', '.join(lacking)}; those rows have no {mf.spec.name}", line=line,
                                            severity="warning", hint="add the column to those sheets if they hold it"))
    return problems
