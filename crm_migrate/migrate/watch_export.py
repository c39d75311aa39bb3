"""The CRM's export as `watch` reads it: a source of its own, mapped by the target profile's headers, cleaned by
run's cleaners; the migration state's golden ids, weights and last watch; which records are new; and the
records clustered as run clusters them (`dedupe.resolve`), with the state's weights where it keeps them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import ACCOUNT_LINK, CATALOGUE, ID_FIELD, Entity, FieldSpec, FieldType
from crm_migrate.mappings.models import EntityMapping, ReadOptions, SourceMapping, Weights
from crm_migrate.mappings.targets import ColumnSpec, TargetProfile
from crm_migrate.mappings.yamlfile import YamlDocument
from crm_migrate.migrate import state as state_db
from crm_migrate.migrate.columns import SEQ
from crm_migrate.migrate.dedupe import Related, resolve
from crm_migrate.migrate.extract import extract
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.match import MatchSettings, WeightsError
from crm_migrate.migrate.merge import LABEL, assign_identity
from crm_migrate.migrate.pipeline import clean_context, compact, sha256_of
from crm_migrate.migrate.readers import read_source
from crm_migrate.migrate.verify import norm_header
from crm_migrate.project import EntityPlan, MappedField, Project, Source
from crm_migrate.steps import step

EXTERNAL = "_external_id"  # the record's external id in the CRM (empty for a record typed into it)


@dataclass
class Watched:
    """One entity's export as read and matched."""

    entity: Entity
    file: Path
    sha256: str
    frame: pl.DataFrame  # one row per export row: cleaned fields, EXTERNAL, "_new", LABEL
    fields: list[FieldSpec]
    required: list[str]  # fields the profile (or the catalogue) requires
    checks: dict[str, ColumnSpec]  # field -> the profile column its value goes back to (picklist, max_length)
    pairs: pl.DataFrame | None = None
    comparisons: list = field(default_factory=list)
    weights_from: str = "estimated"


# -- reading the export ---------------------------------------------------------------------------------


def _columns(profile: TargetProfile, entity: Entity) -> dict[str, ColumnSpec]:
    """The profile's columns an export is read by: header -> column, for the external id, the account's
    external id, and each field (parts and other values of a field are left: the field itself is read)."""
    catalogue = CATALOGUE[entity]
    out = {}
    for col in profile.entities[entity].columns:
        name = (col.value or "").removeprefix("custom:")
        if (
            col.value in ("external_id", "account_external_id")
            or col.value
            and (col.value.startswith("custom:") or (name in catalogue and name not in (ID_FIELD, ACCOUNT_LINK)))
        ):
            out[col.header] = col
    return out


def _source(project: Project, entity: Entity, path: Path, fields: list[MappedField]) -> Source:
    """The export as a source of its own: its columns mapped to fields as the profile names them."""
    mapping = SourceMapping.model_construct(
        file=str(path), description=None, system="export", read=ReadOptions(), entities={}
    )
    plan = EntityPlan(entity, EntityMapping.model_construct(columns={}, derive={}, where=[]), tuple(fields), None)
    return Source(
        "export",
        mapping,
        YamlDocument(str(path), {}),
        path.resolve(),
        path.name,
        (plan,),
        str(path),
        project.root,
        project.config.options.limits,
    )


def read_export(project: Project, entity: Entity, path: Path) -> Watched:
    """The export of one entity, read as a source mapped by the target profile's headers, and cleaned."""
    profile = project.target
    if profile is None or entity not in profile.entities:
        raise MigrateError(
            Problem(
                project.doc.path,
                f"the target profile has no {entity.value}",
                hint="watch reads an export by the headers of the project's target profile",
            )
        )
    if not path.is_file():
        raise MigrateError(
            Problem(
                str(path),
                "export file not found",
                hint="give the CSV or workbook the CRM exported (--exported ENTITY=FILE)",
            )
        )
    columns = _columns(profile, entity)
    catalogue = CATALOGUE[entity]

    def spec(col: ColumnSpec) -> FieldSpec:
        name = (col.value or "").removeprefix("custom:")
        return catalogue.get(name) or FieldSpec(name, FieldType.text, name)

    # a column the profile fills with a constant (no value) is nothing the CRM holds of the record
    wanted = [
        MappedField(h, spec(c))
        for h, c in columns.items()
        if c.value is not None and c.value not in ("external_id", "account_external_id")
    ]
    with step(f"Reading the export {path.name}") as reading:
        table = read_source(
            _source(project, entity, path, wanted), max_cell_bytes=project.config.options.limits.cell_bytes
        )
        reading.finish(table.frame.height)
    found = {norm_header(c): c for c in table.columns}
    present = {h: found[norm_header(h)] for h in columns if norm_header(h) in found}
    fields = [
        MappedField(present[h], spec(c))
        for h, c in columns.items()
        if h in present and c.value is not None and c.value not in ("external_id", "account_external_id")
    ]
    if not fields:
        raise MigrateError(
            Problem(
                str(path),
                f"no column of the export is one of the {profile.name} profile's {entity.value} columns",
                column=", ".join(table.columns[:6]) or None,
                hint="export with the template's headers: " + ", ".join(list(columns)[:8]),
            )
        )
    source = _source(project, entity, path, fields)
    options = project.config.options
    ctx = clean_context(project)
    today = options.today or dt.date.today()
    with step(f"Cleaning the export of {entity.value}", total=table.frame.height) as cleaning:
        frame, errors, _warnings = extract(source, table, source.entities[0], 0, ctx, today, options.test_records)
        cleaning.finish(table.frame.height)
    if errors:
        raise MigrateError(errors)
    by_value = {c.value: present[h] for h, c in columns.items() if h in present}
    ids = [(EXTERNAL, "external_id"), (ACCOUNT, "account_external_id")]
    frame = frame.with_columns(
        (
            table.frame[by_value[v]].str.strip_chars().replace("", None) if v in by_value else pl.lit(None, pl.String)
        ).alias(name)
        for name, v in ids
    )
    frame = compact(assign_identity(frame, entity, pl.lit(None, pl.String)))
    specs = [f.spec for f in fields]
    required = [
        s.name
        for s in specs
        if s.required or any(c.required and (c.value or "").removeprefix("custom:") == s.name for c in columns.values())
    ]
    if any(c.required and c.value == "account_external_id" for c in columns.values()):
        required.append(ACCOUNT_LINK)
    checks = {
        f.spec.name: c
        for h, c in columns.items()
        if h in present
        for f in fields
        if f.column == present[h] and (c.picklist or c.max_length)
    }
    return Watched(entity, path, sha256_of(path), frame, specs, required, checks)


