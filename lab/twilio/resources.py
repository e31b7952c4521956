"""Declarative Twilio resources.

Adding a resource is one :class:`ResourceDef`: where it lives, its SID
prefix, the list's data key and its fields. The shared :class:`Resources`
store implements create/list/fetch/update/delete with Twilio's conventions
(PascalCase form in, snake_case JSON out, page envelopes, RFC 2822 dates).
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

API_ROOT = "/2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


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
    updatable: bool = True
    write_only: bool = False  # accepted, stored, never returned (passwords)


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


def _convert(fdef: Field, raw: str) -> Any:
    if fdef.kind == "bool":
        low = raw.lower()
        if low not in ("true", "false"):
            raise TwilioError(400, 21502, f"Invalid value {raw!r} for {fdef.param}: expected true or false")
        return low == "true"
    if fdef.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise TwilioError(400, 21502, f"Invalid value {raw!r} for {fdef.param}: expected an integer") from None
    if fdef.kind == "method":
        up = raw.upper()
        if up not in ("GET", "POST"):
            raise TwilioError(400, 21502, f"Invalid value {raw!r} for {fdef.param}: expected GET or POST")
        return up
    return raw


class Resources:
    """All records of all declared resources of one account."""

    def __init__(self, defs: dict[str, ResourceDef], account_sid: str):
        self.defs = defs
        self.account_sid = account_sid
        self.records: dict[str, dict[str, dict]] = {name: {} for name in defs}

    def clear(self) -> None:
        for recs in self.records.values():
            recs.clear()

    # ---- helpers --------------------------------------------------------
    def _base_path(self, rdef: ResourceDef, parents: dict[str, str]) -> str:
        rel = rdef.path
        for key, value in parents.items():
            rel = rel.replace("{" + key + "}", value)
        return f"{API_ROOT}/Accounts/{self.account_sid}/{rel}"

    def _check_parent(self, rdef: ResourceDef, parents: dict[str, str], uri: str) -> None:
        if rdef.parent_resource and rdef.parent_param:
            if parents.get(rdef.parent_param) not in self.records[rdef.parent_resource]:
                raise TwilioError(404, 20404, f"The requested resource {uri} was not found")

    def render(self, rdef: ResourceDef, rec: dict) -> dict:
        hidden = {f.name for f in rdef.fields if f.write_only}
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_") and k not in hidden}
        if rdef.extra:
            out.update(rdef.extra(rec, rec["uri"]))
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
            if fdef is None or (not creating and not fdef.updatable):
                continue  # Twilio ignores parameters it does not know
            values[fdef.name] = _convert(fdef, vals[-1])
        return values

    def _find(self, rdef: ResourceDef, sid: str, parents: dict[str, str], uri: str) -> dict:
        rec = self.records[rdef.name].get(sid)
        if rec is None or any(rec.get(rdef.parent_field) != v for v in parents.values() if rdef.parent_field):
            raise TwilioError(404, 20404, f"The requested resource {uri} was not found")
        return rec

    # ---- operations -----------------------------------------------------
    def create(self, rdef: ResourceDef, parents: dict[str, str], form: dict[str, list[str]], uri: str) -> dict:
        self._check_parent(rdef, parents, uri)
        values = self._parse(rdef, form, creating=True)
        now = rfc2822(dt.datetime.now(dt.timezone.utc))
        sid = new_sid(rdef.sid_prefix)
        rec: dict[str, Any] = {"sid": sid, "account_sid": self.account_sid}
        for fdef in rdef.fields:
            rec[fdef.name] = copy.deepcopy(fdef.default)
        rec.update(values)
        if rdef.parent_field and rdef.parent_param:
            rec[rdef.parent_field] = parents[rdef.parent_param]
        rec["date_created"] = rec["date_updated"] = now
        rec["uri"] = f"{self._base_path(rdef, parents)}/{sid}.json"
        self.records[rdef.name][sid] = rec
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
        rec.update(values)
        rec["date_updated"] = rfc2822(dt.datetime.now(dt.timezone.utc))
        return self.render(rdef, rec)

    def delete(self, rdef: ResourceDef, parents: dict[str, str], sid: str, uri: str) -> None:
        self._check_parent(rdef, parents, uri)
        self._find(rdef, sid, parents, uri)
        del self.records[rdef.name][sid]

    def list(self, rdef: ResourceDef, parents: dict[str, str], query: dict[str, list[str]], uri: str) -> dict:
        self._check_parent(rdef, parents, uri)
        rows = [
            r
            for r in self.records[rdef.name].values()
            if not rdef.parent_field or all(r.get(rdef.parent_field) == v for v in parents.values())
        ]
        filters = []
        for param, fname in rdef.filters.items():
            if param in query:
                value = query[param][-1]
                filters.append((param, value))
                rows = [r for r in rows if r.get(fname) == value]
        return paginate(
            rdef.data_key,
            self._base_path(rdef, parents) + ".json",
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
