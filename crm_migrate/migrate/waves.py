"""Waves: a migration loaded in batches, by entity, by source or by a field's value (a region, an owner).

A golden record belongs to the first wave of ``migration.yaml`` whose criteria it all meets, and stays in the
wave it was first written in (the state remembers it), so a value that changes later does not move a record
already loaded into another wave. A child whose entity has no such field (a contact, where the wave is by the
account's province) is judged by its account's value. `run --wave NAME` writes the records of that wave only.

    waves:
      - {name: south, field: address_province, in: [广东省, 福建省]}
      - {name: crm, sources: [old_crm_accounts, old_crm_contacts]}
      - {name: rest}                 # no criterion: every record no earlier wave took (last only)
"""

from __future__ import annotations

import polars as pl

from crm_migrate.errors import did_you_mean
from crm_migrate.mappings.entities import OUTPUT_PARTS, Entity, has_account_link
from crm_migrate.mappings.models import MigrationConfig, Wave
from crm_migrate.migrate.columns import RECORD_ID, SOURCE, attr, val

NO_WAVE = None


def field_columns(specs) -> dict[str, str]:
    """The names a wave's ``field`` may give for an entity's fields (as the import names them: owner,
    address_province; `mappings.waves.field_names`) -> the frame's column holding the golden value."""
    out = {}
    for s in specs:
        out[s.name] = val(s.name)
        for part in OUTPUT_PARTS.get(s.type, ()):
            out[f"{s.name}_{part}"] = attr(s.name, part)
    return out


def wave_named(config: MigrationConfig, name: str | None) -> Wave | None:
    """The wave ``run --wave NAME`` names; a ValueError says what is wrong, with the names there are."""
    if name is None:
        return None
    names = [w.name for w in config.waves]
    if not names:
        raise ValueError(
            f"--wave {name}: migration.yaml declares no waves|declare them under 'waves:' (see README, "
            "Waves), or run without --wave"
        )
    if name not in names:
        raise ValueError(f"--wave {name}: no such wave|" + (did_you_mean(name, names) or f"waves: {', '.join(names)}"))
    return next(w for w in config.waves if w.name == name)


def assign(
    waves: list[Wave], records: dict[Entity, pl.DataFrame], specs: dict[Entity, list]
) -> dict[Entity, pl.Series]:
    """Per entity, the wave of each record (``records[entity]``: the written rows, with RECORD_ID, SOURCE, ACCOUNT
    and the value columns), as a text Series in the records' order (null: in no wave)."""
    out: dict[Entity, pl.Series] = {}
    account_values: pl.DataFrame | None = None
    wanted = {w.field for w in waves if w.field is not None}
    for entity, frame in records.items():
        columns = field_columns(specs[entity])
        own = {f: columns[f] for f in wanted if columns.get(f) in frame.columns}
        if entity is Entity.accounts:
            account_values = frame.select(
                pl.col(RECORD_ID).alias("_account_id"), *(pl.col(c).alias(f"_f:{f}") for f, c in own.items())
            )
        value_of: dict[str, pl.Expr] = {}
        work = frame
        for f in wanted:
            if f in own:
                value_of[f] = pl.col(own[f])
            elif (
                has_account_link(entity)
                and account_values is not None
                and f"_f:{f}" in account_values.columns
                and "_account" in frame.columns
            ):
                if f"_f:{f}" not in work.columns:
                    work = work.join(
                        account_values.select("_account_id", f"_f:{f}"),
                        left_on="_account",
                        right_on="_account_id",
                        how="left",
                        maintain_order="left",
                    )
                value_of[f] = pl.col(f"_f:{f}")
            else:
                value_of[f] = pl.lit(None, pl.String)
        chosen = pl.lit(None, pl.String)
        for wave in reversed(waves):  # the first wave that takes a record wins: built from the last one back
            holds = pl.lit(True)
            if wave.entities is not None:
                holds = holds & pl.lit(entity in wave.entities)
            if wave.sources is not None:
                holds = holds & pl.col(SOURCE).is_in(list(wave.sources)).fill_null(False)
            if wave.field is not None:
                holds = holds & value_of[wave.field].cast(pl.String).is_in(list(wave.in_ or ())).fill_null(False)
            chosen = pl.when(holds).then(pl.lit(wave.name)).otherwise(chosen)
        out[entity] = (
            work.with_columns(chosen.alias("wave"))["wave"] if work.height else pl.Series("wave", [], pl.String)
        )
    return out
