"""Declarative Twilio resources.

Adding a resource is one :class:`ResourceDef`: where it lives, its SID
prefix, the list's data key and its fields, plus optional limits and small
hooks for rules the generic store cannot know (a password rule, a global
name). The shared :class:`Resources` store implements create/list/fetch/
update/delete with Twilio's conventions (PascalCase form in, snake_case JSON
out, page envelopes, RFC 2822 dates), child cascades on delete, mappings
whose SID is the mapped object's SID, and a separate in-memory store for
write-only secrets.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NoReturn
from urllib.parse import urlencode

from ..masking import fingerprint

API_ROOT = "/2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
BAD_VALUE = 21502  # the lab's code for a bad parameter value (see docs/lab.md)


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Field:
    param: str  # PascalCase form parameter
    name: str  # snake_case JSON field
    kind: str = "str"  # str | bool | int | method
    default: Any = None
    updatable: bool = True  # False: sending it on update is a 400
    write_only: bool = False  # accepted, stored, never returned
    secret: bool = False  # accepted, kept only in the secrets store (passwords); implies write_only
    max_length: int | None = None


@dataclass
class Ctx:
    """What a hook sees: the account's store, the request's values, the record."""

    store: "Resources"
    rdef: "ResourceDef"
    parents: dict[str, str]
    values: dict[str, Any]  # parsed form values (hooks may normalise them in place)
    record: dict | None  # None on create
    sid: str

    def fail(self, message: str, code: int | None = None, status: int = 400) -> NoReturn:
        raise TwilioError(status, code if code is not None else self.rdef.error_code, message)


Hook = Callable[[Ctx], None]


@dataclass
class ResourceDef:
    name: str  # key in the state, e.g. "applications"
    path: str  # below /Accounts/{AccountSid}, e.g. "Applications"
    sid_prefix: str  # "AP"
    data_key: str  # list envelope key
    fields: list[Field]
    required_create: tuple[str, ...] = ()
    required_update: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)  # list query param -> field name
    operations: frozenset = frozenset({"list", "create", "fetch", "update", "delete"})
    extra: Callable[[dict, str], dict] | None = None  # computed fields (record, uri)
    # Nested resources: the path holds {ParentSid}; the record keeps it under this field.
    parent_param: str | None = None
    parent_field: str | None = None
    parent_resource: str | None = None
    # ---- limits and hooks -------------------------------------------------
    error_code: int = BAD_VALUE  # code of this resource's validation errors
    max_count: int | None = None  # per account, or per parent for nested resources
    check: Hook | None = None  # create and update, after parsing, before commit
    before_delete: Hook | None = None  # raise to refuse a delete
    computed: Callable[["Resources", dict], dict] | None = None  # fields computed from the whole store
    output: tuple[str, ...] | None = None  # exact response keys, in order (default: all)
    # Mappings: the POST names an existing object (param, resource name); the
    # mapping's SID is that object's SID, unique per parent.
    maps: tuple[str, str] | None = None
    # Records shared with another definition (legacy and Auth/Calls mappings).
    store: str | None = None
    # Lists show the newest record first (the call log), else the oldest.
    newest_first: bool = False

    @property
    def store_key(self) -> str:
        return self.store or self.name

    def field_by_param(self) -> dict[str, Field]:
        return {f.param: f for f in self.fields}

    def list_pattern(self) -> str:
        rel = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        return rf"{API_ROOT}/Accounts/(?P<AccountSid>[^/]+)/{rel}\.json"

    def instance_pattern(self) -> str:
        return self.list_pattern()[: -len(r"\.json")] + r"/(?P<Sid>[^/]+)\.json"


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def rfc2822(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.timezone.utc).replace(microsecond=0))


def _now() -> str:
    return rfc2822(dt.datetime.now(dt.timezone.utc))


def _convert(fdef: Field, raw: str) -> Any:
    if fdef.kind == "bool":
        low = raw.lower()
        if low not in ("true", "false"):
            raise TwilioError(400, BAD_VALUE, f"Invalid value {raw!r} for {fdef.param}: expected true or false")
        return low == "true"
    if fdef.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise TwilioError(400, BAD_VALUE, f"Invalid value {raw!r} for {fdef.param}: expected an integer") from None
    if fdef.kind == "method":
        up = raw.upper()
        if up not in ("GET", "POST"):
            raise TwilioError(400, BAD_VALUE, f"Invalid value {raw!r} for {fdef.param}: expected GET or POST")
        return up
    return raw


class Resources:
    """All records of all declared resources of one account.

    ``records[store_key][key]`` holds plain dicts; ``key`` is the SID, or
    ``<parent sid>/<sid>`` for nested resources (a mapping's SID is the
    mapped list's SID, so it repeats across domains). Secrets (passwords)
    live in ``secrets[sid]`` and never in a record.
    """

    def __init__(
        self,
        defs: dict[str, ResourceDef],
        account_sid: str,
        peers: Callable[[], Iterable["Resources"]] | None = None,
    ):
        self.defs = defs
        self.account_sid = account_sid
        self.records: dict[str, dict[str, dict]] = {}
        for rdef in defs.values():
            self.records.setdefault(rdef.store_key, {})
        self.secrets: dict[str, dict[str, str]] = {}
        self._peers = peers
        # The readings of unconfirmed behaviours this account plays (lab/variants.py; set by the app).
        self.variants: dict[str, str] = {}

    def separate_mappings(self) -> bool:
        return self.variants.get("mapping_stores") == "mappings-separate"

    def _sk(self, rdef: ResourceDef) -> str:
        """The store of a definition's records: a definition that shares another's store (the legacy
        mappings) has one of its own when the account plays ``mappings-separate``."""
        if rdef.store and self.separate_mappings():
            self.records.setdefault(rdef.name, {})
            return rdef.name
        return rdef.store_key

    def clear(self) -> None:
        for key in [k for k in self.records if k not in {d.store_key for d in self.defs.values()}]:
            del self.records[key]  # stores of a variant (mappings-separate) come back when used
        for recs in self.records.values():
            recs.clear()
        self.secrets.clear()

    # ---- helpers (also for hooks) -----------------------------------------
    def peers(self) -> list["Resources"]:
        """Every account's store in the lab (this one included)."""
        return list(self._peers()) if self._peers else [self]

    def rows(self, name: str, **match: Any) -> list[dict]:
        """Records of resource *name* whose fields equal *match*."""
        recs = self.records[self._sk(self.defs[name])].values()
        return [r for r in recs if all(r.get(k) == v for k, v in match.items())]

    def get(self, name: str, sid: str) -> dict | None:
        """A top-level record (domain, list) by SID; nested records are keyed by parent too."""
        return self.records[self._sk(self.defs[name])].get(sid)

    def base_path(self, rdef: ResourceDef, parents: dict[str, str]) -> str:
        rel = rdef.path
        for key, value in parents.items():
            rel = rel.replace("{" + key + "}", value)
        return f"{API_ROOT}/Accounts/{self.account_sid}/{rel}"

    @staticmethod
    def _key(rdef: ResourceDef, parents: dict[str, str], sid: str) -> str:
        if rdef.parent_param and parents.get(rdef.parent_param):
            return f"{parents[rdef.parent_param]}/{sid}"
        return sid

    def _check_parent(self, rdef: ResourceDef, parents: dict[str, str], uri: str) -> None:
        if rdef.parent_resource and rdef.parent_param:
            if self.get(rdef.parent_resource, parents.get(rdef.parent_param, "")) is None:
                raise TwilioError(404, 20404, f"The requested resource {uri} was not found")

    def uri_of(self, rdef: ResourceDef, rec: dict) -> str:
        return f"{self.base_path(rdef, rec.get('_parents', {}))}/{rec['sid']}.json"

    def render(self, rdef: ResourceDef, rec: dict) -> dict:
        hidden = {f.name for f in rdef.fields if f.write_only or f.secret}
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_") and k not in hidden}
        uri = self.uri_of(rdef, rec)
        out["uri"] = uri
        if rdef.computed:
            out.update(rdef.computed(self, rec))
        if rdef.extra:
            out.update(rdef.extra(rec, uri))
        if rdef.output is not None:
            out = {k: out.get(k) for k in rdef.output}
        return out

    def state_view(self, rdef: ResourceDef, rec: dict) -> dict:
        """The record for /_lab/state: the response plus what the lab keeps.

        Secrets appear only as a fingerprint.
        """
        out = self.render(rdef, rec)
        if rdef.parent_field:
            out.setdefault(rdef.parent_field, rec.get(rdef.parent_field))
        kept = self.secrets.get(rec["sid"])
        if kept:
            # Not named after the secret: /_lab/state masks any *password* key.
            out["lab_secret_fingerprint"] = ",".join(fingerprint(v) for _, v in sorted(kept.items()))
        return out

    def _parse(self, rdef: ResourceDef, form: dict[str, list[str]], *, creating: bool) -> dict:
        by_param = rdef.field_by_param()
        required = rdef.required_create if creating else rdef.required_update
        for param in required:
            if param not in form:
                raise TwilioError(
                    400, 21201 if creating else 21202, f"Missing required parameter {param} in the post body"
                )
        values = {}
        for param, vals in form.items():
            fdef = by_param.get(param)
            if fdef is None:
                continue  # Twilio ignores parameters it does not know
            if not creating and not fdef.updatable:
                raise TwilioError(400, rdef.error_code, f"{param} cannot be changed once the resource exists")
            value = _convert(fdef, vals[-1])
            if fdef.max_length is not None and isinstance(value, str) and len(value) > fdef.max_length:
                raise TwilioError(
                    400, rdef.error_code, f"{param} is too long: {len(value)} characters, at most {fdef.max_length}"
                )
            values[fdef.name] = value
        return values

    def _find(self, rdef: ResourceDef, sid: str, parents: dict[str, str], uri: str) -> dict:
        rec = self.records[self._sk(rdef)].get(self._key(rdef, parents, sid))
        if rec is None or any(rec.get(rdef.parent_field) != v for v in parents.values() if rdef.parent_field):
            raise TwilioError(404, 20404, f"The requested resource {uri} was not found")
        return rec

    def _siblings(self, rdef: ResourceDef, parents: dict[str, str]) -> list[dict]:
        recs = self.records[self._sk(rdef)].values()
        if not rdef.parent_field:
            return list(recs)
        return [r for r in recs if all(r.get(rdef.parent_field) == v for v in parents.values())]

    def _mapped_sid(self, rdef: ResourceDef, parents: dict[str, str], form: dict[str, list[str]]) -> str:
        param, target = rdef.maps  # type: ignore[misc]
        sid = form[param][-1]
        if self.get(target, sid) is None:
            path = self.base_path(self.defs[target], {}) + f"/{sid}.json"
            raise TwilioError(404, 20404, f"The requested resource {path} was not found ({param} {sid})")
        if any(r["sid"] == sid for r in self._siblings(rdef, parents)):
            raise TwilioError(400, rdef.error_code, f"{param} {sid} is already mapped to this resource")
        return sid

    def _take_secrets(self, rdef: ResourceDef, values: dict) -> dict[str, str]:
        return {f.name: values.pop(f.name) for f in rdef.fields if f.secret and f.name in values}

    # ---- operations -----------------------------------------------------
    def create(self, rdef: ResourceDef, parents: dict[str, str], form: dict[str, list[str]], uri: str) -> dict:
        self._check_parent(rdef, parents, uri)
        values = self._parse(rdef, form, creating=True)
        if rdef.max_count is not None and len(self._siblings(rdef, parents)) >= rdef.max_count:
            where = "this list" if rdef.parent_field else "this account"
            raise TwilioError(
                400, rdef.error_code, f"Cannot create more than {rdef.max_count} {rdef.data_key} in {where}"
            )
        sid = self._mapped_sid(rdef, parents, form) if rdef.maps else new_sid(rdef.sid_prefix)
        if rdef.check:
            rdef.check(Ctx(self, rdef, parents, values, None, sid))
        secrets = self._take_secrets(rdef, values)
        now = _now()
        rec: dict[str, Any] = {"sid": sid, "account_sid": self.account_sid}
        for fdef in rdef.fields:
            if not fdef.secret:
                rec[fdef.name] = copy.deepcopy(fdef.default)
        rec.update(values)
        if rdef.parent_field and rdef.parent_param:
            rec[rdef.parent_field] = parents[rdef.parent_param]
        rec["date_created"] = rec["date_updated"] = now
        rec["_parents"] = dict(parents)
        self.records[self._sk(rdef)][self._key(rdef, parents, sid)] = rec
        if secrets:
            self.secrets[sid] = secrets
        return self.render(rdef, rec)

    def fetch(self, rdef: ResourceDef, parents: dict[str, str], sid: str, uri: str) -> dict:
        self._check_parent(rdef, parents, uri)
        return self.render(rdef, self._find(rdef, sid, parents, uri))

    def update(
        self, rdef: ResourceDef, parents: dict[str, str], sid: str, form: dict[str, list[str]], uri: str
    ) -> dict:
        self._check_parent(rdef, parents, uri)
        rec = self._find(rdef, sid, parents, uri)
        values = self._parse(rdef, form, creating=False)
        if rdef.check:
            rdef.check(Ctx(self, rdef, parents, values, rec, sid))
        secrets = self._take_secrets(rdef, values)
        rec.update(values)
        if secrets:
            self.secrets.setdefault(sid, {}).update(secrets)
        rec["date_updated"] = _now()
        return self.render(rdef, rec)

    def delete(self, rdef: ResourceDef, parents: dict[str, str], sid: str, uri: str) -> None:
        self._check_parent(rdef, parents, uri)
        rec = self._find(rdef, sid, parents, uri)
        if rdef.before_delete:
            rdef.before_delete(Ctx(self, rdef, parents, {}, rec, sid))
        self._drop(rdef, rec)

    def _drop(self, rdef: ResourceDef, rec: dict) -> None:
        """Remove a record, its secrets and (recursively) its children."""
        self.records[self._sk(rdef)].pop(self._key(rdef, rec.get("_parents", {}), rec["sid"]), None)
        if not rdef.maps:
            self.secrets.pop(rec["sid"], None)
        for child in self.defs.values():
            if child.parent_resource == rdef.name and child.parent_field:
                for crec in self.rows(child.name, **{child.parent_field: rec["sid"]}):
                    self._drop(child, crec)

    def list(self, rdef: ResourceDef, parents: dict[str, str], query: dict[str, list[str]], uri: str) -> dict:
        self._check_parent(rdef, parents, uri)
        rows = self._siblings(rdef, parents)
        if rdef.newest_first:
            rows.reverse()
        filters = []
        for param, fname in rdef.filters.items():
            if param in query:
                value = query[param][-1]
                filters.append((param, value))
                rows = [r for r in rows if r.get(fname) == value]
        return paginate(
            rdef.data_key,
            self.base_path(rdef, parents) + ".json",
            filters,
            [self.render(rdef, r) for r in rows],
            query,
        )


def _int_param(query: dict[str, list[str]], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name, [None])[-1]
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid {name}: {raw!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        raise TwilioError(400, 20001, f"Invalid {name}: {value} is outside {low}..{high or 'inf'}")
    return value


def paginate(
    data_key: str, path: str, filters: list[tuple[str, str]], rows: list[dict], query: dict[str, list[str]]
) -> dict:
    """Twilio's list envelope.

    The page is located by ``Page`` x ``PageSize``; ``PageToken`` is the sid
    the previous page ended on (``PA...``), honoured when it still exists so
    deletions between pages do not skip rows.
    """
    size = _int_param(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int_param(query, "Page", 0, 0, None)
    start = page * size
    token = query.get("PageToken", [None])[-1]
    if token and token.startswith("PA"):
        sids = [r.get("sid") for r in rows]
        if token[2:] in sids:
            start = sids.index(token[2:]) + 1
    chunk = rows[start : start + size]

    def uri(page_no: int, page_token: str | None = None) -> str:
        params = list(filters) + [("PageSize", str(size)), ("Page", str(page_no))]
        if page_token:
            params.append(("PageToken", page_token))
        return f"{path}?{urlencode(params)}"

    has_next = start + size < len(rows)
    return {
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1, "PA" + chunk[-1]["sid"]) if has_next and chunk else None,
        "previous_page_uri": uri(page - 1, "PB" + chunk[0]["sid"] if chunk else None) if page > 0 else None,
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + max(len(chunk) - 1, 0),
        "uri": uri(page, token),
        data_key: chunk,
    }


# ---------------------------------------------------------------- definitions


def _url(param: str, name: str) -> Field:
    return Field(param, name)


def _method(param: str, name: str) -> Field:
    return Field(param, name, kind="method", default="POST")


APPLICATIONS = ResourceDef(
    name="applications",
    path="Applications",
    sid_prefix="AP",
    data_key="applications",
    fields=[
        Field("FriendlyName", "friendly_name"),
        Field("ApiVersion", "api_version", default="2010-04-01"),
        _url("VoiceUrl", "voice_url"),
        _method("VoiceMethod", "voice_method"),
        _url("VoiceFallbackUrl", "voice_fallback_url"),
        _method("VoiceFallbackMethod", "voice_fallback_method"),
        _url("StatusCallback", "status_callback"),
        _method("StatusCallbackMethod", "status_callback_method"),
        Field("VoiceCallerIdLookup", "voice_caller_id_lookup", kind="bool", default=False),
        _url("SmsUrl", "sms_url"),
        _method("SmsMethod", "sms_method"),
        _url("SmsFallbackUrl", "sms_fallback_url"),
        _method("SmsFallbackMethod", "sms_fallback_method"),
        _url("SmsStatusCallback", "sms_status_callback"),
        _url("MessageStatusCallback", "message_status_callback"),
        Field("PublicApplicationConnectEnabled", "public_application_connect_enabled", kind="bool", default=False),
    ],
    filters={"FriendlyName": "friendly_name"},
)

ALL = [APPLICATIONS]
