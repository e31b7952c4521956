"""The SIP leg's pure parts: what the trunk puts into the INVITE, the rendered sipp scenario and
Kamailio configuration, the parsers of their logs, host names and the E164 model (no binaries)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from lab.sip import leg as leg_module
from lab.sip.leg import SipLeg, parse_sip_host
from lab.sip.uac import Invite, Party, final_invite_response, parse_trace, render_scenario
from lab.sip.uas import REALM, DomainAuth, parse_log, render_config
from lab.spec import DocumentStatus
from lab.threecx.app import ThreeCX
from lab.threecx.calls import TrunkCall, e164_rewrite

pytestmark = pytest.mark.lab

CALLER = "+17735550142"
TRUNK_NUMBER = "+13125550100"
FOUR = ("FromUserPart", "RemotePartyIDCallingPartyUserPart", "PAssertedIdentityUserPart", "PPreferredIdentityUserPart")


def trunk(**gateway) -> dict:
    gw = {
        "Host": "acme.sip.ie1.twilio.com",
        "Port": 5060,
        "Codecs": ["PCMU", "PCMA"],
        "RequireRegistrationFor": "Nothing",
    }
    gw.update(gateway)
    return {"Id": 7, "Number": "10000", "OutboundCallerID": TRUNK_NUMBER, "AuthID": "", "Gateway": gw}


def call(bindings: dict, **kw) -> TrunkCall:
    args = {"trunk": trunk(), "dialled": "+14155550123", "caller": CALLER, "source_ip": "127.0.0.11", "password": None}
    args.update(kw)
    return TrunkCall(bindings=bindings, **args)


def test_the_four_bindings_to_originator_carry_the_callers_number():
    invite = call({p: ("OriginatorCallerId", "") for p in FOUR}).invite()
    headers = invite.headers()
    assert invite.from_party.user == CALLER
    assert headers["P-Asserted-Identity"] == f"<sip:{CALLER}@acme.sip.ie1.twilio.com>"
    assert headers["P-Preferred-Identity"] == f"<sip:{CALLER}@acme.sip.ie1.twilio.com>"
    assert headers["Remote-Party-ID"].startswith(f"<sip:{CALLER}@") and ";party=calling" in headers["Remote-Party-ID"]
    assert invite.request_uri() == "sip:+14155550123@acme.sip.ie1.twilio.com"
    assert invite.auth_user is None


def test_enforced_originator_counts_as_the_caller_too():
    invite = call({"FromUserPart": ("EnforcedOriginatorCallerID", "")}).invite()
    assert invite.from_party.user == CALLER


@pytest.mark.parametrize("value", ["OutboundCallerId", "EnforcedOutboundCallerId", "CallerNum"])
def test_other_variables_carry_the_trunks_number(value):
    invite = call({p: (value, "") for p in FOUR}).invite()
    assert {invite.from_party.user, invite.pai.user, invite.ppi.user, invite.rpid.user} == {TRUNK_NUMBER}


def test_unbound_headers_are_not_sent_and_from_falls_back_to_the_trunk():
    invite = call({}).invite()
    assert invite.headers() == {"From": f"<sip:{TRUNK_NUMBER}@acme.sip.ie1.twilio.com>"}
    bound_to_none = call({p: ("None", "") for p in FOUR}).invite()
    assert set(bound_to_none.headers()) == {"From"} and bound_to_none.from_party.user == TRUNK_NUMBER


def test_trunk_number_order_route_caller_id_then_outbound_caller_id_then_number():
    assert call({}, route_caller_id="+15550001111").trunk_number() == "+15550001111"
    bare = trunk()
    bare["OutboundCallerID"] = ""
    assert call({}, trunk=bare).trunk_number() == "10000"


def test_display_custom_host_and_user_agent():
    bindings = {
        "FromUserPart": ("OriginatorCallerId", ""),
        "FromDisplayName": ("CallerName", ""),
        "FromHostPart": ("GWHostPort", ""),
        "PAssertedIdentityUserPart": ("CustomField", "4711"),
        "PAssertedIdentityHostPart": ("DevHostPort", ""),
        "UserAgentTextString": ("CustomField", "3CX lab"),
    }
    invite = call(bindings, caller_name="Ada").invite()
    assert invite.headers()["From"] == f'"Ada" <sip:{CALLER}@acme.sip.ie1.twilio.com>'
    assert invite.headers()["P-Asserted-Identity"] == "<sip:4711@127.0.0.11>"
    assert invite.user_agent == "3CX lab"


def test_the_trunk_authenticates_only_when_it_requires_it():
    authed = trunk(RequireRegistrationFor="InOutCalls")
    authed["AuthID"] = "site-a"
    invite = call({}, trunk=authed, password="Secret12345x").invite()
    assert (invite.auth_user, invite.auth_password) == ("site-a", "Secret12345x")
    ip_based = trunk()
    ip_based["AuthID"] = "site-a"
    assert call({}, trunk=ip_based, password="Secret12345x").invite().auth_user is None


def test_renamed_pai_parameter_maps_back_to_its_header():
    pbx = ThreeCX(None, DocumentStatus(False, "test"), client_id="c", client_secret="s")
    pbx.reset({"gateway_parameter_names": {"PAssertedIdentityUserPart": "P-AssertedIdentityUserPart"}})
    catalogue = pbx.pbx.catalogue
    param = catalogue.param_by_name("P-AssertedIdentityUserPart")
    value = catalogue.value_by_name("OriginatorCallerId")
    t = trunk(OutboundParams=[{"ParamId": param["Id"], "ValueId": value["Id"], "Custom": ""}])
    assert pbx.calls.bindings(t) == {"PAssertedIdentityUserPart": ("OriginatorCallerId", "")}


def test_scenario_is_xml_with_only_the_bound_headers_and_an_auth_branch():
    invite = Invite(
        source_ip="127.0.0.11",
        host="acme.sip.twilio.com",
        ruri_user="+14155550123",
        to_user="+14155550123",
        from_party=Party(CALLER, "acme.sip.twilio.com", 'Evil "[name]" <x>'),
        pai=Party(CALLER, "acme.sip.twilio.com"),
        auth_user="site-a",
        auth_password="pw",
        codecs=["G729", "PCMU"],
    )
    text = render_scenario(invite)
    root = ET.fromstring(text)
    messages = [el.text for el in root.iter("send")]
    assert messages[0].count("P-Asserted-Identity:") == 1 and "P-Preferred-Identity" not in text
    assert "Remote-Party-ID" not in text
    assert 'From: "Evil name x" <sip:+17735550142@acme.sip.twilio.com>;tag=' in messages[0]
    assert "m=audio [auto_media_port] RTP/AVP 18 0 101" in messages[0]
    assert "[authentication]" in text and 'auth="true"' in text
    labels = [el.get("id") for el in root.iter("label")]
    assert labels == ["answered1", "rejected1", "challenged1", "answered2", "rejected2", "end"]
    no_auth = render_scenario(Invite("127.0.0.11", "acme.sip.twilio.com", "1", "1", Party("1", "h")))
    assert "[authentication]" not in no_auth and 'auth="true"' not in no_auth


def test_uas_config_has_digests_not_passwords():
    domain = DomainAuth("acme.sip.twilio.com", "us1", "AC1", "SD1", ["127.0.0.11/32"], [("3cx", 'Pa"ss\\word$1A')])
    cfg = render_config(35080, "acme.sip.ie1.twilio.com", domain)
    assert "listen=udp:127.0.0.1:35080" in cfg and 'Pa"ss' not in cfg and "word$1A" not in cfg
    assert 'is_in_subnet("$si", "127.0.0.11/32")' in cfg and f'proxy_challenge("{REALM}"' in cfg
    assert '"acme.sip.ie1.twilio.com"' in cfg
    nothing = render_config(35080, "x.sip.twilio.com", None)
    assert "no SIP Domain of this name" in nothing and "is_in_subnet" not in nothing


def test_uas_log_parse_dedupes_retransmissions():
    def hexa(text: str) -> str:
        return text.encode().hex()

    fields = ["c1", "1 INVITE", CALLER, '"Ada"', "f", "<sip:x@y>", "", "", "+1", "+1", "h", "", "", "ip", ""]
    line = "LABSIP|200|127.0.0.11|" + "|".join(v if i == 1 else hexa(v) for i, v in enumerate(fields))
    text = f" 1(123) ALERT: <script>: {line}\n 1(123) ALERT: <script>: {line}\nnoise\n"
    entries = parse_log(text)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["status"], entry["source_ip"], entry["from_user"], entry["from_display"]) == (
        200,
        "127.0.0.11",
        CALLER,
        "Ada",
    )
    assert entry["pai"] == "<sip:x@y>" and entry["ppi"] is None and entry["how"] == "ip"


def test_trace_parse_and_final_status():
    trace = """----------------------------------------------- 2026-01-02 10:00:00.000001
