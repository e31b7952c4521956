"""Template XML (built-ins, parsing, InitTrunk mapping), the catalogue and the token cool-down."""

from email.message import Message

import pytest

from lab.server import Request
from lab.spec import DocumentStatus
from lab.threecx.app import ThreeCX
from lab.threecx.catalog import CONFIGURABLE_NAMES, Catalogue, check_names_option
from lab.threecx.odata import ODataError
from lab.threecx.templates import BUILT_INS, built_in_content, parse_content, trunk_skeleton
from lab.threecx.tokens import TokenCooldown, check_options

CUSTOM = """<?xml version="1.0"?>
<doc xmlns:tcx="http://www.3cx.com">
  <header><type>gateway-template</type><name>Twilio CID</name><templatetype>thirdparty</templatetype></header>
  <data><device>
    <field name="RegistrarHost">example.sip.ie1.twilio.com</field>
    <field name="RegistrarPort">5061</field>
    <field name="ProxyHost">example.sip.ie1.twilio.com</field>
    <field name="ProxyPort"></field>
    <field name="RequireAuthFor">3</field>
    <field name="TransportRestriction">tls</field>
    <field name="IpInContactReg">4</field>
    <field name="MatchStrategy">1</field>
    <codecs><codec rfcname="g729"/><codec rfcname="pcmu"/><codec rfcname="speex"/></codecs>
    <field name="ParameterOut" custom="" parameter="FromUserPart">$OriginatorCallerId</field>
    <field name="ParameterOut" custom="" parameter="PAssertedIdentityUserPart">$OriginatorCallerId</field>
    <field name="ParameterOut" custom="" parameter="NoSuchHeader">$CallerNum</field>
    <field name="ParameterOut" custom="" parameter="ToUserPart">$NoSuchVariable</field>
    <field name="ParameterOut" custom="3CX" parameter="UserAgentTextString">$CustomField</field>
  </device></data>
</doc>"""


def test_built_ins_are_well_formed_and_follow_the_catalogue():
    cat = Catalogue()
    for template_id in BUILT_INS:
        root = parse_content(built_in_content(template_id, cat))
        assert root.find("header/type").text == "gateway-template"
        params = {f.get("parameter") for f in root.iter("field") if f.get("name") == "ParameterOut"}
        assert {"FromUserPart", "PAssertedIdentityUserPart", "RemotePartyIDCallingPartyUserPart"} <= params
        assert [c.get("rfcname") for c in root.iter("codec")] == ["pcmu", "pcma", "g729"]
    sip = parse_content(built_in_content("GenericSIPTrunk.pv.xml", cat))
    assert next(f.text for f in sip.iter("field") if f.get("name") == "RequireAuthFor") == "1"
    renamed = Catalogue({"PAssertedIdentityUserPart": "P-AssertedIdentityUserPart", "PAssertedIdentityHostPart": None})
    text = built_in_content("GenericSIPTrunk.pv.xml", renamed)
    assert 'parameter="P-AssertedIdentityUserPart"' in text and "PAssertedIdentityHostPart" not in text


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("<doc><header>", "well-formed"),
        ("<html/>", "root element"),
        (None, "empty"),
    ],
)
def test_parse_content_errors(content, message):
    with pytest.raises(ODataError, match=message) as exc:
        parse_content(content)
    assert exc.value.status == 400


