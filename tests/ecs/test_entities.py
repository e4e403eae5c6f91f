"""Actor/target entity fields (the aws integration's ``actor_target_mapping`` option)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from ctdetect.ecs import CloudTrailMapper
from ctdetect.ecs.entities import actor_kind, target_kind

ENTITY_KEYS = ("actor.entity.id", "target.entity.id", "entity.target.id", "entity.id", "user.entity.id",
               "user.target.entity.id", "host.entity.id", "host.target.entity.id", "service.entity.id",
               "service.target.entity.id")

IAM_USER = {"type": "IAMUser", "principalId": "AIDA1", "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333", "userName": "alice"}


def _map(**fields: Any) -> dict[str, Any]:
    record = {"eventTime": "2024-05-01T10:00:00Z", "eventVersion": "1.08", "userIdentity": IAM_USER,
              "recipientAccountId": "111122223333", "awsRegion": "us-east-1"}
    record.update(fields)
    return CloudTrailMapper().map(record)


def _entities(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ENTITY_KEYS if k in doc}


def test_update_assume_role_policy_targets_the_role_name() -> None:
    doc = _map(eventSource="iam.amazonaws.com", eventName="UpdateAssumeRolePolicy",
               requestParameters={"roleName": "stratus-backdoor-role", "policyDocument": "{}"})
    assert _entities(doc) == {
        "target.entity.id": ["stratus-backdoor-role"],
        "entity.target.id": ["stratus-backdoor-role"],
        "actor.entity.id": ["arn:aws:iam::111122223333:user/alice"],
        "user.entity.id": ["arn:aws:iam::111122223333:user/alice"],
    }


def test_targets_are_sorted_split_by_kind_and_account_ids_are_generic() -> None:
    doc = _map(eventSource="iam.amazonaws.com", eventName="AttachUserPolicy",
               requestParameters={"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert doc["target.entity.id"] == ["arn:aws:iam::aws:policy/AdministratorAccess", "bob"]
    assert doc["service.target.entity.id"] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert doc["entity.target.id"] == ["bob"]
    doc = _map(eventSource="sts.amazonaws.com", eventName="GetCallerIdentity")
    assert doc["target.entity.id"] == doc["entity.target.id"] == ["111122223333"]


@pytest.mark.parametrize(("target", "field"), [
    ("arn:aws:iam::1:role/admin", "user.target.entity.id"),
    ("arn:aws:iam::1:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX", "service.target.entity.id"),
    ("arn:aws:ec2:us-east-1:1:instance/i-0abc", "host.target.entity.id"),
    ("arn:aws:s3:::my-bucket", "service.target.entity.id"),
    ("arn:aws:logs:us-east-1:1:log-group:/aws/x", "service.target.entity.id"),
    ("arn:aws:sts::1", "entity.target.id"),
    ("AKIAABCDEFGHIJKLMNOP", "user.target.entity.id"),
    ("i-0123456789abcdef0", "host.target.entity.id"),
    ("sg-0123", "service.target.entity.id"),
    ("snap-0a392d80692e2526a", "entity.target.id"),  # not a host since elastic/integrations#17827
    ("111122223333", "entity.target.id"),
])
def test_target_kinds(target: str, field: str) -> None:
    assert target_kind(target) == field


@pytest.mark.parametrize(("actor", "user_type", "field"), [
    ("ec2.amazonaws.com", "AWSService", "service.entity.id"),
    ("arn:aws:sts::1:assumed-role/AWSServiceRoleForSupport/s", "AssumedRole", "service.entity.id"),
    ("arn:aws:iam::1:root", "Root", "user.entity.id"),
    ("arn:aws:sts::1:federated-user/bob", "FederatedUser", "user.entity.id"),
    ("arn:aws:ec2:us-east-1:1:instance/i-1", None, "host.entity.id"),
    ("i-0123", None, "host.entity.id"),
    ("arn:aws:identitystore::1:user/x", "IdentityCenterUser", "user.entity.id"),
    ("d-123/abc", "IdentityCenterUser", "entity.id"),
])
def test_actor_kinds(actor: str, user_type: str | None, field: str) -> None:
    assert actor_kind(actor, user_type) == field


def test_assume_role_actor_is_the_session_issuer_or_the_calling_service() -> None:
    role = {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/ci/session",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/ci"}}}
    doc = _map(eventSource="sts.amazonaws.com", eventName="AssumeRole", userIdentity=role,
               requestParameters={"roleArn": "arn:aws:iam::1:role/target", "roleSessionName": "s"})
    assert doc["actor.entity.id"] == doc["user.entity.id"] == ["arn:aws:iam::1:role/ci"]
    assert doc["target.entity.id"] == doc["user.target.entity.id"] == ["arn:aws:iam::1:role/target"]
    doc = _map(eventSource="sts.amazonaws.com", eventName="AssumeRole",
               userIdentity={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
               requestParameters={"roleArn": "arn:aws:iam::1:role/fn"})
    assert doc["actor.entity.id"] == doc["service.entity.id"] == ["lambda.amazonaws.com"]
    # elsewhere the actor is the identity ARN (an AWS service identity has none)
    doc = _map(eventSource="kms.amazonaws.com", eventName="Decrypt",
               userIdentity={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"})
    assert _entities(doc) == {}


def test_send_command_targets_stop_at_the_first_repeated_instance() -> None:
    doc = _map(eventSource="ssm.amazonaws.com", eventName="SendCommand",
               requestParameters={"instanceIds": ["i-2", "i-1", "i-2", "i-3"], "documentName": "AWS-RunShellScript"})
    assert doc["target.entity.id"] == doc["host.target.entity.id"] == ["i-1", "i-2"]
    doc = _map(eventSource="ssm.amazonaws.com", eventName="SendCommand",
               requestParameters={"targets": [{"key": "InstanceIds", "values": ["*"]}]})
    assert doc["target.entity.id"] == ["111122223333"]


def test_lambda_names_match_by_contains_and_acl_rule_numbers_are_text() -> None:
    doc = _map(eventSource="lambda.amazonaws.com", eventName="AddPermission20150331v2",
               requestParameters={"functionName": "fn", "principal": "*"})
    assert doc["entity.target.id"] == ["fn"]
    doc = _map(eventSource="ec2.amazonaws.com", eventName="DeleteNetworkAclEntry",
               requestParameters={"networkAclId": "acl-0af9", "ruleNumber": 100, "egress": False})
    assert doc["target.entity.id"] == ["100", "acl-0af9"]
    assert doc["service.target.entity.id"] == ["acl-0af9"]
    assert doc["entity.target.id"] == ["100"]


def test_option_off_writes_no_entity_fields() -> None:
    record = {"eventTime": "2024-05-01T10:00:00Z", "eventSource": "iam.amazonaws.com",
              "eventName": "UpdateAssumeRolePolicy", "userIdentity": IAM_USER,
              "requestParameters": {"roleName": "r"}}
    assert _entities(CloudTrailMapper(actor_target_mapping=False).map(record)) == {}


# --- Elastic's own expected documents ----------------------------------------------------
# Fields whose definition did not change between the versions the expected files come from.
STABLE = ("actor.entity.id", "target.entity.id", "user.entity.id")


def _golden(shared_dir) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    base = shared_dir / "datasets" / "elastic-integration-cloudtrail-pipeline-tests"
    if not base.exists():
        pytest.skip(f"{base} is absent")
    out = []
    for expected_file in sorted((base / "expected").glob("*-expected.json")):
        source = base / "inputs" / expected_file.name.removesuffix("-expected.json")
        if not source.exists():
            continue
        lines = [line for line in source.read_bytes().splitlines() if line.strip()]
        docs = [d for d in orjson.loads(expected_file.read_bytes())["expected"] if "event" in d and "action" in d["event"]]
        for line, expected in zip(lines, docs, strict=True):
            if "actor" in expected or "target" in expected:
                out.append((source.name, orjson.loads(line), expected))
    return out


def test_golden_actor_and_target_fields(shared_dir) -> None:
    cases = _golden(shared_dir)
    assert cases, "no expected document carries actor/target fields"
    mapper = CloudTrailMapper()
    for name, record, expected in cases:
        ours = mapper.map(record)
        for field in STABLE:
            node: Any = expected
            for key in field.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if node is not None:
                assert ours.get(field) == node, f"{name}: {field} {ours.get(field)} vs {node}"
        # older expected files put snapshot ids in host.target.entity.id; since
        # elastic/integrations#17827 only instance ids are hosts, the rest is entity.target.id
        host = (expected.get("host") or {}).get("target", {}).get("entity", {}).get("id")
        if host:
            moved = [t for t in host if not t.startswith("i-")]
            assert set(moved) <= set(ours.get("entity.target.id", [])), name
            assert "host.id" not in ours  # removed again in elastic/integrations#19630
