"""Twilio REST API 2010-04-01 stand-in: regions, Basic auth, resources."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .. import variants as V
from ..server import HTTPError, Request, Response, StandIn
from ..spec import DocumentStatus, SpecValidator
from . import calls, resources, sip
from .regions import REGIONS, HostRefused, region_from_host
from .resources import ResourceDef, Resources, TwilioError

_SYMBOLIC = {"violation": 20500, "internal": 20500, "not_found": 20404, "not_implemented": 20501, "method": 20004}
# Error codes for injected statuses; 20429 and 20003/20404 are Twilio's.
_STATUS_CODES = {
    400: 20001,
    401: 20003,
    403: 20403,
    404: 20404,
    405: 20004,
    429: 20429,
    500: 20500,
    502: 20502,
    503: 20503,
    504: 20504,
}


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def check_error_shape(status: int, body: Any) -> list[str]:
    """Twilio's error shape; the vendor document describes no error responses."""
    if not isinstance(body, dict):
        return [f"error response {status} body must be a JSON object"]
    out = []
    missing = {"code", "message", "more_info", "status"} - set(body)
    if missing:
        out.append(f"error response {status} lacks {', '.join(sorted(missing))}")
    extra = set(body) - {"code", "message", "more_info", "status", "detail"}
    if extra:
        out.append(f"error response {status} has unexpected keys {', '.join(sorted(extra))}")
    if "code" in body and (not isinstance(body["code"], int) or isinstance(body["code"], bool)):
        out.append("error code must be an integer")
    if "message" in body and not isinstance(body["message"], str):
        out.append("error message must be a string")
    if "status" in body and body["status"] != status:
        out.append(f"error body status {body['status']!r} differs from HTTP status {status}")
    if "more_info" in body and body["more_info"] != f"https://www.twilio.com/docs/errors/{body.get('code')}":
        out.append("more_info must be https://www.twilio.com/docs/errors/<code>")
    return out


@dataclass
class Account:
    region: str
    account_sid: str
    auth_token: str
    api_key: str
    api_secret: str

    @classmethod
    def generate(cls, region: str) -> "Account":
        return cls(
            region, "AC" + uuid.uuid4().hex, secrets.token_hex(16), "SK" + uuid.uuid4().hex, secrets.token_urlsafe(24)
        )

    def public(self) -> dict:
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
        }


