# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Objects that share a natural key: which one a module manages, and which it may delete.

PRIVATE to this collection: may change without notice.

Part of the resource engine (``_engine.py`` decides what to write for the one object; this file
decides which object that is when a vendor holds several with the same key). Twilio does not keep
friendly names unique, so a create that landed after the module gave up on it, followed by a run
that made the object again, leaves two IP access control lists or credential lists of one name.

A module declares its key with :class:`NaturalKey` (what the object is called, the option of the
key, the fields of its id and creation time), and wires in how to count an object's entries and
how to delete one. With ``duplicates: fail`` (the default) the module fails listing each object
with its id, creation time and entries. With ``duplicates: adopt_oldest`` it manages the oldest
and deletes the newer duplicates that hold no entries: the collection keeps no change journal of
its own and the vendors offer none for these objects, so "this run's kind made it and nobody uses
it" can be proven only by its holding nothing. A newer duplicate that holds entries, or a tie on
the creation time, fails before any delete.
"""

from __future__ import annotations

import email.utils

DUPLICATE_POLICIES = ("fail", "adopt_oldest")

# The documented option of every module that declares a NaturalKey.
DUPLICATES_OPTION = dict(type="str", default="fail", choices=list(DUPLICATE_POLICIES))


def _created(text):
    """A vendor's creation time (RFC 2822, as Twilio writes it) as a sortable number, or None."""
    try:
        return email.utils.parsedate_to_datetime(str(text)).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class NaturalKey:
    """How a module tells apart the objects that share its natural key."""

    def __init__(self, kind, option, ident="sid", created="date_created", entry="entry"):
        self.kind = kind  # "credential list"
        self.option = option  # the option holding the key, named in messages
        self.ident = ident
        self.created = created
        self.entry = entry  # what an object holds, singular ("credential")

    def _describe(self, item, count=None):
        text = "%s (created %s" % (item.get(self.ident), item.get(self.created) or "at an unknown time")
        if count is not None:
            text += ", %s" % ("empty" if count == 0 else "%d %s%s" % (count, self.entry, "" if count == 1 else "s"))
        return text + ")"

    def one(self, found, policy, count, delete, key, check_mode=False):
        """The object to manage among ``found`` (all of them share ``key``) and the ids of duplicates deleted.

        ``count(item)`` is how many entries an object holds; ``delete(item)`` deletes one (never
        called in check mode, where the ids are the prediction). Raises ValueError, before any
        delete, when the duplicates cannot be resolved under ``policy``.
        """
        if len(found) < 2:
            return (found[0] if found else None), []
        ordered = sorted(found, key=lambda item: (_created(item.get(self.created)) is None, _created(item.get(self.created)) or 0, str(item.get(self.ident))))
        counts = dict((id(item), count(item)) for item in ordered)
        listing = ", ".join(self._describe(item, counts[id(item)]) for item in ordered)
        head = "%s: %d %ss are named %r: %s" % (self.option, len(found), self.kind, key, listing)
        if policy != "adopt_oldest":
            raise ValueError(
                "%s. Ansible cannot tell which one is meant: delete or rename all but one, or set duplicates: adopt_oldest to keep the oldest "
                "and delete the newer ones that hold nothing" % head
            )
        oldest, newer = ordered[0], ordered[1:]
        times = [_created(item.get(self.created)) for item in ordered]
        if None in times or times[0] in times[1:]:
            raise ValueError(
                "%s. duplicates: adopt_oldest cannot tell which one is the oldest (same or unknown creation time); delete or rename all but one" % head
            )
        used = [item for item in newer if counts[id(item)]]
        if used:
            raise ValueError(
                "%s. duplicates: adopt_oldest keeps %s and deletes only newer duplicates that hold nothing; %s hold%s entries and may be in use: "
                "move or delete them by hand" % (head, oldest.get(self.ident), ", ".join(str(i.get(self.ident)) for i in used), "s" if len(used) == 1 else "")
            )
        for item in newer:
            if not check_mode:
                delete(item)
        return oldest, [str(item.get(self.ident)) for item in newer]

    @staticmethod
    def fold(result, deleted):
        """``result`` with the duplicates ``one()`` deleted: changed, said in the message, listed, and in the diff."""
        if not deleted:
            return result
        result = dict(result, changed=True)
        result["msg"] = "%s; newer empty duplicate%s deleted: %s" % (result["msg"], "" if len(deleted) == 1 else "s", ", ".join(deleted))
        result["duplicates_deleted"] = list(deleted)
        if "diff" in result:
            result["diff"] = {
                "before": dict(result["diff"]["before"], duplicates=list(deleted)),
                "after": dict(result["diff"]["after"], duplicates=[]),
            }
        return result
