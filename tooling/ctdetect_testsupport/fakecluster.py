"""A small in-memory Elasticsearch + Kibana that answers as their APIs are documented.

It is not a mock of ctdetect's functions: ctdetect talks to it over real HTTP, through the
official ``elasticsearch`` client and ``requests``, exactly as it talks to a cluster. It
keeps state (jobs, datafeeds, rules per space, saved queries per space, indices and
documents), enforces what the real APIs enforce and ctdetect relies on (authentication,
``kbn-xsrf`` on Kibana writes, 409 on duplicates, 404 on missing objects, only updatable
job fields in ``_update``, a datafeed needs its job, a started datafeed needs an opened
job, a job with a datafeed cannot be deleted), adds the defaults Elastic adds to what it
stores, and records every request. Faults (429/503 with ``Retry-After``, permanent 500s)
are injected per method + path pattern.

Each behaviour follows Elastic's public source or docs, named where it is implemented
(``SOURCES`` lists them all), so the fake is checked against Elastic, not against ctdetect:

- Elasticsearch answers with ``X-Elastic-Product: Elasticsearch`` (the official clients
  refuse a server without it: elasticsearch-py ``_verify_elasticsearch`` / the "product
  check" of elastic-transport); Kibana answers with ``kbn-name`` (Kibana's HTTP server sets
  it on every response; WhatWeb's and others' fingerprints rely on it).
- Rules live per Kibana space; ``POST`` on an existing rule_id is 409; ``PUT`` replaces the
  whole rule (fields not sent return to their defaults: ``enabled`` true, empty
  ``exceptions_list`` and ``actions``), ``PATCH`` merges the fields sent into the stored rule
  (Kibana detection engine API docs: "Update a detection rule" vs "Patch a detection rule",
  ``PUT``/``PATCH /api/detection_engine/rules``).
- ML jobs and datafeeds are cluster-wide (ES ``_ml`` APIs take no space). ``_update`` of a
  job accepts only the documented updatable settings, and refuses ``analysis_limits`` while
  the job is open (ES "Update anomaly detection jobs API": the memory limit changes only on a
  closed job). A job used by a datafeed cannot be deleted without ``force``.
- Saved queries are saved objects of type ``query``, ``namespaceType: 'multiple-isolated'``
  since 8.0 (Kibana's ``querySavedObjectType``): an id is unique across all spaces, so
  creating an id that exists in another space is a 409 conflict.
- Discover sessions are saved objects of type ``search``, also ``multiple-isolated`` (Kibana's
  saved_search plugin, ``server/saved_objects/search.ts``). Their create schema from model
  version 13 (``server/saved_objects/schema.ts``, ``SCHEMA_DISCOVER_SESSION_V13``..``V15``) is
  closed: ``title``, ``description`` and ``tabs`` (1 to 25 tabs of ``{id, label, attributes}``,
  each tab's attributes needing ``kibanaSavedObjectMeta.searchSourceJSON``); anything else is a 400.
- Spaces are listed by ``GET /api/spaces/space`` (Kibana spaces API), as an array.
- Rules ``_find`` takes a KQL ``filter`` over saved-object attributes (``alert.attributes.tags``,
  ``alert.attributes.params.ruleId``, ``alert.attributes.params.type``); quoted values
  unescape ``\\"`` and ``\\\\`` as KQL does.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request as WRequest
from werkzeug.wrappers import Response as WResponse

SOURCES = {
    "product header": "elasticsearch-py / elastic-transport product check (X-Elastic-Product)",
    "rules per space, PUT/PATCH": "Kibana detection engine API: PUT and PATCH /api/detection_engine/rules",
    "saved query ids global": "Kibana querySavedObjectType: namespaceType 'multiple-isolated'",
    "job _update": "Elasticsearch docs: Update anomaly detection jobs API",
    "spaces": "Kibana spaces API: GET /api/spaces/space",
    "discover session shape": "Kibana saved_search plugin: server/saved_objects/search.ts (type 'search', multiple-isolated) and schema.ts (SCHEMA_DISCOVER_SESSION_V13..V15)",
}
MULTIPLE_ISOLATED = {"query", "search"}  # saved-object types whose ids are unique across spaces

JOB_UPDATABLE = {
    "allow_lazy_open", "analysis_limits", "background_persist_interval", "custom_settings",
    "daily_model_snapshot_retention_after_days", "description", "groups", "model_plot_config",
    "model_prune_window", "model_snapshot_retention_days", "renormalization_window_days",
    "results_retention_days", "detectors", "per_partition_categorization", "categorization_filters",
}


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in test output; keep-alive connections (as Elastic's servers)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Fault:
    method: str
    path_regex: str
    status: int
    times: int  # -1: forever
    retry_after: str | None = None
    hits: int = 0
    after: bool = False  # apply the request first, then answer with ``status`` (the write happened)
    hang: float = 0.0  # seconds to wait before answering (a server that accepts and stalls)


@dataclass
class Seen:
    service: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeState:
    es_version: str = "9.1.0"
    kibana_version: str = "9.1.0"
    licence: str = "trial"
    licence_status: str = "active"
    jobs: dict[str, dict] = field(default_factory=dict)
    job_states: dict[str, str] = field(default_factory=dict)
    datafeeds: dict[str, dict] = field(default_factory=dict)
    filters: dict[str, dict] = field(default_factory=dict)  # ML filters (``_ml/filters``)
    datafeed_states: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, dict]] = field(default_factory=dict)  # space -> rule_id -> rule
    saved_objects: dict[str, dict[tuple[str, str], dict]] = field(default_factory=dict)  # space -> (type, id) -> object
    indices: dict[str, dict] = field(default_factory=dict)  # name -> {"mappings":..., "docs": [...]}
    pipelines: dict[str, dict] = field(default_factory=dict)


def _json(status: int, body: Any, es: bool, headers: dict[str, str] | None = None) -> WResponse:
    resp = WResponse(json.dumps(body), status=status, content_type="application/json")
    if es:
        resp.headers["X-Elastic-Product"] = "Elasticsearch"
    else:
        resp.headers["kbn-name"] = "fake-kibana"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def es_error(status: int, etype: str, reason: str) -> tuple[int, Any]:
    return status, {"error": {"root_cause": [{"type": etype, "reason": reason}], "type": etype, "reason": reason}, "status": status}


def kbn_error(status: int, message: str) -> tuple[int, Any]:
    names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}
    return status, {"statusCode": status, "error": names.get(status, "Error"), "message": message}


class FakeElastic:
    """Two HTTP servers (Elasticsearch, Kibana) over one shared ``FakeState``."""

    def __init__(self, username: str = "elastic", password: str = "s3cret-Pa55word", api_key: str | None = None) -> None:
        self.state = FakeState()
        self.username = username
        self.password = password
        self.api_key = api_key
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.echo_auth_in_errors = False  # a hostile server that echoes the Authorization header in 401 bodies
        # What runs "inside" the fake: ml_engine(job, datafeed, docs, start_ms, end_ms) -> record dicts;
        # rule_engine(preview_body, docs) -> alert documents. None: no results (as an empty index gives).
        self.ml_engine: Any = None
        self.rule_engine: Any = None
        self.stats_polls_before_stop = 1  # datafeed _stats answers "started" this many times after a lookback
        # pipeline_engine(pipeline name, source) -> document: stands in for an installed ingest pipeline
        self.pipeline_engine: Any = None
        self.component_templates: dict[str, dict] = {}
        self._servers: list[Any] = []
        self._pending_stop: dict[str, int] = {}
        self._after_fault: Fault | None = None
        self.spaces: set[str] = {"default"}
        self._lock = threading.Lock()
        self.es_url = self._serve(self._es_app)
        self.kibana_url = self._serve(self._kibana_app)

    # ------------------------------------------------------------------ plumbing

    def _serve(self, app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self._servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def env(self) -> dict[str, str]:
        """The environment ctdetect reads to reach this cluster."""
        env = {"ELASTICSEARCH_URL": self.es_url, "KIBANA_URL": self.kibana_url}
        if self.api_key:
            env["ELASTIC_API_KEY"] = self.api_key
        else:
            env["ELASTIC_USERNAME"] = self.username
            env["ELASTIC_PASSWORD"] = self.password
        return env

    def fail(self, method: str, path_regex: str, status: int, times: int = 1, retry_after: str | None = None, after: bool = False, hang: float = 0.0) -> Fault:
        """Answer ``status`` to matching requests ``times`` times (-1: always); ``after``: the
        request is applied first (a write that succeeded but whose answer was lost)."""
        fault = Fault(method, path_regex, status, times, retry_after, after=after, hang=hang)
        self.faults.append(fault)
        return fault

    def writes(self, service: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.method != "GET" and (service is None or s.service == service) and not s.path.endswith("/_search")]

    def _authorised(self, req: WRequest) -> bool:
        header = req.headers.get("Authorization", "")
        if self.api_key:
            return header == f"ApiKey {self.api_key}"
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def _fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in (method, "*") and re.search(fault.path_regex, path) and (fault.times < 0 or fault.hits < fault.times):
                fault.hits += 1
                return fault
        return None

    def _prelude(self, req: WRequest, service: str) -> tuple[str, dict[str, str], Any, WResponse | None]:
        path = unquote(req.path)
        query = {k: v for k, v in req.args.items()}
        raw = req.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.seen.append(Seen(service, req.method, path, query, body, dict(req.headers)))
        es = service == "es"
        if not self._authorised(req):
            detail = "unable to authenticate user"
            if self.echo_auth_in_errors:
                detail += f" (header was {req.headers.get('Authorization', '')})"
            status, err = es_error(401, "security_exception", detail) if es else kbn_error(401, detail)
            return path, query, body, _json(status, err, es, {"WWW-Authenticate": "Basic"})
        fault = self._fault(req.method, path)
        if fault is not None and fault.hang:
            import time

            time.sleep(fault.hang)
        if fault is not None and fault.after:
            self._after_fault = fault
        elif fault is not None and fault.status:  # status 0: only the delay
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            status, err = es_error(fault.status, "injected", "injected fault") if es else kbn_error(fault.status, "injected fault")
            return path, query, body, _json(status, err, es, headers)
        return path, query, body, None

    def _answer(self, status: int, payload: Any, es: bool) -> WResponse:
        """The response, unless an ``after`` fault replaces it (the work above was done)."""
        fault, self._after_fault = self._after_fault, None
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            status, payload = es_error(fault.status, "injected", "injected fault after the change was applied") if es else kbn_error(fault.status, "injected fault")
            return _json(status, payload, es, headers)
        return _json(status, payload, es)

    # ------------------------------------------------------------------ Elasticsearch

    def _es_app(self, environ: Any, start_response: Any) -> Any:
        req = WRequest(environ)
        path, query, body, early = self._prelude(req, "es")
        if early is None:
            accept = req.headers.get("Accept", "")
            m = re.search(r"compatible-with=(\d+)", accept)
            major = int(self.state.es_version.split(".")[0])
            if m and int(m.group(1)) not in (major, major - 1):
                status, payload = es_error(400, "media_type_header_exception", f"Accept version must be either version {major} or {major - 1}, but found {m.group(1)}")
            else:
                with self._lock:
                    status, payload = self._es_route(req.method, path, query, body)
            early = self._answer(status, payload, True)
        return early(environ, start_response)

    def _es_route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        s = self.state
        if path == "/" and method == "GET":
            return 200, {"name": "fake", "cluster_name": "fake", "version": {"number": s.es_version}, "tagline": "You Know, for Search"}
        if path == "/_license" and method == "GET":
            return 200, {"license": {"type": s.licence, "status": s.licence_status, "uid": "x"}}
        m = re.fullmatch(r"/_ml/anomaly_detectors/([^/]+)(/_stats|/_open|/_close|/_update)?", path)
        if m:
            return self._ml_job(method, m.group(1), m.group(2) or "", query, body)
        m = re.fullmatch(r"/_ml/datafeeds/([^/]+)(/_stats|/_start|/_stop|/_update)?", path)
        if m:
            return self._ml_feed(method, m.group(1), m.group(2) or "", query, body)
        m = re.fullmatch(r"/_ml/filters(?:/([^/]+))?(/_update)?", path)
        if m:
            return self._ml_filter(method, m.group(1), m.group(2) or "", body)
        return self._es_data(method, path, query, body)

    def _ml_filter(self, method: str, filter_id: str | None, action: str, body: Any) -> tuple[int, Any]:
        """ML filters as Elasticsearch keeps them: put (an id once), get (one or all), ``_update``
        (description, add_items, remove_items), delete (not while a job uses it); items kept
        sorted and unique."""
        s = self.state
        if method == "GET":
            ids = sorted(s.filters) if filter_id is None else [filter_id] if filter_id in s.filters else []
            if filter_id is not None and not ids:
                return es_error(404, "resource_not_found_exception", f"Filter with id [{filter_id}] not found")
            return 200, {"count": len(ids), "filters": [copy.deepcopy(s.filters[i]) for i in ids]}
        if filter_id is None:
            return es_error(405, "illegal_argument_exception", "method not allowed")
        if method == "PUT" and not action:
            if filter_id in s.filters:
                return es_error(400, "resource_already_exists_exception", f"A filter with id [{filter_id}] already exists")
            body = body if isinstance(body, dict) else {}
            flt = {"filter_id": filter_id, "description": body.get("description", ""), "items": sorted(set(body.get("items", [])))}
            s.filters[filter_id] = flt
            return 200, copy.deepcopy(flt)
        if method == "DELETE" and not action:
            if filter_id not in s.filters:
                return es_error(404, "resource_not_found_exception", f"No filter with id [{filter_id}] exists")
            users = sorted(j for j, job in s.jobs.items() if f'"filter_id": "{filter_id}"' in json.dumps(job))
            if users:
                return es_error(400, "illegal_argument_exception", f"Cannot delete filter [{filter_id}] currently used by jobs {users}")
            del s.filters[filter_id]
            return 200, {"acknowledged": True}
        if method == "POST" and action == "/_update":
            flt = s.filters.get(filter_id)
            if flt is None:
                return es_error(404, "resource_not_found_exception", f"No filter with id [{filter_id}] exists")
            body = body if isinstance(body, dict) else {}
            if "description" in body:
                flt["description"] = body["description"]
            items = (set(flt["items"]) | set(body.get("add_items", []))) - set(body.get("remove_items", []))
            flt["items"] = sorted(items)
            return 200, copy.deepcopy(flt)
        return es_error(405, "illegal_argument_exception", "method not allowed")

    def _match_ids(self, pattern: str, ids: list[str]) -> list[str]:
        if pattern in ("_all", "*"):
            return sorted(ids)
        found: list[str] = []
        for part in pattern.split(","):
            found.extend(i for i in sorted(ids) if fnmatch.fnmatchcase(i, part))
        return found

    def _ml_job(self, method: str, job_id: str, action: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        s = self.state
        if method == "GET":
            ids = self._match_ids(job_id, list(s.jobs))
            if not ids and "*" not in job_id and job_id != "_all":
                return es_error(404, "resource_not_found_exception", f"No known job with id '{job_id}'")
            if action == "/_stats":
                return 200, {"count": len(ids), "jobs": [{"job_id": i, "state": s.job_states[i]} for i in ids]}
            return 200, {"count": len(ids), "jobs": [copy.deepcopy(s.jobs[i]) for i in ids]}
        if method == "PUT" and not action:
            if job_id in s.jobs:
                return es_error(400, "resource_already_exists_exception", f"The job cannot be created with the Id '{job_id}'. The Id is already used.")
            if not isinstance(body, dict) or "analysis_config" not in body or "data_description" not in body:
                return es_error(400, "x_content_parse_exception", "analysis_config and data_description are required")
            for det in body["analysis_config"].get("detectors", []):
                for rule in det.get("custom_rules", []) if isinstance(det, dict) else []:
                    for ref in (rule.get("scope") or {}).values() if isinstance(rule, dict) else []:
                        if isinstance(ref, dict) and ref.get("filter_id") not in s.filters:
                            return es_error(404, "resource_not_found_exception", f"No filter with id [{ref.get('filter_id')}] exists")
            job = copy.deepcopy(body)
            job["job_id"] = job_id
            job.setdefault("job_type", "anomaly_detector")
            job["job_version"] = s.es_version
            job["create_time"] = 1700000000000
            job.setdefault("model_snapshot_retention_days", 10)
            job.setdefault("results_index_name", "shared")
            job.setdefault("allow_lazy_open", False)
            for i, det in enumerate(job["analysis_config"].get("detectors", [])):
                det.setdefault("detector_index", i)
            job["analysis_limits"] = {"model_memory_limit": "1024mb", "categorization_examples_limit": 4, **job.get("analysis_limits", {})}
            s.jobs[job_id] = job
            s.job_states[job_id] = "closed"
            return 200, job
        if job_id not in s.jobs:
            return es_error(404, "resource_not_found_exception", f"No known job with id '{job_id}'")
        if method == "DELETE":
            if any(f["job_id"] == job_id for f in s.datafeeds.values()):
                return es_error(409, "status_exception", f"Cannot delete job [{job_id}] because the job is used by datafeed")
            if s.job_states[job_id] == "opened" and query.get("force") != "true":
                return es_error(409, "status_exception", "Cannot delete job while it is opened; close it or use force")
            del s.jobs[job_id]
            del s.job_states[job_id]
            return 200, {"acknowledged": True}
        if action == "/_open":
            s.job_states[job_id] = "opened"
            return 200, {"opened": True, "node": "fake"}
        if action == "/_close":
            if any(f["job_id"] == job_id and s.datafeed_states[fid] == "started" for fid, f in s.datafeeds.items()) and query.get("force") != "true":
                return es_error(409, "status_exception", "cannot close job while its datafeed is started")
            s.job_states[job_id] = "closed"
            return 200, {"closed": True}
        if action == "/_update":
            bad = sorted(set(body or {}) - JOB_UPDATABLE)
            if bad:
                return es_error(400, "x_content_parse_exception", f"[job_update] unknown field [{bad[0]}]")
            if "analysis_limits" in (body or {}) and s.job_states[job_id] != "closed":
                return es_error(409, "status_exception", f"Cannot update job [{job_id}] analysis_limits while the job is open")
            for k, v in (body or {}).items():
                if k == "analysis_limits":
                    s.jobs[job_id]["analysis_limits"].update(v)
                else:
                    s.jobs[job_id][k] = copy.deepcopy(v)
            return 200, s.jobs[job_id]
        return es_error(405, "method_not_allowed", f"{method} {action}")

    def _ml_feed(self, method: str, feed_id: str, action: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        s = self.state
        if method == "GET":
            ids = self._match_ids(feed_id, list(s.datafeeds))
            if not ids and "*" not in feed_id and feed_id != "_all":
                return es_error(404, "resource_not_found_exception", f"No datafeed with id [{feed_id}] exists")
            if action == "/_stats":
                for i in ids:
                    pending = self._pending_stop.get(i)
                    if pending is not None:
                        if pending <= 0:
                            s.datafeed_states[i] = "stopped"
                            del self._pending_stop[i]
                        else:
                            self._pending_stop[i] = pending - 1
                return 200, {"count": len(ids), "datafeeds": [{"datafeed_id": i, "state": s.datafeed_states[i]} for i in ids]}
            return 200, {"count": len(ids), "datafeeds": [copy.deepcopy(s.datafeeds[i]) for i in ids]}
        if method == "PUT" and not action:
            if feed_id in s.datafeeds:
                return es_error(400, "resource_already_exists_exception", f"A datafeed with id [{feed_id}] already exists")
            job_id = (body or {}).get("job_id")
            if job_id not in s.jobs:
                return es_error(404, "resource_not_found_exception", f"No known job with id '{job_id}'")
            feed = copy.deepcopy(body)
            feed["datafeed_id"] = feed_id
            feed.setdefault("query_delay", "83476ms")
            feed.setdefault("scroll_size", 1000)
            feed.setdefault("chunking_config", {"mode": "auto"})
            feed.setdefault("delayed_data_check_config", {"enabled": True})
            s.datafeeds[feed_id] = feed
            s.datafeed_states[feed_id] = "stopped"
            return 200, feed
        if feed_id not in s.datafeeds:
            return es_error(404, "resource_not_found_exception", f"No datafeed with id [{feed_id}] exists")
        if method == "DELETE":
            if s.datafeed_states[feed_id] == "started" and query.get("force") != "true":
                return es_error(409, "status_exception", "Cannot delete datafeed while it is started")
            del s.datafeeds[feed_id]
            del s.datafeed_states[feed_id]
            return 200, {"acknowledged": True}
        if action == "/_start":
            if s.job_states.get(s.datafeeds[feed_id]["job_id"]) != "opened":
                return es_error(409, "status_exception", "cannot start datafeed because job is not opened")
            end = (body or {}).get("end") or query.get("end")
            s.datafeed_states[feed_id] = "started"
            if end:
                self._lookback(feed_id, (body or {}).get("start") or query.get("start"), end)
            return 200, {"started": True, "node": "fake"}
        if action == "/_stop":
            s.datafeed_states[feed_id] = "stopped"
            return 200, {"stopped": True}
        if action == "/_update":
            if s.datafeed_states[feed_id] == "started":
                return es_error(409, "status_exception", "cannot update datafeed while it is started")
            for k, v in (body or {}).items():
                s.datafeeds[feed_id][k] = copy.deepcopy(v)
            return 200, s.datafeeds[feed_id]
        return es_error(405, "method_not_allowed", f"{method} {action}")

    def _es_data(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        s = self.state
        parts = [p for p in path.split("/") if p]
        if len(parts) == 1 and not parts[0].startswith("_"):
            name = parts[0]
            if method == "PUT":
                if name in s.indices:
                    return es_error(400, "resource_already_exists_exception", f"index [{name}] already exists")
                s.indices[name] = {"mappings": copy.deepcopy((body or {}).get("mappings", {})), "docs": {}, "settings": (body or {}).get("settings", {})}
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
            if method == "DELETE":
                if name not in s.indices:
                    return es_error(404, "index_not_found_exception", f"no such index [{name}]")
                del s.indices[name]
                return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] == "_refresh":
            if parts[0] not in s.indices and not parts[0].startswith("."):
                return es_error(404, "index_not_found_exception", f"no such index [{parts[0]}]")
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(parts) == 2 and parts[1] == "_bulk" and method in ("POST", "PUT"):
            return self._bulk(parts[0], body, query.get("pipeline"))
        if len(parts) == 3 and parts[:2] == ["_ingest", "pipeline"] and method == "GET":
            found = {n: p for n, p in s.pipelines.items() if fnmatch.fnmatchcase(n, parts[2])}
            return (200, found) if found else (404, {})
        if len(parts) == 2 and parts[0] == "_component_template" and method == "GET":
            if parts[1] not in self.component_templates:
                return es_error(404, "resource_not_found_exception", f"component template matching [{parts[1]}] not found")
            return 200, {"component_templates": [{"name": parts[1], "component_template": {"template": {"mappings": self.component_templates[parts[1]]}}}]}
        if len(parts) == 2 and parts[1] == "_search":
            return self._search(parts[0], body or {})
        if len(parts) == 3 and parts[:2] == ["_cat", "indices"] and method == "GET":
            return 200, [{"index": n, "docs.count": str(len(s.indices[n]["docs"]))} for n in self._index_names(parts[2])]
        return es_error(400, "no_handler", f"no handler for {method} {path}")

    def _bulk(self, index: str, body: Any, pipeline: str | None = None) -> tuple[int, Any]:
        if index not in self.state.indices:
            return es_error(404, "index_not_found_exception", f"no such index [{index}] (auto-create refused in this fake)")
        if pipeline is not None and (pipeline not in self.state.pipelines or self.pipeline_engine is None):
            return es_error(400, "illegal_argument_exception", f"pipeline with id [{pipeline}] does not exist")
        lines = body if isinstance(body, list) else [json.loads(x) for x in str(body).splitlines() if x.strip()]
        items, errors = [], False
        docs = self.state.indices[index]["docs"]
        for action, source in zip(lines[0::2], lines[1::2]):
            op, meta = next(iter(action.items()))
            doc_id = meta.get("_id") or str(uuid.uuid4())
            if op == "create" and doc_id in docs:
                errors = True
                items.append({op: {"_index": index, "_id": doc_id, "status": 409, "error": {"type": "version_conflict_engine_exception", "reason": "document already exists"}}})
                continue
            docs[doc_id] = self.pipeline_engine(pipeline, source) if pipeline else source
            items.append({op: {"_index": index, "_id": doc_id, "status": 201, "result": "created"}})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _index_names(self, pattern: str) -> list[str]:
        return [n for p in pattern.split(",") for n in sorted(self.state.indices) if fnmatch.fnmatchcase(n, p)]

    def _search(self, pattern: str, body: dict) -> tuple[int, Any]:
        names = self._index_names(pattern)
        if not names and "*" not in pattern:
            return es_error(404, "index_not_found_exception", f"no such index [{pattern}]")
        unknown = set(body) - {"query", "sort", "size", "track_total_hits", "from"}
        if unknown:
            return es_error(400, "parsing_exception", f"unknown key [{sorted(unknown)[0]}] in search body (this fake reads query/sort/size)")
        try:
            matcher = _term_matcher(body.get("query", {"match_all": {}}))
        except ValueError as exc:
            return es_error(400, "parsing_exception", str(exc))
        hits = []
        for name in names:
            for doc_id, source in self.state.indices[name]["docs"].items():
                if matcher(source):
                    hits.append({"_index": name, "_id": doc_id, "_source": copy.deepcopy(source)})
        for key in reversed([k if isinstance(k, str) else next(iter(k)) for k in body.get("sort", [])]):
            hits.sort(key=lambda h: str(_get(h["_source"], key)).zfill(30) if isinstance(_get(h["_source"], key), (int, float)) else str(_get(h["_source"], key)))
        size = int(body.get("size", 10))
        return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits[:size]}}

    def _lookback(self, feed_id: str, start: str | None, end: str) -> None:
        """A datafeed lookback: hand the selected documents to ``ml_engine``, store its records."""
        s = self.state
        feed = s.datafeeds[feed_id]
        job = s.jobs[feed["job_id"]]
        docs = [d for pattern in feed.get("indices", []) for n in self._index_names(pattern) for d in s.indices[n]["docs"].values()]
        if self.ml_engine is not None:
            records = self.ml_engine(copy.deepcopy(job), copy.deepcopy(feed), docs, _ms(start) if start else 0, _ms(end))
            results = s.indices.setdefault(".ml-anomalies-shared", {"mappings": {}, "docs": {}, "settings": {}})
            for n, rec in enumerate(records):
                rec = dict(rec, job_id=job["job_id"], result_type="record")
                results["docs"][f"{job['job_id']}_record_{rec.get('timestamp')}_{n}"] = rec
        self._pending_stop[feed_id] = self.stats_polls_before_stop

    # ------------------------------------------------------------------ Kibana

    def _kibana_app(self, environ: Any, start_response: Any) -> Any:
        req = WRequest(environ)
        path, query, body, early = self._prelude(req, "kibana")
        if early is None:
            if req.method != "GET" and not req.headers.get("kbn-xsrf"):
                status, payload = kbn_error(400, 'Request must contain a kbn-xsrf header.')
            else:
                space = "default"
                m = re.match(r"^/s/([^/]+)(/.*)$", path)
                if m:
                    space, path = m.group(1), m.group(2)
                with self._lock:
                    if path == "/api/detection_engine/rules/_import" and req.method == "POST":
                        status, payload = self._import_rules(req, query, space)
                    else:
                        status, payload = self._kibana_route(req.method, path, query, body, space)
            early = self._answer(status, payload, False)
        return early(environ, start_response)

    def _kibana_route(self, method: str, path: str, query: dict[str, str], body: Any, space: str) -> tuple[int, Any]:
        s = self.state
        if path == "/api/status":
            if not s.kibana_version:  # the redacted answer
                return 200, {"status": {"overall": {"level": "available"}}}
            return 200, {"version": {"number": s.kibana_version}, "status": {"overall": {"level": "available"}}}
        if path == "/api/ml/saved_objects/sync" and method == "GET":
            return 200, {"savedObjectsCreated": {}, "savedObjectsDeleted": {}, "datafeedsAdded": {}, "datafeedsRemoved": {}}
        if path == "/api/spaces/space" and method == "POST":
            self.spaces.add(str((body or {}).get("id")))
            return 200, dict(body or {})
        if path == "/api/spaces/space" and method == "GET":
            known = self.spaces | set(s.rules) | set(s.saved_objects)
            return 200, [{"id": sid, "name": sid, "disabledFeatures": []} for sid in sorted(known)]
        if path.startswith("/api/spaces/space/") and method == "DELETE":
            self.spaces.discard(path.rsplit("/", 1)[1])
            s.rules.pop(path.rsplit("/", 1)[1], None)
            s.saved_objects.pop(path.rsplit("/", 1)[1], None)
            return 204, None
        rules = s.rules.setdefault(space, {})
        if path == "/api/detection_engine/rules/preview" and method == "POST":
            return self._preview(body, space)
        if path == "/api/detection_engine/rules":
            return self._rule(method, query, body, rules)
        if path == "/api/detection_engine/rules/_find" and method == "GET":
            found = list(rules.values())
            flt = query.get("filter", "")
            m = re.fullmatch(r'alert\.attributes\.tags:' + _KQL_STRING, flt)
            ids = re.fullmatch(r'alert\.attributes\.params\.ruleId:\((.*)\)', flt)
            rtype = re.fullmatch(r'alert\.attributes\.params\.type:([a-z_]+)', flt)
            if m:
                found = [r for r in found if _kql_unquote(m.group(1)) in r.get("tags", [])]
            elif ids:
                wanted = {_kql_unquote(x) for x in re.findall(_KQL_STRING, ids.group(1))}
                found = [r for r in found if r.get("rule_id") in wanted]
            elif rtype:
                found = [r for r in found if r.get("type") == rtype.group(1)]
            elif flt:
                return kbn_error(400, f"this fake does not read the filter {flt!r}")
            per_page, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            rows = found[(page - 1) * per_page : page * per_page]
            return 200, {"page": page, "perPage": per_page, "total": len(found), "data": copy.deepcopy(rows)}
        objects = s.saved_objects.setdefault(space, {})
        if path == "/api/saved_objects/_find" and method == "GET":
            found = [o for (t, _), o in sorted(objects.items()) if t == query.get("type")]
            per_page, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            rows = found[(page - 1) * per_page : page * per_page]
            return 200, {"page": page, "per_page": per_page, "total": len(found), "saved_objects": copy.deepcopy(rows)}
        m = re.fullmatch(r"/api/saved_objects/([^/]+)/([^/]+)", path)
        if m:
            return self._saved_object(method, m.group(1), m.group(2), body, objects, space)
        return kbn_error(404, f"Not Found: {method} {path}")

    def _import_rules(self, req: WRequest, query: dict[str, str], space: str) -> tuple[int, Any]:
        """Rules import: a multipart ``file`` of NDJSON rules (export summary lines ignored)."""
        upload = req.files.get("file")
        if upload is None or not (upload.filename or "").endswith(".ndjson"):
            return kbn_error(400, "Invalid file extension, expected .ndjson")
        rules = self.state.rules.setdefault(space, {})
        overwrite = query.get("overwrite") == "true"
        errors, success = [], 0
        lines = [json.loads(line) for line in upload.read().decode().splitlines() if line.strip()]
        lines = [x for x in lines if "rule_id" in x]
        for rule in lines:
            rule_id = rule["rule_id"]
            if rule_id in rules and not overwrite:
                errors.append({"rule_id": rule_id, "error": {"status_code": 409, "message": f'rule_id: "{rule_id}" already exists'}})
                continue
            old = rules.get(rule_id)
            rules[rule_id] = self._stored_rule(rule, revision=(old["revision"] + 1) if old else 0, rid=old["id"] if old else None)
            success += 1
        return 200, {"success": not errors, "success_count": success, "rules_count": len(lines), "errors": errors, "exceptions_success": True, "exceptions_success_count": 0, "exceptions_errors": []}

    def _preview(self, body: Any, space: str) -> tuple[int, Any]:
        if not isinstance(body, dict) or "invocationCount" not in body or "timeframeEnd" not in body:
            return kbn_error(400, "[request body]: invocationCount and timeframeEnd are required")
        preview_id = str(uuid.uuid4())
        docs = [d for pattern in body.get("index", []) for n in self._index_names(pattern) for d in self.state.indices[n]["docs"].values()]
        alerts = self.rule_engine(copy.deepcopy(body), docs) if self.rule_engine is not None else []
        index = self.state.indices.setdefault(f".preview.alerts-security.alerts-{space}", {"mappings": {}, "docs": {}, "settings": {}})
        for n, alert in enumerate(alerts):
            alert = copy.deepcopy(alert)
            alert.setdefault("kibana", {}).setdefault("alert", {}).setdefault("rule", {})["uuid"] = preview_id
            index["docs"][f"{preview_id}-{n}"] = alert
        return 200, {"previewId": preview_id, "logs": [{"errors": [], "warnings": [], "startedAt": body["timeframeEnd"], "duration": 1}], "isAborted": False}

    def _rule(self, method: str, query: dict[str, str], body: Any, rules: dict[str, dict]) -> tuple[int, Any]:
        if method == "GET":
            rule = rules.get(query.get("rule_id", ""))
            return (200, copy.deepcopy(rule)) if rule else kbn_error(404, f'rule_id: "{query.get("rule_id")}" not found')
        if method == "DELETE":
            rule = rules.pop(query.get("rule_id", ""), None)
            return (200, rule) if rule else kbn_error(404, f'rule_id: "{query.get("rule_id")}" not found')
        if method == "PATCH":
            # patch: the fields sent replace theirs, every other field stays as stored
            if not isinstance(body, dict) or not body.get("rule_id"):
                return kbn_error(400, "[request body]: either id or rule_id must be set")
            if body["rule_id"] not in rules:
                return kbn_error(404, f'rule_id: "{body["rule_id"]}" not found')
            old = rules[body["rule_id"]]
            merged = {**copy.deepcopy(old), **copy.deepcopy(body)}
            rules[body["rule_id"]] = self._stored_rule(merged, revision=old["revision"] + 1, rid=old["id"])
            return 200, copy.deepcopy(rules[body["rule_id"]])
        if not isinstance(body, dict) or not body.get("rule_id") or not body.get("type") or not body.get("name"):
            return kbn_error(400, "[request body]: rule_id, type and name are required")
        rule_id = body["rule_id"]
        if method == "POST":
            if rule_id in rules:
                return kbn_error(409, f"rule_id: \"{rule_id}\" already exists")
            rules[rule_id] = self._stored_rule(body, revision=0)
            return 200, copy.deepcopy(rules[rule_id])
        if method == "PUT":
            if rule_id not in rules:
                return kbn_error(404, f'rule_id: "{rule_id}" not found')
            old = rules[rule_id]
            rules[rule_id] = self._stored_rule(body, revision=old["revision"] + 1, rid=old["id"])
            return 200, copy.deepcopy(rules[rule_id])
        return kbn_error(404, "Not Found")

    def _stored_rule(self, body: dict, revision: int, rid: str | None = None) -> dict:
        rule = {
            "id": rid or str(uuid.uuid4()),
            "immutable": False,
            "revision": revision,
            "version": 1,
            "created_at": "2026-11-28T00:00:00.000Z",
            "updated_at": "2026-11-28T00:00:00.000Z",
            "max_signals": 100,
            "interval": "5m",
            "from": "now-6m",
            "to": "now",
            "enabled": True,
            "tags": [],
            "references": [],
            "false_positives": [],
            "exceptions_list": [],
            "related_integrations": [],
            "required_fields": [],
            "setup": "",
            "actions": [],
            "output_index": "",
        }
        rule.update(copy.deepcopy(body))
        for threat in rule.get("threat", []):
            for tech in threat.get("technique", []) or []:
                tech.setdefault("subtechnique", [])
            threat.setdefault("technique", [])
        return rule

    def _saved_object(self, method: str, otype: str, oid: str, body: Any, objects: dict, space: str = "default") -> tuple[int, Any]:
        key = (otype, oid)
        if method == "GET":
            return (200, copy.deepcopy(objects[key])) if key in objects else kbn_error(404, f"Saved object [{otype}/{oid}] not found")
        if method == "DELETE":
            return (200, {}) if objects.pop(key, None) is not None else kbn_error(404, f"Saved object [{otype}/{oid}] not found")
        if not isinstance(body, dict) or not isinstance(body.get("attributes"), dict):
            return kbn_error(400, "[request body.attributes]: expected a value of type [object]")
        refused = _discover_session_refusal(body["attributes"]) if otype == "search" else None
        if refused:
            return kbn_error(400, refused)
        if method == "POST":
            taken = key in objects or (otype in MULTIPLE_ISOLATED and any(key in other for other in self.state.saved_objects.values()))
            if taken:
                return kbn_error(409, f"Saved object [{otype}/{oid}] conflict")
            objects[key] = {"type": otype, "id": oid, "attributes": copy.deepcopy(body["attributes"]), "references": [], "version": "WzEsMV0=", "namespaces": [space]}
            return 200, objects[key]
        if method == "PUT":
            if key not in objects:
                return kbn_error(404, f"Saved object [{otype}/{oid}] not found")
            objects[key]["attributes"].update(copy.deepcopy(body["attributes"]))
            return 200, objects[key]
        return kbn_error(404, "Not Found")


SEARCH_ATTRIBUTES = {"title", "description", "tabs"}  # SCHEMA_DISCOVER_SESSION_V13..V15 (closed)
MAX_DISCOVER_SESSION_TABS = 25  # saved_search common constants
TAB_KEYS = {"id", "label", "attributes"}


def _discover_session_refusal(attributes: dict) -> str | None:
    """Why Kibana's ``search`` create schema refuses ``attributes``, or None."""
    unknown = sorted(set(attributes) - SEARCH_ATTRIBUTES)
    if unknown:
        return f"[attributes.{unknown[0]}]: definition for this key is missing"
    if not isinstance(attributes.get("title"), str):
        return "[attributes.title]: expected value of type [string]"
    tabs = attributes.get("tabs")
    if not isinstance(tabs, list) or not 1 <= len(tabs) <= MAX_DISCOVER_SESSION_TABS:
        return f"[attributes.tabs]: expected an array of 1 to {MAX_DISCOVER_SESSION_TABS} tabs"
    for i, tab in enumerate(tabs):
        if not isinstance(tab, dict) or set(tab) != TAB_KEYS or not isinstance(tab.get("attributes"), dict):
            return f"[attributes.tabs.{i}]: expected {{id, label, attributes}}"
        meta = tab["attributes"].get("kibanaSavedObjectMeta")
        if not isinstance(meta, dict) or not isinstance(meta.get("searchSourceJSON"), str):
            return f"[attributes.tabs.{i}.attributes.kibanaSavedObjectMeta.searchSourceJSON]: expected value of type [string]"
    return None


