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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Orphans(_Strict):
    """Where a child record goes when its account is missing or was rejected."""

    send_to: Literal["rejects", "account"] = Field(
        "rejects", description="rejects: the child is rejected with the reason (default); account: it is linked "
        "to one placeholder account, so no contact or deal is lost and an owner can reassign it after go-live.")
    account_name: str = Field("待分配客户（迁移）", min_length=1,
                              description="Name of the placeholder account; pick one the team will recognise.")
    fields: dict[str, str] = Field(default_factory=dict, description="Other values of the placeholder account, "
                                   "by field name (e.g. owner: 张伟), for targets that require them.")


class Limits(_Strict):
    """What a source may hold before it is refused (a workbook) or its row rejected (a cell), so that a damaged
    or hostile file ends in a message instead of exhausting memory."""

    cell_bytes: int = Field(1_000_000, gt=0, description="Largest cell, in bytes of UTF-8: a row holding a "
                            "larger one is rejected with the reason (Excel itself keeps at most 32,767 characters).")
    sheet_cells: int = Field(20_000_000, gt=0, description="Largest sheet, in cells from A1 to its last row and "
                             "column (as declared by the file or as its farthest cell lies): a larger one is "
                             "refused before it is read.")
    workbook_bytes: int = Field(2_000_000_000, gt=0, description="Most bytes a workbook's parts may unpack to "
                                "(a .xlsx is a zip): a larger one is refused before it is read.")
    compression_ratio: int = Field(200, gt=0, description="Most a part of a workbook larger than 10 MB unpacked "
                                   "may be compressed (unpacked size / packed size); ordinary sheets stay below "
                                   "50, a zip bomb is in the thousands.")


class ReviewOptions(_Strict):
    """The review workbook (review/duplicates.xlsx)."""

    max_rows: int = Field(20_000, gt=0, description="Most rows (member records and golden rows) on one sheet of "
                          "the review workbook: review pairs first, then merged groups, the least certain first; "
                          "the groups left out are counted on its first sheet and all groups are listed in "
                          "review/duplicate_groups.csv. The default holds a few thousand groups, more than a "
                          "steward gets through in a week; each further 10,000 rows cost some 2 s to write.")


class Options(_Strict):
    """Project-wide settings."""

    review: ReviewOptions = Field(default_factory=ReviewOptions, description="The review workbook: max_rows.")

    limits: Limits = Field(default_factory=Limits, description="Sizes beyond which a source is refused or a "
                           "row rejected: cell_bytes, sheet_cells, workbook_bytes, compression_ratio.")

    orphans: Orphans = Field(default_factory=Orphans, description="Children whose account is missing or "
                             "rejected: to rejects/ (default) or to one placeholder account.")

    default_region: str = Field("CN", description="Region for phone numbers written without a country code.")
    output_encoding: Literal["utf-8-sig", "utf-8", "gb18030"] | None = Field(
        None, description="Encoding of CSV import files instead of the target profile's; utf-8-sig adds the BOM "
        "Excel needs for Chinese.")
    test_records: Literal["reject", "filter", "keep"] = Field(
        "reject", description="What to do with test and garbage records (测试客户, asdf, 13800138000 with no name): "
        "reject them (they go to rejects/ for review), filter them out, or keep them.")
    simplified_output: bool = Field(
        False, description="Write traditional Chinese as simplified in output values (keys are always simplified).")
    fix_email_typos: bool = Field(
        True, description="Correct a mistyped common mail domain (qq.con, 163.cm, gmial.com -> qq.com, 163.com, "
        "gmail.com), with a note; no mail can reach the typo. Set false to only flag it with the suggestion.")
    limits: Limits = Field(default_factory=Limits, description="Sizes beyond which a row is rejected: cell_bytes.")
    today: dt.date | None = Field(
        None, description="The date relative time windows ('3y') count back from; default: the day of the run. "
        "Set it to make a project's results independent of the day it runs.")
    mask_mobiles: bool = Field(
        False, description="Mask mobile numbers (138****5678) wherever they appear outside import/ (rejects, "
        "lineage, review files, reports, findings), as ID numbers always are.")
    memory_limit: str | None = Field(
        None, description="Memory the run may use (8GB, 512MB, or none to skip the check): a run whose sources "
        "need more, by an estimate from their size, stops before reading them. Default: what the machine has "
        "available (half an address-space limit, ulimit -v, where one is set).")

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)  # a ValueError says how to write it
        return value

    output_mode: Literal["private", "shared"] = Field(
        "private", description="Who may read the output tree: private (default) makes out/ and its folders 0700 "
        "and its files 0600, readable only by the user who ran crm-migrate; shared makes them 0755 and 0644.")


