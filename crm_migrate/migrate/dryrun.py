"""``dry-run``: the sample import, through the same code as ``run``, then checked three ways.

1. The whole project is prepared (nothing written) and a sample chosen from it (migrate/sample.py).
2. ``run`` itself runs on the sample's source rows only (taken from the tables step 1 read, so each file is
   read once), into ``out/dry-run/``: same cleaning, matching,
   conforming, file splitting and writers; no separate test logic that could pass where the real run fails.
3. The import files are read back as the target reads them and compared with what was meant, cell by cell
   (validators/readback.py); validated with a Great Expectations suite generated from the target profile
   (validators/expectations.py); and loaded into a database built from the profile, inside a transaction
   that is rolled back (validators/database.py).

Every record of the sample that the target would refuse, every row a cleaning rule rejected and every
value a cleaner could not keep is a finding too. The findings go to ``out/dry-run/findings.csv`` and
``findings.json`` and into the quality report; the command fails when any finding is an error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from crm_migrate.cleaners.codes import mask
from crm_migrate.cleaners.masking import mask_texts, mask_tree
from crm_migrate.errors import MigrateError
from crm_migrate.mappings.entities import Entity, FieldType
from crm_migrate.migrate.columns import (
    MERGED,
    OUTCOME,
    REASON,
    RECORD_ID,
    REJECTED,
    ROW,
    RULE,
    SEQ,
    SHEET,
    SOURCE,
    WRITTEN,
    raw,
    why,
)
from crm_migrate.migrate.conform import WHY, refused_by_target
from crm_migrate.migrate.import_files import file_stem
from crm_migrate.migrate.outdir import modes, output_lock, restrict, write_problem
from crm_migrate.migrate.output_frames import write_csv
from crm_migrate.migrate.pipeline import sha256_of
from crm_migrate.migrate.run import DRY_RUN, RunResult, prepare, run
from crm_migrate.migrate.sample import choose
from crm_migrate.project import Project
from crm_migrate.reports.quality import add_findings
from crm_migrate.secret import check_outside, project_secret
from crm_migrate.steps import Recorder, named, recording, step
from crm_migrate.validators import database, expectations, readback
from crm_migrate.validators.findings import Finding, findings_frame
from crm_migrate.validators.readback import WrittenFile

DEFAULT_SAMPLE = 300


@dataclass
class DryRun:
    result: RunResult  # the run on the sample
    sample_counts: dict[str, int]  # why rows were chosen -> rows
    findings: list[Finding]
    checks: dict[str, str] = field(default_factory=dict)  # check -> what was done, or why not

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1 when a finding would make the real import fail or lose records (``dry-run``'s exit status)."""
        return 1 if self.failed else 0

    def summary(self) -> dict[str, Any]:
        """What ``dry-run`` prints, as plain data (`crm_migrate.reports.console.render_dry_run`): the sample
        and why its rows were chosen, its outcomes per entity, what each check did, the findings."""
        from crm_migrate.migrate.plan import entity_rows

        return {
            "rows": sum(r.rows for r in self.result.migration.reads),
            "sample": self.sample_counts,
            "out": str(self.result.out),
            "entities": entity_rows(self.result),
            "checks": self.checks,
            "findings": self.findings,
        }


def dry_run(
    project: Project, out: Path | str | None = None, size: int = DEFAULT_SAMPLE, url: str | None = None
) -> DryRun:
    """Import a sample of ``size`` source rows (and the accounts their children need) through ``run`` into
    ``out`` (default PROJECT/out/dry-run), then read the files back, validate them with Great Expectations
    (when installed) and load them into a database (``url``: PostgreSQL; default an embedded SQLite)
    inside a transaction that is rolled back."""
    out = Path(out) if out else project.root / "out" / DRY_RUN
    check_outside(project.root, out)
    project_secret(project.root, create=True)  # before the full prepare, so both see the same key
    if url:  # a database that cannot be reached fails the dry run before anything is written
        database.connect(url).close()
    # out/dry-run lives inside a full run's output folder, which a full run replaces: the two take turns
    with recording() as log:  # one run.log for the whole dry run: the run on the sample writes it first
        if out.name == DRY_RUN:
            with output_lock(out.parent, modes(project)):
                return _dry_run(project, out, size, url, log)
        return _dry_run(project, out, size, url, log)


