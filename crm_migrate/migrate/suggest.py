"""``crm-migrate init``: a starter project whose mappings already say what the headers and values say.

A header is matched, after folding case, spaces, punctuation and traditional characters, against the names
Chinese and English exports give a field (`crm_migrate.mappings.headers`: 客户名称 / 公司名称 / 客戶名稱 /
Account Name -> account name; 手机 / 聯繫電話 / Mobile Phone -> mobile; ...). A column whose header says
nothing is judged by its values (mostly 11-digit numbers starting with 1 are mobiles, 18 characters with a
valid check character are ID numbers or credit codes), and only given a field its header words fit: a date
is a birthday only under a header that says birth. Dates of visits, sign-ups and follow-ups are never a
birthday or a company's creation date.

Across the sources given together:

- a workbook's sheets that hold the same entities become one mapping, each column with every spelling the
  sheets use (``公司名称|客户名称|单位: name``); sheets holding other entities (a pipeline sheet beside the
  contact sheets) get a mapping of their own;
- a column with ditto marks (同上, 〃) or merged cells gets ``fill_down``;
- files of one legacy system (a shared file-name prefix, or one file's ids found in another's account
  column) share a ``system:``, so that a contact's account id finds the account; a child file that names
  its account only by name holds the account on its row, which the pipeline links and merges;
- picklist columns get a value map onto the target's values (exact, folded, a known synonym, or near
  enough), the values it cannot place listed in a comment and kept, so that the project runs as written.

Every guess is written with a comment saying what it rests on, so the team reviews the mapping instead of
writing it; columns left unmapped are listed with example values.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path

import polars as pl

from crm_migrate.cleaners.codes import id_check_digit, uscc_check_char
from crm_migrate.cleaners.text import simplified, text_key, tidy
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings import headers as H
from crm_migrate.mappings.entities import CATALOGUE, Entity, FieldType
from crm_migrate.mappings.spellings import joined
from crm_migrate.mappings.yamlfile import quote

HEADERS = H.HEADERS
PERSONAL = ("email", "mobile", "title", "id_card", "birthday", "gender", "wechat", "department")
MARKERS = {
    Entity.accounts: H.ACCOUNT_NAME,
    Entity.contacts: H.PERSON_NAME,
    Entity.opportunities: H.OPPORTUNITY_NAME,
    Entity.activities: H.ACTIVITY_CONTENT,
}
CHILDREN = (Entity.contacts, Entity.opportunities, Entity.activities)
PICKLIST_MAX = 40  # more distinct values than this is not a picklist to map value by value

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")
_ID18 = re.compile(r"^\d{17}[\dXx]$")
_USCC = re.compile(r"^[0-9A-HJ-NP-RTUWY]{2}\d{6}[0-9A-HJ-NP-RTUWY]{10}$")
_DATE_HEADER = re.compile(r"时间|日期|date|time|[年月日]$", re.I)


def fold(header: str) -> str:
    """A header as the synonym lists spell it: simplified, lower case, without spaces, punctuation and a
    bracketed remark: 客戶名稱（必填） -> 客户名称, Account_Name -> accountname."""
    text = re.sub(r"[（(][^)）]*[)）]", "", simplified(header))  # (必填), (optional)
    return re.sub(r"[\s_\-:：*./、|]", "", text).lower()


def _folded(words) -> set[str]:
    return {fold(w) for w in words}


_FOLDED_HEADERS = {e: {name: _folded(synonyms) for name, synonyms in fields.items()} for e, fields in HEADERS.items()}
_FOLDED_MARKERS = {e: _folded(m) for e, m in MARKERS.items()}
_FOLDED_PERSONAL = set().union(*(_FOLDED_HEADERS[Entity.contacts][f] for f in PERSONAL))
_FOLDED_REF = _folded(H.ACCOUNT_REF)
_FOLDED_RECORD = _folded(H.OWNER + H.CREATED + H.NOTE)
_FOLDED_OWN_ID = _folded(H.OWN_ID)
_FOLDED_PARTS = {k: _folded(v) for k, v in H.ADDRESS_PARTS.items()}
_FOLDED_FIRST, _FOLDED_LAST = _folded(H.FIRST_NAME), _folded(H.LAST_NAME)
_FOLDED_EVENT_NAME = _folded(H.EVENT_NAME)
_FOLDED_NEVER = _folded(H.NEVER)
_CONCEPT_OF = {fold(w): i for i, group in enumerate(H.CONCEPTS) for w in group}
_CONCEPT_RANK = {fold(w): r for group in H.CONCEPTS for r, w in enumerate(group)}


@dataclass
class Guess:
    column: str  # every spelling, joined by '|'
    field: str
    why: str
    type: str | None = None  # for a custom field
    fill_down: str | None = None  # why, when the column is filled down
    values: dict[str, str] | None = None
    unknown: str | None = None
    values_note: str | None = None
    spellings: list[str] = default(default_factory=list)

    def __post_init__(self):
        self.spellings = self.spellings or [self.column]


@dataclass
class Derive:
    field: str
    text: str  # the YAML flow mapping
    why: str
    columns: list[str]


@dataclass
class Part:
    """What one mapping file describes: a file, or the sheets of a workbook that hold the same entities."""

    stem: str
    rel_file: str
    frame: pl.DataFrame
    sheet_headers: dict[str, list[str]]
    format: str = "csv"
    sheets: list[str] | None = None  # None: the whole file
    merged: dict[str, set[str]] = default(default_factory=dict)  # sheet -> headers with vertically merged cells
    guesses: dict[Entity, list[Guess]] = default(default_factory=dict)
    derived: dict[Entity, list[Derive]] = default(default_factory=dict)
    unmapped: list[tuple[str, list[str]]] = default(default_factory=list)
    notes: list[str] = default(default_factory=list)
    system: str | None = None
    system_why: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if not c.startswith("_")]

    def guess(self, entity: Entity, name: str) -> Guess | None:
        return next((g for g in self.guesses.get(entity, []) if g.field == name), None)


def by_values(values: list[str]) -> tuple[str, float] | None:
    """What most of a column's values are, and the share that are."""
    if not values:
        return None
    checks = {
        "mobile": lambda v: bool(_MOBILE.match(re.sub(r"[\s\-]", "", v))),
        "email": lambda v: bool(_EMAIL.match(v)),
        "id_card": lambda v: bool(_ID18.match(v)) and id_check_digit(v[:17]) == v[17].upper(),
        "uscc": lambda v: bool(_USCC.match(v.upper())) and uscc_check_char(v[:17].upper()) == v[17].upper(),
        "date": lambda v: bool(_DATE.match(v)),
    }
    for kind, check in checks.items():
        share = sum(check(v) for v in values) / len(values)
        if share >= 0.8:
            return kind, share
    return None


