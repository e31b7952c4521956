"""The PBX's read-only catalogues: ``/Defs/GatewayParameters``, ``/Defs/GatewayParameterValues``
and ``/Defs/Codecs``.

Clients must resolve parameter and value Ids **by Name** at run time: the Ids below are
arbitrary and deliberately not in the order of any template. The names of the
P-Asserted-Identity and P-Preferred-Identity parameters are UNCONFIRMED (see
shared/reference/3cx-xapi.md §4), so they are configurable per lab PBX
(:data:`CONFIGURABLE_NAMES`, reset option ``gateway_parameter_names``); a name set to
``None`` removes that parameter from the catalogue.
"""

from __future__ import annotations

from typing import Any

# (Id, Name) of the values a header part can be bound to. Spelled as 3CX templates
# write the variables ("$OriginatorCallerId"), without the "$".
VALUES: list[tuple[int, str, str]] = [
    (21, "CallerNum", "number of the calling party"),
    (7, "CallerName", "name of the calling party"),
    (33, "CallerDispName", "display name of the calling party"),
    (12, "CalledNum", "number being called"),
    (4, "CalledName", "name of the called party"),
    (18, "GWHostPort", "host and port of the gateway or provider"),
    (26, "ContactUri", "contact URI of the registration"),
    (2, "CustomField", "the literal in the binding's Custom field"),
    (15, "OutboundCallerId", "outbound caller ID of the extension or trunk"),
    (30, "OriginatorCallerId", "caller ID of the call's originator (forwarded calls keep the caller)"),
    (9, "EnforcedOriginatorCallerID", "originator caller ID, enforced"),
    (24, "EnforcedOutboundCallerId", "outbound caller ID, enforced"),
    (11, "AuthID", "authentication ID of the trunk"),
    (28, "DevHostPort", "host and port of the device"),
    (5, "LineId", "line identifier"),
    (36, "LineNumber", "line number"),
    (14, "OutboundLineId", "outbound line identifier"),
    (39, "OutHostPort", "outbound host and port"),
    (1, "None", "not used"),
]

_CALLING = [
    "CallerNum",
    "CallerName",
    "CallerDispName",
    "OutboundCallerId",
    "OriginatorCallerId",
    "EnforcedOriginatorCallerID",
    "EnforcedOutboundCallerId",
    "AuthID",
    "CustomField",
    "None",
]
_HOSTS = ["GWHostPort", "DevHostPort", "OutHostPort", "ContactUri", "CustomField", "None"]
_CALLED = ["CalledNum", "CalledName", "CustomField", "None"]
_INBOUND = ["CallerNum", "CallerName", "CalledNum", "CalledName", "None"]

# The default names of the UNCONFIRMED P-Asserted-Identity / P-Preferred-Identity parameters:
# the lab's assumption, not a vendor fact.
CONFIGURABLE_NAMES = (
    "PAssertedIdentityDisplayName",
    "PAssertedIdentityUserPart",
    "PAssertedIdentityHostPart",
    "PPreferredIdentityDisplayName",
    "PPreferredIdentityUserPart",
    "PPreferredIdentityHostPart",
)

