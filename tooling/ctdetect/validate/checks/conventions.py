"""Elastic's rule conventions that hold for any rule meant to run in Kibana.

Elastic's detection-rules repository enforces these in its unit tests over every rule
(``tests/test_all_rules.py``, ``tests/test_specific_rules.py``) and in its loader
(``detection_rules/rule.py``). They are re-stated here as small checks, each linking the
test it mirrors, so that a rule that passes ``ctdetect validate`` also passes there. The
ones that only make sense for rules shipped in Elastic's own repository (file names, tag
vocabulary, investigation-guide headings) live in ``elastic_repo`` behind
``--profile elastic``.

Deprecated rules are left alone, as Elastic's tests do (they run over production rules).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ctdetect.content.durations import rule_from_seconds, rule_interval_seconds
from ctdetect.content.model import Rule
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem

TESTS = "https://github.com/elastic/detection-rules/blob/main/tests"
ALL_RULES = f"{TESTS}/test_all_rules.py"
SPECIFIC_RULES = f"{TESTS}/test_specific_rules.py"
RULE_PY = "https://github.com/elastic/detection-rules/blob/main/detection_rules/rule.py"
DATA = Path(__file__).resolve().parents[2] / "data" / "elastic-conventions.json"

QUERY_TYPES = frozenset({"query", "eql", "threshold", "new_terms", "threat_match", "saved_query", "esql"})
MAX_SIGNALS_LIMIT = 1000
#: Elastic caps the interval/maxspan ratio rule at a 5-minute interval (maxspan 2.5 minutes)
MAXSPAN_RATIO_FLOOR_S = 150
LOOKBACK_SLACK_S = 600  # Elastic allows a maxspan up to 10 minutes beyond the look-back


@lru_cache(maxsize=1)
def conventions() -> dict[str, Any]:
    """The facts the checks compare against: Elastic's tag vocabulary, tags per index, timelines."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def active_rules(ctx: Context) -> Iterator[Rule]:
    """Rules Elastic's tests look at: everything but deprecated rules."""
    for rule in ctx.package.rules:
        if rule.maturity != "deprecated" and "_deprecated" not in rule.source.path.parts:
            yield rule


def eql_sequence(ctx: Context, rule: Rule) -> Any:
    """The parsed EQL ``Sequence`` of a rule, or ``None`` (not EQL, not a sequence, does not parse)."""
    if rule.language != "eql" or not isinstance(rule.query, str):
        return None
    node = ctx.parse(rule.query, "eql").node
    return node if type(node).__name__ == "Sequence" else None


def sequences_with_maxspan(ctx: Context) -> Iterator[tuple[Rule, float]]:
    """(rule, maxspan in seconds) for every active EQL sequence rule that sets a maxspan."""
    for rule in active_rules(ctx):
        seq = eql_sequence(ctx, rule)
        if seq is not None and seq.maxspan_ms:
            yield rule, seq.maxspan_ms / 1000


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}m"


class TimestampOverride(Check):
    id = "elastic.timestamp-override"
    description = "KQL and EQL (non-sequence) rules set timestamp_override = \"event.ingested\", so late-delivered events are not missed."
    reference = f"{ALL_RULES} (TestRuleTiming.test_event_override)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            if rule.type not in QUERY_TYPES or rule.language not in ("kuery", "eql"):
                continue
            if rule.timestamp_override == "event.ingested":
                continue
            if rule.language == "eql" and (eql_sequence(ctx, rule) is not None or ctx.parse(rule.query, "eql").node is None):
                continue  # sequences are exempt; a query that does not parse is query.syntax's to report
            yield problem(
                rule.source,
                "rule.type",
                self.id,
                self.severity,
                'no timestamp_override = "event.ingested": the rule\'s window runs on @timestamp, so an event delivered later '
                "than the look-back (CloudTrail takes minutes) is never searched; add it to [rule]",
            )


