"""A migration project: a folder with ``migration.yaml`` and ``mappings/*.yaml``, loaded once into `Project`.

Every verb (validate, plan, run) works on the same loaded `Project`. Loading collects every problem it
can find, each with its file and line and, where one is close, a suggestion, before it gives up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_migrate.confine import Confinement
from crm_migrate.errors import Problem, ProjectError, did_you_mean
from crm_migrate.mappings.entities import (
    ACCOUNT_LINK,
    CATALOGUE,
    Entity,
    FieldSpec,
    FieldType,
    has_account_link,
    output_columns,
)
from crm_migrate.mappings.models import Derived, EntityMapping, Limits, Lookup, MigrationConfig, SourceMapping
from crm_migrate.mappings.spellings import spellings
from crm_migrate.mappings.targets import TargetProfile
from crm_migrate.mappings.validation import validate_model
from crm_migrate.mappings.yamlfile import YamlDocument, load_yaml

CONFIG_FILE = "migration.yaml"
MAPPINGS_DIR = "mappings"


@dataclass(frozen=True)
class MappedField:
    """A source column feeding one field of one entity."""

    column: str
    spec: FieldSpec
    custom: bool = False
    date_order: str | None = None
    values: dict[str, str] | None = None  # picklist value map
    unknown: str = "error"
    default: str | None = None
    required: bool = False  # the mapping makes this field required for this source
    derive: Derived | None = None  # built from source columns (concat, template, ...), not copied from one
    loc: tuple = ()  # where the mapping file defines it, for messages
    fill_down: bool = False  # empty and ditto cells take the value of the row above

    @property
    def input_groups(self) -> list[list[str]]:
        """The source columns this field reads, each as its spellings."""
        return [spellings(c) for c in (self.derive.inputs() if self.derive else [self.column])]

    @property
    def inputs(self) -> list[str]:
        """Every source column this field may read, all spellings included."""
        return [s for group in self.input_groups for s in group]


@dataclass(frozen=True)
class EntityPlan:
    """One entity as one source provides it."""

    entity: Entity
    mapping: EntityMapping
    fields: tuple[MappedField, ...]
    line: int | None

    def field(self, name: str) -> MappedField | None:
        return next((f for f in self.fields if f.spec.name == name), None)

    @property
    def data_fields(self) -> tuple[MappedField, ...]:
        """The fields that carry the record's data (not its identity or its link)."""
        return tuple(f for f in self.fields if f.spec.name not in ("id", ACCOUNT_LINK))


@dataclass(frozen=True)
class Source:
    name: str
    mapping: SourceMapping
    doc: YamlDocument
    file: Path  # absolute
    rel_file: str  # relative to the project folder, with forward slashes
    entities: tuple[EntityPlan, ...]
    shown_file: str  # as messages show it: the project folder as given, then rel_file
    root: Path = Path(".")  # the project folder
    limits: Limits = Limits()  # migration.yaml's options.limits, for the readers

    @property
    def system(self) -> str:
        return self.mapping.system or self.name

    @property
    def mapping_path(self) -> str:
        return self.doc.path

    def plan_for(self, entity: Entity) -> EntityPlan | None:
        return next((e for e in self.entities if e.entity is entity), None)


