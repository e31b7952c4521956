#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_trunk
short_description: Manage a SIP trunk to a Twilio SIP Domain on a 3CX v20 PBX
version_added: 0.1.0
description:
  - Creates, updates or deletes a SIP trunk (Admin Console > Voice & Chat) through the 3CX
    Configuration API (C(/xapi/v1/Trunks)).
  - The trunk is found by its name (the C(Gateway.Name) field; C(Pbx.Trunk) has no top-level name).
    A trunk made by hand with that name is adopted, never duplicated. Two trunks with the same name
    make the module fail and list them.
  - A new trunk starts from the PBX's own skeleton for the template
    (C(GET /Trunks/Pbx.InitTrunk(template='...'))) with your options laid over it, and is created with
    C(POST /Trunks). An existing trunk gets a C(PATCH) of only the fields that differ.
  - For the Twilio fallback flow set O(registrar) to the SIP Domain's FQDN exactly as the Twilio Console shows
    it (for example V(example.sip.us1.twilio.com)), port 5060, the same FQDN as outbound proxy, UDP,
    the customer-facing DID in O(did_numbers) and O(caller_id_passthrough=true).
  - Only the options you set are compared and sent; the others keep their value on the PBX.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.threecx
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.THREECX
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - Reads the trunks, the template's trunk skeleton and the catalogues and predicts the result; sends no write.
      - A new trunk's O(template) that does not exist yet gives a warning in check mode (an earlier task of the
        play, such as M(voip.threecx_twilio.threecx_template), may create it) and the creation is predicted from
        the options alone, without the template's skeleton (C(number) is then null). Without check mode it is an error.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change; the password only as C(********).
  idempotent:
    support: full
    details:
      - With O(update_password=always) a trunk with credentials is updated on every run (the password
        cannot be read back).
