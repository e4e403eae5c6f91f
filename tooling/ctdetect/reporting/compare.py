"""``replay --compare`` as text (each disagreement with both sides) or JSON."""

from __future__ import annotations

from typing import Any, TextIO

from ctdetect.services.compare import CompareResult


def render_compare(result: CompareResult, out: TextIO) -> None:
    scenarios = len(result.embedded.scenarios)
    if result.agree:
        out.write(f"embedded and elasticsearch agree on all {scenarios} scenario(s): same expectation outcomes, same findings.\n")
    for d in result.disagreements:
        out.write(f"{d.scenario}: {d.kind}: {d.subject}\n    embedded:      {d.embedded}\n    elasticsearch: {d.elasticsearch}\n")
        for example in d.examples:
            out.write(f"      {example}\n")
    problems = [p for s in result.elasticsearch.scenarios for p in s.problems]
    for p in problems[:20]:
        out.write(f"elasticsearch: {p}\n")
    if result.disagreements:
        affected = len({d.scenario for d in result.disagreements})
        out.write(f"{len(result.disagreements)} disagreement(s) in {affected} of {scenarios} scenario(s).\n")


def compare_dict(result: CompareResult) -> dict[str, Any]:
    return {
        "agree": result.agree,
        "scenarios": len(result.embedded.scenarios),
        "disagreements": [d.to_dict() for d in result.disagreements],
        "embedded": result.embedded.summary(),
        "elasticsearch": result.elasticsearch.summary(),
        "elasticsearch_problems": [p for s in result.elasticsearch.scenarios for p in s.problems],
    }
