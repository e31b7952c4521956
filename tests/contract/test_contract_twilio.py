"""Twilio stand-in through the official twilio SDK, checked against twilio_api_v2010.json."""

import time

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException


@pytest.mark.parametrize("region", ["us1", "ie1", "au1"])
@pytest.mark.parametrize("api_key", [True, False], ids=["api_key", "auth_token"])
def test_application_crud(twilio_lab, twilio_client, region, api_key):
    client = twilio_client(region, api_key=api_key)
    app = client.applications.create(friendly_name="fallback", voice_url="https://example.com/voice", voice_method="GET", voice_caller_id_lookup=True)
    assert app.sid.startswith("AP") and len(app.sid) == 34
    assert app.voice_method == "GET" and app.voice_fallback_method == "POST"
    assert app.voice_caller_id_lookup is True and app.date_created is not None
    updated = client.applications(app.sid).update(voice_url="https://example.com/v2", friendly_name="renamed")
    assert updated.voice_url == "https://example.com/v2" and updated.friendly_name == "renamed"
    fetched = client.applications(app.sid).fetch()
    assert fetched.voice_url == "https://example.com/v2" and fetched.voice_method == "GET"
    assert client.applications(app.sid).delete() is True
    with pytest.raises(TwilioRestException) as exc:
        client.applications(app.sid).fetch()
    assert exc.value.status == 404 and exc.value.code == 20404
    hosts = {e["host"] for e in twilio_lab.requests_log("twilio")}
    expected = {"us1": "api.twilio.com", "ie1": "api.dublin.ie1.twilio.com", "au1": "api.sydney.au1.twilio.com"}
    assert hosts == {expected[region]}
    # Resources are per Region: the other Regions' accounts saw nothing.
    state = twilio_lab.state("twilio")["regions"]
    assert all(state[r]["resources"]["applications"] == [] for r in state)


def test_list_filter_and_paging(twilio_lab, twilio_client):
    client = twilio_client("ie1")
    sids = [client.applications.create(friendly_name=f"app-{i}").sid for i in range(5)]
    client.applications.create(friendly_name="odd one")
    assert [a.sid for a in client.applications.list(page_size=2)] == sids + [client.applications.list(friendly_name="odd one")[0].sid]
    page = client.applications.page(page_size=2)
    seen = []
    while page is not None:
        seen += [a.sid for a in page]
        page = page.next_page()
    assert seen[:5] == sids and len(seen) == 6
    assert [a.friendly_name for a in client.applications.list(friendly_name="app-3")] == ["app-3"]
    pages = [e for e in twilio_lab.requests_log("twilio") if e["method"] == "GET" and "PageToken" in e["query"]]
    assert len(pages) >= 4, "the SDK followed next_page_uri across pages"


def test_raw_envelope(twilio_lab):
    acct = twilio_lab.eps["twilio"]["accounts"]["us1"]
    base = f"{twilio_lab.twilio_url}/2010-04-01/Accounts/{acct['account_sid']}/Applications.json"
    auth = (acct["account_sid"], acct["auth_token"])
    for i in range(3):
        assert twilio_lab.http.post(base, data={"FriendlyName": f"r{i}"}, auth=auth).status_code == 201
    body = twilio_lab.http.get(base, params={"PageSize": 2}, auth=auth).json()
    assert set(body) == {
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
        "page",
        "page_size",
        "start",
        "end",
        "uri",
        "applications",
    }
    assert body["next_page_uri"].startswith("/2010-04-01/") and body["previous_page_uri"] is None
    nxt = twilio_lab.http.get(twilio_lab.twilio_url + body["next_page_uri"], auth=auth).json()
    assert nxt["next_page_uri"] is None and len(nxt["applications"]) == 1 and nxt["start"] == 2
    resp = twilio_lab.http.delete(base.replace(".json", f"/{body['applications'][0]['sid']}.json"), auth=auth)
    assert resp.status_code == 204 and resp.content == b""


def test_auth_errors(twilio_lab, twilio_client):
    bad = twilio_client("us1")
    bad.password = "wrong"
    bad.auth = ("SK" + "0" * 32, "wrong")
    with pytest.raises(TwilioRestException) as exc:
        twilio_client("us1", api_key=False, account_region="us1").applications.create(friendly_name="ok")
        bad.applications.create(friendly_name="x")
    assert exc.value.status == 401 and exc.value.code == 20003
    # Region-specific credentials: IE1 credentials sent to the AU1 host.
    cross = twilio_client("au1", account_region="ie1")
    with pytest.raises(TwilioRestException) as exc:
        cross.applications.create(friendly_name="x")
    assert exc.value.status == 401 and exc.value.code == 20003
    with pytest.raises(TwilioException):
        cross.applications.list()
    # Unknown account in the path.
    other = twilio_client("us1", account_sid="AC" + "ab" * 16)
    with pytest.raises(TwilioRestException) as exc:
        other.applications.create(friendly_name="x")
    assert exc.value.status == 404 and exc.value.code == 20404


