"""What benign AWS activity looks like: actions, personas, agents, errors, names.

Data only. Shapes (parameter names, error codes, agent strings) follow real CloudTrail
records as AWS documents them and as seen in the shared datasets; values are invented.
Placeholders in request parameters are filled per principal when its habits are built:
``{org}``, ``{account}``, ``{region}``, ``{user}``, ``{role}``, ``{instance}``, ``{function}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Action:
    """One API call kind. ``variants``: request parameters to pick from (None: null)."""

    source: str
    name: str
    read_only: bool
    variants: tuple[Any, ...] = (None,)
    response: Any = None
    errors: tuple[tuple[str, str], ...] = ()
    error_rate: float = 0.0
    global_service: bool = False  # logged in us-east-1 whatever the caller's region

    @property
    def service(self) -> str:
        return self.source.split(".", 1)[0]


_DENIED = ("AccessDenied", "User: {arn} is not authorized to perform: {service}:{action} on resource: {resource} because no identity-based policy allows the {service}:{action} action")
_DENIED_EXC = ("AccessDeniedException", "User: {arn} is not authorized to perform: {service}:{action} on resource: {resource} because no identity-based policy allows the {service}:{action} action")
_EC2_DENIED = ("Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: {arn} is not authorized to perform: ec2:{action} because no identity-based policy allows the ec2:{action} action.")
_THROTTLE = ("ThrottlingException", "Rate exceeded")
_EC2_THROTTLE = ("Client.RequestLimitExceeded", "Request limit exceeded.")
_NO_ENTITY = ("NoSuchEntityException", "The user with name {user} cannot be found.")
_NO_POLICY = ("NoSuchBucketPolicy", "The bucket policy does not exist")
_NOT_FOUND = ("ResourceNotFoundException", "Requested resource not found")
_PARAM_NOT_FOUND = ("ParameterNotFound", "")

A = Action
ACTIONS: dict[str, Action] = {a.source.split(".")[0] + ":" + a.name: a for a in (
    # --- STS / IAM (global) ---
    A("sts.amazonaws.com", "GetCallerIdentity", True, errors=(_DENIED,), error_rate=0.002),
    A("iam.amazonaws.com", "ListUsers", True, ({"maxItems": 100},), errors=(_DENIED,), error_rate=0.02, global_service=True),
    A("iam.amazonaws.com", "GetUser", True, ({"userName": "{user}"}, None), errors=(_NO_ENTITY, _DENIED), error_rate=0.03, global_service=True),
    A("iam.amazonaws.com", "ListRoles", True, ({"maxItems": 1000},), errors=(_DENIED,), error_rate=0.02, global_service=True),
    A("iam.amazonaws.com", "GetRole", True, ({"roleName": "{role}"},), errors=(("NoSuchEntityException", "The role with name {role} cannot be found."), _DENIED), error_rate=0.03, global_service=True),
    A("iam.amazonaws.com", "ListPolicies", True, ({"scope": "Local", "onlyAttached": False},), errors=(_DENIED,), error_rate=0.02, global_service=True),
    A("iam.amazonaws.com", "GetPolicy", True, ({"policyArn": "arn:aws:iam::{account}:policy/{org}-app-read"},), errors=(_DENIED,), error_rate=0.02, global_service=True),
    A("iam.amazonaws.com", "ListAttachedRolePolicies", True, ({"roleName": "{role}"},), errors=(_DENIED,), error_rate=0.02, global_service=True),
    A("iam.amazonaws.com", "ListAccessKeys", True, ({"userName": "{user}"},), errors=(_NO_ENTITY,), error_rate=0.01, global_service=True),
    A("iam.amazonaws.com", "GetAccountSummary", True, global_service=True),
    A("iam.amazonaws.com", "GenerateCredentialReport", False, global_service=True,
      response={"state": "COMPLETE"}),
    A("iam.amazonaws.com", "GetCredentialReport", True, global_service=True),
    # --- EC2 ---
    A("ec2.amazonaws.com", "DescribeInstances", True, ({"instancesSet": {}, "filterSet": {}}, {"maxResults": 1000, "instancesSet": {}, "filterSet": {}}), errors=(_EC2_DENIED, _EC2_THROTTLE), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeSecurityGroups", True, ({"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeVpcs", True, ({"vpcSet": {}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeSubnets", True, ({"subnetSet": {}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeVolumes", True, ({"volumeSet": {}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeSnapshots", True, ({"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeImages", True, ({"executableBySet": {}, "imagesSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "filterSet": {}},), errors=(_EC2_DENIED,), error_rate=0.01),
    A("ec2.amazonaws.com", "DescribeRegions", True, ({"regionSet": {}},)),
    A("ec2.amazonaws.com", "DescribeTags", True, ({"filterSet": {"items": [{"name": "resource-id", "valueSet": {"items": [{"value": "{instance}"}]}}]}},), errors=(_EC2_THROTTLE,), error_rate=0.005),
    A("ec2.amazonaws.com", "CreateTags", False, ({"resourcesSet": {"items": [{"resourceId": "{instance}"}]}, "tagSet": {"items": [{"key": "owner", "value": "{user}"}]}},), response={"_return": True}, errors=(_EC2_DENIED,), error_rate=0.02),
    A("ec2.amazonaws.com", "StartInstances", False, ({"instancesSet": {"items": [{"instanceId": "{instance}"}]}},), errors=(_EC2_DENIED,), error_rate=0.02),
    A("ec2.amazonaws.com", "StopInstances", False, ({"instancesSet": {"items": [{"instanceId": "{instance}"}]}, "force": False},), errors=(_EC2_DENIED,), error_rate=0.02),
    # --- S3 (management events) ---
    A("s3.amazonaws.com", "ListBuckets", True, ({"Host": "s3.{region}.amazonaws.com"},), errors=(_DENIED,), error_rate=0.005),
    A("s3.amazonaws.com", "GetBucketLocation", True, ({"bucketName": "{org}-data-prod", "Host": "{org}-data-prod.s3.{region}.amazonaws.com", "location": ""}, {"bucketName": "{org}-logs", "Host": "{org}-logs.s3.{region}.amazonaws.com", "location": ""})),
    A("s3.amazonaws.com", "GetBucketPolicy", True, ({"bucketName": "{org}-data-prod", "Host": "{org}-data-prod.s3.{region}.amazonaws.com", "policy": ""},), errors=(_NO_POLICY, _DENIED), error_rate=0.05),
    A("s3.amazonaws.com", "GetBucketAcl", True, ({"bucketName": "{org}-logs", "Host": "{org}-logs.s3.{region}.amazonaws.com", "acl": ""},), errors=(_DENIED,), error_rate=0.01),
    A("s3.amazonaws.com", "GetBucketVersioning", True, ({"bucketName": "{org}-data-prod", "Host": "{org}-data-prod.s3.{region}.amazonaws.com", "versioning": ""},)),
    A("s3.amazonaws.com", "GetBucketEncryption", True, ({"bucketName": "{org}-data-prod", "Host": "{org}-data-prod.s3.{region}.amazonaws.com", "encryption": ""},), errors=(("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"),), error_rate=0.02),
    # --- Lambda, logs, CloudWatch ---
    A("lambda.amazonaws.com", "ListFunctions20150331", True, (None, {"functionVersion": "ALL"}), errors=(_DENIED_EXC, _THROTTLE), error_rate=0.01),
    A("lambda.amazonaws.com", "GetFunction20150331v2", True, ({"functionName": "{function}"},), errors=(_NOT_FOUND,), error_rate=0.02),
    A("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", False, ({"functionName": "{function}", "publish": False, "dryRun": False},), errors=(_DENIED_EXC,), error_rate=0.02),
    A("logs.amazonaws.com", "DescribeLogGroups", True, (None, {"logGroupNamePrefix": "/aws/lambda/{function}"}), errors=(_THROTTLE,), error_rate=0.005),
    A("logs.amazonaws.com", "FilterLogEvents", True, ({"logGroupName": "/aws/lambda/{function}", "startTime": 1, "interleaved": True},), errors=(_THROTTLE,), error_rate=0.01),
    A("logs.amazonaws.com", "CreateLogStream", False, ({"logGroupName": "/{org}/app", "logStreamName": "{instance}"},), errors=(("ResourceAlreadyExistsException", "The specified log stream already exists"),), error_rate=0.03),
    A("monitoring.amazonaws.com", "GetMetricData", True, ({"startTime": "", "endTime": "", "metricDataQueries": [{"id": "m1", "returnData": True}]},), errors=(_THROTTLE,), error_rate=0.005),
    A("monitoring.amazonaws.com", "DescribeAlarms", True, ({"maxRecords": 100},)),
    # --- data, secrets, keys ---
    A("dynamodb.amazonaws.com", "DescribeTable", True, ({"tableName": "{org}-orders"}, {"tableName": "{org}-sessions"}), errors=(_NOT_FOUND, _THROTTLE), error_rate=0.005),
    A("dynamodb.amazonaws.com", "ListTables", True),
    A("kms.amazonaws.com", "Decrypt", True, ({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},), errors=(("AccessDeniedException", "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access."), _THROTTLE), error_rate=0.003),
    A("kms.amazonaws.com", "GenerateDataKey", True, ({"keyId": "alias/{org}-app", "keySpec": "AES_256"},), errors=(_THROTTLE,), error_rate=0.003),
    A("kms.amazonaws.com", "ListKeys", True, ({"limit": 100},)),
    A("kms.amazonaws.com", "DescribeKey", True, ({"keyId": "alias/{org}-app"},)),
    A("secretsmanager.amazonaws.com", "GetSecretValue", True, ({"secretId": "{org}/prod/db"},), errors=(("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),), error_rate=0.002),
    A("secretsmanager.amazonaws.com", "ListSecrets", True),
    A("ssm.amazonaws.com", "GetParameter", True, ({"name": "/{org}/app/config", "withDecryption": False},), errors=(_PARAM_NOT_FOUND,), error_rate=0.01),
    A("ssm.amazonaws.com", "GetParameters", True, ({"names": ["/{org}/app/endpoint", "/{org}/app/flags"], "withDecryption": False},)),
    A("ssm.amazonaws.com", "UpdateInstanceInformation", False, ({"instanceId": "{instance}", "agentVersion": "3.3.40.0", "agentStatus": "Active", "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023"},), errors=(_THROTTLE,), error_rate=0.003),
    A("ssm.amazonaws.com", "ListAssociations", True, ({"associationFilterList": [{"key": "InstanceId", "value": "{instance}"}], "maxResults": 50},)),
    A("ecr.amazonaws.com", "GetAuthorizationToken", True, (None,)),
    A("ecr.amazonaws.com", "DescribeRepositories", True, (None,)),
    # --- infrastructure and audit ---
    A("cloudformation.amazonaws.com", "DescribeStacks", True, (None, {"stackName": "{org}-app"}), errors=(("ValidationError", "Stack with id {org}-app does not exist"),), error_rate=0.01),
    A("cloudformation.amazonaws.com", "ListStacks", True, (None,)),
    A("cloudtrail.amazonaws.com", "DescribeTrails", True, ({"includeShadowTrails": True},)),
    A("cloudtrail.amazonaws.com", "GetTrailStatus", True, ({"name": "arn:aws:cloudtrail:us-east-1:{account}:trail/{org}-trail"},)),
    A("cloudtrail.amazonaws.com", "LookupEvents", True, ({"maxResults": 50},), errors=(_THROTTLE,), error_rate=0.02),
    A("config.amazonaws.com", "DescribeConfigRules", True, (None,)),
    A("config.amazonaws.com", "DescribeComplianceByConfigRule", True, (None,)),
    A("guardduty.amazonaws.com", "ListDetectors", True, (None,)),
    A("guardduty.amazonaws.com", "ListFindings", True, ({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "maxResults": 50},)),
    A("securityhub.amazonaws.com", "GetFindings", True, ({"maxResults": 100},)),
    A("organizations.amazonaws.com", "DescribeOrganization", True, global_service=True, errors=(("AWSOrganizationsNotInUseException", "Your account is not a member of an organization."),), error_rate=0.01),
    A("athena.amazonaws.com", "StartQueryExecution", False, ({"queryString": "SELECT * FROM orders LIMIT 10", "workGroup": "primary"},), errors=(("InvalidRequestException", "line 1:8: mismatched input"),), error_rate=0.04),
    A("athena.amazonaws.com", "GetQueryExecution", True, ({"queryExecutionId": "q"},)),
    A("athena.amazonaws.com", "GetQueryResults", True, ({"queryExecutionId": "q", "maxResults": 1000},)),
    A("glue.amazonaws.com", "GetTables", True, ({"databaseName": "{org}_lake"},)),
    A("glue.amazonaws.com", "GetDatabases", True, (None,)),
    A("ce.amazonaws.com", "GetCostAndUsage", True, ({"granularity": "MONTHLY", "metrics": ["UnblendedCost"]},), global_service=True),
)}

# Personas of human users: the pool a user's habits are drawn from.
PERSONAS: dict[str, tuple[str, ...]] = {
    "developer": (
        "lambda:ListFunctions20150331", "lambda:GetFunction20150331v2", "lambda:UpdateFunctionCode20150331v2",
        "logs:DescribeLogGroups", "logs:FilterLogEvents", "cloudformation:DescribeStacks", "cloudformation:ListStacks",
        "ec2:DescribeInstances", "sts:GetCallerIdentity", "ecr:DescribeRepositories", "ecr:GetAuthorizationToken",
        "dynamodb:DescribeTable", "dynamodb:ListTables", "monitoring:GetMetricData", "s3:ListBuckets", "s3:GetBucketLocation",
        "ssm:GetParameter",
    ),
    "operations": (
        "ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots", "ec2:DescribeImages", "ec2:DescribeRegions", "ec2:CreateTags", "ec2:StartInstances",
        "ec2:StopInstances", "iam:ListRoles", "iam:GetRole", "iam:ListAttachedRolePolicies", "monitoring:DescribeAlarms",
        "cloudtrail:GetTrailStatus", "s3:GetBucketVersioning", "s3:GetBucketEncryption", "kms:ListKeys", "kms:DescribeKey",
    ),
    "security": (
        "guardduty:ListDetectors", "guardduty:ListFindings", "securityhub:GetFindings", "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails", "config:DescribeConfigRules", "config:DescribeComplianceByConfigRule",
        "iam:ListUsers", "iam:GetUser", "iam:ListAccessKeys", "iam:ListPolicies", "iam:GetPolicy", "iam:GetAccountSummary",
        "iam:GenerateCredentialReport", "iam:GetCredentialReport", "s3:GetBucketPolicy", "s3:GetBucketAcl",
        "organizations:DescribeOrganization",
    ),
    "analyst": (
        "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "glue:GetTables",
        "glue:GetDatabases", "s3:ListBuckets", "s3:GetBucketLocation", "sts:GetCallerIdentity", "ce:GetCostAndUsage",
    ),
}

# Service roles: (kind, actions with weights)
SERVICE_ROLES: dict[str, tuple[tuple[str, float], ...]] = {
    "ec2-app": (("ssm:UpdateInstanceInformation", 6.0), ("kms:Decrypt", 3.0), ("secretsmanager:GetSecretValue", 1.0),
                ("ssm:GetParameters", 2.0), ("logs:CreateLogStream", 0.5), ("ec2:DescribeTags", 1.0),
                ("ssm:ListAssociations", 1.0), ("sts:GetCallerIdentity", 0.3)),
    "ec2-batch": (("ssm:UpdateInstanceInformation", 4.0), ("kms:GenerateDataKey", 2.0), ("dynamodb:DescribeTable", 2.0),
                  ("s3:GetBucketLocation", 1.0), ("logs:CreateLogStream", 0.5), ("ec2:DescribeInstances", 0.5)),
    "lambda": (("kms:Decrypt", 4.0), ("dynamodb:DescribeTable", 2.0), ("secretsmanager:GetSecretValue", 1.0),
               ("ssm:GetParameter", 2.0), ("logs:CreateLogStream", 1.0)),
}

FIRST_NAMES = ("alice", "bruno", "chen", "dana", "emeka", "fatima", "gustavo", "hana", "ivan", "julia", "kenji", "lea",
               "marco", "nadia", "omar", "priya", "quentin", "rosa", "sven", "tariq", "uma", "victor", "wen", "ximena",
               "yusuf", "zoe")
LAST_NAMES = ("martin", "smith", "wang", "kowalski", "okafor", "haddad", "silva", "sato", "petrov", "garcia", "tanaka",
              "dubois", "rossi", "khan", "ali", "sharma", "moreau", "lopez", "berg", "aziz", "rao", "hugo", "li", "diaz")

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
)
CLI_AGENTS = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#{command}",
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#{command}",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/{service}#1.0",
)
SERVICE_AGENTS = {
    "ec2-app": "aws-sdk-java/1.12.701 Linux/6.1.84-99.169.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS java/17.0.10 vendor/Amazon.com_Inc. cfg/retry-mode/standard",
    "ec2-batch": "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.1.84 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "lambda": "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.214-223.838.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#legacy Botocore/1.34.42",
}
SSM_AGENT = "aws-sdk-go/1.44.260 (go1.20.12; linux; amd64) amazon-ssm-agent/3.3.40.0"

TLS_CIPHERS = ("TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256")

# AWS regions used, and the city of the AWS ranges of the default GeoIP table in them.
REGION_CITY = {"us-east-1": "Ashburn", "eu-west-1": "Dublin", "eu-west-3": "Paris", "eu-north-1": "Stockholm"}
# Preferred region by the continent of a user's home.
CONTINENT_REGION = {"EU": ("eu-west-1", "eu-west-3", "eu-north-1"), "NA": ("us-east-1",), "SA": ("us-east-1",),
                    "AS": ("eu-west-1", "us-east-1"), "OC": ("us-east-1",), "AF": ("eu-west-1",)}

# Standard-time UTC offsets (hours) of the default table's time zones. Daylight saving
# time is ignored on purpose: it would only shift working hours by one hour.
TZ_OFFSETS = {
    "Europe/Paris": 1, "America/Los_Angeles": -8, "Australia/Sydney": 10, "Europe/Berlin": 1, "Europe/London": 0,
    "America/New_York": -5, "America/Toronto": -5, "Asia/Kolkata": 5.5, "Asia/Tokyo": 9, "America/Sao_Paulo": -3,
    "Europe/Amsterdam": 1, "Europe/Bucharest": 2, "Europe/Moscow": 3, "Asia/Singapore": 8, "Africa/Lagos": 1,
    "Europe/Dublin": 0, "Europe/Stockholm": 1,
}
