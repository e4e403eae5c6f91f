"""``--format junit``: one test suite per file, one failing test case per problem.

CI systems (GitLab, Jenkins, Azure) show JUnit XML natively. Errors are ``<failure>``;
warnings and notes are passing cases with ``<system-out>`` text so they stay visible
without failing the build. A file with no problem gets one passing case.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any
from xml.etree import ElementTree as ET

from ctdetect.validate.reporters.common import display_path


def render(result: Any) -> str:
    problems = list(result.problems)
    suites = ET.Element("testsuites", name="ctdetect validate", tests=str(len(problems)), failures=str(sum(p.severity == "error" for p in problems)))
    files = [display_path(f) for f in getattr(result, "files", [])]
    by_file = {file: list(group) for file, group in groupby(problems, key=lambda p: display_path(p.file))}
    for file in sorted(set(files) | set(by_file)):
        group = by_file.get(file, [])
        failures = sum(p.severity == "error" for p in group)
        suite = ET.SubElement(suites, "testsuite", name=file, tests=str(max(1, len(group))), failures=str(failures), errors="0", skipped="0")
        if not group:
            ET.SubElement(suite, "testcase", classname=file, name="valid")
            continue
        for p in group:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{p.check} (line {p.line or '-'})")
            if p.severity == "error":
                failure = ET.SubElement(case, "failure", message=p.message, type=p.check)
                failure.text = f"{file}:{p.line or ''}:{p.column or ''}: {p.message}"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{p.severity}: {file}:{p.line or ''}: {p.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
