# -*- coding: utf-8 -*-
# Copyright: voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: voice_handler_askable
short_description: Whether the go-live check asks a SIP Domain's voice URL itself
version_added: 0.2.0
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
description:
  - True when item C(handler) of role C(voip.threecx_twilio.go_live_check) sends the voice URL the request Twilio
    would send. That is an C(http://) or C(https://) URL that is not a Studio flow's webhook (C(https://webhooks.twilio.com/),
    Twilio's own, which answers only Twilio's signed requests).
  - The rule is the go-live judge's (M(voip.threecx_twilio.go_live_judge)), which says from the same rule why a URL
    was not asked; the role uses this test so that the two cannot disagree.
options:
  _input:
    description: The SIP Domain's voice URL (C(voice_url) of M(voip.threecx_twilio.twilio_sip_domain_info)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Ask the voice handler as Twilio would
  ansible.builtin.uri:
    url: "{{ domain.voice_url }}"
    method: "{{ domain.voice_method }}"
  when: domain.voice_url | default('') is voip.threecx_twilio.voice_handler_askable
"""

RETURN = r"""
_value:
  description: Whether the URL is asked.
  type: bool
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._golive import handler_asked


class TestModule:
    def tests(self):
        return {"voice_handler_askable": handler_asked}
