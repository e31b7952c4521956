"""The validator on tiny hand-made documents (the vendor ones are used by tests/contract)."""

import json

from lab.spec import SpecValidator, load_document, load_yaml_text

DOC = {
    "openapi": "3.0.4",
    "servers": [{"url": "/xapi/v1"}],
    "paths": {
        "/Things({Id})": {
            "get": {
                "parameters": [
                    {"name": "Id", "in": "path", "required": True, "schema": {"type": "integer", "format": "int32"}},
                    {
                        "name": "$select",
                        "in": "query",
                        "explode": False,
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    }
                },
            },
        },
        "/Things(Number={Number})": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/Things": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["Name"],
                                "properties": {"Name": {"type": "string"}, "On": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "responses": {"204": {"description": "none"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "Kind": {"type": "string", "enum": ["No", "Yes"], "nullable": True},
                    "Parent": {"allOf": [{"$ref": "#/components/schemas/Thing"}], "nullable": True},
                },
            }
        }
    },
}


def test_yaml_keeps_no_as_a_string():
    assert load_yaml_text("enum: [No, Yes, On, Off, true, false]") == {"enum": ["No", "Yes", "On", "Off", True, False]}


def test_yaml_cache(tmp_path):
    src = tmp_path / "doc.yaml"
    src.write_text("a: No\n")
    cache = tmp_path / "cache"
    assert load_document(src, cache) == {"a": "No"}
    assert len(list(cache.iterdir())) == 1
    assert load_document(src, cache) == {"a": "No"}


def test_paths_params_and_bodies():
    v = SpecValidator(json.loads(json.dumps(DOC)), "test")
    assert v.find("GET", "/xapi/v1/Things(Number='8')")[0].template == "/Things(Number={Number})"
    assert v.validate_request("GET", "/xapi/v1/Things(5)", {"$select": ["Kind,Parent"]}, None, b"") == []
    assert "not of type 'integer'" in v.validate_request("GET", "/xapi/v1/Things(x)", {}, None, b"")[0]
    assert "not documented" in v.validate_request("GET", "/xapi/v1/Things(5)", {"$top": ["1"]}, None, b"")[0]
    assert "not described" in v.validate_request("GET", "/xapi/v1/Other", {}, None, b"")[0]
    assert "method DELETE" in v.validate_request("DELETE", "/xapi/v1/Things(5)", {}, None, b"")[0]
    form = "application/x-www-form-urlencoded"
    assert v.validate_request("POST", "/xapi/v1/Things", {}, form, b"Name=a&On=true") == []
    assert any("'Name' is a required" in m for m in v.validate_request("POST", "/xapi/v1/Things", {}, form, b"On=true"))
    assert any("On=" in m or "'yes' is not of type" in m for m in v.validate_request("POST", "/xapi/v1/Things", {}, form, b"Name=a&On=yes"))
    assert "not documented" in v.validate_request("POST", "/xapi/v1/Things", {}, form, b"Name=a&X=1")[0]
    assert "Content-Type" in v.validate_request("POST", "/xapi/v1/Things", {}, "application/json", b"{}")[0]


def test_responses_and_nullable():
    v = SpecValidator(json.loads(json.dumps(DOC)), "test")
    ok = json.dumps({"Kind": None, "Parent": {"Kind": "No", "Parent": None}}).encode()
    assert v.validate_response("GET", "/xapi/v1/Things(5)", 200, "application/json", ok) == []
    bad = json.dumps({"Kind": "Maybe"}).encode()
    assert "is not one of" in v.validate_response("GET", "/xapi/v1/Things(5)", 200, "application/json", bad)[0]
    assert "not documented" in v.validate_response("GET", "/xapi/v1/Things(5)", 404, "application/json", b"{}")[0]
    assert "must have no body" in v.validate_response("POST", "/xapi/v1/Things", 204, None, b"x")[0]
