"""Validate request bodies against Elastic's own API specifications (../shared/anchors/api-specs).

- Elasticsearch: the official OpenAPI document (8.17). Bodies are matched to an operation
  by method and path template, then validated with ``jsonschema`` (``$ref``s resolved
  through a ``referencing`` registry holding the whole document).
- Kibana: the detection engine OpenAPI bundle (2023-10-31) and detection-rules' JSON
  Schemas of the rule-create payload.

The OpenAPI documents do not close their objects (no ``additionalProperties: false``), so
a misspelt key would pass plain validation. ``unknown_keys`` adds the closed-world check
Elasticsearch and Kibana apply at run time: every key sent must be a declared property
(through ``allOf`` and discriminated ``anyOf``).

Query DSL inside a body is not checked here (the ES document cannot express shortcut forms
such as ``{"term": {"field": "value"}}``): tests parse it with ctdetect's own DSL parser.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Callable

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from conftest import shared_path

ES_URI = "urn:ctdetect-test:elasticsearch-openapi"
KIBANA_URI = "urn:ctdetect-test:kibana-detections"


@lru_cache(maxsize=None)
def es_document() -> dict[str, Any]:
    path = shared_path("anchors", "api-specs", "elasticsearch", "8.17", "elasticsearch-openapi.json")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def kibana_document() -> dict[str, Any]:
    import yaml

    path = shared_path("anchors", "api-specs", "kibana", "security_solution_detections_api_2023_10_31.bundled.schema.yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader


@lru_cache(maxsize=None)
def detection_rules_schema(version: str, rule_type: str) -> dict[str, Any] | None:
    folder = shared_path("anchors", "api-specs", "kibana", "detection-rules-api-schemas", version)
    path = folder / f"{version}.{rule_type}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Spec:
    """One OpenAPI document: find the operation of a request, validate its body."""

    def __init__(self, document: dict[str, Any], uri: str) -> None:
        self.document = document
        self.uri = uri
        self.registry = Registry().with_resource(uri, Resource(contents=document, specification=DRAFT4))
        self.templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"), t) for t in document.get("paths", {})]

    def template(self, method: str, path: str) -> str | None:
        path = re.sub(r"^/s/[^/]+(?=/api/)", "", path.split("?", 1)[0])
        matches = [t for rx, t in self.templates if rx.match(path) and method.lower() in self.document["paths"][t]]
        # the most specific template: fewest placeholders
        return min(matches, key=lambda t: t.count("{"), default=None)

    def body_ref(self, method: str, template: str) -> str | None:
        op = self.document["paths"][template][method.lower()]
        body = op.get("requestBody")
        if body is None:
            return None
        if "$ref" in body:
            pointer = body["$ref"]
        else:
            pointer = "#/paths/" + _pointer_escape(template) + "/" + method.lower() + "/requestBody"
        return pointer + "/content/application~1json/schema"

    def resolve(self, schema: Any) -> Any:
        """Follow ``$ref`` chains within the document."""
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            ref = schema["$ref"]
            node: Any = self.document
            for part in ref.lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
            seen += 1
        return schema

    def errors(self, ref: str, instance: Any) -> list[str]:
        validator = Draft4Validator({"$ref": self.uri + ref}, registry=self.registry)
        found = [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}" for e in validator.iter_errors(instance)]
        found.extend(unknown_keys(self.resolve({"$ref": ref}), instance, self.resolve))
        return found


def branch_for(spec: "Spec", ref: str, value: str) -> str | None:
    """The ``oneOf`` branch of a discriminated union (``discriminator`` without a mapping,
    as the ES document writes ``_types.mapping:Property``) whose ``type`` enum holds ``value``."""
    union = spec.resolve({"$ref": ref})
    prop = union.get("discriminator", {}).get("propertyName", "type")
    for branch in union.get("oneOf", []):
        target = spec.resolve(branch)
        props, _ = _properties(target, spec.resolve)
        enum = spec.resolve(props.get(prop, {})).get("enum", [])
        if value in enum:
            return branch["$ref"]
    return None


PROPERTY_REF = "#/components/schemas/_types.mapping:Property"


def mapping_errors(spec: "Spec", properties: dict[str, Any], where: str = "mappings.properties") -> list[str]:
    """Each field mapping checked against the property type it names (the union has 49
    members: validating against the whole ``oneOf`` is needlessly slow and its messages
    useless), object fields recursed into, multi-fields too."""
    out: list[str] = []
    for name, prop in properties.items():
        here = f"{where}.{name}"
        if "type" not in prop or prop.get("type") == "object":
            out.extend(mapping_errors(spec, prop.get("properties", {}), here + ".properties"))
            continue
        ref = branch_for(spec, PROPERTY_REF, prop["type"])
        if ref is None:
            out.append(f"{here}: no mapping type {prop['type']!r} in the API")
            continue
        flat = {k: v for k, v in prop.items() if k != "fields"}
        out.extend(f"{here}: {e}" for e in spec.errors(ref, flat))
        out.extend(mapping_errors(spec, prop.get("fields", {}), here + ".fields"))
    return out


def unknown_keys(schema: Any, instance: Any, resolve: Callable[[Any], Any], where: str = "") -> list[str]:
    """Keys of ``instance`` that ``schema`` does not declare (recursively)."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return []
    disc = schema.get("discriminator")
    if disc and isinstance(instance, dict) and (schema.get("anyOf") or schema.get("oneOf")):
        target = disc.get("mapping", {}).get(str(instance.get(disc.get("propertyName"))))
        if target:
            return unknown_keys({"$ref": target}, instance, resolve, where)
        return []
    props, open_object = _properties(schema, resolve)
    out: list[str] = []
    if isinstance(instance, dict) and props and not open_object:
        for key, value in instance.items():
            if key not in props:
                out.append(f"{where or '<body>'}: unknown key {key!r}")
            else:
                out.extend(unknown_keys(props[key], value, resolve, f"{where}.{key}" if where else key))
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(instance):
            out.extend(unknown_keys(schema["items"], item, resolve, f"{where}[{i}]"))
    return out


