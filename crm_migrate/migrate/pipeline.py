"""The migration in memory: read every source, then per entity extract, merge and link.

`build` is shared by ``plan`` (which only reports) and ``run`` (which writes), so the two cannot disagree.
Entities are built in load order: accounts first, so that children can be linked to what the accounts
became.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from crm_migrate.cleaners import CleanContext
from crm_migrate.cleaners.helper import FROM_BYTES, done_helping, helping
from crm_migrate.errors import Problem, ProjectError, SourceError, unreadable
from crm_migrate.mappings.entities import (
    ACCOUNT_LINK,
    CATALOGUE,
    ID_FIELD,
    MULTI_VALUED,
    OUTPUT_PARTS,
    Entity,
    FieldSpec,
    has_account_link,
)
from crm_migrate.mappings.models import MatchingOptions
from crm_migrate.migrate import memory
from crm_migrate.migrate.columns import (
    EMPTY,
    KEY,
    OUTCOME,
    REASON,
    RECORD_ID,
    ROW,
    RULE,
    SEQ,
    SHEET,
    SOURCE,
    SYSTEM,
    WRITTEN,
    attr,
    key,
    notes,
    raw,
    require,
    val,
    why,
)
from crm_migrate.migrate.decisions import Applied, read_decisions
from crm_migrate.migrate.dedupe import Related, drop_features, resolve, with_features
from crm_migrate.migrate.extract import extract, legacy_id
from crm_migrate.migrate.features import account_context, related_to_accounts
from crm_migrate.migrate.incremental import compared_blob
from crm_migrate.migrate.link import ACCOUNT, account_index, id_collisions, link, orphan_id, same_row_index
from crm_migrate.migrate.match import MatchResult, MatchSettings, WeightsError
from crm_migrate.migrate.merge import LABEL, assign_identity, name_quality, settle
from crm_migrate.migrate.readers import SourceTable, read_source
from crm_migrate.migrate.state import Blob
from crm_migrate.project import Project, Source
from crm_migrate.secret import project_secret
from crm_migrate.steps import step

# What every extracted frame holds, and every later stage reads: where each row came from, its place in the
# run, and its outcome so far (`columns.require` checks it at each stage boundary).
EXTRACTED = (SOURCE, SHEET, ROW, SEQ, SYSTEM, OUTCOME, REASON, RULE)


@dataclass
class SourceRead:
    source: Source
    table: SourceTable
    sha256: str
    read_warnings: tuple[Problem, ...] = ()  # the table's warnings as read, before extraction adds its own
    released: int | None = None  # the rows read, once the frame of them is let go (`release`)

    @property
    def rows(self) -> int:
        return self.released if self.released is not None else self.table.frame.height

    def release(self) -> None:
        """Let the rows as read go once nothing left to write reads them (a run's rejects are the last): at 1M
        records they are a sixteenth of the run's peak. The table keeps its columns, figures and warnings."""
        self.released = self.rows
        self.table = replace(self.table, frame=self.table.frame.clear())


@dataclass
class EntityResult:
    entity: Entity
    frame: pl.DataFrame  # one row per source row of every source mapping this entity
    fields: list[FieldSpec]  # the data fields written, in order
    matches: MatchResult | None = None  # scored candidate pairs, for evidence and review
    decisions: Applied | None = None  # the steward's decisions for this entity: applied and stale
    settings: MatchSettings | None = None
    # what matching compared of each live row (its k: and m: columns, by _seq), encoded for the migration state
    # so that a later --incremental run matches new rows against these (`incremental.compared_blob`); None
    # without a state
    compared: Blob | None = None

    def written(self) -> pl.DataFrame:
        return self.written_lazy().collect()

    def written_lazy(self) -> pl.LazyFrame:
        """The written rows, lazily: a caller that selects a few columns filters and sorts only those (the
        whole frame is some 100 columns; a filter of all of them copies the entity)."""
        return self.frame.lazy().filter(pl.col(OUTCOME) == WRITTEN).sort(SEQ)

    def review_pairs(self) -> pl.DataFrame:
        """Scored pairs in the review band (at or above ``review``, below ``merge``): a steward decides them."""
        if self.matches is None or self.settings is None:
            return pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64})
        p = pl.col("probability")
        return self.matches.pairs.filter((p >= self.settings.review) & (p < self.settings.merge))


