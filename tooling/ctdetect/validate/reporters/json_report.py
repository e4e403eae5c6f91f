"""``--format json``: ``{"problems": [{file, line, column, check, severity, message}], "summary": {...}}``."""

from __future__ import annotations

import json
from typing import Any

from ctdetect.validate.reporters.common import problem_dict


def render(result: Any) -> str:
    doc = {"problems": [problem_dict(p) for p in result.problems], "summary": result.summary}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
