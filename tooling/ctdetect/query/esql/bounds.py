"""Which groups of an execution can pass a ``MAX(...) >= <constant>`` or ``COUNT(...) > 0``
condition, from per-part summaries.

Why: Elastic's long look-back ES|QL rules (7 days, run hourly) end their ``WHERE`` after the
``STATS`` with ``Esql.last_seen >= NOW() - 1 hour``, where ``Esql.last_seen = MAX(...)`` of
the rows' ``@timestamp``: only the groups active in the last interval can alert. Yet each
execution gathered every group of its ~24 parts (time slices and blocks of slices) and merged
the aggregates that condition reads for all of them, to drop nearly all of them. A merged
``MAX`` is one of its parts' maxima, so a group can pass ``MAX >= T`` (or ``> T``) only if
one of its parts' maxima passes it: the groups of an execution that can pass are found from
the parts whose greatest maximum passes (``PartSummary.highs``; a part of last week has none
that does), and only those groups are gathered from the other parts and screened. A count
is a sum of its parts' counts, none negative, so it is above 0 (at least 1) only if one of
its parts' counts is: Elastic's "self-created access key subsequently used" rule (run every
5 minutes) keeps only the groups with a key creation (``COUNT(*) WHERE flag == 1 > 0``).

Exactness: a bound is used for an execution only when the first two of these hold for it
(the conditions are conjuncts: leaving one out only gathers more groups), and
``candidate_groups`` answers None (the caller screens every group as before) when no bound is
usable or the third does not hold:

- the condition is a conjunct of a ``WHERE`` of the screen (``incremental.Screen``), its
  column is an aggregate assigned exactly ``MAX(x)``, ``COUNT(x)`` or ``COUNT(*)`` (no outer
  expression), not shadowed by a group column or an ``EVAL`` of the screen, and its other
  side reads no column (literals, ``NOW()``, spans): the threshold ``T`` is one value per
  execution;
- ``T`` is an ``int`` and every part's value of that ``MAX`` is an ``int`` (epoch
  milliseconds, counts): ES|QL's comparison of two numbers is Python's, and a null or any
  other kind makes the row fail, which no part can then make pass; for a count, ``> T``
  with ``T <= 0`` or ``>= T`` with ``T <= 1`` (above that, parts below ``T`` can add up to
  pass);
- every ``MIN``/``MAX`` the screen merges for every group (``incremental._screened`` merges
  them before dropping groups) holds values of one kind across the parts: merging them then
  never raises ``NotMergeable``, so leaving the dropped groups unmerged changes nothing.

Groups keep the order of their first row (the order of the first part holding them, then
their order in it), as the full gathering gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from ctdetect.query.esql import ast as e
from ctdetect.query.esql.aggregates import MERGEABLE, ROWS
from ctdetect.query.esql.evaluate import Program, conjuncts
from ctdetect.query.esql.expressions import Context, EsqlUnsupported
from ctdetect.query.esql.table import Table

__all__ = ["Bound", "PartSummary", "candidate_groups", "plan_bounds", "summarise"]

Part = dict[tuple, list[Any]]  # group key -> partial state per inner aggregate (``StatsPlan.fold``)
THRESHOLD = "\x00threshold"  # the column a bound's threshold is computed into
_MIRRORED = {"<=": ">=", "<": ">"}


@dataclass(frozen=True, slots=True)
class Bound:
    """``MAX(x) >= T`` or ``COUNT(...) >= T`` (``> T`` when ``strict``): ``inner`` is the
    aggregate's index in ``StatsPlan.inner``; ``threshold`` computes ``T`` (an ``EVAL``
    after the ``STATS``, run over ``probe``, a one-row table of the ``STATS``' columns)."""

    inner: int
    strict: bool
    threshold: Callable[[Table, Context], Table]
    probe: Table
    count: bool = False  # the aggregate is a count (its partial state an int), else a MAX

    def usable(self, limit: Any) -> bool:
        """Whether a group passes ``aggregate (>|>=) limit`` only if one of its parts does."""
        if limit.__class__ is not int:
            return False
        return not self.count or limit <= (0 if self.strict else 1)

    def high(self, states: Any) -> tuple[Any, bool]:
        """The greatest value of the aggregate over ``states`` (None: none) and whether they
        are all ints (else the greatest is None too)."""
        i = self.inner
        values = [s[i] for s in states] if self.count else [s[i][1] for s in states if s[i] is not None]
        ints = all(v.__class__ is int for v in values)
        return (max(values) if values and ints else None), ints

    def value_of(self, state: Any) -> Any:
        """The aggregate's value in one part's state (None: the part has none)."""
        return state if self.count or state is None else state[1]

    def value(self, ctx: Context) -> Any:
        """``T`` at the execution of ``ctx``."""
        return self.threshold(self.probe, ctx).column(THRESHOLD)[0]


@dataclass(frozen=True, slots=True)
class PartSummary:
    """What a part says about the bounds without reading its groups again."""

    kinds: tuple[frozenset[Any], ...]  # per checked inner aggregate: the families of its values (``aggregates._family``)
    highs: tuple[Any, ...]  # per bound: the greatest value of its aggregate over the part's groups (None: none, or not all ints)
    ints: tuple[bool, ...]  # per bound: every value of its aggregate in this part is an int


