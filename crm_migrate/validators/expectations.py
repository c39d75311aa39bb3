"""A Great Expectations suite generated from the target profile, run on the import files as read back.

Per entity: the template's columns in order, then each column's rules (mappings/rules.py, the statement
conform and the database load translate too): required columns not null; external ids present and unique;
maximum lengths; picklist values; date formats (strftime) and plain decimals with their places; only
characters the file's encoding holds; every child's link among the keys of the parents written (by a name,
among the names one parent alone carries). The suites, the checkpoint and the Data Docs are kept in ``gx/`` of
the dry run's folder (``gx/uncommitted/data_docs/local_site/index.html``), so the team can open what was
checked and rerun it. Great Expectations is heavy: it is imported here only, from the ``validate`` extra.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import polars as pl

from crm_migrate.mappings.entities import Entity
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
    Unique,
    Untranslated,
    python_pattern,
    rules_for,
)
from crm_migrate.mappings.targets import TargetProfile
from crm_migrate.validators.findings import Finding
from crm_migrate.validators.readback import WrittenFile

GX_FOLDER = "gx"
DOCS = f"{GX_FOLDER}/uncommitted/data_docs/local_site/index.html"


def available() -> bool:
    try:
        import great_expectations  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def expectations_for(
    profile: TargetProfile, entity: Entity, headers: list[str], parent_keys: dict[str, list[str]]
) -> list[tuple[str, dict, str, str]]:
    """(expectation class name, its arguments, rule, hint) for one entity's written columns."""
    specs = profile.columns_by_header(entity)
    out: list[tuple[str, dict, str, str]] = [
        (
            "ExpectTableColumnsToMatchOrderedList",
            {"column_list": headers},
            "columns",
            "the file's columns must be the template's, in order",
        )
    ]
    for h in headers:
        spec = specs.get(h)
        if spec is None:
            continue
        for rule in rules_for(spec, profile.file.encoding):
            done = expectation(rule, parent_keys)
            if not isinstance(done, Untranslated):
                out.append(done)
    return out


def expectation(rule: Rule, parent_keys: dict[str, list[str]]) -> tuple[str, dict, str, str] | Untranslated:
    """The suite's translation of a rule: (expectation class name, its arguments, rule, hint), or why it is
    left out; ``parent_keys``: per link header, the keys of the parents written."""
    done = _translate(rule, parent_keys)
    if isinstance(done, Untranslated):
        return done
    kind, kwargs = done
    return kind, {"column": rule.column, **kwargs}, rule.name, rule.hint


def _translate(rule: Rule, parent_keys: dict[str, list[str]]) -> tuple[str, dict] | Untranslated:
    match rule:
        case Required():
            return "ExpectColumnValuesToNotBeNull", {}
        case Unique():
            return "ExpectColumnValuesToBeUnique", {}
        case MaxLength(limit=limit):
            return "ExpectColumnValueLengthsToBeBetween", {"max_value": limit}
        case Picklist(values=values):
            return "ExpectColumnValuesToBeInSet", {"value_set": list(values)}
        case DateFormat(strftime=strftime):
            return "ExpectColumnValuesToMatchStrftimeFormat", {"strftime_format": strftime}
        case NumberFormat() | Encodable():
            return "ExpectColumnValuesToMatchRegex", {"regex": python_pattern(rule.pattern)}
        case Parent():
            if rule.column not in parent_keys:
                return Untranslated(rule, f"the {rule.parent.value} written have no {rule.key} column to link to")
            return "ExpectColumnValuesToBeInSet", {"value_set": parent_keys[rule.column]}
    raise MissingTranslation("expectations", rule)


def validate(folder: Path, profile: TargetProfile, files: list[WrittenFile]) -> list[Finding]:
    """Build and run the suites on the files read back; keep the suites and Data Docs in ``folder/gx``."""
    return run_suites(folder, profile, files)[0]


