"""threecx_template in-process against scripted XAPI replies."""

import json

import pytest
import requests

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _pvxml, _threecx
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_template
from tests.unit.plugins.fakes import Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "template-test-client-secret"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
NAME = "twilio.pv.xml"

BUILTIN_XML = """<?xml version="1.0" encoding="utf-8"?>
<doc xmlns:tcx="http://www.3cx.com">
  <header>
    <type>gateway-template</type>
    <version>200001</version>
    <name>Generic SIP Trunk (IP based)</name>
    <templatetype>supported</templatetype>
  </header>
  <data>
    <device>
      <type>provider</type>
      <field name="RegistrarHost"></field>
      <field name="RequireAuthFor">1</field>
      <codecs>
        <codec rfcname="pcma"/>
        <codec rfcname="g729"/>
      </codecs>
      <field name="ParameterIn" custom="" parameter="ToUserPart">$CalledNum</field>
      <field name="ParameterOut" custom="" parameter="RequestLineURIUser">$CalledNum</field>
      <field name="ParameterOut" custom="" parameter="FromUserPart">$OutboundCallerId</field>
      <field name="ParameterOut" custom="" parameter="RemotePartyIDCallingPartyUserPart">$OutboundCallerId</field>
      <field name="ParameterOut" custom="" parameter="PAssertedIdentityUserPart">$OutboundCallerId</field>
    </device>
  </data>
</doc>
"""
BUILTIN = {
    "Id": "GenericSIPTrunk.pv.xml",
    "Name": "Generic SIP Trunk (IP based)",
    "Content": BUILTIN_XML,
    "IsCustom": False,
    "TemplateType": "Supported",
}
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
FOUR = ("FromUserPart", "RemotePartyIDCallingPartyUserPart", "PAssertedIdentityUserPart", "PPreferredIdentityUserPart")


def desired_xml(base=BUILTIN_XML, name="twilio", version="200002"):
    text = _pvxml.edit(
        base, dict((p, "$OriginatorCallerId") for p in FOUR), ["PCMU", "PCMA", "G729"], header_name=name, base_template="GenericSIPTrunk.pv.xml"
    )
    return text.replace("<version>200001</version>", "<version>%s</version>" % version)


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


def catalogues(adapter, params=None, values=None, codecs=None):
    params = PARAMS if params is None else params
    values = VALUES if values is None else values
    codecs = CODECS if codecs is None else codecs
    adapter.always("GET", "/Defs/GatewayParameters", Reply(200, {"value": params}))
    adapter.always("GET", "/Defs/GatewayParameterValues", Reply(200, {"value": values}))
    adapter.always("GET", "/Defs/Codecs", Reply(200, {"value": codecs}))
    adapter.always("GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')", Reply(200, BUILTIN))
    return adapter


def missing(adapter, name=NAME):
    adapter.always("GET", "/TrunkTemplates('%s')" % name, Reply(404, {"error": {"code": "404", "message": "not found"}}))


def existing(adapter, content, name=NAME, **extra):
    body = dict({"Id": name, "Name": "twilio", "Description": None, "Content": content, "IsCustom": True, "TemplateType": "ThirdParty"}, **extra)
    adapter.always("GET", "/TrunkTemplates('%s')" % name, Reply(200, body))
    return body


def run(monkeypatch, **args):
    return run_module(threecx_template.main, dict(dict(CONN, name=NAME), **args), monkeypatch)


def writes(adapter):
    return [
        (m, requests.utils.unquote(u.split("/xapi/v1")[1]), json.loads(b) if b else None)
        for m, u, _ignored, b in adapter.sent
        if "/xapi/v1" in u and m != "GET"
    ]


def xapi(adapter):
    return [s for s in adapter.sent if "/xapi/v1" in s[1]]


def outs(text):
    return dict((p, v) for p, v, _c in _pvxml.parameters_out(text))


# --------------------------------------------------------------------------- create


