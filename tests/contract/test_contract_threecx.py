"""3CX XAPI stand-in through requests, checked against the 3CX swagger."""

import time

import pytest
import requests

ODATA_ERROR_KEYS = {"code", "message", "target", "details", "innerError"}


def assert_odata_error(resp, status):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == ODATA_ERROR_KEYS
    return body["error"]


@pytest.mark.parametrize(
    "version, build_prefix, expires_in",
    [
        ("20.0.7", "20.0.7.", 60),
        ("20.0.8", "20.0.8.", 60),
        ("20.0.9", "20.0.9.", 3600),
        ("20.0.10", "20.0.10.", 3600),
    ],
)
def test_token_and_version(threecx_lab, cx, version, build_prefix, expires_in):
    threecx_lab.control("threecx", "POST", "reset", json={"threecx_version": version}).raise_for_status()
    resp = cx.get_token()
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] is None
    assert body["expires_in"] == expires_in, "minutes before 20.0.9, seconds from 20.0.9"
    cx.token = body["access_token"]
    params = cx.call("GET", "/Defs/Pbx.GetSystemParameters()")
    assert params.status_code == 200
    assert params.json()["Version"].startswith(build_prefix)
    assert threecx_lab.state("threecx")["version"] == version


def test_token_errors(threecx_lab, cx):
    resp = cx.get_token(client_secret="wrong")
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "unauthorized",
        "error_description": "The request requires valid user authentication.",
    }
    resp = threecx_lab.http.post(f"{cx.url}/connect/token", data={"grant_type": "password", "client_id": "x"})
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"


def test_only_one_active_token(cx):
    first = cx.login()
    second = cx.login()
    assert first != second
    assert_odata_error(cx.call("GET", "/E164Settings", token=first), 401)
    assert cx.call("GET", "/E164Settings", token=second).status_code == 200


def test_missing_bad_revoked_expired_tokens(threecx_lab, cx):
    resp = cx.call("GET", "/E164Settings", token=None)
    assert_odata_error(resp, 401)
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert_odata_error(cx.call("GET", "/E164Settings", token="not-a-token"), 401)
    cx.login()
    assert threecx_lab.control("threecx", "POST", "tokens/revoke").json() == {"revoked": 1}
    assert_odata_error(cx.call("GET", "/E164Settings"), 401)
    cx.login()
    assert threecx_lab.control("threecx", "POST", "tokens/expire").json() == {"expired": 1}
    assert_odata_error(cx.call("GET", "/E164Settings"), 401)
    cx.login()
    assert cx.call("GET", "/E164Settings").status_code == 200


def test_e164_get_select_patch(threecx_lab, cx):
    got = cx.call("GET", "/E164Settings").json()
    assert got["@odata.context"].endswith("/xapi/v1/$metadata#E164Settings")
    assert got["Enabled"] is True and got["CountryCode"] == "1" and got["InternationalCode"] == "011"
    sel = cx.call("GET", "/E164Settings", params={"$select": "Enabled,CountryCode"}).json()
    assert set(sel) == {"@odata.context", "Enabled", "CountryCode"}
    resp = cx.call("PATCH", "/E164Settings", json={"Enabled": False, "Prefix": "9"})
    assert resp.status_code == 204 and resp.content == b""
    got = cx.call("GET", "/E164Settings").json()
    assert got["Enabled"] is False and got["Prefix"] == "9" and got["CountryCode"] == "1"
    assert threecx_lab.state("threecx")["E164Settings"]["Enabled"] is False
    # Unknown property: the PBX's own 400, not a lab violation.
    err = assert_odata_error(cx.call("PATCH", "/E164Settings", json={"Bogus": 1}), 400)
    assert "Bogus" in err["message"]
    assert_odata_error(cx.call("GET", "/E164Settings", params={"$select": "Nope"}), 400)


def test_documented_but_unimplemented_endpoint_is_501(cx):
    err = assert_odata_error(cx.call("GET", "/Parameters"), 501)
    assert "does not implement" in err["message"]


