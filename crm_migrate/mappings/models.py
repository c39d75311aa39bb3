"""The two project files as pydantic models: ``migration.yaml`` and one ``mappings/<source>.yaml`` per source.

Every model forbids unknown keys, so a typo is an error with its line, not a setting silently ignored.
``crm-migrate schema`` writes the JSON Schema of both, for editors to complete and check them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crm_migrate.mappings.entities import Entity, FieldType
from crm_migrate.mappings.sizes import parse_size


def forward_slashes(value):
    """A path as a Windows user copies it (``data\\accounts.xlsx``) read with forward slashes, so it finds
    the file on every system; what it may lead to is checked afterwards (crm_migrate/confine.py), on the path
    as read: ``..\\..\\etc`` leaves the project as surely as ``../../etc``."""
    if isinstance(value, str):
        return value.replace("\\", "/")
    if isinstance(value, list):
        return [forward_slashes(v) for v in value]
    return value


def refuse(message: str, hint: str) -> PydanticCustomError:
    """A setting that validates as a type but cannot do what it says (a default never given, a condition
    that selects nothing): an error with the line of the block and a hint, which project.py shows as
    ``path:line: error: <where>: message — hint``."""
    return PydanticCustomError("refused", message, {"hint": hint})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_value_map(m: ColumnMap | Derived) -> None:
    """``values``, ``unknown`` and ``default`` of a column or derived field: each one that is given must act."""
    if m.values is not None and not m.values:
        raise refuse(
            "an empty value map maps nothing",
            "list source value: target value pairs under 'values', or remove 'values'",
        )
    if m.values is None:
        given = [k for k in ("unknown", "default") if k in m.model_fields_set]
        if given:
            raise refuse(
                f"{' and '.join(given)} without a value map does nothing",
                "add values: {source value: target value}, or remove " + " and ".join(given),
            )
    if m.unknown == "default" and m.default is None:
        raise refuse(
            "unknown: default needs a 'default' value (else unmapped values are written empty)",
            "give default: VALUE, or use unknown: keep",
        )
    if m.default is not None and m.unknown != "default":
        raise refuse(
            f"'default' is written only with unknown: default (this map has unknown: {m.unknown})",
            "set unknown: default, or remove 'default'",
        )


class Orphans(_Strict):
    """Where a child record goes when its account is missing or was rejected."""

    send_to: Literal["rejects", "account"] = Field(
        "rejects",
        description="rejects: the child is rejected with the reason (default); account: it is linked "
        "to one placeholder account, so no contact or deal is lost and an owner can reassign it after go-live.",
    )
    account_name: str = Field(
        "待分配客户（迁移）",
        min_length=1,
        description="Name of the placeholder account; pick one the team will recognise.",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Other values of the placeholder account, "
        "by field name (e.g. owner: 张伟), for targets that require them.",
    )

    @model_validator(mode="after")
    def _used(self) -> Orphans:
        unused = [k for k in ("account_name", "fields") if k in self.model_fields_set]
        if self.send_to == "rejects" and unused:
            raise refuse(
                f"{' and '.join(unused)} describe the placeholder account, which send_to: rejects does not use",
                "set send_to: account, or remove " + " and ".join(unused),
            )
        return self


class Limits(_Strict):
    """What a source may hold before it is refused (a workbook) or its row rejected (a cell), so that a damaged
    or hostile file ends in a message instead of exhausting memory."""

    cell_bytes: int = Field(
        1_000_000,
        gt=0,
        description="Largest cell, in bytes of UTF-8: a row holding a "
        "larger one is rejected with the reason (Excel itself keeps at most 32,767 characters).",
    )
    sheet_cells: int = Field(
        20_000_000,
        gt=0,
        description="Largest sheet, in cells from A1 to its last row and "
        "column (as declared by the file or as its farthest cell lies): a larger one is "
        "refused before it is read.",
    )
    workbook_bytes: int = Field(
        2_000_000_000,
        gt=0,
        description="Most bytes a workbook's parts may unpack to "
        "(a .xlsx is a zip): a larger one is refused before it is read.",
    )
    compression_ratio: int = Field(
        200,
        gt=0,
        description="Most a part of a workbook larger than 10 MB unpacked "
        "may be compressed (unpacked size / packed size); ordinary sheets stay below "
        "50, a zip bomb is in the thousands.",
    )


class ReviewOptions(_Strict):
    """The review workbook (review/duplicates.xlsx)."""

    max_rows: int = Field(
        20_000,
        gt=0,
        description="Most rows (member records and golden rows) on one sheet of "
        "the review workbook: review pairs first, then merged groups, the least certain first; "
        "the groups left out are counted on its first sheet and all groups are listed in "
        "review/duplicate_groups.csv. The default holds a few thousand groups, more than a "
        "steward gets through in a week; each further 10,000 rows cost some 2 s to write.",
    )


class StateOptions(_Strict):
    """The migration state: what every run wrote, in which batch, so that later runs write only what changed."""

    enabled: bool = Field(
        True,
        description="Keep the state (default). false: every run writes every record and "
        "remembers nothing, as before waves and deltas.",
    )
    file: str = Field(
        "state/migration.sqlite",
        description="The state's SQLite file, relative to the project "
        "folder (never inside the output folder, which every run replaces). It holds golden records' "
        "names and addresses in clear: protect it as the import files.",
    )

    _slashes = field_validator("file")(forward_slashes)

    @model_validator(mode="after")
    def _used(self) -> StateOptions:
        if not self.enabled and "file" in self.model_fields_set:
            raise refuse(
                "'file' names the state's file, which enabled: false does not keep",
                "remove 'file', or set enabled: true",
            )
        return self


class Options(_Strict):
    """Project-wide settings."""

    review: ReviewOptions = Field(default_factory=ReviewOptions, description="The review workbook: max_rows.")

    state: StateOptions = Field(
        default_factory=StateOptions,
        description="The migration state (batches, waves, what changed since the last run): enabled, file.",
    )

    limits: Limits = Field(
        default_factory=Limits,
        description="Sizes beyond which a source is refused or a "
        "row rejected: cell_bytes, sheet_cells, workbook_bytes, compression_ratio.",
    )

    orphans: Orphans = Field(
        default_factory=Orphans,
        description="Children whose account is missing or "
        "rejected: to rejects/ (default) or to one placeholder account.",
    )

    default_region: str = Field("CN", description="Region for phone numbers written without a country code.")
    output_encoding: Literal["utf-8-sig", "utf-8", "gb18030"] | None = Field(
        None,
        description="Encoding of CSV import files instead of the target profile's; utf-8-sig adds the BOM "
        "Excel needs for Chinese.",
    )
    test_records: Literal["reject", "filter", "keep"] = Field(
        "reject",
        description="What to do with test and garbage records (测试客户, asdf, 13800138000 with no name): "
        "reject them (they go to rejects/ for review), filter them out, or keep them.",
    )
    simplified_output: bool = Field(
        False, description="Write traditional Chinese as simplified in output values (keys are always simplified)."
    )
    fix_email_typos: bool = Field(
        True,
        description="Correct a mistyped common mail domain (qq.con, 163.cm, gmial.com -> qq.com, 163.com, "
        "gmail.com), with a note; no mail can reach the typo. Set false to only flag it with the suggestion.",
    )
    today: dt.date | None = Field(
        None,
        description="The date relative time windows ('3y') count back from; default: the day of the run. "
        "Set it to make a project's results independent of the day it runs.",
    )
    mask_mobiles: bool = Field(
        False,
        description="Mask mobile numbers (138****5678) wherever they appear outside import/ (rejects, "
        "lineage, review files, reports, findings), as ID numbers always are.",
    )
    memory_limit: str | None = Field(
        None,
        description="Memory the run may use (8GB, 512MB, or none to skip the check): a run whose sources "
        "need more, by an estimate from their size, stops before reading them. Default: what the machine has "
        "available (half an address-space limit, ulimit -v, where one is set).",
    )

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)  # a ValueError says how to write it
        return value

    output_mode: Literal["private", "shared"] = Field(
        "private",
        description="Who may read the output tree: private (default) makes out/ and its folders 0700 "
        "and its files 0600, readable only by the user who ran crm-migrate; shared makes them 0755 and 0644.",
    )


Rule = Literal["source_priority", "most_recent", "most_complete", "most_frequent", "longest"]


class Survivorship(_Strict):
    """How a golden record takes each field from the members of its cluster. Whatever the rule, a valid
    value beats an invalid one and a filled one an empty one; ties go to source priority."""

    default: Rule = Field(
        "source_priority",
        description="Rule for fields not listed: source_priority (the "
        "first source in migration.yaml wins), most_recent, most_complete (the member with the "
        "most filled fields), most_frequent, longest.",
    )
    recency: str | None = Field(
        None,
        description="The date field that decides most_recent, e.g. "
        "last_activity_at; default: the entity's last activity or creation date.",
    )
    fields: dict[str, Rule] = Field(default_factory=dict, description="Rule per field, e.g. {phone: most_recent}.")

    @model_validator(mode="after")
    def _recency_used(self) -> Survivorship:
        if self.recency is not None and "most_recent" not in (self.default, *self.fields.values()):
            raise refuse(
                "recency decides most_recent, which no field uses here",
                "set default: most_recent or a field's rule to most_recent, or remove recency",
            )
        return self


class Weights(_Strict):
    """Match weights of one comparison, instead of those estimated from the data: m (how often each level
    occurs among true matches) and u (among non-matches), lowest level (disagreement) first."""

    m: list[float] | None = Field(None, description="Per level, from disagreement to exact agreement.")
    u: list[float] | None = Field(None, description="Per level, from disagreement to exact agreement.")
    ignore: bool = Field(False, description="Leave this field out of matching altogether.")

    @model_validator(mode="after")
    def _acts(self) -> Weights:
        given = [k for k in ("m", "u") if getattr(self, k) is not None]
        if self.ignore and given:
            raise refuse(
                f"ignore: true leaves the field out of matching, so its {' and '.join(given)} would not be used",
                "remove ignore, or remove " + " and ".join(given),
            )
        if not self.ignore and not given:
            raise refuse(
                "weights with neither m, u nor ignore: true change nothing",
                "give m and/or u (one number per level), or ignore: true",
            )
        for k in given:
            values = getattr(self, k)
            if not values or any(v <= 0 for v in values):
                raise refuse(
                    f"{k} needs one positive number per level (they are scaled to add up to 1)",
                    f"write e.g. {k}: [0.05, 0.15, 0.8], from disagreement to exact agreement",
                )
        return self


class MatchingOptions(_Strict):
    """The three bands of a match probability (merge, review by a steward, keep apart), golden-record rules
    and any weights the project sets itself."""

    merge: float = Field(0.95, ge=0, le=1, description="Pairs at or above this probability are merged.")
    review: float = Field(0.60, ge=0, le=1, description="Pairs at or above this (and below merge) go to review.")
    survivorship: Survivorship = Field(default_factory=Survivorship)
    weights: dict[str, Weights] = Field(
        default_factory=dict, description="Per field: m and u to use instead of the estimates, or ignore: true."
    )

    @model_validator(mode="after")
    def _ordered(self) -> MatchingOptions:
        if self.review > self.merge:
            raise ValueError("review must not be above merge")
        return self


class Wave(_Strict):
    """One wave of a migration loaded in batches: the golden records it writes. Every criterion given must hold;
    a record belongs to the first wave whose criteria it meets (and stays in the wave it was first written in)."""

    name: str = Field(min_length=1, description="What `run --wave NAME` calls it.")
    entities: list[Entity] | None = Field(
        None, json_schema_extra={"minItems": 1}, description="Records of these entities."
    )
    sources: list[str] | None = Field(
        None,
        json_schema_extra={"minItems": 1},
        description="Records whose golden record comes from these sources (its first member by source priority).",
    )
    field: str | None = Field(
        None,
        description="A field or part of one, as the import names it (owner, level, "
        "address_province): records whose golden value is one of 'in'. A child whose "
        "entity has no such field is judged by its account's value.",
    )
    in_: list[str] | None = Field(
        None, alias="in", json_schema_extra={"minItems": 1}, description="The values of 'field' this wave takes."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _criteria(self) -> Wave:
        for key, given in (("entities", self.entities), ("sources", self.sources), ("in", self.in_)):
            if given == []:
                raise refuse(
                    f"{key}: [] takes no record into wave {self.name!r}", f"list what the wave takes, or remove '{key}'"
                )
        if (self.field is None) != (self.in_ is None):
            raise refuse(
                "'field' and 'in' go together: the field, and the values of it the wave takes",
                "write e.g. {field: address_province, in: [广东省, 福建省]}",
            )
        return self

    def criteria(self) -> list[str]:
        return [
            k
            for k, v in (("entities", self.entities), ("sources", self.sources), ("field", self.field))
            if v is not None
        ]


class FieldLimits(_Strict):
    """Limits of one field for `crm-migrate watch`, instead of the watch's own."""

    max_invalid_rate: float | None = Field(
        None, ge=0, le=1, description="Most share (0 to 1) of the field's values that may be invalid."
    )
    max_incomplete_rate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Most share (0 to 1) of the records that may lack the field, where it is required.",
    )

    @model_validator(mode="after")
    def _acts(self) -> FieldLimits:
        if self.max_invalid_rate is None and self.max_incomplete_rate is None:
            raise refuse(
                "limits of a field with neither max_invalid_rate nor max_incomplete_rate change nothing",
                "give one of them, or remove the field",
            )
        return self


