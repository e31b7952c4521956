"""_pvxml: parse, edit, normalise, bump and diff provider templates, without any network."""

import datetime

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _pvxml as x

# Shaped like 3CX's v20 provider templates (header, sms variables, device fields with trailing
# comments, codecs, source identification, ParameterIn/ParameterOut, commented-out fields).
GENERIC = """<?xml version="1.0"?>
<doc xmlns:tcx="http://www.3cx.com">
<header>
    <type>gateway-template</type>
    <version>150010</version>
    <time>2025-03-01 12:00:00</time>
    <name>Generic SIP Trunk (IP Based)</name>
    <url>https://www.3cx.com/partners/sip-trunks/</url>
    <description>Worldwide</description>
\t<tags>registrar,proxy,port,advanced</tags>
    <templatetype>supported</templatetype>
</header>
<data>
   <device>
      <type>provider</type>
      <manufacturer>Generic</manufacturer>
      <model>Provider</model>
      <field name="Name">Generic SIP Trunk</field>
      <field name="RegistrarHost"></field>\t\t<!-- Registrar IP / FQDN -->
      <field name="RegistrarPort">5060</field>
      <field name="RequireAuthFor">1</field>\t<!-- No=1; In=2; Out=3; Both=4 -->
    <codecs>
      <codec rfcname="g729"/>
      <codec rfcname="pcma"/>
    </codecs>
      <field status="readonly" name="MatchStrategy">0</field>
      <field status="readonly" name="Source" parameter="ContactHost" custom="">$GWHostPort</field>
      <field name="ParameterIn" custom="" parameter="ToUserPart">$CalledNum</field>
      <field name="ParameterIn" custom="" parameter="FromUserPart">$CallerNum</field>
      <field name="ParameterOut" custom="" parameter="RequestLineURIUser">$CalledNum</field>
      <!-- <field name="ParameterOut" custom="" parameter="ContactUser">$OutboundCallerId</field> -->
      <field name="ParameterOut" custom="" parameter="FromDisplayName">$OriginatorCallerId</field>
      <field name="ParameterOut" custom="" parameter="FromUserPart">$OutboundCallerId</field>
      <field name="ParameterOut" custom="3CX" parameter="UserAgentTextString">$CustomField</field>
      <field name="ParameterOut" custom="" parameter="RemotePartyIDCallingPartyUserPart">$OutboundCallerId</field>
    </device>
</data>
</doc>
"""

FOUR = ("FromUserPart", "RemotePartyIDCallingPartyUserPart", "PAssertedIdentityUserPart", "PPreferredIdentityUserPart")
CID = dict((name, "$OriginatorCallerId") for name in FOUR)
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def outs(text):
    return dict((p, v) for p, v, _c in x.parameters_out(text))


# --------------------------------------------------------------------------- parse


def test_parse_accepts_a_template_with_declaration_bom_and_comments():
    root = x.parse("\ufeff" + GENERIC)
    assert root.tag == "doc"
    assert root.findtext("header/version") == "150010"


def test_parse_accepts_a_unicode_declaration_with_encoding():
    assert x.parse(GENERIC.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>')).tag == "doc"


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        (None, "is empty"),
        ("<doc><header>", "not well-formed XML"),
        ("<html><body/></html>", "root element is <html>"),
        ("<doc><header/></doc>", "no <data><device> section"),
        ("<doc><header><type>phone-template</type></header><data><device/></data></doc>", "<type>phone-template</type>"),
    ],
)
def test_parse_rejects_what_is_not_a_template(text, fragment):
    with pytest.raises(x.TemplateError) as info:
        x.parse(text, what="src (t.pv.xml)")
    assert fragment in str(info.value)
    if text and text.strip():
        assert "src (t.pv.xml)" in str(info.value)


def test_parse_never_expands_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    text = (
        '<?xml version="1.0"?><!DOCTYPE doc [<!ENTITY x SYSTEM "file://%s">]><doc><header><name>&x;</name></header><data><device/></data></doc>'
        % secret
    )
    try:
        root = x.parse(text)
    except x.TemplateError:
        return  # refusing is fine too
    assert "TOPSECRET" not in x.serialise(root)