@dataclass
class Migration:
    project: Project
    reads: list[SourceRead]
    entities: dict[Entity, EntityResult]
    timings: dict[str, float] = field(default_factory=dict)
    secret: bytes = field(default=b"", repr=False)  # the project secret: fingerprints in the review workbook
    # per source: what the stages after reading found (a 同上 column, account ids read as one), after what
    # its reading found; kept here, not in the table read, which a dry run's sample extracts again
    stage_warnings: dict[str, list[Problem]] = field(default_factory=dict)
    moved_ids: dict[Entity, int] = field(default_factory=dict)  # golden records that kept the state's id

    @property
    def warnings(self) -> list[Problem]:
        return [w for r in self.reads for w in (*r.table.warnings, *self.stage_warnings.get(r.source.name, ()))]


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


Sample = dict[str, pl.DataFrame]  # source name -> the (_sheet, _row) of the rows to keep


def read_all(project: Project, sample: Sample | None = None, done: list[SourceRead] | None = None) -> list[SourceRead]:
    """Read every source; a mapped column the file lacks stops the run before anything is built.

    With ``sample`` (the dry run's), only those rows of each source are kept, right after reading, so
    everything after the reader is what ``run`` does. ``done``: the same sources as an earlier build of this
    project read them (the dry run's full prepare): the sample is taken from those tables, as they were
    read, instead of reading every file a second time.
    """
    if sample is not None and done is not None:
        return [_sampled(r, sample) for r in done]
    from crm_migrate.validators.columns import check_columns

    reads, problems = [], []
    for source in project.sources:
        with step(f"Reading {source.rel_file} ({source.name})") as reading:
            try:
                digest = sha256_of(source.file)
            except OSError as exc:
                raise SourceError(unreadable(source.shown_file, exc)) from None
            table = read_source(source, max_cell_bytes=project.config.options.limits.cell_bytes)
            reading.finish(table.frame.height)
        if table.records is None:
            table.records = table.frame.height
        if table.frame.height == 0 and sample is None:
            table.warnings.append(
                Problem(
                    source.shown_file,
                    "the file has a header and no data rows",
                    severity="warning",
                    hint=f"export it again with its rows, or take {source.name!r} out of sources in migration.yaml",
                )
            )
        if sample is not None:
            table.frame = _sample_rows(table.frame, source.name, sample)
        found = check_columns(source, table)
        table.warnings += [p for p in found if p.severity == "warning"]
        problems += [p for p in found if p.severity == "error"]
        reads.append(SourceRead(source, table, digest, tuple(table.warnings)))
    if problems:
        raise ProjectError(problems)
    return reads


def _sampled(read: SourceRead, sample: Sample) -> SourceRead:
    """A source read earlier, with only the sample's rows: a table of its own (the earlier one is left as it
    is), its warnings as the reader left them, and what is worked out per row (non_records) to do again."""
    table = replace(
        read.table,
        frame=_sample_rows(read.table.frame, read.source.name, sample),
        warnings=list(read.read_warnings),
        non_records=None,
    )
    return SourceRead(read.source, table, read.sha256, read.read_warnings)


def _sample_rows(frame: pl.DataFrame, source: str, sample: Sample) -> pl.DataFrame:
    """The rows of one source's table the sample keeps, in their order."""
    keep = sample.get(source, pl.DataFrame(schema={SHEET: pl.String, ROW: pl.Int64}))
    return frame.join(keep.unique(), on=[SHEET, ROW], how="semi", nulls_equal=True, maintain_order="left")


