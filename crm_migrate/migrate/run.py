"""``run``: build the migration, prove every row is accounted for, and write the output tree.

The tree is written to a temporary folder beside the output folder and put in its place only when
everything has succeeded, so a failed run leaves the previous output as it was. Source files are only read;
their checksums are taken before and after, and a file that changed during the run fails it.

    out/
      import/01_accounts_001.csv   import files in the target's format and load order, split at its limits
      rejects/<entity>.csv         rejected rows: original values and the reason
      lineage.csv                  one line per source row and entity: what became of it
      review/duplicates.xlsx       duplicate groups with evidence and a decision column for the steward
      review/duplicate_groups.csv  every duplicate group, listed in the workbook or not (no values)
      review/provenance.csv        for merged records: which source row each golden value came from
      review/orphans.csv           child rows whose account is missing or rejected, and where they went
      review/stale_decisions.csv   steward decisions that no longer apply, and why
      reports/quality.json, quality.html
      manifest.json                versions, checksums and row counts of everything read and written
      run.log                      one line per step: when it ended, its name, count and seconds (no values)

With the migration state (`migrate/state.py`, the default) import/ holds only this run's batch: the records new
or changed since the state last saw them (`migrate/delta.py`), of one wave with ``--wave`` (`migrate/waves.py`),
and rejects/held_back.csv the children it could not send yet; the state records the batch in the same breath
as the tree replaces the previous one.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from crm_migrate.cleaners.masking import mask_frame
from crm_migrate.errors import MigrateError, Problem, SourceError, unreadable
from crm_migrate.mappings.entities import Entity
from crm_migrate.mappings.targets import BUILT_IN, TargetProfile, load_target, locate
from crm_migrate.migrate.conform import Conformed, conform
from crm_migrate.migrate.delta import Batch, held_back, row_prints, select, sent_only, to_record, with_batches
from crm_migrate.migrate.import_files import planned_files, write_import
from crm_migrate.migrate.link import orphan_id
from crm_migrate.migrate.outdir import (
    PRIVATE,
    Modes,
    modes,
    output_lock,
    restrict,
    tidy_leftovers,
    tmp_path,
    write_problem,
)
from crm_migrate.migrate.output_frames import lineage_frame, plain_columns, rejects_frame, write_csv, write_csv_parts
from crm_migrate.migrate.pipeline import EntityResult, Migration, Sample, SourceRead, build, sha256_of
from crm_migrate.migrate.quality import quality
from crm_migrate.migrate.review import orphans_frame, provenance_parts, stale_frame, write_workbook
from crm_migrate.migrate.stable_ids import keep_external_ids
from crm_migrate.migrate.state import locate as locate_state
from crm_migrate.migrate.state import previous_golden, snapshot
from crm_migrate.migrate.state import recording as state_recording
from crm_migrate.migrate.waves import wave_named
from crm_migrate.project import Project
from crm_migrate.reports.quality import write_html, write_json
from crm_migrate.reports.workbook import FULL_LIST
from crm_migrate.secret import check_outside, project_secret
from crm_migrate.steps import recording, step
from crm_migrate.validators.findings import stale_because
from crm_migrate.validators.reconcile import Reconciliation, check_written, reconcile, reconcile_waves
from crm_migrate.version import __version__

MANIFEST = "manifest.json"
DRY_RUN = "dry-run"  # out/dry-run: the sample import of ``crm-migrate dry-run``, kept across full runs


if TYPE_CHECKING:
    from crm_migrate.migrate.incremental import Against


@dataclass
class RunResult:
    migration: Migration
    reconciliation: Reconciliation
    lineage: pl.DataFrame
    out: Path | None
    files: list[dict[str, Any]]  # what was (or would be) written
    target: TargetProfile
    conformed: dict | None = None  # Entity -> Conformed: each entity as the target receives it
    notes: list[Problem] = field(default_factory=list)  # what the run tidied up beside the output folder
    decisions: Path | None = None  # the steward's decisions file the run applied, if any
    batch: Batch | None = None  # what this run sends, against the migration state (None: no state)
    state: Path | None = None  # the state file the batch is recorded in
    row_prints: pl.DataFrame | None = None  # every source row's keyed fingerprint, where a state was read
    against: Against | None = None  # new rows matched against the state (--incremental)

    @property
    def exit_code(self) -> int:
        """0: every row is accounted for and the tree was written (a run that cannot finish raises
        `MigrateError` instead, exit status 1)."""
        return 0 if self.reconciliation.balanced else 1

    def summary(self) -> dict[str, object]:
        """What ``run`` prints, as plain data (`crm_migrate.reports.console.render_summary`)."""
        from crm_migrate.migrate.plan import run_summary

        return run_summary(self)


def prepare(
    project: Project,
    today: dt.date | None = None,
    decisions: Path | None = None,
    sample: Sample | None = None,
    done: list[SourceRead] | None = None,
    state=None,
    against=None,
    recording: bool = True,
) -> RunResult:
    """Everything ``run`` does short of writing: the migration, its lineage, and the reconciliation.
    With ``sample``, only those source rows (the dry run), taken from ``done`` (the sources as an earlier
    prepare read them) where given. With ``state`` (a `state.Snapshot`), golden records keep the external ids
    the state knows them by (`stable_ids`). With ``against`` (`incremental.Against`), the project's new sources
    alone, matched against the state's records. ``recording=False`` (plan): nothing is kept for the state."""
    migration = build(project, today, decisions, sample, done, against, recording)
    prints = None
    if state is not None and state.exists:
        with step("Keeping the external ids of the migration state", unit="rows") as keeping:
            prints = row_prints(migration)
            migration = keep_external_ids(migration, state, prints)
            keeping.finish(prints.height)
    target = (
        project.target
        or load_target(project.config.target, project.root, project.doc.path, None, project.confinement)[0]
    )
    chosen = project.config.options.output_encoding
    if chosen:  # the project's choice of encoding over the profile's
        encoding, bom = {"utf-8-sig": ("utf-8", True), "utf-8": ("utf-8", False), "gb18030": ("gb18030", False)}[chosen]
        target = target.model_copy(update={"file": target.file.model_copy(update={"encoding": encoding, "bom": bom})})
    # records the target would refuse become rejects, with the reason: the migration from here on is conform's
    migration, conformed = conform(migration, target)
    with step("Tracing lineage") as tracing:
        lineage = lineage_frame(migration)
        tracing.finish(lineage.height)
    rows_read = {r.source.name: r.rows for r in migration.reads}
    entities_by_source = {
        r.source.name: [p.entity.value for p in r.source.entities if p.entity in project.entities]
        for r in migration.reads
    }
    files = {r.source.name: r.source.shown_file for r in migration.reads}
    counted = {
        r.source.name: (r.table.records, r.table.counted)
        for r in migration.reads
        if r.table.counted is not None and r.table.records is not None
    }
    with step("Reconciling counts") as reconciling:
        reconciliation = reconcile(lineage, rows_read, entities_by_source, files, counted)
        reconciling.finish(lineage.height)
    with step("Planning import files", unit="files") as planning:
        planned = [
            {"path": path, "rows": rows, "entity": e.value}
            for e, c in conformed.items()
            for path, rows in planned_files(c.frame, target.file, e)
        ]
        planning.finish(len(planned))
    result = RunResult(migration, reconciliation, lineage, None, planned, target, conformed)
    result.row_prints = prints
    return result


