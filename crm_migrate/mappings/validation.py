"""A YAML document validated as a pydantic model, its errors turned into problems with their lines.

One place for every project file (migration.yaml, the mappings) and target profile, so that each says a
mistake the same way: ``mappings/x.yaml:8: entities.accounts.columns: unknown key 'feild' — did you mean
'field'?``.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from crm_migrate.errors import Problem, did_you_mean
from crm_migrate.mappings.yamlfile import YamlDocument

_UNION_BRANCHES = {"str", "ColumnMap", "list[str]", "literal['all']", "int", "literal['auto']", "[key]"}


def validate_model(model: type[BaseModel], doc: YamlDocument, problems: list[Problem], salvage: bool = False) -> Any:
    """The file's data as ``model``, or None with its problems added. With ``salvage``, a file with errors
    still gives the model of what is right in it (each wrong part left out), so that the rest can be checked
    in the same pass; the errors are reported all the same."""
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(
                doc.path,
                "expected a mapping of keys to values at the top",
                line=1,
                hint=f"see the JSON Schema written by 'crm-migrate schema' for {model.__name__}",
            )
        )
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems += _explain(model, doc, exc)
        if not salvage:
            return None
        data = copy.deepcopy(doc.data)
        for _ in range(8):
            if not all(_prune(data, _data_loc(err["loc"]), err["type"] == "missing") for err in exc.errors()):
                return None
            try:
                return model.model_validate(data)
            except ValidationError as again:
                exc = again
        return None


def _branch(part: object) -> bool:
    """A part of pydantic's error location that names a union branch or a validator, not a key of the file
    (``ColumnMap``, ``function-after[_value_map(), ColumnMap]``)."""
    return part in _UNION_BRANCHES or (isinstance(part, str) and part.startswith("function-"))


def _data_loc(loc: tuple) -> tuple:
    return tuple(part for part in loc if not _branch(part))


def _prune(data: Any, loc: tuple, missing: bool) -> bool:
    """Remove the part of ``data`` an error is about (for a missing key, the block that lacks it); False when
    that would be the whole file."""
    if missing:
        loc = loc[:-1]
    while loc:
        parent = data
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = loc[-1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return True
        if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            del parent[last]
            return True
        loc = loc[:-1]  # a part that is not there as such (a union's branch, an alias): remove what holds it
    return False


def _explain(model: type[BaseModel], doc: YamlDocument, exc: ValidationError) -> list[Problem]:
    """Turn pydantic's errors into problems with lines; of a union's branches keep the informative ones."""
    errors = []
    for err in exc.errors():
        errors.append((_data_loc(err["loc"]), err))
    out = []
    for loc, err in errors:
        if err["type"] in ("string_type", "list_type", "int_type", "literal_error") and any(
            other is not err and other_loc[: len(loc)] == loc for other_loc, other in errors
        ):
            continue  # another branch of the union explains it better
        where = ".".join(str(p) for p in loc) or "top level"
        line = doc.line_of(loc)
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, loc[:-1])
            out.append(
                Problem(
                    doc.path,
                    f"unknown key {key!r}",
                    line=line,
                    hint=did_you_mean(key, allowed) or (f"allowed here: {', '.join(allowed)}" if allowed else None),
                )
            )
            continue
        message = err["msg"].removeprefix("Value error, ")
        hint = err.get("ctx", {}).get("hint") if err["type"] == "refused" else None
        if err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",") if c.strip(" '")]
            hint = did_you_mean(str(err["input"]), choices)
            message = f"{err['input']!r} is not one of {expected}"
        elif err["type"] == "missing":
            message = f"{loc[-1]!r} is required"
            line = doc.line_of(loc[:-1])
        out.append(Problem(doc.path, f"{where}: {message}", line=line, hint=hint))
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the model accepts at ``loc``: descend through fields, step over dict keys and list items."""
    current = model
    for part in loc:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is not None:
            current = _model_in(info.annotation) or current
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The first pydantic model inside an annotation such as ``dict[str, str | ColumnMap]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if found := _model_in(arg):
            return found
    return None
