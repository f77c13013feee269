"""The API docs people can use (issue 14, item 5): every operation has a summary, a description and examples,
every field of every schema component a description, and every error response an example ``Error`` body.

The schema is generated in-process, as ``manage.py spectacular`` and GET /api/schema/ generate it.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
SCHEMA_VIEW = ("GET", "/api/schema/")  # drf-spectacular's own view, documented by drf-spectacular
DOCUMENTED = {
    ("POST", "/admin/rag/sync-to-s3"), ("GET", "/api/analysis"), ("POST", "/api/analysis"),
    ("GET", "/api/analysis/{job_id}"), ("POST", "/api/chat"), ("GET", "/api/conversations"),
    ("GET", "/api/conversations/{conversation_id}"), ("DELETE", "/api/conversations/{conversation_id}"),
    ("GET", "/api/knowledge/search"), ("GET", "/api/metrics/summary"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema) -> dict:
    return {(method.upper(), path): operation for path, item in schema["paths"].items()
            for method, operation in item.items() if method in METHODS}


def _documented(schema) -> dict:
    return {key: op for key, op in _operations(schema).items() if key != SCHEMA_VIEW}


def _examples(content: dict) -> dict:
    """Every example of a request body's or response's content, by name, whatever its media type."""
    return {name: example for media in content.values()
            for name, example in media.get("examples", {}).items()}


def _resolve(schema, node: dict) -> dict:
    """``node`` with its $ref (and a lone allOf's) followed."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node


def _misfits(schema, node: dict, value, where: str = "") -> list[str]:
    """Keys of ``value`` the schema ``node`` does not name, and required keys it lacks (objects with
    properties; arrays item by item): a misspelt or missing field in an example."""
    node = _resolve(schema, node)
    if isinstance(value, list) and node.get("type") == "array":
        return [problem for i, item in enumerate(value)
                for problem in _misfits(schema, node.get("items", {}), item, f"{where}[{i}]")]
    if not isinstance(value, dict) or "properties" not in node:
        return []
    problems = [f"{where}.{key} is not in the schema" for key in value if key not in node["properties"]]
    problems += [f"{where}.{key} is required but missing"
                 for key in node.get("required", []) if key not in value]
    for key, item in value.items():
        if key in node["properties"]:
            problems += _misfits(schema, node["properties"][key], item, f"{where}.{key}")
    return problems


def test_the_operations_documented_are_all_there(schema):
    assert set(_operations(schema)) == DOCUMENTED | {SCHEMA_VIEW}


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [f"{method} {path}: {part}" for (method, path), op in _documented(schema).items()
               for part in ("summary", "description") if not (op.get(part) or "").strip()]
    assert not missing, missing


def test_each_method_of_a_path_has_its_own_description(schema):
    by_path: dict[str, list[str]] = {}
    for (_, path), op in _documented(schema).items():
        by_path.setdefault(path, []).append(op["description"])
    shared = {path: texts for path, texts in by_path.items() if len(set(texts)) < len(texts)}
    assert not shared, shared


def test_every_operation_has_an_example(schema):
    bare = []
    for (method, path), op in _documented(schema).items():
        found = _examples(op.get("requestBody", {}).get("content", {}))
        for response in op["responses"].values():
            found |= _examples(response.get("content", {}))
        if not found:
            bare.append(f"{method} {path}")
    assert not bare, bare


def test_every_json_body_and_success_response_has_an_example(schema):
    bare = []
    for (method, path), op in _documented(schema).items():
        if "requestBody" in op and not _examples(op["requestBody"]["content"]):
            bare.append(f"{method} {path} request")
        for status, response in op["responses"].items():
            if status.startswith("2") and response.get("content") and not _examples(response["content"]):
                bare.append(f"{method} {path} {status}")
    assert not bare, bare


def test_every_error_response_has_an_example_error_body(schema):
    problems = []
    for (method, path), op in _documented(schema).items():
        for status, response in op["responses"].items():
            if status[0] not in "45":
                continue
            examples = _examples(response.get("content", {}))
            if not examples:
                problems.append(f"{method} {path} {status}: no example")
            for name, example in examples.items():
                body = example["value"]
                if not (isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
                        and set(body) <= {"error", "fields"} and isinstance(body.get("fields", {}), dict)):
                    problems.append(f"{method} {path} {status} {name}: {body!r} is not an Error body")
    assert not problems, problems


def test_the_examples_name_the_fields_their_schemas_have(schema):
    problems = []
    for (method, path), op in _documented(schema).items():
        parts = [("request", op.get("requestBody", {}).get("content", {}))]
        parts += [(status, response.get("content", {})) for status, response in op["responses"].items()]
        for part, content in parts:
            for media in content.values():
                for name, example in media.get("examples", {}).items():
                    problems += [f"{method} {path} {part} {name}: {m}"
                                 for m in _misfits(schema, media["schema"], example["value"])]
    assert not problems, problems


def test_every_property_of_every_component_is_described(schema):
    components = schema["components"]["schemas"]
    undescribed = [f"{name}.{prop}" for name, component in components.items()
                   for prop, spec in component.get("properties", {}).items()
                   if not (spec.get("description") or "").strip()]
    assert sum(len(c.get("properties", {})) for c in components.values()) >= 80  # all the components
    assert not undescribed, undescribed


def test_every_parameter_is_described(schema):
    undescribed = [f"{method} {path} {p['in']} {p['name']}"
                   for (method, path), op in _documented(schema).items()
                   for p in op.get("parameters", []) if not (p.get("description") or "").strip()]
    assert not undescribed, undescribed


def test_the_400_of_starting_an_analysis_shows_an_unknown_symbol_named_in_fields_symbols(schema):
    response = _operations(schema)[("POST", "/api/analysis")]["responses"]["400"]
    bodies = [example["value"] for example in _examples(response["content"]).values()]
    unknown = [body for body in bodies if "is not a listed symbol" in body["error"]]
    assert unknown, bodies
    assert all("symbols" in body["fields"] and "is not a listed symbol" in body["fields"]["symbols"][0]
               for body in unknown)
    assert any("did you mean" in body["fields"]["symbols"][0] for body in unknown)  # the closest listed ones


def test_starting_an_analysis_documents_the_202_and_polling_its_status_url(schema):
    op = _operations(schema)[("POST", "/api/analysis")]
    assert "202" in op["responses"] and "status_url" in op["description"]
    accepted = list(_examples(op["responses"]["202"]["content"]).values())
    assert accepted and all(e["value"]["status"] == "queued" and e["value"]["status_url"] for e in accepted)
    assert _examples(op["requestBody"]["content"])


def test_a_missing_login_is_a_401_example_everywhere(schema):
    for (method, path), op in _documented(schema).items():
        bodies = [e["value"] for e in _examples(op["responses"]["401"]["content"]).values()]
        assert {"error": "Authentication credentials were not provided."} in bodies, f"{method} {path}"


def test_the_chat_documents_its_rate_limit(schema):
    op = _operations(schema)[("POST", "/api/chat")]
    assert "CHAT_RATE_LIMIT" in op["description"] and "429" in op["description"]
    bodies = [e["value"]["error"] for e in _examples(op["responses"]["429"]["content"]).values()]
    assert any(body.startswith("Too many messages: the limit is ") for body in bodies), bodies
