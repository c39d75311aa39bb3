"""Loading the sample into a database built from the target profile, inside a transaction rolled back.

One table per entity, in load order, with the template's columns and its rules (mappings/rules.py, the
statement conform and the expectation suite translate too) as constraints: NOT NULL for a required column,
UNIQUE on the external id, a CHECK for a maximum length, a picklist, the shape of a date format and of a plain
decimal, and the characters a file's encoding holds (where it does not hold all), and a FOREIGN KEY from a
child's link column to its parent's external id (a CHECK that it is empty where no parent was written). Where
the target links parents by name, the link is checked by a query instead (one parent of that name, not none,
not two), since a name is not a key. Patterns are checked with PostgreSQL's ``~`` or, in SQLite, with a REGEXP
function the connection provides (Python's ``re``). Each row is inserted under a savepoint, so one refusal
does not hide the next; at the end everything is rolled back and the database holds nothing. By default the
database is an embedded SQLite; with ``--database postgresql://...`` the same load runs against PostgreSQL, in
a schema of its own that the rollback removes as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.rules import (
    DateFormat,
    Encodable,
    MaxLength,
    MissingTranslation,
    NumberFormat,
    Parent,
    Picklist,
    Required,
    Rule,
    Unique,
    Untranslated,
    python_pattern,
    rules_for,
)
from crm_migrate.mappings.targets import TargetProfile
from crm_migrate.steps import step
from crm_migrate.validators.findings import Finding
from crm_migrate.validators.readback import WrittenFile

SCHEMA_NAME = "crm_migrate_dry_run"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class Constraint:
    """A rule as SQL: on the column's definition (NOT NULL, CHECK) or on the table (UNIQUE, FOREIGN KEY)."""

    sql: str
    on_column: bool = True


def ddl(
    profile: TargetProfile, written: dict[Entity, list[str]], dialect: Dialect = "sqlite"
) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """CREATE TABLE statements for the entities written, with the headers each was written with, and what
    each named constraint checks: name -> (header, rule). Names are short (``accounts_c3``), since
    PostgreSQL keeps 63 bytes of a name and a Chinese header takes three per character."""
    statements: list[str] = []
    names: dict[str, tuple[str, str]] = {}

    def named(entity: Entity, rule: Rule) -> str:
        name = f"{entity.value}_c{len(names) + 1}"
        names[name] = (rule.column, rule.name)
        return f"CONSTRAINT {quote(name)}"

    for entity, headers in written.items():
        specs = profile.columns_by_header(entity)
        done = [
            (rule, constraint(rule, profile, written, dialect))
            for h in headers
            if h in specs
            for rule in rules_for(specs[h], profile.file.encoding)
        ]
        parts = [
            f"{quote(h)} TEXT"
            + "".join(
                f" {named(entity, r)} {c.sql}"
                for r, c in done
                if r.column == h and isinstance(c, Constraint) and c.on_column
            )
            for h in headers
        ]
        parts += [f"{named(entity, r)} {c.sql}" for r, c in done if isinstance(c, Constraint) and not c.on_column]
        statements.append(f"CREATE TABLE {quote(entity.value)} (\n  " + ",\n  ".join(parts) + "\n)")
    return statements, names


