#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done by the action plugin of the same name (plugins/action/site_plan.py), on the
# controller; this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: site_plan
short_description: Check one customer site's variables and plan its module tasks, before any request
version_added: 0.2.0
description:
  - The site model of the collection, run on the controller. It reads the site variables of the roles
    R(twilio_sip_domain,ansible_collections.voip.threecx_twilio.twilio_sip_domain_role) and
    R(threecx_fallback,ansible_collections.voip.threecx_twilio.threecx_fallback_role)
    (C(twilio_sip_domain_*), C(threecx_fallback_*)) from the host's variables, checks them, and derives what the
    roles need - the region and its edge, the SIP Domain's name and addresses, the auth mode, and the arguments of
    every module task.
  - It checks the derived arguments with the very checks the modules run (the same functions, the same messages),
    worded with the site variable that fed each option, so that a value a module would refuse is refused here, before
    any request to Twilio or the PBX. It reports every problem at once and fails the host when there is one.
  - Sends no request, transfers no module, and behaves the same in check mode.
  - Secrets (API tokens and secrets, the 3CX client secret, SIP passwords) are checked but never put in the plan; the
    roles wire them from their variables into the module tasks.
  - The roles and C(playbooks/site.yml) and C(playbooks/verify.yml) run it first; call it yourself to check an
    inventory without touching any system (C(ansible -m voip.threecx_twilio.site_plan all)).
options:
  sides:
    description:
      - Which sides of the site to check and plan. The 3CX side needs the SIP Domain's address, from
        C(threecx_fallback_sip_domain) or derived from C(twilio_sip_domain_name) and the region.
    type: list
    elements: str
    choices: [twilio, threecx]
    default: [twilio, threecx]
extends_documentation_fragment:
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.INFO_MODULE
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
notes:
  - Variables are read from the host's variables as the task sees them; an environment variable that a connection
    option falls back to (for example C(TWILIO_ACCOUNT_SID) or C(THREECX_CLIENT_SECRET)) is read from the controller's
    environment, where the collection's modules run (C(connection=local)).
"""

EXAMPLES = r"""
# In a play over the customer sites (connection: local, gather_facts: false), as site.yml does.
- name: Check the site's variables and plan it, without sending anything
  voip.threecx_twilio.site_plan:

- name: Check only the Twilio side of a site
  voip.threecx_twilio.site_plan:
    sides: [twilio]
"""

RETURN = r"""
msg:
  description: What was checked, or every problem found, each naming the site variable, what is wrong and how to fix it.
  returned: always
  type: str
problems:
  description: The problems, one per item.
  returned: failed
  type: list
  elements: str
ansible_facts:
  description: The plan, as the fact C(voip_site_plan).
  returned: always
  type: dict
  contains:
    voip_site_plan:
      description:
        - C(ok) and C(problems); C(region), C(edge) and C(region_name) of the Twilio account; C(domain_name) (the SIP
          Domain's full name) and C(sip_uri) (its regional address); C(sip_address) (the address the trunk registers
          to); C(twilio) and C(threecx), each with C(connection) (the connection options that are not secret) and
          C(tasks) (per module task its C(module) and C(args), secrets left out).
      type: dict
      returned: always
"""