def run(
    project: Project,
    out: Path | None = None,
    today: dt.date | None = None,
    decisions: Path | None = None,
    sample: Sample | None = None,
    done: list[SourceRead] | None = None,
    *,
    wave: str | None = None,
    full: bool = False,
    since: Path | None = None,
    incremental: bool = False,
    keep_frames: bool = True,
) -> RunResult:
    """Write the output tree. With the migration state (the default; not for a dry run's ``sample``), only the
    records new or changed since the last run go into import/ (all with ``full``), of one wave with ``wave``,
    and the batch is recorded in the state once the tree is in place; ``since`` names another state file. With
    ``incremental``, only the sources the state has not read are read, and matched against its records
    (`migrate/incremental.py`). ``keep_frames=False`` (the command line's, which reads only the result's
    counts): the rows as read and the conformed frames are let go once written, so ``result.conformed`` and
    each read's ``table.frame`` are then empty (their columns and counts stay)."""
    started = time.perf_counter()
    out = Path(out) if out else project.root / "out"
    _check_out_folder(out, project)
    check_outside(project.root, out)
    secret = project_secret(project.root, create=True)  # once per project; fingerprints are keyed with it
    mode = modes(project)
    state_path, chosen = _state_plan(project, sample, wave, since, out, incremental, full)
    # before anything is read: a second run on this folder stops at once
    with output_lock(out, mode), recording() as log:
        notes = tidy_leftovers(out)
        found = (
            snapshot(state_path, secret, rows=not incremental) if state_path else None
        )  # a bad state is refused before the work
        against = None
        if incremental:
            from crm_migrate.migrate.incremental import Against, load, new_sources

            stored = load(state_path, project)
            against = Against(stored, secret)
            project = replace(project, sources=tuple(new_sources(project, stored, sha256_of)))
            result = prepare(project, today, decisions, None, None, None, against)
        else:
            result = prepare(project, today, decisions, sample, done, found)
        result.against = against
        result.notes = notes
        result.decisions = decisions or (project.root / project.config.decisions if project.config.decisions else None)
        migration = result.migration
        if found is not None:
            with step("Comparing with the migration state", unit="records") as comparing:
                result.batch = select(result, found, project.config.waves, chosen, full, incremental)
                if against is not None:
                    result.batch.matched = against.counts()
                result.state = state_path
                result.lineage = with_batches(result.lineage, result.batch)
                result.batch.accounting = reconcile_waves(
                    result.lineage, result.reconciliation.table.select("source", "entity", "read")
                )
                comparing.finish(sum(f.height for f in result.batch.records.values()))
        tmp = tmp_path(out)
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir(mode=0o700)  # nobody else can look in while it is written, whatever the files' modes
            t0 = time.perf_counter()
            outputs = _write_tree(
                tmp,
                result,
                None if sample is not None else _dry_run_findings(out),
                release=sample is None and not keep_frames,
            )
            migration.timings["write"] = time.perf_counter() - t0
            with step("Checking the sources did not change", unit="files") as checking:
                _check_sources_unchanged(migration)
                checking.finish(len(migration.reads))
            migration.timings["total"] = time.perf_counter() - started
            with step(f"Writing {MANIFEST}", unit="files") as writing:
                _write_manifest(tmp, result, outputs)
                writing.finish(len(outputs))
            record = None
            if result.batch is not None:
                with step("Preparing the batch for the migration state", unit="records") as keeping:
                    # an incremental batch replaces only the golden tables of the entities it sent records of
                    batch = result.batch
                    golden = (
                        [e for e in batch.records if not batch.sent(e).is_empty()]
                        if against is not None
                        else list(batch.records)
                    )
                    record = to_record(
                        batch,
                        result,
                        [o for o in outputs if str(o["path"]).startswith("import/")],
                        _relative(out, project.root),
                        previous_golden(state_path, golden),
                        golden,
                    )
                    if against is not None:
                        from crm_migrate.migrate.incremental import added_to

                        record = added_to(record, against)
                    keeping.finish(sum(f.height for f in record.golden.values()))
            log.write(tmp)
            if record is not None:  # the state commits only once the tree is in place, and not if it fails
                with state_recording(state_path, record, secret):
                    _replace(out, tmp, mode)
            else:
                _replace(out, tmp, mode)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise MigrateError(_os_problem(out, tmp, exc)) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    result.out = out
    result.files = outputs
    return result


