"""threecx_info in-process against scripted XAPI replies: reads only, secrets never returned."""

import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_info
from tests.unit.plugins.fakes import Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "info-test-client-secret"
PASSWORD = "Trunk-Passw0rd-Never-Shown"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
PARAMS = [
    {
        "Id": 141,
        "Name": "FromUserPart",
        "Description": "From",
        "CanHaveDID": False,
        "InboundPossibleValues": ["CallerNum"],
        "OutboundPossibleValues": ["OriginatorCallerId"],
        "SourceIDPossibleValues": [],
    },
    {"Id": 121, "Name": "RemotePartyIDCallingPartyUserPart", "OutboundPossibleValues": ["OriginatorCallerId"]},
    {"Id": 101, "Name": "P-Asserted-Identity-User", "OutboundPossibleValues": []},
    {"Id": 102, "Name": "P-Asserted-Identity-Host"},
    {"Id": 152, "Name": "PPreferredIdentityUserPart"},
]
VALUES = [{"Id": 30, "Name": "OriginatorCallerId", "Description": "orig"}]
CODECS = [{"Id": 3, "Name": "G.711 u-law", "RfcName": "PCMU"}]
TRUNK = {
    "Id": 7,
    "Number": "10000",
    "AuthID": "pbx1",
    "AuthPassword": {"Concealed": True, "Value": PASSWORD},
    "DidNumbers": ["+14155550100"],
    "TransportRestriction": "UDP",
    "Gateway": {
        "Name": "Twilio",
        "Host": "a.sip.us1.twilio.com",
        "Port": 5060,
        "RequireRegistrationFor": "InOutCalls",
        "TemplateFilename": "t.pv.xml",
        "OutboundParams": [],
    },
}
QUEUE = {
    "Id": 3,
    "Number": "800",
    "Name": "Support",
    "PollingStrategy": "RingAll",
    "RingTimeout": 10,
    "ForwardNoAnswer": {"To": "External", "External": "+14155550199"},
    "Agents": [{"Number": "100"}],
    "Groups": [{"GroupId": 31, "Name": "Support", "Number": "GRP0001"}, {"GroupId": 27, "Name": "DEFAULT"}],
}


USERS = [
    {
        "Id": 41,
        "Number": "100",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "DisplayName": "",
        "CurrentProfileName": "Available",
        "QueueStatus": "LoggedIn",
    },
    {"Id": 44, "Number": "101", "FirstName": "Alan", "LastName": "Turing", "DisplayName": "A. Turing", "CurrentProfileName": "Out of office"},
    {"Id": 47, "Number": "102", "FirstName": "Grace", "LastName": "", "CurrentProfileName": "Custom 1", "VMPIN": "1234"},
]


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    adapter = ScriptedAdapter().always("POST", "/connect/token", Reply(200, {"access_token": "tok", "expires_in": 3600}))
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        kwargs["session"] = session_with(adapter)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path))
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return adapter


def everything(adapter, version="20.0.10.100", params=None):
    params = PARAMS if params is None else params
    adapter.always("GET", "/Defs/Pbx.GetSystemParameters()", Reply(200, {"Version": version, "FQDN": "pbx.example.com", "MaxDIDPerTrunk": 100}))
    adapter.always("GET", "/Defs/GatewayParameters", Reply(200, {"value": params}))
    adapter.always("GET", "/Defs/GatewayParameterValues", Reply(200, {"value": VALUES}))
    adapter.always("GET", "/Defs/Codecs", Reply(200, {"value": CODECS}))
    adapter.always(
        "GET",
        "/TrunkTemplates",
        Reply(200, {"value": [{"Id": "GenericSIPTrunk.pv.xml", "Name": "Generic", "IsCustom": False, "TemplateType": "Supported"}]}),
    )
    adapter.always("GET", "/Trunks", Reply(200, {"value": [TRUNK]}))
    adapter.always("GET", "/Queues", Reply(200, {"@odata.context": "x", "value": [QUEUE]}))
    adapter.always("GET", "/RingGroups", Reply(200, {"value": [{"Id": 4, "Number": "700", "RingStrategy": "RingAll"}]}))
    adapter.always("GET", "/InboundRules", Reply(200, {"value": [{"Id": 5, "RuleName": "Main", "Condition": "BasedOnDID", "Data": "14155550100"}]}))
    adapter.always("GET", "/OutboundRules", Reply(200, {"value": [{"Id": 6, "Name": "To Twilio", "Routes": [{"TrunkId": 7, "StripDigits": 0}]}]}))
    adapter.always("GET", "/E164Settings", Reply(200, {"Enabled": False, "CountryCode": "1"}))
    adapter.always("GET", "/Users", Reply(200, {"value": USERS}))
    return adapter


