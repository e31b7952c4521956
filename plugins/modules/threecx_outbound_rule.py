#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_outbound_rule
short_description: Manage an outbound rule of a 3CX v20 PBX
version_added: 0.1.0
description:
  - Creates, updates, orders or deletes an outbound rule (Admin Console > Voice & Chat > Outbound
    Rules) through the 3CX Configuration API (C(/xapi/v1/OutboundRules)).
  - For the Twilio fallback flow, the rule sends the number the queue forwards to out through the
    Twilio SIP Domain trunk (route 1), with no digits stripped and nothing prepended. Without it
    the forwarded call drops with busy or a routing error.
  - By default the rule's prefix is exactly the fallback number (O(fallback_number)), so the rule
    matches only the forwarded calls and ordinary outbound calls never leave through Twilio.
  - The rule is found by its O(name), the natural key. A rule made outside Ansible with that name
    is adopted, never duplicated.
  - Only the options you set are compared and sent; of the routes only route 1 is managed.
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
      - Reads the rules, the trunk and the departments and predicts the result, including the
        moves O(position) needs; sends no write.
      - A O(trunk) that does not exist yet gives a warning in check mode (an earlier task of the play may
        create it) and a predicted change; the diff shows it by the name given as route 1's C(trunk_id).
        Without check mode it is an error. An unknown department is an error in check mode too.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change; departments as ids (C(group_ids)),
        the routes as the full list of five, and C(rank) when the rule moves.
  idempotent:
    support: full