def test_validator_catches_invalid_requests(threecx_lab, cx, expect_violations):
    since = threecx_lab.requests_log("threecx")[-1]["seq"] if threecx_lab.requests_log("threecx") else 0
    resp = cx.call("PATCH", "/E164Settings", json={"Enabled": "yes"})
    err = assert_odata_error(resp, 500)
    assert "Enabled" in err["message"]
    assert cx.call("GET", "/E164Settings").json()["Enabled"] is True, "nothing was committed"
    assert cx.call("GET", "/NoSuchThing").status_code == 500
    assert cx.call("GET", "/E164Settings", params={"$filter": "Enabled eq true"}).status_code == 500
    assert threecx_lab.http.post(f"{cx.url}/connect/token", json={"grant_type": "client_credentials"}).status_code == 500
    entries = threecx_lab.requests_log("threecx", since)
    flagged = [(e["method"], e["path"]) for e in entries if e["violations"]]
    assert flagged == [
        ("PATCH", "/xapi/v1/E164Settings"),
        ("GET", "/xapi/v1/NoSuchThing"),
        ("GET", "/xapi/v1/E164Settings"),
        ("POST", "/connect/token"),
    ]
    assert "not of type 'boolean'" in next(e for e in entries if e["violations"])["violations"][0]


def test_fault_status_delay(threecx_lab, cx):
    cx.login()
    threecx_lab.faults(
        "threecx",
        {"method": "GET", "path": "E164Settings$", "action": {"kind": "status", "status": 429, "retry_after": 2}},
        {"method": "GET", "path": "E164Settings$", "action": {"kind": "delay", "seconds": 0.3}},
    )
    assert len(threecx_lab.control("threecx", "GET", "faults").json()["faults"]) == 2
    resp = cx.call("GET", "/E164Settings")
    assert_odata_error(resp, 429)
    assert resp.headers["Retry-After"] == "2"
    start = time.monotonic()
    assert cx.call("GET", "/E164Settings").status_code == 200
    assert time.monotonic() - start >= 0.3
    assert threecx_lab.control("threecx", "GET", "faults").json() == {"faults": []}
    log = threecx_lab.requests_log("threecx")
    assert [(e["status"], e["fault"]) for e in log[-2:]] == [(429, "status"), (200, "delay")]


def test_fault_drop_and_commit_then_drop(threecx_lab, cx):
    cx.login()
    threecx_lab.faults(
        "threecx",
        {"method": "PATCH", "path": "E164Settings", "action": {"kind": "drop"}},
        {"method": "PATCH", "path": "E164Settings", "action": {"kind": "commit_then_drop"}},
    )
    with pytest.raises(requests.ConnectionError):
        cx.call("PATCH", "/E164Settings", json={"Prefix": "1"})
    assert cx.call("GET", "/E164Settings").json()["Prefix"] == "", "a drop commits nothing"
    with pytest.raises(requests.ConnectionError):
        cx.call("PATCH", "/E164Settings", json={"Prefix": "2"})
    assert cx.call("GET", "/E164Settings").json()["Prefix"] == "2", "commit_then_drop commits"
    log = threecx_lab.requests_log("threecx")
    patches = [(e["status"], e["fault"]) for e in log if e["method"] == "PATCH"]
    assert patches == [(0, "drop"), (0, "commit_then_drop")]


def test_faults_clear_and_token_fault(threecx_lab, cx):
    threecx_lab.faults("threecx", {"method": None, "path": "^/connect/token$", "action": {"kind": "status", "status": 503}})
    assert cx.get_token().status_code == 503
    threecx_lab.faults("threecx", {"path": "x", "times": 3, "action": {"kind": "drop"}})
    assert threecx_lab.control("threecx", "DELETE", "faults").json() == {"faults": []}
    bad = threecx_lab.control("threecx", "POST", "faults", json={"faults": [{"path": "(", "action": {"kind": "drop"}}]})
    assert bad.status_code == 400
    assert cx.get_token().status_code == 200


def test_request_log_shape_and_since(threecx_lab, cx):
    cx.login()
    cx.call("GET", "/E164Settings", params={"$select": "Enabled"}, headers={"X-Forwarded-Host": "pbx.example.com"})
    log = threecx_lab.requests_log("threecx")
    token_entry, get_entry = log[-2], log[-1]
    assert token_entry["body"]["client_secret"] == "********"
    assert set(get_entry) == {"seq", "method", "host", "path", "query", "body", "status", "violations", "fault"}
    assert get_entry["host"] == "pbx.example.com" and get_entry["query"] == {"$select": ["Enabled"]}
    assert threecx_lab.requests_log("threecx", since=get_entry["seq"]) == []
    assert [e["seq"] for e in threecx_lab.requests_log("threecx", since=token_entry["seq"])] == [get_entry["seq"]]
    assert all(not e["path"].startswith("/_lab") for e in log), "control calls are not logged"


def test_reset_rejects_unknown_version(threecx_lab):
    assert threecx_lab.control("threecx", "POST", "reset", json={"threecx_version": "19.0.0"}).status_code == 400
