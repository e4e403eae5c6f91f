"""CloudTrail -> ECS mapping rules, each with a record that shows it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from ctdetect.ecs import CloudTrailMapper, MappingError, ecs_event, flatten, nest
from ctdetect.ecs.javastr import java_str
from ctdetect.ecs.stream import iter_events
from ctdetect.readers import SkipCounter


def raw(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:i-0abc",
            "arn": "arn:aws:sts::111122223333:assumed-role/waf-role/i-0abc",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": "arn:aws:iam::111122223333:role/waf-role",
                    "accountId": "111122223333",
                    "userName": "waf-role",
                },
                "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": "2024-05-01T10:11:12Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": {"Host": "s3.eu-west-1.amazonaws.com", "empty": None, "blank": ""},
        "responseElements": None,
        "requestID": "REQ1",
        "eventID": "EVT1",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    record.update(overrides)
    return record


class FakeGeo:
    def __init__(self) -> None:
        self.calls = 0

    def lookup(self, ip: str) -> dict[str, Any]:
        self.calls += 1
        return {"source.geo.country_iso_code": "FR", "source.geo.city_name": "Paris", "source.as.number": 64500}


def test_core_fields() -> None:
    doc = CloudTrailMapper().map(raw())
    assert doc["@timestamp"] == "2024-05-01T10:11:12.000Z"
    assert doc["_ts"] == 1714558272000
    assert doc["event.action"] == "ListBuckets"
    assert doc["event.provider"] == "s3.amazonaws.com"
    assert doc["event.dataset"] == doc["data_stream.dataset"] == "aws.cloudtrail"
    assert doc["event.module"] == "aws" and doc["event.kind"] == "event"
    assert doc["event.outcome"] == "success" and doc["event.type"] == ["info"] and "event.category" not in doc
    assert doc["user.name"] == "waf-role"  # the assumed role's name
    assert doc["user.id"] == "AROAEXAMPLE:i-0abc"
    assert doc["cloud.account.id"] == "111122223333" and doc["cloud.region"] == "eu-west-1"
    assert doc["aws.cloudtrail.user_identity.session_context.creation_date"] == "2024-05-01T09:00:00.000Z"
    assert doc["aws.cloudtrail.user_identity.session_context.session_issuer.arn"].endswith("role/waf-role")
    assert doc["aws.cloudtrail.request_parameters"] == "{Host=s3.eu-west-1.amazonaws.com}"  # nulls dropped
    assert doc["aws.cloudtrail.flattened.request_parameters.Host"] == "s3.eu-west-1.amazonaws.com"
    assert "aws.cloudtrail.response_elements" not in doc
    assert doc["aws.cloudtrail.read_only"] is True and doc["aws.cloudtrail.management_event"] == "true"  # text since newer versions
    assert doc["user_agent.name"] == "aws-cli" and doc["user_agent.version"] == "2.15.0"
    assert doc["source.ip"] == doc["source.address"] == "198.51.100.7"
    assert "arn:aws:iam::111122223333:role/waf-role" in doc["related.entity"]


def test_iam_user_name_wins_and_related_user() -> None:
    record = raw(
        userIdentity={"type": "IAMUser", "userName": "alice", "principalId": "AIDA1", "arn": "arn:aws:iam::1:user/alice"},
        eventSource="iam.amazonaws.com",
        eventName="CreateAccessKey",
        requestParameters={"userName": "bob"},
        responseElements={"accessKey": {"userName": "bob", "accessKeyId": "AKIA2", "status": "Active"}},
    )
    doc = CloudTrailMapper().map(record)
    assert doc["user.name"] == "alice"
    assert doc["related.user"] == ["alice", "bob"]
    assert doc["user.target.name"] == "bob"
    assert doc["event.category"] == ["iam"] and doc["event.type"] == ["user", "change"]
    assert "AKIA2" in doc["related.entity"]


def test_source_ip_only_for_ip_addresses_and_geo_is_cached() -> None:
    geo = FakeGeo()
    mapper = CloudTrailMapper(geoip=geo)
    service = mapper.map(raw(sourceIPAddress="ec2.amazonaws.com", userAgent="ec2.amazonaws.com"))
    assert service["source.address"] == "ec2.amazonaws.com" and "source.ip" not in service
    assert "source.geo.country_iso_code" not in service
    assert service["user_agent.name"] == "Other" and service["user_agent.device.name"] == "Other"
    for _ in range(3):
        doc = mapper.map(raw(sourceIPAddress="2001:db8::1"))
    assert doc["source.ip"] == "2001:db8::1"
    assert doc["source.geo.country_iso_code"] == "FR" and doc["source.as.number"] == 64500
    assert geo.calls == 1


def test_errors_make_failures() -> None:
    doc = CloudTrailMapper().map(raw(errorCode="AccessDenied", errorMessage="User is not authorized"))
    assert doc["event.outcome"] == "failure"
    assert doc["aws.cloudtrail.error_code"] == "AccessDenied"
    assert doc["aws.cloudtrail.error_message"] == "User is not authorized"


def test_console_login_fields() -> None:
    record = raw(
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"LoginTo": "https://console.aws.amazon.com", "MobileVersion": "No", "MFAUsed": "Yes"},
        errorMessage="ignored by the outcome rule",
    )
    doc = CloudTrailMapper().map(record)
    assert doc["event.outcome"] == "success"  # ConsoleLogin's own result wins
    assert doc["event.category"] == ["authentication"]
    assert doc["aws.cloudtrail.console_login.additional_eventdata.mfa_used"] is True
    assert doc["aws.cloudtrail.console_login.additional_eventdata.mobile_version"] is False
    assert doc["aws.cloudtrail.flattened.additional_eventdata.MFAUsed"] == "Yes"
    console_call = CloudTrailMapper().map(raw(sessionCredentialFromConsole="true"))
    assert console_call["aws.cloudtrail.session_credential_from_console"] == "true"


def test_tls_resources_and_flattened_arrays() -> None:
    record = raw(
        tlsDetails={"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": "h"},
        resources=[{"ARN": "arn:a", "accountId": "1", "type": "T"}, {"ARN": "arn:a", "accountId": "1", "type": "T"}, {"ARN": "arn:b"}],
        requestParameters={"items": [{"group": "all"}, {"userId": "222"}]},
    )
    doc = CloudTrailMapper().map(record)
    assert (doc["tls.version_protocol"], doc["tls.version"]) == ("tls", "1.2")
    assert sorted(doc["aws.cloudtrail.resources.arn"]) == ["arn:a", "arn:b"]
    assert doc["aws.cloudtrail.flattened.request_parameters.items.group"] == ["all"]
    assert doc["aws.cloudtrail.flattened.request_parameters.items.userId"] == ["222"]


def test_records_that_cannot_map() -> None:
    mapper = CloudTrailMapper()
    with pytest.raises(MappingError, match="eventTime"):
        mapper.map({"eventName": "X"})
    with pytest.raises(MappingError, match="ISO-8601"):
        mapper.map(raw(eventTime="yesterday"))


def test_timestamp_forms() -> None:
    mapper = CloudTrailMapper()
    assert mapper.map(raw(eventTime="2024-05-01T10:11:12.345Z"))["@timestamp"] == "2024-05-01T10:11:12.345Z"
    doc = mapper.map(raw(eventTime="2024-05-01T12:11:12+02:00"))
    assert doc["@timestamp"] == "2024-05-01T10:11:12.000Z" and doc["_ts"] == 1714558272000


def test_java_hashmap_string_order() -> None:
    value = {"attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [{"userId": "1"}]}}, "snapshotId": "snap-1"}
    assert java_str(value) == "{snapshotId=snap-1, attributeType=CREATE_VOLUME_PERMISSION, createVolumePermission={add={items=[{userId=1}]}}}"
    assert java_str({"a": 1.0, "b": [True, None], "c": 1e10}) == "{a=1.0, b=[true, null], c=1.0E10}"
    doubles = [1e7, 9999999.0, 1.2345e-4, 0.001, -2.5e-7, 123456789.0, 1e300]
    assert java_str(doubles) == "[1.0E7, 9999999.0, 1.2345E-4, 0.001, -2.5E-7, 1.23456789E8, 1.0E300]"


def test_flatten_and_nest() -> None:
    nested = {"@timestamp": "t", "event": {"action": "A", "type": ["info"]}, "source": {"geo": {"location": {"lat": 1.0}}}}
    flat = flatten(nested)
    assert flat == {"@timestamp": "t", "event.action": "A", "event.type": ["info"], "source.geo.location.lat": 1.0}
    point = {"source": {"geo": {"location": {"lat": 1.0, "lon": 2.0}}}}
    assert flatten(point) == {"source.geo.location": {"lat": 1.0, "lon": 2.0}}
    assert nest(flatten(point)) == point
    assert nest(flat) == nested
    assert flatten({"a.b": 1, "c": {"d.e": 2}}) == {"a.b": 1, "c.d.e": 2}


def test_ecs_documents_become_flat_events() -> None:
    doc = ecs_event({"@timestamp": "2024-05-01T10:11:12Z", "destination": {"ip": "169.254.169.254"}})
    assert doc == {"@timestamp": "2024-05-01T10:11:12.000Z", "destination.ip": "169.254.169.254", "_ts": 1714558272000}
    with pytest.raises(MappingError):
        ecs_event({"event": {"action": "x"}})


def test_iter_events_maps_both_kinds_and_reports_bad_records(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(raw()),
        orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "event.action": "connect"}),
        orjson.dumps(raw(eventTime="not a time")),
        b"{broken}",
        orjson.dumps(raw(eventID="EVT2")),
    ]
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(b"\n".join(lines))
    counter = SkipCounter()
    events = list(iter_events([path], on_skip=counter))
    assert [e.get("event.id") or e.get("event.action") for e in events] == ["EVT1", "connect", "EVT2"]
    assert sorted((s.record, s.reason) for s in counter.examples) == [(3, "bad_record"), (4, "invalid_json")]
    events = list(iter_events(["-"], stdin=io.BytesIO(lines[0])))
    assert events[0]["event.id"] == "EVT1"


def test_cached_calls_map_exactly_like_fresh_ones() -> None:
    """Repeated calls take the cache path; their documents must equal a fresh mapping."""
    geo = FakeGeo()
    cached = CloudTrailMapper(geoip=geo)
    variants = [
        raw(),
        raw(eventTime="2024-05-01T10:11:13Z", eventID="E2", requestID="R2", sourceIPAddress="ec2.amazonaws.com"),
        raw(eventTime="2024-05-02T00:00:00Z", eventID="E3", requestID="R3", sourceIPAddress="203.0.113.9"),
        raw(eventTime="2024-05-02T00:00:01Z", eventID="E4", errorCode="AccessDenied"),
    ]
    for record in variants + variants:
        assert cached.map(record) == CloudTrailMapper(geoip=FakeGeo()).map(record)
    assert len(cached._static) == 2  # the call with an error is another static part
