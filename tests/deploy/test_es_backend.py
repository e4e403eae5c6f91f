"""The elasticsearch backend for replay, against the fake cluster over real HTTP.

Parity: a scenario replayed through the cluster (index, datafeed lookback, rule preview,
read back) must meet its expectations exactly as the embedded backend does. The fake
runs ctdetect's engines where Elastic would run autodetect and the rule executors
(``esengines``), so these tests check the backend's own work, end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ctdetect.backends import BackendUnavailable, get_backend
from ctdetect.backends.es_index import NotOwnedIndex, OwnedIndices, build_mapping
from ctdetect.catalogue import load_catalogue
from ctdetect.content.loaders import load_package
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.services.replay import run_replay
from deploy.deploykit import PROJECT_ROOT, fake  # noqa: F401 - fixtures
from deploy.esengines import ml_engine_for, rule_engine_for
from ctdetect_testsupport.fakecluster import FakeElastic

SCENARIOS = ["rule-s3-bucket-public-fires", "rule-ec2-user-data-sequence-fires"]


@pytest.fixture(scope="module")
def package():  # type: ignore[no-untyped-def]
    return load_package(PROJECT_ROOT)


def _wire(fake: FakeElastic, package, monkeypatch: pytest.MonkeyPatch, folder: Path) -> FakeElastic:  # type: ignore[no-untyped-def]  # noqa: F811
    fake.ml_engine = ml_engine_for(package)
    fake.rule_engine = rule_engine_for(package, fake)
    fake.stats_polls_before_stop = 0
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ELASTIC_API_KEY", raising=False)
    monkeypatch.chdir(folder)
    return fake


@pytest.fixture
def wired(fake: FakeElastic, package, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeElastic:  # type: ignore[no-untyped-def]  # noqa: F811
    return _wire(fake, package, monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def one_run(package, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One scenario replayed through the fake; tests read what the cluster saw."""
    cluster = FakeElastic()
    try:
        with pytest.MonkeyPatch.context() as mp:
            _wire(cluster, package, mp, tmp_path_factory.mktemp("one"))
            cluster.stats_polls_before_stop = 1  # the backend polls until the lookback ends
            result = run_replay([str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])], package_root=str(PROJECT_ROOT), backend="elasticsearch", workers=1)
        yield cluster, result
    finally:
        cluster.close()


def _outcomes(result) -> dict[tuple[str, int], str]:  # type: ignore[no-untyped-def]
    return {(s.scenario.name, o.expectation.index): o.status for s in result.scenarios for o in s.outcomes}


def test_replay_through_the_cluster_meets_expectations_as_embedded_does(wired: FakeElastic) -> None:
    paths = [str(PROJECT_ROOT / "scenarios" / name) for name in SCENARIOS]
    embedded = run_replay(paths, package_root=str(PROJECT_ROOT), backend="embedded", workers=1)
    cluster = run_replay(paths, package_root=str(PROJECT_ROOT), backend="elasticsearch", workers=1)
    assert embedded.ok, embedded.summary()
    assert _outcomes(cluster) == _outcomes(embedded)
    assert cluster.ok, [(s.scenario.name, s.problems) for s in cluster.scenarios if not s.ok]
    # alerts are the same alerts: same rules, same source events
    for emb, es in zip(embedded.scenarios, cluster.scenarios):
        key = lambda f: (f.kind, f.source_id, f.timestamp.isoformat())  # noqa: E731
        assert sorted(map(key, es.findings)) == sorted(map(key, emb.findings)), es.scenario.name


