"""Checks on projects and results: source headers, reconciliation, the quality report."""
