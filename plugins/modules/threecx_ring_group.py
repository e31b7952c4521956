#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_ring_group
short_description: Manage a ring group of a 3CX v20 PBX
version_added: 0.1.0
description:
  - Creates, updates or deletes a ring group (Admin Console > Call Handling > Ring Groups) through
    the 3CX Configuration API (C(/xapi/v1/RingGroups)).
  - The ring group is the setup guide's alternative to a queue where queues are not available. It
    rings its members for O(ring_time) seconds, then sends the unanswered call to
    O(no_answer_destination), for the Twilio fallback an outside number.
  - The ring group is found by its O(number), the natural key, which the PBX never changes. A ring
    group made outside Ansible with that number is adopted, never duplicated.
  - Only the options you set are compared and sent; the others keep their value on the PBX.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.threecx
  - voip.threecx_twilio.threecx_no_answer
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.THREECX
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - Reads the ring group (and the extensions and destinations it names) and predicts the result;
        sends no write. For a ring group that would be created, options you did not set are returned as null.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change; the members as sorted lists of numbers.
  idempotent:
    support: full
options:
  number:
    description:
      - The ring group's number (for example V(700)), digits only.
      - The natural key. The PBX refuses to change it, so a different number is a different ring group.
    type: str
    required: true
  name:
    description:
      - The ring group's name. Required when the ring group does not exist yet.
    type: str
  state:
    description:
      - V(present) creates or updates the ring group, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  members:
    description:
      - Extension numbers of the members. Their order does not matter.
      - Every number must be an existing extension; an unknown one fails the task before any write.
      - With O(purge_members=true) (the default) this list is the whole membership and members not
        listed are removed; V([]) removes every member. Not set, the members are not managed.
      - Written as one C(PATCH) of the full list, because OData replaces arrays.
    type: list
    elements: str
  purge_members:
    description:
      - Whether members on the PBX that are not in O(members) are removed.
      - V(false) only adds the listed members and keeps the others. Ignored when O(members) is not set.
    type: bool
    default: true
  ring_strategy:
    description:
      - How the members are rung (C(RingStrategy)). V(ring_all) rings every member at once, as the
        fallback flow needs; V(hunt) one after the other; V(paging) pages them.
      - Compared on every run, so a strategy changed in the Admin Console is set back.
    type: str
    choices: [hunt, ring_all, paging]
    default: ring_all
  ring_time:
    description:
      - Seconds the members are rung before the no-answer destination takes the call (C(RingTime);
        "Ring Duration" in the setup guide, for example V(10)). Must be greater than 0.
    type: int
  departments:
    description:
      - Names of the departments (C(Groups)) the ring group must be in, for example the departments its
        forwarded calls' outbound rule is limited to (3CX matches such a rule on the department of the
        leg that dials out).
      - A new ring group is created in these departments (C(Groups), a list of C(GroupId) records; the write is
        the reading of the API document, UNCONFIRMED on a real PBX). An existing ring group that is in all of
        them is left as it is (it may be in more); one in no department is given them.
      - An existing ring group in another department is not moved; the task fails before any write, naming
        its department. Moving it changes who administers it and which outbound rules all of its calls
        may take; do that in the Admin Console (Ring Groups > Department) if it is intended.
      - Needs 3CX 20.0.8 or later (departments of a ring group). Not set, the departments are not managed.
    type: list
    elements: str
    version_added: 0.2.0
notes:
  - C(Members) is a navigation property; whether a PBX stores it written inline is not confirmed. So
    after a write the ring group is read back; members the PBX ignored, or a write it refused with
    400, are sent once more as C(Members@odata.bind) (C(Users(<id>)) references); if the PBX still
    does not show them, or any other field sent, the module fails naming the field, the forms tried
    and what it read back. Only writes pay for this read.
seealso:
  - module: voip.threecx_twilio.threecx_queue
  - module: voip.threecx_twilio.threecx_inbound_rule
"""

EXAMPLES = r"""
- name: Ring group that rings two extensions for 10 s, then forwards to the Twilio number
  voip.threecx_twilio.threecx_ring_group:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    number: "700"
    name: Front desk
    members: ["100", "101"]
    ring_strategy: ring_all
    ring_time: 10
    no_answer_destination:
      type: external
      external: "+14155550100"

- name: Remove the ring group
  voip.threecx_twilio.threecx_ring_group:
    number: "700"
    state: absent
"""

RETURN = r"""
ring_group:
  description: The ring group after the run (predicted in check mode), in the module's option names; empty after a delete.
  returned: success
  type: dict
  contains:
    id:
      description: The PBX's id of the ring group (null in check mode for one that would be created).
      type: int
      sample: 17
    number:
      description: The ring group's number.
      type: str
      sample: "700"
    name:
      description: The ring group's name.
      type: str
      sample: Front desk
    members:
      description: Extension numbers of the members, sorted.
      type: list
      elements: str
      sample: ["100", "101"]
    ring_strategy:
      description: The ring strategy.
      type: str
      sample: ring_all
    ring_time:
      description: Seconds the members are rung.
      type: int
      sample: 10
    no_answer_destination:
      description: Where an unanswered call goes.
      type: dict
      sample: {type: external, number: null, external: "+14155550100"}
    departments:
      description: The names of the departments the ring group is in, sorted (null when not read, that is when O(departments) is not set).
      type: list
      elements: str
      sample: [DEFAULT]
      version_added: 0.2.0
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: ring group 700 created
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      members: ["100"]
    after:
      members: ["100", "101"]
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Field
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import RING_GROUP, RING_STRATEGIES
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import (
    ApiFieldMap,
    GroupSpec,
    departments_field,
    destination_field,
    enum_field,
    numbers_field,
    run_numbered_group,
)

FIELDS = ApiFieldMap(
    Field("id", "Id", read_only=True),
    Field("number", "Number"),
    Field("name", "Name"),
    numbers_field("members", "Members"),
    enum_field("ring_strategy", "RingStrategy", RING_STRATEGIES),
    Field("ring_time", "RingTime"),
    destination_field("no_answer_destination", "ForwardNoAnswer"),
    departments_field(),
)

SPEC = GroupSpec(
    collection="RingGroups",
    kind="ring group",
    result_key="ring_group",
    fields=FIELDS,
    members_option="members",
    members_api="Members",
    timeouts=("ring_time",),
)


def main():
    module = ThreeCXModule(
        RING_GROUP,
        supports_check_mode=True,
    )
    with module.api_errors():
        result = run_numbered_group(module, SPEC)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