def test_everything_created_is_cleaned_up(one_run, package) -> None:  # type: ignore[no-untyped-def]
    wired, result = one_run
    assert result.ok
    created = [s.path for s in wired.seen if s.method == "PUT" and s.path.count("/") == 1]
    assert created and all(p.startswith("/ctdetect-replay-") for p in created)
    assert not any(n.startswith("ctdetect-replay-") for n in wired.state.indices)
    assert wired.state.jobs == {} and wired.state.datafeeds == {}
    previews = [s for s in wired.seen if s.path.endswith("/rules/preview")]
    assert len(previews) == sum(1 for r in package.rules if r.type != "esql")  # ES|QL rules read their own FROM: not previewed
    assert all(s.body["index"] == [created[0][1:]] for s in previews if s.body["type"] != "machine_learning")


def test_ml_rules_preview_against_the_runs_temporary_jobs(one_run, package) -> None:  # type: ignore[no-untyped-def]
    wired, _ = one_run
    ml = [s.body for s in wired.seen if s.path.endswith("/rules/preview") and s.body["type"] == "machine_learning"]
    jobs = [s.path.rsplit("/", 1)[1] for s in wired.seen if s.method == "PUT" and s.path.startswith("/_ml/anomaly_detectors/")]
    assert len(ml) == sum(1 for r in package.rules if r.type == "machine_learning") and len(jobs) == len(package.jobs)
    assert all(j in jobs for body in ml for j in body["machine_learning_job_id"])


def test_datafeeds_run_as_a_lookback_over_the_scenario(one_run, package) -> None:  # type: ignore[no-untyped-def]
    wired, _ = one_run
    stats_calls = [s for s in wired.seen if s.path.endswith("/_stats") and "/_ml/datafeeds/" in s.path]
    assert len(stats_calls) == 2 * len(package.jobs)  # polled until stopped
    starts = [s for s in wired.seen if s.path.endswith("/_start")]
    assert len(starts) == len(package.jobs) and all(s.body["start"] < s.body["end"] for s in starts)
    puts = [s.body for s in wired.seen if s.method == "PUT" and s.path.startswith("/_ml/datafeeds/")]
    assert all(len(b["indices"]) == 1 and b["indices"][0].startswith("ctdetect-replay-") for b in puts)
    jobs = [s.body for s in wired.seen if s.method == "PUT" and s.path.startswith("/_ml/anomaly_detectors/")]
    assert all(b["custom_settings"]["ctdetect_replay_of"].startswith("ctdetect_") for b in jobs)


def test_a_failing_rule_preview_is_reported_and_the_rest_goes_on(wired: FakeElastic, package) -> None:  # type: ignore[no-untyped-def]
    wired.fail("POST", r"/rules/preview$", 400, times=1)
    result = run_replay([str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])], package_root=str(PROJECT_ROOT), backend="elasticsearch", workers=1)
    scenario = result.scenarios[0]
    assert any("HTTP 400" in p for p in scenario.problems)
    assert sum(1 for s in wired.seen if s.path.endswith("/rules/preview")) == sum(1 for r in package.rules if r.type != "esql")  # not retried (a 400 is final); every other rule still ran


def test_the_backend_never_writes_to_an_index_it_did_not_create() -> None:
    owned = OwnedIndices()
    mine = owned.new_name()
    assert owned.check(mine) == mine
    for other in ("logs-aws.cloudtrail-default", "ctdetect-replay-000000000000", ".ml-anomalies-shared"):
        with pytest.raises(NotOwnedIndex):
            owned.check(other)


def test_an_existing_index_with_the_same_name_is_refused(wired: FakeElastic) -> None:
    from ctdetect.backends import elasticsearch as backend_module

    wired.state.indices["ctdetect-replay-aaaaaaaaaaaa"] = {"mappings": {}, "docs": {"x": {"keep": True}}, "settings": {}}
    original = OwnedIndices.new_name

    def fixed(self: OwnedIndices) -> str:
        self.names.add("ctdetect-replay-aaaaaaaaaaaa")
        return "ctdetect-replay-aaaaaaaaaaaa"

    OwnedIndices.new_name = fixed  # type: ignore[method-assign]
    try:
        backend = backend_module.ElasticsearchBackend(policy=RetryPolicy(attempts=1))
        result = backend.run([{"@timestamp": "2026-01-01T00:00:00.000Z", "event.action": "X"}], [], [])
    finally:
        OwnedIndices.new_name = original  # type: ignore[method-assign]
    assert any("already exists" in p for p in result.stats.problems)
    # the pre-existing index: its document is still there (no bulk into it, and cleanup removed only what was created)
    bulk = [s for s in wired.seen if s.path.endswith("/_bulk")]
    assert bulk == []