class WatchLimits(_Strict):
    """``watch:``: what `crm-migrate watch` tolerates in the new CRM's export before it exits 1. A limit not
    given is not checked (the figure is still reported)."""

    max_new_duplicates: int | None = Field(
        None, ge=0, description="Most duplicate clusters holding a record created since go-live, per entity."
    )
    max_invalid_rate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Most share (0 to 1) of a field's values that may be invalid (as run's cleaners judge them).",
    )
    max_incomplete_rate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Most share (0 to 1) of the records that may lack a field the target profile requires.",
    )
    scope: Literal["all", "new"] = Field(
        "all",
        description="The records the rates are taken over: all of the export, or only those created since go-live.",
    )
    fields: dict[str, FieldLimits] = Field(
        default_factory=dict,
        description="Per field (name, or entity.name "
        "for one entity's), limits instead of the two above, e.g. "
        "{contacts.mobile: {max_invalid_rate: 0}}.",
    )


class MigrationConfig(_Strict):
    """``migration.yaml``: what is migrated, where to, and from which sources."""

    name: str = Field(description="Name of the migration project.")
    target: str = Field("generic", description="Target CRM profile the import files are written for.")
    entities: list[Entity] = Field(
        default_factory=lambda: list(Entity),
        json_schema_extra={"minItems": 1},
        description="Entities in scope; sources' other entities are ignored.",
    )
    sources: list[str] | None = Field(
        None,
        json_schema_extra={"minItems": 1, "uniqueItems": True},
        description="Source names (mapping file stems) in order of priority; default: every mappings/*.yaml, "
        "in name order. The first source wins when merged records disagree.",
    )
    options: Options = Field(default_factory=Options)
    matching: dict[Entity, MatchingOptions] = Field(
        default_factory=dict, description="Match thresholds per entity, e.g. contacts: {merge: 0.97, review: 0.7}."
    )
    decisions: str | None = Field(
        None,
        description="A steward's decisions file (the review workbook, filled in) applied on every run, "
        "relative to the project folder; `run --decisions FILE` overrides it.",
    )
    allow_outside: list[str] = Field(
        default_factory=list,
        description="Folders outside the project that its files may read (sources, lookup "
        "tables, target profile, decisions), e.g. [/mnt/exports]. Every other path must lead, after symlinks, "
        "into the project folder.",
    )
    waves: list[Wave] = Field(
        default_factory=list,
        description="Waves of a migration loaded in batches, in load order: `run --wave "
        "NAME` writes that wave's records. A wave with no criterion takes every record no earlier wave took, "
        "and comes last.",
    )
    watch: WatchLimits = Field(
        default_factory=WatchLimits,
        description="Limits of `crm-migrate watch` (the "
        "quality of the new CRM's export after go-live): above one, it exits 1.",
    )

    _slashes = field_validator("target", "decisions", "allow_outside")(forward_slashes)

    @field_validator("entities")
    @classmethod
    def _some_entity(cls, v: list[Entity]) -> list[Entity]:
        if not v:
            raise refuse(
                "entities: [] puts nothing in scope: run would write nothing",
                "list the entities to migrate, e.g. [accounts, contacts], or remove the key for all",
            )
        return v

    @field_validator("waves")
    @classmethod
    def _waves(cls, v: list[Wave]) -> list[Wave]:
        names = [w.name for w in v]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise refuse(f"wave {twice[0]!r} is declared twice", "give each wave its own name")
        rest = [w.name for w in v[:-1] if not w.criteria()]
        if rest:
            raise refuse(
                f"wave {rest[0]!r} has no criterion, so it takes every record left, and the waves after "
                "it would take none",
                "give it entities, sources or field/in, or move it to the end",
            )
        return v

    @field_validator("sources")
    @classmethod
    def _sources_once(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise refuse(
                "sources: [] reads no source",
                "list the mapping files' names in order of priority, or remove the key for every mappings/*.yaml",
            )
        if v is not None and (twice := sorted({s for s in v if v.count(s) > 1})):
            raise refuse(f"source {twice[0]!r} is listed twice (its rows would be read twice)", "list each source once")
        return v


# The read options each kind of file takes (the readers of crm_migrate/migrate/readers are given only these):
# kind -> (file name endings, options).
READ_KINDS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "CSV": (frozenset({".csv", ".txt", ".tsv"}), ("encoding", "errors", "delimiter", "header_row")),
    "workbook": (frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}), ("sheets", "header_row")),
    "vCard": (frozenset({".vcf"}), ("encoding",)),
}


