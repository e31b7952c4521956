"""The 3CX XAPI client: token, cache, retries, errors, OData and version handling."""

import json
import os
import stat

import pytest
from requests import exceptions as rexc

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx as t
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy
from tests.unit.plugins.fakes import RecordingSleep, Reply, ScriptedAdapter, session_with

URL = "https://pbx.example.test:5001"
SECRET = "s3cr3t-client-secret-value"


def token_reply(token="tok-1", expires_in=3600):
    return Reply(200, {"token_type": "Bearer", "expires_in": expires_in, "access_token": token, "refresh_token": None})


def make_client(adapter, cache_dir=None, clock=None, retries=3):
    sleep = RecordingSleep()
    cache = t.TokenCache(str(cache_dir), clock=clock or Clock()) if cache_dir else None
    client = t.ThreeCXClient(
        URL, "ansible", SECRET, retry=RetryPolicy(max_retries=retries, sleep=sleep), token_cache=cache, session=session_with(adapter)
    )
    return client, sleep


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_token_is_fetched_with_client_credentials_and_sent_as_bearer():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("GET", "/xapi/v1/E164Settings", Reply(200, {"Enabled": True}))
    client, _ignored = make_client(adapter)
    assert client.get("/E164Settings") == {"Enabled": True}
    method, url, headers, body = adapter.sent[0]
    assert (method, url) == ("POST", URL + "/connect/token")
    assert "grant_type=client_credentials" in body and "client_id=ansible" in body
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert adapter.sent[1][2]["Authorization"] == "Bearer tok-1"


def test_cached_token_is_shared_between_runs_and_file_is_private_and_secret_free(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("tok-A")).always("GET", "/E164Settings", Reply(200, {}))
    first, _ignored = make_client(adapter, tmp_path)
    first.get("/E164Settings")
    second, _ignored = make_client(adapter, tmp_path)
    second.get("/E164Settings")
    assert [s[0] for s in adapter.sent] == ["POST", "GET", "GET"]  # one token for both runs
    files = [p for p in tmp_path.iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    content = files[0].read_text()
    assert SECRET not in content
    assert json.loads(content)["access_token"] == "tok-A"


def test_cache_directory_is_created_private(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("GET", "/E164Settings", Reply(200, {}))
    client, _ignored = make_client(adapter, tmp_path / "cache")
    client.get("/E164Settings")
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700


def test_cached_token_is_not_reused_with_another_secret(tmp_path):
    adapter = (
        ScriptedAdapter().on("POST", "/connect/token", token_reply("tok-A"), token_reply("tok-B")).always("GET", "/E164Settings", Reply(200, {}))
    )
    client, _ignored = make_client(adapter, tmp_path)
    client.get("/E164Settings")
    other = t.ThreeCXClient(URL, "ansible", "another-secret", token_cache=t.TokenCache(str(tmp_path)), session=session_with(adapter))
    other.get("/E164Settings")
    assert adapter.sent[-1][2]["Authorization"] == "Bearer tok-B"


@pytest.mark.parametrize("expires_in", [60, 3600])
def test_expiry_trusts_the_shorter_reading_of_expires_in(tmp_path, expires_in):
    """expires_in is minutes before 20.0.9 and seconds after: read as seconds, refresh before the end."""
    clock = Clock()
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("tok-1", expires_in), token_reply("tok-2", expires_in))
    adapter.always("GET", "/E164Settings", Reply(200, {}))
    client, _ignored = make_client(adapter, tmp_path, clock=clock)
    client.get("/E164Settings")
    clock.now += expires_in - t.TOKEN_EXPIRY_MARGIN - 1
    later, _ignored = make_client(adapter, tmp_path, clock=clock)
    later.get("/E164Settings")
    assert adapter.sent[-1][2]["Authorization"] == "Bearer tok-1"
    clock.now += 2
    last, _ignored = make_client(adapter, tmp_path, clock=clock)
    last.get("/E164Settings")
    assert adapter.sent[-1][2]["Authorization"] == "Bearer tok-2"


def test_refused_token_is_replaced_once(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("old"), token_reply("new"))
    adapter.on("GET", "/E164Settings", Reply(401, None), Reply(200, {"Enabled": False}))
    client, _ignored = make_client(adapter, tmp_path)
    assert client.get("/E164Settings") == {"Enabled": False}
    assert [s[2].get("Authorization") for s in adapter.sent if s[0] == "GET"] == ["Bearer old", "Bearer new"]
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["access_token"] == "new"


def test_fresh_tokens_refused_back_off_with_jitter_for_a_bounded_time_and_name_the_other_process_first():
    """A token fetched moments ago and refused was revoked by another process's newer token for the client id."""
    adapter = ScriptedAdapter().always("POST", "/connect/token", token_reply("fresh"))
    adapter.always("GET", "/E164Settings", Reply(401, {"error": {"code": "", "message": "Unauthorized"}}))
    client, sleep = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as err:
        client.get("/E164Settings")
    text = str(err.value)
    assert err.value.status == 401 and abs(sum(sleep.delays) - t.TOKEN_CONTENTION_SECONDS) < 1e-6, sleep.delays
    assert len(set(sleep.delays)) == len(sleep.delays) and sleep.delays[1] > sleep.delays[0]  # growing, jittered
    assert "GET /E164Settings" in text and "for API client 'ansible'" in text and "Another process is using the same API client" in text
    assert "HTTP 401: Unauthorized" in text and "token_cache_dir" in text
    assert text.index("Another process") < text.index("check client_id and client_secret")
    fetches = len([s for s in adapter.sent if s[0] == "POST"])
    assert fetches == len(sleep.delays) + 1  # each wait is followed by one new token, never a burst


def test_a_cached_token_refused_is_replaced_at_once_without_waiting(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("old"), token_reply("new"))
    adapter.on("GET", "/E164Settings", Reply(200, {}), Reply(401, None), Reply(200, {"Enabled": True}))
    first, _ignored = make_client(adapter, tmp_path)
    first.get("/E164Settings")
    second, sleep = make_client(adapter, tmp_path)  # the next module run: the token comes from the cache
    assert second.get("/E164Settings") == {"Enabled": True}
    assert sleep.delays == []


def test_a_token_fight_that_ends_within_the_bound_converges():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("a"), token_reply("b"))
    adapter.on("PATCH", "/E164Settings", Reply(401, None), Reply(204))
    client, sleep = make_client(adapter)
    assert client.patch("/E164Settings", {"Enabled": False}) is None
    assert len(sleep.delays) == 1 and [s[2]["Authorization"] for s in adapter.sent if s[0] == "PATCH"] == ["Bearer a", "Bearer b"]