def run_suites(folder: Path, profile: TargetProfile, files: list[WrittenFile]) -> tuple[list[Finding], list[dict]]:
    """`validate`, and per suite each expectation's result (its kind, column, rule, whether it held and how
    many values it did not expect: no values, so nothing to mask), for the report to show offline."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(folder))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    source = context.data_sources.add_or_update_pandas("import_files")

    frames: dict[Entity, pl.DataFrame] = {}
    where: dict[Entity, list[tuple[str, int]]] = {}
    for f in files:
        if f.read is None:
            continue
        frames[f.entity] = pl.concat([frames[f.entity], f.read]) if f.entity in frames else f.read
        where.setdefault(f.entity, []).extend((f.path, line) for line in range(2, f.read.height + 2))
    keys = _parent_keys(profile, frames)
    findings: list[Finding] = []
    suites: list[dict] = []
    for entity, frame in frames.items():
        asset = source.add_dataframe_asset(entity.value)
        batch = asset.add_batch_definition_whole_dataframe("written")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=f"{profile.name}.{entity.value}"))
        meta = []
        for kind, kwargs, rule, hint in expectations_for(profile, entity, frame.columns, keys.get(entity, {})):
            suite.add_expectation(getattr(gxe, kind)(**kwargs, meta={"rule": rule, "hint": hint}))
            meta.append((rule, hint))
        suite.save()
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"{profile.name}.{entity.value}", data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"dry-run.{entity.value}",
                validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
                result_format={"result_format": "COMPLETE"},
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame.to_pandas()})
        shown = []
        for run in result.run_results.values():
            for r in run.results:
                config = r.expectation_config
                if config is None:
                    continue
                shown.append(
                    {
                        "expectation": re.sub(r"^expect_", "", config.type).replace("_", " "),
                        "column": config.kwargs.get("column"),
                        "rule": config.meta.get("rule", "expectation"),
                        "success": bool(r.success),
                        "unexpected": int((r.result or {}).get("unexpected_count") or 0),
                    }
                )
                if r.success:
                    continue
                findings += _findings(entity, r, where[entity])
        suites.append({"suite": suite.name, "entity": entity.value, "results": shown})
    return findings, suites


# The rules of the target's refusals (conform) and of the database load, as the suites name them.
_SAME_RULE = {"link": "parent"}


def judge(suites: list[dict], findings: list[Finding]) -> list[dict]:
    """Each suite with its verdict as the dry run sees it: ``failed`` where an expectation did not hold;
    ``contradicted`` where every expectation held on the files but another check of the dry run found errors
    in the entity (the target would refuse records, so conform held them back from the files the suite saw);
    ``passed`` only where neither. Each expectation carries the dry run's errors on its rule and column."""
    errors = [f for f in findings if f.severity == "error" and f.check != "expectations"]
    out = []
    for s in suites:
        mine = [f for f in errors if f.entity == s["entity"]]
        results = []
        for r in s["results"]:
            against = sum(_SAME_RULE.get(f.rule, f.rule) == r["rule"] and f.column == r["column"] for f in mine)
            results.append({**r, "result": "held" if r["success"] else "did not hold", "dry-run errors": against})
        failed = sum(not r["success"] for r in s["results"])
        if failed:
            status, why = "failed", f"{failed} expectations did not hold on the import files"
        elif mine:
            rules = sorted({f"{f.check}: {f.rule}" for f in mine})
            status = "contradicted"
            why = (
                f"the files passed, but the dry run found {len(mine)} errors in {s['entity']} "
                f"({', '.join(rules)}): those records are not in the files"
            )
        else:
            status, why = "passed", "every expectation held and the dry run found no error in this entity"
        out.append(
            {
                "suite": s["suite"],
                "entity": s["entity"],
                "expectations": len(s["results"]),
                "failed": failed,
                "status": status,
                "why": why,
                "results": results,
            }
        )
    return out


def _parent_keys(profile: TargetProfile, frames: dict[Entity, pl.DataFrame]) -> dict[Entity, dict[str, list[str]]]:
    """Per child entity and link header: the keys its parents were written with; by a name (or legacy id),
    only those one parent alone carries, as conform links; none where no parent was written."""
    out: dict[Entity, dict[str, list[str]]] = {}
    for entity, frame in frames.items():
        for header, spec in profile.columns_by_header(entity).items():
            if spec.parent is None or header not in frame.columns:
                continue
            if spec.parent not in frames:
                out.setdefault(entity, {})[header] = []
                continue
            key = profile.parent_key_header(spec, frames[spec.parent].columns)
            if key:
                keys = frames[spec.parent][key].drop_nulls()
                if spec.parent_key != "external_id":
                    counts = keys.value_counts(name="n")
                    keys = counts.filter(pl.col("n") == 1)[key]
                out.setdefault(entity, {})[header] = keys.unique().sort().to_list()
    return out


def _findings(entity: Entity, r, where: list[tuple[str, int]]) -> list[Finding]:
    config = r.expectation_config
    rule, hint = config.meta.get("rule", "expectation"), config.meta.get("hint", "")
    column = config.kwargs.get("column")
    name = re.sub(r"^expect_", "", config.type).replace("_", " ")
    result = r.result or {}
    indexes = result.get("unexpected_index_list") or []
    values = result.get("unexpected_list") or [None] * len(indexes)
    if not indexes:  # a table-level expectation: the columns
        observed = result.get("observed_value")
        return [
            Finding(
                "expectations",
                "error",
                entity.value,
                where[0][0] if where else "",
                1,
                None,
                None,
                rule,
                f"{name}: observed {observed}",
                hint,
            )
        ]
    out = []
    for index, value in zip(indexes, values, strict=False):
        path, line = where[index]
        out.append(
            Finding(
                "expectations",
                "error",
                entity.value,
                path,
                line,
                column,
                None if value is None else str(value),
                rule,
                f"{name}: {value!r}",
                hint,
            )
        )
    return out
