"""Rule evaluation with Kibana's semantics, one module per rule type.

- ``query_rule`` (query, saved_query: KQL, Lucene), ``eql_rule`` (single events and
  sequences; the state machine is ``sequence``), ``threshold``, ``new_terms``,
  ``ml_rule`` (machine_learning: anomaly records as alerts);
- ``schedule``: executions every ``interval``, each looking back ``from``;
- ``alerts``: Kibana alert documents; ``routing``: the ``event.action`` index;
- ``engine.RuleEngine``: compile once, feed events, ``finish`` into findings.

Public API: ``RuleEngine``, ``NotEvaluated``, ``compile_rule``, ``RuleNotEvaluable``. A run
over events is ``backends.embedded.EmbeddedBackend.run`` (the one entry point).
"""

from __future__ import annotations

from ctdetect.engine.rules.base import RuleNotEvaluable
from ctdetect.engine.rules.compile import compile_rule
from ctdetect.engine.rules.engine import NotEvaluated, RuleEngine

__all__ = ["NotEvaluated", "RuleEngine", "RuleNotEvaluable", "compile_rule"]

