"""How deploy fails: retries that never repeat an applied write, one deadline, a clear
message for a server that is unreachable, silent or not Elastic, and secrets redacted on
every path. Each test names the failure of issue 9 it shows."""

from __future__ import annotations

import base64
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.elastic.requests_model import Request
from ctdetect.elastic.retry import Deadline, RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings, SettingsError, read_env_file
from ctdetect.services.deploy import DeployError, DeployOptions, run_deploy
from deploy.deploykit import fake, mini_package  # noqa: F401 - fixtures
from ctdetect_testsupport.fakecluster import FakeElastic
from deploy.test_deploy_behaviour import JOB, deploy, no_sleep, run_cli, settings_for

RULES = r"^/api/detection_engine/rules$"


# --------------------------------------------------------------------------- retries never repeat an applied write


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_whose_answer_was_lost_is_confirmed_not_sent_again(fake: FakeElastic, mini_package: Path, status: int) -> None:
    """Was: the POST was sent again, got "already exists", and the action was reported failed."""
    fake.fail("POST", RULES, status, times=1, after=True)  # applied, then the answer is an error
    fake.fail("PUT", rf"^/_ml/anomaly_detectors/{JOB}$", status, times=1, after=True)
    result = deploy(fake, mini_package)
    assert result.exit_code == 0, [o.error for o in result.applied.failed]
    posts = [s for s in fake.seen if s.method == "POST" and s.path == "/api/detection_engine/rules"]
    assert len(posts) == 3  # one per rule: the uncertain one was re-read, not re-sent
    assert len([s for s in fake.seen if s.method == "PUT" and s.path == f"/_ml/anomaly_detectors/{JOB}"]) == 1
    assert any(s.method == "GET" and s.path == "/api/detection_engine/rules" and s.query.get("rule_id") for s in fake.seen)
    assert len(fake.state.rules["default"]) == 3


def test_an_uncertain_write_that_was_not_applied_is_sent_again(fake: FakeElastic, mini_package: Path) -> None:
    fake.fail("POST", RULES, 502, times=1)  # refused before applying: the re-read finds nothing
    result = deploy(fake, mini_package)
    assert result.exit_code == 0
    assert len([s for s in fake.seen if s.method == "POST" and s.path == "/api/detection_engine/rules"]) == 4
    assert len(fake.state.rules["default"]) == 3


def test_a_write_without_a_check_is_not_repeated_after_an_uncertain_answer(fake: FakeElastic) -> None:
    cluster = Cluster.connect(settings_for(fake), no_sleep())
    fake.fail("PUT", r"^/some-index$", 502, times=1, after=True)
    with pytest.raises(ClusterError, match="outcome is unknown"):
        cluster.send(Request("PUT", "/some-index", {"settings": {}}))
    assert len([s for s in fake.seen if s.path == "/some-index"]) == 1 and "some-index" in fake.state.indices


# --------------------------------------------------------------------------- one deadline, bounded waits, progress


