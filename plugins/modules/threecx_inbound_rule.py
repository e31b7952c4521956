#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_inbound_rule
short_description: Route a DID of a 3CX v20 PBX to a queue or ring group
version_added: 0.1.0
description:
  - Manages the inbound (DID) rule that sends calls to one DID number of a trunk to a queue, a ring
    group or another destination, through the 3CX Configuration API (C(/xapi/v1/InboundRules)).
  - This is the setup guide's "Assigned DID number(s)" of a queue or ring group, made declarative.
  - The rule is found by its natural key, the DID with the condition C(BasedOnDID). A rule made
    outside Ansible for that DID is adopted, never duplicated.
  - The DID must already be one of the trunk's DID numbers (the trunk's DID Numbers tab; the
    trunk module's DID list); a DID that is not on the trunk fails the task before any write.
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
      - Reads the rule, the trunk and the destinations and predicts the result; sends no write.
      - A trunk (O(trunk)), a DID of the trunk (O(did)) or a queue or ring group (O(destination),
        O(out_of_office_destination)) that does not exist yet gives a warning in check mode (an earlier
        task of the play may create it) and a predicted change; the diff shows the trunk by the name given
        as C(trunk_id). Without check mode it is an error. An unknown extension is an error in check mode too.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change; the trunk as its id (C(trunk_id)).
  idempotent:
    support: full
