#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_queue
short_description: Manage a call queue of a 3CX v20 PBX
version_added: 0.1.0
description:
  - Creates, updates or deletes a call queue (Admin Console > Call Handling > Queues) through the
    3CX Configuration API (C(/xapi/v1/Queues)).
  - The queue is found by its O(number), the natural key, which the PBX never changes. A queue
    made outside Ansible with that number is adopted, never duplicated.
  - For the Twilio fallback flow, the queue rings its agents all at once for a short time and then
    forwards the unanswered call to an outside number (O(no_answer_destination)), which the PBX
    dials through the outbound rule to the Twilio SIP Domain trunk.
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
      - Reads the queue (and the extensions and destinations it names) and predicts the result;
        sends no write. For a queue that would be created, options you did not set are returned as null.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change; the agents as sorted lists of numbers.
  idempotent:
    support: full
options:
  number:
    description:
      - The queue's number (its extension number, for example V(800)), digits only.
      - The natural key. The PBX refuses to change a queue's number, so a different number is a different queue.
    type: str
    required: true
  name:
    description:
      - The queue's name. Required when the queue does not exist yet.
    type: str
  state:
    description:
      - V(present) creates or updates the queue, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  agents:
    description:
      - Extension numbers of the agents (the Users tab of the queue). Their order does not matter.
      - Every number must be an existing extension; an unknown one fails the task before any write.
      - With O(purge_agents=true) (the default) this list is the whole membership and agents not
        listed are removed; V([]) removes every agent. Not set, the agents are not managed.
      - Written as one C(PATCH) of the full list, because OData replaces arrays.
    type: list
    elements: str
  purge_agents:
    description:
      - Whether agents on the PBX that are not in O(agents) are removed.
      - V(false) only adds the listed agents and keeps the others. Ignored when O(agents) is not set.
    type: bool
    default: true
  polling_strategy:
    description:
      - How the queue rings its agents (C(PollingStrategy)). V(ring_all) rings every agent at once,
        as the fallback flow needs.
      - Compared on every run, so a strategy changed in the Admin Console is set back.
    type: str
    choices:
      - hunt
      - ring_all
      - hunt_random_start
      - next_agent
      - longest_waiting
      - least_talk_time
      - fewest_answered
      - hunt_by_3s
      - first_3_available
      - skill_based_routing_ring_all
      - skill_based_routing_hunt_random_start
      - skill_based_routing_round_robin
      - skill_based_routing_fewest_answered
    default: ring_all
  ring_timeout:
    description:
      - Seconds the agents are rung in each polling round (C(RingTimeout); "Polling" in the setup
        guide, for example V(10)). Must be greater than 0.
    type: int
  queue_timeout:
    description:
      - Seconds a caller waits in the queue before the no-answer destination takes the call
        (C(MasterTimeout); "Queue Timeout" in the setup guide, for example V(10)). Must be greater than 0.
      - A warning is shown when it is shorter than O(ring_timeout), because the agents would not be rung for a full round.
    type: int
  departments:
    description:
      - Names of the departments (C(Groups)) the queue must be in, for example the departments its
        forwarded calls' outbound rule is limited to (3CX matches such a rule on the department of the
        leg that dials out).
      - A new queue is created in these departments (C(Groups), a list of C(GroupId) records; the write is
        the reading of the API document, UNCONFIRMED on a real PBX). An existing queue that is in all of
        them is left as it is (it may be in more); one in no department is given them.
      - An existing queue in another department is not moved; the task fails before any write, naming
        its department. Moving it changes who administers it and which outbound rules all of its calls
        may take; do that in the Admin Console (Queues > Department) if it is intended.
      - Needs 3CX 20.0.8 or later (departments of a queue). Not set, the departments are not managed.
    type: list
    elements: str
    version_added: 0.2.0
