"""ES|QL function definitions as data: names, kinds, parameters and accepted argument types.

Why data: Elastic publishes one machine-readable definition per function (the ones
Kibana's editor validates with); we keep their facts in ``data/functions.json`` so the
validator and the evaluator agree on what exists, and a new Elastic release is a data
update (``generators/gen_esql_functions.py``), not a code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

STRING_TYPES = frozenset({"keyword", "text"})
NUMERIC_TYPES = frozenset({"integer", "long", "double", "unsigned_long"})
DATE_TYPES = frozenset({"date", "date_nanos"})
SPATIAL_TYPES = frozenset({"geo_point", "geo_shape", "cartesian_point", "cartesian_shape"})
#: Types a string literal is implicitly cast to when a function or operator expects them.
LITERAL_CASTS = frozenset({"date", "date_nanos", "ip", "version", "date_period", "time_duration", "boolean"}) | NUMERIC_TYPES

_GROUPS = {"str": STRING_TYPES, "num": NUMERIC_TYPES, "date": DATE_TYPES, "spatial": SPATIAL_TYPES}


@dataclass(frozen=True)
class Param:
    name: str
    types: frozenset[str]  # empty: any type
    optional: bool = False

    def describe(self) -> str:
        return "any type" if not self.types else " or ".join(sorted(self.types))


@dataclass(frozen=True)
class Function:
    name: str
    kind: str  # scalar | agg | grouping | full_text
    params: tuple[Param, ...]
    variadic: bool
    returns: str  # a type, or "=N": the type of argument N

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params)

    def param_for(self, index: int) -> Param | None:
        """The parameter argument ``index`` binds to (variadic extras repeat the last)."""
        if index < len(self.params):
            return self.params[index]
        return self.params[-1] if self.variadic and self.params else None

    def return_type(self, arg_types: list[str | None]) -> str | None:
        if self.returns == "any":  # the definitions give no single type: unknown, not a type named "any"
            return None
        if self.returns.startswith("="):
            idx = int(self.returns[1:])
            found = arg_types[idx] if idx < len(arg_types) else None
            if self.name == "sum" and found == "integer":
                return "long"
            return found
        return self.returns


def _types(spec: str) -> frozenset[str]:
    out: set[str] = set()
    for word in spec.split():
        if word == "any":
            return frozenset()
        out |= _GROUPS.get(word, {word})
    return frozenset(out)


@lru_cache(maxsize=1)
def load_functions() -> dict[str, Function]:
    """Every known function by lower-case name."""
    raw = json.loads(resources.files("ctdetect.query.esql").joinpath("data/functions.json").read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw["functions"].items():
        params = tuple(Param(p[0], _types(p[1]), bool(p[2]) if len(p) > 2 else False) for p in spec["params"])
        out[name] = Function(name, spec["kind"], params, bool(spec.get("variadic")), spec["returns"])
    return out


def accepts(param: Param, arg_type: str | None, *, literal: bool = False) -> bool:
    """Whether an argument of ``arg_type`` fits ``param`` (unknown and null fit anything).

    Strings (keyword, text) stand for each other; numbers widen; a string literal is cast to
    a date, IP, version or timespan where one is expected, as ES|QL documents."""
    if arg_type is None or arg_type == "null" or not param.types:
        return True
    if arg_type in param.types:
        return True
    if arg_type in STRING_TYPES and param.types & STRING_TYPES:
        return True
    if arg_type in NUMERIC_TYPES and param.types & NUMERIC_TYPES:
        return True
    if arg_type == "date_nanos" and "date" in param.types:
        return True
    return literal and arg_type in STRING_TYPES and bool(param.types & LITERAL_CASTS)