def test_mapping_comes_from_the_catalogue() -> None:
    mapping = build_mapping(["@timestamp", "source.ip", "event.action", "source.geo.location", "aws.cloudtrail.flattened.request_parameters.userName", "made.up"], load_catalogue())
    props = mapping["properties"]
    assert props["@timestamp"]["type"] == "date"
    assert props["source"]["properties"]["ip"]["type"] == "ip"
    assert props["source"]["properties"]["geo"]["properties"]["location"]["type"] == "geo_point"
    assert props["event"]["properties"]["action"]["type"] == "keyword"
    assert props["aws"]["properties"]["cloudtrail"]["properties"]["flattened"]["properties"]["request_parameters"]["type"] == "flattened"
    assert "made" not in props  # left to the dynamic template (strings as keyword)


def test_without_a_cluster_the_backend_says_what_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackendUnavailable, match="ELASTICSEARCH_URL"):
        get_backend("elasticsearch")


def test_settings_are_redacted_in_backend_problems(wired: FakeElastic) -> None:
    wired.echo_auth_in_errors = True
    settings = ConnectionSettings(es_url=wired.es_url, kibana_url=wired.kibana_url, username="elastic", password="wrong-password-123")
    from ctdetect.backends.elasticsearch import ElasticsearchBackend

    result = ElasticsearchBackend(settings=settings, policy=RetryPolicy(attempts=1)).run([{"@timestamp": "2026-01-01T00:00:00.000Z"}], [], [])
    text = "\n".join(result.stats.problems)
    assert "HTTP 401" in text and "wrong-password-123" not in text


def test_compare_reports_agreement_and_exits_0(wired: FakeElastic) -> None:
    from click.testing import CliRunner

    from ctdetect.cli import cli

    out = CliRunner().invoke(cli, ["replay", "--compare", "--package", str(PROJECT_ROOT), str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])])
    assert out.exit_code == 0, out.output
    assert "agree on all 1 scenario" in out.output


def test_compare_reports_where_the_backends_disagree(wired: FakeElastic, package) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from ctdetect.cli import cli

    inner = wired.rule_engine
    target = "b45bfc91-68de-4e2f-9541-ffa11ac2c0ac"  # S3 bucket made public: the cluster "misses" it
    wired.rule_engine = lambda body, docs: [] if body["rule_id"] == target else inner(body, docs)
    out = CliRunner().invoke(cli, ["replay", "--compare", "--format", "json", "--package", str(PROJECT_ROOT), str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])])
    assert out.exit_code == 1, out.output
    import json

    report = json.loads(out.stdout)
    kinds = {(d["kind"], d["subject"].split(":")[0]) for d in report["disagreements"]}
    assert ("findings", f"rule {target}") in kinds
    assert any(d["kind"] == "expectation" and d["embedded"].startswith("met") and d["elasticsearch"].startswith("unmet") for d in report["disagreements"])


def _pipeline_standin(name: str, source: dict) -> dict:
    """What the aws integration's pipeline does to the input's document, played by ctdetect's mapper."""
    import json

    from ctdetect.ecs import CloudTrailMapper, nest
    from ctdetect.services.inputs import make_mapper

    mapper = make_mapper(None)
    flat = mapper.map(json.loads(source["message"]))
    flat.update({"event.dataset": source["event"]["dataset"], "event.module": source["event"]["module"]})
    assert isinstance(mapper, CloudTrailMapper)
    return nest({k: v for k, v in flat.items() if not k.startswith("_")})