def test_create_copies_the_built_in_and_binds_the_four_header_parts(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(201, {"Id": NAME, "Name": "twilio", "Content": "x", "IsCustom": True}))
    kind, result = run(monkeypatch)
    assert kind == "exit", result
    assert result["changed"] is True
    assert result["msg"] == "provider template twilio.pv.xml created"
    [(method, path, body)] = writes(pbx)
    assert (method, path) == ("POST", "/TrunkTemplates")
    assert body["Id"] == NAME and body["Name"] == "twilio"
    content = body["Content"]
    bound = outs(content)
    for name in FOUR:
        assert bound[name] == "$OriginatorCallerId"
    assert bound["RequestLineURIUser"] == "$CalledNum"
    assert _pvxml.codecs(content) == ["PCMU", "PCMA", "G729"]
    info = _pvxml.summary(content)
    assert info["version"] == "200002"
    assert info["header_name"] == "twilio"
    assert info["base_template"] == "GenericSIPTrunk.pv.xml"
    assert result["template"]["caller_id_parameters"] == {
        "from_user_part": "FromUserPart",
        "rpid_user_part": "RemotePartyIDCallingPartyUserPart",
        "pai_user_part": "PAssertedIdentityUserPart",
        "ppi_user_part": "PPreferredIdentityUserPart",
    }
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize("status", [403, 404, 405, 501])
def test_a_pbx_that_takes_templates_only_as_a_file_says_how_to_import_it(pbx, monkeypatch, status):
    # Lab variant template-file-only (issue 14): POST /TrunkTemplates is UNCONFIRMED (3cx-xapi.md §3.5).
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(status, {"error": {"code": str(status), "message": "not allowed"}}))
    kind, result = run(monkeypatch)
    assert kind == "fail", result
    assert result["msg"].startswith("provider template twilio.pv.xml: this PBX does not take templates through the XAPI")
    assert "HTTP %d: not allowed" % status in result["msg"] and "Import Provider" in result["msg"]
    assert [m for m, _p, _b in writes(pbx)] == ["POST"]


def test_a_bad_template_is_the_pbx_s_own_400(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(400, {"error": {"code": "400", "message": "bad XML"}}))
    kind, result = run(monkeypatch)
    assert kind == "fail" and "bad XML" in result["msg"] and "does not take templates" not in result["msg"]


def test_create_in_check_mode_writes_nothing_and_predicts_the_same(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True)
    assert kind == "exit" and check["changed"] is True
    assert writes(pbx) == []
    assert check["diff"]["before"] == ""
    assert "PPreferredIdentityUserPart" in check["diff"]["after"]
    assert check["diff"]["before_header"] == "TrunkTemplates('twilio.pv.xml') on the PBX"
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, real = run(monkeypatch, _ansible_diff=True)
    assert real["changed"] is True
    assert real["template"]["parameters_out"] == check["template"]["parameters_out"]
    assert real["template"]["codecs"] == check["template"]["codecs"] == ["PCMU", "PCMA", "G729"]

    def strip(text):
        return "\n".join(line for line in text.splitlines() if "<time>" not in line)

    assert strip(real["diff"]["after"]) == strip(check["diff"]["after"])


def test_create_with_display_name_description_and_other_codecs(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch, display_name="Twilio (CID)", description="kept caller ID", codecs=["pcma", "PCMU"])
    [(_m, _p, body)] = writes(pbx)
    assert body["Name"] == "Twilio (CID)" and body["Description"] == "kept caller ID"
    assert _pvxml.summary(body["Content"])["header_name"] == "Twilio (CID)"
    assert _pvxml.codecs(body["Content"]) == ["PCMA", "PCMU"]
    assert result["template"]["display_name"] == "Twilio (CID)"


def test_create_from_another_source_template(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.always("GET", "/TrunkTemplates('Acme.pv.xml')", Reply(200, dict(BUILTIN, Id="Acme.pv.xml")))
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch, source_template="Acme.pv.xml")
    assert kind == "exit", result
    assert _pvxml.summary(writes(pbx)[0][2]["Content"])["base_template"] == "Acme.pv.xml"


