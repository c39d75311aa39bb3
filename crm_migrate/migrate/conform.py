"""Fitting the golden records to the target's template before anything is written.

For each entity, in the profile's load order: every column is filled as the profile says (a field, a part
of one, a constant, or a parent's external id or name), formatted (dates, decimals), and checked (required,
maximum length, picklist values, characters the file's encoding cannot hold). A record that breaks a rule is
not written: it is rejected with the column, the value, the rule and a hint, and so is every record of the
same cluster. Links to parents are checked across all files first: a child whose parent was rejected, is
missing, or (where the target looks parents up by name) shares its name with another parent is rejected
with the reason; nothing is linked to the first match. Values that a spreadsheet would run as a formula
(=, +, -, @, tab, carriage return at the start, OWASP's list, and the full-width forms) are counted and, in a
CSV file, prefixed with a single quote before the length limits are checked, so a limit holds for what is
written; an XLSX file keeps the value and gives the cell the quote-prefix style (reports/formulas.py).
Phone numbers and amounts (+8613812345678, -350.00), in a column of those types or carrying a phone or
amount field (phone_others), are values, not formulas, and stay as they are.

Where the project sends orphans to a placeholder account (``options.orphans.send_to: account``), that
account is conformed with the others (so a target that needs an owner gets told so), the children of
accounts the target refused are linked to it instead of being rejected, and it is written only if some
child points at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import polars as pl

from crm_migrate.mappings.entities import CATALOGUE, Entity, has_account_link, output_columns
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
    RuleKind,
    Unique,
    rules_for,
    unencodable,
)
from crm_migrate.mappings.targets import NUMERIC, ColumnSpec, ColumnType, EntityProfile, TargetProfile
from crm_migrate.migrate.columns import OUTCOME, REASON, RECORD_ID, REJECTED, RULE
from crm_migrate.migrate.link import ACCOUNT, ORPHANED, orphan_id
from crm_migrate.migrate.output_frames import import_frame
from crm_migrate.migrate.pipeline import EntityResult, Migration
from crm_migrate.outcomes import KEPT
from crm_migrate.reports.formulas import PLAIN_FIELDS, PREFIX, risky
from crm_migrate.steps import step

TARGET_RULE = "target"  # rules of records the target refuses: "target <rule>: <header>" (target max_length: name)
WHY = "_why:"  # prefix of the per-rule reason columns: _why:<rule>:<header>


@dataclass
class Conformed:
    """One entity as the target will receive it."""

    frame: pl.DataFrame  # the template's columns, headers as the template has them, every value a string
    types: dict[str, ColumnType]  # per header
    ids: list[str]  # external id of each written row, in order
    neutralised: dict[str, int] = field(default_factory=dict)  # header -> values protected against formulas
    orphans: int = 0  # rows linked to the placeholder account
    # Records the target would refuse: ``_id``, the template's values, and per broken rule a column
    # ``_why:<rule>:<header>`` (rule: required, unique, max_length, picklist, format, encoding, link) with the
    # reason.
    refused: pl.DataFrame | None = None
    plain: frozenset[str] = frozenset()  # headers of phones and amounts: a plain number there is no formula


def conform(migration: Migration, profile: TargetProfile) -> tuple[Migration, dict[Entity, Conformed]]:
    """Conform every entity in load order. Returns the migration with the records the target would refuse
    marked as rejected (and children of refused accounts linked to the placeholder), a new object whose
    lineage is the one to write, and what each entity's import files receive. ``migration`` is left as it
    is: a frame that changes is a new frame (sharing the columns it does not change)."""
    results = dict(migration.entities)
    out: dict[Entity, Conformed] = {}
    parents: dict[Entity, pl.DataFrame] = {}
    rejected_parents: dict[Entity, dict[str, str]] = {}
    placeholder = migration.project.config.options.orphans
    orphan = orphan_id() if placeholder.send_to == "account" and Entity.accounts in migration.entities else None
    for entity in profile.load_order:
        result = results.get(entity)
        if result is None:
            continue
        with step(f"Conforming {entity.value}", unit="records") as conforming:
            columns = _columns(profile.entities[entity], result)
            refused_parents = rejected_parents.get(Entity.accounts, {})
            if orphan and has_account_link(entity) and refused_parents and orphan not in refused_parents:
                result = replace(result, frame=_to_placeholder(result.frame, refused_parents, orphan, profile.name))
            frame = import_frame(result)
            if orphan and entity is Entity.accounts:
                row = {"external_id": orphan, "name": placeholder.account_name, **placeholder.fields}
                frame = pl.concat(
                    [frame, pl.DataFrame([row], schema={k: pl.String for k in row})], how="diagonal_relaxed"
                )
            # First the values the template receives, and why a link cannot stand; then the checks, on them.
            rules = [rules_for(col, profile.file.encoding) for col in columns]
            values, links = [], []
            for col, own in zip(columns, rules, strict=True):
                value = _value(col, frame)
                for rule in own:
                    if isinstance(rule, Parent):
                        on = Against(
                            frame,
                            value,
                            parents=parents.get(rule.parent),
                            rejected=rejected_parents.get(rule.parent, {}),
                            target=profile.name,
                        )
                        links.append(check(rule, on).alias(_why_column(rule)))
                        value = _carried(rule, value, on.parents)
                values.append(_format(own, value).alias(col.header))
            shaped = frame.select(pl.col("external_id").alias("_id"), *values, *links)
            shaped = shaped.with_columns(_decimals(shaped, [r for own in rules for r in own]))
            plain = _plain_headers(columns, result)
            shaped, formulas = _formulas(shaped, columns, plain, profile.file.format == "csv")
            checked = shaped.with_columns(
                r
                for col, own in zip(columns, rules, strict=True)
                for r in _checks(shaped, own, formulas.get(col.header))
            )
            reasons = [c for c in checked.columns if c.startswith(WHY)]
            checked = checked.with_columns(
                pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("_why")
                if reasons
                else pl.lit(None, pl.String).alias("_why")
            )
            checked = checked.with_columns(pl.when(pl.col("_why") != "").then(pl.col("_why")).alias("_why"))
            bad = checked.filter(pl.col("_why").is_not_null())
            # Where the target refuses nothing (the usual run) the records are taken as they are: a filter keeping
            # every row still copies each column, the whole import a second time at conform's peak.
            good = checked.filter(pl.col("_why").is_null()) if bad.height else checked
            neutralised = {h: int(good[f].sum()) for h, f in formulas.items() if good[f].any()}
            good = good.select("_id", *(c.header for c in columns), "_why")
            types = {c.header: c.type for c in columns}
            rejected = dict(zip(bad["_id"].to_list(), bad["_why"].to_list(), strict=True))
            firsts: list[pl.Expr] = [pl.when(pl.col(c).is_not_null()).then(pl.lit(_rule_name(c))) for c in reasons]
            first_rule = pl.coalesce(firsts or [pl.lit(TARGET_RULE)])
            rule_of = dict(
                zip(bad["_id"].to_list(), bad.with_columns(first_rule.alias("_rule"))["_rule"].to_list(), strict=True)
            )
            linked = int((frame["account_external_id"] == orphan).sum()) if orphan and has_account_link(entity) else 0
            refused = bad.select(
                "_id", *(c.header for c in columns), *(c for c in reasons if bad[c].null_count() < bad.height)
            )
            out[entity] = Conformed(
                good.drop("_id", "_why"), types, good["_id"].to_list(), neutralised, linked, refused, plain
            )
            kept = frame.filter(~pl.col("external_id").is_in(list(rejected))) if rejected else frame
            parents[entity] = kept.select("external_id", _or_null(kept, "name"), _or_null(kept, "legacy_id"))
            rejected_parents[entity] = rejected
            if rejected:
                result = replace(result, frame=_reject(result.frame, rejected, rule_of, profile.name))
            results[entity] = result
            conforming.finish(good.height)
    if orphan and Entity.accounts in out and not any(c.orphans for c in out.values()):
        out[Entity.accounts] = _without(out[Entity.accounts], orphan)  # no child needs the placeholder
    return replace(migration, entities=results), out


def _to_placeholder(frame: pl.DataFrame, refused: dict[str, str], orphan: str, target: str) -> pl.DataFrame:
    """Children of accounts the target refused, linked to the placeholder account, with the reason kept."""
    moved = pl.col(ACCOUNT).is_in(list(refused)) & pl.col(OUTCOME).is_in(KEPT)
    why = pl.format(
        f"its account {{}} was rejected by the target ({target}): {{}}",
        pl.col(ACCOUNT),
        pl.col(ACCOUNT).replace_strict(refused, default=None, return_dtype=pl.String),
    )
    before = pl.col(ORPHANED) if ORPHANED in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.when(moved).then(why).otherwise(before).alias(ORPHANED),
        pl.when(moved).then(pl.lit(orphan)).otherwise(pl.col(ACCOUNT)).alias(ACCOUNT),
    )


def _without(done: Conformed, record: str) -> Conformed:
    keep = [i != record for i in done.ids]
    return Conformed(
        done.frame.filter(pl.Series(keep, dtype=pl.Boolean)),
        done.types,
        [i for i in done.ids if i != record],
        done.neutralised,
        done.orphans,
        done.refused,
        done.plain,
    )


def _or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return (pl.col(name) if name in frame.columns else pl.lit(None, pl.String)).alias(name)


def _columns(ep: EntityProfile, result: EntityResult) -> list[ColumnSpec]:
    """The profile's columns; for a ``mapped_only`` profile only those some source fills, then custom fields."""
    if not ep.mapped_only:
        return ep.columns
    mapped = {"external_id", "legacy_id", "account_external_id", *(c for s in result.fields for c in output_columns(s))}
    kept = [c for c in ep.columns if c.constant is not None or c.value in mapped]
    if "account_id" not in CATALOGUE[result.entity]:
        kept = [c for c in kept if c.value != "account_external_id"]
    custom = [ColumnSpec(header=s.name, value=s.name) for s in result.fields if s.name not in CATALOGUE[result.entity]]
    return kept + custom