class EqlIntervalMaxspan(Check):
    id = "elastic.eql-interval-maxspan"
    description = "An EQL sequence runs at least every half maxspan (interval >= maxspan / 2, for maxspans over 2.5 minutes)."
    reference = f"{ALL_RULES} (TestRuleTiming.test_eql_interval_to_maxspan)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule, maxspan in sequences_with_maxspan(ctx):
            interval = rule_interval_seconds(rule.interval)
            if interval is None or maxspan <= MAXSPAN_RATIO_FLOOR_S or interval / maxspan >= 0.5:
                continue
            yield problem(
                rule.source,
                "rule.interval",
                self.id,
                self.severity,
                f"interval {rule.interval} is shorter than half the sequence's maxspan ({_minutes(maxspan)}); "
                f"run it every {_minutes(maxspan / 2)} or more",
            )


class EqlLookbackMaxspan(Check):
    id = "elastic.eql-lookback-maxspan"
    description = "An EQL sequence's look-back (from) is no shorter than its maxspan minus 10 minutes."
    reference = f"{ALL_RULES} (TestRuleTiming.test_eql_lookback)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule, maxspan in sequences_with_maxspan(ctx):
            back = rule_from_seconds(rule.from_)
            if back is not None and back + LOOKBACK_SLACK_S < maxspan:
                yield problem(
                    rule.source,
                    "rule.from",
                    self.id,
                    self.severity,
                    f"look-back {rule.from_} plus 10 minutes is shorter than the maxspan {_minutes(maxspan)}; "
                    f"set from to now-{_minutes(maxspan - LOOKBACK_SLACK_S)} or longer",
                )


class NewTermsShape(Check):
    id = "elastic.new-terms"
    description = "A new_terms rule names 1-3 distinct new_terms_fields and a history_window_start (that the fields exist is query.unknown-field's job)."
    reference = f"{SPECIFIC_RULES} (TestNewTerms)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            if rule.type != "new_terms":
                continue
            spec = rule.rule.get("new_terms")
            if not isinstance(spec, dict):
                continue  # schema.required reports it
            key = "rule.new_terms"
            if spec.get("field") != "new_terms_fields":
                yield problem(rule.source, key, self.id, self.severity, f"new_terms.field is {spec.get('field')!r}; it must be 'new_terms_fields'")
            values = spec.get("value")
            if isinstance(values, list):
                if not 1 <= len(values) <= 3:
                    yield problem(rule.source, key, self.id, self.severity, f"new_terms names {len(values)} fields; Kibana takes 1 to 3")
                if len(set(map(str, values))) != len(values):
                    yield problem(rule.source, key, self.id, self.severity, "new_terms fields repeat a field")
            history = spec.get("history_window_start")
            entry = history[0] if isinstance(history, list) and history and isinstance(history[0], dict) else None
            if entry is None or entry.get("field") != "history_window_start" or not entry.get("value"):
                yield problem(rule.source, key, self.id, self.severity, "new_terms has no [[rule.new_terms.history_window_start]] with field = 'history_window_start' and a value")


class MaxSignals(Check):
    id = "elastic.max-signals"
    description = f"max_signals is at most {MAX_SIGNALS_LIMIT}."
    reference = f"{ALL_RULES} (TestValidRules.test_max_signals_note)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            value = rule.rule.get("max_signals")
            if isinstance(value, int) and value > MAX_SIGNALS_LIMIT:
                yield problem(rule.source, "rule.max_signals", self.id, self.severity, f"max_signals {value} exceeds {MAX_SIGNALS_LIMIT}")


class IndexOrDataView(Check):
    id = "elastic.index-or-data-view"
    description = "Every query-language rule (not ES|QL, ML or indicator match) names an index or a data_view_id."
    reference = f"{ALL_RULES} (TestValidRules.test_index_or_data_view_id_present)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            if rule.type in ("machine_learning", "threat_match", "esql") or rule.language == "esql":
                continue
            if not rule.rule.get("index") and not rule.rule.get("data_view_id"):
                yield problem(rule.source, "rule.type", self.id, self.severity, "the rule names neither index nor data_view_id: Kibana would search its default index patterns")