def test_import_from_src(pbx, monkeypatch, tmp_path):
    catalogues(pbx)
    missing(pbx)
    src = tmp_path / "mine.pv.xml"
    src.write_text(BUILTIN_XML.replace("Generic SIP Trunk (IP based)", "Mine"))
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch, src=str(src))
    assert kind == "exit", result
    [(_m, _p, body)] = writes(pbx)
    assert outs(body["Content"])["PPreferredIdentityUserPart"] == "$OriginatorCallerId"
    # no copy: the built-in was never read
    assert not [s for s in pbx.sent if "GenericSIPTrunk" in s[1]]
    # an imported file has no base template set for it
    assert _pvxml.summary(body["Content"])["base_template"] is None


def test_import_from_content_is_idempotent_and_manages_the_whole_document(pbx, monkeypatch):
    catalogues(pbx)
    stored = _pvxml.bump(_pvxml.edit(BUILTIN_XML, dict((p, "$OriginatorCallerId") for p in FOUR), ["PCMU", "PCMA", "G729"]))
    existing(pbx, stored)
    kind, result = run(monkeypatch, content=BUILTIN_XML)
    assert kind == "exit", result
    assert result["changed"] is False
    assert writes(pbx) == []
    # with content, a field changed on the PBX is a difference (the file is the truth)
    pbx.rules = [r for r in pbx.rules if "TrunkTemplates('" not in r[1]]
    existing(pbx, stored.replace('<field name="RequireAuthFor">1</field>', '<field name="RequireAuthFor">4</field>'))
    pbx.on("PATCH", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch, content=BUILTIN_XML)
    assert result["changed"] is True
    [(_m, _p, body)] = writes(pbx)
    assert '<field name="RequireAuthFor">1</field>' in body["Content"]


# --------------------------------------------------------------------------- no-op, update, adoption


def test_converged_template_sends_only_reads(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch, _ansible_diff=True)
    assert kind == "exit" and result["changed"] is False
    assert writes(pbx) == []
    assert result["diff"] == {"before": "", "after": ""}
    assert result["template"]["version"] == "200002"


def test_converged_template_reads_the_template_and_the_parameter_catalogue_only(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch, codecs=["pcmu", "pcma", "g729"])
    assert kind == "exit" and result["changed"] is False
    # Paths only: lists ask for $count=true (the client pages on the count where no nextLink says more).
    reads = [requests.utils.unquote(u.split("/xapi/v1")[1].split("?")[0]) for m, u, _h, _b in pbx.sent if m == "GET"]
    # The codecs it already lists (in any case) are not checked against /Defs/Codecs again.
    assert reads == ["/TrunkTemplates('%s')" % NAME, "/Defs/GatewayParameters", "/Defs/GatewayParameterValues"]


def test_new_codecs_of_an_existing_template_are_checked_before_the_write(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch, codecs=["PCMA", "OPUS"])
    assert kind == "fail" and "OPUS not offered by this PBX" in result["msg"]
    assert writes(pbx) == []
    pbx.on("PATCH", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch, codecs=["PCMA", "PCMU"])
    assert kind == "exit" and result["changed"] is True and result["template"]["codecs"] == ["PCMA", "PCMU"]
    assert sum(1 for m, u, _h, _b in pbx.sent if m == "GET" and u.split("?")[0].endswith("/Defs/Codecs")) == 2


def test_converged_in_check_mode(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch, _ansible_check_mode=True)
    assert result["changed"] is False and writes(pbx) == []


def test_formatting_differences_are_not_changes(pbx, monkeypatch):
    catalogues(pbx)
    reformatted = desired_xml().replace("\n      <", "\n<").replace('custom="" parameter="FromUserPart"', 'parameter="FromUserPart" custom=""')
    existing(pbx, "<!-- edited by hand -->\n" + reformatted.split("\n", 1)[1])
    kind, result = run(monkeypatch)
    assert result["changed"] is False and writes(pbx) == []


