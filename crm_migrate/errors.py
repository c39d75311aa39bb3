"""One exception hierarchy, and the `Problem` every message to a user is made of.

A problem always says where it is: a project file and line, or a source file with its sheet, row and
column. The CLI prints problems one per line as ``path:line: message — hint``, which editors and CI
annotations understand, and exits 1; a traceback reaching a user is a bug.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """Something wrong (or worth a look) in a project file or a source file."""

    path: str
    message: str
    line: int | None = None
    hint: str | None = None
    severity: Severity = "error"
    sheet: str | None = None
    column: str | None = None
    values: tuple[str, ...] | None = None  # every value a problem is about (text shows the first ones)

    def location(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.sheet:
            where += f" [{self.sheet}]"
        if self.column:
            where += f" column {self.column!r}"
        return where

    def render(self) -> str:
        text = f"{self.location()}: {self.severity}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.values is not None:
            out["values"] = list(self.values)
        return out


class MigrateError(Exception):
    """Base of every error the tool reports to a user; carries one or more problems."""

    exit_code = 1  # the command's exit status when a verb ends with this error

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ProjectError(MigrateError):
    """The project files (migration.yaml, mappings/*.yaml) are wrong."""


class SourceError(MigrateError):
    """A source file cannot be read as its mapping says."""


class ReconciliationError(MigrateError):
    """The run could not account for every source row; nothing was written."""


def unreadable(shown: str, exc: OSError) -> Problem:
    """A file the system refuses to open, said plainly with what to do."""
    if isinstance(exc, FileNotFoundError):
        return Problem(
            shown,
            "the file is not there (moved or deleted since the project was loaded)",
            hint="put it back, or correct 'file:' in its mapping, and run again",
        )
    if isinstance(exc, PermissionError):
        return Problem(
            shown,
            "permission denied: this user may not read the file",
            hint="give the user running crm-migrate read access (chmod u+r, or ask its owner)",
        )
    if isinstance(exc, IsADirectoryError):
        return Problem(shown, "this is a folder, not a file", hint="name the file in the mapping's 'file:'")
    return Problem(
        shown,
        f"cannot read the file: {exc.strerror or exc}",
        hint="check that it exists and is not open in another program",
    )


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """``did you mean 'X'?`` for the choice closest to ``word``, or None when nothing is close.

    Close means similar by ratio, or one edit away for short words (张3 / 张三), which ratios undervalue.
    """
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import Levenshtein

    best = process.extractOne(str(word), list(choices), scorer=fuzz.ratio)
    if best is None:
        return None
    if best[1] >= 60 or Levenshtein.distance(str(word), best[0]) <= max(1, len(str(word)) // 4):
        return f"did you mean {best[0]!r}?"
    return None
