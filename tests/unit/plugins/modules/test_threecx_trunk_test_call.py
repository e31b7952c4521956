"""threecx_trunk_test_call in-process against scripted XAPI replies, and its Pbx.TrunkTestResult parser."""

import json

import pytest
import requests

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_trunk_test import (
    fill_template,
    parse_trunk_test_result,
    report_message,
    sip_status_from_log,
)
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_trunk_test_call
from tests.unit.plugins.fakes import RecordingSleep, Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "test-call-client-secret"
PASSWORD = "Sip-Passw0rd-Never-Shown"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
NAME = "Twilio SIP Domain Trunk"
HOST = "acme.sip.us1.twilio.com"
CALLER = "+17735550142"
FALLBACK = "+14155550100"
ACTION = "/xapi/v1/Trunks(7)/Pbx.TestOutboundCall"
CALL = dict(trunk=NAME, caller=CALLER, destination=FALLBACK)

TWILIO_TRUNK = {
    "Id": 7,
    "Number": "10000",
    "DidNumbers": ["+12125550100"],
    "AuthPassword": {"Value": PASSWORD},
    "Gateway": {"Name": NAME, "Host": HOST, "Port": 5060, "TemplateFilename": "twilio-cid.pv.xml"},
}
# A trunk whose number is the Twilio trunk's name would be ambiguous; this one is plain.
OTHER_TRUNK = {"Id": 9, "Number": "10001", "DidNumbers": [], "Gateway": {"Name": "PSTN", "Host": "sip.carrier.example", "Port": 5060}}


def log_entry(text, second=11):
    return {"Text": text, "TimeStamp": "2025-06-02T14:03:%02d.482Z" % second}


def report(level, code, template, *params):
    return {"Level": level, "Code": code, "Template": template, "Params": [str(p) for p in params]}


def exchange(status, reason):
    return [
        log_entry("Test call through trunk 10000 (%s) to %s, caller %s" % (NAME, FALLBACK, CALLER), 10),
        log_entry("-> INVITE sip:%s@%s SIP/2.0 [CSeq 1 INVITE]" % (FALLBACK, HOST)),
        log_entry("<- SIP/2.0 100 Trying [CSeq 1 INVITE]"),
        log_entry("<- SIP/2.0 %s %s [CSeq 1 INVITE]" % (status, reason), 12),
    ]


def answered_body():
    return {
        "@odata.context": "https://pbx.test:5001/xapi/v1/$metadata#Pbx.TrunkTestResult",
        "Log": exchange(200, "OK") + [log_entry("Twilio call CA0123", 12)],
        "Reports": [
            report("Info", "TargetDomain", "Registrar {0}", HOST),
            report("Info", "OutboundCallerReady", "Caller {0}", CALLER),
            report("Info", "OutboundCallSuccessful", "The call was answered: {0} {1}", 200, "OK"),
            report("Info", "SIPMessageResponse", "{0} {1}", 200, "OK"),
        ],
    }


def refused_body():
    return {
        "Log": exchange(403, "Forbidden"),
        "Reports": [
            report("Info", "TargetDomain", "Registrar {0}", HOST),
            report("Info", "OutboundCallerReady", "Caller {0}", CALLER),
            report("Error", "OutboundCallFailed", "The call failed: {0} {1}", 403, "Forbidden"),
            report("Info", "SIPMessageResponse", "{0} {1}", 403, "Forbidden"),
        ],
    }


def no_sip_leg_body():
    return {
        "Log": [log_entry("Test call through trunk 10000 (%s) to %s, caller %s" % (NAME, FALLBACK, CALLER))],
        "Reports": [
            report("Info", "TargetDomain", "Registrar {0}", HOST),
            report("Info", "OutboundCallerReady", "Caller {0}", CALLER),
            report("Error", "SIPCallFailed", "The lab's SIP leg is not running in this process."),
        ],
    }


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    adapter = ScriptedAdapter().always("POST", "/connect/token", Reply(200, {"access_token": "tok", "expires_in": 3600}))
    adapter.always("GET", "/xapi/v1/Trunks", Reply(200, {"value": [OTHER_TRUNK, TWILIO_TRUNK]}))
    adapter.sleep = RecordingSleep()
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        kwargs["session"] = session_with(adapter)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path))
        kwargs["retry"] = _threecx.RetryPolicy(max_retries=kwargs["retry"].max_retries, sleep=adapter.sleep)
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return adapter