# -- new records and duplicates -------------------------------------------------------------------------


@dataclass
class StateView:
    """What the watch reads of the migration state."""

    path: Path | None
    exists: bool = False
    go_live: str | None = None  # the first batch's date
    batches: int = 0
    known: dict[Entity, pl.Series] = field(default_factory=dict)  # external ids of the golden records
    weights: dict[Entity, dict[str, Weights]] = field(default_factory=dict)
    last: dict[str, Any] | None = None  # the last watch: watched_at and figures


def read_state(path: Path | None) -> StateView:
    conn = state_db.connect(path) if path is not None else None
    if conn is None:
        return StateView(path)
    try:
        first, batches = conn.execute("SELECT MIN(created_at), COUNT(*) FROM batches").fetchone()
        known = {
            e: state_db.get_frame(conn, state_db.GOLDEN, e.value, state_db.GOLDEN_SCHEMA, ["external_id"])[
                "external_id"
            ]
            for e in Entity
        }
        weights: dict[Entity, dict[str, Weights]] = {}
        rows = conn.execute("SELECT entity, comparison, level, m, u FROM weights ORDER BY entity, comparison, level")
        levels: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for entity, comparison, _, m, u in rows.fetchall():
            levels.setdefault((entity, comparison), []).append((m, u))
        for (entity, comparison), mu in levels.items():
            if entity in {e.value for e in Entity} and all(m is not None and u is not None for m, u in mu):
                weights.setdefault(Entity(entity), {})[comparison] = Weights(
                    m=[max(m, 1e-12) for m, _ in mu], u=[max(u, 1e-12) for _, u in mu]
                )
        last = conn.execute("SELECT watched_at, figures FROM watches ORDER BY watch DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return StateView(
        path,
        True,
        first[:10] if first else None,
        batches,
        known,
        weights,
        {"watched_at": last[0], "figures": json.loads(last[1])} if last else None,
    )


def mark_new(watched: Watched, state: StateView) -> str:
    """Add ``_new`` to the export's frame; return by what records were told new."""
    frame = watched.frame
    if not state.exists or not state.batches:
        rule, new = "no migration state: every record counts as new", pl.lit(True)
    elif frame.height and frame[EXTERNAL].null_count() == frame.height and "v:created_at" not in frame.columns:
        rule, new = "the export has neither external ids nor a created date: every record counts as new", pl.lit(True)
    elif frame[EXTERNAL].null_count() < frame.height or "v:created_at" not in frame.columns:
        known = state.known.get(watched.entity, pl.Series([], dtype=pl.String))
        rule, new = "external id not in the migration state", ~pl.col(EXTERNAL).is_in(known.implode()).fill_null(False)
    else:
        rule = f"created on or after go-live ({state.go_live}); the export has no external id"
        new = (pl.col("v:created_at").str.slice(0, 10) >= state.go_live).fill_null(True)
    watched.frame = frame.with_columns(new.alias("_new"))
    return rule


def match(watched: Watched, project: Project, state: StateView) -> None:
    """Cluster the export's records as run does (``LABEL`` per live record), with the state's weights."""
    entity = watched.entity
    options = project.config.matching.get(entity)
    stored = state.weights.get(entity, {})
    settings = MatchSettings(
        **({"merge": options.merge, "review": options.review} if options else {}),
        weights={**stored, **(options.weights if options else {})},
    )
    watched.weights_from = "state" if stored else "estimated"
    frame = watched.frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(SEQ))
    if not frame.height:
        watched.frame = frame.with_columns(pl.lit(None, pl.Int64).alias(LABEL))
        return
    try:
        labelled, result, _ = resolve(frame, entity, watched.fields, settings, [], Related())
    except WeightsError:  # the comparisons changed since the state's run: its weights no longer fit
        settings.weights = dict(options.weights) if options else {}
        watched.weights_from = "estimated (the state's weights no longer fit the comparisons)"
        labelled, result, _ = resolve(frame, entity, watched.fields, settings, [], Related())
    watched.frame = labelled.drop([c for c in labelled.columns if c.startswith("m:")])
    if result is not None:
        watched.pairs, watched.comparisons = result.pairs, result.comparisons
