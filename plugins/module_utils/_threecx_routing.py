# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared code of the 3CX call-routing modules (queues, ring groups, inbound and outbound rules).

PRIVATE to this collection: may change without notice.

* destinations (``ForwardNoAnswer``, inbound-rule destinations): option shape <-> ``Pbx.Destination``;
* :class:`Mapped` fields, whose option value and API value have different shapes (an agent
  list of numbers vs ``[{"Number": ...}]``), and :class:`ApiFieldMap` that encodes them;
* :class:`Desired`: the module's params with values the module resolved (a trunk name turned
  into its id), so that the engine compares what the PBX stores;
* look-ups: objects by number, extensions, trunks by name or number, departments;
* :func:`run_numbered_group`: the whole run of a queue or ring group module;
* :class:`MissingReference` and :func:`assume_in_check_mode`: an object named by an option that
  the play has not made yet.

Every check that can fail on input alone raises ValueError before any request; checks that
need the PBX (an unknown extension, an unknown trunk) run on reads only, before any write.
In check mode only, a missing object that an earlier task of the play makes (a trunk, a queue,
a ring group, a template) is a warning, and the module predicts its change with the name given.
"""

from __future__ import annotations

import copy

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import (
    KIND_RAW,
    Engine,
    Field,
    FieldMap,
    ReadBack,
    deep_merge,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import odata_eq
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import DESTINATION_TYPES, INTERNAL_DESTINATIONS, unique_members

# ---------------------------------------------------------------------------- destinations

_DESTINATION_OPTIONS = dict((v, k) for k, v in DESTINATION_TYPES.items())
_INTERNAL = INTERNAL_DESTINATIONS


def destination_to_api(dest):
    """Option shape -> Pbx.Destination (both target fields always sent, so no stale value stays)."""
    return {"To": DESTINATION_TYPES[dest["type"]], "Number": dest.get("number") or "", "External": dest.get("external") or ""}


def destination_from_api(api):
    """Pbx.Destination -> option shape (None when the PBX has none)."""
    if not isinstance(api, dict) or api.get("To") is None:
        return None
    kind = _DESTINATION_OPTIONS.get(api["To"], api["To"])
    return {
        "type": kind,
        "number": (api.get("Number") or None) if kind in _INTERNAL else None,
        "external": (api.get("External") or None) if kind == "external" else None,
    }


def destination_differs(current, desired):
    """Compare what routes the call: the type and the target that type uses."""
    if desired is None:
        return False
    current = current or {"type": "none", "number": None, "external": None}
    return (current["type"], current.get("number"), current.get("external")) != (
        desired["type"],
        desired.get("number"),
        desired.get("external"),
    )


# ---------------------------------------------------------------------------- fields


class Mapped(Field):
    """A field whose option value and API value have different shapes.

    ``decode(api_value)`` gives the option shape (used for reading, results and diffs),
    ``encode(option_value)`` the API shape (used for payloads), and ``compare(current,
    desired)`` (both in option shape) says whether they differ.
    """

    def __init__(self, option, api, decode=None, encode=None, compare=None, read_only=False):
        super(Mapped, self).__init__(option, api, KIND_RAW, read_only=read_only)
        self.decode = decode or (lambda value: value)
        self.encode = encode or copy.deepcopy
        self.compare = compare

    def read(self, obj):
        return self.decode(super(Mapped, self).read(obj))

    def differs(self, current, desired):
        if self.compare is not None:
            return self.compare(current, desired)
        return super(Mapped, self).differs(current, desired)


class ApiFieldMap(FieldMap):
    """A FieldMap that encodes :class:`Mapped` values into the API's shape."""

    def to_api(self, options, base=None):
        encoded = {}
        for option, value in options.items():
            field = self.by_option[option]
            encoded[option] = field.encode(value) if isinstance(field, Mapped) else value
        result = copy.deepcopy(base) if base is not None else {}
        for option, value in encoded.items():
            field = self.by_option[option]
            node = result
            for key in field.path[:-1]:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            node[field.path[-1]] = copy.deepcopy(value)
        return result


