"""HTTP clients for one cluster: the official ``elasticsearch`` client for Elasticsearch,
``requests`` for Kibana, one retry policy, one deadline and one error type for both.

Every request goes through ``Cluster.send(Request)``, so what ``--dry-run --format json``
prints is exactly what is sent. Retries follow ``elastic.retry`` (refusals retried, an
uncertain write re-read through its ``Confirm`` before it is sent again), within the run's
``Deadline``. Every answer must come from the product expected: Elasticsearch sends
``X-Elastic-Product: Elasticsearch`` (the header the official clients' product check
requires) and Kibana ``kbn-name``; anything else is refused at once (401/403 are exempt,
as in the clients' own check: a proxy may answer those). Errors carry the status and
Elastic's reason, name the URL (credentials masked) and the variable to fix, with every
secret redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ctdetect.elastic.requests_model import Request, is_kibana_path
from ctdetect.elastic.retry import CONNECT_TIMEOUT, DEFAULT_TIMEOUT, REFUSED, REQUEST_TIMEOUT, UNCERTAIN, Deadline, RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings

KIBANA_API_VERSION = "2023-10-31"
# REST compatibility with 8: accepted by 8.x and 9.x servers alike, whatever the client's
# major version (a 9.x client otherwise asks for 9, which an 8.x server refuses).
ES_MEDIA_TYPE = "application/vnd.elasticsearch+json; compatible-with=8"
ES_NDJSON_TYPE = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
PRODUCT_EXEMPT = (401, 403)


class ClusterError(Exception):
    """A request failed for good (after retries). ``status`` is None when nothing answered."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class WrongProduct(ClusterError):
    """The server at a URL is not the Elastic product expected there (never retried)."""


@dataclass(slots=True)
class Response:
    status: int
    body: Any
    confirmed: bool = False  # an uncertain write that a re-read showed applied


@dataclass(slots=True)
class _Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class _NoAnswer(Exception):
    """No usable answer: ``sent`` False when the request surely never left (no connection)."""

    def __init__(self, reason: str, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


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

    def __init__(self, settings: ConnectionSettings, es: Any, kibana: Any, policy: RetryPolicy | None = None, deadline: Deadline | None = None) -> None:
        self.settings = settings
        self.es = es
        self.kibana = kibana
        self.policy = policy or RetryPolicy()
        self.deadline = deadline or Deadline()
        self.sent: list[Request] = []  # writes and reads, in order (for reports and tests)

    @classmethod
    def connect(cls, settings: ConnectionSettings, policy: RetryPolicy | None = None, timeout: float = DEFAULT_TIMEOUT) -> "Cluster":
        """``timeout``: seconds for everything this cluster object does (the run's deadline)."""
        missing = settings.missing()
        if missing:
            raise ClusterError("not configured: set " + ", ".join(missing) + " in the environment or the env-file")
        try:
            from elasticsearch import Elasticsearch
            import requests
        except ImportError as exc:
            raise ClusterError(f"the elasticsearch extra is not installed ({exc.name} missing): pip install 'ctdetect[elasticsearch]'") from exc
        uses_tls = any((u or "").lower().startswith("https://") for u in (settings.es_url, settings.kibana_url))
        problem = settings.ca_problem() if uses_tls else None
        if problem:
            raise ClusterError(problem)
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
                request_timeout=REQUEST_TIMEOUT,
                **auth,
                **tls,
            )
        except ValueError as exc:
            raise ClusterError(settings.redact(f"ELASTICSEARCH_URL {settings.es_url!r} cannot be used: {exc}")) from None
        session = requests.Session()
        session.headers.update({"kbn-xsrf": "ctdetect", "elastic-api-version": KIBANA_API_VERSION, "content-type": "application/json"})
        if settings.api_key:
            session.headers["Authorization"] = f"ApiKey {settings.encoded_api_key}"
        else:
            session.auth = (settings.username or "elastic", settings.password or "")
        session.verify = settings.tls_verify
        return cls(settings, es, _KibanaHttp(session, settings.kibana_url or ""), policy, Deadline(timeout))

    # ------------------------------------------------------------------ sending

    def send(self, request: Request, params: Mapping[str, Any] | None = None, allow: tuple[int, ...] = (), timeout: float | None = None, retry: bool = True) -> Response:
        """Send with safe retries. A status in ``allow`` (e.g. 404 on a read) is returned, not
        raised. ``timeout`` caps one answer (never beyond the deadline); ``retry`` False: one try."""
        self.sent.append(request)
        attempt = 0
        while True:
            answer, failure = self._try(request, params, timeout)
            if answer is not None and (200 <= answer.status < 300 or answer.status in allow):
                return Response(answer.status, answer.body)
            status = answer.status if answer is not None else None
            why = f"HTTP {status}" if answer is not None else failure.reason if failure else "no answer"
            refused = (answer is not None and status in REFUSED) or (failure is not None and not failure.sent)
            uncertain = (answer is not None and status in UNCERTAIN) or (failure is not None and failure.sent)
            if uncertain and not request.safe_to_repeat:
                if request.confirm is None:
                    raise self._error(request, f"{why}; the outcome is unknown and the request is not safe to repeat: run again to re-read and finish", answer)
                if self._confirmed(request):
                    return Response(200, None, confirmed=True)
            if not retry or not (refused or uncertain) or attempt + 1 >= self.policy.attempts:
                raise self._error(request, why if answer is None else f"HTTP {status}: {_reason(answer.body)}", answer)
            retry_after = answer.headers.get("retry-after") if answer is not None else None
            if not self.policy.wait(attempt, retry_after, f"{self._where(request)} answered {why}", self.deadline):
                raise self._error(request, f"{why}; the next try would pass the run's timeout ({self.deadline.seconds:.0f} s, --timeout)", answer)
            attempt += 1

    def _try(self, request: Request, params: Mapping[str, Any] | None, timeout: float | None) -> tuple[_Answer | None, _NoAnswer | None]:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise ClusterError(f"{self._where(request)}: not sent, the run's timeout ({self.deadline.seconds:.0f} s, --timeout) is used up")
        read = min(timeout or REQUEST_TIMEOUT, remaining)
        kibana = is_kibana_path(request.path)
        try:
            answer = self.kibana.request(request, params, read) if kibana else _es_once(self.es, request, params, read)
        except _NoAnswer as exc:
            return None, exc
        self._check_product(answer, kibana)
        return answer, None

    def _confirmed(self, request: Request) -> bool:
        """Re-read after an uncertain write: True when it was applied."""
        confirm = request.confirm
        assert confirm is not None
        answer, failure = self._try(Request("GET", confirm.path), None, None)
        if answer is None:
            raise self._error(request, f"the outcome is unknown and the check read failed too ({failure.reason if failure else 'no answer'})", None)
        return confirm.applied(answer.status, answer.body)

    def _check_product(self, answer: _Answer, kibana: bool) -> None:
        if answer.status in PRODUCT_EXEMPT:
            return
        headers = {k.lower(): v for k, v in answer.headers.items()}
        if kibana and "kbn-name" not in headers:
            raise WrongProduct(self.settings.redact(f"KIBANA_URL {self.settings.kibana_url} is not Kibana: its answer has no kbn-name header (is the URL right, or a proxy in between?)"), answer.status)
        if not kibana and headers.get("x-elastic-product") != "Elasticsearch":
            raise WrongProduct(self.settings.redact(f"ELASTICSEARCH_URL {self.settings.es_url} is not Elasticsearch: its answer has no 'X-Elastic-Product: Elasticsearch' header (is the URL right?)"), answer.status)

    def _where(self, request: Request) -> str:
        return f"{request.method} {request.path}"

    def _error(self, request: Request, reason: str, answer: _Answer | None) -> ClusterError:
        if answer is None:
            var, url = ("KIBANA_URL", self.settings.kibana_url) if is_kibana_path(request.path) else ("ELASTICSEARCH_URL", self.settings.es_url)
            reason = f"{reason} (at {url}, {var})"
        message = self.settings.redact(f"{self._where(request)}: {reason}")
        return ClusterError(message, answer.status if answer else None, answer.body if answer else None)


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


