"""A target profile from the target's own field metadata: Salesforce sObject describe JSON and Fxiaoke
object describe JSON.

Each createable field becomes a column with the tenant's header, type, required flag, length and picklist
values; a field this tool knows (Name, Phone, 客户名称, ...) is filled from the matching field, the link to
the account goes by external id (Salesforce) or by name (Fxiaoke looks parents up by their main attribute),
and every other field is written blank with a comment asking for a value, so the team sees at once which
custom fields still need a source.

Salesforce: ``{"name": "Account", "fields": [{"name", "label", "type", "length", "nillable", "createable",
"defaultedOnCreate", "externalId", "picklistValues": [{"value", "active"}], "referenceTo",
"relationshipName"}]}`` (the REST describe). Fxiaoke: the object describe API's ``describe`` object, with
``api_name`` and ``fields`` (a map or a list) whose entries carry ``api_name``, ``label``, ``type``,
``is_required``, ``max_length`` or ``length``, ``options`` (``label``/``value``) and, for lookups,
``target_api_name``; the response envelope (``data``) may be left on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.yamlfile import quote

OBJECTS = {
    "Account": Entity.accounts,
    "AccountObj": Entity.accounts,
    "Contact": Entity.contacts,
    "ContactObj": Entity.contacts,
    "Opportunity": Entity.opportunities,
    "NewOpportunityObj": Entity.opportunities,
    "OpportunityObj": Entity.opportunities,
    "Task": Entity.activities,
    "ActiveRecordObj": Entity.activities,
}

KNOWN = {  # (entity, the target's field api name) -> the value that fills it
    Entity.accounts: {
        "Name": "name",
        "Phone": "phone",
        "Website": "website",
        "BillingStreet": "address",
        "BillingCity": "address_city",
        "BillingState": "address_province",
        "BillingPostalCode": "address_code",
        "Industry": "industry",
        "Description": "note",
        "AccountNumber": "legacy_id",
        "name": "name",
        "tel": "phone",
        "email": "email",
        "url": "website",
        "address": "address",
        "remark": "note",
        "account_level": "level",
        "industry": "industry",
        "province": "address_province",
        "city": "address_city",
        "district": "address_district",
        "uniform_social_credit_code": "uscc",
    },
    Entity.contacts: {
        "LastName": "name_family",
        "FirstName": "name_given",
        "Email": "email",
        "MobilePhone": "mobile",
        "Phone": "phone",
        "Title": "title",
        "Department": "department",
        "Birthdate": "birthday",
        "Description": "note",
        "name": "name",
        "mobile": "mobile",
        "tel": "phone",
        "email": "email",
        "job_title": "title",
        "department": "department",
        "birthday": "birthday",
        "remark": "note",
        "gender": "gender",
    },
    Entity.opportunities: {
        "Name": "name",
        "Amount": "amount",
        "StageName": "stage",
        "CloseDate": "close_date",
        "Description": "note",
        "name": "name",
        "amount": "amount",
        "sales_stage": "stage",
        "close_date": "close_date",
        "remark": "note",
    },
    Entity.activities: {
        "Subject": "subject",
        "Description": "content",
        "ActivityDate": "occurred_at",
        "Type": "type",
        "content": "content",
        "active_time": "occurred_at",
    },
}
ACCOUNT_OBJECTS = ("Account", "AccountObj")

SF_TYPES = {
    "string": "text",
    "textarea": "text",
    "phone": "phone",
    "email": "email",
    "url": "url",
    "date": "date",
    "datetime": "datetime",
    "currency": "money",
    "double": "number",
    "int": "number",
    "percent": "number",
    "picklist": "picklist",
    "multipicklist": "text",
    "boolean": "boolean",
    "reference": "id",
}
FX_TYPES = {
    "text": "text",
    "long_text": "text",
    "phone_number": "phone",
    "email": "email",
    "url": "url",
    "date": "date",
    "date_time": "datetime",
    "currency": "money",
    "number": "number",
    "select_one": "picklist",
    "select_many": "text",
    "true_or_false": "boolean",
    "object_reference": "id",
    "location": "text",
}
FX_SYSTEM = {
    "_id",
    "created_by",
    "create_time",
    "last_modified_by",
    "last_modified_time",
    "is_deleted",
    "life_status",
    "lock_status",
    "record_type",
    "version",
    "tenant_id",
    "object_describe_api_name",
    "extend_obj_data_id",
    "package",
    "out_tenant_id",
    "data_own_department",
}


class DescribeError(ValueError):
    """A describe file that cannot become a profile: which file, and why."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


