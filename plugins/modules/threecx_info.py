#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_info
short_description: Read the configuration of a 3CX v20 PBX that matters for the Twilio fallback flow
version_added: 0.1.0
description:
  - Reads, through the 3CX Configuration API, the PBX's version (and what it implies for the API), the
    gateway parameter catalogue, codecs, provider templates, trunks, queues, ring groups (with their
    members and no-answer destination), users (extensions, with their presence profile), inbound and
    outbound rules, the E164 settings, and which variable the four caller-ID header parts of templates
    and trunks are bound to. Changes nothing.
  - The gateway parameter catalogue shows which parameter names look like the P-Asserted-Identity and
    P-Preferred-Identity user parts. 3CX does not document those names; use this output to confirm them on
    a real PBX before pinning them with O(voip.threecx_twilio.threecx_template#module:parameter_names).
  - Secrets are never returned (trunk passwords are dropped; users are read with C($select) so that
    their PINs and passwords are never even sent).
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.threecx
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.THREECX
  - voip.threecx_twilio.attributes.IN_PROCESS
  - voip.threecx_twilio.attributes.INFO_MODULE
options:
  gather:
    description:
      - What to read. V(all) reads everything.
      - V(system) is always read (the version decides how objects are addressed).
      - V(users) reads the extensions with their presence profile; V(caller_id) reads which variable the
        caller-ID header parts of templates and trunks are bound to.
    type: list
    elements: str
    choices: [all, system, gateway_parameters, codecs, templates, trunks, queues, ring_groups, users, inbound_rules, outbound_rules, e164, caller_id]
    default: [all]
  dnd_profiles:
    description:
      - The presence profile names (C(CurrentProfileName) of a user) that count as Do Not Disturb in RV(users[].dnd).
      - The v20 XAPI has no DND flag; the default, the v20 client's C(Out of office) status, is an assumption
        (UNCONFIRMED against 3CX's documentation). Add the names of custom profiles your PBX uses for DND.
    type: list
    elements: str
    default: [Out of office]
  caller_id_variable:
    description:
      - With V(caller_id) gathered, the 3CX variable the four caller-ID header parts should be bound to
        (as in M(voip.threecx_twilio.threecx_template)); compared without regard to case.
    type: str
    default: $OriginatorCallerId
  parameter_names:
    description:
      - With V(caller_id) gathered, the PBX's names of the four caller-ID gateway parameters, as in
        M(voip.threecx_twilio.threecx_template); unset names are found as that module finds them.
    type: dict
    suboptions:
      from_user_part:
        description: The From header user part.
        type: str
      rpid_user_part:
        description: The Remote-Party-ID calling party user part.
        type: str
      pai_user_part:
        description: The P-Asserted-Identity user part.
        type: str
      ppi_user_part:
        description: The P-Preferred-Identity user part.
        type: str
  template_names:
    description:
      - With V(caller_id) gathered, templates whose content is read in any case (besides the custom ones and
        those trunks use), by file name. A name the PBX does not have is returned with C(found=false).
    type: list
    elements: str
    default: []
requirements:
  - lxml (only to gather V(caller_id))
seealso:
  - module: voip.threecx_twilio.threecx_template
  - module: voip.threecx_twilio.threecx_trunk
"""

EXAMPLES = r"""
- name: Confirm the PBX's names for the P-Asserted-Identity and P-Preferred-Identity parameters
  voip.threecx_twilio.threecx_info:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    gather: [gateway_parameters]
  register: pbx

- name: Show them
  ansible.builtin.debug:
    var: pbx.gateway_parameters.caller_id_candidates

- name: Read everything
  voip.threecx_twilio.threecx_info:
  register: pbx_all

- name: Who in queue 800 is on Do Not Disturb, and does the Twilio template keep the caller ID?
  voip.threecx_twilio.threecx_info:
    gather: [queues, users, caller_id]
    template_names: [twilio-cid.pv.xml]
  register: pbx_golive

- name: Show them
  ansible.builtin.debug:
    msg:
      - "on DND: {{ pbx_golive.users | selectattr('dnd') | map(attribute='number') | list }}"
      - "agents: {{ (pbx_golive.queues | selectattr('number', 'equalto', '800') | first).members }}"
      - "unbound: {{ (pbx_golive.caller_id.templates | selectattr('id', 'equalto', 'twilio-cid.pv.xml') | first).missing }}"
"""

RETURN = r"""
system:
  description: The PBX's version and what it implies.
  returned: always
  type: dict
  contains:
    version:
      description: The version string the PBX reports.
      type: str
      sample: 20.0.10.1234
    fqdn:
      description: The PBX's FQDN.
      type: str
      sample: pbx.example.com
    max_did_per_trunk:
      description: The most DID numbers a trunk may have.
      type: int
      sample: 100
    number_keys:
      description: Whether objects are addressed by number as C(/Trunks(Number='10000')) (20.0.8 and later);
        before that with C(Pbx.GetByNumber) / C(Pbx.GetTrunkByNumber) functions.
      type: bool
      sample: true
    number_key_example:
      description: How this PBX addresses the queue C(800).
      type: str
      sample: /Queues(Number='800')
    expires_in_unit:
      description: The unit of C(expires_in) in token replies, V(seconds) from 20.0.9, V(minutes) before.
      type: str
      sample: seconds
gateway_parameters:
  description: The gateway parameter catalogue (C(GET /Defs/GatewayParameters) and C(/Defs/GatewayParameterValues)).
  returned: when gathered
  type: dict
  contains:
    parameters:
      description: Every parameter with its id, name and the values it may take outbound.
      type: list
      elements: dict
      sample: [{id: 9, name: FromUserPart, description: From user part, outbound_possible_values: [CallerNum]}]
    parameter_values:
      description: Every parameter value (the variables of the templates, without C($)).
      type: list
      elements: dict
      sample: [{id: 21, name: OriginatorCallerId, description: Originator caller ID}]
    caller_id_candidates:
      description: For each caller-ID header part, the parameter names that look like it.
      type: dict
      sample:
        from_user_part: [FromUserPart]
        rpid_user_part: [RemotePartyIDCallingPartyUserPart]
        pai_user_part: [PAssertedIdentityUserPart]
        ppi_user_part: [PPreferredIdentityUserPart]
    caller_id_parameters:
      description: The names threecx_template and threecx_trunk would use without O(voip.threecx_twilio.threecx_template#module:parameter_names),
        or null for a header part they could not resolve.
      type: dict
      sample:
        pai_user_part: PAssertedIdentityUserPart
    caller_id_problems:
      description: Why a header part could not be resolved.
      type: dict
      sample: {}
codecs:
  description: The codec catalogue.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 1, name: G.711 u-law, rfc_name: PCMU}]
templates:
  description: Provider templates (without their XML).
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: GenericSIPTrunk.pv.xml, name: Generic SIP Trunk, is_custom: false, template_type: Supported}]
trunks:
  description: Trunks in M(voip.threecx_twilio.threecx_trunk)'s option names, never with passwords.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 12, number: "10000", name: Twilio SIP Domain Trunk, registrar: example.sip.us1.twilio.com}]
