"""``DISSECT`` and ``GROK`` patterns: the columns they create, and matchers that fill them.

DISSECT splits a string on the literal text between ``%{key}`` references (Elastic's
dissect processor): ``%{?key}`` and ``%{}`` skip a part, ``%{+key}`` appends to a key,
``%{key->}`` swallows repeated delimiters. GROK is a regular expression with named
captures, ``(?<name>...)`` or ``%{PATTERN:name[:type]}`` from Elastic's pattern library;
the few patterns below are the library's common ones (its definitions, re-stated here).
Every column both create is a keyword unless a grok ``:int``/``:long``/``:float``/
``:double``/``:boolean`` suffix types it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

GROK_LIBRARY: dict[str, str] = {
    "USERNAME": r"[a-zA-Z0-9._-]+", "USER": r"%{USERNAME}", "INT": r"(?:[+-]?(?:[0-9]+))",
    "BASE10NUM": r"(?<![0-9.+-])(?>[+-]?(?:(?:[0-9]+(?:\.[0-9]+)?)|(?:\.[0-9]+)))", "NUMBER": r"(?:%{BASE10NUM})",
    "BASE16NUM": r"(?<![0-9A-Fa-f])(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))", "POSINT": r"\b(?:[1-9][0-9]*)\b",
    "NONNEGINT": r"\b(?:[0-9]+)\b", "WORD": r"\b\w+\b", "NOTSPACE": r"\S+", "SPACE": r"\s*", "DATA": r".*?",
    "GREEDYDATA": r".*", "QUOTEDSTRING": r"(?>(?<!\\)(?>\"(?>\\.|[^\\\"]+)+\"|\"\"|(?>'(?>\\.|[^\\']+)+')|''|(?>`(?>\\.|[^\\`]+)+`)|``))",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "IPV4": r"(?<![0-9])(?:(?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]))(?![0-9])",
    "IPV6": r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}", "IP": r"(?:%{IPV6}|%{IPV4})",
    "HOSTNAME": r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)",
    "IPORHOST": r"(?:%{IP}|%{HOSTNAME})", "EMAILLOCALPART": r"[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,64}(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,62}){0,63}",
    "EMAILADDRESS": r"%{EMAILLOCALPART}@%{HOSTNAME}", "URIPROTO": r"[A-Za-z]([A-Za-z0-9+\-.]+)+",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}", "URIHOST": r"%{IPORHOST}(?::%{POSINT})?",
    "URIPATH": r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+", "URIQUERY": r"[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*",
    "URIPARAM": r"\?%{URIQUERY}", "URIPATHPARAM": r"%{URIPATH}(?:%{URIPARAM})?",
    "YEAR": r"(?>\d\d){1,2}", "MONTHNUM": r"(?:0?[1-9]|1[0-2])", "MONTHDAY": r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])",
    "HOUR": r"(?:2[0123]|[01]?[0-9])", "MINUTE": r"(?:[0-5][0-9])", "SECOND": r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)",
    "TIMESTAMP_ISO8601": r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))?",
}

_GROK_REF = re.compile(r"%\{(\w+)(?::([\w.@\[\]-]+))?(?::(\w+))?\}")
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_@][\w.@-]*)>")
_GROK_TYPES = {"int": "integer", "long": "long", "float": "double", "double": "double", "boolean": "boolean"}


class PatternError(ValueError):
    """A DISSECT or GROK pattern that cannot be used (message says why)."""


@dataclass(frozen=True)
class Grok:
    regex: re.Pattern[str]
    columns: tuple[tuple[str, str, str], ...]  # (column, python group, ES|QL type)


@lru_cache(maxsize=512)
def compile_grok(pattern: str) -> Grok:
    """Grok pattern -> a Python regex with one group per named column (found anywhere in the value)."""
    columns: list[tuple[str, str, str]] = []

    def group(name: str, kind: str) -> str:
        py = f"g{len(columns)}"
        columns.append((name, py, kind))
        return py

    def expand(text: str, depth: int) -> str:
        if depth > 20:
            raise PatternError("grok pattern references nest too deeply")

        def ref(m: re.Match[str]) -> str:
            name, column, kind = m.group(1), m.group(2), m.group(3)
            if name not in GROK_LIBRARY:
                raise PatternError(f"unknown grok pattern %{{{name}}}")
            body = expand(GROK_LIBRARY[name], depth + 1)
            if column:
                return f"(?P<{group(column, _GROK_TYPES.get(kind or '', 'keyword'))}>{body})"
            return f"(?:{body})"

        text = _GROK_REF.sub(ref, text)
        return _NAMED_GROUP.sub(lambda m: f"(?P<{group(m.group(1), 'keyword')}>", text)

    source = expand(pattern, 0)
    try:
        return Grok(re.compile(source, re.DOTALL), tuple(columns))
    except re.error as exc:
        raise PatternError(f"grok pattern is not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class Dissect:
    prefix: str
    keys: tuple[tuple[str, str, bool], ...]  # (key, delimiter after it, right-padding)
    skipped: frozenset[str]
    appended: frozenset[str]

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for key, _, _ in self.keys:
            if key and key not in self.skipped:
                seen.setdefault(key, None)
        return tuple(seen)


_DISSECT_KEY = re.compile(r"%\{([^}]*)\}")


@lru_cache(maxsize=512)
def compile_dissect(pattern: str) -> Dissect:
    parts = _DISSECT_KEY.split(pattern)
    if len(parts) < 3:
        raise PatternError("dissect pattern has no %{key}")
    prefix = parts[0]
    keys = []
    skipped, appended = set(), set()
    for i in range(1, len(parts), 2):
        raw, delim = parts[i], parts[i + 1]
        pad = raw.endswith("->")
        key = raw[:-2] if pad else raw
        key = re.sub(r"/\d+$", "", key)
        if key.startswith(("?", "*", "&")):
            key = key[1:]
            skipped.add(key)
        elif key.startswith("+"):
            key = key[1:]
            appended.add(key)
        elif not key:
            skipped.add("")
        keys.append((key, delim, pad))
    for key, delim, _ in keys[:-1]:
        if not delim:
            raise PatternError(f"dissect key %{{{key}}} has no delimiter after it")
    return Dissect(prefix, tuple(keys), frozenset(skipped), frozenset(appended))


def run_dissect(d: Dissect, value: str, separator: str = "") -> dict[str, str] | None:
    """Fields of ``value`` split by ``d``, or ``None`` when it does not match (ES|QL then
    sets every column to null)."""
    if not value.startswith(d.prefix):
        return None
    pos = len(d.prefix)
    found: dict[str, str] = {}
    for i, (key, delim, pad) in enumerate(d.keys):
        last = i == len(d.keys) - 1
        if last and not delim:
            part, pos = value[pos:], len(value)
        else:
            end = value.find(delim, pos)
            if end < 0:
                return None
            part, pos = value[pos:end], end + len(delim)
            if pad:
                while value.startswith(delim, pos):
                    pos += len(delim)
        if key in d.skipped:
            continue
        if key in d.appended and key in found:
            found[key] = found[key] + separator + part
        else:
            found[key] = part
    if pos != len(value) and d.keys[-1][1]:
        return None
    return found
