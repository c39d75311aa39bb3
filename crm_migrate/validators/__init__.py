"""Checks only, each on plain data: source headers, the independent line count, reconciliation, read-back,
Great Expectations suites, the database load, what verify counts as the same. Findings are their results."""
