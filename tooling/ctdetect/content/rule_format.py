"""Write a rule's TOML the way Elastic's detection-rules formatter does, byte for byte.

Why: rules move between this package and Elastic's repository; when both sides write the
same bytes, a rule copied across shows no diff but its real changes. The rules below were
learnt by reading detection-rules' ``rule_formatter.py`` (``toml_write`` and its encoder)
and checked against every rule of its repository; they are re-stated here in our words:

- Tables in the order ``[metadata]``, ``[transform]``, ``[rule]``, each followed by a blank
  line; inside a table, keys sorted; plain values (strings, flat arrays) first, then the
  ``query`` (and ``threat_query``) as a literal ``'''`` block after a blank line, then
  sub-tables and arrays of tables (``[[rule.threat]]``), their keys sorted one level down.
- Strings are re-flowed to 120 columns (whitespace collapsed, no word breaking). One that
  fits one line is written as JSON writes it, or as a ``'...'`` literal when it holds a
  double quote and no single quote. One that needs several lines becomes a ``\"\"\"`` block
  opening with a new line.
- ``note`` and ``setup`` are Markdown: kept line for line, a ``\"\"\"`` block that starts
  right after the quotes. Backslashes in ``note``, ``setup`` and ``description`` are
  doubled first, as Elastic does, since those blocks are written verbatim.
- An array of strings longer than about 100 characters goes one item a line, indented
  four spaces, with a trailing comma; an item over 110 characters with spaces becomes an
  indented ``\"\"\"`` block. Shorter arrays stay on one line: ``["a", "b"]``.

The TOML layout itself (section headers, arrays of tables, blank lines) comes from the
``toml`` library, the one Elastic's formatter is built on, with our string and array rules
plugged in. ``format_rule`` checks that the output reads back as the same rule (strings
compared with whitespace collapsed where the formatter re-flows them) and refuses
otherwise, so a formatter quirk can never change a rule's meaning.
"""

from __future__ import annotations

import json
import textwrap
from collections import OrderedDict
from typing import Any, Iterable

WIDTH = 120
LONG_ARRAY = 100  # characters (items plus quotes and separators) above which an array breaks
SECTIONS = ("metadata", "transform", "rule")
MARKDOWN_KEYS = frozenset({"note", "setup"})
#: strings whose backslashes Elastic doubles before writing them in a verbatim block
VERBATIM_BACKSLASH_KEYS = frozenset({"note", "setup", "description"})
QUERY_KEYS = ("query", "threat_query")
_PLACEHOLDER = "XXxXX"


class FormatError(ValueError):
    """The file cannot be formatted safely (not a rule document, or the output would differ)."""


class Verbatim(str):
    """A Markdown string: written line for line, never re-flowed."""

    __slots__ = ()


def reflow(text: str, indent: int = 0) -> list[str]:
    """``text`` with whitespace collapsed, wrapped at 120 columns; lines end in a newline.

    A single line holding a double quote gets an empty second line, so it is written as a
    block rather than a quoted one-liner (Elastic's rule, kept for identical output).
    """
    pad = " " * indent
    lines = textwrap.wrap(" ".join(text.split()), width=WIDTH, initial_indent=pad, subsequent_indent=pad, break_long_words=False, break_on_hyphens=False)
    out = [line + "\n" for line in lines]
    if len(out) == 1 and '"' in out[0]:
        out.append("")
    return out


def _encoder_class() -> type:
    import toml

    class RuleEncoder(toml.TomlEncoder):  # type: ignore[misc]
        """toml's encoder with Elastic's string and array layout."""

        def __init__(self) -> None:
            super().__init__()
            self.dump_funcs[str] = self.dump_str
            self.dump_funcs[Verbatim] = self.dump_str
            self.dump_funcs[list] = self.dump_list

        def dump_str(self, value: str) -> str:
            if isinstance(value, Verbatim):
                lines, opening = value.splitlines(True), []
            else:
                lines, opening = reflow(value), ["\n"]
            several = len(lines) > 1
            plain = (several or ('"' in value and "'" not in value)) and '"""' not in value
            if several and plain:
                return "".join(['"""', *opening, *lines, '"""'])
            if several:
                return "\n".join(["'''", *(json.dumps(line)[1:-1] for line in lines), "'''"])
            if plain:
                return f"'{lines[0]}'"
            return json.dumps(value)

        def dump_list(self, values: Iterable[Any]) -> str:
            items = list(values)
            if items and all(isinstance(v, str) for v in items) and sum(len(v) + 3 for v in items) > LONG_ARRAY:
                rows = []
                for item in items:
                    if len(item) > WIDTH - 10 and " " in item:
                        rows.append('    """\n' + "".join(reflow(item, indent=4)) + '    """')
                    else:
                        rows.append("    " + self.dump_value(item))
                return "[\n" + ",\n".join(rows) + ",\n]"
            if items and all(isinstance(v, dict) for v in items):
                inner = ",\n".join("    " + self.dump_inline_table(v).strip() for v in items)
                return "\n  [\n" + inner + "\n  ]\n"
            return "[" + ", ".join(str(self.dump_value(v)) for v in items) + "]"

    return RuleEncoder


def _ordered(value: Any) -> Any:
    """``value`` with every table's keys sorted and every array sorted by its JSON text."""
    if isinstance(value, dict):
        return OrderedDict((k, _ordered(v)) for k, v in sorted(value.items()))
    if isinstance(value, list):
        return sorted((_ordered(v) for v in value), key=json.dumps)
    return value