Rule = Literal["source_priority", "most_recent", "most_complete", "most_frequent", "longest"]


class Survivorship(_Strict):
    """How a golden record takes each field from the members of its cluster. Whatever the rule, a valid
    value beats an invalid one and a filled one an empty one; ties go to source priority."""

    default: Rule = Field("source_priority", description="Rule for fields not listed: source_priority (the "
                          "first source in migration.yaml wins), most_recent, most_complete (the member with the "
                          "most filled fields), most_frequent, longest.")
    recency: str | None = Field(None, description="The date field that decides most_recent, e.g. "
                                "last_activity_at; default: the entity's last activity or creation date.")
    fields: dict[str, Rule] = Field(default_factory=dict, description="Rule per field, e.g. {phone: most_recent}.")


class Weights(_Strict):
    """Match weights of one comparison, instead of those estimated from the data: m (how often each level
    occurs among true matches) and u (among non-matches), lowest level (disagreement) first."""

    m: list[float] | None = Field(None, description="Per level, from disagreement to exact agreement.")
    u: list[float] | None = Field(None, description="Per level, from disagreement to exact agreement.")
    ignore: bool = Field(False, description="Leave this field out of matching altogether.")


class MatchingOptions(_Strict):
    """The three bands of a match probability (merge, review by a steward, keep apart), golden-record rules
    and any weights the project sets itself."""

    merge: float = Field(0.95, ge=0, le=1, description="Pairs at or above this probability are merged.")
    review: float = Field(0.60, ge=0, le=1, description="Pairs at or above this (and below merge) go to review.")
    survivorship: Survivorship = Field(default_factory=Survivorship)
    weights: dict[str, Weights] = Field(default_factory=dict, description="Per field: m and u to use instead of "
                                        "the estimates, or ignore: true.")

    @model_validator(mode="after")
    def _ordered(self) -> MatchingOptions:
        if self.review > self.merge:
            raise ValueError("review must not be above merge")
        return self


class MigrationConfig(_Strict):
    """``migration.yaml``: what is migrated, where to, and from which sources."""

    name: str = Field(description="Name of the migration project.")
    target: str = Field("generic", description="Target CRM profile the import files are written for.")
    entities: list[Entity] = Field(
        default_factory=lambda: list(Entity), description="Entities in scope; sources' other entities are ignored.")
    sources: list[str] | None = Field(
        None, description="Source names (mapping file stems) in order of priority; default: every mappings/*.yaml, "
        "in name order. The first source wins when merged records disagree.")
    options: Options = Field(default_factory=Options)
    matching: dict[Entity, MatchingOptions] = Field(
        default_factory=dict, description="Match thresholds per entity, e.g. contacts: {merge: 0.97, review: 0.7}.")
    decisions: str | None = Field(
        None, description="A steward's decisions file (the review workbook, filled in) applied on every run, "
        "relative to the project folder; `run --decisions FILE` overrides it.")
    allow_outside: list[str] = Field(
        default_factory=list, description="Folders outside the project that its files may read (sources, lookup "
        "tables, target profile, decisions), e.g. [/mnt/exports]. Every other path must lead, after symlinks, "
        "into the project folder.")

    _slashes = field_validator("target", "decisions", "allow_outside")(forward_slashes)


class ReadOptions(_Strict):
    """How to read the source file. Everything is detected unless set here."""

    encoding: str = Field("auto", description="Text encoding of a CSV or vCard file, e.g. gb18030, utf-8, utf-16; "
                          "'auto' detects it, and reads a file mixing UTF-8 and GBK lines line by line.")
    errors: Literal["strict", "report"] = Field(
        "strict", description="A CSV line the encoding cannot read: strict refuses the file naming the line; "
        "report keeps the other lines and rejects the rows of the bad ones with their line numbers.")
    delimiter: str = Field("auto", description="CSV delimiter; 'auto' sniffs comma, tab, semicolon and bar.")
    sheets: list[str] | Literal["all"] = Field("all", description="Workbook sheets to read.")
    header_row: int | Literal["auto"] = Field(
        "auto", description="Row number of the header as Excel shows it; 'auto' finds it below title rows.")

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        v = {"\\t": "\t", "tab": "\t"}.get(v, v)
        if v != "auto" and len(v) != 1:
            raise ValueError("a delimiter is one character (or 'auto', or 'tab')")
        return v

    @field_validator("header_row")
    @classmethod
    def _positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError("rows count from 1, as in Excel")
        return v


