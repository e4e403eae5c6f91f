"""Raw CloudTrail record -> flat ECS document, as Elastic's aws integration does it.

Source of truth: the ``cloudtrail`` data stream's ingest pipeline of Elastic's ``aws``
integration (``elasticsearch/ingest_pipeline/default.yml`` and its ``entity``
sub-pipeline) plus the constant fields Elastic Agent and the data stream add
(``event.dataset``, ``event.module``, ``data_stream.*``), followed to the newest behaviour
the integration's pipeline test expectations show (``tests/ecs/test_golden.py``).

The mapping is data where it can be: the plain renames are tables of ``(source key,
target field[, convert])`` (``_RECORD_FIELDS``, ``_IDENTITY_FIELDS``, ...) applied by
``_copy_fields``; categorisation and ``related.entity`` sources are tables in
``ctdetect.ecs.tables``. What stays code is what the pipeline does in scripts (the
``toString()`` text, the e-mail and sign-in user names, outcome, resources). Work per
distinct value is cached in ``ctdetect.ecs.cache.BoundedCache``s; a repeated call costs a
dict copy of its cached document plus the per-event fields.

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
and digest-file fields (digest files are not events; readers skip them).
Added from newer versions: the actor/target entity fields of the ``actor_target_mapping``
option (``actor.entity.id``, ``target.entity.id``, ``entity.target.id``,
``user.target.entity.id``...; see ``ctdetect.ecs.entities``), on unless the mapper is
built with ``actor_target_mapping=False``.
Also added from newer versions: ``aws.cloudtrail.session_credential_from_console``, which
Elastic's rules test.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from ctdetect.ecs.cache import BoundedCache, compact, json_key
from ctdetect.ecs.entities import entity_fields
from ctdetect.ecs.flat import _flatten_into, _flatten_list
from ctdetect.ecs.javastr import hashmap_order, java_str, java_str_parsed
from ctdetect.ecs.tables import CATEGORIZATION, ENTITY_PATHS_BY_SOURCE
from ctdetect.ecs.useragent import parse_user_agent
from ctdetect.timeutil import MINUTE_MS, BadTimestamp, parse_event_time

ECS_VERSION = "8.11.0"
FLATTENED_LIMIT = 32766  # the pipeline keeps flattened copies only below this length
_DEFAULT_TYPE = ("info",)


class MappingError(ValueError):
    """A record cannot become an ECS event (no usable eventTime/eventName)."""


class GeoLookup(Protocol):
    """What the mapper needs from ``ctdetect.geoip.GeoIP``."""

    def lookup(self, ip: str) -> dict[str, Any]: ...


class RecordMapper(Protocol):
    """What the ingest path needs of a mapper: ``CloudTrailMapper`` or ``ecs.projected.ProjectedMapper``.

    ``maps_texts``: ``map`` also takes a ``readers.texts.RecordText`` (a record's JSON text,
    decoded only when the mapper must), so the reader need not decode delivery files whole,
    and ``map_text(text, head)`` maps the same from its two parts (``readers.texts.TextBatch``)."""

    maps_texts: bool

    def map(self, record: dict[str, Any]) -> dict[str, Any]: ...


@lru_cache(maxsize=65536)
def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def record_time(record: Any) -> tuple[str, int]:
    """The ``@timestamp`` text and epoch ms of a record; raises ``MappingError`` when it is
    not an object or has no usable ``eventTime``/``eventName`` (every mapper checks the same)."""
    if type(record) is not dict:
        raise MappingError("record is not a JSON object")
    event_time = record.get("eventTime")
    event_name = record.get("eventName")
    if not event_time or type(event_time) is not str:
        raise MappingError("record has no eventTime")
    if event_name is None or event_name == "":
        raise MappingError("record has no eventName")
    minute = MINUTE_MS.get(event_time[:16]) if len(event_time) == 20 and event_time[19] == "Z" else None
    if minute is not None and event_time[17:19].isdigit():  # the common form, minute seen before
        return event_time[:19] + ".000Z", minute + int(event_time[17:19]) * 1000
    try:
        return parse_event_time(event_time)
    except BadTimestamp:
        raise MappingError(f"eventTime {event_time!r} is not an ISO-8601 date-time") from None


def put_event_fields(doc: dict[str, Any], record: dict[str, Any], timestamp: str, epoch_ms: int,
                     geo: Callable[[str], dict[str, Any]] | None) -> None:
    """The per-event fields a cached document (``static_part``) lacks: time, ids, the source
    address and its GeoIP fields (``geo``: address -> flat fields; None: no GeoIP)."""
    doc["@timestamp"] = timestamp
    doc["_ts"] = epoch_ms
    value = record.get("eventID")
    if value is not None and value != "":
        doc["event.id"] = value
    value = record.get("requestID")
    if value is not None and value != "":
        doc["aws.cloudtrail.request_id"] = value
    address = record.get("sourceIPAddress")
    if address is not None and address != "":
        doc["source.address"] = address
        if type(address) is str and _is_ip(address):
            doc["source.ip"] = address
            doc["related.ip"] = [address]
            if geo is not None:
                doc.update(geo(address))


def static_part(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without its per-event fields: what any record with the same ``static_key``
    maps to, to be completed by ``put_event_fields``."""
    return {k: v for k, v in doc.items() if k not in _VOLATILE_OUT and not k.startswith(_GEO_PREFIXES)}


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


