"""Validation of a content package: small named checks, and reporters for their problems.

``run_checks(package)`` (module ``runner``) runs every check in ``checks.ALL_CHECKS`` over a
loaded ``Package`` and returns a ``Report``: the problems (file, line, column, check id,
severity, message) and a summary. Reporters (``reporters``) render a report as text,
JSON, JUnit XML or SARIF. Nothing here prints or exits: that is the CLI's job.
"""
