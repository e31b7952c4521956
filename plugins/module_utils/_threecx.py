# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Client for the 3CX v20 Configuration API (XAPI), an OData v4 service.

PRIVATE to this collection: may change without notice.

What it owns, so that modules do not have to:

* OAuth2 client credentials at ``/connect/token`` and a bearer token shared by every
  module run against the same PBX and client id (3CX keeps only one active token per
  client id, so parallel forks that each fetched their own would revoke each other's).
* One retry policy (429 and 5xx, bounded, Retry-After honoured).
* OData quoting, query options and paging; OData error bodies turned into one message.
* Version detection, because key syntax changed in 20.0.8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import traceback
from urllib.parse import parse_qsl, urlsplit

try:
    import fcntl
except ImportError:  # pragma: no cover - the controller is POSIX; degrade to no locking
    fcntl = None

try:
    from requests import exceptions as requests_exceptions

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import test
    requests_exceptions = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.voip.threecx_twilio.plugins.module_utils._http import PinnedVerifySession
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import (
    IDEMPOTENT_METHODS,
    AmbiguousWrite,
    RetryPolicy,
)

XAPI_PREFIX = "/xapi/v1"
TOKEN_PATH = "/connect/token"
# Number alternate keys (/Queues(Number='800')) replaced the GetByNumber functions here.
NUMBER_KEYS_SINCE = (20, 0, 8)
SYSTEM_PARAMETERS_PATH = "/Defs/Pbx.GetSystemParameters()"
# Refresh a cached token this many seconds before it expires, so that a request never
# leaves with a token that dies in flight.
TOKEN_EXPIRY_MARGIN = 30
_VERIFIER_ITERATIONS = 20000
# How long, in seconds of waiting, one module run backs off while another process holds the API
# client's one active token (a fresh token refused, or /connect/token refusing with 403) before it
# fails saying so.
TOKEN_CONTENTION_SECONDS = 60
# THREECX_TOKEN_CACHE_DIR is read by the token_cache_dir option (its env fallback), not here.


class ThreeCXError(Exception):
    """An XAPI call failed.  ``str()`` is a complete, secret-free message."""

    def __init__(self, message, status=None, code=None, method=None, path=None, details=None):
        super(ThreeCXError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.details = details or []

    def to_result(self):
        """Structured fields for fail_json (never holds credentials)."""
        return {
            "status": self.status,
            "code": self.code,
            "method": self.method,
            "path": self.path,
            "details": self.details,
        }


class ThreeCXAmbiguousWrite(ThreeCXError, AmbiguousWrite):
    """A write was sent but no reply came back: it may or may not have been applied."""


# --------------------------------------------------------------------------- OData helpers


def odata_literal(value):
    """Render a Python value as an OData literal (strings quoted, ' doubled)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def odata_eq(field, value):
    return "%s eq %s" % (field, odata_literal(value))


def odata_query(filter=None, select=None, expand=None, orderby=None, top=None, skip=None, count=None):
    """Build the OData system query options as a dict for requests' ``params``."""
    params = {}
    if filter:
        params["$filter"] = filter
    if select:
        params["$select"] = ",".join(select) if not isinstance(select, str) else select
    if expand:
        params["$expand"] = ",".join(expand) if not isinstance(expand, str) else expand
    if orderby:
        params["$orderby"] = orderby
    if top is not None:
        params["$top"] = str(int(top))
    if skip is not None:
        params["$skip"] = str(int(skip))
    if count is not None:
        params["$count"] = "true" if count else "false"
    return params


def number_key_path(collection, number):
    """``/Queues(Number='800')``: the Number alternate key of 20.0.8 and later."""
    return "/%s(Number=%s)" % (collection, odata_literal(str(number)))


def parse_version(text):
    """'20.0.8.1121' -> (20, 0, 8, 1121); tolerant of suffixes like '20.0.9 (build x)' (all after the first space)."""
    parts = []
    for piece in str(text).lstrip().partition(" ")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    if len(parts) < 3:
        raise ValueError("unrecognised 3CX version %r" % (text,))
    return tuple(parts)


def error_message(status, body, method, path):
    """One readable line from an OData error body, an OAuth error body or plain text."""
    head = "3CX XAPI %s %s failed with HTTP %s" % (method, path, status)
    code = None
    details = []
    text = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = err.get("code") or None
            text = err.get("message")
            for item in err.get("details") or []:
                if isinstance(item, dict) and item.get("message"):
                    target = item.get("target")
                    details.append(("%s: %s" % (target, item["message"])) if target else item["message"])
        elif isinstance(err, str):
            # OAuth token endpoint: {"error": "...", "error_description": "..."}
            code = err
            text = body.get("error_description") or err
    elif isinstance(body, str) and body.strip():
        text = body.strip()[:500]
    message = head
    if text:
        message += ": " + text
    if code and code not in (text, str(status)):
        message += " [%s]" % code
    if details:
        message += " (" + "; ".join(details) + ")"
    return message, code, details


# --------------------------------------------------------------------------- token cache


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "voip.threecx_twilio", "xapi-tokens")


def contention_message(client_id, waited, what, status_text):
    """What a run says when it could not keep a token of ``client_id``: another process first, credentials last."""
    return (
        "%s for API client %r, and %d s of backing off did not help (%s). Another process is using the same API client: 3CX keeps "
        "one active token per client ID, so each new token revokes the one before, and runs that do not share a token cache (two "
        "controllers, or AWX jobs in their own containers) revoke each other's tokens until the PBX refuses token requests for a "
        "while. Give each controller its own API client, or let them share one token cache (token_cache_dir, or "
        "THREECX_TOKEN_CACHE_DIR, on a shared volume), and run again after the PBX's cool-down. Only if no other process uses "
        "this API client: check client_id and client_secret (Admin Console > Integrations > API)" % (what, client_id, round(waited), status_text)
    )


class TokenCache:
    """Bearer tokens on disk, one 0600 file per (PBX URL, client id).

    The file never holds the client secret.  It holds a salted PBKDF2 verifier of it, so a
    token fetched with one secret is never handed to a caller presenting another (a
    rotated or mistyped secret must fail, not ride on an old token).
    """

    def __init__(self, directory=None, clock=time.time):
        self.directory = directory or default_cache_dir()
        self.clock = clock

    def _path(self, url, client_id):
        key = hashlib.sha256(("%s\0%s" % (url.rstrip("/"), client_id)).encode("utf-8")).hexdigest()[:32]
        return os.path.join(self.directory, key + ".json")

    @staticmethod
    def _verifier(secret, salt):
        return hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), bytes.fromhex(salt), _VERIFIER_ITERATIONS).hex()

    def load(self, url, client_id, secret):
        """Return a still-valid access token or None."""
        try:
            with open(self._path(url, client_id)) as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            return None
        try:
            expected = self._verifier(secret, entry["salt"])
            if not hmac.compare_digest(expected, entry["verifier"]):
                return None
            if float(entry["expires_at"]) - TOKEN_EXPIRY_MARGIN <= self.clock():
                return None
            return entry["access_token"]
        except (KeyError, TypeError, ValueError):
            return None

    def store(self, url, client_id, secret, token, expires_in_seconds):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        salt = os.urandom(16).hex()
        entry = {
            "url": url.rstrip("/"),
            "client_id": client_id,
            "access_token": token,
            "expires_at": self.clock() + float(expires_in_seconds),
            "salt": salt,
            "verifier": self._verifier(secret, salt),
        }
        path = self._path(url, client_id)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle)
        os.replace(tmp, path)

    def forget(self, url, client_id, token=None):
        """Drop the cached token (only if it is still ``token``, when given)."""
        path = self._path(url, client_id)
        try:
            if token is not None:
                with open(path) as handle:
                    if json.load(handle).get("access_token") != token:
                        return
            os.unlink(path)
        except (OSError, ValueError):
            pass

    def lock(self, url, client_id):
        return _FileLock(self._path(url, client_id) + ".lock", self.directory)