def _has(folded: str, words) -> bool:
    return any(fold(w) in folded for w in words)


def _sample(frame: pl.DataFrame, column: str, n: int = 200) -> list[str]:
    from crm_migrate.migrate.rows import _DITTO

    out = []
    for v in frame[column].drop_nulls().to_list():
        v = v.strip()
        if v and not _DITTO.match(v):
            out.append(v)
            if len(out) >= n:
                break
    return out


def _entities_of(folded_headers: set[str]) -> list[Entity]:
    found = [e for e in Entity if _FOLDED_MARKERS[e] & folded_headers]
    if Entity.contacts not in found and folded_headers & _FOLDED_FIRST and folded_headers & _FOLDED_LAST:
        found.append(Entity.contacts)
    return sorted(found, key=lambda e: e.order)


class _Slots:
    """Which sheets each (entity, field) is already filled on: a field takes a second column only as another
    spelling, from sheets where the first is absent."""

    def __init__(self, sheets_of: dict[str, set[str]]):
        self.sheets_of = sheets_of
        self.filled: dict[tuple[Entity, str], set[str]] = {}

    def free(self, entity: Entity, name: str, column: str) -> bool:
        return not (self.filled.get((entity, name), set()) & self.sheets_of[column])

    def take(self, entity: Entity, name: str, column: str) -> None:
        self.filled.setdefault((entity, name), set()).update(self.sheets_of[column])


def suggest(
    table, sheet_headers: dict[str, list[str]] | None = None, fmt: str = "csv"
) -> tuple[dict[Entity, list[Guess]], list[tuple[str, list[str]]]]:
    """Per entity the columns mapped to its fields, and the columns left unmapped with example values."""
    frame = table.frame if hasattr(table, "frame") else table
    part = Part("source", "", frame, sheet_headers or {"": [c for c in frame.columns if not c.startswith("_")]}, fmt)
    suggest_part(part)
    return part.guesses, part.unmapped


def suggest_part(part: Part) -> None:
    """Fill ``part``'s guesses, derived fields, unmapped columns and notes."""
    frame = part.frame
    headers = part.columns
    sheets_of = {c: {s for s, cols in part.sheet_headers.items() if c in cols} or {""} for c in headers}
    samples = {c: _sample(frame, c) for c in headers}
    folded = {c: _read_as(fold(c), samples[c]) for c in headers}
    present = [c for c in headers if samples[c] or _dittos(frame, c)]
    empty = [c for c in headers if c not in present]
    if part.format == "vcf":
        _vcard(part, present, samples)
        part.unmapped += [(c, []) for c in empty]
        return
    entities = _entities_of({folded[c] for c in present})
    if not entities:
        entities = [
            Entity.contacts if any(by_values(samples[c]) == ("mobile", 1.0) for c in present) else Entity.accounts
        ]
    refs = [c for c in present if folded[c] in _FOLDED_REF]
    children = [e for e in entities if e in CHILDREN]
    if Entity.accounts in entities and children and refs:
        own_id = any(folded[c] in _FOLDED_HEADERS[e]["id"] for e in children for c in present)
        explicit = any(folded[c] not in _folded(H.ACCOUNT_ID) for c in refs)
        if own_id or explicit:
            entities.remove(Entity.accounts)
            part.notes.append(
                f"These rows are {children[0].value} of accounts kept elsewhere: {refs[0]!r} holds "
                "the account's legacy id, which finds the account; its name here is not mapped."
            )
    part.guesses = {e: [] for e in entities}
    slots = _Slots(sheets_of)
    consumed: set[str] = set()
    _derive_name(part, entities, present, folded, slots, consumed)
    _derive_address(part, entities, present, folded, slots, consumed)
    for column in present:
        if column in consumed:
            continue
        found = _guess_column(column, folded[column], samples[column], entities, slots, part)
        if found is None:
            part.unmapped.append((column, samples[column][:3]))
            continue
        entity, guess = found
        if guess.type is None:
            slots.take(entity, guess.field, column)
        _add(part, entity, guess)
    part.unmapped += [(c, []) for c in empty]
    for entity in list(part.guesses):
        if not part.guesses[entity] and not part.derived.get(entity):
            del part.guesses[entity]
    _fill_down(part)