def test_bad_credentials_name_the_options_and_never_the_secret():
    adapter = ScriptedAdapter().on(
        "POST", "/connect/token", Reply(401, {"error": "unauthorized", "error_description": "The request requires valid user authentication."})
    )
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as err:
        client.get("/E164Settings")
    text = str(err.value)
    assert "client_id and client_secret" in text and "requires valid user authentication" in text
    assert SECRET not in text and SECRET not in repr(client)


def test_429_is_retried_after_the_servers_delay():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("PATCH", "/E164Settings", Reply(429, None, {"Retry-After": "2"}), Reply(204))
    client, sleep = make_client(adapter)
    assert client.patch("/E164Settings", {"Enabled": False}) is None
    assert sleep.delays == [2.0]


def test_429_on_a_create_is_retried_because_it_was_never_processed():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("POST", "/Queues", Reply(429, None, {"Retry-After": "0"}), Reply(201, {"Id": 5}))
    client, _ignored = make_client(adapter)
    assert client.post("/Queues", {"Name": "x"}) == {"Id": 5}


def test_5xx_is_retried_for_reads_but_not_for_creates():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/E164Settings", Reply(503), Reply(502), Reply(200, {"Enabled": True}))
    adapter.always("POST", "/Queues", Reply(503, {"error": {"code": "", "message": "busy"}}))
    client, sleep = make_client(adapter)
    assert client.get("/E164Settings") == {"Enabled": True}
    assert len(sleep.delays) == 2
    with pytest.raises(t.ThreeCXError) as err:
        client.post("/Queues", {})
    assert err.value.status == 503
    assert len([s for s in adapter.sent if s[1].endswith("/Queues")]) == 1


def test_retries_are_bounded():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).always("GET", "/E164Settings", Reply(500))
    client, sleep = make_client(adapter, retries=2)
    with pytest.raises(t.ThreeCXError):
        client.get("/E164Settings")
    assert len(sleep.delays) == 2
    assert len([s for s in adapter.sent if s[0] == "GET"]) == 3


def test_dropped_reply_to_a_create_is_reported_as_ambiguous():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("POST", "/Queues", Reply(raise_exc=rexc.ConnectionError("Connection aborted.")))
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXAmbiguousWrite):
        client.post("/Queues", {"Name": "x"})


def test_dropped_connection_on_a_read_is_retried():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/E164Settings", Reply(raise_exc=rexc.ConnectionError("Connection aborted.")), Reply(200, {}))
    client, sleep = make_client(adapter)
    assert client.get("/E164Settings") == {}
    assert len(sleep.delays) == 1


def test_odata_error_body_becomes_one_message():
    body = {
        "error": {
            "code": "400",
            "message": "Invalid value",
            "target": None,
            "details": [{"code": "x", "message": "must be boolean", "target": "Enabled"}],
        }
    }
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("PATCH", "/E164Settings", Reply(400, body))
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as err:
        client.patch("/E164Settings", {"Enabled": "yes"})
    assert str(err.value) == "3CX XAPI PATCH /E164Settings failed with HTTP 400: Invalid value (Enabled: must be boolean)"
    assert err.value.to_result()["status"] == 400


@pytest.mark.parametrize(
    "value,expected",
    [("800", "'800'"), ("O'Brien", "'O''Brien'"), ("''", "''''''"), (True, "true"), (5, "5"), (None, "null")],
)
def test_odata_literals(value, expected):
    assert t.odata_literal(value) == expected


def test_odata_query_options():
    q = t.odata_query(filter=t.odata_eq("Name", "Twilio's trunk"), select=["Id", "Name"], expand="Agents", top=50, skip=0, count=True)
    assert q == {"$filter": "Name eq 'Twilio''s trunk'", "$select": "Id,Name", "$expand": "Agents", "$top": "50", "$skip": "0", "$count": "true"}


def test_list_follows_next_link_and_skip_paging():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/Queues?%24top=2", Reply(200, {"value": [{"Id": 1}, {"Id": 2}]}))
    adapter.on("GET", "%24skip=2", Reply(200, {"value": [{"Id": 3}], "@odata.nextLink": URL + "/xapi/v1/Queues?$skiptoken=abc"}))
    adapter.on("GET", "skiptoken=abc", Reply(200, {"value": [{"Id": 4}]}))
    client, _ignored = make_client(adapter)
    assert [q["Id"] for q in client.list("/Queues", page_size=2)] == [1, 2, 3, 4]


def test_list_pages_on_the_count_when_the_pbx_cuts_silently():
    # Variant paging-silent of the lab: a page limit of the PBX's own and no nextLink. The count says more.
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/Users?%24count=true", Reply(200, {"@odata.count": 5, "value": [{"Id": 1}, {"Id": 2}]}))
    adapter.on("GET", "%24skip=2", Reply(200, {"@odata.count": 5, "value": [{"Id": 3}, {"Id": 4}]}))
    adapter.on("GET", "%24skip=4", Reply(200, {"@odata.count": 5, "value": [{"Id": 5}]}))
    client, _ignored = make_client(adapter)
    assert [u["Id"] for u in client.list("/Users")] == [1, 2, 3, 4, 5]


