# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Agents on Do Not Disturb for a round-trip test call, and their presence put back (threecx_agent_presence).

PRIVATE to this collection: may change without notice.

What the XAPI offers is a user's presence profile (``Pbx.User.CurrentProfileName``, written with
``PATCH /Users({Id})``). That an admin's PATCH sets it, and that the profile the v20 client shows as
Do Not Disturb keeps an agent from being rung, are both UNCONFIRMED (3cx-xapi.md has no source on
presence; docs/lab.md, variants ``dnd`` and ``presence_write``). So every write is read back, and the
round-trip item says which reading it relied on when the call is answered anyway.

The previous presence is recorded in a journal (a JSON file on the host that runs the module)
*before* the first write, so that a play that fails or is interrupted between "DND on" and "put
back" is put back by the next run: a new "DND on" keeps what the journal recorded first (never the
DND it set itself), and "put back" works from the journal alone. Only an extension still on the
profile this module set is put back: one an agent changed meanwhile is theirs, and is left.
"""

from __future__ import annotations

import json
import os
import tempfile

JOURNAL_FORMAT = 1
PRESENCE_FIELDS = ("Id", "Number", "CurrentProfileName")
# Where the round trip records the previous presence unless told (the role passes a path per site).
DEFAULT_JOURNAL_DIR = os.path.join("~", ".ansible", "voip_threecx_twilio", "presence")


class JournalError(ValueError):
    """A journal that cannot be read or belongs to another PBX: nothing is written."""


class Journal:
    """The previous presence of the extensions this module changed, as a file.

    ``{"format": 1, "url": <PBX>, "profile": <set>, "extensions": {"100": {"id": 5, "previous": "Available"}}}``
    """

    def __init__(self, path, url):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.url = url.rstrip("/")

    def exists(self):
        return os.path.exists(self.path)

    def load(self):
        """The recorded extensions (number -> entry) and the profile set, or ({}, None) without a journal."""
        if not self.exists():
            return {}, None
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise JournalError(
                "journal: %s cannot be read (%s); it records the presence to put back: repair it or, if the agents' presence "
                "is as it should be, delete it" % (self.path, exc)
            ) from None
        entries = data.get("extensions") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT or not isinstance(entries, dict):
            raise JournalError("journal: %s is not a presence journal of this collection (format %s)" % (self.path, JOURNAL_FORMAT))
        if str(data.get("url", "")).rstrip("/") != self.url:
            raise JournalError(
                "journal: %s records the presence of another PBX (%s, not %s); give each site its own journal"
                % (self.path, data.get("url"), self.url)
            )
        for number, entry in entries.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or not isinstance(entry.get("previous"), str):
                raise JournalError("journal: %s has a bad entry for extension %s" % (self.path, number))
        return entries, data.get("profile")

    def save(self, entries, profile):
        """Write the journal whole, or not at all (a temporary file renamed over it), readable by its owner only."""
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        body = {"format": JOURNAL_FORMAT, "url": self.url, "profile": profile, "extensions": entries}
        fd, tmp = tempfile.mkstemp(prefix=".presence-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def remove(self):
        if self.exists():
            os.unlink(self.path)


def by_number(users):
    return dict((str(u.get("Number")), u) for u in users if isinstance(u, dict) and u.get("Number") is not None)


def plan_dnd(members, users, profile, recorded):
    """What putting ``members`` on ``profile`` takes.

    Returns (to_set, journal): ``to_set`` the users whose profile differs, ``journal`` the entries to
    record, the ones already recorded kept as they are (a re-run after an interruption must not record
    the DND it set as the "previous" presence). ValueError when a member is not a user of the PBX.
    """
    users = by_number(users)
    missing = [m for m in members if m not in users]
    if missing:
        raise ValueError(
            "the group's member(s) %s are not extensions of the PBX (read from /Users): correct the group's members" % ", ".join(missing)
        )
    unknown = [m for m in members if not users[m].get("CurrentProfileName")]
    if unknown:
        raise ValueError(
            "extension(s) %s show no presence profile (CurrentProfileName): there would be nothing to put back; "
            "the PBX does not show presence through the XAPI, so put the agents on Do Not Disturb by hand" % ", ".join(unknown)
        )
    to_set = [users[m] for m in members if users[m].get("CurrentProfileName") != profile]
    journal = dict(recorded)
    for user in to_set:
        journal.setdefault(str(user["Number"]), {"id": user["Id"], "previous": user.get("CurrentProfileName")})
    return to_set, journal


def plan_restore(entries, users, profile):
    """What putting the journal's presence back takes.

    Returns (to_restore, kept, gone): ``to_restore`` (id, number, previous) of the extensions still on
    ``profile``; ``kept`` (number, now) of those whose presence changed since (an agent's own choice,
    left as it is); ``gone`` the numbers the PBX no longer has.
    """
    users = by_number(users)
    to_restore, kept, gone = [], [], []
    for number in sorted(entries):
        entry = entries[number]
        user = users.get(number)
        if user is None:
            gone.append(number)
            continue
        now = user.get("CurrentProfileName")
        if now == entry.get("previous"):
            continue
        if now == profile:
            to_restore.append((user["Id"], number, entry.get("previous")))
        else:
            kept.append((number, now))
    return to_restore, kept, gone


def not_taken(expected, users):
    """(number, shown) of every extension whose read-back profile is not the one written."""
    users = by_number(users)
    return [(n, (users.get(n) or {}).get("CurrentProfileName")) for n in sorted(expected) if (users.get(n) or {}).get("CurrentProfileName") != expected[n]]


def not_taken_message(what, pairs, profile_of):
    return (
        "the PBX answered the presence write (PATCH /Users({Id}) with CurrentProfileName) but shows %s: %s. Whether an admin's "
        "write sets a user's presence is UNCONFIRMED, and this PBX did not take it; %s"
        % (
            "another profile" if len(pairs) == 1 else "other profiles",
            ", ".join("extension %s is '%s', not '%s'" % (n, shown, profile_of(n)) for n, shown in pairs),
            what,
        )
    )