def run(monkeypatch, **args):
    return run_module(threecx_trunk_test_call.main, dict(CONN, **args), monkeypatch)


def actions(adapter):
    """(path, body) of every TestOutboundCall request sent."""
    return [
        (requests.utils.unquote(u.split("/xapi/v1")[1]), json.loads(b)) for m, u, _h, b in adapter.sent if m == "POST" and "TestOutboundCall" in u
    ]


def xapi_requests(adapter):
    return [(m, requests.utils.unquote(u.split("/xapi/v1")[1].split("?")[0])) for m, u, _h, _b in adapter.sent if "/xapi/v1" in u]


def assert_no_secret(result):
    text = json.dumps(result)
    assert PASSWORD not in text and SECRET not in text


# --------------------------------------------------------------------------- outcomes


def test_an_answered_call(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "exit", result
    assert result["changed"] is False
    assert result["placed"] is True and result["answered"] is True
    assert result["sip_status"] == 200 and result["sip_reason"] == "OK"
    assert result["errors"] == []
    assert result["trunk"] == {"id": 7, "number": "10000", "name": NAME, "host": HOST}
    assert result["reports"][2] == {"level": "Info", "code": "OutboundCallSuccessful", "message": "The call was answered: 200 OK"}
    assert [r["code"] for r in result["reports"]] == ["TargetDomain", "OutboundCallerReady", "OutboundCallSuccessful", "SIPMessageResponse"]
    assert result["log"][3] == {"text": "<- SIP/2.0 200 OK [CSeq 1 INVITE]", "timestamp": "2025-06-02T14:03:12.482Z"}
    assert len(result["log"]) == 5
    assert result["msg"] == "Test call through trunk %r (10000) to %s: answered, 200 OK" % (NAME, FALLBACK)
    assert actions(pbx) == [("/Trunks(7)/Pbx.TestOutboundCall", {"contact": CALLER, "destination": FALLBACK})]
    assert xapi_requests(pbx) == [("GET", "/Trunks"), ("POST", "/Trunks(7)/Pbx.TestOutboundCall")]
    assert_no_secret(result)


def test_a_refused_call_is_a_result_not_a_failure(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, refused_body()))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "exit", result
    assert result["placed"] is True and result["answered"] is False
    assert result["sip_status"] == 403 and result["sip_reason"] == "Forbidden"
    assert result["errors"] == [{"code": "OutboundCallFailed", "message": "The call failed: 403 Forbidden"}]
    assert result["changed"] is False
    assert "not answered, 403 Forbidden (OutboundCallFailed: The call failed: 403 Forbidden)" in result["msg"]
    assert_no_secret(result)


def test_no_sip_leg_has_no_sip_status(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, no_sip_leg_body()))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "exit", result
    assert result["answered"] is False
    assert result["sip_status"] is None and result["sip_reason"] is None
    assert result["errors"] == [{"code": "SIPCallFailed", "message": "The lab's SIP leg is not running in this process."}]


def test_fail_on_error_fails_an_unanswered_call_with_the_whole_result(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, refused_body()))
    kind, result = run(monkeypatch, fail_on_error=True, **CALL)
    assert kind == "fail"
    assert "not answered, 403 Forbidden" in result["msg"]
    assert result["placed"] is True and result["answered"] is False and result["sip_status"] == 403
    assert result["errors"][0]["code"] == "OutboundCallFailed"
    assert result["changed"] is False
    assert len(actions(pbx)) == 1
    assert_no_secret(result)