def run(monkeypatch, **args):
    return run_module(threecx_info.main, dict(CONN, **args), monkeypatch)


def xapi_paths(adapter):
    return [u.split("/xapi/v1")[1].split("?")[0] for m, u, _ignored, _b in adapter.sent if "/xapi/v1" in u]


def test_gather_all(pbx, monkeypatch):
    everything(pbx)
    kind, result = run(monkeypatch)
    assert kind == "exit", result
    assert result["changed"] is False
    assert all(m == "GET" for m, u, _h, _b in pbx.sent if "/xapi/v1" in u)
    assert result["system"] == {
        "version": "20.0.10.100",
        "fqdn": "pbx.example.com",
        "max_did_per_trunk": 100,
        "number_keys": True,
        "number_key_example": "/Queues(Number='800')",
        "expires_in_unit": "seconds",
    }
    gw = result["gateway_parameters"]
    assert gw["parameters"][0] == {
        "id": 141,
        "name": "FromUserPart",
        "description": "From",
        "can_have_did": False,
        "inbound_possible_values": ["CallerNum"],
        "outbound_possible_values": ["OriginatorCallerId"],
        "source_id_possible_values": [],
    }
    assert gw["parameter_values"] == [{"id": 30, "name": "OriginatorCallerId", "description": "orig"}]
    assert gw["caller_id_candidates"]["pai_user_part"] == ["P-Asserted-Identity-User"]
    assert gw["caller_id_parameters"] == {
        "from_user_part": "FromUserPart",
        "rpid_user_part": "RemotePartyIDCallingPartyUserPart",
        "pai_user_part": "P-Asserted-Identity-User",
        "ppi_user_part": "PPreferredIdentityUserPart",
    }
    assert gw["caller_id_problems"] == {}
    assert result["codecs"] == [{"id": 3, "name": "G.711 u-law", "rfc_name": "PCMU"}]
    assert result["templates"][0]["is_custom"] is False
    [trunk] = result["trunks"]
    assert trunk["name"] == "Twilio" and trunk["registrar"] == "a.sip.us1.twilio.com" and trunk["number"] == "10000"
    assert trunk["authentication"] == "credentials"
    assert "auth_password" not in trunk
    assert result["queues"][0]["polling_strategy"] == "RingAll"
    assert result["queues"][0]["forward_no_answer"] == {"to": "External", "external": "+14155550199"}
    assert result["queues"][0]["members"] == ["100"]
    assert result["queues"][0]["no_answer_destination"] == {"type": "external", "number": None, "external": "+14155550199"}
    assert result["ring_groups"][0]["ring_strategy"] == "RingAll"
    assert result["ring_groups"][0]["members"] == [] and result["ring_groups"][0]["no_answer_destination"] is None
    assert [u["dnd"] for u in result["users"]] == [False, True, False]
    assert result["users"][0]["display_name"] == "Ada Lovelace" and result["users"][1]["display_name"] == "A. Turing"
    assert "vmpin" not in result["users"][2] and "1234" not in json.dumps(result["users"])
    assert result["inbound_rules"][0]["rule_name"] == "Main"
    assert result["outbound_rules"][0]["routes"] == [{"trunk_id": 7, "strip_digits": 0}]
    assert result["e164"] == {"enabled": False, "country_code": "1"}
    text = json.dumps(result)
    assert PASSWORD not in text and SECRET not in text


@pytest.mark.parametrize(
    "version,number_keys,example,unit",
    [
        ("20.0.7.900", False, "/Queues/Pbx.GetByNumber(number='800')", "minutes"),
        ("20.0.8.1121", True, "/Queues(Number='800')", "minutes"),
        ("20.0.9.10", True, "/Queues(Number='800')", "seconds"),
        ("20.0.10.1", True, "/Queues(Number='800')", "seconds"),
    ],
)
def test_what_the_version_implies(pbx, monkeypatch, version, number_keys, example, unit):
    everything(pbx, version=version)
    kind, result = run(monkeypatch, gather=["system"])
    assert result["system"]["number_keys"] is number_keys
    assert result["system"]["number_key_example"] == example
    assert result["system"]["expires_in_unit"] == unit
    assert xapi_paths(pbx) == ["/Defs/Pbx.GetSystemParameters()"]  # read once, for the section and the version


def test_templates_select_is_cut_to_the_version(pbx, monkeypatch):
    everything(pbx, version="20.0.9.1")
    run(monkeypatch, gather=["templates"])
    [query] = [u for m, u, _h, _b in pbx.sent if "/TrunkTemplates" in u]
    assert "IsCustom" not in query


