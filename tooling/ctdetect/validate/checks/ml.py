"""Machine-learning checks: rules reach their jobs, jobs and datafeeds pair up one to one,
every field a job or datafeed reads exists, and detectors are configured as Elastic's
function reference requires (``rare``/``freq_rare`` need a by field and must not be
combined with ``exclude_frequent``; ``freq_rare`` also needs an over field).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from ctdetect.content.durations import es_time_nanos
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem

RARE_FUNCTIONS = ("rare", "freq_rare")
#: functions that analyse the values of ``field_name`` and so need one
NEEDS_FIELD = frozenset(
    {
        "distinct_count", "high_distinct_count", "low_distinct_count", "info_content", "high_info_content", "low_info_content",
        "metric", "mean", "high_mean", "low_mean", "median", "high_median", "low_median", "min", "max", "sum", "high_sum",
        "low_sum", "non_null_sum", "high_non_null_sum", "low_non_null_sum", "varp", "high_varp", "low_varp", "lat_long",
    }
)


class JobMissing(Check):
    id = "ml.job-missing"
    description = "Every machine_learning rule's job ids are in ml_jobs/ or declared in external_jobs.toml."
    requires = ("ml_jobs",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        known = {job.job_id for job in ctx.package.jobs} | ctx.package.external_job_ids
        for rule in ctx.package.rules:
            if rule.type != "machine_learning":
                continue
            for job_id in rule.machine_learning_job_id:
                if job_id not in known:
                    yield problem(
                        rule.source,
                        "rule.machine_learning_job_id",
                        self.id,
                        self.severity,
                        f"machine_learning_job_id '{job_id}' is not a job in ml_jobs/ (for one of Elastic's prebuilt jobs, list it in external_jobs.toml)",
                    )


class DuplicateJob(Check):
    id = "ml.duplicate-job"
    description = "No two job files define the same job_id."

    def run(self, ctx: Context) -> Iterator[Problem]:
        seen: dict[str, Any] = {}
        for job in ctx.package.jobs:
            if job.job_id in seen:
                yield problem(job.source, "job_id", self.id, self.severity, f"job_id '{job.job_id}' is already defined in {seen[job.job_id].source.path}", line=job.source.line_of("job_id") or 1)
            else:
                seen[job.job_id] = job


class DatafeedMissing(Check):
    id = "ml.datafeed-missing"
    description = "Every job has exactly one datafeed."
    requires = ("package",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        feeds: dict[str, list] = defaultdict(list)
        for feed in ctx.package.datafeeds:
            feeds[feed.job_id].append(feed)
        for job in ctx.package.jobs:
            found = feeds.get(job.job_id, [])
            line = job.source.line_of("job_id") or 1
            if not found:
                yield problem(job.source, None, self.id, self.severity, f"job '{job.job_id}' has no datafeed (expected datafeeds/datafeed-{job.job_id}.json)", line=line)
            elif len(found) > 1:
                files = ", ".join(str(f.source.path) for f in found)
                yield problem(job.source, None, self.id, self.severity, f"job '{job.job_id}' has {len(found)} datafeeds ({files}); a job takes exactly one", line=line)


class DatafeedOrphan(Check):
    id = "ml.datafeed-orphan"
    description = "Every datafeed's job_id names a job of the package."
    requires = ("package",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        jobs = {job.job_id for job in ctx.package.jobs}
        for feed in ctx.package.datafeeds:
            if feed.job_id not in jobs:
                yield problem(feed.source, "job_id", self.id, self.severity, f"datafeed '{feed.datafeed_id}' is for job '{feed.job_id}', which is not in ml_jobs/", line=feed.source.line_of("job_id") or 1)


class DatafeedQuery(Check):
    id = "ml.datafeed-query"
    description = "Every datafeed query is query DSL that ctdetect can read."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for feed in ctx.package.datafeeds:
            if "query" not in feed.raw:
                continue
            parsed = ctx.parse(feed.query, "dsl")
            if parsed.error is not None:
                message = getattr(parsed.error, "message", None) or str(parsed.error)
                yield problem(feed.source, "query", self.id, self.severity, f"datafeed query is not valid query DSL: {message}")


def job_fields(job: Any) -> Iterator[tuple[str, str]]:
    for det in job.detectors:
        base = f"analysis_config.detectors.{det.detector_index}"
        for attr in ("field_name", "by_field_name", "over_field_name", "partition_field_name"):
            value = getattr(det, attr)
            if value:
                yield value, f"{base}.{attr}"
    for i, name in enumerate(job.influencers):
        yield name, f"analysis_config.influencers.{i}"
    if job.summary_count_field_name:
        yield job.summary_count_field_name, "analysis_config.summary_count_field_name"
    categorization = job.raw.get("analysis_config", {}).get("categorization_field_name") if isinstance(job.raw.get("analysis_config"), dict) else None
    if isinstance(categorization, str):
        yield categorization, "analysis_config.categorization_field_name"


def script_fields(feed: Any) -> set[str]:
    """Fields a datafeed computes itself (script fields, runtime mappings)."""
    names: set[str] = set()
    for key in ("script_fields", "runtime_mappings"):
        value = feed.raw.get(key) if feed is not None else None
        if isinstance(value, dict):
            names.update(value)
    return names


class FieldUnknown(Check):
    id = "ml.field-unknown"
    description = "Detector fields, influencers and datafeed query fields exist in the field catalogue."
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        catalogue = ctx.catalogue
        feeds = {feed.job_id: feed for feed in ctx.package.datafeeds}
        for job in ctx.package.jobs:
            own = script_fields(feeds.get(job.job_id))
            for name, key in job_fields(job):
                if name not in own and catalogue.get(name) is None:
                    yield problem(job.source, key, self.id, self.severity, f"unknown field '{name}': no data source in the field catalogue has it")
        for feed in ctx.package.datafeeds:
            if "query" not in feed.raw:
                continue
            parsed = ctx.parse(feed.query, "dsl")
            if parsed.node is None:
                continue
            own = script_fields(feed)
            from ctdetect.query.ast import field_uses

            seen: set[str] = set()
            for use in field_uses(parsed.node):
                name = use.field
                if name in seen or name in own or name.startswith("_"):
                    continue
                seen.add(name)
                known = catalogue.matching(name) if "*" in name else catalogue.get(name)
                if not known:
                    yield problem(feed.source, "query", self.id, self.severity, f"datafeed query reads unknown field '{name}': no data source in the field catalogue has it")


class BucketSpan(Check):
    id = "ml.bucket-span"
    description = "bucket_span is a positive whole number of seconds; rare functions want spans of an hour or less."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for job in ctx.package.jobs:
            analysis = job.raw.get("analysis_config")
            if not isinstance(analysis, dict) or "bucket_span" not in analysis:
                continue
            value = analysis["bucket_span"]
            nanos = es_time_nanos(value) if isinstance(value, str) else None
            key = "analysis_config.bucket_span"
            if nanos is None or nanos <= 0:
                yield problem(job.source, key, self.id, "error", f"bucket_span {value!r} is not a positive time value such as '15m' or '1h'")
            elif nanos % 1_000_000_000:
                yield problem(job.source, key, self.id, "error", f"bucket_span {value!r} is not a whole number of seconds")
            elif nanos > 3600 * 1_000_000_000 and any(d.function in RARE_FUNCTIONS for d in job.detectors):
                yield problem(job.source, key, self.id, "warning", f"bucket_span {value!r} is longer than an hour: Elastic recommends shorter spans for rare functions, or values stop looking rare")


class ModelPruneWindow(Check):
    id = "ml.model-prune-window"
    description = "model_prune_window, when set, is a whole number of bucket spans and at least two (Elasticsearch refuses the job otherwise)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.engine.anomaly.pruning import check_window

        for job in ctx.package.jobs:
            analysis = job.raw.get("analysis_config")
            if not isinstance(analysis, dict) or not isinstance(analysis.get("model_prune_window"), str):
                continue
            window = es_time_nanos(analysis["model_prune_window"])
            bucket_span = analysis.get("bucket_span", "5m")  # Elasticsearch's default span
            span = es_time_nanos(bucket_span) if isinstance(bucket_span, str) else None
            if window is None or not span or window % 1_000_000_000 or span % 1_000_000_000:
                continue  # a malformed value is the schema's (schema.*) or bucket_span's (ml.bucket-span) to report
            refused = check_window(window // 1_000_000_000, span // 1_000_000_000)
            if refused:
                yield problem(job.source, "analysis_config.model_prune_window", self.id, self.severity, refused)


class RareNeedsBy(Check):
    id = "ml.rare-needs-by"
    description = "rare and freq_rare detectors have a by_field_name (freq_rare also an over_field_name); value functions a field_name."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for job in ctx.package.jobs:
            for det in job.detectors:
                key = f"analysis_config.detectors.{det.detector_index}"
                if det.function in RARE_FUNCTIONS and not det.by_field_name:
                    yield problem(job.source, f"{key}.function", self.id, self.severity, f"detector {det.detector_index}: '{det.function}' needs a by_field_name (the field whose rare values it models)")
                if det.function == "freq_rare" and not det.over_field_name:
                    yield problem(job.source, f"{key}.function", self.id, self.severity, f"detector {det.detector_index}: 'freq_rare' needs an over_field_name (the population)")
                if det.function in NEEDS_FIELD and not det.field_name:
                    yield problem(job.source, f"{key}.function", self.id, self.severity, f"detector {det.detector_index}: '{det.function}' needs a field_name")


class RareExcludeFrequent(Check):
    id = "ml.rare-exclude-frequent"
    description = "rare and freq_rare detectors do not set exclude_frequent (Elastic's function reference forbids the combination)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for job in ctx.package.jobs:
            for det in job.detectors:
                if det.function in RARE_FUNCTIONS and det.exclude_frequent and det.exclude_frequent != "none":
                    key = f"analysis_config.detectors.{det.detector_index}.exclude_frequent"
                    yield problem(job.source, key, self.id, self.severity, f"detector {det.detector_index}: '{det.function}' must not be combined with exclude_frequent")