class ReadOptions(_Strict):
    """How to read the source file. Everything is detected unless set here."""

    encoding: str = Field(
        "auto",
        description="Text encoding of a CSV or vCard file, e.g. gb18030, utf-8, utf-16; "
        "'auto' detects it, and reads a file mixing UTF-8 and GBK lines line by line.",
    )
    errors: Literal["strict", "report"] = Field(
        "strict",
        description="A CSV line the encoding cannot read: strict refuses the file naming the line; "
        "report keeps the other lines and rejects the rows of the bad ones with their line numbers.",
    )
    delimiter: str = Field("auto", description="CSV delimiter; 'auto' sniffs comma, tab, semicolon and bar.")
    sheets: list[str] | Literal["all"] = Field("all", description="Workbook sheets to read.")
    header_row: int | Literal["auto"] = Field(
        "auto", description="Row number of the header as Excel shows it; 'auto' finds it below title rows."
    )

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        v = {"\\t": "\t", "tab": "\t"}.get(v, v)
        if v != "auto" and len(v) != 1:
            raise ValueError("a delimiter is one character (or 'auto', or 'tab')")
        return v

    @field_validator("sheets")
    @classmethod
    def _some_sheet(cls, v: list[str] | str) -> list[str] | str:
        if v == []:
            raise refuse("sheets: [] reads no sheet", "list the sheets to read, or write sheets: all")
        return v

    @field_validator("header_row")
    @classmethod
    def _positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError("rows count from 1, as in Excel")
        return v

    def not_applying(self, suffix: str) -> tuple[str, list[str], tuple[str, ...]] | None:
        """The options set here that a file ending in ``suffix`` does not take: (its kind, those options, the
        ones it takes); None when all apply, or when no reader takes the file (refused on its own)."""
        for kind, (suffixes, taken) in READ_KINDS.items():
            if suffix.lower() in suffixes:
                unused = [k for k in type(self).model_fields if k in self.model_fields_set and k not in taken]
                return (kind, unused, taken) if unused else None
        return None