def test_list_in_one_page_is_one_read_and_a_pbx_without_count_is_trusted():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/Users?%24count=true", Reply(200, {"@odata.count": 2, "value": [{"Id": 1}, {"Id": 2}]}))
    adapter.on("GET", "/Groups?%24count=true", Reply(200, {"value": [{"Id": 7}]}))
    client, _ignored = make_client(adapter)
    assert len(client.list("/Users")) == 2 and len(client.list("/Groups")) == 1
    assert len([s for s in adapter.sent if s[0] == "GET"]) == 2


@pytest.mark.parametrize(
    "version,queue_path,trunk_path",
    [
        ("20.0.7.1057", "/Queues/Pbx.GetByNumber(number='800')", "/Trunks/Pbx.GetTrunkByNumber(number='10000')"),
        ("20.0.8", "/Queues(Number='800')", "/Trunks(Number='10000')"),
        ("20.0.8.1121", "/Queues(Number='800')", "/Trunks(Number='10000')"),
        ("20.0.10.512", "/Queues(Number='800')", "/Trunks(Number='10000')"),
    ],
)
def test_number_keys_follow_the_version(version, queue_path, trunk_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "/Defs/Pbx.GetSystemParameters()", Reply(200, {"Version": version}))
    client, _ignored = make_client(adapter)
    assert client.by_number_path("Queues", "800") == queue_path
    assert client.by_number_path("Trunks", "10000") == trunk_path
    assert len([s for s in adapter.sent if "GetSystemParameters" in s[1]]) == 1  # read once


def test_parse_version_rejects_garbage():
    assert t.parse_version("20.0.9") == (20, 0, 9)
    with pytest.raises(ValueError):
        t.parse_version("unknown")


def test_tls_failure_explains_ca_path():
    adapter = ScriptedAdapter().on("POST", "/connect/token", Reply(raise_exc=rexc.SSLError("certificate verify failed")))
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as err:
        client.get("/E164Settings")
    assert "ca_path" in str(err.value)


def test_verify_setting_follows_validate_certs_and_ca_path():
    assert t.ThreeCXClient(URL, "a", "b").session.verify is True
    assert t.ThreeCXClient(URL, "a", "b", ca_path="/x/ca.pem").session.verify == "/x/ca.pem"
    assert t.ThreeCXClient(URL, "a", "b", validate_certs=False, ca_path="/x").session.verify is False


def test_cache_respects_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert t.default_cache_dir() == os.path.join(str(tmp_path), "voip.threecx_twilio", "xapi-tokens")


def test_token_endpoint_cool_down_is_waited_out():
    refused = Reply(403, {"error": "access_denied", "error_description": "Too many requests"}, {"Retry-After": "5"})
    adapter = ScriptedAdapter().on("POST", "/connect/token", refused, refused, token_reply("late"))
    adapter.on("GET", "/E164Settings", Reply(200, {}))
    client, sleep = make_client(adapter)
    client.get("/E164Settings")
    assert sleep.delays == [5.0, 5.0]
    assert adapter.sent[-1][2]["Authorization"] == "Bearer late"


def test_token_endpoint_cool_down_longer_than_the_bound_names_the_other_process_before_credentials():
    refused = Reply(403, {"error": "access_denied", "error_description": "Too many token requests; try again later."})
    adapter = ScriptedAdapter().always("POST", "/connect/token", refused)
    client, sleep = make_client(adapter, retries=2)
    with pytest.raises(t.ThreeCXError) as err:
        client.get("/E164Settings")
    text = str(err.value)
    assert abs(sum(sleep.delays) - t.TOKEN_CONTENTION_SECONDS) < 1e-6 and len(sleep.delays) > 2  # bounded by time, not by max_retries
    assert text.startswith("3CX refused new tokens for API client 'ansible'") and "Too many token requests" in text
    assert text.index("Another process is using the same API client") < text.index("check client_id and client_secret")
    assert SECRET not in text


def test_a_403_elsewhere_is_not_retried():
    adapter = (
        ScriptedAdapter()
        .on("POST", "/connect/token", token_reply())
        .always("GET", "/E164Settings", Reply(403, {"error": {"code": "", "message": "Forbidden"}}))
    )
    client, sleep = make_client(adapter)
    with pytest.raises(t.ThreeCXError):
        client.get("/E164Settings")
    assert sleep.delays == []


def read_paths(adapter):
    return [s[1].split("/xapi/v1", 1)[-1] for s in adapter.sent if s[0] == "GET"]


@pytest.mark.parametrize(
    "version,exists,expected_reads",
    [
        # A current PBX answers through the Number key: one read, the version never asked.
        ("20.0.10.512", True, ["/Queues(Number='800')"]),
        # Nothing found: the version tells "no such queue" from "an older PBX".
        ("20.0.10.512", False, ["/Queues(Number='800')", "/Defs/Pbx.GetSystemParameters()"]),
        ("20.0.8", False, ["/Queues(Number='800')", "/Defs/Pbx.GetSystemParameters()"]),  # the first version with the key
        # Before 20.0.8 the Number key is refused (400), so the GetByNumber function is asked.
        ("20.0.7.1057", True, ["/Queues(Number='800')", "/Defs/Pbx.GetSystemParameters()", "/Queues/Pbx.GetByNumber(number='800')"]),
        ("20.0.7.1057", False, ["/Queues(Number='800')", "/Defs/Pbx.GetSystemParameters()", "/Queues/Pbx.GetByNumber(number='800')"]),
    ],
)
def test_get_by_number_reads_the_version_only_when_the_number_key_finds_nothing(version, exists, expected_reads):
    queue = {"Id": 7, "Number": "800"}
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    if version.startswith("20.0.7"):
        adapter.always("GET", "/Queues(Number='800')", Reply(400, {"error": {"code": "400", "message": "'Number' is not a key of 'Pbx.Queue'."}}))
    adapter.always("GET", "/Defs/Pbx.GetSystemParameters()", Reply(200, {"Version": version}))
    found = Reply(200, queue) if exists else Reply(404, {"error": {"code": "404", "message": "not found"}})
    adapter.always("GET", "/Queues(Number='800')", found)
    adapter.always("GET", "/Queues/Pbx.GetByNumber(number='800')", found)
    client, _ignored = make_client(adapter)
    assert client.get_by_number("Queues", "800") == (queue if exists else None)
    assert read_paths(adapter) == expected_reads
    # The version, once known, is not asked again; an older PBX goes straight to its function.
    del adapter.sent[:]
    client.get_by_number("Queues", "800")
    assert "/Defs/Pbx.GetSystemParameters()" not in read_paths(adapter)
    if version.startswith("20.0.7"):
        assert read_paths(adapter) == ["/Queues/Pbx.GetByNumber(number='800')"]


