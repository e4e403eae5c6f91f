"""Lucene regular expressions (ES ``regexp`` query, Lucene ``/.../``, EQL ``regex``) as Python ``re``.

Why translate rather than hand the text to ``re``: the two dialects differ. Lucene
patterns are always anchored at both ends; ``^`` and ``$`` are plain characters; ``"..."``
quotes a literal string; ``@`` matches any string; ``<1-100>`` matches a number in an
interval; ``#`` matches nothing; ``a*+`` is just ``a*`` (Python would read a possessive
quantifier); and there are no lazy quantifiers, look-arounds or back-references. The
intersection (``&``) and complement (``~``) operators have no ``re`` equivalent and are
reported as unsupported instead of being misread.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


class RegexSyntaxError(ValueError):
    """A Lucene regular expression ctdetect cannot read; ``offset`` is 0-based."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


_QUANTIFIERS = "*+?{"
_SIMPLE = ("*", "+", "?")
#: (X q1) q2 for the three simple quantifiers: the language of the nested repetition.
_MERGED = {
    ("*", "*"): "*", ("*", "+"): "*", ("*", "?"): "*",
    ("+", "*"): "*", ("+", "+"): "+", ("+", "?"): "*",
    ("?", "*"): "*", ("?", "+"): "*", ("?", "?"): "?",
}
_SHORTHAND = set("dswDSW")


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def alternation(self) -> str:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return "|".join(branches)

    def sequence(self) -> str:
        # Each atom is [text, quantifier]; stacked quantifiers are merged (``a*+`` is
        # ``a*``) rather than nested, which Python would read as possessive or could
        # backtrack on exponentially.
        atoms: list[list[str]] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            ch = self.peek()
            if ch in _QUANTIFIERS:
                if not atoms:
                    raise RegexSyntaxError(f"nothing to repeat before {ch!r}", self.i)
                quant = self.quantifier()
                base, old = atoms[-1]
                if not old:
                    atoms[-1] = [base, quant]
                elif old in _SIMPLE and quant in _SIMPLE:
                    atoms[-1] = [base, _MERGED[(old, quant)]]
                else:
                    atoms[-1] = [f"(?:{base}){old}", quant]
                continue
            atoms.append([self.atom(), ""])
        return "".join(f"(?:{base}){quant}" if quant else base for base, quant in atoms)

    def quantifier(self) -> str:
        ch = self.p[self.i]
        if ch in "*+?":
            self.i += 1
            return ch
        m = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.p, self.i)
        if not m:
            raise RegexSyntaxError("malformed repetition {n,m}", self.i)
        self.i = m.end()
        if m.group(3) and int(m.group(3)) < int(m.group(1)):
            raise RegexSyntaxError("repetition maximum below minimum", m.start())
        return m.group(0)

    def atom(self) -> str:
        start = self.i
        ch = self.p[self.i]
        self.i += 1
        if ch == "\\":
            if self.i >= len(self.p):
                raise RegexSyntaxError("trailing backslash", start)
            nxt = self.p[self.i]
            self.i += 1
            return "\\" + nxt if nxt in _SHORTHAND else re.escape(nxt)
        if ch == ".":
            return "."
        if ch == "@":
            return ".*"
        if ch == "#":
            return "(?!)"
        if ch in "&~":
            raise RegexSyntaxError(f"the {ch!r} operator is not supported", start)
        if ch == "(":
            if self.peek() == ")":
                self.i += 1
                return ""
            inner = self.alternation()
            if self.peek() != ")":
                raise RegexSyntaxError("unclosed group", start)
            self.i += 1
            return f"(?:{inner})"
        if ch == ")":
            raise RegexSyntaxError("unbalanced ')'", start)
        if ch == '"':
            end = self.p.find('"', self.i)
            if end < 0:
                raise RegexSyntaxError("unclosed quoted string", start)
            text = self.p[self.i : end]
            self.i = end + 1
            return re.escape(text)
        if ch == "<":
            m = re.compile(r"(\d+)-(\d+)>").match(self.p, self.i)
            if not m:
                raise RegexSyntaxError("malformed numeric interval <n-m>", start)
            self.i = m.end()
            low, high = sorted((int(m.group(1)), int(m.group(2))))
            if high - low > 10000:
                raise RegexSyntaxError("numeric interval too wide", start)
            return "0*(?:" + "|".join(str(n) for n in range(high, low - 1, -1)) + ")"
        if ch == "[":
            return self.char_class(start)
        return re.escape(ch)

    def char_class(self, start: int) -> str:
        out = ["["]
        if self.peek() == "^":
            out.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(self.p):
                raise RegexSyntaxError("unclosed character class", start)
            ch = self.p[self.i]
            self.i += 1
            if ch == "]" and not first:
                break
            first = False
            if ch == "\\":
                if self.i >= len(self.p):
                    raise RegexSyntaxError("trailing backslash", start)
                nxt = self.p[self.i]
                self.i += 1
                out.append("\\" + nxt if nxt in _SHORTHAND else re.escape(nxt))
            elif ch == "-" and out[-1] not in ("[", "^"):
                out.append("-")
            else:
                out.append(re.escape(ch) if ch not in "-" else "\\-")
        if len(out) == 1 or out == ["[", "^"]:
            raise RegexSyntaxError("empty character class", start)
        return "".join(out) + "]"


@lru_cache(maxsize=4096)
def lucene_regex(pattern: str, case_insensitive: bool = False) -> Any:
    """Compile a Lucene regular expression; the result's ``.match(text)`` is a whole-value match.

    Compiled with RE2 (``google-re2``) when it is installed: like Lucene's automata it runs
    in linear time, so a pattern such as ``(a*)+b`` cannot stall on a long value as
    Python's backtracking ``re`` would. Falls back to ``re`` otherwise.
    """
    tr = _Translator(pattern)
    body = tr.alternation()
    if tr.i != len(pattern):
        raise RegexSyntaxError("unbalanced ')'", tr.i)
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    try:
        checked = re.compile(f"(?:{body})\\Z", flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise RegexSyntaxError(str(exc), 0) from None
    if _re2 is None:
        return checked
    options = _re2.Options()
    options.dot_nl = True
    options.case_sensitive = not case_insensitive
    options.max_mem = 64 << 20
    try:
        # ``$`` is the end of the text in RE2 (no multi-line mode, no final-newline exception).
        return _re2.compile(f"(?:{body})$", options)
    except Exception:  # noqa: BLE001 - a construct RE2 refuses (e.g. huge repetition): keep re
        return checked


try:  # optional accelerator; see lucene_regex
    import re2 as _re2
except ImportError:  # pragma: no cover - depends on the installation
    _re2 = None
