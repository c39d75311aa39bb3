"""Target profiles: what a CRM's import template accepts, as data.

A profile says, per entity, the template's columns in order (header text exactly as the template has it),
what fills each column, its type, whether it is required, its maximum length and allowed picklist values,
the date format, and which column links a record to its parent; and, per file, the format (CSV or XLSX),
encoding and BOM, delimiter, and the most rows and bytes one file may hold. Built-in profiles live in
``crm_migrate/mappings/targets/<name>.yaml``; a project may ship its own ``targets/<name>.yaml`` (or name a
profile file in ``target:``), and ``crm-migrate target from-describe`` writes one from the tenant's own
field metadata.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from crm_migrate.confine import Confinement
from crm_migrate.errors import Problem, ProjectError, did_you_mean
from crm_migrate.mappings.entities import CATALOGUE, Entity, output_columns
from crm_migrate.mappings.models import _Strict, refuse
from crm_migrate.mappings.validation import validate_model  # the same line-accurate messages as the project files
from crm_migrate.mappings.yamlfile import YamlDocument, load_yaml

BUILT_IN = Path(__file__).parent / "targets"
PROJECT_TARGETS = "targets"


class ColumnType(str, Enum):
    """How a value is checked and written; identifiers (``id``, ``phone``, ``code``) are always text."""

    text = "text"
    id = "id"
    code = "code"
    phone = "phone"
    email = "email"
    number = "number"
    money = "money"
    date = "date"
    datetime = "datetime"
    picklist = "picklist"
    boolean = "boolean"
    url = "url"


NUMERIC = (ColumnType.number, ColumnType.money)


class ColumnSpec(_Strict):
    """One column of the target's template."""

    header: str = Field(description="The header text exactly as the template has it.")
    value: str | None = Field(
        None,
        description="What fills it: external_id, account_external_id, legacy_id, "
        "a field (name, phone, ...), a field's part (address_province, phone_extension) or "
        "its other values (phone_others). Empty: the column is written blank.",
    )
    constant: str | None = Field(None, description="A fixed value for every row instead of a field.")
    type: ColumnType = ColumnType.text
    required: bool = Field(False, description="A row with no value here is rejected before it reaches the target.")
    max_length: int | None = Field(None, gt=0, description="Longest value the target stores, in characters.")
    picklist: list[str] | None = Field(None, description="The only values the target accepts.")
    format: str | None = Field(None, description="Dates: a strftime pattern (%Y-%m-%d); numbers: decimals, e.g. '2'.")
    parent: Entity | None = Field(
        None,
        description="This column links to a record of that entity; the link is "
        "checked across files before anything is written.",
    )
    parent_key: Literal["external_id", "name", "legacy_id"] = Field(
        "external_id",
        description="What the link carries: the parent's external id, or its name where the "
        "target looks parents up by name (a name two parents share is an ambiguous link, refused).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        if self.value is not None and self.constant is not None:
            raise ValueError("a column takes either 'value' or 'constant', not both")
        self._check_format()
        self._check_link()
        if self.picklist == []:
            raise refuse(
                "picklist: [] accepts no value, so every record with one would be refused",
                "list the values the target accepts, or remove 'picklist'",
            )
        if self.constant is not None and self.picklist and self.constant not in self.picklist:
            raise refuse(
                f"the constant {self.constant!r} is not in the column's picklist, so every record would be refused",
                "write one of the picklist's values, or add it to the picklist",
            )
        if self.constant is not None and self.max_length and len(self.constant) > self.max_length:
            raise refuse(
                f"the constant {self.constant!r} is longer than max_length {self.max_length}, so every "
                "record would be refused",
                "shorten the constant, or raise max_length",
            )
        return self

    def _check_format(self) -> None:
        """``format`` acts on dates (a strftime pattern) and numbers (decimal places) only."""
        if self.format is None:
            return
        if self.type in (ColumnType.date, ColumnType.datetime):
            if "%" not in self.format:
                raise refuse(
                    f"format {self.format!r} has no %-directive, so every date would be written as that text",
                    "write a strftime pattern, e.g. '%Y-%m-%d' or '%Y/%m/%d %H:%M'",
                )
            from crm_migrate.mappings.rules import format_problem  # the rules read this model

            if problem := format_problem(self.format, self.type is ColumnType.datetime):
                raise ValueError(problem)
        elif self.type in NUMERIC:
            if not self.format.isdigit():
                raise refuse(
                    f"format {self.format!r} of a {self.type.value} column is its number of decimal "
                    "places, and this is none",
                    "write e.g. format: '2'",
                )
        else:
            raise refuse(
                f"format applies to date, datetime, number and money columns; this one is "
                f"{self.type.value}, so it would be ignored",
                "remove format, or set the column's type",
            )

    def _check_link(self) -> None:
        """A link column carries the parent's external id, which only accounts' children have."""
        if self.parent is None:
            if "parent_key" in self.model_fields_set:
                raise refuse(
                    "parent_key says what a link to a parent carries; this column has no parent",
                    "add parent: accounts, or remove parent_key",
                )
            return
        if self.parent is not Entity.accounts or self.value != "account_external_id":
            raise refuse(
                f"a link to {self.parent.value} carries the parent's external id, which only "
                "account_external_id holds (the account of a contact, opportunity or activity); "
                f"{'value ' + repr(self.value) if self.value else 'this column'} would match no parent",
                "write value: account_external_id with parent: accounts, or remove parent",
            )


class EntityProfile(_Strict):
    object: str = Field(description="The target's name for the object (Account, AccountObj, companies, ...).")
    columns: list[ColumnSpec]
    mapped_only: bool = Field(
        False,
        description="Write only the columns whose field some source maps, then "
        "the project's custom fields (the generic profile); otherwise every column, in order.",
    )

    @model_validator(mode="after")
    def _some_column(self) -> EntityProfile:
        if not self.columns and not self.mapped_only:
            raise refuse("columns: [] writes files with no column", "list the template's columns in order")
        return self


class FileSpec(_Strict):
    format: Literal["csv", "xlsx"] = "csv"
    encoding: Literal["utf-8", "gb18030", "gbk", "utf-16"] = "utf-8"
    bom: bool = Field(False, description="Write a byte order mark (Excel and Dynamics need it for Chinese in CSV).")
    delimiter: str = Field(",", min_length=1, max_length=1)
    max_rows: int | None = Field(None, gt=0, description="Most data rows in one file; more go to the next file.")
    max_bytes: int | None = Field(None, gt=1000, description="Largest file the target accepts, in bytes.")

    @model_validator(mode="after")
    def _acts(self) -> FileSpec:
        if self.format == "xlsx":
            # An XLSX file holds Unicode and has no delimiter: a setting other than the default would be ignored
            # (utf-8 is what the cells are, and describe writes it).
            ignored = [
                k
                for k, default in (("encoding", "utf-8"), ("bom", False), ("delimiter", ","))
                if getattr(self, k) != default
            ]
            if ignored:
                raise refuse(
                    f"{' and '.join(ignored)} apply to CSV files; an XLSX file holds Unicode text in "
                    "cells, so they would be ignored",
                    "remove " + " and ".join(ignored) + ", or write format: csv",
                )
        if self.bom and self.encoding != "utf-8":
            raise refuse(
                f"bom: true adds the byte order mark of UTF-8; a {self.encoding} file "
                + ("always starts with its own" if self.encoding == "utf-16" else "has none"),
                "remove bom, or write encoding: utf-8",
            )
        return self

    @property
    def codec(self) -> str:
        return "utf-8-sig" if self.encoding == "utf-8" and self.bom else self.encoding


class TargetProfile(_Strict):
    """``targets/<name>.yaml``."""

    name: str
    rests_on: str = Field(description="What the profile is based on (template, documentation, describe output).")
    file: FileSpec = Field(default_factory=FileSpec)
    entities: dict[Entity, EntityProfile]

    @property
    def load_order(self) -> list[Entity]:
        return [e for e in Entity if e in self.entities]

    def columns_by_header(self, entity: Entity) -> dict[str, ColumnSpec]:
        return {c.header: c for c in self.entities[entity].columns}

    def parent_key_header(self, link: ColumnSpec, written: list[str]) -> str | None:
        """The header of the parent's column a link column points at (its external id, name or legacy id),
        among the parent's columns ``written``; None if the parent has no such column."""
        if link.parent is None or link.parent not in self.entities:
            return None
        return next(
            (
                c.header
                for c in self.entities[link.parent].columns
                if c.value == link.parent_key and c.header in written
            ),
            None,
        )


def built_in_names() -> list[str]:
    return sorted(p.stem for p in BUILT_IN.glob("*.yaml"))


def locate(target: str, root: Path) -> Path | None:
    """The profile file ``target`` names: a path, a project's ``targets/<name>.yaml``, or a built-in."""
    candidates = (
        [root / target]
        if target.endswith((".yaml", ".yml"))
        else [root / PROJECT_TARGETS / f"{target}.yaml", BUILT_IN / f"{target}.yaml"]
    )
    return next((p for p in candidates if p.is_file()), None)


def load_target(
    target: str, root: Path, where: str, line: int | None, confine: Confinement | None = None
) -> tuple[TargetProfile, YamlDocument]:
    """Load and check a target profile; ``where``/``line`` locate the ``target:`` setting for messages. A
    profile of the project must lie inside it (or in a folder of ``confine``'s allow_outside)."""
    confine = confine or Confinement(root)
    written = target if target.endswith((".yaml", ".yml")) else f"{PROJECT_TARGETS}/{target}.yaml"
    if refusal := confine.check(written, "target profile"):
        raise ProjectError(Problem(where, refusal.message, line=line, hint=refusal.hint))
    path = locate(target, root)
    if path is None:
        choices = built_in_names() + sorted(p.stem for p in (root / PROJECT_TARGETS).glob("*.yaml"))
        raise ProjectError(
            Problem(
                where,
                f"no target profile {target!r}",
                line=line,
                hint=did_you_mean(target, choices)
                or f"built in: {', '.join(built_in_names())}; or put your own in {PROJECT_TARGETS}/{target}.yaml",
            )
        )
    shown = str(path) if path.is_relative_to(root) else f"<built-in>/{path.name}"
    doc, problems = load_yaml(path, shown)
    profile = validate_model(TargetProfile, doc, problems) if not problems else None
    if profile is not None:
        problems += check_profile(profile, doc)
    errors = [p for p in problems if p.severity == "error"]
    if errors or profile is None:
        raise ProjectError(problems)
    return profile, doc


def output_names(entity: Entity) -> list[str]:
    """The values a profile column of ``entity`` may take (``value:``)."""
    names = ["external_id", "legacy_id"] + (["account_external_id"] if "account_id" in CATALOGUE[entity] else [])
    return names + [
        c for spec in CATALOGUE[entity].values() if spec.name not in ("id", "account_id") for c in output_columns(spec)
    ]


def check_profile(profile: TargetProfile, doc: YamlDocument) -> list[Problem]:
    """What one column cannot see: values the entity lacks, repeated headers, links to entities not loaded."""
    problems = []
    for entity, ep in profile.entities.items():
        seen: set[str] = set()
        known = output_names(entity)
        for i, col in enumerate(ep.columns):
            line = doc.line_of(("entities", entity.value, "columns", i))
            if col.header in seen:
                problems.append(
                    Problem(
                        doc.path,
                        f"{entity.value}: header {col.header!r} appears twice",
                        line=line,
                        hint="each template column once",
                    )
                )
            seen.add(col.header)
            if col.value is not None and col.value not in known and not col.value.startswith("custom:"):
                problems.append(
                    Problem(
                        doc.path,
                        f"{entity.value}: column {col.header!r} takes {col.value!r}, which {entity.value} do not have",
                        line=line,
                        hint=did_you_mean(col.value, known)
                        or f"one of {', '.join(known)}, or custom:<field> for a custom field",
                    )
                )
            if col.parent is not None and col.parent not in profile.entities:
                problems.append(
                    Problem(
                        doc.path,
                        f"{entity.value}: column {col.header!r} links to "
                        f"{col.parent.value}, which this profile does not load",
                        line=line,
                    )
                )
    return problems