options:
  name:
    description:
      - The rule's name; the natural key.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the rule, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  fallback_number:
    description:
      - The number the queue or ring group forwards unanswered calls to (its O(voip.threecx_twilio.threecx_queue#module:no_answer_destination)),
        for example V(+14155550100). It becomes the rule's prefix, so the rule matches exactly that number.
      - Mutually exclusive with O(prefix). One of them is required to create the rule.
    type: str
  prefix:
    description:
      - The rule's prefix (C(Prefix)) when it should not be the fallback number, made of digits, C(+), C(*) and C(#).
      - V("") matches every number dialled by the rule's departments and ranges (a warning is shown),
        which sends ordinary outbound calls through the trunk too.
    type: str
  trunk:
    description:
      - The trunk of route 1, by name or number, normally the Twilio SIP Domain trunk.
      - Required to create the rule. An unknown trunk fails the task before any write (in check mode it is a
        warning; see the check_mode attribute).
    type: str
  strip_digits:
    description:
      - Digits route 1 strips from the front of the number (C(StripDigits)). V(0) is the setup
        guide's "Strip no digits". Compared on every run.
    type: int
    default: 0
  prepend:
    description:
      - Digits route 1 puts in front of the number (C(Prepend)). V("") (blank) as in the setup guide.
        Compared on every run.
    type: str
    default: ""
  departments:
    description:
      - Names of the departments (groups) whose calls the rule applies to (C(GroupIds)); the whole
        list, compared as a set. An unknown name fails the task before any write.
      - 3CX matches outbound rules on the caller's department. Which department a queue's forwarded
        call belongs to is not confirmed (probably the queue's, possibly none); give the queue's department
        (O(voip.threecx_twilio.threecx_queue#module:departments) puts a new queue in it). Leaving the rule
        without departments is the only setting that routes the same under either reading, which is why
        the go-live check passes only such a rule.
    type: list
    elements: str
  dn_ranges:
    description:
      - Extension ranges whose calls the rule applies to (C(DNRanges)); the whole list, compared as a set.
    type: list
    elements: dict
    suboptions:
      from:
        description:
          - First number of the range, digits only.
        type: str
        required: true
      to:
        description:
          - Last number of the range, digits only; defaults to O(dn_ranges[].from) (a single extension).
        type: str
  position:
    description:
      - Where the rule stands among the outbound rules, which 3CX tries in order.
      - V(first) and V(last) move the rule with C(POST /OutboundRules/Pbx.MoveUpDown), one place per
        call, until it is there; each move is a write and check mode predicts them. V(keep) leaves
        the order alone (a new rule goes where the PBX puts it).
    type: str
    choices: [first, last, keep]
    default: keep
notes:
  - 3CX always reports five routes; unused ones have C(TrunkId) V(-1). A new rule is sent with route
    1 and four unused routes; an update keeps routes 2 to 5 as the PBX has them.
  - The order of rules is read from C(Priority) (ascending = tried first) and C(MoveUpDown) with
    C(up=true) is taken to move a rule one place towards the first; both are inferred. After moving,
    the module reads the order again and fails if the rule is not where it should be.
seealso:
  - module: voip.threecx_twilio.threecx_queue
"""

EXAMPLES = r"""
- name: Send the fallback number out through the Twilio trunk, before every other rule
  voip.threecx_twilio.threecx_outbound_rule:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    name: Twilio fallback
    fallback_number: "+14155550100"
    trunk: Twilio SIP Domain Trunk
    departments: [DEFAULT]
    position: first

- name: Remove the rule
  voip.threecx_twilio.threecx_outbound_rule:
    name: Twilio fallback
    state: absent
"""

RETURN = r"""
outbound_rule:
  description: The rule after the run (predicted in check mode), in the module's option names; empty after a delete.
  returned: success
  type: dict
  contains:
    id:
      description: The PBX's id of the rule (null in check mode for a rule that would be created).
      type: int
      sample: 3
    name:
      description: The rule's name.
      type: str
      sample: Twilio fallback
    prefix:
      description: The rule's prefix.
      type: str
      sample: "+14155550100"
    group_ids:
      description: Ids of the rule's departments, sorted.
      type: list
      elements: int
      sample: [1]
    departments:
      description: Names of the rule's departments as the PBX reports them (null when it does not, as in a prediction).
      type: list
      elements: str
      sample: [DEFAULT]
    dn_ranges:
      description: Extension ranges of the rule, sorted.
      type: list
      elements: dict
      sample: [{from: "100", to: "199"}]
    routes:
      description:
        - The five routes; unused ones have O(trunk) id V(-1).
        - In check mode, when the trunk does not exist yet, route 1's C(trunk_id) is null.
      type: list
      elements: dict
      sample:
        - {trunk_id: 5, strip_digits: 0, prepend: "", append: "", caller_id: ""}
        - {trunk_id: -1, strip_digits: 0, prepend: "", append: "", caller_id: ""}
    trunk:
      description: Name of the trunk of route 1.
      type: str
      sample: Twilio SIP Domain Trunk
    rank:
      description: The rule's place in the order the PBX tries rules (1 = first).
      type: int
      sample: 1
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: outbound rule Twilio fallback created; moved from rank 3 to 1
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      prefix: ""
      rank: 2
    after:
      prefix: "+14155550100"
      rank: 1
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import KIND_SET, KIND_STR, Engine, Field, deep_merge
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXAmbiguousWrite
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import (
    ApiFieldMap,
    Desired,
    Mapped,
    assume_in_check_mode,
    find_groups,
    find_trunk,
    referenced_trunk,
    trunk_name,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import OUTBOUND_ROUTES, OUTBOUND_RULE, outbound_dn_ranges

PATH = "/OutboundRules"
ROUTES = OUTBOUND_ROUTES
UNUSED_ROUTE = {"trunk_id": -1, "strip_digits": 0, "prepend": "", "append": "", "caller_id": ""}
_ROUTE_KEYS = (("trunk_id", "TrunkId"), ("strip_digits", "StripDigits"), ("prepend", "Prepend"), ("append", "Append"), ("caller_id", "CallerID"))


def decode_routes(value):
    if not isinstance(value, list):
        return []
    return [dict((opt, route.get(api)) for opt, api in _ROUTE_KEYS) for route in value if isinstance(route, dict)]


def encode_routes(routes):
    return [dict((api, route.get(opt)) for opt, api in _ROUTE_KEYS) for route in routes]


def route1_differs(current, desired):
    """Only route 1 is managed: its trunk, strip digits and prepend."""
    have = (current or [{}])[0] if current else {}
    want = desired[0]
    return (have.get("trunk_id"), have.get("strip_digits") or 0, have.get("prepend") or "") != (
        want["trunk_id"],
        want["strip_digits"] or 0,
        want["prepend"] or "",
    )


def decode_ranges(value):
    if not isinstance(value, list):
        return []
    return sorted(({"from": r.get("From"), "to": r.get("To")} for r in value if isinstance(r, dict)), key=lambda r: (r["from"], r["to"]))


def _range_set(ranges):
    return set((r["from"], r["to"]) for r in ranges or [])


def ranges_differ(current, desired):
    return _range_set(current) != _range_set(desired)


FIELDS = ApiFieldMap(
    Field("id", "Id", read_only=True),
    Field("name", "Name"),
    Field("prefix", "Prefix", KIND_STR),
    Field("group_ids", "GroupIds", KIND_SET),
    Mapped("departments", "GroupNames", decode=lambda v: sorted(v) if isinstance(v, list) else None, read_only=True),
    Mapped(
        "dn_ranges",
        "DNRanges",
        decode=decode_ranges,
        encode=lambda ranges: [{"From": r["from"], "To": r["to"]} for r in ranges],
        compare=ranges_differ,
    ),
    Mapped("routes", "Routes", decode=decode_routes, encode=encode_routes, compare=route1_differs),
)


def rank_of(rules, rule_id):
    for index, rule in enumerate(rules):
        if rule.get("Id") == rule_id:
            return index
    return None


def main():
    module = ThreeCXModule(
        OUTBOUND_RULE,
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    with module.api_errors():
        ranges = outbound_dn_ranges(p)  # checked with the input (OUTBOUND_RULE)
        client = module.client

        def list_rules():
            return client.list(PATH, orderby="Priority")

        def lookup(rules=None):
            found = [r for r in (rules if rules is not None else list_rules()) if r.get("Name") == name]
            if len(found) > 1:
                raise ValueError(
                    "name: %d outbound rules are named %r (ids %s); rename or remove the extra ones first"
                    % (len(found), name, ", ".join(str(r.get("Id")) for r in found))
                )
            return found[0] if found else None

        rules = list_rules()
        current = lookup(rules)
        if p["state"] == "absent":
            engine = Engine(module, FIELDS, result_key="outbound_rule", kind="outbound rule")
            result = engine.absent(current, delete=lambda c: client.delete("%s(%s)" % (PATH, c["Id"])), name=name)
            module.exit_json(**result)

        prefix = p["fallback_number"] if p["fallback_number"] is not None else p["prefix"]
        if current is None:
            missing = [o for o, v in (("trunk", p["trunk"]), ("fallback_number (or prefix)", prefix)) if v is None]
            if missing:
                verb = " is" if len(missing) == 1 else " are"
                raise ValueError("%s required to create outbound rule %r (it does not exist yet)" % (" and ".join(missing) + verb, name))
        if prefix == "":
            module.warn("prefix is empty: outbound rule %r matches every number its departments and ranges dial" % name)
        # Checks that need reads, still before any write.
        route_one = ((current or {}).get("Routes") or [{}])[0] or {}
        in_use = (
            referenced_trunk(p["trunk"], {"Id": route_one.get("TrunkId"), "Name": route_one.get("TrunkName")}) if p["trunk"] is not None else None
        )
        if in_use is not None:
            trunk = {"Id": in_use["Id"], "Gateway": {"Name": in_use["Name"]}}  # route 1 is on it already: nothing to look up
        else:
            trunk = assume_in_check_mode(module, find_trunk, client, p["trunk"]) if p["trunk"] is not None else None
        group_ids = find_groups(client, "departments", p["departments"]) if p["departments"] is not None else None

        # Route 1 as wanted; routes 2..5 as the PBX has them (or unused), always five.
        routes = FIELDS.by_option["routes"].read(current) if current is not None else []
        routes = routes + [dict(UNUSED_ROUTE) for _ignored in range(ROUTES - len(routes))]
        first = dict(routes[0]) if current is not None else dict(UNUSED_ROUTE)
        if p["trunk"] is not None:
            # Check mode, the trunk not made yet: compared and shown by the name given, so the change is predicted.
            first["trunk_id"] = trunk["Id"] if trunk is not None else p["trunk"]
        first["strip_digits"] = p["strip_digits"]
        first["prepend"] = p["prepend"]
        routes = [first] + [dict(r) for r in routes[1:]]

        desired = Desired(module, prefix=prefix, group_ids=group_ids, dn_ranges=ranges, routes=routes)
        engine = Engine(desired, FIELDS, result_key="outbound_rule", kind="outbound rule")

        def create(payload):
            made = client.post(PATH, payload)
            return deep_merge(made if isinstance(made, dict) else {}, payload)

        result = engine.present(
            current,
            create=create,
            update=lambda cur, payload: client.patch("%s(%s)" % (PATH, cur["Id"]), payload),
            name=name,
            find=lookup,
        )
        rule_id = result["outbound_rule"].get("id")

        # Position: predicted from the current order (a new rule is taken to be appended), then
        # done one MoveUpDown at a time and read back.
        if current is None and module.check_mode:
            order = [r.get("Id") for r in rules] + [rule_id]
            index = len(rules)
        else:
            if current is None:
                rules = list_rules()
            order = [r.get("Id") for r in rules]
            index = rank_of(rules, rule_id)
        target = {"first": 0, "last": len(order) - 1, "keep": index}[p["position"]]
        if index != target:
            if not module.check_mode:
                move(client, list_rules, rule_id, index, target, name)
            result["changed"] = True
            moves = abs(index - target)
            result["msg"] += "; moved from rank %d to %d (%d move%s)" % (index + 1, target + 1, moves, "" if moves == 1 else "s")
            if "diff" in result:
                before = result["diff"]["before"]
                if before.get("state") != "absent":
                    before["rank"] = index + 1
                result["diff"]["after"]["rank"] = target + 1
        result["outbound_rule"]["rank"] = target + 1
        if trunk is not None:
            result["outbound_rule"]["trunk"] = trunk_name(trunk)
        elif p["trunk"] is not None:  # check mode, the trunk not made yet
            result["outbound_rule"]["trunk"] = p["trunk"]
            result["outbound_rule"]["routes"][0]["trunk_id"] = None
        elif current is not None:
            result["outbound_rule"]["trunk"] = ((current.get("Routes") or [{}])[0] or {}).get("TrunkName")
        else:
            result["outbound_rule"]["trunk"] = None
    module.exit_json(**result)


def move(client, list_rules, rule_id, index, target, name):
    """Move one place at a time towards ``target``; a lost reply is resolved by reading the order again."""
    attempts = 0
    limit = 2 * (abs(index - target) + 2)
    while index != target:
        attempts += 1
        if attempts > limit:
            break
        try:
            client.post(PATH + "/Pbx.MoveUpDown", {"id": rule_id, "up": index > target})
            index += -1 if index > target else 1
        except ThreeCXAmbiguousWrite:
            index = rank_of(list_rules(), rule_id)
    final = rank_of(list_rules(), rule_id)
    if final != target:
        raise ValueError(
            "position: outbound rule %r should be at rank %d after moving with Pbx.MoveUpDown but is at rank %s; "
            "the PBX orders rules differently than expected (Priority ascending, up = towards the first)"
            % (name, target + 1, final + 1 if final is not None else "unknown")
        )


if __name__ == "__main__":
    main()