class TagHygiene(Check):
    id = "elastic.tags"
    description = "Tags are not repeated, and tags of Elastic's vocabulary are written in its casing ('Domain: Cloud')."
    reference = f"{ALL_RULES} (TestRuleTags.test_casing_and_spacing, test_no_duplicate_tags)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        expected = {tag.casefold(): tag for tag in conventions()["tags"]}
        for rule in active_rules(ctx):
            seen: set[str] = set()
            for tag in rule.tags:
                if tag in seen:
                    yield problem(rule.source, "rule.tags", self.id, self.severity, f"tag {tag!r} appears twice")
                seen.add(tag)
                want = expected.get(tag.casefold())
                if want is not None and want != tag:
                    yield problem(rule.source, "rule.tags", self.id, self.severity, f"tag {tag!r} is written {want!r} in Elastic's vocabulary")


class Timeline(Check):
    id = "elastic.timeline"
    description = "timeline_id and timeline_title come together and name one of Kibana's prebuilt timeline templates."
    reference = f"{ALL_RULES} (TestRuleTimelines.test_timeline_has_title)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        templates: dict[str, str] = conventions()["timeline_templates"]
        for rule in active_rules(ctx):
            tid, title = rule.rule.get("timeline_id"), rule.rule.get("timeline_title")
            if tid is None and title is None:
                continue
            if tid is None or title is None:
                yield problem(rule.source, "rule.timeline_id" if tid is not None else "rule.timeline_title", self.id, self.severity, "timeline_id and timeline_title must both be set")
            elif tid not in templates:
                yield problem(rule.source, "rule.timeline_id", self.id, self.severity, f"timeline_id {tid!r} is not a prebuilt timeline template")
            elif templates[tid] != title:
                yield problem(rule.source, "rule.timeline_title", self.id, self.severity, f"timeline {tid} is titled {templates[tid]!r}, not {title!r}")


_PLUGIN = re.compile(r"!\{(osquery|investigate)", re.IGNORECASE)


class NotePlugins(Check):
    id = "elastic.note-plugins"
    description = "Investigation guides do not inline Osquery/Investigate plugin markup (Elastic builds it from the rule's transform)."
    reference = f"{ALL_RULES} (TestNoteMarkdownPlugins.test_if_plugins_explicitly_defined)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            if rule.note and _PLUGIN.search(rule.note):
                yield problem(rule.source, "rule.note", self.id, self.severity, "note inlines '!{osquery' or '!{investigate' markup; define it under [transform] instead")


class BuildingBlockSchedule(Check):
    id = "elastic.building-block-schedule"
    description = "A building-block rule runs at most hourly (interval >= 60m) and looks back at least 119 minutes, unless [metadata] bypass_bbr_timing = true."
    reference = f"{RULE_PY} (DataValidator.validate_bbr)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            if not rule.rule.get("building_block_type") or rule.metadata.get("bypass_bbr_timing") is True:
                continue
            every = rule_interval_seconds(rule.rule.get("interval", ""))
            back = rule_from_seconds(rule.rule.get("from", ""))
            if every is None or back is None or every < 3600 or back < 119 * 60:
                yield problem(
                    rule.source,
                    "rule.building_block_type",
                    self.id,
                    self.severity,
                    "a building-block rule needs interval of 60m or more and from of now-119m or earlier, both written in the rule",
                )


CONVENTION_CHECKS: tuple[type[Check], ...] = (
    TimestampOverride,
    EqlIntervalMaxspan,
    EqlLookbackMaxspan,
    NewTermsShape,
    MaxSignals,
    IndexOrDataView,
    TagHygiene,
    Timeline,
    NotePlugins,
    BuildingBlockSchedule,
)
