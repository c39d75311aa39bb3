"""The entities a migration moves, their well-known fields, and the semantic type of every field.

The semantic type decides which cleaner a value passes through, how records are matched, and how the
value is written. A mapping may add custom fields to any entity by declaring their type.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FieldType(str, Enum):
    """What a value means, not how it is stored: every value is read as text."""

    id = "id"
    text = "text"
    company_name = "company_name"
    person_name = "person_name"
    phone = "phone"
    email = "email"
    address = "address"
    uscc = "uscc"
    id_card = "id_card"
    date = "date"
    money = "money"
    number = "number"
    picklist = "picklist"
    url = "url"


class Entity(str, Enum):
    """Entities in load order: a parent always comes before its children."""

    accounts = "accounts"
    contacts = "contacts"
    opportunities = "opportunities"
    activities = "activities"

    @property
    def order(self) -> int:
        return list(Entity).index(self) + 1

    @property
    def singular(self) -> str:
        return {"accounts": "account", "contacts": "contact", "opportunities": "opportunity", "activities": "activity"}[
            self.value
        ]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    label: str
    required: bool = False
    sensitive: bool = False
    shared: bool = False  # different records often hold the same value (colleagues share an office phone)


# Fields every entity has for identity and links; they are handled by the pipeline, not written as data.
ID_FIELD = "id"
ACCOUNT_LINK = "account_id"


def _fields(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


F, T = FieldSpec, FieldType

CATALOGUE: dict[Entity, dict[str, FieldSpec]] = {
    Entity.accounts: _fields(
        F("id", T.id, "legacy account id"),
        F("name", T.company_name, "company name", required=True),
        F("name_en", T.text, "English name"),
        F("short_name", T.text, "short name"),
        F("uscc", T.uscc, "unified social credit code (统一社会信用代码)"),
        F("phone", T.phone, "main phone"),
        F("email", T.email, "main email"),
        F("website", T.url, "website"),
        F("address", T.address, "address"),
        F("industry", T.picklist, "industry"),
        F("level", T.picklist, "customer level"),
        F("status", T.picklist, "status"),
        F("lead_source", T.picklist, "lead source"),
        F("owner", T.person_name, "owner (salesperson)"),
        F("created_at", T.date, "created on"),
        F("last_activity_at", T.date, "last activity on"),
        F("note", T.text, "note"),
    ),
    Entity.contacts: _fields(
        F("id", T.id, "legacy contact id"),
        F("account_id", T.id, "legacy id of the contact's account"),
        F("name", T.person_name, "full name", required=True),
        F("title", T.text, "job title"),
        F("department", T.text, "department"),
        F("mobile", T.phone, "mobile phone"),
        F("phone", T.phone, "office phone", shared=True),
        F("email", T.email, "email"),
        F("wechat", T.text, "WeChat id"),
        F("id_card", T.id_card, "resident ID number (身份证号)", sensitive=True),
        F("gender", T.picklist, "gender"),
        F("birthday", T.date, "birthday"),
        F("address", T.address, "address"),
        F("owner", T.person_name, "owner (salesperson)"),
        F("created_at", T.date, "created on"),
        F("note", T.text, "note"),
    ),
    Entity.opportunities: _fields(
        F("id", T.id, "legacy opportunity id"),
        F("account_id", T.id, "legacy id of the opportunity's account", required=True),
        F("name", T.text, "opportunity name", required=True),
        F("amount", T.money, "amount"),
        F("stage", T.picklist, "sales stage"),
        F("close_date", T.date, "expected close date"),
        F("owner", T.person_name, "owner (salesperson)"),
        F("created_at", T.date, "created on"),
        F("note", T.text, "note"),
    ),
    Entity.activities: _fields(
        F("id", T.id, "legacy activity id"),
        F("account_id", T.id, "legacy id of the account followed up", required=True),
        F("type", T.picklist, "activity type (call, visit, ...)"),
        F("subject", T.text, "subject"),
        F("content", T.text, "what happened"),
        F("occurred_at", T.date, "when it happened", required=True),
        F("owner", T.person_name, "owner (salesperson)"),
        F("note", T.text, "note"),
    ),
}
del F, T


# Parts of a value that a target profile may give columns of their own (name_family, address_city, ...).
OUTPUT_PARTS = {
    FieldType.address: ("province", "city", "district", "code"),
    FieldType.phone: ("extension",),
    FieldType.person_name: ("family", "given"),
}
MULTI_VALUED = (FieldType.phone, FieldType.email)  # a customer may have several: merged members' are kept


def output_columns(spec: FieldSpec) -> list[str]:
    """The import columns one field gives: its value, its parts, and (phones, emails) the other values of
    the records merged into it."""
    return [
        spec.name,
        *(f"{spec.name}_{part}" for part in OUTPUT_PARTS.get(spec.type, ())),
        *([f"{spec.name}_others"] if spec.type in MULTI_VALUED else []),
    ]


def has_account_link(entity: Entity) -> bool:
    return ACCOUNT_LINK in CATALOGUE[entity]