def plan_bounds(query: e.Query, at: int, steps: int, stats: Any, inner_kinds: Sequence[Any], inner_aggs: Sequence[int],
                source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> tuple[Bound, ...]:
    """The bounds among the conjuncts of the ``WHERE``s of the ``steps`` commands after the
    ``STATS`` (command ``at`` of ``query``; ``stats`` its ``StatsStep``). ``inner_kinds`` and
    ``inner_aggs``: per inner aggregate of the plan, its ``Mergeable`` and its assignment."""
    cmd = query.commands[at]
    assert isinstance(cmd, e.Stats)
    commands = query.commands[at + 1 : at + 1 + steps]
    shadowed = {f.name for c in commands if isinstance(c, e.Eval) for f in c.fields} | {g.name for g in cmd.groups}
    kinds = {"max": (MERGEABLE["max"],), "count": (MERGEABLE["count"], ROWS)}
    monotone: dict[str, tuple[int, bool]] = {}  # aggregate column -> (its inner aggregate, is a count)
    for index, a in enumerate(cmd.aggregates):
        call = a.expr
        if a.name in shadowed or not (isinstance(call, e.Call) and call.name in kinds and len(call.args) <= 1):
            continue
        found = [i for i, agg in enumerate(inner_aggs) if agg == index]
        if len(found) == 1 and any(inner_kinds[found[0]] is k for k in kinds[call.name]):
            monotone[a.name] = (found[0], call.name == "count")
    bounds: list[Bound] = []
    for command in commands:
        if not isinstance(command, e.Where):
            continue
        for part in conjuncts(command.condition):
            if not isinstance(part, e.Binary) or part.op not in (">=", ">", "<=", "<"):
                continue
            column, limit, op = (part.left, part.right, part.op) if part.op in (">=", ">") else (part.right, part.left, _MIRRORED[part.op])
            if not isinstance(column, e.FieldRef) or column.name not in monotone:
                continue
            if any(isinstance(n, e.FieldRef) for n in limit.walk()):
                continue
            threshold = _threshold(query, at, limit, source_columns)
            if threshold is not None:
                probe = stats.assemble([tuple(None for _ in cmd.groups)], [[None] for _ in cmd.aggregates], [])
                inner, count = monotone[column.name]
                bounds.append(Bound(inner, op == ">", threshold, probe, count))
    return tuple(bounds)


def _threshold(query: e.Query, at: int, limit: e.Expr, source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> Callable[[Table, Context], Table] | None:
    """The step computing ``limit`` into ``THRESHOLD`` after the ``STATS`` (None: not compiled)."""
    probe = e.Eval(limit.pos, (e.Assign(THRESHOLD, limit, limit.pos),))
    try:
        program = Program.prepare(replace(query, commands=(*query.commands[: at + 1], probe)), source_columns)
    except EsqlUnsupported:
        return None
    return program.steps[at + 1]


def summarise(part: Part, checked: Sequence[int], bounds: Sequence[Bound]) -> PartSummary:
    """The ``PartSummary`` of ``part``: the families of the values of the inner aggregates
    ``checked`` (``MIN``/``MAX`` states are ``(family, value)`` or None) and each bound's
    greatest value when all of its values are ints."""
    states = part.values()
    kinds = tuple(frozenset({s[i][0] for s in states if s[i] is not None}) for i in checked)
    found = [bound.high(states) for bound in bounds]
    return PartSummary(kinds, tuple(high for high, _ in found), tuple(ints for _, ints in found))


def candidate_groups(parts: Sequence[Part], summaries: Sequence[PartSummary], checked: Sequence[int],
                     bounds: Sequence[Bound], ctx: Context) -> dict[tuple, list[list[Any]]] | None:
    """Per group that can pass every bound usable here, its states in each part holding it
    (in part order), groups in the order of their first row; None when no bound can be used
    exactly for these parts (the module's conditions)."""
    used = [(b, bound, limit) for b, bound in enumerate(bounds)
            if bound.usable(limit := bound.value(ctx)) and all(s.ints[b] for s in summaries)]
    if not used:
        return None
    for c in range(len(checked)):
        if len(set().union(*(s.kinds[c] for s in summaries))) > 1:
            return None  # merging this MIN/MAX could raise for a group the bounds leave out
    passing: set[tuple] | None = None
    for b, bound, limit in used:
        here: set[tuple] = set()
        i, strict, value_of = bound.inner, bound.strict, bound.value_of
        for part, summary in zip(parts, summaries):
            high = summary.highs[b]
            if high is None or not (high > limit if strict else high >= limit):
                continue
            for key, states in part.items():
                value = value_of(states[i])
                if value is not None and (value > limit if strict else value >= limit):
                    here.add(key)
        passing = here if passing is None else passing & here
    return _gathered(parts, passing or set())


def _gathered(parts: Sequence[Part], keys: set[tuple]) -> dict[tuple, list[list[Any]]]:
    """The states of ``keys`` in each part holding them, groups in the order of their first row."""
    firsts: list[tuple[int, tuple, list[list[Any]]]] = []
    for key in keys:
        held: list[list[Any]] = []
        first = -1
        for p, part in enumerate(parts):
            states = part.get(key)
            if states is not None:
                if first < 0:
                    first = p
                held.append(states)
        firsts.append((first, key, held))
    by_part: dict[int, list[tuple[tuple, list[list[Any]]]]] = {}
    for first, key, held in firsts:
        by_part.setdefault(first, []).append((key, held))
    out: dict[tuple, list[list[Any]]] = {}
    for first in sorted(by_part):
        found = by_part[first]
        if len(found) > 1:
            # In the first part's order, read by a C pass over its keys: that part may be a
            # block of thousands of groups, of which a few pass (a position per group of it
            # and a sort were a fifth of an execution of Elastic's 7-day rules).
            by_key = {key: (key, held) for key, held in found}
            found = list(map(by_key.__getitem__, filter(by_key.__contains__, parts[first])))
        out.update(found)
    return out

