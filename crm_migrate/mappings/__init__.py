"""Mapping-file and project-file models, the entity catalogue and YAML loading with line numbers."""
