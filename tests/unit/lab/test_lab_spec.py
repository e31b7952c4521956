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


STRICT_DOC = {
    "openapi": "3.0.4",
    "servers": [{"url": "/xapi/v1"}],
    "paths": {
        "/Things({Id})": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    }
                }
            }
        },
        "/Things": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingCollection"}}},
                    }
                }
            }
        },
    },
    "components": {
        "schemas": {
            "Base": {"type": "object", "properties": {"Id": {"type": "integer", "format": "int32", "nullable": True}}},
            "Thing": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {
                        "type": "object",
                        "properties": {
                            "Name": {"type": "string", "nullable": True},
                            "When": {"type": "string", "format": "date-time", "nullable": True},
                            "Parts": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Base"},
                                "x-ms-navigationProperty": True,
                            },
                            "Extra": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                ]
            },
            "ThingCollection": {
                "allOf": [
                    {"type": "object", "properties": {"@odata.count": {"type": "integer", "nullable": True}}},
                    {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}},
                ]
            },
        }
    },
}


def _strict(odata=True, **kw):
    v = SpecValidator(json.loads(json.dumps(STRICT_DOC)), "test", odata=odata)

    def check(path, body, query=None, absent=None):
        return v.validate_response(
            "GET", "/xapi/v1" + path, 200, "application/json", json.dumps(body).encode(), query=query or {}, absent=absent
        )

    return check


THING = {"@odata.context": "c", "Id": 1, "Name": None, "When": "2026-01-02T03:04:05Z", "Extra": {"a": "b"}}


def test_strict_presence_and_undocumented():
    check = _strict()
    assert check("/Things(1)", THING) == []
    assert check("/Things(1)", {k: v for k, v in THING.items() if k != "Id"}) == [
        "response 200 body: documented property Id of Thing is missing (at (root))"
    ]
    assert check("/Things(1)", {**THING, "Odd": 1}) == ["response 200 body: property Odd is not documented for Thing (at (root))"]
    assert check("/Things(1)", {k: v for k, v in THING.items() if k != "Id"}, absent=lambda t, o: {"Id"} if t == "Thing" else set()) == []
    assert "'date-time'" in check("/Things(1)", {**THING, "When": "02/01/2026"})[0]
    # Without OData (Twilio) there are no annotations and no navigation properties.
    plain = _strict(odata=False)("/Things(1)", THING)
    assert any("property @odata.context is not documented" in m for m in plain)
    assert any("documented property Parts of Thing is missing" in m for m in plain)


def test_strict_odata_navigation_select_count():
    check = _strict()
    assert "navigation property Parts of Thing is present but $expand did not name it" in check("/Things(1)", {**THING, "Parts": []})[0]
    assert check("/Things(1)", {**THING, "Parts": [{"Id": 2}]}, {"$expand": ["Parts"]}) == []
    assert "documented property Id of Base is missing (at Parts/0)" in check("/Things(1)", {**THING, "Parts": [{}]}, {"$expand": ["*"]})[0]
    assert check("/Things(1)", {"@odata.context": "c", "Name": "x"}, {"$select": ["Name"]}) == []
    assert "present but $select did not name it" in check("/Things(1)", {"@odata.context": "c", "Name": "x", "Id": 1}, {"$select": ["Name"]})[0]
    assert check("/Things(1)", {k: v for k, v in THING.items() if k != "@odata.context"}) == [
        "response 200 body: OData control information @odata.context is missing (at (root))"
    ]
    rows = {"@odata.context": "c", "value": [{"Id": 1}]}
    assert check("/Things", rows, {"$select": ["Id"]}) == []
    assert check("/Things", {**rows, "@odata.nextLink": "n"}, {"$select": ["Id"]}) == []
    assert "@odata.count is present although" in check("/Things", {**rows, "@odata.count": 1}, {"$select": ["Id"]})[0]
    assert "documented property @odata.count" in check("/Things", rows, {"$select": ["Id"], "$count": ["true"]})[0]
    assert "OData annotation @odata.etag is not expected here" in check("/Things", {**rows, "value": [{"Id": 1, "@odata.etag": "e"}]}, {"$select": ["Id"]})[0]
