"""Before changing anything: is this a stack and a licence the package can run on?

- Elasticsearch and Kibana 8.12 or later in the 8 line, or any 9.x: the detection engine
  fields the rules use (``investigation_fields``, new-terms and alert suppression
  behaviour) and the ML APIs bodies match those versions.
- Anomaly detection needs a Platinum or Enterprise subscription, or a trial, and the
  licence must be active. Only checked when the package has ML jobs or ML rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.elastic.requests_model import Request

ML_LICENCES = frozenset({"platinum", "enterprise", "trial"})
MIN_8 = (8, 12)
# First Kibana whose ``query`` saved-object type has model version 2 (``titleKeyword``, the
# sort key). ASSUMPTION: 8.14; the schema is in Kibana's source, the release it shipped in
# was not confirmed here. Older: saved queries are written without it.
SORT_TITLE_SINCE = (8, 14)


@dataclass(slots=True)
class Preflight:
    es_version: str = ""
    kibana_version: str = ""
    licence: str = ""
    licence_status: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def saved_query_sort_title(self) -> bool:
        """Write ``titleKeyword`` on saved queries (unknown Kibana version: assume a recent one)."""
        version = parse_version(self.kibana_version)
        return version is None or version[:2] >= SORT_TITLE_SINCE


def parse_version(text: str) -> tuple[int, int, int] | None:
    core = text.split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    try:
        nums = [int(p) for p in parts[:3]]
    except ValueError:
        return None
    while len(nums) < 3:
        nums.append(0)
    return nums[0], nums[1], nums[2]


def version_problem(product: str, text: str) -> str | None:
    """Why ``text`` is not a supported version of ``product``, or None."""
    version = parse_version(text)
    if version is None:
        return f"{product} reports an unreadable version {text!r}"
    if version[0] == 9 or (version[0] == 8 and version[:2] >= MIN_8):
        return None
    return f"{product} {text} is not supported: ctdetect needs 8.12 or later in the 8.x line, or 9.x"


def licence_problem(licence: str, status: str) -> str | None:
    if licence not in ML_LICENCES:
        return (
            f"the cluster's licence is {licence or 'unknown'!r}; anomaly detection (the package's ML jobs and "
            "machine_learning rules) needs platinum, enterprise or trial: start a trial "
            "(POST /_license/start_trial?acknowledge=true) or upgrade"
        )
    if status and status != "active":
        return f"the cluster's {licence} licence is {status!r}, not active: anomaly detection will not run"
    return None


PROBE_TIMEOUT = 15.0  # seconds the first answer of each server may take (less when the deadline is nearer)


def check(cluster: Cluster, needs_ml: bool) -> Preflight:
    """Read versions and licence; the result lists every problem (not only the first).

    The first request to each server is tried once with a short timeout: a cluster that is
    unreachable, accepts connections without answering, or is not Elasticsearch / Kibana
    fails here in seconds, with the URL and the variable to fix, before anything else."""
    result = Preflight()
    try:
        info: Any = cluster.send(Request("GET", "/"), timeout=PROBE_TIMEOUT, retry=False).body or {}
    except ClusterError as exc:
        if exc.status != 400:
            raise
        # servers before 8.0 do not speak REST compatibility with 8
        result.problems.append(f"Elasticsearch refused an 8.x-compatible request ({exc}): ctdetect needs 8.12 or later in the 8.x line, or 9.x")
        return result
    result.es_version = str((info.get("version") or {}).get("number", "")) if isinstance(info, dict) else ""
    problem = version_problem("Elasticsearch", result.es_version)
    if problem:
        result.problems.append(problem)
    status: Any = cluster.send(Request("GET", "/api/status"), timeout=PROBE_TIMEOUT, retry=False).body or {}
    version = status.get("version") if isinstance(status, dict) else None
    result.kibana_version = str(version.get("number", "")) if isinstance(version, dict) else ""
    if not result.kibana_version:
        # Kibana answers users without the cluster ``monitor`` privilege with the overall
        # level only (no version): not a reason to refuse, but nothing to check either
        result.notes.append("Kibana did not report its version (the credentials lack the monitor privilege); assumed to match Elasticsearch")
        result.kibana_version = "unknown"
    else:
        problem = version_problem("Kibana", result.kibana_version)
        if problem:
            result.problems.append(problem)
    es_v, kb_v = parse_version(result.es_version), parse_version(result.kibana_version)
    if es_v and kb_v and es_v[:2] != kb_v[:2]:
        result.problems.append(
            f"Kibana {result.kibana_version} and Elasticsearch {result.es_version} differ: Kibana must run the same version "
            "as the Elasticsearch it is connected to (is KIBANA_URL the right Kibana?)"
        )
    if needs_ml:
        lic: Any = cluster.send(Request("GET", "/_license")).body or {}
        licence = lic.get("license", {}) if isinstance(lic, dict) else {}
        result.licence = str(licence.get("type", ""))
        result.licence_status = str(licence.get("status", ""))
        problem = licence_problem(result.licence, result.licence_status)
        if problem:
            result.problems.append(problem)
    return result
