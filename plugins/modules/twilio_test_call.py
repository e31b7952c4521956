#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_test_call
short_description: Round-trip test call, from Twilio to a site's DID and back to its SIP Domain
version_added: 0.2.0
description:
  - Places one call through Twilio's Calls API from O(from_number) (a number of the account) to the site's
    DID (O(did)). Over the public network it reaches the 3CX PBX, rings the queue or ring group, and, when
    nobody answers, 3CX forwards it through the outbound rule and the Twilio trunk to the site's SIP Domain,
    as a customer's call would go. The module then waits up to O(wait_timeout) seconds for that forwarded
    call (an inbound call to O(fallback_number)) in the account's call log and checks that its caller is the
    calling number, not the trunk's.
  - The call is bounded; its TwiML hangs up O(hang_up_after) seconds after it is answered, Twilio gives up
    ringing after O(ring_timeout) seconds, and its C(TimeLimit) is the sum of the two.
  - Each way the round trip can fail carries the setup guide's diagnosis in RV(diagnosis) (no forwarded
    call seen, the forwarded call refused, the number rewritten, the trunk's number as the caller).
  - For the forwarded call to happen, every agent of the queue or ring group must be on DND (or not
    answer); this module does not change presence.
  - In check mode no call is placed and no request is sent; the task is reported as skipped, saying so.
  - Placing a call is not a configuration change, so the module never reports C(changed).
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.twilio
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.TWILIO
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - In check mode the call is B(not) placed, because placing it rings the PBX and the SIP Domain's handler. No
        request is sent; the task is reported as skipped, with RV(placed=false) and a message that says so.
      - C(changed) is V(false) in both modes; a test call changes no configuration.
  diff_mode:
    support: none
    details:
      - There is no configuration to compare.
  idempotent:
    support: none
    details:
      - Every run outside check mode places another call. It changes no configuration, so C(changed) is always V(false).
