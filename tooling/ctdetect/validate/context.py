"""What checks share: the package, lazily loaded reference data, and parsed queries.

The field catalogue and ATT&CK data are loaded only when a check needs them, once; each
query is parsed once however many checks read it. A check that needs reference data that
cannot be loaded is skipped, and the summary says why, rather than failing the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctdetect.content.model import LoadProblem, Located, Package, Severity
from ctdetect.content.positions import value_start

_UNSET: Any = object()


@dataclass(slots=True)
class Parsed:
    """The outcome of parsing one query: a node, the parse error, or why it was not parsed."""

    node: Any = None
    error: Exception | None = None
    internal: str | None = None  # the parser itself failed or is missing: not the author's fault


class Context:
    """Shared state for one validation run over one package."""

    def __init__(self, package: Package, *, catalogue: Any = _UNSET, attack: Any = _UNSET) -> None:
        self.package = package
        self._catalogue = catalogue
        self._attack = attack
        self.unavailable: dict[str, str] = {}  # resource -> why it could not be loaded
        self._parsed: dict[tuple[str, str], Parsed] = {}
        self._schema_errors: dict[int, list[Any]] = {}
        self.memo: dict[str, Any] = {}  # per-run results that several checks share

    # ------------------------------------------------------------------ reference data

    @property
    def catalogue(self) -> Any:
        """The field catalogue (``ctdetect.catalogue``), or ``None`` when it cannot be loaded."""
        if self._catalogue is _UNSET:
            try:
                from ctdetect.catalogue import load_catalogue

                self._catalogue = load_catalogue()
            except Exception as exc:  # noqa: BLE001 - reported in the summary, checks skipped
                self.unavailable["catalogue"] = f"field catalogue unavailable: {exc}"
                self._catalogue = None
        return self._catalogue

    @property
    def attack(self) -> Any:
        """Pinned ATT&CK data (``ctdetect.attack``), or ``None`` when it cannot be loaded."""
        if self._attack is _UNSET:
            try:
                from ctdetect.attack import load_attack

                self._attack = load_attack()
            except Exception as exc:  # noqa: BLE001
                self.unavailable["attack"] = f"ATT&CK data unavailable: {exc}"
                self._attack = None
        return self._attack

    def resource(self, name: str) -> Any:
        return self.catalogue if name == "catalogue" else self.attack if name == "attack" else None

    # ------------------------------------------------------------------ queries

    def parse(self, text: Any, language: str) -> Parsed:
        """Parse ``text`` (a string, or a dict for ``dsl``) once; errors are returned, not raised."""
        import json

        key = (language, text if isinstance(text, str) else json.dumps(text, sort_keys=True))
        cached = self._parsed.get(key)
        if cached is None:
            from ctdetect.query import QueryParseError, parse_query

            try:
                cached = Parsed(node=parse_query(text, language))
            except QueryParseError as exc:
                cached = Parsed(error=exc)
            except RecursionError:
                cached = Parsed(error=QueryParseError("query is nested too deeply", language=language))
            except Exception as exc:  # noqa: BLE001 - a parser bug must not stop validation
                cached = Parsed(internal=f"the {language} parser failed ({type(exc).__name__}: {exc}); please report it")
            self._parsed[key] = cached
        return cached

    def schema_errors(self, obj: Any, schema_name: str) -> list[Any]:
        """jsonschema errors of ``obj.raw`` against a shipped schema, computed once per object."""
        errors = self._schema_errors.get(id(obj))
        if errors is None:
            from ctdetect.schemas import load_schema
            from ctdetect.validate.schema_lite import iter_errors

            errors = list(iter_errors(load_schema(schema_name), obj.raw))
            self._schema_errors[id(obj)] = errors
        return errors


def problem(
    source: Located, key: str | None, check: str, severity: Severity, message: str, *, line: int | None = None, column: int | None = None
) -> LoadProblem:
    """A problem located at ``key`` of ``source`` (or at an explicit line)."""
    if line is None and key is not None:
        line = source.line_of(key)
    return LoadProblem(source.path, line, column, check, severity, message)


def query_position(source: Located, key: str, error: Any, text: str | None = None) -> tuple[int | None, int | None]:
    """File line and column of a position (a parse error, an AST node) inside the string value of ``key``.

    With the query ``text``, a position past its last character ("unexpected end of
    query") is moved back to the end of the last non-blank line, where the author looks.
    """
    base_line = source.line_of(key)
    start = value_start(source.lines, key)
    err_line = getattr(error, "line", None)
    err_col = getattr(error, "column", None)
    if start is None or err_line is None:
        return base_line, None
    if text is not None and text.strip():
        body = text.rstrip().split("\n")
        if err_line > len(body) or (err_line == len(body) and err_col is not None and err_col > len(body[-1])):
            err_line, err_col = len(body), len(body[-1]) + 1
    line = start[0] + err_line - 1
    column = (start[1] + err_col - 1 if err_line == 1 else err_col) if err_col is not None else None
    return line, column