def _state_plan(
    project: Project,
    sample: Sample | None,
    wave: str | None,
    since: Path | None,
    out: Path,
    incremental: bool = False,
    full: bool = False,
):
    """The state file this run compares with and records into (None: a dry run's sample, or a project that
    keeps no state), and the wave ``--wave`` names; a wrong one is refused before anything is read."""
    try:
        chosen = wave_named(project.config, wave)
    except ValueError as exc:
        message, hint = str(exc).split("|", 1)
        raise MigrateError(Problem("--wave", message, hint=hint)) from None
    if incremental and (wave is not None or full):
        raise MigrateError(
            Problem(
                "--incremental",
                "--incremental adds new sources to what the state holds; it "
                "cannot be combined with " + ("--wave" if wave is not None else "--full"),
                hint="run --incremental alone, then --wave or --full without it",
            )
        )
    path = locate_state(project, since, out) if sample is None else None
    if path is None and (wave is not None or since is not None or incremental) and sample is None:
        raise MigrateError(
            Problem(
                project.doc.path,
                "--wave, --since and --incremental need the migration state, "
                "which "
                "options.state.enabled: false turns off",
                line=project.doc.line_of(("options", "state", "enabled")),
                hint="remove enabled: false",
            )
        )
    return path, chosen


def _os_problem(out: Path, tmp: Path, exc: OSError) -> Problem:
    """A failure writing the tree, or reading a project file for the manifest, said plainly."""
    name = Path(exc.filename) if exc.filename else None
    writing = name is None or tmp in name.parents or name in (tmp, out) or out in name.parents
    if writing or exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return write_problem(out, exc)
    return unreadable(str(name), exc)


