"""threecx_trunk in-process against scripted XAPI replies."""

import copy
import json

import pytest
import requests

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_trunk
from tests.unit.plugins.fakes import Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "trunk-test-client-secret"
PASSWORD = "Sip-Passw0rd-Never-Shown"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
NAME = "Twilio SIP Domain Trunk"
FQDN = "acme.sip.us1.twilio.com"
TEMPLATE = "twilio.pv.xml"

PARAMS = [
    {"Id": 103, "Name": "RequestLineURIUser"},
    {"Id": 141, "Name": "FromUserPart"},
    {"Id": 121, "Name": "RemotePartyIDCallingPartyUserPart"},
    {"Id": 101, "Name": "PAssertedIdentityUserPart"},
    {"Id": 139, "Name": "PAssertedIdentityHostPart"},
    {"Id": 152, "Name": "PPreferredIdentityUserPart"},
]
VALUES = [{"Id": 30, "Name": "OriginatorCallerId"}, {"Id": 15, "Name": "OutboundCallerId"}, {"Id": 12, "Name": "CalledNum"}]
CODECS = [
    {"Id": 3, "Name": "G.711 u-law", "RfcName": "PCMU"},
    {"Id": 6, "Name": "G.711 A-law", "RfcName": "PCMA"},
    {"Id": 9, "Name": "G.729", "RfcName": "G729"},
]
CID = [{"ParamId": p, "ValueId": 30, "Custom": ""} for p in (141, 121, 101, 152)]
TEMPLATE_PARAMS = [
    {"ParamId": 103, "ValueId": 12, "Custom": ""},
    {"ParamId": 141, "ValueId": 15, "Custom": ""},
    {"ParamId": 101, "ValueId": 15, "Custom": ""},
]

SKELETON = {
    "@odata.context": "https://pbx.test:5001/xapi/v1/$metadata#Pbx.Trunk",
    "Number": "10000",
    "AuthID": "",
    "AuthPassword": {"Concealed": False},
    "DidNumbers": [],
    "Direction": "Both",
    "E164ProcessIncomingNumber": True,
    "OutboundCallerID": "",
    "SimultaneousCalls": 10,
    "TransportRestriction": "Any",
    "Gateway": {
        "Name": "Generic SIP Trunk",
        "Host": "",
        "Port": 5060,
        "ProxyHost": "",
        "ProxyPort": 5060,
        "RequireRegistrationFor": "Nothing",
        "Codecs": ["PCMU", "PCMA", "G729"],
        "OutboundParams": TEMPLATE_PARAMS,
        "TemplateFilename": TEMPLATE,
        "Type": "Provider",
    },
}


def trunk(**changes):
    """A converged trunk as GET /Trunks lists it."""
    body = copy.deepcopy(SKELETON)
    body.pop("@odata.context")
    body.update(Id=7, DidNumbers=["+14155550100", "+14155550101"], E164ProcessIncomingNumber=False, TransportRestriction="UDP")
    body["AuthPassword"] = {"Concealed": False}
    body["Gateway"].update(
        Name=NAME,
        Host=FQDN,
        ProxyHost=FQDN,
        OutboundParams=[TEMPLATE_PARAMS[0]] + CID,
    )
    for key, value in changes.items():
        if key.startswith("Gateway_"):
            body["Gateway"][key[len("Gateway_") :]] = value
        else:
            body[key] = value
    return body


WANT = dict(
    name=NAME, template=TEMPLATE, registrar=FQDN, authentication="ip_based", did_numbers=["+14155550101", "+14155550100"], caller_id_passthrough=True
)


def wanted(**overrides):
    """WANT with some options replaced."""
    merged = dict(WANT)
    merged.update(overrides)
    return merged


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    adapter = ScriptedAdapter().always("POST", "/connect/token", Reply(200, {"access_token": "tok", "expires_in": 3600}))
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        kwargs["session"] = session_with(adapter)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path))
        kwargs["retry"] = _threecx.RetryPolicy(max_retries=kwargs["retry"].max_retries, sleep=lambda _s: None)
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return adapter


