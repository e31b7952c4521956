# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for reading a Twilio account's call log (twilio_call_info).

PRIVATE to this collection: may change without notice.

* :func:`sip_user`: the user part of a ``sip:`` / ``sips:`` URI, because what Twilio writes into a
  call's ``from`` for a SIP Domain call (a bare number or a whole URI) is not documented;
* :func:`parse_timestamp`: an ISO 8601 date-time with a time zone, checked like the other inputs
  (ValueError naming the option);
* :func:`describe_call`: an SDK ``CallInstance`` as the module returns it;
* :func:`fetch_call`: one call by SID, None when Twilio answers 404.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import unquote

from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio import TwilioException, describe_error
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_sip import as_dict

# Twilio's Status filter values (CallInstance.Status).
CALL_STATUSES = ("queued", "ringing", "in-progress", "canceled", "completed", "failed", "busy", "no-answer")

# The fields returned per call, in this order; from_user and to_user follow from_formatted and to_formatted.
CALL_KEYS = (
    "sid",
    "account_sid",
    "parent_call_sid",
    "direction",
    "status",
    "from",
    "from_formatted",
    "to",
    "to_formatted",
    "caller_name",
    "date_created",
    "start_time",
    "end_time",
    "duration",
    "trunk_sid",
)

_ISO_8601 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)$"
)

_NAME_ADDR = re.compile(r"<([^<>]*)>")


def parse_timestamp(option, value):
    """An ISO 8601 date-time with a time zone (``2026-11-26T15:00:00Z``, ``...+01:00``) as an aware UTC datetime.

    Also accepted: a fraction of a second (``ansible_date_time.iso8601_micro``), a space instead of
    ``T`` and ``+0100`` / ``+01`` offsets (the way Python prints a YAML timestamp). A value without a
    time zone is refused: the call log is in UTC and a local time would silently shift the window.
    """
    text = str(value).strip()
    match = _ISO_8601.match(text)
    problem = None
    moment = None
    if match is None:
        problem = "it is not in that form"
    else:
        zone = match.group("zone")
        offset = 0
        if zone not in ("Z", "z"):
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            if hours > 23 or minutes > 59:
                problem = "the time zone offset %s is out of range" % zone
            offset = (-1 if zone[0] == "-" else 1) * (hours * 60 + minutes)
        if problem is None:
            fraction = (match.group("fraction") or "0")[:6].ljust(6, "0")
            try:
                year, month, day = (int(part) for part in match.group("date").split("-"))
                moment = datetime.datetime(
                    year,
                    month,
                    day,
                    int(match.group("hour")),
                    int(match.group("minute")),
                    int(match.group("second") or 0),
                    int(fraction),
                    tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)),
                )
            except ValueError as exc:
                problem = "it is not a valid date and time (%s)" % exc
    if problem is not None:
        raise ValueError(
            "%s must be an ISO 8601 date and time with a time zone, such as 2026-11-26T15:00:00Z or 2026-11-26T16:00:00+01:00 "
            "(the form of ansible_date_time.iso8601); got %r: %s" % (option, value, problem)
        )
    return moment.astimezone(datetime.timezone.utc)


def sip_user(value):
    """The user part of a SIP URI; any other value as it is.

    ``sip:+17735550142@203.0.113.10;transport=udp`` and ``sips:...`` give ``+17735550142`` (also inside
    ``<...>``); user parameters and a password after the user (``;npdi``, ``:secret``) are dropped and
    ``%XX`` escapes decoded. A SIP URI without a user part gives None. A plain number, a client
    identifier or None comes back unchanged.
    """
    if value is None:
        return None
    text = str(value).strip()
    bracketed = _NAME_ADDR.search(text)
    if bracketed:
        text = bracketed.group(1).strip()
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.lower() not in ("sip", "sips"):
        return value
    user, at, _host = rest.partition("@")
    if not at:
        return None
    user = user.split(";", 1)[0].split(":", 1)[0]
    return unquote(user) or None


def describe_call(instance):
    """A call (SDK ``CallInstance`` or dict) as returned: CALL_KEYS with from_user and to_user, dates in RFC 2822."""
    data = as_dict(instance)
    if "from" not in data:
        # "from" is a Python keyword: the SDK keeps it as the private attribute _from, which as_dict skips.
        data["from"] = getattr(instance, "_from", None)
    out = {}
    for key in CALL_KEYS:
        out[key] = data.get(key)
        if key in ("from_formatted", "to_formatted"):
            party = key[: -len("_formatted")]
            out[party + "_user"] = sip_user(out[party])
    return out


def fetch_call(client, sid):
    """``client.calls(sid).fetch()`` (the SDK instance), or None when Twilio answers 404."""
    try:
        return client.calls(sid).fetch()
    except TwilioException as exc:
        if describe_error(exc).status == 404:
            return None
        raise
