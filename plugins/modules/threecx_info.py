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
    gateway parameter catalogue, codecs, provider templates, trunks, queues, ring groups, inbound and
    outbound rules and the E164 settings. Changes nothing.
  - The gateway parameter catalogue shows which parameter names look like the P-Asserted-Identity and
    P-Preferred-Identity user parts. 3CX does not document those names; use this output to confirm them on
    a real PBX before pinning them with O(voip.threecx_twilio.threecx_template#module:parameter_names).
  - Secrets are never returned (trunk passwords are dropped).
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.threecx
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.THREECX
  - voip.threecx_twilio.attributes.INFO_MODULE
options:
  gather:
    description:
      - What to read. V(all) reads everything.
      - V(system) is always read (the version decides how objects are addressed).
    type: list
    elements: str
    choices: [all, system, gateway_parameters, codecs, templates, trunks, queues, ring_groups, inbound_rules, outbound_rules, e164]
    default: [all]
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
  description: Queues as the API returns them, keys in snake_case.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 3, number: "800", name: Support, polling_strategy: RingAll, ring_timeout: 10}]
ring_groups:
  description: Ring groups, keys in snake_case.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 4, number: "700", name: Sales, ring_strategy: RingAll}]
inbound_rules:
  description: Inbound (DID) rules, keys in snake_case.
  returned: when gathered
  type: list
  elements: dict
  sample: [{id: 5, rule_name: Main DID, condition: BasedOnDID, data: "14155550100"}]
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
"""

import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_catalogue as cat
from ansible_collections.voip.threecx_twilio.plugins.module_utils._module import ThreeCXModule

SECTIONS = ("system", "gateway_parameters", "codecs", "templates", "trunks", "queues", "ring_groups", "inbound_rules", "outbound_rules", "e164")
COLLECTIONS = {
    "queues": "/Queues",
    "ring_groups": "/RingGroups",
    "inbound_rules": "/InboundRules",
    "outbound_rules": "/OutboundRules",
}
_SECRET = re.compile(r"password|secret|token", re.IGNORECASE)


def scrub(value):
    """Drop secret-looking keys anywhere in an API object, and OData annotations."""
    if isinstance(value, dict):
        return dict((k, scrub(v)) for k, v in value.items() if not _SECRET.search(k) and not k.startswith("@odata"))
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def snake(obj):
    return camel_dict_to_snake_dict(scrub(obj)) if isinstance(obj, dict) else obj


def system_info(client):
    params = client.get("/Defs/Pbx.GetSystemParameters()") or {}
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


def main():
    module = ThreeCXModule(
        argument_spec=dict(
            gather=dict(type="list", elements="str", default=["all"], choices=["all"] + list(SECTIONS)),
        ),
        supports_check_mode=True,
    )
    wanted = set(module.params["gather"])
    if "all" in wanted:
        wanted = set(SECTIONS)
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
        if "trunks" in wanted:
            result["trunks"] = [cat.trunk_view(t) for t in client.list("/Trunks")]
        for section, path in COLLECTIONS.items():
            if section in wanted:
                result[section] = [snake(item) for item in client.list(path)]
        if "e164" in wanted:
            result["e164"] = snake(client.get("/E164Settings") or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
