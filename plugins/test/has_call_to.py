# -*- coding: utf-8 -*-
# Copyright: voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: has_call_to
short_description: Whether a Twilio call log holds a call to a number
version_added: 0.2.0
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
description:
  - True when the registered result of M(voip.threecx_twilio.twilio_call_info) holds a call whose To (the user part
    of a C(sip:) address) is the number, with or without its leading C(+).
  - It is the go-live judge's rule for finding the test call of item C(test_call)
    (M(voip.threecx_twilio.go_live_judge)); role C(voip.threecx_twilio.go_live_check) re-reads the log until it holds,
    so that the role and the judge cannot disagree about which call is the test call.
options:
  _input:
    description: A registered M(voip.threecx_twilio.twilio_call_info) result (its C(calls)).
    type: dict
    required: true
  destination:
    description: The number dialled.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read Twilio's call log until the test call to the fallback number shows up
  voip.threecx_twilio.twilio_call_info:
    created_after: "{{ since }}"
  register: call_log
  until: call_log is voip.threecx_twilio.has_call_to('+14155550100')
  retries: 3
  delay: 2
"""

RETURN = r"""
_value:
  description: Whether the log holds such a call.
  type: bool
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._golive import logged_call_to


def has_call_to(call_log, destination):
    return logged_call_to(call_log, destination) is not None


class TestModule:
    def tests(self):
        return {"has_call_to": has_call_to}