def _value(col: ColumnSpec, frame: pl.DataFrame) -> pl.Expr:
    if col.constant is not None:
        return pl.lit(col.constant, pl.String)
    name = col.value.removeprefix("custom:") if col.value else None
    if name is None or name not in frame.columns:
        return pl.lit(None, pl.String)
    return pl.col(name).cast(pl.String)


def _parents(parents: pl.DataFrame | None) -> pl.DataFrame:
    if parents is None:
        return pl.DataFrame(schema={"external_id": pl.String, "name": pl.String, "legacy_id": pl.String})
    return parents


def _carried(rule: Parent, value: pl.Expr, parents: pl.DataFrame | None) -> pl.Expr:
    """The value the link column carries: the parent's external id, or its name or legacy id looked up by it."""
    if rule.key == "external_id":
        return value
    parents = _parents(parents)
    return value.replace_strict(
        dict(zip(parents["external_id"].to_list(), parents[rule.key].to_list(), strict=True)),
        default=None,
        return_dtype=pl.String,
    )


def _format(rules: list[Rule], value: pl.Expr) -> pl.Expr:
    """A date written as the column's format says (a value that is no ISO date is kept, for its rule to refuse)."""
    rule = next((r for r in rules if isinstance(r, DateFormat)), None)
    if rule is None:
        return value
    parsed = (
        value.str.to_datetime(strict=False)
        if rule.with_time
        else value.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    )
    return pl.when(parsed.is_not_null()).then(parsed.dt.strftime(rule.strftime)).otherwise(value)


