"""3CX configuration endpoints of the lab (catalogues, templates, trunks, queues, ring groups,
users, inbound/outbound rules, token cool-down) through requests, on 20.0.7, 20.0.8 and 20.0.10.

The autouse violation guard (conftest.py) fails any test that leaves a request or response
in the log that does not match the 3CX document.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests

VERSIONS = ("20.0.7", "20.0.8", "20.0.10")
ODATA_ERROR_KEYS = {"code", "message", "target", "details", "innerError"}
UNUSED = {"TrunkId": -1, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}
TWILIO = "example.sip.us1.twilio.com"


def odata_error(resp, status):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == ODATA_ERROR_KEYS
    return body["error"]["message"]


def key(value: str) -> str:
    """An OData string literal for a URL path ('' escapes a quote)."""
    return quote("'" + value.replace("'", "''") + "'", safe="'()=")


class Pbx:
    def __init__(self, lab, cx, version):
        self.lab, self.cx, self.version = lab, cx, version
        self.numbers = version != "20.0.7"  # Number alternate keys from 20.0.8

    def get(self, path, **kw):
        return self.cx.call("GET", path, **kw)

    def ok(self, method, path, status=200, **kw):
        resp = self.cx.call(method, path, **kw)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def by_name(self, collection, name):
        rows = self.ok("GET", f"/Defs/{collection}", params={"$filter": f"Name eq '{name}'"})["value"]
        assert len(rows) == 1, (collection, name, rows)
        return rows[0]["Id"]

    def trunk(self, did="15550001000", template="GenericSIPTrunk.pv.xml", **extra):
        body = self.ok("GET", f"/Trunks/Pbx.InitTrunk(template={key(template)})")
        body.pop("@odata.context")
        body["Gateway"].update(Name="Twilio SIP Domain", Host=TWILIO, ProxyHost=TWILIO)
        body.update(TransportRestriction="UDP", DidNumbers=[did], **extra)
        return self.ok("POST", "/Trunks", 201, json=body)

    def queue(self, number=None, **extra):
        body = {"Name": "Fallback", **extra}
        if number:
            body["Number"] = number
        return self.ok("POST", "/Queues", 201, json=body)

    def state(self):
        return self.lab.state("threecx")


@pytest.fixture(params=VERSIONS)
def pbx(request, threecx_lab, cx):
    threecx_lab.control("threecx", "POST", "reset", json={"threecx_version": request.param}).raise_for_status()
    cx.login()
    return Pbx(threecx_lab, cx, request.param)


@pytest.fixture
def pbx10(threecx_lab, cx):
    cx.login()
    return Pbx(threecx_lab, cx, "20.0.10")


# ------------------------------------------------------------------ catalogues


def test_catalogues(pbx):
    params = pbx.ok("GET", "/Defs/GatewayParameters")
    assert params["@odata.context"].endswith("/xapi/v1/$metadata#Defs/GatewayParameters")
    names = [p["Name"] for p in params["value"]]
    for name in (
        "RequestLineURIUser",
        "ContactHost",
        "FromUserPart",
        "UserAgentTextString",
        "RemotePartyIDCallingPartyUserPart",
        "RemotePartyIDCalledPartyUserPart",
        "PAssertedIdentityUserPart",
        "PPreferredIdentityHostPart",
    ):
        assert name in names
    ids = [p["Id"] for p in params["value"]]
    assert ids != sorted(ids) and len(set(ids)) == len(ids), "Ids are arbitrary: resolve by Name"
    from_user = next(p for p in params["value"] if p["Name"] == "FromUserPart")
    assert "OriginatorCallerId" in from_user["OutboundPossibleValues"]
    values = pbx.ok("GET", "/Defs/GatewayParameterValues", params={"$select": "Id,Name"})
    assert {"CallerNum", "OriginatorCallerId", "OutboundCallerId", "GWHostPort", "CustomField"} <= {v["Name"] for v in values["value"]}
    assert set(values["value"][0]) == {"Id", "Name"}
    codecs = pbx.ok("GET", "/Defs/Codecs", params={"$filter": "RfcName eq 'PCMU'"})["value"]
    assert [c["RfcName"] for c in codecs] == ["PCMU"]
    assert pbx.ok("GET", "/Defs/GatewayParameters", params={"$count": "true", "$top": "2"})["@odata.count"] == len(ids)


def test_pai_ppi_names_are_configurable(threecx_lab, cx):
    threecx_lab.control(
        "threecx",
        "POST",
        "reset",
        json={
            "gateway_parameter_names": {
                "PAssertedIdentityUserPart": "P-AssertedIdentityUserPart",
                "PPreferredIdentityUserPart": None,
            }
        },
    ).raise_for_status()
    pbx = Pbx(threecx_lab, cx, "20.0.10")
    names = {p["Name"] for p in pbx.ok("GET", "/Defs/GatewayParameters")["value"]}
    assert "P-AssertedIdentityUserPart" in names and "PAssertedIdentityUserPart" not in names
    assert "PPreferredIdentityUserPart" not in names and "PPreferredIdentityDisplayName" in names
    assert pbx.state()["gateway_parameter_names"]["PPreferredIdentityUserPart"] is None
    content = pbx.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")["Content"]
    assert 'parameter="P-AssertedIdentityUserPart"' in content
    skeleton = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")
    pai = pbx.by_name("GatewayParameters", "P-AssertedIdentityUserPart")
    assert pai in {b["ParamId"] for b in skeleton["Gateway"]["OutboundParams"]}
    # A reset without the option restores the lab's default names.
    threecx_lab.control("threecx", "POST", "reset").raise_for_status()
    cx.login()  # a reset drops issued tokens
    assert pbx.by_name("GatewayParameters", "PAssertedIdentityUserPart")
    bad = threecx_lab.control("threecx", "POST", "reset", json={"gateway_parameter_names": {"FromUserPart": "x"}})
    assert bad.status_code == 400 and "not configurable" in bad.json()["error"]


# ------------------------------------------------------------------ templates


def test_trunk_templates(pbx):
    listing = pbx.ok("GET", "/TrunkTemplates", params={"$select": "Id,Name"})["value"]
    assert {"GenericSIPTrunk.pv.xml", "GenericVoIPProvider.pv.xml"} <= {t["Id"] for t in listing}
    builtin = pbx.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")
    assert builtin["Content"].lstrip().startswith("<?xml") and '<field name="RequireAuthFor">1</field>' in builtin["Content"]
    assert ("IsCustom" in builtin) == (pbx.version == "20.0.10")
    assert builtin.get("IsCustom", False) is False
    odata_error(pbx.get("/TrunkTemplates('nope.pv.xml')"), 404)
    assert "cannot be" in odata_error(pbx.cx.call("PATCH", "/TrunkTemplates('GenericSIPTrunk.pv.xml')", json={"Name": "x"}), 403)
    odata_error(pbx.cx.call("DELETE", "/TrunkTemplates('GenericVoIPProvider.pv.xml')"), 403)

    # A copy with a quote in its file name: the key is an OData string literal.
    ident = "twilio-cid's.pv.xml"
    content = builtin["Content"].replace("$OutboundCallerId", "$OriginatorCallerId")
    created = pbx.ok("POST", "/TrunkTemplates", 201, json={"Id": ident, "Name": "Twilio CID", "Content": content})
    assert created["Id"] == ident and created.get("IsCustom", True) is True
    assert pbx.ok("GET", f"/TrunkTemplates({key(ident)})")["Name"] == "Twilio CID"
    pbx.ok("PATCH", f"/TrunkTemplates({key(ident)})", 204, json={"Description": "caller ID kept"})
    assert pbx.ok("GET", f"/TrunkTemplates({key(ident)})")["Description"] == "caller ID kept"
    assert "well-formed" in odata_error(pbx.cx.call("PATCH", f"/TrunkTemplates({key(ident)})", json={"Content": "<doc><header>"}), 400)
    odata_error(pbx.cx.call("POST", "/TrunkTemplates", json={"Id": ident, "Name": "dup", "Content": content}), 409)
    odata_error(pbx.cx.call("POST", "/TrunkTemplates", json={"Id": "x.pv.xml", "Name": "x", "Content": "not xml"}), 400)
    pbx.ok("DELETE", f"/TrunkTemplates({key(ident)})", 204)
    odata_error(pbx.get(f"/TrunkTemplates({key(ident)})"), 404)


def test_init_trunk_from_templates(pbx):
    sip = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")
    assert "Id" not in sip and "Id" not in sip["Gateway"]
    assert sip["@odata.context"].endswith("$metadata#Pbx.Trunk")
    gw = sip["Gateway"]
    assert gw["RequireRegistrationFor"] == "Nothing" and gw["TemplateFilename"] == "GenericSIPTrunk.pv.xml"
    assert gw["Codecs"] == ["PCMU", "PCMA", "G729"] and gw["Port"] == 5060 and gw["ProxyPort"] == 5060
    assert sip["Number"] == pbx.ok("GET", "/Trunks/Pbx.GetFirstAvailableTrunkNumber()")["Number"] == "10000"
    from_user, outbound_cid = pbx.by_name("GatewayParameters", "FromUserPart"), pbx.by_name("GatewayParameterValues", "OutboundCallerId")
    assert {"ParamId": from_user, "ValueId": outbound_cid, "Custom": ""} in gw["OutboundParams"]
    voip = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericVoIPProvider.pv.xml')")
    assert voip["Gateway"]["RequireRegistrationFor"] == "InOutCalls"
    assert "was not found" in odata_error(pbx.get("/Trunks/Pbx.InitTrunk(template='missing.pv.xml')"), 404)
    # A custom template's own fields.
    content = pbx.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")["Content"]
    content = content.replace('<field name="RegistrarHost"></field>', f'<field name="RegistrarHost">{TWILIO}</field>')
    content = content.replace(">ANY</field>", ">UDP</field>", 1)
    pbx.ok("POST", "/TrunkTemplates", 201, json={"Id": "twilio.pv.xml", "Name": "Twilio", "Content": content})
    custom = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='twilio.pv.xml')")
    assert custom["Gateway"]["Host"] == TWILIO and custom["TransportRestriction"] == "UDP"
    if pbx.version == "20.0.10":
        assert custom["Gateway"]["IsCustom"] is True and sip["Gateway"]["IsCustom"] is False


# ------------------------------------------------------------------ trunks


def test_trunk_crud_keys_and_concealed_password(pbx):
    secret = "trunk-Pa55-" + pbx.version
    trunk = pbx.trunk(AuthID="lab-user", AuthPassword={"Value": secret})
    tid = trunk["Id"]
    assert trunk["AuthPassword"] == {"Concealed": True} and trunk["Number"] == "10000"
    got = pbx.ok("GET", f"/Trunks({tid})")
    assert got["AuthPassword"] == {"Concealed": True} and got["Gateway"]["Host"] == TWILIO
    assert [t["Id"] for t in pbx.ok("GET", "/Trunks")["value"]] == [tid]
    assert pbx.ok("GET", "/Trunks/Pbx.GetFirstAvailableTrunkNumber()")["Number"] == "10001"
    if pbx.numbers:
        assert pbx.ok("GET", "/Trunks(Number='10000')")["Id"] == tid
        odata_error(pbx.get("/Trunks/Pbx.GetTrunkByNumber(number='10000')"), 404)
    else:
        assert pbx.ok("GET", "/Trunks/Pbx.GetTrunkByNumber(number='10000')")["Id"] == tid
        odata_error(pbx.get("/Trunks(Number='10000')"), 400)
    pbx.ok(
        "PATCH",
        f"/Trunks({tid})",
        204,
        json={"Gateway": {"ProxyPort": 5080}, "DidNumbers": ["15550001000", "15550001001"]},
    )
    got = pbx.ok("GET", f"/Trunks({tid})")
    assert got["Gateway"]["ProxyPort"] == 5080 and got["Gateway"]["Host"] == TWILIO, "Gateway is merged"
    assert got["AuthPassword"] == {"Concealed": True}, "a PATCH without AuthPassword keeps it"
    assert "cannot be changed" in odata_error(pbx.cx.call("PATCH", f"/Trunks({tid})", json={"Number": "10005"}), 400)
    text = json.dumps(pbx.lab.requests_log("threecx")) + json.dumps(pbx.state())
    assert secret not in text
    pbx.ok("PATCH", f"/Trunks({tid})", 204, json={"AuthPassword": {"Value": ""}})
    assert pbx.ok("GET", f"/Trunks({tid})")["AuthPassword"] == {"Concealed": False}
    pbx.ok("DELETE", f"/Trunks({tid})", 204)
    odata_error(pbx.get(f"/Trunks({tid})"), 404)


def test_trunk_rules(pbx10):
    pbx = pbx10
    skeleton = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")
    skeleton.pop("@odata.context")
    assert "Host" in odata_error(pbx.cx.call("POST", "/Trunks", json=skeleton), 400)
    skeleton["Gateway"]["Host"] = TWILIO
    bad = json.loads(json.dumps(skeleton))
    bad["Gateway"]["OutboundParams"] = [{"ParamId": 99999, "ValueId": 1, "Custom": ""}]
    assert "99999" in odata_error(pbx.cx.call("POST", "/Trunks", json=bad), 400)
    bad["Gateway"]["OutboundParams"] = [
        {
            "ParamId": pbx.by_name("GatewayParameters", "FromUserPart"),
            "ValueId": pbx.by_name("GatewayParameterValues", "CalledName"),
            "Custom": "",
        }
    ]
    assert "not a possible value" in odata_error(pbx.cx.call("POST", "/Trunks", json=bad), 400)
    bad = json.loads(json.dumps(skeleton))
    bad["Gateway"]["Codecs"] = ["PCMU", "SPEEX"]
    assert "Codecs" in odata_error(pbx.cx.call("POST", "/Trunks", json=bad), 400)
    odata_error(pbx.cx.call("POST", "/Trunks", json={**skeleton, "DidNumbers": ["12ab"]}), 400)
    first = pbx.ok("POST", "/Trunks", 201, json={**skeleton, "DidNumbers": ["15550001000"]})
    again = pbx.cx.call("POST", "/Trunks", json={**skeleton, "Number": "10001", "DidNumbers": ["15550001000"]})
    assert "already on trunk" in odata_error(again, 400)
    odata_error(pbx.cx.call("POST", "/Trunks", json={**skeleton, "Number": first["Number"]}), 409)
    # Caller ID through OutboundParams, resolved by name.
    binding = {
        "ParamId": pbx.by_name("GatewayParameters", "PAssertedIdentityUserPart"),
        "ValueId": pbx.by_name("GatewayParameterValues", "OriginatorCallerId"),
        "Custom": "",
    }
    pbx.ok("PATCH", f"/Trunks({first['Id']})", 204, json={"Gateway": {"OutboundParams": [binding]}})
    assert pbx.ok("GET", f"/Trunks({first['Id']})")["Gateway"]["OutboundParams"] == [binding]


# ------------------------------------------------------------------ users and departments


def test_users_groups_and_dnd(pbx):
    users = pbx.ok("GET", "/Users", params={"$filter": "Number eq '101'", "$select": "Id,Number,DisplayName,CurrentProfileName"})
    assert [(u["Number"], u["CurrentProfileName"]) for u in users["value"]] == [("101", "Available")]
    assert set(users["value"][0]) == {"Id", "Number", "DisplayName", "CurrentProfileName"}
    assert [u["Number"] for u in pbx.ok("GET", "/Users")["value"]] == ["100", "101", "102", "103", "104", "105"]
    resp = pbx.lab.control(
        "threecx",
        "POST",
        "extensions",
        json={"extensions": [{"Number": "101", "dnd": True}, {"Number": "106", "FirstName": "New", "LastName": "Agent"}]},
    )
    assert resp.status_code == 200, resp.text
    dnd = pbx.ok("GET", "/Users", params={"$filter": "CurrentProfileName eq 'Out of office'", "$select": "Number"})
    assert [u["Number"] for u in dnd["value"]] == ["101"]
    if pbx.numbers:
        assert pbx.ok("GET", "/Users(Number='106')")["DisplayName"] == "New Agent"
    bad = pbx.lab.control("threecx", "POST", "extensions", json={"extensions": [{"Number": "107", "Bogus": 1}]})
    assert bad.status_code == 400
    groups = pbx.ok("GET", "/Groups", params={"$select": "Id,Name,Number"})["value"]
    assert "DEFAULT" in {g["Name"] for g in groups}
    default = next(g for g in groups if g["Name"] == "DEFAULT")
    assert pbx.ok("GET", f"/Groups({default['Id']})")["Number"] == default["Number"]
    user = pbx.ok("GET", "/Users", params={"$filter": "Number eq '100'"})["value"][0]
    assert pbx.ok("GET", f"/Users({user['Id']})", params={"$expand": "Groups"})["Groups"][0]["Name"] == "DEFAULT"
    odata_error(pbx.cx.call("POST", "/Users", json={"Number": "150"}), 501)  # documented, not implemented


# ------------------------------------------------------------------ queues and ring groups


def test_queue_crud_agents_and_keys(pbx):
    assert pbx.ok("GET", "/Queues/Pbx.GetFirstAvailableQueueNumber()")["Number"] == "800"
    queue = pbx.queue(
        PollingStrategy="RingAll",
        RingTimeout=10,
        MasterTimeout=10,
        ForwardNoAnswer={"To": "External", "External": "+15557654321"},
        Agents=[{"Number": "100"}, {"Number": "101"}],
    )
    qid = queue["Id"]
    assert queue["Number"] == "800" and queue["RingTimeout"] == 10 and queue["ForwardNoAnswer"]["External"] == "+15557654321"
    got = pbx.ok("GET", f"/Queues({qid})")
    assert "Agents" not in got, "navigation properties only with $expand"
    expanded = pbx.ok("GET", f"/Queues({qid})", params={"$expand": "Agents"})
    assert [a["Number"] for a in expanded["Agents"]] == ["100", "101"] and expanded["Agents"][0]["Name"]
    assert pbx.ok("GET", f"/Queues({qid})/Managers")["value"] == []
    agents = pbx.ok("GET", f"/Queues({qid})/Agents")
    assert agents["@odata.context"].endswith(f"$metadata#Queues({qid})/Agents")
    assert [a["Number"] for a in agents["value"]] == ["100", "101"]
    listing = pbx.ok("GET", "/Queues", params={"$filter": "Number eq '800'", "$expand": "Agents"})["value"]
    assert [len(q["Agents"]) for q in listing] == [2]
    pbx.ok("PATCH", f"/Queues({qid})", 204, json={"Agents": [{"Number": "102"}]})
    assert [a["Number"] for a in pbx.ok("GET", f"/Queues({qid})/Agents")["value"]] == ["102"], "PATCH replaces the list"
    assert "999" in odata_error(pbx.cx.call("PATCH", f"/Queues({qid})", json={"Agents": [{"Number": "999"}]}), 400)
    assert "Number" in odata_error(pbx.cx.call("PATCH", f"/Queues({qid})", json={"Number": "801"}), 400)
    pbx.ok("PATCH", f"/Queues({qid})", 204, json={"Number": "800", "Name": "Renamed"})
    if pbx.numbers:
        assert pbx.ok("GET", "/Queues(Number='800')")["Name"] == "Renamed"
        odata_error(pbx.get("/Queues/Pbx.GetByNumber(number='800')"), 404)
    else:
        assert pbx.ok("GET", "/Queues/Pbx.GetByNumber(number='800')", params={"$select": "Id,Name"}) == {
            "@odata.context": pbx.ok("GET", f"/Queues({qid})", params={"$select": "Id,Name"})["@odata.context"],
            "Id": qid,
            "Name": "Renamed",
        }
        odata_error(pbx.get("/Queues(Number='800')"), 400)
    assert pbx.ok("GET", "/Queues/Pbx.GetFirstAvailableQueueNumber()")["Number"] == "801"
    odata_error(pbx.cx.call("POST", "/Queues", json={"Name": "dup", "Number": "800"}), 409)
    odata_error(pbx.cx.call("POST", "/Queues", json={"Name": "ext", "Number": "100"}), 409)
    odata_error(pbx.cx.call("POST", "/Queues", json={"Name": "q", "ForwardNoAnswer": {"To": "Queue", "Number": "555"}}), 400)
    pbx.ok("DELETE", f"/Queues({qid})", 204)
    odata_error(pbx.get(f"/Queues({qid})"), 404)


def test_queue_and_ring_group_departments(pbx10):
    # Pbx.DN.Groups (Pbx.UserGroup records, a navigation property): a new group is in DEFAULT unless
    # the POST names its departments by GroupId; written as the whole list; an unknown department is a 400.
    pbx = pbx10
    groups = {g["Name"]: g["Id"] for g in pbx.ok("GET", "/Groups", params={"$select": "Id,Name"})["value"]}
    plain = pbx.queue()
    assert [g["Name"] for g in pbx.ok("GET", f"/Queues({plain['Id']})", params={"$expand": "Groups"})["Groups"]] == ["DEFAULT"]
    support = pbx.queue(Groups=[{"GroupId": groups["Support"]}])
    assert "Groups" not in support, "a 201 carries no navigation property"
    [listed] = pbx.ok("GET", "/Queues", params={"$filter": f"Number eq '{support['Number']}'", "$expand": "Agents,Groups"})["value"]
    assert [(g["GroupId"], g["Name"]) for g in listed["Groups"]] == [(groups["Support"], "Support")] and listed["Agents"] == []
    pbx.ok("PATCH", f"/Queues({plain['Id']})", 204, json={"Groups": [{"GroupId": groups["Support"]}, {"GroupId": groups["DEFAULT"]}]})
    got = pbx.ok("GET", f"/Queues({plain['Id']})", params={"$expand": "Groups"})["Groups"]
    assert sorted(g["Name"] for g in got) == ["DEFAULT", "Support"]
    assert "department" in odata_error(pbx.cx.call("PATCH", f"/Queues({plain['Id']})", json={"Groups": [{"GroupId": 4242}]}), 400)
    ring = pbx.ok("POST", "/RingGroups", 201, json={"Name": "Front desk", "Groups": [{"GroupId": groups["Support"]}]})
    assert [g["Name"] for g in pbx.ok("GET", f"/RingGroups({ring['Id']})", params={"$expand": "Groups"})["Groups"]] == ["Support"]


def test_queue_version_fields(pbx):
    queue = pbx.queue()
    assert ("ComfortPromptsEnabled" in queue) == (pbx.version == "20.0.10")
    assert ("VMEmailOptions" in queue) == (pbx.version == "20.0.10")  # 20.0.9 would have it too
    if pbx.version != "20.0.10":
        odata_error(pbx.cx.call("PATCH", f"/Queues({queue['Id']})", json={"ComfortPromptsEnabled": True}), 400)


def test_ring_group_crud_members_and_keys(pbx):
    assert pbx.ok("GET", "/RingGroups/Pbx.GetFirstAvailableRingGroupNumber()")["Number"] == "800"
    group = pbx.ok(
        "POST",
        "/RingGroups",
        201,
        json={
            "Name": "Fallback RG",
            "RingStrategy": "RingAll",
            "RingTime": 10,
            "Members": [{"Number": "103"}],
            "ForwardNoAnswer": {"To": "External", "External": "+15557654321"},
        },
    )
    gid = group["Id"]
    assert [m["Number"] for m in pbx.ok("GET", f"/RingGroups({gid})/Members")["value"]] == ["103"]
    pbx.ok("PATCH", f"/RingGroups({gid})", 204, json={"Members": [{"Number": "104"}, {"Number": "105"}], "RingTime": 15})
    got = pbx.ok("GET", f"/RingGroups({gid})", params={"$expand": "Members"})
    assert [m["Number"] for m in got["Members"]] == ["104", "105"] and got["RingTime"] == 15
    assert "998" in odata_error(pbx.cx.call("PATCH", f"/RingGroups({gid})", json={"Members": [{"Number": "998"}]}), 400)
    odata_error(pbx.cx.call("PATCH", f"/RingGroups({gid})", json={"Number": "900"}), 400)
    if pbx.numbers:
        assert pbx.ok("GET", "/RingGroups(Number='800')")["Id"] == gid
        odata_error(pbx.get("/RingGroups/Pbx.GetByNumber(number='800')"), 404)
    else:
        assert pbx.ok("GET", "/RingGroups/Pbx.GetByNumber(number='800')")["Id"] == gid
        odata_error(pbx.get("/RingGroups(Number='800')"), 400)
    pbx.ok("DELETE", f"/RingGroups({gid})", 204)


# ------------------------------------------------------------------ inbound rules and DIDs


def test_inbound_rules_and_did_numbers(pbx):
    trunk = pbx.trunk(did="15550001000")
    queue = pbx.queue()
    rule_body = {
        "RuleName": "Fallback DID",
        "Condition": "BasedOnDID",
        "Data": "15550001000",
        "TrunkDN": {"Id": trunk["Id"]},
        "OfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]},
        "OutOfOfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]},
    }
    rule = pbx.ok("POST", "/InboundRules", 201, json=rule_body)
    rid = rule["Id"]
    assert rule["OfficeHoursDestination"]["Name"] == "Fallback" and rule["OfficeHoursDestination"]["Type"] == "Queue"
    listed = pbx.ok("GET", "/InboundRules")["value"]
    assert [r["Id"] for r in listed] == [rid] and "TrunkDN" not in listed[0]
    expanded = pbx.ok("GET", f"/InboundRules({rid})", params={"$expand": "TrunkDN"})
    assert expanded["TrunkDN"]["Id"] == trunk["Id"] and expanded["TrunkDN"]["Number"] == trunk["Number"]
    dids = pbx.ok("GET", "/DidNumbers", params={"$expand": "RoutingRule"})["value"]
    assert [(d["Number"], d["TrunkId"], d["TemplateFileName"], d["RoutingRule"]["Id"]) for d in dids] == [
        ("15550001000", trunk["Id"], "GenericSIPTrunk.pv.xml", rid)
    ]
    assert "RoutingRule" not in pbx.ok("GET", "/DidNumbers")["value"][0]
    # Errors: DID not on the trunk, unknown trunk, missing queue, a second rule for the DID.
    assert "not a DID number" in odata_error(pbx.cx.call("POST", "/InboundRules", json={**rule_body, "Data": "15550009999"}), 400)
    odata_error(pbx.cx.call("POST", "/InboundRules", json={**rule_body, "TrunkDN": {"Id": 4242}}), 400)
    assert "queue 877" in odata_error(
        pbx.cx.call("POST", "/InboundRules", json={**rule_body, "OfficeHoursDestination": {"To": "Queue", "Number": "877"}}),
        400,
    )
    odata_error(pbx.cx.call("POST", "/InboundRules", json=rule_body), 409)
    # The queue cannot go while the rule points at it.
    assert "inbound rule" in odata_error(pbx.cx.call("DELETE", f"/Queues({queue['Id']})"), 400)
    group = pbx.ok("POST", "/RingGroups", 201, json={"Name": "RG"})
    pbx.ok(
        "PATCH",
        f"/InboundRules({rid})",
        204,
        json={"OfficeHoursDestination": {"To": "RingGroup", "Number": group["Number"]}},
    )
    assert pbx.ok("GET", f"/InboundRules({rid})")["OfficeHoursDestination"]["Number"] == group["Number"]
    pbx.ok("DELETE", f"/InboundRules({rid})", 204)
    assert pbx.ok("GET", "/InboundRules")["value"] == []
    # Removing a DID from its trunk removes its rule.
    rid2 = pbx.ok("POST", "/InboundRules", 201, json=rule_body)["Id"]
    pbx.ok("PATCH", f"/Trunks({trunk['Id']})", 204, json={"DidNumbers": []})
    odata_error(pbx.get(f"/InboundRules({rid2})"), 404)


# ------------------------------------------------------------------ outbound rules


def test_outbound_rules_routes_priority(pbx):
    trunk = pbx.trunk()
    groups = pbx.ok("GET", "/Groups")["value"]
    default = next(g for g in groups if g["Name"] == "DEFAULT")
    rule = pbx.ok(
        "POST",
        "/OutboundRules",
        201,
        json={
            "Name": "To Twilio",
            "Prefix": "+15557654321",
            "GroupIds": [default["Id"]],
            "DNRanges": [{"From": "100", "To": "199"}],
            "Routes": [{"TrunkId": trunk["Id"], "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}],
        },
    )
    assert len(rule["Routes"]) == 5 and rule["Routes"][1:] == [UNUSED] * 4
    assert rule["Routes"][0]["TrunkId"] == trunk["Id"] and rule["Routes"][0]["TrunkName"] == "Twilio SIP Domain"
    assert rule["GroupNames"] == ["DEFAULT"] and rule["Priority"] == 1
    second = pbx.ok("POST", "/OutboundRules", 201, json={"Name": "Second", "Prefix": "9"})
    assert second["Routes"] == [UNUSED] * 5 and second["Priority"] == 2
    pbx.ok("POST", "/OutboundRules/Pbx.MoveUpDown", 204, json={"id": second["Id"], "up": True})
    listing = pbx.ok("GET", "/OutboundRules", params={"$select": "Id,Priority"})["value"]
    assert [(r["Id"], r["Priority"]) for r in listing] == [(second["Id"], 1), (rule["Id"], 2)]
    pbx.ok("PATCH", f"/OutboundRules({rule['Id']})", 204, json={"Routes": [UNUSED, {"TrunkId": trunk["Id"]}]})
    routes = pbx.ok("GET", f"/OutboundRules({rule['Id']})")["Routes"]
    assert len(routes) == 5 and routes[0] == UNUSED and routes[1]["TrunkId"] == trunk["Id"]
    assert "trunk 4242" in odata_error(pbx.cx.call("POST", "/OutboundRules", json={"Name": "x", "Routes": [{"TrunkId": 4242}]}), 400)
    odata_error(pbx.cx.call("POST", "/OutboundRules", json={"Name": "x", "Routes": [UNUSED] * 6}), 400)
    odata_error(pbx.cx.call("POST", "/OutboundRules", json={"Name": "x", "GroupIds": [4242]}), 400)
    odata_error(pbx.cx.call("POST", "/OutboundRules", json={"Name": "x", "DNRanges": [{"From": "200", "To": "100"}]}), 400)
    odata_error(pbx.cx.call("POST", "/OutboundRules/Pbx.MoveUpDown", json={"id": 4242, "up": False}), 404)
    # Deleting the trunk frees its routes; deleting a rule closes the priority gap.
    pbx.ok("DELETE", f"/Trunks({trunk['Id']})", 204)
    assert pbx.ok("GET", f"/OutboundRules({rule['Id']})")["Routes"] == [UNUSED] * 5
    pbx.ok("DELETE", f"/OutboundRules({second['Id']})", 204)
    assert pbx.ok("GET", f"/OutboundRules({rule['Id']})")["Priority"] == 1


# ------------------------------------------------------------------ token cool-down


def test_token_cooldown(threecx_lab, cx):
    tokens = [cx.login() for _ignored in range(5)]
    refused = cx.get_token()
    assert refused.status_code == 403 and refused.json()["error"] == "access_denied"
    assert cx.call("GET", "/E164Settings", token=tokens[-1]).status_code == 200, "issued tokens stay valid"
    assert cx.get_token().status_code == 403
    assert threecx_lab.state("threecx")["token_cooldown"]["cooling_down"]
    assert threecx_lab.control("threecx", "POST", "tokens/cooldown/clear").json() == {"cleared": 1}
    assert cx.get_token().status_code == 200
    threecx_lab.control("threecx", "POST", "reset", json={"token_rate_limit": {"max_requests": 2}}).raise_for_status()
    assert [cx.get_token().status_code for _ignored in range(3)] == [200, 200, 403]
    threecx_lab.control("threecx", "POST", "reset", json={"token_rate_limit": {"enabled": False}}).raise_for_status()
    assert {cx.get_token().status_code for _ignored in range(8)} == {200}
    bad = threecx_lab.control("threecx", "POST", "reset", json={"token_rate_limit": {"max_requests": 0}})
    assert bad.status_code == 400


# ------------------------------------------------------------------ faults, state, validation


@pytest.mark.parametrize(
    "path, body",
    [
        ("/Queues", {"Name": "Once"}),
        ("/OutboundRules", {"Name": "Once"}),
        ("/TrunkTemplates", None),
    ],
)
def test_commit_then_drop_on_post_leaves_one_object(threecx_lab, cx, path, body):
    pbx = Pbx(threecx_lab, cx, "20.0.10")
    cx.login()
    if body is None:
        content = pbx.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")["Content"]
        body = {"Id": "once.pv.xml", "Name": "Once", "Content": content}
    before = len(pbx.ok("GET", path)["value"])
    threecx_lab.faults("threecx", {"method": "POST", "path": path + "$", "action": {"kind": "commit_then_drop"}})
    with pytest.raises(requests.ConnectionError):
        cx.call("POST", path, json=body)
    assert len(pbx.ok("GET", path)["value"]) == before + 1
    log = [e for e in threecx_lab.requests_log("threecx") if e["method"] == "POST" and e["path"].startswith("/xapi/")]
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [("/xapi/v1" + path, 0, "commit_then_drop")]


def test_faults_on_new_endpoints(threecx_lab, cx):
    pbx = Pbx(threecx_lab, cx, "20.0.10")
    cx.login()
    threecx_lab.faults(
        "threecx",
        {"method": "GET", "path": r"GatewayParameters$", "action": {"kind": "status", "status": 503, "retry_after": 1}},
        {"method": "POST", "path": r"/Trunks$", "action": {"kind": "drop"}},
        {"method": "GET", "path": r"InitTrunk", "action": {"kind": "delay", "seconds": 0.05}},
    )
    resp = cx.call("GET", "/Defs/GatewayParameters")
    odata_error(resp, 503)
    assert resp.headers["Retry-After"] == "1"
    with pytest.raises(requests.ConnectionError):
        pbx.trunk()
    assert pbx.ok("GET", "/Trunks")["value"] == [], "a drop commits nothing"
    pbx.trunk()
    assert len(pbx.ok("GET", "/Trunks")["value"]) == 1


def test_state_shows_everything_and_reset_restores_the_seed(threecx_lab, cx):
    pbx = Pbx(threecx_lab, cx, "20.0.10")
    cx.login()
    trunk = pbx.trunk(AuthPassword={"Value": "state-secret-1"})
    pbx.queue()
    state = pbx.state()
    coll = state["collections"]
    assert coll["Trunks"][0]["Id"] == trunk["Id"] and coll["Trunks"][0]["AuthPassword"] == {"Concealed": True}
    assert len(coll["Queues"]) == 1 and len(coll["Users"]) == 6 and len(coll["TrunkTemplates"]) == 2
    assert coll["Defs/GatewayParameters"] and coll["Groups"]
    assert "state-secret-1" not in json.dumps(state) + json.dumps(threecx_lab.requests_log("threecx"))
    post = next(e for e in threecx_lab.requests_log("threecx") if e["method"] == "POST" and e["path"].endswith("/Trunks"))
    assert post["body"]["AuthPassword"] == {"Value": "********"}
    threecx_lab.control("threecx", "POST", "reset").raise_for_status()
    coll = pbx.state()["collections"]
    assert coll["Trunks"] == [] and coll["Queues"] == [] and len(coll["TrunkTemplates"]) == 2 and len(coll["Users"]) == 6


def test_validator_catches_wrong_config_requests(threecx_lab, cx, expect_violations):
    pbx = Pbx(threecx_lab, cx, "20.0.10")
    cx.login()
    # "Ring All" is the UI label; the enum value is RingAll.
    resp = cx.call("POST", "/Queues", json={"Name": "Bad", "PollingStrategy": "Ring All"})
    assert "PollingStrategy" in odata_error(resp, 500)
    assert pbx.ok("GET", "/Queues")["value"] == [], "an invalid request is never performed"
    resp = cx.call("POST", "/OutboundRules/Pbx.MoveUpDown", json={"id": "1", "up": True})
    odata_error(resp, 500)
    flagged = [(e["method"], e["path"]) for e in threecx_lab.requests_log("threecx") if e["violations"]]
    assert flagged == [("POST", "/xapi/v1/Queues"), ("POST", "/xapi/v1/OutboundRules/Pbx.MoveUpDown")]
