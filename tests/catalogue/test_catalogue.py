"""Field catalogue: API behaviour, and agreement with the official definitions in ../shared."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from ctdetect.catalogue import CatalogueError, FieldCatalogue, load_catalogue
from conftest import shared_path


@pytest.fixture(scope="module")
def cat() -> FieldCatalogue:
    return load_catalogue()


def test_core_cloudtrail_fields_present(cat: FieldCatalogue) -> None:
    expected = {
        "@timestamp": "date",
        "event.action": "keyword",
        "event.provider": "keyword",
        "event.outcome": "keyword",
        "event.dataset": "constant_keyword",
        "source.ip": "ip",
        "source.geo.location": "geo_point",
        "source.geo.country_iso_code": "keyword",
        "source.as.number": "long",
        "source.as.organization.name": "keyword",
        "user.name": "keyword",
        "user_agent.original": "keyword",
        "cloud.account.id": "keyword",
        "related.user": "keyword",
        "tags": "keyword",
        "message": "match_only_text",
        "aws.cloudtrail.error_code": "keyword",
        "aws.cloudtrail.user_identity.type": "keyword",
        "aws.cloudtrail.flattened.request_parameters": "flattened",
        "aws.cloudtrail.user_identity.session_context.creation_date": "date",
        "destination.port": "long",
        "process.name": "keyword",
        "network.direction": "keyword",
    }
    for name, ftype in expected.items():
        assert cat.type_of(name) == ftype, name


def test_multi_field(cat: FieldCatalogue) -> None:
    info = cat.get("user_agent.original.text")
    assert info is not None and info.is_text and info.parent == "user_agent.original"
    assert [m.name for m in cat.multi_fields("user_agent.original")] == ["user_agent.original.text"]
    assert cat.get("aws.cloudtrail.request_parameters.text").is_text  # type: ignore[union-attr]
    assert not cat.get("user_agent.original").is_text  # type: ignore[union-attr]


def test_flattened_sub_keys_are_keywords(cat: FieldCatalogue) -> None:
    info = cat.get("aws.cloudtrail.flattened.request_parameters.userName")
    assert info is not None
    assert info.type == "keyword" and info.container == "aws.cloudtrail.flattened.request_parameters"
    assert cat.type_of("labels.team") == "keyword"
    assert "aws.cloudtrail.flattened.request_parameters.a.b" in cat


def test_unknown_fields(cat: FieldCatalogue) -> None:
    assert cat.get("event.actionn") is None
    assert cat.type_of("aws.cloudtrail.no_such_field") is None
    assert "user.nam" not in cat
    # a keyword field has no sub-keys
    assert cat.get("user.name.first") is None


def test_matching(cat: FieldCatalogue) -> None:
    names = [f.name for f in cat.matching("aws.cloudtrail.user_identity.*")]
    assert "aws.cloudtrail.user_identity.arn" in names
    assert all(n.startswith("aws.cloudtrail.user_identity.") for n in names)
    assert [f.name for f in cat.matching("*.geo.country_iso_code")] == sorted(
        n for n in cat.names() if n.endswith(".geo.country_iso_code")
    )
    assert "source.geo.country_iso_code" in [f.name for f in cat.matching("*.geo.country_iso_code")]
    assert [f.name for f in cat.matching("event.action")] == ["event.action"]
    assert cat.matching("no.such.*") == []


def test_field_types_is_a_copy(cat: FieldCatalogue) -> None:
    types = cat.field_types()
    declared_sub_keys = {name for name in cat.declared if name not in cat.names()}
    assert types["source.ip"] == "ip" and len(types) == len(cat) + len(declared_sub_keys)
    types["source.ip"] = "keyword"
    assert cat.type_of("source.ip") == "ip"


def test_default_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{not json", "not valid JSON"),
        ('{"format": 1}', "no 'fields'"),
        ('{"fields": {"a": ["keyword"]}}', "field 'a'"),
        ('{"fields": {"a": "keyword"}}', "field 'a'"),
    ],
)
def test_bad_catalogue_file(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "fields.json"
    path.write_text(content)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_missing_catalogue_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.json")


def test_custom_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "fields.json"
    path.write_text(json.dumps({"fields": {"x.y": ["long", "mine"], "x.y.s": ["text", "mine", "x.y"]}}))
    cat = load_catalogue(path)
    assert cat.type_of("x.y") == "long" and cat.get("x.y.s").parent == "x.y"  # type: ignore[union-attr]


# --- agreement with the official definitions (skipped without ../shared) -----------------


def _walk(entries: list, prefix: str = ""):
    for entry in entries or []:
        name = prefix + entry["name"]
        if entry.get("type") == "group" or ("fields" in entry and "type" not in entry):
            yield from _walk(entry.get("fields", []), name + ".")
        else:
            yield name, entry


@lru_cache(maxsize=1)
def _read_ecs_flat(path: Path) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster on 1.2 MB
    return yaml.load(path.read_text(), Loader=loader)


@pytest.fixture
def ecs_flat(shared_dir: Path) -> dict:
    return _read_ecs_flat(shared_path("anchors", "ecs", "ecs_flat.yml"))


def test_ecs_fields_match_ecs(cat: FieldCatalogue, ecs_flat: dict) -> None:
    multi = {
        m["flat_name"]: m["type"] for spec in ecs_flat.values() for m in spec.get("multi_fields", []) or []
    }
    wrong = []
    for info in cat:
        if info.source != "ecs":
            continue
        official = ecs_flat[info.name]["type"] if info.name in ecs_flat else multi.get(info.name)
        if official != info.type:
            wrong.append((info.name, info.type, official))
    assert wrong == []


def test_every_cloudtrail_integration_field_catalogued(cat: FieldCatalogue, ecs_flat: dict, shared_dir: Path) -> None:
    fields_dir = shared_path("anchors", "integrations-aws-cloudtrail", "fields")
    missing, wrong = [], []
    for yml in ("fields.yml", "base-fields.yml", "ecs.yml", "agent.yml"):
        for name, spec in _walk(yaml.safe_load((fields_dir / yml).read_text())):
            expected = spec.get("type") or ecs_flat.get(name, {}).get("type")
            info = cat.get(name)
            if info is None or info.container is not None:
                missing.append(name)
            elif info.type != expected:
                wrong.append((name, info.type, expected))
            for m in spec.get("multi_fields", []) or []:
                sub = cat.get(f"{name}.{m['name']}")
                if sub is None or sub.type != m["type"]:
                    missing.append(f"{name}.{m['name']}")
    assert missing == [] and wrong == []


def test_host_integration_fields_catalogued(cat: FieldCatalogue, shared_dir: Path) -> None:
    host = shared_path("anchors", "integrations-host")
    files = [
        host / "auditd_manager" / "auditd" / "fields" / "fields.yml",
        host / "auditd_manager" / "auditd" / "fields" / "ecs.yml",
        host / "endpoint" / "network" / "fields.yml",
    ]
    missing = []
    for path in files:
        for name, spec in _walk(yaml.safe_load(path.read_text())):
            if "*" in name or name.endswith("-N"):
                continue
            if name not in cat:
                missing.append(name)
    assert missing == []


def test_fields_used_by_elastic_aws_rules_are_catalogued(cat: FieldCatalogue, shared_dir: Path) -> None:
    """Every ``field:`` token of Elastic's AWS KQL rules names a catalogued field."""
    import re
    import tomllib

    rules_dir = shared_path("anchors", "detection-rules")
    token = re.compile(r"(?<![\w.\"'-])([a-z@][\w.@-]*[\w])\s*:(?!:)")
    unknown: dict[str, str] = {}
    for path in sorted(rules_dir.rglob("*.toml")):
        if "aws" not in path.name and "aws" not in str(path.parent.name):
            continue
        try:
            rule = tomllib.loads(path.read_text()).get("rule", {})
        except tomllib.TOMLDecodeError:
            continue
        if rule.get("language") != "kuery":
            continue
        query = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule.get("query", ""))  # drop quoted values
        for field in token.findall(query):
            if "*" not in field and field not in cat:
                unknown.setdefault(field, path.name)
    assert unknown == {}