FILL_DOWN = (
    "Fill an empty cell, or one that says 同上 / 〃 / 同前 (ditto), from the row above in the same "
    "sheet: for merged cells and for a company written once above the people of its block. Each filled "
    "value is noted in lineage."
)


class ColumnMap(_Strict):
    """A source column mapped to a field; ``type`` is needed only for custom fields."""

    field: str
    type: FieldType | None = None
    also: list[str] = Field(
        default_factory=list,
        description="Other spellings of this column's header (one "
        "per sheet or file that names it differently); the same as writing 'a|b|c' as the key.",
    )
    fill_down: bool = Field(False, description=FILL_DOWN)
    date_order: Literal["dmy", "mdy"] | None = Field(
        None, description="For dates written 05/03/2021: dmy (day first) or mdy (month first)."
    )
    values: dict[str, str] | None = Field(
        None,
        description="Value map for a picklist: source value -> target value (compared ignoring case, "
        "spacing and traditional/simplified).",
    )
    unknown: Literal["error", "keep", "default"] = Field(
        "error",
        description="A value the map does not cover: error (validate and plan list it), keep it as "
        "it is, or write 'default'.",
    )
    default: str | None = Field(None, description="The target value for unknown values when unknown is default.")
    required: bool = Field(
        False,
        description="Reject a row where this field is empty or invalid, even if the field is optional in general.",
    )

    @model_validator(mode="after")
    def _value_map(self) -> ColumnMap:
        _check_value_map(self)
        return self


