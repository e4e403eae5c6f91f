"""Line numbers of keys in TOML and JSON text.

``tomllib`` and ``json`` return plain values with no positions, and a full round-trip
parser (tomlkit) is several times slower than ``tomllib``. Rule authors need the line of
the key to fix, so these small scanners walk the text once more and record, for every key,
the 1-based line where it is written. Keys are dotted paths with list indices
(``rule.threat.0.technique.1.id``), the same paths ``Located.line_of`` is asked about.

The scanners assume the text already parsed (they run after ``tomllib``/``json``
succeeded) and never raise: on anything unexpected they stop and return what they have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, Iterator

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SIMPLE_KEY = re.compile(r"[ \t]*([A-Za-z0-9_-]+)[ \t]*=")


class LazyKeyLines(Mapping[str, int]):
    """Key lines computed on first use: most files have no problem, so most are never scanned.

    Behaves as a read-only mapping (``get``, ``in``, ``[]``, iteration), like the dict the
    scanners return.
    """

    __slots__ = ("_text", "_scan", "_lines")

    def __init__(self, text: str, scan: Callable[[str], dict[str, int]]) -> None:
        self._text: str | None = text
        self._scan = scan
        self._lines: dict[str, int] | None = None

    def _get(self) -> dict[str, int]:
        if self._lines is None:
            self._lines = self._scan(self._text or "")
            self._text = None
        return self._lines

    def __getitem__(self, key: str) -> int:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, key: object) -> bool:
        return key in self._get()

    def get(self, key: str, default: Any = None) -> Any:
        return self._get().get(key, default)

    def __repr__(self) -> str:
        return f"LazyKeyLines({self._get()!r})"


# --------------------------------------------------------------------------- TOML


def _split_toml_key(text: str) -> tuple[list[str], int]:
    """Parse a dotted TOML key at the start of ``text``; return (parts, chars consumed)."""
    parts: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        ch = text[i]
        if ch == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            parts.append("".join(buf))
            i = j + 1
        elif ch == "'":
            j = text.find("'", i + 1)
            if j < 0:
                break
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            m = _BARE_KEY.match(text, i)
            if not m:
                break
            parts.append(m.group(0))
            i = m.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        break
    return parts, i


def toml_key_lines(text: str) -> dict[str, int]:
    """Map every key and table of a TOML document to the line it is written on.

    Arrays of tables get indices: the second ``[[rule.threat]]`` is ``rule.threat.1``, and
    a ``[[rule.threat.technique]]`` under it is ``rule.threat.1.technique.0``.
    """
    lines: dict[str, int] = {}
    aot_count: dict[str, int] = {}  # concrete path of an array of tables -> tables seen
    aot_abstract: set[tuple[str, ...]] = set()  # header paths declared with [[...]]
    table: list[str] = []
    in_multiline: str | None = None  # the closing delimiter of an open multi-line string
    depth = 0  # open brackets/braces of a multi-line value

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if in_multiline is not None:
            end = line.find(in_multiline)
            if end < 0:
                continue
            line = line[end + 3 :]
            in_multiline = None
            depth, in_multiline = _scan_value(line, depth)
            continue
        if depth > 0:
            depth, in_multiline = _scan_value(line, depth)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            parts, _ = _split_toml_key(stripped[2:])
            table = _resolve_header(parts, aot_count, aot_abstract, array=True)
            lines.setdefault(".".join(table[:-1]), lineno)
            lines[".".join(table)] = lineno
            continue
        if stripped.startswith("["):
            parts, _ = _split_toml_key(stripped[1:])
            table = _resolve_header(parts, aot_count, aot_abstract, array=False)
            lines[".".join(table)] = lineno
            continue
        m = _SIMPLE_KEY.match(line)
        if m is not None:  # the common case: a bare key
            parts, rest = [m.group(1)], line[m.end(1) :].lstrip()
        else:
            parts, used = _split_toml_key(line)
            rest = line[used:].lstrip()
        if not parts or not rest.startswith("="):
            continue
        key = ".".join(table + parts)
        lines[key] = lineno
        _record_string_start(lines, key, lineno, line, len(line) - len(rest) + 1)
        value = rest[1:]
        if "[" in value or "{" in value or '"""' in value or "'''" in value:
            depth, in_multiline = _scan_value(value, 0)
    return lines