queues:
  description:
    - Queues as the API returns them, keys in snake_case, with their agents and departments
      (C($expand=Agents,Groups)) and keys added by the module, C(members), C(no_answer_destination),
      C(department_ids) and C(department_names).
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 3, number: "800", name: Support, polling_strategy: RingAll, ring_timeout: 10, agents: [{id: 41, number: "100", name: Ada}],
            members: ["100"], no_answer_destination: {type: external, number: null, external: "+14155550199"}}]
  contains:
    members:
      description: The agents' extension numbers, sorted.
      type: list
      elements: str
      sample: ["100", "101"]
    no_answer_destination:
      description:
        - Where unanswered calls go (C(ForwardNoAnswer)) in the shape of the queue module's
          O(voip.threecx_twilio.threecx_queue#module:no_answer_destination) option, or null.
      type: dict
      sample: {type: external, number: null, external: "+14155550199"}
    department_ids:
      description:
        - The Ids of the departments (C(Groups)) the queue is in, sorted. 3CX matches an outbound rule limited to
          departments on the department of the leg that dials out. Null when the PBX does not give them (before
          20.0.8, when a queue has no C(Groups)).
      type: list
      elements: int
      sample: [27]
      version_added: 0.2.0
    department_names:
      description: The names of those departments, sorted.
      type: list
      elements: str
      sample: [DEFAULT]
      version_added: 0.2.0
ring_groups:
  description:
    - Ring groups, keys in snake_case, with their members and departments (C($expand=Members,Groups)) and
      the added keys C(members), C(no_answer_destination), C(department_ids) and C(department_names) as for
      RV(queues).
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 4, number: "700", name: Sales, ring_strategy: RingAll, members: ["102"], no_answer_destination: null}]
users:
  description:
    - The users (extensions), read with C($select) of the keys below only (never PINs or passwords).
  returned: when gathered
  type: list
  elements: dict
  contains:
    id:
      description: The user's Id.
      type: int
      sample: 41
    number:
      description: The extension number.
      type: str
      sample: "100"
    first_name:
      description: First name.
      type: str
      sample: Ada
    last_name:
      description: Last name.
      type: str
      sample: Lovelace
    display_name:
      description: C(DisplayName), else first and last name.
      type: str
      sample: Ada Lovelace
    current_profile_name:
      description: The presence profile the user is in (C(Available), C(Away), C(Out of office), ...).
      type: str
      sample: Available
    queue_status:
      description: C(LoggedIn) or C(LoggedOut) (of the queues the user is an agent of).
      type: str
      sample: LoggedIn
    enabled:
      description: Whether the extension is enabled.
      type: bool
      sample: true
    is_registered:
      description: Whether a phone of the user is registered.
      type: bool
      sample: true
    dnd:
      description: Whether C(current_profile_name) is one of O(dnd_profiles) (Do Not Disturb; see there).
      type: bool
      sample: false
