"""The entity catalogue, the mapping-file, project-file and target-profile models, the built-in profiles,
and YAML loading with line numbers."""
