"""_threecx_catalogue: name resolution against the PBX's catalogues, input checks, trunk fields."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_catalogue as cat
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_inputs as tx

BASE = [
    {"Id": 1, "Name": "RequestLineURIUser"},
    {"Id": 8, "Name": "FromDisplayName"},
    {"Id": 9, "Name": "FromUserPart"},
    {"Id": 10, "Name": "FromHostPart"},
    {"Id": 14, "Name": "RemotePartyIDCallingPartyDisplayName"},
    {"Id": 15, "Name": "RemotePartyIDCallingPartyUserPart"},
    {"Id": 16, "Name": "RemotePartyIDCallingPartyHostPart"},
    {"Id": 17, "Name": "RemotePartyIDCalledPartyUserPart"},
]
GUESSED = BASE + [
    {"Id": 20, "Name": "PAssertedIdentityDisplayName"},
    {"Id": 21, "Name": "PAssertedIdentityUserPart"},
    {"Id": 22, "Name": "PAssertedIdentityHostPart"},
    {"Id": 23, "Name": "PPreferredIdentityDisplayName"},
    {"Id": 24, "Name": "PPreferredIdentityUserPart"},
    {"Id": 25, "Name": "PPreferredIdentityHostPart"},
]
# Spelled the other way the reference mentions (P-AssertedIdentityUserPart)
HYPHENATED = BASE + [
    {"Id": 30, "Name": "P-AssertedIdentityUserPart"},
    {"Id": 31, "Name": "P-AssertedIdentityHostPart"},
    {"Id": 32, "Name": "P-PreferredIdentityUserPart"},
]
VALUES = [{"Id": 8, "Name": "CallerNum"}, {"Id": 21, "Name": "OriginatorCallerId"}, {"Id": 22, "Name": "OutboundCallerId"}]


def names(resolved):
    return dict((role, entry["Name"]) for role, entry in resolved.items())


def test_preferred_names_win():
    assert names(cat.resolve_caller_id_parameters(GUESSED)) == {
        "from_user_part": "FromUserPart",
        "rpid_user_part": "RemotePartyIDCallingPartyUserPart",
        "pai_user_part": "PAssertedIdentityUserPart",
        "ppi_user_part": "PPreferredIdentityUserPart",
    }


def test_other_spellings_are_found_by_pattern():
    resolved = names(cat.resolve_caller_id_parameters(HYPHENATED))
    assert resolved["pai_user_part"] == "P-AssertedIdentityUserPart"
    assert resolved["ppi_user_part"] == "P-PreferredIdentityUserPart"


@pytest.mark.parametrize("name", ["PAIUserPart", "P_Asserted_Identity_User", "PAssertedIDUser"])
def test_pattern_variants(name):
    params = BASE + [{"Id": 40, "Name": name}, {"Id": 41, "Name": "PPIUserPart"}]
    resolved = names(cat.resolve_caller_id_parameters(params))
    assert resolved["pai_user_part"] == name
    assert resolved["ppi_user_part"] == "PPIUserPart"


def test_missing_name_lists_what_the_pbx_offers():
    with pytest.raises(ValueError) as info:
        cat.resolve_caller_id_parameters(BASE)
    msg = str(info.value)
    assert "P-Asserted-Identity user part" in msg
    assert "parameter_names.pai_user_part" in msg
    for entry in BASE:
        assert entry["Name"] in msg


def test_ambiguous_names_are_refused():
    params = BASE + [{"Id": 50, "Name": "PAssertedIdentityUser"}, {"Id": 51, "Name": "PAIUserPart"}, {"Id": 52, "Name": "PPreferredIdentityUserPart"}]
    with pytest.raises(ValueError) as info:
        cat.resolve_caller_id_parameters(params)
    assert "several gateway parameters" in str(info.value)
    assert "PAssertedIdentityUser, PAIUserPart" in str(info.value)


def test_overrides_pin_names_case_insensitively_and_use_the_pbx_spelling():
    resolved = names(cat.resolve_caller_id_parameters(HYPHENATED, {"pai_user_part": "p-assertedidentityhostpart", "ppi_user_part": None}))
    assert resolved["pai_user_part"] == "P-AssertedIdentityHostPart"
    assert resolved["ppi_user_part"] == "P-PreferredIdentityUserPart"


def test_unknown_override_lists_the_pbx_names():
    with pytest.raises(ValueError) as info:
        cat.resolve_caller_id_parameters(GUESSED, {"pai_user_part": "PAssertedId"})
    msg = str(info.value)
    assert msg.startswith("parameter_names.pai_user_part: 'PAssertedId' is not a gateway parameter")
    assert "PPreferredIdentityUserPart" in msg and "FromUserPart" in msg


def test_candidates_for_info():
    found = cat.caller_id_candidates(GUESSED)
    assert found["pai_user_part"] == ["PAssertedIdentityUserPart"]
    assert found["from_user_part"] == ["FromUserPart"]
    assert found["rpid_user_part"] == ["RemotePartyIDCallingPartyUserPart"]
    assert cat.caller_id_candidates(BASE)["ppi_user_part"] == []


def test_resolve_value_by_pbx_spelling():
    assert cat.resolve_value(VALUES, "$OriginatorCallerID")["Name"] == "OriginatorCallerId"
    assert cat.resolve_value(VALUES, "$OriginatorCallerId")["Id"] == 21


def test_resolve_value_unknown_lists_values():
    with pytest.raises(ValueError) as info:
        cat.resolve_value(VALUES, "$Nobody")
    assert "$CallerNum, $OriginatorCallerId, $OutboundCallerId" in str(info.value)


def test_find_by_name_with_empty_catalogue():
    with pytest.raises(ValueError) as info:
        cat.find_by_name([], "X", "thing", "opt")
    assert "(none)" in str(info.value)


@pytest.mark.parametrize("value", ["OriginatorCallerId", "$", "$ a", "$1", 5])
def test_check_caller_id_variable(value):
    with pytest.raises(ValueError) as info:
        tx.check_caller_id_variable("caller_id_variable", value)
    assert "caller_id_variable must be a 3CX variable" in str(info.value)


def test_check_parameter_names():
    tx.check_parameter_names("parameter_names", {"pai_user_part": "P-AssertedIdentityUserPart", "ppi_user_part": None})
    with pytest.raises(ValueError) as info:
        tx.check_parameter_names("parameter_names", {"pai_user_part": "P Asserted"})
    assert "parameter_names.pai_user_part" in str(info.value)


def test_check_codec_names():
    assert tx.check_codec_names("codecs", ["pcmu", "PCMA", "G729"]) == ["PCMU", "PCMA", "G729"]
    assert tx.check_codec_names("codecs", None) is None
    for bad, fragment in (([], "at least one"), (["PCMU", "pcmu"], "twice"), (["G.7 11"], "not a codec name")):
        with pytest.raises(ValueError) as info:
            tx.check_codec_names("codecs", bad)
        assert fragment in str(info.value)


def test_resolve_codecs_against_the_catalogue():
    catalogue = [
        {"Id": 1, "Name": "G.711 u-law", "RfcName": "PCMU"},
        {"Id": 2, "Name": "G.711 a-law", "RfcName": "PCMA"},
        {"Id": 3, "Name": "G729", "RfcName": "G729"},
    ]
    assert cat.resolve_codecs(catalogue, ["PCMU", "G729"]) == ["PCMU", "G729"]
    assert cat.resolve_codecs([], ["OPUS"]) == ["OPUS"]
    with pytest.raises(ValueError) as info:
        cat.resolve_codecs(catalogue, ["PCMU", "OPUS"])
    assert "OPUS not offered" in str(info.value) and "G729, PCMA, PCMU" in str(info.value)


@pytest.mark.parametrize("value", ["twilio.pv.xml", "GenericSIPTrunk.pv.xml", "Twilio SIP (caller id)-2.pv.xml"])
def test_template_names_ok(value):
    assert tx.check_template_name("name", value) == value


@pytest.mark.parametrize("value", ["twilio.xml", "twilio", "../x.pv.xml", "a/b.pv.xml", ".pv.xml", "x'.pv.xml", "", None])
def test_template_names_bad(value):
    with pytest.raises(ValueError) as info:
        tx.check_template_name("name", value)
    assert "name must be a provider template file name ending in .pv.xml" in str(info.value)


def test_template_path_quotes_the_string_key():
    assert cat.template_path("GenericSIPTrunk.pv.xml") == "/TrunkTemplates('GenericSIPTrunk.pv.xml')"
    assert cat.template_path("it's.pv.xml") == "/TrunkTemplates('it''s.pv.xml')"


def test_is_builtin():
    assert cat.is_builtin({"IsCustom": False})
    assert not cat.is_builtin({"IsCustom": True})
    assert not cat.is_builtin({})


def test_bindings_merge_keeps_others_and_replaces_ours():
    roles = cat.resolve_caller_id_parameters(GUESSED)
    wanted = cat.caller_id_bindings(roles, {"Id": 21, "Name": "OriginatorCallerId"})
    assert wanted == [{"ParamId": p, "ValueId": 21, "Custom": ""} for p in (9, 15, 21, 24)]
    current = [{"ParamId": 1, "ValueId": 10, "Custom": ""}, {"ParamId": 9, "ValueId": 22, "Custom": ""}]
    merged = cat.merge_bindings(current, wanted)
    assert {"ParamId": 1, "ValueId": 10, "Custom": ""} in merged
    assert {"ParamId": 9, "ValueId": 22, "Custom": ""} not in merged
    assert cat.passthrough_on(merged, wanted)
    assert not cat.passthrough_on(current, wanted)
    removed = cat.merge_bindings(merged + [{"ParamId": 15, "ValueId": 8}], wanted, enable=False)
    # only the bindings to the wanted value go; another value of the same parameter stays
    assert removed == [{"ParamId": 1, "ValueId": 10, "Custom": ""}, {"ParamId": 15, "ValueId": 8}]
    assert cat.merge_bindings(None, wanted) == wanted


def test_binding_sets_ignore_order_and_empty_custom():
    a = [{"ParamId": 1, "ValueId": 2, "Custom": None}, {"ParamId": 3, "ValueId": 4, "Custom": ""}]
    b = [{"ParamId": 3, "ValueId": 4}, {"ParamId": 1, "ValueId": 2, "Custom": ""}]
    field = cat.TRUNK_FIELDS.by_option["outbound_params"]
    assert not field.differs(a, b)
    assert field.differs(a, b + [{"ParamId": 5, "ValueId": 6}])


def test_trunk_field_kinds():
    f = cat.TRUNK_FIELDS.by_option
    assert not f["registrar"].differs("Example.SIP.us1.twilio.com", "example.sip.us1.twilio.com")
    assert not f["outbound_proxy"].differs(None, "")
    assert not f["did_numbers"].differs(["2", "1"], ["1", "2"])
    assert not f["codecs"].differs(["pcmu", "PCMA"], ["PCMU", "PCMA"])
    assert f["codecs"].differs(["PCMA", "PCMU"], ["PCMU", "PCMA"])


def test_trunk_view_never_holds_the_password():
    trunk = {
        "Id": 3,
        "Number": "10000",
        "AuthID": "u",
        "AuthPassword": {"Concealed": True},
        "Gateway": {
            "Name": "T",
            "Host": "h.example.com",
            "RequireRegistrationFor": "InOutCalls",
            "OutboundParams": [],
            "TemplateFilename": "x.pv.xml",
        },
    }
    view = cat.trunk_view(trunk, wanted_bindings=[{"ParamId": 9, "ValueId": 21}])
    assert "auth_password" not in view
    assert view["authentication"] == "credentials"
    assert view["caller_id_passthrough"] is False
    assert view["template"] == "x.pv.xml" and view["number"] == "10000"
    assert cat.trunk_view(None) == {}
    assert cat.trunk_view({"Gateway": {"RequireRegistrationFor": "Nothing"}})["authentication"] == "ip_based"
    assert "caller_id_passthrough" not in cat.trunk_view(trunk)


class _Client:
    def __init__(self, trunks=None, templates=None):
        self.trunks = trunks or []
        self.templates = templates or {}
        self.calls = []

    def list(self, path, **kwargs):
        self.calls.append(("list", path, kwargs))
        if path == "/Trunks":
            return self.trunks
        return [{"Id": k} for k in self.templates]

    def get_or_none(self, path):
        self.calls.append(("get", path))
        for key, value in self.templates.items():
            if path == cat.template_path(key):
                return value
        return None


def test_trunks_named_filters_on_the_gateway_name():
    client = _Client(trunks=[{"Id": 1, "Gateway": {"Name": "A"}}, {"Id": 2, "Gateway": {"Name": "B"}}, {"Id": 3}])
    assert [t["Id"] for t in cat.trunks_named(client, "B")] == [2]
    assert cat.trunks_named(client, "b") == []


def test_require_template_lists_the_templates():
    client = _Client(templates={"GenericSIPTrunk.pv.xml": {"Id": "GenericSIPTrunk.pv.xml"}, "acme.pv.xml": {"Id": "acme.pv.xml"}})
    assert cat.require_template(client, "acme.pv.xml", "template")["Id"] == "acme.pv.xml"
    with pytest.raises(ValueError) as info:
        cat.require_template(client, "nope.pv.xml", "template")
    assert str(info.value) == "template: the PBX has no provider template 'nope.pv.xml'; it has: acme.pv.xml, GenericSIPTrunk.pv.xml"
    # A missing template is a missing reference: check mode may assume an earlier task creates it.
    assert (info.value.option, info.value.missing) == ("template", "provider template 'nope.pv.xml'")
