# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ThreeCXModule: a module that talks to a 3CX v20 PBX through the XAPI (no Twilio import).

PRIVATE to this collection: may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.module_utils._module import (
    VendorModule,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import (
    RetryPolicy,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import (
    CONNECTION,
)


class ThreeCXModule(VendorModule):
    """A module that talks to a 3CX v20 PBX through the XAPI."""

    connection = CONNECTION
    error_types = (_threecx.ThreeCXError,)

    def check_requirements(self):
        if not _threecx.HAS_REQUESTS:
            self.fail_json(
                msg=missing_required_lib("requests"),
                exception=_threecx.REQUESTS_IMPORT_ERROR,
            )

    @property
    def client(self):
        if self._client is None:
            p = self.params
            self._client = _threecx.ThreeCXClient(
                p["url"],
                p["client_id"],
                p["client_secret"],
                validate_certs=p["validate_certs"],
                ca_path=p["ca_path"],
                timeout=p["timeout"],
                retry=RetryPolicy(max_retries=p["max_retries"]),
                token_cache=_threecx.TokenCache(p.get("token_cache_dir") or None),
            )
        return self._client
