"""The four ends of a source row, as lineage.csv, the reconciliation and every report name them: written
(a record in the import files), merged (into another row's record), filtered (out of scope, not a record)
or rejected (with the reason). One place for the words, so that no stage compares against a misspelling."""

from __future__ import annotations

WRITTEN, MERGED, FILTERED, REJECTED = "written", "merged", "filtered", "rejected"
OUTCOMES = (WRITTEN, MERGED, FILTERED, REJECTED)
KEPT = (WRITTEN, MERGED)  # rows behind a record the target receives
