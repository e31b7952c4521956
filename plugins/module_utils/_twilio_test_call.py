# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The round-trip test call (twilio_test_call): Twilio calls the site's DID, the PBX forwards it to the
SIP Domain, and the forwarded leg in the call log is judged here, with the setup guide's diagnoses.

PRIVATE to this collection: may change without notice.

Plain functions over calls as :func:`_twilio_calls.describe_call` returns them (dicts), so the
judgement is tested without Twilio:

* :func:`hang_up_twiml`: the TwiML that bounds the call;
* :func:`leg_match`: whether a call of the log is the forwarded leg (to the fallback number), and
  whether that number arrived rewritten (E164);
* :func:`find_leg`: the forwarded leg among the inbound calls logged since the call was placed;
* :func:`judge`: passed or not, whether the caller matches, and one diagnosis per failure.
"""

from __future__ import annotations

import re

from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_calls import sip_user

# The document's call statuses once a call is over, and those of a call nobody answered.
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")
NOT_ANSWERED = ("busy", "failed", "no-answer", "canceled")
# How many trailing digits must agree for a number to count as the fallback number rewritten
# (E164 processing turns +CC… into a national or 00… form: the subscriber number stays).
_TAIL = 7


def hang_up_twiml(seconds):
    """TwiML for the calling side: wait *seconds* once answered, then hang up (the call's bound)."""
    return '<Response><Pause length="%d"/><Hangup/></Response>' % int(seconds)


def digits(number):
    return re.sub(r"\D", "", number or "")


def same_number(logged, expected):
    """A logged caller (a number or a SIP URI) is *expected*: the same digits, with or without the '+'.

    Whether Twilio logs a SIP Domain call's From as a bare number or a URI is not documented; the
    user part is compared (as twilio_call_info's from_user), and a '+' dropped on the way is allowed.
    """
    user = sip_user(logged)
    return bool(user) and bool(digits(expected)) and digits(user) == digits(expected) and not re.search(r"[^+\d]", user)


def leg_match(call, fallback_number):
    """``"exact"`` when the call's To is the fallback number, ``"rewritten"`` when it is that number
    changed on the way (another form of it: no '+', a national or 00 prefix; the last 7 digits agree),
    else None."""
    user = sip_user(call.get("to"))
    if not user:
        return None
    if same_number(user, fallback_number) and user.startswith("+") == fallback_number.startswith("+"):
        return "exact"
    got, want = digits(user), digits(fallback_number)
    if len(got) >= _TAIL and got[-_TAIL:] == want[-_TAIL:]:
        return "rewritten"
    return None


def find_leg(calls, from_number, fallback_number, exclude=()):
    """The forwarded leg among *calls* (any order): an inbound call to the fallback number (or to a
    rewritten form of it), those from the calling number first, then the earliest.

    Returns ``(call or None, match, candidates)``; *exclude* holds SIDs to skip (the placed call).
    """
    found = []
    for call in calls:
        if call.get("sid") in exclude or call.get("direction") != "inbound":
            continue
        match = leg_match(call, fallback_number)
        if match is not None:
            found.append((call, match))
    if not found:
        return None, None, 0
    # Calls from the calling number first, exact numbers first, then oldest first (list order is newest first).
    ranked = sorted(
        enumerate(found),
        key=lambda item: (not same_number(item[1][0].get("from"), from_number), item[1][1] != "exact", -item[0]),
    )
    call, match = ranked[0][1]
    return call, match, len(found)


def judge(placed, leg, match, from_number, did, fallback_number, waited, trunk_number=None, candidates=1):
    """The outcome of one round trip: ``{passed, caller_matches, from, diagnosis: [{code, message}], msg}``.

    *placed* is the call Twilio placed to the DID (its last state), *leg* the forwarded call found
    (None: not seen within *waited* seconds), *match* what :func:`leg_match` said of it.
    """
    diagnosis = []

    def say(code, message):
        diagnosis.append({"code": code, "message": message})

    status = placed.get("status")
    leg_from = sip_user(leg.get("from")) if leg is not None else None
    caller_matches = same_number(leg.get("from"), from_number) if leg is not None else None
    if leg is None:
        if status == "failed":
            say(
                "call_failed",
                "Twilio could not place the call from %s to %s (status failed): from_number must be a Twilio number or a verified "
                "caller ID of this account, and the DID must be reachable from the public network" % (from_number, did),
            )
        else:
            answered = " The call was answered: an agent who is not on DND, or a voicemail, takes it before the fallback."
            state = ("ended %s" % status) if status in ENDED else ("still %s" % (status or "unknown"))
            say(
                "no_forwarded_call",
                "No forwarded call to %s appeared in the SIP Domain's call log (the call to %s %s; waited %d s).%s Check that the queue's or ring group's "
                "destination if no answer is \"Forward to Outside Number\" %s, that every agent is on DND for the test, and that an "
                "outbound rule sends %s through route 1 to the Twilio trunk. A SIP Domain that refuses the INVITE (403: the PBX's "
                "public IP is not in the IP ACL, or NAT changes it) may not log it either: check the IP ACL too"
                % (fallback_number, did, state, waited, answered if status == "completed" else "", fallback_number, fallback_number),
            )
    else:
        if match == "rewritten":
            say(
                "number_rewritten",
                "The forwarded call reached Twilio as %s, not %s: the number was rewritten on the way (3CX's \"Process E164 numbers\" "
                "setting), and a number that no longer matches Twilio's routing is dropped. Turn E164 processing off"
                % (sip_user(leg.get("to")), fallback_number),
            )
        if leg.get("status") in NOT_ANSWERED:
            say(
                "refused",
                "The SIP Domain did not accept the forwarded call (status %s): a 403 means the PBX's public IP is not in the "
                "domain's IP ACL (or NAT changes it), a challenge that fails means the trunk's credentials are not in its "
                "credential list" % leg.get("status"),
            )
        if not caller_matches:
            whose = " (the trunk's own number)" if trunk_number and same_number(leg.get("from"), trunk_number) else ""
            say(
                "caller_mismatch",
                "Twilio saw the caller as %s%s, not the calling number %s: the trunk's template does not put $OriginatorCallerId "
                "into From (and P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID)" % (leg_from, whose, from_number),
            )
    passed = leg is not None and not diagnosis
    head = "Round-trip test call from %s to %s" % (from_number, did)
    if passed:
        msg = "%s: forwarded to %s, Twilio saw the caller as %s (the calling number)" % (head, fallback_number, leg_from)
        if candidates > 1:
            msg += "; %d calls to %s were logged meanwhile, this one is from the calling number" % (candidates, fallback_number)
    else:
        msg = "%s: %s" % (head, " ".join(d["message"] for d in diagnosis))
    return {"passed": passed, "caller_matches": caller_matches, "from": leg_from, "diagnosis": diagnosis, "msg": msg}