def _write_tree(
    tmp: Path, result: RunResult, earlier_dry_run: dict | None = None, release: bool = False
) -> list[dict[str, object]]:
    """Write every output into ``tmp``. With ``release`` (`run`'s ``keep_frames=False``), the sources' rows and
    the conformed frames are let go once the files that read them are written: at 1M records they are an
    eighth of what the run holds at its peak, which comes later (provenance, the migration state)."""
    migration = result.migration
    outputs: list[dict[str, object]] = []

    mobiles = migration.project.config.options.mask_mobiles

    def emit(
        rel: str,
        make: Callable[[], pl.DataFrame],
        plain: set[str] | frozenset[str] = frozenset(),
        keep: tuple[str, ...] = (),
    ) -> None:
        # Outside import/, an ID number (or, by the project option, a mobile) is masked in every column,
        # free text included; the tool's own record ids are left as they are. Formulas are neutralised,
        # phones and amounts left as they are. The frame is made inside the file's step, which times both.
        with step(f"Writing {rel}") as writing:
            frame = make()
            write_csv(mask_frame(frame, mobiles, keep), tmp / rel, plain=plain)
            writing.finish(frame.height)
        outputs.append({"path": rel, "rows": frame.height})

    def emit_parts(rel: str, make: Callable[[], Iterable[pl.DataFrame]]) -> None:
        # as emit, for a table made part by part and written as it comes. Its maker masks it whole before it
        # slices it (`mask_frame` masks a number it finds in one row in every other row, whichever part holds it).
        with step(f"Writing {rel}") as writing:
            rows = write_csv_parts(make(), tmp / rel)
            writing.finish(rows)
        outputs.append({"path": rel, "rows": rows})

    plain = {c for r in migration.reads for c in plain_columns(r.source)}

    written_ids: dict[str, set[str]] = {}
    target = result.target
    conformed: dict = result.conformed or {}
    batch = result.batch

    def write_entity(entity: Entity, res: EntityResult) -> None:
        # its import files (only this batch's records with the state: new or changed, of its wave) and rejects
        done: Conformed = conformed[entity]
        if batch is not None:
            done = sent_only(done, batch.sent(entity))
        written_ids[entity.value] = set(done.ids)
        if done.frame.height or batch is None or batch.kind == "full":
            for path, rows in write_import(done.frame, done.types, target.file, tmp / "import", entity, done.plain):
                outputs.append({"path": f"import/{path.name}", "rows": rows})
        emit(f"rejects/{entity.value}.csv", partial(rejects_frame, migration, res), plain)

    for entity, res in migration.entities.items():
        write_entity(entity, res)
    if batch is not None:
        emit("rejects/held_back.csv", lambda: held_back(result.lineage))
    if result.against is not None:  # new rows whose record of the state a steward decides
        emit("review/incremental.csv", partial(result.against.review, migration), keep=("record_id", "state_record"))
        # records of the state a new contact or deal ties together: a steward merges them in the CRM
        emit("review/state_merges.csv", result.against.state_merges, keep=("state_record", "other_state_record"))
    with step("Measuring quality for reports/", unit=""):  # the last to read the conformed frames
        report = quality(migration, result.reconciliation, result.conformed)
    if release:
        for r in migration.reads:
            r.release()
        result.conformed = conformed = {e: replace(c, frame=c.frame.clear()) for e, c in conformed.items()}
    with step("Checking every written record is in an import file", unit="records") as checking:
        sent = result.lineage if batch is None else result.lineage.filter(pl.col("batch") == batch.number)
        check_written(sent, written_ids, {orphan_id()})
        checking.finish(sum(len(ids) for ids in written_ids.values()))
    emit("lineage.csv", lambda: result.lineage, keep=("record_id",))
    with step("Writing review/duplicates.xlsx", unit="groups") as writing:
        review = write_workbook(tmp / "review" / "duplicates.xlsx", migration)
        writing.finish(review.listed)
    outputs.append({"path": "review/duplicates.xlsx", "rows": review.listed})  # groups listed
    emit(FULL_LIST, lambda: review.groups, keep=("record_id",))  # every group, listed or not
    emit_parts("review/provenance.csv", lambda: provenance_parts(migration))
    emit("review/orphans.csv", lambda: orphans_frame(migration))
    emit("review/stale_decisions.csv", lambda: stale_frame(migration))
    (tmp / "reports").mkdir(parents=True, exist_ok=True)
    with step("Writing reports/quality.json", unit=""):
        if earlier_dry_run is not None:
            # shown as stale, with why, when the project or its sources changed since the dry run
            report["dry_run"] = {
                **earlier_dry_run,
                "stale": stale_because(earlier_dry_run, migration.project.fingerprint(), _inputs(result)),
            }
        if batch is not None:
            report["batch"] = {
                "number": batch.number,
                "kind": batch.kind,
                "wave": batch.wave,
                "counts": batch.counts(),
                "waves": batch.accounting,
            }
        (tmp / "reports" / "quality.json").write_text(write_json(report), encoding="utf-8")
    with step("Writing reports/quality.html", unit=""):
        (tmp / "reports" / "quality.html").write_text(write_html(report), encoding="utf-8")
    outputs += [{"path": "reports/quality.json", "rows": None}, {"path": "reports/quality.html", "rows": None}]
    with step("Checksums of the files written", total=len(outputs), unit="files") as summing:
        for o in outputs:
            o["sha256"] = sha256_of(tmp / str(o["path"]))
            summing.advance()
    return outputs