def _chain_text(exc: BaseException) -> str:
    """The exception and its causes as one text (the libraries wrap the socket error)."""
    parts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        todo.extend(e for e in (current.__cause__, current.__context__, *getattr(current, "errors", ())) if isinstance(e, BaseException))
    return " | ".join(parts)


def _not_sent(exc: BaseException) -> bool:
    """True when the request surely never reached the server (no connection was made)."""
    text = _chain_text(exc)
    markers = ("ConnectTimeout", "Failed to establish a new connection", "Connection refused", "Name or service not known",
               "nodename nor servname", "getaddrinfo failed", "No route to host", "Temporary failure in name resolution")
    return any(m in text for m in markers)


def _describe(exc: BaseException) -> str:
    """One line for a failed connection, naming the cause (refused, timeout, TLS...)."""
    text = _chain_text(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "the TLS certificate is not trusted (set ELASTIC_CA_CERT or --ca-cert to the CA that signed it)"
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return "the host name does not resolve"
    if "timed out" in text.lower() or "Timeout" in text:
        return "no answer in time"
    return f"no answer ({type(exc).__name__}: {str(exc)[:200]})"


def _es_once(es: Any, request: Request, params: Mapping[str, Any] | None, read_timeout: float) -> _Answer:
    from elasticsearch import ApiError
    from elastic_transport import TransportError

    headers = {"accept": ES_MEDIA_TYPE}
    if request.body is not None:
        # a list body is a _bulk: newline-delimited JSON
        headers["content-type"] = ES_NDJSON_TYPE if isinstance(request.body, list) else ES_MEDIA_TYPE
    try:
        resp = es.options(request_timeout=read_timeout).perform_request(
            request.method, request.path, params=dict(params or {}) or None, headers=headers, body=request.body
        )
    except ApiError as exc:
        return _Answer(exc.meta.status, exc.body, dict(exc.meta.headers or {}))
    except TransportError as exc:
        raise _NoAnswer(_describe(exc), sent=not _not_sent(exc)) from None
    return _Answer(resp.meta.status, resp.body, dict(resp.meta.headers or {}))


class _KibanaHttp:
    """Kibana over ``requests``: JSON in and out, the xsrf and API-version headers set once."""

    def __init__(self, session: Any, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def request(self, request: Request, params: Mapping[str, Any] | None, read_timeout: float) -> _Answer:
        import json

        import requests

        data = None if request.body is None else json.dumps(request.body)
        try:
            resp = self.session.request(request.method, self.base_url + request.path, data=data, params=params, timeout=(CONNECT_TIMEOUT, read_timeout))
        except requests.RequestException as exc:
            raise _NoAnswer(_describe(exc), sent=not _not_sent(exc)) from None
        try:
            payload: Any = resp.json() if resp.content else None
        except ValueError:
            payload = resp.text
        return _Answer(resp.status_code, payload, dict(resp.headers))
