"""The project's secret: the key of every hash written outside import/ that stands for a customer's values.

A fingerprint of a row (the review workbook's, which decisions are checked against) is an HMAC-SHA256 under
this key, so nobody holding the workbook can try every birth date, mobile or name until one fits: without
the key a fingerprint confirms nothing. ID numbers' match keys use the same key.

The secret is 32 random bytes, written as hex to ``<project>/.crm-migrate/secret`` the first time a verb that
writes output (run, dry-run) needs it, or to the file ``CRM_MIGRATE_SECRET_FILE`` names. It is created once,
owner-only (0600, its folder 0700), never inside the output folder, and never printed. Verbs that write
nothing (plan, validate) use it when it is there and otherwise a key of their own that lives only for the
process. Losing the file makes the fingerprints of earlier review workbooks unverifiable: their decisions
are then reported as stale, never applied blindly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from crm_migrate.errors import Problem, ProjectError

SECRET_ENV = "CRM_MIGRATE_SECRET_FILE"
SECRET_DIR = ".crm-migrate"
SECRET_NAME = "secret"
_BYTES = 32
_EPHEMERAL: dict[Path, bytes] = {}  # per project, for verbs that write nothing and find no secret yet


def secret_path(root: Path) -> Path:
    """Where the project's secret is: the file CRM_MIGRATE_SECRET_FILE names, else <project>/.crm-migrate/secret."""
    named = os.environ.get(SECRET_ENV, "").strip()
    return Path(named).expanduser() if named else Path(root) / SECRET_DIR / SECRET_NAME


def project_secret(root: Path, *, create: bool = False) -> bytes:
    """The project's secret; created (once, 0600) when ``create`` and missing, else read.

    Without ``create`` a missing secret gives a key for this process only: nothing keyed with it is meant to
    outlive the process (plan and validate write nothing)."""
    path = secret_path(root)
    try:
        found = path.is_file() or path.is_symlink()
    except OSError as exc:  # a name the system refuses (too long, a loop of links)
        raise ProjectError(
            Problem(
                str(path),
                f"cannot read the project secret: {exc.strerror or exc}",
                hint=f"point {SECRET_ENV} at a file you can write, or unset it",
            )
        ) from None
    if found:
        return _read(path)
    if not create:
        return _EPHEMERAL.setdefault(path.resolve(), secrets.token_bytes(_BYTES))
    return _create(path)


def key_id(secret: bytes) -> str:
    """A short name of the key, kept beside each fingerprint so that one made under another key is told apart
    from one whose row changed; it says nothing about the key itself."""
    return hmac.new(secret, b"crm-migrate key id", hashlib.sha256).hexdigest()[:6]


def check_outside(root: Path, out: Path) -> None:
    """The secret must not live in the output folder, which every run replaces (and which is shared)."""
    path = secret_path(root).resolve()
    folder = Path(out).resolve()
    if path == folder or folder in path.parents:
        raise ProjectError(
            Problem(
                str(secret_path(root)),
                "the project secret is inside the output folder "
                f"{out}, which every run replaces and which is meant to be handed on",
                hint=f"point {SECRET_ENV} at a file outside it (default: <project>/{SECRET_DIR}/{SECRET_NAME})",
            )
        )


def _read(path: Path) -> bytes:
    shown = str(path)
    try:
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise ProjectError(
                Problem(
                    shown,
                    "the project secret can be read by other users",
                    hint=f"make it owner-only: chmod 600 {shown}",
                )
            )
        text = path.read_text(encoding="ascii").strip()
    except ProjectError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a secret written by crm-migrate"
        raise ProjectError(
            Problem(
                shown,
                f"cannot read the project secret: {reason}",
                hint="restore it from a backup; deleting it lets the next run create a new "
                "one, and decisions of earlier review workbooks are then reported stale",
            )
        ) from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < _BYTES:
        raise ProjectError(
            Problem(
                shown,
                f"the project secret is damaged (not {_BYTES * 2} hexadecimal digits)",
                hint="restore it from a backup; deleting it lets the next run create a new "
                "one, and decisions of earlier review workbooks are then reported stale",
            )
        )
    return secret


def _create(path: Path) -> bytes:
    secret = secrets.token_bytes(_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:  # another run created it meanwhile: use that one
        return _read(path)
    except OSError as exc:
        raise ProjectError(
            Problem(
                str(path),
                f"cannot create the project secret: {exc.strerror or exc}",
                hint=f"make the folder writable, or point {SECRET_ENV} at a file you can write",
            )
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret.hex() + "\n")
    return secret
