"""ES|QL in the query layer: parser (``parser.parse_esql``), syntax tree (``ast``), function
definitions (``functions``), static analysis (``analyze``) and evaluation over column
tables (``table``, ``evaluate``)."""

from __future__ import annotations

from ctdetect.query.esql.parser import parse_esql

__all__ = ["parse_esql"]