FILL_DOWN = ("Fill an empty cell, or one that says 同上 / 〃 / 同前 (ditto), from the row above in the same "
             "sheet: for merged cells and for a company written once above the people of its block. Each filled "
             "value is noted in lineage.")


class ColumnMap(_Strict):
    """A source column mapped to a field; ``type`` is needed only for custom fields."""

    field: str
    type: FieldType | None = None
    also: list[str] = Field(default_factory=list, description="Other spellings of this column's header (one "
                            "per sheet or file that names it differently); the same as writing 'a|b|c' as the key.")
    fill_down: bool = Field(False, description=FILL_DOWN)
    date_order: Literal["dmy", "mdy"] | None = Field(
        None, description="For dates written 05/03/2021: dmy (day first) or mdy (month first).")
    values: dict[str, str] | None = Field(
        None, description="Value map for a picklist: source value -> target value (compared ignoring case, "
        "spacing and traditional/simplified).")
    unknown: Literal["error", "keep", "default"] = Field(
        "error", description="A value the map does not cover: error (validate and plan list it), keep it as "
        "it is, or write 'default'.")
    default: str | None = Field(None, description="The target value for unknown values when unknown is default.")
    required: bool = Field(False, description="Reject a row where this field is empty or invalid, even if the "
                           "field is optional in general.")

    @model_validator(mode="after")
    def _default_given(self) -> ColumnMap:
        if self.unknown == "default" and self.default is None:
            raise ValueError("unknown: default needs a 'default' value")
        return self


class Split(_Strict):
    by: str = Field(min_length=1, description="The separator, e.g. '/' or ' '.")
    part: int = Field(description="Which piece, counting from 1; -1 is the last.")


class Lookup(_Strict):
    """A value looked up in a CSV table of the project (code -> name, old owner -> new owner, ...)."""

    file: str = Field(description="CSV file relative to the project folder, with a header row.")
    key: str = Field(description="The table's column holding the source values.")
    value: str = Field(description="The table's column holding what to write.")
    unknown: Literal["error", "keep", "empty"] = Field(
        "error", description="A value the table lacks: error (validate and plan list it), keep it, or leave it empty.")

    _slashes = field_validator("file")(forward_slashes)


class Derived(_Strict):
    """A field built from source columns rather than copied from one: exactly one of column, concat,
    template or constant, then optionally split, extract, lookup and if_empty, in that order."""

    type: FieldType | None = Field(None, description="Needed only for custom fields.")
    column: str | None = Field(None, description="One source column (spellings joined by '|' where sheets differ).")
    concat: list[str] | None = Field(None, description="Source columns joined by 'separator' (empty ones skipped).")
    separator: str = Field("", description="For concat.")
    template: str | None = Field(None, description="Text with {column} placeholders, e.g. '{省}{市}{区}{地址}'.")
    constant: str | None = Field(None, description="The same value on every row.")
    split: Split | None = None
    extract: str | None = Field(None, description="A regular expression; its first group (or the whole match) "
                                "is kept, and a value without a match becomes empty.")
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
            raise ValueError("give exactly one of column, concat, template, constant"
                             + (f" (found {', '.join(given)})" if given else ""))
        if self.extract is not None:
            try:
                re.compile(self.extract)
            except re.error as exc:
                raise ValueError(f"extract is not a valid regular expression: {exc}") from None
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


class Filter(_Strict):
    """A scope rule: rows that fail it are counted as filtered, with the reason, never silently dropped."""

    field: str = Field(description="Field the rule looks at (after cleaning).")
    equals: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None
    since: str | None = Field(None, description="A date (2023-01-01) or a window back from today: 90d, 36m, 3y.")
    not_empty: bool | None = None
    reason: str | None = Field(None, description="Reason written to lineage for rows this rule filters out.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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
        "A column spelt differently in some sheets is written with every spelling: '公司|客户名称|单位: name'.")
    derive: dict[str, Derived] = Field(default_factory=dict, description="Field -> how it is built from source "
                                       "columns: concat, template, split, extract, lookup, constant, if_empty.")
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
        None, description="The legacy system the ids in this file belong to. Sources of one system share ids: a "
        "contact's account_id finds the account with that id from any source of the same system. "
        "Default: the source's own name.")
    read: ReadOptions = Field(default_factory=ReadOptions)
    entities: dict[Entity, EntityMapping]