_GENERIC_NAME = {"name", "名称", "全称", "fullname"}
_COMPANY = re.compile(
    r"公司|集团|有限|工厂|商行|中心|研究院|研究所|学校|大学|医院|银行|事务所|\b(?:co|ltd|inc|corp|llc|"
    r"gmbh|limited|company|group|plc|corporation)\b",
    re.I,
)


def _read_as(folded: str, sample: list[str]) -> str:
    """A bare "Name" column of company names (an accounts export) is read as the company's name."""
    if folded in _GENERIC_NAME and sample and sum(bool(_COMPANY.search(v)) for v in sample) >= 0.5 * len(sample):
        return "companyname"
    return folded


def _add(part: Part, entity: Entity, guess: Guess) -> None:
    """Add a guess, or join it as another spelling to the guess of the same field."""
    same = next((g for g in part.guesses[entity] if g.field == guess.field and g.type == guess.type), None)
    if same is None:
        part.guesses[entity].append(guess)
        return
    same.spellings.append(guess.column)
    same.column = joined(same.spellings)
    same.why = f"headers {', '.join(repr(s) for s in same.spellings)} (one per sheet) say {guess.field}"


def _guess_column(
    column: str, folded: str, sample: list[str], entities: list[Entity], slots: _Slots, part: Part
) -> tuple[Entity, Guess] | None:
    if folded in _FOLDED_NEVER or not folded:
        return None
    seen = by_values(sample)
    is_date = (seen is not None and seen[0] == "date") or bool(_DATE_HEADER.search(column))
    event = _has(folded, H.EVENT_WORDS)
    found = _by_header(column, folded, entities, slots)
    if found is not None:
        entity, name = found
        if event and is_date and name in ("birthday", "created_at"):
            found = None  # a visit's or a sign-up's date is neither
        else:
            why = f"header {column!r} says {name}"
            if seen:
                why += f"; {seen[1]:.0%} of {len(sample)} sampled values look like {seen[0]}"
            return entity, Guess(column, name, why)
    if event and is_date:
        if Entity.contacts in entities and _has(folded, H.SIGN_UP_WORDS):
            return Entity.contacts, Guess(
                column,
                "signed_up_at",
                f"header {column!r}: when the person signed up; "
                "a custom field, not a birthday or the account's creation date",
                "date",
            )
        part.notes.append(
            f"{column!r} holds the dates of visits or follow-ups, not a field of these records: not mapped"
        )
        return None
    if folded in _FOLDED_EVENT_NAME and Entity.contacts in entities:
        return Entity.contacts, Guess(
            column, "lead_event", f"header {column!r}: the event the person came through; a custom field", "text"
        )
    if folded in _FOLDED_OWN_ID and slots.free(entities[0], "id", column):
        return entities[0], Guess(column, "id", f"header {column!r}: the record's own legacy id")
    if seen is None:
        return None
    if seen[0] != "uscc" and _has(folded, H.OTHER_PERSON):
        part.notes.append(f"{column!r} holds {seen[0]} values of someone else (its header says whose): not mapped")
        return None
    entity, value_field = _field_for_values(seen[0], folded, entities, slots, column)
    if value_field is None:
        if seen[0] == "date":
            part.notes.append(f"{column!r} holds dates, but its header does not say of what: not mapped")
        return None
    why = f"{seen[1]:.0%} of {len(sample)} sampled values look like {seen[0]}; the header says nothing, check it"
    return entity, Guess(column, value_field, why)


def _by_header(column: str, folded: str, entities: list[Entity], slots: _Slots) -> tuple[Entity, str] | None:
    """The entity and field a header names, among those not filled yet on its sheets."""
    # A person's own details (email, mobile, ...) belong to the contact when a row holds both; the owner,
    # dates and notes of a row holding a deal or a follow-up are the deal's, not its company's.
    order = entities
    if folded in _FOLDED_PERSONAL:
        order = sorted(entities, key=lambda e: e is not Entity.contacts)
    elif folded in _FOLDED_RECORD and entities[-1] in (Entity.opportunities, Entity.activities):
        order = [entities[-1], *entities[:-1]]
    for entity in order:
        for name, synonyms in _FOLDED_HEADERS[entity].items():
            if folded not in synonyms or not slots.free(entity, name, column):
                continue
            if name == "account_id" and Entity.accounts in entities:
                continue  # the account is on the same row
            if name == "id" and entity is not entities[0]:
                continue
            return entity, name
    # 联系人手机, 客户地址, Contact Email, Company Phone: the entity named first, then one of its fields.
    for prefix, entity in _PREFIXES:
        rest = folded.removeprefix(prefix)
        if rest != folded and rest and entity in entities:
            if (
                rest in _FOLDED_OWN_ID
                and entity is entities[-1 if entity in CHILDREN else 0]
                and slots.free(entity, "id", column)
            ):
                return entity, "id"  # 跟进ID in a file of follow-ups
            for name, synonyms in _FOLDED_HEADERS[entity].items():
                if rest in synonyms and name not in ("id", "account_id", "name") and slots.free(entity, name, column):
                    return entity, name
    # 手机1, Phone 2: the first of numbered columns, where the field is still free.
    bare = folded.rstrip("0123456789")
    if bare != folded and bare:
        return _by_header(column, bare, entities, slots)
    return None