def test_get_by_number_does_not_hide_other_errors():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.always("GET", "/Queues(Number='800')", Reply(403, {"error": {"code": "403", "message": "Forbidden"}}))
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as caught:
        client.get_by_number("Queues", "800")
    assert caught.value.status == 403
    assert "/Defs/Pbx.GetSystemParameters()" not in read_paths(adapter)


@pytest.mark.parametrize("version", ["20.0.10.512", "20.0.8"])
def test_a_current_pbx_refusing_its_number_key_is_an_error_not_absent(version):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.always("GET", "/Queues(Number='800')", Reply(400, {"error": {"code": "400", "message": "Bad request"}}))
    adapter.always("GET", "/Defs/Pbx.GetSystemParameters()", Reply(200, {"Version": version}))
    client, _ignored = make_client(adapter)
    with pytest.raises(t.ThreeCXError) as caught:
        client.get_by_number("Queues", "800")
    assert caught.value.status == 400
    assert "GetByNumber" not in " ".join(read_paths(adapter))


# ---- a connect that never reached the PBX sent nothing: a create is retried, not called ambiguous


def refused_connect():
    """The very exception requests raises for a refused connect (a real socket to a closed port)."""
    import socket

    import requests

    with socket.socket() as probe:  # bind then close: the port is free and nobody listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        requests.post("http://127.0.0.1:%d/xapi/v1/Queues" % port, timeout=5)
    except rexc.ConnectionError as exc:
        return exc
    raise AssertionError("a closed port accepted a connection")


