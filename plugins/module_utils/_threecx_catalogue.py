# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""3CX catalogues (gateway parameters, their values, codecs, trunk templates) and the
trunk field map, shared by threecx_template, threecx_trunk and threecx_info.

PRIVATE to this collection: may change without notice.

Why run-time lookups: the XAPI binds SIP header parts with numeric ids
(``{ParamId, ValueId, Custom}``) whose meaning is only given by ``GET /Defs/GatewayParameters``
and ``GET /Defs/GatewayParameterValues``, and 3CX does not document the names of the
P-Asserted-Identity and P-Preferred-Identity parameters.  So names are resolved against the
PBX's own catalogue every run: a preferred spelling if the PBX has it, else the one name that
matches a pattern, else a failure that lists what the PBX offers (and the user can pin a name
with ``parameter_names``).  Nothing is guessed silently.
"""

from __future__ import annotations

import re

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import KIND_SET, KIND_STR, Field, FieldMap
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXError, odata_literal
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import PREFERRED_NAMES, ROLES
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import MissingReference

PARAMETERS_PATH = "/Defs/GatewayParameters"
VALUES_PATH = "/Defs/GatewayParameterValues"
CODECS_PATH = "/Defs/Codecs"
TEMPLATES_PATH = "/TrunkTemplates"

# How messages name the four header parts (ROLES) that carry the caller's number to Twilio.
ROLE_LABELS = {
    "from_user_part": "From header user part",
    "rpid_user_part": "Remote-Party-ID calling party user part",
    "pai_user_part": "P-Asserted-Identity user part",
    "ppi_user_part": "P-Preferred-Identity user part",
}


def squash(name):
    """Lower case, letters and digits only: 'P-Asserted-Identity User Part' -> 'passertedidentityuserpart'."""
    return re.sub(r"[^a-z0-9]", "", str(name or "").lower())


def _user_part(s):
    return "user" in s and "display" not in s and "host" not in s


MATCHERS = {
    "from_user_part": lambda s: s.startswith("from") and _user_part(s),
    "rpid_user_part": lambda s: ("remoteparty" in s or s.startswith("rpid")) and "calling" in s and _user_part(s),
    "pai_user_part": lambda s: ("asserted" in s or s.startswith("pai")) and _user_part(s),
    "ppi_user_part": lambda s: ("preferred" in s or s.startswith("ppi")) and _user_part(s),
}


# --------------------------------------------------------------------------- catalogues


def fetch_parameters(client):
    return client.list(PARAMETERS_PATH)


def fetch_values(client):
    return client.list(VALUES_PATH)


def fetch_codecs(client):
    return client.list(CODECS_PATH)


def names_of(items):
    return sorted(set(str(i.get("Name")) for i in items if i.get("Name")), key=str.lower)


def find_by_name(items, name, what, option):
    """The catalogue entry whose Name is ``name`` (exact, else case-insensitive), or ValueError
    listing every name the PBX offers."""
    for item in items:
        if item.get("Name") == name:
            return item
    folded = [i for i in items if str(i.get("Name") or "").lower() == str(name).lower()]
    if len(folded) == 1:
        return folded[0]
    raise ValueError("%s: %r is not a %s on this PBX; it offers: %s" % (option, name, what, ", ".join(names_of(items)) or "(none)"))


def caller_id_candidates(parameters):
    """For each role, the parameter names that look like it (for threecx_info)."""
    return dict((role, [i["Name"] for i in parameters if i.get("Name") and MATCHERS[role](squash(i["Name"]))]) for role in ROLES)


def resolve_role(parameters, role, override=None, option="parameter_names"):
    """The catalogue entry for one caller-ID header part (see resolve_caller_id_parameters)."""
    if override:
        return find_by_name(parameters, override, "gateway parameter (GET /Defs/GatewayParameters)", "%s.%s" % (option, role))
    exact = [i for i in parameters if i.get("Name") == PREFERRED_NAMES[role]]
    if exact:
        return exact[0]
    matches = [i for i in parameters if i.get("Name") and MATCHERS[role](squash(i["Name"]))]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(
            "several gateway parameters of this PBX look like the %s: %s. Pick one with %s.%s"
            % (ROLE_LABELS[role], ", ".join(i["Name"] for i in matches), option, role)
        )
    raise ValueError(
        "this PBX offers no gateway parameter that looks like the %s (3CX does not document its name; expected "
        "something like %s). Set %s.%s to one of the names the PBX offers: %s"
        % (ROLE_LABELS[role], PREFERRED_NAMES[role], option, role, ", ".join(names_of(parameters)) or "(none)")
    )


def resolve_caller_id_parameters(parameters, overrides=None, option="parameter_names"):
    """{role: catalogue entry} for the four caller-ID header parts.

    An override must name a parameter the PBX offers.  Otherwise the preferred spelling is
    used when present, else the single name that matches the role's pattern.  No match or
    several matches fail with the names the PBX offers, so the user can pin one.
    """
    overrides = overrides or {}
    return dict((role, resolve_role(parameters, role, overrides.get(role), option)) for role in ROLES)


def resolve_value(values, variable, option="caller_id_variable"):
    """The GatewayParameterValues entry for a template variable ($OriginatorCallerId),
    matched without the '$' and case-insensitively (the PBX's spelling wins)."""
    wanted = variable.lstrip("$")
    exact = [v for v in values if v.get("Name") == wanted]
    if exact:
        return exact[0]
    folded = [v for v in values if str(v.get("Name") or "").lower() == wanted.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ValueError(
        "%s: %r is not a gateway parameter value on this PBX (GET /Defs/GatewayParameterValues); it offers: %s"
        % (option, variable, ", ".join("$" + n for n in names_of(values)) or "(none)")
    )


def resolve_codecs(catalogue, names, option="codecs"):
    """Check ``names`` against GET /Defs/Codecs (RfcName or Name, any case); an empty
    catalogue checks nothing.  Returns the names upper-cased, in the given order."""
    if not catalogue:
        return list(names)
    known = {}
    for codec in catalogue:
        for key in ("RfcName", "Name"):
            if codec.get(key):
                known.setdefault(str(codec[key]).upper(), codec)
    unknown = [n for n in names if n.upper() not in known]
    if unknown:
        offered = sorted(set(str(c.get("RfcName") or c.get("Name")) for c in catalogue), key=str.lower)
        raise ValueError("%s: %s not offered by this PBX; it offers: %s" % (option, ", ".join(unknown), ", ".join(offered)))
    return [n.upper() for n in names]


# --------------------------------------------------------------------------- templates


# Whether a PBX takes a template through POST/PATCH /TrunkTemplates is UNCONFIRMED (3cx-xapi.md §3.5):
# these answers mean "not through the XAPI" (a 400 is about the template itself and stays as it is).
UPLOAD_REFUSED = (403, 404, 405, 501)


def template_write(write, name):
    """``write(*args)`` of a custom template; a PBX that takes templates only as a file says so."""

    def send(*args):
        try:
            return write(*args)
        except ThreeCXError as exc:
            if exc.status not in UPLOAD_REFUSED:
                raise
            raise ThreeCXError(
                "provider template %s: this PBX does not take templates through the XAPI (%s). Import the file by hand "
                "(Admin Console > Voice & Chat > Add Trunk > Import Provider, or copy it into the provider templates folder, "
                "/var/lib/3cxpbx/Instance1/Data/Http/Templates/provider/ on Linux), then run again; see docs/threecx.md, "
                "'On a real PBX for the first time'" % (name, exc.message),
                status=exc.status,
                code=exc.code,
                method=exc.method,
                path=exc.path,
                details=exc.details,
            )

    return send


def template_path(template_id):
    """``/TrunkTemplates('X.pv.xml')``: the key is a string, quoted as an OData literal."""
    return "%s(%s)" % (TEMPLATES_PATH, odata_literal(template_id))


def template_ids(client):
    return sorted((t.get("Id") for t in client.list(TEMPLATES_PATH, select=["Id"]) if t.get("Id")), key=str.lower)


def require_template(client, template_id, option):
    """GET the template or fail (MissingReference) listing the templates the PBX has."""
    found = client.get_or_none(template_path(template_id))
    if found is None:
        raise MissingReference(
            "%s: the PBX has no provider template %r; it has: %s" % (option, template_id, ", ".join(template_ids(client)) or "(none)"),
            option,
            "provider template %r" % template_id,
        )
    return found


def is_builtin(template):
    """True for 3CX's own templates.  ``IsCustom`` exists from 20.0.10; before that the PBX
    itself refuses to change a built-in one and its error is reported."""
    return template.get("IsCustom") is False


# --------------------------------------------------------------------------- trunks


class _HostField(Field):
    """Host names compare without case; None equals ""."""

    def normalise(self, value):
        return str(value or "").lower()


class _CodecField(Field):
    """An ordered list (priority); names compare without case."""

    def normalise(self, value):
        return [str(v).upper() for v in value] if isinstance(value, list) else value


class _BindingSetField(Field):
    """Gateway parameter bindings compare as a set of (ParamId, ValueId, Custom)."""

    def normalise(self, value):
        return binding_set(value)


def binding_set(bindings):
    return sorted(
        set((b.get("ParamId"), b.get("ValueId"), b.get("Custom") or "") for b in (bindings or []) if isinstance(b, dict)),
        key=repr,
    )


TRUNK_FIELDS = FieldMap(
    Field("id", "Id", read_only=True),
    Field("number", "Number", read_only=True),
    Field("template", "Gateway.TemplateFilename", read_only=True),
    Field("name", "Gateway.Name", KIND_STR),
    _HostField("registrar", "Gateway.Host"),
    Field("port", "Gateway.Port"),
    _HostField("outbound_proxy", "Gateway.ProxyHost"),
    Field("proxy_port", "Gateway.ProxyPort"),
    Field("transport", "TransportRestriction"),
    Field("require_registration_for", "Gateway.RequireRegistrationFor"),
    Field("auth_id", "AuthID", KIND_STR),
    Field("auth_password", "AuthPassword.Value", write_only=True),
    Field("did_numbers", "DidNumbers", KIND_SET),
    Field("simultaneous_calls", "SimultaneousCalls"),
    Field("outbound_caller_id", "OutboundCallerID", KIND_STR),
    Field("e164_process_incoming", "E164ProcessIncomingNumber"),
    _CodecField("codecs", "Gateway.Codecs"),
    _BindingSetField("outbound_params", "Gateway.OutboundParams"),
)


def trunk_name(trunk):
    return ((trunk or {}).get("Gateway") or {}).get("Name")


def trunks_named(client, name):
    """Trunks whose display name (``Gateway.Name``) is ``name``.  Filtered here, not with
    ``$filter=Gateway/Name eq ...``: a filter on a nested property is not documented for the XAPI."""
    return [t for t in client.list("/Trunks") if trunk_name(t) == name]


def caller_id_bindings(parameters_by_role, value):
    """The OutboundParams entries binding the four header parts to ``value`` (an entry)."""
    seen = []
    result = []
    for role in ROLES:
        param_id = parameters_by_role[role]["Id"]
        if param_id not in seen:
            seen.append(param_id)
            result.append({"ParamId": param_id, "ValueId": value["Id"], "Custom": ""})
    return result


def merge_bindings(current, wanted, enable=True):
    """``current`` OutboundParams with ``wanted`` applied, every other binding kept.

    enable: the wanted parameters are bound as given (replacing their old binding).
    disable: a wanted parameter's binding is dropped only while it still has the wanted
    value (the template's default applies again); other values are left alone.
    """
    current = [dict(b) for b in (current or []) if isinstance(b, dict)]
    wanted_ids = set(b["ParamId"] for b in wanted)
    if enable:
        return [b for b in current if b.get("ParamId") not in wanted_ids] + [dict(b) for b in wanted]
    wanted_pairs = set((b["ParamId"], b["ValueId"]) for b in wanted)
    return [b for b in current if (b.get("ParamId"), b.get("ValueId")) not in wanted_pairs]


def passthrough_on(outbound_params, wanted):
    """True when every wanted binding is present."""
    have = set((b.get("ParamId"), b.get("ValueId")) for b in (outbound_params or []) if isinstance(b, dict))
    return all((b["ParamId"], b["ValueId"]) in have for b in wanted)


def trunk_view(trunk, wanted_bindings=None):
    """A trunk in threecx_trunk's option names (never its password)."""
    if trunk is None:
        return {}
    view = TRUNK_FIELDS.from_api(trunk)
    return add_derived(view, wanted_bindings)


def add_derived(view, wanted_bindings=None):
    """Add ``authentication`` (and ``caller_id_passthrough`` when the bindings are known)."""
    view = dict(view)
    registration = view.get("require_registration_for")
    if registration is not None:
        view["authentication"] = "ip_based" if registration == "Nothing" else "credentials"
    else:
        view.setdefault("authentication", None)
    if wanted_bindings is not None:
        view["caller_id_passthrough"] = passthrough_on(view.get("outbound_params"), wanted_bindings)
    return view
