"""Elastic's own pipeline test pairs map field for field: every pair is a test.

All pairs of ``anchors/integrations-aws-cloudtrail-pipeline-tests`` (74 expected files;
80 records plus 35 documents the harness made of blank input lines) go through
``golden_pairs.GoldenComparer``. A difference passes only when ``ALLOWED`` names it, with
its reason; every allowance is also checked to still be needed, so the list shrinks as
ctdetect catches up and never hides a new difference.

ctdetect follows the newest pipeline behaviour the expected files show (the aws
integration's 2.4x-3.x pipelines: ``cloud.service.name``, ``related.ip``, ``user.email``,
``management_event`` as text, the newer categorisation, an empty ``related.entity``,
Elasticsearch 8.16.2+ user agents). Expected files written by older versions differ from
it where a later version changed the output; those are the allowances below.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from conftest import SHARED_DIR, shared_path

from ctdetect.ecs import CloudTrailMapper
from ecs.golden_pairs import REJECTED, Difference, GoldenComparer, pair_names

Check = Callable[[Difference], bool]


def _older(diff: Difference) -> bool:
    """The expected file predates the version that writes this field."""
    return diff.expected is None


def _within(diff: Difference) -> bool:
    """Ours is a subset of the expected list (versions added more values)."""
    return set(diff.ours or ()) <= set(diff.expected or ())


def _in(*pairs: str) -> Check:
    names = {f"test-{p}" for p in pairs}
    return lambda diff: diff.pair in names


_SPLIT_EMAIL = ("attach-group-policy-json", "attach-role-policy-json", "attach-user-role-json", "create-detector-json",
                "create-stack-json", "delete-detector-json", "delete-file-system-json", "delete-network-acl-json",
                "get-parameter-json", "schedule-key-deletion-json", "update-assume-role-policy-json")
_OLD_GEOIP = ("add-permission-json", "authorize-security-group-egress-json", "create-document-json",
              "create-traffic-mirror-session-request-json", "create-traffic-mirror-target-json",
              "create-trust-anchor-json", "delete-log-group-json", "delete-web-acl-json", "modify-image-attribute-json",
              "start-session-json", "subscribe-json")
_RELATED_ENTITY = "entity sub-pipeline versions differ (order kept or sorted; principal id vs access key id); " \
                  "ctdetect follows entity.yml 41014905, the newest one in ../shared; the identity ARN must be on both sides"
_ACTOR_TARGET = "actor_target_mapping script versions differ (field per target kind, host ids, entity.actor/targets); " \
                "the fields every version agrees on are checked in test_entities.py"


def _identity_arn_on_both(diff: Difference) -> bool:
    return True if diff.ours is None else bool(set(diff.ours) & set(diff.expected or ()))


# field -> (reason, check a difference must pass)
ALLOWED: dict[str, tuple[str, Check]] = {
    "cloud.service.name": ("newer versions write it (e.g. test-update-lambda-json); older expected files lack it", _older),
    "related.ip": ("newer versions write it (e.g. test-copy-object-json-minimal); older expected files lack it", _older),
    "user.email": ("newer versions write an e-mail user name as user.email; older expected files lack it", _older),
    "aws.cloudtrail.user_identity.session_context.ec2_role_delivery":
        ("newer versions write it (test-attach-user-policy-json); older expected files lack it", _older),
    "aws.cloudtrail.session_credential_from_console":
        ("newer versions write it and Elastic's rules test it; older expected files lack it", _older),
    "related.user": ("versions added the principal id, access key id or e-mail parts; ours must be within", _within),
    "related.entity": (_RELATED_ENTITY, _identity_arn_on_both),
    "user.name": ("one intermediate version (04e9c0f8) split e-mail user names into user.name/user.domain; "
                  "the newest expected file (test-user-authentication) writes the whole address again", _in(*_SPLIT_EMAIL)),
    "user.domain": ("same intermediate version as user.name", _in(*_SPLIT_EMAIL)),
    "source.geo.city_name": ("written with an older MaxMind test database (Poulsbo/CENTURYLINK for 216.160.83.56)", _in(*_OLD_GEOIP)),
    "source.geo.location": ("older MaxMind test database, as source.geo.city_name", _in(*_OLD_GEOIP)),
    "source.as.organization.name": ("older MaxMind test database, as source.geo.city_name", _in(*_OLD_GEOIP)),
    "user.changes.name": ("older versions wrote the role session name there; newer ones only requestParameters.newUserName",
                          _in("converse-json", "send-command-all-json")),
    REJECTED: ("a record without eventTime: the pipeline keeps the harness time, ctdetect reports the record "
               "(a detection needs the event's own time)", _in("update-lambda-json")),
}
for _field in ("actor.entity.id", "target.entity.id", "user.entity.id", "entity.target.id", "service.target.entity.id",
               "host.target.entity.id", "host.id", "entity.actor", "entity.targets"):
    ALLOWED[_field] = (_ACTOR_TARGET, lambda diff: diff.pair not in _NEWEST_ENTITY_PAIRS)
# the newest actor/target output ctdetect must match exactly
_NEWEST_ENTITY_PAIRS = {"test-user-authentication", "test-update-lambda-json"}
_MINIMAL = "the pair's config sets _conf.retain: minimal, an option ctdetect does not have (it keeps the flattened copies)"
NOT_FOLLOWED = {
    # one expected file each shows behaviour newer than every other expected file; not followed yet
    "test-terminate-instances-json": ("user.id", "aws.cloudtrail.user_identity.principal_id", "related.hosts"),
}


def _allowed(diff: Difference) -> str | None:
    if diff.pair == "test-copy-object-json-minimal" and diff.field.startswith("aws.cloudtrail.flattened."):
        return _MINIMAL
    if diff.field in NOT_FOLLOWED.get(diff.pair, ()):
        return "single newest expected file: IAMUser principal id moved to aws.cloudtrail.user_identity.principal_id, related.hosts"
    entry = ALLOWED.get(diff.field)
    if entry is not None and entry[1](diff):
        return entry[0]
    return None


_PAIRS_DIR = SHARED_DIR / "anchors" / "integrations-aws-cloudtrail-pipeline-tests"
PAIRS = pair_names(SHARED_DIR) if _PAIRS_DIR.exists() else ["(pairs absent)"]


@pytest.fixture(scope="module")
def comparer() -> GoldenComparer:
    return GoldenComparer(shared_path())


DIGESTS_FILE = Path(__file__).with_name("golden_digests.json")
# Fingerprints of ctdetect's own documents for every pair: the allowed differences above
# say where ctdetect may differ from Elastic, these pin *what* it writes there too, so a
# rewrite of the data path (columnar batches...) must reproduce every document exactly.
# After an intended mapping change: CTDETECT_UPDATE_GOLDEN=1 pytest tests/ecs/test_golden.py
DIGESTS: dict[str, list[str]] = orjson.loads(DIGESTS_FILE.read_bytes()) if DIGESTS_FILE.exists() else {}


@pytest.mark.parametrize("name", PAIRS)
def test_golden_pair(comparer: GoldenComparer, name: str) -> None:
    shared_path("anchors", "integrations-aws-cloudtrail-pipeline-tests")
    result = comparer.compare(name)
    assert result.records, f"{name}: no record compared"
    if os.environ.get("CTDETECT_UPDATE_GOLDEN"):
        _update_digest(name, result.digests or [])
    else:
        assert result.digests == DIGESTS.get(name), f"{name}: ctdetect's documents changed (see DIGESTS_FILE)"
    unexplained = [d for d in result.differences or () if _allowed(d) is None]
    assert not unexplained, "\n".join(f"{d.pair} record {d.record}: {d.field} is {d.ours!r}, Elastic writes {d.expected!r}"
                                       for d in unexplained)


def _update_digest(name: str, digests: list[str]) -> None:
    current = orjson.loads(DIGESTS_FILE.read_bytes()) if DIGESTS_FILE.exists() else {}
    current[name] = digests
    DIGESTS_FILE.write_bytes(orjson.dumps(dict(sorted(current.items())), option=orjson.OPT_INDENT_2) + b"\n")


def test_golden_pairs_count(comparer: GoldenComparer) -> None:
    """Every pair is read, and at least as many records match exactly as when this was written."""
    names = pair_names(shared_path("anchors", "integrations-aws-cloudtrail-pipeline-tests").parent.parent)
    results = [comparer.compare(name) for name in names]
    assert len(names) == 74
    assert sum(r.records for r in results) == 80
    assert sum(r.exact for r in results) >= EXACT_RECORDS


def test_every_allowance_is_still_needed(comparer: GoldenComparer) -> None:
    names = pair_names(shared_path("anchors", "integrations-aws-cloudtrail-pipeline-tests").parent.parent)
    used = {d.field for name in names for d in comparer.compare(name).differences or () if _allowed(d) is not None}
    assert set(ALLOWED) - used == set(), "allowances no difference needs any more: remove them"


EXACT_RECORDS = 1  # strict field-for-field matches (test-user-authentication) when this was written


@pytest.mark.parametrize("name", ["test-console-login-json.log"])
def test_console_login_outcome_and_role_name(name: str) -> None:
    source = shared_path("datasets", "elastic-integration-cloudtrail-pipeline-tests", "inputs", name)
    docs = [CloudTrailMapper().map(orjson.loads(line)) for line in source.read_bytes().splitlines() if line.strip()]
    assert [d["event.outcome"] for d in docs] == ["success", "failure", "failure"]
    assert docs[2]["user.name"] == "RoleToBeAssumed"
    assert "related.user" not in docs[2]
