# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Twilio client factory on the official ``twilio`` SDK.

PRIVATE to this collection: may change without notice.

The SDK owns authentication, URLs and paging.  What we add:

* region always paired with its edge: the SDK builds ``api.<edge>.<region>.twilio.com``
  only when both are set; with the region alone it builds the deprecated region-only
  host (``api.ie1.twilio.com``), which Twilio switched off.
* ``api_base_url``: an HTTP client that rewrites scheme and host of every request (after
  the SDK chose the regional host) so that a proxy or the local lab can stand in.  The
  regional host travels in ``X-Forwarded-Host``.
* a CA bundle, and bounded retries on 429 (code 20429) and 5xx honouring Retry-After,
  which the SDK does not do itself.
* list calls raise a plain ``TwilioException`` with the response attached, while other
  calls raise ``TwilioRestException``; :func:`describe_error` reads both the same way.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from urllib.parse import urlsplit, urlunsplit

try:
    from twilio.base.exceptions import TwilioException, TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    HAS_TWILIO = True
    TWILIO_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import test
    HAS_TWILIO = False
    TWILIO_IMPORT_ERROR = traceback.format_exc()

    class TwilioException(Exception):
        """Stand-in so that except clauses stay valid without the SDK."""

    class TwilioRestException(TwilioException):
        """Stand-in so that except clauses stay valid without the SDK."""

    TwilioHttpClient = object
    Client = None

try:
    from requests import exceptions as requests_exceptions
except ImportError:  # pragma: no cover
    requests_exceptions = None

from ansible_collections.voip.threecx_twilio.plugins.module_utils._http import PinnedVerifySession
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import AmbiguousWrite, RetryPolicy
from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import Problems
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_inputs import check_credentials
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import DEFAULT_REGION, REGION_EDGES, REGIONS


# POST to /…/XX<32 hex>.json updates an existing resource: safe to repeat.  POST to a
# collection creates one: repeating it after a lost reply could make a duplicate.
_INSTANCE_URL = re.compile(r"/[A-Z]{2}[0-9a-fA-F]{32}(\.json)?$")

_SILENT_LOGGER = logging.getLogger("voip.threecx_twilio.twilio_http")
_SILENT_LOGGER.addHandler(logging.NullHandler())
_SILENT_LOGGER.propagate = False