def test_deprecated_region_only_host(twilio_lab, twilio_client):
    client = twilio_client("ie1", edge=None)  # the SDK then calls api.ie1.twilio.com
    with pytest.raises(TwilioRestException) as exc:
        client.applications.create(friendly_name="x")
    assert exc.value.status == 404 and "deprecated" in exc.value.msg
    assert twilio_lab.requests_log("twilio")[-1]["host"] == "api.ie1.twilio.com"


def test_validator_catches_invalid_requests(twilio_lab, twilio_client, expect_violations):
    client = twilio_client("us1")
    with pytest.raises(TwilioRestException) as exc:
        client.applications.create(friendly_name="x", voice_method="FETCH")
    assert exc.value.status == 500 and "VoiceMethod" in exc.value.msg
    acct = twilio_lab.eps["twilio"]["accounts"]["us1"]
    base = f"{twilio_lab.twilio_url}/2010-04-01/Accounts/{acct['account_sid']}/Applications.json"
    auth = (acct["account_sid"], acct["auth_token"])
    resp = twilio_lab.http.post(base, data={"friendly_name": "snake_case is wrong"}, auth=auth)
    assert resp.status_code == 500 and "friendly_name" in resp.json()["message"]
    assert twilio_lab.http.get(base, params={"PageSize": 5000}, auth=auth).status_code == 500
    assert twilio_lab.http.post(base, json={"FriendlyName": "json"}, auth=auth).status_code == 500
    assert twilio_lab.http.get(base.replace("Applications", "Nothing"), auth=auth).status_code == 500
    assert twilio_lab.state("twilio")["regions"]["us1"]["resources"]["applications"] == []
    flagged = [e for e in twilio_lab.requests_log("twilio") if e["violations"]]
    assert len(flagged) == 5


def test_fault_429_and_delay(twilio_lab, twilio_client):
    client = twilio_client("au1")
    twilio_lab.faults(
        "twilio",
        {
            "method": "POST",
            "path": r"/Applications\.json$",
            "action": {"kind": "status", "status": 429, "retry_after": 1},
        },
        {"method": "GET", "path": r"/Applications\.json$", "action": {"kind": "status", "status": 503}},
        {"method": "POST", "path": "Applications", "action": {"kind": "delay", "seconds": 0.3}},
    )
    with pytest.raises(TwilioRestException) as exc:
        client.applications.create(friendly_name="x")
    assert exc.value.status == 429 and exc.value.code == 20429
    with pytest.raises(TwilioException):
        client.applications.list()
    start = time.monotonic()
    assert client.applications.create(friendly_name="slow").friendly_name == "slow"
    assert time.monotonic() - start >= 0.3
    log = twilio_lab.requests_log("twilio")
    assert [(e["status"], e["fault"]) for e in log] == [(429, "status"), (503, "status"), (201, "delay")]


def test_fault_drop_and_commit_then_drop(twilio_lab, twilio_client):
    client = twilio_client("us1")
    twilio_lab.faults(
        "twilio",
        {"method": "POST", "path": "Applications", "action": {"kind": "drop"}},
        {"method": "POST", "path": "Applications", "action": {"kind": "commit_then_drop"}},
    )
    with pytest.raises(requests.ConnectionError):
        client.applications.create(friendly_name="dropped")
    with pytest.raises(requests.ConnectionError):
        client.applications.create(friendly_name="committed")
    names = [a.friendly_name for a in client.applications.list()]
    assert names == ["committed"], "drop commits nothing, commit_then_drop commits"
    log = twilio_lab.requests_log("twilio")
    assert [(e["status"], e["fault"]) for e in log if e["method"] == "POST"] == [(0, "drop"), (0, "commit_then_drop")]


def test_state_masks_secrets_and_reset(twilio_lab, twilio_client):
    twilio_client("us1").applications.create(friendly_name="x")
    state = twilio_lab.state("twilio")
    us1 = state["regions"]["us1"]
    assert us1["auth_token"] == "********" and us1["api_secret"] == "********"
    assert us1["account_sid"] == twilio_lab.eps["twilio"]["accounts"]["us1"]["account_sid"]
    assert len(us1["resources"]["applications"]) == 1 and state["validation"]["enabled"] is True
    twilio_lab.control("twilio", "POST", "reset").raise_for_status()
    assert twilio_lab.state("twilio")["regions"]["us1"]["resources"]["applications"] == []
    assert twilio_lab.requests_log("twilio") == []
    # Credentials survive a reset.
    assert twilio_client("us1").applications.list() == []
