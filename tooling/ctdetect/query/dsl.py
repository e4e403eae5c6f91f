"""Elasticsearch query DSL parser (a dict, or JSON text) into the common AST.

Covers what datafeeds and rule filters use: ``bool`` (must, filter, should with
``minimum_should_match``, must_not), ``term`` (short and long forms, ``case_insensitive``),
``terms``, ``match`` (``operator``), ``match_phrase``, ``multi_match``, ``exists``,
``range``, ``wildcard``, ``prefix``, ``regexp``, ``query_string`` (through the Lucene
parser), ``constant_score``, ``match_all`` and ``match_none``.

Why strict: a datafeed query that ctdetect silently misread would select the wrong
documents and every anomaly after it would be wrong. Unknown query types and unknown
parameters that change which documents match are errors; scoring-only parameters
(``boost``, ``_name``, ...) are accepted and ignored.

Errors name the JSON path of the offending clause; for JSON text the line and column point
at that clause's key in the text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from ctdetect.query import ast
from ctdetect.query._larkutil import line_col
from ctdetect.query.errors import QueryParseError

LANGUAGE = "dsl"

_SCORING_ONLY = frozenset({"boost", "_name", "rewrite", "adjust_pure_negative", "auto_generate_synonyms_phrase_query", "lenient", "analyzer", "quote_analyzer", "max_determinized_states", "max_expansions", "prefix_length", "fuzzy_transpositions", "zero_terms_query", "analyze_wildcard"})


_DATE_FORMATS = frozenset({"strict_date_optional_time", "date_optional_time", "epoch_millis", "strict_date_time", "date_time", "strict_date", "date", "yyyy-MM-dd"})


class _Path:
    """The location of a clause, for error messages."""

    def __init__(self, parts: tuple[Any, ...] = ()) -> None:
        self.parts = parts

    def __truediv__(self, part: Any) -> "_Path":
        return _Path(self.parts + (part,))

    def __str__(self) -> str:
        out = ""
        for part in self.parts:
            out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
        return out or "query"


def parse_dsl(source: Mapping[str, Any] | str | bytes) -> ast.Node:
    """Parse an ES query (the value of ``"query"``) given as a dict or JSON text."""
    text: str | None = None
    if isinstance(source, (bytes, bytearray)):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryParseError(f"query is not UTF-8: {exc.reason}", 1, 1, LANGUAGE) from None
    if isinstance(source, str):
        text = source
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QueryParseError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno, LANGUAGE) from None
        except RecursionError:
            raise QueryParseError("query nested too deeply", 1, 1, LANGUAGE) from None
    else:
        data = source
    try:
        return _Parser(text).query(data, _Path())
    except QueryParseError:
        raise
    except RecursionError:
        raise QueryParseError("query nested too deeply", 1, 1, LANGUAGE) from None


class _Parser:
    def __init__(self, text: str | None) -> None:
        self.text = text

    # ----------------------------------------------------------------- errors

    def error(self, message: str, path: _Path) -> QueryParseError:
        line, col = self._locate(path)
        return QueryParseError(f"{path}: {message}", line, col, LANGUAGE)

    def _locate(self, path: _Path) -> tuple[int, int]:
        """Best-effort position of ``path`` in the JSON text: each key searched in turn."""
        if self.text is None:
            return 1, 1
        offset = 0
        found = 0
        for part in path.parts:
            if isinstance(part, int):
                continue
            idx = self.text.find(json.dumps(part), offset)
            if idx < 0:
                break
            offset = found = idx
        return line_col(self.text, found)

    # ----------------------------------------------------------------- helpers

    def _single(self, body: Any, path: _Path, what: str) -> tuple[str, Any]:
        if not isinstance(body, dict):
            raise self.error(f"{what} takes an object", path)
        keys = [k for k in body if k not in _SCORING_ONLY]
        if len(keys) != 1:
            raise self.error(f"{what} takes exactly one field, got {len(keys)}", path)
        return keys[0], body[keys[0]]

    def _check_params(self, params: Mapping[str, Any], allowed: set[str], path: _Path) -> None:
        for key in params:
            if key not in allowed and key not in _SCORING_ONLY:
                raise self.error(f"unsupported parameter {key!r}", path / key)

    def _scalar(self, value: Any, path: _Path) -> ast.Scalar:
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.error("numbers must be finite", path)
            return value
        raise self.error(f"expected a single value, got {type(value).__name__}", path)

    def _string(self, value: Any, path: _Path) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise self.error(f"expected a string, got {type(value).__name__}", path)

    def _bool(self, value: Any, path: _Path) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise self.error("expected true or false", path)

    def _clauses(self, value: Any, path: _Path) -> list[ast.Node]:
        if isinstance(value, list):
            return [self.query(v, path / i) for i, v in enumerate(value)]
        return [self.query(value, path)]

    # ----------------------------------------------------------------- dispatch

    def query(self, data: Any, path: _Path) -> ast.Node:
        if not isinstance(data, dict):
            raise self.error(f"a query must be an object, got {type(data).__name__}", path)
        if len(data) != 1:
            raise self.error(f"a query must have exactly one type, got {len(data)} ({', '.join(map(str, data)) or 'none'})", path)
        ((kind, body),) = data.items()
        handler = getattr(self, "q_" + str(kind), None)
        if handler is None:
            raise self.error(f"unsupported query type {kind!r}", path / kind)
        return handler(body, path / kind)

    def q_match_all(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict):
            raise self.error("match_all takes an object", path)
        self._check_params(body, set(), path)
        return ast.MatchAll()

    def q_match_none(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict):
            raise self.error("match_none takes an object", path)
        self._check_params(body, set(), path)
        return ast.MatchNone()

    def q_constant_score(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict) or "filter" not in body:
            raise self.error("constant_score takes an object with a filter", path)
        self._check_params(body, {"filter"}, path)
        return self.query(body["filter"], path / "filter")

    def q_bool(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict):
            raise self.error("bool takes an object", path)
        self._check_params(body, {"must", "filter", "should", "must_not", "minimum_should_match"}, path)
        required = self._clauses(body.get("must", []), path / "must") + self._clauses(body.get("filter", []), path / "filter")
        should = self._clauses(body.get("should", []), path / "should")
        must_not = self._clauses(body.get("must_not", []), path / "must_not")
        items: list[ast.Node] = list(required)
        if should:
            # Elasticsearch: with no must/filter clause at least one should must match
            # (must_not does not count); otherwise should only scores.
            default = 0 if required else 1
            raw = body.get("minimum_should_match")
            minimum = default if raw is None else self._msm(raw, len(should), path / "minimum_should_match")
            if minimum >= 1:
                if minimum > len(should):
                    items.append(ast.MatchNone())
                elif minimum == 1:
                    items.append(should[0] if len(should) == 1 else ast.Or(tuple(should)))
                elif minimum == len(should):
                    items.extend(should)
                else:
                    items.append(ast.AtLeast(minimum, tuple(should)))
        items.extend(ast.Not(n) for n in must_not)
        if not items:
            return ast.MatchAll()
        return items[0] if len(items) == 1 else ast.And(tuple(items))

    def _check_time_zone(self, tz: Any, path: _Path) -> None:
        if tz not in (None, "Z", "UTC", "+00:00", "Etc/UTC", "GMT"):
            raise self.error(f"time_zone {tz!r} is not supported (only UTC)", path)

    def _msm(self, raw: Any, count: int, path: _Path) -> int:
        """Elasticsearch's minimum_should_match: integer or percentage, negative from the top."""
        if isinstance(raw, bool):
            raise self.error("minimum_should_match must be a number or a percentage", path)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
            value = int(raw)
        elif isinstance(raw, str) and re.fullmatch(r"-?\d+(\.\d+)?%", raw.strip()):
            pct = float(raw.strip()[:-1])
            value = int(count * pct / 100) if pct >= 0 else -int(count * -pct / 100)
        else:
            raise self.error(f"unsupported minimum_should_match {raw!r}", path)
        if value < 0:
            value = count + value
        return max(0, min(value, count + 1)) if value <= count else count + 1

    def q_term(self, body: Any, path: _Path) -> ast.Node:
        field, spec = self._single(body, path, "term")
        case_insensitive = False
        if isinstance(spec, dict):
            self._check_params(spec, {"value", "case_insensitive"}, path / field)
            if "value" not in spec:
                raise self.error("term needs a value", path / field)
            case_insensitive = self._bool(spec.get("case_insensitive", False), path / field / "case_insensitive")
            spec = spec["value"]
        value = self._scalar(spec, path / field)
        if value is None:
            raise self.error("term value must not be null", path / field)
        return ast.Term(field, value, case_insensitive=case_insensitive)

    def q_terms(self, body: Any, path: _Path) -> ast.Node:
        field, spec = self._single(body, path, "terms")
        if not isinstance(spec, list):
            raise self.error("terms takes a list of values (terms lookup is not supported)", path / field)
        values = tuple(self._scalar(v, path / field / i) for i, v in enumerate(spec))
        if any(v is None for v in values):
            raise self.error("terms values must not be null", path / field)
        return ast.Terms(field, values)

    def q_match(self, body: Any, path: _Path) -> ast.Node:
        field, spec = self._single(body, path, "match")
        operator = "or"
        if isinstance(spec, dict):
            self._check_params(spec, {"query", "operator"}, path / field)
            if "query" not in spec:
                raise self.error("match needs a query", path / field)
            op = str(spec.get("operator", "or")).lower()
            if op not in ("or", "and"):
                raise self.error(f"operator must be OR or AND, got {spec.get('operator')!r}", path / field / "operator")
            operator = op
            spec = spec["query"]
        value = self._scalar(spec, path / field)
        if value is None:
            raise self.error("match query must not be null", path / field)
        return ast.Match(field, value, operator=operator)

    def q_match_phrase(self, body: Any, path: _Path) -> ast.Node:
        field, spec = self._single(body, path, "match_phrase")
        if isinstance(spec, dict):
            self._check_params(spec, {"query", "slop"}, path / field)
            if spec.get("slop", 0) not in (0, "0"):
                raise self.error("match_phrase with slop is not supported", path / field / "slop")
            if "query" not in spec:
                raise self.error("match_phrase needs a query", path / field)
            spec = spec["query"]
        return ast.Phrase(field, self._string(spec, path / field))

    def q_multi_match(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict) or "query" not in body:
            raise self.error("multi_match takes an object with a query", path)
        self._check_params(body, {"query", "fields", "type", "operator"}, path)
        kind = body.get("type", "best_fields")
        if kind not in ("best_fields", "most_fields", "phrase"):
            raise self.error(f"unsupported multi_match type {kind!r}", path / "type")
        fields = body.get("fields")
        if fields is None or fields == ["*"] or fields == "*":
            names: list[str | None] = [None]
        elif isinstance(fields, list) and all(isinstance(f, str) for f in fields) and fields:
            names = [f.split("^", 1)[0] for f in fields]
        else:
            raise self.error("fields must be a list of field names", path / "fields")
        operator = str(body.get("operator", "or")).lower()
        if operator not in ("or", "and"):
            raise self.error("operator must be OR or AND", path / "operator")
        if kind == "phrase":
            text = self._string(body["query"], path / "query")
            nodes: list[ast.Node] = [ast.Phrase(f, text) for f in names]
        else:
            value = self._scalar(body["query"], path / "query")
            nodes = [ast.Match(f, value, operator=operator) for f in names]
        return nodes[0] if len(nodes) == 1 else ast.Or(tuple(nodes))

    def q_exists(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict) or not isinstance(body.get("field"), str):
            raise self.error("exists takes {\"field\": name}", path)
        self._check_params(body, {"field"}, path)
        return ast.Exists(body["field"])

    def q_range(self, body: Any, path: _Path) -> ast.Node:
        field, spec = self._single(body, path, "range")
        if not isinstance(spec, dict):
            raise self.error("range takes an object of bounds", path / field)
        self._check_params(spec, {"gt", "gte", "lt", "lte", "from", "to", "include_lower", "include_upper", "format", "time_zone", "relation"}, path / field)
        if spec.get("relation", "intersects").lower() not in ("intersects", "within", "contains"):
            raise self.error("relation must be INTERSECTS, WITHIN or CONTAINS", path / field / "relation")
        self._check_time_zone(spec.get("time_zone"), path / field / "time_zone")
        fmt = spec.get("format")
        if fmt is not None and not set(str(fmt).split("||")) <= _DATE_FORMATS:
            raise self.error(f"date format {fmt!r} is not supported (ISO-8601 and epoch_millis are)", path / field / "format")
        bounds: dict[str, ast.Scalar] = {}
        for key in ("gt", "gte", "lt", "lte"):
            if spec.get(key) is not None:
                bounds[key] = self._scalar(spec[key], path / field / key)
        if spec.get("from") is not None:
            key = "gte" if self._bool(spec.get("include_lower", True), path / field) else "gt"
            bounds[key] = self._scalar(spec["from"], path / field / "from")
        if spec.get("to") is not None:
            key = "lte" if self._bool(spec.get("include_upper", True), path / field) else "lt"
            bounds[key] = self._scalar(spec["to"], path / field / "to")
        return ast.Range(field, **bounds)

    def _pattern_query(self, body: Any, path: _Path, what: str, value_keys: tuple[str, ...], extra: set[str]) -> tuple[str, str, bool, dict[str, Any]]:
        field, spec = self._single(body, path, what)
        case_insensitive = False
        params: dict[str, Any] = {}
        if isinstance(spec, dict):
            self._check_params(spec, set(value_keys) | {"case_insensitive"} | extra, path / field)
            key = next((k for k in value_keys if k in spec), None)
            if key is None:
                raise self.error(f"{what} needs a value", path / field)
            case_insensitive = self._bool(spec.get("case_insensitive", False), path / field / "case_insensitive")
            params = {k: spec[k] for k in extra if k in spec}
            spec = spec[key]
        return field, self._string(spec, path / field), case_insensitive, params

    def q_wildcard(self, body: Any, path: _Path) -> ast.Node:
        field, value, ci, _ = self._pattern_query(body, path, "wildcard", ("value", "wildcard"), set())
        return ast.Wildcard(field, value, case_insensitive=ci)

    def q_prefix(self, body: Any, path: _Path) -> ast.Node:
        field, value, ci, _ = self._pattern_query(body, path, "prefix", ("value",), set())
        return ast.Prefix(field, value, case_insensitive=ci)

    def q_regexp(self, body: Any, path: _Path) -> ast.Node:
        field, value, ci, params = self._pattern_query(body, path, "regexp", ("value",), {"flags", "flags_value"})
        from ctdetect.query.regex import RegexSyntaxError, lucene_regex

        try:
            lucene_regex(value, ci)
        except RegexSyntaxError as exc:
            raise self.error(f"invalid regular expression: {exc}", path / field) from None
        return ast.Regexp(field, value, case_insensitive=ci)

    def q_query_string(self, body: Any, path: _Path) -> ast.Node:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise self.error("query_string takes an object with a query string", path)
        self._check_params(body, {"query", "default_field", "fields", "default_operator", "allow_leading_wildcard", "time_zone", "escape", "fuzziness", "phrase_slop", "type", "quote_field_suffix", "tie_breaker", "minimum_should_match"}, path)
        if body.get("minimum_should_match") is not None:
            raise self.error("minimum_should_match in query_string is not supported", path / "minimum_should_match")
        self._check_time_zone(body.get("time_zone"), path / "time_zone")
        fields = body.get("fields")
        default_field = body.get("default_field")
        if fields is not None:
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise self.error("fields must be a list of field names", path / "fields")
            default_fields: list[str | None] = [f.split("^", 1)[0] for f in fields] or [None]
        elif default_field is not None:
            default_fields = [self._string(default_field, path / "default_field").split("^", 1)[0]]
        else:
            default_fields = [None]
        default_fields = [None if f == "*" else f for f in default_fields]
        operator = str(body.get("default_operator", "or")).lower()
        if operator not in ("or", "and"):
            raise self.error("default_operator must be OR or AND", path / "default_operator")
        from ctdetect.query.lucene import parse_lucene

        try:
            return parse_lucene(body["query"], default_fields=tuple(default_fields), default_operator=operator)
        except QueryParseError as exc:
            raise self.error(f"query_string: {exc.message} (column {exc.column} of the query)", path / "query") from None