def constraint(
    rule: Rule, profile: TargetProfile, written: dict[Entity, list[str]], dialect: Dialect = "sqlite"
) -> Constraint | Untranslated:
    """The database's translation of a rule of a table among ``written`` (entity -> headers), or why it is
    checked otherwise."""
    column = quote(rule.column)
    match rule:
        case Required():
            return Constraint("NOT NULL")
        case Unique():
            return Constraint(f"UNIQUE ({column})", on_column=False)
        case MaxLength(limit=limit):
            return Constraint(f"CHECK (length({column}) <= {limit})")
        case Picklist(values=values):
            return Constraint(f"CHECK ({column} IN ({', '.join(_literal(v) for v in values)}))")
        case DateFormat() | NumberFormat() | Encodable():
            return Constraint(f"CHECK ({_matches(column, rule.pattern, dialect)})")
        case Parent():
            if rule.parent not in written:  # no parent written: no link can stand, as conform refuses them
                return Constraint(f"CHECK ({column} IS NULL)")
            if rule.key != "external_id":
                return Untranslated(
                    rule,
                    f"a {rule.key} is no key: the load counts the {rule.parent.value} "
                    "of that name for each row instead",
                )
            key = next(
                (
                    c.header
                    for c in profile.entities[rule.parent].columns
                    if c.value == "external_id" and c.header in written[rule.parent]
                ),
                None,
            )
            if key is None:
                return Untranslated(rule, f"the {rule.parent.value} written have no external id column")
            return Constraint(
                f"FOREIGN KEY ({column}) REFERENCES {quote(rule.parent.value)} ({quote(key)})", on_column=False
            )
    raise MissingTranslation("database", rule)


def _matches(column: str, pattern: str, dialect: Dialect) -> str:
    if dialect == "postgresql":
        return f"{column} ~ {_literal(pattern)}"
    return f"{column} REGEXP {_literal(python_pattern(pattern))}"


def _regexp(pattern: str, value: str | None) -> bool | None:
    """SQLite's REGEXP (``value REGEXP pattern``), which it leaves to the application to define."""
    return None if value is None else re.search(pattern, value) is not None