def enum_field(option, api, choices):
    """An enum: option choices in snake_case, API values as the swagger spells them."""
    back = dict((v, k) for k, v in choices.items())
    return Mapped(option, api, decode=lambda v: back.get(v, v) if v is not None else None, encode=lambda v: choices[v])


def numbers_field(option, api):
    """A membership list (queue agents, ring group members) compared as a set of numbers.

    OData replaces a whole array on PATCH, so the encoded value is always the full list.
    """

    def decode(value):
        if not isinstance(value, list):
            return []
        return sorted(str(item.get("Number")) for item in value if isinstance(item, dict) and item.get("Number") is not None)

    return Mapped(
        option,
        api,
        decode=decode,
        encode=lambda numbers: [{"Number": n} for n in sorted(numbers)],
        compare=lambda current, desired: set(current or []) != set(desired),
    )


def destination_field(option, api):
    return Mapped(option, api, decode=destination_from_api, encode=destination_to_api, compare=destination_differs)


def departments_field(ids_by_name=None):
    """A queue's or ring group's departments (``Groups``, ``Pbx.UserGroup`` records) as sorted names.

    The option names departments the group must be in: it differs only when one of them is
    missing (a group may be in more). Written as ``[{"GroupId": n}]``, with the ids resolved
    for this run (``ids_by_name``); a record without a ``Name`` is named from them.
    """
    ids_by_name = dict(ids_by_name or {})
    names_by_id = dict((v, k) for k, v in ids_by_name.items())

    def decode(value):
        if not isinstance(value, list):
            return None
        names = []
        for item in value:
            if isinstance(item, dict):
                name = item.get("Name") or names_by_id.get(item.get("GroupId")) or str(item.get("GroupId"))
                names.append(str(name))
        return sorted(names)

    return Mapped(
        "departments",
        "Groups",
        decode=decode,
        encode=lambda names: [{"GroupId": ids_by_name[n]} for n in sorted(names)],
        compare=lambda current, desired: not set(desired) <= set(current or []),
    )


class Desired:
    """What the engine sees as the module: the params, with values the module resolved.

    The engine compares ``params``; a module that turned a trunk name into an id, or that
    completed a membership list with the current members, hands the engine those values.
    """

    def __init__(self, module, **overrides):
        self.params = dict(module.params, **overrides)
        self.check_mode = module.check_mode
        self._diff = module._diff


# ---------------------------------------------------------------------------- missing references


class MissingReference(ValueError):
    """An object an option names (a trunk, a queue, a template) is not on the PBX.

    The message is the error of a real run; ``option`` and ``missing`` ("trunk 'PSTN'") word
    the check-mode warning of :func:`assume_in_check_mode`.
    """

    def __init__(self, msg, option, missing):
        super(MissingReference, self).__init__(msg)
        self.option = option
        self.missing = missing


def assume_in_check_mode(module, check, *args):
    """``check(*args)``; in check mode a :class:`MissingReference` is one warning and None.

    Check mode made nothing, so an object an earlier task of the same play creates is missing
    here; the caller then predicts the change with the name the user gave in place of what the
    PBX would resolve (which never equals a current value, so the change is reported).
    A real run keeps the error, before any write.
    """
    try:
        return check(*args)
    except MissingReference as missing:
        if not module.check_mode:
            raise
        module.warn(
            "%s: %s does not exist on the PBX; check mode assumes that an earlier task in the same play creates it "
            "and predicts the change (a run without check mode fails if it still does not exist)" % (missing.option, missing.missing)
        )
        return None


# ---------------------------------------------------------------------------- look-ups


def find_by_number(client, collection, number, expand=None):
    """One Queue / RingGroup / Trunk by its number, or None (404 = absent).

    ``/Queues(Number='800')`` from 20.0.8, ``/Queues/Pbx.GetByNumber(number='800')`` before
    (see ``ThreeCXClient.get_by_number``).
    """
    params = {"$expand": ",".join(expand)} if expand else None
    return client.get_by_number(collection, number, params=params)


def any_of(field, values):
    """An OData filter that matches any of ``values`` in ``field`` (one read for a list of numbers)."""
    return " or ".join(odata_eq(field, v) for v in values)