def value_start(lines: dict[str, int], key: str) -> tuple[int, int] | None:
    """(line, column) where the text of the string value of ``key`` begins, if recorded.

    Lets a check turn a position inside a query string into a position in the file.
    """
    line = lines.get(key + "@line")
    column = lines.get(key + "@column")
    return (line, column) if line is not None and column is not None else None


def _record_string_start(lines: dict[str, int], key: str, lineno: int, line: str, value_from: int) -> None:
    """Record where a string value's text starts (TOML drops a newline right after a triple quote)."""
    i = value_from
    while i < len(line) and line[i] in " \t":
        i += 1
    for quote in ('"""', "'''"):
        if line.startswith(quote, i):
            if not line[i + 3 :].strip():
                lines[key + "@line"], lines[key + "@column"] = lineno + 1, 1
            else:
                lines[key + "@line"], lines[key + "@column"] = lineno, i + 4
            return
    if i < len(line) and line[i] in "\"'":
        lines[key + "@line"], lines[key + "@column"] = lineno, i + 2


def _resolve_header(
    parts: list[str], aot_count: dict[str, int], aot_abstract: set[tuple[str, ...]], *, array: bool
) -> list[str]:
    """Turn a header's key parts into a concrete path with array-of-tables indices."""
    concrete: list[str] = []
    for i, part in enumerate(parts):
        concrete.append(part)
        abstract = tuple(parts[: i + 1])
        last = i == len(parts) - 1
        path = ".".join(concrete)
        if last and array:
            aot_abstract.add(abstract)
            index = aot_count.get(path, 0)
            aot_count[path] = index + 1
            concrete.append(str(index))
        elif abstract in aot_abstract and path in aot_count:
            concrete.append(str(aot_count[path] - 1))
    return concrete


_VALUE_TOKEN = re.compile(r"""\"\"\"|'''|"(?:[^"\\]|\\.)*"|'[^'\n]*'|#|[\[\]{}]""")


def _scan_value(text: str, depth: int) -> tuple[int, str | None]:
    """Follow brackets and strings through a value; return (open depth, open multi-line delimiter)."""
    pos = 0
    while True:
        m = _VALUE_TOKEN.search(text, pos)
        if m is None:
            return depth, None
        token = m.group(0)
        if token == "#":
            return depth, None
        if token in ('"""', "\'\'\'"):
            end = text.find(token, m.end())
            if end < 0:
                return depth, token
            pos = end + 3
            continue
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth = max(0, depth - 1)
        pos = m.end()


# --------------------------------------------------------------------------- JSON


def json_key_lines(text: str) -> dict[str, int]:
    """Map every object key and array element of a JSON document to its line."""
    scanner = _JsonScanner(text)
    try:
        scanner.value("")
    except (IndexError, ValueError):
        pass
    return scanner.lines


class _JsonScanner:
    """Recursive descent over (already valid) JSON text, recording positions only."""

    __slots__ = ("text", "i", "line", "lines")

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.lines: dict[str, int] = {}

    def _skip_ws(self) -> None:
        text = self.text
        while self.i < len(text) and text[self.i] in " \t\r\n":
            if text[self.i] == "\n":
                self.line += 1
            self.i += 1

    def _string(self) -> str:
        text = self.text
        start = self.i + 1
        j = start
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
            elif text[j] == "\n":
                self.line += 1
            j += 1
        self.i = j + 1
        raw = text[start:j]
        if "\\" in raw:
            import json

            return json.loads(text[start - 1 : j + 1])
        return raw

    def value(self, path: str) -> None:
        self._skip_ws()
        ch = self.text[self.i]
        if ch == "{":
            self.i += 1
            self._skip_ws()
            if self.text[self.i] == "}":
                self.i += 1
                return
            while True:
                self._skip_ws()
                key_line = self.line
                key = self._string()
                child = f"{path}.{key}" if path else key
                self.lines[child] = key_line
                self._skip_ws()
                self.i += 1  # ':'
                self.value(child)
                self._skip_ws()
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                self.i += 1  # '}'
                return
        if ch == "[":
            self.i += 1
            self._skip_ws()
            if self.text[self.i] == "]":
                self.i += 1
                return
            index = 0
            while True:
                self._skip_ws()
                child = f"{path}.{index}" if path else str(index)
                self.lines[child] = self.line
                self.value(child)
                self._skip_ws()
                index += 1
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                self.i += 1  # ']'
                return
        if ch == '"':
            self._string()
            return
        # number, true, false, null
        text = self.text
        while self.i < len(text) and text[self.i] not in ",}] \t\r\n":
            self.i += 1
