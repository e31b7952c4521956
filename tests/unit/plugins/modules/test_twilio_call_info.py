"""twilio_call_info in-process against FakeTwilio's call log, and its helpers in _twilio_calls."""

import datetime
import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_calls as twcalls
from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_call_info
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, API_SECRET, TOKEN, FakeTwilio, client_for, install

CONN = {"account_sid": AC, "auth_token": TOKEN}
UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
DID = "+14155550100"
CALLER = "+17735550142"
KEYS = [
    "sid", "account_sid", "parent_call_sid", "direction", "status", "from", "from_formatted", "from_user", "to", "to_formatted", "to_user",
    "caller_name", "date_created", "start_time", "end_time", "duration", "trunk_sid",
]


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION"):
        monkeypatch.delenv(var, raising=False)
    return install(monkeypatch, FakeTwilio())


def run(monkeypatch, **args):
    return run_module(twilio_call_info.main, dict(CONN, **args), monkeypatch)


def list_queries(fake):
    return [q for m, p, q in fake.queries if m == "GET" and p.endswith("/Calls.json")]


def minutes(n):
    return datetime.timedelta(minutes=n)


@pytest.mark.parametrize("check_mode", [False, True])
def test_lists_newest_first_with_every_field(fake, monkeypatch, check_mode):
    old = fake.add_call("+15550001111", DID, T0 - minutes(30), status="busy")
    new = fake.add_call("sip:%s@203.0.113.10;transport=udp" % CALLER, "sip:%s@acme.sip.ie1.twilio.com" % DID, T0)
    mid = fake.add_call(CALLER, DID, T0 - minutes(5), status="no-answer")
    kind, res = run(monkeypatch, region="ie1", _ansible_check_mode=check_mode)
    assert kind == "exit" and res["changed"] is False
    assert [c["sid"] for c in res["calls"]] == [new["sid"], mid["sid"], old["sid"]]
    first = res["calls"][0]
    assert list(first) == KEYS
    assert first["from"] == "sip:+17735550142@203.0.113.10;transport=udp" and first["from_user"] == CALLER
    assert first["to_user"] == DID and first["account_sid"] == AC and first["direction"] == "inbound"
    assert first["date_created"] == "Thu, 26 Nov 2026 15:00:00 +0000"
    assert first["start_time"] == "Thu, 26 Nov 2026 15:00:00 +0000" and first["end_time"] == "Thu, 26 Nov 2026 15:00:12 +0000"
    assert first["duration"] == "12" and first["trunk_sid"] is None
    unanswered = res["calls"][1]
    assert unanswered["from_user"] == CALLER and unanswered["status"] == "no-answer"
    assert unanswered["start_time"] is None and unanswered["end_time"] is None and unanswered["date_created"] == "Thu, 26 Nov 2026 14:55:00 +0000"
    # One GET of the list, nothing else; the default limit is one page of 20.
    assert [(m, p) for m, _h, p, _f in fake.sent] == [("GET", "/2010-04-01/Accounts/%s/Calls.json" % AC)]
    assert list_queries(fake) == [{"PageSize": ["20"]}]
    assert {h for _m, h, _p, _f in fake.sent} == {"api.dublin.ie1.twilio.com"}
    assert TOKEN not in json.dumps(res)


def test_no_secret_in_the_result_with_an_api_key(fake, monkeypatch):
    fake.add_call(CALLER, DID, T0)
    args = {"account_sid": AC, "api_key": "SK" + "2" * 32, "api_secret": API_SECRET}
    kind, res = run_module(twilio_call_info.main, args, monkeypatch)
    assert kind == "exit" and len(res["calls"]) == 1
    assert API_SECRET not in json.dumps(res) and TOKEN not in json.dumps(res)


def test_filters_are_sent_to_twilio_as_given(fake, monkeypatch):
    wanted = fake.add_call(CALLER, DID, T0 - minutes(1), status="completed")
    fake.add_call(CALLER, DID, T0, status="busy")
    fake.add_call(CALLER, "+14155550199", T0 - minutes(2))
    fake.add_call("+15550001111", DID, T0 - minutes(3))
    kind, res = run(monkeypatch, to=DID, status="completed", limit=5, **{"from": CALLER})
    assert kind == "exit" and [c["sid"] for c in res["calls"]] == [wanted["sid"]]
    assert list_queries(fake) == [{"To": [DID], "From": [CALLER], "Status": ["completed"], "PageSize": ["5"]}]
    kind, res = run(monkeypatch, to="sip:%s@acme.sip.twilio.com" % DID)
    assert kind == "exit" and res["calls"] == []
    assert list_queries(fake)[-1] == {"To": ["sip:%s@acme.sip.twilio.com" % DID], "PageSize": ["20"]}