def check_extensions(client, option, numbers):
    """Fail (before any write) when one of ``numbers`` is not an extension of the PBX; one GET."""
    wanted = sorted(set(numbers))
    if not wanted:
        return
    found = client.list("/Users", filter=any_of("Number", wanted), select=["Number"])
    known = set(str(u.get("Number")) for u in found)
    missing = [n for n in wanted if n not in known]
    if missing:
        raise ValueError(
            "%s: no extension %s on the PBX. Give existing extension numbers (Admin Console > Users), "
            "or create the extension first" % (option, ", ".join(repr(n) for n in missing))
        )


_TARGET_COLLECTIONS = {"queue": ("Queues", "queue"), "ring_group": ("RingGroups", "ring group")}


def check_destination_target(client, option, dest):
    """Fail (before any write) when the destination's internal number does not exist.

    A missing queue or ring group is a :class:`MissingReference` (the play may create it); a
    missing extension is a plain error (this collection never creates extensions).
    """
    if dest is None or dest["type"] not in _INTERNAL:
        return
    if dest["type"] in ("extension", "voicemail"):
        check_extensions(client, "%s.number" % option, [dest["number"]])
        return
    collection, label = _TARGET_COLLECTIONS[dest["type"]]
    if find_by_number(client, collection, dest["number"]) is None:
        raise MissingReference(
            "%s: there is no %s %r on the PBX; create it first (voip.threecx_twilio.threecx_%s)" % (option, label, dest["number"], dest["type"]),
            option,
            "%s %r" % (label, dest["number"]),
        )


def check_destination_if_changed(module, client, fields, current, option, dest):
    """:func:`check_destination_target`, unless the PBX already routes ``option`` to ``dest``.

    The target was checked when that destination was set; a converged run is spared the read.
    """
    field = fields.by_option[option]
    if current is not None and dest is not None and not field.differs(field.read(current), dest):
        return
    assume_in_check_mode(module, check_destination_target, client, option, dest)


def trunk_name(trunk):
    gateway = trunk.get("Gateway") if isinstance(trunk, dict) else None
    return (gateway or {}).get("Name")


def find_trunk(client, name_or_number):
    """The trunk whose name (``Gateway.Name``) or number is ``name_or_number``; MissingReference if none.

    The name wins over the number; two trunks with the same name are an error (never a guess).
    The trunks are read in one GET (``$select=Id,Number,Gateway,DidNumbers``) and matched here,
    because filtering on the nested ``Gateway/Name`` is not documented.
    """
    wanted = str(name_or_number)
    trunks = client.list("/Trunks", select=["Id", "Number", "Gateway", "DidNumbers"])
    by_name = [t for t in trunks if trunk_name(t) == wanted]
    if len(by_name) > 1:
        raise ValueError(
            "trunk: %d trunks are named %r (numbers %s); give the trunk's number instead"
            % (len(by_name), wanted, ", ".join(str(t.get("Number")) for t in by_name))
        )
    if by_name:
        return by_name[0]
    by_number = [t for t in trunks if str(t.get("Number")) == wanted]
    if by_number:
        return by_number[0]
    known = ", ".join("%r (%s)" % (trunk_name(t), t.get("Number")) for t in trunks) or "none"
    raise MissingReference("trunk: no trunk named or numbered %r on the PBX; the trunks are: %s" % (wanted, known), "trunk", "trunk %r" % wanted)


def referenced_trunk(wanted, reference):
    """``reference`` (a trunk as a rule expands it: Id and Name) when it is the trunk named ``wanted``.

    A rule that already points at the wanted trunk needs no /Trunks read to turn the name into
    an id: a converged run is spared it. Only the name is trusted here (find_trunk lets a name
    win over another trunk's number); anything else is None and goes through find_trunk.
    """
    if not isinstance(reference, dict) or reference.get("Id") in (None, -1):
        return None
    return reference if reference.get("Name") == str(wanted) else None


def same_number(a, b):
    """Phone numbers equal up to a leading '+' (3CX stores DIDs with or without it)."""
    return a is not None and b is not None and str(a).lstrip("+") == str(b).lstrip("+")


