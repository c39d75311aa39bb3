"""``validate``: the project files, then each source's header, without reading data rows."""

from __future__ import annotations

from pathlib import Path

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.migrate.readers import read_source
from crm_migrate.project import load_project
from crm_migrate.validators.columns import check_columns


def validate_project(root: Path) -> list[Problem]:
    try:
        project = load_project(root)
    except MigrateError as exc:
        return exc.problems
    problems = list(project.warnings)
    for source in project.sources:
        try:
            table = read_source(source, header_only=True)
        except MigrateError as exc:
            problems += exc.problems
            continue
        problems += table.warnings + check_columns(source, table)
    return problems
