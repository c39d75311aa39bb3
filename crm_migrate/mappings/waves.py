"""Waves as migration.yaml declares them, checked against the sources (a project-level check: `project` runs
it while loading; `migrate.waves` assigns records to waves)."""

from __future__ import annotations

from crm_migrate.errors import Problem, did_you_mean
from crm_migrate.mappings.entities import OUTPUT_PARTS
from crm_migrate.mappings.models import MigrationConfig


def field_names(specs) -> list[str]:
    """The names a wave's ``field`` may give for an entity's fields, as the import names them (owner,
    address_province)."""
    return [name for s in specs for name in (s.name, *(f"{s.name}_{part}" for part in OUTPUT_PARTS.get(s.type, ())))]


def check_waves(config: MigrationConfig, doc, sources) -> list[Problem]:
    """What pydantic cannot see alone: waves naming a source no mapping file is, an entity out of scope, or a
    field that no source maps (for the wave's entities, or any entity in scope)."""
    problems: list[Problem] = []
    names = [s.name for s in sources]
    scope = list(config.entities)
    for i, wave in enumerate(config.waves):
        where = ("waves", i)
        for j, entity in enumerate(wave.entities or ()):
            if entity not in scope:
                problems.append(
                    Problem(
                        doc.path,
                        f"waves.{wave.name}: {entity.value} are not among the entities in "
                        "scope, so the wave would take none of them",
                        line=doc.line_of((*where, "entities", j)),
                        hint=f"in scope: {', '.join(e.value for e in scope)}",
                    )
                )
        for j, source in enumerate(wave.sources or ()):
            if source not in names:
                problems.append(
                    Problem(
                        doc.path,
                        f"waves.{wave.name}: no source {source!r}",
                        line=doc.line_of((*where, "sources", j)),
                        hint=did_you_mean(source, names) or f"sources: {', '.join(names)}",
                    )
                )
        if wave.field is not None:
            entities = [e for e in (wave.entities or scope) if e in scope]
            known = sorted(
                {
                    name
                    for s in sources
                    for plan in s.entities
                    if plan.entity in entities
                    for name in field_names([f.spec for f in plan.data_fields])
                }
            )
            if wave.field not in known:
                problems.append(
                    Problem(
                        doc.path,
                        f"waves.{wave.name}: no source maps a field {wave.field!r} for "
                        + ", ".join(e.value for e in entities),
                        line=doc.line_of((*where, "field")),
                        hint=did_you_mean(wave.field, known) or f"fields: {', '.join(known[:12])}",
                    )
                )
    return problems