_PREFIXES = [
    (fold(p), e)
    for e, words in (
        (Entity.contacts, ("联系人", "联系人的", "个人", "contact", "contacts", "person", "primarycontact")),
        (
            Entity.accounts,
            ("客户", "公司", "企业", "单位", "机构", "company", "account", "customer", "organization", "organisation"),
        ),
        (Entity.opportunities, ("商机", "机会", "opportunity", "deal")),
        (Entity.activities, ("跟进", "拜访", "活动", "activity", "task")),
    )
    for p in words
]
_PREFIXES.sort(key=lambda pe: -len(pe[0]))


def _field_for_values(
    kind: str, folded: str, entities: list[Entity], slots: _Slots, column: str
) -> tuple[Entity, str | None]:
    if kind == "date":
        wanted = [key for key, words in H.DATE_WORDS.items() if _has(folded, words)]
    else:
        wanted = {
            "mobile": [(Entity.contacts, "mobile"), (Entity.accounts, "phone")],
            "email": [(Entity.contacts, "email"), (Entity.accounts, "email")],
            "id_card": [(Entity.contacts, "id_card")],
            "uscc": [(Entity.accounts, "uscc")],
        }[kind]
    for entity, name in wanted:
        if entity in entities and slots.free(entity, name, column):
            return entity, name
    return entities[0], None


def _derive_name(part: Part, entities, present, folded, slots, consumed) -> None:
    """A person's name in two columns (姓 and 名, First Name and Last Name) when no column holds it whole."""
    if Entity.contacts not in entities or any(folded[c] in _FOLDED_MARKERS[Entity.contacts] for c in present):
        return
    first = next((c for c in present if folded[c] in _FOLDED_FIRST), None)
    last = next((c for c in present if folded[c] in _FOLDED_LAST), None)
    if not first or not last:
        return
    text = f"{{{first}}} {{{last}}}" if (first + last).isascii() else f"{{{last}}}{{{first}}}"
    part.derived.setdefault(Entity.contacts, []).append(
        Derive(
            "name", f"{{template: {quote(text)}}}", f"the name is in two columns, {last!r} and {first!r}", [first, last]
        )
    )
    consumed.update((first, last))
    slots.take(Entity.contacts, "name", first)


def _derive_address(part: Part, entities, present, folded, slots, consumed) -> None:
    """An address in columns of its own (province, city, district, street) as one template, largest first."""
    entity = next((e for e in (Entity.accounts, Entity.contacts) if e in entities), None)
    if entity is None:
        return
    parts: dict[str, str] = {}
    for kind in ("province", "city", "district", "street"):
        c = next((c for c in present if folded[c] in _FOLDED_PARTS[kind] and c not in parts.values()), None)
        if c:
            parts[kind] = c
    whole = next(
        (c for c in present if folded[c] in _FOLDED_HEADERS[entity]["address"] and c not in parts.values()), None
    )
    divisions = [parts[k] for k in ("province", "city", "district") if k in parts]
    if len(divisions) >= 2 or (divisions and "street" in parts):
        street = parts.get("street") or whole
        cols = divisions + ([street] if street else [])
        sep = " " if all(c.isascii() for c in cols) else ""
        text = sep.join(f"{{{c}}}" for c in cols)
        part.derived.setdefault(entity, []).append(
            Derive(
                "address",
                f"{{template: {quote(text)}}}",
                "the address is in columns of its own, " + ", ".join(repr(c) for c in cols),
                cols,
            )
        )
        consumed.update(cols)
        slots.take(entity, "address", cols[0])
    elif divisions and whole is None:
        col = divisions[0]
        part.guesses.setdefault(entity, [])
        _add(part, entity, Guess(col, "address", f"header {col!r}: only the place is given, a coarse address"))
        consumed.add(col)
        slots.take(entity, "address", col)
    elif divisions:
        part.notes.append(
            f"{', '.join(repr(c) for c in divisions)}: {whole!r} is taken as the whole address; "
            "check that it holds the place"
        )


VCARD = {
    "FN": (Entity.contacts, "name"),
    "ORG": (Entity.accounts, "name"),
    "ORG.unit": (Entity.contacts, "department"),
    "TITLE": (Entity.contacts, "title"),
    "TEL.cell": (Entity.contacts, "mobile"),
    "TEL.work": (Entity.contacts, "phone"),
    "EMAIL": (Entity.contacts, "email"),
    "ADR": (Entity.contacts, "address"),
    "NOTE": (Entity.contacts, "note"),
    "BDAY": (Entity.contacts, "birthday"),
    "URL": (Entity.accounts, "website"),
}


def _vcard(part: Part, present: list[str], samples: dict[str, list[str]]) -> None:
    """An address book: every property of the card is the person's, but the company (ORG) and its site."""
    part.guesses = {Entity.accounts: [], Entity.contacts: []}
    taken = set()
    for column in present:
        target = VCARD.get(column)
        why = f"vCard {column}"
        if column == "TEL":
            seen = by_values(samples[column])
            target = (Entity.contacts, "mobile" if seen and seen[0] == "mobile" else "phone")
            why += f" (no type); {'mostly mobiles' if target[1] == 'mobile' else 'not mobiles'}"
        elif column == "TEL.home" and (Entity.contacts, "phone") not in taken:
            target = (Entity.contacts, "phone")
        elif column in ("N.family", "N.given") and "FN" not in present:
            continue  # below
        if target is None or target in taken or (target[0] is Entity.accounts and "ORG" not in present):
            part.unmapped.append((column, samples[column][:3]))
            continue
        taken.add(target)
        part.guesses[target[0]].append(Guess(column, target[1], why))
    if "FN" not in present and {"N.family", "N.given"} <= set(present):
        part.derived[Entity.contacts] = [
            Derive(
                "name",
                '{template: "{N.family}{N.given}"}',
                "no FN: the name from N's family and given parts",
                ["N.family", "N.given"],
            )
        ]
    part.guesses = {e: g for e, g in part.guesses.items() if g or part.derived.get(e)}