@dataclass(frozen=True)
class Project:
    root: Path
    config: MigrationConfig
    doc: YamlDocument
    sources: tuple[Source, ...]
    warnings: tuple[Problem, ...] = ()
    target: TargetProfile | None = None

    @property
    def entities(self) -> list[Entity]:
        return [e for e in Entity if e in self.config.entities]

    @property
    def confinement(self) -> Confinement:
        """The folders this project may read from."""
        return Confinement(self.root, self.config.allow_outside)

    def project_files(self) -> list[Path]:
        return [self.root / CONFIG_FILE, *sorted((self.root / MAPPINGS_DIR).glob("*.yaml"))]

    def fingerprint(self) -> str:
        """sha256 over the project files, so a manifest says which configuration produced it."""
        h = hashlib.sha256()
        for f in self.project_files():
            h.update(f.relative_to(self.root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        return h.hexdigest()


def load_project(root: Path | str, *, partial: bool = False) -> Project:
    """Load and check the project files; raise `ProjectError` with every problem found.

    With ``partial`` (what ``validate`` uses, to report every mistake in one pass) nothing is raised for
    problems in the files: the project holds what could be read (a mapping with a wrong key without that
    key) and ``warnings`` holds every problem, errors included."""
    root = Path(root)
    problems: list[Problem] = []
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        raise ProjectError(
            Problem(
                str(config_path),
                "no migration.yaml here",
                hint="a project folder holds migration.yaml and mappings/*.yaml; see samples/demo for one",
            )
        )
    config_doc, found = load_yaml(config_path, str(config_path))
    problems += found
    config = validate_model(MigrationConfig, config_doc, problems, salvage=partial) if not found else None

    mapping_files = {p.stem: p for p in sorted((root / MAPPINGS_DIR).glob("*.yaml"))}
    names = list(mapping_files)
    if config is not None and config.sources is not None:
        names = []
        for i, name in enumerate(config.sources):
            if name in mapping_files:
                names.append(name)
            else:
                problems.append(
                    Problem(
                        config_doc.path,
                        f"source {name!r} has no mapping file {MAPPINGS_DIR}/{name}.yaml",
                        line=config_doc.line_of(("sources", i)),
                        hint=did_you_mean(name, list(mapping_files))
                        or f"create {MAPPINGS_DIR}/{name}.yaml or remove the name",
                    )
                )
    if config is not None and not mapping_files:
        problems.append(
            Problem(
                str(root / MAPPINGS_DIR), "no mapping files", hint="write one mappings/<source>.yaml per source file"
            )
        )

    confine = Confinement(root, config.allow_outside if config is not None else [])
    limits = config.options.limits if config is not None else Limits()
    sources = [s for name in names if (s := _load_source(root, name, mapping_files[name], problems, confine, limits))]
    if config is not None:
        for source in sources:
            for plan in source.entities:
                if plan.entity not in config.entities:
                    problems.append(
                        Problem(
                            source.mapping_path,
                            f"{plan.entity.value} are mapped here but are "
                            "not among the entities in scope; they are ignored",
                            line=plan.line,
                            severity="warning",
                            hint=f"add {plan.entity.value} to 'entities' in migration.yaml, or remove this block",
                        )
                    )
    target = None
    if config is not None:
        _check_matching(config, config_doc, sources, problems)
        _check_orphans(config, config_doc, sources, problems)
        _check_watch(config, config_doc, sources, problems)
        from crm_migrate.mappings.waves import check_waves

        problems += check_waves(config, config_doc, sources)
        target = _load_target(root, config, config_doc, problems, confine)
    errors = [p for p in problems if p.severity == "error"]
    if (errors or config is None) and not partial:
        raise ProjectError(problems)
    if target is not None:
        problems += target_warnings(*target, sources)
    if config is None:
        config = MigrationConfig(name=root.name)
    return Project(root, config, config_doc, tuple(sources), tuple(problems), target[0] if target else None)


def _load_target(
    root: Path, config: MigrationConfig, doc: YamlDocument, problems: list[Problem], confine: Confinement
) -> tuple[TargetProfile, YamlDocument] | None:
    """The target profile ``target:`` names, and every entity in scope present in it."""
    from crm_migrate.mappings.targets import load_target

    try:
        target, target_doc = load_target(config.target, root, doc.path, doc.line_of(("target",)), confine)
    except ProjectError as exc:
        problems += exc.problems
        return None
    if config.options.output_encoding and target.file.format != "csv":
        problems.append(
            Problem(
                doc.path,
                f"options.output_encoding: target {target.name} writes "
                f"{target.file.format.upper()} files, which hold Unicode text in cells, so "
                f"{config.options.output_encoding} would be ignored",
                line=doc.line_of(("options", "output_encoding")),
                hint="remove output_encoding, or use a target profile with file: {format: csv}",
            )
        )
    missing = [e.value for e in config.entities if e not in target.entities]
    if missing:
        problems.append(
            Problem(
                doc.path,
                f"target {target.name} has no import template for {', '.join(missing)}",
                line=doc.line_of(("target",)),
                hint="take them out of 'entities', or use a project profile (targets/<name>.yaml) that has them",
            )
        )
    return target, target_doc


def target_warnings(target: TargetProfile, doc: YamlDocument, sources: list[Source]) -> list[Problem]:
    """A column the target requires that no source fills: every record would be refused."""
    out = []
    for entity, ep in target.entities.items():
        if ep.mapped_only:
            continue
        plans = [plan for s in sources if (plan := s.plan_for(entity))]
        filled = {
            "external_id",
            "account_external_id",
            "legacy_id",
            *(c for plan in plans for f in plan.fields for c in output_columns(f.spec)),
        }
        for i, col in enumerate(ep.columns):
            if not col.required or col.constant is not None:
                continue
            name = col.value.removeprefix("custom:") if col.value else None
            if name in filled:
                continue
            field = next((s.name for s in CATALOGUE[entity].values() if name in output_columns(s)), name)
            out.append(
                Problem(
                    doc.path,
                    f"{entity.value}: the target requires {col.header!r} "
                    + (f"({col.value}), which no source maps" if name else "and the profile gives it no value")
                    + "; every record would be refused",
                    severity="warning",
                    line=doc.line_of(("entities", entity.value, "columns", i)),
                    hint=f"map a column to {field!r}" if name else "set value: <field> or a constant",
                )
            )
    return out


def _check_matching(config: MigrationConfig, doc: YamlDocument, sources: list[Source], problems: list[Problem]) -> None:
    """Fields named under ``matching`` must be fields some source maps for that entity."""
    for entity, options in config.matching.items():
        mapped = sorted({f.spec.name for s in sources if (plan := s.plan_for(entity)) for f in plan.data_fields})
        named: list[tuple[tuple[str, ...], str]] = [
            (("survivorship", "fields", f), f) for f in options.survivorship.fields
        ]
        named += [(("weights", f), f) for f in options.weights]
        if options.survivorship.recency:
            named.append((("survivorship", "recency"), options.survivorship.recency))
        if entity not in config.entities:
            problems.append(
                Problem(
                    doc.path,
                    f"matching.{entity.value}: {entity.value} are not among the entities "
                    "in scope; these settings are ignored",
                    line=doc.line_of(("matching", entity.value)),
                    severity="warning",
                    hint=f"add {entity.value} to 'entities', or remove this block",
                )
            )
            continue
        for loc, name in named:
            if name not in mapped:
                problems.append(
                    Problem(
                        doc.path,
                        f"matching.{entity.value}: no source maps a field {name!r} for {entity.value}",
                        line=doc.line_of(("matching", entity.value, *loc)),
                        hint=did_you_mean(name, mapped) or f"mapped fields: {', '.join(mapped)}",
                    )
                )
        _check_recency(doc, entity, options, sources, problems)


RECENCY_DEFAULTS = ("last_activity_at", "created_at", "occurred_at")  # as pipeline._survivorship takes them


def _check_recency(
    doc: YamlDocument, entity: Entity, options: Any, sources: list[Source], problems: list[Problem]
) -> None:
    """most_recent needs a date to compare: the one ``recency`` names, or else one of `RECENCY_DEFAULTS`."""
    rules = options.survivorship
    users: list[tuple[tuple[str, ...], str]] = (
        [(("survivorship", "default"), "default")] if rules.default == "most_recent" else []
    )
    users += [(("survivorship", "fields", f), f) for f, r in rules.fields.items() if r == "most_recent"]
    if not users:
        return
    types = {f.spec.name: f.spec.type for s in sources if (plan := s.plan_for(entity)) for f in plan.data_fields}
    where = ("matching", entity.value)
    if rules.recency is not None:
        if rules.recency in types and types[rules.recency] is not FieldType.date:
            problems.append(
                Problem(
                    doc.path,
                    f"matching.{entity.value}.survivorship.recency: {rules.recency} is "
                    f"{types[rules.recency].value}, not a date, so most_recent could rank nothing",
                    line=doc.line_of((*where, "survivorship", "recency")),
                    hint="name a date field, e.g. "
                    + (", ".join(n for n, t in types.items() if t is FieldType.date) or "last_activity_at"),
                )
            )
        return
    if not any(n in types for n in RECENCY_DEFAULTS):
        loc, _ = users[0]
        problems.append(
            Problem(
                doc.path,
                f"matching.{entity.value}: most_recent needs a date, and no source maps "
                f"{', '.join(RECENCY_DEFAULTS)} for {entity.value}",
                line=doc.line_of((*where, *loc)),
                hint="set survivorship.recency to a mapped date field, or use another rule",
            )
        )


def _check_watch(config: MigrationConfig, doc: YamlDocument, sources: list[Source], problems: list[Problem]) -> None:
    """``watch.fields`` names fields (``name`` or ``entity.name``) an entity has: a misspelt one would limit
    nothing."""
    known = {
        e: set(CATALOGUE[e]) | {f.spec.name for s in sources if (plan := s.plan_for(e)) for f in plan.fields}
        for e in Entity
    }
    for name in config.watch.fields:
        entity_name, _, field = name.rpartition(".")
        entity = next((e for e in Entity if e.value == entity_name), None)
        line = doc.line_of(("watch", "fields", name))
        if entity_name and entity is None:
            problems.append(
                Problem(
                    doc.path,
                    f"watch.fields: no entity {entity_name!r}",
                    line=line,
                    hint=did_you_mean(entity_name, [e.value for e in Entity])
                    or "write entity.field (contacts.mobile), or the field alone",
                )
            )
            continue
        choices = sorted(known[entity] if entity else set().union(*known.values()))
        if field not in choices:
            owner = f"{entity.value} have" if entity else "no entity has"
            problems.append(
                Problem(
                    doc.path,
                    f"watch.fields: {owner} no field {field!r}",
                    line=line,
                    hint=did_you_mean(field, choices) or f"fields: {', '.join(choices)}",
                )
            )


def _check_orphans(config: MigrationConfig, doc: YamlDocument, sources: list[Source], problems: list[Problem]) -> None:
    """The placeholder account needs accounts in scope, and its values must be account fields a source maps."""
    orphans = config.options.orphans
    if orphans.send_to != "account":
        return
    if Entity.accounts not in config.entities:
        problems.append(
            Problem(
                doc.path,
                "orphans are sent to a placeholder account, but accounts are not in scope",
                line=doc.line_of(("options", "orphans", "send_to")),
                hint="add accounts to 'entities', or set send_to: rejects",
            )
        )
    mapped = sorted({f.spec.name for s in sources if (plan := s.plan_for(Entity.accounts)) for f in plan.fields})
    for name in orphans.fields:
        if name not in mapped:
            problems.append(
                Problem(
                    doc.path,
                    f"options.orphans.fields: no source maps an account field {name!r}",
                    line=doc.line_of(("options", "orphans", "fields", name)),
                    hint=did_you_mean(name, mapped) or f"mapped fields: {', '.join(mapped)}",
                )
            )


def _load_source(
    root: Path, name: str, path: Path, problems: list[Problem], confine: Confinement, limits: Limits
) -> Source | None:
    shown = str(root / MAPPINGS_DIR / path.name)
    if refusal := confine.check(f"{MAPPINGS_DIR}/{path.name}", "mapping file"):
        problems.append(Problem(shown, refusal.message, hint=refusal.hint))
        return None
    doc, found = load_yaml(path, shown)
    problems += found
    if found:
        return None
    mapping = validate_model(SourceMapping, doc, problems, salvage=True)
    if mapping is None:
        return None
    file = root / mapping.file
    if refusal := confine.check(mapping.file, "source file"):
        # Checked before anything else, so that nothing is said of the file (not even whether it exists).
        problems.append(Problem(shown, refusal.message, line=doc.line_of(("file",)), hint=refusal.hint))
        return None
    if not file.is_file():
        folder = Path(mapping.file).parent
        siblings = [(folder / p.name).as_posix() for p in file.parent.glob("*")] if file.parent.is_dir() else []
        problems.append(
            Problem(
                shown,
                f"source file {mapping.file!r} not found",
                line=doc.line_of(("file",)),
                hint=did_you_mean(mapping.file, siblings) or "the path is relative to the project folder",
            )
        )
    if (unused := mapping.read.not_applying(Path(mapping.file).suffix)) is not None:
        kind, keys, taken = unused
        for k in keys:
            problems.append(
                Problem(
                    shown,
                    f"read.{k} does not apply to a {kind} file ({Path(mapping.file).name}), so it would be ignored",
                    line=doc.line_of(("read", k)),
                    hint=f"remove it; a {kind} file takes {', '.join(taken)}",
                )
            )
    entities = []
    for entity, emap in mapping.entities.items():
        entities.append(_entity_plan(root, doc, entity, emap, problems, confine))
    has_accounts = Entity.accounts in mapping.entities
    for plan in entities:
        _check_required(doc, plan, has_accounts, problems)
    return Source(
        name, mapping, doc, file.resolve(), Path(mapping.file).as_posix(), tuple(entities), str(file), root, limits
    )


def _check_lookup(
    root: Path, doc: YamlDocument, loc: tuple, lookup: Lookup, problems: list[Problem], confine: Confinement
) -> None:
    line = doc.line_of((*loc, "lookup"))
    if refusal := confine.check(lookup.file, "lookup table"):
        problems.append(Problem(doc.path, refusal.message, line=line, hint=refusal.hint))
        return
    path = root / lookup.file
    if not path.is_file():
        problems.append(
            Problem(
                doc.path,
                f"lookup table {lookup.file!r} not found",
                line=line,
                hint="the path is relative to the project folder",
            )
        )
        return
    from crm_migrate.mappings.lookups import read_table, repeated_keys

    try:
        table = read_table(path)
    except ValueError as exc:
        problems.append(
            Problem(
                doc.path,
                f"lookup table {lookup.file!r} cannot be read: {exc}",
                line=line,
                hint="save it as CSV in UTF-8 with a header row",
            )
        )
        return
    header = table.columns
    missing = [name for name in (lookup.key, lookup.value) if name not in header]
    for name in missing:
        problems.append(
            Problem(
                doc.path,
                f"lookup table {lookup.file!r} has no column {name!r}",
                line=line,
                hint=did_you_mean(name, header) or f"its columns: {', '.join(header)}",
            )
        )
    if missing:
        return
    for key, row, value, again, other in repeated_keys(table, lookup.key, lookup.value)[:5]:
        problems.append(
            Problem(
                doc.path,
                f"lookup table {lookup.file!r} maps {lookup.key} {key!r} twice, "
                f"differently: row {row} to {value!r}, row {again} to {other!r}",
                line=line,
                hint=f"keep one row for {key!r} in {lookup.file} (only the last would be used)",
            )
        )


def _entity_plan(
    root: Path, doc: YamlDocument, entity: Entity, emap: EntityMapping, problems: list[Problem], confine: Confinement
) -> EntityPlan:
    catalogue = CATALOGUE[entity]
    fields: list[MappedField] = []
    seen: dict[str, str] = {}
    for written, column, cmap in emap.field_items():
        line = doc.line_of(("entities", entity.value, "columns", written))
        spec = catalogue.get(cmap.field)
        if spec is None and cmap.type is None:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value} have no field {cmap.field!r}",
                    line=line,
                    hint=did_you_mean(cmap.field, list(catalogue))
                    or f"for a custom field write {{field: {cmap.field}, type: text}}",
                )
            )
            continue
        if spec is not None and cmap.type is not None and cmap.type is not spec.type:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value}.{cmap.field} is of type {spec.type.value}; "
                    f"it cannot be declared {cmap.type.value}",
                    line=line,
                    hint="drop 'type' for a well-known field, or map to a custom field name",
                )
            )
            continue
        if cmap.field in seen:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value}.{cmap.field} is mapped twice (also from {seen[cmap.field]!r})",
                    line=line,
                    hint="map each field from one column",
                )
            )
            continue
        seen[cmap.field] = column
        custom = spec is None
        if spec is None:
            spec = FieldSpec(cmap.field, cmap.type or FieldType.text, cmap.field)
        fields.append(
            MappedField(
                column,
                spec,
                custom,
                cmap.date_order,
                cmap.values,
                cmap.unknown,
                cmap.default,
                cmap.required,
                loc=("entities", entity.value, "columns", written),
                fill_down=cmap.fill_down,
            )
        )
    for name, derived in emap.derive.items():
        loc = ("entities", entity.value, "derive", name)
        spec = catalogue.get(name)
        if spec is None and derived.type is None:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value} have no field {name!r}",
                    line=doc.line_of(loc),
                    hint=did_you_mean(name, list(catalogue))
                    or f"for a custom field add type: text under derive.{name}",
                )
            )
            continue
        if name in seen:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value}.{name} is both mapped from column {seen[name]!r} and derived",
                    line=doc.line_of(loc),
                    hint="keep one of the two",
                )
            )
            continue
        seen[name] = f"{name} (derived)"
        custom = spec is None
        spec = spec or FieldSpec(name, derived.type or FieldType.text, name)
        fields.append(
            MappedField(
                f"{name} (derived)",
                spec,
                custom,
                derived.date_order,
                derived.values,
                derived.unknown,
                derived.default,
                derived.required,
                derived,
                loc,
                fill_down=derived.fill_down,
            )
        )
        if derived.lookup is not None:
            _check_lookup(root, doc, loc, derived.lookup, problems, confine)
    for mf in fields:
        if mf.date_order is not None and mf.spec.type is not FieldType.date:
            problems.append(
                Problem(
                    doc.path,
                    f"{entity.value}.{mf.spec.name}: date_order applies to dates; "
                    f"{mf.spec.name} is {mf.spec.type.value}",
                    line=doc.line_of(mf.loc),
                    hint="remove date_order, or map the column to a date field",
                )
            )
    types = {f.spec.name: f.spec.type for f in fields}
    _check_rules_together(doc, entity, emap, problems)
    for i, rule in enumerate(emap.where):
        if rule.since is not None and rule.field in types and types[rule.field] is not FieldType.date:
            problems.append(
                Problem(
                    doc.path,
                    f"'since' needs a date field; {rule.field} is {types[rule.field].value}",
                    line=doc.line_of(("entities", entity.value, "where", i)),
                    hint="use equals / in / not_in for other fields",
                )
            )
        if rule.field not in seen:
            problems.append(
                Problem(
                    doc.path,
                    f"scope rule on {rule.field!r}, which no column of this source maps for {entity.value}",
                    line=doc.line_of(("entities", entity.value, "where", i)),
                    hint=did_you_mean(rule.field, list(seen)) or "map the field first",
                )
            )
    return EntityPlan(entity, emap, tuple(fields), doc.line_of(("entities", entity.value)))


