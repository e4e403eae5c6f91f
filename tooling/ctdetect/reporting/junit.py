"""The one JUnit XML writer, and the two results it writes: validation and replay.

CI systems (GitLab, Jenkins, Azure) show JUnit XML natively. ``write_junit`` turns suites
of cases into the document and counts tests, failures and skips itself, so the totals can
never disagree with the cases. The adapters say what a suite and a case are:

- validate: one suite per file, one case per problem. Errors are ``<failure>``; warnings
  and notes are passing cases with ``<system-out>`` text so they stay visible without
  failing the build. A file with no problem gets one passing case.
- replay: one suite per scenario, one case per expectation (unmet: ``<failure>``;
  waiting: ``<skipped>``), plus a failing case for a scenario that reads no events or
  whose ``[[synth]]`` baseline fails, and a suite for scenario files that did not load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from xml.etree import ElementTree as ET

from ctdetect.reporting.paths import display_path
from ctdetect.services.replay import ReplayResult
from ctdetect.services.validate import ValidationResult


@dataclass(slots=True)
class JUnitCase:
    """One ``<testcase>``: passing unless it has a failure or is skipped."""

    name: str
    classname: str
    failure: str | None = None  # the failure's message attribute
    failure_text: str | None = None  # the failure's body (default: the message)
    failure_type: str | None = None
    skipped: str | None = None  # the skip's message
    output: str | None = None  # <system-out> text


@dataclass(slots=True)
class JUnitSuite:
    name: str
    cases: list[JUnitCase] = field(default_factory=list)
    file: str | None = None


def write_junit(title: str, suites: list[JUnitSuite]) -> str:
    """The JUnit XML document of ``suites`` under ``<testsuites name=title>``, indented."""
    root = ET.Element("testsuites", name=title)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        attrs = {"name": suite.name} | ({"file": suite.file} if suite.file else {})
        node = ET.SubElement(root, "testsuite", attrs)
        counts = {
            "tests": len(suite.cases),
            "failures": sum(c.failure is not None for c in suite.cases),
            "errors": 0,
            "skipped": sum(c.skipped is not None and c.failure is None for c in suite.cases),
        }
        for key, value in counts.items():
            node.set(key, str(value))
            totals[key] += value
        for case in suite.cases:
            element = ET.SubElement(node, "testcase", classname=case.classname, name=case.name)
            if case.failure is not None:
                failure = ET.SubElement(element, "failure", {"message": case.failure} | ({"type": case.failure_type} if case.failure_type else {}))
                failure.text = case.failure_text if case.failure_text is not None else case.failure
            elif case.skipped is not None:
                ET.SubElement(element, "skipped", message=case.skipped)
            if case.output is not None:
                ET.SubElement(element, "system-out").text = case.output
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def validation_junit(result: ValidationResult) -> str:
    """``validate --format junit``: a suite per file, a case per problem."""
    by_file = {file: list(group) for file, group in groupby(result.problems, key=lambda p: display_path(p.file))}
    suites = []
    for file in sorted({display_path(f) for f in result.files} | set(by_file)):
        suite = JUnitSuite(file)
        for p in by_file.get(file, []):
            case = JUnitCase(f"{p.check} (line {p.line or '-'})", file)
            if p.severity == "error":
                case.failure, case.failure_type = p.message, p.check
                case.failure_text = f"{file}:{p.line or ''}:{p.column or ''}: {p.message}"
            else:
                case.output = f"{p.severity}: {file}:{p.line or ''}: {p.message}"
            suite.cases.append(case)
        if not suite.cases:
            suite.cases.append(JUnitCase("valid", file))
        suites.append(suite)
    return write_junit("ctdetect validate", suites)


def replay_junit(result: ReplayResult) -> str:
    """``replay --format junit``: a suite per scenario, a case per expectation."""
    suites = []
    if result.scenario_errors:
        suites.append(JUnitSuite("scenario files", [JUnitCase(e.split(": ", 1)[0], "scenario files", failure=e) for e in result.scenario_errors]))
    for s in result.scenarios:
        name = s.scenario.name
        suite = JUnitSuite(name, file=str(s.scenario.source.path))
        if s.zero_events:
            suite.cases.append(JUnitCase("reads events", name, failure="scenario reads zero events", failure_text="A scenario that reads zero events fails."))
        for error in s.errors:
            suite.cases.append(JUnitCase("generates its [[synth]] baseline", name, failure=error))
        for o in s.outcomes:
            e = o.expectation
            label = f"[{e.index}] {'fires' if e.fires else 'silent'}: {e.rule or e.job}"
            if e.entity:
                label += " " + " ".join(f"{k}={v}" for k, v in e.entity.items())
            case = JUnitCase(label, name)
            if o.status == "unmet":
                case.failure, case.failure_text = o.detail, e.description or o.detail
            elif o.status == "waiting":
                case.skipped = o.detail
            suite.cases.append(case)
        suites.append(suite)
    return write_junit("ctdetect replay", suites)