_KQL_STRING = r'("(?:[^"\\]|\\.)*")'


def _kql_unquote(quoted: str) -> str:
    """A KQL quoted string's value: ``\\x`` is ``x``."""
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _ms(text: str) -> int:
    from datetime import datetime, timezone

    dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return int((dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp() * 1000)


def _get(doc: Any, dotted: str) -> Any:
    """A field of a nested document, also when stored with dotted keys (as Kibana alerts are)."""
    if isinstance(doc, dict) and dotted in doc:
        return doc[dotted]
    head, _, rest = dotted.partition(".")
    if isinstance(doc, dict) and head in doc and rest:
        return _get(doc[head], rest)
    if isinstance(doc, dict) and rest:
        for key in doc:
            if dotted.startswith(key + "."):
                return _get(doc[key], dotted[len(key) + 1 :])
    return None


def _term_matcher(query: dict) -> Any:
    """The search queries this fake understands: match_all, term, bool filter/must of those."""
    (kind, spec), = query.items()
    if kind == "match_all":
        return lambda doc: True
    if kind == "term":
        (fname, value), = spec.items()
        value = value["value"] if isinstance(value, dict) else value

        def term(doc: Any) -> bool:
            got = _get(doc, fname)
            return value in got if isinstance(got, list) else got == value

        return term
    if kind == "bool":
        parts = [_term_matcher(q) for key in ("filter", "must") for q in (spec.get(key) or [])]
        return lambda doc: all(p(doc) for p in parts)
    raise ValueError(f"this fake does not run [{kind}] queries")
