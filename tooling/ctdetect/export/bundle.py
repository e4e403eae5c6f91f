"""The ML jobs and datafeeds as a bundle anyone can load without ctdetect.

Two equivalent forms of the same requests (create the ML filters the jobs' custom_rules
name, create job, open it, create datafeed, start it), in dependency order:

- ``requests.json``: a JSON list of ``{"method", "path", "body"}``, for any HTTP tool;
- ``console.txt``: Kibana Dev Tools console syntax (``PUT _ml/...`` then the JSON body),
  to paste into Dev Tools and run.

They are the same requests a first ``ctdetect deploy`` sends, so the bundle and deploy
can never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from ctdetect.content.model import Package
from ctdetect.deploy.planner import plan
from ctdetect.elastic.requests_model import Request


def ml_requests(package: Package) -> list[Request]:
    first = plan(package, None)
    return [r for a in first.actions if a.kind in ("ml_filter", "ml_job", "datafeed") for r in a.requests]


def console_text(requests: list[Request]) -> str:
    """Kibana Dev Tools console syntax: method, path without the leading slash, body."""
    blocks = []
    for request in requests:
        block = f"{request.method} {request.path.lstrip('/')}"
        if request.body is not None:
            block += "\n" + json.dumps(request.body, indent=2)
        blocks.append(block)
    return "\n\n".join(blocks) + "\n"


def requests_json(requests: list[Request]) -> str:
    data: list[dict[str, Any]] = [r.to_dict() for r in requests]
    return json.dumps(data, indent=2) + "\n"
