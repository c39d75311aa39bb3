"""``validate``: the project files, then each source's header, without reading data rows."""

from __future__ import annotations

from pathlib import Path

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.spellings import column_expr
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
        found = check_columns(source, table)
        problems += table.warnings + found
        if not any(p.severity == "error" for p in found):
            problems += _value_map_problems(source, project)
    return problems


def _value_map_problems(source, project) -> list[Problem]:
    """Picklist values the maps do not cover. Needs the column's values, so such sources are read whole."""
    from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
    from crm_migrate.mappings.values import unknown_values_problem

    checked = [(plan, mf) for plan in source.entities for mf in plan.fields if mf.values and mf.unknown == "error"]
    if not checked:
        return []
    table = read_source(source)
    ctx = CleanContext(region=project.config.options.default_region)
    out = []
    for plan, mf in checked:
        expr = column_expr(mf.column, table.frame.columns)
        if expr is None:
            continue
        values = clean_column(table.frame.select(expr).to_series(), CLEANERS[mf.spec.type], ctx)["value"]
        if (p := unknown_values_problem(source, plan.entity.value, mf, values)) is not None:
            out.append(p)
    return out