def pbx_with(adapter, trunks=(), params=None, version="20.0.10.100"):
    params = PARAMS if params is None else params
    adapter.always("GET", "/Defs/GatewayParameters", Reply(200, {"value": params}))
    adapter.always("GET", "/Defs/GatewayParameterValues", Reply(200, {"value": VALUES}))
    adapter.always("GET", "/Defs/Codecs", Reply(200, {"value": CODECS}))
    adapter.always("GET", "/Defs/Pbx.GetSystemParameters()", Reply(200, {"Version": version}))
    adapter.always("GET", "/TrunkTemplates('%s')" % TEMPLATE, Reply(200, {"Id": TEMPLATE, "Name": "t"}))
    adapter.always("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')", Reply(200, {"Id": "GenericSIPTrunk.pv.xml", "Name": "g"}))
    adapter.always("GET", "/Trunks/Pbx.InitTrunk(template=", Reply(200, SKELETON))
    adapter.always("GET", "/xapi/v1/Trunks", Reply(200, {"value": list(trunks)}))
    return adapter


def run(monkeypatch, **args):
    return run_module(threecx_trunk.main, dict(CONN, **args), monkeypatch)


def writes(adapter):
    return [
        (m, requests.utils.unquote(u.split("/xapi/v1")[1]), json.loads(b) if b else None)
        for m, u, _ignored, b in adapter.sent
        if "/xapi/v1" in u and m != "GET"
    ]


def no_secrets(result):
    text = json.dumps(result)
    assert PASSWORD not in text and SECRET not in text


def created_echo(body):
    made = copy.deepcopy(body)
    made["Id"] = 7
    made["AuthPassword"] = {"Concealed": "AuthPassword" in body}
    return made


# --------------------------------------------------------------------------- create


def test_create_from_the_skeleton_with_only_the_users_fields_laid_over(pbx, monkeypatch):
    pbx_with(pbx)
    pbx.on("POST", "/Trunks", Reply(201, created_echo(trunk())))
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit", result
    assert result["changed"] is True and result["msg"] == "trunk %s created" % NAME
    [(method, path, body)] = writes(pbx)
    assert (method, path) == ("POST", "/Trunks")
    assert "Id" not in body and "AuthPassword" not in body and "@odata.context" not in body
    assert body["Number"] == "10000" and body["Direction"] == "Both"  # skeleton kept
    gw = body["Gateway"]
    assert gw["Name"] == NAME and gw["Host"] == FQDN and gw["ProxyHost"] == FQDN
    assert gw["Port"] == 5060 and gw["ProxyPort"] == 5060
    assert gw["RequireRegistrationFor"] == "Nothing" and body["AuthID"] == ""
    assert gw["TemplateFilename"] == TEMPLATE and gw["Type"] == "Provider"
    assert body["TransportRestriction"] == "UDP"
    assert body["E164ProcessIncomingNumber"] is False
    assert sorted(body["DidNumbers"]) == ["+14155550100", "+14155550101"]
    # the template's other bindings stay; the four caller-ID parts are bound to OriginatorCallerId
    assert gw["OutboundParams"] == [TEMPLATE_PARAMS[0]] + CID
    assert result["trunk"]["caller_id_passthrough"] is True
    assert result["trunk"]["authentication"] == "ip_based"
    assert result["trunk"]["id"] == 7  # from the PBX's reply
    # the template was looked up before InitTrunk
    gets = [requests.utils.unquote(u.split("/xapi/v1")[1]) for m, u, _ignored, _b in pbx.sent if m == "GET" and "/xapi/v1" in u]
    assert gets.index("/TrunkTemplates('twilio.pv.xml')") < gets.index("/Trunks/Pbx.InitTrunk(template='twilio.pv.xml')")


def test_create_in_check_mode_predicts_and_writes_nothing(pbx, monkeypatch):
    pbx_with(pbx)
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **WANT)
    assert kind == "exit" and check["changed"] is True
    assert writes(pbx) == []
    assert check["trunk"]["number"] == "10000"
    assert check["trunk"]["registrar"] == FQDN
    assert check["diff"]["before"] == {"state": "absent"}
    assert check["diff"]["after"]["state"] == "present"
    assert check["diff"]["after"]["caller_id_passthrough"] is True and check["diff"]["after"]["authentication"] == "ip_based"
    assert "outbound_params" not in check["diff"]["after"]
    pbx.on("POST", "/Trunks", Reply(201, None))
    kind, real = run(monkeypatch, _ansible_diff=True, **WANT)
    assert real["changed"] is True
    assert real["diff"] == check["diff"]
    assert real["trunk"] == check["trunk"]