# raw key -> (where its flattened leaves go, where its toString() text goes)
_OBJECT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("requestParameters", "aws.cloudtrail.flattened.request_parameters", "aws.cloudtrail.request_parameters"),
    ("responseElements", "aws.cloudtrail.flattened.response_elements", "aws.cloudtrail.response_elements"),
    ("additionalEventData", "aws.cloudtrail.flattened.additional_eventdata", "aws.cloudtrail.additional_eventdata"),
    ("serviceEventDetails", "aws.cloudtrail.flattened.service_event_details", "aws.cloudtrail.service_event_details"),
)
_IdentityPart = tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]


class CloudTrailMapper:
    """Map raw CloudTrail records to flat ECS documents.

    ``geoip``: anything with ``lookup(ip) -> dict`` of flat ``source.geo.*`` /
    ``source.as.*`` fields (``ctdetect.geoip.GeoIP``); lookups are cached per IP.
    ``namespace``: ``data_stream.namespace`` (Fleet's default is ``default``).
    ``preserve_original``: keep ``event.original`` (the record re-serialised as JSON).
    ``actor_target_mapping``: write the actor/target entity fields (``actor.entity.id``,
    ``target.entity.id``, ``entity.target.id``, ``user.target.entity.id``...) as the
    integration does when its ``actor_target_mapping`` option is on (``ctdetect.ecs.entities``).

    Documents are built from bounded caches (repeated identities, parameters and whole
    calls), so two documents may share list values: treat documents as read-only and
    copy a list before changing it.
    """

    maps_texts = False  # it maps decoded records only (see ``RecordMapper``)

    def __init__(
        self,
        geoip: GeoLookup | None = None,
        *,
        namespace: str = "default",
        preserve_original: bool = False,
        geo_cache_size: int = 65536,
        actor_target_mapping: bool = True,
    ) -> None:
        self.namespace = namespace
        self.preserve_original = preserve_original
        self.actor_target_mapping = actor_target_mapping
        self._lookup = geoip.lookup if geoip is not None else None
        self._geo_cache: BoundedCache[str, dict[str, Any]] = BoundedCache(geo_cache_size)
        # Per-distinct-value caches (``ctdetect.ecs.cache``): identities, user agents and
        # request/response objects repeat a lot in real trails; JSON values are keyed by
        # their serialisation.
        self._identities: BoundedCache[bytes, _IdentityPart] = BoundedCache(_CACHE_LIMIT)
        self._agents: BoundedCache[str, dict[str, Any]] = BoundedCache(_CACHE_LIMIT)
        self._objects: BoundedCache[bytes, _Part] = BoundedCache(_CACHE_LIMIT)
        # Whole documents minus their per-event fields, keyed by the record without
        # eventTime/eventID/requestID/sourceIPAddress: repeated calls (same principal,
        # action, parameters) then cost a dict copy.
        self._static: BoundedCache[bytes, dict[str, Any]] = BoundedCache(STATIC_CACHE_LIMIT)

    def _geo(self, ip: str) -> dict[str, Any]:
        lookup = self._lookup
        return self._geo_cache.get_or_make(ip, lambda: dict(lookup(ip) or {}))  # type: ignore[misc]

    def _identity(self, raw: Any) -> _IdentityPart | None:
        if raw is None:
            return None
        key = json_key(raw)
        if key is None:
            return _identity_part(raw)
        found = self._identities.get(key)
        if found is None:  # the key is kept: copied to its own length
            found = self._identities.put(compact(key), _identity_part(raw))
        return found

    def _object(self, raw: Any, prefix: str) -> _Part:
        key = json_key(raw)
        if key is None:
            return _object_part(raw, prefix)
        return self._objects.get_or_make(key + prefix.encode(), lambda: _object_part(raw, prefix))

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        """One flat ECS document for one CloudTrail record. Raises ``MappingError``.

        Every document has one key order, its static part's then the per-event fields
        (``put_event_fields``), whether its static part was cached or not: a document's
        text must not depend on what the cache held when it was read (a hunt's mapping
        workers each hold a cache of their own, filled by whichever files they took)."""
        if self.preserve_original:
            return self.map_uncached(record)
        timestamp, epoch_ms = record_time(record)
        key = static_key(record)
        static = None if key is None else self._static.get(key)
        if static is None:
            static = static_part(self._map_full(record, record["eventName"], timestamp, epoch_ms))
            if key is not None:
                self._static.put(key, static)
        doc = static.copy()
        put_event_fields(doc, record, timestamp, epoch_ms, self.geo)
        return doc

    def map_uncached(self, record: dict[str, Any]) -> dict[str, Any]:
        """What ``map`` gives for ``record``, without reading or filling the cache (a projected
        event's whole document is rebuilt with it: ``ecs.projected``)."""
        timestamp, epoch_ms = record_time(record)
        doc = self._map_full(record, record["eventName"], timestamp, epoch_ms)
        if self.preserve_original:
            doc["event.original"] = orjson.dumps(record).decode()
            return doc
        out = static_part(doc)
        put_event_fields(out, record, timestamp, epoch_ms, self.geo)
        return out

    @property
    def geo(self) -> Callable[[str], dict[str, Any]] | None:
        """The cached GeoIP look-up (flat ``source.geo.*`` / ``source.as.*``), None without a database."""
        return self._geo if self._lookup is not None else None

    def _map_full(self, record: dict[str, Any], event_name: Any, timestamp: str, epoch_ms: int) -> dict[str, Any]:
        """Every pipeline step, for a record whose static part is not cached yet."""
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
        _copy_fields(record, _RECORD_FIELDS, doc)  # plain renames, in the pipeline's order

        # --- userIdentity (cached per distinct identity) -----------------------------
        related_user: list[str]
        entities: list[str]
        identity_part = self._identity(get("userIdentity"))
        if identity_part is None:
            related_user, entities = [], []
        else:
            doc.update(identity_part[0])
            related_user = list(identity_part[1])
            entities = list(identity_part[2])

        # --- event, cloud, source -----------------------------------------------------
        provider = get("eventSource")
        if type(provider) is str and provider.endswith(_AWS_DOMAIN):
            doc["cloud.service.name"] = provider[: -len(_AWS_DOMAIN)]
        address = get("sourceIPAddress")
        if address is not None and address != "":
            doc["source.address"] = address
            if type(address) is str and _is_ip(address):
                doc["source.ip"] = address
                doc["related.ip"] = [address]
                if self._lookup is not None:
                    doc.update(self._geo(address))
        agent = get("userAgent")
        if type(agent) is str and agent:
            doc.update(self._agents.get_or_make(agent, lambda: parse_user_agent(agent)))

        # --- request/response objects: toString() string + flattened leaves ----------
        additional_raw = get("additionalEventData")
        if provider == "signin.amazonaws.com" and type(additional_raw) is dict and "UserName" in additional_raw:
            # newer versions move the sign-in user name out of the additional data
            additional_raw = dict(additional_raw)
            signin_user = additional_raw.pop("UserName")
            if signin_user is not None and signin_user != "" and "user.name" not in doc:
                doc["user.name"] = signin_user
                related_user.append(java_str(signin_user))
                if type(signin_user) is str and "@" in signin_user:
                    doc["user.email"] = signin_user
        parts: dict[str, _Part] = {}
        for source_key, flat_prefix, text_field in _OBJECT_FIELDS:
            raw = additional_raw if source_key == "additionalEventData" else get(source_key)
            if raw is None:
                continue
            part = parts[source_key] = self._object(raw, flat_prefix)
            if part.text is not None:
                doc[text_field] = part.text
                if part.flat is not None:
                    doc.update(part.flat)
        request = parts.get("requestParameters")
        response = parts.get("responseElements")
        additional = parts.get("additionalEventData")
        # the pipeline reads aws.cloudtrail.flattened.*, which exists only below the size limit
        request_flat = request if request is not None and request.flat is not None and type(request.value) is dict else None
        response_flat = response.value if response is not None and response.flat is not None and type(response.value) is dict else None
        additional_flat = additional.value if additional is not None and additional.flat is not None and type(additional.value) is dict else None

        resources = get("resources")
        if resources is not None:
            resources = _clean(resources)
        if type(resources) is list:
            _put_resources(doc, resources)

        # --- related.user from request parameters ----------------------------------
        if request_flat is not None:
            for key in ("userName", "newUserName"):
                text = request_flat.scalar(key)
                if text is not None and text not in related_user:
                    related_user.append(text)
        if related_user:
            doc["related.user"] = related_user

        # --- ConsoleLogin additional data ------------------------------------------
        if action == "ConsoleLogin" and additional_flat is not None:
            _copy_fields(additional_flat, _CONSOLE_LOGIN_FIELDS, doc)

        # --- categorization and outcome ---------------------------------------------
        outcome = "failure" if ("aws.cloudtrail.error_code" in doc or "aws.cloudtrail.error_message" in doc) else "success"
        if action == "ConsoleLogin" and response_flat is not None:
            value = response_flat.get("ConsoleLogin")
            if type(value) is str:
                outcome = value.lower()
        doc["event.outcome"] = outcome
        categorization = CATEGORIZATION.get(action)
        if categorization is None:
            doc["event.type"] = ["info"]
        else:
            doc["event.category"] = list(categorization[0])
            if categorization[1]:
                doc["event.type"] = list(categorization[1])

        # --- digest-only account id, insights ------------------------------------------
        if "cloud.account.id" not in doc:
            value = get("awsAccountId")
            if value is None or value == "":
                value = get("recipientAccountId")  # newer versions fall back to the recipient
            if value is not None and value != "":
                doc["cloud.account.id"] = value
        insight = get("insightDetails")
        if insight is not None:
            insight = _clean(insight)
        if insight is not None:
            _put_flattened(doc, "aws.cloudtrail.flattened.insight_details", insight)

        # --- group / user target / user changes --------------------------------------
        if response_flat is not None:
            for outer, key, target in _RESPONSE_TEXT_FIELDS:
                inner = response_flat.get(outer)
                text = _scalar_text(inner.get(key)) if type(inner) is dict else None
                if text:
                    doc[target] = text
        if request_flat is not None:
            for key, target in _REQUEST_TEXT_FIELDS:
                text = request_flat.scalar(key)
                if text:
                    doc[target] = text

        # --- TLS ------------------------------------------------------------------------
        tls = get("tlsDetails")
        if type(tls) is dict:
            version = tls.get("tlsVersion")
            if type(version) is str and "v" in version:
                protocol, _, number = version.partition("v")
                doc["tls.version_protocol"] = protocol.lower()
                doc["tls.version"] = number
            _copy_fields(tls, _TLS_FIELDS, doc)

        # --- related.entity (entity sub-pipeline; identity values came with the identity)
        if type(resources) is list:
            for resource in resources:
                if type(resource) is dict:
                    value = resource.get("ARN")
                    if value is not None and type(value) is not dict and type(value) is not list:
                        entities.append(value if type(value) is str else java_str(value))
        by_kind = ENTITY_PATHS_BY_SOURCE.get(provider) if type(provider) is str else None
        if by_kind:
            for part, kind in ((request, "requestParameters"), (response, "responseElements"), (additional, "additionalEventData")):
                if part is not None and part.value is not None and kind in by_kind:
                    entities.extend(part.entities_for(provider, by_kind[kind]))
            if "sourceIdentity" in by_kind:
                _entity_value(get("sourceIdentity"), entities)
        # newer versions write the list even when it stays empty
        if len(entities) <= 1:
            doc["related.entity"] = entities
        else:
            unique = set(entities)
            unique.discard("")
            doc["related.entity"] = sorted(unique)

        # --- actor/target entity fields (the integration's actor_target_mapping option)
        if self.actor_target_mapping:
            entity_fields(doc, record, get("userIdentity"), request.value if request is not None else None,
                          response.value if response is not None else None, provider, action)
        return doc


