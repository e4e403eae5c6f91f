"""ES|QL hunting queries deploy as Discover sessions (``search`` saved objects), against the
fake cluster: created with the ownership marker, updated in place, left alone when equal,
given their own ids in a second space, adopted when the id is ours but the marker is
missing, and pruned only when they are provably ours."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ctdetect.elastic.ownership import SAVED_QUERY_MARKER
from deploy.deploykit import PROJECT_ROOT, fake, mini_package  # noqa: F401 - fixtures
from ctdetect_testsupport.fakecluster import FakeElastic
from deploy.test_deploy_behaviour import deploy

HUNT = "esql-access-denied-per-access-key"
SESSION = f"ctdetect-hunt-{HUNT}"


@pytest.fixture
def esql_package(mini_package: Path) -> Path:
    shutil.copy(PROJECT_ROOT / "playbooks" / "hunting" / f"{HUNT}.toml", mini_package / "playbooks" / "hunting" / f"{HUNT}.toml")
    return mini_package


def _sessions(fake: FakeElastic, space: str = "default") -> dict[str, dict]:
    return {oid: o for (otype, oid), o in fake.state.saved_objects.get(space, {}).items() if otype == "search"}


def _esql_of(session: dict) -> str:
    (tab,) = session["attributes"]["tabs"]
    assert tab["attributes"]["isTextBasedQuery"] is True
    return json.loads(tab["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["esql"]


def test_an_esql_hunt_becomes_a_discover_session_not_a_saved_query(fake: FakeElastic, esql_package: Path) -> None:
    result = deploy(fake, esql_package)
    assert result.exit_code == 0, [o.error for o in result.applied.failed]
    sessions = _sessions(fake)
    assert list(sessions) == [SESSION]
    assert ("query", SESSION) not in fake.state.saved_objects["default"]
    attributes = sessions[SESSION]["attributes"]
    assert attributes["description"].endswith(SAVED_QUERY_MARKER) and attributes["title"].endswith("(ES|QL)")
    assert _esql_of(sessions[SESSION]).lstrip().startswith("from logs-aws.cloudtrail-*")
    assert deploy(fake, esql_package, dry_run=True).plan.requests == []  # stored as sent: nothing to do


def test_a_changed_query_updates_the_session_in_place(fake: FakeElastic, esql_package: Path) -> None:
    deploy(fake, esql_package)
    path = esql_package / "playbooks" / "hunting" / f"{HUNT}.toml"
    path.write_text(path.read_text().replace("| limit 100", "| limit 50"))
    result = deploy(fake, esql_package)
    assert result.exit_code == 0 and result.plan.count("update") == 1
    assert [(w.method, w.path) for w in fake.writes("kibana") if "/search/" in w.path][-1] == ("PUT", f"/api/saved_objects/search/{SESSION}")
    assert _esql_of(_sessions(fake)[SESSION]).rstrip().endswith("| limit 50")


def test_a_second_space_gets_its_own_session_ids(fake: FakeElastic, esql_package: Path) -> None:
    deploy(fake, esql_package)
    result = deploy(fake, esql_package, space="b")
    assert result.exit_code == 0, [o.error for o in result.applied.failed]
    assert list(_sessions(fake, "b")) == [f"{SESSION}.b"]  # search is multiple-isolated: ids are global


def test_prune_deletes_only_sessions_this_package_made(fake: FakeElastic, esql_package: Path) -> None:
    deploy(fake, esql_package)
    objects = fake.state.saved_objects["default"]
    users = {"title": "mine", "description": "an analyst's session", "tabs": [{"id": "t", "label": "t", "attributes": {"kibanaSavedObjectMeta": {"searchSourceJSON": "{}"}}}]}
    objects[("search", "my-session")] = {"type": "search", "id": "my-session", "attributes": users}
    objects[("search", "ctdetect-hunt-look-alike")] = {"type": "search", "id": "ctdetect-hunt-look-alike", "attributes": dict(users)}  # our prefix, no marker
    (esql_package / "playbooks" / "hunting" / f"{HUNT}.toml").unlink()
    orphan = deploy(fake, esql_package, dry_run=True).plan
    assert [(a.kind, a.id, a.action) for a in orphan.actions if a.kind == "discover_session"] == [("discover_session", SESSION, "orphan")]
    result = deploy(fake, esql_package, prune=True)
    assert result.exit_code == 0
    assert sorted(_sessions(fake)) == ["ctdetect-hunt-look-alike", "my-session"]


def test_a_session_with_our_id_but_no_marker_is_adopted(fake: FakeElastic, esql_package: Path) -> None:
    old = {"title": "old", "description": "made by hand", "tabs": [{"id": "t", "label": "t", "attributes": {"kibanaSavedObjectMeta": {"searchSourceJSON": "{}"}}}]}
    fake.state.saved_objects.setdefault("default", {})[("search", SESSION)] = {"type": "search", "id": SESSION, "attributes": old}
    result = deploy(fake, esql_package, prune=True)
    assert result.exit_code == 0 and result.plan.count("prune") == 0
    assert _sessions(fake)[SESSION]["attributes"]["description"].endswith(SAVED_QUERY_MARKER)


def test_the_fake_refuses_a_session_kibana_would_refuse(fake: FakeElastic) -> None:
    import requests

    url = fake.kibana_url + "/api/saved_objects/search/s1"
    kw = {"auth": (fake.username, fake.password), "headers": {"kbn-xsrf": "t"}, "timeout": 10}
    legacy = {"attributes": {"title": "t", "columns": [], "isTextBasedQuery": True, "kibanaSavedObjectMeta": {"searchSourceJSON": "{}"}}}
    resp = requests.post(url, json=legacy, **kw)
    assert resp.status_code == 400 and re.search(r"attributes\.(columns|isTextBasedQuery)", resp.text)
    assert requests.post(url, json={"attributes": {"title": "t", "tabs": []}}, **kw).status_code == 400