@dataclass
class Column:
    header: str
    value: str | None
    type: str
    required: bool = False
    max_length: int | None = None
    picklist: list[str] | None = None
    parent: str | None = None
    parent_key: str | None = None
    note: str | None = None


def read_describe(path: Path) -> tuple[str, Entity, list[Column], str]:
    """(object name, entity, columns, vendor) of one describe file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DescribeError(path, f"not a JSON file ({exc})") from None
    try:
        if isinstance(data, dict) and isinstance(data.get("fields"), list) and "name" in data:
            return _salesforce(data, path)
        describe = _find_fxiaoke(data)
        if describe is not None:
            return _fxiaoke(describe, path)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DescribeError(path, f"a field entry lacks what a describe has ({type(exc).__name__}: {exc})") from None
    raise DescribeError(
        path, "neither a Salesforce sObject describe (name, fields[]) nor a Fxiaoke object describe (api_name, fields)"
    )


def _entity(name: str, path: Path) -> Entity:
    if name not in OBJECTS:
        raise DescribeError(
            path, f"object {name!r} is not one crm-migrate loads (it knows {', '.join(sorted(OBJECTS))})"
        )
    return OBJECTS[name]


def _salesforce(data: dict, path: Path) -> tuple[str, Entity, list[Column], str]:
    name = data["name"]
    entity = _entity(name, path)
    columns: list[Column] = []
    external = next((f["name"] for f in data["fields"] if f.get("externalId") and f.get("createable")), None)
    for f in data["fields"]:
        if not f.get("createable"):
            continue
        api, kind = f["name"], SF_TYPES.get(f.get("type", ""), "text")
        required = not f.get("nillable", True) and not f.get("defaultedOnCreate", False) and kind != "boolean"
        length = f.get("length") or None
        if kind == "id":
            refs = f.get("referenceTo") or []
            if any(r in ACCOUNT_OBJECTS for r in refs) and external and f.get("relationshipName"):
                columns.append(
                    Column(
                        f"{f['relationshipName']}.{external}",
                        "account_external_id",
                        "id",
                        required,
                        parent="accounts",
                        parent_key="external_id",
                    )
                )
            continue  # other lookups (owner, record type) are not migrated data
        picklist = [p["value"] for p in f.get("picklistValues") or [] if p.get("active", True)] or None
        value = "external_id" if api == external else KNOWN[entity].get(api)
        columns.append(
            Column(
                api,
                value,
                kind,
                required,
                length if kind in ("text", "phone", "email", "url") else None,
                picklist if kind == "picklist" else None,
            )
        )
    if external is None:
        columns.insert(
            0,
            Column(
                "External_Id__c",
                "external_id",
                "id",
                True,
                255,
                note="no external id field in this describe: create External_Id__c (External ID, "
                "Unique) so re-runs update instead of duplicating",
            ),
        )
    return name, entity, columns, "salesforce"


def _find_fxiaoke(data) -> dict | None:
    """The describe object, wherever the response envelope put it."""
    if isinstance(data, dict):
        if "api_name" in data and "fields" in data:
            return data
        for value in data.values():
            found = _find_fxiaoke(value)
            if found is not None:
                return found
    return None


def _fxiaoke(describe: dict, path: Path) -> tuple[str, Entity, list[Column], str]:
    name = describe["api_name"]
    entity = _entity(name, path)
    fields = describe["fields"]
    items = list(fields.values()) if isinstance(fields, dict) else list(fields)
    columns = []
    for f in items:
        api = f.get("api_name")
        if not api or api in FX_SYSTEM:
            continue
        kind = FX_TYPES.get(f.get("type", ""), "text")
        label = f.get("label") or api
        required = bool(f.get("is_required"))
        if kind == "id":
            if f.get("target_api_name") in ACCOUNT_OBJECTS:
                columns.append(
                    Column(label, "account_external_id", "text", required, parent="accounts", parent_key="name")
                )
            continue
        length = f.get("max_length") or f.get("length") or None
        options = [o.get("label") or o.get("value") for o in f.get("options") or [] if not o.get("not_usable")]
        columns.append(
            Column(
                label,
                KNOWN[entity].get(api),
                kind,
                required,
                length if kind in ("text", "phone", "email", "url") else None,
                ([o for o in options if o] or None) if kind == "picklist" else None,
            )
        )
    columns.append(
        Column(
            "外部ID",
            "external_id",
            "id",
            True,
            note="add a text field 外部ID to the object in Fxiaoke, or drop this column",
        )
    )
    return name, entity, columns, "fxiaoke"


@dataclass(frozen=True)
class WrittenProfile:
    """A profile `write_profile` wrote: where, and how many of its columns no crm-migrate field fills yet
    (``value: null``)."""

    path: Path
    unfilled: int


def write_profile(name: str, files: list[Path], project: Path, fmt: str = "") -> WrittenProfile:
    """Build the profile ``name`` from the describe files and write it to ``project/targets/NAME.yaml``;
    ``fmt``: csv or xlsx ("" for the vendor's usual one). A file that is no describe stops it, named."""
    if fmt not in ("", "csv", "xlsx"):
        raise MigrateError(Problem("--format", f"{fmt!r} is neither csv nor xlsx"))
    try:
        text, columns = _profile(name, files, fmt)
    except DescribeError as exc:
        raise MigrateError(
            Problem(str(exc.path), exc.message, hint="export it with the target's describe API")
        ) from None
    path = project / "targets" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return WrittenProfile(path, sum(not c.value for c in columns))


def profile_yaml(name: str, files: list[Path], fmt: str = "") -> str:
    """The profile text for the describe files, one entity each, with comments on what needs doing."""
    return _profile(name, files, fmt)[0]


def _profile(name: str, files: list[Path], fmt: str) -> tuple[str, list[Column]]:
    """The profile text and every column it holds."""
    described = [read_describe(p) for p in files]
    vendors = {v for *_, v in described}
    seen: dict[Entity, Path] = {}
    for (_, entity, _, _), p in zip(described, files, strict=True):
        if entity in seen:
            raise DescribeError(p, f"{entity.value} already come from {seen[entity]}")
        seen[entity] = p
    fxiaoke = vendors == {"fxiaoke"}
    file = fmt or ("xlsx" if fxiaoke else "csv")
    lines = [
        f"# Built by `crm-migrate target from-describe` from {', '.join(p.name for p in files)}.",
        "# Columns with `value: null` are fields of the tenant no crm-migrate field fills yet: give each a",
        "# value (a field, a part, custom:<field>) or a constant, or delete the line.",
        f"name: {quote(name)}",
        f"rests_on: {quote('describe output of ' + ', '.join(o for o, *_ in described))}",
        "file: {format: " + file + ", encoding: utf-8" + (", max_rows: 10000" if fxiaoke else ", bom: false") + "}",
        "entities:",
    ]
    for obj, entity, columns, _ in sorted(described, key=lambda d: d[1].order):
        lines += [f"  {entity.value}:", f"    object: {quote(obj)}", "    columns:"]
        for c in columns:
            parts = [f"header: {quote(c.header)}", f"value: {quote(c.value) if c.value else 'null'}", f"type: {c.type}"]
            if c.required:
                parts.append("required: true")
            if c.max_length:
                parts.append(f"max_length: {c.max_length}")
            if c.picklist:
                parts.append("picklist: [" + ", ".join(quote(v) for v in c.picklist) + "]")
            if c.parent:
                parts.append(f"parent: {c.parent}")
                if c.parent_key and c.parent_key != "external_id":
                    parts.append(f"parent_key: {c.parent_key}")
            note = c.note or (None if c.value else "no crm-migrate field fills this yet")
            lines.append("      - {" + ", ".join(parts) + "}" + (f"  # {note}" if note else ""))
    return "\n".join(lines) + "\n", [c for *_, columns, _ in described for c in columns]