_AWS_DOMAIN = ".amazonaws.com"
_CACHE_LIMIT = 4_096
STATIC_CACHE_LIMIT = 2_048  # whole documents by static_key (``ecs.projected`` keeps as many, for the same hits)
_VOLATILE_IN = ("eventTime", "eventID", "requestID", "sourceIPAddress")
_VOLATILE_NEEDLES = tuple((which, name, b'"' + name.encode() + b'":') for which, name in enumerate(_VOLATILE_IN))
# the members' ``"name":`` texts, a needle's start (``ecs.textcut`` proves cuts with them too)
TIME_NEEDLE, EVENT_NEEDLE, REQUEST_NEEDLE, ADDRESS_NEEDLE = (prefix for _, _, prefix in _VOLATILE_NEEDLES)


def static_key(record: dict[str, Any]) -> bytes | None:
    """The record's JSON without its per-event values (time, ids, source address).

    Cutting ``"name":"value"`` out of one serialisation is much cheaper than building a
    filtered copy. Only exact, string-valued occurrences are cut; anything unusual
    returns None and the record is mapped in full.
    """
    try:
        blob = orjson.dumps(record)
    except (TypeError, orjson.JSONEncodeError):
        return None
    cut = volatile_cut(blob, record)
    return None if cut is None else cut[0]


