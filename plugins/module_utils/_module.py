# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Base module classes: connection options, the vendor client, and API errors as fail_json.

PRIVATE to this collection: may change without notice.

Shaped after amazon.aws's AnsibleAWSModule: a module declares only its own options; the
connection options (documented by the ``voip.threecx_twilio.twilio`` and ``.threecx`` doc
fragments, with the environment fallbacks an AWX credential type injects) are merged in here.
"""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx, _twilio
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy


def threecx_argument_spec():
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["THREECX_URL"])),
        client_id=dict(type="str", required=True, fallback=(env_fallback, ["THREECX_CLIENT_ID"])),
        client_secret=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["THREECX_CLIENT_SECRET"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["THREECX_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["THREECX_CA_PATH"])),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=3),
    )


def twilio_argument_spec():
    return dict(
        account_sid=dict(type="str", required=True, fallback=(env_fallback, ["TWILIO_ACCOUNT_SID"])),
        auth_token=dict(type="str", no_log=True, fallback=(env_fallback, ["TWILIO_AUTH_TOKEN"])),
        api_key=dict(type="str", no_log=False, fallback=(env_fallback, ["TWILIO_API_KEY"])),
        api_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TWILIO_API_SECRET"])),
        region=dict(type="str", default="us1", choices=list(_twilio.REGIONS), fallback=(env_fallback, ["TWILIO_REGION"])),
        api_base_url=dict(type="str", fallback=(env_fallback, ["TWILIO_API_BASE_URL"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["TWILIO_CA_BUNDLE"])),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=3),
    )


def _check_connection_numbers(module):
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got %s" % module.params["timeout"])
    if not 0 <= module.params["max_retries"] <= 10:
        module.fail_json(msg="max_retries must be between 0 and 10, got %s" % module.params["max_retries"])


class _VendorModule(AnsibleModule):
    """What both vendors' modules share: the merged spec and API errors as fail_json."""

    connection_spec = staticmethod(dict)
    error_types = ()

    def __init__(self, argument_spec=None, **kwargs):
        spec = self.connection_spec()
        spec.update(argument_spec or {})
        super(_VendorModule, self).__init__(argument_spec=spec, **kwargs)
        self._client = None
        # An AWX credential type injects every variable it knows, unset ones as "". An empty
        # optional connection value means "not given", not "the empty string".
        for name, option in self.connection_spec().items():
            if not option.get("required") and option["type"] in ("str", "path") and self.params.get(name) == "":
                self.params[name] = None
        self.check_requirements()
        _check_connection_numbers(self)

    def check_requirements(self):
        """Fail with missing_required_lib when the vendor library is absent."""

    def fail_api(self, exc, msg=None):
        """Fail with the vendor error's message and structured fields, never credentials."""
        text = str(exc) if msg is None else "%s: %s" % (msg, exc)
        self.fail_json(msg=text, error=exc.to_result())

    @contextlib.contextmanager
    def api_errors(self):
        """Turn vendor and input errors raised inside the block into fail_json."""
        try:
            yield
        except self.error_types as exc:
            self.fail_api(exc)
        except ValueError as exc:
            self.fail_json(msg=str(exc))


class ThreeCXModule(_VendorModule):
    """A module that talks to a 3CX v20 PBX through the XAPI."""

    connection_spec = staticmethod(threecx_argument_spec)
    error_types = (_threecx.ThreeCXError,)

    def check_requirements(self):
        if not _threecx.HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=_threecx.REQUESTS_IMPORT_ERROR)

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
                token_cache=_threecx.TokenCache(),
            )
        return self._client


class TwilioModule(_VendorModule):
    """A module that talks to the Twilio REST API through the official SDK."""

    connection_spec = staticmethod(twilio_argument_spec)
    error_types = (_twilio.TwilioCallError,)

    # api_key/api_secret pairing and "auth_token or api_key" are checked when the client is
    # built (before any request), not with required_together: an AWX credential injects unset
    # fields as "", which those checks would count as given.

    def check_requirements(self):
        if not _twilio.HAS_TWILIO:
            self.fail_json(msg=missing_required_lib("twilio"), exception=_twilio.TWILIO_IMPORT_ERROR)

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
