# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every module that talks to the Twilio REST API.
    DOCUMENTATION = r"""
options:
  account_sid:
    description:
      - The Account SID (C(AC...)) of the account or subaccount that owns the resources.
      - If not set, the value of the E(TWILIO_ACCOUNT_SID) environment variable is used.
    type: str
    required: true
  auth_token:
    description:
      - The account's Auth Token. Give either O(auth_token), or O(api_key) with O(api_secret).
      - Credentials belong to one region; those of another region are refused.
      - If not set, the value of the E(TWILIO_AUTH_TOKEN) environment variable is used.
    type: str
  api_key:
    description:
      - An API key SID (C(SK...)) made in the same region as O(region). Requires O(api_secret).
      - If not set, the value of the E(TWILIO_API_KEY) environment variable is used.
    type: str
  api_secret:
    description:
      - The secret of O(api_key).
      - If not set, the value of the E(TWILIO_API_SECRET) environment variable is used.
    type: str
  region:
    description:
      - The Twilio region that holds the account's resources. It is always paired with its edge
        (V(us1) with C(ashburn), V(ie1) with C(dublin), V(au1) with C(sydney)), so requests go to
        C(api.<edge>.<region>.twilio.com) and never to the retired region-only host.
      - Sites in the Gulf normally use V(ie1).
      - If not set, the value of the E(TWILIO_REGION) environment variable is used.
    type: str
    choices: [us1, ie1, au1]
    default: us1
  api_base_url:
    description:
      - Send every request to this scheme and host instead (for example a corporate proxy or the
        collection's local lab). The regional host Twilio would have been called at is sent in
        the C(X-Forwarded-Host) header.
      - An https:// URL, checked before any request.
      - If not set, the value of the E(TWILIO_API_BASE_URL) environment variable is used.
    type: str
  ca_bundle:
    description:
      - A PEM file of CA certificates to trust instead of the system store (for O(api_base_url)
        behind a private CA). It must be readable and hold PEM certificates, checked before any request.
      - If not set, the value of the E(TWILIO_CA_BUNDLE) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP reply.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a request is sent again after HTTP 429 (error 20429, honouring
        C(Retry-After)) or, for requests that are safe to repeat, after HTTP 5xx or a dropped
        connection. Between 0 and 10.
    type: int
    default: 3
  settle_timeout:
    description:
      - Seconds a create whose reply was lost (or timed out) is read back by its natural key, polling with backoff,
        before the module stops looking. A vendor may finish a create after the client gave up; the module then adopts
        the object instead of failing or making a second one. Found nothing by then, it fails saying the object may
        still appear (the next run adopts it), never that nothing was made. A create refused with HTTP 409 because
        another run made the object meanwhile adopts that object. From 0 to 600.
    type: int
    default: 60
    version_added: 0.2.0
notes:
  - Runs on the host that executes the module (normally the controller) and needs the official
    Python library C(twilio) there.
requirements:
  - twilio >= 9.10.1
"""