def volatile_cut(blob: bytes, values: dict[str, Any]) -> tuple[bytes, tuple[int, ...]] | None:
    """``static_key``'s cut of ``blob`` (a record's JSON text, ``values`` giving the record's
    top-level values) and where each per-event member was cut, counted in the cut text
    (-1: no such key); None where ``static_key`` gives None.

    A needle ``"name":"value"`` can only match a whole member of an object in a JSON text
    (its first quote opens a key: a closing quote is never followed by a letter), and
    cutting whole members makes no new match, so the first matches of the original text,
    cut at once, are the ones ``static_key`` cuts one after the other: the same text.

    Why the places: two texts with the same cut text and the same places differ only in
    the values of those members, so a text whose cut and places match those of an
    ``orjson.dumps(record)`` is such a serialisation too, with other values
    (``ecs.projected`` keys records it never decodes so). Places are counted in the cut
    text so that they do not depend on the lengths of the values.

    Why two ways: nearly every record has the four members as strings in CloudTrail's own
    order (time, source address, request id, event id); for those the cut is written out
    (one join, no sort, no loop: a fifth of this function's cost, paid for
    every record a hunt or replay maps). Any other record takes the general loop; both give
    the same answer for the same matches (``_cut_general``)."""
    needles = member_needles(values)
    if needles is None:
        return _cut_general(blob, values)
    return cut_in_order(blob, needles, values)