inbound_rules:
  description: Inbound (DID) rules, keys in snake_case, with their trunk (C($expand=TrunkDN)).
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 5, rule_name: Main DID, condition: BasedOnDID, data: "14155550100", trunk_dn: {id: 12, number: "10000"},
            office_hours_destination: {to: Queue, number: "800"}}]
outbound_rules:
  description: Outbound rules, keys in snake_case.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 6, name: To Twilio, prefix: "+1415", routes: [{trunk_id: 12, strip_digits: 0}]}]
e164:
  description: The E164 settings, keys in snake_case.
  returned: when gathered
  type: dict
  sample: {enabled: false, country_code: "1"}
caller_id:
  description:
    - Which variable the four caller-ID header parts (From, Remote-Party-ID, P-Asserted-Identity and
      P-Preferred-Identity user parts) are bound to, in the custom templates, the templates trunks use,
      the templates of O(template_names), and on every trunk (its C(Gateway.OutboundParams)).
  returned: when gathered
  type: dict
  contains:
    variable:
      description: The variable expected (O(caller_id_variable) as this PBX spells it).
      type: str
      sample: $OriginatorCallerId
    parameters:
      description: The PBX's name of each header part's gateway parameter, or null when it could not be resolved.
      type: dict
      sample: {from_user_part: FromUserPart, rpid_user_part: RemotePartyIDCallingPartyUserPart,
               pai_user_part: PAssertedIdentityUserPart, ppi_user_part: PPreferredIdentityUserPart}
    problems:
      description: Why a header part could not be resolved.
      type: dict
      sample: {}
    templates:
      description:
        - Per template, C(id), C(found), C(is_custom), C(bindings) (header part to the variable bound to it, or null),
          C(missing) (the header parts not bound to the expected variable) and C(problem) (why its content could
          not be read, else null).
      type: list
      elements: dict
      sample: [{id: twilio-cid.pv.xml, found: true, is_custom: true, problem: null, missing: [],
                bindings: {from_user_part: $OriginatorCallerId, rpid_user_part: $OriginatorCallerId,
                           pai_user_part: $OriginatorCallerId, ppi_user_part: $OriginatorCallerId}}]
    trunks:
      description: Per trunk, C(id), C(number), C(name), C(template), C(bindings) and C(missing), as for templates.
      type: list
      elements: dict
      sample: [{id: 12, number: "10000", name: Twilio SIP Domain Trunk, template: twilio-cid.pv.xml, missing: [pai_user_part],
                bindings: {from_user_part: $OriginatorCallerId, rpid_user_part: $OriginatorCallerId,
                           pai_user_part: null, ppi_user_part: $OriginatorCallerId}}]