def _by_distinct(frame: pl.DataFrame, column: str, fn) -> pl.Expr:
    """``fn`` (Python, text -> text or None) applied once per distinct value of a column, as an expression."""
    distinct = frame[column].drop_nulls().unique().to_list()
    return pl.col(column).replace_strict({v: fn(v) for v in distinct}, default=None, return_dtype=pl.String)


def _decimals(frame: pl.DataFrame, rules: list[Rule]) -> list[pl.Expr]:
    """Amounts and numbers with the decimal places the profile gives ('2'), exactly (no float on the way)."""
    return [
        _by_distinct(frame, r.column, lambda v, places=r.places: _decimal(v, places)).alias(r.column)
        for r in rules
        if isinstance(r, NumberFormat) and r.places is not None
    ]


def _decimal(text: str, places: int) -> str:
    try:
        return f"{Decimal(text):.{places}f}"
    except InvalidOperation:
        return text


@dataclass(frozen=True)
class Against:
    """What conform checks a rule against: the frame, the column's value in it, and for a link the parents
    kept so far, those the target refused (external id -> reason) and the target's name."""

    frame: pl.DataFrame
    value: pl.Expr
    formula: str | None = None  # the column marking the values written with the protecting apostrophe
    parents: pl.DataFrame | None = None
    rejected: dict[str, str] = field(default_factory=dict)
    target: str = ""


_LABELS = {RuleKind.parent: "link"}  # a broken link is "target link: <header>" in the rejects, as before the rules