def test_create_with_credentials_sends_the_password_once_and_never_returns_it(pbx, monkeypatch):
    pbx_with(pbx)
    pbx.on("POST", "/Trunks", Reply(201, None))
    args = wanted(authentication="credentials", auth_id="pbx1", auth_password=PASSWORD, transport="TLS", port=5061)
    kind, result = run(monkeypatch, _ansible_diff=True, **args)
    assert kind == "exit", result
    [(_m, _p, body)] = writes(pbx)
    assert body["AuthPassword"] == {"Value": PASSWORD}
    assert body["AuthID"] == "pbx1" and body["Gateway"]["RequireRegistrationFor"] == "InOutCalls"
    assert body["TransportRestriction"] == "TLS" and body["Gateway"]["Port"] == 5061 and body["Gateway"]["ProxyPort"] == 5061
    assert result["diff"]["after"]["auth_password"] == "********"
    assert result["trunk"]["authentication"] == "credentials"
    assert "auth_password" not in result["trunk"]
    no_secrets(result)


def test_create_uses_generic_sip_trunk_by_default_and_a_separate_proxy(pbx, monkeypatch):
    pbx_with(pbx)
    pbx.on("POST", "/Trunks", Reply(201, None))
    kind, result = run(
        monkeypatch,
        name=NAME,
        registrar=FQDN,
        outbound_proxy="proxy.example.com",
        proxy_port=5080,
        simultaneous_calls=4,
        outbound_caller_id="+14155550100",
        codecs=["pcmu"],
    )
    assert kind == "exit", result
    assert any("InitTrunk(template='GenericSIPTrunk.pv.xml')" in requests.utils.unquote(s[1]) for s in pbx.sent)
    [(_m, _p, body)] = writes(pbx)
    assert body["Gateway"]["ProxyHost"] == "proxy.example.com" and body["Gateway"]["ProxyPort"] == 5080
    assert body["SimultaneousCalls"] == 4 and body["OutboundCallerID"] == "+14155550100"
    assert body["Gateway"]["Codecs"] == ["PCMU"]
    # caller_id_passthrough unset: the template's bindings are sent untouched
    assert body["Gateway"]["OutboundParams"] == TEMPLATE_PARAMS
    assert "caller_id_passthrough" not in result["trunk"]


# --------------------------------------------------------------------------- no-op, update, adoption


def test_converged_trunk_sends_only_reads(pbx, monkeypatch):
    pbx_with(pbx, [trunk(), {"Id": 8, "Gateway": {"Name": "Other"}}])
    kind, result = run(monkeypatch, _ansible_diff=True, **WANT)
    assert kind == "exit" and result["changed"] is False, result
    assert writes(pbx) == []
    assert result["diff"] == {"before": {}, "after": {}}
    assert result["trunk"]["id"] == 7 and result["trunk"]["caller_id_passthrough"] is True
    # an existing trunk is never re-initialised
    assert not [s for s in pbx.sent if "InitTrunk" in s[1]]