def _write_manifest(tmp: Path, result: RunResult, outputs: list[dict[str, object]]) -> None:
    migration = result.migration
    project = migration.project
    manifest = {
        "tool": {"name": "crm-migrate", "version": __version__},
        "project": {
            "name": project.config.name,
            "target": project.config.target,
            "files_sha256": project.fingerprint(),
        },
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "inputs": _inputs(result),
        "target": {
            "name": result.target.name,
            "rests_on": result.target.rests_on,
            "file": result.target.file.model_dump(),
            "formulas_neutralised": {
                e.value: c.neutralised for e, c in (result.conformed or {}).items() if c.neutralised
            },
            "placeholder_account": _placeholder(result),
            "external_id": {
                e.value: h
                for e, c in (result.conformed or {}).items()
                for h in c.frame.columns
                if _is_external_id(result.target, e, h)
            },
            # the template's type of each column: verify compares numbers as numbers only where
            # the target stores numbers, so a phone or an id that came back as a number is a change
            "types": {e.value: {h: t.value for h, t in c.types.items()} for e, c in (result.conformed or {}).items()},
        }
        if result.target
        else None,
        "outputs": outputs,
        "batch": {
            "number": result.batch.number,
            "kind": result.batch.kind,
            "wave": result.batch.wave,
            "state": _relative(result.state, project.root) if result.state else None,
            "counts": result.batch.counts(),
        }
        if result.batch is not None
        else None,
        "timings_seconds": {k: round(v, 3) for k, v in migration.timings.items()},
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _inputs(result: RunResult) -> list[dict[str, object]]:
    """Everything the run read, each with its sha256 and its path relative to the project: the sources (with
    rows, encoding and sheets as read), then migration.yaml and the mappings, the lookup tables, the target
    profile (a built-in one as <built-in>/NAME.yaml) and the steward's decisions file."""
    migration = result.migration
    project = migration.project
    root = project.root
    out: list[dict[str, object]] = [
        {
            "kind": "source",
            "source": r.source.name,
            "path": r.source.rel_file,
            "sha256": r.sha256,
            "rows": r.rows,
            "encoding": r.table.encoding,
            "sheets": r.table.sheets,
        }
        for r in migration.reads
    ]
    files: list[tuple[str, Path]] = [("project", f) for f in project.project_files()]
    lookups = {
        root / f.derive.lookup.file
        for s in project.sources
        for plan in s.entities
        for f in plan.fields
        if f.derive is not None and f.derive.lookup is not None
    }
    files += [("lookup", f) for f in sorted(lookups)]
    target = locate(project.config.target, root)
    if target is not None:
        files.append(("target", target))
    if result.decisions is not None:
        files.append(("decisions", Path(result.decisions)))
    for kind, path in files:
        out.append({"kind": kind, "path": _relative(path, root), "sha256": sha256_of(path)})
    return out


def _relative(path: Path, root: Path) -> str:
    """A path as the manifest shows it: relative to the project (with .. if outside it), a built-in profile
    as <built-in>/NAME.yaml."""
    path, root = path.resolve(), root.resolve()
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    if path.is_relative_to(BUILT_IN.resolve()):
        return f"<built-in>/{path.name}"
    return Path(os.path.relpath(path, root)).as_posix()


def _is_external_id(target: TargetProfile, entity, header: str) -> bool:
    return any(c.header == header and c.value == "external_id" for c in target.entities[entity].columns)


def _dry_run_findings(out: Path) -> dict | None:
    """The findings of an earlier dry run in ``out/dry-run``, for the full run's quality report (None where
    there is none, or its report is not one of ours)."""
    try:
        found = json.loads((out / DRY_RUN / "reports" / "quality.json").read_text(encoding="utf-8")).get("dry_run")
    except (OSError, ValueError, AttributeError):
        return None
    needed = {"sample": dict, "findings": int, "errors": int, "summary": list, "examples": list}
    if (
        not isinstance(found, dict)
        or not all(isinstance(found.get(k), t) for k, t in needed.items())
        or not all(isinstance(x, dict) for k in ("summary", "examples") for x in found[k])
    ):
        return None
    suites = found.get("suites")
    keys = {"suite", "expectations", "failed", "status", "why", "results"}
    if not (
        isinstance(suites, list)
        and all(isinstance(x, dict) and keys <= x.keys() and isinstance(x["results"], list) for x in suites)
    ):
        found["suites"] = None
    if not isinstance(found.get("inputs"), list) or not all(isinstance(i, dict) for i in found["inputs"]):
        found["inputs"] = []
    return found


def _placeholder(result: RunResult) -> dict[str, object] | None:
    """The placeholder account orphans were linked to, and how many rows of each entity point at it."""
    linked = {e.value: c.orphans for e, c in (result.conformed or {}).items() if c.orphans}
    if not linked:
        return None
    options = result.migration.project.config.options.orphans
    return {"external_id": orphan_id(), "name": options.account_name, "children": linked}


def _check_out_folder(out: Path, project: Project) -> None:
    """Refuse to replace a folder that crm-migrate did not write, or one that holds the project."""
    resolved = out.resolve()
    inside = [s for s in project.sources if resolved in s.file.parents]
    if resolved == project.root.resolve() or resolved in project.root.resolve().parents or inside:
        raise MigrateError(
            Problem(
                str(out),
                "the output folder would replace the project or its sources",
                hint="choose another --out, e.g. PROJECT/out",
            )
        )
    if out.exists() and not out.is_dir():
        raise MigrateError(
            Problem(
                str(out),
                "--out names a file, not a folder",
                hint="choose a folder for the output tree (a new one, or one crm-migrate wrote)",
            )
        )
    ours = re.compile(rf"^(?:{DRY_RUN}|\.{DRY_RUN}\.(?:lock|tmp-\d+|old-\d+))$")  # a dry run's, or what it left
    if out.exists() and any(not ours.match(p.name) for p in out.iterdir()) and not (out / MANIFEST).is_file():
        raise MigrateError(
            Problem(
                str(out),
                "the output folder exists and was not written by crm-migrate",
                hint="choose another --out, or empty the folder first",
            )
        )


def _check_sources_unchanged(migration: Migration) -> None:
    problems = []
    for r in migration.reads:
        try:
            same = sha256_of(r.source.file) == r.sha256
        except OSError as exc:
            problems.append(
                Problem(
                    r.source.shown_file,
                    f"the file was deleted or moved while the run was reading it ({exc.strerror}); nothing was written",
                    hint="put it back (or correct 'file:' in its mapping) and run again",
                )
            )
            continue
        if not same:
            problems.append(
                Problem(
                    r.source.shown_file,
                    "the file changed while the run was reading it",
                    hint="close any program writing it and run again",
                )
            )
    if problems:
        raise SourceError(problems)


def _replace(out: Path, tmp: Path, mode: Modes = PRIVATE) -> None:
    """Put the new tree in place of the old; an earlier dry run's folder stays (it is not this run's).
    Should anything fail between setting the old tree aside and putting the new one in place, the old one
    is put back; a run killed right there has it put back by the next run (`tidy_leftovers`)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    try:
        if (old / DRY_RUN).is_dir() and not (tmp / DRY_RUN).exists():
            (old / DRY_RUN).rename(tmp / DRY_RUN)
        restrict(tmp, mode)
        tmp.rename(out)
    except BaseException:
        if old.exists() and not out.exists():
            if (tmp / DRY_RUN).is_dir() and not (old / DRY_RUN).exists():
                (tmp / DRY_RUN).rename(old / DRY_RUN)
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