def _why_column(rule: Rule) -> str:
    return f"{WHY}{_LABELS.get(rule.kind, rule.name)}:{rule.column}"


def _checks(frame: pl.DataFrame, rules: list[Rule], formula: str | None = None) -> list[pl.Expr]:
    """Per rule of a column (but its link, checked while its value is filled), the reason a row breaks it
    (null where it does not), as ``_why:<rule>:<header>``; ``formula`` names the column that marks the
    values written with the protecting apostrophe."""
    return [
        check(r, Against(frame, pl.col(r.column), formula)).alias(_why_column(r))
        for r in rules
        if not isinstance(r, Parent)
    ]


def check(rule: Rule, on: Against) -> pl.Expr:
    """Conform's translation of a rule: why each row breaks it, "<header>: <what is wrong>; <hint>" (null
    where it does not). An empty text is no value, as in the file (an empty cell) the other checks read."""
    match rule:
        case Required():
            return _required(rule, on)
        case Unique():
            return _unique(rule, on)
        case MaxLength():
            return _max_length(rule, on)
        case Picklist():
            return _picklist(rule, on)
        case DateFormat():
            return _date_format(rule, on)
        case NumberFormat():
            return _number_format(rule, on)
        case Encodable():
            return _encoding(rule, on)
        case Parent():
            return _parent(rule, on)
    raise MissingTranslation("conform", rule)


def _present(value: pl.Expr) -> pl.Expr:
    return value.is_not_null() & (value != "")


def _required(rule: Required, on: Against) -> pl.Expr:
    return pl.when(on.value.is_null() | (on.value == "")).then(
        pl.lit(f"{rule.column}: {rule.message} but empty; {rule.hint}")
    )


def _unique(rule: Unique, on: Against) -> pl.Expr:
    present = _present(on.value)
    distinct, values = on.frame.select(
        on.value.filter(present).n_unique().alias("distinct"), present.sum().alias("values")
    ).row(0)
    if distinct == values:  # the usual case, told at a fifth of the cost of marking each duplicate
        return pl.lit(None, pl.String)
    return pl.when(present & on.value.is_duplicated()).then(
        pl.format(
            f"{rule.column}: {{}} is the external id of {{}} records; {rule.hint}",
            on.value,
            on.value.count().over(on.value),
        )
    )


def _max_length(rule: MaxLength, on: Against) -> pl.Expr:
    value = on.value
    quoted = pl.col(on.formula) if on.formula and on.formula in on.frame.columns else pl.lit(False)
    counted = (
        pl.when(quoted)
        .then(pl.lit(" with the apostrophe that keeps a spreadsheet from running it as a formula"))
        .otherwise(pl.lit(""))
    )
    return pl.when(value.str.len_chars() > rule.limit).then(
        pl.format(
            f"{rule.column}: {{}} characters{{}}, the target keeps at most {rule.limit} ({{}}...); {rule.hint}",
            value.str.len_chars(),
            counted,
            value.str.slice(0, 20),
        )
    )


def _picklist(rule: Picklist, on: Against) -> pl.Expr:
    return pl.when(_present(on.value) & ~on.value.is_in(list(rule.values))).then(
        pl.format(f"{rule.column}: {{}} is not one of the target's values ({rule.shown}); {rule.hint}", on.value)
    )


def _date_format(rule: DateFormat, on: Against) -> pl.Expr:
    parsed = (
        on.value.str.to_datetime(rule.strftime, strict=False)
        if rule.with_time
        else on.value.str.to_date(rule.strftime, strict=False)
    )
    return pl.when(_present(on.value) & parsed.is_null()).then(
        pl.format(f"{rule.column}: {{}} is not {rule.message}; {rule.hint}", on.value)
    )


def _number_format(rule: NumberFormat, on: Against) -> pl.Expr:
    return pl.when(_present(on.value) & ~on.value.str.contains(rule.pattern)).then(
        pl.format(f"{rule.column}: {{}} is not {rule.message}; {rule.hint}", on.value)
    )


def _encoding(rule: Encodable, on: Against) -> pl.Expr:
    def why(text: str) -> str | None:
        bad = unencodable(text, rule.encoding)
        if not bad:
            return None
        shown = ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in bad[:5])
        return f"{rule.column}: {shown} cannot be written in {rule.encoding.upper()}; {rule.hint}"

    return _by_distinct(on.frame, rule.column, why)