# (Id, Name, CanHaveDID, inbound values, outbound values, source-id values)
PARAMETERS: list[tuple[int, str, bool, list[str], list[str], list[str]]] = [
    (117, "ContactHost", False, [], _HOSTS, ["GWHostPort"]),
    (103, "RequestLineURIUser", True, _INBOUND, _CALLED + ["AuthID"], []),
    (141, "FromUserPart", False, _INBOUND, _CALLING, ["GWHostPort"]),
    (109, "ToUserPart", True, _INBOUND, _CALLED + ["AuthID"], []),
    (124, "RequestLineURIHost", False, [], _HOSTS, []),
    (132, "FromDisplayName", False, _INBOUND, _CALLING, []),
    (106, "ContactUser", True, _INBOUND, _CALLING + ["CalledNum"], []),
    (150, "ToHostPart", False, [], _HOSTS, ["GWHostPort"]),
    (113, "ToDisplayName", False, _INBOUND, _CALLED, []),
    (128, "FromHostPart", False, [], _HOSTS, ["GWHostPort"]),
    (136, "UserAgentTextString", False, [], ["CustomField", "None"], []),
    (145, "RemotePartyIDCallingPartyDisplayName", False, _INBOUND, _CALLING, []),
    (121, "RemotePartyIDCallingPartyUserPart", False, _INBOUND, _CALLING, []),
    (154, "RemotePartyIDCallingPartyHostPart", False, [], _HOSTS, []),
    (111, "RemotePartyIDCalledPartyDisplayName", False, _INBOUND, _CALLED, []),
    (147, "RemotePartyIDCalledPartyUserPart", True, _INBOUND, _CALLED, []),
    (119, "RemotePartyIDCalledPartyHostPart", False, [], _HOSTS, []),
    (158, "PAssertedIdentityDisplayName", False, _INBOUND, _CALLING, []),
    (101, "PAssertedIdentityUserPart", False, _INBOUND, _CALLING, []),
    (139, "PAssertedIdentityHostPart", False, [], _HOSTS, []),
    (126, "PPreferredIdentityDisplayName", False, _INBOUND, _CALLING, []),
    (152, "PPreferredIdentityUserPart", False, _INBOUND, _CALLING, []),
    (115, "PPreferredIdentityHostPart", False, [], _HOSTS, []),
]

CODECS: list[tuple[int, str, str]] = [
    (6, "G.711 A-law", "PCMA"),
    (3, "G.711 u-law", "PCMU"),
    (9, "G.729", "G729"),
    (14, "G.722", "G722"),
    (17, "GSM", "GSM"),
    (21, "OPUS", "OPUS"),
    (24, "iLBC", "iLBC"),
]


def check_names_option(names: Any) -> dict[str, str | None]:
    """Validate the ``gateway_parameter_names`` option: {default name: name or null}."""
    if not isinstance(names, dict):
        raise ValueError("gateway_parameter_names must be an object {default name: name or null}")
    out: dict[str, str | None] = {}
    for key, value in names.items():
        if key not in CONFIGURABLE_NAMES:
            raise ValueError(
                f"gateway_parameter_names: {key} is not configurable (one of {', '.join(CONFIGURABLE_NAMES)})"
            )
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"gateway_parameter_names.{key} must be a non-empty string or null")
        out[key] = value
    return out


class Catalogue:
    """The three catalogues of one lab PBX, with the configured PAI/PPI names."""

    def __init__(self, names: dict[str, str | None] | None = None):
        self.names: dict[str, str | None] = {n: n for n in CONFIGURABLE_NAMES}
        self.names.update(names or {})
        self.parameters: list[dict] = []
        for pid, name, did, inbound, outbound, source in PARAMETERS:
            if name in self.names:
                name = self.names[name]
                if name is None:
                    continue
            self.parameters.append(
                {
                    "Id": pid,
                    "Name": name,
                    "Description": f"SIP header field {name}",
                    "CanHaveDID": did,
                    "InboundPossibleValues": list(inbound),
                    "OutboundPossibleValues": list(outbound),
                    "SourceIDPossibleValues": list(source),
                }
            )
        self.values = [{"Id": vid, "Name": name, "Description": desc} for vid, name, desc in VALUES]
        self.codecs = [{"Id": cid, "Name": name, "RfcName": rfc} for cid, name, rfc in CODECS]

    # -- lookups --
    def param_by_name(self, name: str) -> dict | None:
        return next((p for p in self.parameters if p["Name"] == name), None)

    def param_by_id(self, ident: int) -> dict | None:
        return next((p for p in self.parameters if p["Id"] == ident), None)

    def value_by_name(self, name: str) -> dict | None:
        return next((v for v in self.values if v["Name"] == name), None)

    def value_by_id(self, ident: int) -> dict | None:
        return next((v for v in self.values if v["Id"] == ident), None)

    def name_for(self, default_name: str) -> str | None:
        """The catalogue name of a parameter known by its lab default name (PAI/PPI)."""
        return self.names.get(default_name, default_name)

    def codec_rfc_names(self) -> set[str]:
        return {c["RfcName"].upper() for c in self.codecs}
