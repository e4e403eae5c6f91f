"""Lookup tables of Elastic's CloudTrail pipeline, kept as data.

``CATEGORIZATION``: event.action -> (event.category, event.type), the pipeline's
"Add ECS categorization" table. Actions not listed get ``event.type: ["info"]`` and no
category, as in the pipeline. Entries after the first block come from newer versions of
the integration, as their pipeline test expectations show them (``AttachRolePolicy``
became ``iam``/``change``, which Elastic's "AdministratorAccess Policy Attached to Role"
rule needs); an empty type tuple means the newer pipeline writes a category and no
``event.type`` (``Converse``, ``SendCommand``).

``ENTITY_BY_SOURCE``: the ``related.entity`` sources of the pipeline's ``entity``
sub-pipeline (elastic/integrations aws package, the version that sorts and de-duplicates
the list) read per ``eventSource``. A path segment ``[]`` walks every element of an array
(the sub-pipeline's ``foreach`` processors). The paths read for every event (the
identity's ARN, principal id, user name, session issuer, ``resources[].ARN``) are
inlined in ``mapper`` because they run on every event.
"""

from __future__ import annotations

_IAM = ("iam",)
_AUTH = ("authentication",)
_FILE = ("file",)

_USER_CHANGE = (_IAM, ("user", "change"))
_USER_INFO = (_IAM, ("user", "info"))
_GROUP_CHANGE = (_IAM, ("group", "change"))
_GROUP_INFO = (_IAM, ("group", "info"))
_ADMIN_CHANGE = (_IAM, ("admin", "change"))

CATEGORIZATION: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AddUserToGroup": _GROUP_CHANGE,
    "AssumeRole": (_AUTH, ("info",)),
    "AttachGroupPolicy": _GROUP_CHANGE,
    "AttachUserPolicy": _USER_CHANGE,
    "ChangePassword": _USER_CHANGE,
    "ConsoleLogin": (_AUTH, ("info",)),
    "CreateAccessKey": _USER_CHANGE,
    "CreateBucket": (_FILE, ("creation",)),
    "CreateGroup": (_IAM, ("group", "creation")),
    "CreateKeyPair": (_IAM, ("admin", "creation")),
    "CreateUser": (_IAM, ("user", "creation")),
    "CreateVirtualMFADevice": _USER_CHANGE,
    "DeactivateMFADevice": _USER_CHANGE,
    "DeleteAccessKey": _USER_CHANGE,
    "DeleteBucket": (_FILE, ("deletion",)),
    "DeleteGroup": (_IAM, ("group", "deletion")),
    "DeleteGroupPolicy": _GROUP_CHANGE,
    "DeleteSSHPublicKey": _USER_CHANGE,
    "DeleteUser": (_IAM, ("user", "deletion")),
    "DeleteUserPermissionsBoundary": _USER_CHANGE,
    "DeleteUserPolicy": _USER_CHANGE,
    "DeleteVirtualMFADevice": _USER_CHANGE,
    "DetachGroupPolicy": _GROUP_CHANGE,
    "DetachUserPolicy": _USER_CHANGE,
    "EnableMFADevice": _USER_CHANGE,
    "GetGroup": _GROUP_INFO,
    "GetGroupPolicy": _GROUP_INFO,
    "GetUser": _USER_INFO,
    "GetUserPolicy": _USER_INFO,
    "ListAttachedGroupPolicies": _GROUP_INFO,
    "ListAttachedUserPolicies": _USER_INFO,
    "ListGroupPolicies": _GROUP_INFO,
    "ListGroups": _GROUP_INFO,
    "ListGroupsForUser": _USER_INFO,
    "ListUserPolicies": _USER_INFO,
    "ListUsers": _USER_INFO,
    "ListUserTags": _USER_INFO,
    "PutGroupPolicy": _GROUP_CHANGE,
    "PutUserPermissionsBoundary": _USER_CHANGE,
    "PutUserPolicy": _USER_CHANGE,
    "RemoveUserFromGroup": _GROUP_CHANGE,
    "SetDefaultPolicyVersion": _ADMIN_CHANGE,
    "SetSecurityTokenServicePreferences": _ADMIN_CHANGE,
    "TagUser": _USER_CHANGE,
    "UntagUser": _USER_CHANGE,
    "UpdateAccessKey": _USER_CHANGE,
    "UpdateAccountPasswordPolicy": _ADMIN_CHANGE,
    "UpdateGroup": _GROUP_CHANGE,
    "UpdateLoginProfile": _USER_CHANGE,
    "UpdateRole": _ADMIN_CHANGE,
    "UpdateSSHPublicKey": _USER_CHANGE,
    "UpdateUser": _USER_CHANGE,
    # newer integration versions (golden pairs in anchors/integrations-aws-cloudtrail-pipeline-tests)
    "AttachRolePolicy": (_IAM, ("change",)),
    "AuthorizeSecurityGroupIngress": (("network",), ("access",)),
    "Converse": (("api",), ()),
    "CreateControlChannel": (("session",), ("start",)),
    "CreateDocument": (_FILE, ("creation",)),
    "CreateTopic": (("configuration",), ("creation",)),
    "GetPolicy": (_IAM, ("info",)),
    "ListAttachedRolePolicies": (_IAM, ("info",)),
    "PutObject": (_FILE, ("change",)),
    "SendCommand": (("process",), ()),
    "StartSession": (("session",), ("start",)),
    "Subscribe": (("configuration",), ("change",)),
    "TerminateSession": (("session",), ("end",)),
}


