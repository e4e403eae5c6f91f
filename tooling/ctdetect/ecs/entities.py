"""Actor and target entity fields of newer aws integration versions (``actor_target_mapping``).

What Elastic does (facts, restated): newer versions of the aws integration's CloudTrail
pipeline (``default.yml``) run one Painless script when the event carries the tag
``actor_target_mapping`` (the data stream's "actor/target mapping" option). It

1. picks an *actor*: ``userIdentity.arn``, else ``userIdentity.onBehalfOf.userId``. For
   ``sts`` ``AssumeRole`` it is ``invokedBy`` when the identity type is ``AWSService``,
   the session issuer's ARN for ``AssumedRole`` and the identity ARN otherwise; for ``sts``
   ``GetCallerIdentity`` it is the identity ARN;
2. collects *targets*, a sorted set of strings read from fixed places per
   ``eventSource`` and ``eventName`` (``TARGETS`` below; for example ``iam``
   ``UpdateAssumeRolePolicy`` -> ``requestParameters.roleName``);
3. writes ``target.entity.id`` (all targets) and splits them by kind into
   ``user.target.entity.id``, ``host.target.entity.id``, ``service.target.entity.id`` and,
   for everything not recognised (role names, account ids...), ``entity.target.id``;
4. writes ``actor.entity.id`` and one of ``service.entity.id``, ``user.entity.id``,
   ``host.entity.id`` or ``entity.id`` for the actor.

Sources: elastic/integrations PR #12685 (actor and target, Feb 2025), PR #15929 (the
type-specific fields, aws 4.7.0, Nov 2025), PR #17827 (only ``i-`` ids and ``instance``
ARNs are hosts; snapshot, volume and image ids fall to ``entity.target.id``; Mar 2026)
and PR #19630 / issue #19628 (``host.id`` no longer set from targets, aws 6.20.1, Jun
2026). The per-service target places and the classification lists come from that latest
version's script, read as embedded (verbatim Painless source and params) in a third-party
transpilation of the pipeline; the elastic/integrations ``default.yml`` of that version was
not in our reference index, so re-check against it when it is at hand.

Not reproduced: the script also rebuilds ``related.entity`` (adding the targets); our
``related.entity`` stays the ``entity`` sub-pipeline's (see ``mapper``). A value that is
not a string where the script expects one makes Elastic's script fail (no entity fields,
``error.message`` set); here such a value is skipped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ctdetect.ecs.javastr import java_str

# --- where targets are read, per eventSource and eventName -----------------------------
# A path is a tuple of keys from the record's top level; "[]" walks every element of a
# list. Special cases (lambda, SSM SendCommand, network ACL entries) are in ``targets``.
_RP = "requestParameters"
_RE = "responseElements"
_ACCOUNT = (("recipientAccountId",),)
_RESOURCE_ARNS = (("resources", "[]", "ARN"),)


def _p(*paths: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(path.split(".")) for path in paths)


TARGETS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "cloudformation.amazonaws.com": {
        "CreateStackSet": _p("responseElements.stackSetId"),
        "CreateStack": _p("responseElements.stackId"),
    },
    "cloudtrail.amazonaws.com": {
        "DeleteTrail": _p("requestParameters.name"),
        "StopLogging": _p("requestParameters.name"),
        "DescribeTrails": _ACCOUNT,
    },
    "config.amazonaws.com": {
        "StopConfigurationRecorder": _p("requestParameters.configurationRecorderName"),
        "StartConfigurationRecorder": _p("requestParameters.configurationRecorderName"),
    },
    "ec2-instance-connect.amazonaws.com": {
        "SendSSHPublicKey": _p("requestParameters.instanceId"),
        "SendSerialConsoleSSHPublicKey": _p("requestParameters.instanceId"),
    },
    "ec2.amazonaws.com": {
        "AuthorizeSecurityGroupIngress": _p("requestParameters.groupId", "responseElements.securityGroupRuleSet.items.[].securityGroupRuleId"),
        "AuthorizeSecurityGroupEgress": _p("requestParameters.groupId", "responseElements.securityGroupRuleSet.items.[].securityGroupRuleId"),
        "CreateTrafficMirrorFilter": _p("responseElements.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId"),
        "CreateTrafficMirrorFilterRule": _p("responseElements.CreateTrafficMirrorFilterRuleResponse.trafficMirrorFilterRule.trafficMirrorFilterRuleId"),
        "CreateTrafficMirrorSession": _p("responseElements.CreateTrafficMirrorSessionResponse.trafficMirrorSession.trafficMirrorSessionId"),
        "CreateTrafficMirrorTarget": _p("responseElements.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId"),
        "DeleteFlowLogs": _p("requestParameters.DeleteFlowLogsRequest.FlowLogId.content"),
        "DeleteNetworkAcl": _p("requestParameters.networkAclId"),
        "DeleteNetworkAclEntry": _p("requestParameters.networkAclId"),  # + the rule number, see targets()
        "GetPasswordData": _p("requestParameters.instanceId"),
        "ModifyImageAttribute": _p("requestParameters.imageId"),
        "ModifySnapshotAttribute": _p("requestParameters.snapshotId"),
        "DescribeSecurityGroups": _ACCOUNT,
        "DescribeNetworkInterfaces": _ACCOUNT,
        "DescribeRegions": _ACCOUNT,
        "DescribeVpcs": _ACCOUNT,
        "DescribeNetworkAcls": _ACCOUNT,
        "DescribeVolumes": _ACCOUNT,
    },
    "elasticfilesystem.amazonaws.com": {
        "DeleteFileSystem": _p("requestParameters.fileSystemId"),
        "DeleteMountTarget": _p("requestParameters.mountTargetId"),
    },
    "events.amazonaws.com": {
        "DeleteRule": _p("requestParameters.name"),
    },
    "guardduty.amazonaws.com": {
        "CreateDetector": _p("responseElements.detectorId"),
        "DeleteDetector": _p("requestParameters.detectorId"),
    },
    "iam.amazonaws.com": {
        "AttachGroupPolicy": _p("requestParameters.groupName"),
        "AttachRolePolicy": _p("requestParameters.roleName"),
        "ListAttachedRolePolicies": _p("requestParameters.roleName"),
        "UpdateAssumeRolePolicy": _p("requestParameters.roleName"),
        "AttachUserPolicy": _p("requestParameters.policyArn", "requestParameters.userName"),
        "CreateAccessKey": _p("responseElements.accessKey.accessKeyId", "requestParameters.userName"),
        "CreateUser": _p("requestParameters.userName"),
        "DeactivateMFADevice": _p("requestParameters.userName"),
        "DeleteVirtualMFADevice": _p("requestParameters.serialNumber"),
        "GetPolicy": _p("requestParameters.policyArn"),
        "CreatePolicy": _p("responseElements.policy.arn"),
        "ListRoles": _ACCOUNT,
        "ListUsers": _ACCOUNT,
    },
    "kms.amazonaws.com": {
        "DisableKey": _RESOURCE_ARNS,
        "ScheduleKeyDeletion": _RESOURCE_ARNS,
    },
    "lambda.amazonaws.com": {},  # names carry an API version: see targets()
    "logs.amazonaws.com": {
        "DeleteLogGroup": _p("requestParameters.logGroupName"),
        "DeleteLogStream": _p("requestParameters.logStreamName"),
    },
    "monitoring.amazonaws.com": {
        "DeleteAlarms": _p("requestParameters.alarmNames.[]"),
    },
    "rds.amazonaws.com": {
        "DeleteDBCluster": _p("responseElements.dBClusterArn"),
        "ModifyDBCluster": _p("responseElements.dBClusterArn"),
        "StopDBCluster": _p("responseElements.dBClusterArn"),
        "DeleteDBInstance": _p("responseElements.dBInstanceArn"),
        "ModifyDBInstance": _p("responseElements.dBInstanceArn"),
        "RestoreDBInstanceFromDBSnapshot": _p("responseElements.dBInstanceArn"),
        "RestoreDBInstanceFromS3": _p("responseElements.dBInstanceArn"),
        "StopDBInstance": _p("responseElements.dBInstanceArn"),
        "DeleteGlobalCluster": _p("responseElements.globalClusterArn"),
        "ModifyDBClusterSnapshotAttribute": _p("responseElements.dBClusterSnapshotIdentifier"),
        "ModifyDBSnapshotAttribute": _p("responseElements.dBSnapshotIdentifier"),
        "DescribeDBInstances": _ACCOUNT,
    },
    "rolesanywhere.amazonaws.com": {
        "CreateTrustAnchor": _p("responseElements.trustAnchor.trustAnchorArn"),
    },
    "route53resolver.amazonaws.com": {
        "DeleteResolverQueryLogConfig": _p("responseElements.resolverQueryLogConfig.arn"),
    },
    "s3.amazonaws.com": {
        **{
            name: _RESOURCE_ARNS
            for name in ("CopyObject", "PutBucketLogging", "PutBucketVersioning", "PutObject", "GetBucketPolicy",
                         "ListObjects", "HeadObject", "GetObject", "DeleteObject", "DeleteBucket")
        },
        "PutBucketReplication": _RESOURCE_ARNS + _p("requestParameters.ReplicationConfiguration.Rule.Destination.Bucket"),
        "ListBuckets": _ACCOUNT,
    },
    "secretsmanager.amazonaws.com": {
        "BatchGetSecretValue": _p("requestParameters.secretIdList.[]"),
        "GetSecretValue": _p("requestParameters.secretId"),
    },
    "signin.amazonaws.com": {
        "ConsoleLogin": _ACCOUNT,
    },
    "ssm.amazonaws.com": {
        "GetParameter": _RESOURCE_ARNS,
        "GetParameters": _RESOURCE_ARNS,
        "CreateControlChannel": _RESOURCE_ARNS,
        "OpenControlChannel": _RESOURCE_ARNS,
        "StartSession": _p("requestParameters.target"),
        "CreateDocument": _p("requestParameters.name"),
        "TerminateSession": _p("requestParameters.sessionId"),
        "OpenDataChannel": _p("requestParameters.sessionId"),
        "ListInstanceAssociations": _ACCOUNT,
        # SendCommand: see targets()
    },
    "sts.amazonaws.com": {
        "AssumeRole": _p("requestParameters.roleArn"),
        "GetCallerIdentity": _ACCOUNT,
    },
    "wafv2.amazonaws.com": {
        "DeleteRuleGroup": _p("requestParameters.id"),
        "DeleteWebACL": _p("requestParameters.id"),
    },
    "sns.amazonaws.com": {
        "CreateTopic": _p("responseElements.topicArn"),
        "Subscribe": _p("requestParameters.topicArn"),
        "Publish": _p("requestParameters.topicArn"),
    },
    "bedrock.amazonaws.com": {
        "Converse": _p("requestParameters.modelId"),
    },
    "elasticloadbalancing.amazonaws.com": {
        "DescribeLoadBalancers": _ACCOUNT,
    },
    "dynamodb.amazonaws.com": {
        "ListTables": _ACCOUNT,
    },
}

# --- classification lists -----------------------------------------------------------
USER_RESOURCE_TYPES = frozenset(("assumed-role", "federated-user", "instance-profile", "mfa", "role", "serialNumber", "user"))
HOST_RESOURCE_TYPES = frozenset(("instance",))
SERVICE_RESOURCE_TYPES = frozenset((
    "alarm", "cluster", "configuration-recorder", "db", "detector", "dhcp-options", "document", "file-system",
    "function", "global-cluster", "group", "ipset", "key", "loadbalancer", "log-group", "log-stream", "model",
    "mount-target", "network-acl", "network-interface", "parameter", "policy", "resolver-query-log-config", "rule",
    "rulegroup", "secret", "security-group", "session", "stack", "stack-set", "subnet", "table", "topic", "trail",
    "trust-anchor", "vpc", "webacl",
))
HOST_ID_PREFIXES = ("i-",)
SERVICE_ID_PREFIXES = ("sg-", "sgr-", "eni-", "vpc-", "subnet-", "acl-", "rtb-", "igw-", "nat-", "vpce-", "tgw-", "pcx-")
USER_IDENTITY_TYPES = frozenset(("AssumedRole", "IAMUser", "Root"))
_ACTOR_USER_TYPES = frozenset(("user", "role", "assumed-role", "federated-user"))
_SERVICE_ROLE_MARKS = ("/AWSServiceRoleFor", "/aws-service-role/")

_USER, _HOST, _SERVICE, _GENERIC = "user.target.entity.id", "host.target.entity.id", "service.target.entity.id", "entity.target.id"


def _walk(node: Any, path: tuple[str, ...], at: int, out: set[str]) -> None:
    for index in range(at, len(path)):
        key = path[index]
        if key == "[]":
            if type(node) is list:
                for item in node:
                    _walk(item, path, index + 1, out)
            return
        if type(node) is not dict:
            return
        node = node.get(key)
    if type(node) is str and node:
        out.add(node)


def targets(record: dict[str, Any], request: Any, response: Any, provider: Any, action: Any) -> set[str]:
    """The target set of one record. ``request``/``response`` are the cleaned objects."""
    by_name = TARGETS.get(provider) if type(provider) is str else None
    out: set[str] = set()
    if by_name is None or type(action) is not str:
        return out
    roots = {_RP: request, _RE: response}
    paths = by_name.get(action)
    if paths is not None:
        for path in paths:
            head = path[0]
            _walk(roots[head] if head in roots else record.get(head), path, 1, out)
    if provider == "ec2.amazonaws.com":
        if action == "DeleteNetworkAclEntry" and type(request) is dict:
            number = request.get("ruleNumber")
            if number is not None:
                out.add(java_str(number))  # String.valueOf(ruleNumber)
    elif provider == "lambda.amazonaws.com":
        # lambda event names carry an API version suffix, hence "contains"
        if "AddPermission" in action:
            _walk(request, ("", "functionName"), 1, out)
        elif "ListFunctions" in action:
            _walk(record.get("recipientAccountId"), ("",), 1, out)
    elif provider == "ssm.amazonaws.com" and action == "SendCommand":
        ids: Any = request.get("instanceIds") if type(request) is dict else None
        if type(ids) is not list or not ids:
            ids = []
            listed = request.get("targets") if type(request) is dict else None
            if type(listed) is list:
                for target in listed:
                    values = target.get("values") if type(target) is dict else None
                    if type(values) is list:
                        ids.extend(values)
        if len(ids) == 1 and ids[0] == "*":
            ids = [record.get("recipientAccountId")]  # all instances: the account
        # addValues stops at the first value that is empty or already present
        for value in ids:
            if type(value) is not str or not value or value in out:
                break
            out.add(value)
    return out


@lru_cache(maxsize=8192)
def target_kind(target: str) -> str:
    """Which field one target goes to."""
    if target.startswith("arn:"):
        parts = target.split(":")
        if len(parts) >= 6:
            resource = parts[5]
            slash = resource.find("/")
            kind = resource[:slash] if slash > 0 else resource
            if _SERVICE_ROLE_MARKS[0] in target or _SERVICE_ROLE_MARKS[1] in target:
                return _SERVICE
            if kind in USER_RESOURCE_TYPES:
                return _USER
            if kind in HOST_RESOURCE_TYPES:
                return _HOST
            if kind in SERVICE_RESOURCE_TYPES or parts[2] == "s3":
                return _SERVICE
        return _GENERIC
    if len(target) == 20 and target.startswith("AKIA"):
        return _USER
    if target.startswith(HOST_ID_PREFIXES):
        return _HOST
    if target.startswith(SERVICE_ID_PREFIXES):
        return _SERVICE
    return _GENERIC


@lru_cache(maxsize=8192)
def actor_kind(actor: str, user_type: Any) -> str:
    """Which field the actor goes to: ``service.entity.id``, ``user.entity.id``, ``host.entity.id`` or ``entity.id``."""
    if user_type == "AWSService" or _SERVICE_ROLE_MARKS[0] in actor or _SERVICE_ROLE_MARKS[1] in actor:
        return "service.entity.id"
    if user_type in USER_IDENTITY_TYPES:
        return "user.entity.id"
    if actor.startswith("arn:"):
        parts = actor.split(":")
        if len(parts) >= 6:
            resource = parts[5]
            slash = resource.find("/")
            kind = resource[:slash] if slash > 0 else resource
            if kind in _ACTOR_USER_TYPES:
                return "user.entity.id"
            if kind == "instance":
                return "host.entity.id"
    if actor.startswith("i-"):
        return "host.entity.id"
    return "entity.id"


def _text(node: Any, key: str) -> Any:
    value = node.get(key) if type(node) is dict else None
    return None if value == "" else value  # the pipeline drops empty strings first


def actor(identity: Any, provider: Any, action: Any) -> str | None:
    """The actor of one record, from its ``userIdentity``."""
    if type(identity) is not dict:
        return None
    value = _text(identity, "arn")
    if provider == "sts.amazonaws.com" and (action == "AssumeRole" or action == "GetCallerIdentity"):
        if action == "AssumeRole":
            user_type = identity.get("type")
            if user_type == "AWSService":
                value = _text(identity, "invokedBy")
            elif user_type == "AssumedRole":
                context = identity.get("sessionContext")
                value = _text(context.get("sessionIssuer") if type(context) is dict else None, "arn")
    elif value is None:
        value = _text(identity.get("onBehalfOf"), "userId")
    if value is None or type(value) is dict or type(value) is list:
        return None
    return value if type(value) is str else java_str(value)


def entity_fields(doc: dict[str, Any], record: dict[str, Any], identity: Any, request: Any, response: Any,
                  provider: Any, action: Any) -> None:
    """Add the actor/target fields of one record to ``doc``."""
    found = targets(record, request, response, provider, action)
    if found:
        ordered = sorted(found)
        doc["target.entity.id"] = ordered
        for target in ordered:
            kind = target_kind(target)
            bucket = doc.get(kind)
            if bucket is None:
                doc[kind] = [target]
            else:
                bucket.append(target)
    who = actor(identity, provider, action)
    if who is not None:
        doc["actor.entity.id"] = [who]
        kind = actor_kind(who, identity.get("type"))
        if kind != "entity.id":  # an actor of no known kind is only actor.entity.id (test-user-authentication)
            doc[kind] = [who]