def test_template_error_is_a_value_error():
    # modules run inside api_errors(), which turns ValueError into fail_json
    assert issubclass(x.TemplateError, ValueError)


# --------------------------------------------------------------------------- read


def test_parameters_out_in_document_order_without_comments():
    assert x.parameters_out(GENERIC) == [
        ("RequestLineURIUser", "$CalledNum", ""),
        ("FromDisplayName", "$OriginatorCallerId", ""),
        ("FromUserPart", "$OutboundCallerId", ""),
        ("UserAgentTextString", "$CustomField", "3CX"),
        ("RemotePartyIDCallingPartyUserPart", "$OutboundCallerId", ""),
    ]


def test_codecs_are_upper_case_in_priority_order():
    assert x.codecs(GENERIC) == ["G729", "PCMA"]


def test_codecs_of_a_template_without_codecs():
    assert x.codecs("<doc><data><device/></data></doc>") == []


def test_summary():
    info = x.summary(GENERIC)
    assert info["header_name"] == "Generic SIP Trunk (IP Based)"
    assert info["version"] == "150010"
    assert info["time"] == "2025-03-01 12:00:00"
    assert info["base_template"] is None
    assert info["parameters_out"]["FromUserPart"] == "$OutboundCallerId"
    assert info["codecs"] == ["G729", "PCMA"]


# --------------------------------------------------------------------------- edit


def test_edit_binds_the_four_header_parts_and_adds_the_missing_ones():
    edited = x.edit(GENERIC, CID)
    bound = outs(edited)
    for name in FOUR:
        assert bound[name] == "$OriginatorCallerId"
    # untouched bindings stay
    assert bound["RequestLineURIUser"] == "$CalledNum"
    assert bound["UserAgentTextString"] == "$CustomField"
    # each parameter appears once
    names = [p for p, _v, _c in x.parameters_out(edited)]
    assert len(names) == len(set(names))
    # new ones go after the last ParameterOut, in the given order
    assert names[-2:] == ["PAssertedIdentityUserPart", "PPreferredIdentityUserPart"]


def test_edit_keeps_everything_else_byte_for_byte():
    edited = x.edit(GENERIC, CID)
    for line in ("<!-- No=1; In=2; Out=3; Both=4 -->", '<field name="RegistrarPort">5060</field>', "<tags>registrar,proxy,port,advanced</tags>"):
        assert line in edited
    assert '<!-- <field name="ParameterOut" custom="" parameter="ContactUser">$OutboundCallerId</field> -->' in edited
    assert x.parameters_out(edited)[0] == ("RequestLineURIUser", "$CalledNum", "")
    # ParameterIn is never touched
    assert '<field name="ParameterIn" custom="" parameter="FromUserPart">$CallerNum</field>' in edited


def test_new_fields_are_indented_like_their_neighbours():
    edited = x.edit(GENERIC, CID)
    assert '\n      <field name="ParameterOut" custom="" parameter="PAssertedIdentityUserPart">$OriginatorCallerId</field>\n' in edited
    assert '\n      <field name="ParameterOut" custom="" parameter="PPreferredIdentityUserPart">$OriginatorCallerId</field>\n    </device>' in edited


def test_edit_sets_the_codec_order_in_lower_case():
    edited = x.edit(GENERIC, codec_names=["PCMU", "PCMA", "G729"])
    assert x.codecs(edited) == ["PCMU", "PCMA", "G729"]
    assert '<codec rfcname="pcmu"/>' in edited


def test_edit_adds_codecs_before_the_parameters_when_missing():
    text = (
        '<doc><header/><data><device><field name="Name">x</field>'
        '<field name="ParameterOut" custom="" parameter="ToUserPart">$CalledNum</field></device></data></doc>'
    )
    edited = x.edit(text, codec_names=["PCMU"])
    root = x.parse(edited)
    tags = [(c.tag, c.get("name")) for c in root.find("data/device")]
    assert tags == [("field", "Name"), ("codecs", None), ("field", "ParameterOut")]
    assert x.codecs(edited) == ["PCMU"]


def test_edit_without_codecs_leaves_them():
    assert x.codecs(x.edit(GENERIC, CID)) == ["G729", "PCMA"]


