"""Load the vendors' OpenAPI documents and validate lab traffic against them.

The validator is a thin layer over ``jsonschema`` rather than a full OpenAPI
framework: it has to match OData paths such as ``/Queues(Number={Number})``,
report *every* mismatch as a readable sentence, and treat form-encoded Twilio
parameters strictly (an unknown PascalCase name is almost always a client
bug, even though the vendor document does not forbid it).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:lab:spec"
# Bump when the parsed form written to the cache changes shape.
_CACHE_FORMAT = 1
# Shape violations reported per response (the rest are counted).
_MAX_SHAPE = int(os.environ.get("LAB_SPEC_MAX_SHAPE_MESSAGES", "8"))


class _StrictBoolLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader whose booleans are only true/false.

    YAML 1.1 would turn the 3CX enum value ``No`` (and Yes/On/Off) into a
    boolean, which silently changes the enums we validate against.
    """


_StrictBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictBoolLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml_text(text: str) -> Any:
    return yaml.load(text, Loader=_StrictBoolLoader)  # noqa: S506 - safe loader subclass


def load_document(path: Path, cache_dir: Path | None) -> dict:
    """Parse a JSON or YAML document, caching the parsed form as JSON.

    Parsing the 1.2 MB 3CX YAML takes 1-5 s; the JSON cache loads in ~50 ms.
    The cache is keyed by the document's hash so a new vendor copy is picked
    up without manual invalidation.
    """
    raw = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(raw)
    digest = hashlib.sha256(raw).hexdigest()[:24]
    cached = None
    if cache_dir is not None:
        cached = cache_dir / f"{path.stem}-{digest}-v{_CACHE_FORMAT}.json"
        if cached.is_file():
            try:
                return json.loads(cached.read_bytes())
            except ValueError:
                pass
    doc = load_yaml_text(raw.decode("utf-8"))
    if cached is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.replace(tmp, cached)
    return doc