class _Database:
    """SQLite in memory, or PostgreSQL at a URL; one transaction, savepoints per row."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.conn: Any  # sqlite3's or psycopg's connection
        if url is None:
            import sqlite3

            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            self.conn.create_function("regexp", 2, _regexp, deterministic=True)
            self.dialect: Dialect = "sqlite"
            self.errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
            self.mark = "?"
            self.execute("PRAGMA foreign_keys = ON")
            self.execute("BEGIN")
        else:
            try:
                import psycopg
            except ImportError:
                raise MigrateError(
                    Problem(url, "PostgreSQL needs the psycopg driver", hint='pip install "crm-migrate[postgres]"')
                ) from None
            try:
                self.conn = psycopg.connect(url, autocommit=False)
            except psycopg.Error as exc:
                raise MigrateError(
                    Problem(
                        _redact(url),
                        f"cannot connect: {str(exc).strip()}",
                        hint="check the URL, the server and the password",
                    )
                ) from None
            self.errors = (psycopg.errors.IntegrityError,)
            self.mark = "%s"
            self.dialect = "postgresql"
            self.execute(f"CREATE SCHEMA {quote(SCHEMA_NAME)}")
            self.execute(f"SET LOCAL search_path TO {quote(SCHEMA_NAME)}")

    def execute(self, sql: str, params: tuple = ()) -> Any:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        return cursor

    def close(self) -> None:
        try:
            if self.url is None:
                self.execute("ROLLBACK")
            else:
                self.conn.rollback()
        finally:
            self.conn.close()


def connect(url: str | None) -> _Database:
    """An open transaction on the database (SQLite in memory when ``url`` is None); close() rolls it back."""
    return _Database(url)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def load(
    profile: TargetProfile, files: list[WrittenFile], url: str | None = None, schema_file: Path | None = None
) -> list[Finding]:
    """Insert every row read back from the files, in load order; return what the database refused."""
    written: dict[Entity, list[str]] = {}
    for f in files:
        written.setdefault(f.entity, list(f.intended.columns))
    statements, names = ddl(profile, written, "postgresql" if url else "sqlite")
    if schema_file is not None:
        schema_file.parent.mkdir(parents=True, exist_ok=True)
        schema_file.write_text(";\n\n".join(statements) + ";\n", encoding="utf-8")
    kind = "PostgreSQL" if url else "SQLite"
    findings: list[Finding] = []
    db = connect(url)
    try:
        with step(f"Creating the target's tables in {kind}", unit="statements") as creating:
            for statement in statements:
                db.execute(statement)
            creating.finish(len(statements))
        for f in files:
            if f.read is None:
                continue
            with step(f"Loading {f.path} into {kind}") as loading:
                findings += _insert(db, profile, f, names, set(written))
                loading.finish(f.read.height)
    finally:
        db.close()
    return findings


def _insert(
    db: _Database, profile: TargetProfile, f: WrittenFile, names: dict[str, tuple[str, str]], tables: set[Entity]
) -> list[Finding]:
    if f.read is None:  # not read back: the caller skips it
        return []
    headers = f.read.columns
    specs = profile.columns_by_header(f.entity)
    rules = {(r.column, r.name): r for h in headers if h in specs for r in rules_for(specs[h], profile.file.encoding)}
    links = [r.column for r in rules.values() if isinstance(r, Parent) and r.key == "external_id"]
    by_name = []  # links by name: (position, rule, parent's key header)
    for rule in rules.values():
        if isinstance(rule, Parent) and rule.key != "external_id" and rule.parent in tables:
            key = profile.parent_key_header(
                specs[rule.column], [c.header for c in profile.entities[rule.parent].columns]
            )
            if key:
                by_name.append((headers.index(rule.column), rule, key))
    insert = (
        f"INSERT INTO {quote(f.entity.value)} ({', '.join(quote(h) for h in headers)}) "
        f"VALUES ({', '.join([db.mark] * len(headers))})"
    )
    found = []
    for line, row in enumerate(f.read.iter_rows(), start=2):
        for i, rule, key in by_name:  # a link by name: exactly one parent of that name
            if row[i] is None:
                continue
            parent = rule.parent.value
            n = db.execute(
                f"SELECT count(*) FROM {quote(parent)} WHERE {quote(key)} = {db.mark}", (row[i],)
            ).fetchone()[0]
            if n != 1:
                found.append(
                    Finding(
                        "database",
                        "error",
                        f.entity.value,
                        f.path,
                        line,
                        rule.column,
                        row[i],
                        "parent",
                        f"{n} {parent} called {row[i]!r} in the database",
                        "a link by name needs exactly one parent of that name",
                    )
                )
        db.execute("SAVEPOINT row")
        try:
            db.execute(insert, tuple(row))
        except db.errors as exc:
            db.execute("ROLLBACK TO SAVEPOINT row")
            header, name = _constraint(exc, names, links)
            value = row[headers.index(header)] if header is not None and header in headers else None
            broken = rules.get((header, name)) if header is not None else None
            said = f" ({header}: {broken.message})" if broken else ""
            found.append(
                Finding(
                    "database",
                    "error",
                    f.entity.value,
                    f.path,
                    line,
                    header,
                    value,
                    name,
                    f"the database refused the row{said}: {str(exc).strip().splitlines()[0]}",
                    broken.hint if broken else "compare the row with the target profile",
                )
            )
        db.execute("RELEASE SAVEPOINT row")
    return found


def _constraint(exc: Exception, names: dict[str, tuple[str, str]], links: list[str]) -> tuple[str | None, str]:
    """The column and rule a database error names: the constraint's name (PostgreSQL's diagnostics, SQLite's
    message for a CHECK), else the column in SQLite's message; a foreign key SQLite does not name is the
    link column (``links``: the table's links by external id)."""
    diag = getattr(exc, "diag", None)
    name = getattr(diag, "constraint_name", None) if diag else None
    column = getattr(diag, "column_name", None) if diag else None
    text = str(exc)
    if name is None:
        m = re.search(r"CHECK constraint failed: (\S+)", text)
        name = m.group(1) if m else None
    if name in names:
        return names[name]
    if "NOT NULL" in text.upper() or (column and "null" in text.lower()):
        m = re.search(r"NOT NULL constraint failed: [^.]+\.(.+)$", text, re.M)
        return (column or (m.group(1).strip() if m else None)), "required"
    if "UNIQUE" in text.upper():
        m = re.search(r"UNIQUE constraint failed: [^.]+\.(.+)$", text, re.M)
        return (m.group(1).strip() if m else None), "unique"
    if "FOREIGN KEY" in text.upper():
        return (links[0] if len(links) == 1 else None), "parent"
    return None, "database"
