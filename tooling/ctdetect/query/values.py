"""Value semantics of Elasticsearch field types, shared by the evaluator and the parsers.

Why a module of its own: the same few rules decide every comparison the evaluator makes,
and each is a documented Elasticsearch behaviour that tests pin down one by one:

- keyword-like fields index the value as given (case-sensitive); a JSON number or boolean
  sent to a keyword field is indexed as its text (``200`` -> ``"200"``, ``true`` -> ``"true"``);
- text fields go through the standard analyser: Unicode word segmentation (UAX #29, the
  rules Lucene's StandardTokenizer implements) and lower-casing;
- numeric fields coerce numeric strings (``"200"`` equals ``200``);
- date fields take ISO-8601 or epoch milliseconds, and date math (``now-1d/d``,
  ``2024-01-01||+1M``); an inclusive upper bound rounds *up* (missing parts filled with
  their maximum), as Elasticsearch's date math parser does;
- ip fields compare addresses (IPv4 and its IPv4-mapped IPv6 form are one value) and accept
  CIDR blocks in term-level queries.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable

from ctdetect.timeutil import es_date_anchor_ms

KEYWORD_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "flattened", "version", "string"})
TEXT_TYPES = frozenset({"text", "match_only_text", "search_as_you_type", "annotated_text"})
INTEGER_TYPES = frozenset({"long", "integer", "short", "byte", "unsigned_long"})
FLOAT_TYPES = frozenset({"float", "double", "half_float", "scaled_float"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES
DATE_TYPES = frozenset({"date", "date_nanos"})
OBJECT_TYPES = frozenset({"object", "nested", "group"})

#: Multi-field suffixes whose value comes from the parent field in a flat document.
MULTI_FIELD_SUFFIXES = {"text": "text", "keyword": "keyword", "caseless": "caseless", "wildcard": "wildcard"}

# --------------------------------------------------------------------------- keyword


def keyword_str(value: Any) -> str:
    """The text Elasticsearch indexes for ``value`` on a keyword field."""
    if value.__class__ is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


# --------------------------------------------------------------------------- text analysis

_CANDIDATE = re.compile(r"\w+(?:[.'\u2019:,;]\w+)*")
_MID_LETTER = frozenset(":")
_MID_NUM_LET = frozenset(".'\u2019")
_MID_NUM = frozenset(",;")


def _joins(left: str, mid: str, right: str) -> bool:
    """UAX #29 rules WB6/7 (letter-mid-letter) and WB11/12 (digit-mid-digit)."""
    if mid in _MID_NUM_LET:
        return (left.isalpha() and right.isalpha()) or (left.isdigit() and right.isdigit())
    if mid in _MID_LETTER:
        return left.isalpha() and right.isalpha()
    if mid in _MID_NUM:
        return left.isdigit() and right.isdigit()
    return False


@lru_cache(maxsize=65536)
def analyze(text: str) -> tuple[str, ...]:
    """Tokens the standard analyser produces for ``text`` (lower-cased, in order)."""
    tokens: list[str] = []
    for match in _CANDIDATE.finditer(text):
        chunk = match.group(0)
        start = 0
        for i in range(1, len(chunk) - 1):
            ch = chunk[i]
            if (ch in _MID_LETTER or ch in _MID_NUM_LET or ch in _MID_NUM) and not _joins(chunk[i - 1], ch, chunk[i + 1]):
                if i > start:
                    tokens.append(chunk[start:i].lower())
                start = i + 1
        piece = chunk[start:]
        if piece:
            tokens.append(piece.lower())
    return tuple(tokens)