options:
  from_number:
    description:
      - The calling number, in full international format (C(+) and the country code).
      - It must be a Twilio phone number or a verified outgoing caller ID of the account, or Twilio refuses the call.
      - Use a number that is not the trunk's own, so that a template that loses the caller shows.
    type: str
    required: true
  did:
    description:
      - The site's DID, the number the customers call, in full international format.
    type: str
    required: true
  fallback_number:
    description:
      - The number 3CX forwards the unanswered call to through the Twilio trunk (the queue's or ring group's
        destination if no answer), in full international format. The forwarded call is the inbound call to
        this number in the call log.
    type: str
    required: true
  trunk_number:
    description:
      - The Twilio trunk's own outbound caller ID, if known. When the forwarded call shows it as the caller,
        the diagnosis says so.
    type: str
  hang_up_after:
    description:
      - Seconds the call stays up once answered before its TwiML hangs up (1 to 60).
    type: int
    default: 5
  ring_timeout:
    description:
      - Seconds Twilio lets the DID ring before it gives up (Twilio's C(Timeout), 5 to 600).
    type: int
    default: 30
  wait_timeout:
    description:
      - Seconds to wait, from the moment the call is placed, for the forwarded call to appear and the call to end
        (1 to 600). The log is read once a second.
    type: int
    default: 60
  fail_on_error:
    description:
      - Fail the task when the round trip did not pass (RV(passed) false); by default the result reports it.
    type: bool
    default: false
notes:
  - The call really rings the PBX; run it when a test call is welcome, for example with agents on DND and
    the fallback's voice URL ready.
  - A call create whose reply is lost is not sent again (a second call would ring); the error says to look at the call log.
  - Where Twilio's log does not list an INVITE the SIP Domain refused (403, undocumented), the failure is
    reported as no forwarded call, whose diagnosis names the IP ACL as well.
  - The caller matches when the forwarded call's From (its user part, if Twilio logs a SIP URI) has the
    digits of O(from_number), with or without the C(+).
seealso:
  - module: voip.threecx_twilio.twilio_call_info
  - module: voip.threecx_twilio.threecx_trunk_test_call
  - name: Twilio Call resource (create a call)
    description: The parameters of a call Twilio places.
    link: https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
"""

EXAMPLES = r"""
- name: Round-trip test call through the site's whole inbound path
  voip.threecx_twilio.twilio_test_call:
    region: ie1
    from_number: "+17735550142"
    did: "+13125550199"
    fallback_number: "+14155550123"
    trunk_number: "+13125550100"
  register: round_trip
  delegate_to: localhost

- name: Twilio saw the calling number on the forwarded call
  ansible.builtin.assert:
    that: round_trip.passed or ansible_check_mode
    fail_msg: "{{ round_trip.msg }}"
"""

RETURN = r"""
placed:
  description: Whether a call was placed (false in check mode).
  returned: always
  type: bool
  sample: true
passed:
  description:
    - Whether the forwarded call reached the SIP Domain with the fallback number unchanged, was not refused,
      and showed the calling number as its caller. Null in check mode.
  returned: always
  type: bool
  sample: true
call:
  description: The call Twilio placed to the DID, as RV(voip.threecx_twilio.twilio_call_info#module:calls) describes a call, in its last state seen.
  returned: when placed
  type: dict
  sample: {"sid": "CA0123456789abcdef0123456789abcdef", "direction": "outbound-api", "status": "completed"}
forwarded:
  description: The forwarded call found in the call log (same fields as RV(call)); null when none was seen.
  returned: when placed
  type: dict
  sample: {"sid": "CAfedcba9876543210fedcba9876543210", "direction": "inbound", "from_user": "+17735550142", "to_user": "+14155550123"}
from:
  description: The caller of the forwarded call as Twilio logged it (the user part of a SIP URI); null when none was seen.
  returned: when placed
  type: str
  sample: "+17735550142"
calling_number:
  description: The number the call was placed from (O(from_number)).
  returned: always
  type: str
  sample: "+17735550142"
caller_matches:
  description: Whether RV(from) is the calling number; null when no forwarded call was seen or in check mode.
  returned: always
  type: bool
  sample: true
diagnosis:
  description:
    - One entry per failure, each with the setup guide's fix. Codes are C(call_failed) (Twilio could not place
      the call), C(no_forwarded_call) (outbound rule, no-answer destination, agents not on DND; or a refused
      INVITE Twilio did not log), C(refused) (IP ACL, NAT, credentials), C(number_rewritten) (E164
      processing) and C(caller_mismatch) (the template).
  returned: always
  type: list
  elements: dict
  sample: [{"code": "caller_mismatch", "message": "Twilio saw the caller as +13125550100 (the trunk's own number), ..."}]
waited:
  description: Seconds spent waiting for the forwarded call and the end of the call.
  returned: when placed
  type: int
  sample: 2
msg:
  description: One line saying what happened.
  returned: always
  type: str
  sample: "Round-trip test call from +17735550142 to +13125550199: forwarded to +14155550123, Twilio saw the caller as +17735550142 (the calling number)"
"""

import time

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_calls as calls
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_test_call as round_trip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio import TwilioAmbiguousWrite
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import check_phone_number, check_positive

POLL_SECONDS = 1.0
PAGE_SIZE = 50
# At most this many calls of the log are read per look (a busy account's minute fits).
LOG_LIMIT = 200
NUMBERS = ("from_number", "did", "fallback_number")


def check_input(p):
    for option in NUMBERS:
        check_phone_number(option, p[option], require_plus=True)
    if p["trunk_number"]:
        check_phone_number("trunk_number", p["trunk_number"])
    if p["from_number"] == p["did"]:
        raise ValueError("from_number must differ from did: the DID cannot call itself; use another number of the account")
    check_positive(p, "hang_up_after", maximum=60)
    check_positive(p, "wait_timeout", maximum=600)
    if not 5 <= p["ring_timeout"] <= 600:
        raise ValueError("ring_timeout must be between 5 and 600 seconds (Twilio's Timeout); got %s" % p["ring_timeout"])


def skipped(p):
    return dict(
        skipped=True,
        placed=False,
        passed=None,
        calling_number=p["from_number"],
        caller_matches=None,
        diagnosis=[],
        msg="Round-trip test call from %s to %s: not placed (check mode never places a call)" % (p["from_number"], p["did"]),
    )


def place(module):
    p = module.params
    try:
        return module.client.calls.create(
            to=p["did"],
            from_=p["from_number"],
            twiml=round_trip.hang_up_twiml(p["hang_up_after"]),
            timeout=p["ring_timeout"],
            time_limit=p["ring_timeout"] + p["hang_up_after"],
        )
    except TwilioAmbiguousWrite as lost:
        module.fail_json(
            msg="Round-trip test call from %s to %s: the call was sent to Twilio but its reply was lost (%s). Twilio may or may not have "
            "placed it; it was not sent again, because that would ring a second time. Look at the account's call log before running "
            "the task again" % (p["from_number"], p["did"], lost),
            error=lost.to_result(),
            changed=False,
            placed=None,
        )


def log_since(client, since):
    """The calls created at or after *since* (Twilio's clock), newest first; stops at the first older one."""
    found = []
    for call in client.calls.stream(limit=LOG_LIMIT, page_size=PAGE_SIZE):
        if call.date_created is not None and since is not None and call.date_created < since:
            break
        found.append(calls.describe_call(call))
    return found


def follow(module, created):
    """Read the call and the log until the forwarded leg is seen and the call has ended, or the wait is over."""
    p = module.params
    started = time.monotonic()
    sid = created.sid
    since = created.date_created
    outbound, leg, match, candidates = calls.describe_call(created), None, None, 0
    ended_reads = 0
    while True:
        fresh = calls.fetch_call(module.client, sid)
        if fresh is not None:
            outbound = calls.describe_call(fresh)
        leg, match, candidates = round_trip.find_leg(log_since(module.client, since), p["from_number"], p["fallback_number"], exclude=(sid,))
        if outbound["status"] in round_trip.ENDED:
            ended_reads += 1
        # Once the call is over, one more read: a leg Twilio logs late still shows.
        if (leg is not None and ended_reads) or ended_reads > 1:
            break
        if time.monotonic() - started + POLL_SECONDS > p["wait_timeout"]:
            break
        time.sleep(POLL_SECONDS)
    return outbound, leg, match, candidates, int(round(time.monotonic() - started))


def main():
    module = TwilioModule(
        argument_spec=dict(
            from_number=dict(type="str", required=True),
            did=dict(type="str", required=True),
            fallback_number=dict(type="str", required=True),
            trunk_number=dict(type="str"),
            hang_up_after=dict(type="int", default=5),
            ring_timeout=dict(type="int", default=30),
            wait_timeout=dict(type="int", default=60),
            fail_on_error=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    with module.api_errors():
        check_input(p)
        if module.check_mode:
            module.exit_json(changed=False, **skipped(p))
        created = place(module)
        outbound, leg, match, candidates, waited = follow(module, created)
    verdict = round_trip.judge(
        outbound, leg, match, p["from_number"], p["did"], p["fallback_number"], waited, trunk_number=p["trunk_number"], candidates=candidates
    )
    result = dict(placed=True, call=outbound, forwarded=leg, calling_number=p["from_number"], waited=waited, **verdict)
    if p["fail_on_error"] and not result["passed"]:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
