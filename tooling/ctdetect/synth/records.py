"""The one builder of raw CloudTrail records, used by the synthetic history
(``synth.generator``) and by the generators of the scenarios' committed events
(``generators/gen_ct_scenarios.py``, ``generators/scenario_builders.py``,
``generators/gen_esql_scenarios.py``).

Why one: a record's envelope (which keys, in which order, what a console sign-in or a data
event looks like) is knowledge of CloudTrail's format; kept in one place it is fixed once.
Keys come in the order CloudTrail writes them (``eventVersion`` ... ``userAgent``,
``errorCode``/``errorMessage``, ``requestParameters``, ``responseElements``, then
``additionalEventData``, ``requestID``, ``eventID``, ``readOnly``, ``resources``,
``eventType``, ``managementEvent``, ``recipientAccountId``, ``eventCategory``,
``tlsDetails``, ``sessionCredentialFromConsole``). Optional keys are written only when given.
``extra`` is appended last: a few committed scenario files carry a key there, and their
bytes must not change when they are regenerated.

Ids are the caller's: each generator draws them from its own seeded stream (``uuid4``
for a version-4 UUID from a ``random.Random``), so output stays byte-identical for a seed.
"""

from __future__ import annotations

import random
import uuid
from typing import Any, Callable

TLS_VERSION = "TLSv1.3"
TLS_CIPHER = "TLS_AES_128_GCM_SHA256"
SIGNIN_HOST = "signin.aws.amazon.com"

RecordMaker = Callable[..., dict[str, Any]]  # (identity, time, ip, event_id, request_id=None, error_code=None, error_message=None)


def record_maker(
    *,
    version: str,
    source: str,
    name: str,
    region: str,
    agent: str,
    account: str,
    read_only: bool,
    request: Any = None,
    response: Any = None,
    additional: dict[str, Any] | None = None,
    resources: list[dict[str, str]] | None = None,
    event_type: str = "AwsApiCall",
    management: bool = True,
    category: str = "Management",
    tls: dict[str, str] | None = None,
    from_console: bool = False,
    extra: dict[str, Any] | None = None,
    response_when_failed: bool = False,
) -> RecordMaker:
    """A function making records of one kind of call: what changes from one call to the next
    (identity, time, address, ids, error) is its arguments, the rest is fixed here once. The
    synthetic history makes millions of records this way, at the cost of a plain dict.

    ``additional``: keys written after ``responseElements`` (``additionalEventData``, or what
    a generator placed there); ``tls`` ``None`` omits ``tlsDetails``; ``from_console`` writes
    ``sessionCredentialFromConsole``. A call with an ``error_code`` has no
    ``responseElements``, as CloudTrail records failed calls, unless ``response_when_failed``
    (the anomaly scenarios' failed sign-ins were generated with their response)."""

    def make(identity: dict[str, Any], time: str, ip: str, event_id: str, request_id: str | None = None,
             error_code: str | None = None, error_message: str | None = None) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "eventVersion": version,
            "userIdentity": identity,
            "eventTime": time,
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error_code is not None:
            rec["errorCode"] = error_code
        if error_message is not None:
            rec["errorMessage"] = error_message
        rec["requestParameters"] = request
        rec["responseElements"] = response if error_code is None or response_when_failed else None
        if additional:
            rec.update(additional)
        if request_id is not None:
            rec["requestID"] = request_id
        rec["eventID"] = event_id
        rec["readOnly"] = read_only
        if resources is not None:
            rec["resources"] = resources
        rec["eventType"] = event_type
        rec["managementEvent"] = management
        rec["recipientAccountId"] = account
        rec["eventCategory"] = category
        if tls is not None:
            rec["tlsDetails"] = tls
        if from_console:
            rec["sessionCredentialFromConsole"] = "true"
        if extra:
            rec.update(extra)
        return rec

    return make


def cloudtrail_record(
    *,
    identity: dict[str, Any],
    time: str,
    ip: str,
    event_id: str,
    request_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    **shape: Any,
) -> dict[str, Any]:
    """One raw CloudTrail record (``eventTime`` is ``time``, ISO-8601 with a ``Z``); ``shape``
    is what ``record_maker`` takes (``version``, ``source``, ``name``, ``region``, ``agent``,
    ``account``, ``read_only``, ...). ``request_id`` ``None`` omits ``requestID`` (console
    sign-ins have none)."""
    return record_maker(**shape)(identity, time, ip, event_id, request_id, error_code, error_message)


def console_login_record(
    *,
    version: str,
    identity: dict[str, Any],
    time: str,
    ip: str,
    agent: str,
    account: str,
    event_id: str,
    success: bool,
    additional_data: dict[str, Any],
    tls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``ConsoleLogin`` as CloudTrail records it: signin.amazonaws.com in us-east-1, type
    ``AwsConsoleSignIn``, no request id, ``Failed authentication`` when it fails."""
    return cloudtrail_record(
        version=version, identity=identity, time=time, source="signin.amazonaws.com", name="ConsoleLogin", region="us-east-1",
        ip=ip, agent=agent, account=account, event_id=event_id, read_only=False,
        error_message=None if success else "Failed authentication",
        response={"ConsoleLogin": "Success" if success else "Failure"},
        additional={"additionalEventData": additional_data}, event_type="AwsConsoleSignIn", tls=tls,
    )


def tls_details(host: str) -> dict[str, str]:
    """``tlsDetails`` of a call made over TLS 1.3 to ``host``."""
    return {"tlsVersion": TLS_VERSION, "cipherSuite": TLS_CIPHER, "clientProvidedHostHeader": host}


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (128 bits), for reproducible ids."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