class Twilio(StandIn):
    name = "twilio"

    def __init__(
        self,
        validator: SpecValidator | None,
        validation: DocumentStatus,
        accounts: dict[str, Account],
        defs: list[ResourceDef] | None = None,
        variants: list[str] | None = None,
    ):
        super().__init__(validator, validation)
        self.accounts = accounts
        # The readings of unconfirmed behaviours each account plays (lab/variants.py), per region;
        # a reset without the option goes back to these.
        self.launch_variants = {region: V.resolve(list(variants or []), V.TWILIO) for region in accounts}
        self.defs = {d.name: d for d in (defs if defs is not None else resources.ALL + sip.ALL + calls.ALL)}
        # Every account's store sees the others: SIP domain names are global.
        self.data = {
            acct.account_sid: Resources(self.defs, acct.account_sid, peers=lambda: self.data.values())
            for acct in accounts.values()
        }
        self._apply_variants(self.launch_variants)
        for rdef in self.defs.values():
            self._register(rdef)
        if "domains" in self.defs:
            self.control.add("GET", "/_lab/sip/auth", self._ctl_sip_auth)
        # The lab's telephone network: (number called, caller) -> what the PBX that owns the number
        # did with the call (its /_lab/calls answer), or None when no lab PBX owns it. lab/serve.py
        # connects it to the 3CX PBXs; None (in-process tests) rings nobody.
        self.pstn: Callable[[str, str], dict | None] | None = None
        if "calls" in self.defs:
            self.router.add("POST", calls.CALLS.list_pattern(), self._create_call)

    # ---------------------------------------------------------------- plumbing
    def secrets(self) -> list[str]:
        tokens = [s for a in self.accounts.values() for s in (a.auth_token, a.api_secret)]
        # SIP credential passwords too, should one ever reach a log line (a traceback).
        return tokens + [v for d in self.data.values() for kept in d.secrets.values() for v in kept.values()]

    def error(self, status: int, message: str, code: Any = None) -> Response:
        if isinstance(code, str) or code is None:
            code = _SYMBOLIC.get(code) or _STATUS_CODES.get(status, 20000 + status)
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}
        return Response.json(status, error_body(status, code, message), headers)

    def translate(self, exc: Exception) -> Response | None:
        if isinstance(exc, TwilioError):
            return self.error(exc.status, exc.message, exc.code)
        return None

    def _authenticate(self, req: Request) -> Account:
        try:
            region = region_from_host(req.host)
        except HostRefused as exc:
            raise HTTPError(self.error(404, exc.message, 20404)) from None
        account = self.accounts[region]
        header = req.headers.get("Authorization") or ""
        scheme, _, blob = header.partition(" ")
        user = password = ""
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(blob.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
        good = (
            secrets.compare_digest(user, account.account_sid) and secrets.compare_digest(password, account.auth_token)
        ) or (secrets.compare_digest(user, account.api_key) and secrets.compare_digest(password, account.api_secret))
        if not good:
            # Credentials are Region-specific: another Region's pair fails here too.
            raise HTTPError(self.error(401, "Authenticate", 20003))
        if req.params.get("AccountSid") != account.account_sid:
            raise HTTPError(self.error(404, f"The requested resource {req.path} was not found", 20404))
        return account

    def _register(self, rdef: ResourceDef) -> None:
        ops = rdef.operations

        def parents(req: Request) -> dict[str, str]:
            return {k: v for k, v in req.params.items() if k not in ("AccountSid", "Sid")}

        def store(req: Request) -> Resources:
            account = self._authenticate(req)
            return self.data[account.account_sid]

        def ok(status: int, value: Any, req: Request) -> Response:
            return Response.json(status, value, self._headers(req))

        lp, ip = rdef.list_pattern(), rdef.instance_pattern()
        if "list" in ops:
            self.router.add("GET", lp, lambda r: ok(200, store(r).list(rdef, parents(r), r.query, r.path), r))
        if "create" in ops:
            self.router.add("POST", lp, lambda r: ok(201, store(r).create(rdef, parents(r), self._form(r), r.path), r))
        if "fetch" in ops:
            self.router.add("GET", ip, lambda r: ok(200, store(r).fetch(rdef, parents(r), r.params["Sid"], r.path), r))
        if "update" in ops:
            self.router.add(
                "POST",
                ip,
                lambda r: ok(200, store(r).update(rdef, parents(r), r.params["Sid"], self._form(r), r.path), r),
            )
        if "delete" in ops:
            self.router.add(
                "DELETE",
                ip,
                lambda r: (
                    store(r).delete(rdef, parents(r), r.params["Sid"], r.path),
                    Response.empty(204, self._headers(r)),
                )[1],
            )

    def _form(self, req: Request) -> dict[str, list[str]]:
        if req.body and req.media_type != "application/x-www-form-urlencoded":
            raise TwilioError(400, 20001, "Request body must be application/x-www-form-urlencoded")
        return req.form()

    def _headers(self, req: Request) -> dict[str, str]:
        try:
            region = region_from_host(req.host)
        except HostRefused:
            region = "us1"
        return {"Twilio-Request-Id": "RQ" + uuid.uuid4().hex, "X-Home-Region": region}

    # ---------------------------------------------------------------- state
    def state(self) -> dict:
        out = {"regions": {}}
        for region in REGIONS:
            acct = self.accounts[region]
            data = self.data[acct.account_sid]
            out["regions"][region] = {
                **acct.public(),
                "variants": dict(data.variants),
                "resources": {
                    name: [data.state_view(self.defs[name], r) for r in recs.values()]
                    for name, recs in data.records.items()
                },
            }
        return out

    def sip_auth_view(self) -> dict:
        """SIP domains with their IP ACL entries and credentials, passwords included (for the SIP leg)."""
        with self.lock:
            return sip.sip_auth({r: self.data[a.account_sid] for r, a in self.accounts.items()})

    def _ctl_sip_auth(self, req: Request) -> Response:
        """Lab-only: GET /_lab/sip/auth."""
        return Response.json(200, self.sip_auth_view(), {"Cache-Control": "no-store"})

    def record_sip_call(self, account_sid: str, **fields: Any) -> str:
        """The SIP leg saw an INVITE for a domain of this account: add it to the account's call log."""
        if "calls" not in self.defs:
            raise ValueError("this Twilio stand-in keeps no call log")
        with self.lock:
            return calls.record_call(self.data[account_sid], **fields)["sid"]

    def _apply_variants(self, chosen: dict[str, dict[str, str]]) -> None:
        for region, acct in self.accounts.items():
            self.data[acct.account_sid].variants = dict(chosen[region])

    def active_variants(self) -> dict:
        """Per region (account): behaviour -> variant."""
        return {region: dict(self.data[acct.account_sid].variants) for region, acct in self.accounts.items()}

    def check_variants(self, raw: Any) -> dict[str, dict[str, str]]:
        """The ``variants`` option: a list (every account) or ``{region: [...]}`` (the regions named;
        the others go back to their launch variants)."""
        if isinstance(raw, dict):
            unknown = set(raw) - set(self.accounts)
            if unknown:
                raise ValueError(f"variants: unknown regions {', '.join(sorted(unknown))} (one of {', '.join(self.accounts)})")
            return {r: V.resolve(raw[r], V.TWILIO) if r in raw else dict(self.launch_variants[r]) for r in self.accounts}
        return {r: V.resolve(raw, V.TWILIO) for r in self.accounts}

    def _create_call(self, req: Request) -> Response:
        """POST Calls.json: record the outbound call (``queued``), answer 201, place its PSTN leg in the background."""
        account = self._authenticate(req)
        store = self.data[account.account_sid]
        call = calls.parse_create(self._form(req))
        now = dt.datetime.now(dt.timezone.utc)
        rec = calls.record_call(
            store, from_=call["from"], to=call["to"], status="queued", start=now, end=now, direction="outbound-api"
        )
        body = store.render(self.defs["calls"], rec)
        # Twilio answers before the call is placed; the call log then shows it progress.
        threading.Thread(
            target=self._place_call, args=(store, rec["sid"], call["to"], call["from"]), daemon=True
        ).start()
        return Response.json(201, body, self._headers(req))

    def _place_call(self, store: Resources, sid: str, to: str, caller: str) -> None:
        with self.lock:
            if sid in store.records[calls.CALLS.store_key]:
                store.records[calls.CALLS.store_key][sid]["status"] = "ringing"
        start = dt.datetime.now(dt.timezone.utc)
        flow = None
        try:
            flow = self.pstn(to, caller) if self.pstn is not None else None
        except Exception:  # a lab bug: the call fails, the log says why
            self.log_line(f"twilio: the PSTN leg of call {sid} failed:\n{traceback.format_exc()}")
        status = calls.pstn_status(flow)
        with self.lock:
            calls.end_call(store, sid, status=status, start=start, end=dt.datetime.now(dt.timezone.utc))
        where = "no lab PBX owns the number" if flow is None else f"{flow.get('pbx') or 'root'} PBX: {flow.get('outcome')}"
        self.log_line(f"twilio: call {sid} to {to} from {caller}: {status} ({where})")

    def reset(self, options: dict) -> None:
        unknown = set(options) - {"variants"}
        if unknown:
            raise ValueError(f"unknown reset options: {', '.join(sorted(unknown))}")
        chosen = self.check_variants(options["variants"]) if "variants" in options else self.launch_variants
        for data in self.data.values():
            data.clear()
        self._apply_variants(chosen)