def _order_nested(value: Any) -> None:
    """Elastic's ordering of what sits below a table's own values, in place.

    The order of a table's own arrays is kept (``tags``, ``threat``), but the tables inside
    them are sorted through and through: their keys, and the arrays they hold (so the
    techniques of a ``[[rule.threat]]`` come out sorted by their JSON text).
    """
    if isinstance(value, dict):
        for item in value.values():
            _order_nested(item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):
                value[i] = _ordered(item)


#: strings under a filter's query DSL kept as written (Elastic re-flows none of them)
_FILTER_LITERAL_KEYS = frozenset({"query", "value"})


def _keep_filter_literals(value: Any) -> Any:
    """Mark the string leaves under ``query``/``value`` keys of a filter's DSL as verbatim."""
    if isinstance(value, dict):
        return type(value)(
            (k, Verbatim(v) if k in _FILTER_LITERAL_KEYS and isinstance(v, str) else _keep_filter_literals(v)) for k, v in value.items()
        )
    if isinstance(value, list):
        return [_keep_filter_literals(v) for v in value]
    return value


def _keep_verbatim(key: str, value: Any) -> Any:
    """Strings Elastic writes as they are: filter values and DSL literals, action messages,
    and (with backslashes doubled) Osquery queries of a ``[transform]``."""
    if key == "filters" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                meta = item.get("meta")
                if isinstance(meta, dict) and isinstance(meta.get("value"), str):
                    meta["value"] = Verbatim(meta["value"])
                if "query" in item:
                    item["query"] = _keep_filter_literals(item["query"])
    elif key == "actions" and isinstance(value, list):
        for item in value:
            params = item.get("params") if isinstance(item, dict) else None
            if isinstance(params, dict) and isinstance(params.get("message"), str):
                params["message"] = Verbatim(params["message"])
    elif key == "osquery" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("query"), str):
                item["query"] = item["query"].replace("\\", "\\\\")
    return value


def _section(name: str, table: dict[str, Any]) -> str:
    """One top-level table written as Elastic writes it."""
    import copy

    import toml

    body = copy.deepcopy(table)
    _order_nested(body)
    body = {key: _keep_verbatim(key, value) for key, value in body.items()}
    queries: dict[str, str] = {}
    if name == "rule":
        for key in QUERY_KEYS:
            if isinstance(body.get(key), str):
                queries[key] = body.pop(key).strip()
    top: OrderedDict[str, Any] = OrderedDict()
    bottom: OrderedDict[str, Any] = OrderedDict()
    for key in sorted(body):
        value = body[key]
        if key in VERBATIM_BACKSLASH_KEYS and isinstance(value, str):
            value = value.replace("\\", "\\\\")
        if isinstance(value, dict):
            bottom[key] = OrderedDict(sorted(value.items()))
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            bottom[key] = value
        elif key in MARKDOWN_KEYS and isinstance(value, str):
            top[key] = Verbatim(value)
        else:
            top[key] = value
    for key, text in queries.items():
        if text:
            top[key] = _PLACEHOLDER
    top.update(bottom)
    out = toml.dumps(OrderedDict({name: top}), encoder=_encoder_class()())
    for key, text in reversed(queries.items()):  # threat_query first: its name ends in "query = "
        if text:
            block = f"\n{key} = '''\n{text}\n'''" + ("\n\n" if bottom else "")
            out = out.replace(f'{key} = "{_PLACEHOLDER}"', block)
    return out + "\n"


def render_rule(doc: dict[str, Any]) -> str:
    """The whole file for a parsed rule document (``metadata``, ``transform``, ``rule``)."""
    return "".join(_section(name, doc[name]) for name in SECTIONS if isinstance(doc.get(name), dict) and doc[name])


def _comparable(value: Any, key: str = "") -> Any:
    """A value as the formatter may legitimately change it: re-flowed strings collapsed."""
    if isinstance(value, dict):
        return {k: _comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v, key) for v in value]
    if isinstance(value, str):
        if key in QUERY_KEYS:
            return value.strip()
        if key in MARKDOWN_KEYS:
            return value
        return " ".join(value.split())
    return value


def _elastic_ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the nested arrays Elastic's formatter sorts (techniques of a tactic, ...) sorted."""
    import copy

    out = copy.deepcopy(doc)
    _order_nested(out)
    return out


def format_rule(text: str) -> str:
    """``text`` (a rule TOML file) formatted; raises ``FormatError`` rather than change meaning."""
    import tomli

    try:
        doc = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from None
    if not isinstance(doc.get("rule"), dict):
        raise FormatError("no [rule] table: not a detection rule")
    return dump_rule(doc)


def dump_rule(doc: dict[str, Any]) -> str:
    """A rule document (``metadata``, ``rule``) written in Elastic's layout; raises ``FormatError``
    when the layout would change a value. Scaffolding and import write rules through it, so
    what they write passes ``ctdetect fmt --check`` as it is."""
    import tomli

    extra = sorted(set(doc) - set(SECTIONS))
    if extra:
        raise FormatError(f"top-level tables Elastic's format does not have: {', '.join(extra)}")
    out = render_rule(doc)
    try:
        again = tomli.loads(out)
    except tomli.TOMLDecodeError as exc:
        raise FormatError(f"the formatted text would not be valid TOML ({exc}); left as it is") from None
    if _comparable(again) != _comparable(_elastic_ordered(doc)):
        raise FormatError("formatting would change a value (a string Elastic's layout cannot hold as written); left as it is")
    return out
