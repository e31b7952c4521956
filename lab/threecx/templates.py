"""Provider templates (``*.pv.xml``): the lab's own built-ins and the template -> trunk mapping.

The two built-in templates are written by the lab (no vendor file is copied). Their
structure follows shared/reference/3cx-xapi.md §4: ``<doc xmlns:tcx=...>`` with a
``<header>`` and ``<data><device>`` of ``<field name=...>`` entries, ``<codecs>`` and
``ParameterIn`` / ``ParameterOut`` / ``Source`` bindings to ``$Variables``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from .catalog import Catalogue
from .odata import ODataError

GENERIC_SIP_TRUNK = "GenericSIPTrunk.pv.xml"
GENERIC_VOIP_PROVIDER = "GenericVoIPProvider.pv.xml"
BUILT_INS = (GENERIC_SIP_TRUNK, GENERIC_VOIP_PROVIDER)

# RequireAuthFor in templates: No=1, In=2, Out=3, Both=4.
REQUIRE_AUTH = {"1": "Nothing", "2": "IncomingCalls", "3": "OutgoingCalls", "4": "InOutCalls"}
IP_IN_CONTACT = {"1": "External", "2": "Internal", "3": "Both", "4": "Specified"}
TRANSPORT = {"ANY": "Any", "UDP": "UDP", "TCP": "TCP", "TLS": "TLS"}
IP_RESTRICTION = {"ANY": "Any", "IPV4": "IPV4", "IPV6": "IPV6"}
MATCH = {"0": "MatchAnyFields", "1": "MatchAllFields"}
SRTP = {"0": "SRTPDisabled", "1": "SRTPEnabled", "2": "SRTPEnforced"}

# Outbound bindings of the built-ins: (lab default parameter name, $Variable, custom).
_OUT_COMMON = [
    ("RequestLineURIUser", "CalledNum", ""),
    ("RequestLineURIHost", "GWHostPort", ""),
    ("ToDisplayName", "CalledName", ""),
    ("ToUserPart", "CalledNum", ""),
    ("ToHostPart", "GWHostPort", ""),
    ("FromDisplayName", "CallerName", ""),
    ("FromHostPart", "GWHostPort", ""),
    ("RemotePartyIDCallingPartyDisplayName", "CallerName", ""),
    ("RemotePartyIDCallingPartyUserPart", "OutboundCallerId", ""),
    ("RemotePartyIDCallingPartyHostPart", "GWHostPort", ""),
    ("PAssertedIdentityDisplayName", "CallerName", ""),
    ("PAssertedIdentityUserPart", "OutboundCallerId", ""),
    ("PAssertedIdentityHostPart", "GWHostPort", ""),
    ("UserAgentTextString", "CustomField", "3CX"),
]
_BUILT_IN_SPEC = {
    GENERIC_SIP_TRUNK: {
        "name": "Generic SIP Trunk (IP based)",
        "description": "Generic SIP trunk authenticated by IP address",
        "require_auth": "1",
        "fields": [("RegistrarHost", ""), ("RegistrarPort", "5060"), ("ProxyHost", ""), ("ProxyPort", "5060")],
        "out": [
            ("ContactUser", "OutboundCallerId", ""),
            ("ContactHost", "GWHostPort", ""),
            ("FromUserPart", "OutboundCallerId", ""),
        ]
        + _OUT_COMMON,
        "tags": "registrar,proxy,port,advanced",
    },
    GENERIC_VOIP_PROVIDER: {
        "name": "Generic VoIP Provider",
        "description": "Generic SIP provider with registration",
        "require_auth": "4",
        "fields": [("RegistrarHost", ""), ("RegistrarPort", "5060"), ("ProxyHost", ""), ("ProxyPort", "5060")],
        "out": [("ContactUser", "AuthID", ""), ("ContactHost", "ContactUri", ""), ("FromUserPart", "AuthID", "")]
        + _OUT_COMMON,
        "tags": "registrar,proxy,IpInContactReg,port,advanced,authtype",
    },
}


def built_in_content(template_id: str, catalogue: Catalogue) -> str:
    """The XML of a built-in template; PAI/PPI parameters use the PBX's configured names."""
    spec = _BUILT_IN_SPEC[template_id]
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<doc xmlns:tcx="http://www.3cx.com">',
        "  <header>",
        "    <type>gateway-template</type>",
        "    <version>200001</version>",
        f"    <name>{escape(spec['name'])}</name>",
        "    <url></url>",
        f"    <description>{escape(spec['description'])}</description>",
        f"    <tags>{spec['tags']}</tags>",
        "    <templatetype>supported</templatetype>",
        "  </header>",
        "  <data>",
        "    <device>",
        "      <type>provider</type>",
        "      <manufacturer>Generic</manufacturer>",
        f"      <model>{escape(spec['name'])}</model>",
    ]
    for name, value in spec["fields"]:
        lines.append(f'      <field name="{name}">{value}</field>')
    lines += [
        f'      <field name="RequireAuthFor">{spec["require_auth"]}</field>',
        '      <field name="TimeBetweenRegistration">120</field>',
        '      <field name="TransportRestriction">ANY</field>',
        '      <field name="IPRestriction">ANY</field>',
        '      <field name="IpInContactReg">1</field>',
        '      <field name="IsSupportReinvite">1</field>',
        '      <field name="IsSupportReplaces">1</field>',
        '      <field name="DestNumberIn_TO">1</field>',
        '      <field name="DestNumberIn_REQLINEURI">1</field>',
        "      <codecs>",
        '        <codec rfcname="pcmu"/>',
        '        <codec rfcname="pcma"/>',
        '        <codec rfcname="g729"/>',
        "      </codecs>",
        '      <field status="readonly" name="MatchStrategy">0</field>',
        '      <field status="readonly" name="Source" parameter="ContactHost" custom="">$GWHostPort</field>',
        '      <field name="ParameterIn" custom="" parameter="ToUserPart">$CalledNum</field>',
        '      <field name="ParameterIn" custom="" parameter="FromUserPart">$CallerNum</field>',
        '      <field name="ParameterIn" custom="" parameter="FromDisplayName">$CallerName</field>',
    ]
    for param, variable, custom in spec["out"]:
        name = catalogue.name_for(param)
        if name is None:
            continue  # this PBX has no such parameter
        attrs = f"custom={quoteattr(custom)} parameter={quoteattr(name)}"
        lines.append(f'      <field name="ParameterOut" {attrs}>${variable}</field>')
    lines += ["    </device>", "  </data>", "</doc>", ""]
    return "\n".join(lines)


