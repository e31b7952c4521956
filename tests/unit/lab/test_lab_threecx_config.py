"""Rules of the 3CX configuration stand-in, driven in-process (no HTTP, no vendor document)."""

import json
from email.message import Message

import pytest

from lab.server import Request
from lab.spec import DocumentStatus
from lab.threecx.app import ThreeCX

UNUSED = {"TrunkId": -1, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}


class Pbx:
    def __init__(self, version="20.0.10"):
        self.st = ThreeCX(None, DocumentStatus(False, "none"), client_id="lab1", client_secret="s3cret", version=version)
        self.st.tokens["lab1"] = {"access_token": "tok", "issued_at": 0, "expires_at": 4e9}

    def call(self, method, path, body=None, query=None):
        headers = Message()
        headers["Authorization"] = "Bearer tok"
        headers["Host"] = "pbx.test"
        raw = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            raw = json.dumps(body).encode()
        req = Request(
            method,
            "/xapi/v1" + path,
            path,
            {k: [v] for k, v in (query or {}).items()},
            headers,
            raw,
            "pbx.test",
            "127.0.0.1",
        )
        route, req.params, allowed = self.st.router.match(method, req.path)
        resp = self.st.dispatch(req, route, allowed)
        return resp.status, (json.loads(resp.body) if resp.body else None)

    def ok(self, method, path, body=None, status=200, query=None):
        got, value = self.call(method, path, body, query)
        assert got == status, value
        return value

    def error(self, method, path, body=None, status=400):
        got, value = self.call(method, path, body)
        assert got == status, value
        return value["error"]["message"]

    def trunk(self, **extra):
        body = self.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")
        body.pop("@odata.context")
        body["Gateway"]["Host"] = "example.sip.us1.twilio.com"
        body.update(extra)
        return self.ok("POST", "/Trunks", body, 201)


@pytest.fixture
def pbx():
    return Pbx()


@pytest.mark.parametrize("version, number_keys", [("20.0.7", False), ("20.0.8", True), ("20.0.10", True)])
def test_key_syntax_depends_on_version(version, number_keys):
    pbx = Pbx(version)
    queue = pbx.ok("POST", "/Queues", {"Name": "Q"}, 201)
    by_key = pbx.call("GET", "/Queues(Number='800')")
    by_function = pbx.call("GET", "/Queues/Pbx.GetByNumber(number='800')")
    if number_keys:
        assert by_key[0] == 200 and by_key[1]["Id"] == queue["Id"]
        assert by_function[0] == 404
    else:
        assert by_key[0] == 400 and "not a key" in by_key[1]["error"]["message"]
        assert by_function[0] == 200 and by_function[1]["Id"] == queue["Id"]
        assert by_function[1]["@odata.context"] == "https://pbx.test/xapi/v1/$metadata#Queues/$entity"


def test_string_keys_use_odata_literals(pbx):
    content = pbx.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")["Content"]
    pbx.ok("POST", "/TrunkTemplates", {"Id": "o'brien.pv.xml", "Name": "O'Brien", "Content": content}, 201)
    assert pbx.ok("GET", "/TrunkTemplates('o''brien.pv.xml')")["Name"] == "O'Brien"
    assert "Edm.String" in pbx.error("GET", "/TrunkTemplates(5)")
    assert "Edm.Int32" in pbx.error("GET", "/Queues('5')")


def test_outbound_rules_always_have_five_routes(pbx):
    trunk = pbx.trunk()
    rule = pbx.ok("POST", "/OutboundRules", {"Name": "R", "Routes": [{"TrunkId": trunk["Id"]}]}, 201)
    assert len(rule["Routes"]) == 5 and rule["Routes"][1:] == [UNUSED] * 4
    assert rule["Routes"][0] == {
        "TrunkId": trunk["Id"],
        "StripDigits": 0,
        "Prepend": "",
        "Append": "",
        "CallerID": "",
        "TrunkName": trunk["Gateway"]["Name"],
    }
    pbx.ok("PATCH", f"/OutboundRules({rule['Id']})", {"Routes": []}, 204)
    assert pbx.ok("GET", f"/OutboundRules({rule['Id']})")["Routes"] == [UNUSED] * 5
    pbx.ok("PATCH", f"/OutboundRules({rule['Id']})", {"Routes": [{"TrunkId": None}]}, 204)
    assert "at most 5" in pbx.error("PATCH", f"/OutboundRules({rule['Id']})", {"Routes": [UNUSED] * 6})
    assert "StripDigits" in pbx.error("POST", "/OutboundRules", {"Routes": [{"TrunkId": trunk["Id"], "StripDigits": 300}]})