UDP message sent (10 bytes):

INVITE sip:+1@h SIP/2.0
CSeq: 1 INVITE

----------------------------------------------- 2026-01-02 10:00:00.100000
UDP message received [10] bytes :

SIP/2.0 407 Proxy Authentication Required
CSeq: 1 INVITE

----------------------------------------------- 2026-01-02 10:00:00.200000
UDP message received [10] bytes :

SIP/2.0 403 Forbidden
CSeq: 2 INVITE

"""
    messages = parse_trace(trace)
    assert [(m["direction"], m["first_line"].split(" ")[1]) for m in messages] == [
        ("sent", "sip:+1@h"),
        ("received", "407"),
        ("received", "403"),
    ]
    assert final_invite_response(messages) == (403, "Forbidden")


@pytest.mark.parametrize(
    "host, domain, ingress, region",
    [
        ("acme.sip.twilio.com", "acme.sip.twilio.com", None, None),
        ("acme.sip.ie1.twilio.com", "acme.sip.twilio.com", "ie1", "ie1"),
        ("site.acme.sip.dublin.twilio.com:5060", "site.acme.sip.twilio.com", "dublin", "ie1"),
        ("ACME.sip.sydney-ix.twilio.com", "ACME.sip.twilio.com", "sydney-ix", "au1"),
    ],
)
def test_twilio_sip_hosts(host, domain, ingress, region):
    parsed = parse_sip_host(host)
    assert (parsed["domain_name"], parsed["ingress"], parsed["ingress_region"]) == (domain, ingress, region)


def test_other_hosts_are_not_twilio():
    assert parse_sip_host("sip.example.com") is None and parse_sip_host("") is None


def test_e164_model():
    us = {"CountryCode": "1", "NationalCode": "1", "InternationalCode": "011"}
    assert e164_rewrite("+14155550123", us) == "14155550123"
    assert e164_rewrite("+442071234567", us) == "011442071234567"
    assert e164_rewrite("800", us) == "800"


def test_missing_binary_is_named_and_no_call_is_attempted(monkeypatch):
    monkeypatch.setattr(leg_module.tools, "find_binary", lambda name: None if name == "kamailio" else "/usr/bin/sipp")
    leg = SipLeg(None)
    assert leg.describe()["missing"] == ["kamailio"] and "Debian package kamailio" in leg.describe()["note"]
    result = leg.place(Invite("127.0.0.11", "acme.sip.twilio.com", "1", "1", Party("1", "h")))
    assert result.status is None and "kamailio" in result.error
