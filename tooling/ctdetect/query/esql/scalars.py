"""ES|QL scalar functions, as the reference documents them, one Python function a row.

Null in, null out (unless a function says otherwise, like ``COALESCE``). A multi-valued
argument where the function takes a single value gives null, as ES|QL does (with a
warning in its response); the ``MV_*`` functions and the type conversions take multi-
values by design. Dates are epoch milliseconds; timespans are ``Span``s.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ctdetect.query.values import doc_date, ip_in, to_ip, to_network
from ctdetect.timeutil import DateError, parse_es_date as parse_date
from ctdetect.timeutil import _add_months_ms as add_months

_UNIT_MS = {"millisecond": 1, "second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000}


@dataclass(frozen=True)
class Span:
    """A timespan literal (``10 seconds``, ``1 month``)."""

    amount: int
    unit: str

    def add_to(self, ms: int, sign: int = 1) -> int:
        if self.unit in ("month", "quarter", "year"):
            months = self.amount * {"month": 1, "quarter": 3, "year": 12}[self.unit]
            return add_months(ms, sign * months)
        return ms + sign * self.amount * _UNIT_MS[self.unit]


class EsqlRuntimeError(ValueError):
    """An argument ES|QL would reject when the query runs (message says which)."""


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def to_date(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return doc_date(value) if isinstance(value, (str, float)) else None


def keyword(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


# ------------------------------------------------------------------------------ dates
def date_trunc(span: Any, ms: int) -> int:
    if not isinstance(span, Span):
        raise EsqlRuntimeError("DATE_TRUNC needs a timespan interval")
    if span.unit in _UNIT_MS and span.unit != "week":
        size = span.amount * _UNIT_MS[span.unit]
        return ms - ms % size
    if span.unit == "week":
        size = span.amount * _UNIT_MS["week"]
        return ms - ((ms + 3 * 86_400_000) % size)  # ISO weeks start on Monday; 1970-01-01 was a Thursday
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    months = {"month": 1, "quarter": 3, "year": 12}[span.unit] * span.amount
    index = dt.year * 12 + dt.month - 1
    index -= index % months
    year, month = divmod(index, 12)
    return calendar.timegm((year, month + 1, 1, 0, 0, 0)) * 1000


_DIFF_UNITS = {
    "year": "year", "years": "year", "yy": "year", "yyyy": "year", "quarter": "quarter", "quarters": "quarter", "qq": "quarter", "q": "quarter",
    "month": "month", "months": "month", "mm": "month", "m": "month", "dayofyear": "day", "dy": "day", "y": "day",
    "day": "day", "days": "day", "dd": "day", "d": "day", "week": "week", "weeks": "week", "wk": "week", "ww": "week",
    "weekday": "day", "weekdays": "day", "dw": "day", "hour": "hour", "hours": "hour", "hh": "hour",
    "minute": "minute", "minutes": "minute", "mi": "minute", "n": "minute", "second": "second", "seconds": "second",
    "ss": "second", "s": "second", "millisecond": "millisecond", "milliseconds": "millisecond", "ms": "millisecond",
    "microsecond": "microsecond", "microseconds": "microsecond", "mcs": "microsecond", "nanosecond": "nanosecond",
    "nanoseconds": "nanosecond", "ns": "nanosecond",
}


def date_diff(unit: str, start: int, end: int) -> int:
    """Whole ``unit``s from ``start`` to ``end`` (negative when end is earlier), truncated."""
    found = _DIFF_UNITS.get(str(unit).lower())
    if found is None:
        raise EsqlRuntimeError(f"DATE_DIFF: unknown unit {unit!r}")
    delta = end - start
    if found == "microsecond":
        return delta * 1000
    if found == "nanosecond":
        return delta * 1_000_000
    if found in _UNIT_MS:
        return int(delta / _UNIT_MS[found])
    a = datetime.fromtimestamp(start / 1000, tz=timezone.utc)
    b = datetime.fromtimestamp(end / 1000, tz=timezone.utc)
    months = (b.year - a.year) * 12 + b.month - a.month
    if months > 0 and (b.day, b.time()) < (a.day, a.time()):
        months -= 1
    elif months < 0 and (b.day, b.time()) > (a.day, a.time()):
        months += 1
    return {"month": months, "quarter": int(months / 3), "year": int(months / 12)}[found]


_EXTRACT = {
    "year": lambda d: d.year, "month_of_year": lambda d: d.month, "day_of_month": lambda d: d.day,
    "day_of_week": lambda d: d.isoweekday(), "day_of_year": lambda d: d.timetuple().tm_yday, "hour_of_day": lambda d: d.hour,
    "minute_of_hour": lambda d: d.minute, "second_of_minute": lambda d: d.second, "aligned_week_of_year": lambda d: (d.timetuple().tm_yday - 1) // 7 + 1,
}


def date_extract(part: str, ms: int) -> int:
    fn = _EXTRACT.get(str(part).lower())
    if fn is None:
        raise EsqlRuntimeError(f"DATE_EXTRACT: unsupported part {part!r}")
    return int(fn(datetime.fromtimestamp(ms / 1000, tz=timezone.utc)))


def to_datetime(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return parse_date(str(value))
    except DateError:
        return None


# ------------------------------------------------------------------------------ conversions
def to_double(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_long(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def to_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).lower() == "true"


def to_ip_value(value: Any) -> str | None:
    addr = to_ip(value)
    return str(addr) if addr is not None else None


def from_base64(value: str) -> str | None:
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4)).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def substring(text: str, start: int, length: int | None = None) -> str:
    begin = start - 1 if start > 0 else max(len(text) + start, 0)
    return text[begin:] if length is None else text[begin: begin + max(length, 0)]


def locate(text: str, sub: str, start: int | None = None) -> int:
    begin = max((start or 1) - 1, 0)
    return text.find(sub, begin) + 1


def cidr_match(ip: Any, *blocks: Any) -> bool | None:
    addr = to_ip(ip) if not isinstance(ip, list) else None
    if addr is None:
        return None
    networks = [to_network(b) for block in blocks for b in (block if isinstance(block, list) else [block])]
    return any(n is not None and ip_in(addr, n) for n in networks)


def _mv(fn: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    def apply(cell: Any) -> Any:
        values = cell if isinstance(cell, list) else [cell]
        return fn(values)

    return apply


def _sortable(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _dedupe(values: list[Any]) -> Any:
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    out = list(seen)
    return out[0] if len(out) == 1 else out


def _one_or_many(values: list[Any]) -> Any:
    return None if not values else values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class Scalar:
    """How a function runs: ``fn`` on row values; ``multi`` = takes multi-values; ``nulls`` = sees nulls."""

    fn: Callable[..., Any]
    multi: bool = False
    nulls: bool = False
    per_value: bool = False  # conversion applied to each value of a multi-valued cell


def _coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None), None)


def _greatest(*args: Any) -> Any:
    values = [v for a in args for v in (a if isinstance(a, list) else [a])]
    return max(values)


def _least(*args: Any) -> Any:
    values = [v for a in args for v in (a if isinstance(a, list) else [a])]
    return min(values)


def _hash(algorithm: str, text: str) -> str:
    try:
        return hashlib.new(str(algorithm).lower().replace("-", ""), text.encode()).hexdigest()
    except ValueError:
        raise EsqlRuntimeError(f"HASH: unknown algorithm {algorithm!r}") from None


def _round(number: Any, decimals: int = 0) -> Any:
    if isinstance(number, int) and decimals >= 0:
        return number
    factor = 10 ** decimals
    rounded = math.floor(abs(number) * factor + 0.5) / factor  # half away from zero, as Java's HALF_UP
    result = math.copysign(rounded, number)
    return int(result) if isinstance(number, int) else result


SCALARS: dict[str, Scalar] = {
    "coalesce": Scalar(_coalesce, multi=True, nulls=True),
    "concat": Scalar(lambda *a: "".join(keyword(x) for x in a)),
    "starts_with": Scalar(lambda s, p: s.startswith(p)),
    "ends_with": Scalar(lambda s, p: s.endswith(p)),
    "contains": Scalar(lambda s, p: p in s),
    "to_lower": Scalar(lambda s: s.lower(), multi=True, per_value=True),
    "to_upper": Scalar(lambda s: s.upper(), multi=True, per_value=True),
    "length": Scalar(len),
    "byte_length": Scalar(lambda s: len(s.encode())),
    "bit_length": Scalar(lambda s: 8 * len(s.encode())),
    "substring": Scalar(substring),
    "left": Scalar(lambda s, n: s[: max(n, 0)]),
    "right": Scalar(lambda s, n: s[-n:] if n > 0 else ""),
    "trim": Scalar(lambda s: s.strip(), multi=True, per_value=True),
    "ltrim": Scalar(lambda s: s.lstrip(), multi=True, per_value=True),
    "rtrim": Scalar(lambda s: s.rstrip(), multi=True, per_value=True),
    "replace": Scalar(lambda s, rx, new: re.sub(rx, new.replace("$", "\\"), s)),
    "split": Scalar(lambda s, d: _one_or_many(s.split(d)) if d else _one_or_many(list(s))),
    "locate": Scalar(locate),
    "repeat": Scalar(lambda s, n: s * max(n, 0)),
    "reverse": Scalar(lambda s: s[::-1]),
    "from_base64": Scalar(from_base64),
    "to_base64": Scalar(lambda s: base64.b64encode(s.encode()).decode()),
    "md5": Scalar(lambda s: hashlib.md5(s.encode()).hexdigest()),
    "sha1": Scalar(lambda s: hashlib.sha1(s.encode()).hexdigest()),
    "sha256": Scalar(lambda s: hashlib.sha256(s.encode()).hexdigest()),
    "hash": Scalar(_hash),
    "to_string": Scalar(keyword, multi=True, per_value=True),
    "to_double": Scalar(to_double, multi=True, per_value=True),
    "to_long": Scalar(to_long, multi=True, per_value=True),
    "to_integer": Scalar(to_long, multi=True, per_value=True),
    "to_unsigned_long": Scalar(to_long, multi=True, per_value=True),
    "to_boolean": Scalar(to_boolean, multi=True, per_value=True),
    "to_datetime": Scalar(to_datetime, multi=True, per_value=True),
    "to_ip": Scalar(to_ip_value, multi=True, per_value=True),
    "to_version": Scalar(str, multi=True, per_value=True),
    "date_trunc": Scalar(date_trunc),
    "date_diff": Scalar(date_diff),
    "date_extract": Scalar(date_extract),
    "date_format": Scalar(lambda *a: iso(a[-1])),
    "date_parse": Scalar(lambda *a: to_datetime(a[-1])),
    "cidr_match": Scalar(cidr_match, multi=True),
    "abs": Scalar(abs),
    "ceil": Scalar(lambda x: math.ceil(x) if isinstance(x, float) else x),
    "floor": Scalar(lambda x: math.floor(x) if isinstance(x, float) else x),
    "round": Scalar(_round),
    "pow": Scalar(lambda b, e: float(b) ** float(e)),
    "sqrt": Scalar(lambda x: math.sqrt(x) if x >= 0 else None),
    "log10": Scalar(lambda x: math.log10(x) if x > 0 else None),
    "exp": Scalar(lambda x: math.exp(x)),
    "signum": Scalar(lambda x: float((x > 0) - (x < 0))),
    "pi": Scalar(lambda: math.pi),
    "e": Scalar(lambda: math.e),
    "tau": Scalar(lambda: math.tau),
    "greatest": Scalar(_greatest, multi=True),
    "least": Scalar(_least, multi=True),
    "mv_count": Scalar(_mv(len), multi=True),
    "mv_first": Scalar(_mv(lambda v: v[0]), multi=True),
    "mv_last": Scalar(_mv(lambda v: v[-1]), multi=True),
    "mv_min": Scalar(_mv(min), multi=True),
    "mv_max": Scalar(_mv(max), multi=True),
    "mv_sum": Scalar(_mv(sum), multi=True),
    "mv_avg": Scalar(_mv(lambda v: sum(v) / len(v)), multi=True),
    "mv_dedupe": Scalar(_mv(_dedupe), multi=True),
    "mv_sort": Scalar(lambda cell, order="ASC": _one_or_many(_sortable(cell if isinstance(cell, list) else [cell])[:: -1 if str(order).upper() == "DESC" else 1]), multi=True),
    "mv_concat": Scalar(lambda cell, d: d.join(keyword(v) for v in (cell if isinstance(cell, list) else [cell])), multi=True),
    "mv_slice": Scalar(lambda cell, s, e=None: _one_or_many((cell if isinstance(cell, list) else [cell])[s: (e + 1 if e is not None else s + 1)]), multi=True),
    "mv_append": Scalar(lambda a, b: _one_or_many([v for c in (a, b) if c is not None for v in (c if isinstance(c, list) else [c])]), multi=True, nulls=True),
}
