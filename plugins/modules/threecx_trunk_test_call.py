#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_trunk_test_call
short_description: Place a test call through a 3CX v20 trunk and report how it went
version_added: 0.1.0
description:
  - Places an outbound test call through one trunk of a 3CX v20 PBX with the trunk's Configuration API action
    C(Pbx.TestOutboundCall) (a C(POST) to the trunk's path below C(/xapi/v1/Trunks); the Admin Console's trunk
    test), and reports whether the far end answered, the final SIP status, the PBX's reports and its log of the
    exchange.
  - For the Twilio fallback flow, place the call on the site's Twilio SIP Domain trunk to the fallback
    number. A C(200) proves that the SIP Domain admits the PBX (IP access control list or credentials) and
    routes the number; C(403) usually means the PBX's public address is not in the domain's IP access
    control list (and no credentials match); C(404) that the domain does not route the number. Whether the
    caller ID arrived as intended is seen in Twilio's call log (the C(From) of the newest call), which this
    module does not read.
  - The test call goes straight out through the trunk, with the trunk's outbound parameters (its template's
    caller-ID bindings); no outbound rule and no E164 processing are involved.
  - The call is real and B(rings the far end's handler). At a Twilio SIP Domain that is the domain's voice
    URL, TwiML App or Studio flow, which may bill the call, alert people or run an AI agent. Run it where the
    handler expects test calls.
  - The request is not idempotent and is B(never sent twice). When the connection drops or times out after the
    request was sent, the PBX may or may not have placed the call; the module fails with a message that says so
    instead of retrying (a retry would place a second call). A C(429) (the request was refused, nothing was
    placed) is retried like any request. Give O(timeout) enough seconds for the whole call set-up.
  - Changes no configuration, so C(changed) is always V(false).
  - The trunk's password and the API client secret are never returned or logged.
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
      - In check mode the call is B(not) placed, because placing it rings the far end's handler. The module
        still looks the trunk up (one read) and fails when it does not exist, then returns RV(placed=false)
        with the trunk it would have used; RV(answered) is V(false) and the other outcome keys are empty.
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
  trunk:
    description:
      - The trunk to call through, by its name (C(Gateway.Name), as M(voip.threecx_twilio.threecx_trunk)'s
        O(voip.threecx_twilio.threecx_trunk#module:name)) or its number (for example V(10000)).
      - A name wins over another trunk's number; two trunks with the same name are an error (give the number).
      - A trunk that does not exist fails the task with the list of the PBX's trunks, in check mode too.
    type: str
    required: true
  destination:
    description:
      - The number dialled, sent as C(destination). For the Twilio fallback flow, the fallback number in
        the form the outbound rule sends it (normally full international format, V(+14155550100)).
      - Digits, C(*) and C(#), with an optional leading C(+); no spaces or separators; at most 32 characters
        after the C(+). Checked before any request.
    type: str
    required: true
  caller:
    description:
      - The caller number to present, sent as C(contact); for the go-live check, a test caller's number such
        as V(+17735550142).
      - Same format as O(destination). Omitted or V(""), C(contact) is sent empty, which asks for the trunk's
        own number.
      - What a real 3CX does with C(contact) is B(UNCONFIRMED); the API document gives only the parameter's
        name. The collection's lab reads it as the original caller's number, the value of the template
        variable C($OriginatorCallerId), so that a trunk whose template keeps the caller ID sends it in
        C(From), C(P-Asserted-Identity), C(P-Preferred-Identity) and C(Remote-Party-ID). Confirm on a real PBX
        (the C(From) that Twilio logs for the call) before relying on it.
    type: str
  fail_on_error:
    description:
      - Fail the task when the call was not answered (RV(answered) is V(false)), with the whole result.
      - By default an unanswered call is a result, not an error; look at RV(answered), RV(sip_status) and RV(errors).
      - Ignored in check mode (no call is placed).
    type: bool
    default: false
notes:
  - The PBX places the call while the request waits, so the reply comes only once the far end has answered or
    refused (or the PBX gave up). A reply lost to a short O(timeout) is a failure that cannot tell whether the
    call was placed; look at the far end's call log before running the task again.
seealso:
  - module: voip.threecx_twilio.threecx_trunk
  - module: voip.threecx_twilio.sip_options_probe
  - module: voip.threecx_twilio.twilio_sip_domain
  - name: 3CX Configuration API
    description: The XAPI reference.
    link: https://www.3cx.com/docs/configuration-rest-api/
"""

EXAMPLES = r"""
- name: Go-live check - call the fallback number on the site's Twilio trunk, from the test caller's number
  voip.threecx_twilio.threecx_trunk_test_call:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    trunk: Twilio SIP Domain Trunk
    caller: "+17735550142"
    destination: "{{ threecx_fallback_fallback_number }}"
  delegate_to: localhost
  register: test_call

- name: Say how it went
  ansible.builtin.debug:
    msg: >-
      {{ 'answered' if test_call.answered else 'not answered' }}
      ({{ test_call.sip_status }} {{ test_call.sip_reason }}){{ ': ' ~ (test_call.errors | map(attribute='message') | join('; '))
      if test_call.errors else '' }}

- name: Same, failing the task unless the SIP Domain answers (connection from module_defaults)
  module_defaults:
    group/voip.threecx_twilio.threecx:
      url: "{{ threecx_url }}"
      client_id: "{{ threecx_client_id }}"
      client_secret: "{{ threecx_client_secret }}"
  voip.threecx_twilio.threecx_trunk_test_call:
    trunk: "10000"
    caller: "+17735550142"
    destination: "+14155550100"
    fail_on_error: true

- name: Check mode only looks the trunk up; nothing rings
  voip.threecx_twilio.threecx_trunk_test_call:
    trunk: Twilio SIP Domain Trunk
    destination: "+14155550100"
  check_mode: true
  register: planned_call
"""

RETURN = r"""
placed:
  description: Whether the test call was placed (V(false) in check mode).
  returned: success, and when fail_on_error fails the task
  type: bool
  sample: true
trunk:
  description: The trunk the call went (or would go) through. Never holds the trunk's credentials.
  returned: success, and on a failure after the trunk was found
  type: dict
  contains:
    id:
      description: The trunk's C(Id).
      type: int
      sample: 7
    number:
      description: The trunk's number.
      type: str
      sample: "10000"
    name:
      description: The trunk's name (C(Gateway.Name)).
      type: str
      sample: Twilio SIP Domain Trunk
    host:
      description: The trunk's registrar / server (C(Gateway.Host)), where the INVITE goes.
      type: str
      sample: acme.sip.us1.twilio.com
answered:
  description:
    - Whether the far end answered the call (the PBX reported C(OutboundCallSuccessful)).
    - V(false) in check mode.
  returned: success, and when fail_on_error fails the task
  type: bool
  sample: true
sip_status:
  description:
    - The final SIP status of the call, from the PBX's C(SIPMessageResponse) report, else from the last final
      response (C(<- SIP/2.0 NNN), 200 to 699) in RV(log) that answers the INVITE (not the BYE that ends an
      answered call).
    - Null when no final response came (for example with C(SIPCallFailed), when no SIP exchange happened), and in check mode.
  returned: success, and when fail_on_error fails the task
  type: int
  sample: 403
sip_reason:
  description: The reason phrase of RV(sip_status) (null with it).
  returned: success, and when fail_on_error fails the task
  type: str
  sample: Forbidden
errors:
  description:
    - The PBX's reports of level C(Error) or C(Critical), for example C(OutboundCallFailed), C(SIPCallFailed),
      C(RegistrarIsNotSet), C(TrunkIsInboundOnly), C(ErrNoAuthID).
    - Empty when the call was answered, and in check mode.
  returned: success, and when fail_on_error fails the task
  type: list
  elements: dict
  contains:
    code:
      description: The report's code (a C(Pbx.AnalysisCode)).
      type: str
      sample: OutboundCallFailed
    message:
      description: The report's template with its parameters filled in.
      type: str
      sample: "The call failed: 403 Forbidden"
  sample: [{code: OutboundCallFailed, message: "The call failed: 403 Forbidden"}]
reports:
  description: Every report of the PBX, in its order (empty in check mode).
  returned: success, and when fail_on_error fails the task
  type: list
  elements: dict
  contains:
    level:
      description: C(Critical), C(Error), C(Warning) or C(Info) (a C(Pbx.InfoLevel)), or null.
      type: str
      sample: Info
    code:
      description: The report's code (a C(Pbx.AnalysisCode)), or null.
      type: str
      sample: OutboundCallSuccessful
    message:
      description: The report's template with its parameters filled in.
      type: str
      sample: "The call was answered: 200 OK"
  sample:
    - {level: Info, code: TargetDomain, message: Registrar acme.sip.us1.twilio.com}
    - {level: Info, code: OutboundCallerReady, message: Caller +17735550142}
    - {level: Info, code: OutboundCallSuccessful, message: "The call was answered: 200 OK"}
    - {level: Info, code: SIPMessageResponse, message: 200 OK}
log:
  description: The PBX's log of the test call, oldest first (empty in check mode). Its wording is the PBX's own.
  returned: success, and when fail_on_error fails the task
  type: list
  elements: dict
  contains:
    text:
      description: One step of the call (a SIP message sent or received, a decision).
      type: str
      sample: "<- SIP/2.0 200 OK [CSeq 1 INVITE]"
    timestamp:
      description: When it happened (ISO 8601, as the PBX sends it).
      type: str
      sample: "2025-06-02T14:03:11.482Z"
  sample:
    - {text: "-> INVITE sip:+14155550100@acme.sip.us1.twilio.com SIP/2.0 [CSeq 1 INVITE]", timestamp: "2025-06-02T14:03:11.421Z"}
    - {text: "<- SIP/2.0 200 OK [CSeq 1 INVITE]", timestamp: "2025-06-02T14:03:11.482Z"}
msg:
  description: The outcome in words.
  returned: always
  type: str
  sample: "Test call through trunk 'Twilio SIP Domain Trunk' (10000) to +14155550100: answered, 200 OK"
"""

import re

from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXAmbiguousWrite
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import find_trunk, trunk_name
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_trunk_test import parse_trunk_test_result

ACTION = "/Trunks(%d)/Pbx.TestOutboundCall"
_DIALLED = re.compile(r"^\+?[0-9*#]{1,32}$")


def check_dialled(option, value, allow_empty=False):
    """A number to dial or present: digits, * and #, optional leading +; returns it (None/"" -> "" when allowed)."""
    text = "" if value is None else str(value)
    if text == "" and allow_empty:
        return text
    if not _DIALLED.match(text):
        raise ValueError(
            "%s must be a number made of digits, '*' and '#' with an optional leading '+' (for example +14155550100), "
            "without spaces or separators, at most 32 characters after the '+'%s; got %r" % (option, ', or "" for none' if allow_empty else "", text)
        )
    return text


def trunk_view(trunk):
    gateway = trunk.get("Gateway") if isinstance(trunk.get("Gateway"), dict) else {}
    return {"id": trunk.get("Id"), "number": trunk.get("Number"), "name": trunk_name(trunk), "host": gateway.get("Host")}


def not_placed(view):
    return {"placed": False, "trunk": view, "answered": False, "sip_status": None, "sip_reason": None, "errors": [], "reports": [], "log": []}


def summary(result, destination):
    trunk = result["trunk"]
    head = "Test call through trunk %r (%s) to %s" % (trunk["name"], trunk["number"], destination)
    if not result["placed"]:
        return head + ": not placed (check mode)"
    status = " ".join(str(part) for part in (result["sip_status"], result["sip_reason"]) if part is not None)
    outcome = "answered" if result["answered"] else "not answered"
    if status:
        outcome += ", " + status
    if result["errors"]:
        outcome += " (%s)" % "; ".join("%s: %s" % (e["code"], e["message"]) for e in result["errors"])
    return "%s: %s" % (head, outcome)


def place(module, view, caller, destination):
    """POST the action once: a lost reply is reported, never retried (a retry would place a second call)."""
    try:
        return module.client.post(ACTION % view["id"], {"contact": caller, "destination": destination}, idempotent=False)
    except ThreeCXAmbiguousWrite as lost:
        module.fail_json(
            msg="Test call through trunk %r (%s) to %s: the request was sent but its reply was lost (%s). The PBX may or may not "
            "have placed the call; the request was not sent again, because that would place a second call. Look at the far end's "
            "call log (for a Twilio SIP Domain, the account's Calls) before running the task again, and give timeout enough seconds "
            "for the call set-up" % (view["name"], view["number"], destination, lost),
            error=lost.to_result(),
            changed=False,
            trunk=view,
        )


def main():
    module = ThreeCXModule(
        argument_spec=dict(
            trunk=dict(type="str", required=True),
            destination=dict(type="str", required=True),
            caller=dict(type="str"),
            fail_on_error=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    with module.api_errors():
        destination = check_dialled("destination", p["destination"])
        caller = check_dialled("caller", p["caller"], allow_empty=True)
        view = trunk_view(find_trunk(module.client, p["trunk"]))
        if module.check_mode:
            result = not_placed(view)
        else:
            result = dict(placed=True, trunk=view, **parse_trunk_test_result(place(module, view, caller, destination)))
    msg = summary(result, destination)
    if p["fail_on_error"] and result["placed"] and not result["answered"]:
        module.fail_json(msg=msg, changed=False, **result)
    module.exit_json(changed=False, msg=msg, **result)


if __name__ == "__main__":
    main()
