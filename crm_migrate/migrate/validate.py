"""``validate``: every mistake of a project in one pass.

The project files first (a mapping with a wrong key is still read without it, so its columns are checked
too), then each source's header, then what needs the values of a few columns: picklist values the maps do
not cover, legacy ids that read as one, and children whose account ids no account of their system holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import polars as pl

from crm_migrate.cleaners import CLEANERS, CleanContext, clean_column
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import ACCOUNT_LINK, ID_FIELD, Entity, has_account_link
from crm_migrate.mappings.spellings import column_expr
from crm_migrate.migrate.link import id_collisions
from crm_migrate.migrate.readers import SourceTable, read_source
from crm_migrate.project import MappedField, Project, Source, load_project
from crm_migrate.validators.columns import check_columns


@dataclass
class Validation:
    """What ``validate`` found: every problem of the project, errors and warnings, in one list."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def exit_code(self) -> int:
        """1 when there is any error (``validate``'s exit status: what CI runs on mapping files), else 0."""
        return 1 if self.errors else 0


def validate(
    project: Project | Path | str, *, max_rejects: int | None = None, max_reject_share: float | None = None
) -> Validation:
    """Check the project folder (or the folder of a loaded project): its files, the headers of its sources,
    and the values a few checks need. With ``max_rejects`` (rows) or ``max_reject_share`` (0 to 1), the data
    is read whole, as ``plan`` reads it, and rejects over the limit are errors too."""
    from crm_migrate.migrate.plan import RejectLimits

    root = project.root if isinstance(project, Project) else Path(project)
    limits = RejectLimits(max_rejects, max_reject_share)
    return Validation(validate_project(root, limits if limits != RejectLimits() else None))


def validate_project(root: Path, limits=None) -> list[Problem]:
    """Every problem of the project at ``root``. With ``limits`` (a ``RejectLimits``) and no error found, the
    data is read as ``plan`` reads it, to check the rejected rows against the limits and that every entity in
    scope would write something."""
    from crm_migrate.migrate.plan import unmapped_in_scope

    try:
        project = load_project(root, partial=True)
    except MigrateError as exc:
        return exc.problems
    problems = list(project.warnings) + unmapped_in_scope(project)
    ctx = CleanContext(region=project.config.options.default_region)
    tables: dict[str, SourceTable] = {}
    for source in project.sources:
        try:
            table = read_source(source, header_only=True, max_cell_bytes=project.config.options.limits.cell_bytes)
        except MigrateError as exc:
            problems += exc.problems
            continue
        found = check_columns(source, table)
        problems += table.warnings + found
        tables[source.name] = table  # a column that is missing is left out of the checks that follow
        problems += _value_map_problems(source, ctx, lambda s=source: _whole(s, tables))
    problems += _link_problems(project, ctx, tables) + _weights_problems(project)
    if limits is not None and not any(p.severity == "error" for p in problems):
        problems += _data_problems(root, limits)
    return _unique(problems)


class _EveryColumn:
    """Stands for a frame of records from two sources holding every column matching may read, so that the
    comparisons a project's fields get are known before any data is read (a superset: data without a field's
    values gives it none)."""

    class _All:
        def __contains__(self, name: object) -> bool:
            return True

    columns = _All()

    def __getitem__(self, name: str) -> pl.Series:
        return pl.Series(name, ["a", "b"])


def _weights_problems(project: Project) -> list[Problem]:
    """The m and u a project sets for a field (matching.<entity>.weights) must fit the comparison the field
    gets, one number per level, and the field must be compared at all: the run would say the first only
    once it has read everything, and never the second."""
    from crm_migrate.migrate.comparisons import comparisons_for

    problems = []
    for entity, options in project.config.matching.items():
        specs = {f.spec.name: f.spec for s in project.sources if (plan := s.plan_for(entity)) for f in plan.data_fields}
        given = {name: w for name, w in options.weights.items() if name in specs and not w.ignore}
        if not given:
            continue
        comparisons = {
            c.name: c for c in comparisons_for(list(specs.values()), cast(pl.DataFrame, _EveryColumn()), entity, True)
        }
        for name, weights in given.items():
            where = f"matching.{entity.value}.weights.{name}"
            comp = comparisons.get(name)
            if comp is None:
                problems.append(
                    Problem(
                        project.doc.path,
                        f"{where}: {entity.value} are not matched on {name}, so its m and u would not be used",
                        line=project.doc.line_of(("matching", entity.value, "weights", name)),
                        hint="weights apply to the fields compared: " + ", ".join(c for c in comparisons if c in specs),
                    )
                )
                continue
            for kind, values in (("m", weights.m), ("u", weights.u)):
                if values is not None and len(values) != comp.levels:
                    problems.append(
                        Problem(
                            project.doc.path,
                            f"{where}: {kind} has {len(values)} numbers, and {name} has {comp.levels} levels",
                            line=project.doc.line_of(("matching", entity.value, "weights", name, kind)),
                            hint=f"give {comp.levels} positive numbers, one per level: " + ", ".join(comp.labels),
                        )
                    )
    return problems


