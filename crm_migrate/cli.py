"""The ``crm-migrate`` command: a thin layer that parses arguments, calls the library's function for the verb
(`crm_migrate`'s front door) and renders its result with rich (`crm_migrate.reports.console`). The exit
status is the result's ``exit_code`` (a `MigrateError`'s: 1); errors are printed as ``path:line: message —
hint``; 2 on wrong usage, 130 on Ctrl-C (one line, after every temporary file is removed), 3 only for a bug."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand

import crm_migrate
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.version import __version__


class _Argument(TyperArgument):
    """An argument shown by its metavar alone: PROJECT, FILE..., not {project} or <list[Path]>."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx) -> str | None:
        return None


class _Command(TyperCommand):
    """A command whose help and usage show arguments by their metavars (every verb uses it)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument


app = typer.Typer(
    name="crm-migrate",
    help="Move a company's scattered customer data into a new CRM, clean.\n\n"
    "A project folder holds migration.yaml and mappings/*.yaml. Check it with 'validate', see what would "
    "happen with 'plan', and write the import files with 'run'.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ProjectDir = Annotated[
    Path,
    typer.Argument(
        help="The migration project folder (holding migration.yaml).", metavar="PROJECT", show_default=False
    ),
]


Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress on stderr (errors and warnings are still printed).")
]
Verbose = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="A timing line on stderr for each step as it finishes: seconds, step, count."),
]
_before_verb = {"quiet": False, "verbose": False}  # --quiet / --verbose given before the verb


class Format(str, Enum):
    text = "text"
    github = "github"
    json = "json"


def _version(value: bool) -> None:
    if value:
        out.print(f"crm-migrate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    no_color: Annotated[
        bool,
        typer.Option("--no-color", help="No colours in the output (as the NO_COLOR environment variable says too)."),
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    import os

    # rich reads NO_COLOR when a console is made; read it again here, for a process that set it since
    out.no_color = err.no_color = no_color or bool(os.environ.get("NO_COLOR"))
    _before_verb.update(quiet=quiet, verbose=verbose)  # every invocation: CliRunner reuses the process


def _print_problems(problems: list[Problem], console: Console = err) -> None:
    for p in problems:
        style = "red" if p.severity == "error" else "yellow"
        console.print(p.render(), style=style, markup=False)


def _fail(exc: MigrateError) -> typer.Exit:
    _print_problems(exc.problems)
    errors = sum(p.severity == "error" for p in exc.problems)
    err.print(f"{errors} error(s); nothing was written.", style="bold red")
    return typer.Exit(exc.exit_code)


def _exit(result) -> None:
    """End the command with the result's exit status, where it is not 0."""
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@contextmanager
def _progress(quiet: bool, verbose: bool) -> Iterator[None]:
    """The library's steps shown on stderr while the block runs: bars on a terminal, a timing line per step
    with --verbose, nothing with --quiet (given before the verb or after it)."""
    from crm_migrate.progress import shown

    quiet, verbose = quiet or _before_verb["quiet"], verbose or _before_verb["verbose"]
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose contradict each other; give one", param_hint="--quiet")
    with shown(err, quiet, verbose):
        yield


MaxRejects = Annotated[
    int | None,
    typer.Option(
        "--max-rejects",
        min=0,
        metavar="N",
        show_default=False,
        help="Exit 1 when more than N rows of an entity would be rejected.",
    ),
]
MaxRejectShare = Annotated[
    float | None,
    typer.Option(
        "--max-reject-share",
        min=0.0,
        max=1.0,
        metavar="P",
        show_default=False,
        help="Exit 1 when more than this share (0 to 1) of an entity's rows in scope (not filtered) would be rejected.",
    ),
]