def parse_content(content: str) -> ET.Element:
    """Parse template XML; a 400 when it is not a well-formed ``<doc>`` document."""
    if not isinstance(content, str) or not content.strip():
        raise ODataError(400, "The template Content is empty.")
    try:
        root = ET.fromstring(content.encode("utf-8"))
    except ET.ParseError as exc:
        raise ODataError(400, f"The template Content is not well-formed XML: {exc}") from None
    if root.tag != "doc":
        raise ODataError(400, f"The template Content must have the root element <doc>, not <{root.tag}>.")
    return root


def header(root: ET.Element) -> dict[str, str]:
    head = root.find("header")
    return {child.tag: (child.text or "").strip() for child in head} if head is not None else {}


def _fields(device: ET.Element) -> tuple[dict[str, str], list[ET.Element]]:
    plain, bindings = {}, []
    for el in device.findall("field"):
        name = el.get("name", "")
        if name in ("ParameterIn", "ParameterOut", "Source"):
            bindings.append(el)
        else:
            plain[name] = (el.text or "").strip()
    return plain, bindings


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def trunk_skeleton(template_id: str, content: str, catalogue: Catalogue) -> dict:
    """What ``Pbx.InitTrunk(template=...)`` fills in from a template (no Id, no Number).

    Bindings whose parameter or variable is not in this PBX's catalogue are left out,
    as they would have no Id to bind to.
    """
    root = parse_content(content)
    head = header(root)
    device = root.find("data/device")
    plain, bindings = _fields(device) if device is not None else ({}, [])
    params: dict[str, list[dict]] = {"ParameterIn": [], "ParameterOut": [], "Source": []}
    for el in bindings:
        param = catalogue.param_by_name(el.get("parameter", ""))
        value = catalogue.value_by_name((el.text or "").strip().lstrip("$"))
        if param is None or value is None:
            continue
        params[el.get("name")].append({"ParamId": param["Id"], "ValueId": value["Id"], "Custom": el.get("custom", "")})
    codecs = []
    if device is not None:
        for codec in device.findall("codecs/codec"):
            rfc = (codec.get("rfcname") or "").upper()
            if rfc and rfc in catalogue.codec_rfc_names() and rfc not in codecs:
                codecs.append(rfc)
    gateway = {
        "Name": head.get("name") or template_id,
        "Host": plain.get("RegistrarHost", ""),
        "Port": _int(plain.get("RegistrarPort"), 5060),
        "ProxyHost": plain.get("ProxyHost", ""),
        "ProxyPort": _int(plain.get("ProxyPort"), 5060),
        "RequireRegistrationFor": REQUIRE_AUTH.get(plain.get("RequireAuthFor", "1"), "Nothing"),
        "TimeBetweenReg": _int(plain.get("TimeBetweenRegistration"), 120),
        "IPInRegistrationContact": IP_IN_CONTACT.get(plain.get("IpInContactReg", "1"), "External"),
        "SupportReinvite": plain.get("IsSupportReinvite", "1") == "1",
        "SupportReplaces": plain.get("IsSupportReplaces", "1") == "1",
        "DestNumberInTo": plain.get("DestNumberIn_TO", "0") == "1",
        "DestNumberInRequestLineURI": plain.get("DestNumberIn_REQLINEURI", "0") == "1",
        "DestNumberInRemotePartyIDCalled": plain.get("DestNumberIn_RPID_CALLED", "0") == "1",
        "DeliverAudio": plain.get("IsBindToMS", "0") == "1",
        "UseIPInContact": plain.get("UseIPInContact", "0") == "1",
        "SRTPMode": SRTP.get(plain.get("SRTPMode", "0"), "SRTPDisabled"),
        "MatchingStrategy": MATCH.get(plain.get("MatchStrategy", "0"), "MatchAnyFields"),
        "Codecs": codecs,
        "InboundParams": params["ParameterIn"],
        "OutboundParams": params["ParameterOut"],
        "SourceIdentification": params["Source"],
        "TemplateFilename": template_id,
        "Type": "Provider",
    }
    return {
        "Gateway": gateway,
        "TransportRestriction": TRANSPORT.get(plain.get("TransportRestriction", "ANY").upper(), "Any"),
        "IPRestriction": IP_RESTRICTION.get(plain.get("IPRestriction", "ANY").upper(), "Any"),
        "SecondaryRegistrar": plain.get("SecondaryRegistrar", ""),
        "DisableVideo": plain.get("DisableVideo", "0") == "1",
    }