def _dry_run(project: Project, out: Path, size: int, url: str | None, log: Recorder) -> DryRun:
    full = prepare(project, recording=False)  # nothing of it goes to the state: the sample run records nothing either
    with step("Choosing the sample") as choosing:
        chosen = choose(full.migration, size)
        choosing.finish(sum(chosen.counts.values()))
    # The sample's rows are taken from the tables the full prepare read: each file is read once. Of the full
    # prepare only those tables are kept: its entities, lineage and conformed frames (at 1M rows, a gigabyte)
    # go before the sample's run and the checks.
    reads = full.migration.reads
    del full
    with named("sample"):
        result = run(project, out, sample=chosen.sample(), done=reads)
    del reads
    with step("Collecting the run's findings", unit="findings") as collecting:
        findings = held_back(result)
        collecting.finish(len(findings))
    files = written_files(out, result.files, result.conformed or {})
    types = {e: c.types for e, c in (result.conformed or {}).items()}
    findings += readback.read_back(out, files, result.target.file, types)
    checks = {"read-back": f"{len(files)} import files read back and compared cell by cell"}
    suites = None
    with step("Loading Great Expectations", unit="") as loading:  # its import alone takes seconds
        available = expectations.available()
        if not available:
            loading.name += ": not installed, expectations skipped"
    if available:
        with step("Checking expectations (Great Expectations)") as checking:
            found, suites = expectations.run_suites(out, result.target, files)
            findings += found
            # its results quote values of import/
            mask_tree(out / expectations.GX_FOLDER, project.config.options.mask_mobiles)
            checking.finish(sum(f.read.height for f in files if f.read is not None))
        checks["expectations"] = (
            f"Great Expectations suites: results in {out / 'reports/quality.html'}"
            f"#expectations (Data Docs, online styles, in {out / expectations.DOCS})"
        )
    else:
        checks["expectations"] = 'skipped: Great Expectations is not installed (pip install "crm-migrate[validate]")'
    findings += database.load(result.target, files, url, out / "target_schema.sql")
    checks["database"] = (
        ("PostgreSQL" if url else "SQLite")
        + " load in one transaction, rolled back; schema in "
        + str(out / "target_schema.sql")
    )
    findings = _masked(project, result.target, findings)
    try:
        with step("Writing findings.csv, findings.json", unit="findings") as writing:
            write_findings(out, findings)
            _add_to_report(
                out, findings, chosen.counts, None if suites is None else expectations.judge(suites, findings)
            )
            writing.finish(len(findings))
        log.write(out)  # the sample run's log, with the checks after it
        restrict(out, modes(project))  # the files written after the run's tree, private like it
    except OSError as exc:
        raise MigrateError(write_problem(out, exc)) from None
    return DryRun(result, chosen.counts, findings, checks)


def written_files(out: Path, outputs: list[dict[str, Any]], conformed: dict) -> list[WrittenFile]:
    """Each import file with the slice of its entity's rows it was meant to hold, in load order."""
    files = []
    for entity, done in conformed.items():
        offset = 0
        for o in outputs:
            path = str(o["path"])
            if path.startswith(f"import/{file_stem(entity)}_"):
                rows = int(o["rows"] or 0)
                files.append(WrittenFile(entity, path, done.frame.slice(offset, rows)))
                offset += rows
    return files


def held_back(result: RunResult) -> list[Finding]:
    """Findings from the run itself: records the target refused (errors: they would not arrive), rows a
    cleaning rule rejected and values a cleaner could not keep (warnings: the team should agree)."""
    migration = result.migration
    files = {r.source.name: r.source.rel_file for r in migration.reads}
    out: list[Finding] = []
    for entity, res in migration.entities.items():
        frame = res.frame.filter(pl.col(OUTCOME).is_not_null())
        refused = (result.conformed or {}).get(entity)
        out += _refused(entity, frame, refused.refused if refused else None, files)
        cleaning = frame.filter((pl.col(OUTCOME) == REJECTED) & ~refused_by_target()).sort(SEQ)
        for row in cleaning.select(SOURCE, SHEET, ROW, RULE, REASON).iter_rows(named=True):
            out.append(
                Finding(
                    "cleaning",
                    "warning",
                    entity.value,
                    _where(files, row),
                    row[ROW],
                    None,
                    None,
                    row[RULE],
                    row[REASON],
                    "rejected on purpose; see rejects/" + entity.value + ".csv",
                )
            )
        # Only what is imported can be imported without a value: not rows filtered (out of scope, not a record,
        # no company) or rejected.
        kept = frame.filter(pl.col(OUTCOME).is_in([WRITTEN, MERGED]))
        for spec in res.fields:
            if why(spec.name) not in kept.columns:
                continue
            lost = kept.filter(pl.col(why(spec.name)).is_not_null()).sort(SEQ)
            for source, sheet, line, value, reason in lost.select(
                SOURCE, SHEET, ROW, raw(spec.name), why(spec.name)
            ).iter_rows():
                out.append(
                    Finding(
                        "cleaning",
                        "warning",
                        entity.value,
                        _where(files, {SOURCE: source, SHEET: sheet}),
                        line,
                        spec.name,
                        value,
                        f"invalid {spec.name}",
                        f"{spec.name}: {reason}",
                        "the record is imported without this value; fix it at the source to keep it",
                    )
                )
    return out


