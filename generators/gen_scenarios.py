"""Write the search rules' scenarios: scenarios/rule-<short>-fires and scenarios/rule-<short>-silent.

For every search rule in rules/ (not rules/ml/) there is one scenario where the rule must fire,
on a named entity, and one built from benign look-alikes where it must stay silent: a snapshot
shared within its own account, a login with MFA, a key a user creates for themself, a burst
just below the threshold, a principal that has done the same thing before (new_terms).

Run ``python generators/gen_scenarios.py`` after changing a scenario; the output is committed.
Builders (identities, record envelopes, TOML output) are in ``scenario_builders.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_builders import (
    ACCOUNT,
    AWS_IP,
    AWS_IP2,
    DENIED,
    EC2_DENIED,
    FOREIGN,
    HOME_UK,
    HOSTING,
    OFFICE_PARIS,
    OFFICE_SEATTLE,
    OUT,
    TOR,
    UA_BOTO,
    UA_CONSOLE,
    UA_SSM,
    UA_TF,
    VPN,
    Scenario,
    api,
    at,
    console_login,
    failed_login_identity,
    iam_user,
    role,
    root,
    rule_id,
    write,
)

EC2, IAM, S3 = "ec2.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com"
SCENARIOS: list[Scenario] = []


def pair(stem: str, short: str, fires_desc: str, silent_desc: str) -> tuple[Scenario, Scenario, str]:
    """A firing and a silent scenario for rules/<stem>.toml."""
    f = Scenario(f"rule-{short}-fires", fires_desc, ["attack", "search-rule"])
    s = Scenario(f"rule-{short}-silent", silent_desc, ["benign", "search-rule"])
    SCENARIOS.extend([f, s])
    return f, s, rule_id(stem)


def user_of(who: dict) -> str:
    return who.get("userName") or who["sessionContext"]["sessionIssuer"]["userName"]


# --------------------------------------------------------------------------- exfiltration

def snapshot_share(t, who, snap, *, add=None, remove=None, ip=OFFICE_PARIS, error=None, ua=None):
    perm = {}
    if add is not None:
        perm["add"] = {"items": add}
    if remove is not None:
        perm["remove"] = {"items": remove}
    kw = {"ip": ip, "error": error}
    if ua:
        kw["ua"] = ua
    return api(t, EC2, "ModifySnapshotAttribute", who,
               {"snapshotId": snap, "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": perm},
               {"requestId": "-", "_return": True}, **kw)


def exfiltration() -> None:
    alice, mallory = iam_user("alice"), role("web-waf-role", "i-0a1b2c3d4e5f60718")
    backup = role("backup-automation", "backup-run")
    f, s, rid = pair("exfiltration_ebs_snapshot_shared_externally", "ebs-snapshot-shared",
                     "A snapshot of the database volume is created and shared with a foreign account; another is made public.",
                     "Snapshot permissions granted to the owning account, a public share removed, a foreign share refused.")
    f.add(api(at(-4), EC2, "CreateSnapshot", alice, {"volumeId": "vol-0db7c2a91f3e4d5a6", "description": "db-data"},
              {"snapshotId": "snap-0c1d2e3f4a5b6c7d8", "volumeId": "vol-0db7c2a91f3e4d5a6", "status": "pending"}, ip=VPN),
          snapshot_share(at(0), alice, "snap-0c1d2e3f4a5b6c7d8", add=[{"userId": FOREIGN}], ip=VPN),
          snapshot_share(at(3), mallory, "snap-0f9e8d7c6b5a49382", add=[{"group": "all"}], ip=TOR))
    f.expect(rid, True, "snapshot shared with account 999988887777", {"user.name": "alice"})
    f.expect(rid, True, "snapshot made public (group all)", {"user.name": "web-waf-role"})
    s.add(snapshot_share(at(0), backup, "snap-0aa11bb22cc33dd44", add=[{"userId": ACCOUNT}], ip=AWS_IP),
          snapshot_share(at(2), alice, "snap-0aa11bb22cc33dd44", remove=[{"group": "all"}]),
          snapshot_share(at(5), alice, "snap-0aa11bb22cc33dd44", add=[{"userId": FOREIGN}], error=EC2_DENIED))
    s.expect(rid, False, "own-account grant, a removal and a refused share are not exfiltration")

    f, s, rid = pair("exfiltration_ebs_snapshot_attribute_first_change_by_user", "ebs-snapshot-first-change",
                     "The backup role changes snapshot permissions daily; then a user who never did touches one.",
                     "Only the backup role, which has done it every day for a week, changes snapshot permissions.")
    history = [snapshot_share(at(days=-d), backup, f"snap-0hist{d:012d}", add=[{"userId": ACCOUNT}], ip=AWS_IP) for d in range(1, 8)]
    f.add(*history, snapshot_share(at(0), alice, "snap-0c1d2e3f4a5b6c7d8", add=[{"userId": FOREIGN}], ip=VPN))
    f.expect(rid, True, "alice's first snapshot permission change in 14 days", {"user.name": "alice"}, after=at(-1))
    s.add(*[snapshot_share(at(days=-d), backup, f"snap-0hist{d:012d}", add=[{"userId": ACCOUNT}], ip=AWS_IP) for d in range(1, 8)],
          snapshot_share(at(0), backup, "snap-0today0000000001", add=[{"userId": ACCOUNT}], ip=AWS_IP))
    s.expect(rid, False, "the backup role is not new", after=at(-1))

    def rds(t, who, action, ident, add=None, remove=None, ip=OFFICE_PARIS):
        key = "dBSnapshotIdentifier" if action == "ModifyDBSnapshotAttribute" else "dBClusterSnapshotIdentifier"
        params = {key: ident, "attributeName": "restore"}
        if add is not None:
            params["valuesToAdd"] = add
        if remove is not None:
            params["valuesToRemove"] = remove
        resp_key = "dBSnapshotAttributesResult" if action == "ModifyDBSnapshotAttribute" else "dBClusterSnapshotAttributesResult"
        return api(t, "rds.amazonaws.com", action, who, params,
                   {resp_key: {key: ident, "dBSnapshotAttributes": [{"attributeName": "restore", "attributeValues": add or []}]}}, ip=ip)

    f, s, rid = pair("exfiltration_rds_snapshot_shared_externally", "rds-snapshot-shared",
                     "An RDS snapshot is shared with a foreign account and a cluster snapshot is made public.",
                     "RDS snapshots shared with the owning account, and a foreign share removed.")
    f.add(rds(at(0), alice, "ModifyDBSnapshotAttribute", "orders-db-manual-2026-11-03", add=[FOREIGN], ip=VPN),
          rds(at(2), mallory, "ModifyDBClusterSnapshotAttribute", "billing-aurora-snap", add=["all"], ip=TOR))
    f.expect(rid, True, "DB snapshot restorable by 999988887777", {"user.name": "alice"})
    f.expect(rid, True, "cluster snapshot public", {"user.name": "web-waf-role"})
    s.add(rds(at(0), backup, "ModifyDBSnapshotAttribute", "orders-db-nightly", add=[ACCOUNT], ip=AWS_IP),
          rds(at(3), alice, "ModifyDBSnapshotAttribute", "orders-db-old", remove=[FOREIGN]))
    s.expect(rid, False, "own-account share and a removal")

    def ami(t, who, image, add=None, remove=None, ip=OFFICE_PARIS):
        perm = {}
        if add is not None:
            perm["add"] = {"items": add}
        if remove is not None:
            perm["remove"] = {"items": remove}
        return api(t, EC2, "ModifyImageAttribute", who, {"imageId": image, "attributeType": "launchPermission", "launchPermission": perm},
                   {"requestId": "-", "_return": True}, ip=ip)

    f, s, rid = pair("exfiltration_ami_shared_externally", "ami-shared",
                     "An image of a production server is created and its launch permission given to a foreign account.",
                     "The image pipeline grants its own account; an engineer removes an old public grant.")
    f.add(api(at(-6), EC2, "CreateImage", alice, {"instanceId": "i-0fe1d2c3b4a596870", "name": "prod-api-copy"}, {"imageId": "ami-0abc1234def567890"}, ip=VPN),
          ami(at(0), alice, "ami-0abc1234def567890", add=[{"userId": FOREIGN}], ip=VPN))
    f.expect(rid, True, "AMI launchable by 999988887777", {"user.name": "alice"})
    pipeline = role("image-builder-pipeline", "build-4711")
    s.add(ami(at(0), pipeline, "ami-0golden000000001", add=[{"userId": ACCOUNT}], ip=AWS_IP),
          ami(at(4), alice, "ami-0legacy00000000002", remove=[{"group": "all"}]))
    s.expect(rid, False, "own-account grant and a removal")

    # S3 made public
    def acl(t, who, bucket, grants, ip=OFFICE_PARIS, canned=None):
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.{'eu-west-1'}.amazonaws.com", "acl": ""}
        if canned:
            params["x-amz-acl"] = [canned]
        else:
            params["AccessControlPolicy"] = {"AccessControlList": {"Grant": grants}, "Owner": {"ID": "7c1f0e2d3b4a"},
                                             "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
        return api(t, S3, "PutBucketAcl", who, params, None, ip=ip, extra={"resources": [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]})

    def policy(t, who, bucket, statements, ip=OFFICE_PARIS):
        return api(t, S3, "PutBucketPolicy", who,
                   {"bucketPolicy": {"Version": "2012-10-17", "Statement": statements}, "bucketName": bucket,
                    "Host": f"{bucket}.s3.eu-west-1.amazonaws.com", "policy": ""}, None, ip=ip)

    owner = {"Grantee": {"xsi:type": "CanonicalUser", "ID": "7c1f0e2d3b4a"}, "Permission": "FULL_CONTROL"}
    f, s, rid = pair("collection_s3_bucket_made_public", "s3-bucket-public",
                     "A data bucket gets an AllUsers READ grant; another gets a policy allowing everyone to read.",
                     "The log-delivery group gets write access; a TLS-only policy denies everyone without HTTPS; a private canned ACL; "
                     "a policy lets one partner account read (Principal={AWS=...}: the '*' of the rule's pattern is literal).")
    f.add(acl(at(0), mallory, "acme-finance-exports", [owner, {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}], ip=TOR),
          policy(at(2), alice, "acme-customer-backups", [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-customer-backups/*"}], ip=VPN))
    f.expect(rid, True, "AllUsers READ grant", {"user.name": "web-waf-role"})
    f.expect(rid, True, "policy allowing principal *", {"user.name": "alice"})
    s.add(acl(at(0), alice, "acme-access-logs", [owner, {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}]),
          policy(at(2), alice, "acme-customer-backups", [{"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                           "Resource": ["arn:aws:s3:::acme-customer-backups", "arn:aws:s3:::acme-customer-backups/*"],
                                                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
          acl(at(4), alice, "acme-tmp", [], canned="private"),
          policy(at(6), alice, "acme-partner-exchange", [{"Sid": "PartnerRead", "Effect": "Allow",
                                                          "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                                                          "Action": ["s3:GetObject", "s3:ListBucket"],
                                                          "Resource": ["arn:aws:s3:::acme-partner-exchange", "arn:aws:s3:::acme-partner-exchange/*"]}]))
    s.expect(rid, False, "log delivery, deny-only and private ACLs, and a policy granting one account, are not public")

    # public access block
    def pab(t, who, bucket, values, action="PutBucketPublicAccessBlock", ip=OFFICE_PARIS):
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.eu-west-1.amazonaws.com", "publicAccessBlock": ""}
        if values is not None:
            params["PublicAccessBlockConfiguration"] = {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", **values}
        return api(t, S3, action, who, params, None, ip=ip)

    allv = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    f, s, rid = pair("defense_evasion_s3_public_access_block_removed", "s3-public-access-block",
                     "Block Public Access deleted on one bucket and switched off on another.",
                     "Block Public Access turned fully on, and read.")
    f.add(pab(at(0), mallory, "acme-finance-exports", None, action="DeleteBucketPublicAccessBlock", ip=TOR),
          pab(at(1), alice, "acme-customer-backups", {**allv, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}, ip=VPN))
    f.expect(rid, True, "block deleted", {"user.name": "web-waf-role"})
    f.expect(rid, True, "block weakened", {"user.name": "alice"})
    s.add(pab(at(0), alice, "acme-new-bucket", allv),
          pab(at(1), alice, "acme-new-bucket", None, action="GetBucketPublicAccessBlock"))
    s.expect(rid, False, "enabling or reading the block")

    deployer = role("web-deploy-pipeline", "release-311")
    same_policy = [{"Sid": "CloudFrontRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-website/*"}]
    f, s, rid = pair("exfiltration_s3_bucket_policy_first_change_by_user", "s3-policy-first-change",
                     "The deployment role re-applies the website policy every release; then an engineer's user grants a foreign account read on the exports bucket.",
                     "Only the deployment role writes bucket policies, as at every release this fortnight.")
    releases = [policy(at(days=-d), deployer, "acme-website", same_policy, ip=AWS_IP) for d in (2, 5, 8, 11)]
    f.add(*releases,
          policy(at(0), iam_user("bob"), "acme-finance-exports", [{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                                                                    "Action": ["s3:GetObject", "s3:ListBucket"],
                                                                    "Resource": ["arn:aws:s3:::acme-finance-exports", "arn:aws:s3:::acme-finance-exports/*"]}], ip=HOME_UK))
    f.expect(rid, True, "bob's first bucket policy change", {"user.name": "bob"}, after=at(-1))
    s.add(*[policy(at(days=-d), deployer, "acme-website", same_policy, ip=AWS_IP) for d in (2, 5, 8, 11)],
          policy(at(0), deployer, "acme-website", same_policy, ip=AWS_IP),
          api(at(1), S3, "GetBucketPolicy", iam_user("bob"), {"bucketName": "acme-finance-exports", "policy": ""}, None, read_only=True))
    s.expect(rid, False, "the deployment role is not new; reading a policy is not writing one", after=at(-1))


# --------------------------------------------------------------------------- defense evasion

def simple_pair(stem, short, fires_desc, silent_desc, fire_events, silent_events, fire_entities, silent_note):
    f, s, rid = pair(stem, short, fires_desc, silent_desc)
    f.add(*fire_events)
    for who, why in fire_entities:
        f.expect(rid, True, why, {"user.name": who})
    s.add(*silent_events)
    s.expect(rid, False, silent_note)


def defense_evasion() -> None:
    alice, bob = iam_user("alice"), iam_user("bob")
    waf = role("web-waf-role", "i-0a1b2c3d4e5f60718")
    platform = role("platform-admin", "carol@example.com", mfa=True)
    CT = "cloudtrail.amazonaws.com"
    trail = f"arn:aws:cloudtrail:{'eu-west-1'}:{ACCOUNT}:trail/org-audit"

    simple_pair("defense_evasion_cloudtrail_logging_stopped_or_deleted", "cloudtrail-stopped",
                "A stolen role stops the audit trail; a user deletes another trail.",
                "A trail is created and started; a stop attempt is refused.",
                [api(at(0), CT, "StopLogging", waf, {"name": trail}, None, ip=TOR),
                 api(at(3), CT, "DeleteTrail", alice, {"name": "security-trail"}, None, ip=VPN)],
                [api(at(0), CT, "CreateTrail", platform, {"name": "org-audit", "s3BucketName": "acme-cloudtrail-logs", "isMultiRegionTrail": True},
                     {"name": "org-audit", "s3BucketName": "acme-cloudtrail-logs", "trailARN": trail}),
                 api(at(1), CT, "StartLogging", platform, {"name": trail}, None),
                 api(at(5), CT, "StopLogging", bob, {"name": trail}, None, error=DENIED)],
                [("web-waf-role", "trail stopped"), ("alice", "trail deleted")], "creating, starting, and a refused stop")

    simple_pair("defense_evasion_cloudtrail_trail_reduced", "cloudtrail-reduced",
                "Event selectors drop management events; another trail is pointed at a foreign bucket.",
                "Data events are added with management events kept; log file validation is enabled.",
                [api(at(0), CT, "PutEventSelectors", waf, {"trailName": "org-audit", "eventSelectors": [
                    {"readWriteType": "ReadOnly", "includeManagementEvents": False, "dataResources": [], "excludeManagementEventSources": []}]},
                    {"trailARN": trail}, ip=TOR),
                 api(at(2), CT, "UpdateTrail", alice, {"name": "security-trail", "s3BucketName": "exfil-logs-bucket-7781"},
                     {"name": "security-trail", "s3BucketName": "exfil-logs-bucket-7781"}, ip=VPN)],
                [api(at(0), CT, "PutEventSelectors", platform, {"trailName": "org-audit", "eventSelectors": [
                    {"readWriteType": "All", "includeManagementEvents": True,
                     "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::acme-finance-exports/"]}],
                     "excludeManagementEventSources": []}]}, {"trailARN": trail}),
                 api(at(2), CT, "UpdateTrail", platform, {"name": "org-audit", "enableLogFileValidation": True},
                     {"name": "org-audit", "logFileValidationEnabled": True})],
                [("web-waf-role", "management events dropped"), ("alice", "logs redirected to another bucket")],
                "richer logging is not blinding")

    GD = "guardduty.amazonaws.com"
    det = "6ec6b4a1d2f0e9c8b7a6f5e4d3c2b1a0"
    simple_pair("defense_evasion_guardduty_disabled", "guardduty-disabled",
                "The GuardDuty detector is suspended, then deleted in another region.",
                "The finding publishing frequency changes with the detector kept on; a detector is created.",
                [api(at(0), GD, "UpdateDetector", waf, {"detectorId": det, "enable": False}, None, ip=TOR),
                 api(at(2), GD, "DeleteDetector", alice, {"detectorId": det}, None, ip=VPN, region="us-east-1")],
                [api(at(0), GD, "UpdateDetector", platform, {"detectorId": det, "enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES"}, None),
                 api(at(1), GD, "CreateDetector", platform, {"enable": True}, {"detectorId": det}, region="ap-southeast-2")],
                [("web-waf-role", "detector suspended"), ("alice", "detector deleted")], "GuardDuty stays on")

    CF = "config.amazonaws.com"
    simple_pair("defense_evasion_config_recorder_stopped", "config-recorder-stopped",
                "The Config recorder is stopped and its delivery channel deleted.",
                "The recorder is updated and started.",
                [api(at(0), CF, "StopConfigurationRecorder", waf, {"configurationRecorderName": "default"}, None, ip=TOR),
                 api(at(1), CF, "DeleteDeliveryChannel", waf, {"deliveryChannelName": "default"}, None, ip=TOR)],
                [api(at(0), CF, "PutConfigurationRecorder", platform, {"configurationRecorder": {"name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-config-role",
                     "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}}}, None),
                 api(at(1), CF, "StartConfigurationRecorder", platform, {"configurationRecorderName": "default"}, None),
                 api(at(2), CF, "StopConfigurationRecorder", bob, {"configurationRecorderName": "default"}, None,
                     error=("AccessDeniedException", "User is not authorized to perform: config:StopConfigurationRecorder"))],
                [("web-waf-role", "recorder stopped")], "Config keeps recording; a stop is refused")

    simple_pair("defense_evasion_vpc_flow_logs_deleted", "vpc-flow-logs-deleted",
                "The flow logs of the production VPC are deleted.",
                "Flow logs are created; a deletion is refused.",
                [api(at(0), EC2, "DeleteFlowLogs", alice, {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a9b8c7d6e5f43210", "tag": 1}}},
                     {"DeleteFlowLogsResponse": {"requestId": "-", "unsuccessful": "", "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/"}}, ip=VPN)],
                [api(at(0), EC2, "CreateFlowLogs", platform, {"CreateFlowLogsRequest": {"ResourceId": {"content": "vpc-0123456789abcdef0", "tag": 1},
                     "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::acme-flow-logs"}},
                     {"CreateFlowLogsResponse": {"flowLogIdSet": {"item": "fl-0new0000000000001"}}}),
                 api(at(2), EC2, "DeleteFlowLogs", bob, {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0new0000000000001", "tag": 1}}}, None, error=EC2_DENIED)],
                [("alice", "flow logs deleted")], "creation and a refused deletion")

    R53 = "route53resolver.amazonaws.com"
    simple_pair("defense_evasion_route53_resolver_query_logging_removed", "resolver-query-logs-removed",
                "DNS query logging is detached from the VPC and its configuration deleted.",
                "A query-logging configuration is created and associated.",
                [api(at(0), R53, "DisassociateResolverQueryLogConfig", waf, {"resolverQueryLogConfigId": "rqlc-0f1e2d3c4b5a6978", "resourceId": "vpc-0123456789abcdef0"},
                     {"resolverQueryLogConfigAssociation": {"id": "rqlca-1", "status": "DELETING"}}, ip=TOR),
                 api(at(1), R53, "DeleteResolverQueryLogConfig", waf, {"resolverQueryLogConfigId": "rqlc-0f1e2d3c4b5a6978"},
                     {"resolverQueryLogConfig": {"id": "rqlc-0f1e2d3c4b5a6978", "status": "DELETING"}}, ip=TOR)],
                [api(at(0), R53, "CreateResolverQueryLogConfig", platform, {"name": "vpc-dns", "destinationArn": "arn:aws:s3:::acme-dns-logs", "creatorRequestId": "tf-1"},
                     {"resolverQueryLogConfig": {"id": "rqlc-0new", "status": "CREATING"}}),
                 api(at(1), R53, "AssociateResolverQueryLogConfig", platform, {"resolverQueryLogConfigId": "rqlc-0new", "resourceId": "vpc-0123456789abcdef0"},
                     {"resolverQueryLogConfigAssociation": {"id": "rqlca-2", "status": "CREATING"}}),
                 api(at(3), R53, "DeleteResolverQueryLogConfig", bob, {"resolverQueryLogConfigId": "rqlc-0new"}, None,
                     error=("AccessDeniedException", "User is not authorized to perform: route53resolver:DeleteResolverQueryLogConfig"))],
                [("web-waf-role", "resolver query logging removed")], "DNS logging is being added; a deletion is refused")

    ORG = "organizations.amazonaws.com"
    simple_pair("defense_evasion_organization_left", "organization-left",
                "The member account leaves its organisation; in another session a stolen role's attempt is refused by an SCP.",
                "The organisation and its policies are described, as the console's account page does.",
                [api(at(-2), ORG, "DescribeOrganization", alice, None, None, ip=HOSTING, region="us-east-1", read_only=True),
                 api(at(0), ORG, "LeaveOrganization", alice, None, None, ip=HOSTING, region="us-east-1"),
                 api(at(5), ORG, "LeaveOrganization", waf, None, None, ip=TOR, region="us-east-1",
                     error=("AccessDeniedException", "You don't have permissions to access this resource."))],
                [api(at(0), ORG, "DescribeOrganization", bob, None, None, region="us-east-1", read_only=True, ua=UA_CONSOLE),
                 api(at(1), ORG, "ListPoliciesForTarget", bob, {"targetId": ACCOUNT, "filter": "SERVICE_CONTROL_POLICY"}, None,
                     region="us-east-1", read_only=True, ua=UA_CONSOLE,
                     error=("AccessDeniedException", "You don't have permissions to access this resource."))],
                [("alice", "account left the organisation"), ("web-waf-role", "refused attempt to leave")], "reading the organisation is not leaving it")

    simple_pair("defense_evasion_cloudwatch_logs_or_alarms_deleted", "cloudwatch-deleted",
                "The CloudTrail log group is deleted and the root-login alarm removed.",
                "A log group is created and its retention set; a log stream is rotated.",
                [api(at(0), "logs.amazonaws.com", "DeleteLogGroup", waf, {"logGroupName": "/aws/cloudtrail/org-audit"}, None, ip=TOR),
                 api(at(1), "monitoring.amazonaws.com", "DeleteAlarms", waf, {"alarmNames": ["root-console-login", "cloudtrail-config-change"]}, None, ip=TOR)],
                [api(at(0), "logs.amazonaws.com", "CreateLogGroup", platform, {"logGroupName": "/app/orders"}, None),
                 api(at(1), "logs.amazonaws.com", "PutRetentionPolicy", platform, {"logGroupName": "/app/orders", "retentionInDays": 365}, None),
                 api(at(2), "logs.amazonaws.com", "DeleteLogGroup", bob, {"logGroupName": "/aws/cloudtrail/org-audit"}, None,
                     error=("AccessDeniedException", "User is not authorized to perform: logs:DeleteLogGroup"))],
                [("web-waf-role", "log group and alarms deleted")], "creation, retention and a refused deletion")

    def logging(t, who, bucket, enabled, ip=OFFICE_PARIS):
        status = {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
        if enabled:
            status["LoggingEnabled"] = {"TargetBucket": "acme-access-logs", "TargetPrefix": f"{bucket}/"}
        return api(t, S3, "PutBucketLogging", who, {"bucketName": bucket, "Host": f"{bucket}.s3.eu-west-1.amazonaws.com",
                                                    "BucketLoggingStatus": status, "logging": ""}, None, ip=ip)

    simple_pair("defense_evasion_s3_access_logging_disabled", "s3-access-logging-disabled",
                "Server access logging is switched off on the finance bucket.",
                "Server access logging is switched on.",
                [logging(at(0), alice, "acme-finance-exports", False, ip=VPN)],
                [logging(at(0), platform, "acme-finance-exports", True)],
                [("alice", "access logging disabled")], "enabling logging")

    def ingress(t, who, group, perms=None, legacy=None, ip=OFFICE_PARIS):
        params = {"groupId": group}
        if legacy:
            params.update(legacy)
            params["ipPermissions"] = {}
        else:
            params["ipPermissions"] = {"items": perms}
        return api(t, EC2, "AuthorizeSecurityGroupIngress", who, params,
                   {"requestId": "-", "_return": True, "securityGroupRuleSet": {"items": [{"groupId": group, "securityGroupRuleId": "sgr-0abc"}]}}, ip=ip)

    def perm(port, cidr, proto="tcp"):
        return {"ipProtocol": proto, "fromPort": port, "toPort": port, "groups": {},
                "ipRanges": {"items": [{"cidrIp": cidr}]}, "ipv6Ranges": {}, "prefixListIds": {}}

    simple_pair("defense_evasion_security_group_opened_to_internet", "security-group-open",
                "SSH opened to 0.0.0.0/0 (legacy request form) and RDP opened to the internet (ipPermissions form).",
                "HTTPS opened to the internet on a load balancer group; SSH opened to one office range.",
                [ingress(at(0), alice, "sg-0a1b2c3d4e5f67890", legacy={"cidrIp": "0.0.0.0/0", "fromPort": 22, "toPort": 22, "ipProtocol": "tcp"}, ip=VPN),
                 ingress(at(2), bob, "sg-0123abcd4567ef890", [perm(3389, "0.0.0.0/0")], ip=HOME_UK)],
                [ingress(at(0), platform, "sg-0lb00000000000001", [perm(443, "0.0.0.0/0")]),
                 ingress(at(2), platform, "sg-0bastion000000001", [perm(22, "192.0.2.0/24")])],
                [("alice", "SSH open to the world"), ("bob", "RDP open to the world")], "443 to the world and 22 to the office")


# --------------------------------------------------------------------------- credential access

def credential_access() -> None:
    f, s, rid = pair("credential_access_console_login_failure_burst", "console-login-failure-burst",
                     "Twelve failed sign-ins across four user names from one hosting address in three minutes.",
                     "Nine failures from the office (one below the threshold) and four failures each from three home addresses.")
    names = ["alice", "bob", "admin", None]
    f.add(*[console_login(at(i * 0.25), failed_login_identity(names[i % 4]), ok=False, ip=HOSTING) for i in range(12)])
    f.expect(rid, True, "password spraying from one address", {"source.ip": HOSTING})
    s.add(*[console_login(at(i * 0.3), failed_login_identity("bob"), ok=False, ip=OFFICE_SEATTLE) for i in range(9)])
    for j, ip in enumerate(["198.18.0.57", "198.18.1.20", "198.18.2.33"]):
        s.add(*[console_login(at(j + i * 0.5), failed_login_identity("carol"), ok=False, ip=ip) for i in range(4)])
    s.add(console_login(at(6), iam_user("bob"), ok=True, ip=OFFICE_SEATTLE))
    s.expect(rid, False, "no address reaches ten failures")

    SM = "secretsmanager.amazonaws.com"
    stolen = role("reporting-lambda-role", "reporting-fn")
    app = role("orders-api-role", "i-0fe1d2c3b4a596870")

    def secret(t, who, name, ip):
        return api(t, SM, "GetSecretValue", who, {"secretId": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{name}"}, None,
                   ip=ip, ua=UA_BOTO, read_only=True)

    f, s, rid = pair("credential_access_secret_read_burst", "secret-read-burst",
                     "A stolen role lists secrets and reads eight different ones in two minutes.",
                     "An application reads its one secret thirty times; an engineer reads four secrets twice each.")
    f.add(api(at(-1), SM, "ListSecrets", stolen, {"maxResults": 100}, None, ip=TOR, ua=UA_BOTO, read_only=True))
    f.add(*[secret(at(i * 0.2), stolen, f"prod/{n}-AbCdEf", TOR) for i, n in enumerate(
        ["db/orders", "db/billing", "stripe/api-key", "github/deploy-token", "ldap/bind", "smtp/relay", "datadog/api", "jwt/signing"])])
    f.expect(rid, True, "many distinct secrets by one principal", {"user.name": "reporting-lambda-role"})
    s.add(*[secret(at(i * 0.1), app, "prod/db/orders-AbCdEf", AWS_IP) for i in range(30)])
    s.add(*[secret(at(i * 0.5), iam_user("dave"), f"dev/{n}-XyZ123", OFFICE_PARIS) for n in ["db/a", "db/b", "api/c", "api/d"] for i in range(2)])
    s.expect(rid, False, "one secret many times, or four secrets")

    SSM = "ssm.amazonaws.com"
    config_role = role("orders-config-loader", "i-0fe1d2c3b4a596870")

    def params(t, who, names, decrypt, ip):
        return api(t, SSM, "GetParameters", who, {"names": names, "withDecryption": decrypt}, None, ip=ip, ua=UA_BOTO, read_only=True)

    hist = [params(at(days=-d), config_role, ["/orders/db/password", "/orders/api/key"], True, AWS_IP) for d in range(1, 6)]
    f, s, rid = pair("credential_access_ssm_secure_parameter_first_read_by_user", "ssm-secure-parameter-first-read",
                     "The config loader reads its SecureStrings daily; then a developer's user decrypts them for the first time.",
                     "The config loader reads as every day; a user reads parameters without decryption.")
    f.add(*hist, params(at(0), iam_user("mallory"), ["/orders/db/password", "/prod/ldap/bind"], True, VPN))
    f.expect(rid, True, "first decrypted read by mallory", {"user.name": "mallory"}, after=at(-1))
    s.add(*[params(at(days=-d), config_role, ["/orders/db/password", "/orders/api/key"], True, AWS_IP) for d in range(1, 6)],
          params(at(0), config_role, ["/orders/db/password", "/orders/api/key"], True, AWS_IP),
          params(at(1), iam_user("bob"), ["/orders/feature-flags"], False, OFFICE_PARIS))
    s.expect(rid, False, "nobody new decrypts parameters", after=at(-1))

    winadmin = iam_user("winadmin")
    runner = role("build-runner-role", "i-0b1c2d3e4f5a69788")

    def pwd(t, who, inst, ip, err=None):
        return api(t, EC2, "GetPasswordData", who, {"instanceId": inst}, None if err else {"instanceId": inst, "timestamp": 1793613600000, "passwordData": ""},
                   ip=ip, error=err, read_only=True)

    f, s, rid = pair("credential_access_ec2_password_data_first_request_by_user", "ec2-password-data-first",
                     "A build runner's role, which never did, tries to fetch Windows passwords of three instances.",
                     "The Windows administrator fetches a password as every week.")
    f.add(pwd(at(days=-5), winadmin, "i-0win0000000000001", OFFICE_PARIS),
          *[pwd(at(i * 0.1), runner, f"i-0win00000000000{i + 1}", HOSTING, EC2_DENIED) for i in range(3)])
    f.expect(rid, True, "first GetPasswordData by the build runner role", {"user.name": "build-runner-role"}, after=at(-1))
    s.add(pwd(at(days=-5), winadmin, "i-0win0000000000001", OFFICE_PARIS), pwd(at(days=-12), winadmin, "i-0win0000000000002", OFFICE_PARIS),
          pwd(at(0), winadmin, "i-0win0000000000003", OFFICE_PARIS))
    s.expect(rid, False, "winadmin is not new", after=at(-1))


# --------------------------------------------------------------------------- persistence and privilege escalation

def key_for(t, who, target, ip=OFFICE_PARIS):
    params = {"userName": target} if target else None
    owner = target or who.get("userName")
    return api(t, IAM, "CreateAccessKey", who, params,
               {"accessKey": {"accessKeyId": "AKIA" + owner.upper().replace("-", "")[:16].ljust(16, "X"), "status": "Active",
                              "userName": owner, "createDate": "Nov 3, 2026, 10:00:00 AM"}}, ip=ip)


def create_user(t, who, name, ip=OFFICE_PARIS):
    return api(t, IAM, "CreateUser", who, {"userName": name},
               {"user": {"path": "/", "userName": name, "userId": "AIDA" + name.upper().replace("-", "")[:17].ljust(17, "Q"),
                         "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "createDate": "Nov 3, 2026, 10:00:00 AM"}}, ip=ip)


def persistence() -> None:
    alice, bob, carol = iam_user("alice"), iam_user("bob"), iam_user("carol")
    ops = role("ops-admin", "erin@example.com")
    idp = role("identity-provisioner", "ticket-4821")

    f, s, rid = pair("persistence_iam_access_key_for_another_user", "access-key-for-other-user",
                     "An IAM user and a role session each create an access key for another user.",
                     "Users create keys for themselves, with and without naming themselves.")
    f.add(key_for(at(0), alice, "svc-reporting", ip=VPN), key_for(at(2), ops, "bob", ip=HOSTING))
    f.expect(rid, True, "alice made a key for svc-reporting", {"user.name": "alice", "user.target.name": "svc-reporting"})
    f.expect(rid, True, "ops-admin made a key for bob", {"user.name": "ops-admin", "user.target.name": "bob"})
    s.add(key_for(at(0), bob, "bob"), key_for(at(2), carol, None))
    s.expect(rid, False, "self-service keys")

    def login_profile(t, who, action, target, ip=OFFICE_PARIS):
        params = {"userName": target, "passwordResetRequired": False}
        resp = {"loginProfile": {"userName": target, "createDate": "Nov 3, 2026, 10:00:00 AM", "passwordResetRequired": False}} if action == "CreateLoginProfile" else None
        return api(t, IAM, action, who, params, resp, ip=ip)

    f, s, rid = pair("persistence_iam_login_profile_for_another_user", "login-profile-for-other-user",
                     "A console password is given to a service user, and an administrator's password is reset by a role session.",
                     "A user resets their own login profile; another changes their password.")
    f.add(login_profile(at(0), alice, "CreateLoginProfile", "svc-backup", ip=VPN),
          login_profile(at(3), ops, "UpdateLoginProfile", "dave", ip=HOSTING))
    f.expect(rid, True, "console password for svc-backup", {"user.name": "alice", "user.target.name": "svc-backup"})
    f.expect(rid, True, "dave's password reset by ops-admin", {"user.name": "ops-admin", "user.target.name": "dave"})
    s.add(login_profile(at(0), iam_user("dave"), "UpdateLoginProfile", "dave"),
          api(at(2), IAM, "ChangePassword", iam_user("erin"), None, None, ua=UA_CONSOLE))
    s.expect(rid, False, "credentials changed by their owner")

    f, s, rid = pair("persistence_iam_new_user_access_key_sequence", "new-user-access-key",
                     "A user is created and given an access key three minutes later by the same principal.",
                     "A new user's key comes two hours later; another user's key is created by a different principal.")
    f.add(create_user(at(0), alice, "backup-sync", ip=VPN), key_for(at(3), alice, "backup-sync", ip=VPN))
    f.expect(rid, True, "create user then key", {"user.name": "alice", "user.target.name": "backup-sync"})
    s.add(create_user(at(0), idp, "new-hire-7"), key_for(at(120), idp, "new-hire-7"),
          create_user(at(5), bob, "svc-etl"), key_for(at(8), carol, "svc-etl"))
    s.expect(rid, False, "outside maxspan, or a different actor")

    def attach(t, who, kind, name, policy_arn, ip=OFFICE_PARIS):
        action = {"user": "AttachUserPolicy", "role": "AttachRolePolicy", "group": "AttachGroupPolicy"}[kind]
        return api(t, IAM, action, who, {f"{kind}Name": name, "policyArn": policy_arn}, None, ip=ip)

    def to_group(t, who, group, user, ip=OFFICE_PARIS, error=None):
        return api(t, IAM, "AddUserToGroup", who, {"groupName": group, "userName": user}, None, ip=ip, error=error)

    ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
    f, s, rid = pair("privilege_escalation_new_user_admin_sequence", "new-user-admin",
                     "Two new users made administrators minutes after creation: one by policy, one by group.",
                     "New users given read-only and developer rights.")
    f.add(create_user(at(0), alice, "support-temp", ip=VPN), attach(at(2), alice, "user", "support-temp", ADMIN, ip=VPN),
          create_user(at(5), ops, "ops-break-glass", ip=HOSTING), to_group(at(9), ops, "PlatformAdmins", "ops-break-glass", ip=HOSTING))
    f.expect(rid, True, "AdministratorAccess on a new user", {"user.name": "alice", "user.target.name": "support-temp"})
    f.expect(rid, True, "new user in the admin group", {"user.name": "ops-admin", "user.target.name": "ops-break-glass"})
    s.add(create_user(at(0), idp, "analyst-3"), attach(at(1), idp, "user", "analyst-3", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
          create_user(at(2), idp, "dev-9"), to_group(at(3), idp, "Developers", "dev-9"))
    s.expect(rid, False, "no administrator rights given")

    def trust(t, who, action, role_name, principal, ip=OFFICE_PARIS):
        doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}, indent=2)
        if action == "CreateRole":
            return api(t, IAM, "CreateRole", who, {"roleName": role_name, "assumeRolePolicyDocument": doc, "maxSessionDuration": 3600},
                       {"role": {"path": "/", "roleName": role_name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}"}}, ip=ip)
        return api(t, IAM, "UpdateAssumeRolePolicy", who, {"roleName": role_name, "policyDocument": doc}, None, ip=ip)

    f, s, rid = pair("persistence_iam_role_trust_foreign_account", "role-trust-foreign",
                     "An existing admin role is made assumable from a foreign account; a new role trusting the foreign account is created; "
                     "a trust policy is opened to \"Principal\": \"*\".",
                     "A Lambda execution role and a role trusted by a role of the same account.")
    f.add(trust(at(0), alice, "UpdateAssumeRolePolicy", "platform-admin", {"AWS": f"arn:aws:iam::{FOREIGN}:root"}, ip=VPN),
          trust(at(3), ops, "CreateRole", "maintenance-access", {"AWS": f"arn:aws:iam::{FOREIGN}:user/contractor"}, ip=HOSTING))
    f.expect(rid, True, "trust policy opened to 999988887777", {"user.name": "alice"})
    f.expect(rid, True, "new role trusted by a foreign user", {"user.name": "ops-admin"})
    # a statement with "Principal": "*" (anyone may assume the role), pretty-printed as the IAM API logs it
    f.add(trust(at(5), bob, "UpdateAssumeRolePolicy", "platform-admin", "*", ip=HOME_UK))
    f.expect(rid, True, "trust policy open to every principal", {"user.name": "bob"})
    s.add(trust(at(0), idp, "CreateRole", "orders-fn-exec", {"Service": "lambda.amazonaws.com"}),
          trust(at(2), idp, "UpdateAssumeRolePolicy", "orders-readonly", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops-admin"}))
    s.expect(rid, False, "service and same-account trust")

    LAMBDA = "lambda.amazonaws.com"
    f, s, rid = pair("persistence_lambda_public_invocation", "lambda-public",
                     "A function's policy lets anyone invoke it; another gets a function URL without authentication.",
                     "S3 is allowed to invoke a function; a function URL requires IAM auth.")
    f.add(api(at(0), LAMBDA, "AddPermission20150331v2", alice, {"functionName": "orders-admin-tasks", "statementId": "public",
                                                                "action": "lambda:InvokeFunction", "principal": "*"},
              {"statement": "{\"Sid\":\"public\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\"}"}, ip=VPN),
          api(at(2), LAMBDA, "CreateFunctionUrlConfig20211031", bob, {"functionName": "billing-sync", "authType": "NONE"},
              {"functionUrl": "https://abcdefghij.lambda-url.eu-west-1.on.aws/", "authType": "NONE"}, ip=HOME_UK))
    f.expect(rid, True, "invoke permission for *", {"user.name": "alice"})
    f.expect(rid, True, "unauthenticated function URL", {"user.name": "bob"})
    s.add(api(at(0), LAMBDA, "AddPermission20150331v2", idp, {"functionName": "thumbnailer", "statementId": "s3-trigger",
                                                              "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
                                                              "sourceArn": "arn:aws:s3:::acme-uploads"}, {"statement": "{}"}, ua=UA_TF),
          api(at(2), LAMBDA, "CreateFunctionUrlConfig20211031", idp, {"functionName": "internal-hook", "authType": "AWS_IAM"},
              {"functionUrl": "https://klmnopqrst.lambda-url.eu-west-1.on.aws/", "authType": "AWS_IAM"}, ua=UA_TF))
    s.expect(rid, False, "service principal and IAM-authenticated URL")

    f, s, rid = pair("privilege_escalation_administrator_policy_attached", "admin-policy-attached",
                     "A stolen workload role attaches AdministratorAccess to its own role.",
                     "ReadOnlyAccess attached; a customer policy whose name merely starts like the admin policy.")
    f.add(attach(at(0), role("web-waf-role", "i-0a1b2c3d4e5f60718"), "role", "web-waf-role", ADMIN, ip=TOR))
    f.expect(rid, True, "AdministratorAccess on a role", {"user.name": "web-waf-role"})
    s.add(attach(at(0), idp, "role", "audit-reader", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
          attach(at(1), idp, "user", "carol", f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccessReview"))
    s.expect(rid, False, "no AWS-managed AdministratorAccess")

    f, s, rid = pair("privilege_escalation_user_added_to_admin_group", "admin-group-add",
                     "A user adds their colleague to the Admins group.",
                     "Users added to the Developers group; an Admins add is refused.")
    f.add(to_group(at(0), bob, "Admins", "frank", ip=HOME_UK))
    f.expect(rid, True, "frank added to Admins", {"user.name": "bob", "group.name": "Admins"})
    s.add(to_group(at(0), idp, "Developers", "dev-9"), to_group(at(1), carol, "Admins", "carol", error=DENIED))
    s.expect(rid, False, "ordinary group, refused admin add")


# --------------------------------------------------------------------------- initial access, execution, lateral movement, impact, discovery

def the_rest() -> None:
    f, s, rid = pair("initial_access_root_console_login", "root-console-login",
                     "The root user signs in to the console from a VPN exit.",
                     "IAM users sign in; a root sign-in fails.")
    f.add(console_login(at(0), root(), ok=True, mfa=True, ip=VPN))
    f.expect(rid, True, "root console sign-in", {"aws.cloudtrail.user_identity.type": "Root", "cloud.account.id": ACCOUNT})
    s.add(console_login(at(0), iam_user("bob"), ok=True, ip=OFFICE_SEATTLE),
          console_login(at(1), {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}, ok=False, ip=HOSTING))
    s.expect(rid, False, "no successful root sign-in")

    frank, gina, henry = iam_user("frank"), iam_user("gina"), iam_user("henry")
    f, s, rid = pair("initial_access_console_login_without_mfa", "console-login-without-mfa",
                     "frank always signs in with MFA; today a sign-in without MFA comes from a TOR exit.",
                     "gina, who has no MFA yet, signed in without it four days ago and again today; henry signs in with MFA.")
    f.add(*[console_login(at(days=-d), frank, mfa=True, ip=OFFICE_PARIS) for d in range(1, 6)],
          console_login(at(0), frank, mfa=False, ip=TOR))
    f.expect(rid, True, "frank without MFA", {"user.name": "frank"}, after=at(-1))
    s.add(console_login(at(days=-4), gina, mfa=False, ip=OFFICE_SEATTLE), console_login(at(0), gina, mfa=False, ip=OFFICE_SEATTLE),
          console_login(at(1), henry, mfa=True, ip=OFFICE_PARIS))
    s.expect(rid, False, "gina is already known to sign in without MFA; henry uses MFA", after=at(-1))

    SSM = "ssm.amazonaws.com"

    def send(t, who, doc, instances, ip):
        return api(t, SSM, "SendCommand", who, {"documentName": doc, "instanceIds": instances, "interactive": False,
                                                 "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                   {"command": {"commandId": "c0ffee00-1111-2222-3333-444455556666", "documentName": doc, "instanceIds": instances, "status": "Pending"}},
                   ip=ip, ua=UA_BOTO)

    f, s, rid = pair("execution_ssm_send_command_shell", "ssm-send-command",
                     "A stolen role runs a shell script on two instances through Run Command.",
                     "Patch Manager runs the patch baseline.")
    f.add(send(at(0), role("web-waf-role", "i-0a1b2c3d4e5f60718"), "AWS-RunShellScript", ["i-0db0000000000001", "i-0db0000000000002"], TOR))
    f.expect(rid, True, "shell via SSM", {"user.name": "web-waf-role"})
    s.add(send(at(0), role("patch-manager-role", "maintenance-window"), "AWS-RunPatchBaseline", ["i-0db0000000000001"], AWS_IP2))
    s.expect(rid, False, "patching is not a shell command")

    alice, bob, carol = iam_user("alice"), iam_user("bob"), iam_user("carol")

    def stop(t, who, inst, ip=OFFICE_PARIS):
        return api(t, EC2, "StopInstances", who, {"instancesSet": {"items": [{"instanceId": inst}]}, "force": False},
                   {"instancesSet": {"items": [{"instanceId": inst, "currentState": {"code": 64, "name": "stopping"}}]}}, ip=ip)

    def start(t, who, inst, ip=OFFICE_PARIS):
        return api(t, EC2, "StartInstances", who, {"instancesSet": {"items": [{"instanceId": inst}]}},
                   {"instancesSet": {"items": [{"instanceId": inst, "currentState": {"code": 0, "name": "pending"}}]}}, ip=ip)

    def modify(t, who, inst, attr, ip=OFFICE_PARIS):
        params = {"instanceId": inst}
        params.update({"userData": "<sensitiveDataRemoved>"} if attr == "userData" else {"instanceType": {"value": "m7i.xlarge"}})
        return api(t, EC2, "ModifyInstanceAttribute", who, params, {"requestId": "-", "_return": True}, ip=ip)

    f, s, rid = pair("execution_ec2_user_data_modified_sequence", "ec2-user-data-sequence",
                     "An instance is stopped, its user data replaced and started again within nine minutes.",
                     "An instance is resized (stop, type change, start); user data changed without a restart by someone else.")
    inst = "i-0feedface0000001"
    f.add(stop(at(0), alice, inst, VPN), modify(at(4), alice, inst, "userData", VPN), start(at(9), alice, inst, VPN))
    f.expect(rid, True, "stop, user data, start", {"user.name": "alice"})
    s.add(stop(at(0), bob, inst), modify(at(3), bob, inst, "instanceType"), start(at(6), bob, inst),
          modify(at(10), carol, "i-0feedface0000002", "userData"))
    s.expect(rid, False, "a resize, or user data without the stop/start")

    EIC = "ec2-instance-connect.amazonaws.com"

    def ssh_key(t, who, inst, serial, ip):
        action = "SendSerialConsoleSSHPublicKey" if serial else "SendSSHPublicKey"
        params = {"instanceId": inst, "sSHPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0bExampleKeyMaterialOnly0000000000000"}
        params.update({"serialPort": 0, "monitorMode": False} if serial else {"instanceOSUser": "ec2-user"})
        return api(t, EIC, action, who, params, {"requestId": "-", "success": True}, ip=ip)

    f, s, rid = pair("lateral_movement_ec2_serial_console_access", "ec2-serial-console",
                     "Serial console access is enabled for the account and a key pushed to an instance's serial port.",
                     "Ordinary Instance Connect keys are pushed; serial console access is disabled.")
    f.add(api(at(0), EC2, "EnableSerialConsoleAccess", role("web-waf-role", "i-0a1b2c3d4e5f60718"), {"EnableSerialConsoleAccessRequest": ""},
              {"EnableSerialConsoleAccessResponse": {"serialConsoleAccessEnabled": True}}, ip=TOR),
          ssh_key(at(2), role("web-waf-role", "i-0a1b2c3d4e5f60718"), "i-0db0000000000001", True, TOR))
    f.expect(rid, True, "serial console enabled and used", {"user.name": "web-waf-role"}, min_count=2)
    s.add(ssh_key(at(0), iam_user("ivan"), "i-0build000000001", False, OFFICE_PARIS),
          api(at(1), EC2, "DisableSerialConsoleAccess", role("platform-admin", "carol@example.com", mfa=True), {"DisableSerialConsoleAccessRequest": ""},
              {"DisableSerialConsoleAccessResponse": {"serialConsoleAccessEnabled": False}}),
          api(at(2), EC2, "EnableSerialConsoleAccess", iam_user("bob"), {"EnableSerialConsoleAccessRequest": ""}, None, error=EC2_DENIED))
    s.expect(rid, False, "Instance Connect, disabling, and a refused enable")

    STS, RA = "sts.amazonaws.com", "rolesanywhere.amazonaws.com"
    policy_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

    def federation(t, who, name, ip):
        return api(t, STS, "GetFederationToken", who, {"name": name, "durationSeconds": 129600, "policy": policy_all},
                   {"credentials": {"accessKeyId": "ASIA" + name.upper().replace("-", "")[:16].ljust(16, "F"), "sessionToken": "<hidden>",
                                    "expiration": "Nov 4, 2026, 10:00:00 PM"},
                    "federatedUser": {"federatedUserId": f"{ACCOUNT}:{name}", "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/{name}"}},
                   ip=ip, ua=UA_BOTO)

    broker = iam_user("sso-broker")
    f, s, rid = pair("persistence_sts_federation_token_first_by_user", "federation-token-first",
                     "A token broker mints federation tokens daily; then a deployment user mints one from a VPS with an allow-all policy.",
                     "The broker mints its daily token; an engineer takes an MFA session token.")
    f.add(*[federation(at(days=-d), broker, f"portal-user-{d}", AWS_IP) for d in range(1, 7)],
          federation(at(0), iam_user("svc-deploy"), "maint", HOSTING))
    f.expect(rid, True, "svc-deploy's first federation token", {"user.name": "svc-deploy"}, after=at(-1))
    s.add(*[federation(at(days=-d), broker, f"portal-user-{d}", AWS_IP) for d in range(1, 7)],
          federation(at(0), broker, "portal-user-0", AWS_IP),
          api(at(1), STS, "GetSessionToken", iam_user("bob"), {"durationSeconds": 43200, "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob", "tokenCode": "***"},
              {"credentials": {"accessKeyId": "ASIABOBSESSION00001", "sessionToken": "<hidden>", "expiration": "Nov 3, 2026, 10:00:00 PM"}},
              ip=OFFICE_PARIS))
    s.expect(rid, False, "the broker is not new; a session token is not a federation token", after=at(-1))

    cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUExampleOnlyNotARealCertificate000000wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----"
    f, s, rid = pair("persistence_iam_roles_anywhere_trust_anchor_created", "roles-anywhere-anchor",
                     "A trust anchor for an outside CA is created, then a profile handing out the admin role.",
                     "Trust anchors are listed and read; creating one is refused.")
    f.add(api(at(0), RA, "CreateTrustAnchor", alice, {"enabled": True, "name": "partner-ca", "source": {"sourceData": {"x509CertificateData": cert}, "sourceType": "CERTIFICATE_BUNDLE"}},
              {"trustAnchor": {"name": "partner-ca", "enabled": True, "trustAnchorId": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}}, ip=VPN),
          api(at(1), RA, "CreateProfile", alice, {"enabled": True, "name": "partner-profile", "durationSeconds": 3600,
                                                 "roleArns": [f"arn:aws:iam::{ACCOUNT}:role/platform-admin"]},
              {"profile": {"name": "partner-profile", "enabled": True, "profileId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}}, ip=VPN))
    f.expect(rid, True, "trust anchor and profile created", {"user.name": "alice"}, min_count=2)
    s.add(api(at(0), RA, "ListTrustAnchors", bob, None, None, read_only=True, ua=UA_CONSOLE),
          api(at(1), RA, "GetTrustAnchor", bob, {"trustAnchorId": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}, None, read_only=True, ua=UA_CONSOLE),
          api(at(2), RA, "CreateTrustAnchor", bob, {"enabled": True, "name": "test-ca", "source": {"sourceData": {"x509CertificateData": cert}, "sourceType": "CERTIFICATE_BUNDLE"}},
              None, error=("AccessDeniedException", "User is not authorized to perform: rolesanywhere:CreateTrustAnchor")))
    s.expect(rid, False, "reads and a refused creation")

    ivan = iam_user("ivan")

    def session(t, who, target, ip=OFFICE_PARIS):
        return api(t, SSM, "StartSession", who, {"target": target},
                   {"sessionId": f"{user_of(who)}-0a1b2c3d4e5f", "tokenValue": "Value hidden due to security reasons.",
                    "streamUrl": "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/x"}, ip=ip, ua=UA_SSM)

    f, s, rid = pair("lateral_movement_ssm_session_new_target", "ssm-session-new-target",
                     "ivan opens sessions on the build host every day; today he opens one on the database host.",
                     "ivan opens his daily session on the build host.")
    hist = [session(at(days=-d), ivan, "i-0build000000001") for d in range(1, 7)]
    f.add(*hist, session(at(0), ivan, "i-0database0000001", ip=VPN))
    f.expect(rid, True, "first session to the database host", {"user.name": "ivan"}, after=at(-1))
    s.add(*[session(at(days=-d), ivan, "i-0build000000001") for d in range(1, 7)], session(at(0), ivan, "i-0build000000001"))
    s.expect(rid, False, "same principal, same instance", after=at(-1))

    KMS = "kms.amazonaws.com"
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    f, s, rid = pair("impact_kms_key_disabled_or_deletion_scheduled", "kms-key-destroyed",
                     "The production data key is disabled and scheduled for deletion in seven days.",
                     "Key rotation enabled, a pending deletion cancelled, a deletion refused.")
    f.add(api(at(0), KMS, "DisableKey", alice, {"keyId": key}, None, ip=VPN),
          api(at(1), KMS, "ScheduleKeyDeletion", alice, {"keyId": key, "pendingWindowInDays": 7},
              {"keyId": key, "deletionDate": "Nov 10, 2026, 10:01:00 AM", "keyState": "PendingDeletion", "pendingWindowInDays": 7}, ip=VPN))
    f.expect(rid, True, "key disabled and deletion scheduled", {"user.name": "alice"}, min_count=1)
    s.add(api(at(0), KMS, "EnableKeyRotation", bob, {"keyId": key}, None),
          api(at(1), KMS, "CancelKeyDeletion", bob, {"keyId": key}, {"keyId": key}),
          api(at(2), KMS, "ScheduleKeyDeletion", carol, {"keyId": key, "pendingWindowInDays": 30}, None,
              error=("AccessDeniedException", "User is not authorized to perform: kms:ScheduleKeyDeletion")))
    s.expect(rid, False, "protective or refused key operations")

    enum_actions = ["ListUsers", "ListRoles", "ListGroups", "ListPolicies", "ListAccessKeys", "ListAttachedRolePolicies",
                    "GetAccountAuthorizationDetails", "ListInstanceProfiles"]
    app = role("orders-api-role", "i-0fe1d2c3b4a596870")
    f, s, rid = pair("discovery_iam_enumeration_burst", "iam-enumeration-burst",
                     "A workload role calls fourteen IAM listing APIs of eight kinds in two minutes.",
                     "An administrator pages through users; an auditor makes nine calls of six kinds (one call short).")
    f.add(*[api(at(i * 0.15), IAM, enum_actions[i % 8], app, None, None, ip=TOR, ua=UA_BOTO, read_only=True, region="us-east-1") for i in range(14)])
    f.expect(rid, True, "IAM enumeration", {"user.name": "orders-api-role"})
    s.add(*[api(at(i * 0.1), IAM, "ListUsers", alice, {"marker": f"page{i}"}, None, ua=UA_CONSOLE, read_only=True, region="us-east-1") for i in range(15)])
    s.add(*[api(at(i * 0.2), IAM, enum_actions[i % 6], iam_user("auditor"), None, None, read_only=True, region="us-east-1") for i in range(9)])
    s.expect(rid, False, "one kind of call, or fewer than ten")


def build_all() -> list[Scenario]:
    exfiltration()
    defense_evasion()
    credential_access()
    persistence()
    the_rest()
    return SCENARIOS


def main(argv: list[str]) -> int:
    """``gen_scenarios.py [--out DIR]``: write every scenario (to scenarios/, or DIR to compare)."""
    out = OUT
    if argv[:1] == ["--out"] and len(argv) == 2:
        out = Path(argv[1])
    elif argv:
        print("usage: gen_scenarios.py [--out DIR]", file=sys.stderr)
        return 2
    scenarios = build_all()
    names = [s.folder for s in scenarios]
    if len(set(names)) != len(names):
        print("duplicate scenario folder names", file=sys.stderr)
        return 1
    for s in scenarios:
        write(s, out)
    print(f"wrote {len(scenarios)} scenarios under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
