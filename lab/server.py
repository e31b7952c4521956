"""The HTTPS framework shared by the stand-ins.

One request goes through: the stand-in that serves its path (the server's
own, or one mounted below ``/<segment>/<name>``, see :class:`Mounts`) ->
control endpoints (``/_lab/...``, never logged) or fault lookup -> request
validation -> vendor handler (under the stand-in's lock, so state changes are
atomic) -> response validation -> request log.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .faults import FaultError, FaultQueue, reshape_body
from .masking import mask, scrub_text
from .spec import DocumentStatus, SpecValidator

LOG_LIMIT = 20000  # entries kept; seq keeps counting past it


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without query and without the prefix of a mounted stand-in
    raw_target: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    host: str
    client: str
    params: dict[str, str] = field(default_factory=dict)
    prefix: str = ""  # "/pbx/<name>" when a mounted stand-in serves the request (stripped from path)

    @property
    def full_path(self) -> str:
        return self.prefix + self.path

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def media_type(self) -> str:
        return (self.content_type or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def parsed_body(self) -> Any:
        """The body as logged: form (single values unwrapped) or JSON."""
        if not self.body:
            return None
        if self.media_type == "application/x-www-form-urlencoded":
            return {k: (v[0] if len(v) == 1 else v) for k, v in self.form().items()}
        try:
            return json.loads(self.body)
        except ValueError:
            return f"<{len(self.body)} bytes of {self.media_type or 'unknown type'}>"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, headers: dict[str, str] | None = None) -> "Response":
        hdrs = {"Content-Type": "application/json; charset=utf-8"}
        hdrs.update(headers or {})
        return cls(status, json.dumps(value).encode("utf-8"), hdrs)

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, b"", dict(headers or {}))

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


class HTTPError(Exception):
    """Raised by handlers to answer with a ready-made (vendor-shaped) response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Request], Response]
Check = Callable[[Request, "Response | None"], list]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Handler
    # spec=True: validated against the vendor document. Otherwise the two
    # hand-written checks below follow the reference docs instead.
    spec: bool = True
    check_request: Callable[[Request], list[str]] | None = None
    check_response: Callable[[Request, Response], list[str]] | None = None


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, **kw: Any) -> Route:
        route = Route(method.upper(), re.compile("^" + pattern + "$"), handler, **kw)
        self.routes.append(route)
        return route

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        allowed = []
        for route in self.routes:
            m = route.pattern.match(path)
            if not m:
                continue
            if route.method == method:
                return route, m.groupdict(), []
            allowed.append(route.method)
        return None, {}, allowed