class Split(_Strict):
    by: str = Field(min_length=1, description="The separator, e.g. '/' or ' '.")
    part: int = Field(description="Which piece, counting from 1; -1 is the last (0 is refused).")

    @field_validator("part")
    @classmethod
    def _not_zero(cls, v: int) -> int:
        if v == 0:
            # Python's index 0 - 1 would silently take the last piece.
            raise refuse(
                "split.part counts from 1 (or back from -1 for the last); 0 is no piece",
                "write part: 1 for the first piece, or part: -1 for the last",
            )
        return v


class Lookup(_Strict):
    """A value looked up in a CSV table of the project (code -> name, old owner -> new owner, ...)."""

    file: str = Field(description="CSV file relative to the project folder, with a header row.")
    key: str = Field(description="The table's column holding the source values.")
    value: str = Field(description="The table's column holding what to write.")
    unknown: Literal["error", "keep", "empty"] = Field(
        "error", description="A value the table lacks: error (validate and plan list it), keep it, or leave it empty."
    )

    _slashes = field_validator("file")(forward_slashes)


class Derived(_Strict):
    """A field built from source columns rather than copied from one: exactly one of column, concat,
    template or constant, then optionally split, extract, lookup and if_empty, in that order."""

    type: FieldType | None = Field(None, description="Needed only for custom fields.")
    column: str | None = Field(None, description="One source column (spellings joined by '|' where sheets differ).")
    concat: list[str] | None = Field(
        None,
        json_schema_extra={"minItems": 1},
        description="Source columns joined by 'separator' (empty ones skipped).",
    )
    separator: str = Field("", description="For concat.")
    template: str | None = Field(None, description="Text with {column} placeholders, e.g. '{省}{市}{区}{地址}'.")
    constant: str | None = Field(None, description="The same value on every row.")
    split: Split | None = None
    extract: str | None = Field(
        None,
        description="A regular expression; its first group (or the whole match) "
        "is kept, and a value without a match becomes empty.",
    )
    lookup: Lookup | None = None
    if_empty: str | None = Field(None, description="Written where the result is empty (a default value).")
    required: bool = Field(False, description="Reject a row where the result is empty or invalid.")
    fill_down: bool = Field(False, description=FILL_DOWN)
    date_order: Literal["dmy", "mdy"] | None = None
    values: dict[str, str] | None = Field(None, description="Value map for a picklist, as in 'columns'.")
    unknown: Literal["error", "keep", "default"] = "error"
    default: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Derived:
        given = [k for k in ("column", "concat", "template", "constant") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, concat, template, constant"
                + (f" (found {', '.join(given)})" if given else "")
            )
        if self.concat is not None and not self.concat:
            raise refuse("concat: [] joins no column", "list the source columns to join, e.g. concat: [省, 市]")
        if "separator" in self.model_fields_set and self.concat is None:
            raise refuse(
                "'separator' joins the columns of concat; this field has no concat",
                "remove 'separator', or write concat: [column, ...]",
            )
        if self.constant and self.if_empty is not None and not (self.split or self.extract or self.lookup):
            raise refuse(
                "if_empty fills a result that is empty; a constant with no split, extract or lookup after it never is",
                "remove if_empty, or write the value you mean as the constant",
            )
        if self.extract is not None:
            try:
                re.compile(self.extract)
            except re.error as exc:
                raise ValueError(f"extract is not a valid regular expression: {exc}") from None
        _check_value_map(self)
        return self

    def inputs(self) -> list[str]:
        """The source columns it reads."""
        if self.column is not None:
            return [self.column]
        if self.concat is not None:
            return list(self.concat)
        if self.template is not None:
            return re.findall(r"\{([^{}]+)\}", self.template)
        return []