def _parent(rule: Parent, on: Against) -> pl.Expr:
    """Why a row's link cannot stand: its parent was refused, is not among the records, or (by a name)
    is one of several parents of that name; ``on.value`` is the parent's external id, before it is carried."""
    value, parent, target = on.value, rule.parent.singular, on.target
    parents = _parents(on.parents)
    ids = parents["external_id"].to_list()
    why = (
        pl.when(value.is_null())
        .then(pl.lit(None, pl.String))
        .when(value.is_in(list(on.rejected)))
        .then(pl.format(f"{rule.column}: its {parent} {{}} was rejected by the target ({target})", value))
        .when(~value.is_in(ids))
        .then(pl.format(f"{rule.column}: no {parent} {{}} among the records written", value))
    )
    if rule.key != "external_id":
        carried = _carried(rule, value, parents)
        counts = parents.group_by(rule.key).len().filter(pl.col("len") > 1)
        shared = dict(zip(counts[rule.key].to_list(), counts["len"].to_list(), strict=True))
        if shared:
            why = why.when(carried.is_in(list(shared))).then(
                pl.format(
                    f"{rule.column}: ambiguous link, {{}} {parent}s are called {{}} and the target looks them up by "
                    f"{rule.key}; give them different names or link by external id",
                    carried.replace_strict(shared, default=None, return_dtype=pl.Int64),
                    carried,
                )
            )
    return why.otherwise(pl.lit(None, pl.String))


def _plain_headers(columns: list[ColumnSpec], result: EntityResult) -> frozenset[str]:
    """Headers of phones and amounts: by the template's type, or by the field the column carries (a
    ``phone_others`` column typed text in the template still holds phone numbers)."""
    specs = {**CATALOGUE[result.entity], **{s.name: s for s in result.fields}}
    out = set()
    for col in columns:
        name = (col.value or "").removeprefix("custom:")
        spec = specs.get(name) or specs.get(name.rsplit("_", 1)[0])
        if col.type in (ColumnType.phone, *NUMERIC) or (spec is not None and spec.type in PLAIN_FIELDS):
            out.add(col.header)
    return frozenset(out)


def _formulas(
    frame: pl.DataFrame, columns: list[ColumnSpec], plain: frozenset[str], prefix: bool
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Mark the values a spreadsheet would run as a formula (column ``_fx:<header>``); in CSV put the
    apostrophe in front of them now, so the checks that follow (length, encoding) see what is written."""
    marks = {c.header: f"_fx:{c.header}" for c in columns}
    frame = frame.with_columns(risky(h, h in plain).alias(f) for h, f in marks.items())
    hit = {h: f for h, f in marks.items() if frame[f].any()}
    frame = frame.drop([f for h, f in marks.items() if h not in hit])
    if prefix and hit:
        frame = frame.with_columns(
            pl.when(pl.col(f)).then(pl.lit(PREFIX) + pl.col(h)).otherwise(pl.col(h)).alias(h) for h, f in hit.items()
        )
    return frame, hit


def _rule_name(why_column: str) -> str:
    """``_why:max_length:name`` -> ``target max_length: name``: the rule and the column it was broken in."""
    rule, header = why_column.removeprefix(WHY).split(":", 1)
    return f"{TARGET_RULE} {rule}: {header}"


def refused_by_target() -> pl.Expr:
    """Rows rejected because the target would refuse their record (any of its rules)."""
    return pl.col(RULE).str.starts_with(f"{TARGET_RULE} ").fill_null(False)


def _reject(frame: pl.DataFrame, rejected: dict[str, str], rules: dict[str, str], target: str) -> pl.DataFrame:
    """Every row of a refused record (its survivor and the rows merged into it) rejected with the reason and
    the first rule it breaks."""
    hit = pl.col(RECORD_ID).is_in(list(rejected)) & pl.col(OUTCOME).is_in(KEPT)
    reason = pl.col(RECORD_ID).replace_strict(rejected, default=None, return_dtype=pl.String)
    rule = pl.col(RECORD_ID).replace_strict(rules, default=TARGET_RULE, return_dtype=pl.String)
    return frame.with_columns(
        pl.when(hit).then(pl.lit(REJECTED)).otherwise(pl.col(OUTCOME)).alias(OUTCOME),
        pl.when(hit).then(pl.lit(f"target {target}: ") + reason).otherwise(pl.col(REASON)).alias(REASON),
        pl.when(hit).then(rule).otherwise(pl.col(RULE)).alias(RULE),
    )
