"""Job and datafeed configuration as the anomaly engine reads it.

Accepts an Elasticsearch put-job body (plus ``job_id``) as a plain dict or a
``ctdetect.content.model.MLJob``, and a put-datafeed body as a dict or ``Datafeed``.
Only the fields that change what the engine computes are read; the rest is ignored as
Elasticsearch would ignore it for results (``analysis_limits``, ``custom_settings``…).
Elastic module files carry the placeholders ``JOB_ID`` and ``INDEX_PATTERN_NAME``;
neither matters here (events are handed over directly), so they are accepted as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ctdetect.engine.anomaly.detection_rules import DetectionRule, parse_rules
from ctdetect.engine.anomaly.errors import JobConfigError
from ctdetect.engine.anomaly.pruning import check_window
from ctdetect.timeutil import es_time_seconds

# Function names (and Elastic's short aliases) → (canonical name, family).
FUNCTIONS: dict[str, tuple[str, str]] = {
    "rare": ("rare", "rare"),
    "freq_rare": ("freq_rare", "rare"),
    "count": ("count", "count"),
    "high_count": ("high_count", "count"),
    "low_count": ("low_count", "count"),
    "non_zero_count": ("non_zero_count", "count"),
    "nzc": ("non_zero_count", "count"),
    "high_non_zero_count": ("high_non_zero_count", "count"),
    "high_nzc": ("high_non_zero_count", "count"),
    "low_non_zero_count": ("low_non_zero_count", "count"),
    "low_nzc": ("low_non_zero_count", "count"),
    "distinct_count": ("distinct_count", "count"),
    "dc": ("distinct_count", "count"),
    "high_distinct_count": ("high_distinct_count", "count"),
    "high_dc": ("high_distinct_count", "count"),
    "low_distinct_count": ("low_distinct_count", "count"),
    "low_dc": ("low_distinct_count", "count"),
}



def parse_seconds(value: Any, what: str) -> int:
    """Seconds of an Elasticsearch time value (``15m``, ``1h``, ``600s``; a JSON number is
    seconds), read by ``ctdetect.timeutil`` as validation reads it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    seconds = es_time_seconds(value)
    if seconds is None:
        raise JobConfigError(f"{what}: {value!r} is not an Elasticsearch time value (e.g. 15m, 1h)")
    if seconds < 1:
        raise JobConfigError(f"{what}: {value!r} is shorter than one second")
    return int(seconds)


@dataclass(slots=True)
class DetectorSpec:
    """One detector of ``analysis_config.detectors``."""

    index: int
    function: str  # canonical name, e.g. "high_distinct_count"
    field_name: str | None
    by_field_name: str | None
    over_field_name: str | None
    partition_field_name: str | None
    use_null: bool
    exclude_frequent: str | None
    description: str
    # ``custom_rules`` (``detection_rules``): empty for most detectors
    custom_rules: tuple[DetectionRule, ...] = ()

    @property
    def is_population(self) -> bool:
        return self.over_field_name is not None

    @property
    def person_field(self) -> str | None:
        """Elastic's "person": the over field in population analysis, else the by field."""
        return self.over_field_name if self.over_field_name else self.by_field_name


@dataclass(slots=True)
class JobSpec:
    """What the engine needs from a job and its datafeed."""

    job_id: str
    bucket_span_s: int
    detectors: list[DetectorSpec]
    influencers: list[str] = field(default_factory=list)
    summary_count_field_name: str | None = None
    # as the job sets it; None: Elasticsearch's default applies (``pruning.model_prune_window_s``)
    model_prune_window_s: int | None = None
    renormalization_window_s: int | None = None
    time_field: str = "@timestamp"
    time_format: str | None = None
    query: dict[str, Any] = field(default_factory=lambda: {"match_all": {}})