class LogSequence:
    """The seq counter of the logs of one server, and the lock that orders their appends.

    A stand-in and the ones mounted below it share one: their merged log is then in seq order
    at every moment, so a ``?since=`` cursor taken from it never skips an entry.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0


class RequestLog:
    def __init__(self, sequence: LogSequence | None = None) -> None:
        self._entries: list[dict] = []
        self.sequence = sequence or LogSequence()

    def append(self, entry: dict) -> dict:
        with self.sequence.lock:
            self.sequence.last += 1
            entry = {"seq": self.sequence.last, **entry}
            self._entries.append(entry)
            if len(self._entries) > LOG_LIMIT:
                del self._entries[: len(self._entries) - LOG_LIMIT]
            return entry

    def since(self, seq: int = 0) -> list[dict]:
        with self.sequence.lock:
            return [e for e in self._entries if e["seq"] > seq]

    def clear(self) -> None:
        # seq is not reset so ?since= cursors held by clients stay meaningful.
        with self.sequence.lock:
            self._entries.clear()

    @staticmethod
    def merged(logs: list["RequestLog"], seq: int = 0) -> list[dict]:
        """The entries of logs sharing one sequence, in seq order, read in one go."""
        if not logs:
            return []
        with logs[0].sequence.lock:
            entries = [e for log in logs for e in log._entries if e["seq"] > seq]
        return sorted(entries, key=lambda e: e["seq"])


class StandIn:
    """Base of a vendor stand-in: state, routes, vendor error shapes."""

    name = "standin"

    def __init__(self, validator: SpecValidator | None, validation: DocumentStatus):
        self.validator = validator
        self.validation = validation
        self.router = Router()
        self.control = Router()
        self.lock = threading.RLock()
        self.log = RequestLog()
        self.faults = FaultQueue()
        # Where this instance is served ("" = the server root; Mounts.add sets "/<segment>/<name>")
        # and what its log entries carry to say so ({"pbx": name}).
        self.prefix = ""
        self.log_fields: dict[str, Any] = {}
        # Stand-ins served below a prefix of this one's server (the 3CX PBX fleet), or None.
        self.mounts: Mounts | None = None
        self.control.add("GET", "/_lab/state", lambda r: Response.json(200, self.public_state()))
        self.control.add("GET", "/_lab/requests", self._ctl_requests)
        self.control.add("POST", "/_lab/reset", self._ctl_reset)
        self.control.add("GET", "/_lab/faults", lambda r: Response.json(200, {"faults": self.faults.pending()}))
        self.control.add("POST", "/_lab/faults", self._ctl_add_faults)
        self.control.add("DELETE", "/_lab/faults", self._ctl_clear_faults)
        # Variants (lab/variants.py): which reading of each unconfirmed vendor behaviour this plays.
        self.control.add("GET", "/_lab/variants", lambda r: Response.json(200, self.variants_view()))
        self.control.add("POST", "/_lab/variants", self._ctl_set_variants)

    # ---- to be provided by stand-ins ------------------------------------
    def error(self, status: int, message: str, code: Any = None) -> Response:
        raise NotImplementedError

    def state(self) -> dict:
        raise NotImplementedError

    def reset(self, options: dict) -> None:
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Secret values to scrub from free text."""
        return []

    def variants_view(self) -> dict:
        """``GET /_lab/variants``: the catalogue and the variants this stand-in plays."""
        from .variants import catalogue

        return {"catalogue": catalogue(), "active": self.active_variants()}

    def active_variants(self) -> Any:
        return {}

    def translate(self, exc: Exception) -> Response | None:
        """Turn a stand-in specific exception into a vendor-shaped response."""
        return None

    def before_dispatch(self, req: Request, route: Route) -> None:
        """Authentication and similar checks; raise HTTPError to refuse."""

    def absent_allowed(self, req: Request) -> Callable[[str, dict], Any] | None:
        """For response validation: (type name, object) -> documented properties that may be
        missing from it in this reply (a version that lacks them, a reference that says so)."""
        return None

    # ---- mounted stand-ins ----------------------------------------------
    def mounted(self) -> list["StandIn"]:
        return self.mounts.all() if self.mounts is not None else []

    def resolve(self, path: str) -> tuple["StandIn | None", str]:
        """The stand-in serving *path* and the prefix to strip from it (None: an unknown mount)."""
        if self.mounts is not None:
            hit = self.mounts.resolve(path)
            if hit is not None:
                return hit
        return self, ""

    # ---- control endpoints ----------------------------------------------
    def public_state(self) -> dict:
        with self.lock:
            return mask({"standin": self.name, "validation": self.validation.as_dict(), **self.state()})

    def _ctl_requests(self, req: Request) -> Response:
        try:
            since = int(req.query.get("since", ["0"])[0])
        except ValueError:
            return Response.json(400, {"error": "since must be an integer"})
        # The root's log includes the mounted stand-ins' entries (they share its seq counter).
        return Response.json(200, RequestLog.merged([self.log] + [st.log for st in self.mounted()], since))

    def _ctl_reset(self, req: Request) -> Response:
        try:
            options = req.json() or {}
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(options, dict):
            return Response.json(400, {"error": "body must be a JSON object"})
        try:
            # This one first: it validates the options before anything changes. Mounted ones
            # then take the same options (one left out goes back to each one's own default).
            for st in [self] + self.mounted():
                with st.lock:
                    st.reset(options)
                    st.log.clear()
                    st.faults.clear()
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, self.public_state())

    def _ctl_set_variants(self, req: Request) -> Response:
        """``POST /_lab/variants {"variants": [...]}``: reset this stand-in (only) playing these variants."""
        try:
            body = req.json()
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict) or set(body) != {"variants"}:
            return Response.json(400, {"error": 'body must be {"variants": [ ... ]} (see GET /_lab/variants)'})
        try:
            with self.lock:
                self.reset({"variants": body["variants"]})
                self.log.clear()
                self.faults.clear()
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, self.variants_view())

    def _ctl_add_faults(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict) or set(body) != {"faults"}:
            return Response.json(400, {"error": 'body must be {"faults": [ ... ]}'})
        try:
            self.faults.add(body["faults"])
        except FaultError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, {"faults": self.faults.pending()})

    def _ctl_clear_faults(self, req: Request) -> Response:
        self.faults.clear()
        return Response.json(200, {"faults": []})

    # ---- vendor traffic -------------------------------------------------
    def fault_response(self, action: dict) -> Response:
        status = action["status"]
        headers = {}
        if action.get("retry_after") is not None:
            ra = action["retry_after"]
            headers["Retry-After"] = str(int(ra) if float(ra).is_integer() else ra)
        if "body" in action:
            if action["body"] is None:
                return Response.empty(status, headers)
            return Response.json(status, action["body"], headers)
        resp = self.error(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error")
        resp.headers.update(headers)
        return resp

    def violation_response(self, violations: list[str]) -> Response:
        return self.error(500, "lab contract violation: " + "; ".join(violations), code="violation")

    def check_request(self, req: Request, route: Route | None) -> list[str]:
        if route is not None and not route.spec:
            return route.check_request(req) if route.check_request else []
        if self.validator is None:
            return []
        return self.validator.validate_request(req.method, req.path, req.query, req.content_type, req.body)

    def check_response(self, req: Request, route: Route | None, resp: Response) -> list[str]:
        if route is not None and not route.spec:
            return route.check_response(req, resp) if route.check_response else []
        if self.validator is None:
            return []
        return self.validator.validate_response(
            req.method,
            req.path,
            resp.status,
            resp.content_type,
            resp.body,
            query=req.query,
            absent=self.absent_allowed(req),
        )

    def dispatch(self, req: Request, route: Route | None, allowed: list[str]) -> Response:
        if route is None:
            # Documented but not implemented (even where other methods of the path are): 501.
            if self.validator is not None:
                op, _, _ = self.validator.find(req.method, req.path)
                if op is not None:
                    return self.error(
                        501, f"the lab does not implement {req.method} {op.template} yet", code="not_implemented"
                    )
            if allowed:
                return self.error(405, f"method {req.method} is not allowed here", code="method")
            return self.error(404, f"the requested resource {req.path} was not found", code="not_found")
        try:
            with self.lock:
                self.before_dispatch(req, route)
                return route.handler(req)
        except HTTPError as exc:
            return exc.response
        except Exception as exc:  # a lab bug must still answer, in the vendor's shape
            translated = self.translate(exc)
            if translated is not None:
                return translated
            self.log_line(f"{self.name} internal error:\n{traceback.format_exc()}")
            return self.error(500, "lab internal error (see the lab log)", code="internal")

    def log_line(self, text: str) -> None:
        # The root also writes for its server (stdlib messages, TLS errors): scrub every secret.
        secrets = self.secrets() + [s for st in self.mounted() for s in st.secrets()]
        sys.stderr.write(scrub_text(text, secrets) + "\n")
        sys.stderr.flush()


class Mounts:
    """Stand-ins served below ``/<segment>/<name>`` on the server of an owner stand-in.

    Each one is complete and independent: its own state, credentials, routes, faults, control
    endpoints (``/<segment>/<name>/_lab/...``) and log. The server strips the prefix before
    anything else looks at the path, so a mounted stand-in sees the same paths as one at the
    root and the vendor document validates them unchanged. The owner's log, reset and log
    scrubbing cover the mounted ones as well (see StandIn).
    """

    def __init__(self, owner: StandIn, segment: str, label: str = "", missing_hint: str = ""):
        self.owner = owner
        self.segment = segment
        self.label = label or segment  # what one mounted stand-in is called in messages
        self.missing_hint = missing_hint
        self._items: dict[str, StandIn] = {}
        self._lock = threading.Lock()
        owner.mounts = self

    def add(self, name: str, standin: StandIn) -> None:
        with self._lock:
            if name in self._items:
                raise ValueError(f"/{self.segment}/{name} is already mounted")
            standin.prefix = f"/{self.segment}/{name}"
            standin.log_fields = {self.segment: name}
            standin.log = RequestLog(self.owner.log.sequence)
            self._items[name] = standin

    def get(self, name: str) -> StandIn | None:
        return self._items.get(name)

    def items(self) -> list[tuple[str, StandIn]]:
        with self._lock:
            return list(self._items.items())

    def all(self) -> list[StandIn]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def resolve(self, path: str) -> tuple[StandIn | None, str] | None:
        """(stand-in or None if the name is unknown, prefix) for a path below the segment, else None."""
        head = f"/{self.segment}/"
        if not path.startswith(head):
            return None
        name = path[len(head) :].split("/", 1)[0]
        return self._items.get(name), head + name

    def missing(self, prefix: str) -> str:
        message = f"the lab has no {self.label} named {prefix.rsplit('/', 1)[-1]!r}"
        return f"{message} ({self.missing_hint})" if self.missing_hint else message


def _reshaped(resp: Response, action: dict) -> Response:
    """A reply broken on purpose by a ``reshape`` fault (a JSON body only; others stay as they are)."""
    if not resp.body or "json" not in (resp.content_type or ""):
        return resp
    try:
        value = json.loads(resp.body)
    except ValueError:
        return resp
    return Response(resp.status, json.dumps(reshape_body(value, action)).encode("utf-8"), dict(resp.headers))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK adds ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server_version = "lab"
    timeout = 60
    standin: StandIn  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # The TLS handshake runs here, in the worker thread, not in accept().
        self.request.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        self.standin.log_line(f"{self.standin.name} " + (format % args))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp: Response, head_only: bool = False) -> None:
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if resp.body and not head_only:
            self.wfile.write(resp.body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        root = self.standin
        body = self._read_body()
        split = urlsplit(self.path)
        host = self.headers.get("X-Forwarded-Host") or self.headers.get("Host") or ""
        req = Request(
            method=self.command,
            path=unquote(split.path),
            raw_target=self.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            host=host.strip(),
            client=self.client_address[0],
        )
        st, prefix = root.resolve(req.path)
        if st is None:
            self._no_mount(req, prefix)
            return
        # From here on the mounted stand-in sees its own paths, as if it were at the root.
        req.prefix, req.path = prefix, req.path[len(prefix) :] or "/"
        if req.path == "/_lab" or req.path.startswith("/_lab/"):
            self._control(st, req)
            return
        action = st.faults.take(req.method, req.path)
        kind = action["kind"] if action else None
        route, req.params, allowed = st.router.match(req.method, req.path)
        violations = st.check_request(req, route)
        entry = self._entry(st, req, kind)
        if kind == "delay":
            time.sleep(float(action.get("seconds", 0)))
        if kind == "drop":
            entry["violations"] = violations
            self._finish_log(st, entry)
            self._drop()
            return
        if kind == "status":
            resp = st.fault_response(action)
            violations = violations + st.check_response(req, route, resp)
        elif violations:
            resp = st.violation_response(violations)
        else:
            resp = st.dispatch(req, route, allowed)
            if kind == "reshape":
                resp = _reshaped(resp, action)
            resp_violations = st.check_response(req, route, resp)
            if resp_violations:
                violations = resp_violations
                resp = st.violation_response(resp_violations)
        entry["violations"] = violations
        if kind == "commit_then_drop":
            self._finish_log(st, entry)
            self._drop()
            return
        entry["status"] = resp.status
        self._finish_log(st, entry)
        self._send(resp, head_only=req.method == "HEAD")

    def _no_mount(self, req: Request, prefix: str) -> None:
        """A path below a mount segment naming nothing: a plain 404 (logged at the root unless control)."""
        root = self.standin
        assert root.mounts is not None
        message = root.mounts.missing(prefix)
        if req.path == prefix + "/_lab" or req.path.startswith(prefix + "/_lab/"):
            self._send(Response.json(404, {"error": message}))
            return
        resp = root.error(404, message, code="not_found")
        entry = self._entry(root, req, None)
        entry["status"] = resp.status
        self._finish_log(root, entry)
        self._send(resp, head_only=req.method == "HEAD")

    @staticmethod
    def _entry(st: StandIn, req: Request, fault: str | None) -> dict:
        return {
            "method": req.method,
            "host": req.host,
            "path": req.full_path,
            "query": req.query,
            "body": mask(req.parsed_body()),
            "status": 0,
            "violations": [],
            "fault": fault,
            **st.log_fields,
        }

    def _finish_log(self, st: StandIn, entry: dict) -> None:
        logged = st.log.append(entry)
        st.log_line(
            f"{st.name} #{logged['seq']} {entry['method']} {entry['path']} -> {entry['status']}"
            + (f" fault={entry['fault']}" if entry["fault"] else "")
            + (f" violations={len(entry['violations'])}" if entry["violations"] else "")
        )

    def _control(self, st: StandIn, req: Request) -> None:
        if not (req.client.startswith("127.") or req.client == "::1"):
            self._send(Response.json(403, {"error": "control endpoints answer loopback clients only"}))
            return
        route, req.params, allowed = st.control.match(req.method, req.path)
        if route is None:
            status = 405 if allowed else 404
            self._send(Response.json(status, {"error": f"no control endpoint {req.method} {req.full_path}"}))
            return
        try:
            resp = route.handler(req)
        except HTTPError as exc:
            resp = exc.response
        self._send(resp)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def version_string(self) -> str:
        return self.server_version

    def send_response(self, code: int, message: str | None = None) -> None:
        # Quiet stdlib access logging; _finish_log writes a masked line instead.
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())


class LabHTTPSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, standin: StandIn, ssl_context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0):
        handler = type(f"{standin.name}Handler", (_Handler,), {"standin": standin})
        super().__init__((host, port), handler)
        self.standin = standin
        self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"https://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError, socket.timeout)):
            return  # clients hanging up or refusing our CA: not the lab's problem
        self.standin.log_line(f"{self.standin.name} internal error: {exc!r}")


def server_ssl_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


def serve_in_thread(server: LabHTTPSServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=f"lab-{server.standin.name}", daemon=True
    )
    thread.start()
    return thread