@app.command(cls=_Command)
def validate(
    project: ProjectDir,
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="text: path:line lines; github: GitHub Actions annotations; json: a machine-readable list.",
        ),
    ] = Format.text,
    max_rejects: MaxRejects = None,
    max_reject_share: MaxRejectShare = None,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            metavar="DIR",
            show_default=False,
            help="The folder annotations' paths are relative to "
            "(--format github) [default: the git repository holding the project, else the current folder].",
        ),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Check the project files and the headers of the sources (cheap: the data is read only for the checks of
    values, and whole, as 'plan' reads it, only with --max-rejects or --max-reject-share).

    Exit status 1 if there is any error. This is what CI runs on mapping files.
    """
    with _progress(quiet, verbose):
        checked = crm_migrate.validate(project, max_rejects=max_rejects, max_reject_share=max_reject_share)
    problems, errors = checked.problems, checked.errors
    if format is Format.json:
        out.print_json(
            json.dumps(
                {
                    "errors": len(errors),
                    "warnings": len(problems) - len(errors),
                    "problems": [p.as_dict() for p in problems],
                },
                ensure_ascii=False,
            )
        )
    elif format is Format.github:
        base = root or _repository_root(project) or Path.cwd()
        for p in problems:
            out.print(_annotation(p, base), markup=False)
    else:
        _print_problems(problems, out)
        verdict = "[green]valid[/]" if not errors else f"[red]{len(errors)} error(s)[/]"
        out.print(f"{project}: {verdict}, {len(problems) - len(errors)} warning(s)")
    _exit(checked)


def _repository_root(project: Path) -> Path | None:
    """The git repository (or worktree) holding the project folder: the nearest folder up with a .git."""
    here = project.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _relative_to(path: str, base: Path) -> str:
    """``path`` (as the problem names it, relative to the current folder or absolute) relative to ``base``,
    with forward slashes; a path outside ``base``, or none of a file (<built-in>/generic.yaml), as it is."""
    if path.startswith("<") or path.startswith("--"):
        return path
    try:
        return (Path.cwd() / path).resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError):
        return path


def _annotation(p: Problem, base: Path | None = None) -> str:
    def esc(text: str, props: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if props else text

    path = _relative_to(p.path, base) if base is not None else p.path
    props = f"file={esc(path, True)}" + (f",line={p.line}" if p.line else "") + ",title=crm-migrate"
    message = p.message + (f" — {p.hint}" if p.hint else "")
    if p.sheet or p.column:
        message = f"{p.location()}: {message}"
    return f"::{p.severity} {props}::{esc(message)}"


class PlanFormat(str, Enum):
    text = "text"
    json = "json"


@app.command(cls=_Command)
def plan(
    project: ProjectDir,
    format: Annotated[
        PlanFormat,
        typer.Option(
            "--format",
            "-f",
            help="text: tables; json: the same, as one JSON document on stdout (see README).",
            metavar="FORMAT",
        ),
    ] = PlanFormat.text,
    all_warnings: Annotated[bool, typer.Option("--all", help="List every warning, not the first 5.")] = False,
    max_rejects: MaxRejects = None,
    max_reject_share: MaxRejectShare = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Read everything and say what 'run' would do, without writing anything.

    Per source: rows, encoding, sheets, mapped and unmapped columns. Per entity: rows written, merged,
    filtered out of scope and rejected. Exit status 1 where 'run' would fail, where an entity in scope would
    write nothing, or where rejected rows exceed --max-rejects or --max-reject-share.
    """
    from crm_migrate.reports.console import render_plan

    try:
        with _progress(quiet, verbose):
            planned = crm_migrate.plan(
                crm_migrate.load_project(project), max_rejects=max_rejects, max_reject_share=max_reject_share
            )
    except MigrateError as exc:
        raise _fail(exc) from None
    if format is PlanFormat.json:
        typer.echo(json.dumps(planned.facts, ensure_ascii=False, indent=2))
    else:
        render_plan(planned.facts, out, all_warnings)
    _print_problems(planned.problems)
    _exit(planned)