# -- fill down ------------------------------------------------------------------------------------------


def _dittos(frame: pl.DataFrame, column: str) -> int:
    from crm_migrate.migrate.rows import is_ditto

    return frame.select(is_ditto(pl.col(column)).sum()).item()


def _fill_down(part: Part) -> None:
    """``fill_down`` where ditto marks, merged cells, or account blocks written once above their people
    are seen."""
    frame = part.frame
    account_guesses = part.guesses.get(Entity.accounts, [])
    blocks = _account_blocks(part) if account_guesses and len(part.guesses) > 1 else 0
    for entity, guesses in part.guesses.items():
        for g in guesses:
            dittos = sum(_dittos(frame, s) for s in g.spellings)
            merged = any(set(g.spellings) & cols for cols in part.merged.values())
            reasons = []
            if dittos:
                reasons.append(f"{dittos} cell(s) say 同上 / 〃 (same as above)")
            if merged:
                where = sorted(sheet for sheet, cols in part.merged.items() if set(g.spellings) & cols)
                reasons.append(
                    f"merged cells in sheet(s) {', '.join(where)} (Excel keeps the value in the top cell only)"
                )
            if blocks and entity is Entity.accounts and g.field != "id":
                reasons.append(
                    f"{blocks} row(s) with a person but no company, each below a row with one, and the "
                    "other company columns blank too: a company written once above its people"
                )
            if reasons:
                g.fill_down = "; ".join(reasons) + ": those cells take the value above"


def _account_blocks(part: Part) -> int:
    """Rows with a person but a blank company, directly below a row of the same sheet, where every other
    account column is blank too (a merged company block in a sheet saved as CSV)."""
    from crm_migrate.migrate.readers import ROW, SHEET

    frame = part.frame
    if ROW not in frame.columns:
        return 0
    name = part.guess(Entity.accounts, "name")
    person = next(
        iter(g for e, gs in part.guesses.items() if e is not Entity.accounts for g in gs if g.field == "name"), None
    )
    others = [g for g in part.guesses[Entity.accounts] if g is not name and g.field != "id"]
    if name is None or person is None or not others:
        return 0

    def filled(g: Guess) -> pl.Expr:
        return pl.any_horizontal([pl.col(s).str.strip_chars().fill_null("") != "" for s in g.spellings])

    sheet = pl.col(SHEET).fill_null("") if SHEET in frame.columns else pl.lit("")
    work = frame.with_columns(sheet.alias("_s")).select(
        "_s",
        pl.col(ROW).cast(pl.Int64),
        filled(name).alias("n"),
        filled(person).alias("p"),
        pl.any_horizontal([filled(g) for g in others]).alias("o"),
    )
    work = work.with_columns(
        ((pl.col("_s") == pl.col("_s").shift(1)) & (pl.col(ROW) - pl.col(ROW).shift(1) == 1))
        .fill_null(False)
        .alias("below")
    )
    blank = work.filter(pl.col("p") & ~pl.col("n"))
    if blank.height < 2 or blank.height < 0.03 * frame.height:
        return 0
    blocky = blank.filter(pl.col("below") & ~pl.col("o")).height
    return blocky if blocky >= 0.8 * blank.height else 0


# -- across sources: systems, account links by value, value maps --------------------------------------


def _values_of(part: Part, g: Guess) -> set[str]:
    out = set()
    for s in g.spellings:
        out |= {v.strip().upper() for v in part.frame[s].drop_nulls().to_list() if v.strip()}
    return out


