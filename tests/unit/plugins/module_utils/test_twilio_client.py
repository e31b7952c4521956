"""The Twilio client factory: regions and edges, base-URL override, retries, errors."""

import base64
import logging

import pytest
from requests import exceptions as rexc
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

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
        (dict(account_sid=None, auth_token=TOKEN), "account_sid is required (or set TWILIO_ACCOUNT_SID)"),
        (dict(account_sid="AC123", auth_token=TOKEN), "account_sid must be a Twilio SID starting with AC followed by 32 hexadecimal digits; got 'AC123'"),
        (dict(account_sid=AC), "give auth_token, or api_key with api_secret (or set TWILIO_AUTH_TOKEN / TWILIO_API_KEY and TWILIO_API_SECRET)"),
        (dict(account_sid=AC, api_key="SK" + "1" * 32), "api_key and api_secret must be given together"),
        (dict(account_sid=AC, auth_token=TOKEN, region="ie2"), "region must be one of us1, ie1, au1, got 'ie2'"),
    ],
)
def test_bad_credentials_input(kwargs, message):
    with pytest.raises(ValueError) as err:
        tw.build_client(**kwargs)
    assert str(err.value) == message


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


# ---- every kind of SDK and transport error, described word for word (each field of the result too):
# the module's message and its error result are all a user sees of a failed call.

SD_URL = "https://api.twilio.com/2010-04-01/Accounts/%s/SIP/Domains/SD%s.json" % (AC, "2" * 32)
SD_PATH = "/2010-04-01/Accounts/%s/SIP/Domains/SD%s.json" % (AC, "2" * 32)


class _Page:
    """What the SDK's list()/page() hands TwilioException: a response with a status and a text."""

    def __init__(self, status_code, text):
        self.status_code = status_code
        self.text = text


def _described(exc):
    described = tw.describe_error(exc)
    return str(described), described.to_result()


def test_a_rest_error_is_described_with_its_request_status_code_and_docs_link():
    exc = TwilioRestException(404, SD_URL, msg="The requested resource was not found", code=20404, method="POST")
    assert _described(exc) == (
        "Twilio POST %s failed with HTTP 404: The requested resource was not found (code 20404)" % SD_PATH,
        {"status": 404, "code": 20404, "more_info": "https://www.twilio.com/docs/errors/20404", "method": "POST", "url": SD_URL},
    )


def test_a_rest_error_without_code_or_uri_says_so_and_links_nothing():
    exc = TwilioRestException(500, None, msg="Internal error", method="GET")
    assert _described(exc) == (
        "Twilio GET  failed with HTTP 500: Internal error",
        {"status": 500, "code": None, "more_info": None, "method": "GET", "url": None},
    )


def test_a_rest_401_carries_the_credentials_hint_once():
    exc = TwilioRestException(401, SD_URL, msg="Authenticate", code=20003, method="GET")
    message, result = _described(exc)
    assert message == "Twilio GET %s failed with HTTP 401: Authenticate (code 20003). %s" % (SD_PATH, tw.AUTH_HINT)
    assert result == {"status": 401, "code": 20003, "more_info": "https://www.twilio.com/docs/errors/20003", "method": "GET", "url": SD_URL}
    again = tw.describe_error(tw.describe_error(exc))
    assert str(again) == message and again.to_result() == result


def test_a_problem_details_error_is_described_by_its_title():
    exc = TwilioServiceException("https://www.twilio.com/docs/errors/20001", "Invalid parameter", 400, 20001, method="POST", uri=SD_URL)
    assert _described(exc) == (
        "Twilio POST %s failed with HTTP 400: Invalid parameter" % SD_PATH,
        {"status": 400, "code": 20001, "more_info": None, "method": "POST", "url": SD_URL},
    )
    bare = TwilioServiceException("about:blank", "Bad gateway", 502, 20500)
    assert _described(bare)[0] == "Twilio GET  failed with HTTP 502: Bad gateway"