def _check_rules_together(doc: YamlDocument, entity: Entity, emap: EntityMapping, problems: list[Problem]) -> None:
    """Scope rules all hold, so rules on one field whose values exclude each other let no row through."""
    allowed: dict[str, set[str]] = {}
    for i, rule in enumerate(emap.where):
        keep = rule.kept_values()
        if keep is None:
            continue
        before = allowed.get(rule.field)
        allowed[rule.field] = keep if before is None else before & keep
        if before is not None and before and not allowed[rule.field]:
            problems.append(
                Problem(
                    doc.path,
                    f"scope rules on {rule.field!r} together let no row through: this "
                    f"one keeps {', '.join(sorted(keep))}, those above {', '.join(sorted(before))}",
                    line=doc.line_of(("entities", entity.value, "where", i)),
                    hint="every rule must hold; to keep any of several values, write one rule with in: [...]",
                )
            )
    for i, rule in enumerate(emap.where):
        excluded = set(rule.not_in or ())
        keep = allowed.get(rule.field)
        if keep and excluded and rule.kept_values() is None and keep <= excluded:
            problems.append(
                Problem(
                    doc.path,
                    f"scope rules on {rule.field!r} together let no row through: "
                    f"not_in leaves out {', '.join(sorted(keep & excluded))}, all that the other "
                    "rules keep",
                    line=doc.line_of(("entities", entity.value, "where", i)),
                    hint="every rule must hold; remove the one you do not mean",
                )
            )


def _check_required(doc: YamlDocument, plan: EntityPlan, source_has_accounts: bool, problems: list[Problem]) -> None:
    mapped = {f.spec.name for f in plan.fields}
    for spec in CATALOGUE[plan.entity].values():
        if not spec.required or spec.name in mapped:
            continue
        if spec.name == ACCOUNT_LINK and source_has_accounts:
            continue  # the account on the same row is the parent
        hint = f"map a column to {spec.name!r} ({spec.label})"
        if spec.name == ACCOUNT_LINK:
            hint += ", or map the account on the same rows"
        problems.append(
            Problem(
                doc.path,
                f"{plan.entity.value} need {spec.name!r}, but no column is mapped to it",
                line=plan.line,
                hint=hint,
            )
        )
    if (
        has_account_link(plan.entity)
        and ACCOUNT_LINK not in mapped
        and not source_has_accounts
        and not CATALOGUE[plan.entity][ACCOUNT_LINK].required
    ):
        problems.append(
            Problem(
                doc.path,
                f"{plan.entity.value} from this source are linked to no account",
                line=plan.line,
                severity="warning",
                hint=f"map the column holding the account's legacy id to {ACCOUNT_LINK!r}",
            )
        )