def test_fail_on_error_passes_an_answered_call(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    kind, result = run(monkeypatch, fail_on_error=True, **CALL)
    assert kind == "exit" and result["answered"] is True


@pytest.mark.parametrize("fail_on_error", [False, True])
def test_check_mode_resolves_the_trunk_and_places_no_call(pbx, monkeypatch, fail_on_error):
    kind, result = run(monkeypatch, _ansible_check_mode=True, fail_on_error=fail_on_error, **CALL)
    assert kind == "exit", result
    assert result["placed"] is False and result["changed"] is False
    assert result["trunk"] == {"id": 7, "number": "10000", "name": NAME, "host": HOST}
    assert result["answered"] is False and result["sip_status"] is None and result["sip_reason"] is None
    assert result["errors"] == [] and result["reports"] == [] and result["log"] == []
    assert "not placed (check mode)" in result["msg"]
    assert actions(pbx) == []
    assert xapi_requests(pbx) == [("GET", "/Trunks")]
    assert_no_secret(result)


# --------------------------------------------------------------------------- the trunk


@pytest.mark.parametrize("wanted", [NAME, "10000"])
def test_the_trunk_by_name_or_number(pbx, monkeypatch, wanted):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    kind, result = run(monkeypatch, trunk=wanted, caller=CALLER, destination=FALLBACK)
    assert kind == "exit", result
    assert result["trunk"]["id"] == 7
    assert [path for path, _body in actions(pbx)] == ["/Trunks(7)/Pbx.TestOutboundCall"]


def test_the_other_trunk_by_number(pbx, monkeypatch):
    pbx.on("POST", "Trunks(9)/Pbx.TestOutboundCall", Reply(200, refused_body()))
    kind, result = run(monkeypatch, trunk="10001", caller=CALLER, destination=FALLBACK)
    assert kind == "exit", result
    assert result["trunk"] == {"id": 9, "number": "10001", "name": "PSTN", "host": "sip.carrier.example"}


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_missing_trunk_fails_listing_the_trunks(pbx, monkeypatch, check_mode):
    kind, result = run(monkeypatch, _ansible_check_mode=check_mode, trunk="Twilio", destination=FALLBACK)
    assert kind == "fail"
    assert result["msg"] == "trunk: no trunk named or numbered 'Twilio' on the PBX; the trunks are: 'PSTN' (10001), %r (10000)" % NAME
    assert actions(pbx) == []


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(destination="+1 415 555 0100"), "destination must be a number made of digits, '*' and '#'"),
        (dict(destination="+1-415-555-0100"), "destination must be a number"),
        (dict(destination=""), "destination must be a number"),
        (dict(destination="++14155550100"), "destination must be a number"),
        (dict(destination="sip:+14155550100@acme.sip.us1.twilio.com"), "destination must be a number"),
        (dict(destination="1" * 33), "at most 32 characters"),
        (dict(caller="Alice"), "caller must be a number made of digits"),
        (dict(caller="+1 773 555 0142"), 'or "" for none'),
        (dict(timeout=0), "timeout must be a positive number"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(CALL, **args))
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.sent == []


@pytest.mark.parametrize("args", [dict(destination="*97#"), dict(destination="0044207946000"), dict(destination="+14155550100", caller="")])
def test_good_numbers_are_sent_as_given(pbx, monkeypatch, args):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    call = dict(trunk=NAME, **args)
    kind, result = run(monkeypatch, **call)
    assert kind == "exit", result
    assert actions(pbx)[0][1] == {"contact": args.get("caller", ""), "destination": args["destination"]}


