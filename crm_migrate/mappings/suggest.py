"""``crm-migrate init``: a starter project whose mappings already say what the headers and values say.

A header is matched, after folding case, spaces and punctuation, against the names Chinese and English
exports give a field (客户名称 / 公司名称 / Company / Account Name -> account name; 手机 / 联系电话 /
Mobile -> mobile; ...). A column whose header says nothing is judged by its values: mostly 11-digit
numbers starting with 1 are mobiles, 18 characters with a valid check character are ID numbers or credit
codes, and so on. Every guess is written with a comment saying what it rests on, so the team reviews the
mapping instead of writing it; columns left unmapped are listed with example values.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_migrate.cleaners.codes import id_check_digit, uscc_check_char
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.yamlfile import quote

ACCOUNT_NAME = ("客户名称", "公司名称", "公司", "单位名称", "企业名称", "客户", "单位", "company", "companyname",
                "accountname", "account", "organization", "organisation", "customer", "customername", "org")
PERSON_NAME = ("联系人", "姓名", "联系人姓名", "客户姓名", "name", "contact", "contactname", "fullname", "fn")
OPPORTUNITY_NAME = ("商机名称", "商机", "机会名称", "opportunity", "opportunityname", "dealname")
ACTIVITY_CONTENT = ("跟进内容", "跟进记录", "拜访记录", "内容", "content", "activity")

# Header -> field, per entity; the first entity a file holds that knows the header takes it.
HEADERS: dict[Entity, dict[str, tuple[str, ...]]] = {
    Entity.accounts: {
        "name": ACCOUNT_NAME, "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "税号", "uscc", "creditcode"),
        "id": ("客户编号", "客户id", "客户代码", "accountid", "accountnumber", "customerid"),
        "phone": ("电话", "公司电话", "座机", "总机", "phone", "tel", "telephone"),
        "email": ("邮箱", "电子邮件", "email", "mail"), "website": ("网址", "网站", "官网", "website", "url"),
        "address": ("地址", "公司地址", "详细地址", "注册地址", "address"), "industry": ("行业", "所属行业", "industry"),
        "level": ("客户级别", "级别", "等级", "客户等级", "level", "rating"), "status": ("状态", "客户状态", "status"),
        "owner": ("负责人", "销售", "销售负责人", "客户经理", "owner", "salesrep"),
        "created_at": ("创建时间", "创建日期", "createdat", "createddate"),
        "last_activity_at": ("最近跟进时间", "最后跟进时间", "最近跟进", "lastactivity", "lastactivitydate"),
        "note": ("备注", "说明", "note", "notes", "remark", "description"),
    },
    Entity.contacts: {
        "name": PERSON_NAME, "id": ("联系人编号", "联系人id", "contactid"),
        "account_id": ("客户编号", "客户id", "accountid", "customerid"),
        "mobile": ("手机", "手机号", "手机号码", "联系电话", "移动电话", "mobile", "mobilephone", "cell", "cellphone",
                   "tel.cell"),
        "phone": ("电话", "办公电话", "座机", "phone", "tel", "officephone"),
        "email": ("邮箱", "电子邮件", "email", "mail"), "title": ("职务", "职位", "title", "jobtitle", "position"),
        "department": ("部门", "department"), "id_card": ("身份证", "身份证号", "身份证号码", "idcard", "idnumber"),
        "birthday": ("生日", "出生日期", "birthday", "birthdate", "bday"), "gender": ("性别", "gender", "sex"),
        "wechat": ("微信", "微信号", "wechat"), "address": ("地址", "联系地址", "address", "adr"),
        "owner": ("负责人", "owner"), "note": ("备注", "说明", "note", "notes", "remark"),
    },
    Entity.opportunities: {
        "name": OPPORTUNITY_NAME, "id": ("商机编号", "opportunityid", "dealid"),
        "account_id": ("客户编号", "客户id", "accountid"), "amount": ("金额", "商机金额", "预计金额", "amount"),
        "stage": ("阶段", "销售阶段", "商机阶段", "stage"), "close_date": ("预计成交日期", "成交日期", "closedate"),
        "owner": ("负责人", "owner"), "created_at": ("创建时间", "createdat"), "note": ("备注", "note"),
    },
    Entity.activities: {
        "content": ACTIVITY_CONTENT, "id": ("记录编号", "跟进编号", "activityid"),
        "account_id": ("客户编号", "客户id", "accountid"), "type": ("跟进方式", "跟进类型", "方式", "type"),
        "occurred_at": ("跟进时间", "跟进日期", "拜访时间", "日期", "date", "occurredat"),
        "subject": ("主题", "subject"), "owner": ("负责人", "跟进人", "owner"),
    },
}
PERSONAL = ("email", "mobile", "title", "id_card", "birthday", "gender", "wechat")
MARKERS = {Entity.accounts: ACCOUNT_NAME, Entity.contacts: PERSON_NAME, Entity.opportunities: OPPORTUNITY_NAME,
           Entity.activities: ACTIVITY_CONTENT}

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")
_ID18 = re.compile(r"^\d{17}[\dXx]$")
_USCC = re.compile(r"^[0-9A-HJ-NP-RTUWY]{2}\d{6}[0-9A-HJ-NP-RTUWY]{10}$")


def fold(header: str) -> str:
    text = re.sub(r"[（(][^)）]*[)）]", "", header)  # (必填), (optional)
    return re.sub(r"[\s_\-:：*./]", "", text).lower()


_FOLDED_HEADERS = {e: {name: {fold(s) for s in synonyms} for name, synonyms in fields.items()}
                   for e, fields in HEADERS.items()}
_FOLDED_MARKERS = {e: {fold(m) for m in markers} for e, markers in MARKERS.items()}
_FOLDED_PERSONAL = set().union(*(_FOLDED_HEADERS[Entity.contacts][f] for f in PERSONAL))


@dataclass
class Guess:
    column: str
    field: str
    why: str
    type: str | None = None  # for a custom field


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


def suggest(table: pl.DataFrame) -> tuple[dict[Entity, list[Guess]], list[tuple[str, list[str]]]]:
    """Per entity the columns mapped to its fields, and the columns left unmapped with example values."""
    headers = [c for c in table.columns if not c.startswith("_")]
    folded = {c: fold(c) for c in headers}
    entities = [e for e in Entity if _FOLDED_MARKERS[e] & set(folded.values())]
    if not entities:
        entities = [Entity.contacts if any(by_values(_sample(table, c)) == ("mobile", 1.0) for c in headers)
                    else Entity.accounts]
    out: dict[Entity, list[Guess]] = {e: [] for e in entities}
    taken: dict[Entity, set[str]] = {e: set() for e in entities}
    unmapped = []
    for column in headers:
        sample = _sample(table, column)
        seen = by_values(sample)
        found = _by_header(folded[column], entities, taken)
        if found is not None:
            entity, name = found
            why = f"header {column!r} says {name}"
            if seen:
                why += f"; {seen[1]:.0%} of {len(sample)} sampled values look like {seen[0]}"
        elif seen is not None:
            entity, name = _field_for_values(seen[0], entities, taken)
            why = f"{seen[1]:.0%} of {len(sample)} sampled values look like {seen[0]}; the header says nothing, check it"
        if found is None and (seen is None or name is None):
            unmapped.append((column, sample[:3]))
            continue
        taken[entity].add(name)
        out[entity].append(Guess(column, name, why))
    return {e: g for e, g in out.items() if g}, unmapped


def _by_header(folded: str, entities: list[Entity], taken: dict[Entity, set[str]]) -> tuple[Entity, str] | None:
    """The entity and field a header names, among those not taken yet."""
    # A person's own details (email, mobile, ...) belong to the contact when a row holds both.
    order = sorted(entities, key=lambda e: e is not Entity.contacts) if folded in _FOLDED_PERSONAL else entities
    for entity in order:
        for name, synonyms in _FOLDED_HEADERS[entity].items():
            if folded not in synonyms or name in taken[entity]:
                continue
            if name == "account_id" and Entity.accounts in entities:
                continue  # the account is on the same row
            if name == "id" and entity is not entities[0]:
                continue
            return entity, name
    return None


def _field_for_values(kind: str, entities: list[Entity], taken: dict[Entity, set[str]]) -> tuple[Entity, str | None]:
    wanted = {"mobile": [(Entity.contacts, "mobile"), (Entity.accounts, "phone")],
              "email": [(Entity.contacts, "email"), (Entity.accounts, "email")],
              "id_card": [(Entity.contacts, "id_card")], "uscc": [(Entity.accounts, "uscc")],
              "date": [(Entity.accounts, "created_at"), (Entity.contacts, "birthday")]}[kind]
    for entity, name in wanted:
        if entity in entities and name not in taken[entity]:
            return entity, name
    return entities[0], None


def _sample(table: pl.DataFrame, column: str, n: int = 200) -> list[str]:
    return [v.strip() for v in table[column].drop_nulls().head(n * 5).to_list() if v and v.strip()][:n]


def mapping_yaml(rel_file: str, guesses: dict[Entity, list[Guess]], unmapped: list[tuple[str, list[str]]]) -> str:
    lines = [f"# Suggested by `crm-migrate init` from the headers and values of {rel_file}: review every line.",
             f"file: {quote(rel_file)}", "entities:"]
    for entity, items in guesses.items():
        lines += [f"  {entity.value}:", "    columns:"]
        for g in items:
            lines.append(f"      {quote(g.column)}: {g.field}  # {g.why}")
    if unmapped:
        lines.append("# Not mapped (no header or value pattern says what they are):")
        lines += [f"#   {col}: e.g. {', '.join(examples) or '(empty)'}" for col, examples in unmapped]
    return "\n".join(lines) + "\n"


def init_project(folder: Path, sources: list[Path], read) -> list[Path]:
    """Write migration.yaml and one mapping per source into ``folder``, copying each source into data/
    (the originals are never touched); ``read(path)`` gives a source's table. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mappings").mkdir(exist_ok=True)
    written, names = [], []
    for source in sources:
        target = folder / "data" / source.name
        if source.resolve() != target.resolve():
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(source, target)
        table = read(target)
        guesses, unmapped = suggest(table)
        stem = re.sub(r"[^\w]+", "_", source.stem).strip("_").lower() or "source"
        while stem in names:
            stem += "_2"
        names.append(stem)
        path = folder / "mappings" / f"{stem}.yaml"
        path.write_text(mapping_yaml(f"data/{source.name}", guesses, unmapped), encoding="utf-8")
        written.append(path)
    config = folder / "migration.yaml"
    config.write_text("# Written by `crm-migrate init`. Sources are listed in priority order: when merged records\n"
                      "# disagree, the first source's value wins.\n"
                      f"name: {quote(folder.resolve().name)}\ntarget: generic\nsources:\n"
                      + "".join(f"  - {n}\n" for n in names), encoding="utf-8")
    return [config, *written]