def _decisions_path(project: Project, given: Path | None) -> Path | None:
    """The decisions file to read: ``--decisions`` (relative to where the command runs) or migration.yaml's
    ``decisions:`` (relative to the project); either must lie inside the project or an allow_outside folder."""
    configured = project.config.decisions
    if given is not None:
        refusal = project.confinement.check(Path(given).absolute(), "decisions file", relative_to=Path.cwd())
        where, line = str(given), None
    elif configured:
        refusal = project.confinement.check(configured, "decisions file")
        given = project.root / configured
        where, line = project.doc.path, project.doc.line_of(("decisions",))
    else:
        return None
    if refusal is not None:
        raise ProjectError(Problem(where, refusal.message, line=line, hint=refusal.hint))
    from crm_migrate.migrate.readers.inspect import check_workbook

    check_workbook(Path(given), str(given), project.config.options.limits)  # a bomb is refused unopened
    return Path(given)


def build(
    project: Project,
    today: dt.date | None = None,
    decisions_file: Path | None = None,
    sample: Sample | None = None,
    done: list[SourceRead] | None = None,
    against=None,
    recording: bool = True,
) -> Migration:
    """The migration of ``project``. With ``against`` (an `incremental.Against`), the rows read are new ones,
    matched against the migration state's records instead of among themselves alone. ``recording``: whether
    the migration state will record this build (else what matching compared is not kept for it: `plan`)."""
    # the helper process boots while the sources are read and cleans half of each large batch of values
    # until the cleaning is over (crm_migrate.cleaners.helper)
    with helping(sample is None and _source_bytes(project) >= FROM_BYTES):
        return _build(project, today, decisions_file, sample, done, against, recording)


def clean_context(project: Project) -> CleanContext:
    """What the cleaners are told of the project: its region, script, e-mail typo rule, and the project secret
    (which keys ID numbers' match keys and the fingerprints decisions are checked by)."""
    options = project.config.options
    return CleanContext(
        region=options.default_region,
        simplified_output=options.simplified_output,
        fix_email_typos=options.fix_email_typos,
        secret=project_secret(project.root),
    )


def _source_bytes(project: Project) -> int:
    total = 0
    for s in project.sources:
        with contextlib.suppress(OSError):  # the read says why it cannot be read
            total += s.file.stat().st_size
    return total