notes:
  - The mapping of O(ring_timeout) to C(RingTimeout) and O(queue_timeout) to C(MasterTimeout) is
    inferred from the PBX's defaults (30 s and 1800 s) and not stated by the API document.
  - C(Agents) is a navigation property; whether a PBX stores it written inline is not confirmed. So
    after a write the queue is read back; agents the PBX ignored, or a write it refused with 400,
    are sent once more as C(Agents@odata.bind) (C(Users(<id>)) references); if the PBX still does
    not show them, or any other field sent, the module fails naming the field, the forms tried and
    what it read back. Only writes pay for this read.
seealso:
  - module: voip.threecx_twilio.threecx_ring_group
  - module: voip.threecx_twilio.threecx_inbound_rule
  - module: voip.threecx_twilio.threecx_outbound_rule
"""

EXAMPLES = r"""
- name: Queue that rings two agents for 10 s, then forwards to the Twilio number
  voip.threecx_twilio.threecx_queue:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    number: "800"
    name: Support
    agents: ["100", "101"]
    polling_strategy: ring_all
    ring_timeout: 10
    queue_timeout: 10
    no_answer_destination:
      type: external
      external: "+14155550100"

- name: Add an agent without removing the others
  voip.threecx_twilio.threecx_queue:
    number: "800"
    agents: ["102"]
    purge_agents: false

- name: Remove the queue
  voip.threecx_twilio.threecx_queue:
    number: "800"
    state: absent
"""

RETURN = r"""
queue:
  description: The queue after the run (predicted in check mode), in the module's option names; empty after a delete.
  returned: success
  type: dict
  contains:
    id:
      description: The PBX's id of the queue (null in check mode for a queue that would be created).
      type: int
      sample: 42
    number:
      description: The queue's number.
      type: str
      sample: "800"
    name:
      description: The queue's name.
      type: str
      sample: Support
    agents:
      description: Extension numbers of the agents, sorted.
      type: list
      elements: str
      sample: ["100", "101"]
    polling_strategy:
      description: The polling strategy.
      type: str
      sample: ring_all
    ring_timeout:
      description: Seconds per polling round.
      type: int
      sample: 10
    queue_timeout:
      description: Seconds before the no-answer destination takes the call.
      type: int
      sample: 10
    no_answer_destination:
      description: Where an unanswered call goes.
      type: dict
      sample: {type: external, number: null, external: "+14155550100"}
    departments:
      description: The names of the departments the queue is in, sorted (null when not read, that is when O(departments) is not set).
      type: list
      elements: str
      sample: [DEFAULT]
      version_added: 0.2.0
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: queue 800 updated (agents, ring_timeout)
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      ring_timeout: 30
    after:
      ring_timeout: 10
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Field
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import POLLING_STRATEGIES, QUEUE
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
    numbers_field("agents", "Agents"),
    enum_field("polling_strategy", "PollingStrategy", POLLING_STRATEGIES),
    Field("ring_timeout", "RingTimeout"),
    Field("queue_timeout", "MasterTimeout"),
    destination_field("no_answer_destination", "ForwardNoAnswer"),
    departments_field(),
)


def warn_on_timeouts(module, effective):
    ring, queue = effective.get("ring_timeout"), effective.get("queue_timeout")
    if ring is not None and queue is not None and queue < ring:
        module.warn(
            "queue_timeout (%s s) is shorter than ring_timeout (%s s): the caller leaves the queue before "
            "the agents have been rung for one full round. The setup guide uses equal values (10 s)." % (queue, ring)
        )


SPEC = GroupSpec(
    collection="Queues",
    kind="queue",
    result_key="queue",
    fields=FIELDS,
    members_option="agents",
    members_api="Agents",
    timeouts=("ring_timeout", "queue_timeout"),
    check_timeouts=warn_on_timeouts,
)


def main():
    module = ThreeCXModule(
        QUEUE,
        supports_check_mode=True,
    )
    with module.api_errors():
        result = run_numbered_group(module, SPEC)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