# --------------------------------------------------------------------------
# OpenAPI 3.0 schema -> JSON Schema draft 4


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        # Absolute refs let any sub-schema be used as a validator root.
        out["$ref"] = SPEC_URI + ref
    if out.get("nullable") is True:
        del out["nullable"]
        typ = out.get("type")
        if isinstance(typ, str):
            out["type"] = [typ, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = list(out["enum"]) + [None]
        elif typ is None and any(k in out for k in ("$ref", "allOf", "anyOf", "oneOf")):
            # Draft 4 ignores siblings of $ref, so nullability must wrap it.
            out = {"anyOf": [out, {"type": "null"}]}
    elif "nullable" in out and isinstance(out.get("nullable"), bool):
        del out["nullable"]
    return out


_format_checker = FormatChecker(formats=())


@_format_checker.checks("date-time-rfc-2822", raises=ValueError)
def _is_rfc2822(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return email.utils.parsedate_to_datetime(value) is not None


@_format_checker.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@_format_checker.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@_format_checker.checks("uint8")
def _is_uint8(value: object) -> bool:
    return not isinstance(value, int) or 0 <= value <= 255


# RFC 3986 URI-reference: Twilio's "uri" fields hold absolute URLs and relative paths alike
# ("/2010-04-01/Accounts/AC.../Applications.json"); an empty string is a valid reference.
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


@_format_checker.checks("uri")
def _is_uri_reference(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _URI_CHARS.match(value):
        return False
    head = value.split("/", 1)[0]
    return ":" not in head or bool(_URI_SCHEME.match(value))


@_format_checker.checks("uri-map")
def _is_uri_map(value: object) -> bool:
    if not isinstance(value, dict):
        return True
    return all(isinstance(v, str) and _is_uri_reference(v) for v in value.values())


_DATE_TIME = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


@_format_checker.checks("date-time")
def _is_rfc3339(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@_format_checker.checks("date")
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", value))


@_format_checker.checks("time")
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?", value))


# Edm.Duration as OData JSON writes it (ISO 8601 day-time duration), e.g. "PT30S", "P1DT2H".
@_format_checker.checks("duration")
def _is_duration(value: object) -> bool:
    return not isinstance(value, str) or bool(
        re.fullmatch(r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", value)
    )


@_format_checker.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(
        re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value)
    )


@_format_checker.checks("http-method")
def _is_http_method(value: object) -> bool:
    return not isinstance(value, str) or value in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}


@_format_checker.checks("iso-country-code")
def _is_country(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[A-Z]{2}", value))


@_format_checker.checks("currency")
def _is_currency(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[A-Za-z]{3}", value))


# Twilio "phone-number": E.164, or the non-PSTN addresses its call log carries (sip:, client:).
@_format_checker.checks("phone-number")
def _is_phone_number(value: object) -> bool:
    if not isinstance(value, str) or value == "":
        return True
    return bool(re.fullmatch(r"\+?\d{1,15}", value) or re.match(r"^(sip|client|sips|app):\S+$", value))


# The formats the documents use that are checked; the others ("endpoint", "twiml",
# "ice-server", "phone-number-capabilities", 3CX's "decimal", "float", "double") only get
# their JSON type checked.
CHECKED_FORMATS = tuple(sorted(_format_checker.checkers))


# --------------------------------------------------------------------------


@dataclass
class Operation:
    method: str
    template: str
    op: dict
    path_item: dict
    params: dict = field(default_factory=dict)  # (in, name) -> parameter object


@dataclass
class _PathEntry:
    template: str
    regex: re.Pattern
    literal_len: int
    item: dict


def _template_regex(template: str) -> tuple[re.Pattern, int]:
    parts = re.split(r"(\{[^}/]+\})", template)
    rx, literal = "", 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = re.sub(r"\W", "_", part[1:-1])
            rx += f"(?P<{name}>[^/]+)"
        else:
            rx += re.escape(part)
            literal += len(part)
    return re.compile("^" + rx + "$"), literal


def _fmt_path(path: Iterable) -> str:
    items = [str(p) for p in path]
    return "/".join(items) if items else "(root)"


class SpecValidator:
    """Validates requests and responses of one vendor document.

    ``error_check`` validates responses whose status the document does not
    list (the Twilio document describes no error responses at all, yet every
    Twilio error has a fixed shape): it returns a list of violations.
    """

    def __init__(
        self,
        doc: dict,
        name: str,
        error_check: Callable[[int, Any], list[str]] | None = None,
        *,
        odata: bool = False,
    ):
        self.name = name
        # OData (3CX): navigation properties, $select/$expand and "@odata." control information
        # change which properties a response carries (see StrictShapes).
        self.odata = odata
        self.doc = _convert(doc)
        self.error_check = error_check
        server = (self.doc.get("servers") or [{"url": ""}])[0]["url"]
        self.prefix = urlsplit(server).path.rstrip("/")
        self.registry = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(self.doc))
        self._validators: dict[int, Draft4Validator] = {}
        self._component_refs: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._paths: list[_PathEntry] = []
        for template, item in self.doc.get("paths", {}).items():
            rx, literal = _template_regex(template)
            self._paths.append(_PathEntry(template, rx, literal, item))
        # Most literal first: /Queues(Number={Number}) must win over /Queues({Id}).
        self._paths.sort(key=lambda e: -e.literal_len)
        self.strict = StrictShapes(self)

    # ---- helpers --------------------------------------------------------
    def _deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            ref = node["$ref"]
            if not ref.startswith(SPEC_URI + "#/"):
                break
            target: Any = self.doc
            for token in ref[len(SPEC_URI) + 2 :].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
        return node

    def _validator(self, schema: dict) -> Draft4Validator:
        key = id(schema)
        with self._lock:
            val = self._validators.get(key)
            if val is None:
                val = Draft4Validator(schema, registry=self.registry, format_checker=_format_checker)
                self._validators[key] = val
        return val

    def _schema_errors(self, where: str, schema: dict, value: Any) -> list[str]:
        errors = sorted(self._validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
        out = []
        for err in errors[:5]:
            out.append(f"{where}: {err.message} (at {_fmt_path(err.absolute_path)})")
        if len(errors) > 5:
            out.append(f"{where}: {len(errors) - 5} more schema errors")
        return out

    def validate_component(
        self,
        where: str,
        name: str,
        value: Any,
        query: dict[str, list[str]] | None = None,
        strict: bool = False,
        context: bool = True,
        absent: "Callable[[str, dict], Iterable[str]] | None" = None,
    ) -> list[str]:
        """Validate *value* against ``#/components/schemas/<name>`` (for routes the
        document no longer describes, such as functions removed in a later version).

        ``strict``: also the response shape rules of :class:`StrictShapes` (every documented
        property present, none undocumented), with the request's ``query`` ($select, $expand).
        """
        if name not in self.doc.get("components", {}).get("schemas", {}):
            return [f"{where}: the {self.name} document has no schema {name}"]
        with self._lock:
            schema = self._component_refs.setdefault(name, {"$ref": f"{SPEC_URI}#/components/schemas/{name}"})
        out = self._schema_errors(where, schema, value)
        if strict:
            out += self.strict.check(where, schema, value, query or {}, context=context, absent=absent)
        return out

    def strip_prefix(self, path: str) -> str | None:
        if not self.prefix:
            return path
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return path[len(self.prefix) :] or "/"
        return None

    def find(self, method: str, path: str) -> tuple[Operation | None, dict, str | None]:
        """Return (operation, path params, violation) for a request path."""
        rel = self.strip_prefix(path)
        if rel is None:
            return None, {}, f"path {path} is outside the document's server path {self.prefix}"
        matched = None
        for entry in self._paths:
            m = entry.regex.match(rel)
            if m:
                matched = (entry, m)
                break
        if matched is None:
            return None, {}, f"path {rel} is not described by the {self.name} document"
        entry, m = matched
        op = entry.item.get(method.lower())
        if not isinstance(op, dict):
            allowed = sorted(k.upper() for k in entry.item if k in {"get", "post", "put", "patch", "delete"})
            return None, {}, f"method {method} is not described for {entry.template} (documented: {', '.join(allowed)})"
        params: dict = {}
        for p in list(entry.item.get("parameters", [])) + list(op.get("parameters", [])):
            p = self._deref(p)
            params[(p.get("in"), p.get("name"))] = p
        # Regex group names had non-word characters replaced; map back.
        values = {}
        for (loc, name), _p in params.items():
            if loc == "path":
                gname = re.sub(r"\W", "_", name)
                if gname in m.groupdict():
                    values[name] = m.group(gname)
        return Operation(method.upper(), entry.template, op, entry.item, params), values, None

    @staticmethod
    def _coerce(raw: str, schema: dict) -> Any:
        typ = schema.get("type")
        types = typ if isinstance(typ, list) else [typ]
        if "integer" in types:
            if re.fullmatch(r"[+-]?\d+", raw):
                return int(raw)
        if "number" in types:
            try:
                return float(raw)
            except ValueError:
                pass
        if "boolean" in types:
            if raw in ("true", "false"):
                return raw == "true"
        return raw

    def _coerce_param(self, values: list[str], schema: dict, explode: bool) -> Any:
        schema = self._deref(schema)
        typ = schema.get("type")
        types = typ if isinstance(typ, list) else [typ]
        if "array" in types:
            items = self._deref(schema.get("items", {}))
            raw_items = values if explode else [x for v in values for x in v.split(",")]
            return [self._coerce(v, items) for v in raw_items]
        if len(values) != 1:
            return values  # fails the schema with a readable message
        return self._coerce(values[0], schema)

    # ---- request ----------------------------------------------------------
    def validate_request(
        self, method: str, path: str, query: dict[str, list[str]], content_type: str | None, body: bytes
    ) -> list[str]:
        op, path_values, problem = self.find(method, path)
        if problem:
            return [problem]
        out: list[str] = []
        for (loc, name), p in op.params.items():
            schema = p.get("schema", {})
            if loc == "path":
                if name in path_values:
                    value = self._coerce(path_values[name], self._deref(schema))
                    out += self._schema_errors(f"path parameter {name}", schema, value)
            elif loc == "query":
                if name in query:
                    explode = p.get("explode", p.get("style", "form") == "form")
                    value = self._coerce_param(query[name], schema, explode)
                    out += self._schema_errors(f"query parameter {name}", schema, value)
                elif p.get("required"):
                    out.append(f"required query parameter {name} is missing")
        documented_query = {name for (loc, name) in op.params if loc == "query"}
        for name in query:
            if name not in documented_query:
                out.append(
                    f"query parameter {name} is not documented for {op.method} {op.template}"
                    f" (documented: {', '.join(sorted(documented_query)) or 'none'})"
                )
        out += self._validate_request_body(op, content_type, body)
        return out

    def _validate_request_body(self, op: Operation, content_type: str | None, body: bytes) -> list[str]:
        rb = self._deref(op.op.get("requestBody")) if op.op.get("requestBody") else None
        if rb is None:
            if body:
                return [f"{op.method} {op.template} takes no request body"]
            return []
        if not body:
            if rb.get("required"):
                return [f"{op.method} {op.template} requires a request body"]
            return []
        media = (content_type or "").split(";")[0].strip().lower()
        content = rb.get("content", {})
        if media not in content:
            return [f"request Content-Type {media or '(none)'} is not documented (documented: {', '.join(content)})"]
        schema = content[media].get("schema", {})
        if media == "application/json":
            try:
                value = json.loads(body)
            except ValueError as exc:
                return [f"request body is not valid JSON: {exc}"]
            return self._schema_errors("request body", schema, value)
        if media == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError) as exc:
                return [f"request body is not valid form encoding: {exc}"]
            resolved = self._deref(schema)
            props = resolved.get("properties", {})
            out, value = [], {}
            for key, vals in form.items():
                if key not in props:
                    out.append(f"form parameter {key} is not documented for {op.method} {op.template}")
                    continue
                value[key] = self._coerce_param(vals, props[key], explode=True)
            return out + self._schema_errors("form body", schema, value)
        return []

    # ---- response ---------------------------------------------------------
    def validate_response(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: bytes,
        query: dict[str, list[str]] | None = None,
        absent: "Callable[[str, dict], Iterable[str]] | None" = None,
    ) -> list[str]:
        op, _values, problem = self.find(method, path)
        if problem:
            return []  # already reported on the request
        responses = op.op.get("responses", {})
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if resp is None and "default" in responses:
            resp = responses["default"]
        if resp is None:
            if status >= 400 and self.error_check is not None:
                try:
                    value = json.loads(body) if body else None
                except ValueError:
                    return [f"error response {status} is not JSON"]
                return self.error_check(status, value)
            return [
                f"response status {status} is not documented for {op.method} {op.template}"
                f" (documented: {', '.join(responses)})"
            ]
        resp = self._deref(resp)
        content = resp.get("content") or {}
        if not content:
            return [f"response {status} must have no body"] if body else []
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in content:
            return [f"response Content-Type {media or '(none)'} is not documented for {status}"]
        if media != "application/json":
            return []
        try:
            value = json.loads(body)
        except ValueError as exc:
            return [f"response body is not valid JSON: {exc}"]
        where = f"response {status} body"
        schema = content[media].get("schema", {})
        out = self._schema_errors(where, schema, value)
        if 200 <= status < 300:
            out += self.strict.check(where, schema, value, query or {}, absent=absent)
        elif self.odata and status >= 400:
            # The OData error shape (3cx-xapi.md: {"error":{"code","message","target","details","innerError"}} [C]).
            out += self.strict.check(where, schema, value, {}, context=False)
        return out


@dataclass
class _Shape:
    name: str  # the component name (or title) the properties come from, for messages
    props: dict  # property name -> schema
    nav: frozenset  # OData navigation properties (x-ms-navigationProperty)


def _options(query: dict[str, list[str]], name: str) -> list[str] | None:
    vals = query.get(name)
    if not vals:
        return None
    return [p.strip() for v in vals for p in v.split(",") if p.strip()]


class StrictShapes:
    """Response shapes stricter than the documents' letter, as the real APIs behave.

    The vendors' documents mark almost no property ``required``, yet both APIs serialise
    every property of an object (null when unset) and nothing else. So for a 2xx body:

    - every property the schema lists (``allOf`` merged) must be present, null allowed;
    - a property the schema does not list is a violation;
    - OData (3CX): a navigation property appears only when ``$expand`` names it (or ``*``);
      with ``$select`` an entity carries exactly the selected properties (and the expanded
      ones); ``@odata.context`` is required at the top of the body, ``@odata.count`` present
      exactly when ``$count=true``, ``@odata.nextLink`` allowed on a collection; no other
      ``@odata.`` annotation.
    - schemas without properties (free-form objects, maps) are not constrained further.
    """

    def __init__(self, validator: "SpecValidator"):
        self.v = validator
        self._shapes: dict[int, tuple[Any, _Shape | None]] = {}
        self._lock = threading.Lock()

    # ---- schema helpers -------------------------------------------------
    def _deref_named(self, node: Any) -> tuple[Any, str | None]:
        """(the schema behind a $ref chain, the name of the component it names first)."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith(SPEC_URI + "#/"):
            return self.v._deref(node), node["$ref"].rsplit("/", 1)[-1]
        return node, None

    def _non_null(self, node: dict) -> list:
        branches = node.get("anyOf") or node.get("oneOf") or []
        return [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null" and len(b) == 1)]

    def is_nav(self, node: Any) -> bool:
        node, _ = self._deref_named(node)
        if not isinstance(node, dict):
            return False
        if node.get("x-ms-navigationProperty") is True:
            return True
        return any(self.is_nav(b) for b in self._non_null(node))

    def shape(self, node: Any) -> _Shape | None:
        key = id(node)
        with self._lock:
            hit = self._shapes.get(key)
            # The node is kept with its shape, so its id cannot be reused by another object.
            if hit is not None and hit[0] is node:
                return hit[1]
        result = self._build(node, 0)
        with self._lock:
            self._shapes[key] = (node, result)
        return result

    def _build(self, node: Any, depth: int) -> _Shape | None:
        node, name = self._deref_named(node)
        if not isinstance(node, dict) or depth > 30:
            return None
        props: dict = {}
        nav: set = set()
        found = False
        for part in node.get("allOf") or []:
            sub = self._build(part, depth + 1)
            if sub is not None:
                found = True
                props.update(sub.props)
                nav |= sub.nav
                name = name or sub.name
        if isinstance(node.get("properties"), dict):
            found = True
            for pname, pschema in node["properties"].items():
                props[pname] = pschema
                if self.v.odata and self.is_nav(pschema):
                    nav.add(pname)
        if not found:
            branches = self._non_null(node)
            if len(branches) == 1:
                return self._build(branches[0], depth + 1)
            return None
        return _Shape(name or node.get("title") or "(inline schema)", props, frozenset(nav))

    def _items(self, node: Any) -> Any:
        node, _ = self._deref_named(node)
        if not isinstance(node, dict):
            return None
        if "items" in node:
            return node["items"]
        branches = self._non_null(node)
        if len(branches) == 1:
            return self._items(branches[0])
        for part in node.get("allOf") or []:
            found = self._items(part)
            if found is not None:
                return found
        return None

    # ---- the check ------------------------------------------------------
    def check(
        self,
        where: str,
        schema: Any,
        value: Any,
        query: dict[str, list[str]],
        *,
        context: bool = True,
        absent: "Callable[[str, dict], Iterable[str]] | None" = None,
    ) -> list[str]:
        """Shape violations of a response body.

        ``context``: an OData success body (needs @odata.context); ``absent(type name, object)``:
        the properties the stand-in knows may be missing from that object (a PBX version that
        does not have them yet, or a reference that shows them missing); when the hook also has
        ``not_in_version(type name)``, a reply carrying one of those properties is a violation.
        """
        run = _Run(absent)
        select = _options(query, "$select") if self.v.odata else None
        expand = _options(query, "$expand") if self.v.odata else None
        shape = self.shape(schema)
        if self.v.odata and isinstance(value, dict) and shape is not None and "value" in shape.props:
            # A collection: the envelope, then $select/$expand on each entity of "value".
            count = query.get("$count") == ["true"]
            self._object(run, shape, value, (), None, None, top=True, count=count, context=context, skip=("value",))
            rows = value.get("value")
            item_schema = self._items(shape.props["value"])
            if isinstance(rows, list) and item_schema is not None:
                for i, row in enumerate(rows):
                    self._walk(run, item_schema, row, ("value", i), select, expand)
        elif shape is not None and isinstance(value, dict):
            self._object(run, shape, value, (), select, expand, top=True, context=context)
        else:
            self._walk(run, schema, value, (), select, expand)
        out = run.out
        return [f"{where}: {m}" for m in out[:_MAX_SHAPE]] + (
            [f"{where}: {len(out) - _MAX_SHAPE} more shape violations"] if len(out) > _MAX_SHAPE else []
        )

    def _walk(self, run: "_Run", schema: Any, value: Any, at: tuple, select, expand) -> None:
        if value is None:
            return
        if isinstance(value, list):
            items = self._items(schema)
            if items is not None:
                for i, item in enumerate(value):
                    self._walk(run, items, item, at + (i,), select, expand)
            return
        if isinstance(value, dict):
            shape = self.shape(schema)
            if shape is not None:
                self._object(run, shape, value, at, select, expand)

    def _object(
        self,
        run: "_Run",
        shape: _Shape,
        value: dict,
        at: tuple,
        select,
        expand,
        top=False,
        count=False,
        context=False,
        skip: tuple = (),
    ) -> None:
        out = run.out
        where = f"(at {_fmt_path(at)})"
        odata = self.v.odata
        expanded = set(shape.nav) if expand and "*" in expand else set(expand or ()) & shape.nav
        if select and "*" not in select:
            expected = (set(select) & set(shape.props)) - shape.nav
        else:
            expected = set(shape.props) - shape.nav
        expected |= expanded
        if run.absent is not None:
            expected -= set(run.absent(shape.name, value))
            not_in_version = getattr(run.absent, "not_in_version", None)
            if not_in_version is not None:
                for name in sorted(set(value) & set(not_in_version(shape.name))):
                    out.append(f"property {name} of {shape.name} does not exist in this version {where}")
        annotations = {k for k in value if odata and k.startswith("@odata.")}
        if odata:
            expected.discard("@odata.count")
            if count:
                expected.add("@odata.count")
        for name in sorted(expected - set(value)):
            out.append(f"documented property {name} of {shape.name} is missing {where}")
        for name in sorted(set(value) - set(shape.props) - annotations):
            out.append(f"property {name} is not documented for {shape.name} {where}")
        if odata:
            allowed = {"@odata.context"} | ({"@odata.count", "@odata.nextLink"} if "value" in shape.props else set())
            if top and context and "@odata.context" not in value:
                out.append(f"OData control information @odata.context is missing {where}")
            for name in sorted(annotations):
                if not top or name not in allowed:
                    out.append(f"OData annotation {name} is not expected here {where}")
            if "@odata.count" in value and not count:
                out.append(f"@odata.count is present although $count=true was not asked {where}")
            for name in sorted(set(value) & shape.nav - expanded):
                out.append(f"navigation property {name} of {shape.name} is present but $expand did not name it {where}")
            if select and "*" not in select:
                for name in sorted((set(value) & set(shape.props)) - set(select) - expanded - {"@odata.count"}):
                    out.append(f"property {name} of {shape.name} is present but $select did not name it {where}")
        for name, item in value.items():
            if name in shape.props and not name.startswith("@") and name not in skip:
                self._walk(run, shape.props[name], item, at + (name,), None, None)


class _Run:
    """One check's findings and the stand-in's exceptions (no state on the shared validator)."""

    def __init__(self, absent: "Callable[[str, dict], Iterable[str]] | None"):
        self.out: list[str] = []
        self.absent = absent


@dataclass
class DocumentStatus:
    enabled: bool
    path: str
    reason: str | None = None
    sha256: str | None = None
    load_seconds: float | None = None

    def as_dict(self) -> dict:
        out = {"enabled": self.enabled, "document": self.path}
        if self.reason:
            out["reason"] = self.reason
        if self.sha256:
            out["sha256"] = self.sha256
        if self.load_seconds is not None:
            out["load_seconds"] = round(self.load_seconds, 3)
        return out


def open_validator(
    path: Path,
    name: str,
    cache_dir: Path | None,
    error_check: Callable[[int, Any], list[str]] | None = None,
    *,
    odata: bool = False,
) -> tuple[SpecValidator | None, DocumentStatus]:
    if not path.is_file():
        return None, DocumentStatus(False, str(path), reason=f"{name} document not found at {path}")
    start = time.monotonic()
    try:
        doc = load_document(path, cache_dir)
        validator = SpecValidator(doc, name, error_check, odata=odata)
    except Exception as exc:  # a broken vendor copy must not take the lab down
        return None, DocumentStatus(False, str(path), reason=f"{name} document at {path} could not be loaded: {exc}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return validator, DocumentStatus(True, str(path), sha256=digest, load_seconds=time.monotonic() - start)
