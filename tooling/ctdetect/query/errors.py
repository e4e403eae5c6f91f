"""Errors raised by every query parser."""

from __future__ import annotations


class QueryParseError(ValueError):
    """A query could not be parsed. ``line`` and ``column`` are 1-based, within the query text."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, language: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.language = language
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{language + ': ' if language else ''}{message}{where}")