def test_update_of_a_changed_binding_patches_only_content_and_bumps_version(pbx, monkeypatch):
    catalogues(pbx)
    drifted = desired_xml(version="200007").replace(
        'parameter="PPreferredIdentityUserPart">$OriginatorCallerId', 'parameter="PPreferredIdentityUserPart">$OutboundCallerId'
    )
    existing(pbx, drifted)
    pbx.on("PATCH", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch, _ansible_diff=True)
    assert kind == "exit" and result["changed"] is True
    [(method, path, body)] = writes(pbx)
    assert (method, path) == ("PATCH", "/TrunkTemplates('twilio.pv.xml')")
    assert list(body) == ["Content"]
    assert outs(body["Content"])["PPreferredIdentityUserPart"] == "$OriginatorCallerId"
    assert _pvxml.summary(body["Content"])["version"] == "200008"
    assert result["msg"] == "provider template twilio.pv.xml updated (content)"
    assert '-      <field name="ParameterOut" custom="" parameter="PPreferredIdentityUserPart">$OutboundCallerId</field>' in "\n".join(
        "-" + line for line in result["diff"]["before"].splitlines()
    )
    assert "$OutboundCallerId</field>" in result["diff"]["before"]
    assert result["template"]["parameters_out"]["PPreferredIdentityUserPart"] == "$OriginatorCallerId"


def test_update_in_check_mode(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml().replace('<codec rfcname="pcmu"/>', ""))
    kind, result = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True and writes(pbx) == []
    assert '<codec rfcname="pcmu"/>' in result["diff"]["after"]
    assert '<codec rfcname="pcmu"/>' not in result["diff"]["before"]


def test_update_display_name_and_description(pbx, monkeypatch):
    catalogues(pbx)
    existing(pbx, desired_xml())
    pbx.on("PATCH", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch, display_name="Twilio 2", description="d")
    [(_m, _p, body)] = writes(pbx)
    assert sorted(body) == ["Content", "Description", "Name"]
    assert body["Name"] == "Twilio 2"
    assert _pvxml.summary(body["Content"])["header_name"] == "Twilio 2"
    assert result["msg"] == "provider template twilio.pv.xml updated (content, description, display_name)"


def test_existing_template_is_edited_in_place_keeping_its_other_content(pbx, monkeypatch):
    # a template made by hand (adoption): its own fields stay, only the managed parts change
    catalogues(pbx)
    made_by_hand = BUILTIN_XML.replace('<field name="RegistrarHost"></field>', '<field name="RegistrarHost">acme.example.com</field>')
    existing(pbx, made_by_hand, Name="Made by hand")
    pbx.on("PATCH", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch)
    [(_m, _p, body)] = writes(pbx)
    assert '<field name="RegistrarHost">acme.example.com</field>' in body["Content"]
    assert list(body) == ["Content"]
    # display_name unset: the header name of an existing template is left alone
    assert _pvxml.summary(body["Content"])["header_name"] == "Generic SIP Trunk (IP based)"
    # the built-in was not read: an existing template is not copied again
    assert not [s for s in pbx.sent if "GenericSIPTrunk" in s[1]]


def test_the_pbx_spelling_of_the_variable_is_used(pbx, monkeypatch):
    catalogues(pbx, values=[{"Id": 30, "Name": "OriginatorCallerID"}])
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch, caller_id_variable="$originatorcallerid")
    assert outs(writes(pbx)[0][2]["Content"])["FromUserPart"] == "$OriginatorCallerID"
    assert result["template"]["caller_id_variable"] == "$OriginatorCallerID"


def test_parameter_names_are_read_at_run_time(pbx, monkeypatch):
    renamed = [dict(p, Name=p["Name"].replace("PAssertedIdentity", "P-Asserted-Identity-")) for p in PARAMS]
    catalogues(pbx, params=renamed)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch)
    assert kind == "exit", result
    assert outs(writes(pbx)[0][2]["Content"])["P-Asserted-Identity-UserPart"] == "$OriginatorCallerId"
    assert result["template"]["caller_id_parameters"]["pai_user_part"] == "P-Asserted-Identity-UserPart"


def test_override_mapping(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(201, None))
    kind, result = run(monkeypatch, parameter_names={"pai_user_part": "PAssertedIdentityHostPart"})
    assert outs(writes(pbx)[0][2]["Content"])["PAssertedIdentityHostPart"] == "$OriginatorCallerId"


# --------------------------------------------------------------------------- delete


