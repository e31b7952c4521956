"""Entity stores for the 3CX stand-in.

A later issue adds a collection (Trunks, Queues, ...) by instantiating
:class:`Collection` with the entity's defaults and calling
:func:`register_collection`; the OData plumbing (keys, $filter, $select,
envelopes, errors) lives here once.
"""

from __future__ import annotations

import copy
from typing import Any, Callable
from urllib.parse import quote, urlencode

from . import odata
from .odata import ODataError

INT32_MAX = 2**31 - 1


def _type_ok(default: Any, value: Any) -> bool:
    """Loose Edm type check against the default value's Python type."""
    if value is None or default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return True


_EDM = {bool: "Edm.Boolean", int: "Edm.Int32", float: "Edm.Double", str: "Edm.String"}


def check_properties(type_name: str, template: dict, body: Any, readonly: set[str] = frozenset()) -> None:
    """Reject unknown properties and wrong primitive types like the PBX does."""
    if not isinstance(body, dict):
        raise ODataError(400, "The request body must be a JSON object.")
    for key, value in body.items():
        if key.startswith("@odata."):
            continue
        if key not in template:
            raise ODataError(
                400,
                f"The property '{key}' does not exist on type '{type_name}'. "
                "Make sure to only use property names that are defined by the type.",
            )
        if key in readonly:
            raise ODataError(400, f"The property '{key}' on type '{type_name}' cannot be changed.")
        if not _type_ok(template[key], value):
            edm = _EDM.get(type(template[key]), "the declared type")
            raise ODataError(400, f"Cannot convert the literal '{value}' to the expected type '{edm}'.")


class Singleton:
    """A single entity such as ``/E164Settings``."""

    def __init__(self, entity_set: str, type_name: str, defaults: dict):
        self.entity_set = entity_set
        self.type_name = type_name
        self.defaults = copy.deepcopy(defaults)
        self.value = copy.deepcopy(defaults)

    def reset(self) -> None:
        self.value = copy.deepcopy(self.defaults)

    def get(self, query: dict[str, list[str]], base_url: str) -> dict:
        rows, _ = odata.apply_query([self.value], query, type_name=self.type_name)
        select = odata._csv(odata._one(query, "$select"))
        return {"@odata.context": odata.context_url(base_url, self.entity_set, select), **rows[0]}

    def patch(self, body: Any) -> None:
        check_properties(self.type_name, self.defaults, body)
        self.value.update({k: v for k, v in body.items() if not k.startswith("@odata.")})


