"""``watch``: the new CRM's data after go-live, night after night. A periodic export of the CRM is read as the
target profile writes it (its headers mapped back to fields), cleaned and matched as ``run`` does, and
measured: duplicates holding a record created since go-live, invalid and incomplete values by field and
owner, and each figure against the last watch (kept in the migration state's ``watches`` table).

A record is new when its external id is not among the state's golden records (a record typed into the CRM
has none), or, where the export has no external id column, when its created date (the profile's
``created_at`` column) falls on or after go-live (the first batch). Without a state every record is new, and
the report says so. The whole export is matched, so a new record is compared with the migrated ones and with
the other new ones at once; the weights are those the state keeps from the full run (not estimated again
on one night's records), else estimated as ``run`` does.

The figures are one dict of plain data (`crm_migrate.reports.watch` writes it as ``watch.json`` and
``watch.html``); names, mobiles and ID numbers in it are masked. Everything is whole-frame: the only loop
over records is the evidence of the pairs of the clusters listed (at most `LISTED` clusters).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crm_migrate.cleaners.masking import mask_frame, masked_whole
from crm_migrate.errors import MigrateError, Problem
from crm_migrate.mappings.entities import ACCOUNT_LINK, Entity, FieldSpec, FieldType
from crm_migrate.mappings.targets import ColumnSpec
from crm_migrate.migrate import state as state_db
from crm_migrate.migrate.columns import EMPTY, OUTCOME, REJECTED, ROW, RULE, raw, val, why
from crm_migrate.migrate.link import ACCOUNT
from crm_migrate.migrate.match import evidence
from crm_migrate.migrate.merge import LABEL
from crm_migrate.migrate.watch_export import EXTERNAL, StateView, Watched, mark_new, match, read_export, read_state
from crm_migrate.project import Project
from crm_migrate.version import __version__

LISTED = 200  # duplicate clusters listed with their members and evidence (every one is in duplicates.csv)
NO_OWNER = "(no owner)"


def _shown_name(watched: Watched) -> pl.Expr:
    """A record's name as the report shows it: a person's masked whole past its first character."""
    if val("name") not in watched.frame.columns:
        return pl.lit(None, pl.String)
    name = pl.col(val("name"))
    spec = next((s for s in watched.fields if s.name == "name"), None)
    if spec is not None and spec.type is FieldType.person_name:
        return name.str.slice(0, 1) + name.str.slice(1).str.replace_all(r"(?s).", "*")
    return masked_whole(name) if spec is not None and spec.sensitive else name


def owner_expr(frame: pl.DataFrame) -> pl.Expr:
    if raw("owner") not in frame.columns:
        return pl.lit(NO_OWNER)
    return pl.col(raw("owner")).str.strip_chars().replace("", None).fill_null(NO_OWNER)


def duplicates(watched: Watched) -> tuple[dict[str, Any], pl.DataFrame]:
    """Clusters of two or more records holding a new one: counts, the first `LISTED` with their members and
    pair evidence, and the full membership (one line per record, no values) for duplicates.csv."""
    frame = watched.frame.with_row_index("_i")
    members = frame.filter(pl.col(LABEL).is_not_null()).with_columns(
        pl.len().over(LABEL).alias("_size"), pl.col("_new").any().over(LABEL).alias("_has_new")
    )
    clustered = members.filter(pl.col("_size") > 1)
    old = clustered.filter(~pl.col("_has_new"))[LABEL].n_unique()
    new = clustered.filter(pl.col("_has_new"))
    order = (
        new.group_by(LABEL)
        .agg(pl.len().alias("size"), pl.col("_i").min().alias("_first"))
        .sort(["size", "_first"], descending=[True, False])
        .with_row_index("cluster", offset=1)
    )
    new = new.join(order.select(LABEL, "cluster"), on=LABEL).sort("cluster", "_i")
    full = new.select(
        "cluster",
        pl.col(ROW).alias("row"),
        pl.col(EXTERNAL).alias("external_id"),
        pl.col("_new").alias("new"),
        owner_expr(new).alias("owner"),
    )
    listed = new.filter(pl.col("cluster") <= LISTED)
    shown = listed.select(
        "cluster",
        "_i",
        pl.col(ROW).alias("row"),
        pl.col(EXTERNAL).alias("external_id"),
        pl.col("_new").alias("new"),
        owner_expr(listed).alias("owner"),
        _shown_name(watched).alias("name"),
    )
    pairs = _listed_pairs(watched, listed)
    clusters = []
    for (cluster,), group in shown.group_by("cluster", maintain_order=True):
        indices = set(group["_i"].to_list())
        clusters.append(
            {
                "cluster": cluster,
                "members": group.drop("cluster", "_i").to_dicts(),
                "pairs": [p for p in pairs if p["_l"] in indices],
            }
        )
    for c in clusters:
        for p in c["pairs"]:
            p.pop("_l")
    figures = {
        "clusters": order.height,
        "records": new.height,
        "new_records": int(new["_new"].sum()),
        "clusters_without_new": old,
        "weights": watched.weights_from,
        "listed": clusters,
    }
    return figures, full


def _listed_pairs(watched: Watched, listed: pl.DataFrame) -> list[dict[str, Any]]:
    """The scored pairs inside the listed clusters, with what each rests on (`match.evidence`)."""
    if watched.pairs is None or listed.is_empty():
        return []
    labels = listed.select(pl.col("_i").cast(pl.UInt32), LABEL, pl.col(ROW))
    pairs = (
        watched.pairs.join(labels.rename({"_i": "l", LABEL: "_a", ROW: "row_a"}), on="l")
        .join(labels.rename({"_i": "r", LABEL: "_b", ROW: "row_b"}), on="r")
        .filter(pl.col("_a") == pl.col("_b"))
        .sort("probability", descending=True)
    )
    return [
        {
            "_l": p["l"],
            "rows": [p["row_a"], p["row_b"]],
            "probability": round(float(p["probability"]), 4),
            "evidence": evidence(p, watched.comparisons),
        }
        for p in pairs.to_dicts()
    ]


# -- invalid and incomplete values ----------------------------------------------------------------------


def _target_reason(spec: FieldSpec, column: ColumnSpec | None) -> pl.Expr:
    """Why the target would refuse the cleaned value: not one of its picklist values, or too long."""
    v = pl.col(val(spec.name))
    reason = pl.lit(None, pl.String)
    if column is not None and column.max_length:
        reason = (
            pl.when(v.str.len_chars() > column.max_length)
            .then(pl.lit(f"longer than the target keeps ({column.max_length})"))
            .otherwise(reason)
        )
    if column is not None and column.picklist:
        reason = (
            pl.when(v.is_not_null() & ~v.is_in(column.picklist))
            .then(pl.lit("not one of the target's values"))
            .otherwise(reason)
        )
    return reason


def values(watched: Watched, scope: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Per field: values filled, invalid (the cleaner's reasons, the target's picklist and length) and, for
    a required field, records lacking it; per owner the same summed; and the rows run would reject."""
    frame = watched.frame.filter(~pl.col(EMPTY)) if EMPTY in watched.frame.columns else watched.frame
    if scope == "new":
        frame = frame.filter(pl.col("_new"))
    reasons, lacking = [], []
    for spec in watched.fields:
        if val(spec.name) not in frame.columns:
            continue
        cleaner = pl.col(why(spec.name)) if why(spec.name) in frame.columns else pl.lit(None, pl.String)
        reasons.append(
            pl.coalesce(cleaner, _target_reason(spec, watched.checks.get(spec.name))).alias(f"_r:{spec.name}")
        )
        if spec.name in watched.required:
            lacking.append((pl.col(val(spec.name)).is_null() & cleaner.is_null()).alias(f"_m:{spec.name}"))
    if ACCOUNT_LINK in watched.required:
        lacking.append(pl.col(ACCOUNT).is_null().alias(f"_m:{ACCOUNT_LINK}"))
    judged = frame.select(
        owner_expr(frame).alias("owner"),
        "_new",
        *reasons,
        *lacking,
        *(
            pl.col(raw(s.name)).is_not_null().alias(f"_f:{s.name}")
            for s in watched.fields
            if raw(s.name) in frame.columns
        ),
    )
    records = judged.height
    fields = []
    for spec in [
        *watched.fields,
        *([FieldSpec(ACCOUNT_LINK, FieldType.id, "account")] if ACCOUNT_LINK in watched.required else []),
    ]:
        r, m, f = f"_r:{spec.name}", f"_m:{spec.name}", f"_f:{spec.name}"
        if r not in judged.columns and m not in judged.columns:
            continue
        filled = int(judged[f].sum()) if f in judged.columns else records - int(judged[m].sum())
        invalid = int(judged[r].is_not_null().sum()) if r in judged.columns else 0
        row = {
            "field": spec.name,
            "type": spec.type.value,
            "records": records,
            "filled": filled,
            "invalid": invalid,
            "invalid_rate": round(invalid / filled, 4) if filled else 0.0,
            "required": spec.name in watched.required,
            "reasons": _counts(judged[r]) if r in judged.columns else {},
        }
        if m in judged.columns:
            missing = int(judged[m].sum())
            row.update(missing=missing, incomplete_rate=round(missing / records, 4) if records else 0.0)
        fields.append(row)
    owners = _owners(judged)
    rejected = watched.frame.filter(pl.col(OUTCOME) == REJECTED)
    return fields, owners, _counts(rejected[RULE]) if rejected.height else {}