def _properties(schema: dict[str, Any], resolve: Callable[[Any], Any], depth: int = 0) -> tuple[dict[str, Any], bool]:
    """Declared properties through nested ``allOf``; and whether extra keys are allowed."""
    props: dict[str, Any] = dict(schema.get("properties") or {})
    open_object = schema.get("additionalProperties") not in (None, False)
    for part in schema.get("allOf") or []:
        part = resolve(part)
        if isinstance(part, dict) and depth < 20:
            more, more_open = _properties(part, resolve, depth + 1)
            props.update(more)
            open_object = open_object or more_open
    return props, open_object


@lru_cache(maxsize=None)
def es_spec() -> Spec:
    return Spec(es_document(), ES_URI)


@lru_cache(maxsize=None)
def kibana_spec() -> Spec:
    return Spec(kibana_document(), KIBANA_URI)


def without_queries(body: Any) -> tuple[Any, list[Any]]:
    """``body`` with its top-level ES ``query`` replaced by match_all, and the queries taken out."""
    if isinstance(body, dict) and isinstance(body.get("query"), dict):
        copy = dict(body)
        return dict(copy, query={"match_all": {}}), [body["query"]]
    return body, []


# Where the 8.17 OpenAPI document is narrower than Elasticsearch itself, with the reason.
# update-job types ``custom_settings`` values as objects; put-job (``ml._types:CustomSettings``)
# takes any value, and Elasticsearch stores the same map for both (it is free-form metadata).
# Index creation: ``DynamicTemplate`` is written as allOf(matching conditions, exactly one of
# mapping/runtime) with ``maxProperties: 1`` on the whole object, so any template that has a
# condition *and* a mapping (the documented form) fails; Elasticsearch requires both.
SPEC_QUIRKS = {
    ("POST", "/_ml/anomaly_detectors/{job_id}/_update", "custom_settings/"),
    ("PUT", "/{index}", "mappings/dynamic_templates/"),
}


def spec_quirk(method: str, template: str, error: str) -> bool:
    return any(method == m and template == t and error.startswith(prefix) for m, t, prefix in SPEC_QUIRKS)


def es_operation(spec: "Spec", request: Any) -> tuple[str | None, str | None, str | None]:
    """(path template, body schema ref, problem) of an Elasticsearch request; the problem says
    the path is no operation of the document, or a body goes to one that takes none."""
    template = spec.template(request.method, request.path)
    if template is None:
        return None, None, f"{request.method} {request.path}: no such operation"
    if request.body is None:
        return template, None, None
    ref = spec.body_ref(request.method, template)
    if ref is None:
        return template, None, f"{request.method} {request.path}: takes no body"
    return template, ref, None
