#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_agent_presence
short_description: Put the agents of a 3CX queue or ring group on Do Not Disturb for a test call, and their presence back
version_added: 0.2.0
description:
  - For the setup guide's last go-live item (a call that no agent answers), O(state=dnd) sets every agent
    (member) of the queue or ring group to the presence profile O(profile) (C(PATCH /xapi/v1/Users({Id})),
    C(CurrentProfileName)); O(state=restored) puts back the profile each of them had before.
  - The previous presence is recorded in O(journal), a file on the host that runs the module, B(before)
    the first write. So a play that fails or is interrupted between the two is put back by the next run
    with O(state=restored), or with O(state=dnd) and then O(state=restored). A second O(state=dnd) keeps
    the presence the journal recorded first, never the Do Not Disturb it set itself.
  - O(state=restored) puts back only an extension that is still on O(profile) as this module set it. An
    agent who changed their presence meanwhile keeps their choice (a warning names them). When every
    recorded extension is put back (or was changed by its agent, or is gone), the journal is deleted.
  - The role C(voip.threecx_twilio.go_live_check) uses it around its round-trip call
    (C(go_live_check_round_trip_dnd)).
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
      - Reads the group, its agents' presence and the journal, and predicts the result; writes neither the PBX nor the journal.
  diff_mode:
    support: full
    details:
      - Shows each changed extension's profile before and after.
  idempotent:
    support: full
    details:
      - A second O(state=dnd) finds every agent on O(profile) and writes nothing; O(state=restored) without a journal sends no request.
options:
  state:
    description:
      - V(dnd) puts the group's agents on O(profile), recording their previous presence in O(journal) first.
      - V(restored) puts back the presence O(journal) recorded.
    type: str
    choices: [dnd, restored]
    default: dnd
  group_type:
    description:
      - Whether O(group) is a queue (its C(Agents)) or a ring group (its C(Members)).
      - Required with O(state=dnd).
    type: str
    choices: [queue, ring_group]
  group:
    description:
      - The number of the queue or ring group, such as V(800). Required with O(state=dnd).
    type: str
  profile:
    description:
      - The presence profile that is Do Not Disturb (the C(CurrentProfileName) written).
      - The v20 client shows V(Out of office) as Do Not Disturb; that this keeps an agent from being
        rung is UNCONFIRMED (see the notes).
    type: str
    default: Out of office
  journal:
    description:
      - The file that records the previous presence (JSON, made C(0600) in a C(0700) directory). One per PBX;
        a journal of another PBX (another O(url)) is refused.
      - It holds extension numbers and profile names, never a secret.
      - Keep it where the next run finds it. In AWX, whose jobs start from a fresh container, point it at
        persistent storage, or an interrupted job's presence is put back by hand.
    type: path
    required: true
notes:
  - That a PATCH of C(/Users({Id})) sets C(CurrentProfileName), and that profile V(Out of office) is what keeps
    an agent from being rung, are UNCONFIRMED (the v20 XAPI has no Do Not Disturb flag). So every write is
    read back. A PBX that answers the write but shows the old profile fails the task, naming the
    extensions, and nothing more is written. A PBX whose Do Not Disturb is not the presence profile is seen
    only by the call itself (an agent answers), and the go-live item round_trip says so.
  - O(state=dnd) on a group with no agents changes nothing.
seealso:
  - module: voip.threecx_twilio.twilio_test_call
  - module: voip.threecx_twilio.threecx_info
"""

EXAMPLES = r"""
- name: Agents of queue 800 on Do Not Disturb for the round-trip call, put back whatever happens
  module_defaults:
    group/voip.threecx_twilio.threecx:
      url: https://pbx.example.com:5001
      client_id: ansible
      client_secret: "{{ vault_threecx_client_secret }}"
  block:
    - name: Put the agents on Do Not Disturb (the previous presence is recorded first)
      voip.threecx_twilio.threecx_agent_presence:
        group_type: queue
        group: "800"
        journal: "{{ playbook_dir }}/.presence/{{ inventory_hostname }}.json"

    - name: Place the round-trip call
      voip.threecx_twilio.twilio_test_call:
        from_number: "+13125550142"
        did: "+12145550100"
        fallback_number: "+12145550199"
  always:
    - name: Put every agent's presence back
      voip.threecx_twilio.threecx_agent_presence:
        state: restored
        journal: "{{ playbook_dir }}/.presence/{{ inventory_hostname }}.json"