def _dsl_fields(node: object) -> set[str]:
    """Field names an ES query DSL body reads (term/terms/match/range/wildcard/prefix/exists)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("term", "terms", "match", "match_phrase", "range", "wildcard", "prefix") and isinstance(value, dict):
                found |= {k for k in value if k not in ("boost", "_name")}
            elif key == "exists" and isinstance(value, dict) and "field" in value:
                found.add(value["field"])
            found |= _dsl_fields(value)
    elif isinstance(node, list):
        for item in node:
            found |= _dsl_fields(item)
    return found


def test_fields_used_by_elastic_ml_modules_are_catalogued(cat: FieldCatalogue, shared_dir: Path) -> None:
    """Detector, influencer and datafeed-query fields of Elastic's CloudTrail and
    metadata-service jobs are catalogued (runtime/script fields a datafeed defines excepted)."""
    modules = shared_path("anchors", "kibana-ml-modules")
    unknown: dict[str, str] = {}
    for folder in sorted({p.parent for p in modules.rglob("ml/*.json")}):
        runtime: set[str] = set()
        used: dict[str, str] = {}
        for path in sorted(folder.glob("*.json")):
            doc = json.loads(path.read_text())
            body = doc.get("job", doc)
            runtime |= set(body.get("runtime_mappings", {}) or {}) | set(body.get("script_fields", {}) or {})
            config = body.get("analysis_config")
            if config:
                for det in config.get("detectors", []):
                    for key in ("field_name", "by_field_name", "over_field_name", "partition_field_name"):
                        if det.get(key):
                            used.setdefault(det[key], path.name)
                for name in config.get("influencers", []):
                    used.setdefault(name, path.name)
            if "query" in body:
                for name in _dsl_fields(body["query"]):
                    used.setdefault(name, path.name)
        for name, where in used.items():
            if name not in runtime and name not in cat:
                unknown[name] = f"{folder.relative_to(modules)}/{where}"
    assert unknown == {}


def test_committed_catalogue_is_what_the_generator_writes(shared_dir: Path) -> None:
    """tooling/ctdetect/data/fields.json is up to date with generators/gen_field_catalogue.py."""
    import importlib.util

    from ctdetect.catalogue import DEFAULT_PATH

    shared_path("anchors", "ecs", "ecs_flat.yml")
    script = Path(__file__).resolve().parents[2] / "generators" / "gen_field_catalogue.py"
    spec = importlib.util.spec_from_file_location("gen_field_catalogue", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dump(module.build(shared_dir)) == DEFAULT_PATH.read_text(encoding="utf-8"), (
        "run: python generators/gen_field_catalogue.py"
    )
