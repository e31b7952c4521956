"""The PBX configuration the lab serves: catalogues, templates, trunks, queues, ring
groups, users, departments, inbound and outbound rules.

Each entity set is a :class:`~lab.threecx.store.Collection` plus small hooks for its
rules; functions (``Pbx.InitTrunk``, ``Pbx.GetFirstAvailable*``, ``Pbx.MoveUpDown``,
the pre-20.0.8 ``GetByNumber`` functions) are extra routes. Vendor behaviour that had
to be inferred is listed in docs/lab.md.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any, Callable

from . import entities as E
from . import odata
from .catalog import Catalogue
from .odata import ODataError
from .store import Collection, check_properties, deep_merge, register_collection
from .templates import BUILT_INS, built_in_content, header, parse_content, trunk_skeleton

if TYPE_CHECKING:
    from ..server import Request, Response
    from .app import ThreeCX

MAX_ROUTES = 5
SERVER_PAGE_LIMIT = 2  # variants paging-nextlink / paging-silent: small, so that every list of a site pages
MAX_DID_PER_TRUNK = 200
FIRST_TRUNK_NUMBER = 10000
FIRST_GROUP_NUMBER = 800  # queues and ring groups share the DN number space
_DID = re.compile(r"^\+?\d{1,20}$")
_LENGTHS = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
_DN_TYPES = {"Extension": "users", "Queue": "queues", "RingGroup": "ring_groups"}
_TEMPLATE_TYPES = {t.lower(): t for t in ("Preferred", "Supported", "Dedicated", "ThirdParty")}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class PbxConfig:
    def __init__(self, standin: "ThreeCX"):
        self.st = standin
        self.catalogue = Catalogue()
        self.passwords: dict[int, str] = {}  # trunk Id -> AuthPassword (for the SIP stand-in; never shown)
        # Variant dnd-flag: extensions on a Do Not Disturb flag that no XAPI reply shows.
        self.dnd_flags: set[str] = set()
        self._pending_password: str | None = None

        def since_hidden(type_name: str) -> Callable[[], set]:
            return lambda: {k for k, v in E.SINCE.get(type_name, {}).items() if not self.since(v)}

        numbers_from_20_0_8 = lambda: self.since("20.0.8")  # noqa: E731
        self.gateway_parameters = Collection(
            "Defs/GatewayParameters",
            "Pbx.GatewayParameter",
            {
                "Id": 0,
                "Name": "",
                "Description": "",
                "CanHaveDID": False,
                "InboundPossibleValues": [],
                "OutboundPossibleValues": [],
                "SourceIDPossibleValues": [],
            },
            seed=lambda: self.catalogue.parameters,
        )
        self.gateway_parameter_values = Collection(
            "Defs/GatewayParameterValues",
            "Pbx.GatewayParameterValue",
            {"Id": 0, "Name": "", "Description": ""},
            seed=lambda: self.catalogue.values,
        )
        self.codecs = Collection(
            "Defs/Codecs", "Pbx.Codec", {"Id": 0, "Name": "", "RfcName": ""}, seed=lambda: self.catalogue.codecs
        )
        self.groups = Collection(
            "Groups", "Pbx.Group", E.GROUP_DEFAULTS, nav_props=("Members",), seed=lambda: E.GROUP_SEED
        )
        self.users = Collection(
            "Users",
            "Pbx.User",
            E.USER_DEFAULTS,
            alt_keys=("Number",),
            nav_props=("Groups",),
            alt_keys_enabled=numbers_from_20_0_8,
            on_write=self._user_write,
            seed=self._seed_users,
        )
        self.templates = Collection(
            "TrunkTemplates",
            "Pbx.TrunkTemplate",
            E.TEMPLATE_DEFAULTS,
            string_key=True,
            on_write=self._template_write,
            on_delete=self._template_delete,
            hidden=since_hidden("Pbx.TrunkTemplate"),
            seed=self._seed_templates,
        )
        self.trunks = Collection(
            "Trunks",
            "Pbx.Trunk",
            E.TRUNK_DEFAULTS,
            alt_keys=("Number",),
            nav_props=E.TRUNK_NAV,
            immutable=("Number",),
            first_id=7,
            on_write=self._trunk_write,
            on_create=self._trunk_created,
            view=self._trunk_view,
            on_delete=self._trunk_delete,
            hidden=since_hidden("Pbx.Trunk"),
            alt_keys_enabled=numbers_from_20_0_8,
        )
        self.queues = Collection(
            "Queues",
            "Pbx.Queue",
            E.QUEUE_DEFAULTS,
            alt_keys=("Number",),
            nav_props=E.QUEUE_NAV,
            immutable=("Number",),
            first_id=64,
            before_write=lambda body: self._nav_forms(body, "Pbx.Queue", ("Agents", "Managers")),
            on_write=self._queue_write,
            on_delete=lambda e: self._dn_delete(e, "Queue"),
            hidden=since_hidden("Pbx.Queue"),
            alt_keys_enabled=numbers_from_20_0_8,
        )
        self.ring_groups = Collection(
            "RingGroups",
            "Pbx.RingGroup",
            E.RING_GROUP_DEFAULTS,
            alt_keys=("Number",),
            nav_props=E.RING_GROUP_NAV,
            immutable=("Number",),
            first_id=91,
            before_write=lambda body: self._nav_forms(body, "Pbx.RingGroup", ("Members",)),
            on_write=self._ring_group_write,
            on_delete=lambda e: self._dn_delete(e, "RingGroup"),
            hidden=since_hidden("Pbx.RingGroup"),
            alt_keys_enabled=numbers_from_20_0_8,
        )
        self.inbound = Collection(
            "InboundRules",
            "Pbx.InboundRule",
            E.INBOUND_RULE_DEFAULTS,
            nav_props=("TrunkDN",),
            first_id=113,
            before_write=lambda body: self._nav_forms(body, "Pbx.InboundRule", ("TrunkDN",)),
            on_write=self._inbound_write,
        )
        self.outbound = Collection(
            "OutboundRules",
            "Pbx.OutboundRule",
            E.OUTBOUND_RULE_DEFAULTS,
            first_id=131,
            on_write=self._outbound_write,
            view=self._outbound_view,
            order=lambda r: r["Priority"],
            on_delete=lambda e: self._renumber(skip=e["Id"]),
        )

    # ------------------------------------------------------------------ plumbing
    @property
    def collections(self) -> dict[str, Collection]:
        # Order matters for reset: catalogues first (templates are written from them).
        return {
            c.entity_set: c
            for c in (
                self.gateway_parameters,
                self.gateway_parameter_values,
                self.codecs,
                self.groups,
                self.users,
                self.templates,
                self.trunks,
                self.queues,
                self.ring_groups,
                self.inbound,
                self.outbound,
            )
        }

    def since(self, version: str) -> bool:
        return _version_key(self.st.version) >= _version_key(version)

    def reset(self, names: dict | None) -> None:
        self.catalogue = Catalogue(names)
        self.passwords.clear()
        self.dnd_flags.clear()
        for coll in self.collections.values():
            coll.reset()

    def register(self) -> None:
        st, r = self.st, self.st.router
        for coll in (self.gateway_parameters, self.gateway_parameter_values, self.codecs):
            register_collection(st, coll, ("list",))
        register_collection(st, self.groups, ("list", "get"))
        register_collection(st, self.users, ("list", "get", "patch"))
        for coll in (self.templates, self.trunks, self.queues, self.ring_groups, self.inbound):
            register_collection(st, coll)
        register_collection(st, self.outbound, ("list", "get", "delete"))
        r.add("POST", "/xapi/v1/OutboundRules", self.h_outbound_create)
        r.add("PATCH", r"/xapi/v1/OutboundRules\((?P<key>[^/]+)\)", self.h_outbound_patch)
        r.add("POST", r"/xapi/v1/OutboundRules/Pbx\.MoveUpDown", self.h_move_up_down)
        r.add("GET", "/xapi/v1/DidNumbers", self.h_did_numbers)
        r.add("GET", r"/xapi/v1/Trunks/Pbx\.InitTrunk\(template=(?P<template>[^/]*)\)", self.h_init_trunk)
        for path, coll, first in (
            (r"/xapi/v1/Trunks/Pbx\.GetFirstAvailableTrunkNumber\(\)", self.trunks, FIRST_TRUNK_NUMBER),
            (r"/xapi/v1/Queues/Pbx\.GetFirstAvailableQueueNumber\(\)", self.queues, FIRST_GROUP_NUMBER),
            (r"/xapi/v1/RingGroups/Pbx\.GetFirstAvailableRingGroupNumber\(\)", self.ring_groups, FIRST_GROUP_NUMBER),
        ):
            r.add("GET", path, lambda q, first=first: st.ok(self.first_available(q, first)))
        for coll, nav, item_type in (
            (self.queues, "Agents", "Pbx.QueueAgent"),
            (self.queues, "Managers", "Pbx.QueueManager"),
            (self.ring_groups, "Members", "Pbx.RingGroupMember"),
        ):
            r.add(
                "GET",
                rf"/xapi/v1/{coll.entity_set}\((?P<key>[^/]+)\)/{nav}",
                lambda q, coll=coll, nav=nav, item_type=item_type: self.h_nav_list(q, coll, nav, item_type),
            )
        # Before 20.0.8 (no Number alternate keys): functions the 20.0.10 document no longer has,
        # so they are checked by hand against the entity schemas.
        for coll, function in (
            (self.trunks, "GetTrunkByNumber"),
            (self.queues, "GetByNumber"),
            (self.ring_groups, "GetByNumber"),
        ):
            r.add(
                "GET",
                rf"/xapi/v1/{coll.entity_set}/Pbx\.{function}\(number=(?P<number>[^/]*)\)",
                lambda q, coll=coll: self.h_get_by_number(q, coll),
                spec=False,
                check_request=self.check_by_number_request,
                check_response=lambda q, resp, coll=coll: self.check_by_number_response(q, resp, coll),
            )

    # ------------------------------------------------------------------ variants
    def _nav_forms(self, body: Any, type_name: str, props: tuple[str, ...]) -> Any:
        """How this PBX takes a navigation property in a POST / PATCH body (variant ``nav_write``).

        ``nav-inline``: inline values are stored; ``X@odata.bind`` stays what it always was here, an
        unknown property (400 from check_properties). ``nav-inline-ignored``: inline values are dropped
        without a word; ``nav-bind-only``: they are refused. In both, ``X@odata.bind`` (entity
        references: ``"Users(12)"`` / ``"Users(Number='100')"`` for members, ``"Trunks(7)"`` for
        TrunkDN, relative or absolute) is turned into the inline value the rest of the lab stores.
        """
        mode = self.st.variant("nav_write")
        if mode == "nav-inline" or not isinstance(body, dict):
            return body
        out = dict(body)
        for prop in props:
            if prop in out:
                if mode == "nav-bind-only":
                    raise ODataError(
                        400,
                        f"The navigation property '{prop}' of '{type_name}' cannot be written inline; "
                        f"bind it with '{prop}@odata.bind'.",
                    )
                del out[prop]  # nav-inline-ignored: a 2xx, and nothing changes
            bind = prop + "@odata.bind"
            if bind in out:
                out[prop] = self._bound(prop, out.pop(bind))
        return out

    def _bound(self, prop: str, value: Any) -> Any:
        def ref(text: Any, entity_set: str, coll: Collection) -> dict:
            match = re.search(rf"(?:^|/){entity_set}\((?P<key>[^/]+)\)$", text) if isinstance(text, str) else None
            if match is None:
                raise ODataError(400, f"{prop}@odata.bind: {text!r} is not a reference to {entity_set}(<key>).")
            return coll.resolve(match.group("key"))

        if prop == "TrunkDN":
            return None if value is None else {"Id": ref(value, "Trunks", self.trunks)["Id"]}
        if not isinstance(value, list):
            raise ODataError(400, f"{prop}@odata.bind must be a list of references to Users(<key>).")
        return [{"Number": ref(item, "Users", self.users)["Number"]} for item in value]

    def paging(self) -> tuple[int | None, bool]:
        """Variant ``paging``: (server page limit or None, whether @odata.nextLink links the next page)."""
        mode = self.st.variant("paging")
        return (None, False) if mode == "paging-none" else (SERVER_PAGE_LIMIT, mode == "paging-nextlink")

    def is_dnd(self, user: dict | None) -> bool:
        """Variant ``dnd``: the presence profile (what XAPI shows), or a flag it does not show."""
        if user is None:
            return False
        if self.st.variant("dnd") == "dnd-flag":
            return user.get("Number") in self.dnd_flags
        return user.get("CurrentProfileName") == E.DND_PROFILE

    def _user_write(self, body: dict, entity: dict | None) -> dict:
        """``PATCH /Users({Id})`` (the vendor document's): a presence profile must be one of v20's; under
        variant ``presence-ignored`` the PBX answers 204 and keeps the profile (the user's own switch)."""
        if "CurrentProfileName" in body:
            if body["CurrentProfileName"] not in E.PROFILE_NAMES:
                raise ODataError(400, f"CurrentProfileName must be one of {', '.join(E.PROFILE_NAMES)}.")
            if self.st.variant("presence_write") == "presence-ignored":
                body = {k: v for k, v in body.items() if k != "CurrentProfileName"}
        return body

    # ------------------------------------------------------------------ helpers
    def _dn_collections(self) -> list[Collection]:
        return [self.users, self.queues, self.ring_groups, self.trunks]

    def _dn_owner(self, number: str) -> dict | None:
        return next((e for c in self._dn_collections() for e in c.items.values() if e.get("Number") == number), None)

    def _check_new_number(self, number: Any, type_name: str) -> None:
        if not isinstance(number, str) or not re.fullmatch(r"\d{1,10}", number):
            raise ODataError(400, f"The {type_name} Number '{number}' must be 1 to 10 digits.")
        if self._dn_owner(number) is not None:
            raise ODataError(409, f"The number {number} is already in use.")

    def _next_number(self, first: int) -> str:
        n = first
        while self._dn_owner(str(n)) is not None:
            n += 1
        return str(n)

    def first_available(self, req: "Request", first: int) -> dict:
        return {
            "@odata.context": f"{self.st.public_base(req)}/xapi/v1/$metadata#Pbx.FirstAvailableNumber",
            "Number": self._next_number(first),
        }

    def _user_by_number(self, number: Any) -> dict | None:
        return self.users.find("Number", number)

    def _display(self, user: dict) -> str:
        return user.get("DisplayName") or f"{user.get('FirstName', '')} {user.get('LastName', '')}".strip()

    def _department(self, group_id: int = E.DEFAULT_DEPARTMENT_ID) -> list[dict]:
        group = self.groups.items.get(group_id)
        if group is None:
            return []
        # A Pbx.UserGroup membership record; MemberName/Type (the member's) are not known here: null.
        return [
            {
                "Id": group_id,
                "GroupId": group_id,
                "Name": group["Name"],
                "Number": group["Number"],
                "CanDelete": False,
                "MemberName": None,
                "Type": None,
                "Tags": [],
                "TranscriptionMode": None,
            }
        ]

    def _departments(self, value: Any, type_name: str) -> list[dict]:
        """A DN's Groups as written ([{"GroupId": n}, ...], the whole list): membership records of existing departments.

        Writing a queue's or ring group's Groups is the lab's reading of the document (Pbx.DN.Groups,
        Pbx.UserGroup.GroupId); how a real PBX takes it is UNCONFIRMED (docs/lab.md).
        """
        if not isinstance(value, list):
            raise ODataError(400, f"The property 'Groups' of '{type_name}' must be an array.")
        out: list[dict] = []
        for item in value:
            gid = item.get("GroupId") if isinstance(item, dict) else None
            if not isinstance(gid, int) or isinstance(gid, bool) or gid not in self.groups.items:
                raise ODataError(
                    400,
                    f"Groups: department {gid!r} does not exist.",
                    details=[{"code": "400", "message": "unknown department", "target": "Groups"}],
                )
            if all(g["GroupId"] != gid for g in out):
                out.extend(self._department(gid))
        return out

    def _members(self, value: Any, prop: str, type_name: str, extra: dict) -> list[dict]:
        """Agents / Managers / Members: a full list of existing extensions (by Number)."""
        if not isinstance(value, list):
            raise ODataError(400, f"The property '{prop}' of '{type_name}' must be an array.")
        out, seen = [], set()
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("Number"), str):
                raise ODataError(400, f"Each entry of '{prop}' needs the extension Number.")
            number = item["Number"]
            user = self._user_by_number(number)
            if user is None:
                raise ODataError(
                    400,
                    f"{prop}: extension {number} does not exist.",
                    details=[{"code": "400", "message": f"unknown extension {number}", "target": prop}],
                )
            if number in seen:
                raise ODataError(400, f"{prop}: extension {number} is listed twice.")
            seen.add(number)
            entry = {"Id": user["Id"], "Name": self._display(user), "Number": number, "Tags": []}
            for key, default in extra.items():
                entry[key] = item.get(key, default) if item.get(key) is not None else default
            out.append(entry)
        return out

    def destination(self, value: Any, prop: str) -> dict | None:
        """Normalise a Pbx.Destination: internal targets must exist; Type and Name are filled in."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ODataError(400, f"The property '{prop}' must be an object.")
        out = E.destination(value.get("To") or "None")
        for key in ("Number", "External"):
            if value.get(key) is not None:
                out[key] = value[key]
        to = out["To"]
        if to in _DN_TYPES or to == "VoiceMail":
            coll = getattr(self, _DN_TYPES.get(to, "users"))
            target = coll.find("Number", out["Number"])
            if target is None:
                kind = {"users": "extension", "queues": "queue", "ring_groups": "ring group"}[
                    _DN_TYPES.get(to, "users")
                ]
                raise ODataError(400, f"{prop}: {kind} {out['Number'] or '(empty)'} does not exist.")
            out["Type"] = "Extension" if to == "VoiceMail" else to
            out["Name"] = self._display(target) if coll is self.users else target.get("Name", "")
        elif to == "External":
            if not out["External"]:
                raise ODataError(400, f"{prop}: a destination of type External needs the External number.")
        return out

    def _routes(self, body: dict, prefix: str = "") -> None:
        for name in ("OutOfOfficeRoute", "BreakRoute", "HolidaysRoute"):
            value = body.get(name)
            if isinstance(value, dict) and "Route" in value:
                body[name] = {**value, "Route": self.destination(value["Route"], f"{prefix}{name}.Route")}

    def _non_negative(self, body: dict, *props: str) -> None:
        for prop in props:
            value = body.get(prop)
            if isinstance(value, int) and value < 0:
                raise ODataError(400, f"The property '{prop}' must not be negative.")

    # ------------------------------------------------------------------ users / control
    def _seed_users(self) -> list[dict]:
        return [
            {
                "Id": ident,
                "Number": number,
                "FirstName": first,
                "LastName": last,
                "DisplayName": f"{first} {last}",
                "EmailAddress": f"{first.lower()}@lab-pbx.example.com",
                "Groups": self._department(),
            }
            for ident, number, first, last in E.USER_SEED
        ]

    def upsert_extensions(self, items: Any) -> list[dict]:
        """``POST /_lab/extensions``: add or change extensions (``dnd`` sets CurrentProfileName)."""
        if not isinstance(items, list) or not items:
            raise ValueError('body must be {"extensions": [{"Number": "106", ...}, ...]}')
        plans = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("Number"), str) or not item["Number"]:
                raise ValueError("each extension needs a Number (string)")
            fields = {k: v for k, v in item.items() if k != "dnd"}
            if "dnd" in item:
                if not isinstance(item["dnd"], bool):
                    raise ValueError("dnd must be true or false")
                if self.st.variant("dnd") == "dnd-profile":
                    fields["CurrentProfileName"] = E.DND_PROFILE if item["dnd"] else "Available"
            if "Id" in fields:
                raise ValueError("Id is assigned by the lab")
            try:
                check_properties("Pbx.User", self.users.defaults, fields)
            except ODataError as exc:
                raise ValueError(exc.message) from None
            if "CurrentProfileName" in fields and fields["CurrentProfileName"] not in E.PROFILE_NAMES:
                raise ValueError(f"CurrentProfileName must be one of {', '.join(E.PROFILE_NAMES)}")
            existing = self._user_by_number(item["Number"])
            if existing is None and self._dn_owner(item["Number"]) is not None:
                raise ValueError(f"number {item['Number']} is used by another DN")
            plans.append((existing, fields, item.get("dnd")))
        out = []
        for existing, fields, dnd in plans:
            if dnd is not None and self.st.variant("dnd") == "dnd-flag":
                (self.dnd_flags.add if dnd else self.dnd_flags.discard)(fields["Number"])
            if existing is None:
                first, last = fields.get("FirstName", "Ext"), fields.get("LastName", fields["Number"])
                fields = {
                    "DisplayName": f"{first} {last}".strip(),
                    "FirstName": first,
                    "LastName": last,
                    "Groups": self._department(),
                    **fields,
                }
                existing = self.users.create(fields)
                existing = self.users.items[existing["Id"]]
            else:
                existing.update(copy.deepcopy(fields))
            out.append(self.users.render(existing))
        return out

    # ------------------------------------------------------------------ templates
    def _seed_templates(self) -> list[dict]:
        out = []
        for template_id in BUILT_INS:
            content = built_in_content(template_id, self.catalogue)
            head = header(parse_content(content))
            out.append(
                {
                    "Id": template_id,
                    "Name": head.get("name", template_id),
                    "Description": head.get("description", ""),
                    "Content": content,
                    "Countries": [],
                    "Tags": head.get("tags", "").split(","),
                    "TemplateType": "Supported",
                    "IsCustom": False,
                }
            )
        return out

    def _template_write(self, body: dict, existing: dict | None) -> dict:
        if self.st.variant("template_upload") == "template-file-only":
            raise ODataError(
                405,
                "Trunk templates cannot be uploaded or changed through the API on this PBX; "
                "put the .pv.xml file into the provider templates folder (Admin Console > Import Provider).",
            )
        if existing is not None and not existing.get("IsCustom", True):
            raise ODataError(403, f"The built-in template {existing['Id']} cannot be changed; create a copy.")
        if existing is None:
            ident = body.get("Id")
            if not isinstance(ident, str) or not ident.endswith(".pv.xml") or "/" in ident or "\\" in ident:
                raise ODataError(400, "The template Id must be a file name ending in .pv.xml.")
            if ident in self.templates.items:
                raise ODataError(409, f"The template {ident} already exists.")
            if "Content" not in body:
                raise ODataError(400, "The template Content is required.")
        if "Content" in body:
            head = header(parse_content(body["Content"]))
            if existing is None:
                if not body.get("Name"):
                    body["Name"] = head.get("name", "")
                if "TemplateType" not in body:
                    body["TemplateType"] = _TEMPLATE_TYPES.get(head.get("templatetype", "").lower(), "ThirdParty")
        name = body.get("Name", existing["Name"] if existing else "")
        if not isinstance(name, str) or not name.strip():
            raise ODataError(400, "The template Name is required.")
        body["IsCustom"] = True
        return body

    def _template_delete(self, entity: dict) -> None:
        if not entity.get("IsCustom", True):
            raise ODataError(403, f"The built-in template {entity['Id']} cannot be deleted.")
        for trunk in self.trunks.items.values():
            if trunk["Gateway"].get("TemplateFilename") == entity["Id"]:
                raise ODataError(400, f"The template {entity['Id']} is used by trunk {trunk['Number']}.")

    # ------------------------------------------------------------------ trunks
    def h_init_trunk(self, req: "Request") -> "Response":
        raw = req.params["template"]
        try:
            template_id = odata.parse_literal(raw)
        except ODataError:
            template_id = None
        if not isinstance(template_id, str):
            raise ODataError(400, f"The parameter template={raw} must be a string literal in single quotes.")
        template = self.templates.items.get(template_id)
        if template is None:
            raise ODataError(404, f"The template {template_id} was not found.")
        skeleton = copy.deepcopy(self.trunks.known())
        for nav in E.TRUNK_NAV:
            skeleton.pop(nav, None)
        del skeleton["Id"]
        deep_merge(skeleton, trunk_skeleton(template_id, template["Content"], self.catalogue))
        skeleton["Gateway"].pop("Id", None)
        skeleton["Number"] = self._next_number(FIRST_TRUNK_NUMBER)
        if self.since("20.0.10"):
            skeleton["Gateway"]["IsCustom"] = bool(template.get("IsCustom"))
        else:
            skeleton["Gateway"].pop("IsCustom", None)
        ctx = f"{self.st.public_base(req)}/xapi/v1/$metadata#Pbx.Trunk"
        return self.st.ok({"@odata.context": ctx, **skeleton})

    def _bindings(self, value: Any, prop: str, possible: str) -> list[dict]:
        if not isinstance(value, list):
            raise ODataError(400, f"Gateway.{prop} must be an array.")
        out = []
        for item in value:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("ParamId"), int)
                or not isinstance(item.get("ValueId"), int)
            ):
                raise ODataError(400, f"Each Gateway.{prop} entry needs the integer ParamId and ValueId.")
            param = self.catalogue.param_by_id(item["ParamId"])
            if param is None:
                raise ODataError(400, f"Gateway.{prop}: ParamId {item['ParamId']} is not a gateway parameter.")
            val = self.catalogue.value_by_id(item["ValueId"])
            if val is None:
                raise ODataError(400, f"Gateway.{prop}: ValueId {item['ValueId']} is not a gateway parameter value.")
            if val["Name"] not in param[possible]:
                raise ODataError(400, f"Gateway.{prop}: {val['Name']} is not a possible value of {param['Name']}.")
            out.append({"ParamId": param["Id"], "ValueId": val["Id"], "Custom": item.get("Custom") or ""})
        return out

    def _trunk_write(self, body: dict, existing: dict | None) -> dict:
        # Everything is checked first; the side effects (password, DID rules) come last, so a
        # refused request changes nothing.
        password = self._password_change(body.pop("AuthPassword", ...))
        for nav in E.TRUNK_NAV:
            if nav in body:
                raise ODataError(400, f"The navigation property '{nav}' of 'Pbx.Trunk' cannot be written here.")
        if "Gateway" in body:
            body["Gateway"] = self._gateway(body["Gateway"])
        gateway = body.get("Gateway") or {}
        if existing is None:
            body.setdefault("Number", self._next_number(FIRST_TRUNK_NUMBER))
            self._check_new_number(body["Number"], "trunk")
            if not gateway.get("Host"):
                raise ODataError(400, "Gateway.Host (registrar / server) is required.")
        elif "Host" in gateway and not gateway["Host"]:
            raise ODataError(400, "Gateway.Host (registrar / server) must not be empty.")
        self._non_negative(body, "SimultaneousCalls")
        removed: set[str] = set()
        if "DidNumbers" in body:
            body["DidNumbers"] = self._dids(body["DidNumbers"], existing)
            if existing is not None:
                removed = set(existing["DidNumbers"]) - set(body["DidNumbers"])
        # -- side effects
        if removed:
            # A DID removed from the trunk takes its DID rule with it.
            for rule in list(self.inbound.items.values()):
                if (rule.get("TrunkDN") or {}).get("Id") == existing["Id"] and rule["Data"] in removed:
                    del self.inbound.items[rule["Id"]]
        if existing is None:
            self._pending_password = password or None
        elif password is not None:
            if password:
                self.passwords[existing["Id"]] = password
            else:
                self.passwords.pop(existing["Id"], None)
        concealed = bool(self._pending_password) if existing is None else existing["Id"] in self.passwords
        body["AuthPassword"] = {"Concealed": concealed}
        return body

    @staticmethod
    def _password_change(pw: Any) -> str | None:
        """AuthPassword: {"Value": "..."} sets, {"Value": ""} or null clears, no Value keeps (None)."""
        if pw is ...:
            return None
        if pw is None:
            return ""
        if not isinstance(pw, dict):
            raise ODataError(400, "AuthPassword must be an object {Value, Concealed}.")
        value = pw.get("Value")
        if value is not None and not isinstance(value, str):
            raise ODataError(400, "AuthPassword.Value must be a string.")
        return value

    def _gateway(self, gateway: Any) -> dict:
        if not isinstance(gateway, dict):
            raise ODataError(400, "Gateway must be an object.")
        template = dict(E.GATEWAY_DEFAULTS)
        if not self.since("20.0.10"):
            template.pop("IsCustom")
        check_properties("Pbx.Gateway", template, gateway)
        gateway = dict(gateway)
        gateway.pop("Id", None)  # assigned by the PBX
        gateway.pop("IsCustom", None)  # follows the template
        for prop, possible in (
            ("OutboundParams", "OutboundPossibleValues"),
            ("InboundParams", "InboundPossibleValues"),
            ("SourceIdentification", "SourceIDPossibleValues"),
        ):
            if prop in gateway:
                gateway[prop] = self._bindings(gateway[prop], prop, possible)
        if "Codecs" in gateway:
            codecs = gateway["Codecs"]
            known = self.catalogue.codec_rfc_names()
            if not isinstance(codecs, list) or any(not isinstance(c, str) or c.upper() not in known for c in codecs):
                raise ODataError(400, f"Gateway.Codecs must name codecs of /Defs/Codecs ({', '.join(sorted(known))}).")
            if len({c.upper() for c in codecs}) != len(codecs):
                raise ODataError(400, "Gateway.Codecs lists a codec twice.")
            gateway["Codecs"] = [c.upper() for c in codecs]
        template_file = gateway.get("TemplateFilename")
        if template_file and template_file not in self.templates.items:
            raise ODataError(400, f"Gateway.TemplateFilename: the template {template_file} does not exist.")
        return gateway

    def _dids(self, value: Any, existing: dict | None) -> list[str]:
        if not isinstance(value, list) or any(not isinstance(d, str) or not _DID.match(d) for d in value):
            raise ODataError(400, "DidNumbers must be a list of numbers (digits, optionally with a leading +).")
        if len(set(value)) != len(value):
            raise ODataError(400, "DidNumbers lists a number twice.")
        if len(value) > MAX_DID_PER_TRUNK:
            raise ODataError(400, f"A trunk can have at most {MAX_DID_PER_TRUNK} DID numbers.")
        own = existing["Id"] if existing else None
        for trunk in self.trunks.items.values():
            if trunk["Id"] == own:
                continue
            clash = set(value) & set(trunk["DidNumbers"])
            if clash:
                raise ODataError(400, f"DID {sorted(clash)[0]} is already on trunk {trunk['Number']}.")
        return list(value)

    def _trunk_created(self, entity: dict) -> None:
        entity["Gateway"]["Id"] = entity["Id"]
        if self._pending_password:
            self.passwords[entity["Id"]] = self._pending_password
        entity["AuthPassword"] = {"Concealed": entity["Id"] in self.passwords}
        self._pending_password = None

    def _trunk_view(self, entity: dict) -> dict:
        out = copy.deepcopy(entity)
        out["AuthPassword"] = {"Concealed": True} if entity["Id"] in self.passwords else {"Concealed": False}
        if self.since("20.0.10"):
            template = self.templates.items.get(out["Gateway"].get("TemplateFilename", ""))
            out["Gateway"]["IsCustom"] = bool(template and template.get("IsCustom"))
        else:
            out["Gateway"].pop("IsCustom", None)
        out["RoutingRules"] = [
            self._rule_view(r)
            for r in self.inbound.items.values()
            if (r.get("TrunkDN") or {}).get("Id") == entity["Id"]
        ]
        return out

    def _rule_view(self, rule: dict) -> dict:
        """An inbound rule inside another entity: its navigation properties are not expanded there."""
        shown = self.inbound.render(rule)
        for nav in self.inbound.nav_props:
            shown.pop(nav, None)
        return shown

    def _trunk_delete(self, entity: dict) -> None:
        for rule in list(self.inbound.items.values()):
            if (rule.get("TrunkDN") or {}).get("Id") == entity["Id"]:
                del self.inbound.items[rule["Id"]]
        for rule in self.outbound.items.values():
            rule["Routes"] = [dict(E.UNUSED_ROUTE) if r["TrunkId"] == entity["Id"] else r for r in rule["Routes"]]
        self.passwords.pop(entity["Id"], None)

    def trunk_password(self, trunk_id: int) -> str | None:
        """For the SIP stand-in: the password a trunk authenticates with."""
        return self.passwords.get(trunk_id)

    # ------------------------------------------------------------------ queues / ring groups
    def _call_group_write(self, body: dict, existing: dict | None, type_name: str, label: str, members: dict) -> dict:
        if existing is None:
            body.setdefault("Number", self._next_number(FIRST_GROUP_NUMBER))
            self._check_new_number(body["Number"], label)
            body.setdefault("Groups", self._department())
            if not body.get("Name"):
                raise ODataError(400, f"The {label} Name is required.")
        elif "Name" in body and not body["Name"]:
            raise ODataError(400, f"The {label} Name must not be empty.")
        if "Groups" in body:
            body["Groups"] = self._departments(body["Groups"], type_name)
        for prop, extra in members.items():
            if prop in body:
                body[prop] = self._members(body[prop], prop, type_name, extra)
        if "ForwardNoAnswer" in body:
            body["ForwardNoAnswer"] = self.destination(body["ForwardNoAnswer"], "ForwardNoAnswer")
        self._routes(body)
        return body

    def _queue_write(self, body: dict, existing: dict | None) -> dict:
        self._non_negative(body, "RingTimeout", "MasterTimeout", "MaxCallersInQueue", "WrapUpTime", "SLATime")
        return self._call_group_write(
            body, existing, "Pbx.Queue", "queue", {"Agents": {"SkillGroup": ""}, "Managers": {}}
        )

    def _ring_group_write(self, body: dict, existing: dict | None) -> dict:
        self._non_negative(body, "RingTime")
        return self._call_group_write(body, existing, "Pbx.RingGroup", "ring group", {"Members": {}})

    def _dn_delete(self, entity: dict, to: str) -> None:
        for rule in self.inbound.items.values():
            for prop in ("OfficeHoursDestination", "OutOfOfficeHoursDestination", "HolidaysDestination"):
                dest = rule.get(prop) or {}
                if dest.get("To") == to and dest.get("Number") == entity["Number"]:
                    raise ODataError(
                        400,
                        f"{entity['Number']} is the destination of inbound rule {rule['Id']}"
                        f" ({rule['RuleName'] or rule['Data']}); change the rule first.",
                    )

    def h_nav_list(self, req: "Request", coll: Collection, nav: str, item_type: str) -> "Response":
        entity = coll.resolve(req.params["key"])
        rows, count = odata.apply_query(
            copy.deepcopy(entity.get(nav, [])),
            req.query,
            type_name=item_type,
            known_props={"Id", "Name", "Number", "SkillGroup", "Tags"},
        )
        select = odata._csv(odata._one(req.query, "$select"))
        return self.st.ok(
            odata.envelope(self.st.public_base(req), f"{coll.entity_set}({entity['Id']})/{nav}", rows, count, select)
        )

    # ---- pre-20.0.8 GetByNumber functions
    def h_get_by_number(self, req: "Request", coll: Collection) -> "Response":
        if self.since("20.0.8"):
            raise ODataError(
                404,
                f"No resource matches {req.path}: from 20.0.8 use " f"/{coll.entity_set}(Number='...').",
                code="NotFound",
            )
        try:
            number = odata.parse_literal(req.params["number"])
        except ODataError:
            number = None
        if not isinstance(number, str):
            raise ODataError(400, f"The parameter number={req.params['number']} must be a string literal.")
        entity = coll.find("Number", number)
        if entity is None:
            raise ODataError(404, f"{coll.type_name} with Number '{number}' was not found.")
        rows, _ = odata.apply_query(
            [coll.render(entity)], req.query, type_name=coll.type_name, nav_props=coll.nav_props
        )
        select = odata._csv(odata._one(req.query, "$select"))
        ctx = odata.context_url(self.st.public_base(req), coll.entity_set, select, entity=True)
        return self.st.ok({"@odata.context": ctx, **rows[0]})

    def check_by_number_request(self, req: "Request") -> list[str]:
        out = []
        if req.body:
            out.append(f"GET {req.path} takes no request body")
        for name in req.query:
            if name not in ("$select", "$expand"):
                out.append(f"query parameter {name} is not supported by a GetByNumber function")
        return out

    def check_by_number_response(self, req: "Request", resp: "Response", coll: Collection) -> list[str]:
        validator = self.st.validator
        if validator is None:
            return []
        try:
            body = json.loads(resp.body) if resp.body else None
        except ValueError:
            return ["response body is not JSON"]
        if resp.status == 200:
            # The entity as the 20.0.10 document describes it, as strictly as any documented
            # route: every property present, none undocumented, $select/$expand honoured.
            return validator.validate_component(
                f"response {resp.status} body",
                coll.type_name,
                body,
                query=req.query,
                strict=True,
                absent=self.st.absent_allowed(req),
            )
        return validator.validate_component(
            f"response {resp.status} body", "Pbx.ODataErrors.ODataError", body, strict=True, context=False
        )

    # ------------------------------------------------------------------ inbound rules / DIDs
    def _inbound_write(self, body: dict, existing: dict | None) -> dict:
        if "TrunkDN" in body:
            peer = body["TrunkDN"]
            if peer is not None:
                if not isinstance(peer, dict) or not isinstance(peer.get("Id"), int):
                    raise ODataError(400, 'TrunkDN must be written as an object with the trunk Id: {"Id": n}.')
                trunk = self.trunks.items.get(peer["Id"])
                if trunk is None:
                    raise ODataError(400, f"TrunkDN: trunk {peer['Id']} does not exist.")
                peer = {
                    "Id": trunk["Id"],
                    "Number": trunk["Number"],
                    "Name": trunk["Gateway"]["Name"],
                    "Type": "ExternalLine",
                    "Hidden": False,
                    "Tags": [],
                }
            body["TrunkDN"] = peer
        for prop in ("OfficeHoursDestination", "OutOfOfficeHoursDestination", "HolidaysDestination"):
            if prop in body:
                body[prop] = self.destination(body[prop], prop)
        candidate = copy.deepcopy(existing) if existing else copy.deepcopy(E.INBOUND_RULE_DEFAULTS)
        deep_merge(candidate, body)
        if candidate["Condition"] == "BasedOnDID":
            did = candidate.get("Data")
            if not isinstance(did, str) or not did:
                raise ODataError(400, "Data (the DID) is required for a BasedOnDID rule.")
            trunk_ref = candidate.get("TrunkDN")
            if not trunk_ref and self.st.variant("nav_write") == "nav-inline-ignored":
                return body  # the inline TrunkDN was dropped: the PBX keeps a rule on no trunk, without a word
            if not trunk_ref:
                raise ODataError(400, 'TrunkDN is required for a BasedOnDID rule: {"Id": <trunk id>}.')
            trunk = self.trunks.items[trunk_ref["Id"]]
            if did not in trunk["DidNumbers"]:
                raise ODataError(400, f"DID {did} is not a DID number of trunk {trunk['Number']}.")
            own = existing["Id"] if existing else None
            for rule in self.inbound.items.values():
                if (
                    rule["Id"] != own
                    and rule["Condition"] == "BasedOnDID"
                    and rule["Data"] == did
                    and (rule.get("TrunkDN") or {}).get("Id") == trunk["Id"]
                ):
                    raise ODataError(409, f"DID {did} already has inbound rule {rule['Id']}.")
        return body

    def h_did_numbers(self, req: "Request") -> "Response":
        rows = []
        for trunk in self.trunks.items.values():
            for did in trunk["DidNumbers"]:
                rule = next(
                    (
                        r
                        for r in self.inbound.items.values()
                        if r["Data"] == did and (r.get("TrunkDN") or {}).get("Id") == trunk["Id"]
                    ),
                    None,
                )
                rows.append(
                    {
                        "Number": did,
                        "TrunkId": trunk["Id"],
                        "TemplateFileName": trunk["Gateway"].get("TemplateFilename", ""),
                        # The rule without its own navigation property (TrunkDN): no nested $expand.
                        "RoutingRule": self._rule_view(rule) if rule else None,
                    }
                )
        rows, count = odata.apply_query(
            rows,
            req.query,
            type_name="Pbx.DidNumber",
            nav_props={"RoutingRule"},
            known_props={"Number", "TrunkId", "TemplateFileName"},
        )
        select = odata._csv(odata._one(req.query, "$select"))
        return self.st.ok(odata.envelope(self.st.public_base(req), "DidNumbers", rows, count, select))

    # ------------------------------------------------------------------ outbound rules
    def _outbound_write(self, body: dict, existing: dict | None) -> dict:
        if self.st.variant("outbound_routes") == "routes-need-five" and (
            ("Routes" in body and len(body["Routes"] or []) != MAX_ROUTES) or (existing is None and "Routes" not in body)
        ):
            raise ODataError(400, f"An outbound rule needs all {MAX_ROUTES} Routes (unused ones with TrunkId -1).")
        if "Routes" in body:
            routes = body["Routes"]
            if not isinstance(routes, list) or len(routes) > MAX_ROUTES:
                raise ODataError(400, f"Routes must be a list of at most {MAX_ROUTES} routes.")
            out = []
            for i, r in enumerate(routes, 1):
                if not isinstance(r, dict):
                    raise ODataError(400, f"Route {i} must be an object.")
                trunk_id = r.get("TrunkId")
                trunk_id = -1 if trunk_id is None else trunk_id
                if trunk_id != -1 and trunk_id not in self.trunks.items:
                    raise ODataError(400, f"Route {i}: trunk {trunk_id} does not exist.")
                strip = r.get("StripDigits") or 0
                if not isinstance(strip, int) or not 0 <= strip <= 255:
                    raise ODataError(400, f"Route {i}: StripDigits must be 0..255.")
                route = {"TrunkId": trunk_id, "StripDigits": strip}
                for key in ("Prepend", "Append", "CallerID"):
                    route[key] = r.get(key) or ""
                out.append(dict(E.UNUSED_ROUTE) if trunk_id == -1 else route)
            body["Routes"] = out + [dict(E.UNUSED_ROUTE) for _ in range(MAX_ROUTES - len(out))]
        if "GroupIds" in body:
            ids = body["GroupIds"]
            for gid in ids:
                if gid not in self.groups.items:
                    raise ODataError(400, f"GroupIds: department {gid} does not exist.")
        body.pop("GroupNames", None)  # derived from GroupIds
        if "DNRanges" in body:
            for rng in body["DNRanges"]:
                lo, hi = (rng or {}).get("From"), (rng or {}).get("To")
                if not (isinstance(lo, str) and isinstance(hi, str) and lo.isdigit() and hi.isdigit()):
                    raise ODataError(400, "DNRanges entries need From and To extension numbers.")
                if int(lo) > int(hi):
                    raise ODataError(400, f"DNRanges: From {lo} is greater than To {hi}.")
        lengths = body.get("NumberLengthRanges")
        if lengths and not _LENGTHS.match(lengths.replace(" ", "")):
            raise ODataError(400, "NumberLengthRanges must look like '10,11-13'.")
        return body

    def _outbound_view(self, entity: dict) -> dict:
        out = copy.deepcopy(entity)
        for r in out["Routes"]:
            if r["TrunkId"] != -1 and r["TrunkId"] in self.trunks.items:
                r["TrunkName"] = self.trunks.items[r["TrunkId"]]["Gateway"]["Name"]
        out["GroupNames"] = [self.groups.items[g]["Name"] for g in out["GroupIds"] if g in self.groups.items]
        return out

    def _renumber(self, moved: int | None = None, position: Any = None, skip: int | None = None) -> None:
        """Keep priorities 1..n; put rule *moved* at *position* (1-based, clamped) when given."""
        rules = [
            r
            for r in sorted(self.outbound.items.values(), key=lambda r: (r["Priority"], r["Id"]))
            if r["Id"] not in (moved, skip)
        ]
        if moved is not None:
            at = position if isinstance(position, int) and position > 0 else len(rules) + 1
            rules.insert(min(at, len(rules) + 1) - 1, self.outbound.items[moved])
        for i, rule in enumerate(rules, 1):
            rule["Priority"] = i

    def h_outbound_create(self, req: "Request") -> "Response":
        body = self.st.json_body(req)
        position = body.get("Priority") if isinstance(body, dict) else None
        created = self.outbound.create(body)
        self._renumber(created["Id"], position)
        rendered = self.outbound.render(self.outbound.items[created["Id"]])
        ctx = odata.context_url(self.st.public_base(req), self.outbound.entity_set, entity=True)
        return self.st.ok({"@odata.context": ctx, **rendered}, status=201)

    def h_outbound_patch(self, req: "Request") -> "Response":
        body = self.st.json_body(req)
        entity = self.outbound.resolve(req.params["key"])
        self.outbound.patch(req.params["key"], body)
        if isinstance(body, dict) and "Priority" in body:
            self._renumber(entity["Id"], body["Priority"])
        return self.st.no_content()

    def h_move_up_down(self, req: "Request") -> "Response":
        body = self.st.json_body(req)
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            raise ODataError(400, 'MoveUpDown needs {"id": <rule id>, "up": true|false}.')
        up = body.get("up", False)
        rule = self.outbound.items.get(body["id"])
        if rule is None:
            raise ODataError(404, f"Pbx.OutboundRule with key {body['id']} was not found.")
        self._renumber(rule["Id"], max(1, rule["Priority"] - 1) if up else rule["Priority"] + 1)
        return self.st.no_content()
