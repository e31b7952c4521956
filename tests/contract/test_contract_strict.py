"""The lab's validation is strict and never silently off: proved by breaking the lab on purpose.

Two ways in: the running lab with a ``reshape`` fault (the lab drops a documented property from its
own reply, or adds an undocumented one, and must refuse that reply with a 500 naming it), and the
validator itself fed crafted bodies (the rules of lab/spec.py ``StrictShapes``: $select, $expand,
navigation properties, OData annotations, formats). Then: without the vendor documents the tier
stops with a clear message unless LAB_ALLOW_NO_SPEC=1.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import home as labhome
from lab.spec import open_validator
from lab.threecx.shapes import absent_allowed, version_hidden
from lab.twilio.app import check_error_shape

ROOT = Path(__file__).resolve().parents[2]
JSON = "application/json"


@pytest.fixture(scope="module")
def validators(doc_cache):
    """The vendor documents as the lab reads them (same cache as the session's lab)."""
    shared = labhome.shared_dir()
    tw, tw_status = open_validator(shared / labhome.TWILIO_DOC, "Twilio", doc_cache, error_check=check_error_shape)
    cx, cx_status = open_validator(shared / labhome.THREECX_DOC, "3CX XAPI", doc_cache, odata=True)
    if tw is None or cx is None:
        pytest.skip(f"needs the vendor documents ({labhome.ALLOW_NO_SPEC_ENV}=1): {tw_status.reason or cx_status.reason}")
    return tw, cx


def _violations_of(lab, which: str) -> list[str]:
    return [v for e in lab.requests_log(which) for v in e["violations"]]


# ------------------------------------------------------------------ the lab breaks itself (reshape faults)


def _application(twilio_lab):
    acct = twilio_lab.eps["twilio"]["accounts"]["us1"]
    auth = (acct["account_sid"], acct["auth_token"])
    base = f"{twilio_lab.twilio_url}/2010-04-01/Accounts/{acct['account_sid']}/Applications"
    made = twilio_lab.http.post(f"{base}.json", auth=auth, data={"FriendlyName": "strict"}, timeout=30)
    assert made.status_code == 201, made.text
    return base, auth, made.json()


@pytest.mark.parametrize(
    ("action", "named"),
    [
        ({"drop": ["api_version"]}, "documented property api_version of api.v2010.account.application is missing"),
        ({"add": {"lab_extra": 1}}, "property lab_extra is not documented for api.v2010.account.application"),
    ],
    ids=["documented-field-dropped", "undocumented-field-added"],
)
def test_twilio_reply_broken_on_purpose_is_refused_by_name(twilio_lab, expect_violations, action, named):
    base, auth, app = _application(twilio_lab)
    assert "api_version" in app and "lab_extra" not in app
    twilio_lab.faults("twilio", {"method": "GET", "path": r"/Applications/AP", "action": {"kind": "reshape", **action}})
    resp = twilio_lab.http.get(f"{base}/{app['sid']}.json", auth=auth, timeout=30)
    assert resp.status_code == 500 and resp.json()["code"] == 20500
    assert named in resp.json()["message"]
    assert any(named in v for v in _violations_of(twilio_lab, "twilio"))
    # The list reply is held to the same rules (its envelope included).
    twilio_lab.faults("twilio", {"method": "GET", "path": r"/Applications\.json$", "action": {"kind": "reshape", **action}})
    listing = twilio_lab.http.get(f"{base}.json", auth=auth, timeout=30)
    assert listing.status_code == 500
    if "drop" in action:
        assert "documented property api_version of api.v2010.account.application is missing (at applications/0)" in listing.json()["message"]
    else:
        assert "property lab_extra is not documented for ListApplicationResponse" in listing.json()["message"]


def test_twilio_sdk_meets_the_violation_too(twilio_lab, twilio_client, expect_violations):
    """Through the official SDK: the broken reply becomes a TwilioRestException naming the field."""
    from twilio.base.exceptions import TwilioRestException

    client = twilio_client("ie1")
    app = client.applications.create(friendly_name="strict")
    twilio_lab.faults("twilio", {"method": "GET", "path": r"/Applications/AP", "action": {"kind": "reshape", "drop": ["api_version"]}})
    with pytest.raises(TwilioRestException) as caught:
        client.applications(app.sid).fetch()
    assert caught.value.status == 500 and "api_version" in caught.value.msg


@pytest.fixture
def queue(cx):
    made = cx.call(
        "POST",
        "/Queues",
        json={"Name": "strict", "PollingStrategy": "RingAll", "RingTimeout": 10, "MasterTimeout": 10},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert "Agents" not in body, "a 201 leaves navigation properties out (not expanded)"
    return body


@pytest.mark.parametrize(
    ("action", "named"),
    [
        ({"drop": ["MasterTimeout"]}, "documented property MasterTimeout of Pbx.Queue is missing"),
        ({"add": {"LabExtra": True}}, "property LabExtra is not documented for Pbx.Queue"),
        ({"add": {"Agents": []}}, "navigation property Agents of Pbx.Queue is present but $expand did not name it"),
    ],
    ids=["documented-field-dropped", "undocumented-field-added", "navigation-not-expanded"],
)
def test_threecx_reply_broken_on_purpose_is_refused_by_name(cx, queue, expect_violations, action, named):
    cx.lab.faults("threecx", {"method": "GET", "path": r"^/xapi/v1/Queues\(", "action": {"kind": "reshape", **action}})
    resp = cx.call("GET", f"/Queues({queue['Id']})")
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "LabContractViolation"
    assert named in resp.json()["error"]["message"]
    assert any(named in v for v in _violations_of(cx.lab, "threecx"))


def test_threecx_dropped_field_inside_a_list_and_a_nested_type(cx, queue, expect_violations):
    cx.lab.faults("threecx", {"method": "GET", "path": r"^/xapi/v1/Queues$", "action": {"kind": "reshape", "drop": ["External"]}})
    resp = cx.call("GET", "/Queues")
    assert resp.status_code == 500
    assert "documented property External of Pbx.Destination is missing (at value/0/ForwardNoAnswer)" in resp.text


def test_threecx_select_and_expand_are_honoured(cx, queue):
    # Valid replies pass: exactly the selected properties, navigation properties when expanded.
    got = cx.call("GET", f"/Queues({queue['Id']})", params={"$select": "Id,Name,MasterTimeout"})
    assert got.status_code == 200 and set(got.json()) == {"@odata.context", "Id", "Name", "MasterTimeout"}
    got = cx.call("GET", "/Queues", params={"$select": "Id,Number", "$expand": "Agents", "$count": "true"})
    assert got.status_code == 200 and set(got.json()["value"][0]) == {"Id", "Number", "Agents"}
    assert got.json()["@odata.count"] == 1


def test_threecx_select_broken_on_purpose(cx, queue, expect_violations):
    cx.lab.faults("threecx", {"method": "GET", "path": r"^/xapi/v1/Queues\(", "action": {"kind": "reshape", "add": {"RingTimeout": 10}}})
    resp = cx.call("GET", f"/Queues({queue['Id']})", params={"$select": "Id,Name"})
    assert resp.status_code == 500
    assert "property RingTimeout of Pbx.Queue is present but $select did not name it" in resp.text


def test_token_reply_is_held_to_the_reference_shape(cx, expect_violations):
    """/connect/token (the document only names the URL): exactly token_type, expires_in, access_token, refresh_token."""
    for action, named in (
        ({"drop": ["expires_in"]}, "/connect/token 200 body lacks expires_in"),
        ({"add": {"scope": "all"}}, "/connect/token 200 body has undocumented scope"),
    ):
        cx.lab.faults("threecx", {"method": "POST", "path": r"^/connect/token$", "action": {"kind": "reshape", **action}})
        resp = cx.get_token()
        assert resp.status_code == 500, resp.text
        assert named in resp.text
    assert cx.get_token().status_code == 200


def test_get_by_number_is_as_strict_as_a_documented_route(cx, expect_violations):
    """Before 20.0.8 (GetByNumber functions the 20.0.10 document no longer lists): the entity schema, strictly."""
    cx.lab.control("threecx", "POST", "reset", json={"threecx_version": "20.0.7"}).raise_for_status()
    cx.token = None
    assert cx.call("POST", "/Queues", json={"Name": "old", "Number": "800"}).status_code == 201
    path = "/Queues/Pbx.GetByNumber(number='800')"
    ok = cx.call("GET", path, params={"$select": "Id,Number"})
    assert ok.status_code == 200 and set(ok.json()) == {"@odata.context", "Id", "Number"}
    full = cx.call("GET", path)
    assert full.status_code == 200 and "MasterTimeout" in full.json()
    assert "ComfortPromptsEnabled" not in full.json(), "20.0.10 properties are absent on 20.0.7, and that is allowed"
    assert _violations_of(cx.lab, "threecx") == []
    for action, named in (
        ({"drop": ["MasterTimeout"]}, "documented property MasterTimeout of Pbx.Queue is missing"),
        ({"add": {"LabExtra": 1}}, "property LabExtra is not documented for Pbx.Queue"),
    ):
        cx.lab.faults("threecx", {"method": "GET", "path": r"GetByNumber", "action": {"kind": "reshape", **action}})
        resp = cx.call("GET", path)
        assert resp.status_code == 500 and named in resp.text


# ------------------------------------------------------------------ the validator on crafted bodies


def _tw(validator, path: str, body, status: int = 200) -> list[str]:
    return validator.validate_response("GET", path, status, JSON, json.dumps(body).encode())


APP = {
    "account_sid": "AC" + "a" * 32,
    "api_version": "2010-04-01",
    "date_created": "Fri, 21 Aug 2015 00:07:25 +0000",
    "date_updated": "Fri, 21 Aug 2015 00:07:25 +0000",
    "friendly_name": "x",
    "message_status_callback": None,
    "sid": "AP" + "a" * 32,
    "sms_fallback_method": "POST",
    "sms_fallback_url": None,
    "sms_method": "POST",
    "sms_status_callback": None,
    "sms_url": None,
    "status_callback": None,
    "status_callback_method": "POST",
    "uri": "/2010-04-01/Accounts/AC" + "a" * 32 + "/Applications/AP" + "a" * 32 + ".json",
    "voice_caller_id_lookup": False,
    "voice_fallback_method": "POST",
    "voice_fallback_url": None,
    "voice_method": "POST",
    "voice_url": None,
    "public_application_connect_enabled": False,
}
APP_PATH = "/2010-04-01/Accounts/AC" + "a" * 32 + "/Applications/AP" + "a" * 32 + ".json"


def test_validator_twilio_crafted(validators):
    tw = validators[0]
    assert _tw(tw, APP_PATH, APP) == [], "a complete Application passes"
    nulls = {k: None for k in APP}
    assert _tw(tw, APP_PATH, nulls) == [], "null is allowed for every (nullable) property"
    dropped = {k: v for k, v in APP.items() if k != "api_version"}
    assert _tw(tw, APP_PATH, dropped) == [
        "response 200 body: documented property api_version of api.v2010.account.application is missing (at (root))"
    ]
    assert _tw(tw, APP_PATH, {**APP, "lab_extra": 1}) == [
        "response 200 body: property lab_extra is not documented for api.v2010.account.application (at (root))"
    ]
    # Formats the document uses: RFC 2822 dates, URI references.
    assert "date-time-rfc-2822" in " ".join(_tw(tw, APP_PATH, {**APP, "date_created": "2015-08-21T00:07:25Z"}))
    assert "'uri'" in " ".join(_tw(tw, APP_PATH, {**APP, "voice_url": "not a url"}))
    assert "'FETCH' is not one of" in " ".join(_tw(tw, APP_PATH, {**APP, "voice_method": "FETCH"}))
    # A 2xx status the document does not list, and a 4xx in Twilio's error shape.
    assert _tw(tw, APP_PATH, {"code": 20404, "message": "x", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}, 404) == []


def _cx(validator, path: str, body, query=None, version="20.0.10") -> list[str]:
    rel = "/xapi/v1" + path
    return validator.validate_response(
        "GET", rel, 200, JSON, json.dumps(body).encode(), query=query or {}, absent=absent_allowed(version, rel)
    )


def test_validator_threecx_crafted(validators, cx, queue):
    v = validators[1]
    entity = cx.call("GET", f"/Queues({queue['Id']})").json()
    path = f"/Queues({queue['Id']})"
    assert _cx(v, path, entity) == []
    without = {k: val for k, val in entity.items() if k != "MasterTimeout"}
    assert _cx(v, path, without) == [
        "response 200 body: documented property MasterTimeout of Pbx.Queue is missing (at (root))"
    ]
    assert _cx(v, path, {**entity, "LabExtra": 1}) == [
        "response 200 body: property LabExtra is not documented for Pbx.Queue (at (root))"
    ]
    no_context = {k: val for k, val in entity.items() if k != "@odata.context"}
    assert _cx(v, path, no_context) == ["response 200 body: OData control information @odata.context is missing (at (root))"]
    # Navigation properties: only when expanded, and then required.
    assert "navigation property Agents" in " ".join(_cx(v, path, {**entity, "Agents": []}))
    assert _cx(v, path, {**entity, "Agents": []}, {"$expand": ["Agents"]}) == []
    assert "documented property Agents of Pbx.Queue is missing" in " ".join(_cx(v, path, entity, {"$expand": ["Agents"]}))
    # $select: exactly the selected properties.
    picked = {"@odata.context": entity["@odata.context"], "Id": entity["Id"], "Name": entity["Name"]}
    assert _cx(v, path, picked, {"$select": ["Id,Name"]}) == []
    assert "documented property Name of Pbx.Queue is missing" in " ".join(
        _cx(v, path, {k: picked[k] for k in ("@odata.context", "Id")}, {"$select": ["Id,Name"]})
    )
    # Collections: @odata.count exactly with $count=true; entities under "value" get $select.
    coll = {"@odata.context": "x", "value": [{"Id": 1, "Name": "a"}]}
    assert _cx(v, "/Queues", coll, {"$select": ["Id,Name"]}) == []
    assert "@odata.count is present although $count=true was not asked" in " ".join(
        _cx(v, "/Queues", {**coll, "@odata.count": 1}, {"$select": ["Id,Name"]})
    )
    assert "documented property @odata.count of Pbx.QueueCollectionResponse is missing" in " ".join(
        _cx(v, "/Queues", coll, {"$select": ["Id,Name"], "$count": ["true"]})
    )
    # A property a version does not have yet is absent on that version, and only there.
    later = version_hidden("20.0.8")["Pbx.Queue"]
    older = {k: val for k, val in entity.items() if k not in later}
    assert "ComfortPromptsEnabled" in later and _cx(v, path, older, version="20.0.8") == []
    assert "ComfortPromptsEnabled of Pbx.Queue is missing" in " ".join(_cx(v, path, older))
    assert _cx(v, path, {**older, "ComfortPromptsEnabled": False}, version="20.0.8") == [
        "response 200 body: property ComfortPromptsEnabled of Pbx.Queue does not exist in this version (at (root))"
    ]
    # Formats: Edm.DateTimeOffset is RFC 3339.
    group = copy.deepcopy(cx.call("GET", "/Groups").json())
    group["value"][0]["LastLoginTime"] = "yesterday"
    assert "'date-time'" in " ".join(_cx(v, "/Groups", group))


# ------------------------------------------------------------------ never silently off


def _pytest(args: list[str], env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LAB_ENDPOINTS", labhome.ALLOW_NO_SPEC_ENV, "LAB_HOME")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--basetemp", str(tmp_path / "bt"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_without_documents_the_tier_fails_unless_opted_out(tmp_path):
    empty = tmp_path / "no-shared"
    empty.mkdir()
    one = ["tests/contract/test_contract_strict.py::test_threecx_select_and_expand_are_honoured"]
    refused = _pytest(one, {"LAB_SHARED_DIR": str(empty)}, tmp_path)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0, out
    assert "lab validation would be OFF" in out and f"{labhome.ALLOW_NO_SPEC_ENV}=1" in out and str(empty) in out
    opted = _pytest(one, {"LAB_SHARED_DIR": str(empty), labhome.ALLOW_NO_SPEC_ENV: "1"}, tmp_path)
    out = opted.stdout + opted.stderr
    assert opted.returncode == 0, out
    assert "1 skipped" in out and f"lab validation: OFF ({labhome.ALLOW_NO_SPEC_ENV}=1)" in out


def test_without_documents_the_lab_refuses_to_start(tmp_path, lab_cli):
    """What the integration tier, molecule and the demo meet: `lab up` fails, naming the opt-out."""
    empty = tmp_path / "no-shared"
    empty.mkdir()
    env = {"LAB_SHARED_DIR": str(empty)}
    saved = {k: os.environ.get(k) for k in (*env, labhome.ALLOW_NO_SPEC_ENV)}
    os.environ.update(env)
    os.environ.pop(labhome.ALLOW_NO_SPEC_ENV, None)
    try:
        proc = lab_cli(["up"], tmp_path / "home", check=False)
        assert proc.returncode == 1 and "lab validation would be OFF" in proc.stderr, proc.stderr
        docs = lab_cli(["docs"], tmp_path / "home", check=False)
        assert docs.returncode == 1 and labhome.ALLOW_NO_SPEC_ENV in docs.stderr
        os.environ[labhome.ALLOW_NO_SPEC_ENV] = "1"
        docs = lab_cli(["docs"], tmp_path / "home", check=False)
        assert docs.returncode == 0 and docs.stdout.startswith(f"lab validation: OFF ({labhome.ALLOW_NO_SPEC_ENV}=1)")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        lab_cli(["down"], tmp_path / "home", check=False)


def test_strict_rules_accept_the_vendors_own_examples(validators):
    """Not stricter than reality: the Twilio document's 2xx examples of the resources the lab serves
    (Applications, SIP, Calls) pass the strict shape rules. (Over the whole document 268 of 286 pass;
    the rest are resources the lab does not serve, e.g. AvailablePhoneNumbers envelopes.)"""
    tw = validators[0]
    served = ("/Applications", "/SIP/", "/Calls.json", "/Calls/{Sid}.json")
    checked = 0
    for path, item in tw.doc["paths"].items():
        if not any(s in path for s in served):
            continue
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for status, resp in op.get("responses", {}).items():
                media = (tw._deref(resp).get("content") or {}).get("application/json") or {}
                for name, example in (media.get("examples") or {}).items():
                    if not status.startswith("2") or "value" not in example:
                        continue
                    checked += 1
                    assert tw.strict.check("example", media["schema"], example["value"], {}) == [], (method, path, name)
    assert checked >= 40


def test_threecx_error_reply_is_held_to_the_odata_error_shape(cx, expect_violations):
    assert cx.call("GET", "/Queues(999)").status_code == 404
    cx.lab.faults("threecx", {"method": "GET", "path": r"^/xapi/v1/Queues\(", "action": {"kind": "reshape", "drop": ["target"], "add": {"lab_extra": 1}}})
    resp = cx.call("GET", "/Queues(999)")
    assert resp.status_code == 500
    assert "documented property target of Pbx.ODataErrors.MainError is missing (at error)" in resp.text
    assert "property lab_extra is not documented for Pbx.ODataErrors.ODataError" in resp.text
