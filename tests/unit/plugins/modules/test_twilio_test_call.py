"""twilio_test_call in-process against FakeTwilio (a call create that logs the call and its forwarded leg),
and the round trip's judgement in _twilio_test_call over plain dicts."""

import datetime
import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_test_call as rt
from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_test_call
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, TOKEN, FakeTwilio, install

CONN = {"account_sid": AC, "auth_token": TOKEN}
UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
CALLER = "+17735550142"  # from_number: a number of the account
DID = "+13125550199"
FALLBACK = "+14155550123"
TRUNK = "+13125550100"
ARGS = dict(CONN, from_number=CALLER, did=DID, fallback_number=FALLBACK, trunk_number=TRUNK)


class Clock:
    """time for the module: sleep() advances monotonic() and runs what the PSTN does meanwhile."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = 0
        self.on_sleep = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.sleeps += 1
        while self.on_sleep:
            self.on_sleep.pop(0)()


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION"):
        monkeypatch.delenv(var, raising=False)
    return install(monkeypatch, FakeTwilio())


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(twilio_test_call, "time", c)
    return c


def pstn(fake, status="completed", leg_from=CALLER, leg_to=FALLBACK, leg_status="completed", leg=True):
    """The call create: logs the placed call (outbound-api) and, if *leg*, the forwarded inbound call."""

    def create(form):
        placed = fake.add_call(form["From"], form["To"], T0, status=status, direction="outbound-api")
        if leg:
            fake.add_call(leg_from, leg_to, T0 + datetime.timedelta(seconds=1), status=leg_status)
        return placed

    fake.on_call_create = create


def run(monkeypatch, **args):
    return run_module(twilio_test_call.main, dict(ARGS, **args), monkeypatch)


def posts(fake):
    return [(p, f) for m, _h, p, f in fake.sent if m == "POST"]


def codes(res):
    return [d["code"] for d in res["diagnosis"]]


def test_the_round_trip_passes_when_the_forwarded_call_shows_the_calling_number(fake, clock, monkeypatch):
    pstn(fake)
    kind, res = run(monkeypatch, hang_up_after=4, ring_timeout=20)
    assert kind == "exit" and res["changed"] is False and res["placed"] is True
    assert (res["passed"], res["caller_matches"], res["from"], res["calling_number"], res["diagnosis"]) == (True, True, CALLER, CALLER, [])
    assert res["call"]["direction"] == "outbound-api" and res["forwarded"]["to_user"] == FALLBACK
    assert "Twilio saw the caller as +17735550142 (the calling number)" in res["msg"]
    ((path, form),) = posts(fake)
    assert path == "/2010-04-01/Accounts/%s/Calls.json" % AC
    assert form == {
        "To": DID, "From": CALLER, "Twiml": '<Response><Pause length="4"/><Hangup/></Response>', "Timeout": "20", "TimeLimit": "24",
    }
    assert TOKEN not in json.dumps(res)


def test_the_trunks_number_as_caller_is_the_template(fake, clock, monkeypatch):
    pstn(fake, leg_from="sip:%s@127.0.0.11" % TRUNK)
    kind, res = run(monkeypatch)
    assert kind == "exit" and res["passed"] is False and res["caller_matches"] is False and res["from"] == TRUNK
    assert codes(res) == ["caller_mismatch"]
    assert "the trunk's own number" in res["msg"] and "$OriginatorCallerId" in res["msg"]
    kind, res = run(monkeypatch, fail_on_error=True)
    assert kind == "fail" and codes(res) == ["caller_mismatch"]


def test_no_forwarded_call_names_the_outbound_rule_the_no_answer_action_and_the_acl(fake, clock, monkeypatch):
    pstn(fake, leg=False)
    kind, res = run(monkeypatch)
    assert kind == "exit" and res["passed"] is False and res["forwarded"] is None and res["caller_matches"] is None
    assert codes(res) == ["no_forwarded_call"]
    for words in ("Forward to Outside Number", "outbound rule", "DND", "IP ACL", "was answered"):
        assert words in res["msg"]
    assert clock.sleeps == 1, "the call had ended: one more look, then the verdict"


def test_a_call_twilio_could_not_place(fake, clock, monkeypatch):
    pstn(fake, status="failed", leg=False)
    kind, res = run(monkeypatch)
    assert codes(res) == ["call_failed"] and "verified caller ID" in res["msg"]


@pytest.mark.parametrize(
    "leg,wanted",
    [
        ({"leg_status": "failed"}, ["refused"]),
        ({"leg_to": FALLBACK[1:], "leg_status": "failed"}, ["number_rewritten", "refused"]),
        ({"leg_to": "sip:%s@acme.sip.twilio.com" % FALLBACK}, []),
        ({"leg_from": CALLER[1:]}, []),  # a '+' dropped on the way is the same caller
    ],
)
def test_a_refused_or_rewritten_forwarded_call(fake, clock, monkeypatch, leg, wanted):
    pstn(fake, **leg)
    kind, res = run(monkeypatch)
    assert codes(res) == wanted and res["passed"] is (not wanted)
    if "refused" in wanted:
        assert "IP ACL" in res["msg"]
    if "number_rewritten" in wanted:
        assert "E164" in res["msg"]


def test_a_forwarded_call_logged_late_is_found_and_the_wait_is_bounded(fake, clock, monkeypatch):
    pstn(fake, status="ringing", leg=False)

    def later():
        placed = next(r for r in fake.rows("calls") if r["direction"] == "outbound-api")
        placed["status"] = "completed"
        fake.add_call(CALLER, FALLBACK, T0 + datetime.timedelta(seconds=3))

    clock.on_sleep.append(later)
    kind, res = run(monkeypatch)
    assert res["passed"] is True and clock.sleeps == 1
    fake.data["calls"].clear()
    pstn(fake, status="ringing", leg=False)
    kind, res = run(monkeypatch, wait_timeout=5)
    assert res["passed"] is False and codes(res) == ["no_forwarded_call"] and clock.sleeps <= 1 + 5
    assert "the call to +13125550199 still ringing; waited 5 s" in res["msg"]


def test_check_mode_places_no_call_and_sends_nothing(fake, clock, monkeypatch):
    pstn(fake)
    kind, res = run(monkeypatch, _ansible_check_mode=True)
    assert kind == "exit" and res["skipped"] is True and res["placed"] is False and res["changed"] is False
    assert "check mode never places a call" in res["msg"]
    assert fake.sent == []


@pytest.mark.parametrize(
    "args,words",
    [
        ({"from_number": "7735550142"}, "from_number must be in full international format"),
        ({"did": "+1 312 555"}, "did must be a phone number"),
        ({"fallback_number": "+0441"}, "fallback_number"),
        ({"from_number": DID}, "from_number must differ from did"),
        ({"hang_up_after": 0}, "hang_up_after must be greater than 0"),
        ({"hang_up_after": 61}, "hang_up_after must be at most 60"),
        ({"ring_timeout": 4}, "ring_timeout must be between 5 and 600"),
        ({"wait_timeout": 601}, "wait_timeout must be at most 600"),
    ],
)
def test_bad_input_fails_before_any_request(fake, clock, monkeypatch, args, words):
    pstn(fake)
    kind, res = run(monkeypatch, **args)
    assert kind == "fail" and words in res["msg"], res["msg"]
    assert fake.sent == []


def test_a_lost_reply_is_not_sent_again(fake, clock, monkeypatch):
    pstn(fake)
    fake.fault("POST", r"/Calls\.json$", "commit_then_drop")
    kind, res = run(monkeypatch)
    assert kind == "fail" and "not sent again" in res["msg"] and "call log" in res["msg"]
    assert len(posts(fake)) == 1


# ---------------------------------------------------------------- the judgement over plain dicts


def call(sid, frm, to, direction="inbound", status="completed"):
    return {"sid": sid, "from": frm, "to": to, "direction": direction, "status": status}


def test_find_leg_prefers_the_calling_number_then_the_exact_number_then_the_earliest():
    log = [  # newest first, as Twilio lists it
        call("CA4", "+15550000004", FALLBACK),
        call("CA3", CALLER, FALLBACK),
        call("CA2", CALLER, FALLBACK),
        call("CA1", CALLER, DID, direction="outbound-api"),
        call("CA0", CALLER, "+19998887777"),
    ]
    leg, match, n = rt.find_leg(log, CALLER, FALLBACK, exclude=("CA1",))
    assert (leg["sid"], match, n) == ("CA2", "exact", 3)
    leg, match, n = rt.find_leg(log[:1], CALLER, FALLBACK)
    assert (leg["sid"], match, n) == ("CA4", "exact", 1), "another caller's call is still the leg (then: template)"
    assert rt.find_leg([call("CA9", CALLER, "004155550123")], CALLER, FALLBACK)[1] == "rewritten"
    assert rt.find_leg([call("CA9", CALLER, "+14155559999")], CALLER, FALLBACK) == (None, None, 0)


def test_judge_reports_every_failure_of_one_leg():
    placed = call("CA1", CALLER, DID, direction="outbound-api")
    leg = call("CA2", TRUNK, "14155550123", status="failed")
    out = rt.judge(placed, leg, "rewritten", CALLER, DID, FALLBACK, 2, trunk_number=TRUNK)
    assert [d["code"] for d in out["diagnosis"]] == ["number_rewritten", "refused", "caller_mismatch"]
    assert out["passed"] is False and out["from"] == TRUNK
    ok = rt.judge(placed, call("CA2", CALLER, FALLBACK), "exact", CALLER, DID, FALLBACK, 2, candidates=2)
    assert ok["passed"] is True and "2 calls to +14155550123 were logged meanwhile" in ok["msg"]


def test_same_number_compares_the_user_part_and_digits_only():
    assert rt.same_number("sip:+17735550142@203.0.113.10;transport=udp", CALLER)
    assert rt.same_number("17735550142", CALLER)
    assert not rt.same_number("anonymous", CALLER) and not rt.same_number(None, CALLER)
    assert not rt.same_number("+17735550143", CALLER)
    assert rt.hang_up_twiml(5) == '<Response><Pause length="5"/><Hangup/></Response>'
