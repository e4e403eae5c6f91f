"""ES|QL text -> ``ctdetect.query.esql.ast.Query``.

Parsing goes through the shared lark plumbing (``_larkutil.run_parser``), so a syntax error
is one ``QueryParseError`` with a 1-based line and column and nothing else is raised. The
builder below turns lark's tree into our nodes; the few things the grammar leaves open
(timespan units, ``DISSECT`` options, string escapes) are checked here, with positions.
"""

from __future__ import annotations

from typing import Any

from ctdetect.query._larkutil import line_col, run_parser
from ctdetect.query.errors import QueryParseError
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.grammar import GRAMMAR

LANGUAGE = "esql"

#: Timespan units of the reference: (ES|QL type, canonical unit) per accepted spelling.
_UNITS: dict[str, tuple[str, str]] = {}
for _names, _kind, _unit in (
    ("millisecond milliseconds ms", "time_duration", "millisecond"),
    ("second seconds sec s", "time_duration", "second"),
    # "m" is not in the reference table, but Elastic's own rules write DATE_TRUNC(5m, ...)
    ("minute minutes min m", "time_duration", "minute"),
    ("hour hours h", "time_duration", "hour"),
    ("day days d", "date_period", "day"),
    ("week weeks w", "date_period", "week"),
    ("month months mo", "date_period", "month"),
    ("quarter quarters q", "date_period", "quarter"),
    ("year years yr y", "date_period", "year"),
):
    for _n in _names.split():
        _UNITS[_n] = (_kind, _unit)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def parse_esql(text: str) -> e.Query:
    """Parse an ES|QL query. Raises ``QueryParseError`` (language ``esql``) on bad input."""
    return run_parser(GRAMMAR, text, LANGUAGE, lambda tree, src: _Builder(src).query(tree))


