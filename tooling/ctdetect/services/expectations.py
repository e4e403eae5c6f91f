"""Checking a scenario's expectations against findings.

An expectation names a rule (by rule_id or name) or a job (by job_id) and says it must
fire (``fires = true``: at least ``min_count``, default 1, and at most ``max_count``
findings) or stay silent (``fires = false``: none). Only findings that carry every
``entity`` field value, lie within ``after``/``before`` and score at least ``min_score``
count. Entity values match exactly (a list-valued field matches when it holds the value,
as a term query on an array does); numbers and their string forms are equal.
An expectation with ``waits_for`` is reported as ``waiting`` (what it waits for is named),
never as a failure, and its would-be result is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctdetect.content.model import Expectation
from ctdetect.findings import Finding
from ctdetect.timeutil import BadTimestamp, parse_datetime

MET, UNMET, WAITING = "met", "unmet", "waiting"


@dataclass(slots=True)
class Outcome:
    expectation: Expectation
    status: str  # met | unmet | waiting
    count: int
    detail: str
    # what people call the target: the rule's name (an expectation may hold its UUID) or the job_id
    label: str = ""

    @property
    def target(self) -> str:
        e = self.expectation
        return f"rule {self.label or e.rule}" if e.rule else f"job {self.label or e.job}"


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _instead(e: Expectation, others: list[Finding]) -> str:
    """What the target did fire on when none of its findings matched the expectation:
    the entity values it fired for (most frequent first), else why they did not count."""
    if not others:
        return ""
    n = plural(len(others), "time")
    if e.entity:
        parts = []
        for key in e.entity:
            counts: dict[str, int] = {}
            for f in others:
                value = f.get(key)
                text = ",".join(str(v) for v in value) if isinstance(value, list) else ("(none)" if value is None else str(value))
                counts[text] = counts.get(text, 0) + 1
            shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            values = ", ".join(f"{v} ({c})" for v, c in shown[:3]) + (f", ... {len(shown) - 3} more" if len(shown) > 3 else "")
            parts.append(f"{key}={values}")
        return f"; it fired {n} for other entities: {'; '.join(parts)}"
    reasons = []
    if e.min_score is not None:
        reasons.append(f"best score {max(f.score for f in others):.1f} < {e.min_score:g}")
    if e.after or e.before:
        first, last = min(f.timestamp for f in others), max(f.timestamp for f in others)
        reasons.append(f"between {first:%Y-%m-%dT%H:%M:%SZ} and {last:%Y-%m-%dT%H:%M:%SZ}, outside after/before")
    return f"; it fired {n} that did not count ({', '.join(reasons) or 'filtered out'})"


def _parse_time(text: str | None) -> datetime | None:
    """``after``/``before`` of an expectation (the scenario validator reports bad ones)."""
    if not text:
        return None
    try:
        return parse_datetime(str(text))
    except BadTimestamp:
        return None


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        if isinstance(wanted, list):
            return [str(a) for a in actual] == [str(w) for w in wanted]
        return any(_same(a, wanted) for a in actual)
    if actual is None:
        return False
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return actual == wanted
    return actual == wanted or str(actual) == str(wanted)


def _is_target(f: Finding, e: Expectation) -> bool:
    if e.rule is not None:
        return f.kind == "alert" and (f.source_id == e.rule or f.name == e.rule)
    return f.kind == "anomaly" and f.source_id == e.job


def matching(findings: list[Finding], e: Expectation) -> list[Finding]:
    after, before = _parse_time(e.after), _parse_time(e.before)
    out = []
    for f in findings:
        if not _is_target(f, e):
            continue
        if after is not None and f.timestamp < after:
            continue
        if before is not None and f.timestamp > before:
            continue
        if e.min_score is not None and f.score < e.min_score:
            continue
        if any(not _same(f.get(k), v) for k, v in e.entity.items()):
            continue
        out.append(f)
    return out


def check(e: Expectation, findings: list[Finding], known: set[str], not_run: dict[str, str], label: str = "") -> Outcome:
    """The outcome of one expectation. ``known``: rule ids, rule names and job ids of the
    content that ran; ``not_run``: rule/job -> why it could not run; ``label``: the
    target's name, for reports. An unmet "fires" expectation whose target did fire, on
    other entities or outside the time or score asked, says so."""
    target = e.rule if e.rule is not None else e.job
    if target is None:
        return Outcome(e, UNMET, 0, "names neither a rule nor a job")
    if target in not_run:
        result = Outcome(e, UNMET, 0, f"not evaluated: {not_run[target]}")
    elif target not in known:
        result = Outcome(e, UNMET, 0, f"{'rule' if e.rule else 'job'} {target!r} is not in the package")
    else:
        found = matching(findings, e)
        n = len(found)
        best = max((f.score for f in found), default=None)
        score = f", best score {best:.1f}" if best is not None else ""
        if e.fires:
            low = e.min_count if e.min_count is not None else 1
            ok = n >= low and (e.max_count is None or n <= e.max_count)
            bound = f">= {low}" + (f" and <= {e.max_count}" if e.max_count is not None else "")
            detail = f"{plural(n, 'finding')}{score}; expected {bound}"
            if not ok and n == 0:
                detail += _instead(e, [f for f in findings if _is_target(f, e)])
        else:
            ok = n == 0
            detail = f"{plural(n, 'finding')}{score}; expected none"
            if not ok and found:
                first = found[0]
                detail += f" (first at {first.timestamp:%Y-%m-%dT%H:%M:%SZ})"
        result = Outcome(e, MET if ok else UNMET, n, detail)
    if e.waits_for:
        return Outcome(e, WAITING, result.count, f"waits for {e.waits_for}; now {result.status}: {result.detail}", label)
    result.label = label
    return result