def _owners(judged: pl.DataFrame) -> list[dict[str, Any]]:
    r = [c for c in judged.columns if c.startswith("_r:")]
    m = [c for c in judged.columns if c.startswith("_m:")]
    per = judged.select(
        "owner",
        "_new",
        pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int64) for c in r] or [pl.lit(0)]).alias("_inv"),
        pl.any_horizontal([pl.col(c) for c in m] or [pl.lit(False)]).alias("_inc"),
    )
    table = (
        per.group_by("owner")
        .agg(
            pl.len().alias("records"),
            pl.col("_new").sum().alias("new"),
            pl.col("_inv").sum().alias("invalid_values"),
            pl.col("_inc").sum().alias("incomplete_records"),
        )
        .sort(["invalid_values", "incomplete_records", "records", "owner"], descending=[True, True, True, False])
    )
    return table.to_dicts()


def _counts(values: pl.Series) -> dict[str, int]:
    counts = values.drop_nulls().value_counts(name="n")
    return {k: int(n) for k, n in counts.sort(["n", values.name], descending=[True, False]).iter_rows()}


# -- limits, trend, the verb ----------------------------------------------------------------------------


def flat(entities: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The headline figures, one number each, as the watches table keeps them for the next watch."""
    out: dict[str, float] = {}
    for entity, e in entities.items():
        out[f"{entity}.records"] = e["records"]
        out[f"{entity}.new"] = e["new"]
        out[f"{entity}.rejected"] = sum(e["rejected"].values())
        out[f"{entity}.new_duplicates"] = e["duplicates"]["clusters"]
        for f in e["fields"]:
            out[f"{entity}.{f['field']}.invalid_rate"] = f["invalid_rate"]
            if "incomplete_rate" in f:
                out[f"{entity}.{f['field']}.incomplete_rate"] = f["incomplete_rate"]
    return out


def trend(now: dict[str, float], last: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each figure against the last watch: now, before (None for a figure the last watch did not have), change."""
    before = (last or {}).get("figures", {})
    return [
        {
            "figure": k,
            "now": v,
            "before": before.get(k),
            "change": None if before.get(k) is None else round(v - before[k], 4),
        }
        for k, v in now.items()
    ]


def limits(project: Project, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every figure a limit of migration.yaml's ``watch:`` applies to, with the limit and whether it is over."""
    config = project.config.watch
    out = []

    def check(figure: str, value: float, limit: float | None) -> None:
        if limit is not None:
            out.append({"figure": figure, "value": value, "limit": limit, "over": value > limit})

    for entity, e in entities.items():
        check(f"{entity}.new_duplicates", e["duplicates"]["clusters"], config.max_new_duplicates)
        for f in e["fields"]:
            own = config.fields.get(f"{entity}.{f['field']}") or config.fields.get(f["field"])
            invalid = own.max_invalid_rate if own and own.max_invalid_rate is not None else config.max_invalid_rate
            check(f"{entity}.{f['field']}.invalid_rate", f["invalid_rate"], invalid)
            if "incomplete_rate" in f:
                incomplete = (
                    own.max_incomplete_rate
                    if own and own.max_incomplete_rate is not None
                    else config.max_incomplete_rate
                )
                check(f"{entity}.{f['field']}.incomplete_rate", f["incomplete_rate"], incomplete)
    return out


@dataclass
class Watch:
    """What `watch` found: the report's figures, the folder it was written to, the limits gone over."""

    report: dict[str, Any]
    folder: Path
    over: list[dict[str, Any]]
    recorded: bool  # the watch was kept in the state, for the next one's trend

    @property
    def exit_code(self) -> int:
        return 1 if self.over else 0


def _entities(project: Project, exported: Mapping[Entity | str, Path | str]) -> dict[Entity, Path]:
    out = {}
    for entity, path in exported.items():
        try:
            out[Entity(entity)] = Path(path)
        except ValueError:
            raise MigrateError(
                Problem("--exported", f"no entity {entity!r}", hint="one of " + ", ".join(e.value for e in Entity))
            ) from None
    if not out:
        raise MigrateError(
            Problem(
                "--exported",
                "no export given",
                hint="--exported FILE (accounts) or --exported ENTITY=FILE, once per entity",
            )
        )
    return dict(sorted(out.items(), key=lambda kv: kv[0].order))


def _folder(root: Path, now: dt.datetime) -> Path:
    base = root / "watch" / now.strftime("%Y%m%dT%H%M%SZ")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def watch(
    project: Project,
    exported: Mapping[Entity | str, Path | str],
    since: Path | None = None,
    out: Path | None = None,
    now: dt.datetime | None = None,
) -> Watch:
    """Watch the CRM's exports (entity -> file): read, match and measure each, compare with the last watch,
    write ``watch.json``, ``watch.html`` and ``duplicates.csv`` into ``out`` (default
    ``PROJECT/watch/<UTC time>/``) and keep the figures in the migration state (where there is one)."""
    from crm_migrate.migrate.outdir import modes, restrict
    from crm_migrate.reports.watch import write_html, write_json

    files = _entities(project, exported)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    path = state_db.locate(project, since, project.root / "out")
    state = read_state(path)
    entities: dict[str, dict[str, Any]] = {}
    full_lists = []
    for entity, file in files.items():
        watched = read_export(project, entity, file)
        rule = mark_new(watched, state)
        match(watched, project, state)
        found, members = duplicates(watched)
        fields, owners, rejected = values(watched, project.config.watch.scope)
        entities[entity.value] = {
            "file": str(file),
            "sha256": watched.sha256,
            "records": watched.frame.height,
            "new": int(watched.frame["_new"].sum()),
            "new_by": rule,
            "rejected": rejected,
            "duplicates": found,
            "fields": fields,
            "owners": owners,
        }
        full_lists.append(members.select(pl.lit(entity.value).alias("entity"), pl.all()))
    figures = flat(entities)
    checked = limits(project, entities)
    over = [c for c in checked if c["over"]]
    report = {
        "tool": {"name": "crm-migrate", "version": __version__},
        "project": project.config.name,
        "target": project.config.target,
        "watched_at": now.isoformat(),
        "state": {
            "file": str(path) if path else None,
            "exists": state.exists,
            "batches": state.batches,
            "go_live": state.go_live,
            "last_watch": (state.last or {}).get("watched_at"),
        },
        "scope": project.config.watch.scope,
        "entities": entities,
        "trend": trend(figures, state.last),
        "limits": checked,
        "over": over,
        "masked": {"id_numbers": True, "mobiles": True, "names": True},
    }
    folder = Path(out) if out is not None else _folder(project.root, now)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "watch.json").write_text(write_json(report), encoding="utf-8")
    (folder / "watch.html").write_text(write_html(report), encoding="utf-8")
    # the full list has no values but the owner, where a steward may have typed anything: masked as the rest
    mask_frame(pl.concat(full_lists, how="diagonal_relaxed"), True, keep=("external_id",)).write_csv(
        folder / "duplicates.csv"
    )
    restrict(folder, modes(project))
    recorded = _record(path, state, {e: entities[e]["sha256"] for e in entities}, figures, now)
    return Watch(report, folder, over, recorded)


def _record(
    path: Path | None, state: StateView, digests: dict[str, str], figures: dict[str, float], now: dt.datetime
) -> bool:
    """Keep the watch in the state (not where there is none: a watch never starts a state)."""
    if path is None or not state.exists:
        return False
    conn = state_db.connect(path)
    if conn is None:
        return False
    try:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO watches (watched_at, export_sha256, figures) VALUES (?, ?, ?)",
                (now.isoformat(), json.dumps(digests), json.dumps(figures)),
            )
    finally:
        conn.close()
    return True
