# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""TwilioModule: a module that talks to the Twilio REST API through the official SDK (no 3CX import).

PRIVATE to this collection: may change without notice.
"""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio
from ansible_collections.voip.threecx_twilio.plugins.module_utils._module import (
    VendorModule,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import (
    RetryPolicy,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_inputs import (
    CONNECTION,
)


class TwilioModule(VendorModule):
    """A module that talks to the Twilio REST API through the official SDK."""

    connection = CONNECTION
    error_types = (_twilio.TwilioCallError,)

    # api_key/api_secret pairing and "auth_token or api_key" are input checks (_twilio_inputs),
    # not required_together: an AWX credential injects unset fields as "", which those checks
    # would count as given.

    def check_requirements(self):
        if not _twilio.HAS_TWILIO:
            self.fail_json(
                msg=missing_required_lib("twilio"),
                exception=_twilio.TWILIO_IMPORT_ERROR,
            )

    @property
    def client(self):
        if self._client is None:
            p = self.params
            self._client = _twilio.build_client(
                account_sid=p["account_sid"],
                auth_token=p["auth_token"],
                api_key=p["api_key"],
                api_secret=p["api_secret"],
                region=p["region"],
                api_base_url=p["api_base_url"],
                ca_bundle=p["ca_bundle"],
                timeout=p["timeout"],
                retry=RetryPolicy(max_retries=p["max_retries"]),
            )
        return self._client

    @contextlib.contextmanager
    def api_errors(self):
        """Also turn raw SDK exceptions (list calls raise plain TwilioException) into fail_json."""
        try:
            yield
        except _twilio.TwilioCallError as exc:
            self.fail_api(exc)
        except _twilio.TwilioException as exc:
            self.fail_api(_twilio.describe_error(exc))
        except ValueError as exc:
            self.fail_json(msg=str(exc))