def test_outbound_priorities_stay_contiguous(pbx):
    ids = [pbx.ok("POST", "/OutboundRules", {"Name": n}, 201)["Id"] for n in "abc"]
    first = pbx.ok("POST", "/OutboundRules", {"Name": "first", "Priority": 1}, 201)

    def order():
        return [(r["Name"], r["Priority"]) for r in pbx.ok("GET", "/OutboundRules")["value"]]

    assert order() == [("first", 1), ("a", 2), ("b", 3), ("c", 4)]
    pbx.ok("POST", "/OutboundRules/Pbx.MoveUpDown", {"id": first["Id"], "up": False}, 204)
    pbx.ok("POST", "/OutboundRules/Pbx.MoveUpDown", {"id": ids[0], "up": True}, 204)  # a back to the top
    pbx.ok("POST", "/OutboundRules/Pbx.MoveUpDown", {"id": ids[0], "up": True}, 204)  # already first: no-op
    assert order() == [("a", 1), ("first", 2), ("b", 3), ("c", 4)]
    pbx.ok("PATCH", f"/OutboundRules({ids[2]})", {"Priority": 1}, 204)
    pbx.ok("DELETE", f"/OutboundRules({ids[0]})", None, 204)
    assert order() == [("c", 1), ("first", 2), ("b", 3)]


def test_number_is_immutable_and_dn_numbers_unique(pbx):
    queue = pbx.ok("POST", "/Queues", {"Name": "Q"}, 201)
    group = pbx.ok("POST", "/RingGroups", {"Name": "G"}, 201)
    assert (queue["Number"], group["Number"]) == ("800", "801"), "one DN number space"
    assert "cannot be changed" in pbx.error("PATCH", f"/Queues({queue['Id']})", {"Number": "900"})
    assert "cannot be changed" in pbx.error("PATCH", f"/RingGroups({group['Id']})", {"Number": "900"})
    pbx.ok("PATCH", f"/Queues({queue['Id']})", {"Number": "800", "RingTimeout": 10}, 204)
    assert pbx.call("POST", "/Queues", {"Name": "x", "Number": "101"})[0] == 409
    assert pbx.call("POST", "/RingGroups", {"Name": "x", "Number": "12a"})[0] == 400
    assert "Name" in pbx.error("POST", "/Queues", {"Number": "850"})


def test_passwords_are_concealed_and_kept_for_the_sip_side(pbx):
    trunk = pbx.trunk(AuthID="user", AuthPassword={"Value": "pw-one"})
    tid = trunk["Id"]
    assert trunk["AuthPassword"] == {"Concealed": True}
    assert pbx.st.pbx.trunk_password(tid) == "pw-one"
    pbx.ok("PATCH", f"/Trunks({tid})", {"AuthPassword": {"Concealed": True}}, 204)
    assert pbx.st.pbx.trunk_password(tid) == "pw-one", "echoing the concealed form keeps the password"
    pbx.ok("PATCH", f"/Trunks({tid})", {"AuthPassword": {"Value": "pw-two"}}, 204)
    assert pbx.st.pbx.trunk_password(tid) == "pw-two"
    refused = {"AuthPassword": {"Value": "pw-three"}, "DidNumbers": ["not a number"]}
    assert pbx.call("PATCH", f"/Trunks({tid})", refused)[0] == 400
    assert pbx.st.pbx.trunk_password(tid) == "pw-two", "a refused PATCH changes nothing"
    state = json.dumps(pbx.st.public_state())
    assert "pw-two" not in state and "pw-one" not in state
    assert "pw-two" in pbx.st.secrets(), "scrubbed from free-text log lines"
    pbx.ok("PATCH", f"/Trunks({tid})", {"AuthPassword": {"Value": ""}}, 204)
    assert pbx.st.pbx.trunk_password(tid) is None
    assert pbx.ok("GET", f"/Trunks({tid})")["AuthPassword"] == {"Concealed": False}
    no_pw = pbx.trunk()
    assert no_pw["AuthPassword"] == {"Concealed": False} and pbx.st.pbx.trunk_password(no_pw["Id"]) is None


def test_init_trunk_skeleton(pbx):
    skeleton = pbx.ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericVoIPProvider.pv.xml')")
    assert "Id" not in skeleton and skeleton["Number"] == "10000"
    assert not {"RoutingRules", "Groups"} & set(skeleton)
    gw = skeleton["Gateway"]
    assert gw["RequireRegistrationFor"] == "InOutCalls" and gw["Codecs"] == ["PCMU", "PCMA", "G729"]
    assert gw["IsCustom"] is False and gw["TemplateFilename"] == "GenericVoIPProvider.pv.xml"
    assert pbx.call("GET", "/Trunks/Pbx.InitTrunk(template=GenericSIPTrunk.pv.xml)")[0] == 400
    assert pbx.call("GET", "/Trunks/Pbx.InitTrunk(template='nope.pv.xml')")[0] == 404
    assert "IsCustom" not in Pbx("20.0.9").ok("GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")["Gateway"]