def _build(
    project: Project,
    today: dt.date | None,
    decisions_file: Path | None,
    sample: Sample | None,
    done: list[SourceRead] | None,
    against=None,
    recording: bool = True,
) -> Migration:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if sample is None and (
        too_big := memory.check(
            [s.file for s in project.sources],
            project.config.options.memory_limit,
            project.doc.path,
            project.doc.line_of(("options", "memory_limit")) if project.config.options.memory_limit else None,
        )
    ):
        raise ProjectError(too_big)  # before anything is read: better a message now than a kill an hour in
    decisions_path = _decisions_path(project, decisions_file)
    decisions = []
    if decisions_path:
        with step(f"Reading decisions {decisions_path.name}", unit="decisions") as reading:
            decisions = read_decisions(decisions_path)
            reading.finish(len(decisions))
    reads = read_all(project, sample, done)
    timings["read"] = time.perf_counter() - started
    options = project.config.options
    ctx = clean_context(project)
    today = today or project.config.options.today or dt.date.today()
    offsets, total = {}, 0
    for r in reads:
        offsets[r.source.name] = total
        total += r.rows

    results: dict[Entity, EntityResult] = {}
    accounts: pl.DataFrame | None = None
    orphan = orphan_id() if options.orphans.send_to == "account" else None
    # Every entity's records are extracted first: an account's matching reads its contacts.
    extracted: dict[Entity, list[tuple[SourceRead, pl.DataFrame]]] = {}
    errors: list[Problem] = []  # stop the run once every source is extracted
    stage_warnings: dict[str, list[Problem]] = {}
    for entity in project.entities:
        started = time.perf_counter()
        feeding = [(r, plan) for r in reads if (plan := r.source.plan_for(entity)) is not None]
        with step(f"Cleaning {entity.value}", total=sum(r.rows for r, _ in feeding)) as cleaning:
            for r, plan in feeding:
                part, found, warned = extract(
                    r.source, r.table, plan, offsets[r.source.name], ctx, today, options.test_records
                )
                require(part, EXTRACTED, f"extract of {entity.value} from {r.source.name}")
                errors += found
                stage_warnings.setdefault(r.source.name, []).extend(warned)
                extracted.setdefault(entity, []).append((r, compact(assign_identity(part, entity, legacy_id(plan)))))
                cleaning.advance(r.rows)
        timings[f"{entity.value}.clean"] = time.perf_counter() - started
    done_helping()  # the per-value cleaning is over
    for name, problem in _id_collisions(extracted.get(Entity.accounts, [])):
        stage_warnings.setdefault(name, []).append(problem)
    if errors:
        raise ProjectError(errors)
    related = Related()
    for entity in project.entities:
        started = time.perf_counter()
        specs, parts, entity_reads = _written_fields(project, entity), [], []
        linking = f"Linking {entity.value} to accounts" if has_account_link(entity) else f"Combining {entity.value}"
        with step(linking, unit="records") as combined:
            index = account_index(accounts) if has_account_link(entity) else None  # once for every source
            if index is not None and against is not None:
                index = against.account_index(index)  # children of accounts the state holds find them
            for r, part in extracted.pop(entity, []):
                entity_reads.append(r)
                if index is not None:  # a child of accounts
                    same_row = (
                        same_row_index(accounts, r.source.name)
                        if accounts is not None and r.source.plan_for(Entity.accounts)
                        else None
                    )
                    part = link(
                        part, index, same_row, CATALOGUE[entity][ACCOUNT_LINK].required, entity.singular, orphan
                    )
                parts.append(part)
            frame = (
                pl.concat(parts, how="diagonal_relaxed", rechunk=True)
                if parts
                else _empty_frame(has_account_link(entity))
            )
            # The parts go before matching starts: one source's part is the frame's own columns (a concatenation
            # of one frame copies nothing), and a reference left here would keep every column settle replaces
            # alive.
            parts.clear()
            part = _empty_frame()
            frame = compact(_typed(frame))
            frame, specs = _from_names(frame, entity, specs)
            combined.finish(frame.height)
        matching_options = project.config.matching.get(entity) or MatchingOptions()
        settings = MatchSettings(
            merge=matching_options.merge, review=matching_options.review, weights=matching_options.weights
        )
        featured = time.perf_counter()
        with step(f"Preparing {entity.value} for matching", unit="records") as preparing:
            if entity is Entity.accounts:
                contact_parts = [p for _, p in extracted.get(Entity.contacts, [])]
                opportunity_parts = [p for _, p in extracted.get(Entity.opportunities, [])]
                related.people = related_to_accounts(frame, contact_parts, opportunity_parts)
                if against is not None:  # new children of the state's accounts
                    against.note_children(contact_parts, opportunity_parts)
                del contact_parts, opportunity_parts
            if frame.height:
                # What matching compares besides the cleaned keys (romanised brands, phones as sets, an
                # account's contacts): derived per record like the keys, and timed with the cleaning.
                frame = with_features(frame, entity, specs, related)
            preparing.finish(frame.height)
        matching = time.perf_counter()
        timings[f"{entity.value}.features"] = matching - featured
        require(frame, [*EXTRACTED, RECORD_ID, *(val(s.name) for s in specs)], f"matching of {entity.value}")
        try:
            frame, matches, applied = (against.resolve if against is not None else resolve)(
                frame, entity, specs, settings, [d for d in decisions if d.entity is entity], related, secret=ctx.secret
            )
        except WeightsError as exc:
            raise ProjectError(
                Problem(
                    project.doc.path,
                    f"matching.{entity.value}.weights.{exc.field}: {exc.message}",
                    hint=exc.hint,
                    line=project.doc.line_of(("matching", entity.value, "weights", exc.field, exc.kind)),
                )
            ) from None
        golden = time.perf_counter()
        compared = (
            compared_blob(frame, entity, specs, ctx.secret)
            if recording and project.config.options.state.enabled and sample is None
            else None
        )
        with step(f"Golden records of {entity.value}", unit="records") as building:
            english = _english_names(frame) if entity is Entity.accounts else None
            # What the contacts' matching needs of the accounts' features is kept aside; the golden records are
            # built on the frame without them.
            kept = (
                frame.select(SEQ, *(c for c in ("m:own_phones", "m:latin") if c in frame.columns))
                if entity is Entity.accounts
                else None
            )
            frame = drop_features(frame)
            quality = name_quality(frame, specs)
            frame, ranking = _drop_unread_parts(frame, specs, quality)
            columns = {
                value: [c for c in cols if c not in ranking] for value, cols in _value_columns(frame, specs).items()
            }
            # Handed over in a list that settle empties, so that no reference here keeps the old columns alive:
            # each golden column it sets frees the one it replaces (at 2M records, 1.9 GB less at the peak).
            handed = [frame]
            del frame
            frame = settle(
                handed,
                columns,
                *_survivorship(matching_options, specs),
                keep_others=frozenset(val(s.name) for s in specs if s.type in MULTI_VALUED),
                quality=quality,
            )
            require(frame, [*EXTRACTED, RECORD_ID, LABEL], f"golden records of {entity.value}")
            if entity is Entity.accounts and kept is not None:
                # Only the columns it reads: a join of the whole frame would copy every account (at 2M: +1.4 GB).
                narrow = frame.select(SEQ, RECORD_ID, OUTCOME, *(c for c in (key("name"),) if c in frame.columns))
                related.accounts = account_context(narrow.join(kept, on=SEQ, how="left"))
                frame = _english_name(frame, english)
            frame = frame.drop(ranking)
            if against is not None:
                frame = against.settled(entity, frame)  # the records new rows joined keep the state's ids
            building.finish(int((frame[OUTCOME] == WRITTEN).sum()))
        timings[f"{entity.value}.match"] = golden - matching  # pairs, weights, clusters: what Splink does
        timings[f"{entity.value}.dedupe"] = time.perf_counter() - matching  # and the golden records
        # What every later stage holds: no 16 bytes a row for a column with no value, and no match keys (only
        # matching compares them; the legacy id's stays, which linking the children reads).
        frame = compact(frame.drop([key(s.name) for s in specs if s.name != ID_FIELD and key(s.name) in frame.columns]))
        results[entity] = EntityResult(entity, frame, specs, matches, applied, settings, compared)
        if entity is Entity.accounts:
            accounts = frame
        timings[entity.value] = time.perf_counter() - started + timings.get(f"{entity.value}.clean", 0.0)
    return Migration(project, reads, results, timings, ctx.secret, stage_warnings)


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with each text column that holds no value at all stored as nulls alone. Polars keeps 16
    bytes a row for a text column however empty, once a concatenation, filter or sort has materialised it;
    a field one source does not map, a reason no value needed, a part no value has, is a third of an
    entity's columns. Values and types are unchanged."""
    n = frame.height
    empty = [c for c, t in frame.schema.items() if t == pl.String and n and frame[c].null_count() == n]
    if not empty:
        return frame
    nulls = pl.Series("", [None], pl.String).extend_constant(None, n - 1)
    return frame.with_columns(nulls.alias(c) for c in empty)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns with no type (a source with a header and no rows gives them) as text, so that joins and
    concatenations with typed frames hold for zero rows as for many."""
    untyped = [c for c, t in frame.schema.items() if t == pl.Null]
    return frame.with_columns(pl.col(c).cast(pl.String) for c in untyped) if untyped else frame


# Salutations are how a name was written, not a job: they do not become the contact's title.
_SALUTATIONS = {
    "先生",
    "女士",
    "小姐",
    "太太",
    "小",
    "老",
    "姐",
    "哥",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Miss.",
    "Dr.",
    "Prof.",
    "Mister.",
    "Madam.",
}


def _from_names(frame: pl.DataFrame, entity: Entity, specs: list[FieldSpec]) -> tuple[pl.DataFrame, list[FieldSpec]]:
    """What a name says besides the name: a contact's title written into it (何然工程师, 张伟（采购经理）) fills
    an empty title, a salutation (李先生, 王女士) an empty gender; an account with an English name gets the
    English name field, which its golden record fills (`_english_name`)."""
    names = {s.name for s in specs}
    if entity is Entity.contacts and attr("name", "title") in frame.columns:
        job = pl.when(~pl.col(attr("name", "title")).is_in(list(_SALUTATIONS))).then(pl.col(attr("name", "title")))
        fills: list[tuple[str, pl.Expr]] = []
        if "title" in names:
            fills.append(("title", job))
        if "gender" in names and attr("name", "gender") in frame.columns:
            fills.append(("gender", pl.col(attr("name", "gender"))))
        for field, value in fills:
            current = pl.col(val(field)) if val(field) in frame.columns else pl.lit(None, pl.String)
            taken = current.is_null() & value.is_not_null()
            note = pl.col(notes(field)) if notes(field) in frame.columns else pl.lit(None, pl.String)
            frame = frame.with_columns(
                pl.coalesce(current, value).alias(val(field)),
                pl.when(taken).then(pl.lit("taken from the name")).otherwise(note).alias(notes(field)),
            )
    if (
        entity is Entity.accounts
        and "name_en" not in names
        and key("name") in frame.columns
        and frame.select(pl.col(key("name")).str.contains(r"^[^\u3400-\u9fff]+$").any()).item()
    ):
        specs = [*specs, CATALOGUE[Entity.accounts]["name_en"]]
        specs.sort(key=lambda s: list(CATALOGUE[entity]).index(s.name) if s.name in CATALOGUE[entity] else 10**6)
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias(c)
            for c in (raw("name_en"), val("name_en"), key("name_en"), why("name_en"), notes("name_en"))
            if c not in frame.columns
        )
    return frame, specs


def _english_names(frame: pl.DataFrame) -> pl.DataFrame | None:
    """Per cluster, the first English (or pinyin) name among its records, in source priority, read before the
    golden record takes the Chinese one."""
    if "m:script" not in frame.columns or LABEL not in frame.columns:
        return None
    return (
        frame.lazy()
        .filter((pl.col("m:script") == "latin") & pl.col(LABEL).is_not_null())
        .sort(SEQ)
        .group_by(LABEL)
        .agg(pl.col(val("name")).first().alias("_english"))
        .collect()
    )


def _english_name(frame: pl.DataFrame, english: pl.DataFrame | None) -> pl.DataFrame:
    """A golden account's English name: its own where it has one, else the first English name of the records
    merged into it (`_english_names`). The Chinese name stays the name."""
    if english is None or english.is_empty():
        return frame
    current = pl.col(val("name_en")) if val("name_en") in frame.columns else pl.lit(None, pl.String)
    return (
        frame.join(english, on=LABEL, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(OUTCOME) == WRITTEN)
            .then(pl.coalesce(current, pl.col("_english")))
            .otherwise(current)
            .alias(val("name_en"))
        )
        .drop("_english")
    )


def _survivorship(options: MatchingOptions, specs: list[FieldSpec]) -> tuple[dict[str, Any], str | None]:
    """Rules per value column and the value column of the date that decides most_recent."""
    rules = options.survivorship
    names = {s.name for s in specs}
    by_field = {val(name): rules.fields.get(name, rules.default) for name in names}
    recency = rules.recency or next((n for n in ("last_activity_at", "created_at", "occurred_at") if n in names), None)
    return by_field, val(recency) if recency else None


def _written_fields(project: Project, entity: Entity) -> list[FieldSpec]:
    """Well-known fields in catalogue order, then custom fields in order of first appearance."""
    mapped: dict[str, FieldSpec] = {}
    for source in project.sources:
        plan = source.plan_for(entity)
        for mf in plan.data_fields if plan else ():
            mapped.setdefault(mf.spec.name, mf.spec)
    known = [s for name, s in CATALOGUE[entity].items() if name in mapped and name not in (ID_FIELD, ACCOUNT_LINK)]
    return known + [s for name, s in mapped.items() if name not in CATALOGUE[entity]]


def _id_collisions(parts: list[tuple[SourceRead, pl.DataFrame]]) -> list[tuple[str, Problem]]:
    """Account ids of one system that differ as written but read as one (KH01, KH001): a warning on the
    mapping of the first source of that system (as children pointing at either find the first), with the
    name of that source."""
    frames = [p.select(SYSTEM, key(ID_FIELD), val(ID_FIELD)) for _, p in parts if key(ID_FIELD) in p.columns]
    if not frames:
        return []
    found: list[tuple[str, Problem]] = []
    first: dict[str, SourceRead] = {}
    for r, _ in parts:
        first.setdefault(r.source.system, r)
    for system, normal, ids in id_collisions(pl.concat(frames)):
        r = first[system]
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        found.append(
            (
                r.source.name,
                Problem(
                    r.source.mapping_path,
                    f"account ids {shown} of system {system!r} read as one id ({normal}): case, "
                    "width, separators and zero padding are not counted when children find their account",
                    severity="warning",
                    hint="children pointing at either are linked to the first; give the accounts "
                    "distinct ids in the old system, or split them into two systems if they come from two",
                ),
            )
        )
    return found


def _drop_unread_parts(
    frame: pl.DataFrame, specs: list[FieldSpec], quality: dict[str, pl.Expr]
) -> tuple[pl.DataFrame, list[str]]:
    """The frame without the parts (``a:`` columns) no stage after matching reads, and those of them the
    golden name's quality ranks members by. Matching has compared the parts; from here on only the import
    reads them, and only those it writes (`OUTPUT_PARTS`: an address's province, a person's family name).
    The rest (a company's brand and trade, a phone's kind, an address's detail) would be chosen per cluster
    by settle and kept to the end of the run for nothing: at 2M records, some 0.3 GB. The ranked ones
    (a company name's region, a person name's form) are read on the members' own values while settle ranks
    them: the caller drops them once the golden records are built."""
    written = {attr(s.name, part) for s in specs for part in OUTPUT_PARTS.get(s.type, ())}
    unread = [c for c in frame.columns if c.startswith("a:") and c not in written]
    ranked = {c for expr in quality.values() for c in expr.meta.root_names()}
    return frame.drop([c for c in unread if c not in ranked]), [c for c in unread if c in ranked]


def _value_columns(frame: pl.DataFrame, specs: list[FieldSpec]) -> dict[str, list[str]]:
    """Each written field's value column with the columns of its parts, as the golden record takes them."""
    out = {}
    for name in [ID_FIELD, *(s.name for s in specs)]:
        if val(name) in frame.columns:
            # the reason a value is invalid travels with it, so that the import leaves out what is invalid
            out[val(name)] = [
                val(name),
                *([why(name)] if why(name) in frame.columns else []),
                *(c for c in frame.columns if c.startswith(f"a:{name}.")),
            ]
    if ACCOUNT in frame.columns:
        out[ACCOUNT] = [ACCOUNT]
    return out


def _empty_frame(linked: bool = False) -> pl.DataFrame:
    """An entity no source gives: no rows, and the columns the later stages read (a child's account link)."""
    return pl.DataFrame(
        schema={
            SOURCE: pl.String,
            SHEET: pl.String,
            ROW: pl.Int64,
            SEQ: pl.Int64,
            SYSTEM: pl.String,
            OUTCOME: pl.String,
            REASON: pl.String,
            RULE: pl.String,
            EMPTY: pl.Boolean,
            KEY: pl.String,
            RECORD_ID: pl.String,
            LABEL: pl.Int64,
            **({ACCOUNT: pl.String} if linked else {}),
        }
    )