@app.command(cls=_Command)
def run(
    project: ProjectDir,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder [default: PROJECT/out]. Replaced only when the run succeeds.",
            metavar="DIR",
        ),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions",
            help="The review workbook (or CSV) with a steward's decisions on duplicates; overrides "
            "'decisions' in migration.yaml.",
            metavar="FILE",
        ),
    ] = None,
    wave: Annotated[
        str | None,
        typer.Option(
            "--wave",
            help="Write the records of this wave only (waves in "
            "migration.yaml); links to accounts of earlier waves come from the "
            "state.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Write every record (of the wave), not only those new or changed since the last run."
        ),
    ] = False,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="The migration state to compare with and record into [default: the project's, options.state.file].",
            metavar="STATE",
            show_default=False,
        ),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Read only the sources the state has not "
            "seen and match their rows against the state's records (joined, "
            "new, or to review), with its weights.",
        ),
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Clean, merge and map every source and write the import files, rejects, lineage and reports. Once a
    run has recorded its batch in the migration state, a run writes only what is new or changed since."""
    from crm_migrate.migrate.state_views import batch_lines
    from crm_migrate.reports.console import render_summary

    try:
        with _progress(quiet, verbose):
            result = crm_migrate.run(
                crm_migrate.load_project(project),
                out_dir,
                decisions=decisions,
                wave=wave,
                full=full,
                since=since,
                incremental=incremental,
                keep_frames=False,  # only the counts are printed: the frames go once written
            )
    except MigrateError as exc:
        raise _fail(exc) from None
    _print_problems(result.notes)
    render_summary(result.summary(), out)
    for line in batch_lines(result):
        out.print(line, markup=False)
    _exit(result)


@app.command("dry-run", cls=_Command)
def dry_run(
    project: ProjectDir,
    sample: Annotated[
        int,
        typer.Option(
            "--sample",
            "-n",
            min=1,
            help="Source rows in the sample (the accounts its children need are added).",
            metavar="N",
        ),
    ] = 300,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Load into PostgreSQL at this URL (postgresql://user:pw@host/db) instead of an embedded "
            "SQLite; nothing is kept either way.",
            show_default=False,
            metavar="URL",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Output folder [default: PROJECT/out/dry-run].")
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Import a representative sample first: the same code as 'run', then the files read back as the target
    reads them, validated with a Great Expectations suite built from the target profile, and loaded into a
    database with the template's constraints inside a transaction that is rolled back.

    Exit status 1 if any finding would make the real import fail or lose records.
    """
    from crm_migrate.reports.console import render_dry_run

    try:
        with _progress(quiet, verbose):
            result = crm_migrate.dry_run(crm_migrate.load_project(project), out_dir, sample, database)
    except MigrateError as exc:
        raise _fail(exc) from None
    _print_problems(result.result.notes)
    render_dry_run(result.summary(), out)
    _exit(result)


@app.command(cls=_Command)
def verify(
    project: ProjectDir,
    entity: Annotated[
        str,
        typer.Option(
            "--entity",
            "-e",
            help="accounts, contacts, opportunities or activities.",
            show_default=False,
            metavar="ENTITY",
        ),
    ],
    exported: Annotated[
        Path,
        typer.Option(
            "--exported",
            help="The target's export of those records after the import (CSV or workbook).",
            show_default=False,
            metavar="FILE",
        ),
    ],
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Column(s) to match records by when the export has no external id; repeat for several.",
            metavar="COLUMN",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The run's output folder whose import files were imported [default: PROJECT/out].",
            metavar="DIR",
        ),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """After the import: compare the target's export with what was sent. Counts, records missing or extra,
    and every value that came back different (truncated, lost characters, dropped, moved dates).

    Exit status 1 if anything is missing, extra or different.
    """
    from crm_migrate.migrate.state_views import verify_batch
    from crm_migrate.reports.console import render_verification

    try:
        with _progress(quiet, verbose):
            result = verify_batch(project, out_dir or project / "out", entity, exported, key)
    except MigrateError as exc:
        raise _fail(exc) from None
    render_verification(result, out)
    if result.batch is not None:
        out.print(
            f"Batch {result.batch}: {result.earlier} exported record(s) were sent by earlier batches (not "
            "extra); the result is recorded in the migration state.",
            markup=False,
        )
    _exit(result)


def _exports(exported: list[str], entity: str | None) -> dict[str, Path]:
    """``--exported FILE`` (of ``--entity``, default accounts) or ``--exported ENTITY=FILE``, once per entity."""
    from crm_migrate.mappings.entities import Entity

    names = {e.value for e in Entity}
    out: dict[str, Path] = {}
    for given in exported:
        name, sep, file = given.partition("=")
        if sep and name not in names and not Path(given).exists() and re.fullmatch(r"[A-Za-z_]+", name):
            # acounts=a.csv: a misspelt entity, not a file whose name holds '='
            from crm_migrate.errors import did_you_mean

            raise typer.BadParameter(
                f"{name!r} is no entity"
                + (f", {hint}" if (hint := did_you_mean(name, sorted(names))) else "")
                + f" (entities: {', '.join(sorted(names))})",
                param_hint="--exported",
            )
        if not sep or name not in names:
            name, file = entity or "accounts", given
        if name in out:
            raise typer.BadParameter(
                f"two exports of {name}: give each entity once (ENTITY=FILE)", param_hint="--exported"
            )
        out[name] = Path(file)
    return out