class TwilioCallError(Exception):
    """A Twilio call failed; ``str()`` is a complete, secret-free message."""

    def __init__(self, message, status=None, code=None, more_info=None, method=None, url=None):
        super(TwilioCallError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.more_info = more_info
        self.method = method
        self.url = url

    def to_result(self):
        return {"status": self.status, "code": self.code, "more_info": self.more_info, "method": self.method, "url": self.url}

    def reworded(self, message):
        """The same error (status, code, request) with another message."""
        return TwilioCallError(message, status=self.status, code=self.code, more_info=self.more_info, method=self.method, url=self.url)


class TwilioAmbiguousWrite(TwilioCallError, AmbiguousWrite):
    """A create was sent but its reply was lost: it may exist now."""


def is_idempotent(method, url):
    method = method.upper()
    if method != "POST":
        return True
    return bool(_INSTANCE_URL.search(urlsplit(url).path))


class RetryingHttpClient(TwilioHttpClient):
    """TwilioHttpClient with base-URL override, CA bundle and 429/5xx retries."""

    def __init__(self, timeout, base_url=None, ca_bundle=None, retry=None):
        # The SDK's own logger writes every request (URL, query, form fields) at INFO: never ours.
        super(RetryingHttpClient, self).__init__(timeout=timeout, logger=_SILENT_LOGGER)
        self.base_url = base_url.rstrip("/") if base_url else None
        # The SDK's session lets REQUESTS_CA_BUNDLE override session.verify; ours does not.
        self.session = PinnedVerifySession(ca_bundle or None)
        self.retry = retry or RetryPolicy()
        # (method, host the SDK chose, path, status) per attempt: for tests and debugging.
        self.calls = []

    def rewrite(self, url, headers):
        """Point ``url`` at the base URL; keep the regional host in X-Forwarded-Host."""
        if not self.base_url:
            return url, headers
        original = urlsplit(url)
        base = urlsplit(self.base_url)
        headers = dict(headers or {})
        headers["X-Forwarded-Host"] = original.netloc
        return urlunsplit((base.scheme, base.netloc, base.path + original.path, original.query, original.fragment)), headers

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        target, headers = self.rewrite(url, headers)
        idempotent = is_idempotent(method, url)
        host = urlsplit(url).netloc
        path = urlsplit(url).path
        attempt = 0
        parent = super(RetryingHttpClient, self)
        while True:
            try:
                response = parent.request(
                    method, target, params=params, data=data, headers=headers, auth=auth, timeout=timeout, allow_redirects=allow_redirects
                )
            except requests_exceptions.RequestException as exc:
                self.calls.append((method.upper(), host, path, None))
                if isinstance(exc, requests_exceptions.SSLError):
                    raise TwilioCallError(
                        "TLS check of %s failed: %s. Give a CA bundle with ca_bundle" % (urlsplit(target).netloc, exc),
                        method=method.upper(),
                        url=url,
                    )
                if self.retry.may_retry(attempt, None, idempotent):
                    self.retry.wait(attempt)
                    attempt += 1
                    continue
                cls = TwilioCallError if idempotent else TwilioAmbiguousWrite
                raise cls("Twilio %s %s: no reply (%s)" % (method.upper(), path, exc), method=method.upper(), url=url)
            self.calls.append((method.upper(), host, path, response.status_code))
            if self.retry.may_retry(attempt, response.status_code, idempotent):  # only a 429 or a 5xx
                self.retry.wait(attempt, _header(response.headers, "Retry-After"))
                attempt += 1
                continue
            return response


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def build_client(
    account_sid=None,
    auth_token=None,
    api_key=None,
    api_secret=None,
    region=DEFAULT_REGION,
    api_base_url=None,
    ca_bundle=None,
    timeout=30,
    retry=None,
):
    """Return a ``twilio.rest.Client`` for one account in one region.

    Authenticate with account_sid + auth_token, or api_key + api_secret (the key's account
    being account_sid).  Raises ValueError with a message naming the options on bad input.
    """
    if not HAS_TWILIO:
        raise RuntimeError("the Python library 'twilio' is required")
    if region not in REGION_EDGES:
        raise ValueError("region must be one of %s, got %r" % (", ".join(REGIONS), region))
    if not account_sid:
        raise ValueError("account_sid is required (or set TWILIO_ACCOUNT_SID)")
    given = dict(account_sid=account_sid, auth_token=auth_token, api_key=api_key, api_secret=api_secret)
    problems = Problems()  # the modules' own input check, for direct callers
    check_credentials(given, str, problems)
    problems.raise_any()
    if api_key:
        username, password = api_key, api_secret
    else:
        username, password = account_sid, auth_token
    http_client = RetryingHttpClient(base_url=api_base_url, ca_bundle=ca_bundle, timeout=timeout, retry=retry)
    # environment must be non-empty: the SDK replaces an empty mapping by os.environ, and
    # TWILIO_EDGE / TWILIO_REGION there must not override what the user configured.
    return Client(
        username=username,
        password=password,
        account_sid=account_sid,
        region=region,
        edge=REGION_EDGES[region],
        http_client=http_client,
        environment={"VOIP_THREECX_TWILIO": "1"},
    )


# What a 401 from Twilio means in practice (HTTP 401, code 20003): said with the options to check.
AUTH_HINT = (
    "Twilio refused the credentials: check account_sid and auth_token, or api_key and api_secret (an API key belongs to one "
    "account and one region: it must be a key of this account_sid, made in the region the module is set to)"
)


def describe_error(exc):
    """Turn any Twilio SDK or transport exception into a TwilioCallError (a 401 carries AUTH_HINT)."""
    described = _describe(exc)
    if described.status == 401 and AUTH_HINT not in described.message:
        described = described.reworded("%s. %s" % (described.message, AUTH_HINT))
    return described


def _describe(exc):
    if isinstance(exc, TwilioCallError):
        return exc
    if HAS_TWILIO and isinstance(exc, TwilioRestException):
        message = "Twilio %s %s failed with HTTP %s: %s" % (exc.method, urlsplit(exc.uri or "").path, exc.status, exc.msg)
        if exc.code:
            message += " (code %s)" % exc.code
        more_info = "https://www.twilio.com/docs/errors/%s" % exc.code if exc.code else None
        return TwilioCallError(message, status=exc.status, code=exc.code, more_info=more_info, method=exc.method, url=exc.uri)
    if HAS_TWILIO and hasattr(exc, "title") and hasattr(exc, "status"):
        # TwilioServiceException: an RFC 9457 problem body.
        message = "Twilio %s %s failed with HTTP %s: %s" % (exc.method, urlsplit(exc.uri or "").path, exc.status, exc.title)
        return TwilioCallError(message, status=exc.status, code=exc.code, method=exc.method, url=exc.uri)
    if HAS_TWILIO and isinstance(exc, TwilioException):
        # list()/stream()/page() raise TwilioException("Unable to fetch page", response).
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        code = message_text = more_info = None
        try:  # no response, an empty or HTML body, JSON that is not an object: no code and no message
            body = json.loads(response.text)
            code, message_text, more_info = body.get("code"), body.get("message"), body.get("more_info")
        except (TypeError, ValueError, AttributeError):
            pass
        message = "Twilio list call failed"
        if status is not None:
            message += " with HTTP %s" % status
        message += ": %s" % (message_text or exc.args[0])
        if code:
            message += " (code %s)" % code
        return TwilioCallError(message, status=status, code=code, more_info=more_info, method="GET")
    return TwilioCallError("Twilio call failed: %s" % (exc,))
