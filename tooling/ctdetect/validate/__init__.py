"""Validation of a content package: small named checks over a loaded package.

``run_checks(package)`` (module ``runner``) runs every check in ``checks.ALL_CHECKS`` over a
loaded ``Package`` and returns a ``Report``: the problems (file, line, column, check id,
severity, message) and a summary. Rendering it (text, JSON, JUnit XML, SARIF) is
``ctdetect.reporting``'s job; nothing here prints or exits.
"""
