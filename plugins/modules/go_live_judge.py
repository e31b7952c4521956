#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done by the action plugin of the same name (plugins/action/go_live_judge.py), on the
# controller; this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: go_live_judge
short_description: Judge a site's go-live checklist from what was read of both sides
version_added: 0.2.0
description:
  - The judgement of the role R(go_live_check,ansible_collections.voip.threecx_twilio.go_live_check_role), run on the
    controller. From the site plan and the registered results of the role's reads, it judges the setup guide's ten-item
    checklist (sip_domain, handler, authentication, template, trunk, did_on_trunk, did_routed, outbound_rule, e164,
    agents) and, when given, the SIP items sip_probe, test_call and round_trip. Each result carries the guide's diagnosis as C(fix)
    when it failed.
  - Publishes the results as the facts C(go_live_check_results), C(go_live_check_failed) and C(go_live_check_sip_uri), and
    for the fleet report as set_stats data C(go_live) (per host).
  - Sends no request, and behaves the same in check mode. Meant for the role go_live_check; its options take the role's
    registered results as they are.
options:
  plan:
    description: The site plan of both sides, C(ansible_facts.voip_site_plan) (M(voip.threecx_twilio.site_plan)).
    type: dict
    required: true
  twilio:
    description: The registered result of M(voip.threecx_twilio.twilio_sip_domain_info) for the site's domain.
    type: dict
  pbx:
    description: The registered result of M(voip.threecx_twilio.threecx_info) (trunks, the group, users, rules, E164, caller ID).
    type: dict
  handler:
    description: The registered result of the request to the voice handler's URL (C(ansible.builtin.uri)), or a skipped result.
    type: dict
  skip_handler_check:
    description: Whether the request to the voice handler was skipped on purpose (the detail says so).
    type: bool
    default: false
  dnd_profiles:
    description: The presence profiles that count as Do Not Disturb (for the detail of item agents).
    type: list
    elements: str
    default: []
  probe:
    description:
      - Item sip_probe - C(reply) (the registered M(voip.threecx_twilio.sip_options_probe) result), C(host), C(transport),
        C(from), C(timeout) and C(retries) as the probe was sent.
    type: dict
  test_call:
    description:
      - Item test_call - C(placed) (the registered M(voip.threecx_twilio.threecx_trunk_test_call) result), C(log) (the
        registered M(voip.threecx_twilio.twilio_call_info) result), C(caller), C(destination) and C(since) (the time from
        which the call log was read).
    type: dict
  round_trip:
    description:
      - Item round_trip - C(result) (the registered M(voip.threecx_twilio.twilio_test_call) result) and C(from) (the
        number the call was placed from); with the agents put on Do Not Disturb for the call, C(dnd) and C(restore)
        (the registered M(voip.threecx_twilio.threecx_agent_presence) results before and after it).
    type: dict
extends_documentation_fragment:
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.INFO_MODULE
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
"""

EXAMPLES = r"""
- name: Judge the items from what the role read
  voip.threecx_twilio.go_live_judge:
    plan: "{{ ansible_facts.voip_site_plan }}"
    twilio: "{{ go_live_check_twilio }}"
    pbx: "{{ go_live_check_pbx }}"
    handler: "{{ go_live_check_handler_reply }}"
"""

RETURN = r"""
results:
  description: One result per item, in the guide's order.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The item.
      type: str
    title:
      description: What the item checks.
      type: str
    ok:
      description: C(true), C(false), or C(null) when not judged (skipped).
      type: bool
    detail:
      description: What was found.
      type: str
    fix:
      description: The setup guide's diagnosis and fix; only on a failed item.
      type: str
msg:
  description: How many items passed, or every failed item with its detail and its fix (the task itself does not fail).
  returned: always
  type: str
"""
