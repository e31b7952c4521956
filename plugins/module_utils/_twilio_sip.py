# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers shared by the Twilio SIP modules (domain, IP ACL, credential list, info).

PRIVATE to this collection: may change without notice.

* SDK objects as plain dicts (the engine compares dicts in the API's snake_case names);
* lookups by friendly name among paginated lists, refusing to guess when a name is used twice;
* names-or-SIDs resolved within the same account;
* a child create whose reply was lost, resolved by re-reading the natural key;
* the SIP URIs of a domain for its region and for every edge;
* a domain's mappings read from both the Auth/Calls and the legacy stores (Twilio does not say
  whether they share one store, so both are read and an entry in either counts).
"""

from __future__ import annotations

import datetime
import email.utils
import re

from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import (
    DEFAULT_SETTLE_SECONDS,
    AmbiguousWrite,
    conflicting_create,
    not_seen_message,
    settle,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import region_name
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio import (
    TwilioCallError,
    TwilioException,
    describe_error,
)

# One page holds every object Twilio allows per account or list (1,000 ACLs, 100 credential
# lists, 1,000 users per list), so most lookups are one request; paging still works.
PAGE_SIZE = 1000

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


def is_sid(value, prefix):
    text = str(value)
    return text.startswith(prefix) and bool(_SID.match(text))


def as_dict(instance):
    """An SDK instance (or dict) as a plain dict of its public fields; dates as RFC 2822 text."""
    if instance is None:
        return None
    if isinstance(instance, dict):
        return dict(instance)
    result = {}
    for key, value in vars(instance).items():
        if key.startswith("_"):
            continue
        if isinstance(value, datetime.datetime):
            value = email.utils.format_datetime(value)
        result[key] = value
    return result


def list_all(list_resource, **kwargs):
    """Every item of a (paginated) SDK list, as dicts."""
    return [as_dict(item) for item in list_resource.list(page_size=PAGE_SIZE, **kwargs)]


def list_or_none(list_resource):
    """``list_all`` of a nested list, or None when its parent is gone (404)."""
    try:
        return list_all(list_resource)
    except TwilioException as exc:
        if describe_error(exc).status == 404:
            return None
        raise


def fetch_or_none(context):
    """``context.fetch()`` as a dict, or None when Twilio answers 404."""
    try:
        return as_dict(context.fetch())
    except TwilioException as exc:
        if describe_error(exc).status == 404:
            return None
        raise


def delete_if_present(context):
    """Delete; a 404 (already gone, e.g. a retried delete that had landed) counts as done."""
    try:
        context.delete()
    except TwilioException as exc:
        if describe_error(exc).status != 404:
            raise


def pick_one(items, matches, kind, description, option, hint="delete or rename all but one"):
    """The one item for which ``matches(item)`` holds, None if none; two or more is an error."""
    found = [item for item in items if matches(item)]
    if len(found) > 1:
        raise ValueError(
            "%s: %d %ss are %s (%s), so Ansible cannot tell which one is meant; %s"
            % (option, len(found), kind, description, ", ".join(sorted(str(i.get("sid")) for i in found)), hint)
        )
    return found[0] if found else None


def find_by_friendly_name(items, name, kind, option, hint="delete or rename all but one"):
    """The item whose friendly_name is ``name`` (exact match), None if none, error if several."""
    return pick_one(items, lambda i: i.get("friendly_name") == name, kind, "named %r" % name, option, hint)


def resolve_refs(items, refs, prefix, kind, option, module_hint, account_sid, region, check_mode=False, warn=None):
    """Resolve names or SIDs (``refs``) against ``items`` of the same account.

    Returns a list of ``{"sid", "friendly_name"}`` in the given order without repeats.  An unknown
    SID or name is an error naming ``option``; in check mode an unknown *name* is only a warning
    (an earlier task of the same play may be about to create it) and resolves to ``sid: None``.
    """
    resolved = []
    seen = set()
    for ref in refs:
        ref = str(ref)
        if is_sid(ref, prefix):
            item = next((i for i in items if i.get("sid") == ref), None)
            if item is None:
                raise ValueError(
                    "%s: there is no %s with SID %s in account %s in region %s (SIDs are per account and region)"
                    % (option, kind, ref, account_sid, region_name(region))
                )
        else:
            item = find_by_friendly_name(items, ref, kind, option, "delete or rename all but one, or give the SID instead")
            if item is None:
                if check_mode:
                    if warn is not None:
                        warn(
                            "%s: no %s named %r exists yet in account %s (%s); check mode assumes an earlier task creates it"
                            % (option, kind, ref, account_sid, region_name(region))
                        )
                    item = {"sid": None, "friendly_name": ref}
                else:
                    raise ValueError(
                        "%s: there is no %s named %r in account %s in region %s; create it first (%s) or fix the name"
                        % (option, kind, ref, account_sid, region_name(region), module_hint)
                    )
        key = item.get("sid") or ("name", item.get("friendly_name"))
        if key in seen:
            continue
        seen.add(key)
        resolved.append({"sid": item.get("sid"), "friendly_name": item.get("friendly_name")})
    return resolved


def create_or_find(create, find, label, settle_seconds=DEFAULT_SETTLE_SECONDS):
    """Run ``create()``; when its reply was lost, read back with ``find()`` for ``settle_seconds``
    instead of creating again; when it conflicts (409) with one made meanwhile, adopt that one."""
    try:
        return create()
    except AmbiguousWrite as lost:
        found, waited = settle(find, settle_seconds)
        if found is None:
            raise TwilioCallError(not_seen_message(label, lost, waited))
        return found
    except (TwilioCallError, TwilioException) as exc:
        found = find() if conflicting_create(exc) else None
        if found is None:
            raise
        return found


# ---- domain mappings --------------------------------------------------------------------------

MAPPING_STORES = (
    # (result key, store label, SDK accessor)
    ("ip_access_control_lists", "auth_calls", lambda d: d.auth.calls.ip_access_control_list_mappings),
    ("ip_access_control_lists", "legacy", lambda d: d.ip_access_control_list_mappings),
    ("credential_lists", "auth_calls", lambda d: d.auth.calls.credential_list_mappings),
    ("credential_lists", "legacy", lambda d: d.credential_list_mappings),
    ("credential_lists", "auth_registrations", lambda d: d.auth.registrations.credential_list_mappings),
)


def read_mappings(domain_context, include_registrations=False):
    """The lists mapped to a domain: ``{"ip_access_control_lists": {sid: {...}}, "credential_lists": {...}}``.

    Each entry is ``{"sid", "friendly_name", "mapped_via": [store labels]}``; a mapping's SID is the
    SID of the mapped list.  Calls mappings are read from Auth/Calls and from the legacy store.
    """
    found = {"ip_access_control_lists": {}, "credential_lists": {}}
    for key, store, accessor in MAPPING_STORES:
        if store == "auth_registrations" and not include_registrations:
            continue
        for item in list_all(accessor(domain_context)):
            entry = found[key].setdefault(item["sid"], {"sid": item["sid"], "friendly_name": item.get("friendly_name"), "mapped_via": []})
            entry["mapped_via"].append(store)
    return found


def delete_mapping(domain_context, key, entry):
    """Remove a calls mapping from every store it was seen in (a 404 from a shared store is fine)."""
    for map_key, store, accessor in MAPPING_STORES:
        if map_key == key and store in entry.get("mapped_via", ()) and store != "auth_registrations":
            delete_if_present(accessor(domain_context)(entry["sid"]))


def ensure_named_list(module, engine, collection, find, key, entries):
    """state present/absent of an IP ACL or credential list found by its friendly name.

    ``collection`` is the SDK list resource (``client.sip.ip_access_control_lists`` or
    ``.credential_lists``); ``find()`` looks the list up by name again (after a lost create);
    ``key`` is the module's NaturalKey and ``entries`` the name of a list's entries in the SDK
    (``ip_addresses``, ``credentials``), counted when lists share the name. Returns (current, result).
    """
    name = module.params["friendly_name"]
    found = [item for item in list_all(collection) if item.get("friendly_name") == name]
    # Deleting "the" list of a name held by several is never a guess, whatever duplicates says.
    policy = module.params["duplicates"] if module.params["state"] == "present" else "fail"
    current, deleted = key.one(
        found,
        policy,
        count=lambda item: len(list_all(getattr(collection(item["sid"]), entries))),
        delete=lambda item: delete_if_present(collection(item["sid"])),
        key=name,
        check_mode=module.check_mode,
    )
    if module.params["state"] == "absent":
        return current, engine.absent(current, delete=lambda c: delete_if_present(collection(c["sid"])), name=name)
    result = engine.present(
        current,
        create=lambda payload: as_dict(collection.create(**payload)),
        predict=lambda payload: dict(payload, sid=None),
        find=find,
        name=name,
    )
    return current, key.fold(result, deleted)