def test_an_omitted_caller_sends_an_empty_contact(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    kind, result = run(monkeypatch, trunk=NAME, destination=FALLBACK)
    assert kind == "exit", result
    assert actions(pbx)[0][1] == {"contact": "", "destination": FALLBACK}


def test_required_options(pbx, monkeypatch):
    kind, result = run(monkeypatch, trunk=NAME)
    assert kind == "fail" and "destination" in result["msg"]
    assert pbx.sent == []


# --------------------------------------------------------------------------- the request is never repeated blindly


@pytest.mark.parametrize(
    "exc",
    [requests.exceptions.ConnectionError("Connection aborted."), requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)")],
)
def test_a_lost_reply_is_reported_and_never_sent_again(pbx, monkeypatch, exc):
    pbx.always("POST", "Pbx.TestOutboundCall", Reply(raise_exc=exc))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "fail"
    assert len(actions(pbx)) == 1
    assert pbx.sleep.delays == []
    msg = result["msg"]
    assert "the request was sent but its reply was lost" in msg
    assert "may or may not have placed the call" in msg and "not sent again" in msg and "second call" in msg
    assert result["error"]["method"] == "POST" and result["error"]["path"] == "/Trunks(7)/Pbx.TestOutboundCall"
    assert result["trunk"]["id"] == 7
    assert "placed" not in result
    assert_no_secret(result)


def test_a_server_error_is_not_retried(pbx, monkeypatch):
    pbx.always("POST", "Pbx.TestOutboundCall", Reply(503, {"error": {"code": "503", "message": "Service Unavailable"}}))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "fail"
    assert result["msg"] == "3CX XAPI POST /Trunks(7)/Pbx.TestOutboundCall failed with HTTP 503: Service Unavailable"
    assert len(actions(pbx)) == 1


def test_a_throttled_request_placed_nothing_and_is_retried(pbx, monkeypatch):
    pbx.on(
        "POST",
        "Pbx.TestOutboundCall",
        Reply(429, {"error": {"code": "429", "message": "slow down"}}, headers={"Retry-After": "1"}),
        Reply(200, answered_body()),
    )
    kind, result = run(monkeypatch, **CALL)
    assert kind == "exit" and result["answered"] is True
    assert len(actions(pbx)) == 2
    assert pbx.sleep.delays == [1.0]


def test_a_reply_that_is_not_a_result_fails(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, "<html>proxy error</html>"))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "fail"
    assert "not a Pbx.TrunkTestResult" in result["msg"]


def test_the_client_secret_is_not_in_the_module_arguments_it_returns(pbx, monkeypatch):
    pbx.on("POST", "Pbx.TestOutboundCall", Reply(200, answered_body()))
    kind, result = run(monkeypatch, **CALL)
    assert kind == "exit"
    assert_no_secret(result)
    assert all(SECRET not in (b or "") for m, u, _h, b in pbx.sent if "/xapi/v1" in u)


# --------------------------------------------------------------------------- the parser


def test_parse_an_answered_call():
    parsed = parse_trunk_test_result(answered_body())
    assert parsed["answered"] is True
    assert (parsed["sip_status"], parsed["sip_reason"]) == (200, "OK")
    assert parsed["errors"] == []
    assert parsed["reports"][0] == {"level": "Info", "code": "TargetDomain", "message": "Registrar %s" % HOST}
    assert parsed["log"][0]["timestamp"] == "2025-06-02T14:03:10.482Z"


def test_parse_critical_and_error_reports_are_errors_warnings_are_not():
    body = {
        "Reports": [
            report("Critical", "RegistrarIsNotSet", "The trunk has no registrar / server."),
            report("Warning", "WarnOutboundDuration", "Short call: {0} s", 1),
            report("Error", "ErrNoAuthID", "The trunk authenticates but has no authentication ID."),
        ]
    }
    parsed = parse_trunk_test_result(body)
    assert [e["code"] for e in parsed["errors"]] == ["RegistrarIsNotSet", "ErrNoAuthID"]
    assert parsed["reports"][1] == {"level": "Warning", "code": "WarnOutboundDuration", "message": "Short call: 1 s"}
    assert parsed["answered"] is False and parsed["sip_status"] is None and parsed["log"] == []


def test_parse_takes_the_status_from_the_log_without_a_sip_response_report():
    body = {
        "Log": [
            log_entry("<- SIP/2.0 100 Trying [CSeq 1 INVITE]"),
            log_entry("<- SIP/2.0 407 Proxy Authentication Required [CSeq 1 INVITE]"),
            log_entry("-> ACK sip:+14155550100@acme.sip.us1.twilio.com SIP/2.0 [CSeq 1 ACK]"),
            log_entry("<- SIP/2.0 486 Busy Here [CSeq 2 INVITE]"),
            log_entry("The SIP Domain saw From +17735550142: 486"),
        ],
        "Reports": [report("Error", "OutboundCallFailed", "The call failed")],
    }
    parsed = parse_trunk_test_result(body)
    assert (parsed["sip_status"], parsed["sip_reason"]) == (486, "Busy Here")


