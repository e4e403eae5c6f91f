"""Odd but parseable records never crash the mapper: they map, or raise MappingError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctdetect.ecs import CloudTrailMapper, MappingError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
                    st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
KEYS = ["userIdentity", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
        "responseElements", "additionalEventData", "resources", "tlsDetails", "errorCode", "errorMessage",
        "readOnly", "serviceEventDetails", "insightDetails", "sourceIdentity", "eventID", "requestID"]
MAPPER = CloudTrailMapper()


@settings(max_examples=60, deadline=None)
@given(
    fields=st.dictionaries(st.sampled_from(KEYS), values, max_size=10),
    name=st.one_of(st.sampled_from(["ConsoleLogin", "CreateUser", "RunInstances", "AssumeRole"]), values),
    time=st.one_of(st.just("2024-05-01T10:00:00Z"), values),
    source=st.one_of(st.sampled_from(["ec2.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com"]), values),
)
def test_mapper_never_crashes(fields: dict, name: object, time: object, source: object) -> None:
    record = {"eventTime": time, "eventName": name, "eventSource": source, **fields}
    try:
        doc = MAPPER.map(record)
    except MappingError:
        return
    assert doc["event.action"] and isinstance(doc["_ts"], int)
    again = MAPPER.map(record)  # second time through the caches
    assert again == doc