def _paths(*dotted: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split(".")) for p in dotted)


# Read when eventSource matches.
ENTITY_BY_SOURCE: dict[str, tuple[tuple[str, ...], ...]] = {
    "signin.amazonaws.com": _paths("additionalEventData.MFAIdentifier"),
    "sts.amazonaws.com": _paths(
        "requestParameters.roleArn",
        "sourceIdentity",
        "additionalEventData.MFAIdentifier",
        "responseElements.assumedRoleUser.arn",
        "requestParameters.roleSessionName",
        "responseElements.accessKeyId",
    ),
    "iam.amazonaws.com": _paths(
        "requestParameters.userName",
        "requestParameters.accessKeyId",
        "requestParameters.policyArn",
        "requestParameters.roleName",
        "requestParameters.policyName",
        "responseElements.accessKey.userName",
        "responseElements.accessKey.accessKeyId",
        "responseElements.user.arn",
        "responseElements.user.userName",
        "responseElements.userId",
        "responseElements.role.arn",
    ),
    "ec2.amazonaws.com": _paths(
        "requestParameters.groupId",
        "requestParameters.groupName",
        "requestParameters.roleName",
        "requestParameters.subnetId",
        "requestParameters.volumeId",
        "requestParameters.networkInterfaceId",
        "requestParameters.vpcId",
        "requestParameters.snapshotId",
        "responseElements.groupId",
        "responseElements.reservationId",
        "responseElements.vpc.vpcId",
        "responseElements.vpc.dhcpOptionsId",
        "responseElements.snapshotId",
        "responseElements.volumeId",
        "responseElements.securityGroupRuleSet.items.[].groupId",
        "responseElements.securityGroupRuleSet.items.[].referencedGroupInfo.groupId",
        "responseElements.securityGroupRuleSet.items.[].securityGroupRuleId",
        "responseElements.groupSet.items.[].groupId",
        "requestParameters.groupSet.items.[].groupId",
        "requestParameters.instancesSet.items.[].instanceId",
        "responseElements.instancesSet.items.[].subnetId",
        "responseElements.instancesSet.items.[].vpcId",
        "responseElements.instancesSet.items.[].instanceId",
        "responseElements.instancesSet.items.[].imageId",
        "responseElements.instancesSet.items.[].iamInstanceProfile.arn",
        "responseElements.instancesSet.items.[].networkInterfaceSet.items.[].networkInterfaceId",
        "responseElements.instancesSet.items.[].networkInterfaceSet.items.[].vpcId",
        "responseElements.instancesSet.items.[].networkInterfaceSet.items.[].subnetId",
        "responseElements.instancesSet.items.[].networkInterfaceSet.items.[].groupSet.items.[].groupId",
        "responseElements.revokedSecurityGroupRuleSet.items.[].securityGroupRuleId",
        "responseElements.revokedSecurityGroupRuleSet.items.[].groupId",
    ),
    "s3.amazonaws.com": _paths("requestParameters.bucketName"),
    "cloudtrail.amazonaws.com": _paths(
        "requestParameters.name",
        "requestParameters.s3BucketName",
        "responseElements.cloudWatchLogsLogGroupArn",
        "responseElements.cloudWatchLogsRoleArn",
        "responseElements.kmsKeyId",
        "responseElements.snsTopicARN",
        "responseElements.trailARN",
        "responseElements.name",
    ),
    "kms.amazonaws.com": _paths(
        "requestParameters.keyId",
        "responseElements.keyId",
        "responseElements.keyMetadata.arn",
        "responseElements.keyMetadata.keyId",
    ),
    "config.amazonaws.com": _paths("requestParameters.configurationRecorderName"),
    "lambda.amazonaws.com": _paths(
        "requestParameters.functionName",
        "responseElements.functionArn",
        "responseElements.functionName",
        "responseElements.role",
        "responseElements.vpcConfig.securityGroupIds",
        "responseElements.vpcConfig.subnetIds",
    ),
    "rds.amazonaws.com": _paths(
        "requestParameters.dBInstanceArn",
        "requestParameters.dBInstanceIdentifier",
        "responseElements.dBInstanceIdentifier",
        "responseElements.dbInstanceArn",
        "responseElements.dBSubnetGroup.vpcId",
        "responseElements.vpcSecurityGroups.vpcSecurityGroupId",
        "responseElements.dBSubnetGroup.subnets.[].subnetIdentifier",
        "responseElements.vpcSecurityGroups.[].vpcSecurityGroupId",
    ),
}


def _split_by_kind() -> dict[str, dict[str, tuple[tuple[str, ...], ...]]]:
    """ENTITY_BY_SOURCE regrouped by the record key a path starts with."""
    out: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {}
    for source, paths in ENTITY_BY_SOURCE.items():
        grouped: dict[str, list[tuple[str, ...]]] = {}
        for path in paths:
            grouped.setdefault(path[0], []).append(path[1:])
        out[source] = {kind: tuple(rest) for kind, rest in grouped.items()}
    return out


ENTITY_PATHS_BY_SOURCE = _split_by_kind()
