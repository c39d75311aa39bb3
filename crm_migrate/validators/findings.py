"""Findings of a dry run: what would go wrong in the real import, each with where, what and how to fix it.

A finding names the entity, the file (the import file and its line, or for a record held back, the source
file and row), the column, the value (masked where the field is sensitive), the rule and a hint. Its
severity says whether it costs data: ``error`` when the target would refuse a row or a record would not
arrive (the dry run exits non-zero), ``warning`` when a value or a row is dropped on purpose by a cleaning
rule and the team should agree with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

CHECKS = ("target", "cleaning", "expectations", "database", "read-back")


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS: which step found it
    severity: str  # error | warning
    entity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str
    hint: str

    def render(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        column = f" [{self.column}]" if self.column else ""
        return f"{where}{column}: {self.severity}: {self.message} — {self.hint}"


SCHEMA = {
    "check": pl.String,
    "severity": pl.String,
    "entity": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "message": pl.String,
    "hint": pl.String,
}


def findings_frame(findings: list[Finding]) -> pl.DataFrame:
    return pl.DataFrame([asdict(f) for f in findings], schema=SCHEMA)


def read_findings(path: Path) -> list[Finding] | None:
    """An earlier dry run's findings, or None when there was none (or the file is not ours)."""
    try:
        return [Finding(**item) for item in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        return None


def summary(findings: list[Finding]) -> list[dict[str, Any]]:
    """Findings counted by check, severity, entity and rule, most frequent first."""
    if not findings:
        return []
    frame = findings_frame(findings)
    counts = frame.group_by("check", "severity", "entity", "rule").agg(
        pl.len().alias("count"), pl.col("message").first().alias("example")
    )
    return counts.sort(["count", "check", "entity", "rule"], descending=[True, False, False, False]).to_dicts()


def stale_because(dry_run: dict, project_hash: str, inputs: list[dict]) -> list[str]:
    """Why an earlier dry run's findings may no longer hold for the run at hand, or [] when they do: the
    project files (migration.yaml, mappings) hash differently, or a source, lookup table, target profile or
    decisions file changed, appeared or went. A dry run that recorded no date or hash is stale too."""
    if not dry_run.get("at") or not dry_run.get("project_hash"):
        return [
            "the dry run recorded no date or project hash (an earlier crm-migrate made it), so what it "
            "checked is not known"
        ]
    reasons = []
    if dry_run["project_hash"] != project_hash:
        reasons.append(
            f"the project files changed: project hash {str(dry_run['project_hash'])[:12]}, now {project_hash[:12]}"
        )
    then = {(i.get("kind"), i.get("path")): i.get("sha256") for i in dry_run.get("inputs") or []}
    now = {(i["kind"], i["path"]): i["sha256"] for i in inputs}
    for (kind, path), digest in now.items():
        if (kind, path) not in then:
            reasons.append(f"{kind} {path} is read now but was not by the dry run")
        elif then[(kind, path)] != digest:
            reasons.append(f"{kind} {path} changed since")
    reasons += [
        f"{kind} {path} was read by the dry run but is not now" for kind, path in then if (kind, path) not in now
    ]
    return reasons
