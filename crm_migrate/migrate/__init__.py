"""The pipeline: read -> extract (map, clean, scope) -> merge -> link -> write, wired in `run`; and the verbs
built on it: validate, plan, the dry run, verify, init's suggestions."""
