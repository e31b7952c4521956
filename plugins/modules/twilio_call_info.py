#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_call_info
short_description: Read calls from a Twilio account's call log
version_added: 0.1.0
description:
  - Reads one call (by O(sid)) or the newest calls of the account's call log, for example to find the
    test call a 3CX trunk placed to a Twilio SIP Domain and compare the caller number Twilio saw with
    the one expected.
  - Lists the log newest first, with Twilio's own C(To), C(From) and C(Status) filters (O(to), O(from),
    O(status)), and keeps only calls created at or after O(created_after). That last filter is applied
    by the module, not sent to Twilio; as the log comes newest first, reading stops at the first older
    call, so a recent window costs one request.
  - What Twilio writes into RV(calls[].from) for a call to a SIP Domain, a bare number such as
    C(+17735550142) or a whole SIP URI such as C(sip:+17735550142@203.0.113.10), is not documented.
    Compare RV(calls[].from_user), which is the same in both cases.
  - Changes nothing.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.twilio
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.TWILIO
  - voip.threecx_twilio.attributes.IN_PROCESS
  - voip.threecx_twilio.attributes.INFO_MODULE
options:
  sid:
    description:
      - Read only the call with this SID (C(CA) and 32 hexadecimal digits).
      - A SID the account does not have is an error.
      - Cannot be combined with O(to), O(from), O(status) or O(created_after); O(limit) does not apply.
    type: str
  to:
    description:
      - Only calls to this phone number, SIP address or client identifier (Twilio's C(To) filter, sent as given).
    type: str
  from:
    description:
      - Only calls from this phone number, SIP address or client identifier (Twilio's C(From) filter, sent as given).
      - Twilio compares it with its own C(from) value, which for a SIP Domain call may be a number or
        a SIP URI (see above); when unsure, leave it out and compare RV(calls[].from_user) instead.
    type: str
  status:
    description:
      - Only calls in this state (Twilio's C(Status) filter).
    type: str
    choices: [queued, ringing, in-progress, canceled, completed, failed, busy, no-answer]
  created_after:
    description:
      - Only calls created at or after this moment, an ISO 8601 date and time with a time zone such as
        V(2026-11-26T15:00:00Z) or V(2026-11-26T16:00:00+01:00); the form of C(ansible_date_time.iso8601)
        (and C(iso8601_micro)) is accepted.
      - Compared with each call's RV(calls[].date_created), which Twilio sets for every call, answered or
        not (unlike RV(calls[].start_time)).
    type: str
  limit:
    description:
      - Return at most this many calls (1 to 1000), the newest first.
      - Calls are read in pages of up to 50, so the default costs one request.
    type: int
    default: 20
notes:
  - Twilio lists the log newest first; the module relies on that order for O(created_after).
  - O(created_after) compares Twilio's clock with a time you give, typically the controller's. Allow for a
    little clock difference, or narrow the search with O(to) and O(limit) as well.
  - An empty RV(calls) list means no call matched; it is not an error.
seealso:
  - module: voip.threecx_twilio.twilio_sip_domain_info
  - name: Twilio Call resource
    description: The fields of a call and the filters of the call log.
    link: https://www.twilio.com/docs/voice/api/call-resource
"""

EXAMPLES = r"""
- name: Note when the test starts
  ansible.builtin.setup:
    gather_subset: [date_time]

# ... a task that places the test call through the 3CX trunk ...

- name: Find the test call Twilio logged for the site's SIP Domain number
  voip.threecx_twilio.twilio_call_info:
    region: ie1
    to: "+14155550100"
    created_after: "{{ ansible_date_time.iso8601 }}"
    limit: 5
  register: test_calls

- name: Twilio saw the customer's number, not the trunk's
  ansible.builtin.assert:
    that:
      - test_calls.calls | length > 0
      - test_calls.calls[0].from_user == '+17735550142'

- name: One call by its SID
  voip.threecx_twilio.twilio_call_info:
    sid: CA0123456789abcdef0123456789abcdef
  register: one_call

- name: The ten newest failed calls
  voip.threecx_twilio.twilio_call_info:
    status: failed
    limit: 10
  register: failed_calls
"""

RETURN = r"""
calls:
  description:
    - The calls found, newest first (one with O(sid)).
    - Dates are in RFC 2822 form in UTC, like Twilio sends them (C(Thu, 26 Nov 2026 15:00:03 +0000)), or
      null when Twilio leaves them empty.
  returned: success
  type: list
  elements: dict
  contains:
    sid:
      description: The call's SID.
      type: str
      sample: CA0123456789abcdef0123456789abcdef
    account_sid:
      description: The account the call belongs to.
      type: str
      sample: AC0123456789abcdef0123456789abcdef
    parent_call_sid:
      description: The call that created this leg, if any.
      type: str
      sample: null
    direction:
      description: C(inbound), C(outbound-api) or C(outbound-dial).
      type: str
      sample: inbound
    status:
      description: The call's state (one of the O(status) choices).
      type: str
      sample: completed
    from:
      description:
        - The caller as Twilio logged it. For a call to a SIP Domain it may be a number or a SIP URI (undocumented).
      type: str
      sample: sip:+17735550142@203.0.113.10;transport=udp
    from_formatted:
      description: The caller formatted for display, as Twilio gives it.
      type: str
      sample: (773) 555-0142
    from_user:
      description:
        - The user part of RV(calls[].from) when it is a C(sip:) or C(sips:) URI (parameters dropped), else
          RV(calls[].from) unchanged; null for a SIP URI without a user part.
      type: str
      sample: "+17735550142"
    to:
      description: The called party as Twilio logged it (number, SIP address or client identifier).
      type: str
      sample: "+14155550100"
    to_formatted:
      description: The called party formatted for display.
      type: str
      sample: (415) 555-0100
    to_user:
      description: The user part of RV(calls[].to), worked out like RV(calls[].from_user).
      type: str
      sample: "+14155550100"
    caller_name:
      description: The caller's name when Twilio looked it up (caller ID lookup), else null.
      type: str
      sample: null
    date_created:
      description: When Twilio created the call record (RFC 2822, UTC); set for every call.
      type: str
      sample: Thu, 26 Nov 2026 15:00:03 +0000
    start_time:
      description: When the call started (RFC 2822, UTC); null for a call that was never answered or dialed.
      type: str
      sample: Thu, 26 Nov 2026 15:00:03 +0000
    end_time:
      description: When the call ended (RFC 2822, UTC); null while it lasts or when it never started.
      type: str
      sample: Thu, 26 Nov 2026 15:00:15 +0000
    duration:
      description: The call's length in whole seconds, as the string Twilio sends.
      type: str
      sample: "12"
    trunk_sid:
      description: The Twilio SIP trunk the call used; null when it used none.
      type: str
      sample: null
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_calls as calls
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_sip import region_name
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import check_positive, check_sid

# Twilio's pages hold up to 1,000 calls; 50 keeps a short read short while limit stays the bound.
PAGE_SIZE = 50
FILTERS = ("to", "from", "status", "created_after")


def main():
    module = TwilioModule(
        argument_spec={
            "sid": dict(type="str"),
            "to": dict(type="str"),
            "from": dict(type="str"),
            "status": dict(type="str", choices=list(calls.CALL_STATUSES)),
            "created_after": dict(type="str"),
            "limit": dict(type="int", default=20),
        },
        mutually_exclusive=[("sid", name) for name in FILTERS],
        supports_check_mode=True,
    )
    p = module.params
    with module.api_errors():
        check_sid("sid", p["sid"], "CA")
        check_positive(p, "limit", maximum=1000)
        since = calls.parse_timestamp("created_after", p["created_after"]) if p["created_after"] is not None else None
        found = fetch_one(module) if p["sid"] else read_log(module, since)
    module.exit_json(changed=False, calls=found)


def fetch_one(module):
    p = module.params
    call = calls.fetch_call(module.client, p["sid"])
    if call is None:
        raise ValueError(
            "sid: Twilio has no call %s in account %s in region %s (HTTP 404; call SIDs belong to one account and region)"
            % (p["sid"], p["account_sid"], region_name(p["region"]))
        )
    return [calls.describe_call(call)]


def read_log(module, since):
    """The newest calls matching the filters; with ``since``, stop at the first call created before it."""
    p = module.params
    filters = {}
    for option, argument in (("to", "to"), ("from", "from_"), ("status", "status")):
        if p[option] is not None:
            filters[argument] = p[option]
    found = []
    for call in module.client.calls.stream(limit=p["limit"], page_size=min(p["limit"], PAGE_SIZE), **filters):
        if since is not None:
            if call.date_created is None:
                # Cannot be placed in time (Twilio always sets it): not reported, and no reason to stop.
                continue
            if call.date_created < since:
                break
        found.append(calls.describe_call(call))
        if len(found) >= p["limit"]:
            break
    return found


if __name__ == "__main__":
    main()