options:
  name:
    description:
      - The trunk's name, its natural key (for example V(Twilio SIP Domain Trunk)).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the trunk; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  template:
    description:
      - The provider template the trunk is made from (a file name on the PBX, for example one made with
        M(voip.threecx_twilio.threecx_template)). Default when creating is V(GenericSIPTrunk.pv.xml).
      - An unknown template fails with the list of templates the PBX has (in check mode it is a warning; see the
        check_mode attribute).
      - A trunk's template is chosen when it is created. If an existing trunk was made from another
        template, the module fails rather than guess; delete the trunk or leave O(template) unset.
    type: str
  registrar:
    description:
      - Registrar / server host (C(Gateway.Host)); for Twilio the SIP Domain FQDN. Required to create.
    type: str
  port:
    description:
      - Registrar port (C(Gateway.Port)), 1 to 65535.
    type: int
    default: 5060
  outbound_proxy:
    description:
      - Outbound proxy host (C(Gateway.ProxyHost)). Default is O(registrar) when that is set; V("") for none.
    type: str
  proxy_port:
    description:
      - Outbound proxy port (C(Gateway.ProxyPort)), 1 to 65535. Default is O(port) when an outbound proxy is set.
    type: int
  transport:
    description:
      - The SIP transport the trunk may use (C(TransportRestriction)). Twilio SIP Domains take all three.
    type: str
    choices: [UDP, TCP, TLS]
    default: UDP
  authentication:
    description:
      - V(ip_based) is "Do not require (IP based)"; C(Gateway.RequireRegistrationFor=Nothing) and an empty
        auth ID. Pair it with a Twilio IP access control list holding the PBX's public IP.
      - V(credentials) uses O(auth_id) and O(auth_password) (C(RequireRegistrationFor=InOutCalls)); pair it
        with a Twilio credential list holding the same user name and password.
      - The mapping of the Admin Console's choices to C(RequireRegistrationFor) is inferred from 3CX's
        templates (C(RequireAuthFor) 1 = no, 4 = both), not documented.
    type: str
    choices: [ip_based, credentials]
  auth_id:
    description:
      - The user name for O(authentication=credentials) (C(AuthID)).
    type: str
  auth_password:
    description:
      - The password for O(authentication=credentials). Write-only; see O(update_password).
    type: str
  update_password:
    description:
      - V(on_create) sends O(auth_password) only when the trunk is created; later runs never report a change
        for it (3CX returns passwords concealed, so they cannot be compared).
      - V(always) sends it on every run, so every run with credentials reports a change.
    type: str
    choices: [always, on_create]
    default: on_create
  did_numbers:
    description:
      - The DID numbers of the trunk (C(DidNumbers)), digits with an optional leading C(+). Order does not matter.
      - The list replaces the trunk's DIDs; V([]) removes them all.
    type: list
    elements: str
  simultaneous_calls:
    description:
      - The number of simultaneous calls the trunk allows.
    type: int
  outbound_caller_id:
    description:
      - The trunk's main number / outbound caller ID (C(OutboundCallerID)); V("") for none.
    type: str
  e164_process_incoming:
    description:
      - Whether the trunk rewrites incoming numbers into E164 form (C(E164ProcessIncomingNumber)).
      - Off for the Twilio flow.
    type: bool
    default: false
  codecs:
    description:
      - The trunk's codecs in priority order by RFC name (C(Gateway.Codecs)), checked against C(GET /Defs/Codecs).
      - Unset keeps what the template gave.
    type: list
    elements: str
  caller_id_passthrough:
    description:
      - V(true) binds the From user part, the Remote-Party-ID calling party user part and the
        P-Asserted-Identity and P-Preferred-Identity user parts of outbound calls to O(caller_id_variable)
        on the trunk itself (C(Gateway.OutboundParams)), so that Twilio sees the customer's number even if
        the template is changed later. The trunk's other parameter bindings are kept.
      - V(false) removes exactly those bindings (the template's values apply again).
      - The parameter and value ids are looked up by name in C(GET /Defs/GatewayParameters) and
        C(GET /Defs/GatewayParameterValues) on each run; see O(parameter_names).
      - Unset leaves the bindings alone.
    type: bool
  caller_id_variable:
    description:
      - The value the caller-ID header parts are bound to with O(caller_id_passthrough), as a 3CX variable.
        Looked up without regard to case; the PBX's spelling is used.
    type: str
    default: $OriginatorCallerId
  parameter_names:
    description:
      - The PBX's names of the four caller-ID gateway parameters, when the module cannot find them by itself.
        See M(voip.threecx_twilio.threecx_template) O(voip.threecx_twilio.threecx_template#module:parameter_names).
    type: dict
    suboptions:
      from_user_part:
        description: The From header user part (usually C(FromUserPart)).
        type: str
      rpid_user_part:
        description: The Remote-Party-ID calling party user part (usually C(RemotePartyIDCallingPartyUserPart)).
        type: str
      pai_user_part:
        description: The P-Asserted-Identity user part (undocumented name).
        type: str
      ppi_user_part:
        description: The P-Preferred-Identity user part (undocumented name).
        type: str
notes:
  - The trunk's password is never returned, logged or shown in a diff.
  - Trunks are found by listing C(/Trunks) and comparing names here, because filtering on the nested
    C(Gateway/Name) is not documented for the XAPI.
  - When the reply to a create is lost, the module looks the trunk up again (by the number the skeleton
    gave it, then by name) instead of creating it twice.
seealso:
  - module: voip.threecx_twilio.threecx_template
  - module: voip.threecx_twilio.threecx_info
"""

EXAMPLES = r"""
- name: Trunk to a Twilio SIP Domain, IP based, caller ID kept
  voip.threecx_twilio.threecx_trunk:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    name: Twilio SIP Domain Trunk
    template: twilio-sip-domain.pv.xml
    registrar: example.sip.us1.twilio.com
    authentication: ip_based
    did_numbers: ["+14155550100"]
    caller_id_passthrough: true

- name: Same trunk with a credential list instead of an IP ACL
  voip.threecx_twilio.threecx_trunk:
    name: Twilio SIP Domain Trunk
    registrar: example.sip.ie1.twilio.com
    transport: TLS
    port: 5061
    authentication: credentials
    auth_id: pbx-site-1
    auth_password: "{{ vault_twilio_sip_password }}"

- name: Remove the trunk
  voip.threecx_twilio.threecx_trunk:
    name: Twilio SIP Domain Trunk
    state: absent
"""

RETURN = r"""
trunk:
  description: The trunk after the run (predicted in check mode), never with its password; empty after a delete.
  returned: success
  type: dict
  contains:
    id:
      description: The trunk's id (null in check mode for a trunk not made yet).
      type: int
      sample: 12
    number:
      description: The trunk's number (its DN); null in check mode when the template of a new trunk does not exist yet.
      type: str
      sample: "10000"
    name:
      description: Name.
      type: str
      sample: Twilio SIP Domain Trunk
    template:
      description: The template file the trunk was made from.
      type: str
      sample: twilio-sip-domain.pv.xml
    registrar:
      description: Registrar host.
      type: str
      sample: example.sip.us1.twilio.com
    port:
      description: Registrar port.
      type: int
      sample: 5060
    outbound_proxy:
      description: Outbound proxy host.
      type: str
      sample: example.sip.us1.twilio.com
    proxy_port:
      description: Outbound proxy port.
      type: int
      sample: 5060
    transport:
      description: Transport restriction.
      type: str
      sample: UDP
    authentication:
      description: V(ip_based) or V(credentials), from C(require_registration_for).
      type: str
      sample: ip_based
    require_registration_for:
      description: The API's C(Gateway.RequireRegistrationFor).
      type: str
      sample: Nothing
    auth_id:
      description: Authentication user name.
      type: str
      sample: ""
    did_numbers:
      description: DID numbers.
      type: list
      elements: str
      sample: ["+14155550100"]
    simultaneous_calls:
      description: Simultaneous calls.
      type: int
      sample: 10
    outbound_caller_id:
      description: Outbound caller ID.
      type: str
      sample: "+14155550100"
    e164_process_incoming:
      description: Whether incoming numbers are processed into E164 form.
      type: bool
      sample: false
    codecs:
      description: Codecs in priority order.
      type: list
      elements: str
      sample: [PCMU, PCMA, G729]
    outbound_params:
      description: The trunk's outbound parameter bindings (C(Gateway.OutboundParams)).
      type: list
      elements: dict
      sample: [{ParamId: 9, ValueId: 21, Custom: ""}]
    caller_id_passthrough:
      description: Whether all four caller-ID header parts are bound to the caller ID variable.
      type: bool
      returned: when O(caller_id_passthrough) is set
      sample: true
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: trunk Twilio SIP Domain Trunk created
diff:
  description: Before and after of the options that changed (only in diff mode), the password masked.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      registrar: old.sip.us1.twilio.com
    after:
      registrar: example.sip.us1.twilio.com
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_catalogue as cat
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Engine, deep_merge
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import assume_in_check_mode
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import DEFAULT_SOURCE_TEMPLATE, TRUNK

REGISTRATION = {"ip_based": "Nothing", "credentials": "InOutCalls"}


def effective_options(module):
    """Fill the options that follow from others (proxy from registrar, auth mode fields)."""
    p = module.params
    if p["outbound_proxy"] is None and p["registrar"] is not None:
        p["outbound_proxy"] = p["registrar"]
    if p["proxy_port"] is None and p["outbound_proxy"]:
        p["proxy_port"] = p["port"]
    if p["authentication"] is not None:
        p["require_registration_for"] = REGISTRATION[p["authentication"]]
        if p["authentication"] == "ip_based":
            p["auth_id"] = ""


def find_current(client, name):
    matches = cat.trunks_named(client, name)
    if len(matches) > 1:
        raise ValueError(
            "%d trunks are named %r (ids %s); rename or delete all but one so the module knows which to manage"
            % (len(matches), name, ", ".join(str(t.get("Id")) for t in matches))
        )
    return matches[0] if matches else None


def caller_id_plan(module, base):
    """The OutboundParams list wanted, and the four bindings (None when not managed)."""
    p = module.params
    if p["caller_id_passthrough"] is None:
        return None, None
    client = module.client
    roles = cat.resolve_caller_id_parameters(cat.fetch_parameters(client), p["parameter_names"])
    value = cat.resolve_value(cat.fetch_values(client), p["caller_id_variable"])
    wanted = cat.caller_id_bindings(roles, value)
    current = ((base or {}).get("Gateway") or {}).get("OutboundParams")
    return cat.merge_bindings(current, wanted, enable=p["caller_id_passthrough"]), wanted


def creatable(skeleton):
    """The InitTrunk skeleton as the base of a POST: no id, no (concealed) password."""
    body = dict(skeleton or {})
    body.pop("Id", None)
    body.pop("AuthPassword", None)
    body.pop("@odata.context", None)
    return body


def auth_mode(registration):
    return None if registration is None else ("ip_based" if registration == "Nothing" else "credentials")


def readable(result, wanted):
    """Diff and msg in the user's terms: caller_id_passthrough and authentication instead of
    the raw OutboundParams list and RequireRegistrationFor."""
    diff = result.get("diff")
    if diff:
        for side in ("before", "after"):
            view = diff[side]
            if "outbound_params" in view:
                view["caller_id_passthrough"] = cat.passthrough_on(view.pop("outbound_params"), wanted)
            if "require_registration_for" in view:
                view["authentication"] = auth_mode(view.pop("require_registration_for"))
    head, sep, names = result["msg"].partition(" updated (")
    if sep:
        renamed = set(
            {"outbound_params": "caller_id_passthrough", "require_registration_for": "authentication"}.get(n, n)
            for n in names.rstrip(")").split(", ")
        )
        result["msg"] = "%s updated (%s)" % (head, ", ".join(sorted(renamed)))
    return result


def main():
    module = ThreeCXModule(
        TRUNK,
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    engine = Engine(module, cat.TRUNK_FIELDS, result_key="trunk", kind="trunk", update_secrets=p["update_password"])
    with module.api_errors():
        client = module.client
        current = find_current(client, name)
        if p["state"] == "absent":
            result = engine.absent(current, delete=lambda c: client.delete("/Trunks(%d)" % c["Id"]), name=name)
            result["trunk"] = {}
            module.exit_json(**result)

        effective_options(module)
        skeleton = None
        if current is None:
            template = p["template"] or DEFAULT_SOURCE_TEMPLATE
            if p["registrar"] is None:
                raise ValueError("registrar is required to create the trunk %r (the Twilio SIP Domain's FQDN)" % name)
            if assume_in_check_mode(module, cat.require_template, client, template, "template") is None:
                # Check mode, the template not made yet: no InitTrunk of it; predict from the options alone.
                skeleton = {"Gateway": {"TemplateFilename": template}}
            else:
                skeleton = client.get("/Trunks/Pbx.InitTrunk(template=%s)" % cat.odata_literal(template)) or {}
            base = skeleton
        else:
            existing = (current.get("Gateway") or {}).get("TemplateFilename")
            if p["template"] is not None and existing and existing != p["template"]:
                raise ValueError(
                    "the trunk %r was made from the template %s, not %s; 3CX chooses a trunk's template when it is "
                    "created. Delete the trunk to make it again from %s, or leave template unset" % (name, existing, p["template"], p["template"])
                )
            base = current
        if p["codecs"] is not None:
            p["codecs"] = cat.resolve_codecs(cat.fetch_codecs(client), p["codecs"])
        p["outbound_params"], wanted = caller_id_plan(module, base)

        def find():
            number = (skeleton or {}).get("Number")
            if number:
                found = client.get_by_number("Trunks", number)
                if found is not None and cat.trunk_name(found) == name:
                    return found
            return find_current(client, name)

        result = engine.present(
            current,
            create=lambda payload: client.post("/Trunks", deep_merge(creatable(skeleton), payload)),
            update=lambda c, payload: client.patch("/Trunks(%d)" % c["Id"], payload),
            predict=lambda payload: deep_merge(skeleton, payload),
            find=find,
            name=name,
        )
    result["trunk"] = cat.add_derived(result["trunk"], wanted)
    module.exit_json(**readable(result, wanted))


if __name__ == "__main__":
    main()