def contains_sequence(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """True when ``phrase`` occurs as consecutive tokens of ``tokens``."""
    n = len(phrase)
    if n == 0:
        return False
    if n == 1:
        return phrase[0] in tokens
    first = phrase[0]
    for i in range(len(tokens) - n + 1):
        if tokens[i] == first and tokens[i : i + n] == phrase:
            return True
    return False


# --------------------------------------------------------------------------- wildcards


def wildcard_regex(pattern: str, case_insensitive: bool = False) -> re.Pattern[str]:
    """Compile a Lucene wildcard pattern (``*``, ``?``, ``\\`` escapes) into an anchored regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    return re.compile("".join(out) + r"\Z", flags)


def simple_wildcard_test(patterns: tuple[str, ...]) -> Callable[[str], bool] | None:
    """A string's test against wildcard ``patterns`` (true when any matches) as string methods,
    when each is ``x``, ``x*``, ``*x`` or ``*x*`` (no ``?`` or escape), else None. It answers
    what ``wildcard_regex`` does (``.*`` spans newlines too) without a regex (ES|QL ``LIKE``)."""
    tests: list[Callable[[str], bool]] = []
    for pattern in patterns:
        if "?" in pattern or "\\" in pattern:
            return None
        core = pattern.strip("*")
        if "*" in core:
            return None
        lead, trail = pattern.startswith("*"), pattern.endswith("*")
        if not pattern:
            tests.append(lambda s: s == "")
        elif not core:
            tests.append(lambda s: True)  # only stars: any string
        elif lead and trail:
            tests.append(lambda s, core=core: core in s)
        elif lead:
            tests.append(lambda s, core=core: s.endswith(core))
        elif trail:
            tests.append(lambda s, core=core: s.startswith(core))
        else:
            tests.append(lambda s, core=core: s == core)
    if len(tests) == 1:
        return tests[0]
    return lambda s: any(test(s) for test in tests)


def escape_wildcard(text: str) -> str:
    """Escape ``text`` so a wildcard pattern matches it literally."""
    return re.sub(r"([*?\\])", r"\\\1", text)


def wildcard_literal_prefix(pattern: str) -> tuple[str, bool]:
    """The literal text before the first wildcard, and whether the pattern is only that plus ``*``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if ch in "*?":
            return "".join(out), pattern[i:] == "*"
        out.append(ch)
        i += 1
    return "".join(out), False


def unescape_wildcard(pattern: str) -> str | None:
    """The literal value of a pattern without wildcards, or None if it has any."""
    prefix, _ = wildcard_literal_prefix(pattern)
    rebuilt = escape_wildcard(prefix)
    return prefix if rebuilt == pattern else None


# --------------------------------------------------------------------------- numbers


def to_number(value: Any) -> int | float | None:
    """Coerce a document or query value to a number as a numeric field would, else None."""
    cls = value.__class__
    if cls is int or cls is float:
        return value
    if cls is bool or value is None:
        return None
    if cls is str:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            num = float(text)
        except ValueError:
            return None
        return None if num != num else num
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_bool(value: Any) -> bool | None:
    """Coerce to a boolean field value: true/false or their text forms ("" is false)."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        if value == "true":
            return True
        if value in ("false", ""):
            return False
    return None


# --------------------------------------------------------------------------- ip


def to_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse an ip field value; IPv4-mapped IPv6 collapses to IPv4, as ES stores both alike."""
    if value.__class__ is not str:
        return None
    return _parse_ip(value)


@lru_cache(maxsize=65536)
def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def to_network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Parse an address or CIDR block (host bits allowed) into a network, else None."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def ip_in(addr: Any, network: Any) -> bool:
    """Membership that treats IPv4 and IPv4-mapped IPv6 alike."""
    if addr.version == network.version:
        return addr in network
    if network.version == 6 and addr.version == 4:
        return ipaddress.IPv6Address("::ffff:" + str(addr)) in network
    return False


# --------------------------------------------------------------------------- dates

# Dates in query values are read by ``timeutil.parse_es_date`` (the one date-math reader);
# dates stored in documents by ``doc_date`` below.

def doc_date(value: Any) -> int | None:
    """Epoch millis of a date stored in a document (ISO string or epoch millis), else None."""
    cls = value.__class__
    if cls is int:
        return value
    if cls is str:
        try:
            if len(value) >= 20 and value[-1] == "Z" and value[10] == "T":
                dt = datetime.fromisoformat(value)
                return int(dt.timestamp() * 1000 + 0.5) if dt.microsecond % 1000 else int(dt.timestamp()) * 1000 + dt.microsecond // 1000
            return es_date_anchor_ms(value, False)
        except (ValueError, IndexError):
            return None
    if cls is float:
        return int(value) if value == value and abs(value) < 1e18 else None
    return None


def flatten_values(value: Any) -> Iterable[Any]:
    """A document value as a sequence of scalars (ECS arrays match if any element does)."""
    if value is None:
        return ()
    if value.__class__ is list or value.__class__ is tuple:
        return value
    return (value,)