@app.command(cls=_Command)
def watch(
    project: ProjectDir,
    exported: Annotated[
        list[str],
        typer.Option(
            "--exported",
            help="The CRM's export (CSV or workbook): FILE, of --entity, or ENTITY=FILE; repeat for each entity.",
            show_default=False,
            metavar="[ENTITY=]FILE",
        ),
    ],
    entity: Annotated[
        str | None,
        typer.Option(
            "--entity",
            "-e",
            help="The entity of an --exported FILE given without ENTITY= [default: accounts].",
            show_default=False,
            metavar="ENTITY",
        ),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="The migration state [default: the project's, options.state.file].",
            metavar="STATE",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for watch.html, watch.json and duplicates.csv [default: PROJECT/watch/<UTC time>].",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """After go-live, the quality of the new CRM's export: duplicates of records created since go-live,
    invalid and incomplete values by field and owner, and each figure against the last watch.

    Exit status 1 when a figure is above its limit in migration.yaml (watch:), 2 when the export or the
    project cannot be used, 0 otherwise: made for a nightly CI job.
    """
    from crm_migrate.reports.watch import summary_lines

    exports = _exports(exported, entity)
    try:
        with _progress(quiet, verbose):
            result = crm_migrate.watch(crm_migrate.load_project(project), exports, since=since, out=out_dir)
    except MigrateError as exc:
        _fail(exc)
        raise typer.Exit(2) from None
    for line in summary_lines(result.report):
        out.print(line, markup=False, style="red" if line.startswith("over the limit") else None)
    out.print(
        f"Report: {result.folder / 'watch.html'}" + ("" if result.recorded else " (not kept: no state)"), markup=False
    )
    _exit(result)


@app.command(cls=_Command)
def schema(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Folder to write the schema files to.")
    ] = Path("."),
) -> None:
    """Write the JSON Schema of migration.yaml and of the mapping files, for editors to complete and check.

    With the YAML extension of VS Code, put '# yaml-language-server: $schema=mapping.schema.json' at the top
    of a mapping file.
    """
    from crm_migrate.mappings.schemas import write_schemas

    for path in write_schemas(out_dir):
        out.print(f"wrote {path}")


@app.command(cls=_Command)
def init(
    folder: Annotated[Path, typer.Argument(help="The project folder to create.", metavar="FOLDER", show_default=False)],
    sources: Annotated[
        list[Path],
        typer.Option(
            "--source",
            "-s",
            help="A source file (CSV, XLSX, vCard); repeat for each, in priority order.",
            show_default=False,
            metavar="FILE",
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            "-t",
            help="Target profile: a built-in name or a profile "
            "file (copied into targets/); picklist values are mapped onto its "
            "values.",
            metavar="NAME|FILE",
        ),
    ] = "generic",
) -> None:
    """Start a project: copy the sources into FOLDER/data and write mappings that already map the columns
    whose header or values say what they are, each guess with a comment to review."""
    from crm_migrate.migrate.suggest import init_project

    global interrupted_note
    interrupted_note = f"interrupted; {folder} may be incomplete: delete it and run init again"
    try:
        written = init_project(folder, sources, target)
    except MigrateError as exc:
        raise _fail(exc) from None
    for path in written:
        out.print(f"wrote {path}")
    out.print(f"Review the mappings, then: crm-migrate validate {folder} && crm-migrate plan {folder}")


class StateAction(str, Enum):
    show = "show"
    export = "export"
    reset = "reset"


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


@app.command("state", cls=_Command)
def state(
    project: ProjectDir,
    action: Annotated[
        StateAction,
        typer.Argument(
            help="show: batches, golden records by wave, verify results, "
            "the matching kept; export: every table to files; reset: forget "
            "every batch (asks for --yes).",
            metavar="show|export|reset",
            show_default=False,
        ),
    ],
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            "--file",
            help="Another state file [default: the project's, options.state.file].",
            metavar="STATE",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="export: csv, parquet or json.", metavar="FORMAT")
    ] = ExportFormat.csv,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="export: the folder [default: PROJECT/state/export].", metavar="DIR", show_default=False
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="reset: yes, forget every batch.")] = False,
) -> None:
    """The migration state: what every run wrote, in which batch and wave, and how each batch verified."""
    from crm_migrate.migrate import state_views
    from crm_migrate.migrate.state import locate
    from crm_migrate.project import load_project

    try:
        loaded = load_project(project)
        path = locate(loaded, since, loaded.root / "out")
        if path is None:
            raise MigrateError(
                Problem(
                    loaded.doc.path,
                    "this project keeps no migration state (options.state.enabled: false)",
                    hint="give --since FILE",
                )
            )
        if action is StateAction.show:
            for line in state_views.show(path):
                out.print(line, markup=False)
        elif action is StateAction.export:
            folder = out_dir or loaded.root / "state" / "export"
            for written in state_views.export(path, folder, format.value):
                out.print(f"wrote {written}", markup=False)
        elif not state_views.reset(path, yes):
            err.print(
                f"{path}: reset forgets every batch the state remembers, and the next run writes every "
                "record again; add --yes to do it",
                markup=False,
            )
            raise typer.Exit(2)
        else:
            out.print(f"removed {path}; the next run writes every record and starts a new state", markup=False)
    except MigrateError as exc:
        raise _fail(exc) from None


target_app = typer.Typer(help="Target profiles: what the target CRM's import template accepts.", no_args_is_help=True)
app.add_typer(target_app, name="target")


@target_app.command("from-describe", cls=_Command)
def from_describe(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Describe JSON files: a Salesforce sObject describe or a Fxiaoke object describe, one object each.",
            show_default=False,
            metavar="FILE",
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", help="Profile name; the project uses it as target: NAME.", metavar="NAME")
    ] = "tenant",
    project: Annotated[
        Path,
        typer.Option(
            "--project", "-p", help="Project folder; the profile is written to its targets/NAME.yaml.", metavar="DIR"
        ),
    ] = Path("."),
    fmt: Annotated[
        str, typer.Option("--format", help="csv or xlsx [default: xlsx for Fxiaoke, csv otherwise]", metavar="csv|xlsx")
    ] = "",
) -> None:
    """Build a target profile from the tenant's own field metadata: its custom fields, required flags and
    picklists, instead of a guess. Fields no crm-migrate field fills are listed with value: null."""
    from crm_migrate.mappings.describe import write_profile

    try:
        written = write_profile(name, files, project, fmt)
    except MigrateError as exc:
        raise _fail(exc) from None
    blank = written.unfilled
    out.print(f"wrote {written.path}" + (f"; {blank} column(s) still need a value (value: null)" if blank else ""))
    out.print(f"Use it with 'target: {name}' in migration.yaml, then run 'crm-migrate validate'.")


class Interrupted(BaseException):
    """Ctrl-C or a termination signal: raised where the program is, so every cleanup on the way runs.

    Not a KeyboardInterrupt, which typer turns into a silent exit of its own."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


INTERRUPTED = "interrupted; nothing was written or replaced (the output folder is as it was)"
interrupted_note = INTERRUPTED  # a verb that cannot promise it (init) says what to do instead


_signalled: list[int] = []  # the signal received, if one was


def _on_signal(signum, frame) -> None:
    import signal

    _signalled.append(signum)

    # A second Ctrl-C while the first one's cleanup runs is ignored: the cleanup must finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


def main() -> None:
    """Entry point: a bug in crm-migrate gets a short message and a log file, not a traceback on screen;
    Ctrl-C one line and exit 130; a disk or permission failure nobody caught a plain message and exit 1."""
    import os
    import signal

    try:
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        app()
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        err.print(interrupted_note, style="bold red", markup=False)
        raise SystemExit(128 + int(signum)) from None
    except OSError as exc:
        if os.environ.get("CRM_MIGRATE_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(
            f"{where}error: {exc.strerror or exc} — check the disk, the folder and its permissions, then run again",
            style="bold red",
            markup=False,
        )
        raise SystemExit(1) from None
    except SystemExit:
        raise
    except BaseException as exc:  # the last line of defence (a PanicException is no Exception)
        import tempfile
        import traceback

        if _signalled:  # the interrupt surfaced through a library as its own error
            err.print(interrupted_note, style="bold red", markup=False)
            raise SystemExit(128 + _signalled[0]) from None
        if os.environ.get("CRM_MIGRATE_DEBUG"):
            raise
        fd, log = tempfile.mkstemp(prefix="crm-migrate-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(traceback.format_exc())
        err.print(f"internal error: {type(exc).__name__}: {exc}".splitlines()[0], style="bold red", markup=False)
        err.print(
            f"This is a bug in crm-migrate {__version__}. The details are in {log}; please report them "
            "with the command you ran.",
            markup=False,
        )
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