def test_edit_removes_duplicate_bindings_of_a_parameter():
    text = GENERIC.replace(
        '<field name="ParameterOut" custom="" parameter="RequestLineURIUser">$CalledNum</field>',
        '<field name="ParameterOut" custom="" parameter="FromUserPart">$CallerNum</field>\n'
        '      <field name="ParameterOut" custom="" parameter="RequestLineURIUser">$CalledNum</field>',
    )
    edited = x.edit(text, {"FromUserPart": "$OriginatorCallerId"})
    assert [v for p, v, _c in x.parameters_out(edited) if p == "FromUserPart"] == ["$OriginatorCallerId"]


def test_edit_clears_a_custom_literal_of_a_rebound_parameter():
    edited = x.edit(GENERIC, {"UserAgentTextString": "$OriginatorCallerId"})
    assert ("UserAgentTextString", "$OriginatorCallerId", "") in x.parameters_out(edited)


def test_edit_into_an_empty_device():
    edited = x.edit("<doc><data><device/></data></doc>", {"FromUserPart": "$OriginatorCallerId"}, ["PCMU"])
    assert outs(edited) == {"FromUserPart": "$OriginatorCallerId"}
    assert x.codecs(edited) == ["PCMU"]


def test_edit_sets_header_name_and_base_template():
    edited = x.edit(GENERIC, header_name="Twilio SIP Domain", base_template="GenericSIPTrunk.pv.xml")
    info = x.summary(edited)
    assert info["header_name"] == "Twilio SIP Domain"
    assert info["base_template"] == "GenericSIPTrunk.pv.xml"
    # an existing base template is kept
    again = x.edit(edited, base_template="Other.pv.xml")
    assert x.summary(again)["base_template"] == "GenericSIPTrunk.pv.xml"


def test_edit_creates_a_header_when_missing():
    edited = x.edit("<doc><data><device/></data></doc>", header_name="N", base_template="B.pv.xml")
    assert x.summary(edited)["header_name"] == "N"
    assert x.summary(edited)["base_template"] == "B.pv.xml"


def test_edit_is_idempotent():
    once = x.edit(GENERIC, CID, ["PCMU", "PCMA", "G729"], header_name="T")
    twice = x.edit(once, CID, ["PCMU", "PCMA", "G729"], header_name="T")
    assert once == twice


def test_edit_result_has_a_declaration_and_parses():
    edited = x.edit(GENERIC, CID)
    assert edited.startswith('<?xml version="1.0" encoding="utf-8"?>\n<doc')
    x.parse(edited)


@pytest.mark.parametrize("variable", ["OriginatorCallerId", "$", "$1abc", "$Originator CallerId", "", None])
def test_edit_rejects_bad_variables(variable):
    with pytest.raises(x.TemplateError) as info:
        x.edit(GENERIC, {"FromUserPart": variable})
    assert "3CX template variable" in str(info.value)


def test_edit_rejects_an_empty_parameter_name():
    with pytest.raises(x.TemplateError):
        x.edit(GENERIC, {"": "$CallerNum"})


def test_check_variable_accepts_the_spellings():
    for value in ("$OriginatorCallerId", "$OriginatorCallerID", "$Custom_Field1"):
        assert x.check_variable("v", value) == value


# --------------------------------------------------------------------------- normalise and compare


def test_whitespace_comments_and_attribute_order_do_not_count():
    reformatted = (
        GENERIC.replace(
            '<field name="ParameterOut" custom="" parameter="RequestLineURIUser">',
            '<field parameter="RequestLineURIUser" custom="" name="ParameterOut">',
        )
        .replace("<!-- No=1; In=2; Out=3; Both=4 -->", "")
        .replace("\n      <", "\n<")
        .replace('<field name="RegistrarPort">5060</field>', '<field name="RegistrarPort"> 5060 </field>')
    )
    assert reformatted != GENERIC
    assert x.same(GENERIC, reformatted)


def test_version_and_time_do_not_count():
    bumped = x.bump(GENERIC, now=NOW)
    assert bumped != GENERIC
    assert x.same(GENERIC, bumped)


def test_declaration_does_not_count():
    assert x.same(GENERIC, GENERIC.split("\n", 1)[1])