def test_cloudtrail_events_with_their_original_go_through_the_integration_pipeline(wired: FakeElastic, package) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.backends.elasticsearch import ElasticsearchBackend
    from ctdetect.readers import SkipCounter
    from ctdetect.services.content import pair_jobs
    from ctdetect.services.inputs import make_mapper
    from ctdetect.services.scenario_events import scenario_events

    wired.state.pipelines = {"logs-aws.cloudtrail-2.17.0": {}, "logs-aws.cloudtrail-2.9.1": {}, "logs-aws.cloudtrail-2.17.0-third-party": {}}
    wired.component_templates = {
        "logs-aws.cloudtrail@package": {"properties": {"aws": {"properties": {"cloudtrail": {"properties": {"event_category": {"type": "keyword"}}}}}}},
        "ecs@mappings": {"dynamic_templates": [{"ecs_ip": {"match": "ip", "mapping": {"type": "ip"}}}]},
    }
    wired.pipeline_engine = _pipeline_standin
    scenario = next(s for s in package.scenarios if s.name == SCENARIOS[0])
    mapper = make_mapper(None)
    mapper.preserve_original = True
    events = scenario_events(scenario, mapper, SkipCounter())
    assert events and all("event.original" in e for e in events), [sorted(e)[:5] for e in events][:2]
    rules = [r for r in package.rules if r.type != "machine_learning"]
    result = ElasticsearchBackend().run(events, rules, pair_jobs([], []))
    bulks = [s for s in wired.seen if "/_bulk" in s.path]
    assert bulks and all(s.query.get("pipeline") == "logs-aws.cloudtrail-2.17.0" for s in bulks)
    import json

    lines = [json.loads(line) for line in bulks[0].body.splitlines() if line.strip()]
    assert all(set(doc) == {"message", "event", "data_stream"} for doc in lines[1::2])
    created = next(s.body for s in wired.seen if s.method == "PUT" and s.path.startswith("/ctdetect-replay-"))
    assert created["mappings"]["dynamic_templates"][0] == {"ecs_ip": {"match": "ip", "mapping": {"type": "ip"}}}
    assert created["mappings"]["properties"]["aws"]["properties"]["cloudtrail"]["properties"]["event_category"] == {"type": "keyword"}
    assert any("through the aws integration pipeline logs-aws.cloudtrail-2.17.0" in p for p in result.stats.problems)
    fired = {f.source_id for f in result.findings}
    assert "b45bfc91-68de-4e2f-9541-ffa11ac2c0ac" in fired  # the scenario's rule still fires on the pipeline's documents


def test_without_the_integration_events_are_indexed_as_ctdetect_maps_them(wired: FakeElastic, package) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.backends.elasticsearch import ElasticsearchBackend

    event = {"@timestamp": "2026-01-01T00:00:00.000Z", "event.dataset": "aws.cloudtrail", "event.action": "ListBuckets", "event.original": "{}"}
    ElasticsearchBackend().run([event], [], [])
    import json

    bulk = next(s for s in wired.seen if "/_bulk" in s.path)
    lines = [json.loads(line) for line in bulk.body.splitlines() if line.strip()]
    assert "pipeline" not in bulk.query and lines[1]["event"]["action"] == "ListBuckets"


def test_a_cluster_without_an_ml_licence_runs_nothing_and_says_why(wired: FakeElastic) -> None:
    wired.state.licence = "basic"
    result = run_replay([str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])], package_root=str(PROJECT_ROOT), backend="elasticsearch", workers=1)
    scenario = result.scenarios[0]
    assert not result.ok
    assert any("platinum, enterprise or trial" in p for p in scenario.problems)
    assert not any(s.method != "GET" for s in wired.seen)  # nothing created
    assert all(o.status == "unmet" and "platinum" in o.detail for o in scenario.outcomes if o.expectation.fires)