def test_gather_a_subset_reads_only_that(pbx, monkeypatch):
    everything(pbx)
    kind, result = run(monkeypatch, gather=["gateway_parameters", "trunks"])
    assert set(result) >= {"system", "gateway_parameters", "trunks"}
    assert "queues" not in result and "e164" not in result and "codecs" not in result
    assert sorted(xapi_paths(pbx)) == ["/Defs/GatewayParameterValues", "/Defs/GatewayParameters", "/Defs/Pbx.GetSystemParameters()", "/Trunks"]


def test_unresolvable_names_are_reported_not_fatal(pbx, monkeypatch):
    everything(pbx, params=[p for p in PARAMS if "Asserted" not in p["Name"]])
    kind, result = run(monkeypatch, gather=["gateway_parameters"])
    assert kind == "exit"
    gw = result["gateway_parameters"]
    assert gw["caller_id_parameters"]["pai_user_part"] is None
    assert gw["caller_id_parameters"]["ppi_user_part"] == "PPreferredIdentityUserPart"
    assert "P-Asserted-Identity user part" in gw["caller_id_problems"]["pai_user_part"]


def test_check_mode_is_the_same(pbx, monkeypatch):
    everything(pbx)
    kind, result = run(monkeypatch, _ansible_check_mode=True, gather=["e164"])
    assert kind == "exit" and result["changed"] is False and result["e164"]["enabled"] is False


def test_secret_keys_are_dropped_everywhere():
    assert threecx_info.scrub(
        {"A": {"AuthPassword": {"Value": "x"}, "ClientSecret": "y", "B": [{"AccessToken": "z", "C": 1}]}, "@odata.context": "u"}
    ) == {"A": {"B": [{"C": 1}]}}


@pytest.mark.parametrize(
    "args,fragment", [(dict(gather=["nope"]), "value of gather must be one or more of"), (dict(timeout=0), "timeout must be a positive number")]
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **args)
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.sent == []


def test_api_error(pbx, monkeypatch):
    pbx.always("GET", "/Defs/Pbx.GetSystemParameters()", Reply(403, {"error": {"code": "403", "message": "Forbidden"}}))
    kind, result = run(monkeypatch)
    assert kind == "fail" and "HTTP 403: Forbidden" in result["msg"]
    assert SECRET not in json.dumps(result)


def query_of(adapter, path):
    return [u for m, u, _h, _b in adapter.sent if ("/xapi/v1" + path + "?") in u or u.endswith("/xapi/v1" + path)]


def test_groups_and_rules_are_read_with_their_navigation_properties(pbx, monkeypatch):
    everything(pbx)
    _kind, result = run(monkeypatch, gather=["queues", "ring_groups", "inbound_rules", "outbound_rules"])
    assert "%24expand=Agents%2CGroups" in query_of(pbx, "/Queues")[0]
    assert "%24expand=Members%2CGroups" in query_of(pbx, "/RingGroups")[0]
    # The departments decide which outbound rules a forwarded call may take.
    assert result["queues"][0]["department_ids"] == [27, 31] and result["queues"][0]["department_names"] == ["DEFAULT", "Support"]
    assert result["ring_groups"][0]["department_ids"] is None and result["ring_groups"][0]["department_names"] is None  # not in the reply
    assert "%24expand=TrunkDN" in query_of(pbx, "/InboundRules")[0]
    assert "%24expand" not in query_of(pbx, "/OutboundRules")[0]


def test_users_are_read_with_select_only_and_dnd_profiles_are_configurable(pbx, monkeypatch):
    everything(pbx)
    kind, result = run(monkeypatch, gather=["users"], dnd_profiles=["custom 1"])
    assert kind == "exit"
    [query] = query_of(pbx, "/Users")
    assert "%24select=Id%2CNumber%2CFirstName%2CLastName%2CDisplayName%2CCurrentProfileName%2CQueueStatus%2CEnabled%2CIsRegistered" in query
    assert [(u["number"], u["dnd"]) for u in result["users"]] == [("100", False), ("101", False), ("102", True)]
    assert set(result["users"][0]) == {
        "id",
        "number",
        "first_name",
        "last_name",
        "display_name",
        "current_profile_name",
        "queue_status",
        "enabled",
        "is_registered",
        "dnd",
    }


def template_xml(bindings):
    fields = "".join('<field name="ParameterOut" custom="" parameter="%s">%s</field>' % pair for pair in bindings)
    return '<?xml version="1.0" encoding="utf-8"?><doc><header><type>gateway-template</type></header><data><device>%s</device></data></doc>' % fields


FOUR = [
    ("FromUserPart", "$OriginatorCallerId"),
    ("RemotePartyIDCallingPartyUserPart", "$OriginatorCallerId"),
    ("P-Asserted-Identity-User", "$OriginatorCallerId"),
    ("PPreferredIdentityUserPart", "$OriginatorCallerId"),
]