options:
  did:
    description:
      - The DID number the rule routes, as on the trunk (for example V(+12125550100) or V(12125550100)).
      - The natural key. A leading C(+) does not make a different DID; a new rule stores the DID as
        the trunk spells it.
    type: str
    required: true
  trunk:
    description:
      - The trunk that receives the DID, by name (the trunk's name in the Admin Console) or number.
      - Required to create the rule. An unknown trunk, or a DID that is not on the trunk, fails the task before any write
        (in check mode it is a warning; see the check_mode attribute).
    type: str
  name:
    description:
      - The rule's name (C(RuleName)). When not set, a new rule is named after its DID.
    type: str
  destination:
    description:
      - Where calls to the DID go during office hours (C(OfficeHoursDestination)), normally a queue
        (type V(queue) with its number) or a ring group (type V(ring_group)).
      - Required to create the rule. An internal number that does not exist fails the task before any write
        (a queue or ring group only gives a warning in check mode; see the check_mode attribute).
    type: dict
    suboptions:
      type:
        description:
          - V(queue), V(ring_group), V(extension) or V(voicemail) of the internal number
            O(destination.number); V(external) to an outside number; V(none) ends the call.
        type: str
        required: true
        choices: [external, voicemail, extension, queue, ring_group, none]
      number:
        description:
          - The internal number (queue, ring group, extension or voicemail box). It must exist on the PBX.
        type: str
      external:
        description:
          - For V(external), the outside number in full international format or a SIP URI.
        type: str
  out_of_office_destination:
    description:
      - Where calls go outside office hours (C(OutOfOfficeHoursDestination)).
      - Defaults to O(destination), so the DID reaches the same queue at all hours.
    type: dict
    suboptions:
      type:
        description:
          - As O(destination.type).
        type: str
        required: true
        choices: [external, voicemail, extension, queue, ring_group, none]
      number:
        description:
          - The internal number. It must exist on the PBX.
        type: str
      external:
        description:
          - For V(external), the outside number in full international format or a SIP URI.
        type: str
  state:
    description:
      - V(present) creates or updates the rule, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The trunk is written as C(TrunkDN) holding only the trunk's id (an object with C(Id)), which is
    how the API document spells the C(Pbx.Peer) property. That a real PBX accepts this form, rather
    than an C(@odata.bind) reference, is not confirmed. So after a write the rule is read back; a
    C(TrunkDN) the PBX ignored, or a write it refused with 400, is sent once more as
    C(TrunkDN@odata.bind) (C(Trunks(<id>))); if the PBX still does not show the trunk, or any other
    field sent, the module fails naming the field, the forms tried and what it read back. Only
    writes pay for this read.
  - Office hours themselves (C(Hours)) are not changed; they follow the PBX's or department's office hours.
seealso:
  - module: voip.threecx_twilio.threecx_queue
  - module: voip.threecx_twilio.threecx_ring_group
"""

EXAMPLES = r"""
- name: Send the customer-facing DID to queue 800 at all hours
  voip.threecx_twilio.threecx_inbound_rule:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    did: "+12125550100"
    trunk: PSTN provider
    destination:
      type: queue
      number: "800"

- name: Out of office hours, send the DID to a ring group instead
  voip.threecx_twilio.threecx_inbound_rule:
    did: "+12125550100"
    trunk: PSTN provider
    destination: {type: queue, number: "800"}
    out_of_office_destination: {type: ring_group, number: "700"}

- name: Remove the rule of the DID
  voip.threecx_twilio.threecx_inbound_rule:
    did: "+12125550100"
    state: absent
"""

RETURN = r"""
inbound_rule:
  description: The rule after the run (predicted in check mode), in the module's option names; empty after a delete.
  returned: success
  type: dict
  contains:
    id:
      description: The PBX's id of the rule (null in check mode for a rule that would be created).
      type: int
      sample: 12
    did:
      description: The DID as the rule stores it.
      type: str
      sample: "+12125550100"
    condition:
      description: The rule's condition; always C(BasedOnDID).
      type: str
      sample: BasedOnDID
    name:
      description: The rule's name.
      type: str
      sample: "+12125550100"
    trunk_id:
      description: The id of the trunk the rule belongs to (null in check mode when the trunk does not exist yet).
      type: int
      sample: 5
    trunk:
      description: The name of the trunk (when O(trunk) is not given, as the PBX reports it in C(TrunkDN), which may be null).
      type: str
      sample: PSTN provider
    destination:
      description: Office-hours destination.
      type: dict
      sample: {type: queue, number: "800", external: null}
    out_of_office_destination:
      description: Out-of-office destination.
      type: dict
      sample: {type: queue, number: "800", external: null}
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: inbound rule +12125550100 created
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      destination: {type: queue, number: "800", external: null}
    after:
      destination: {type: ring_group, number: "700", external: null}
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Engine, Field, deep_merge
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import odata_eq
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import (
    ApiFieldMap,
    Desired,
    Mapped,
    MissingReference,
    assume_in_check_mode,
    bind_trunk,
    check_destination_if_changed,
    confirmed_navigation,
    destination_field,
    find_trunk,
    referenced_trunk,
    same_number,
    trunk_name,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import INBOUND_RULE

PATH = "/InboundRules"
CONDITION = "BasedOnDID"

FIELDS = ApiFieldMap(
    Field("id", "Id", read_only=True),
    Mapped("did", "Data", compare=lambda current, desired: not same_number(current, desired)),
    Field("condition", "Condition"),
    Field("name", "RuleName"),
    Mapped("trunk_id", "TrunkDN", decode=lambda v: v.get("Id") if isinstance(v, dict) else None, encode=lambda v: {"Id": v}),
    destination_field("destination", "OfficeHoursDestination"),
    destination_field("out_of_office_destination", "OutOfOfficeHoursDestination"),
)


def lookup(client, did):
    """The BasedOnDID rule of ``did`` (with or without '+'), or None; ValueError if there are several."""
    spellings = sorted(set([did, did.lstrip("+"), "+" + did.lstrip("+")]))
    rules = client.list(PATH, filter=" or ".join(odata_eq("Data", s) for s in spellings), expand=["TrunkDN"])
    rules = [r for r in rules if r.get("Condition") == CONDITION and same_number(r.get("Data"), did)]
    if len(rules) > 1:
        raise ValueError(
            "did: %d inbound rules route DID %s (ids %s); remove the extra ones in the Admin Console first"
            % (len(rules), did, ", ".join(str(r.get("Id")) for r in rules))
        )
    return rules[0] if rules else None


def did_on_trunk(trunk, did):
    """The DID as ``trunk`` spells it; MissingReference when the trunk does not have it."""
    on_trunk = [n for n in trunk.get("DidNumbers") or [] if same_number(n, did)]
    if not on_trunk:
        raise MissingReference(
            "did: %s is not a DID number of trunk %r (%s), whose DID numbers are %s; add it to the trunk first"
            % (did, trunk_name(trunk), trunk.get("Number"), ", ".join(trunk.get("DidNumbers") or []) or "none"),
            "did",
            "DID %s of trunk %r" % (did, trunk_name(trunk)),
        )
    return on_trunk[0]


def main():
    module = ThreeCXModule(
        INBOUND_RULE,
        supports_check_mode=True,
    )
    p = module.params
    with module.api_errors():
        # The input checks (INBOUND_RULE) ran before any request.
        did = p["did"]
        office = p["destination"]
        out_of_office = p["out_of_office_destination"] or office

        client = module.client
        current = lookup(client, did)
        if p["state"] == "absent":
            engine = Engine(module, FIELDS, result_key="inbound_rule", kind="inbound rule")
            result = engine.absent(current, delete=lambda c: client.delete("%s(%s)" % (PATH, c["Id"])), name=did)
            module.exit_json(**result)

        if current is None:
            missing = [o for o in ("trunk", "destination") if p[o] is None]
            if missing:
                verb = " is" if len(missing) == 1 else " are"
                raise ValueError("%s required to create the inbound rule of DID %s (it does not exist yet)" % (" and ".join(missing) + verb, did))
        # Checks that need reads, still before any write.
        overrides = {"destination": office, "out_of_office_destination": out_of_office, "did": did, "trunk_id": None, "condition": None}
        trunk = None
        in_use = referenced_trunk(p["trunk"], (current or {}).get("TrunkDN")) if p["trunk"] is not None else None
        if in_use is not None:
            # The rule is on that trunk already (so its DID is one of the trunk's): nothing to look up.
            trunk = {"Id": in_use["Id"], "Number": in_use.get("Number"), "Gateway": {"Name": in_use["Name"]}}
            overrides["trunk_id"] = in_use["Id"]
        elif p["trunk"] is not None:
            trunk = assume_in_check_mode(module, find_trunk, client, p["trunk"])
            # Check mode, the trunk not made yet: compared and shown by the name given, so the change is predicted.
            overrides["trunk_id"] = trunk["Id"] if trunk is not None else p["trunk"]
            spelling = assume_in_check_mode(module, did_on_trunk, trunk, did) if trunk is not None else None
            if current is None and spelling is not None:
                overrides["did"] = spelling  # spelled as the trunk spells it
        check_destination_if_changed(module, client, FIELDS, current, "destination", office)
        if out_of_office is not office:
            check_destination_if_changed(module, client, FIELDS, current, "out_of_office_destination", out_of_office)
        if current is None:
            overrides["condition"] = CONDITION
            overrides["name"] = p["name"] or overrides["did"]

        engine = Engine(Desired(module, **overrides), FIELDS, result_key="inbound_rule", kind="inbound rule")

        def create(payload):
            made = client.post(PATH, payload)
            # TrunkDN is a navigation property: the reply may leave it out.
            return deep_merge(made if isinstance(made, dict) else {}, payload)

        result = engine.present(
            current,
            create=create,
            update=lambda cur, payload: client.patch("%s(%s)" % (PATH, cur["Id"]), payload),
            name=did,
            find=lambda: lookup(client, did),
            # How TrunkDN is written is UNCONFIRMED (3cx-xapi.md §3.7): a write is read back.
            confirm=confirmed_navigation(lambda _obj: lookup(client, did), {"trunk_id": bind_trunk}),
        )
        if trunk is not None:
            result["inbound_rule"]["trunk"] = trunk_name(trunk)
        elif p["trunk"] is not None:  # check mode, the trunk not made yet
            result["inbound_rule"].update(trunk=p["trunk"], trunk_id=None)
        else:
            result["inbound_rule"]["trunk"] = ((current or {}).get("TrunkDN") or {}).get("Name")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