class _FileLock:
    """Serialise token fetches across forks on one controller."""

    def __init__(self, path, directory):
        self.path = path
        self.directory = directory
        self.fd = None  # the lock file, held open while locked; nothing is read or written through it

    def __enter__(self):
        if fcntl is not None:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
        return False


# --------------------------------------------------------------------------- the client


class ThreeCXClient:
    """A session against one PBX.  Every request goes through :meth:`request`."""

    def __init__(
        self,
        url,
        client_id,
        client_secret,
        validate_certs=True,
        ca_path=None,
        timeout=30,
        retry=None,
        token_cache=None,
        session=None,
    ):
        if not HAS_REQUESTS:
            raise RuntimeError("the Python library 'requests' is required")
        self.url = url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.token_cache = token_cache
        # ca_path wins over validate_certs=True; validate_certs=False turns checks off.  Either
        # choice is pinned: REQUESTS_CA_BUNDLE in the environment must not override it.
        verify = (ca_path or None) if validate_certs else False
        self.session = session or PinnedVerifySession(verify)
        if session is not None and verify is not None:
            self.session.verify = verify
        self._token = None
        # Whether self._token was fetched by this client (not read from the cache): refused
        # moments later, it was revoked by another process's newer token.
        self._token_fresh = False
        self.contention_seconds = TOKEN_CONTENTION_SECONDS
        self._contention_waited = 0.0
        self._contention_attempt = 0
        self._version = None
        self._system = None
        # (method, path, status) of every attempt: for debugging and for tests that count calls.
        self.calls = []

    def __repr__(self):  # never show the secret, even by accident in a traceback
        return "ThreeCXClient(url=%r, client_id=%r)" % (self.url, self.client_id)

    # ---- authentication

    def _fetch_token(self):
        data = {"client_id": self.client_id, "client_secret": self._secret, "grant_type": "client_credentials"}
        while True:
            status, body, headers = self._send("POST", self.url + TOKEN_PATH, TOKEN_PATH, data=data, idempotent=True, auth=False)
            if status != 403:
                break
            # 3CX refuses token requests for a while after a burst (seen as 403; its cause and length are
            # UNCONFIRMED). A burst is what runs fighting over one API client make, so it is waited out
            # with jitter for a bounded time, and then said first; a wrong secret is said last.
            message, code, details = error_message(status, body, "POST", TOKEN_PATH)
            if not self._contention_wait(headers.get("Retry-After")):
                raise ThreeCXError(
                    contention_message(self.client_id, self._contention_waited, "3CX refused new tokens", message),
                    status=status,
                    code=code,
                    method="POST",
                    path=TOKEN_PATH,
                    details=details,
                )
        if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            message, code, details = error_message(status, body, "POST", TOKEN_PATH)
            if status in (400, 401):
                message += ". Check client_id and client_secret (Admin Console > Integrations > API)"
            raise ThreeCXError(message, status=status, code=code, method="POST", path=TOKEN_PATH, details=details)
        # expires_in is minutes before 20.0.9 and seconds from 20.0.9.  The version is not
        # known before the first token, so trust the shorter reading (seconds): at worst we
        # fetch a new token early, never use a dead one.
        try:
            lifetime = float(body.get("expires_in") or 60)
        except (TypeError, ValueError):
            lifetime = 60.0
        token = body["access_token"]
        if self.token_cache is not None:
            self.token_cache.store(self.url, self.client_id, self._secret, token, lifetime)
        self._token_fresh = True
        return token

    def _contention_wait(self, retry_after=None):
        """Back off (jitter, Retry-After honoured) within this run's bound; False once the bound is spent."""
        left = self.contention_seconds - self._contention_waited
        if left <= 0:
            return False
        seconds = min(self.retry.delay(self._contention_attempt, retry_after), left)
        self._contention_attempt += 1
        if seconds > 0:
            self.retry.sleep(seconds)
        self._contention_waited += seconds
        return True

    def _ensure_token(self, stale=None):
        """Return a bearer token; ``stale`` is one the server just refused."""
        if self._token is not None and self._token != stale:
            return self._token
        self._token_fresh = False
        if self.token_cache is None:
            self._token = self._fetch_token()
            return self._token
        with self.token_cache.lock(self.url, self.client_id):
            if stale is not None:
                self.token_cache.forget(self.url, self.client_id, stale)
            cached = self.token_cache.load(self.url, self.client_id, self._secret)
            if cached is not None and cached != stale:
                self._token = cached
            else:
                self._token = self._fetch_token()
        return self._token

    # ---- transport

    def _send(self, method, full_url, path, params=None, json_body=None, data=None, idempotent=None, auth=True, token=None):
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + token
        attempt = 0
        while True:
            try:
                response = self.session.request(method, full_url, params=params, json=json_body, data=data, headers=headers, timeout=self.timeout)
            except requests_exceptions.RequestException as exc:
                self.calls.append((method, path, None))
                sent = not isinstance(exc, (requests_exceptions.ConnectTimeout, requests_exceptions.SSLError)) and not _refused(exc)
                if isinstance(exc, requests_exceptions.SSLError):
                    raise ThreeCXError(
                        "TLS check of %s failed: %s. Give the PBX's CA with ca_path, or (not recommended) validate_certs=false"
                        % (self.url, _short(exc)),
                        method=method,
                        path=path,
                    )
                if self.retry.may_retry(attempt, None, idempotent or not sent):
                    self.retry.wait(attempt)
                    attempt += 1
                    continue
                cls = ThreeCXAmbiguousWrite if sent and not idempotent else ThreeCXError
                raise cls("3CX XAPI %s %s: no reply from %s (%s)" % (method, path, self.url, _short(exc)), method=method, path=path)
            self.calls.append((method, path, response.status_code))
            status = response.status_code
            if self.retry.may_retry(attempt, status, idempotent):  # only a 429 or a 5xx
                self.retry.wait(attempt, response.headers.get("Retry-After"))
                attempt += 1
                continue
            return response.status_code, _decode(response), response.headers

    def request(self, method, path, params=None, json=None, idempotent=None):
        """Call the XAPI at ``/xapi/v1`` + ``path``; return the decoded body (None for 204).

        A refused token (401) that came from the cache or an earlier request is replaced at once:
        it may have expired, or a restart revoked it. A token this client fetched moments before,
        refused, was revoked by another process's newer token for the same client ID: the request
        then backs off with jitter (bounded by ``contention_seconds`` per run) before it fetches
        again, and says so when the bound is spent. A refused request was not processed, so
        sending it again is safe for writes too.
        """
        token = self._ensure_token()
        replaced = False
        while True:
            status, body, _headers = self._send(
                method, self.url + XAPI_PREFIX + path, path, params=params, json_body=json, idempotent=idempotent, token=token
            )
            if status != 401:
                break
            if not (self._token_fresh or replaced):
                replaced = True
            elif not self._contention_wait():
                message = error_message(status, body, method, path)[0]
                what = "3CX XAPI %s %s: the PBX kept refusing tokens it had just issued" % (method, path)
                raise ThreeCXError(
                    contention_message(self.client_id, self._contention_waited, what, message),
                    status=status,
                    method=method,
                    path=path,
                )
            token = self._ensure_token(stale=token)
        if status >= 400:
            message, code, details = error_message(status, body, method, path)
            raise ThreeCXError(message, status=status, code=code, method=method, path=path, details=details)
        return body

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def patch(self, path, body):
        return self.request("PATCH", path, json=body)

    def post(self, path, body, idempotent=False):
        return self.request("POST", path, json=body, idempotent=idempotent)

    def delete(self, path):
        return self.request("DELETE", path)

    def get_or_none(self, path, params=None):
        """GET that returns None on 404 (for lookups by key)."""
        try:
            return self.get(path, params=params)
        except ThreeCXError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, path, filter=None, select=None, expand=None, orderby=None, page_size=None):
        """All entities of a collection, following @odata.nextLink or paging with $skip.

        Whether 3CX emits @odata.nextLink, and whether it cuts a list at a page limit of its own, is
        UNCONFIRMED. So every list asks for ``$count=true``: a page that ends short of the count
        without a nextLink is followed by a ``$skip`` read of the rest (a PBX that pages silently
        never makes an object look absent), and a list that fits in one page costs one read.
        """
        params = odata_query(filter=filter, select=select, expand=expand, orderby=orderby, top=page_size, count=True)
        items = []
        while True:
            body = self.get(path, params=params) or {}
            page = body.get("value") or []
            items.extend(page)
            next_link = body.get("@odata.nextLink")
            if next_link:
                path, params = _split_next_link(next_link)
                continue
            total = body.get("@odata.count")
            if page and isinstance(total, int) and not isinstance(total, bool) and len(items) < total:
                params = dict(params, **{"$skip": str(len(items))})
                continue
            # Without nextLink or count, a full page may mean more: ask for the next one.
            if page_size and len(page) == page_size:
                params = dict(params, **{"$skip": str(int(params.get("$skip", 0)) + page_size)})
                continue
            return items

    # ---- version

    def system_parameters(self):
        """GetSystemParameters() (Version, FQDN, ...), read once per client."""
        if self._system is None:
            self._system = self.get(SYSTEM_PARAMETERS_PATH) or {}
        return self._system

    @property
    def version(self):
        """The PBX version as a tuple (from system_parameters)."""
        if self._version is None:
            self._version = parse_version(self.system_parameters().get("Version"))
        return self._version

    def by_number_path(self, collection, number):
        """Path of one Queue/RingGroup/Trunk by Number, in the syntax this PBX understands."""
        if self.version >= NUMBER_KEYS_SINCE:
            return number_key_path(collection, number)
        function = "Pbx.GetTrunkByNumber" if collection == "Trunks" else "Pbx.GetByNumber"
        return "/%s/%s(number=%s)" % (collection, function, odata_literal(str(number)))

    def get_by_number(self, collection, number, params=None):
        """One Queue/RingGroup/Trunk by Number, or None when the PBX has no such number.

        The Number key of 20.0.8 and later is tried first, so a current PBX answers in one
        read.  Only when it finds nothing (404) or is refused (400: not a key before 20.0.8) is
        the version read, to tell "no such number" from "an older PBX", which is then asked
        through its GetByNumber function.
        """
        if self._version is None or self._version >= NUMBER_KEYS_SINCE:
            try:
                found = self.get_or_none(number_key_path(collection, number), params=params)
            except ThreeCXError as exc:
                if exc.status != 400 or self.version >= NUMBER_KEYS_SINCE:
                    raise  # a current PBX refusing its own key is an error, not "absent"
                found = None
            if found is not None or self.version >= NUMBER_KEYS_SINCE:
                return found
        return self.get_or_none(self.by_number_path(collection, number), params=params)


def _decode(response):
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _short(exc):
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def _refused(exc):
    """True when the connection was refused, i.e. nothing was sent."""
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text or "Name or service not known" in text


def _split_next_link(link):
    """Turn an absolute or relative @odata.nextLink into (path below /xapi/v1, params)."""
    parts = urlsplit(link)
    path = parts.path
    if XAPI_PREFIX in path:
        path = path.split(XAPI_PREFIX, 1)[1]
    return path, dict(parse_qsl(parts.query, keep_blank_values=True))