def test_trunk_skeleton_maps_template_fields_and_resolves_names():
    cat = Catalogue()
    sk = trunk_skeleton("twilio-cid.pv.xml", CUSTOM, cat)
    gw = sk["Gateway"]
    assert (gw["Name"], gw["Host"], gw["Port"], gw["ProxyHost"], gw["ProxyPort"]) == (
        "Twilio CID",
        "example.sip.ie1.twilio.com",
        5061,
        "example.sip.ie1.twilio.com",
        5060,
    )
    assert gw["RequireRegistrationFor"] == "OutgoingCalls" and gw["IPInRegistrationContact"] == "Specified"
    assert gw["MatchingStrategy"] == "MatchAllFields" and sk["TransportRestriction"] == "TLS"
    assert gw["Codecs"] == ["G729", "PCMU"], "unknown codecs are left out, order kept"
    named = [(cat.param_by_id(b["ParamId"])["Name"], cat.value_by_id(b["ValueId"])["Name"], b["Custom"]) for b in gw["OutboundParams"]]
    assert named == [
        ("FromUserPart", "OriginatorCallerId", ""),
        ("PAssertedIdentityUserPart", "OriginatorCallerId", ""),
        ("UserAgentTextString", "CustomField", "3CX"),
    ], "unknown parameters and variables are skipped"
    # On a PBX whose PAI parameter has another name, the template's guess binds nothing.
    other = Catalogue({"PAssertedIdentityUserPart": "P-AssertedIdentityUserPart"})
    names = [other.param_by_id(b["ParamId"])["Name"] for b in trunk_skeleton("x", CUSTOM, other)["Gateway"]["OutboundParams"]]
    assert "P-AssertedIdentityUserPart" not in names and "FromUserPart" in names


def test_catalogue_ids_are_arbitrary_and_names_configurable():
    cat = Catalogue()
    ids = [p["Id"] for p in cat.parameters]
    assert ids != sorted(ids) and len(set(ids)) == len(ids)
    assert cat.value_by_name("OriginatorCallerId") and cat.value_by_name("OriginatorCallerID") is None
    assert set(CONFIGURABLE_NAMES) <= {p["Name"] for p in cat.parameters}
    assert check_names_option({"PPreferredIdentityUserPart": None}) == {"PPreferredIdentityUserPart": None}
    for bad in ({"FromUserPart": "x"}, {"PPreferredIdentityUserPart": 3}, "x"):
        with pytest.raises(ValueError):
            check_names_option(bad)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_cooldown_window_and_expiry():
    clock = Clock()
    cd = TokenCooldown(check_options({"max_requests": 3, "window_seconds": 10, "cooldown_seconds": 30}), clock)
    assert [cd.admit("a") for _ignored in range(3)] == [True, True, True]
    assert cd.admit("b"), "per client id"
    assert cd.admit("a") is False and cd.cooling("a") == 30
    clock.now += 29
    assert cd.admit("a") is False, "refused requests do not extend the cool-down"
    clock.now += 1.5
    assert cd.admit("a") is True
    clock.now += 100
    assert [cd.admit("a") for _ignored in range(3)] == [True] * 3
    clock.now += 11  # the window slid past them
    assert cd.admit("a") is True


def test_cooldown_clear_disable_and_options():
    clock = Clock()
    cd = TokenCooldown(check_options({"max_requests": 1}), clock)
    cd.admit("a")
    assert not cd.admit("a") and cd.state()["cooling_down"] == {"a": 180.0}
    assert cd.clear() == 1 and cd.admit("a")
    cd.configure(check_options({"enabled": False}))
    assert all(cd.admit("a") for _ignored in range(50))
    for bad in ({"max_requests": 0}, {"enabled": "yes"}, {"cooldown_seconds": 0}, {"burst": 1}, []):
        with pytest.raises(ValueError):
            check_options(bad)


def _token_request(st):
    headers = Message()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = b"grant_type=client_credentials&client_id=lab1&client_secret=s3cret"
    req = Request("POST", "/connect/token", "/connect/token", {}, headers, body, "pbx", "127.0.0.1")
    return st.h_token(req)


def test_token_endpoint_refuses_with_403_but_keeps_the_active_token():
    st = ThreeCX(None, DocumentStatus(False, "none"), client_id="lab1", client_secret="s3cret")
    clock = Clock()
    st.cooldown.clock = clock
    statuses = [_token_request(st).status for _ignored in range(6)]
    assert statuses == [200] * 5 + [403]
    active = st.tokens["lab1"]["access_token"]
    assert _token_request(st).status == 403 and st.tokens["lab1"]["access_token"] == active
    clock.now += 181
    assert _token_request(st).status == 200