@pytest.mark.parametrize(
    "args,message,result",
    [
        (
            ("Unable to fetch page", _Page(404, '{"code": 20404, "message": "Not found", "more_info": "https://www.twilio.com/docs/errors/20404"}')),
            "Twilio list call failed with HTTP 404: Not found (code 20404)",
            {"status": 404, "code": 20404, "more_info": "https://www.twilio.com/docs/errors/20404", "method": "GET", "url": None},
        ),
        (
            ("Unable to fetch page", _Page(502, "<html>bad gateway</html>")),
            "Twilio list call failed with HTTP 502: Unable to fetch page",
            {"status": 502, "code": None, "more_info": None, "method": "GET", "url": None},
        ),
        (
            ("Unable to fetch page", _Page(503, "")),
            "Twilio list call failed with HTTP 503: Unable to fetch page",
            {"status": 503, "code": None, "more_info": None, "method": "GET", "url": None},
        ),
        (
            ("Unable to fetch page",),
            "Twilio list call failed: Unable to fetch page",
            {"status": None, "code": None, "more_info": None, "method": "GET", "url": None},
        ),
    ],
    ids=["json-body", "html-body", "empty-body", "no-response"],
)
def test_a_list_error_is_described_from_its_response(args, message, result):
    assert _described(TwilioException(*args)) == (message, result)


def test_any_other_error_is_described_without_claiming_a_status():
    assert _described(RuntimeError("socket closed")) == (
        "Twilio call failed: socket closed",
        {"status": None, "code": None, "more_info": None, "method": None, "url": None},
    )
    ours = tw.TwilioCallError("as it was", status=409, code=21450, more_info="m", method="POST", url=SD_URL)
    assert tw.describe_error(ours) is ours
    reworded = ours.reworded("said again")
    assert (str(reworded), reworded.message, reworded.to_result()) == ("said again", "said again", ours.to_result())


# ---- the send path: which failures are sent again, how often and after what pause, and what is said when they end

APPS_URL = "https://api.ashburn.us1.twilio.com/2010-04-01/Accounts/%s/Applications.json" % AC
APPS_PATH = "/2010-04-01/Accounts/%s/Applications.json" % AC


def test_a_read_without_reply_is_sent_again_with_growing_pauses_until_the_bound_then_named_as_no_reply():
    lost = rexc.ConnectionError("Connection reset by peer")
    adapter = ScriptedAdapter().always("GET", "/Applications.json", Reply(raise_exc=lost))
    client, sleep = client_with(adapter, retries=3)
    with pytest.raises(tw.TwilioCallError) as err:
        client.applications.list()
    assert not isinstance(err.value, tw.TwilioAmbiguousWrite)  # a read is never ambiguous
    assert str(err.value) == "Twilio GET %s: no reply (Connection reset by peer)" % APPS_PATH
    assert err.value.to_result() == {"status": None, "code": None, "more_info": None, "method": "GET", "url": APPS_URL}
    assert len(adapter.sent) == 4
    # full jitter: pause n is between half and all of 0.5 s * 2**n
    assert len(sleep.delays) == 3 and all(0.25 * 2**n <= d <= 0.5 * 2**n for n, d in enumerate(sleep.delays))
    assert client.http_client.calls == [("GET", "api.ashburn.us1.twilio.com", APPS_PATH, None)] * 4


def test_a_read_without_reply_then_answered_returns_the_answer():
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(raise_exc=rexc.ConnectTimeout("timed out")), Reply(200, PAGE))
    client, sleep = client_with(adapter)
    assert [a.sid for a in client.applications.list()] == [AP]
    assert len(sleep.delays) == 1
    assert [c[3] for c in client.http_client.calls] == [None, 200]


def test_a_create_without_reply_is_ambiguous_word_for_word_and_sent_once():
    adapter = ScriptedAdapter().always("POST", "/Applications.json", Reply(raise_exc=rexc.ReadTimeout("read timed out")))
    client, sleep = client_with(adapter)
    with pytest.raises(tw.TwilioAmbiguousWrite) as err:
        client.applications.create(friendly_name="ivr")
    assert str(err.value) == "Twilio POST %s: no reply (read timed out)" % APPS_PATH
    assert (err.value.method, err.value.url) == ("POST", APPS_URL)
    assert len(adapter.sent) == 1 and sleep.delays == []


def test_a_tls_failure_is_never_retried_and_names_ca_bundle():
    adapter = ScriptedAdapter().always("GET", "/Applications.json", Reply(raise_exc=rexc.SSLError("certificate verify failed")))
    client, sleep = client_with(adapter, api_base_url="https://127.0.0.1:8443")
    with pytest.raises(tw.TwilioCallError) as err:
        client.applications.list()
    assert str(err.value) == "TLS check of 127.0.0.1:8443 failed: certificate verify failed. Give a CA bundle with ca_bundle"
    assert (err.value.method, err.value.url) == ("GET", APPS_URL)
    assert len(adapter.sent) == 1 and sleep.delays == []


