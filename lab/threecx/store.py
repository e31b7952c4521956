"""Entity stores for the 3CX stand-in.

A later issue adds a collection (Trunks, Queues, ...) by instantiating
:class:`Collection` with the entity's defaults and calling
:func:`register_collection`; the OData plumbing (keys, $filter, $select,
envelopes, errors) lives here once.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

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


class Collection:
    """An entity set with Int32 ``Id`` keys and optional alternate keys."""

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
    ):
        self.entity_set = entity_set
        self.type_name = type_name
        self.defaults = copy.deepcopy(defaults)
        self.defaults.setdefault("Id", 0)
        self.alt_keys = alt_keys
        self.nav_props = set(nav_props)
        self.immutable = set(immutable) | {"Id"}
        self.unique = unique
        self.first_id = first_id
        self.on_create = on_create
        self.items: dict[int, dict] = {}
        self.next_id = first_id

    def reset(self) -> None:
        self.items.clear()
        self.next_id = self.first_id

    def snapshot(self) -> list[dict]:
        return [copy.deepcopy(v) for v in self.items.values()]

    # -- lookup --
    def resolve(self, segment: str) -> dict:
        name, value = odata.parse_key(segment)
        if name is None or name == "Id":
            if not isinstance(value, int) or not -(2**31) <= value <= INT32_MAX:
                raise ODataError(400, f"The key value '{segment}' is not a valid Edm.Int32.")
            entity = self.items.get(value)
        elif name in self.alt_keys:
            entity = next((e for e in self.items.values() if e.get(name) == value), None)
        else:
            raise ODataError(400, f"'{name}' is not a key of '{self.type_name}'.")
        if entity is None:
            raise ODataError(404, f"{self.type_name} with key {segment} was not found.")
        return entity

    def _check_unique(self, candidate: dict, exclude: int | None = None) -> None:
        for prop in self.unique:
            value = candidate.get(prop)
            if value in (None, ""):
                continue
            for ident, other in self.items.items():
                if ident != exclude and other.get(prop) == value:
                    raise ODataError(409, f"{self.type_name} with {prop} '{value}' already exists.")

    # -- operations --
    def list(self, query: dict[str, list[str]], base_url: str) -> dict:
        rows, count = odata.apply_query(
            list(self.items.values()),
            query,
            type_name=self.type_name,
            nav_props=self.nav_props,
            known_props=set(self.defaults),
        )
        select = odata._csv(odata._one(query, "$select"))
        return odata.envelope(base_url, self.entity_set, copy.deepcopy(rows), count, select)

    def get(self, segment: str, query: dict[str, list[str]], base_url: str) -> dict:
        entity = self.resolve(segment)
        rows, _ = odata.apply_query([entity], query, type_name=self.type_name, nav_props=self.nav_props)
        select = odata._csv(odata._one(query, "$select"))
        return {
            "@odata.context": odata.context_url(base_url, self.entity_set, select, entity=True),
            **copy.deepcopy(rows[0]),
        }

    def create(self, body: Any) -> dict:
        check_properties(self.type_name, self.defaults, body)
        if self.next_id > INT32_MAX:
            raise ODataError(507, "Id space exhausted.")
        entity = copy.deepcopy(self.defaults)
        entity.update({k: copy.deepcopy(v) for k, v in body.items() if not k.startswith("@odata.")})
        entity["Id"] = self.next_id
        self._check_unique(entity)
        if self.on_create:
            self.on_create(entity)
        self.items[entity["Id"]] = entity
        self.next_id += 1
        return copy.deepcopy(entity)

    def patch(self, segment: str, body: Any) -> None:
        entity = self.resolve(segment)
        check_properties(self.type_name, self.defaults, body)
        for prop in self.immutable:
            if prop in body and body[prop] != entity.get(prop):
                raise ODataError(400, f"The property '{prop}' of '{self.type_name}' cannot be changed.")
        candidate = {**entity, **body}
        self._check_unique(candidate, exclude=entity["Id"])
        entity.update({k: copy.deepcopy(v) for k, v in body.items() if not k.startswith("@odata.")})

    def delete(self, segment: str) -> None:
        entity = self.resolve(segment)
        del self.items[entity["Id"]]


def register_collection(standin: Any, coll: Collection) -> None:
    """Wire the five standard OData routes of *coll* on a 3CX stand-in."""
    base = f"/xapi/v1/{coll.entity_set}"
    key = base + r"\((?P<key>[^/]+)\)"
    standin.router.add("GET", base, lambda r: standin.ok(coll.list(r.query, standin.public_base(r))))
    standin.router.add("POST", base, lambda r: standin.ok(coll.create(standin.json_body(r)), status=201))
    standin.router.add("GET", key, lambda r: standin.ok(coll.get(r.params["key"], r.query, standin.public_base(r))))
    standin.router.add("PATCH", key, lambda r: standin.no_content(coll.patch(r.params["key"], standin.json_body(r))))
    standin.router.add("DELETE", key, lambda r: standin.no_content(coll.delete(r.params["key"])))
