# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The resource engine every module of this collection runs on.

PRIVATE to this collection: may change without notice.

A module describes its options as :class:`Field` s (option name <-> API field path) and
hands the engine the current object and the vendor calls.  The engine then does the same
thing for every module:

* compares only the options the user set (``None`` means "don't care");
* sends only the fields that differ;
* in check mode sends no write at all and returns the object it predicts, with a
  ``changed`` that equals what the real run will report;
* in diff mode returns before/after of the changed options only, secrets masked;
* returns one result shape: ``changed``, ``msg``, ``<result_key>`` (the object after the
  run, in option names) and ``diff`` when asked for.

It is shaped after netbox.netbox's changed-keys diff and theforeman.foreman's
"only differing fields" updates.
"""

from __future__ import annotations

import copy

from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import (
    DEFAULT_SETTLE_SECONDS,
    AmbiguousWrite,
    conflicting_create,
    not_seen_message,
    settle,
)

SECRET_MASK = "********"

# How option values are compared.  The API and the user often spell "nothing" and
# "unordered" differently; these kinds say which differences are not real.
KIND_RAW = "raw"
KIND_STR = "str"  # None and "" are the same string
KIND_SET = "set"  # a list whose order does not matter
KIND_SUBSET = "subset"  # a dict: only the keys the user gave are compared

# When a write-only option (a secret the vendor never shows) is sent: when the object is made, or
# on every run that sets it (the vendor cannot say whether it differs, so it is always "changed").
UPDATE_SECRETS = ("on_create", "always")


class Field:
    """One module option and the API field it maps to.

    ``api`` is a dotted path into the API object (``"Gateway.Host"``).  ``write_only``
    fields (passwords) can never be read back: they are sent on create, and on update
    only when the module's ``update_password`` is ``always``; they never appear in
    results and appear in diffs only as a mask.
    """

    def __init__(self, option, api, kind=KIND_RAW, write_only=False, read_only=False):
        self.option = option
        self.api = api
        self.path = tuple(api.split("."))
        self.kind = kind
        self.write_only = write_only
        self.read_only = read_only

    def read(self, obj):
        value = obj
        for key in self.path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return copy.deepcopy(value)

    def normalise(self, value):
        if self.kind == KIND_STR and value is None:
            return ""
        if self.kind == KIND_SET and isinstance(value, list):
            return sorted(value, key=repr)
        return value

    def differs(self, current, desired):
        if self.kind == KIND_SUBSET and isinstance(desired, dict):
            current = current if isinstance(current, dict) else {}
            return any(self.normalise(current.get(k)) != self.normalise(v) for k, v in desired.items())
        return self.normalise(current) != self.normalise(desired)


class FieldMap:
    """The options of one resource and how they map onto its API object."""

    def __init__(self, *fields):
        self.fields = list(fields)
        self.by_option = dict((f.option, f) for f in self.fields)

    def desired(self, params):
        """Options the user set (``None`` = not set = don't care)."""
        return dict((f.option, params[f.option]) for f in self.fields if not f.read_only and params.get(f.option) is not None)

    def from_api(self, obj):
        """The API object in option names; write-only fields are never read back."""
        if obj is None:
            return {}
        return dict((f.option, f.read(obj)) for f in self.fields if not f.write_only)

    def to_api(self, options, base=None):
        """Build (or overlay onto a copy of ``base``) the API object for ``options``."""
        result = copy.deepcopy(base) if base is not None else {}
        for option, value in options.items():
            field = self.by_option[option]
            node = result
            for key in field.path[:-1]:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            if field.kind == KIND_SUBSET and isinstance(value, dict) and isinstance(node.get(field.path[-1]), dict):
                merged = dict(node[field.path[-1]])
                merged.update(value)
                value = merged
            node[field.path[-1]] = copy.deepcopy(value)
        return result

    def mask(self, options):
        return dict((k, SECRET_MASK if self.by_option[k].write_only else v) for k, v in options.items())


def deep_merge(base, overlay):
    """``base`` with ``overlay`` laid over it; nested dicts merge, everything else replaces."""
    result = copy.deepcopy(base) if base is not None else {}
    for key, value in (overlay or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class Engine:
    """Desired state vs current state for one object, with check mode and diff."""

    def __init__(self, module, fields, result_key, kind, update_secrets="on_create"):
        if update_secrets not in UPDATE_SECRETS:
            raise ValueError("update_secrets must be one of %s, got %r" % (", ".join(UPDATE_SECRETS), update_secrets))
        self.module = module
        self.fields = fields
        self.result_key = result_key
        self.kind = kind
        self.update_secrets = update_secrets

    @property
    def check_mode(self):
        return self.module.check_mode

    def changes(self, current, desired, creating=False):
        """The desired options whose value differs from ``current`` (an API object)."""
        changed = {}
        for option, value in desired.items():
            field = self.fields.by_option[option]
            if field.write_only:
                if creating or self.update_secrets == "always":
                    changed[option] = value
                continue
            if creating or field.differs(field.read(current), value):
                changed[option] = value
        return changed

    def _result(self, changed, msg, after_api, before=None, after=None):
        result = {"changed": changed, "msg": msg, self.result_key: self.fields.from_api(after_api)}
        if self.module._diff:
            result["diff"] = {"before": before or {}, "after": after or {}}
        return result

    def _label(self, name):
        return "%s %s" % (self.kind, name) if name else self.kind

    def present(self, current, create=None, update=None, name=None, predict=None, find=None, confirm=None):
        """Make the object match the user's options; ``current`` is None when it does not exist.

        ``create(payload)`` and ``update(current, payload)`` perform the writes and may return
        the object as the API now has it (None: the engine merges the payload itself).
        ``predict(payload)`` returns the object a create would make, for check mode.
        ``find()`` looks the object up again by its natural key: when a create's reply is lost,
        the engine asks it whether the create landed instead of sending a second create.
        ``confirm`` (a :class:`ReadBack`) reads the object back after a write and compares what was sent.
        """
        desired = self.fields.desired(self.module.params)
        label = self._label(name)
        if current is None:
            if create is None:
                raise ValueError("%s does not exist and cannot be created" % label)
            payload = self.fields.to_api(desired)
            after = (predict or (lambda p: p))(payload)
            if not self.check_mode:
                send = confirm.sending(create, desired, self.fields, label) if confirm is not None else create
                try:
                    made = self._create(send, payload, find, label)
                except _MadeElsewhere as other:
                    # Another run made it meanwhile: it is the current object now; bring it in line.
                    return self.present(other.found, update=update, name=name, confirm=confirm)
                if made is not None:
                    after = made
                if confirm is not None:
                    after = confirm.check(self, after, desired, update, label)
            return self._result(
                True,
                "%s created" % label,
                after,
                before={"state": "absent"},
                after=dict(self.fields.mask(desired), state="present"),
            )
        changes = self.changes(current, desired)
        if not changes:
            return self._result(False, "%s already as desired" % label, current)
        payload = self.fields.to_api(changes)
        after = deep_merge(current, payload)
        if not self.check_mode:
            send = confirm.sending(update, changes, self.fields, label) if confirm is not None else update
            returned = send(current, payload)
            if returned is not None:
                after = returned
            if confirm is not None:
                after = confirm.check(self, current, changes, update, label)
        before_view = dict((k, self.fields.by_option[k].read(current)) for k in changes)
        return self._result(
            True,
            "%s updated (%s)" % (label, ", ".join(sorted(changes))),
            after,
            before=self.fields.mask(dict((k, v) for k, v in before_view.items())),
            after=self.fields.mask(changes),
        )

    def _create(self, create, payload, find, label):
        """Send the create; when its reply was lost, read the object back for ``settle_timeout`` seconds; when
        another run made it meanwhile (409), adopt it. Never a second create."""
        try:
            return create(payload)
        except AmbiguousWrite as lost:
            if find is None:
                raise
            found, waited = settle(find, self.settle_seconds)
            if found is None:
                raise type(lost)(not_seen_message(label, lost, waited), method=lost.method)
            return found
        except Exception as exc:  # a vendor error: only a 409 with the object there is adopted
            if not (conflicting_create(exc) and find is not None):
                raise
            found = find()
            if found is None:
                raise
            raise _MadeElsewhere(found)

    @property
    def settle_seconds(self):
        params = getattr(self.module, "params", None) or {}
        value = params.get("settle_timeout")
        return DEFAULT_SETTLE_SECONDS if value is None else value

    def absent(self, current, delete, name=None):
        """Remove the object if it exists."""
        label = self._label(name)
        if current is None:
            return self._result(False, "%s already absent" % label, None)
        if not self.check_mode:
            delete(current)
        before = dict((k, v) for k, v in self.fields.from_api(current).items() if v is not None)
        return self._result(True, "%s deleted" % label, None, before=dict(before, state="present"), after={"state": "absent"})


class WriteNotTaken(ValueError):
    """A write the vendor answered with success (or refused both ways) whose effect a read-back does not
    show. A ValueError, so that modules fail with its message (VendorModule.api_errors)."""


class ReadBack:
    """Confirm a write whose effect is UNCONFIRMED: read the object back, compare the fields sent.

    ``read(obj)`` reads the object again (``obj``: what the create returned, or the object updated).
    ``forms`` maps an option to ``encode(value)`` -> a payload fragment in the *other* documented
    wire form (``{"Agents@odata.bind": [...]}`` for a navigation property written inline).
    A field the vendor answered for but did not store is sent once more in that form (an update of
    the object); a write refused outright (``refused(exc)``, e.g. a 400) is sent once more with those
    fields in that form. A field still not taken, or one without another form, fails with
    WriteNotTaken naming the field, each form tried with the vendor's answer, and what was read back.
    Only writes pay for this: a run that changes nothing reads nothing more.
    """

    def __init__(self, read, forms=None, refused=None, hint=""):
        self.read = read
        self.forms = forms or {}
        self.refused = refused or (lambda exc: False)
        self.hint = hint
        self.sent = {}
        self.tried = {}  # option -> [[form, answer], ...]
        self._encoded = {}  # option -> its payload fragment in the other form (encoding may read the vendor)

    def _encode(self, option):
        if option not in self._encoded:
            self._encoded[option] = self.forms[option](self.sent[option])
        return self._encoded[option]

    def _inline(self, fields, option):
        api = fields.by_option[option].api
        return "%s inline" % api if option in self.forms else api

    def _other(self, option):
        return " + ".join(sorted(self._encode(option)))

    def _in_other_form(self, fields, options, payload):
        out = dict(payload)  # only top-level keys change
        for option in options:
            out.pop(fields.by_option[option].path[0], None)
            out.update(self._encode(option))
        return out

    def _story(self, fields, option):
        steps = ", then ".join("as %s (%s)" % (form, answer) for form, answer in self.tried[option])
        return "%s (%s): sent %s" % (option, fields.by_option[option].api, steps)

    def _not_taken_error(self, text):
        return WriteNotTaken("%s. %s" % (text, self.hint) if self.hint else text + ".")

    def sending(self, write, options, fields, label):
        """``write`` that, when refused, is sent once more with the fields that have another form in it."""
        self.sent = dict(options)
        other = [o for o in sorted(options) if o in self.forms]

        # A write the vendor answered is recorded as "accepted"; check() refines the last answer of
        # every field it names ("accepted, not stored") before a message shows it.
        def send(*args):
            for option in other:
                self.tried[option] = [[self._inline(fields, option), "accepted"]]
            try:
                return write(*args)
            except Exception as exc:  # a vendor error: only a refusal is tried again, in the other form
                if not other or not self.refused(exc):
                    raise
                refusal = exc
            for option in other:
                self.tried[option] = [[self._inline(fields, option), "refused: %s" % refusal], [self._other(option), "accepted"]]
            try:
                return write(*(args[:-1] + (self._in_other_form(fields, other, args[-1]),)))
            except Exception as exc:
                if not self.refused(exc):
                    raise
                for option in other:
                    self.tried[option][-1][1] = "refused: %s" % exc
                raise self._not_taken_error("%s: the PBX refused the write both ways: %s" % (label, "; ".join(self._story(fields, o) for o in other)))

        return send

    def check(self, engine, obj, options, update, label):
        """Read back; send the fields not taken once in their other form; fail if one is still not taken."""
        fields = engine.fields
        got = self.read(obj)
        missed = _not_taken(fields, got, options)
        again = [o for o in missed if o in self.forms and len(self.tried.get(o, [])) < 2]
        if again and got is not None:
            for option in again:
                self.tried[option] = [[self._inline(fields, option), "accepted, not stored"], [self._other(option), "accepted"]]
            update(got, self._in_other_form(fields, again, {}))
            got = self.read(got)
            missed = _not_taken(fields, got, options)
        if missed:
            shown = fields.from_api(got)
            for option in missed:
                self.tried.setdefault(option, [[self._inline(fields, option), "accepted"]])[-1][1] = "accepted, not stored"
            raise self._not_taken_error(
                "%s: the PBX answered the write but does not show it: %s"
                % (label, "; ".join("%s; it reads back %r" % (self._story(fields, o), shown.get(o)) for o in missed))
            )
        return got


def _not_taken(fields, obj, options):
    """The options (sent to the vendor) whose value the object read back does not have."""
    if obj is None:
        return sorted(o for o in options if not fields.by_option[o].write_only)
    out = []
    for option, value in options.items():
        field = fields.by_option[option]
        if not field.write_only and not field.read_only and field.differs(field.read(obj), value):
            out.append(option)
    return sorted(out)


class _MadeElsewhere(Exception):
    """A create was refused (409) because another run made the object: ``found`` is that object.
    Never shown: Engine.present catches it."""

    @property
    def found(self):
        return self.args[0]


class Children:
    """Reconcile a child collection (ACL entries, credentials, domain mappings) by natural key.

    ``desired`` and the items read back are compared in option names (``fields`` maps them
    from the API).  Items the user did not list are deleted only when ``purge`` is true.
    Deletes run first, so a list at its size limit can be replaced entry by entry.
    """

    def __init__(self, module, option, key, fields=None, purge=False):
        self.module = module
        self.option = option
        self.key = key
        self.fields = fields
        self.purge = purge

    def _view(self, item):
        return self.fields.from_api(item) if self.fields is not None else dict(item)

    def _differs(self, current, desired):
        if self.fields is None:
            return False
        for option, value in desired.items():
            field = self.fields.by_option.get(option)
            if value is not None and field is not None and not field.write_only and field.differs(field.read(current), value):
                return True
        return False

    def run(self, current_items, desired, create, update=None, delete=None):
        """Apply the plan (not in check mode); return changed, the diff views and the items after.

        ``create(wanted)``, ``update(current_api_item, wanted)`` and ``delete(current_api_item)``
        perform one write each; ``create`` may return the new API item.
        """
        current_by_key = {}
        for item in current_items:
            current_by_key.setdefault(self.key(self._view(item)), item)
        wanted_by_key = {}
        for want in desired:
            wanted_by_key.setdefault(self.key(want), want)
        to_delete = [c for k, c in current_by_key.items() if k not in wanted_by_key] if self.purge else []
        to_update = [(current_by_key[k], w) for k, w in wanted_by_key.items() if k in current_by_key and self._differs(current_by_key[k], w)]
        to_create = [w for k, w in wanted_by_key.items() if k not in current_by_key]
        if to_delete and delete is None:
            raise ValueError("%s: removing entries is not supported" % self.option)
        if to_update and update is None:
            raise ValueError("%s: entries cannot be changed in place" % self.option)

        after = dict((k, self._view(c)) for k, c in current_by_key.items())
        check = self.module.check_mode
        for item in to_delete:
            if not check:
                delete(item)
            after.pop(self.key(self._view(item)))
        for item, want in to_update:
            if not check:
                update(item, want)
            merged = self._view(item)
            merged.update(dict((k, v) for k, v in want.items() if v is not None))
            after[self.key(merged)] = merged
        for want in to_create:
            made = None if check else create(want)
            after[self.key(want)] = self._view(made) if made is not None else dict(want)

        before_keys = sorted(current_by_key, key=repr)
        after_keys = sorted(after, key=repr)
        changed = bool(to_delete or to_update or to_create)
        return {
            "changed": changed,
            "before": {self.option: before_keys} if changed else {},
            "after": {self.option: after_keys} if changed else {},
            "items": [after[k] for k in after_keys],
            "summary": {"created": len(to_create), "updated": len(to_update), "deleted": len(to_delete)},
        }


def combine(result, child_result, result_key, option):
    """Fold a Children.run() outcome into an Engine result (one result shape for all)."""
    result = dict(result)
    result[result_key] = dict(result[result_key], **{option: child_result["items"]})
    result["changed"] = result["changed"] or child_result["changed"]
    if "diff" in result:
        before = dict(result["diff"]["before"], **child_result["before"])
        after = dict(result["diff"]["after"], **child_result["after"])
        result["diff"] = {"before": before, "after": after}
    if child_result["changed"]:
        counts = ", ".join("%d %s" % (n, what) for what, n in sorted(child_result["summary"].items()) if n)
        result["msg"] = "%s; %s: %s" % (result["msg"], option, counts)
    return result