class _Clock:
    """A clock that advances only when the retry policy sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_429_storm_stops_at_the_deadline_and_says_so_while_waiting(fake: FakeElastic) -> None:
    """Was: Retry-After: 30 on every answer planned 1.7 hours of waiting, silently."""
    clock = _Clock()
    lines: list[str] = []
    policy = RetryPolicy(attempts=1000, sleep=clock.sleep, jitter=False, progress=lines.append)
    cluster = Cluster.connect(settings_for(fake), policy, timeout=100)
    cluster.deadline = Deadline(100, clock=clock)
    fake.fail("GET", r"^/_ml/anomaly_detectors/", 429, times=-1, retry_after="30")
    with pytest.raises(ClusterError, match=r"pass the run's timeout \(100 s, --timeout\)"):
        cluster.send(Request("GET", "/_ml/anomaly_detectors/_all"))
    assert sum(clock.slept) < 100 and clock.slept == [30.0, 30.0, 30.0]
    assert len(lines) == 3 and "waiting 30.0 s before try 2" in lines[0] and "HTTP 429" in lines[0] and "left of the run's timeout" in lines[0]


def test_retry_after_is_bounded(fake: FakeElastic) -> None:
    clock = _Clock()
    policy = RetryPolicy(attempts=2, cap=5.0, sleep=clock.sleep, jitter=False)
    cluster = Cluster.connect(settings_for(fake), policy)
    fake.fail("GET", r"^/_license$", 503, times=1, retry_after="3600")
    assert cluster.send(Request("GET", "/_license")).status == 200
    assert clock.slept == [5.0]


def _silent_server() -> tuple[socket.socket, str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_server_that_accepts_and_never_answers_fails_within_the_timeout(fake: FakeElastic, mini_package: Path) -> None:
    """Was: deploy stayed silent for 5 minutes (5 tries of 60 s)."""
    sock, url = _silent_server()
    try:
        env = dict(fake.env(), ELASTICSEARCH_URL=url)
        settings = ConnectionSettings.load(environ=env, env_file=None)
        with pytest.raises(DeployError) as err:
            run_deploy(mini_package, settings, policy=no_sleep(), options=DeployOptions(timeout=2))
        message = str(err.value)
        assert "ELASTICSEARCH_URL" in message and url in message and "no answer in time" in message
    finally:
        sock.close()


def test_an_unreachable_cluster_fails_at_once_naming_the_url_and_variable(mini_package: Path) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    delays: list[float] = []
    env = {"ELASTICSEARCH_URL": f"http://127.0.0.1:{port}", "KIBANA_URL": f"http://127.0.0.1:{port}", "ELASTIC_PASSWORD": "pw-123456"}
    with pytest.raises(DeployError, match=rf"connection refused \(at http://127\.0\.0\.1:{port}, ELASTICSEARCH_URL\)"):
        run_deploy(mini_package, ConnectionSettings.load(environ=env, env_file=None), policy=no_sleep(delays))
    assert delays == []  # the probe is not retried


# --------------------------------------------------------------------------- not Elastic


def _plain_server(headers: dict[str, str]) -> tuple[Any, str]:
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    def app(environ: Any, start_response: Any) -> Any:
        resp = Response('{"version": {"number": "9.1.0"}, "status": {"overall": {"level": "available"}}}', content_type="application/json")
        for k, v in headers.items():
            resp.headers[k] = v
        return resp(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def test_a_server_that_is_not_elasticsearch_is_refused(fake: FakeElastic, mini_package: Path) -> None:
    """Was: a server without X-Elastic-Product was accepted."""
    server, url = _plain_server({})
    try:
        env = dict(fake.env(), ELASTICSEARCH_URL=url)
        with pytest.raises(DeployError, match=r"ELASTICSEARCH_URL http://127\.0\.0\.1:\d+ is not Elasticsearch"):
            run_deploy(mini_package, ConnectionSettings.load(environ=env, env_file=None), policy=no_sleep())
        env = dict(fake.env(), KIBANA_URL=url)
        with pytest.raises(DeployError, match="KIBANA_URL .* is not Kibana"):
            run_deploy(mini_package, ConnectionSettings.load(environ=env, env_file=None), policy=no_sleep())
    finally:
        server.shutdown()
    assert fake.writes() == []


# --------------------------------------------------------------------------- secrets and messages


def test_a_url_with_credentials_that_does_not_parse_never_shows_the_password() -> None:
    """Was: the whole URL, password included, was quoted in the error."""
    for url in ("https://elastic:Hunter2-Secret@es.example.com:92OO", "https://elastic:Hunter2-Secret@[::1:9200"):
        with pytest.raises(SettingsError) as err:
            ConnectionSettings.load(environ={"ELASTICSEARCH_URL": url, "KIBANA_URL": "https://kb:5601"}, env_file=None)
        assert "Hunter2-Secret" not in str(err.value) and "ELASTICSEARCH_URL" in str(err.value) and "********@" in str(err.value)


def test_credentials_in_a_url_are_used_and_never_shown(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    host = fake.es_url.split("://", 1)[1]
    env = {"ELASTICSEARCH_URL": f"http://{fake.username}:{fake.password}@{host}", "KIBANA_URL": fake.kibana_url}
    settings = ConnectionSettings.load(environ=env, env_file=None)
    assert settings.password == fake.password and "@" not in (settings.es_url or "")
    result = run_deploy(mini_package, settings, policy=no_sleep())
    assert result.exit_code == 0 and len(fake.state.rules["default"]) == 3
    assert all(s.headers.get("Authorization", "").startswith("Basic ") for s in fake.seen)
    assert fake.password not in settings.redact(f"ELASTICSEARCH_URL={env['ELASTICSEARCH_URL']}")


def _outputs(fake: FakeElastic, tmp_path: Path, mini_package: Path) -> list[str]:
    """Every failure path a secret could leak through, run through the CLI."""
    secrets_env = dict(fake.env())
    host = fake.es_url.split("://", 1)[1]
    runs = []
    # 1: wrong password; the hostile server echoes the Authorization header in its 401 body
    fake.echo_auth_in_errors = True
    real = fake.password
    fake.password = "something-else"
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), env=secrets_env))
    fake.password = real
    fake.echo_auth_in_errors = False
    # 2: URL credentials and a typo in the port
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), env=dict(secrets_env, ELASTICSEARCH_URL=f"http://elastic:{real}@{host}x")))
    # 3: URL credentials and a broken IPv6 bracket in KIBANA_URL
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), env=dict(secrets_env, KIBANA_URL=f"http://elastic:{real}@[::1:5601")))
    # 4: nothing listens there
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), env=dict(secrets_env, ELASTICSEARCH_URL=f"http://elastic:{real}@127.0.0.1:9")))
    # 5: a CA bundle that does not exist, on https
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), "--ca-cert", str(tmp_path / "missing-ca.pem"), env=dict(secrets_env, ELASTICSEARCH_URL="https://127.0.0.1:9")))
    # 6: a server error whose body quotes the secret, on a write
    fake.fail("POST", RULES, 400, times=-1)
    runs.append(run_cli(fake, tmp_path, "--package", str(mini_package), "--format", "json", env=secrets_env))
    return [r.output for r in runs]


def test_secrets_from_every_source_are_redacted_on_every_failure_path(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    outputs = _outputs(fake, tmp_path, mini_package)
    encoded = base64.b64encode(f"elastic:{fake.password}".encode()).decode()
    for text in outputs:
        assert fake.password not in text and encoded not in text, text
        assert "Traceback" not in text
    assert "HTTP 401" in outputs[0] and "********" in outputs[0]
    assert "ELASTICSEARCH_URL" in outputs[1] and "KIBANA_URL" in outputs[2]
    assert "connection refused" in outputs[3] and "ELASTICSEARCH_URL" in outputs[3]
    assert "missing-ca.pem: no such file" in outputs[4] and "ELASTIC_CA_CERT" in outputs[4]  # was: "TlsError"


def test_an_api_key_is_redacted_in_messages_and_reports(mini_package: Path, tmp_path: Path) -> None:
    key = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
    fake = FakeElastic(api_key=key)
    try:
        fake.echo_auth_in_errors = True
        env = dict(fake.env(), ELASTIC_API_KEY=key[:-4] + "AAA=")
        out = run_cli(fake, tmp_path, "--package", str(mini_package), env=env)
        assert out.exit_code == 2 and key[:-4] not in out.output and "HTTP 401" in out.output
    finally:
        fake.close()


# --------------------------------------------------------------------------- env-files as Docker Compose reads them


def test_env_files_are_parsed_as_compose_does(tmp_path: Path) -> None:
    env = tmp_path / "x.env"
    env.write_text(
        "# comment\n"
        "export ELASTICSEARCH_URL=\"https://es:9200\"\n"
        "ELASTIC_PASSWORD='p@ss #word'\n"
        "KIBANA_URL=https://kb:5601 # trailing comment\n"
        'ELASTIC_API_KEY="a\\"b"\n'
        "EMPTY=\n"
    )
    values = read_env_file(env)
    assert values == {"ELASTICSEARCH_URL": "https://es:9200", "ELASTIC_PASSWORD": "p@ss #word", "KIBANA_URL": "https://kb:5601", "ELASTIC_API_KEY": 'a"b', "EMPTY": ""}
    env.write_text("A=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"x\.env:2: expected KEY=VALUE"):
        read_env_file(env)