def _data_problems(root: Path, limits) -> list[Problem]:
    """What only reading the data shows: entities in scope that would write nothing, rejections over the
    limits, children none of which finds its account (as ``plan`` says them)."""
    from crm_migrate.migrate.plan import entity_rows, nothing_written, over_limits, unlinked
    from crm_migrate.migrate.run import prepare

    try:
        result = prepare(load_project(root))
    except MigrateError as exc:
        return exc.problems
    rows = entity_rows(result)
    return unlinked(result) + nothing_written(result, rows) + over_limits(result, rows, limits)


def _whole(source: Source, tables: dict[str, SourceTable]) -> SourceTable:
    """The source read whole, once, for the checks that need values."""
    key = f"\x00whole:{source.name}"
    if key not in tables:
        tables[key] = read_source(source)
    return tables[key]


def _cleaned(table: SourceTable, mf: MappedField, ctx: CleanContext) -> pl.DataFrame | None:
    expr = column_expr(mf.column, table.frame.columns)
    if expr is None:
        return None
    return clean_column(table.frame.select(expr).to_series(), CLEANERS[mf.spec.type], ctx)


def _value_map_problems(source: Source, ctx: CleanContext, whole) -> list[Problem]:
    """Picklist values the maps do not cover. Needs the column's values, so such sources are read whole."""
    from crm_migrate.migrate.values import unknown_values_problem

    checked = [(plan, mf) for plan in source.entities for mf in plan.fields if mf.values and mf.unknown == "error"]
    out = []
    for plan, mf in checked:
        cleaned = _cleaned(whole(), mf, ctx)
        if cleaned is not None and (p := unknown_values_problem(source, plan.entity.value, mf, cleaned["value"])):
            out.append(p)
    return out


def _link_problems(project: Project, ctx: CleanContext, tables: dict[str, SourceTable]) -> list[Problem]:
    """Account ids that read as one, and child entities of which no record could find its account."""
    ids: list[pl.DataFrame] = []
    for source in project.sources:
        plan = source.plan_for(Entity.accounts)
        mf = plan.field(ID_FIELD) if plan else None
        if mf is None or source.name not in tables:
            continue
        cleaned = _cleaned(_whole(source, tables), mf, ctx)
        if cleaned is not None:
            ids.append(
                cleaned.select(
                    pl.lit(source.system).alias("_system"),
                    pl.col("key").alias(f"k:{ID_FIELD}"),
                    pl.col("value").alias(f"v:{ID_FIELD}"),
                )
            )
    known = (
        pl.concat(ids)
        if ids
        else pl.DataFrame(schema={"_system": pl.String, f"k:{ID_FIELD}": pl.String, f"v:{ID_FIELD}": pl.String})
    )
    out = []
    for system, normal, written in id_collisions(known):
        first = next(s for s in project.sources if s.system == system and s.plan_for(Entity.accounts))
        out.append(
            Problem(
                first.mapping_path,
                f"account ids {', '.join(written[:5])} of system {system!r} read as "
                f"one id ({normal}): case, width, separators and zero padding are not counted",
                severity="warning",
                hint="children pointing at either are linked to the first",
            )
        )
    systems = set(known["_system"].unique().to_list())
    for source in project.sources:
        if source.name not in tables:
            continue
        for plan in source.entities:
            mf = plan.field(ACCOUNT_LINK)
            if not has_account_link(plan.entity) or mf is None or plan.entity not in project.entities:
                continue
            line = source.doc.line_of(mf.loc)
            if source.system not in systems:
                others = sorted(systems)
                out.append(
                    Problem(
                        source.mapping_path,
                        f"{plan.entity.value} of this source name their account by "
                        f"{mf.column!r}, but no account source has system {source.system!r}: none of "
                        "them can be linked",
                        line=line,
                        hint=(
                            f"set system: {others[0]} here if these ids are that system's"
                            if others
                            else "map the accounts' legacy id column to 'id' in their source, and give "
                            "both files the same system:"
                        ),
                    )
                )
                continue
            cleaned = _cleaned(_whole(source, tables), mf, ctx)
            if cleaned is None:
                continue
            refs = cleaned["key"].drop_nulls()
            mine = known.filter(pl.col("_system") == source.system)[f"k:{ID_FIELD}"]
            if len(refs) and not refs.is_in(mine.implode()).any():
                out.append(
                    Problem(
                        source.mapping_path,
                        f"none of the {len(refs)} account ids in {mf.column!r} "
                        f"(e.g. {cleaned['value'].drop_nulls()[0]!r}) is an account id of system "
                        f"{source.system!r}: no {plan.entity.singular} can be linked",
                        line=line,
                        hint="check that the column holds the account's legacy id (account_id) and "
                        "that both files name the same system:",
                    )
                )
    return out


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
