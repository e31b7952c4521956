"""Twilio REST API 2010-04-01 stand-in: regions, Basic auth, resources."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

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

    def reset(self, options: dict) -> None:
        unknown = set(options) - {"variants"}
        if unknown:
            raise ValueError(f"unknown reset options: {', '.join(sorted(unknown))}")
        chosen = self.check_variants(options["variants"]) if "variants" in options else self.launch_variants
        for data in self.data.values():
            data.clear()
        self._apply_variants(chosen)