def _as_dict(obj: Any, kind: str) -> tuple[dict[str, Any], str | None]:
    if obj is None:
        return {}, None
    if isinstance(obj, dict):
        return obj, obj.get("job_id") if kind == "job" else obj.get("datafeed_id")
    raw = getattr(obj, "raw", None)
    if isinstance(raw, dict):
        ident = getattr(obj, "job_id", None) if kind == "job" else getattr(obj, "datafeed_id", None)
        if kind == "datafeed":
            merged = dict(raw)
            query = getattr(obj, "query", None)
            if "query" not in merged and isinstance(query, dict):
                merged["query"] = query
            return merged, ident
        return raw, ident
    raise JobConfigError(f"{kind} must be a put-{kind} body (dict) or a ctdetect {kind} object, not {type(obj).__name__}")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def parse_job(job: Any, datafeed: Any = None, filters: Mapping[str, list[str]] | None = None) -> JobSpec:
    """Read a job (dict or ``MLJob``) and its datafeed (dict, ``Datafeed`` or None).

    ``filters`` (ML filter id -> items) are what the detectors' ``custom_rules`` scopes
    name; by default those the ``MLJob`` was loaded with (``ml_jobs/filters/``)."""
    body, job_id = _as_dict(job, "job")
    if filters is None:
        filters = getattr(job, "filters", None) or {}
    job_id = job_id or body.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise JobConfigError("job has no job_id (a put-job body needs one added; module files take it from the file name)")
    ac = body.get("analysis_config")
    if not isinstance(ac, dict):
        raise JobConfigError(f"job {job_id}: analysis_config is missing or not an object")
    span = parse_seconds(ac.get("bucket_span", "5m"), f"job {job_id}: analysis_config.bucket_span")
    raw_detectors = ac.get("detectors")
    if not isinstance(raw_detectors, list) or not raw_detectors:
        raise JobConfigError(f"job {job_id}: analysis_config.detectors must be a non-empty list")
    detectors = [_parse_detector(job_id, i, d, filters) for i, d in enumerate(raw_detectors)]
    influencers = [i for i in ac.get("influencers", []) or [] if isinstance(i, str)]
    prune = ac.get("model_prune_window")
    prune_s = parse_seconds(prune, f"job {job_id}: analysis_config.model_prune_window") if prune else None
    refused = check_window(prune_s, span) if prune_s else None
    if refused:  # Elasticsearch refuses the job when it is put
        raise JobConfigError(f"job {job_id}: analysis_config.{refused}")
    renorm_days = body.get("renormalization_window_days")
    if renorm_days is not None and (isinstance(renorm_days, bool) or not isinstance(renorm_days, int) or renorm_days < 0):
        raise JobConfigError(f"job {job_id}: renormalization_window_days must be a non-negative whole number of days, not {renorm_days!r}")
    dd = body.get("data_description") or {}
    spec = JobSpec(
        job_id=job_id,
        bucket_span_s=span,
        detectors=detectors,
        influencers=influencers,
        summary_count_field_name=_opt_str(ac.get("summary_count_field_name")),
        model_prune_window_s=prune_s,
        renormalization_window_s=renorm_days * 86400 if renorm_days is not None else None,
        time_field=_opt_str(dd.get("time_field")) or "@timestamp",
        time_format=_opt_str(dd.get("time_format")),
    )
    feed, _ = _as_dict(datafeed, "datafeed")
    if feed:
        if feed.get("runtime_mappings") or feed.get("script_fields"):
            raise JobConfigError(
                f"job {job_id}: its datafeed computes fields with runtime_mappings/script_fields (Painless scripts), "
                "which the embedded engine cannot run"
            )
        if feed.get("aggregations") or feed.get("aggs"):
            raise JobConfigError(f"job {job_id}: datafeeds with aggregations are not supported by the embedded engine")
        query = feed.get("query", {"match_all": {}})
        if not isinstance(query, dict):
            raise JobConfigError(f"job {job_id}: datafeed query must be a query DSL object")
        spec.query = query
    return spec


def _parse_detector(job_id: str, i: int, d: Any, filters: Mapping[str, list[str]]) -> DetectorSpec:
    where = f"job {job_id}: detector {i}"
    if not isinstance(d, dict):
        raise JobConfigError(f"{where} is not an object")
    fn = d.get("function")
    if fn not in FUNCTIONS:
        supported = ", ".join(sorted({v[0] for v in FUNCTIONS.values()}))
        raise JobConfigError(f"{where}: function {fn!r} is not emulated (supported: {supported})")
    canonical = FUNCTIONS[fn][0]
    spec = DetectorSpec(
        index=int(d.get("detector_index", i)) if isinstance(d.get("detector_index", i), int) else i,
        function=canonical,
        field_name=_opt_str(d.get("field_name")),
        by_field_name=_opt_str(d.get("by_field_name")),
        over_field_name=_opt_str(d.get("over_field_name")),
        partition_field_name=_opt_str(d.get("partition_field_name")),
        use_null=bool(d.get("use_null", False)),
        exclude_frequent=_opt_str(d.get("exclude_frequent")),
        description=_opt_str(d.get("detector_description")) or "",
    )
    if canonical in ("rare", "freq_rare") and not spec.by_field_name:
        raise JobConfigError(f"{where}: {canonical} needs a by_field_name")
    if canonical == "freq_rare" and not spec.over_field_name:
        raise JobConfigError(f"{where}: freq_rare needs an over_field_name")
    if "distinct_count" in canonical and not spec.field_name:
        raise JobConfigError(f"{where}: {canonical} needs a field_name")
    if canonical.endswith("count") and "distinct" not in canonical and spec.field_name:
        raise JobConfigError(f"{where}: {canonical} takes no field_name")
    split = {"partition": spec.partition_field_name, "by": spec.by_field_name, "over": spec.over_field_name}
    spec.custom_rules = parse_rules(job_id, spec.index, canonical, split, d.get("custom_rules"), filters)
    return spec


def compile_datafeed_query(query: dict[str, Any], job_id: str, field_types: Mapping[str, str]) -> Callable[[dict[str, Any]], bool]:
    """Compile the datafeed's query DSL into a predicate over flat ECS events.

    Uses the project's query layer (``parse_query(…, "dsl")`` then
    ``compile_query``) with ``field_types`` (the field catalogue's, passed down by the
    backend, as the index mapping is in Elasticsearch). ``match_all`` needs no query layer.
    """
    node = datafeed_query_node(query, job_id)
    return match_all_events if node is None else compile_clause(node, field_types)


def datafeed_query_node(query: dict[str, Any], job_id: str) -> Any:
    """The datafeed's query DSL as a query AST node; ``None`` for ``match_all`` (or no query).

    Raises ``JobConfigError`` naming the job when the query does not parse.
    """
    if not query or set(query) == {"match_all"}:
        return None
    from ctdetect.query import parse_query
    from ctdetect.query.errors import QueryParseError

    try:
        return parse_query(query, "dsl")
    except QueryParseError as exc:
        raise JobConfigError(f"job {job_id}: datafeed query: {exc}") from exc


def compile_clause(node: Any, field_types: Mapping[str, str]) -> Callable[[dict[str, Any]], bool]:
    """A predicate over flat ECS events for one query AST node (fields typed by ``field_types``)."""
    from ctdetect.query.predicate import compile_query

    return compile_query(node, field_types)


def match_all_events(_event: dict[str, Any]) -> bool:
    return True