def member_needles(values: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes] | None:
    """The four per-event members as ``volatile_cut`` searches for them (``"name":`` and the
    value's JSON string), in CloudTrail's order: time, source address, request id, event id;
    None unless all four are strings (``ecs.textcut`` proves cuts with the same needles)."""
    get = values.get
    when, address, request_id, event_id = get("eventTime"), get("sourceIPAddress"), get("requestID"), get("eventID")
    if type(when) is str and type(event_id) is str and type(request_id) is str and type(address) is str:
        dumps = orjson.dumps
        return (TIME_NEEDLE + dumps(when), ADDRESS_NEEDLE + dumps(address), REQUEST_NEEDLE + dumps(request_id),
                EVENT_NEEDLE + dumps(event_id))
    return None


def cut_in_order(blob: bytes, needles: tuple[bytes, bytes, bytes, bytes],
                 values: dict[str, Any]) -> tuple[bytes, tuple[int, ...]] | None:
    """``volatile_cut(blob, values)`` given ``member_needles(values)``: the cut written out when
    the four members are found in CloudTrail's order, else the general loop."""
    n0, n3, n2, n1 = needles
    find = blob.find
    a0, a3, a2, a1 = find(n0), find(n3), find(n2), find(n1)
    if 0 <= a0 < a3 < a2 < a1:  # all found, in CloudTrail's order
        e0, e3, e2 = a0 + len(n0), a3 + len(n3), a2 + len(n2)
        r3 = e0 - a0
        r2 = r3 + e3 - a3
        r1 = r2 + e2 - a2
        return (b"".join((blob[:a0], blob[e0:a3], blob[e3:a2], blob[e2:a1], blob[a1 + len(n1):])),
                (a0, a1 - r1, a2 - r2, a3 - r3))
    if a0 < 0 or a1 < 0 or a2 < 0 or a3 < 0:
        return None
    return _cut_general(blob, values)