def test_converged_in_check_mode(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    kind, result = run(monkeypatch, _ansible_check_mode=True, **WANT)
    assert result["changed"] is False and writes(pbx) == []


def test_did_order_and_host_case_are_not_changes(pbx, monkeypatch):
    pbx_with(pbx, [trunk(DidNumbers=["+14155550101", "+14155550100"], Gateway_Host=FQDN.upper())])
    kind, result = run(monkeypatch, **WANT)
    assert result["changed"] is False and writes(pbx) == []


@pytest.mark.parametrize(
    "args,patch",
    [
        (dict(registrar="other.sip.ie1.twilio.com"), {"Gateway": {"Host": "other.sip.ie1.twilio.com", "ProxyHost": "other.sip.ie1.twilio.com"}}),
        (dict(port=5062), {"Gateway": {"Port": 5062, "ProxyPort": 5062}}),
        (dict(outbound_proxy=""), {"Gateway": {"ProxyHost": ""}}),
        (dict(transport="TCP"), {"TransportRestriction": "TCP"}),
        (dict(did_numbers=["+14155550100"]), {"DidNumbers": ["+14155550100"]}),
        (dict(did_numbers=[]), {"DidNumbers": []}),
        (dict(simultaneous_calls=3), {"SimultaneousCalls": 3}),
        (dict(outbound_caller_id="+14155550109"), {"OutboundCallerID": "+14155550109"}),
        (dict(e164_process_incoming=True), {"E164ProcessIncomingNumber": True}),
        (dict(codecs=["PCMA", "PCMU"]), {"Gateway": {"Codecs": ["PCMA", "PCMU"]}}),
    ],
)
def test_update_sends_only_the_changed_fields(pbx, monkeypatch, args, patch):
    pbx_with(pbx, [trunk()])
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    kind, result = run(monkeypatch, _ansible_diff=True, **wanted(**args))
    assert kind == "exit" and result["changed"] is True, result
    assert writes(pbx) == [("PATCH", "/Trunks(7)", patch)]
    assert set(result["diff"]["after"]) <= set(args) | {"outbound_proxy", "proxy_port"}


def test_update_in_check_mode_predicts_the_same(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    args = wanted(registrar="other.sip.ie1.twilio.com")
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **args)
    assert check["changed"] is True and writes(pbx) == []
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    kind, real = run(monkeypatch, _ansible_diff=True, **args)
    assert real["diff"] == check["diff"] and real["trunk"] == check["trunk"]
    assert real["diff"]["before"]["registrar"] == FQDN


def test_adoption_merges_caller_id_bindings_keeping_the_others(pbx, monkeypatch):
    made_by_hand = trunk(
        Gateway_OutboundParams=TEMPLATE_PARAMS + [{"ParamId": 139, "ValueId": 15, "Custom": ""}], Gateway_TemplateFilename="GenericSIPTrunk.pv.xml"
    )
    pbx_with(pbx, [made_by_hand])
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    args = dict(WANT)
    args.pop("template")
    kind, result = run(monkeypatch, **args)
    assert kind == "exit", result
    [(_m, _p, body)] = writes(pbx)
    sent = body["Gateway"]["OutboundParams"]
    assert list(body) == ["Gateway"] and list(body["Gateway"]) == ["OutboundParams"]
    assert {"ParamId": 103, "ValueId": 12, "Custom": ""} in sent
    assert {"ParamId": 139, "ValueId": 15, "Custom": ""} in sent
    for binding in CID:
        assert binding in sent
    assert {"ParamId": 141, "ValueId": 15, "Custom": ""} not in sent
    assert len(sent) == 6


def test_caller_id_passthrough_false_removes_only_those_bindings(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    kind, result = run(monkeypatch, _ansible_diff=True, **wanted(caller_id_passthrough=False))
    [(_m, _p, body)] = writes(pbx)
    assert body == {"Gateway": {"OutboundParams": [TEMPLATE_PARAMS[0]]}}
    assert result["trunk"]["caller_id_passthrough"] is False
    # the diff and msg speak the user's terms, not the raw binding list
    assert result["diff"] == {"before": {"caller_id_passthrough": True}, "after": {"caller_id_passthrough": False}}
    assert result["msg"] == "trunk %s updated (caller_id_passthrough)" % NAME


def test_password_on_create_is_not_compared_and_always_is_sent(pbx, monkeypatch):
    pbx_with(pbx, [trunk(AuthID="pbx1", Gateway_RequireRegistrationFor="InOutCalls", AuthPassword={"Concealed": True})])
    args = wanted(authentication="credentials", auth_id="pbx1", auth_password=PASSWORD)
    kind, result = run(monkeypatch, **args)
    assert result["changed"] is False and writes(pbx) == []
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    kind, result = run(monkeypatch, update_password="always", _ansible_diff=True, **args)
    assert result["changed"] is True
    assert writes(pbx) == [("PATCH", "/Trunks(7)", {"AuthPassword": {"Value": PASSWORD}})]
    assert result["diff"] == {"before": {"auth_password": "********"}, "after": {"auth_password": "********"}}
    no_secrets(result)


def test_switch_to_ip_based_clears_the_auth_id(pbx, monkeypatch):
    pbx_with(pbx, [trunk(AuthID="pbx1", Gateway_RequireRegistrationFor="InOutCalls")])
    pbx.on("PATCH", "/Trunks(7)", Reply(204))
    kind, result = run(monkeypatch, _ansible_diff=True, **WANT)
    assert writes(pbx) == [("PATCH", "/Trunks(7)", {"Gateway": {"RequireRegistrationFor": "Nothing"}, "AuthID": ""})]
    assert result["diff"] == {"before": {"authentication": "credentials", "auth_id": "pbx1"}, "after": {"authentication": "ip_based", "auth_id": ""}}
    assert result["msg"] == "trunk %s updated (auth_id, authentication)" % NAME


def test_options_not_set_are_not_compared(pbx, monkeypatch):
    pbx_with(pbx, [trunk(SimultaneousCalls=99, OutboundCallerID="123", Gateway_Codecs=["G729"])])
    kind, result = run(monkeypatch, name=NAME, registrar=FQDN)
    assert result["changed"] is False and writes(pbx) == []


# --------------------------------------------------------------------------- delete


def test_delete_and_delete_again(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    pbx.on("DELETE", "/Trunks(7)", Reply(204))
    kind, result = run(monkeypatch, name=NAME, state="absent", _ansible_diff=True)
    assert kind == "exit" and result["changed"] is True
    assert writes(pbx) == [("DELETE", "/Trunks(7)", None)]
    assert result["trunk"] == {} and result["diff"]["after"] == {"state": "absent"}
    pbx.rules = [r for r in pbx.rules if r[1] != "/xapi/v1/Trunks"]
    pbx.always("GET", "/xapi/v1/Trunks", Reply(200, {"value": []}))
    pbx.sent.clear()
    kind, result = run(monkeypatch, name=NAME, state="absent")
    assert result["changed"] is False and writes(pbx) == []
    assert result["msg"] == "trunk %s already absent" % NAME


def test_delete_in_check_mode(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    kind, result = run(monkeypatch, name=NAME, state="absent", _ansible_check_mode=True)
    assert result["changed"] is True and writes(pbx) == []


def test_delete_ignores_the_options_for_present(pbx, monkeypatch):
    pbx_with(pbx, [])
    kind, result = run(monkeypatch, name=NAME, state="absent", registrar="not a host")
    assert kind == "exit" and result["changed"] is False


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    "version,path",
    [("20.0.10.1", "/Trunks(Number='10000')"), ("20.0.8.1", "/Trunks(Number='10000')"), ("20.0.7.1", "/Trunks/Pbx.GetTrunkByNumber(number='10000')")],
)
def test_lost_create_reply_is_found_by_the_versions_number_key(pbx, monkeypatch, version, path):
    pbx.on("GET", "/xapi/v1/Trunks", Reply(200, {"value": []}))
    pbx_with(pbx, [], version=version)
    pbx.on("POST", "/Trunks", Reply(raise_exc=requests.exceptions.ConnectionError("Connection aborted.")))
    pbx.rules.insert(1, ["GET", path, Reply(200, trunk(Number="10000")), None])
    if version.startswith("20.0.7"):  # no Number key before 20.0.8: the PBX refuses it as a bad key
        refused = Reply(400, {"error": {"code": "400", "message": "'Number' is not a key of 'Pbx.Trunk'."}})
        pbx.rules.insert(1, ["GET", "/Trunks(Number='10000')", refused, None])
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit", result
    assert result["changed"] is True and result["trunk"]["id"] == 7
    assert [w[0] for w in writes(pbx)] == ["POST"]
    assert any(requests.utils.unquote(s[1]).endswith(path) for s in pbx.sent)


def test_lost_create_reply_falls_back_to_the_name(pbx, monkeypatch):
    pbx.on("GET", "/xapi/v1/Trunks", Reply(200, {"value": []}))
    pbx_with(pbx, [trunk()])
    pbx.rules.insert(1, ["GET", "/Trunks(Number='10000')", Reply(404, {"error": {"code": "404", "message": "no"}}), None])
    pbx.on("POST", "/Trunks", Reply(raise_exc=requests.exceptions.ConnectionError("Connection aborted.")))
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit" and result["changed"] is True and result["trunk"]["id"] == 7


def test_lost_create_that_did_not_land(pbx, monkeypatch):
    pbx_with(pbx, [])
    pbx.always("GET", "/Trunks(Number='10000')", Reply(404, {"error": {"code": "404", "message": "no"}}))
    pbx.rules.insert(1, pbx.rules.pop())
    pbx.on("POST", "/Trunks", Reply(raise_exc=requests.exceptions.ConnectionError("Connection aborted.")))
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "the next run finds it by its natural key" in result["msg"]
    assert [w[0] for w in writes(pbx)] == ["POST"]


def test_429_on_the_patch_is_retried(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    pbx.on("PATCH", "/Trunks(7)", Reply(429, {"error": {"code": "429", "message": "slow down"}}, headers={"Retry-After": "0"}), Reply(204))
    kind, result = run(monkeypatch, **wanted(transport="TCP"))
    assert kind == "exit" and result["changed"] is True
    assert [w[0] for w in writes(pbx)] == ["PATCH", "PATCH"]


# --------------------------------------------------------------------------- refusals and bad input


def test_two_trunks_with_the_name_are_refused(pbx, monkeypatch):
    pbx_with(pbx, [trunk(), trunk(Id=9)])
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "2 trunks are named" in result["msg"] and "7, 9" in result["msg"]
    assert writes(pbx) == []


def test_another_template_on_an_existing_trunk_is_refused(pbx, monkeypatch):
    pbx_with(pbx, [trunk(Gateway_TemplateFilename="GenericSIPTrunk.pv.xml")])
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "was made from the template GenericSIPTrunk.pv.xml, not twilio.pv.xml" in result["msg"]
    assert writes(pbx) == []


def test_unknown_template_lists_the_templates(pbx, monkeypatch):
    pbx.always("GET", "/TrunkTemplates('nope.pv.xml')", Reply(404, {"error": {"code": "404", "message": "no"}}))
    pbx.always("GET", "/TrunkTemplates", Reply(200, {"value": [{"Id": "GenericSIPTrunk.pv.xml"}, {"Id": TEMPLATE}]}))
    pbx_with(pbx, [])
    kind, result = run(monkeypatch, **wanted(template="nope.pv.xml"))
    assert kind == "fail"
    assert result["msg"] == "template: the PBX has no provider template 'nope.pv.xml'; it has: GenericSIPTrunk.pv.xml, twilio.pv.xml"
    assert writes(pbx) == []


def test_registrar_is_required_to_create(pbx, monkeypatch):
    pbx_with(pbx, [])
    kind, result = run(monkeypatch, name=NAME)
    assert kind == "fail" and "registrar is required to create" in result["msg"]
    assert writes(pbx) == []


def test_unknown_parameter_name_lists_the_pbx_names(pbx, monkeypatch):
    pbx_with(pbx, [])
    kind, result = run(monkeypatch, **wanted(parameter_names={"pai_user_part": "PAI"}))
    assert kind == "fail"
    assert result["msg"].startswith("parameter_names.pai_user_part: 'PAI' is not a gateway parameter")
    assert "PPreferredIdentityUserPart" in result["msg"] and "RequestLineURIUser" in result["msg"]
    assert writes(pbx) == []


def test_unresolvable_ppi_lists_the_pbx_names(pbx, monkeypatch):
    pbx_with(pbx, [], params=[p for p in PARAMS if "Preferred" not in p["Name"]])
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "P-Preferred-Identity user part" in result["msg"] and "FromUserPart" in result["msg"]
    assert writes(pbx) == []


def test_passthrough_not_asked_needs_no_catalogue(pbx, monkeypatch):
    pbx_with(pbx, [trunk()], params=[])
    args = dict(WANT)
    args.pop("caller_id_passthrough")
    kind, result = run(monkeypatch, **args)
    assert kind == "exit" and result["changed"] is False
    assert not [s for s in pbx.sent if "GatewayParameters" in s[1]]


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(registrar="acme sip.twilio.com"), "registrar must be a host name"),
        (dict(registrar="localhost"), "registrar must be a fully qualified host name"),
        (dict(outbound_proxy="-bad-.example.com"), "outbound_proxy must be a host name"),
        (dict(port=0), "port must be greater than 0"),
        (dict(port=70000), "port must be at most 65535"),
        (dict(proxy_port=-1), "proxy_port must be greater than 0"),
        (dict(did_numbers=["+1 415 555 0100"]), "did_numbers[0] must be a phone number"),
        (dict(did_numbers=["+14155550100", "12"]), "did_numbers[1] must have between 3 and 15 digits"),
        (dict(did_numbers=["+0123456"]), "did_numbers[0]: after '+' comes the country code"),
        (dict(outbound_caller_id="abc"), "outbound_caller_id must be a phone number"),
        (dict(simultaneous_calls=0), "simultaneous_calls must be greater than 0"),
        (dict(auth_id="x"), "authentication=ip_based takes no auth_id"),
        (dict(authentication="credentials", auth_id="x"), "missing: auth_password"),
        (dict(authentication="credentials", auth_id="x", auth_password=""), "auth_password must not be empty"),
        (dict(template="twilio"), "template must be a provider template file name"),
        (dict(caller_id_variable="Originator"), "caller_id_variable must be a 3CX variable"),
        (dict(codecs=["PCMU", "PCMU"]), "codecs lists PCMU twice"),
        (dict(parameter_names={"ppi_user_part": "P P I"}), "parameter_names.ppi_user_part must be the Name"),
        (dict(name=" "), "name must not be empty"),
        (dict(timeout=0), "timeout must be a positive number"),
        (dict(timeout=-1), "timeout must be a positive number"),
        (dict(transport="SCTP"), "value of transport must be one of"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **wanted(**args))
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.sent == []
    no_secrets(result)


def test_unknown_codec_lists_the_codecs(pbx, monkeypatch):
    pbx_with(pbx, [trunk()])
    kind, result = run(monkeypatch, **wanted(codecs=["OPUS"]))
    assert kind == "fail" and "OPUS not offered by this PBX" in result["msg"]
    assert writes(pbx) == []


def test_pbx_error_on_create_is_reported_without_secrets(pbx, monkeypatch):
    pbx_with(pbx, [])
    pbx.on("POST", "/Trunks", Reply(400, {"error": {"code": "400", "message": "DID +14155550100 is already on trunk 10001."}}))
    kind, result = run(monkeypatch, **wanted(authentication="credentials", auth_id="a", auth_password=PASSWORD))
    assert kind == "fail"
    assert result["msg"] == "3CX XAPI POST /Trunks failed with HTTP 400: DID +14155550100 is already on trunk 10001."
    no_secrets(result)


# --------------------------------------------------------------------------- check mode before the template exists


def test_check_mode_without_the_template_warns_and_predicts_the_create(pbx, monkeypatch):
    """A fresh PBX in a dry run: the template task before this one made nothing."""
    warned = []
    monkeypatch.setattr(threecx_trunk.ThreeCXModule, "warn", lambda self, msg: warned.append(msg))
    missing = pbx.always("GET", "/TrunkTemplates('%s')" % TEMPLATE, Reply(404, {"error": {"code": "404", "message": "no"}})).rules[-1]
    pbx.always("GET", "/TrunkTemplates", Reply(200, {"value": [{"Id": "GenericSIPTrunk.pv.xml"}]}))
    pbx_with(pbx, [])
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **WANT)
    assert kind == "exit", check
    assert check["changed"] is True and check["msg"] == "trunk %s created" % NAME
    assert warned == [
        "template: provider template 'twilio.pv.xml' does not exist on the PBX; check mode assumes that an earlier task in the same "
        "play creates it and predicts the change (a run without check mode fails if it still does not exist)"
    ]
    xapi = [(m, requests.utils.unquote(u.split("/xapi/v1")[1])) for m, u, _h, _b in pbx.sent if "/xapi/v1" in u]
    assert set(m for m, _p in xapi) == {"GET"}
    assert not [p for _m, p in xapi if "InitTrunk" in p]  # never InitTrunk of an unknown template
    assert check["trunk"]["template"] == TEMPLATE and check["trunk"]["number"] is None
    assert check["trunk"]["registrar"] == FQDN and check["trunk"]["caller_id_passthrough"] is True
    assert check["diff"]["before"] == {"state": "absent"}
    assert check["diff"]["after"]["registrar"] == FQDN and check["diff"]["after"]["caller_id_passthrough"] is True

    # Without check mode the missing template stays an error, before any write.
    warned.clear()
    kind, real = run(monkeypatch, _ansible_diff=True, **WANT)
    assert kind == "fail" and real["msg"] == "template: the PBX has no provider template 'twilio.pv.xml'; it has: GenericSIPTrunk.pv.xml"
    assert writes(pbx) == [] and warned == []

    # Once the template exists, the real run reports the change check mode predicted.
    pbx.rules.remove(missing)
    pbx.on("POST", "/Trunks", Reply(201, None))
    kind, real = run(monkeypatch, _ansible_diff=True, **WANT)
    assert kind == "exit" and real["changed"] is True and real["diff"] == check["diff"]
    assert [(m, p) for m, p, _b in writes(pbx)] == [("POST", "/Trunks")]


def test_check_mode_does_not_hide_other_errors_of_a_missing_template(pbx, monkeypatch):
    """The registrar is still required to create, in check mode too."""
    pbx.always("GET", "/TrunkTemplates('%s')" % TEMPLATE, Reply(404, {"error": {"code": "404", "message": "no"}}))
    pbx_with(pbx, [])
    kind, result = run(monkeypatch, _ansible_check_mode=True, name=NAME, template=TEMPLATE)
    assert kind == "fail" and "registrar is required to create" in result["msg"]