def _where(files: dict[str, str], row: dict) -> str:
    file = files.get(row[SOURCE], row[SOURCE])
    return f"{file}!{row[SHEET]}" if row.get(SHEET) else file


def _refused(entity: Entity, frame: pl.DataFrame, refused: pl.DataFrame | None, files: dict[str, str]) -> list[Finding]:
    """One finding per broken rule of each record the target refused, at the record's first source row."""
    if refused is None or refused.height == 0:
        return []
    first = (
        frame.filter(refused_by_target())
        .sort(SEQ)
        .group_by(RECORD_ID, maintain_order=True)
        .first()
        .select(RECORD_ID, SOURCE, SHEET, ROW)
    )
    rows = refused.join(first, left_on="_id", right_on=RECORD_ID, how="inner", maintain_order="left")
    out = []
    for record in rows.iter_rows(named=True):
        for name, reason in record.items():
            if not name.startswith(WHY) or reason is None:
                continue
            rule, header = name.removeprefix(WHY).split(":", 1)
            # conform's reasons end with their hint ("...; add it to the field's value map"), bar a lost parent's
            message, hint = reason.rsplit("; ", 1) if "; " in reason else (reason, LOST_PARENT_HINT)
            out.append(
                Finding(
                    "target",
                    "error",
                    entity.value,
                    _where(files, record),
                    record[ROW],
                    header,
                    record.get(header),
                    rule,
                    message,
                    hint,
                )
            )
    return out


LOST_PARENT_HINT = "fix or import the parent first, or send orphans to a placeholder account (options.orphans)"


def _masked(project: Project, profile, findings: list[Finding]) -> list[Finding]:
    """Values of sensitive fields (ID numbers, fields marked sensitive) shown masked, under the field's name
    or under the template's header for it."""
    sensitive = {
        spec.name
        for s in project.sources
        for plan in s.entities
        for f in plan.fields
        for spec in [f.spec]
        if spec.sensitive or spec.type is FieldType.id_card
    }
    headers = {
        (e.value, c.header)
        for e, ep in profile.entities.items()
        for c in ep.columns
        if c.value and c.value.removeprefix("custom:") in sensitive
    }
    out = []
    for f in findings:
        if f.value and f.column and (f.column in sensitive or (f.entity, f.column) in headers):
            f = replace(f, value=mask(f.value))
        out.append(f)
    # and an ID number (or, by the project option, a mobile) in any text of a finding: a value read back
    # from a remark, a message quoting it
    texts = ("file", "value", "message", "hint")
    shown = iter(mask_texts([getattr(f, t) for f in out for t in texts], project.config.options.mask_mobiles))
    masked = []
    for f in out:
        file, value, message, hint = (next(shown) for _ in texts)
        masked.append(replace(f, file=file or "", value=value, message=message or "", hint=hint or ""))
    return masked


def write_findings(folder: Path, findings: list[Finding]) -> None:
    """``findings.csv`` (for a spreadsheet) and ``findings.json`` (for the report and scripts)."""
    write_csv(findings_frame(findings), folder / "findings.csv")
    (folder / "findings.json").write_text(
        json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def _add_to_report(
    out: Path, findings: list[Finding], sample_counts: dict[str, int], suites: list[dict] | None = None
) -> None:
    """The dry run's quality report, rewritten with its findings, how the sample was chosen, the suites'
    results, and when and on what it ran (the date, the project hash, every input's sha256: a later run's
    report tells from them whether the findings still hold)."""
    manifest = out / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    ran_on = {
        "at": data.get("created_at"),
        "project_hash": (data.get("project") or {}).get("files_sha256"),
        "inputs": [{"kind": i["kind"], "path": i["path"], "sha256": i["sha256"]} for i in data.get("inputs", [])],
    }
    add_findings(out / "reports", findings, sample_counts, suites, ran_on)
    data["dry_run"] = {
        "sample": sample_counts,
        "findings": len(findings),
        "errors": sum(f.severity == "error" for f in findings),
    }
    for o in data["outputs"]:  # the report was rewritten; findings are new
        o["sha256"] = sha256_of(out / o["path"])
    data["outputs"] += [
        {"path": name, "rows": len(findings), "sha256": sha256_of(out / name)}
        for name in ("findings.csv", "findings.json")
    ]
    manifest.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
