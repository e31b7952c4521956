# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The "Destination if no answer" option shared by threecx_queue and threecx_ring_group.
    DOCUMENTATION = r"""
options:
  no_answer_destination:
    description:
      - Where an unanswered call goes ("Destination if no answer", C(ForwardNoAnswer)).
      - For the Twilio fallback, type V(external) with the Twilio number in O(no_answer_destination.external)
        ("Forward to Outside Number").
    type: dict
    suboptions:
      type:
        description:
          - V(external) forwards to an outside number or SIP URI; V(voicemail) to the voicemail of
            the extension O(no_answer_destination.number); V(extension), V(queue), V(ring_group) to
            that internal number; V(none) ends the call.
        type: str
        required: true
        choices: [external, voicemail, extension, queue, ring_group, none]
      number:
        description:
          - The internal number, for the types V(voicemail), V(extension), V(queue) and V(ring_group).
            It must exist on the PBX. In check mode a queue or ring group that does not exist yet is a
            warning (an earlier task of the play may create it), not an error.
        type: str
      external:
        description:
          - For V(external), the outside number in full international format (V(+14155550100)) or a
            SIP URI (V(sip:+14155550100@example.sip.us1.twilio.com)).
          - Whether 3CX dials a full SIP URI here is not confirmed; a number, dialled through the
            outbound rule to the Twilio trunk, is the documented way.
        type: str
"""