def caller_id_pbx(adapter, template_bindings, trunk_params, templates=None):
    everything(adapter)
    values = VALUES + [{"Id": 31, "Name": "CallerNum"}]
    adapter.rules = [
        r for r in adapter.rules if "/Defs/GatewayParameterValues" not in r[1] and "/TrunkTemplates" not in r[1] and "/Trunks" not in r[1]
    ]
    adapter.always("GET", "/Defs/GatewayParameterValues", Reply(200, {"value": values}))
    adapter.always("GET", "/TrunkTemplates('twilio-cid.pv.xml')", Reply(200, {"Id": "twilio-cid.pv.xml", "Content": template_xml(template_bindings)}))
    adapter.always("GET", "/TrunkTemplates('broken.pv.xml')", Reply(200, {"Id": "broken.pv.xml", "Content": "<html/>"}))
    listed = templates or [
        {"Id": "GenericSIPTrunk.pv.xml", "IsCustom": False},
        {"Id": "twilio-cid.pv.xml", "IsCustom": True},
    ]
    adapter.always("GET", "/TrunkTemplates", Reply(200, {"value": listed}))
    trunk = dict(TRUNK, Gateway=dict(TRUNK["Gateway"], TemplateFilename="twilio-cid.pv.xml", OutboundParams=trunk_params))
    adapter.always("GET", "/Trunks", Reply(200, {"value": [trunk]}))
    return adapter


def test_caller_id_bindings_of_templates_and_trunks(pbx, monkeypatch):
    caller_id_pbx(
        pbx,
        [
            ("FromUserPart", "$CallerNum"),
            ("RemotePartyIDCallingPartyUserPart", "$originatorcallerid"),
            ("PPreferredIdentityUserPart", "$OriginatorCallerId"),
        ],
        [{"ParamId": 141, "ValueId": 30, "Custom": ""}, {"ParamId": 101, "ValueId": 31, "Custom": ""}],
    )
    kind, result = run(monkeypatch, gather=["caller_id"], template_names=["missing.pv.xml"])
    assert kind == "exit", result
    assert all(m == "GET" for m, u, _h, _b in pbx.sent if "/xapi/v1" in u)
    cid = result["caller_id"]
    assert cid["variable"] == "$OriginatorCallerId"
    assert cid["parameters"]["pai_user_part"] == "P-Asserted-Identity-User" and cid["problems"] == {}
    by_id = {t["id"]: t for t in cid["templates"]}
    assert list(by_id) == ["missing.pv.xml", "twilio-cid.pv.xml"]  # named, then custom (also the trunk's)
    assert by_id["missing.pv.xml"]["found"] is False and by_id["missing.pv.xml"]["missing"] == list(cat_roles())
    tpl = by_id["twilio-cid.pv.xml"]
    assert tpl["found"] is True and tpl["is_custom"] is True and tpl["problem"] is None
    assert tpl["bindings"] == {
        "from_user_part": "$CallerNum",
        "rpid_user_part": "$originatorcallerid",
        "pai_user_part": None,
        "ppi_user_part": "$OriginatorCallerId",
    }
    assert tpl["missing"] == ["from_user_part", "pai_user_part"]  # case does not count
    [trunk] = cid["trunks"]
    assert trunk["template"] == "twilio-cid.pv.xml" and trunk["number"] == "10000"
    assert trunk["bindings"]["from_user_part"] == "$OriginatorCallerId" and trunk["bindings"]["pai_user_part"] == "$CallerNum"
    assert trunk["missing"] == ["rpid_user_part", "pai_user_part", "ppi_user_part"]
    assert "trunks" not in result  # read for caller_id, not returned unless gathered


def test_caller_id_complete_with_pinned_names_and_a_broken_template(pbx, monkeypatch):
    bound = [{"ParamId": i, "ValueId": 30, "Custom": ""} for i in (141, 121, 101, 152)]
    caller_id_pbx(pbx, FOUR, bound, templates=[{"Id": "twilio-cid.pv.xml", "IsCustom": True}, {"Id": "broken.pv.xml", "IsCustom": True}])
    kind, result = run(monkeypatch, gather=["caller_id"], parameter_names={"pai_user_part": "P-Asserted-Identity-User"})
    by_id = {t["id"]: t for t in result["caller_id"]["templates"]}
    assert by_id["twilio-cid.pv.xml"]["missing"] == [] and result["caller_id"]["trunks"][0]["missing"] == []
    assert "not a 3CX provider template" in by_id["broken.pv.xml"]["problem"]


def test_caller_id_bad_input_fails_before_any_request(pbx, monkeypatch):
    kind, result = run(monkeypatch, gather=["caller_id"], caller_id_variable="OriginatorCallerId")
    assert kind == "fail" and "caller_id_variable must be a 3CX variable" in result["msg"]
    assert pbx.sent == []


def cat_roles():
    return ("from_user_part", "rpid_user_part", "pai_user_part", "ppi_user_part")