def group_ids(client, option, names):
    """Department (group) names -> {name: id}, in one GET of /Groups; ValueError naming unknown ones."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    groups = client.list("/Groups", filter=any_of("Name", wanted), select=["Id", "Name"])
    by_name = {}
    for group in groups:
        by_name.setdefault(group.get("Name"), []).append(group.get("Id"))
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ValueError("%s: no department %s on the PBX (Admin Console > Departments)" % (option, ", ".join(repr(n) for n in missing)))
    doubled = [n for n in wanted if len(by_name[n]) > 1]
    if doubled:
        raise ValueError("%s: more than one department is named %s" % (option, ", ".join(repr(n) for n in doubled)))
    return dict((n, by_name[n][0]) for n in wanted)


def find_groups(client, option, names):
    """Department (group) names -> their ids, sorted (see :func:`group_ids`)."""
    return sorted(group_ids(client, option, names).values())


# ---------------------------------------------------------------------------- confirmed writes of navigation properties

CONFIRM_HINT = (
    "This PBX takes the field in a way the collection does not know. "
    "See docs/threecx.md, 'On a real PBX for the first time', and report it with the output of voip.threecx_twilio.threecx_info"
)


def _refused(exc):
    """A write the PBX refused as a bad request (400): perhaps for the wire form of a navigation property."""
    return getattr(exc, "status", None) == 400


def user_references(client, option, numbers):
    """Extension numbers -> OData entity references (``Users(41)``) for ``X@odata.bind``; one GET of /Users."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    ids = dict((str(u.get("Number")), u.get("Id")) for u in client.list("/Users", filter=any_of("Number", wanted), select=["Id", "Number"]))
    missing = [n for n in wanted if ids.get(n) is None]
    if missing:
        raise ValueError("%s: no extension %s on the PBX" % (option, ", ".join(repr(n) for n in missing)))
    return ["Users(%d)" % ids[n] for n in wanted]


def confirmed_write(read):
    """A :class:`ReadBack` for a write whose effect is inferred, not confirmed, and that has no other
    wire form to try (E164Settings: 3cx-xapi.md §3.8). A field the PBX does not show after the write
    fails naming it, instead of a silent ``changed``."""
    return ReadBack(read, hint=CONFIRM_HINT)


def confirmed_navigation(read, forms):
    """A :class:`ReadBack` for an entity whose navigation properties (x-ms-navigationProperty in the
    vendor document: Queue.Agents, RingGroup.Members, InboundRule.TrunkDN) are written inline: whether a
    PBX stores them, ignores them or wants ``X@odata.bind`` is UNCONFIRMED (3cx-xapi.md §3.1, §3.7).
    ``forms``: option -> encode(value) -> the ``X@odata.bind`` payload fragment."""
    return ReadBack(read, forms=forms, refused=_refused, hint=CONFIRM_HINT)


def bind_users(client, api, option):
    """The other wire form of a membership list: ``{"Agents@odata.bind": ["Users(41)", ...]}``."""
    return lambda numbers: {api + "@odata.bind": user_references(client, option, numbers)}


def bind_trunk(trunk_id):
    """The other wire form of InboundRule.TrunkDN: ``{"TrunkDN@odata.bind": "Trunks(7)"}``."""
    return {"TrunkDN@odata.bind": "Trunks(%d)" % trunk_id}


# ---------------------------------------------------------------------------- queue / ring group


def _with_departments(client, spec, label, current, departments):
    """The group's field map with its departments resolved for this run; ValueError when that would move it.

    An existing group that is already in every department given needs no read of /Groups. One that
    is in another department is not moved: that changes who administers it and which outbound
    rules every call it makes may take, which is the customer's decision, not this module's.
    """
    field = departments_field()
    have = field.read(current) if current is not None else None
    if current is not None and have and not set(departments) <= set(have):
        raise ValueError(
            "departments: %s is in department %s, not in %s; giving it %s would move it out of its department (who administers "
            "it, and the outbound rules all of its calls may take, would change). Move it in the Admin Console (%s > Department) "
            "if that is intended, or limit the outbound rule to its department instead (departments of threecx_outbound_rule; "
            "in a site, threecx_fallback_departments: %s)"
            % (
                label,
                ", ".join(have),
                ", ".join(d for d in departments if d not in have),
                ", ".join(departments),
                "Queues" if spec.kind == "queue" else "Ring Groups",
                "[" + ", ".join(have) + "]",
            )
        )
    # Names are resolved only when the group is to get departments (a create, or a group in none).
    ids = group_ids(client, "departments", departments) if current is None or not have else {}
    fields = [f for f in spec.fields.fields if f.option != "departments"]
    return ApiFieldMap(*(fields + [departments_field(ids)]))


