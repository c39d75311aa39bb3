"""A project reads only its own files.

Every path a project file names (a source's ``file:``, a lookup table, a target profile, the decisions
file) must lead, once symlinks are followed, into the project folder or into a folder that migration.yaml
lists under ``allow_outside``. Otherwise a mapping could copy any file on the machine into the import
files, and ``validate`` would print its header. The check says which path and why (absolute, ``..``, a
symlink and where it points), and never opens the file it refuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HINT = (
    "copy the file into the project folder, or list its folder under allow_outside in migration.yaml "
    "(allow_outside: [{folder}])"
)


@dataclass(frozen=True)
class Refusal:
    """Why a path leads outside the project: a message without the file's content, and the fix."""

    message: str
    hint: str


class Confinement:
    """The folders a project may read: its own, and those listed under ``allow_outside``."""

    def __init__(self, root: Path | str, allow_outside: list[str] | tuple[str, ...] = ()) -> None:
        self.root = Path(root)
        self.real_root = self.root.resolve()
        # A relative entry is relative to the project folder, as every other path in its files.
        self.allowed = tuple((self.root / a).expanduser().resolve() for a in allow_outside)

    def permits(self, real: Path) -> bool:
        return any(real == folder or real.is_relative_to(folder) for folder in (self.real_root, *self.allowed))

    def check(self, written: str | Path, what: str, *, relative_to: Path | None = None) -> Refusal | None:
        """None when ``written`` (relative to the project folder, or to ``relative_to``) may be read; else why
        not. ``what`` names the file in the message ("source file", "lookup table")."""
        try:
            given = Path(written).expanduser()
            joined = (relative_to if relative_to is not None else self.root) / given
            real = joined.resolve()
            real.exists()  # raises for a name too long, which later checks would not survive
        except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a name too long, a symlink loop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return Refusal(
                f"{what} {str(written)[:200]!r} is not a path that can be read ({reason})",
                "write the path of a file inside the project folder",
            )
        if self.permits(real):
            return None
        shown = str(written)
        hint = HINT.format(folder=real.parent)
        if given.is_absolute() and relative_to is None:
            return Refusal(f"{what} {shown!r} is outside the project folder", hint)
        lexical = Path(os.path.normpath(joined.absolute()))
        if not self.permits(lexical) and not self.permits(Path(os.path.normpath(self.real_root / given))):
            return Refusal(f"{what} {shown!r} leads outside the project folder (to {real})", hint)
        base = relative_to if relative_to is not None else self.root
        link = _first_link(base, given)
        if link is not None and link == base / given:
            return Refusal(f"{what} {shown!r} is a symlink to {real}, outside the project", hint)
        if link is not None:
            return Refusal(
                f"{what} {shown!r} passes through the symlink {link.name!r}, which leads to {real}, "
                "outside the project",
                hint,
            )
        return Refusal(f"{what} {shown!r} resolves to {real}, outside the project", hint)


def _first_link(base: Path, rel: Path) -> Path | None:
    """The first part of ``base / rel`` below ``base`` that is a symlink (None if none is)."""
    current = base
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None
