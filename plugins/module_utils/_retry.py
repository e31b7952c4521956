# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retry policy shared by the Twilio and 3CX clients.

PRIVATE to this collection: may change without notice.

Both vendors throttle with HTTP 429 and have transient 5xx replies.  The rules here decide
*whether* a failed attempt may be sent again and *how long* to wait:

* 429 means the request was never processed, so any request may be retried.
* 5xx and dropped connections leave a write's outcome unknown.  Only requests that are
  idempotent (reads, PATCH/PUT/DELETE, and Twilio's POST to an existing SID) are retried;
  a create is not, because a second POST could make a duplicate.  The resource engine
  turns an unknown create outcome into a re-read by natural key instead.
"""

from __future__ import annotations

import email.utils
import random
import time

RETRYABLE_STATUSES = frozenset((429, 500, 502, 503, 504))
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"))


class AmbiguousWrite(Exception):
    """Mixin for vendor errors meaning: a write was sent, its reply was lost.

    The write may or may not have been applied.  The resource engine reacts by reading the
    object again by its natural key instead of sending the write a second time.  A class that
    mixes it in has ``method`` and takes ``(message, method=...)``: the engine raises it again
    with what it learned while reading back.
    """


class RetryPolicy:
    """Bounded exponential backoff with jitter that honours Retry-After."""

    def __init__(self, max_retries=3, backoff=0.5, max_delay=30.0, sleep=time.sleep, rng=None):
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self._rng = rng or random.Random()

    def may_retry(self, attempt, status=None, idempotent=True):
        """Return True when attempt number ``attempt`` (0-based) may be followed by another.

        ``status`` is the HTTP status, or None for a connection that failed without a reply.
        """
        if attempt >= self.max_retries:
            return False
        if status == 429:
            return True
        if status is None or status in RETRYABLE_STATUSES:
            return idempotent
        return False

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before retry number ``attempt + 1``."""
        server_delay = parse_retry_after(retry_after)
        if server_delay is not None:
            return min(server_delay, self.max_delay)
        # Full jitter keeps parallel forks hitting one PBX or account from retrying in step.
        ceiling = min(self.max_delay, self.backoff * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)

    def wait(self, attempt, retry_after=None):
        seconds = self.delay(attempt, retry_after)
        if seconds > 0:
            self.sleep(seconds)
        return seconds


def parse_retry_after(value):
    """Parse a Retry-After header (delta-seconds or HTTP-date) into seconds, or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


# ---------------------------------------------------------------------------- a create whose reply was lost

# How long a module reads a create back, by default, before it stops looking (option settle_timeout).
DEFAULT_SETTLE_SECONDS = 60
_FIRST_PAUSE = 0.5
_LONGEST_PAUSE = 10.0
# The clock settle() reads and waits on (tests put a fake one here).
SETTLE_CLOCK = {"sleep": time.sleep, "now": time.monotonic}


def settle(find, seconds, sleep=None, clock=None):
    """``find()`` until it returns the object or ``seconds`` have passed: ``(object or None, seconds waited)``.

    A create whose reply was lost (or timed out) may still land: a vendor can finish it after
    the client gave up. Polling with backoff (0.5 s, 1 s, 2 s ... at most 10 s) for a bounded
    time lets the module adopt it instead of reporting a failure that is not one.
    """
    sleep = sleep or SETTLE_CLOCK["sleep"]
    clock = clock or SETTLE_CLOCK["now"]
    start = clock()
    pause = _FIRST_PAUSE
    while True:
        found = find()
        waited = clock() - start
        if found is not None or waited >= seconds:
            return found, waited
        sleep(min(pause, _LONGEST_PAUSE, seconds - waited))
        pause *= 2


def not_seen_message(label, cause, waited):
    """What a module knows when a lost create was not seen again: never that nothing was made."""
    return (
        "%s: the reply to the create was lost (%s), and %s was not seen in %d s of reading it back. It may still appear: do not make "
        "it by hand; the next run finds it by its natural key and adopts it, or makes it if the create never landed (settle_timeout "
        "sets how long to read back)" % (label, cause, label, round(waited))
    )


def conflicting_create(exc):
    """Whether ``exc`` says the object a create was making already exists (HTTP 409): another run made it."""
    return getattr(exc, "status", None) == 409