def deep_merge(target: dict, patch: dict) -> None:
    """PATCH semantics: complex (dict) values merge, everything else (arrays too) is replaced."""
    for key, value in patch.items():
        if key.startswith("@odata."):
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class Collection:
    """An entity set with Int32 ``Id`` keys (or string keys) and optional alternate keys.

    Rules of one entity set are small hooks:

    * ``before_write(body)`` rewrites a POST or PATCH body before anything checks it (the wire
      forms of navigation properties a variant accepts, lab/variants.py);
    * ``on_write(body, existing)`` validates and normalises a POST (``existing`` is None)
      or PATCH body and returns the body to store (raise :class:`ODataError` to refuse);
    * ``view(entity)`` is what reads show (computed or concealed properties);
    * ``on_delete(entity)`` refuses a delete (raise) or cleans up references;
    * ``hidden()`` names the properties that the current PBX version does not have
      (absent from replies, unknown in writes);
    * ``alt_keys_enabled()`` says whether ``(Number='...')`` keys exist in this version.
    """

    def __init__(
        self,
        entity_set: str,
        type_name: str,
        defaults: dict,
        *,
        alt_keys: tuple[str, ...] = (),
        nav_props: tuple[str, ...] = (),
        immutable: tuple[str, ...] = (),
        unique: tuple[str, ...] = (),
        first_id: int = 1,
        on_create: Callable[[dict], None] | None = None,
        string_key: bool = False,
        on_write: Callable[[dict, dict | None], dict] | None = None,
        before_write: Callable[[Any], Any] | None = None,
        view: Callable[[dict], dict] | None = None,
        on_delete: Callable[[dict], None] | None = None,
        hidden: Callable[[], set] | None = None,
        alt_keys_enabled: Callable[[], bool] | None = None,
        order: Callable[[dict], Any] | None = None,
        seed: Callable[[], list[dict]] | None = None,
    ):
        self.entity_set = entity_set
        self.type_name = type_name
        self.defaults = copy.deepcopy(defaults)
        self.defaults.setdefault("Id", "" if string_key else 0)
        self.alt_keys = alt_keys
        self.nav_props = set(nav_props)
        self.immutable = set(immutable) | {"Id"}
        self.unique = unique
        self.first_id = first_id
        self.on_create = on_create
        self.string_key = string_key
        self.on_write = on_write
        self.before_write = before_write or (lambda body: body)
        self.view = view
        self.on_delete = on_delete
        self.hidden = hidden or (lambda: set())
        self.alt_keys_enabled = alt_keys_enabled or (lambda: True)
        self.order = order
        self.seed = seed
        self.items: dict[Any, dict] = {}
        self.next_id = first_id
        self.reset()

    def reset(self) -> None:
        self.items.clear()
        self.next_id = self.first_id
        for entity in self.seed() if self.seed else []:
            entity = {**copy.deepcopy(self.defaults), **copy.deepcopy(entity)}
            self.items[entity["Id"]] = entity
            if not self.string_key:
                self.next_id = max(self.next_id, entity["Id"] + 1)

    def snapshot(self) -> list[dict]:
        return [self.render(v) for v in self.ordered()]

    def ordered(self) -> list[dict]:
        values = list(self.items.values())
        return sorted(values, key=self.order) if self.order else values

    def known(self) -> dict:
        """The property template of this version (defaults minus hidden properties)."""
        hidden = self.hidden()
        return {k: v for k, v in self.defaults.items() if k not in hidden}

    def render(self, entity: dict) -> dict:
        shown = self.view(entity) if self.view else copy.deepcopy(entity)
        for name in self.hidden():
            shown.pop(name, None)
        return shown

    # -- lookup --
    def resolve(self, segment: str) -> dict:
        name, value = odata.parse_key(segment)
        if name is None or name == "Id":
            if self.string_key:
                if not isinstance(value, str):
                    raise ODataError(400, f"The key value '{segment}' is not a valid Edm.String literal.")
            elif not isinstance(value, int) or not -(2**31) <= value <= INT32_MAX:
                raise ODataError(400, f"The key value '{segment}' is not a valid Edm.Int32.")
            entity = self.items.get(value)
        elif name in self.alt_keys and self.alt_keys_enabled():
            entity = next((e for e in self.items.values() if e.get(name) == value), None)
        else:
            raise ODataError(400, f"'{name}' is not a key of '{self.type_name}'.")
        if entity is None:
            raise ODataError(404, f"{self.type_name} with key {segment} was not found.")
        return entity

    def find(self, prop: str, value: Any) -> dict | None:
        return next((e for e in self.items.values() if e.get(prop) == value), None)

    def _check_unique(self, candidate: dict, exclude: Any = None) -> None:
        for prop in self.unique:
            value = candidate.get(prop)
            if value in (None, ""):
                continue
            for ident, other in self.items.items():
                if ident != exclude and other.get(prop) == value:
                    raise ODataError(409, f"{self.type_name} with {prop} '{value}' already exists.")

    # -- operations --
    def list(self, query: dict[str, list[str]], base_url: str, paging: tuple[int | None, bool] = (None, False)) -> dict:
        """The envelope of one page. ``paging`` = (server page limit, emit @odata.nextLink): a PBX
        variant (lab/variants.py) that pages on its own, with or without saying so."""
        limit, link = paging
        rows, count = odata.apply_query(
            [self.render(e) for e in self.ordered()],
            query,
            type_name=self.type_name,
            nav_props=self.nav_props,
            known_props=set(self.known()),
        )
        select = odata._csv(odata._one(query, "$select"))
        more = limit is not None and len(rows) > limit
        out = odata.envelope(base_url, self.entity_set, rows[:limit] if more else rows, count, select)
        if more and link:
            skip = int(odata._one(query, "$skip") or 0) + limit
            top = odata._one(query, "$top")
            params = {k: v[0] for k, v in query.items() if k not in ("$skip", "$top")}
            params["$skip"] = str(skip)
            if top is not None:
                params["$top"] = str(int(top) - limit)
            # $ and the OData literal characters stay readable, as OData services write them.
            query_text = urlencode(params, quote_via=lambda text, *_: quote(text, safe="$'(),"))
            out["@odata.nextLink"] = f"{base_url}/xapi/v1/{self.entity_set}?{query_text}"
        return out

    def get(self, segment: str, query: dict[str, list[str]], base_url: str) -> dict:
        entity = self.resolve(segment)
        rows, _ = odata.apply_query([self.render(entity)], query, type_name=self.type_name, nav_props=self.nav_props)
        select = odata._csv(odata._one(query, "$select"))
        return {"@odata.context": odata.context_url(base_url, self.entity_set, select, entity=True), **rows[0]}

    def create(self, body: Any) -> dict:
        body = self.before_write(body)
        check_properties(self.type_name, self.known(), body)
        body = {k: v for k, v in body.items() if not k.startswith("@odata.")}
        if self.on_write:
            body = self.on_write(body, None)
        entity = copy.deepcopy(self.defaults)
        for name in self.hidden():
            entity.pop(name, None)
        entity.update(copy.deepcopy(body))
        if self.string_key:
            if not isinstance(entity.get("Id"), str) or not entity["Id"]:
                raise ODataError(400, f"The key property 'Id' of '{self.type_name}' is required.")
            if entity["Id"] in self.items:
                raise ODataError(409, f"{self.type_name} with key '{entity['Id']}' already exists.")
        else:
            if self.next_id > INT32_MAX:
                raise ODataError(507, "Id space exhausted.")
            entity["Id"] = self.next_id
        self._check_unique(entity)
        if self.on_create:
            self.on_create(entity)
        self.items[entity["Id"]] = entity
        if not self.string_key:
            self.next_id += 1
        return self.render(entity)

    def created(self, rendered: dict, base_url: str) -> dict:
        """The 201 body of a create: the entity with its context, navigation properties left out
        (OData sends them only when expanded)."""
        rows, _ = odata.apply_query([rendered], {}, type_name=self.type_name, nav_props=self.nav_props)
        return {"@odata.context": odata.context_url(base_url, self.entity_set, entity=True), **rows[0]}

    def patch(self, segment: str, body: Any) -> None:
        entity = self.resolve(segment)
        body = self.before_write(body)
        check_properties(self.type_name, self.known(), body)
        body = {k: v for k, v in body.items() if not k.startswith("@odata.")}
        for prop in self.immutable:
            if prop in body and body[prop] != entity.get(prop):
                raise ODataError(400, f"The property '{prop}' of '{self.type_name}' cannot be changed.")
        if self.on_write:
            body = self.on_write(body, entity)
        candidate = copy.deepcopy(entity)
        deep_merge(candidate, body)
        self._check_unique(candidate, exclude=entity["Id"])
        entity.clear()
        entity.update(candidate)

    def delete(self, segment: str) -> None:
        entity = self.resolve(segment)
        if self.on_delete:
            self.on_delete(entity)
        del self.items[entity["Id"]]