def test_delete_and_delete_again(pbx, monkeypatch):
    existing(pbx, desired_xml())
    pbx.on("DELETE", "/TrunkTemplates('twilio.pv.xml')", Reply(204))
    kind, result = run(monkeypatch, state="absent", _ansible_diff=True)
    assert kind == "exit" and result["changed"] is True
    assert writes(pbx) == [("DELETE", "/TrunkTemplates('twilio.pv.xml')", None)]
    assert result["template"] == {}
    assert result["diff"]["after"] == "" and "PPreferredIdentityUserPart" in result["diff"]["before"]
    pbx.rules = [r for r in pbx.rules if "TrunkTemplates('" not in r[1]]
    missing(pbx)
    pbx.sent.clear()
    kind, result = run(monkeypatch, state="absent")
    assert result["changed"] is False and writes(pbx) == []
    assert result["msg"] == "provider template twilio.pv.xml already absent"


def test_delete_in_check_mode(pbx, monkeypatch):
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch, state="absent", _ansible_check_mode=True)
    assert result["changed"] is True and writes(pbx) == []


# --------------------------------------------------------------------------- faults


def test_lost_create_reply_is_found_again(pbx, monkeypatch):
    catalogues(pbx)
    pbx.on("GET", "/TrunkTemplates('twilio.pv.xml')", Reply(404, {"error": {"code": "404", "message": "nope"}}))
    pbx.on("POST", "/TrunkTemplates", Reply(raise_exc=requests.exceptions.ConnectionError("Connection aborted.")))
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch)
    assert kind == "exit", result
    assert result["changed"] is True
    assert [w[0] for w in writes(pbx)] == ["POST"]


def test_lost_create_that_did_not_land_says_it_may_still_appear(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(raise_exc=requests.exceptions.ConnectionError("Connection aborted.")))
    kind, result = run(monkeypatch)
    assert kind == "fail"
    assert "the next run finds it by its natural key" in result["msg"]
    assert [w[0] for w in writes(pbx)] == ["POST"]


def test_503_on_a_read_is_retried(pbx, monkeypatch):
    catalogues(pbx)
    pbx.on("GET", "/TrunkTemplates('twilio.pv.xml')", Reply(503, {"error": {"code": "503", "message": "busy"}}))
    existing(pbx, desired_xml())
    kind, result = run(monkeypatch)
    assert kind == "exit" and result["changed"] is False


# --------------------------------------------------------------------------- refusals and bad input


def test_built_in_templates_cannot_be_edited(pbx, monkeypatch):
    catalogues(pbx)
    pbx.always("GET", "/TrunkTemplates('GenericVoIPProvider.pv.xml')", Reply(200, dict(BUILTIN, Id="GenericVoIPProvider.pv.xml")))
    kind, result = run_module(threecx_template.main, dict(CONN, name="GenericVoIPProvider.pv.xml"), monkeypatch)
    assert kind == "fail"
    assert "built-in 3CX template" in result["msg"] and "can be neither edited nor deleted" in result["msg"]
    assert writes(pbx) == []


def test_built_in_templates_cannot_be_deleted(pbx, monkeypatch):
    catalogues(pbx)
    kind, result = run_module(threecx_template.main, dict(CONN, name="GenericSIPTrunk.pv.xml", state="absent"), monkeypatch)
    assert kind == "fail" and "built-in" in result["msg"]
    assert writes(pbx) == []