"""

import re

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _pvxml
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_catalogue as cat
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_inputs as tx
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import destination_from_api

SECTIONS = (
    "system",
    "gateway_parameters",
    "codecs",
    "templates",
    "trunks",
    "queues",
    "ring_groups",
    "users",
    "inbound_rules",
    "outbound_rules",
    "e164",
    "caller_id",
)
# section: (path, navigation properties to expand). A queue's or ring group's Groups are its
# departments, which decide the outbound rules its forwarded calls may take.
COLLECTIONS = {
    "queues": ("/Queues", ["Agents", "Groups"]),
    "ring_groups": ("/RingGroups", ["Members", "Groups"]),
    "inbound_rules": ("/InboundRules", ["TrunkDN"]),
    "outbound_rules": ("/OutboundRules", None),
}
# Users are read with $select: a Pbx.User also holds PINs and passwords (VMPIN, AccessPassword, ...).
USER_FIELDS = ("Id", "Number", "FirstName", "LastName", "DisplayName", "CurrentProfileName", "QueueStatus", "Enabled", "IsRegistered")
_SECRET = re.compile(r"password|secret|token|pin$", re.IGNORECASE)


def scrub(value):
    """Drop secret-looking keys anywhere in an API object, and OData annotations."""
    if isinstance(value, dict):
        return dict((k, scrub(v)) for k, v in value.items() if not _SECRET.search(k) and not k.startswith("@odata"))
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def snake(obj):
    return camel_dict_to_snake_dict(scrub(obj)) if isinstance(obj, dict) else obj


def group_view(item, members_api):
    """A queue or ring group in snake_case, plus its member numbers and no-answer destination."""
    view = snake(item)
    members = item.get(members_api) if isinstance(item.get(members_api), list) else []
    view["members"] = sorted(str(m.get("Number")) for m in members if isinstance(m, dict) and m.get("Number") is not None)
    view["no_answer_destination"] = destination_from_api(item.get("ForwardNoAnswer"))
    # None when the reply has no Groups (a PBX before 20.0.8): not read, which is not "in no department".
    groups = [g for g in item["Groups"] if isinstance(g, dict)] if isinstance(item.get("Groups"), list) else None
    view["department_ids"] = None if groups is None else sorted(g.get("GroupId") for g in groups if g.get("GroupId") is not None)
    view["department_names"] = None if groups is None else sorted(str(g.get("Name")) for g in groups if g.get("Name") is not None)
    return view


def user_view(user, dnd_profiles):
    first = user.get("FirstName") or ""
    last = user.get("LastName") or ""
    profile = user.get("CurrentProfileName")
    return {
        "id": user.get("Id"),
        "number": user.get("Number"),
        "first_name": first,
        "last_name": last,
        "display_name": user.get("DisplayName") or " ".join(n for n in (first, last) if n),
        "current_profile_name": profile,
        "queue_status": user.get("QueueStatus"),
        "enabled": user.get("Enabled"),
        "is_registered": user.get("IsRegistered"),
        "dnd": profile is not None and str(profile).lower() in set(str(n).lower() for n in dnd_profiles),
    }


def system_info(client):
    params = client.system_parameters()
    version = client.version
    return {
        "version": params.get("Version"),
        "fqdn": params.get("FQDN"),
        "max_did_per_trunk": params.get("MaxDIDPerTrunk"),
        "number_keys": version >= (20, 0, 8),
        "number_key_example": client.by_number_path("Queues", "800"),
        "expires_in_unit": "seconds" if version >= (20, 0, 9) else "minutes",
    }


def gateway_info(client):
    parameters = cat.fetch_parameters(client)
    values = cat.fetch_values(client)
    resolved = {}
    problems = {}
    for role in cat.ROLES:
        try:
            resolved[role] = cat.resolve_role(parameters, role)["Name"]
        except ValueError as exc:
            resolved[role] = None
            problems[role] = str(exc)
    return {
        "parameters": [
            {
                "id": p.get("Id"),
                "name": p.get("Name"),
                "description": p.get("Description"),
                "can_have_did": p.get("CanHaveDID"),
                "inbound_possible_values": p.get("InboundPossibleValues") or [],
                "outbound_possible_values": p.get("OutboundPossibleValues") or [],
                "source_id_possible_values": p.get("SourceIDPossibleValues") or [],
            }
            for p in parameters
        ],
        "parameter_values": [{"id": v.get("Id"), "name": v.get("Name"), "description": v.get("Description")} for v in values],
        "caller_id_candidates": cat.caller_id_candidates(parameters),
        "caller_id_parameters": resolved,
        "caller_id_problems": problems,
    }


def template_fields(client):
    """IsCustom exists from 20.0.10 on; Content is left out (it is large)."""
    return ["Id", "Name", "Description", "TemplateType"] + (["IsCustom"] if client.version >= (20, 0, 10) else [])


def _variable_key(variable):
    return str(variable or "").lstrip("$").lower()


def caller_id_info(client, variable, overrides, template_names, trunks):
    """Which variable each caller-ID header part is bound to, in templates and on trunks."""
    parameters = cat.fetch_parameters(client)
    values = cat.fetch_values(client)
    names = {}
    problems = {}
    for role in cat.ROLES:
        try:
            names[role] = cat.resolve_role(parameters, role, (overrides or {}).get(role))["Name"]
        except ValueError as exc:
            names[role] = None
            problems[role] = str(exc)
    try:
        expected = "$" + cat.resolve_value(values, variable)["Name"]
    except ValueError:
        expected = variable  # not in the catalogue: nothing can be bound to it, every part is reported missing
    by_id = dict((p.get("Id"), p.get("Name")) for p in parameters)
    value_names = dict((v.get("Id"), "$" + str(v.get("Name"))) for v in values)

    def judged(bindings):
        missing = [role for role in cat.ROLES if _variable_key(bindings.get(role)) != _variable_key(expected) or bindings.get(role) is None]
        return bindings, missing

    listed = client.list(cat.TEMPLATES_PATH, select=["Id"] + (["IsCustom"] if client.version >= (20, 0, 10) else []))
    custom = dict((t.get("Id"), t.get("IsCustom")) for t in listed)
    wanted = []
    for template_id in list(template_names or []) + [t.get("Id") for t in listed if t.get("IsCustom")] + [t.get("template") for t in trunks]:
        if template_id and template_id not in wanted:
            wanted.append(template_id)
    templates = []
    for template_id in wanted:
        entry = {"id": template_id, "found": template_id in custom, "is_custom": custom.get(template_id), "problem": None}
        parts = {}
        if entry["found"]:
            body = client.get_or_none(cat.template_path(template_id)) or {}
            try:
                for parameter, bound, _custom in _pvxml.parameters_out(body.get("Content")):
                    parts.setdefault(parameter, bound)
            except _pvxml.TemplateError as exc:
                entry["problem"] = str(exc)
        else:
            entry["problem"] = "the PBX has no provider template %r" % template_id
        entry["bindings"], entry["missing"] = judged(dict((role, parts.get(names[role]) if names[role] else None) for role in cat.ROLES))
        templates.append(entry)
    trunk_entries = []
    for trunk in trunks:
        bound = {}
        for binding in trunk.get("outbound_params") or []:
            if isinstance(binding, dict):
                bound.setdefault(by_id.get(binding.get("ParamId")), value_names.get(binding.get("ValueId")))
        bindings, missing = judged(dict((role, bound.get(names[role]) if names[role] else None) for role in cat.ROLES))
        trunk_entries.append(
            {
                "id": trunk.get("id"),
                "number": trunk.get("number"),
                "name": trunk.get("name"),
                "template": trunk.get("template"),
                "bindings": bindings,
                "missing": missing,
            }
        )
    return {"variable": expected, "parameters": names, "problems": problems, "templates": templates, "trunks": trunk_entries}


def main():
    module = ThreeCXModule(
        argument_spec=dict(
            gather=dict(type="list", elements="str", default=["all"], choices=["all"] + list(SECTIONS)),
            dnd_profiles=dict(type="list", elements="str", default=["Out of office"]),
            caller_id_variable=dict(type="str", default=tx.DEFAULT_CALLER_ID_VARIABLE),
            parameter_names=dict(
                type="dict",
                options=dict((role, dict(type="str")) for role in cat.ROLES),
            ),
            template_names=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    wanted = set(p["gather"])
    if "all" in wanted:
        wanted = set(SECTIONS)
    if "caller_id" in wanted:
        if not _pvxml.HAS_LXML:
            module.fail_json(msg=missing_required_lib("lxml"), exception=_pvxml.LXML_IMPORT_ERROR)
        try:
            tx.check_caller_id_variable("caller_id_variable", p["caller_id_variable"])
            tx.check_parameter_names("parameter_names", p["parameter_names"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    result = {"changed": False}
    with module.api_errors():
        client = module.client
        result["system"] = system_info(client)
        if "gateway_parameters" in wanted:
            result["gateway_parameters"] = gateway_info(client)
        if "codecs" in wanted:
            result["codecs"] = [{"id": c.get("Id"), "name": c.get("Name"), "rfc_name": c.get("RfcName")} for c in cat.fetch_codecs(client)]
        if "templates" in wanted:
            result["templates"] = [
                {
                    "id": t.get("Id"),
                    "name": t.get("Name"),
                    "description": t.get("Description"),
                    "is_custom": t.get("IsCustom"),
                    "template_type": t.get("TemplateType"),
                }
                for t in client.list(cat.TEMPLATES_PATH, select=template_fields(client))
            ]
        trunks = None
        if "trunks" in wanted or "caller_id" in wanted:
            trunks = [cat.trunk_view(t) for t in client.list("/Trunks")]
        if "trunks" in wanted:
            result["trunks"] = trunks
        for section, (path, expand) in COLLECTIONS.items():
            if section in wanted:
                if section in ("queues", "ring_groups") and client.version < (20, 0, 8):
                    expand = expand[:1]  # a queue or ring group has Groups (departments) from 20.0.8 on
                items = client.list(path, expand=expand)
                if section == "queues":
                    result[section] = [group_view(item, "Agents") for item in items]
                elif section == "ring_groups":
                    result[section] = [group_view(item, "Members") for item in items]
                else:
                    result[section] = [snake(item) for item in items]
        if "users" in wanted:
            result["users"] = [user_view(u, p["dnd_profiles"]) for u in client.list("/Users", select=list(USER_FIELDS), orderby="Number")]
        if "e164" in wanted:
            result["e164"] = snake(client.get("/E164Settings") or {})
        if "caller_id" in wanted:
            result["caller_id"] = caller_id_info(client, p["caller_id_variable"], p["parameter_names"], p["template_names"], trunks)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
