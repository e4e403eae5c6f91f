"""What a ``FROM`` reads: the package's data sources, their index patterns and columns.

ES|QL resolves a ``FROM`` pattern against the indices of a cluster; offline, the package's
data sources stand in for them. Each source is named by an index a cluster would have
(``logs-aws.cloudtrail-default``), so a pattern is checked the way Elasticsearch expands
it: by matching concrete index names. The columns are the field catalogue's (ECS plus the
integrations the package reads) mapped to ES|QL types, plus, for Kibana's alert indices,
the alert fields of the alerts-as-data schema that ctdetect's engine writes.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Mapping

#: Data sources of the package: concrete index (as a cluster names it) -> kind.
DATA_SOURCES: dict[str, str] = {
    "logs-aws.cloudtrail-default": "events",
    "logs-auditd_manager.auditd-default": "events",
    "logs-endpoint.events.network-default": "events",
    ".alerts-security.alerts-default": "alerts",
    ".internal.alerts-security.alerts-default-000001": "alerts",
}

#: Elasticsearch mapping type -> ES|QL column type (objects are no columns).
_ESQL_TYPE = {
    "keyword": "keyword", "constant_keyword": "keyword", "wildcard": "keyword", "flattened": "keyword",
    "text": "text", "match_only_text": "text",
    "long": "long", "integer": "integer", "short": "integer", "byte": "integer",
    "double": "double", "float": "double", "half_float": "double", "scaled_float": "double", "unsigned_long": "unsigned_long",
    "date": "date", "date_nanos": "date_nanos", "ip": "ip", "boolean": "boolean", "version": "version",
    "geo_point": "geo_point", "geo_shape": "geo_shape",
}

#: Metadata fields ``FROM ... METADATA`` may ask for, with their types.
METADATA_FIELDS = {"_id": "keyword", "_index": "keyword", "_version": "long", "_score": "double", "_ignored": "keyword", "_source": "_source", "_index_mode": "keyword"}

#: Kibana alert fields (alerts-as-data, security solution) as ES|QL reads them.
ALERT_FIELDS = {
    **{f"kibana.alert.{k}": "keyword" for k in (
        "uuid", "status", "workflow_status", "severity", "reason", "building_block_type", "group.id",
        "rule.name", "rule.rule_id", "rule.uuid", "rule.type", "rule.rule_type_id", "rule.tags", "rule.category",
        "rule.consumer", "rule.producer", "rule.severity", "rule.version", "rule.author", "rule.license",
        "rule.interval", "rule.from", "rule.description", "rule.references", "rule.parameters.index",
        "rule.parameters.language", "rule.parameters.query", "original_event.action", "original_event.category",
        "original_event.dataset", "original_event.kind", "original_event.module", "original_event.outcome",
        "original_event.provider", "original_event.type", "ancestors.id", "ancestors.index", "ancestors.type",
        # the rule's ATT&CK mapping, copied into every alert (alerts-as-data security fields)
        "rule.threat.framework", "rule.threat.tactic.id", "rule.threat.tactic.name", "rule.threat.tactic.reference",
        "rule.threat.technique.id", "rule.threat.technique.name", "rule.threat.technique.reference",
        "rule.threat.technique.subtechnique.id", "rule.threat.technique.subtechnique.name",
        "rule.threat.technique.subtechnique.reference",
    )},
    "kibana.alert.risk_score": "double",
    "kibana.alert.rule.risk_score": "double",
    "kibana.alert.depth": "long",
    "kibana.alert.rule.max_signals": "long",
    "kibana.alert.rule.enabled": "boolean",
    "kibana.alert.original_time": "date",
    "kibana.alert.start": "date",
    "kibana.alert.last_detected": "date",
    "kibana.alert.suppression.docs_count": "long",
    "kibana.space_ids": "keyword",
}


def document_index(doc: Mapping[str, Any]) -> str:
    """The index a document lives in (``_index``), else the data stream its ``data_stream.*``
    (or ``event.dataset``) names, as the aws integration writes it: ``logs-aws.cloudtrail-default``."""
    idx = doc.get("_index")
    if isinstance(idx, str):
        return idx
    ds = doc.get("data_stream.dataset") or doc.get("event.dataset")
    if isinstance(ds, str):
        return f"{doc.get('data_stream.type') or 'logs'}-{ds}-{doc.get('data_stream.namespace') or 'default'}"
    return "ctdetect-events"


def selects(indices: tuple[str, ...], index: str) -> bool:
    """Whether a ``FROM``'s patterns select the concrete ``index`` (an event's, or the alerts')."""
    return any(fnmatchcase(index, pattern) for pattern in indices)


def _local(pattern: str) -> str:
    """A pattern without its remote-cluster prefix (``remote:logs-*`` -> ``logs-*``)."""
    return pattern.split(":", 1)[-1] if ":" in pattern and not pattern.startswith(("<", "*")) else pattern


def matching_sources(pattern: str) -> list[str]:
    """The package data sources (concrete index names) an index pattern selects."""
    pattern = _local(pattern)
    return [index for index in DATA_SOURCES if fnmatchcase(index, pattern)]


def _sibling_probes(index: str) -> list[str]:
    """Indices of datasets next to a source's: ``logs-aws.cloudtrail-default`` gives
    ``logs-ctdetectprobe-default`` and ``logs-aws.ctdetectprobe-default``. A pattern that
    selects one of them reads datasets the package has no source for."""
    stream = index.rsplit("-", 1)[0]  # type and dataset; the namespace may vary freely
    return [stream[: i + 1] + "ctdetectprobe-default" for i, ch in enumerate(stream) if ch in ".-"]


_PROBES = sorted({probe for index in DATA_SOURCES for probe in _sibling_probes(index)})


def fully_covered(indices: tuple[str, ...]) -> bool:
    """Whether every ``FROM`` pattern reads only package data sources, so that a column none
    of them has is really unknown (``logs-*``, ``logs-endpoint.events.*`` or
    ``.alerts-security.*`` may hold fields of other datasets: not checked)."""
    for pattern in indices:
        if not matching_sources(pattern):
            return False
        if any(fnmatchcase(probe, _local(pattern)) for probe in _PROBES):
            return False
    return True


def source_columns(indices: tuple[str, ...], catalogue: Any) -> dict[str, str] | None:
    """Columns (name -> ES|QL type) of the indices a ``FROM`` names, ``None`` when none is
    a package data source (then fields cannot be judged)."""
    kinds = {DATA_SOURCES[i] for pattern in indices for i in matching_sources(pattern)}
    if not kinds:
        return None
    return columns_for(kinds, catalogue.field_types() if catalogue is not None else {})


def columns_for(kinds: set[str], field_types: Mapping[str, str]) -> dict[str, str]:
    columns = {name: _ESQL_TYPE[t] for name, t in sorted(field_types.items()) if t in _ESQL_TYPE}
    if "alerts" in kinds:
        columns.update(ALERT_FIELDS)
    return columns


def esql_type(es_type: str | None) -> str | None:
    """The ES|QL type of an Elasticsearch mapping type (``None`` for objects and unknowns)."""
    return _ESQL_TYPE.get(es_type or "")
