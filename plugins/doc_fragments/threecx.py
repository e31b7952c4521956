# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every module that talks to a 3CX v20 PBX (XAPI).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the 3CX v20 PBX web server, for example V(https://pbx.example.com:5001).
      - The XAPI is reached at C(<url>/xapi/v1) and tokens at C(<url>/connect/token).
      - An https:// URL, checked before any request (the PBX's API carries its client secret and tokens).
      - If not set, the value of the E(THREECX_URL) environment variable is used.
    type: str
    required: true
  client_id:
    description:
      - Client ID of the API integration (Admin Console > Integrations > API), which must have
        I(3CX Configuration API Access) and a system-wide role (System Owner or System Admin).
      - 3CX keeps only one active token per client ID. This collection shares one cached token
        between parallel runs that use the same O(token_cache_dir) (by default, those on one controller);
        runs with separate caches revoke each other's tokens (see O(token_cache_dir)).
      - If not set, the value of the E(THREECX_CLIENT_ID) environment variable is used.
    type: str
    required: true
  client_secret:
    description:
      - The API key shown once when the integration was created.
      - It is never logged, returned, shown in a diff or written to the token cache. The bearer
        token is cached in a file readable only by its owner in O(token_cache_dir), keyed by
        O(url) and O(client_id), with a salted verifier so that it is only reused with the same secret.
      - If not set, the value of the E(THREECX_CLIENT_SECRET) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to check the PBX's TLS certificate. Keep it on; give O(ca_path) for a private CA.
      - If not set, the value of the E(THREECX_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to trust for the PBX instead of the system store. It must be readable and
        hold PEM certificates, checked before any request.
      - If not set, the value of the E(THREECX_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP reply.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a request is sent again after HTTP 429 (honouring C(Retry-After)) or, for
        requests that are safe to repeat, after HTTP 5xx or a dropped connection. Between 0 and 10.
      - A create is never sent twice; when its reply is lost, the module reads the object back (O(settle_timeout)),
        and the next run finds it by its natural key instead of creating a duplicate.
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
  token_cache_dir:
    description:
      - The directory of the bearer-token cache (made with mode 0700 if missing). Runs that share it share one token per
        O(url) and O(client_id), fetched under a file lock.
      - 3CX keeps one active token per client ID, so runs with separate caches (two controllers, or AWX jobs in their own
        containers) revoke each other's tokens. Give each controller its own API client, or point every run at one cache on
        a shared volume (see the collection's AWX guide). A run whose fresh token is refused, or whose token requests the PBX
        refuses (HTTP 403), backs off with jitter for up to 60 s and then fails saying that another process uses the API client.
      - If not set, the value of the E(THREECX_TOKEN_CACHE_DIR) environment variable is used, and without it
        C($XDG_CACHE_HOME/voip.threecx_twilio/xapi-tokens/) (default C(~/.cache/...)).
    type: path
    version_added: 0.2.0
notes:
  - The XAPI needs a 3CX Enterprise (8SC+) licence.
  - Runs on the host that executes the module (normally the controller, with a local connection
    or C(delegate_to=localhost)) and needs the Python library C(requests) there.
requirements:
  - requests >= 2.31
"""
