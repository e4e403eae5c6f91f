"""HTTP clients for one cluster: the official ``elasticsearch`` client for Elasticsearch,
``requests`` for Kibana, one retry policy and one error type for both.

Every request goes through ``Cluster.send(Request)``, so what ``--dry-run --format json``
prints is exactly what is sent. Errors carry the status and Elastic's reason, with every
secret redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ctdetect.elastic.requests_model import Request, is_kibana_path
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings

KIBANA_API_VERSION = "2023-10-31"
# REST compatibility with 8: accepted by 8.x and 9.x servers alike, whatever the client's
# major version (a 9.x client otherwise asks for 9, which an 8.x server refuses).
ES_MEDIA_TYPE = "application/vnd.elasticsearch+json; compatible-with=8"
ES_NDJSON_TYPE = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"


class ClusterError(Exception):
    """A request failed for good (after retries). ``status`` is None when nothing answered."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(slots=True)
class Response:
    status: int
    body: Any


def _reason(body: Any) -> str:
    """Elastic's one-line reason from an error body (ES ``error.reason``, Kibana ``message``)."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            root = err.get("root_cause") or []
            reason = err.get("reason") or (root[0].get("reason") if root and isinstance(root[0], dict) else None)
            if reason:
                return f"{err.get('type', 'error')}: {reason}"
        if body.get("message"):
            return str(body["message"])
        if isinstance(err, str):
            return err
    if isinstance(body, (bytes, str)):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text.strip()[:300]
    return str(body)[:300]


class Cluster:
    """An Elasticsearch + Kibana pair. Build with ``Cluster.connect(settings)``."""

    def __init__(self, settings: ConnectionSettings, es: Any, kibana: Any, policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.es = es
        self.kibana = kibana
        self.policy = policy or RetryPolicy()
        self.sent: list[Request] = []  # writes and reads, in order (for reports and tests)

    @classmethod
    def connect(cls, settings: ConnectionSettings, policy: RetryPolicy | None = None, timeout: float = 60.0) -> "Cluster":
        missing = settings.missing()
        if missing:
            raise ClusterError("not configured: set " + ", ".join(missing) + " in the environment or the env-file")
        try:
            from elasticsearch import Elasticsearch
            import requests
        except ImportError as exc:
            raise ClusterError(f"the elasticsearch extra is not installed ({exc.name} missing): pip install 'ctdetect[elasticsearch]'") from exc
        auth: dict[str, Any] = {}
        if settings.api_key:
            auth["api_key"] = settings.encoded_api_key
        else:
            auth["basic_auth"] = (settings.username or "elastic", settings.password or "")
        tls: dict[str, Any] = {}
        if (settings.es_url or "").lower().startswith("https://"):  # TLS options on a plain-http URL are refused
            tls["verify_certs"] = settings.verify_tls
            if settings.ca_cert:
                tls["ca_certs"] = settings.ca_cert
        try:
            es = Elasticsearch(
                with_port(settings.es_url or ""),
                max_retries=0,
                retry_on_status=(),
                retry_on_timeout=False,
                request_timeout=timeout,
                **auth,
                **tls,
            )
        except ValueError as exc:
            raise ClusterError(settings.redact(f"ELASTICSEARCH_URL {settings.es_url!r}: {exc}")) from None
        session = requests.Session()
        session.headers.update({"kbn-xsrf": "ctdetect", "elastic-api-version": KIBANA_API_VERSION, "content-type": "application/json"})
        if settings.api_key:
            session.headers["Authorization"] = f"ApiKey {settings.encoded_api_key}"
        else:
            session.auth = (settings.username or "elastic", settings.password or "")
        session.verify = settings.tls_verify
        return cls(settings, es, _KibanaHttp(session, settings.kibana_url or "", timeout), policy)

    # ------------------------------------------------------------------ sending

    def send(self, request: Request, params: Mapping[str, Any] | None = None, allow: tuple[int, ...] = ()) -> Response:
        """Send with retries. A status in ``allow`` (e.g. 404 on a read) is returned, not raised."""
        self.sent.append(request)
        attempt = 0
        while True:
            try:
                status, body, retry_after = self._once(request, params)
            except ClusterError:
                raise
            except Exception as exc:  # noqa: BLE001 - connection failures from either library
                if self.policy.should_retry(None, attempt):
                    self.policy.wait(attempt)
                    attempt += 1
                    continue
                raise ClusterError(self._where(request) + ": " + self.settings.redact(_connection_reason(exc))) from None
            if 200 <= status < 300 or status in allow:
                return Response(status, body)
            if self.policy.should_retry(status, attempt):
                self.policy.wait(attempt, retry_after)
                attempt += 1
                continue
            message = f"{self._where(request)}: HTTP {status}: {_reason(body)}"
            raise ClusterError(self.settings.redact(message), status, body)

    def _where(self, request: Request) -> str:
        return f"{request.method} {request.path}"

    def _once(self, request: Request, params: Mapping[str, Any] | None) -> tuple[int, Any, str | None]:
        if is_kibana_path(request.path):
            return self.kibana.request(request.method, request.path, request.body, params)
        return _es_once(self.es, request, params)


def with_port(url: str) -> str:
    """``url`` with its scheme's default port made explicit (the client insists on a port;
    Elastic Cloud endpoints are usually given without one)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return url
    if port is not None or not parts.hostname or parts.scheme not in ("http", "https"):
        return url
    netloc = parts.netloc + (":443" if parts.scheme == "https" else ":80")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _es_once(es: Any, request: Request, params: Mapping[str, Any] | None) -> tuple[int, Any, str | None]:
    from elasticsearch import ApiError

    headers = {"accept": ES_MEDIA_TYPE}
    if request.body is not None:
        # a list body is a _bulk: newline-delimited JSON
        headers["content-type"] = ES_NDJSON_TYPE if isinstance(request.body, list) else ES_MEDIA_TYPE
    try:
        resp = es.perform_request(request.method, request.path, params=dict(params or {}) or None, headers=headers, body=request.body)
    except ApiError as exc:
        meta = exc.meta
        return meta.status, exc.body, meta.headers.get("retry-after") if meta.headers else None
    return resp.meta.status, resp.body, None


def _connection_reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"no answer ({type(exc).__name__}: {text[:300]})"


class _KibanaHttp:
    """Kibana over ``requests``: JSON in and out, the xsrf and API-version headers set once."""

    def __init__(self, session: Any, base_url: str, timeout: float) -> None:
        self.session = session
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None) -> tuple[int, Any, str | None]:
        import json

        data = None if body is None else json.dumps(body)
        resp = self.session.request(method, self.base_url + path, data=data, params=params, timeout=self.timeout)
        try:
            payload: Any = resp.json() if resp.content else None
        except ValueError:
            payload = resp.text
        return resp.status_code, payload, resp.headers.get("Retry-After")