"""

RETURN = r"""
presence:
  description: Each extension the run looked at, with its profile before and after (predicted in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    number:
      description: The extension number.
      type: str
      sample: "100"
    before:
      description: Its presence profile before the run.
      type: str
      sample: Available
    after:
      description: Its presence profile after the run.
      type: str
      sample: Out of office
journal:
  description: The journal's path (absolute), and whether it is there after the run (in check mode, as before the run).
  returned: always
  type: dict
  contains:
    path:
      description: Absolute path.
      type: str
      sample: /home/ops/.presence/acme-dallas.json
    exists:
      description: Whether the file is there after the run.
      type: bool
      sample: true
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: "queue 800: 2 agents put on 'Out of office' (100, 101); their previous presence is in the journal"
diff:
  description: The changed extensions' profiles, before and after (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      "100": Available
    after:
      "100": Out of office
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import AGENT_PRESENCE
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_presence import (
    PRESENCE_FIELDS,
    Journal,
    by_number,
    not_taken,
    not_taken_message,
    plan_dnd,
    plan_restore,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import any_of, find_by_number

# group_type -> (collection, members navigation property, words)
GROUPS = {"queue": ("Queues", "Agents", "queue"), "ring_group": ("RingGroups", "Members", "ring group")}


def read_users(client, numbers):
    """The presence of ``numbers`` in one read ($select: a Pbx.User also holds PINs and passwords)."""
    return client.list("/Users", filter=any_of("Number", numbers), select=list(PRESENCE_FIELDS))


def result(module, journal, changed, msg, rows):
    out = {
        "changed": changed,
        "msg": msg,
        "presence": rows,
        "journal": {"path": journal.path, "exists": journal.exists()},
    }
    if module._diff:
        moved = [r for r in rows if r["before"] != r["after"]]
        out["diff"] = {"before": dict((r["number"], r["before"]) for r in moved), "after": dict((r["number"], r["after"]) for r in moved)}
    return out


def write_profiles(module, journal, changes, what):
    """PATCH each (id, number, profile), then read them back in one read: a PBX that answers the write
    and keeps the old profile fails the task naming the extensions (the journal is kept)."""
    client = module.client
    for user_id, _number, profile in changes:
        client.patch("/Users(%d)" % user_id, {"CurrentProfileName": profile})
    expected = dict((number, profile) for _id, number, profile in changes)
    wrong = not_taken(expected, read_users(client, sorted(expected)))
    if wrong:
        module.fail_json(msg=not_taken_message(what % journal.path, wrong, expected.get), journal={"path": journal.path, "exists": journal.exists()})


def set_dnd(module, journal):
    p = module.params
    profile = p["profile"]
    recorded, recorded_profile = journal.load()
    if recorded and recorded_profile != profile:
        raise ValueError(
            "journal: %s records agents put on '%s', not '%s'; put them back first (state=restored) or use the same profile"
            % (journal.path, recorded_profile, profile)
        )
    collection, members_api, word = GROUPS[p["group_type"]]
    label = "%s %s" % (word, p["group"])
    group = find_by_number(module.client, collection, p["group"], expand=[members_api])
    if group is None:
        raise ValueError("group: the PBX has no %s; give the number of the site's %s" % (label, word))
    members = sorted(set(str(m["Number"]) for m in group.get(members_api) or [] if isinstance(m, dict) and m.get("Number") is not None))
    if not members:
        return result(module, journal, False, "%s has no agents: none to put on '%s'" % (label, profile), [])
    users = read_users(module.client, members)
    to_set, entries = plan_dnd(members, users, profile, recorded)
    current = by_number(users)
    rows = [{"number": n, "before": current[n].get("CurrentProfileName"), "after": profile} for n in members]
    if not to_set:
        return result(module, journal, False, "%s: every agent is on '%s' already (%s)" % (label, profile, ", ".join(members)), rows)
    numbers = ", ".join(str(u["Number"]) for u in to_set)
    if module.check_mode:
        return result(module, journal, True, "%s: %d agents would be put on '%s' (%s)" % (label, len(to_set), profile, numbers), rows)
    if entries != recorded:
        journal.save(entries, profile)  # before the first write: an interruption from here on is put back
    changes = [(u["Id"], str(u["Number"]), profile) for u in to_set]
    write_profiles(module, journal, changes, "put the agents on Do Not Disturb by hand for the call (the journal %s puts back what did change)")
    return result(
        module, journal, True, "%s: %d agents put on '%s' (%s); their previous presence is in the journal" % (label, len(to_set), profile, numbers), rows
    )


def restore(module, journal):
    entries, profile = journal.load()
    if not entries:
        found = journal.exists()
        if found and not module.check_mode:
            journal.remove()
        where = ("the journal %s records none" if found else "no journal at %s") % journal.path
        return result(module, journal, False, "no presence to put back (%s)" % where, [])
    users = read_users(module.client, sorted(entries))
    to_restore, kept, gone = plan_restore(entries, users, profile)
    for number, now in kept:
        module.warn("extension %s is '%s' now, not the '%s' this module set: left as its agent chose" % (number, now, profile))
    for number in gone:
        module.warn("extension %s is no longer on the PBX: nothing to put back for it" % number)
    current = by_number(users)
    rows = [{"number": n, "before": (current.get(n) or {}).get("CurrentProfileName"), "after": prev} for _id, n, prev in to_restore]
    numbers = ", ".join(n for _id, n, _prev in to_restore)
    if module.check_mode:
        return result(module, journal, bool(to_restore), "%d agents' presence would be put back (%s)" % (len(to_restore), numbers or "none"), rows)
    if to_restore:
        write_profiles(module, journal, to_restore, "put their presence back by hand; the journal %s keeps what was recorded")
    journal.remove()
    return result(module, journal, bool(to_restore), "%d agents' presence put back (%s); the journal is deleted" % (len(to_restore), numbers or "none"), rows)


def main():
    module = ThreeCXModule(AGENT_PRESENCE, supports_check_mode=True)
    journal = Journal(module.params["journal"], module.params["url"])
    with module.api_errors():
        out = (set_dnd if module.params["state"] == "dnd" else restore)(module, journal)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