def unquote_name(name: str) -> str:
    """``a.`b c`.d`` -> ``a.b c.d`` (backquotes protect characters; a doubled backquote is one)."""
    if "`" not in name:
        return name
    out, i = [], 0
    while i < len(name):
        ch = name[i]
        if ch == "`":
            j = i + 1
            part = []
            while j < len(name):
                if name[j] == "`":
                    if j + 1 < len(name) and name[j + 1] == "`":
                        part.append("`")
                        j += 2
                        continue
                    break
                part.append(name[j])
                j += 1
            out.append("".join(part))
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Builder:
    """One method per grammar rule that matters; positions are token offsets in ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    # ----------------------------------------------------------------- helpers
    def _fail(self, message: str, pos: int) -> QueryParseError:
        line, col = line_col(self.text, pos)
        return QueryParseError(message, line, col, LANGUAGE)

    @staticmethod
    def _pos(node: Any) -> int:
        while hasattr(node, "children"):
            if not node.children:
                return 0
            node = node.children[0]
        return node.start_pos or 0

    @staticmethod
    def _end(node: Any) -> int:
        while hasattr(node, "children"):
            if not node.children:
                return 0
            node = node.children[-1]
        return node.end_pos or 0

    def _source(self, node: Any) -> str:
        """The query text of ``node`` (an unnamed column is named after its expression).

        Lark drops anonymous tokens such as a closing parenthesis, so the slice is extended
        over the ``)`` it still owes."""
        start, end = self._pos(node), self._end(node)
        text = self.text[start:end]
        while text.count("(") > text.count(")"):
            nxt = self.text.find(")", end)
            if nxt < 0:
                break
            end = nxt + 1
            text = self.text[start:end]
        return " ".join(text.split())

    @staticmethod
    def _tokens(node: Any) -> list[Any]:
        return [c for c in node.children if not hasattr(c, "children")]

    @staticmethod
    def _trees(node: Any) -> list[Any]:
        return [c for c in node.children if hasattr(c, "children")]

    def string(self, node: Any) -> str:
        tok = node.children[0]
        raw = str(tok)
        if tok.type == "TRIPLE_STRING":
            return raw[3:-3]
        body, out, i = raw[1:-1], [], 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt == "u" and i + 5 < len(body) + 1:
                    try:
                        out.append(chr(int(body[i + 2: i + 6], 16)))
                        i += 6
                        continue
                    except ValueError:
                        raise self._fail(f"bad unicode escape in string {raw[:40]!r}", tok.start_pos + i + 1) from None
                if nxt not in _ESCAPES:
                    raise self._fail(f"unknown escape '\\{nxt}' in string (use \"\"\"...\"\"\" for regular expressions)", tok.start_pos + i + 1)
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)

    def name(self, node: Any) -> str:
        tok = node.children[0] if hasattr(node, "children") else node
        return unquote_name(str(tok))

    # ----------------------------------------------------------------- query
    def query(self, tree: Any) -> e.Query:
        commands = [self.command(c) for c in tree.children if hasattr(c, "children")]
        return e.Query(commands[0], tuple(commands[1:]), self.text)

    def command(self, node: Any) -> e.Command:
        method = getattr(self, "cmd_" + node.data.removesuffix("_cmd"))
        return method(node, self._pos(node))

    def cmd_from(self, node: Any, pos: int, time_series: bool = False) -> e.From:
        indices: list[str] = []
        metadata: list[str] = []
        for child in self._trees(node):
            if child.data == "index_list":
                for ip in child.children:
                    inner = ip.children[0]
                    indices.append(self.string(inner) if hasattr(inner, "children") else str(inner))
            elif child.data == "metadata":
                metadata = [self.name(q) for q in self._trees(child)]
        return e.From(pos, tuple(indices), tuple(metadata), time_series)

    def cmd_ts(self, node: Any, pos: int) -> e.From:
        return self.cmd_from(node, pos, time_series=True)

    def cmd_row(self, node: Any, pos: int) -> e.Row:
        return e.Row(pos, self.field_list(self._trees(node)[0]))

    def cmd_show(self, node: Any, pos: int) -> e.Show:
        return e.Show(pos, str(self._tokens(node)[-1]))

    def cmd_where(self, node: Any, pos: int) -> e.Where:
        return e.Where(pos, self.expr(self._trees(node)[0]))

    def cmd_eval(self, node: Any, pos: int) -> e.Eval:
        return e.Eval(pos, self.field_list(self._trees(node)[0]))

    def cmd_stats(self, node: Any, pos: int, inline: bool = False) -> e.Stats:
        aggs: list[e.Assign] = []
        groups: tuple[e.Assign, ...] = ()
        for child in self._trees(node):
            if child.data == "agg_list":
                for agg in child.children:
                    parts = self._trees(agg)
                    assign = self.field(parts[0])
                    where = self.expr(parts[1]) if len(parts) > 1 else None
                    aggs.append(e.Assign(assign.name, assign.expr, assign.pos, where))
            elif child.data == "by_clause":
                groups = self.field_list(self._trees(child)[0])
        return e.Stats(pos, tuple(aggs), groups, inline)

    def cmd_inlinestats(self, node: Any, pos: int) -> e.Stats:
        return self.cmd_stats(node, pos, inline=True)

    def field_list(self, node: Any) -> tuple[e.Assign, ...]:
        return tuple(self.field(f) for f in node.children)

    def field(self, node: Any) -> e.Assign:
        if node.data == "named_field":
            qname, expr = self._trees(node)
            return e.Assign(self.name(qname), self.expr(expr), self._pos(node))
        expr_node = node.children[0]
        expr = self.expr(expr_node)
        name = expr.name if isinstance(expr, e.FieldRef) else self._source(expr_node)
        return e.Assign(name, expr, self._pos(node))

    def patterns(self, node: Any) -> tuple[tuple[str, int], ...]:
        out = []
        for pat in self._trees(node)[0].children:
            inner = pat.children[0]
            if hasattr(inner, "children"):  # a parameter
                out.append((str(inner.children[0]), inner.children[0].start_pos))
            else:
                out.append((unquote_name(str(inner)), inner.start_pos))
        return tuple(out)

    def cmd_keep(self, node: Any, pos: int) -> e.Keep:
        return e.Keep(pos, self.patterns(node))

    def cmd_drop(self, node: Any, pos: int) -> e.Drop:
        return e.Drop(pos, self.patterns(node))

    def cmd_rename(self, node: Any, pos: int) -> e.Rename:
        pairs = []
        for clause in self._trees(node):
            a, b = (self.name(p.children[0]) for p in self._trees(clause))
            old, new = (a, b) if clause.data == "rename_as" else (b, a)
            pairs.append((old, new, self._pos(clause)))
        return e.Rename(pos, tuple(pairs))

    def cmd_sort(self, node: Any, pos: int) -> e.Sort:
        keys = []
        for order in self._trees(node):
            parts = self._trees(order)
            desc, nulls_first = False, None
            for extra in parts[1:]:
                word = str(extra.children[-1]).lower()
                if extra.data == "ordering":
                    desc = word == "desc"
                else:
                    nulls_first = word == "first"
            keys.append(e.SortKey(self.expr(parts[0]), desc, nulls_first))
        return e.Sort(pos, tuple(keys))

    def cmd_limit(self, node: Any, pos: int) -> e.Limit:
        arg = node.children[-1]
        if hasattr(arg, "children"):
            return e.Limit(pos, self.expr(arg))  # type: ignore[arg-type]
        return e.Limit(pos, int(str(arg)))

    def cmd_mv_expand(self, node: Any, pos: int) -> e.MvExpand:
        return e.MvExpand(pos, self.name(self._trees(node)[0]))

    def cmd_dissect(self, node: Any, pos: int) -> e.Dissect:
        trees = self._trees(node)
        source, pattern = self.expr(trees[0]), self.string(trees[1])
        sep = ""
        for opt in trees[2:]:
            key = str(opt.children[0])
            if key.lower() != "append_separator":
                raise self._fail(f"unknown DISSECT option {key!r} (expected APPEND_SEPARATOR)", opt.children[0].start_pos)
            value = self.expr(opt.children[1])
            if not isinstance(value, e.Literal) or value.type != "keyword":
                raise self._fail("APPEND_SEPARATOR takes a string", self._pos(opt.children[1]))
            sep = value.value
        return e.Dissect(pos, source, pattern, sep)

    def cmd_grok(self, node: Any, pos: int) -> e.Grok:
        trees = self._trees(node)
        return e.Grok(pos, self.expr(trees[0]), tuple(self.string(s) for s in trees[1:]))

    def cmd_enrich(self, node: Any, pos: int) -> e.Enrich:
        policy = str(node.children[1])
        match_field, fields = None, []
        rest = node.children[2:]
        i = 0
        while i < len(rest):
            item = rest[i]
            if not hasattr(item, "children") and str(item).lower() == "on":
                match_field = self.name(rest[i + 1])
                i += 2
                continue
            if hasattr(item, "children") and item.data == "enrich_field":
                names = [self.name(q) for q in self._trees(item)]
                fields.append((names[0], names[-1]))
            i += 1
        return e.Enrich(pos, policy, match_field, tuple(fields))

    def cmd_lookup_join(self, node: Any, pos: int) -> e.LookupJoin:
        trees = self._trees(node)
        inner = trees[0].children[0]
        index = self.string(inner) if hasattr(inner, "children") else str(inner)
        return e.LookupJoin(pos, index, tuple(self.expr(t) for t in trees[1:]))

    def cmd_change_point(self, node: Any, pos: int) -> e.ChangePoint:
        names = [self.name(q) for q in self._trees(node)]
        key = None
        words = [str(t).lower() for t in self._tokens(node)]
        if "on" in words:
            key = names.pop(1)
        type_name, pvalue_name = (names[1], names[2]) if len(names) == 3 else ("type", "pvalue")
        return e.ChangePoint(pos, names[0], key, type_name, pvalue_name)

    def cmd_completion(self, node: Any, pos: int) -> e.Completion:
        # COMPLETION target = prompt WITH {...}; the older form COMPLETION prompt WITH id AS target.
        trees = self._trees(node)
        words = [str(t).lower() for t in self._tokens(node)]
        target = "completion"  # Elastic's default output column
        first = trees[0]
        if "as" in words:
            target = self.name(trees[-1])
            prompt_tree = first
        elif len(trees) == 3:  # target, prompt, options
            target = self.name(first)
            prompt_tree = trees[1]
        else:
            prompt_tree = first
        return e.Completion(pos, target, self.expr(prompt_tree))

    def cmd_sample(self, node: Any, pos: int) -> e.Sample:
        num = self._trees(node)[0]
        value = float(str(num.children[0]))
        if not 0.0 < value < 1.0:
            raise self._fail("SAMPLE takes a probability between 0 and 1 (exclusive)", self._pos(num))
        return e.Sample(pos, value)

    def cmd_fork(self, node: Any, pos: int) -> e.Fork:
        branches = tuple(tuple(self.command(c) for c in self._trees(b)) for b in self._trees(node))
        return e.Fork(pos, branches)

    # ----------------------------------------------------------------- expressions
    def expr(self, node: Any) -> e.Expr:
        if not hasattr(node, "children"):
            raise self._fail(f"unexpected {str(node)!r}", node.start_pos or 0)
        method = getattr(self, "x_" + node.data)
        return method(node, self._pos(node))

    def _operands(self, node: Any) -> list[Any]:
        return self._trees(node)

    def x_or_expr(self, node: Any, pos: int) -> e.Expr:
        a, b = self._operands(node)
        return e.Binary(pos, "or", self.expr(a), self.expr(b))

    def x_and_expr(self, node: Any, pos: int) -> e.Expr:
        a, b = self._operands(node)
        return e.Binary(pos, "and", self.expr(a), self.expr(b))

    def x_not_expr(self, node: Any, pos: int) -> e.Expr:
        return e.Not(pos, self.expr(self._operands(node)[0]))

    def x_is_null(self, node: Any, pos: int, negated: bool = False) -> e.Expr:
        return e.IsNull(pos, self.expr(self._operands(node)[0]), negated)

    def x_is_not_null(self, node: Any, pos: int) -> e.Expr:
        return self.x_is_null(node, pos, negated=True)

    def x_in_expr(self, node: Any, pos: int, negated: bool = False) -> e.Expr:
        operand, items = self._operands(node)
        return e.In(pos, self.expr(operand), tuple(self.expr(i) for i in items.children), negated)

    def x_not_in_expr(self, node: Any, pos: int) -> e.Expr:
        return self.x_in_expr(node, pos, negated=True)

    def _like(self, node: Any, pos: int, regex: bool, negated: bool) -> e.Expr:
        operand, pats = self._operands(node)
        patterns = []
        for p in self._trees(pats):
            if p.data == "param":
                raise self._fail("a parameter as a LIKE/RLIKE pattern is not supported offline", self._pos(p))
            patterns.append(self.string(p))
        return e.Like(pos, self.expr(operand), tuple(patterns), regex, negated)

    def x_like_expr(self, node: Any, pos: int) -> e.Expr:
        return self._like(node, pos, False, False)

    def x_not_like_expr(self, node: Any, pos: int) -> e.Expr:
        return self._like(node, pos, False, True)

    def x_rlike_expr(self, node: Any, pos: int) -> e.Expr:
        return self._like(node, pos, True, False)

    def x_not_rlike_expr(self, node: Any, pos: int) -> e.Expr:
        return self._like(node, pos, True, True)

    def x_compare(self, node: Any, pos: int) -> e.Expr:
        a, op, b = node.children
        return e.Binary(pos, str(op), self.expr(a), self.expr(b))

    def x_match_op(self, node: Any, pos: int) -> e.Expr:
        a, b = self._operands(node)
        return e.MatchOp(pos, self.expr(a), self.expr(b))

    def x_arith(self, node: Any, pos: int) -> e.Expr:
        a, op, b = node.children
        return e.Binary(pos, str(op), self.expr(a), self.expr(b))

    def x_unary(self, node: Any, pos: int) -> e.Expr:
        op, operand = node.children
        inner = self.expr(operand)
        if str(op) == "+":
            return inner
        if isinstance(inner, e.Literal) and inner.type in ("integer", "long", "double"):
            return e.Literal(pos, -inner.value, inner.type)
        return e.Neg(pos, inner)

    def x_cast(self, node: Any, pos: int) -> e.Expr:
        operand, type_tok = node.children
        return e.Cast(pos, self.expr(operand), str(type_tok).lower())

    def x_field_ref(self, node: Any, pos: int) -> e.Expr:
        return e.FieldRef(pos, self.name(node.children[0]))

    def x_function_call(self, node: Any, pos: int) -> e.Expr:
        name_tok = node.children[0]
        name = str(name_tok)
        if "." in name or "`" in name:
            raise self._fail(f"{name!r} is not a function name", name_tok.start_pos)
        star = False
        args: tuple[e.Expr, ...] = ()
        for child in node.children[1:]:
            if hasattr(child, "children"):
                args = tuple(self.expr(a) for a in child.children)
            elif child.type == "STAR":
                star = True
        return e.Call(pos, name.lower(), args, star)

    def x_map_expr(self, node: Any, pos: int) -> e.Expr:
        entries = []
        for entry in self._trees(node):
            key, value = self._trees(entry)
            entries.append((self.string(key), self.expr(value)))
        return e.MapLit(pos, tuple(entries))

    def x_null_lit(self, node: Any, pos: int) -> e.Expr:
        return e.Literal(pos, None, "null")

    def x_true_lit(self, node: Any, pos: int) -> e.Expr:
        return e.Literal(pos, True, "boolean")

    def x_false_lit(self, node: Any, pos: int) -> e.Expr:
        return e.Literal(pos, False, "boolean")

    def x_number(self, node: Any, pos: int) -> e.Expr:
        tok = node.children[0]
        if tok.type == "INT":
            value = int(str(tok))
            return e.Literal(pos, value, "integer" if value <= 2**31 - 1 else "long" if value <= 2**63 - 1 else "double")
        return e.Literal(pos, float(str(tok)), "double")

    def x_timespan(self, node: Any, pos: int) -> e.Expr:
        num, unit_tok = node.children
        amount = self.x_number(num, pos)
        unit = str(unit_tok).lower()
        if unit not in _UNITS:
            raise self._fail(f"unknown time unit {str(unit_tok)!r} (expected e.g. seconds, minutes, hours, days)", unit_tok.start_pos)
        if not isinstance(amount, e.Literal) or amount.type != "integer":
            raise self._fail("a timespan takes a whole number", pos)
        kind, canonical = _UNITS[unit]
        return e.TimeSpan(pos, amount.value, canonical, kind)

    def x_string(self, node: Any, pos: int) -> e.Expr:
        return e.Literal(pos, self.string(node), "keyword")

    def x_param(self, node: Any, pos: int) -> e.Expr:
        return e.Param(pos, str(node.children[0]))

    def x_list_lit(self, node: Any, pos: int) -> e.Expr:
        return e.ListLit(pos, tuple(self.expr(c) for c in self._trees(node)))
