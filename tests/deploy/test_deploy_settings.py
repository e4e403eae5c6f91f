"""Connection settings: environment and env-file, redaction, TLS wiring, retry timing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.elastic.retry import RetryPolicy, parse_retry_after
from ctdetect.elastic.settings import REDACTED, ConnectionSettings, SettingsError, read_env_file


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / "x.env"
    env.write_text('# comment\nexport ELASTICSEARCH_URL="https://es:9200/"\nKIBANA_URL=https://kb:5601\nELASTIC_PASSWORD=\'p@ss word\'\n')
    settings = ConnectionSettings.load(env, environ={"KIBANA_URL": "https://other:5601"})
    assert settings.es_url == "https://es:9200" and settings.kibana_url == "https://other:5601"
    assert settings.password == "p@ss word" and settings.username == "elastic"
    assert settings.missing() == []


def test_dot_env_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ELASTICSEARCH_URL=http://a:9200\nKIBANA_URL=http://b:5601\nELASTIC_API_KEY=abc123\n")
    settings = ConnectionSettings.load(environ={})
    assert settings.configured and settings.api_key == "abc123"


def test_a_bad_env_line_is_named(tmp_path: Path) -> None:
    env = tmp_path / "bad.env"
    env.write_text("ELASTICSEARCH_URL=http://a\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"bad\.env:2: expected KEY=VALUE"):
        read_env_file(env)
    with pytest.raises(SettingsError, match="does not exist"):
        ConnectionSettings.load(tmp_path / "missing.env", environ={})


def test_redaction_covers_the_password_the_api_key_and_the_basic_header() -> None:
    settings = ConnectionSettings(es_url="http://a", kibana_url="http://b", username="elastic", password="hunter2-secret", api_key="QUJDOkRFRg==")
    import base64

    header = base64.b64encode(b"elastic:hunter2-secret").decode()
    text = settings.redact(f"auth failed for hunter2-secret / Basic {header} / ApiKey QUJDOkRFRg==")
    assert "hunter2" not in text and header not in text and "QUJDOkRFRg==" not in text
    assert text.count(REDACTED) == 3


def test_tls_is_verified_and_the_ca_bundle_reaches_both_clients(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not parsed until a connection is made")
    settings = ConnectionSettings(es_url="https://es:9200", kibana_url="https://kb:5601", api_key="k" * 20, ca_cert=str(ca))
    cluster = Cluster.connect(settings)
    assert cluster.kibana.session.verify == str(ca)
    node = cluster.es.transport.node_pool.all()[0]
    assert node.config.verify_certs is True and node.config.ca_certs == str(ca)
    plain = Cluster.connect(ConnectionSettings(es_url="https://es:9200", kibana_url="https://kb:5601", api_key="k" * 20))
    assert plain.kibana.session.verify is True and plain.es.transport.node_pool.all()[0].config.verify_certs is True


def test_a_plain_http_cluster_ignores_tls_options_and_a_bad_url_is_a_message() -> None:
    Cluster.connect(ConnectionSettings(es_url="http://es:9200", kibana_url="http://kb:5601", api_key="k" * 20, ca_cert="/nowhere.pem"))
    with pytest.raises(ClusterError, match="ELASTICSEARCH_URL"):
        Cluster.connect(ConnectionSettings(es_url="ftp://es", kibana_url="http://kb:5601", api_key="k" * 20))


def test_backoff_is_exponential_bounded_and_honours_retry_after() -> None:
    policy = RetryPolicy(attempts=5, base=0.5, cap=4.0, jitter=False)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(0, "7") == 4.0 and policy.delay(0, "2") == 2.0
    assert policy.should_retry(503, 3) and not policy.should_retry(503, 4) and not policy.should_retry(404, 0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0 and parse_retry_after("soon") is None


def test_an_id_colon_key_api_key_is_encoded_and_both_forms_are_redacted() -> None:
    import base64

    settings = ConnectionSettings(es_url="http://a:9200", kibana_url="http://b:5601", api_key="VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw")
    encoded = base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()
    assert settings.encoded_api_key == encoded
    cluster = Cluster.connect(settings)
    assert cluster.kibana.session.headers["Authorization"] == f"ApiKey {encoded}"
    text = settings.redact(f"{encoded} / VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw / ui2lp2axTNmsyakw9tvNnw")
    assert "ui2lp2axTNmsyakw9tvNnw" not in text and encoded not in text


def test_a_cloud_url_without_a_port_gets_the_schemes_default() -> None:
    from ctdetect.elastic.client import with_port

    assert with_port("https://my-deployment.es.eu-west-1.aws.found.io") == "https://my-deployment.es.eu-west-1.aws.found.io:443"
    assert with_port("http://localhost") == "http://localhost:80"
    assert with_port("http://localhost:9200") == "http://localhost:9200"
    cluster = Cluster.connect(ConnectionSettings(es_url="https://x.es.io", kibana_url="https://x.kb.io", api_key="k" * 20))
    assert cluster.es.transport.node_pool.all()[0].config.port == 443