def _cut_general(blob: bytes, values: dict[str, Any]) -> tuple[bytes, tuple[int, ...]] | None:
    """``volatile_cut`` for any record: the members present, cut in the order they are found."""
    dumps = orjson.dumps
    get = values.get
    found: list[tuple[int, int, int]] = []  # (where, length, which)
    for which, name, prefix in _VOLATILE_NEEDLES:
        value = get(name)
        if value is None:
            continue
        if type(value) is not str:
            return None
        needle = prefix + dumps(value)
        at = blob.find(needle)
        if at < 0:
            return None
        found.append((at, len(needle), which))
    found.sort()
    places = [-1, -1, -1, -1]
    parts = []
    start = removed = 0
    for at, size, which in found:
        parts.append(blob[start:at])
        places[which] = at - removed
        removed += size
        start = at + size
    parts.append(blob[start:])
    return b"".join(parts), tuple(places)


_VOLATILE_OUT = frozenset(("@timestamp", "_ts", "event.id", "aws.cloudtrail.request_id", "source.address", "source.ip", "related.ip"))
_GEO_PREFIXES = ("source.geo.", "source.as.")


class _Part:
    """A request/response/additional-data object as the pipeline sees it, computed once
    per distinct value: its ``toString()`` text, its flattened leaves (None above the size
    limit), the cleaned value, and lazily the scalars and ``related.entity`` values read
    from it."""

    __slots__ = ("text", "flat", "value", "_entities", "_scalars")

    def __init__(self, text: str | None, flat: dict[str, Any] | None, value: Any) -> None:
        self.text = text
        self.flat = flat
        self.value = value
        self._entities: dict[str, tuple[str, ...]] = {}
        self._scalars: dict[str, str | None] = {}

    def scalar(self, key: str) -> str | None:
        """What ``{{...flattened.<kind>.<key>}}`` renders (top-level key of a dict value)."""
        try:
            return self._scalars[key]
        except KeyError:
            text = _scalar_text(self.value.get(key)) if type(self.value) is dict else None
            self._scalars[key] = text
            return text

    def entities_for(self, provider: str, paths: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
        found = self._entities.get(provider)
        if found is None:
            out: list[str] = []
            for path in paths:
                _walk(self.value, path, out)
            found = self._entities[provider] = tuple(out)
        return found


def _object_part(raw: Any, prefix: str) -> _Part:
    cleaned = _clean(raw)
    if cleaned is None:
        return _Part(None, None, None)
    text = java_str_parsed(raw) or ""
    if len(text) >= FLATTENED_LIMIT:
        return _Part(text, None, cleaned)
    flat: dict[str, Any] = {}
    _put_flattened(flat, prefix, cleaned)
    return _Part(text, flat, cleaned)


def _entity_value(value: Any, out: list[str]) -> None:
    if value is not None and type(value) is not dict and type(value) is not list:
        out.append(value if type(value) is str else java_str(value))


def _identity_part(raw: Any) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """Fields, related.user values and related.entity values of one ``userIdentity``."""
    fields: dict[str, Any] = {}
    related: list[str] = []
    entities: list[str] = []
    identity = _clean(raw)
    if type(identity) is not dict:
        return fields, (), ()
    iget = identity.get
    _copy_fields(identity, _IDENTITY_FIELDS, fields)
    value = iget("userName")
    if value is not None:
        related.append(java_str(value))
        if type(value) is str and "@" in value:
            fields["user.email"] = value  # newer versions: an e-mail user name is user.email too
    for key in ("arn", "identityProvider", "principalId", "userName"):
        _entity_value(iget(key), entities)
    context = iget("sessionContext")
    if type(context) is dict:
        _copy_fields(context, _SESSION_FIELDS, fields)
        attributes = context.get("attributes")
        if type(attributes) is dict:
            _copy_fields(attributes, _ATTRIBUTE_FIELDS, fields)
            value = attributes.get("creationDate")
            if type(value) is str:
                try:
                    fields["aws.cloudtrail.user_identity.session_context.creation_date"] = parse_event_time(value)[0]
                except BadTimestamp:
                    pass  # the pipeline's date processor ignores failures
        issuer = context.get("sessionIssuer")
        if type(issuer) is dict:
            _copy_fields(issuer, _ISSUER_FIELDS, fields)
            value = issuer.get("userName")
            if value is not None and "user.name" not in fields:  # rename never overwrites
                fields["user.name"] = value
            _entity_value(issuer.get("arn"), entities)
            _entity_value(issuer.get("userName"), entities)
        federation = context.get("webIdFederationData")
        if type(federation) is dict:
            _entity_value(federation.get("federatedProvider"), entities)
    arn = iget("arn")
    if "user.email" not in fields and iget("type") == "AssumedRole" and type(arn) is str and "@" in arn.rpartition("/")[2]:
        fields["user.email"] = arn.rpartition("/")[2]  # newer versions: an e-mail role session name (SSO)
    value = iget("invokedBy")
    if value is not None:
        if iget("type") == "AWSService":
            fields["service.name"] = value  # newer versions: the calling service
    return fields, tuple(related), tuple(entities)


# --- the mapping as data ---------------------------------------------------------------
# (source key, target field[, convert]): copied when present and not empty (the pipeline
# drops null and "" first); ``convert`` turns the value as a newer version writes it.
FieldTable = tuple[tuple[Any, ...], ...]


def _text(value: Any) -> str:
    return java_str(value)


def _not_no(value: Any) -> bool:
    return value != "No"


def _copy_fields(source: dict[str, Any], table: FieldTable, doc: dict[str, Any]) -> None:
    """Every ``(key, target[, convert])`` of ``table`` present in ``source``, into ``doc``."""
    get = source.get
    for entry in table:
        value = get(entry[0])
        if value is not None and value != "":
            doc[entry[1]] = entry[2](value) if len(entry) > 2 else value


_IDENTITY_FIELDS: FieldTable = (
    ("type", "aws.cloudtrail.user_identity.type"),
    ("userName", "user.name"),
    ("principalId", "user.id"),
    ("arn", "aws.cloudtrail.user_identity.arn"),
    ("accountId", "cloud.account.id"),
    ("accessKeyId", "aws.cloudtrail.user_identity.access_key_id"),
    ("invokedBy", "aws.cloudtrail.user_identity.invoked_by"),
)
_SESSION_FIELDS: FieldTable = (("ec2RoleDelivery", "aws.cloudtrail.user_identity.session_context.ec2_role_delivery"),)
_ATTRIBUTE_FIELDS: FieldTable = (("mfaAuthenticated", "aws.cloudtrail.user_identity.session_context.mfa_authenticated"),)
_ISSUER_FIELDS: FieldTable = (
    ("type", "aws.cloudtrail.user_identity.session_context.session_issuer.type"),
    ("principalId", "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id"),
    ("arn", "aws.cloudtrail.user_identity.session_context.session_issuer.arn"),
    ("accountId", "aws.cloudtrail.user_identity.session_context.session_issuer.account_id"),
)
_TLS_FIELDS: FieldTable = (("cipherSuite", "tls.cipher"), ("clientProvidedHostHeader", "tls.client.server_name"))
_CONSOLE_LOGIN_FIELDS: FieldTable = (
    ("MobileVersion", "aws.cloudtrail.console_login.additional_eventdata.mobile_version", _not_no),
    ("LoginTo", "aws.cloudtrail.console_login.additional_eventdata.login_to"),
    ("MFAUsed", "aws.cloudtrail.console_login.additional_eventdata.mfa_used", _not_no),
)
# read from the flattened request/response: (key, target) and (object, key, target)
_REQUEST_TEXT_FIELDS = (("newUserName", "user.changes.name"), ("groupName", "group.name"), ("userName", "user.target.name"))
_RESPONSE_TEXT_FIELDS = (("group", "groupId", "group.id"), ("user", "userId", "user.target.id"))

# Top-level keys of the record the pipeline renames as they are, in its order.
_RECORD_FIELDS: FieldTable = (
    ("eventVersion", "aws.cloudtrail.event_version"),
    ("eventSource", "event.provider"),
    ("eventCategory", "aws.cloudtrail.event_category"),
    ("awsRegion", "cloud.region"),
    ("errorCode", "aws.cloudtrail.error_code"),
    ("errorMessage", "aws.cloudtrail.error_message"),
    ("requestID", "aws.cloudtrail.request_id"),
    ("eventID", "event.id"),
    ("eventType", "aws.cloudtrail.event_type"),
    ("managementEvent", "aws.cloudtrail.management_event", _text),  # newer versions write it as text
    ("readOnly", "aws.cloudtrail.read_only"),
    ("recipientAccountId", "aws.cloudtrail.recipient_account_id"),
    ("apiVersion", "aws.cloudtrail.api_version"),
    ("sharedEventId", "aws.cloudtrail.shared_event_id"),
    ("vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id"),
    # Newer integration versions define this field (fields.yml) and Elastic's rules test
    # it (``not aws.cloudtrail.session_credential_from_console: "true"``).
    ("sessionCredentialFromConsole", "aws.cloudtrail.session_credential_from_console"),
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