def test_created_after_filters_client_side_and_stops_paging_at_the_first_older_call(fake, monkeypatch):
    for n in range(200):
        fake.add_call(CALLER, DID, T0 - minutes(n))
    # Calls at T0, T0-1min, ..., T0-54min are at or after the cutoff: 55 calls, the last one exactly on it.
    kind, res = run(monkeypatch, created_after="2026-11-26T14:06:00Z", limit=1000)
    assert kind == "exit" and len(res["calls"]) == 55
    assert res["calls"][0]["date_created"] == "Thu, 26 Nov 2026 15:00:00 +0000"
    assert res["calls"][-1]["date_created"] == "Thu, 26 Nov 2026 14:06:00 +0000"
    # Pages of 50: the second page holds the first older call, so there is no third request (of four).
    queries = list_queries(fake)
    assert len(queries) == 2 and queries[0]["PageSize"] == ["50"]
    assert not any(key.startswith(("StartTime", "EndTime")) for q in queries for key in q)
    assert fake.writes() == []


@pytest.mark.parametrize(
    "value",
    ["2026-11-26T14:06:00Z", "2026-11-26T15:06:00+01:00", "2026-11-26T09:06:00-0500", "2026-11-26 14:06:00+00:00", "2026-11-26T14:05:59.500000Z"],
)
def test_created_after_accepts_iso_8601_forms_with_any_time_zone(fake, monkeypatch, value):
    for n in range(60):
        fake.add_call(CALLER, DID, T0 - minutes(n))
    kind, res = run(monkeypatch, created_after=value, limit=100)
    assert kind == "exit" and len(res["calls"]) == 55


def test_created_after_with_nothing_new_reads_one_page(fake, monkeypatch):
    for n in range(120):
        fake.add_call(CALLER, DID, T0 - minutes(n))
    kind, res = run(monkeypatch, created_after="2026-11-26T15:00:01Z", limit=1000)
    assert kind == "exit" and res["calls"] == [] and len(list_queries(fake)) == 1


def test_limit_bounds_the_calls_and_the_page_size(fake, monkeypatch):
    made = [fake.add_call(CALLER, DID, T0 - minutes(n)) for n in range(70)]
    kind, res = run(monkeypatch, limit=7)
    assert kind == "exit" and [c["sid"] for c in res["calls"]] == [m["sid"] for m in made[:7]]
    assert list_queries(fake) == [{"PageSize": ["7"]}]
    fake.queries.clear()
    kind, res = run(monkeypatch, limit=60)
    assert [c["sid"] for c in res["calls"]] == [m["sid"] for m in made[:60]]
    assert [q["PageSize"] for q in list_queries(fake)] == [["50"], ["50"]]
    fake.queries.clear()
    kind, res = run(monkeypatch, limit=1000)
    assert len(res["calls"]) == 70 and len(list_queries(fake)) == 2


@pytest.mark.parametrize("check_mode", [False, True])
def test_one_call_by_sid(fake, monkeypatch, check_mode):
    fake.add_call(CALLER, DID, T0)
    call = fake.add_call("sips:%s@203.0.113.10:5061" % CALLER, DID, T0 - minutes(1), status="failed")
    kind, res = run(monkeypatch, sid=call["sid"], limit=1, _ansible_check_mode=check_mode)
    assert kind == "exit" and res["changed"] is False
    (one,) = res["calls"]
    assert one["sid"] == call["sid"] and one["from_user"] == CALLER and one["status"] == "failed" and list(one) == KEYS
    assert [(m, p) for m, _h, p, _f in fake.sent] == [("GET", "/2010-04-01/Accounts/%s/Calls/%s.json" % (AC, call["sid"]))]


def test_unknown_sid_fails_naming_it(fake, monkeypatch):
    sid = "CA" + "0" * 32
    kind, res = run(monkeypatch, sid=sid, region="au1")
    assert kind == "fail" and sid in res["msg"] and "404" in res["msg"] and AC in res["msg"] and "AU1" in res["msg"]
    assert len(fake.sent) == 1 and TOKEN not in json.dumps(res)


def test_a_twilio_error_fails_with_its_message_and_no_secret(fake, monkeypatch):
    fake.fault("GET", r"/Calls\.json$", "status", status=401)
    kind, res = run(monkeypatch, max_retries=0)
    assert kind == "fail" and "HTTP 401" in res["msg"] and res["error"]["status"] == 401
    assert TOKEN not in json.dumps(res)


