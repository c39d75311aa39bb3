"""The JSON Schemas of migration.yaml and of the mapping files, from their models, for editors to complete
and check (``crm-migrate schema``)."""

from __future__ import annotations

import json
from pathlib import Path

from crm_migrate.mappings.models import MigrationConfig, SourceMapping

SCHEMAS = (("migration.schema.json", MigrationConfig), ("mapping.schema.json", SourceMapping))


def write_schemas(folder: Path) -> list[Path]:
    """Write both schemas into ``folder`` (made if need be); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS:
        path = folder / name
        path.write_text(
            json.dumps(model.model_json_schema(by_alias=True), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written