def test_parse_the_report_wins_over_the_log():
    body = {"Log": [log_entry("<- SIP/2.0 404 Not Found")], "Reports": [report("Info", "SIPMessageResponse", "{0} {1}", 403, "Forbidden")]}
    assert parse_trunk_test_result(body)["sip_status"] == 403


@pytest.mark.parametrize(
    "lines,expected",
    [
        (["<- SIP/2.0 100 Trying [CSeq 1 INVITE]", "<- SIP/2.0 180 Ringing [CSeq 1 INVITE]"], (None, None)),
        (["-> SIP/2.0 200 OK [CSeq 3 BYE]"], (None, None)),
        (["<- SIP/2.0 200 OK"], (200, "OK")),
        (["<- SIP/2.0 503"], (503, None)),
        (["<-SIP/2.0 480 Temporarily Unavailable [CSeq 1 INVITE]"], (480, "Temporarily Unavailable")),
        (["<- SIP/2.0 999 Nonsense"], (None, None)),
        (
            ["<- SIP/2.0 200 OK [CSeq 1 INVITE]", "-> BYE sip:x@h SIP/2.0 [CSeq 2 BYE]", "<- SIP/2.0 481 Call Does Not Exist [CSeq 2 BYE]"],
            (200, "OK"),
        ),
        (["<- SIP/2.0 407 Proxy Authentication Required [CSeq 1 INVITE]", "<- SIP/2.0 403 Forbidden [CSeq 2 INVITE]"], (403, "Forbidden")),
        (["<- SIP/2.0 486 Busy Here [CSeq 1]"], (486, "Busy Here")),
        ([], (None, None)),
    ],
)
def test_sip_status_from_log(lines, expected):
    assert sip_status_from_log([{"text": line, "timestamp": None} for line in lines]) == expected


def test_parse_tolerates_null_and_odd_fields():
    body = {
        "Log": [{"Text": None, "TimeStamp": None}, "not an entry"],
        "Reports": [
            {"Level": None, "Code": None, "Template": None, "Params": None},
            {"Level": "Error", "Code": "SIPCallFailed", "Template": "", "Params": ["no final answer"]},
            {"Level": "Info", "Code": "SIPMessageResponse", "Template": "{0} {1}", "Params": ["abc"]},
            "not a report",
        ],
    }
    parsed = parse_trunk_test_result(body)
    assert parsed["log"] == [{"text": "", "timestamp": None}]
    assert parsed["reports"][0] == {"level": None, "code": None, "message": ""}
    assert parsed["errors"] == [{"code": "SIPCallFailed", "message": "no final answer"}]
    assert parsed["sip_status"] is None


@pytest.mark.parametrize("body", [None, [], "text"])
def test_parse_refuses_what_is_not_an_object(body):
    with pytest.raises(ValueError, match="not a Pbx.TrunkTestResult"):
        parse_trunk_test_result(body)


def test_parse_an_empty_result():
    assert parse_trunk_test_result({}) == {"answered": False, "sip_status": None, "sip_reason": None, "errors": [], "reports": [], "log": []}


@pytest.mark.parametrize(
    "template,params,expected",
    [
        ("The call failed: {0} {1}", ["403", "Forbidden"], "The call failed: 403 Forbidden"),
        ("{1} before {0}", ["a", "b"], "b before a"),
        ("{0} and {2}", ["x"], "x and {2}"),
        ("no placeholders", ["x"], "no placeholders"),
        ("{0}{0}", [5], "55"),
        (None, ["x"], ""),
        ("{name} stays", [], "{name} stays"),
    ],
)
def test_fill_template(template, params, expected):
    assert fill_template(template, params) == expected


def test_report_message_falls_back_to_params_then_code():
    assert report_message({"Code": "RouteFailed", "Template": "", "Params": ["a", "b"]}) == "a b"
    assert report_message({"Code": "RouteFailed"}) == "RouteFailed"