class GroupSpec:
    """What differs between a queue and a ring group; everything else is shared."""

    def __init__(self, collection, kind, result_key, fields, members_option, members_api, timeouts, check_timeouts=None):
        self.collection = collection  # "Queues"
        self.kind = kind  # "queue"
        self.result_key = result_key  # "queue"
        self.fields = fields  # ApiFieldMap
        self.members_option = members_option  # "agents"
        self.members_api = members_api  # "Agents"
        self.timeouts = timeouts  # options that must be > 0
        self.check_timeouts = check_timeouts  # callable(module, effective options) for warnings


def run_numbered_group(module, spec):
    """The whole run of threecx_queue / threecx_ring_group; returns the result dict."""
    p = module.params
    members_option = spec.members_option
    client = module.client
    label = "%s %s" % (spec.kind, p["number"])
    # The input checks ran when the module was built (_threecx_inputs), before any request.
    members = unique_members(p[members_option])
    destination = p["no_answer_destination"]

    departments = sorted(set(p.get("departments") or [])) if p.get("departments") is not None else None
    expand = [spec.members_api] + (["Groups"] if departments is not None else [])

    def lookup():
        return find_by_number(client, spec.collection, p["number"], expand=expand)

    if departments is not None and p["state"] == "present" and client.version < (20, 0, 8):
        version = ".".join(str(x) for x in client.version)
        raise ValueError("departments: this PBX (%s) has no departments on a %s; 3CX 20.0.8 or later is needed" % (version, spec.kind))
    current = lookup()
    engine_fields = spec.fields
    if departments is not None and p["state"] == "present":
        engine_fields = _with_departments(client, spec, label, current, departments)
    if p["state"] == "absent":
        engine = Engine(module, engine_fields, result_key=spec.result_key, kind=spec.kind)
        return engine.absent(current, delete=lambda c: client.delete("/%s(%s)" % (spec.collection, c["Id"])), name=p["number"])

    if current is None and not p["name"]:
        raise ValueError("name is required to create %s (it does not exist yet)" % label)
    # Checks that need reads, still before any write. Members the group already has are
    # extensions (the PBX checked them when they were added): a converged run reads no /Users.
    have = engine_fields.by_option[members_option].read(current) if current is not None else []
    new_members = [m for m in (members or []) if m not in (have or [])]
    if new_members:
        check_extensions(client, members_option, new_members)
    check_destination_if_changed(module, client, engine_fields, current, "no_answer_destination", destination)

    overrides = {"no_answer_destination": destination}
    if departments is not None:
        overrides["departments"] = departments
    if members is not None:
        if not p["purge_" + members_option] and current is not None:
            # Keep the members the PBX has and add the given ones: the list to PATCH is the union.
            have = engine_fields.by_option[members_option].read(current)
            members = sorted(set(have) | set(members))
        overrides[members_option] = sorted(members)
    desired = Desired(module, **overrides)
    if spec.check_timeouts is not None:
        effective = dict(
            (o, desired.params[o] if desired.params[o] is not None else engine_fields.by_option[o].read(current or {})) for o in spec.timeouts
        )
        spec.check_timeouts(module, effective)

    engine = Engine(desired, engine_fields, result_key=spec.result_key, kind=spec.kind)

    def create(payload):
        made = client.post("/%s" % spec.collection, payload)
        # The reply may leave out navigation properties (the members): lay the payload over it.
        return deep_merge(made if isinstance(made, dict) else {}, payload)

    def update(cur, payload):
        client.patch("/%s(%s)" % (spec.collection, cur["Id"]), payload)

    # Whether the PBX stores the members written inline is UNCONFIRMED: a write is read back.
    confirm = confirmed_navigation(lambda _obj: lookup(), {members_option: bind_users(client, spec.members_api, members_option)})
    return engine.present(current, create=create, update=update, name=p["number"], find=lookup, confirm=confirm)