def test_the_timeout_option_reaches_every_request():
    adapter = ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE))
    client, _ignored = client_with(adapter, timeout=7)
    client.applications.list()
    assert [o["timeout"] for o in adapter.settings] == [7]
    default = ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE))
    client, _ignored = client_with(default)
    client.applications.list()
    assert [o["timeout"] for o in default.settings] == [30]


def test_the_base_url_keeps_the_sdks_own_headers():
    adapter = ScriptedAdapter().on("POST", "/Applications.json", Reply(201, APP))
    client, _ignored = client_with(adapter, api_base_url="https://127.0.0.1:8443/")
    client.applications.create(friendly_name="ivr")
    headers = adapter.sent[0][2]
    assert headers["User-Agent"].startswith("twilio-python/")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Forwarded-Host"] == "api.ashburn.us1.twilio.com"


# ---- the survivors of the mutation run (docs/testing.md): each test below kills mutants that the tests above let live


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_requests_are_never_logged():
    """The SDK's own logger writes each request's URL, query and form fields at INFO (a credential's password too):
    the client gives it a logger that reaches no handler, whatever logging a controller or a callback sets up."""
    root = logging.getLogger()
    collect, level = _Collect(), root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        client, _ignored = client_with(ScriptedAdapter().on("GET", "/Applications.json", Reply(200, PAGE)))
        client.applications.list()
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    assert [r.getMessage() for r in collect.records if r.name.startswith(("twilio", "voip"))] == []


def test_only_slashes_are_cut_from_the_end_of_the_base_url():
    # .CX is a real top-level domain: the letters before a trailing slash are the host's.
    assert tw.build_client(account_sid=AC, auth_token=TOKEN, api_base_url="https://LAB.CX/").http_client.base_url == "https://LAB.CX"


def test_a_redirect_is_followed_only_when_asked_and_the_callers_timeout_wins():
    moved = Reply(302, None, {"Location": "https://api.ashburn.us1.twilio.com/elsewhere"})
    adapter = ScriptedAdapter().on("GET", "/Applications.json", moved, moved).on("GET", "/elsewhere", Reply(200, PAGE))
    client, _ignored = client_with(adapter)
    assert client.http_client.request("GET", APPS_URL).status_code == 302  # credentials never follow a redirect by default
    assert len(adapter.sent) == 1 and adapter.settings[0]["timeout"] == 30
    assert client.http_client.request("GET", APPS_URL, timeout=5, allow_redirects=True).status_code == 200
    assert [s[1] for s in adapter.sent[1:]] == [APPS_URL, "https://api.ashburn.us1.twilio.com/elsewhere"]
    assert adapter.settings[1]["timeout"] == 5


def test_a_5xx_on_a_read_is_sent_again_max_retries_times_with_growing_pauses():
    unavailable = Reply(503, {"code": 20503, "message": "Service Unavailable", "status": 503})
    adapter = ScriptedAdapter().on("GET", "/Applications.json", unavailable, unavailable, unavailable)  # a 4th request fails the test
    client, sleep = client_with(adapter, retries=2)
    with pytest.raises(TwilioException):
        client.applications.list()
    assert len(adapter.sent) == 3
    assert len(sleep.delays) == 2 and all(0.25 * 2**n <= d <= 0.5 * 2**n for n, d in enumerate(sleep.delays))


def test_without_the_twilio_library_the_factory_says_what_to_install(monkeypatch):
    monkeypatch.setattr(tw, "HAS_TWILIO", False)
    with pytest.raises(RuntimeError) as err:
        tw.build_client(account_sid=AC, auth_token=TOKEN)
    assert str(err.value) == "the Python library 'twilio' is required"


class _StatusOnly(Exception):
    status = 500


def test_an_error_with_a_status_but_no_problem_title_is_described_as_any_other():
    assert _described(_StatusOnly("boom")) == (
        "Twilio call failed: boom",
        {"status": None, "code": None, "more_info": None, "method": None, "url": None},
    )