_RELATIVE = re.compile(r"^(\d+)\s*([dmy])$")


CONDITIONS = ("equals", "in", "not_in", "since", "not_empty")


class Filter(_Strict):
    """A scope rule: rows that fail it are counted as filtered, with the reason, never silently dropped.
    A rule names one field and at least one condition; several conditions must all hold."""

    field: str = Field(description="Field the rule looks at (after cleaning).")
    equals: str | None = None
    in_: list[str] | None = Field(None, alias="in", json_schema_extra={"minItems": 1})
    not_in: list[str] | None = Field(None, json_schema_extra={"minItems": 1})
    since: str | None = Field(None, description="A date (2023-01-01) or a window back from today: 90d, 36m, 3y.")
    not_empty: bool | None = None
    reason: str | None = Field(None, description="Reason written to lineage for rows this rule filters out.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _conditions(self) -> Filter:
        given = self.conditions()
        if not given:
            raise refuse(
                f"scope rule on {self.field!r} has no condition, so it filters nothing",
                "a condition needs one of "
                + ", ".join(CONDITIONS)
                + f", e.g. {{field: {self.field}, not_empty: true}}",
            )
        if self.not_empty is False:
            raise refuse("not_empty: false filters nothing", "write not_empty: true, or remove it")
        if self.in_ == []:
            raise refuse("in: [] lets no row through", "list the values to keep, or remove 'in'")
        if self.not_in == []:
            raise refuse("not_in: [] filters nothing", "list the values to leave out, or remove 'not_in'")
        if (keep := self.kept_values()) is not None and not keep:
            raise refuse(
                f"{' and '.join(given)} together let no value of {self.field} through",
                "conditions of one rule must all hold; keep the one you mean",
            )
        return self

    def conditions(self) -> list[str]:
        """The conditions given, as written."""
        return [c for c in CONDITIONS if getattr(self, "in_" if c == "in" else c) is not None]

    def kept_values(self) -> set[str] | None:
        """The only values equals and in let through (less those not_in names); None where any may pass."""
        allowed: set[str] | None = None
        for values in ([self.equals] if self.equals is not None else None, self.in_):
            if values is not None:
                allowed = set(values) if allowed is None else allowed & set(values)
        return None if allowed is None else allowed - set(self.not_in or ())

    @field_validator("since")
    @classmethod
    def _since(cls, v: str | None) -> str | None:
        if v is None or _RELATIVE.match(v.strip()):
            return v
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError("'since' takes a date like 2023-01-01 or a window like 90d, 36m, 3y") from None
        return v

    def since_date(self, today: dt.date) -> dt.date | None:
        if self.since is None:
            return None
        m = _RELATIVE.match(self.since.strip())
        if not m:
            return dt.date.fromisoformat(self.since)
        n, unit = int(m.group(1)), m.group(2)
        if unit == "d":
            return today - dt.timedelta(days=n)
        months = n * (12 if unit == "y" else 1)
        year, month0 = divmod(today.year * 12 + today.month - 1 - months, 12)
        return dt.date(year, month0 + 1, min(today.day, calendar.monthrange(year, month0 + 1)[1]))


class EntityMapping(_Strict):
    """Which source columns make up one entity, and which rows are in scope."""

    columns: dict[str, str | ColumnMap] = Field(
        description="Source column -> field. A field of the entity by name, or {field, type} for a custom field. "
        "A column spelt differently in some sheets is written with every spelling: '公司|客户名称|单位: name'."
    )
    derive: dict[str, Derived] = Field(
        default_factory=dict,
        description="Field -> how it is built from source "
        "columns: concat, template, split, extract, lookup, constant, if_empty.",
    )
    where: list[Filter] = Field(default_factory=list, description="Scope rules; a row must pass all of them.")

    def fields(self) -> dict[str, ColumnMap]:
        """Source column (every spelling, joined by '|') -> ColumnMap, with the short form expanded."""
        return {column: m for _, column, m in self.field_items()}

    def field_items(self) -> list[tuple[str, str, ColumnMap]]:
        """(key as written, source column with every spelling, ColumnMap) per mapped column."""
        from crm_migrate.mappings.spellings import joined, spellings

        out = []
        for key, m in self.columns.items():
            m = m if isinstance(m, ColumnMap) else ColumnMap(field=m)
            out.append((key, joined([*spellings(key), *m.also]) if m.also else key, m))
        return out


class SourceMapping(_Strict):
    """``mappings/<source>.yaml``: one source file and the entities its rows hold."""

    file: str = Field(description="Path of the source file, relative to the project folder.")
    description: str | None = None

    _slashes = field_validator("file")(forward_slashes)
    system: str | None = Field(
        None,
        description="The legacy system the ids in this file belong to. Sources of one system share ids: a "
        "contact's account_id finds the account with that id from any source of the same system. "
        "Default: the source's own name.",
    )
    read: ReadOptions = Field(default_factory=ReadOptions)
    entities: dict[Entity, EntityMapping] = Field(json_schema_extra={"minProperties": 1})

    @field_validator("entities")
    @classmethod
    def _some_entity(cls, v: dict) -> dict:
        if not v:
            raise refuse(
                "entities: {} maps nothing of this file",
                "map at least one entity, e.g. accounts: {columns: {客户名称: name}}, or remove the mapping file",
            )
        return v
