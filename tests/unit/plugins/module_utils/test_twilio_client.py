"""The Twilio client factory: regions and edges, base-URL override, retries, errors."""

import base64

import pytest
from requests import exceptions as rexc
from twilio.base.exceptions import TwilioException

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio as tw
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy
from tests.unit.plugins.fakes import RecordingSleep, Reply, ScriptedAdapter

AC = "AC" + "1" * 32
AP = "AP" + "a" * 32
TOKEN = "auth-token-value-1234"

APP = {"sid": AP, "account_sid": AC, "friendly_name": "ivr", "voice_url": "https://example.test/voice", "uri": "/x"}
PAGE = {
    "applications": [APP],
    "first_page_uri": "/2010-04-01/Accounts/%s/Applications.json?PageSize=50&Page=0" % AC,
    "next_page_uri": None,
    "previous_page_uri": None,
    "page": 0,
    "page_size": 50,
    "start": 0,
    "end": 0,
    "uri": "/2010-04-01/Accounts/%s/Applications.json?PageSize=50&Page=0" % AC,
}


def client_with(adapter, retries=3, **kwargs):
    sleep = RecordingSleep()
    kwargs.setdefault("auth_token", TOKEN)
    client = tw.build_client(account_sid=AC, retry=RetryPolicy(max_retries=retries, sleep=sleep), **kwargs)
    client.http_client.session.mount("https://", adapter)
    client.http_client.session.mount("http://", adapter)
    return client, sleep


@pytest.mark.parametrize(
    "region,host",
    [("us1", "api.ashburn.us1.twilio.com"), ("ie1", "api.dublin.ie1.twilio.com"), ("au1", "api.sydney.au1.twilio.com")],
)
def test_region_is_always_paired_with_its_edge(region, host, monkeypatch):
    # Environment variables the SDK reads must not change what the user configured.
    monkeypatch.setenv("TWILIO_EDGE", "tokyo")
    monkeypatch.setenv("TWILIO_REGION", "jp1")
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE))
    client, _ignored = client_with(adapter, region=region)
    assert [a.sid for a in client.applications.list()] == [AP]
    assert adapter.sent[0][1].startswith("https://%s/2010-04-01/Accounts/%s/Applications.json" % (host, AC))


def test_base_url_rewrites_scheme_and_host_and_forwards_the_regional_host():
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE))
    client, _ignored = client_with(adapter, region="ie1", api_base_url="https://127.0.0.1:8443/")
    client.applications.list()
    method, url, headers, _ignored = adapter.sent[0]
    assert url.startswith("https://127.0.0.1:8443/2010-04-01/Accounts/%s/Applications.json" % AC)
    assert headers["X-Forwarded-Host"] == "api.dublin.ie1.twilio.com"
    assert client.http_client.calls == [("GET", "api.dublin.ie1.twilio.com", "/2010-04-01/Accounts/%s/Applications.json" % AC, 200)]


def test_auth_with_api_key_and_secret():
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE))
    client, _ignored = client_with(adapter, auth_token=None, api_key="SK" + "2" * 32, api_secret="key-secret")
    client.applications.list()
    expected = base64.b64encode(("SK" + "2" * 32 + ":key-secret").encode()).decode()
    assert adapter.sent[0][2]["Authorization"] == "Basic " + expected
    assert "/Accounts/%s/" % AC in adapter.sent[0][1]


def test_429_with_code_20429_is_retried_after_retry_after():
    throttled = Reply(
        429,
        {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429},
        {"Retry-After": "3"},
    )
    adapter = ScriptedAdapter().on("POST", "/Applications.json", throttled, Reply(201, APP))
    client, sleep = client_with(adapter)
    assert client.applications.create(friendly_name="ivr").sid == AP
    assert sleep.delays == [3.0]


def test_5xx_retries_an_update_but_never_a_create():
    adapter = ScriptedAdapter()
    adapter.on("POST", "/Applications/%s.json" % AP, Reply(503), Reply(200, APP))
    adapter.always("POST", "/Applications.json", Reply(503, {"code": 20500, "message": "Internal", "more_info": "", "status": 503}))
    client, sleep = client_with(adapter)
    assert client.applications(AP).update(friendly_name="ivr").sid == AP
    with pytest.raises(Exception) as err:
        client.applications.create(friendly_name="ivr")
    assert tw.describe_error(err.value).status == 503
    assert len([s for s in adapter.sent if s[1].endswith("/Applications.json")]) == 1


def test_lost_reply_to_a_create_is_ambiguous_and_not_resent():
    adapter = ScriptedAdapter().on("POST", "/Applications.json", Reply(raise_exc=rexc.ConnectionError("Connection aborted.")))
    client, _ignored = client_with(adapter)
    with pytest.raises(tw.TwilioAmbiguousWrite):
        client.applications.create(friendly_name="ivr")
    assert len(adapter.sent) == 1


def test_list_errors_are_described_like_rest_errors():
    body = {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(401, body))
    client, _ignored = client_with(adapter)
    with pytest.raises(TwilioException) as err:
        client.applications.list()
    described = tw.describe_error(err.value)
    assert (described.status, described.code) == (401, 20003)
    assert "Authenticate" in str(described) and TOKEN not in str(described)


def test_fetch_errors_are_described():
    body = {"code": 20404, "message": "The requested resource was not found", "more_info": "x", "status": 404}
    adapter = ScriptedAdapter().on("GET", "/Applications/%s.json" % AP, Reply(404, body))
    client, _ignored = client_with(adapter)
    with pytest.raises(TwilioException) as err:
        client.applications(AP).fetch()
    described = tw.describe_error(err.value)
    assert (described.status, described.code) == (404, 20404)
    assert described.more_info == "https://www.twilio.com/docs/errors/20404"


def test_ca_bundle_is_used_for_verification():
    client = tw.build_client(account_sid=AC, auth_token=TOKEN, ca_bundle="/tmp/lab-ca.pem")
    assert client.http_client.session.verify == "/tmp/lab-ca.pem"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(account_sid=None, auth_token=TOKEN), "account_sid is required"),
        (dict(account_sid=AC), "give auth_token, or api_key with api_secret"),
        (dict(account_sid=AC, api_key="SK" + "1" * 32), "api_key and api_secret must be given together"),
        (dict(account_sid=AC, auth_token=TOKEN, region="ie2"), "region must be one of us1, ie1, au1"),
    ],
)
def test_bad_credentials_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tw.build_client(**kwargs)


@pytest.mark.parametrize(
    "method,url,expected",
    [
        ("GET", "https://api.twilio.com/2010-04-01/Accounts/%s/Applications.json" % AC, True),
        ("POST", "https://api.twilio.com/2010-04-01/Accounts/%s/Applications.json" % AC, False),
        ("POST", "https://api.twilio.com/2010-04-01/Accounts/%s/Applications/%s.json" % (AC, AP), True),
        ("DELETE", "https://api.twilio.com/2010-04-01/Accounts/%s/Applications/%s.json" % (AC, AP), True),
    ],
)
def test_idempotency_of_requests(method, url, expected):
    assert tw.is_idempotent(method, url) is expected


def test_a_401_names_the_options_to_check():
    error = tw.describe_error(tw.TwilioCallError("Twilio GET /x failed with HTTP 401: Authenticate (code 20003)", status=401, code=20003))
    assert "check account_sid and auth_token, or api_key and api_secret" in str(error) and error.code == 20003
    assert "check account_sid" not in str(tw.describe_error(tw.TwilioCallError("HTTP 404", status=404)))