def connect_timeout():
    """What requests raises when the TCP connect times out (urllib3's ConnectTimeoutError, wrapped as requests does)."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

    cause = ConnectTimeoutError(None, "Connection to pbx.example.test timed out. (connect timeout=30)")
    return rexc.ConnectTimeout(MaxRetryError(None, URL + "/xapi/v1/Queues", cause))


@pytest.mark.parametrize("failure", [refused_connect, connect_timeout], ids=["refused", "connect-timeout"])
def test_a_create_whose_connect_failed_was_not_sent_and_is_retried(failure):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("POST", "/xapi/v1/Queues", Reply(raise_exc=failure()), Reply(201, {"Id": 5}))
    client, sleep = make_client(adapter)
    assert client.post("/Queues", {"Name": "x"}) == {"Id": 5}
    assert len([s for s in adapter.sent if s[1].endswith("/Queues")]) == 2 and len(sleep.delays) == 1


@pytest.mark.parametrize("failure", [refused_connect, connect_timeout], ids=["refused", "connect-timeout"])
def test_a_create_that_never_connected_is_not_reported_as_ambiguous(failure):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.always("POST", "/xapi/v1/Queues", Reply(raise_exc=failure()))
    client, sleep = make_client(adapter, retries=2)
    with pytest.raises(t.ThreeCXError) as err:
        client.post("/Queues", {"Name": "x"})
    assert not isinstance(err.value, t.ThreeCXAmbiguousWrite), "nothing reached the PBX: the create is known not to have landed"
    assert "no reply from" in str(err.value) and len(sleep.delays) == 2


def test_a_read_timeout_on_a_create_is_ambiguous_and_not_sent_again():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("POST", "/xapi/v1/Queues", Reply(raise_exc=rexc.ReadTimeout("Read timed out. (read timeout=30)")))
    client, sleep = make_client(adapter)
    with pytest.raises(t.ThreeCXAmbiguousWrite):
        client.post("/Queues", {"Name": "x"})
    assert len([s for s in adapter.sent if s[1].endswith("/Queues")]) == 1 and sleep.delays == []


# ---- every failure, word for word and field by field: the message and the error result are all a user sees

TOKEN_BODY = "client_id=ansible&client_secret=%s&grant_type=client_credentials" % SECRET
HINT = ". Check client_id and client_secret (Admin Console > Integrations > API)"


def failure(client, call, *args):
    with pytest.raises(t.ThreeCXError) as err:
        getattr(client, call)(*args)
    return type(err.value), str(err.value), err.value.to_result()


def test_the_token_request_is_exactly_the_client_credentials_form_and_is_counted():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("GET", "/E164Settings", Reply(200, {}))
    client, _ignored = make_client(adapter)
    client.get("/E164Settings")
    assert adapter.sent[0][3] == TOKEN_BODY
    assert [s[2]["Accept"] for s in adapter.sent] == ["application/json", "application/json"]
    assert client.calls == [("POST", "/connect/token", 200), ("GET", "/E164Settings", 200)]


@pytest.mark.parametrize(
    "status,body,message,code",
    [
        (401, {"error": "invalid_client", "error_description": "Unknown client"}, ": Unknown client [invalid_client]" + HINT, "invalid_client"),
        (400, {"error": "invalid_request"}, ": invalid_request" + HINT, "invalid_request"),
        (500, "upstream down", ": upstream down", None),
        (200, {"token_type": "Bearer"}, "", None),
        (200, "not a token", ": not a token", None),
    ],
    ids=["401-oauth", "400-code-only", "500-text", "200-without-token", "200-text"],
)
def test_a_refused_token_request_says_why_and_names_the_options_only_for_400_and_401(status, body, message, code):
    adapter = ScriptedAdapter().on("POST", "/connect/token", Reply(status, body))
    client, _ignored = make_client(adapter, retries=0)
    assert failure(client, "get", "/E164Settings") == (
        t.ThreeCXError,
        "3CX XAPI POST /connect/token failed with HTTP %s%s" % (status, message),
        {"status": status, "code": code, "method": "POST", "path": "/connect/token", "details": []},
    )


def test_a_token_request_that_fails_in_transit_is_sent_again():
    adapter = ScriptedAdapter().on("POST", "/connect/token", Reply(503), Reply(raise_exc=rexc.ConnectionError("Connection aborted.")), token_reply())
    adapter.on("GET", "/E164Settings", Reply(200, {}))
    client, sleep = make_client(adapter)
    assert client.get("/E164Settings") == {}
    assert len(sleep.delays) == 2 and [c[2] for c in client.calls] == [503, None, 200, 200]


@pytest.mark.parametrize("expires_in,lifetime", [(None, 60.0), ("soon", 60.0), (0, 60.0), (90, 90.0)])
def test_a_token_without_a_readable_lifetime_is_kept_60_seconds(tmp_path, expires_in, lifetime):
    reply = Reply(200, {"token_type": "Bearer", "access_token": "tok", "expires_in": expires_in})
    adapter = ScriptedAdapter().on("POST", "/connect/token", reply).on("GET", "/E164Settings", Reply(200, {}))
    client, _ignored = make_client(adapter, tmp_path, clock=Clock(1000.0))
    client.get("/E164Settings")
    entry = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert entry["expires_at"] == 1000.0 + lifetime
    assert (entry["url"], entry["client_id"]) == (URL, "ansible")


def test_the_token_cool_down_refusal_keeps_the_vendors_answer_in_its_fields():
    refused = Reply(403, {"error": "access_denied", "error_description": "Too many token requests"})
    client, _ignored = make_client(ScriptedAdapter().always("POST", "/connect/token", refused))
    client.contention_seconds = 0
    _kind, message, result = failure(client, "get", "/E164Settings")
    assert message == t.contention_message(
        "ansible", 0, "3CX refused new tokens", "3CX XAPI POST /connect/token failed with HTTP 403: Too many token requests [access_denied]"
    )
    assert result == {"status": 403, "code": "access_denied", "method": "POST", "path": "/connect/token", "details": []}


def test_the_contention_message_word_for_word():
    assert t.contention_message("ansible", 59.6, "3CX refused new tokens", "HTTP 403") == (
        "3CX refused new tokens for API client 'ansible', and 60 s of backing off did not help (HTTP 403). Another process is using "
        "the same API client: 3CX keeps one active token per client ID, so each new token revokes the one before, and runs that do "
        "not share a token cache (two controllers, or AWX jobs in their own containers) revoke each other's tokens until the PBX "
        "refuses token requests for a while. Give each controller its own API client, or let them share one token cache "
        "(token_cache_dir, or THREECX_TOKEN_CACHE_DIR, on a shared volume), and run again after the PBX's cool-down. Only if no "
        "other process uses this API client: check client_id and client_secret (Admin Console > Integrations > API)"
    )


def test_fresh_tokens_refused_past_the_bound_keep_the_request_in_the_fields():
    adapter = ScriptedAdapter().always("POST", "/connect/token", token_reply("fresh"))
    adapter.always("PATCH", "/E164Settings", Reply(401, {"error": {"code": "", "message": "Unauthorized"}}))
    client, _ignored = make_client(adapter)
    client.contention_seconds = 0
    _kind, message, result = failure(client, "patch", "/E164Settings", {"Enabled": True})
    what = "3CX XAPI PATCH /E164Settings: the PBX kept refusing tokens it had just issued"
    assert message == t.contention_message("ansible", 0, what, "3CX XAPI PATCH /E164Settings failed with HTTP 401: Unauthorized")
    assert result == {"status": 401, "code": None, "method": "PATCH", "path": "/E164Settings", "details": []}


@pytest.mark.parametrize(
    "body,message,code,details",
    [
        (
            {"error": {"code": "InvalidValue", "message": "Bad", "details": [{"message": "too long", "target": "Name"}, {"message": "no target"}, "x", {}]}},
            ": Bad [InvalidValue] (Name: too long; no target)",
            "InvalidValue",
            ["Name: too long", "no target"],
        ),
        ({"error": {"code": "409", "message": "Already exists"}}, ": Already exists", "409", []),
        ({"error": {"code": "Dup", "message": "Dup"}}, ": Dup", "Dup", []),
        ({"error": {"code": "", "message": None, "details": None}}, "", None, []),
        ({"error": "invalid_grant"}, ": invalid_grant", "invalid_grant", []),
        ({"value": []}, "", None, []),
        ("  " + "x" * 600 + "  ", ": " + "x" * 500, None, []),
        ("   ", "", None, []),
        (None, "", None, []),
    ],
    ids=["odata-details", "code-is-status", "code-is-text", "odata-empty", "oauth-code-only", "no-error", "long-text", "blank-text", "no-body"],
)
def test_every_error_body_becomes_one_line(body, message, code, details):
    assert t.error_message(409, body, "POST", "/Queues") == ("3CX XAPI POST /Queues failed with HTTP 409" + message, code, details)


def test_a_vendor_error_keeps_its_code_and_details_in_the_result():
    body = {"error": {"code": "InvalidValue", "message": "Bad", "details": [{"message": "too long", "target": "Name"}]}}
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("POST", "/Queues", Reply(400, body))
    client, _ignored = make_client(adapter)
    assert failure(client, "post", "/Queues", {"Name": "x" * 99}) == (
        t.ThreeCXError,
        "3CX XAPI POST /Queues failed with HTTP 400: Bad [InvalidValue] (Name: too long)",
        {"status": 400, "code": "InvalidValue", "method": "POST", "path": "/Queues", "details": ["Name: too long"]},
    )


def test_no_reply_and_tls_failures_word_for_word():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.always("GET", "/E164Settings", Reply(raise_exc=rexc.ConnectionError("Connection aborted.")))
    adapter.on("POST", "/Queues", Reply(raise_exc=rexc.ReadTimeout("Read timed out.")))
    adapter.on("DELETE", "/Queues(5)", Reply(raise_exc=rexc.SSLError("certificate verify failed")))
    client, sleep = make_client(adapter, retries=1)
    none = {"status": None, "code": None, "details": []}
    assert failure(client, "get", "/E164Settings") == (
        t.ThreeCXError,
        "3CX XAPI GET /E164Settings: no reply from %s (Connection aborted.)" % URL,
        dict(none, method="GET", path="/E164Settings"),
    )
    assert failure(client, "post", "/Queues", {}) == (
        t.ThreeCXAmbiguousWrite,
        "3CX XAPI POST /Queues: no reply from %s (Read timed out.)" % URL,
        dict(none, method="POST", path="/Queues"),
    )
    assert failure(client, "delete", "/Queues(5)") == (
        t.ThreeCXError,
        "TLS check of %s failed: certificate verify failed. Give the PBX's CA with ca_path, or (not recommended) validate_certs=false" % URL,
        dict(none, method="DELETE", path="/Queues(5)"),
    )
    assert len(sleep.delays) == 1  # only the read was sent again, once
    assert client.calls[1:] == [("GET", "/E164Settings", None)] * 2 + [("POST", "/Queues", None), ("DELETE", "/Queues(5)", None)]


def test_a_long_transport_error_is_cut_to_300_characters():
    assert t._short(RuntimeError("x" * 300)) == "x" * 300
    assert t._short(RuntimeError("x" * 301)) == "x" * 300 + "..."


@pytest.mark.parametrize(
    "text,refused",
    [
        ("Failed to establish a new connection: [Errno 111] Connection refused", True),
        ("HTTPSConnectionPool: Max retries exceeded (Caused by NewConnectionError('x'))", True),
        ("[Errno -2] Name or service not known", True),
        ("Connection aborted.", False),
        ("connection refused", False),
    ],
)
def test_refused_means_nothing_was_sent(text, refused):
    assert t._refused(RuntimeError(text)) is refused


def test_the_client_url_session_and_repr(tmp_path):
    client = t.ThreeCXClient(URL + "//", "ansible", SECRET, timeout=7)
    assert (client.url, client.timeout, repr(client)) == (URL, 7, "ThreeCXClient(url=%r, client_id='ansible')" % URL)
    assert t.ThreeCXClient(URL, "a", "b").timeout == 30
    given = session_with(ScriptedAdapter())
    assert t.ThreeCXClient(URL, "a", "b", session=given).session is given and given.verify is True
    pinned = session_with(ScriptedAdapter())
    t.ThreeCXClient(URL, "a", "b", ca_path="/x/ca.pem", session=pinned)
    assert pinned.verify == "/x/ca.pem"
    unverified = session_with(ScriptedAdapter())
    t.ThreeCXClient(URL, "a", "b", validate_certs=False, session=unverified)
    assert unverified.verify is False


# ---- the token cache's file rules, tested on the cache itself


def test_the_cache_directory_made_by_a_store_is_private(tmp_path):
    cache = t.TokenCache(str(tmp_path / "new" / "tokens"), clock=Clock())
    cache.store(URL, "ansible", SECRET, "tok", 3600)
    assert stat.S_IMODE((tmp_path / "new" / "tokens").stat().st_mode) == 0o700


def test_a_token_is_given_out_until_30_seconds_before_it_expires(tmp_path):
    clock = Clock(1000.0)
    cache = t.TokenCache(str(tmp_path), clock=clock)
    cache.store(URL + "/", "ansible", SECRET, "tok", 100)
    clock.now = 1000.0 + 100 - t.TOKEN_EXPIRY_MARGIN - 0.5
    assert cache.load(URL, "ansible", SECRET) == "tok"  # the URL's trailing slash does not matter
    clock.now = 1000.0 + 100 - t.TOKEN_EXPIRY_MARGIN
    assert cache.load(URL, "ansible", SECRET) is None


def test_forget_drops_only_the_token_it_was_told_about(tmp_path):
    cache = t.TokenCache(str(tmp_path), clock=Clock())
    cache.store(URL, "ansible", SECRET, "newer", 3600)
    cache.store(URL, "other", SECRET, "theirs", 3600)
    cache.forget(URL, "ansible", "older")  # another process has replaced it already: keep theirs
    assert cache.load(URL, "ansible", SECRET) == "newer"
    cache.forget(URL, "ansible", "newer")
    assert cache.load(URL, "ansible", SECRET) is None and cache.load(URL, "other", SECRET) == "theirs"
    cache.forget(URL, "other")
    assert cache.load(URL, "other", SECRET) is None
    cache.forget(URL, "other")  # nothing there: no error


def test_a_refused_token_another_process_has_replaced_is_not_fetched_again(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("A"))
    adapter.on("GET", "/E164Settings", Reply(200, {}), Reply(200, {}), Reply(401, None), Reply(200, {"Enabled": True}))
    first, _ignored = make_client(adapter, tmp_path)
    first.get("/E164Settings")
    client, _ignored = make_client(adapter, tmp_path)  # the next module run: token A comes from the cache
    client.get("/E164Settings")
    client.token_cache.store(URL, "ansible", SECRET, "B", 3600)  # another controller sharing the cache fetched B
    assert client.get("/E164Settings") == {"Enabled": True}
    assert [s[2].get("Authorization") for s in adapter.sent if s[0] == "GET"] == ["Bearer A", "Bearer A", "Bearer A", "Bearer B"]
    assert len([s for s in adapter.sent if s[0] == "POST"]) == 1


def test_the_lock_is_exclusive_private_per_client_and_lets_errors_through(tmp_path):
    import fcntl

    cache = t.TokenCache(str(tmp_path / "locks"), clock=Clock())
    mine, theirs = cache.lock(URL, "ansible"), cache.lock(URL, "other")
    assert mine.path == cache._path(URL, "ansible") + ".lock" and mine.path != theirs.path
    with pytest.raises(KeyError):
        with mine:
            assert stat.S_IMODE(os.stat(mine.path).st_mode) == 0o600
            with open(mine.path, "w") as other:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            raise KeyError("inside")
    with open(mine.path, "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on the way out


def test_a_next_link_is_read_below_the_api_prefix_with_its_blank_values():
    assert t._split_next_link(URL + "/xapi/v1/Queues?$skiptoken=abc&$filter=") == ("/Queues", {"$skiptoken": "abc", "$filter": ""})
    assert t._split_next_link("/xapi/v1/Trunks/xapi/v1x?$skip=5") == ("/Trunks/xapi/v1x", {"$skip": "5"})
    assert t._split_next_link("Queues?$skip=5") == ("Queues", {"$skip": "5"})


def test_a_full_page_without_count_or_next_link_asks_for_the_next_with_the_same_query():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "%24skip=2", Reply(200, {"value": [{"Id": 3}, {"Id": 4}]}))
    adapter.on("GET", "%24skip=4", Reply(200, {"value": []}))
    adapter.on("GET", "/Users?", Reply(200, {"value": [{"Id": 1}, {"Id": 2}]}))
    client, _ignored = make_client(adapter)
    assert [u["Id"] for u in client.list("/Users", filter="Id gt 0", page_size=2)] == [1, 2, 3, 4]
    reads = [s[1] for s in adapter.sent if s[0] == "GET"]
    assert all("%24filter=Id+gt+0" in url and "%24top=2" in url for url in reads) and len(reads) == 3


def test_a_count_short_of_the_total_reads_the_rest_with_the_same_query():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("GET", "%24skip=1", Reply(200, {"@odata.count": 2, "value": [{"Id": 2}]}))
    adapter.on("GET", "/Users?", Reply(200, {"@odata.count": 2, "value": [{"Id": 1}]}))
    client, _ignored = make_client(adapter)
    assert [u["Id"] for u in client.list("/Users", select=["Id"])] == [1, 2]
    assert all("%24select=Id" in s[1] for s in adapter.sent if s[0] == "GET")


def test_a_204_or_an_empty_body_is_none_and_a_text_body_is_text():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("PATCH", "/A", Reply(204)).on("PATCH", "/B", Reply(200, None)).on("PATCH", "/C", Reply(200, "plain"))
    adapter.on("PATCH", "/D", Reply(205, "reset"))
    client, _ignored = make_client(adapter)
    assert [client.patch(p, {}) for p in ("/A", "/B", "/C", "/D")] == [None, None, "plain", "reset"]


# ---- the survivors of the mutation run (docs/testing.md): each test below kills mutants that the tests above let live


def test_odata_false_and_query_options_given_as_text_lists_or_off():
    assert t.odata_literal(False) == "false"
    q = t.odata_query(select="Id,Name", expand=["Agents", "Members"], orderby="Name desc", count=False)
    assert q == {"$select": "Id,Name", "$expand": "Agents,Members", "$orderby": "Name desc", "$count": "false"}


def test_a_version_is_read_up_to_its_first_space_and_garbage_is_named():
    assert t.parse_version("20.0.9 (build 2) final") == (20, 0, 9)
    assert t.parse_version("  20.0.8.1121") == (20, 0, 8, 1121)
    for text in (None, "20.0", ""):
        with pytest.raises(ValueError) as err:
            t.parse_version(text)
        assert str(err.value) == "unrecognised 3CX version %r" % (text,)


def test_the_cache_lives_in_the_home_directory_without_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert t.default_cache_dir() == os.path.join(str(tmp_path), ".cache", "voip.threecx_twilio", "xapi-tokens")


def test_only_slashes_are_cut_from_the_end_of_a_pbx_url(tmp_path):
    # .CX is a real top-level domain: the letters before a trailing slash are the host's.
    assert t.ThreeCXClient("https://PBX.ACME.CX/", "a", "b").url == "https://PBX.ACME.CX"
    cache = t.TokenCache(str(tmp_path), clock=Clock())
    assert cache._path("https://PBX.ACME.CX/", "a") == cache._path("https://PBX.ACME.CX", "a") != cache._path("https://PBX.ACME.C", "a")
    cache.store("https://PBX.ACME.CX/", "ansible", SECRET, "tok", 60)
    entry = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert (entry["url"], entry["client_id"]) == ("https://PBX.ACME.CX", "ansible")  # whose token the file holds, for a person


def test_without_fcntl_the_lock_is_a_no_op(monkeypatch, tmp_path):
    monkeypatch.setattr(t, "fcntl", None)
    lock = t.TokenCache(str(tmp_path / "cache"), clock=Clock()).lock(URL, "ansible")
    with lock:
        pass
    assert not os.path.exists(lock.path)


def test_without_requests_the_client_says_what_to_install(monkeypatch):
    monkeypatch.setattr(t, "HAS_REQUESTS", False)
    with pytest.raises(RuntimeError) as err:
        t.ThreeCXClient(URL, "a", "b")
    assert str(err.value) == "the Python library 'requests' is required"


class Ceiling:
    """Stands in for the jitter: always the longest pause, so the pauses can be named."""

    @staticmethod
    def uniform(low, high):
        return high


def contended_client(contention_seconds=None):
    adapter = ScriptedAdapter().always("POST", "/connect/token", token_reply("fresh"))
    adapter.always("GET", "/E164Settings", Reply(401, None))
    sleep = RecordingSleep()
    client = t.ThreeCXClient(URL, "ansible", SECRET, retry=RetryPolicy(sleep=sleep, rng=Ceiling()), session=session_with(adapter))
    if contention_seconds is not None:
        client.contention_seconds = contention_seconds
    with pytest.raises(t.ThreeCXError):
        client.get("/E164Settings")
    return sleep.delays


def test_token_contention_pauses_grow_from_the_first_backoff_step_until_the_bound():
    assert contended_client() == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 28.5]  # 60 s in all
    assert contended_client(1.25) == [0.5, 0.75]  # less than a second left is still waited


def test_a_cool_down_of_zero_seconds_does_not_sleep():
    refused = Reply(403, {"error": "access_denied"}, {"Retry-After": "0"})
    adapter = ScriptedAdapter().on("POST", "/connect/token", refused, token_reply()).on("GET", "/E164Settings", Reply(200, {}))
    client, sleep = make_client(adapter)
    assert client.get("/E164Settings") == {} and sleep.delays == []


def test_token_refusals_keep_the_vendors_details():
    body = {"error": {"code": "invalid_grant", "message": "Bad grant", "details": [{"target": "client_secret", "message": "expired"}]}}
    client, _ignored = make_client(ScriptedAdapter().on("POST", "/connect/token", Reply(400, body)), retries=0)
    _kind, message, result = failure(client, "get", "/E164Settings")
    assert message == "3CX XAPI POST /connect/token failed with HTTP 400: Bad grant [invalid_grant] (client_secret: expired)" + HINT
    assert result["details"] == ["client_secret: expired"]
    client, _ignored = make_client(ScriptedAdapter().always("POST", "/connect/token", Reply(403, body)))
    client.contention_seconds = 0
    assert failure(client, "get", "/E164Settings")[2]["details"] == ["client_secret: expired"]


def test_the_timeout_reaches_every_request():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("POST", "/xapi/v1/Queues", Reply(201, {"Id": 1}))
    client = t.ThreeCXClient(URL, "ansible", SECRET, timeout=7, session=session_with(adapter))
    assert client.post("/Queues", {"Name": "Q"}) == {"Id": 1}
    assert [o["timeout"] for o in adapter.settings] == [7, 7] and adapter.sent[1][3] == '{"Name": "Q"}'


def test_a_post_said_to_be_idempotent_is_sent_again_after_a_lost_reply():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply())
    adapter.on("POST", "/xapi/v1/Pbx.Run", Reply(raise_exc=rexc.ReadTimeout("Read timed out.")), Reply(200, {"value": 1}))
    client, sleep = make_client(adapter)
    assert client.post("/Pbx.Run", {}, idempotent=True) == {"value": 1}
    assert len(sleep.delays) == 1


class OtherProcessCache(t.TokenCache):
    """A shared cache in which other processes keep putting new tokens: load() hands them out in turn."""

    def __init__(self, directory, tokens):
        super().__init__(directory, clock=Clock())
        self.tokens = list(tokens)

    def load(self, url, client_id, secret):
        return self.tokens.pop(0) if self.tokens else None


def test_a_second_cached_token_refused_in_a_row_is_contention_and_waited_for(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("C"))
    adapter.on("GET", "/E164Settings", Reply(401, None), Reply(401, None), Reply(200, {}))
    sleep = RecordingSleep()
    client = t.ThreeCXClient(
        URL, "ansible", SECRET, retry=RetryPolicy(sleep=sleep), token_cache=OtherProcessCache(str(tmp_path), ["A", "B"]), session=session_with(adapter)
    )
    assert client.get("/E164Settings") == {}
    assert [s[2].get("Authorization") for s in adapter.sent if s[0] == "GET"] == ["Bearer A", "Bearer B", "Bearer C"]
    assert len(sleep.delays) == 1  # A replaced at once; B refused as well: another process, so backed off


def test_the_token_lock_sits_beside_the_token_file(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("GET", "/E164Settings", Reply(200, {}))
    client, _ignored = make_client(adapter, tmp_path)
    client.get("/E164Settings")
    token_file = client.token_cache._path(URL, "ansible")
    assert sorted(os.listdir(str(tmp_path))) == sorted([os.path.basename(token_file), os.path.basename(token_file) + ".lock"])


def test_a_refused_token_leaves_the_cache_even_when_no_new_one_comes(tmp_path):
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply("A"), Reply(400, {"error": "invalid_client"}))
    adapter.on("GET", "/E164Settings", Reply(200, {}), Reply(401, None))
    first, _ignored = make_client(adapter, tmp_path, retries=0)
    first.get("/E164Settings")
    second, _ignored = make_client(adapter, tmp_path, retries=0)
    with pytest.raises(t.ThreeCXError):
        second.get("/E164Settings")
    assert second.token_cache.load(URL, "ansible", SECRET) is None  # the next run fetches a token at once


def test_a_patch_sends_its_body_and_a_list_its_query_options():
    adapter = ScriptedAdapter().on("POST", "/connect/token", token_reply()).on("PATCH", "/E164Settings", Reply(204))
    adapter.on("GET", "/Queues", Reply(200, {"value": [{"Id": 1}], "@odata.count": 1}))
    client, _ignored = make_client(adapter)
    assert client.patch("/E164Settings", {"Enabled": False}) is None
    assert adapter.sent[1][3] == '{"Enabled": false}'
    assert client.list("/Queues", expand="Agents", orderby="Name") == [{"Id": 1}]
    query = adapter.sent[2][1].split("?", 1)[1]
    assert "%24expand=Agents" in query and "%24orderby=Name" in query
    assert t.ThreeCXError("the words", status=500).message == "the words"  # what a wrapper quotes (template_write)
