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


class RegexSyntaxError(ValueError):
    """A Lucene regular expression ctdetect cannot read; ``offset`` is 0-based."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


_QUANTIFIERS = "*+?{"
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
        atoms: list[str] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            ch = self.peek()
            if ch in _QUANTIFIERS:
                if not atoms:
                    raise RegexSyntaxError(f"nothing to repeat before {ch!r}", self.i)
                quant = self.quantifier()
                last = atoms[-1]
                if getattr(last, "quantified", False) or last.endswith(("*", "+", "?", "}")):
                    atoms[-1] = f"(?:{last}){quant}"
                else:
                    atoms[-1] = f"(?:{last}){quant}"
                continue
            atoms.append(self.atom())
        return "".join(atoms)

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
def lucene_regex(pattern: str, case_insensitive: bool = False) -> re.Pattern[str]:
    """Compile a Lucene regular expression into an anchored Python pattern."""
    tr = _Translator(pattern)
    body = tr.alternation()
    if tr.i != len(pattern):
        raise RegexSyntaxError("unbalanced ')'", tr.i)
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    try:
        return re.compile(f"(?:{body})\\Z", flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise RegexSyntaxError(str(exc), 0) from None