def test_unknown_source_template_lists_the_templates(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    missing(pbx, "Nope.pv.xml")
    pbx.always("GET", "/TrunkTemplates", Reply(200, {"value": [{"Id": "GenericSIPTrunk.pv.xml"}, {"Id": "GenericVoIPProvider.pv.xml"}]}))
    kind, result = run(monkeypatch, source_template="Nope.pv.xml")
    assert kind == "fail"
    assert (
        result["msg"] == "source_template: the PBX has no provider template 'Nope.pv.xml'; it has: GenericSIPTrunk.pv.xml, GenericVoIPProvider.pv.xml"
    )
    assert writes(pbx) == []


def test_source_without_content_points_to_src(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.rules.insert(1, ["GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')", Reply(200, dict(BUILTIN, Content=None)), None])
    kind, result = run(monkeypatch)
    assert kind == "fail"
    assert "Update 9" in result["msg"] and "src or content" in result["msg"]
    assert writes(pbx) == []


def test_unknown_parameter_name_lists_the_pbx_names(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    kind, result = run(monkeypatch, parameter_names={"ppi_user_part": "PPI"})
    assert kind == "fail"
    assert result["msg"].startswith("parameter_names.ppi_user_part: 'PPI' is not a gateway parameter")
    for entry in PARAMS:
        assert entry["Name"] in result["msg"]
    assert writes(pbx) == []


def test_unresolvable_pai_name_lists_the_pbx_names(pbx, monkeypatch):
    catalogues(pbx, params=[p for p in PARAMS if "Asserted" not in p["Name"]])
    missing(pbx)
    kind, result = run(monkeypatch)
    assert kind == "fail"
    assert "P-Asserted-Identity user part" in result["msg"] and "parameter_names.pai_user_part" in result["msg"]
    assert "PPreferredIdentityUserPart" in result["msg"]
    assert writes(pbx) == []


def test_unknown_variable_lists_the_values(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    kind, result = run(monkeypatch, caller_id_variable="$Nobody")
    assert kind == "fail" and "$OriginatorCallerId" in result["msg"]
    assert writes(pbx) == []


def test_unknown_codec_lists_the_codecs(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    kind, result = run(monkeypatch, codecs=["PCMU", "OPUS"])
    assert kind == "fail" and "OPUS not offered by this PBX; it offers: G729, PCMA, PCMU" in result["msg"]
    assert writes(pbx) == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(name="twilio.xml"), "name must be a provider template file name ending in .pv.xml"),
        (dict(name="../x.pv.xml"), "name must be a provider template file name"),
        (dict(source_template="Generic"), "source_template must be a provider template file name"),
        (dict(name="GenericSIPTrunk.pv.xml"), "name must differ from source_template"),
        (dict(caller_id_variable="OriginatorCallerId"), "caller_id_variable must be a 3CX variable"),
        (dict(codecs=[]), "codecs must list at least one codec"),
        (dict(codecs=["PCMU", "pcmu"]), "codecs lists pcmu twice"),
        (dict(parameter_names={"pai_user_part": "P A I"}), "parameter_names.pai_user_part must be the Name"),
        (dict(content="<html/>"), "content is not a 3CX provider template"),
        (dict(content="<doc>"), "content is not well-formed XML"),
        (dict(src="/nonexistent/t.pv.xml"), "src: /nonexistent/t.pv.xml is not a readable file"),
        (dict(display_name=" "), "display_name must not be empty"),
        (dict(timeout=0), "timeout must be a positive number"),
        (dict(timeout=-5), "timeout must be a positive number"),
        (dict(src="/tmp/a", content="<doc/>"), "mutually exclusive"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **args)
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.sent == []


def test_bad_src_file_fails_before_any_request(pbx, monkeypatch, tmp_path):
    src = tmp_path / "bad.pv.xml"
    src.write_text("<doc><header></doc>")
    kind, result = run(monkeypatch, src=str(src))
    assert kind == "fail" and "src (%s) is not well-formed XML" % src in result["msg"]
    assert pbx.sent == []


def test_missing_lxml_is_reported(pbx, monkeypatch):
    monkeypatch.setattr(_pvxml, "HAS_LXML", False)
    monkeypatch.setattr(_pvxml, "LXML_IMPORT_ERROR", "trace")
    kind, result = run(monkeypatch)
    assert kind == "fail" and "lxml" in result["msg"]
    assert pbx.sent == []


def test_api_error_is_reported_without_secret(pbx, monkeypatch):
    catalogues(pbx)
    missing(pbx)
    pbx.on("POST", "/TrunkTemplates", Reply(400, {"error": {"code": "400", "message": "The template Content is empty."}}))
    kind, result = run(monkeypatch)
    assert kind == "fail"
    assert result["msg"] == "3CX XAPI POST /TrunkTemplates failed with HTTP 400: The template Content is empty."
    assert SECRET not in json.dumps(result)
