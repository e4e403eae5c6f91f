"""What Kibana's ``esql`` rule type does to a query's rows: the facts both the engine and ``validate`` use.

Kibana does not run an ES|QL rule's query as written. Its executor (Kibana
``x-pack/solutions/security/plugins/security_solution/server/lib/detection_engine/rule_types/esql/``):

- appends ``| limit <size>`` with ``size = max_signals + 1`` (``esql.ts``,
  ``build_esql_search_request.ts``), so ES|QL's own default of 1,000 rows never applies and a
  ``LIMIT n`` in the query itself caps every request at ``n`` rows. Elasticsearch never returns
  more than 10,000 rows for one request (``esql.query.result_truncation_max_size``);
- for a non-aggregating query, asks again, with the documents that already made alerts
  excluded (a ``must_not ids`` filter, applied *before* the query's pipeline), until a request
  returns fewer than ``size`` rows or ``max_signals`` alerts exist. So the query's own ``LIMIT``
  counts only documents without an alert yet (``update_excluded_documents.ts``);
- for an aggregating query (one with a ``STATS`` command; ``INLINE STATS`` does not count),
  creates at most ``max_signals`` alerts from the rows, each identified by the execution's time
  range, the query and the row's position (``utils/generate_alert_id.ts``);
- with ``MV_EXPAND`` on a non-aggregating query, identifies each alert by the document *and*
  the values of the expanded columns, so the rows one document expands into are separate alerts;
  when a column ``MV_EXPAND`` named is no longer in the result, by the whole row instead
  (``utils/get_mv_expand_usage.ts``, ``utils/generate_alert_id.ts``);
- suppresses on the ``alert_suppression.group_by`` values of the alert it built: the source
  document merged with the row (``wrap_suppressed_esql_alerts.ts``). An aggregating query's
  alert has no source document, so it can only suppress on the query's result columns.
"""

from __future__ import annotations

from typing import Iterable

from ctdetect.query.esql import ast as e

#: Most rows Elasticsearch returns for one ES|QL request (``esql.query.result_truncation_max_size``).
MAX_ROWS_PER_REQUEST = 10_000


def rows_per_request(max_signals: int) -> int:
    """The ``LIMIT`` Kibana appends to an ES|QL rule's query: one more row than ``max_signals``,
    so it can tell a full page from an exhausted search; never above what Elasticsearch returns."""
    return min(max_signals + 1, MAX_ROWS_PER_REQUEST)


def expanded_fields(query: e.Query) -> tuple[str, ...]:
    """The columns the query's ``MV_EXPAND`` commands expand, in pipeline order (Kibana's ``getMvExpandFields``)."""
    return tuple(c.field for c in query.commands if isinstance(c, e.MvExpand))


def row_bound(query: e.Query) -> tuple[int, e.Limit] | None:
    """The fewest rows the query itself can return, from its own ``LIMIT``s, with that command.

    A ``LIMIT n`` caps the rows at ``n`` unless a later ``MV_EXPAND`` (one row a value) or
    ``FORK`` (one result a branch) can multiply them again; ``STATS`` after it only lowers the
    count. None: the query sets no such bound.
    """
    best: tuple[int, e.Limit] | None = None
    for cmd in query.commands:
        if isinstance(cmd, (e.MvExpand, e.Fork)):
            best = None
        elif isinstance(cmd, e.Limit) and isinstance(cmd.count, int):
            if best is None or cmd.count < best[0]:
                best = (cmd.count, cmd)
    return best


def unsuppressible(query: e.Query, group_by: Iterable[str], result_columns: Iterable[str], source_columns: Iterable[str]) -> list[str]:
    """The ``group_by`` fields no alert of this rule can hold: not a result column, and, for a
    non-aggregating query, not a field of the source document either. Every alert is then
    'missing' the field, so suppression folds them all together or none at all."""
    available = set(result_columns)
    if not query.aggregating:
        available |= set(source_columns)
    return [name for name in group_by if name not in available]