ALL_OPERATIONS = ("list", "create", "get", "patch", "delete")


def register_collection(standin: Any, coll: Collection, operations: tuple[str, ...] = ALL_OPERATIONS) -> None:
    """Wire the standard OData routes of *coll* on a 3CX stand-in.

    ``operations`` limits them (catalogues are list-only, ``Users`` read-only); a
    documented but unwired operation answers 501 through the framework.
    """
    base = f"/xapi/v1/{coll.entity_set}"
    key = base + r"\((?P<key>[^/]+)\)"
    r = standin.router
    if "list" in operations:
        r.add("GET", base, lambda q: standin.ok(coll.list(q.query, standin.public_base(q), standin.pbx.paging())))
    if "create" in operations:
        r.add("POST", base, lambda q: standin.ok(coll.created(coll.create(standin.json_body(q)), standin.public_base(q)), status=201))
    if "get" in operations:
        r.add("GET", key, lambda q: standin.ok(coll.get(q.params["key"], q.query, standin.public_base(q))))
    if "patch" in operations:
        r.add("PATCH", key, lambda q: standin.no_content(coll.patch(q.params["key"], standin.json_body(q))))
    if "delete" in operations:
        r.add("DELETE", key, lambda q: standin.no_content(coll.delete(q.params["key"])))
