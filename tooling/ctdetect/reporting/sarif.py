"""``validate --format sarif``: SARIF 2.1.0 for GitHub code scanning (annotations on pull requests).

One run, tool ``ctdetect``; each check id is a rule (with its description) and each
problem a result with level error/warning/note and a physical location relative to the
repository root (``%SRCROOT%``). Problems without a line point at line 1: GitHub needs a
region to annotate.
"""

from __future__ import annotations

import json
from ctdetect import __version__
from ctdetect.reporting.paths import display_path
from ctdetect.services.validate import ValidationResult

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _descriptions() -> dict[str, str]:
    from ctdetect.validate.checks import ALL_CHECKS

    return {c.id: c.description for c in ALL_CHECKS}


def _references() -> dict[str, str]:
    from ctdetect.validate.checks import ALL_CHECKS

    return {c.id: c.reference.split(" ")[0] for c in ALL_CHECKS if c.reference}


def render_sarif(result: ValidationResult) -> str:
    known = _descriptions()
    links = _references()
    rule_ids = sorted({p.check for p in result.problems})
    rules = [
        {
            "id": rid,
            "name": rid.replace(".", "_").replace("-", "_"),
            "shortDescription": {"text": known.get(rid, _LOAD_CHECKS.get(rid, rid))},
            **({"helpUri": links[rid]} if rid in links else {}),
        }
        for rid in rule_ids
    ]
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = []
    for p in result.problems:
        region: dict[str, int] = {"startLine": p.line or 1}
        if p.column:
            region["startColumn"] = p.column
        results.append(
            {
                "ruleId": p.check,
                "ruleIndex": index[p.check],
                "level": _LEVEL.get(p.severity, "note"),
                "message": {"text": p.message},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": display_path(p.file), "uriBaseId": "%SRCROOT%"}, "region": region}}
                ],
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "ctdetect", "version": __version__, "rules": rules}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: descriptions of problems that loaders (not checks) raise
_LOAD_CHECKS = {
    "load.toml-syntax": "The file is valid TOML.",
    "load.json-syntax": "The file is valid JSON.",
    "load.encoding": "The file is UTF-8 text.",
    "load.unreadable": "The file can be read.",
    "load.not-an-object": "A job or datafeed file holds one JSON object.",
    "load.external-jobs": "external_jobs.toml lists job ids.",
    "load.internal-error": "ctdetect could load the file.",
    "playbook.front-matter": "A playbook starts with YAML front matter naming rule_ids and title.",
    "query.unchecked": "The query's language has a parser in this build.",
    "internal.error": "A check ran to completion.",
}
