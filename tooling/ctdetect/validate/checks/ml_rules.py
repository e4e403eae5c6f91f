"""Checks of detector ``custom_rules`` and the ML filters they name (``ml_jobs/filters/``).

A rule is judged by the embedded engine's own reader (``engine.anomaly.detection_rules``),
so validate refuses exactly what the engine would refuse to run, with Elasticsearch's
messages where it refuses the same thing when the job is put: no scope and no condition,
a scope field that is not the detector's by/over/partition field, a value condition on a
rare function, and a filter that is not in ``ml_jobs/filters/`` (Elasticsearch: "No
filter with id [...] exists"). The rule's shape (actions, condition keys and enums) is
the put-job schema's (``schema.*``).
"""

from __future__ import annotations

from typing import Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem


class CustomRules(Check):
    id = "ml.custom-rules"
    description = "Detector custom_rules are ones Elasticsearch accepts and the embedded engine runs; every scope names a filter of ml_jobs/filters/."

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.engine.anomaly.detection_rules import parse_rules
        from ctdetect.engine.anomaly.errors import JobConfigError

        package_filters = {f.filter_id: f.items for f in ctx.package.filters}
        for job in ctx.package.jobs:
            filters = {**job.filters, **package_filters}  # a lone job file brings its folder's
            analysis = job.raw.get("analysis_config")
            raw_detectors = analysis.get("detectors") if isinstance(analysis, dict) else None
            if not isinstance(raw_detectors, list):
                continue
            # a rule whose shape the put-job schema refuses is reported there (schema.*), once
            shaped = {str(e.absolute_path[2]) for e in ctx.schema_errors(job, "ml_job")
                      if list(e.absolute_path)[:2] == ["analysis_config", "detectors"] and len(e.absolute_path) > 3
                      and e.absolute_path[3] == "custom_rules"}
            for det, raw in zip(job.detectors, raw_detectors):
                if not isinstance(raw, dict) or "custom_rules" not in raw or str(det.detector_index) in shaped:
                    continue
                split = {"partition": det.partition_field_name, "by": det.by_field_name, "over": det.over_field_name}
                try:
                    parse_rules(job.job_id, det.detector_index, det.function, split, raw["custom_rules"], filters)
                except JobConfigError as exc:
                    key = f"analysis_config.detectors.{det.detector_index}.custom_rules"
                    yield problem(job.source, key, self.id, self.severity, str(exc))


class FilterFile(Check):
    id = "ml.filter"
    description = "Each ML filter file's filter_id, when given, is its file name; no two filters share an id."

    def run(self, ctx: Context) -> Iterator[Problem]:
        seen: dict[str, str] = {}
        for flt in ctx.package.filters:
            stem = flt.source.path.stem
            if flt.filter_id != stem:
                yield problem(flt.source, "filter_id", self.id, self.severity,
                              f"filter_id '{flt.filter_id}' is not the file's name ('{stem}'): name the file after the filter, as jobs and datafeeds are")
            if flt.filter_id in seen:
                yield problem(flt.source, None, self.id, self.severity, f"filter '{flt.filter_id}' is already defined in {seen[flt.filter_id]}", line=1)
            else:
                seen[flt.filter_id] = str(flt.source.path)
