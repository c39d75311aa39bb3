"""The pipeline: read -> extract (map, clean, scope) -> merge -> link -> write, wired in `run`."""
