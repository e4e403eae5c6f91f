"""Raw CloudTrail record -> flat ECS document, as Elastic's aws integration does it.

Source of truth: the ``cloudtrail`` data stream's ingest pipeline of Elastic's ``aws``
integration (``elasticsearch/ingest_pipeline/default.yml`` and its ``entity``
sub-pipeline) plus the constant fields Elastic Agent and the data stream add
(``event.dataset``, ``event.module``, ``data_stream.*``). Each block below names the
pipeline step it reproduces. The code is straight-line on purpose: it runs once per
event in ``hunt`` and is the main per-event cost after JSON parsing.

Pipeline behaviours kept on purpose:

- null and empty-string values (and objects/arrays left empty) are dropped first, at any
  depth, before anything is read;
- ``rename`` never overwrites: ``userIdentity.userName`` wins over the assumed role's
  ``sessionIssuer.userName`` for ``user.name``; the role name is used only when there is
  no user name (``AssumedRole``);
- ``source.ip`` only when ``sourceIPAddress`` is an IP address (not ``ec2.amazonaws.com``);
- request parameters, response elements, additional event data and service event
  details become a Java ``toString()`` string (``ctdetect.ecs.javastr``) and, when that
  string is shorter than 32766 characters, ``aws.cloudtrail.flattened.*`` leaves;
- ``event.outcome`` is ``failure`` when there is an error code or message; for
  ``ConsoleLogin`` it is the lower-cased ``responseElements.ConsoleLogin``;
- ``related.entity`` is de-duplicated and sorted.

Not produced: ``event.created`` (ingest time, meaningless offline), ``event.original``
unless asked for (the integration drops it unless ``preserve_original_event`` is set),
digest-file fields (digest files are not events; readers skip them), and the optional
``actor_target_mapping`` fields of newer integration versions.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any, Protocol

import orjson

from ctdetect.ecs.flat import _flatten_into, _flatten_list
from ctdetect.ecs.javastr import hashmap_order, java_str
from ctdetect.ecs.tables import CATEGORIZATION, ENTITY_BY_SOURCE
from ctdetect.ecs.timeparse import BadTimestamp, parse_event_time
from ctdetect.ecs.useragent import parse_user_agent

ECS_VERSION = "8.11.0"
FLATTENED_LIMIT = 32766  # the pipeline keeps flattened copies only below this length
_DEFAULT_TYPE = ("info",)


class MappingError(ValueError):
    """A record cannot become an ECS event (no usable eventTime/eventName)."""


class GeoLookup(Protocol):
    """What the mapper needs from ``ctdetect.geoip.GeoIP``."""

    def lookup(self, ip: str) -> dict[str, Any]: ...


@lru_cache(maxsize=65536)
def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _clean(value: Any) -> Any:
    """The pipeline's first script: drop null/"" and emptied containers, recursively.

    Returns ``None`` when the value itself is dropped. Builds new containers, so the
    caller's record is never modified.
    """
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if item is None or item == "":
                continue
            if type(item) is dict or type(item) is list:
                item = _clean(item)
                if item is None:
                    continue
            out[key] = item
        return out or None
    if type(value) is list:
        items = []
        for item in value:
            if item is None or item == "":
                continue
            if type(item) is dict or type(item) is list:
                item = _clean(item)
                if item is None:
                    continue
            items.append(item)
        return items or None
    if value is None or value == "":
        return None
    return value


def _put_flattened(doc: dict[str, Any], prefix: str, value: Any) -> None:
    """Leaves of a flattened-type object under dotted names (``ctdetect.ecs.flat`` rules)."""
    if type(value) is dict:
        _flatten_into(doc, value, prefix + ".")
    elif type(value) is list:
        _flatten_list(doc, value, prefix)
    else:
        doc[prefix] = value


def _extend(doc: dict[str, Any], key: str, values: list[Any]) -> None:
    existing = doc.get(key)
    if existing is None:
        doc[key] = list(values)
    elif type(existing) is list:
        existing.extend(values)
    else:
        doc[key] = [existing, *values]


def _walk(node: Any, path: tuple[str, ...], out: list[str]) -> None:
    """Collect the scalar values at ``path``; ``[]`` walks each element of an array."""
    for i, part in enumerate(path):
        if part == "[]":
            if type(node) is list:
                rest = path[i + 1 :]
                for item in node:
                    _walk(item, rest, out)
            return
        if type(node) is not dict:
            return
        node = node.get(part)
        if node is None:
            return
    if type(node) is list:
        out.extend(java_str(v) for v in node if type(v) is not dict and type(v) is not list)
    elif type(node) is not dict:
        out.append(java_str(node))


def _scalar_text(value: Any) -> str | None:
    """What a mustache ``{{path}}`` renders for a scalar leaf (None: nothing to set)."""
    if value is None or type(value) is dict or type(value) is list:
        return None
    text = java_str(value)
    return text or None


class CloudTrailMapper:
    """Map raw CloudTrail records to flat ECS documents.

    ``geoip``: anything with ``lookup(ip) -> dict`` of flat ``source.geo.*`` /
    ``source.as.*`` fields (``ctdetect.geoip.GeoIP``); lookups are cached per IP.
    ``namespace``: ``data_stream.namespace`` (Fleet's default is ``default``).
    ``preserve_original``: keep ``event.original`` (the record re-serialised as JSON).
    """

    def __init__(
        self,
        geoip: GeoLookup | None = None,
        *,
        namespace: str = "default",
        preserve_original: bool = False,
        geo_cache_size: int = 65536,
    ) -> None:
        self.namespace = namespace
        self.preserve_original = preserve_original
        self._geo = None
        if geoip is not None:
            lookup = geoip.lookup

            def geo(ip: str) -> dict[str, Any]:
                return dict(lookup(ip) or {})

            self._geo = lru_cache(maxsize=geo_cache_size)(geo)

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        """One flat ECS document for one CloudTrail record. Raises ``MappingError``."""
        if type(record) is not dict:
            raise MappingError("record is not a JSON object")
        event_time = record.get("eventTime")
        event_name = record.get("eventName")
        if not event_time or type(event_time) is not str:
            raise MappingError("record has no eventTime")
        if event_name is None or event_name == "":
            raise MappingError("record has no eventName")
        try:
            timestamp, epoch_ms = parse_event_time(event_time)
        except BadTimestamp:
            raise MappingError(f"eventTime {event_time!r} is not an ISO-8601 date-time") from None
        get = record.get
        action = event_name if type(event_name) is str else java_str(event_name)

        doc: dict[str, Any] = {
            "@timestamp": timestamp,
            "_ts": epoch_ms,
            "ecs.version": ECS_VERSION,
            "event.kind": "event",
            "event.module": "aws",
            "event.dataset": "aws.cloudtrail",
            "data_stream.dataset": "aws.cloudtrail",
            "data_stream.type": "logs",
            "data_stream.namespace": self.namespace,
            "cloud.provider": "aws",
            "event.action": action,
        }
        if self.preserve_original:
            doc["event.original"] = orjson.dumps(record).decode()

        value = get("eventVersion")
        if value is not None and value != "":
            doc["aws.cloudtrail.event_version"] = value

        # --- userIdentity -------------------------------------------------------------
        related_user: list[str] = []
        identity = get("userIdentity")
        if identity is not None:
            identity = _clean(identity)
        if type(identity) is dict:
            iget = identity.get
            value = iget("type")
            if value is not None:
                doc["aws.cloudtrail.user_identity.type"] = value
            value = iget("userName")
            if value is not None:
                related_user.append(java_str(value))
                doc["user.name"] = value
            value = iget("principalId")
            if value is not None:
                doc["user.id"] = value
            value = iget("arn")
            if value is not None:
                doc["aws.cloudtrail.user_identity.arn"] = value
            value = iget("accountId")
            if value is not None:
                doc["cloud.account.id"] = value
            value = iget("accessKeyId")
            if value is not None:
                doc["aws.cloudtrail.user_identity.access_key_id"] = value
            context = iget("sessionContext")
            if type(context) is dict:
                attributes = context.get("attributes")
                if type(attributes) is dict:
                    value = attributes.get("mfaAuthenticated")
                    if value is not None:
                        doc["aws.cloudtrail.user_identity.session_context.mfa_authenticated"] = value
                    value = attributes.get("creationDate")
                    if type(value) is str:
                        try:
                            doc["aws.cloudtrail.user_identity.session_context.creation_date"] = parse_event_time(value)[0]
                        except BadTimestamp:
                            pass  # the pipeline's date processor ignores failures
                issuer = context.get("sessionIssuer")
                if type(issuer) is dict:
                    value = issuer.get("type")
                    if value is not None:
                        doc["aws.cloudtrail.user_identity.session_context.session_issuer.type"] = value
                    value = issuer.get("userName")
                    if value is not None and "user.name" not in doc:
                        doc["user.name"] = value
                    value = issuer.get("principalId")
                    if value is not None:
                        doc["aws.cloudtrail.user_identity.session_context.session_issuer.principal_id"] = value
                    value = issuer.get("arn")
                    if value is not None:
                        doc["aws.cloudtrail.user_identity.session_context.session_issuer.arn"] = value
                    value = issuer.get("accountId")
                    if value is not None:
                        doc["aws.cloudtrail.user_identity.session_context.session_issuer.account_id"] = value
            value = iget("invokedBy")
            if value is not None:
                doc["aws.cloudtrail.user_identity.invoked_by"] = value

        # --- event, cloud, source -----------------------------------------------------
        provider = get("eventSource")
        if provider is not None and provider != "":
            doc["event.provider"] = provider
        value = get("eventCategory")
        if value is not None and value != "":
            doc["aws.cloudtrail.event_category"] = value
        value = get("awsRegion")
        if value is not None and value != "":
            doc["cloud.region"] = value
        address = get("sourceIPAddress")
        if address is not None and address != "":
            doc["source.address"] = address
            if type(address) is str and _is_ip(address):
                doc["source.ip"] = address
                if self._geo is not None:
                    doc.update(self._geo(address))
        agent = get("userAgent")
        if type(agent) is str and agent:
            doc.update(parse_user_agent(agent))
        error_code = get("errorCode")
        if error_code is not None and error_code != "":
            doc["aws.cloudtrail.error_code"] = error_code
        error_message = get("errorMessage")
        if error_message is not None and error_message != "":
            doc["aws.cloudtrail.error_message"] = error_message

        # --- request/response objects: toString() string + flattened leaves ----------
        request = get("requestParameters")
        if request is not None:
            request = _clean(request)
        request_flat = None
        if request is not None:
            text = java_str(request)
            doc["aws.cloudtrail.request_parameters"] = text
            if len(text) < FLATTENED_LIMIT:
                request_flat = request
                _put_flattened(doc, "aws.cloudtrail.flattened.request_parameters", request)
        response = get("responseElements")
        if response is not None:
            response = _clean(response)
        response_flat = None
        if response is not None:
            text = java_str(response)
            doc["aws.cloudtrail.response_elements"] = text
            if len(text) < FLATTENED_LIMIT:
                response_flat = response
                _put_flattened(doc, "aws.cloudtrail.flattened.response_elements", response)
        additional = get("additionalEventData")
        if additional is not None:
            additional = _clean(additional)
        additional_flat = None
        if additional is not None:
            text = java_str(additional)
            doc["aws.cloudtrail.additional_eventdata"] = text
            if len(text) < FLATTENED_LIMIT:
                additional_flat = additional
                _put_flattened(doc, "aws.cloudtrail.flattened.additional_eventdata", additional)
        details = get("serviceEventDetails")
        if details is not None:
            details = _clean(details)
        if details is not None:
            text = java_str(details)
            doc["aws.cloudtrail.service_event_details"] = text
            if len(text) < FLATTENED_LIMIT:
                _put_flattened(doc, "aws.cloudtrail.flattened.service_event_details", details)

        # --- plain renames --------------------------------------------------------------
        for source_key, target in _RENAMES:
            value = get(source_key)
            if value is not None and value != "":
                doc[target] = value
        resources = get("resources")
        if resources is not None:
            resources = _clean(resources)
        if type(resources) is list:
            _put_resources(doc, resources)

        # --- related.user from request parameters ----------------------------------
        if type(request_flat) is dict:
            for key in ("userName", "newUserName"):
                text = _scalar_text(request_flat.get(key))
                if text is not None and text not in related_user:
                    related_user.append(text)
        if related_user:
            doc["related.user"] = related_user

        # --- ConsoleLogin additional data ------------------------------------------
        if action == "ConsoleLogin" and type(additional_flat) is dict:
            value = additional_flat.get("MobileVersion")
            if value is not None:
                doc["aws.cloudtrail.console_login.additional_eventdata.mobile_version"] = value != "No"
            value = additional_flat.get("LoginTo")
            if value is not None:
                doc["aws.cloudtrail.console_login.additional_eventdata.login_to"] = value
            value = additional_flat.get("MFAUsed")
            if value is not None:
                doc["aws.cloudtrail.console_login.additional_eventdata.mfa_used"] = value != "No"

        # --- categorization and outcome ---------------------------------------------
        outcome = "failure" if ("aws.cloudtrail.error_code" in doc or "aws.cloudtrail.error_message" in doc) else "success"
        if action == "ConsoleLogin" and type(response_flat) is dict:
            value = response_flat.get("ConsoleLogin")
            if type(value) is str:
                outcome = value.lower()
        doc["event.outcome"] = outcome
        categorization = CATEGORIZATION.get(action)
        if categorization is None:
            doc["event.type"] = ["info"]
        else:
            doc["event.category"] = list(categorization[0])
            doc["event.type"] = list(categorization[1])

        # --- digest-only account id, insights ------------------------------------------
        if "cloud.account.id" not in doc:
            value = get("awsAccountId")
            if value is not None and value != "":
                doc["cloud.account.id"] = value
        insight = get("insightDetails")
        if insight is not None:
            insight = _clean(insight)
        if insight is not None:
            _put_flattened(doc, "aws.cloudtrail.flattened.insight_details", insight)

        # --- group / user target / user changes --------------------------------------
        if type(response_flat) is dict:
            group = response_flat.get("group")
            if type(group) is dict:
                text = _scalar_text(group.get("groupId"))
                if text:
                    doc["group.id"] = text
            user = response_flat.get("user")
            if type(user) is dict:
                text = _scalar_text(user.get("userId"))
                if text:
                    doc["user.target.id"] = text
        if type(request_flat) is dict:
            text = _scalar_text(request_flat.get("newUserName"))
            if text:
                doc["user.changes.name"] = text
            text = _scalar_text(request_flat.get("groupName"))
            if text:
                doc["group.name"] = text
            text = _scalar_text(request_flat.get("userName"))
            if text:
                doc["user.target.name"] = text

        # --- TLS ------------------------------------------------------------------------
        tls = get("tlsDetails")
        if type(tls) is dict:
            version = tls.get("tlsVersion")
            if type(version) is str and "v" in version:
                protocol, _, number = version.partition("v")
                doc["tls.version_protocol"] = protocol.lower()
                doc["tls.version"] = number
            value = tls.get("cipherSuite")
            if value is not None and value != "":
                doc["tls.cipher"] = value
            value = tls.get("clientProvidedHostHeader")
            if value is not None and value != "":
                doc["tls.client.server_name"] = value

        # --- related.entity (entity sub-pipeline) -----------------------------------------
        entities: list[str] = []
        if type(identity) is dict:
            for key in ("arn", "identityProvider", "principalId", "userName"):
                value = identity.get(key)
                if value is not None and type(value) is not dict and type(value) is not list:
                    entities.append(value if type(value) is str else java_str(value))
            context = identity.get("sessionContext")
            if type(context) is dict:
                issuer = context.get("sessionIssuer")
                if type(issuer) is dict:
                    for key in ("arn", "userName"):
                        value = issuer.get(key)
                        if value is not None and type(value) is not dict and type(value) is not list:
                            entities.append(value if type(value) is str else java_str(value))
                federation = context.get("webIdFederationData")
                if type(federation) is dict:
                    value = federation.get("federatedProvider")
                    if value is not None and type(value) is not dict and type(value) is not list:
                        entities.append(value if type(value) is str else java_str(value))
        if type(resources) is list:
            for resource in resources:
                if type(resource) is dict:
                    value = resource.get("ARN")
                    if value is not None and type(value) is not dict and type(value) is not list:
                        entities.append(value if type(value) is str else java_str(value))
        source_paths = ENTITY_BY_SOURCE.get(provider) if type(provider) is str else None
        if source_paths:
            view = {
                "requestParameters": request,
                "responseElements": response,
                "additionalEventData": additional,
                "sourceIdentity": get("sourceIdentity"),
            }
            for path in source_paths:
                _walk(view, path, entities)
        if entities:
            if len(entities) == 1:
                doc["related.entity"] = entities
            else:
                unique = set(entities)
                unique.discard("")
                doc["related.entity"] = sorted(unique)
        return doc


_RENAMES: tuple[tuple[str, str], ...] = (
    ("requestID", "aws.cloudtrail.request_id"),
    ("eventID", "event.id"),
    ("eventType", "aws.cloudtrail.event_type"),
    ("apiVersion", "aws.cloudtrail.api_version"),
    ("managementEvent", "aws.cloudtrail.management_event"),
    ("readOnly", "aws.cloudtrail.read_only"),
    ("recipientAccountId", "aws.cloudtrail.recipient_account_id"),
    ("sharedEventId", "aws.cloudtrail.shared_event_id"),
    ("vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id"),
)


def _put_resources(doc: dict[str, Any], resources: list[Any]) -> None:
    """``aws.cloudtrail.resources``: ARN->arn, accountId->account_id, de-duplicated on
    (arn, account_id, type) in the pipeline's HashMap order, flattened per leaf."""
    unique: dict[str, dict[str, Any]] = {}
    for original in resources:
        if type(original) is not dict:
            continue
        resource = dict(original)
        if "ARN" in resource:
            resource["arn"] = resource.pop("ARN")
        if "accountId" in resource:
            resource["account_id"] = resource.pop("accountId")
        key = f"{java_str(resource.get('arn', ''))}_{java_str(resource.get('account_id', ''))}_{java_str(resource.get('type', ''))}"
        unique[key] = resource
    ordered = [unique[k] for k in hashmap_order(list(unique))]
    if ordered:
        for resource in ordered:
            for key, value in resource.items():
                _extend(doc, "aws.cloudtrail.resources." + key, [value])