def link_systems(parts: list[Part]) -> None:
    """Give the parts of one legacy system the same ``system``: by a shared file-name prefix, or by one
    part's account ids found in another's account column; map an unnamed account column found that way."""
    account_ids = {
        i: _values_of(p, g) for i, p in enumerate(parts) if (g := p.guess(Entity.accounts, "id")) is not None
    }
    parent = list(range(len(parts)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    why: dict[int, str] = {}
    for i, p in enumerate(parts):
        for entity in [e for e in p.guesses if e in CHILDREN]:
            ref = p.guess(entity, "account_id")
            if ref is None and Entity.accounts not in p.guesses:
                ref = _ref_by_values(p, entity, account_ids)
            if ref is None:
                continue
            values = _values_of(p, ref)
            if all(v.isdigit() and len(v) <= 3 for v in values):
                continue  # 1, 2, 3: row numbers as much as ids; they say nothing of a shared system
            best = max(
                ((len(values & ids) / max(len(values), 1), j) for j, ids in account_ids.items() if j != i),
                default=(0.0, -1),
            )
            if best[0] >= 0.5:
                parent[root(i)] = root(best[1])
                why[i] = f"{best[0]:.0%} of the account ids in {ref.column!r} are ids of {parts[best[1]].rel_file}"
                why.setdefault(best[1], f"its account ids are found in {p.rel_file}")
            else:
                p.notes.append(
                    f"{ref.column!r} names accounts by id, but no other source given has most of them: "
                    "set 'system:' to the system of the file holding those accounts"
                )
    with_ids = [i for i, p in enumerate(parts) if any(p.guess(e, "id") or p.guess(e, "account_id") for e in p.guesses)]
    prefixes: dict[str, list[int]] = {}
    for i in with_ids:
        stem = Path(parts[i].rel_file).stem
        m = re.match(r"^(.+?)[_\-\s.]", stem)
        if m and len(m.group(1)) >= 2:
            prefixes.setdefault(m.group(1), []).append(i)
    for prefix, members in prefixes.items():
        if len({parts[i].rel_file for i in members}) < 2:
            continue
        for i in members[1:]:
            parent[root(i)] = root(members[0])
        for i in members:
            why.setdefault(i, f"file names start with {prefix!r}, one system's exports")
    groups: dict[int, list[int]] = {}
    for i in range(len(parts)):
        groups.setdefault(root(i), []).append(i)
    for members in groups.values():
        if len({parts[i].rel_file for i in members}) < 2:
            continue
        stems = [Path(parts[i].rel_file).stem for i in members]
        prefix = _common_prefix(stems)
        first = {re.split(r"[_\-\s.]", s)[0] for s in stems}
        if len(first) == 1 and len(next(iter(first))) >= 2:
            prefix = next(iter(first))  # hubspot-crm-exports-all-contacts, ... -> hubspot
        name = (
            re.sub(r"[^\w]+", "_", prefix).strip("_").lower()
            if len(prefix) >= 2
            else next((parts[i].stem for i in members if i in account_ids), parts[members[0]].stem)
        )
        for i in members:
            parts[i].system = name
            parts[i].system_why = why.get(i, "shares ids with the other sources of this system")


def _common_prefix(stems: list[str]) -> str:
    """The file-name prefix the stems share, cut at a separator: 老CRM_客户导出, 老CRM_联系人导出 -> 老CRM."""
    prefix = stems[0]
    for s in stems[1:]:
        while not s.startswith(prefix):
            prefix = prefix[:-1]
    if all(len(s) > len(prefix) and re.match(r"[_\-\s.]", s[len(prefix)]) for s in stems):
        return prefix
    cut = [m.start() for m in re.finditer(r"[_\-\s.]", prefix)]
    return prefix[: cut[-1]] if cut else ""


def _ref_by_values(part: Part, entity: Entity, account_ids: dict[int, set[str]]) -> Guess | None:
    """An unmapped column whose values are mostly another source's account ids: the account link."""
    for column, _ in list(part.unmapped):
        values = {v.strip().upper() for v in part.frame[column].drop_nulls().to_list() if v.strip()}
        if not values:
            continue
        share = max((len(values & ids) / len(values) for ids in account_ids.values()), default=0)
        if share >= 0.8:
            g = Guess(column, "account_id", f"{share:.0%} of its values are account ids of another source")
            part.guesses[entity].append(g)
            part.unmapped = [u for u in part.unmapped if u[0] != column]
            return g
    return None


def value_maps(part: Part, picklists: dict[tuple[Entity, str], list[str]]) -> None:
    """A value map for each picklist column with few distinct values, onto the target's values."""
    for entity, guesses in part.guesses.items():
        for g in guesses:
            spec = CATALOGUE[entity].get(g.field)
            if g.type is not None or spec is None or spec.type is not FieldType.picklist:
                continue
            counts: Counter[str] = Counter()
            for s in g.spellings:
                counts.update(tidy(v) for v in _sample(part.frame, s, 100_000))
            counts.pop("", None)
            if not counts or len(counts) > PICKLIST_MAX:
                continue
            allowed = picklists.get((entity, g.field))
            g.values, unplaced = propose_values(counts, allowed)
            g.unknown = "keep"
            if allowed and unplaced:
                listed = ", ".join(f"{v} ({counts[v]})" for v in unplaced)
                g.values_note = (
                    f"not placed among the target's values ({', '.join(allowed)}): {listed}; kept as "
                    "they are, so the target may refuse them: add them to the map"
                )
            elif not allowed:
                g.values_note = "the target takes any value here: spellings of one value are written as one"
            else:
                g.values_note = "every value seen is one of the target's; a new one is kept as it is"
            if not g.values:  # nothing placed: no map (an empty one is refused), the values pass as they are
                g.why += f"; {g.values_note}"
                g.values, g.unknown, g.values_note = None, None, None


def _core(key: str) -> str:
    """A picklist value without the words that only say it is a grade: B级, B类, B类客户 -> b."""
    return re.sub(r"(?:类|级|等|档|型|客户|类客户|级客户|customer|class|grade|tier)+$", "", key) or key


def propose_values(counts: Counter, allowed: list[str] | None) -> tuple[dict[str, str], list[str]]:
    """(value map, values it cannot place) for the values seen (with their counts)."""
    if not allowed:
        canonical: dict[str, str] = {}
        for v, _ in counts.most_common():
            canonical.setdefault(text_key(v).replace(" ", ""), v)
        return {v: canonical[text_key(v).replace(" ", "")] for v in counts}, []
    from rapidfuzz import fuzz, process

    keys = {fold(a): a for a in allowed}
    out, unplaced = {}, []
    for v in counts:
        k = fold(v)
        hit = keys.get(k)
        if hit is None and k in _CONCEPT_OF:
            same = [(_CONCEPT_RANK[ak], a) for ak, a in keys.items() if _CONCEPT_OF.get(ak) == _CONCEPT_OF[k]]
            hit = min(same)[1] if same else None  # the group's first name the target has
        if hit is None and k:
            cores = [a for ak, a in keys.items() if _core(ak) == _core(k)]  # B级 -> B类, 重点 -> 重点客户
            hit = cores[0] if len(cores) == 1 else None
        if hit is None and k:
            inside = [a for ak, a in keys.items() if ak.startswith(k) or k.startswith(ak)]  # A -> A类
            hit = inside[0] if len(inside) == 1 else None
        if hit is None and k:
            best = process.extractOne(k, list(keys), scorer=fuzz.ratio, score_cutoff=80)
            hit = keys[best[0]] if best else None
        if hit is None:
            unplaced.append(v)
        else:
            out[v] = hit
    return out, unplaced


# -- writing ----------------------------------------------------------------------------------------------


def mapping_yaml(
    rel_file: str, guesses: dict[Entity, list[Guess]], unmapped: list[tuple[str, list[str]]], part: Part | None = None
) -> str:
    lines = [
        f"# Suggested by `crm-migrate init` from the headers and values of {rel_file}: review every line.",
        f"file: {quote(rel_file)}",
    ]
    if part is not None and part.system:
        lines.append(f"system: {quote(part.system)}  # {part.system_why}")
    if part is not None and part.sheets:
        lines.append(f"read: {{sheets: [{', '.join(quote(s) for s in part.sheets)}]}}")
    lines.append("entities:")
    for entity, items in guesses.items():
        lines += [f"  {entity.value}:", "    columns:"]
        for g in items:
            plain = g.type is None and not g.fill_down and g.values is None
            if plain:
                lines.append(f"      {quote(g.column)}: {g.field}  # {g.why}")
                continue
            lines.append(f"      {quote(g.column)}:  # {g.why}")
            lines.append(f"        field: {g.field}")
            if g.type:
                lines.append(f"        type: {g.type}")
            if g.fill_down:
                lines.append(f"        fill_down: true  # {g.fill_down}")
            if g.values is not None:
                lines.append("        values:")
                lines += [f"          {quote(k)}: {quote(v)}" for k, v in g.values.items()]
                lines.append(f"        unknown: {g.unknown}" + (f"  # {g.values_note}" if g.values_note else ""))
        derived = part.derived.get(entity, []) if part is not None else []
        if derived:
            lines.append("    derive:")
            lines += [f"      {d.field}: {d.text}  # {d.why}" for d in derived]
    if part is not None:
        lines += [f"# {n}" for n in part.notes]
    blank = [col for col, examples in unmapped if not examples]
    unmapped = [(col, examples) for col, examples in unmapped if examples]
    if unmapped:
        lines.append("# Not mapped (no header or value pattern says what they are):")
        lines += [f"#   {col}: e.g. {', '.join(examples)}" for col, examples in unmapped]
    if blank:
        lines.append(f"# Empty in every row, not mapped: {', '.join(blank)}")
    return "\n".join(lines) + "\n"


def _merged_headers(path: Path, header_rows: dict[str, int]) -> dict[str, set[str]]:
    """Per sheet, the headers of columns with cells merged down (openpyxl reads the merge ranges)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=False, data_only=True)
    except Exception:  # merged cells are a hint; the file is read by calamine all the same
        return {}
    out: dict[str, set[str]] = {}
    for ws in book.worksheets:
        h = header_rows.get(ws.title)
        if h is None:
            continue
        for rng in ws.merged_cells.ranges:
            if rng.max_row > rng.min_row and rng.min_row > h:
                for col in range(rng.min_col, rng.max_col + 1):
                    head = ws.cell(h, col).value
                    if head is not None and str(head).strip():
                        out.setdefault(ws.title, set()).add(str(head).strip())
    return out


def parts_of(table, rel_file: str, stem: str, path: Path | None = None) -> list[Part]:
    """A source's mapping parts: one for a file, one per group of sheets that hold the same entities."""
    from crm_migrate.migrate.readers import SHEET
    from crm_migrate.migrate.rows import non_records

    frame = table.frame if hasattr(table, "frame") else table
    fmt = getattr(table, "format", "csv")
    if hasattr(table, "frame"):
        with contextlib.suppress(Exception):  # a table the row rules cannot judge is used as read
            frame = frame.filter(non_records(table).is_null())
    sheet_headers = dict(getattr(table, "headers", None) or {})
    if not sheet_headers:
        sheet_headers = {"": [c for c in frame.columns if not c.startswith("_")]}
    merged = _merged_headers(path, getattr(table, "header_rows", {})) if path else {}
    if len(sheet_headers) <= 1 or SHEET not in frame.columns:
        return [Part(stem, rel_file, frame, sheet_headers, fmt, merged=merged)]
    groups: dict[tuple, list[str]] = {}
    for sheet, cols in sheet_headers.items():
        sub = frame.filter(pl.col(SHEET) == sheet)
        filled = {fold(c) for c in cols if sub.height and sub[c].drop_nulls().len()}
        groups.setdefault(tuple(_entities_of(filled)), []).append(sheet)
    if len(groups) == 1:
        return [Part(stem, rel_file, frame, sheet_headers, fmt, merged=merged)]
    out = []
    ordered = sorted(groups.values(), key=lambda sheets: -frame.filter(pl.col(SHEET).is_in(sheets)).height)
    for n, sheets in enumerate(ordered):
        cols = list(dict.fromkeys(c for s in sheets for c in sheet_headers[s]))
        sub = frame.filter(pl.col(SHEET).is_in(sheets)).select([c for c in frame.columns if c.startswith("_")] + cols)
        name = stem if n == 0 else stem + "_" + re.sub(r"[^\w]+", "_", sheets[0]).strip("_").lower()
        out.append(
            Part(
                name,
                rel_file,
                sub,
                {s: sheet_headers[s] for s in sheets},
                fmt,
                sheets,
                {s: merged[s] for s in sheets if s in merged},
            )
        )
    return out


def load_profile(target: str, root: Path):
    """The target profile ``target`` names (built in, or a file of the project)."""
    from crm_migrate.mappings.targets import load_target

    return load_target(target, root, "--target", None)[0]


def init_project(folder: Path, sources: list[Path], target: str = "generic", *, read=None) -> list[Path]:
    """Write migration.yaml and one mapping per source (or per group of a workbook's sheets) into ``folder``,
    copying each source into data/ (the originals are never touched); ``read(path)`` gives a source's table
    (default: the readers' `read_path`). ``target``: a built-in profile's name or a profile file, copied
    into targets/. Returns the files written. A folder that holds a project already, or a source that is
    not there, stops it before anything is written; when a source cannot be read (a damaged or oversized
    workbook), a folder this call created is removed again, so that "nothing was written" holds."""
    if (folder / "migration.yaml").exists():
        raise MigrateError(
            Problem(
                str(folder / "migration.yaml"),
                "a project already exists here",
                hint="choose a new folder; init never overwrites a project",
            )
        )
    missing = [s for s in sources if not s.is_file()]
    if missing:
        raise MigrateError(
            [
                Problem(str(s), "source file not found", hint="give the path of a CSV, XLSX or vCard file")
                for s in missing
            ]
        )
    if read is None:
        from crm_migrate.migrate.readers import read_path as read
    created = not folder.exists()
    try:
        return _init_project(folder, sources, read, target)
    except Exception:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _init_project(folder: Path, sources: list[Path], read, target: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mappings").mkdir(exist_ok=True)
    target_setting = target
    if target.endswith((".yaml", ".yml")):
        copied = folder / "targets" / Path(target).name
        copied.parent.mkdir(exist_ok=True)
        if Path(target).resolve() != copied.resolve():
            shutil.copy2(target, copied)
        target_setting = f"targets/{copied.name}"
    profile = load_profile(target_setting, folder)
    picklists = {
        (e, c.value): list(c.picklist)
        for e, ep in profile.entities.items()
        for c in ep.columns
        if c.picklist and c.value
    }
    parts: list[Part] = []
    names: list[str] = []
    for source in sources:
        copy = folder / "data" / source.name
        if source.resolve() != copy.resolve():
            copy.parent.mkdir(exist_ok=True)
            shutil.copy2(source, copy)
        table = read(copy)
        stem = re.sub(r"[^\w]+", "_", source.stem).strip("_").lower() or "source"
        for part in parts_of(table, f"data/{source.name}", stem, copy):
            while part.stem in names:
                part.stem += "_2"
            names.append(part.stem)
            suggest_part(part)
            parts.append(part)
    link_systems(parts)
    written, skipped = [], []
    for part in parts:
        value_maps(part, picklists)
        _drop_incomplete(part)
        if not part.guesses:
            skipped.append(
                f"# {part.rel_file}{' ' + ', '.join(part.sheets) if part.sheets else ''}: nothing mapped "
                f"({' '.join(part.notes) or 'no column says what it is'})"
            )
            continue
        path = folder / "mappings" / f"{part.stem}.yaml"
        path.write_text(mapping_yaml(part.rel_file, part.guesses, part.unmapped, part), encoding="utf-8")
        written.append(path)
    parts = [p for p in parts if p.guesses]
    mapped = [e for e in Entity if any(e in p.guesses for p in parts)] or list(Entity)
    scope = [e for e in mapped if e in profile.entities]
    left_out = [e.value for e in mapped if e not in scope]
    config = folder / "migration.yaml"
    config.write_text(
        "# Written by `crm-migrate init`. Sources are listed in priority order: when merged records\n"
        "# disagree, the first source's value wins.\n"
        f"name: {quote(folder.resolve().name)}\ntarget: {quote(target_setting)}\n"
        f"entities: [{', '.join(e.value for e in scope)}]"
        + (f"  # the target has no import template for {', '.join(left_out)}" if left_out else "")
        + "\nsources:\n"
        + "".join(f"  - {p.stem}\n" for p in parts)
        + "".join(f"{line}\n" for line in skipped),
        encoding="utf-8",
    )
    return [config, *written]


def _drop_incomplete(part: Part) -> None:
    """An entity without a field it needs (a company's name, a deal's account) is left out, with a note,
    rather than written into a mapping that cannot be loaded."""
    for entity in list(part.guesses):
        mapped = {g.field for g in part.guesses[entity]} | {d.field for d in part.derived.get(entity, [])}
        missing = [
            spec.name
            for spec in CATALOGUE[entity].values()
            if spec.required
            and spec.name not in mapped
            and not (spec.name == "account_id" and Entity.accounts in part.guesses)
        ]
        if missing:
            cols = ", ".join(g.column for g in part.guesses.pop(entity))
            part.derived.pop(entity, None)
            why = (
                "no column names their account, by id or by name; map the account's legacy id to account_id"
                if missing == ["account_id"]
                else f"no column gives their {', '.join(missing)}"
            )
            part.notes.append(f"{entity.value} ({cols}) not mapped: {why}")
