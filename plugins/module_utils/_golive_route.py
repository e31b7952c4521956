# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The go-live route trace: which outbound rule 3CX takes for the forwarded call, and why.

PRIVATE to this collection: may change without notice.

A customer's call to the DID reaches the queue or ring group; unanswered, the group forwards it to
the fallback number, and that leg goes out through the FIRST outbound rule, in priority order, that
matches it (shared/reference/3cx-xapi.md §3.6; 3CX's outbound-rules documentation):

* ``Prefix``: the dialled number starts with it; several prefixes are separated by commas
  (documented for the UI, inferred for the API field); an empty prefix matches every number (a
  catch-all);
* ``NumberLengthRanges`` (``"10,11-13"``): the dialled number's length is in one of the ranges;
* ``GroupIds`` (departments): the leg that dials out belongs to one of them;
* ``DNRanges`` (``[{From, To}]``): the leg that dials out has an extension number in one of them.

Two things 3CX does not document, so every plausible reading is traced (:data:`READINGS`), and
the item passes only when every one of them routes to Twilio:

* which department and number the queue's forward-to-external leg carries: the group's own (the
  lab's reading; the reference says "probably the queue's Groups"), or none (a route point with
  no department matched no rule in a live note);
* whether a number's length counts its leading ``+``.

Pure functions on the shapes ``threecx_info`` returns (snake_case keys).
"""

from __future__ import annotations

import re

# id, the leg's department and number ("group": the queue's or ring group's; "none": neither),
# how a length is counted, and how a message says it.
READINGS = (
    ("group_digits", "group", "digits", "the forwarded leg carries the group's department and number, and a length counts digits only"),
    ("group_plus", "group", "characters", "the forwarded leg carries the group's department and number, and a length counts the leading +"),
    ("none_digits", "none", "digits", "the forwarded leg carries no department and no extension number, and a length counts digits only"),
    ("none_plus", "none", "characters", "the forwarded leg carries no department and no extension number, and a length counts the leading +"),
)
# The reading the lab's /_lab/calls flow plays (docs/lab.md): it is the one a detail describes first.
LAB_READING = "group_digits"

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def prefixes(rule):
    """The rule's prefixes; [] for an empty prefix (a catch-all)."""
    return [p.strip() for p in str(rule.get("prefix") or "").split(",") if p.strip()]


def is_catch_all(rule):
    return not prefixes(rule)


def number_length(number, counting):
    text = str(number or "")
    return len(re.sub(r"\D", "", text)) if counting == "digits" else len(text)


def length_ranges(text):
    """``"10,11-13"`` -> [(10, 10), (11, 13)]; None when a part cannot be read (the rule cannot be judged)."""
    ranges = []
    for part in str(text or "").replace(" ", "").split(","):
        if not part:
            continue
        match = _RANGE.match(part)
        if not match:
            return None
        low = int(match.group(1))
        ranges.append((low, int(match.group(2) or low)))
    return ranges


def _in_dn_ranges(number, ranges):
    if not str(number or "").isdigit():
        return False
    for item in ranges:
        low, high = str((item or {}).get("from") or ""), str((item or {}).get("to") or "")
        if low.isdigit() and high.isdigit() and int(low) <= int(number) <= int(high):
            return True
    return False


def _names(rule):
    names = rule.get("group_names") or []
    return ", ".join(str(n) for n in names) if names else "ids " + ", ".join(str(i) for i in rule.get("group_ids") or [])


def leg(group, reading):
    """The leg that dials out under a reading: its department ids and names, and its extension number (None: none)."""
    if reading == "none":
        return {"department_ids": [], "department_names": [], "number": None}
    known = group.get("department_ids") is not None
    return {
        "department_ids": list(group.get("department_ids") or []) if known else None,  # None: not read
        "department_names": list(group.get("department_names") or []),
        "number": str(group.get("number") or "") or None,
    }


def mismatch(rule, number, leg_info, counting):
    """Why the rule does not match the dialled number for this leg ('' when it matches); ``kind`` first.

    Returns ``(kind, text)``: kind is '' (matches), 'prefix', 'length', 'department', 'extension', or
    'unknown' when the rule cannot be read (never taken as "does not match": that could be a false ok).
    """
    wanted = prefixes(rule)
    if wanted and not any(str(number).startswith(p) for p in wanted):
        return "prefix", "its prefix %s does not start %s" % (rule.get("prefix"), number)
    lengths = str(rule.get("number_length_ranges") or "").strip()
    if lengths:
        ranges = length_ranges(lengths)
        size = number_length(number, counting)
        if ranges is None:
            return "unknown", "its number lengths %r cannot be read, so whether 3CX takes it cannot be told" % lengths
        if not any(low <= size <= high for low, high in ranges):
            return "length", "it is limited to numbers of length %s, and %s has %d %s" % (
                lengths,
                number,
                size,
                "digits" if counting == "digits" else "characters (a + counted)",
            )
    groups = list(rule.get("group_ids") or [])
    if groups and leg_info["department_ids"] is None:
        return "unknown", "it is limited to department %s, and the group's departments were not read (no Groups before 3CX 20.0.8)" % _names(rule)
    if groups:
        have = set(leg_info["department_ids"])
        if not have & set(groups):
            return "department", "it is limited to department %s, and the forwarded leg carries %s" % (
                _names(rule),
                ("department " + ", ".join(str(n) for n in leg_info["department_names"] or leg_info["department_ids"]))
                if have
                else "no department",
            )
    ranges = rule.get("dn_ranges") or []
    if ranges and not (leg_info["number"] and _in_dn_ranges(leg_info["number"], ranges)):
        return "extension", "it is limited to calls from extensions %s, and the forwarded leg %s" % (
            ", ".join("%s-%s" % (r.get("from"), r.get("to")) for r in ranges),
            "comes from %s" % leg_info["number"] if leg_info["number"] else "has no extension number",
        )
    return "", ""


def ordered(rules):
    """The rules in 3CX's order: by priority (the list order where a rule has none)."""
    rules = [r for r in rules or [] if isinstance(r, dict)]
    return sorted(rules, key=lambda r: (r.get("priority") is None, r.get("priority") or 0)) if rules else []


def first_rule(rules, number, leg_info, counting):
    """The rule 3CX takes, and each rule above it with why it was passed over: ``(rule or {}, [(rule, kind, text)])``."""
    passed = []
    for rule in ordered(rules):
        kind, text = mismatch(rule, number, leg_info, counting)
        if kind == "unknown":
            return dict(rule, _unknown=text), passed
        if not kind:
            return rule, passed
        passed.append((rule, kind, text))
    return {}, passed


def route1(rule):
    return (rule.get("routes") or [{}])[0] if rule else {}


def sends_to_trunk(rule, trunk):
    """'' when route 1 of the rule sends the number unchanged through ``trunk``, else what it does instead."""
    route = route1(rule)
    if not trunk or route.get("trunk_id", -1) != trunk.get("id"):
        return "sends route 1 to %s" % (route.get("trunk_name") or "trunk id %s" % route.get("trunk_id", "none"))
    if int(route.get("strip_digits") or 0) != 0 or route.get("prepend") or route.get("append"):
        return 'strips %s digits, prepends "%s" and appends "%s"' % (route.get("strip_digits") or 0, route.get("prepend") or "", route.get("append") or "")
    return ""


def trace(rules, number, group, trunk):
    """The outbound step of the route under every reading: ``{reading_id: {rule, passed, wrong}}``.

    ``wrong`` is '' when the rule taken sends the number unchanged through the site's trunk.
    """
    out = {}
    for reading_id, leg_reading, counting, _text in READINGS:
        rule, passed = first_rule(rules, number, leg(group, leg_reading), counting)
        out[reading_id] = {
            "rule": rule,
            "passed": passed,
            "wrong": rule.get("_unknown") or (sends_to_trunk(rule, trunk) if rule else "no outbound rule matches"),
        }
    return out


def reading_text(reading_id):
    return dict((r[0], r[3]) for r in READINGS)[reading_id]
