"""Loading the sample into a database built from the target profile, inside a transaction rolled back.

One table per entity, in load order, with the template's columns and its rules as constraints: NOT NULL
for a required column, a CHECK for a maximum length and for a picklist, UNIQUE on the external id, and a
FOREIGN KEY from a child's link column to its parent's external id. Where the target links parents by name,
the link is checked by a query instead (one parent of that name, not none, not two), since a name is not a
key. Each row is inserted under a savepoint, so one refusal does not hide the next; at the end everything
is rolled back and the database holds nothing. By default the database is an embedded SQLite; with
``--database postgresql://...`` the same load runs against PostgreSQL, in a schema of its own that the
rollback removes as well.
"""

from __future__ import annotations

import re
from pathlib import Path

from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import ColumnSpec, TargetProfile
from crm_migrate.steps import step
from crm_migrate.validators.findings import Finding
from crm_migrate.validators.readback import WrittenFile

SCHEMA_NAME = "crm_migrate_dry_run"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ddl(profile: TargetProfile, written: dict[Entity, list[str]]) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """CREATE TABLE statements for the entities written, with the headers each was written with, and what
    each named constraint checks: name -> (header, rule). Names are short (``accounts_c3``), since
    PostgreSQL keeps 63 bytes of a name and a Chinese header takes three per character."""
    statements, names = [], {}

    def named(entity: Entity, header: str, rule: str) -> str:
        name = f"{entity.value}_c{len(names) + 1}"
        names[name] = (header, rule)
        return f"CONSTRAINT {quote(name)}"

    for entity, headers in written.items():
        specs = profile.columns_by_header(entity)
        parts = []
        for header in headers:
            spec = specs.get(header)
            column = f"{quote(header)} TEXT"
            if spec and spec.required:
                column += f" {named(entity, header, 'required')} NOT NULL"
            if spec and spec.max_length:
                column += (f" {named(entity, header, 'max_length')} "
                           f"CHECK (length({quote(header)}) <= {spec.max_length})")
            if spec and spec.picklist:
                values = ", ".join(_literal(v) for v in spec.picklist)
                column += f" {named(entity, header, 'picklist')} CHECK ({quote(header)} IN ({values}))"
            parts.append(column)
        for header in headers:
            spec = specs.get(header)
            if spec and spec.value == "external_id":
                parts.append(f"{named(entity, header, 'unique')} UNIQUE ({quote(header)})")
            key = _parent_key_column(profile, spec, written) if spec else None
            if key:
                parts.append(f"{named(entity, header, 'parent')} FOREIGN KEY ({quote(header)}) "
                             f"REFERENCES {quote(spec.parent.value)} ({quote(key)})")
        statements.append(f"CREATE TABLE {quote(entity.value)} (\n  " + ",\n  ".join(parts) + "\n)")
    return statements, names


def _parent_key_column(profile: TargetProfile, spec: ColumnSpec, written: dict[Entity, list[str]]) -> str | None:
    """The parent's external-id header a link column references, where the link goes by external id."""
    if spec.parent is None or spec.parent_key != "external_id" or spec.parent not in written:
        return None
    return profile.parent_key_header(spec, written[spec.parent])


class _Database:
    """SQLite in memory, or PostgreSQL at a URL; one transaction, savepoints per row."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        if url is None:
            import sqlite3

            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            self.errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
            self.mark = "?"
            self.execute("PRAGMA foreign_keys = ON")
            self.execute("BEGIN")
        else:
            try:
                import psycopg
            except ImportError:
                raise MigrateError(Problem(url, "PostgreSQL needs the psycopg driver",
                                           hint='pip install "crm-migrate[postgres]"')) from None
            try:
                self.conn = psycopg.connect(url, autocommit=False)
            except psycopg.Error as exc:
                raise MigrateError(Problem(_redact(url), f"cannot connect: {str(exc).strip()}",
                                           hint="check the URL, the server and the password")) from None
            self.errors = (psycopg.errors.IntegrityError,)
            self.mark = "%s"
            self.execute(f"CREATE SCHEMA {quote(SCHEMA_NAME)}")
            self.execute(f"SET LOCAL search_path TO {quote(SCHEMA_NAME)}")

    def execute(self, sql: str, params: tuple = ()) -> object:
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


def load(profile: TargetProfile, files: list[WrittenFile], url: str | None = None,
         schema_file: Path | None = None) -> list[Finding]:
    """Insert every row read back from the files, in load order; return what the database refused."""
    written: dict[Entity, list[str]] = {}
    for f in files:
        written.setdefault(f.entity, list(f.intended.columns))
    statements, names = ddl(profile, written)
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
                findings += _insert(db, profile, f, names)
                loading.finish(f.read.height)
    finally:
        db.close()
    return findings


def _insert(db: _Database, profile: TargetProfile, f: WrittenFile, names: dict[str, tuple[str, str]]
            ) -> list[Finding]:
    headers = f.read.columns
    specs = profile.columns_by_header(f.entity)
    links = [h for h, s in specs.items() if h in headers and s.parent and s.parent_key == "external_id"]
    by_name = []  # links by name: (position, header, parent table, parent's key header)
    for i, h in enumerate(headers):
        spec = specs.get(h)
        if spec and spec.parent and spec.parent_key != "external_id" and spec.parent in profile.entities:
            key = profile.parent_key_header(spec, [c.header for c in profile.entities[spec.parent].columns])
            if key:
                by_name.append((i, h, spec.parent.value, key))
    insert = (f"INSERT INTO {quote(f.entity.value)} ({', '.join(quote(h) for h in headers)}) "
              f"VALUES ({', '.join([db.mark] * len(headers))})")
    found = []
    for line, row in enumerate(f.read.iter_rows(), start=2):
        for i, header, parent, key in by_name:  # a link by name: exactly one parent of that name
            if row[i] is None:
                continue
            n = db.execute(f"SELECT count(*) FROM {quote(parent)} WHERE {quote(key)} = {db.mark}",
                           (row[i],)).fetchone()[0]
            if n != 1:
                found.append(Finding("database", "error", f.entity.value, f.path, line, header, row[i], "parent",
                                     f"{n} {parent} called {row[i]!r} in the database",
                                     "a link by name needs exactly one parent of that name"))
        db.execute("SAVEPOINT row")
        try:
            db.execute(insert, tuple(row))
        except db.errors as exc:
            db.execute("ROLLBACK TO SAVEPOINT row")
            header, rule = _constraint(exc, names, links)
            value = row[headers.index(header)] if header in headers else None
            found.append(Finding("database", "error", f.entity.value, f.path, line, header, value, rule,
                                 f"the database refused the row: {str(exc).strip().splitlines()[0]}",
                                 _HINTS.get(rule, "compare the row with the target profile")))
        db.execute("RELEASE SAVEPOINT row")
    return found


_HINTS = {"required": "fill the value or map a default", "max_length": "shorten the value or map it elsewhere",
          "picklist": "add the value to the field's value map", "unique": "two rows share an external id",
          "parent": "the parent row is missing from the files loaded before this one"}


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