@pytest.mark.parametrize(
    "args,fragments",
    [
        (dict(sid="CA" + "0" * 32, to=DID), ["mutually exclusive", "sid", "to"]),
        ({"sid": "CA" + "0" * 32, "from": CALLER}, ["mutually exclusive", "sid", "from"]),
        (dict(sid="CA" + "0" * 32, status="completed"), ["mutually exclusive", "sid", "status"]),
        (dict(sid="CA" + "0" * 32, created_after="2026-11-26T15:00:00Z"), ["mutually exclusive", "sid", "created_after"]),
        (dict(sid="SD" + "0" * 32), ["sid must be a Twilio SID starting with CA", "'SD000"]),
        (dict(sid="CA1234"), ["sid must be a Twilio SID starting with CA", "'CA1234'"]),
        (dict(created_after="2026-11-26"), ["created_after must be an ISO 8601 date and time with a time zone", "'2026-11-26'", "2026-11-26T15:00:00Z"]),
        (dict(created_after="2026-11-26T15:00:00"), ["created_after must be an ISO 8601", "'2026-11-26T15:00:00'"]),
        (dict(created_after="yesterday"), ["created_after must be an ISO 8601", "'yesterday'"]),
        (dict(created_after="2026-13-01T00:00:00Z"), ["created_after must be an ISO 8601", "'2026-13-01T00:00:00Z'", "not a valid date"]),
        (dict(created_after="2026-11-26T15:00:00+24:00"), ["created_after must be an ISO 8601", "offset +24:00 is out of range"]),
        (dict(limit=0), ["limit must be greater than 0"]),
        (dict(limit=1001), ["limit must be at most 1000"]),
        (dict(status="answered"), ["status", "answered"]),
    ],
)
def test_bad_input_fails_before_any_request(fake, monkeypatch, args, fragments):
    kind, res = run(monkeypatch, **args)
    assert kind == "fail" and fake.sent == []
    for fragment in fragments:
        assert fragment in res["msg"]


# ---- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,user",
    [
        ("sip:+17735550142@203.0.113.10;transport=udp", "+17735550142"),
        ("sip:+17735550142@203.0.113.10", "+17735550142"),
        ("sips:+17735550142@acme.sip.us1.twilio.com:5061;transport=tls", "+17735550142"),
        ("SIP:+17735550142@203.0.113.10", "+17735550142"),
        ("sip:17735550142@203.0.113.10:5060", "17735550142"),
        ("sip:alice@example.com", "alice"),
        ("sip:+17735550142;npdi;rn=+17735550000@203.0.113.10;user=phone", "+17735550142"),
        ("sip:acme:secret@203.0.113.10", "acme"),
        ("sip:%2B17735550142@203.0.113.10", "+17735550142"),
        ("<sip:+17735550142@203.0.113.10>;tag=abc", "+17735550142"),
        ('"ACME" <sip:+17735550142@203.0.113.10>', "+17735550142"),
        ("sip:203.0.113.10", None),
        ("sip:@203.0.113.10", None),
        ("+17735550142", "+17735550142"),
        ("17735550142", "17735550142"),
        ("client:alice", "client:alice"),
        ("anonymous", "anonymous"),
        ("", ""),
        (None, None),
    ],
)
def test_sip_user_takes_the_user_part_of_sip_uris_only(value, user):
    assert twcalls.sip_user(value) == user


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2026-11-26T15:00:00Z", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26t15:00:00z", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26T15:00Z", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26T16:30:00+01:30", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26T10:00:00-0500", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26T19:00:00+04", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26 15:00:00+00:00", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-26T15:00:00.123456Z", datetime.datetime(2026, 11, 26, 15, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-26T15:00:00,5Z", datetime.datetime(2026, 11, 26, 15, 0, 0, 500000, tzinfo=UTC)),
        (" 2026-11-26T15:00:00Z ", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
        ("2026-11-27T00:30:00+09:30", datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_iso_8601_with_a_time_zone(value, expected):
    got = twcalls.parse_timestamp("created_after", value)
    assert got == expected and got.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    "value", ["2026-11-26", "2026-11-26T15:00:00", "15:00:00Z", "2026-11-26T25:00:00Z", "2026-02-30T15:00:00Z", "2026-11-26T15:00:00+01:60", "now", ""]
)
def test_parse_timestamp_refuses_other_values_naming_option_and_value(value):
    with pytest.raises(ValueError) as err:
        twcalls.parse_timestamp("created_after", value)
    assert str(err.value).startswith("created_after must be an ISO 8601") and repr(value) in str(err.value)


def test_describe_call_reads_from_off_an_sdk_instance():
    fake = FakeTwilio()
    fake.add_call("sip:%s@203.0.113.10" % CALLER, DID, T0)
    (instance,) = list(client_for(fake).calls.stream(limit=5))
    described = twcalls.describe_call(instance)
    assert described["from"] == "sip:%s@203.0.113.10" % CALLER and described["from_user"] == CALLER
    assert described["date_created"] == "Thu, 26 Nov 2026 15:00:00 +0000"
    assert twcalls.describe_call({"from": CALLER, "to": DID})["from_user"] == CALLER