def test_agents_and_members_must_be_extensions(pbx):
    msg = pbx.error("POST", "/Queues", {"Name": "Q", "Agents": [{"Number": "100"}, {"Number": "777"}]})
    assert "777" in msg
    assert pbx.ok("GET", "/Queues")["value"] == [], "nothing is created on error"
    assert "twice" in pbx.error("POST", "/Queues", {"Name": "Q", "Agents": [{"Number": "100"}, {"Number": "100"}]})
    assert "778" in pbx.error("POST", "/RingGroups", {"Name": "G", "Members": [{"Number": "778"}]})
    queue = pbx.ok("POST", "/Queues", {"Name": "Q", "Agents": [{"Number": "100", "SkillGroup": "1"}]}, 201)
    assert "Agents" not in queue, "the 201 body leaves navigation properties out"
    queue = pbx.ok("GET", f"/Queues({queue['Id']})", query={"$expand": "Agents"})
    assert queue["Agents"] == [{"Id": 41, "Name": "Ada Lovelace", "Number": "100", "Tags": [], "SkillGroup": "1"}]
    pbx.st.pbx.upsert_extensions([{"Number": "120", "FirstName": "Late"}])
    pbx.ok("PATCH", f"/Queues({queue['Id']})", {"Agents": [{"Number": "120"}]}, 204)
    agents = pbx.ok("GET", f"/Queues({queue['Id']})/Agents")["value"]
    assert [a["Number"] for a in agents] == ["120"]


def test_dnd_marker(pbx):
    pbx.st.pbx.upsert_extensions([{"Number": "102", "dnd": True}, {"Number": "103", "CurrentProfileName": "Away"}])
    rows = pbx.ok("GET", "/Users", query={"$select": "Number,CurrentProfileName"})["value"]
    assert {r["Number"]: r["CurrentProfileName"] for r in rows}["102"] == "Out of office"
    with pytest.raises(ValueError, match="CurrentProfileName"):
        pbx.st.pbx.upsert_extensions([{"Number": "102", "CurrentProfileName": "DND"}])
    with pytest.raises(ValueError, match="another DN"):
        pbx.ok("POST", "/Queues", {"Name": "Q"}, 201)
        pbx.st.pbx.upsert_extensions([{"Number": "800"}])


def test_inbound_rule_checks_did_and_destination(pbx):
    trunk = pbx.trunk(DidNumbers=["+15550001"])
    queue = pbx.ok("POST", "/Queues", {"Name": "Q"}, 201)
    body = {
        "Data": "+15550001",
        "TrunkDN": {"Id": trunk["Id"]},
        "OfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]},
    }
    assert "TrunkDN" in pbx.error("POST", "/InboundRules", {**body, "TrunkDN": None})
    assert "TrunkDN" in pbx.error("POST", "/InboundRules", {**body, "TrunkDN": {"Number": trunk["Number"]}})
    assert "External" in pbx.error("POST", "/InboundRules", {**body, "OfficeHoursDestination": {"To": "External"}})
    rule = pbx.ok("POST", "/InboundRules", body, 201)
    assert "TrunkDN" not in rule, "the 201 body leaves navigation properties out"
    assert pbx.ok("GET", f"/InboundRules({rule['Id']})", query={"$expand": "TrunkDN"})["TrunkDN"]["Type"] == "ExternalLine"
    assert "not a DID number" in pbx.error("PATCH", f"/InboundRules({rule['Id']})", {"Data": "+15550002"})
    assert pbx.call("POST", "/InboundRules", {"Condition": "ForwardAll", "RuleName": "no DID"})[0] == 201
    pbx.ok("DELETE", f"/Trunks({trunk['Id']})", None, 204)
    assert [r["Condition"] for r in pbx.ok("GET", "/InboundRules")["value"]] == ["ForwardAll"], "DID rules go with the trunk"


def test_version_hidden_fields(pbx):
    old = Pbx("20.0.8")
    assert "IsCustom" not in old.ok("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")
    assert "does not exist" in old.error("POST", "/Queues", {"Name": "Q", "VMEmailList": "a@b"})
    assert "VMEmailList" in Pbx("20.0.9").ok("POST", "/Queues", {"Name": "Q", "VMEmailList": "a@b"}, 201)
    assert "ScriptName" in pbx.trunk() and "ScriptName" not in old.trunk()


def test_reset_restores_seed_and_validates_options(pbx):
    pbx.trunk(AuthPassword={"Value": "x"})
    pbx.ok("POST", "/Queues", {"Name": "Q"}, 201)
    pbx.st.reset({"threecx_version": "20.0.8", "gateway_parameter_names": {"PPreferredIdentityHostPart": None}})
    state = pbx.st.public_state()
    assert state["collections"]["Trunks"] == [] and state["collections"]["Queues"] == []
    assert len(state["collections"]["Users"]) == 6 and len(state["collections"]["TrunkTemplates"]) == 2
    assert pbx.st.pbx.passwords == {}
    names = {p["Name"] for p in state["collections"]["Defs/GatewayParameters"]}
    assert "PPreferredIdentityHostPart" not in names
    for bad in (
        {"gateway_parameter_names": []},
        {"gateway_parameter_names": {"PPreferredIdentityHostPart": ""}},
        {"token_rate_limit": {"window_seconds": -1}},
        {"nope": 1},
        {"threecx_version": "21"},
    ):
        with pytest.raises(ValueError):
            pbx.st.reset(bad)
    assert pbx.st.version == "20.0.8", "a refused reset changes nothing"