def test_empty_element_forms_do_not_count():
    assert x.same(GENERIC, GENERIC.replace('<field name="RegistrarHost"></field>', '<field name="RegistrarHost"/>'))


@pytest.mark.parametrize(
    "old,new",
    [
        ('parameter="FromUserPart">$OutboundCallerId<', 'parameter="FromUserPart">$OriginatorCallerId<'),
        ('<codec rfcname="g729"/>\n      <codec rfcname="pcma"/>', '<codec rfcname="pcma"/>\n      <codec rfcname="g729"/>'),
        ("<name>Generic SIP Trunk (IP Based)</name>", "<name>Other</name>"),
        ('custom="3CX"', 'custom="ACME"'),
        ("<!-- No=1; In=2; Out=3; Both=4 -->", '<field name="Extra">1</field>'),
    ],
)
def test_real_changes_count(old, new):
    changed = GENERIC.replace(old, new)
    assert changed != GENERIC
    assert not x.same(GENERIC, changed)


def test_variable_case_counts():
    # 3CX's case sensitivity is unconfirmed, so a different spelling is a difference to write.
    assert not x.same(GENERIC, GENERIC.replace("$OriginatorCallerId", "$OriginatorCallerID"))


def test_normalise_is_stable():
    assert x.normalise(GENERIC) == x.normalise(x.normalise(GENERIC))


def test_normalise_rejects_garbage():
    with pytest.raises(x.TemplateError):
        x.normalise("not xml")


# --------------------------------------------------------------------------- bump


def test_bump_raises_the_version_and_sets_the_time():
    bumped = x.bump(GENERIC, now=NOW)
    assert x.summary(bumped)["version"] == "150011"
    assert x.summary(bumped)["time"] == "2026-01-02 03:04:05"


def test_bump_goes_above_every_previous_version():
    newer = GENERIC.replace("<version>150010</version>", "<version>150099</version>")
    assert x.summary(x.bump(GENERIC, newer, None, "", now=NOW))["version"] == "150100"


def test_bump_adds_version_and_time_when_missing():
    bumped = x.bump("<doc><header><type>gateway-template</type><name>x</name></header><data><device/></data></doc>", now=NOW)
    root = x.parse(bumped)
    assert [c.tag for c in root.find("header")] == ["type", "version", "time", "name"]
    assert root.findtext("header/version") == "1"


def test_bump_of_a_non_numeric_version_starts_at_one():
    assert x.summary(x.bump(GENERIC.replace("150010", "v2"), now=NOW))["version"] == "1"


def test_bump_uses_utc_now_by_default():
    stamp = x.summary(x.bump(GENERIC))["time"]
    datetime.datetime.strptime(stamp, x.TIME_FORMAT)


# --------------------------------------------------------------------------- pretty and diff


def test_pretty_reindents_and_keeps_comments():
    text = x.pretty(GENERIC)
    assert "\n  <header>\n    <type>gateway-template</type>" in text
    assert "<!-- No=1; In=2; Out=3; Both=4 -->" in text
    assert x.pretty("") == ""
    assert x.pretty(None) == ""


def test_unified_diff_shows_only_the_changed_lines():
    after = x.bump(x.edit(GENERIC, CID, ["PCMU", "PCMA", "G729"]), now=NOW)
    diff = x.unified_diff(GENERIC, after, "pbx", "desired")
    assert diff.startswith("--- pbx\n+++ desired\n")
    assert '-      <field name="ParameterOut" custom="" parameter="FromUserPart">$OutboundCallerId</field>' in diff
    assert '+      <field name="ParameterOut" custom="" parameter="PAssertedIdentityUserPart">$OriginatorCallerId</field>' in diff
    assert "+    <version>150011</version>" in diff
    assert "RegistrarPort" not in diff


def test_unified_diff_of_a_new_template():
    diff = x.unified_diff("", GENERIC)
    assert "+<doc" in diff


def test_unified_diff_of_equal_templates_is_empty():
    assert x.unified_diff(GENERIC, GENERIC) == ""


def test_without_lxml_a_clear_error(monkeypatch):
    monkeypatch.setattr(x, "HAS_LXML", False)
    with pytest.raises(x.TemplateError) as info:
        x.parse(GENERIC)
    assert "lxml is required" in str(info.value)
