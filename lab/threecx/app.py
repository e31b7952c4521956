"""3CX v20 XAPI stand-in: OAuth2 client-credentials token plus OData."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from .. import variants as V
from ..masking import fingerprint
from ..server import HTTPError, Request, Response, StandIn
from ..spec import DocumentStatus, SpecValidator
from . import odata, shapes
from .calls import PbxCalls
from .catalog import check_names_option
from .config import PbxConfig
from .odata import ODataError
from .store import Collection, Singleton
from .tokens import TokenCooldown
from .tokens import check_options as check_token_options

# Build numbers are lab inventions; only the major.minor.patch part matters
# to clients (20.0.8.1121 is a build seen on a live PBX).
SUPPORTED_VERSIONS = {
    "20.0.7": "20.0.7.1057",
    "20.0.8": "20.0.8.1121",
    "20.0.9": "20.0.9.312",
    "20.0.10": "20.0.10.512",
}
DEFAULT_VERSION = "20.0.10"
TOKEN_LIFETIME = 3600  # seconds; the PBX documents 60 minutes

E164_DEFAULTS = {
    "Enabled": True,
    "CountryCode": "1",
    "CountryName": "United States",
    "AreaCode": "",
    "InternationalCode": "011",
    "NationalCode": "1",
    "Prefix": "",
    "RemoveCountryCode": False,
    "RemoveAreaCode": False,
}

_TOKEN_FIELDS = {
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "refresh_token",
    "code",
    "redirect_uri",
    "code_verifier",
}
_TOKEN_REPLY = {"token_type", "expires_in", "access_token", "refresh_token"}
_TOKEN_ERROR = {"error", "error_description", "error_uri"}  # RFC 6749 §5.2
_UNAUTHORIZED = {"error": "unauthorized", "error_description": "The request requires valid user authentication."}
# UNCONFIRMED shape: the one live report says only "403" (see lab/threecx/tokens.py).
_COOLING_DOWN = {"error": "access_denied", "error_description": "Too many token requests; try again later."}
_RESET_OPTIONS = {"threecx_version", "gateway_parameter_names", "token_rate_limit", "variants"}

# What the variants of lab/variants.py mean for the options that existed before them.
_PAI_NAMES = ("DisplayName", "UserPart", "HostPart")
VARIANT_NAMES = {
    "pai-names-lab": {},
    "pai-names-hyphen": {
        **{f"PAssertedIdentity{p}": f"P-AssertedIdentity{p}" for p in _PAI_NAMES},
        **{f"PPreferredIdentity{p}": f"P-PreferredIdentity{p}" for p in _PAI_NAMES},
    },
    "pai-names-absent": {f"P{kind}Identity{p}": None for kind in ("Asserted", "Preferred") for p in _PAI_NAMES},
}
VARIANT_COOLDOWN = {
    "token-cooldown-5": {},
    "token-cooldown-2": {"max_requests": 2},
    "token-no-cooldown": {"enabled": False},
}

_SYMBOLIC = {
    "violation": "LabContractViolation",
    "internal": "InternalServerError",
    "not_found": "NotFound",
    "not_implemented": "NotImplemented",
    "method": "MethodNotAllowed",
}


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class ThreeCX(StandIn):
    name = "threecx"

    def __init__(
        self,
        validator: SpecValidator | None,
        validation: DocumentStatus,
        *,
        client_id: str,
        client_secret: str,
        version: str = DEFAULT_VERSION,
        public_ip: str | None = None,
        variants: list[str] | None = None,
    ):
        super().__init__(validator, validation)
        # The readings of unconfirmed behaviours this PBX plays (lab/variants.py); a reset without
        # the option goes back to the ones it was created with.
        self.launch_variants = V.resolve(list(variants or []), V.THREECX)
        self.variants = dict(self.launch_variants)
        self.client_id = client_id
        self.client_secret = client_secret
        # A named PBX of the fleet (lab/threecx/fleet.py) has a loopback address of its own as its
        # "public IP"; the root PBX (None) reports 127.0.0.1 and the host it was reached at.
        self.public_ip = public_ip
        self._set_version(version)
        # A reset without a version goes back to the one the lab was started with, so one
        # test's version switch never leaks into the next test.
        self.launch_version = self.version
        self.tokens: dict[str, dict] = {}  # client_id -> the one active token
        self.e164 = Singleton("E164Settings", "Pbx.E164Settings", E164_DEFAULTS)
        self.cooldown = TokenCooldown(check_token_options(VARIANT_COOLDOWN[self.variants["token_cooldown"]]))
        # Catalogues, templates, trunks, queues, ring groups, users, rules (lab/threecx/config.py).
        self.pbx = PbxConfig(self)
        if self.variants["pai_names"] != V.DEFAULTS["pai_names"]:
            self.pbx.reset(dict(VARIANT_NAMES[self.variants["pai_names"]]))
        self.collections: dict[str, Collection] = self.pbx.collections

        r = self.router
        r.add(
            "POST",
            "/connect/token",
            self.h_token,
            spec=False,
            check_request=self.check_token_request,
            check_response=self.check_token_response,
        )
        r.add("GET", r"/xapi/v1/Defs/Pbx\.GetSystemParameters\(\)", self.h_system_parameters)
        r.add("GET", "/xapi/v1/E164Settings", lambda q: self.ok(self.e164.get(q.query, self.public_base(q))))
        r.add("PATCH", "/xapi/v1/E164Settings", lambda q: self.no_content(self.e164.patch(self.json_body(q))))
        self.pbx.register()
        # Test calls over the lab's SIP leg (lab/sip): lab/serve.py gives the root a SipLeg and the
        # fleet hands it to every named PBX; None (in-process tests) answers without a call.
        self.sip_leg: Any = None
        self.calls = PbxCalls(self)
        self.calls.register()

        self.control.add("POST", "/_lab/tokens/revoke", self.c_revoke)
        self.control.add("POST", "/_lab/tokens/expire", self.c_expire)
        self.control.add("POST", "/_lab/tokens/cooldown/clear", self.c_cooldown_clear)
        self.control.add("POST", "/_lab/extensions", self.c_extensions)

    # ---------------------------------------------------------------- plumbing
    def _set_version(self, version: str) -> None:
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(f"threecx_version must be one of {', '.join(SUPPORTED_VERSIONS)}")
        self.version = version

    def variant(self, behaviour: str) -> str:
        return self.variants[behaviour]

    def active_variants(self) -> dict:
        return dict(self.variants)

    def secrets(self) -> list[str]:
        # list() first: the root also scrubs for the named PBXs, whose handler threads may add a token meanwhile.
        tokens = [t["access_token"] for t in list(self.tokens.values())]
        return [self.client_secret] + tokens + list(self.pbx.passwords.values())

    def error(self, status: int, message: str, code: Any = None) -> Response:
        code = _SYMBOLIC.get(code, code) if code else str(status)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return Response.json(status, odata.error_body(str(code), message), headers)

    def translate(self, exc: Exception) -> Response | None:
        if isinstance(exc, ODataError):
            return Response.json(exc.status, exc.body())
        return None

    def ok(self, value: Any, status: int = 200) -> Response:
        return Response.json(status, value, {"OData-Version": "4.0"})

    def no_content(self, _ignored: Any = None) -> Response:
        return Response.empty(204, {"OData-Version": "4.0"})

    def public_base(self, req: Request) -> str:
        # A named PBX's links keep its /pbx/<name> prefix, so that following them reaches it again.
        return "https://" + (req.headers.get("Host") or "127.0.0.1") + self.prefix

    def json_body(self, req: Request) -> Any:
        if req.media_type != "application/json":
            raise ODataError(415, "The request Content-Type must be application/json.")
        try:
            return json.loads(req.body or b"null")
        except ValueError as exc:
            raise ODataError(400, f"The request body is not valid JSON: {exc}") from None

    def absent_allowed(self, req: Request) -> Any:
        return shapes.absent_allowed(self.version, req.path)

    def before_dispatch(self, req: Request, route: Any) -> None:
        if not req.path.startswith("/xapi/"):
            return
        header = req.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        active = self.tokens.get(self.client_id)
        if (
            scheme.lower() != "bearer"
            or not active
            or not secrets.compare_digest(token.strip(), active["access_token"])
            or active["expires_at"] <= time.time()
        ):
            raise HTTPError(self.error(401, "The request requires valid user authentication.", "Unauthorized"))

    # ---------------------------------------------------------------- state
    def state(self) -> dict:
        now = time.time()
        out = {
            "version": self.version,
            "build": SUPPORTED_VERSIONS[self.version],
            "client_id": self.client_id,
            "client_secret": self.client_secret,  # masked by public_state
            "tokens": {
                cid: {
                    "fingerprint": fingerprint(t["access_token"]),
                    "issued_at": int(t["issued_at"]),
                    "expires_in_seconds": max(0, int(t["expires_at"] - now)),
                }
                for cid, t in self.tokens.items()
            },
            "token_cooldown": self.cooldown.state(),
            "variants": dict(self.variants),
            "gateway_parameter_names": dict(self.pbx.catalogue.names),
            "E164Settings": dict(self.e164.value),
            # Trunk passwords are never part of an entity: AuthPassword shows only Concealed.
            "collections": {name: c.snapshot() for name, c in self.collections.items()},
        }
        if self.mounts is not None:
            # The root's view of the fleet (lab/threecx/fleet.py); each PBX's own /_lab/state has the rest.
            out["pbxs"] = {name: pbx.summary() for name, pbx in self.mounts.items() if isinstance(pbx, ThreeCX)}
        return out

    def summary(self) -> dict:
        """A named PBX in the root's state: no secrets, entity counts only (its own state has the rest)."""
        return {
            "version": self.version,
            "public_ip": self.public_ip,
            "client_id": self.client_id,
            "variants": V.non_default(self.variants),
            "entities": {name: len(c.items) for name, c in self.collections.items()},
        }

    def reset(self, options: dict) -> None:
        unknown = set(options) - _RESET_OPTIONS
        if unknown:
            raise ValueError(f"unknown reset options: {', '.join(sorted(unknown))}")
        # Validate everything before changing anything.
        chosen = V.resolve(options["variants"], V.THREECX) if "variants" in options else dict(self.launch_variants)
        # An explicit option wins over what a variant means for it.
        names = check_names_option({**VARIANT_NAMES[chosen["pai_names"]], **check_names_option(options.get("gateway_parameter_names", {}))})
        check_token_options(options.get("token_rate_limit", {}))
        limits = check_token_options({**VARIANT_COOLDOWN[chosen["token_cooldown"]], **options.get("token_rate_limit", {})})
        version = options.get("threecx_version", self.launch_version)
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(f"threecx_version must be one of {', '.join(SUPPORTED_VERSIONS)}")
        self._set_version(version)
        self.variants = chosen
        self.tokens.clear()
        self.cooldown.configure(limits)
        self.e164.reset()
        self.pbx.reset(names)

    def c_revoke(self, req: Request) -> Response:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
        return Response.json(200, {"revoked": count})

    def c_cooldown_clear(self, req: Request) -> Response:
        with self.lock:
            return Response.json(200, {"cleared": self.cooldown.clear()})

    def c_extensions(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict) or set(body) != {"extensions"}:
            return Response.json(400, {"error": 'body must be {"extensions": [ ... ]}'})
        try:
            with self.lock:
                out = self.pbx.upsert_extensions(body["extensions"])
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, {"extensions": out})

    def c_expire(self, req: Request) -> Response:
        with self.lock:
            for tok in self.tokens.values():
                tok["expires_at"] = time.time() - 1
        return Response.json(200, {"expired": len(self.tokens)})

    # ---------------------------------------------------------------- /connect/token
    def check_token_request(self, req: Request) -> list[str]:
        """Hand-written checks: the document only names tokenUrl."""
        if req.method != "POST":
            return [f"{req.method} /connect/token: only POST is defined"]
        if req.media_type != "application/x-www-form-urlencoded":
            return [
                f"/connect/token needs Content-Type application/x-www-form-urlencoded, got {req.media_type or '(none)'}"
            ]
        out = []
        if req.query:
            out.append("/connect/token takes no query parameters")
        try:
            form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(req.body))
        except (UnicodeDecodeError, ValueError) as exc:
            return [f"/connect/token body is not valid form encoding: {exc}"]
        for key, vals in form.items():
            if key not in _TOKEN_FIELDS:
                out.append(f"/connect/token form field {key} is not an OAuth2 token request field")
            if len(vals) > 1:
                out.append(f"/connect/token form field {key} is repeated")
        if "grant_type" not in form:
            out.append("/connect/token requires grant_type")
        elif form["grant_type"][0] == "client_credentials":
            for key in ("client_id", "client_secret"):
                if key not in form:
                    out.append(f"/connect/token with client_credentials requires {key}")
        return out

    def check_token_response(self, req: Request, resp: Response) -> list[str]:
        try:
            body = json.loads(resp.body) if resp.body else None
        except ValueError:
            return ["/connect/token response is not JSON"]
        if resp.status == 200:
            # shared/reference/3cx-xapi.md §1 [C docs]:
            # {"token_type":"Bearer","expires_in":60,"access_token":"…","refresh_token":null}, nothing else.
            if not isinstance(body, dict):
                return ["/connect/token 200 body must be a JSON object"]
            if "json" not in (resp.content_type or ""):
                return ["/connect/token 200 reply must be application/json"]
            missing = sorted(_TOKEN_REPLY - set(body))
            extra = sorted(set(body) - _TOKEN_REPLY)
            out = [f"/connect/token 200 body lacks {name}" for name in missing]
            out += [f"/connect/token 200 body has undocumented {name}" for name in extra]
            if out:
                return out
            if body["token_type"] != "Bearer":
                out.append("token_type must be Bearer")
            if not isinstance(body["expires_in"], int) or body["expires_in"] <= 0:
                out.append("expires_in must be a positive integer")
            if not isinstance(body["access_token"], str) or not body["access_token"]:
                out.append("access_token must be a non-empty string")
            if body["refresh_token"] is not None:
                out.append("refresh_token must be null for client_credentials")
            return out
        if resp.status >= 400:
            if body is None:
                return []  # a bare status (an injected fault without a body)
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                # OAuth2 (RFC 6749 §5.2) as the reference shows the 401:
                # {"error":"unauthorized","error_description":"…"}; nothing else.
                out = [f"/connect/token error {resp.status} has undocumented {k}" for k in sorted(set(body) - _TOKEN_ERROR)]
                if not isinstance(body.get("error_description", ""), str):
                    out.append(f"/connect/token error {resp.status}: error_description must be a string")
                return out
            if isinstance(body, dict) and isinstance(body.get("error"), dict) and self.validator is not None:
                # The OData error shape (an injected 429, say), as strictly as any documented error.
                return self.validator.validate_component(
                    f"/connect/token error {resp.status} body", "Pbx.ODataErrors.ODataError", body, strict=True, context=False
                )
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                return []
            return [f"/connect/token error {resp.status} has neither the OAuth2 nor the OData error shape"]
        return [f"/connect/token status {resp.status} is not expected"]

    def h_token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items()}
        if form.get("grant_type") != "client_credentials":
            return Response.json(
                400,
                {"error": "unsupported_grant_type", "error_description": "The lab supports only client_credentials."},
            )
        if form.get("client_id") == self.client_id and not self.cooldown.admit(self.client_id):
            # Counted per client id, whatever the secret; issued tokens stay valid.
            return Response.json(403, dict(_COOLING_DOWN))
        if not (
            secrets.compare_digest(form.get("client_id", ""), self.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        ):
            return Response.json(401, dict(_UNAUTHORIZED))
        now = time.time()
        token = secrets.token_urlsafe(48)
        # "Only one access token can be active at a time": the new one replaces it.
        self.tokens[self.client_id] = {"access_token": token, "issued_at": now, "expires_at": now + TOKEN_LIFETIME}
        unit = self.variant("token_expiry")
        if unit == "expires-by-version":
            unit = "expires-seconds" if version_key(self.version) >= version_key("20.0.9") else "expires-minutes"
        # The token lives TOKEN_LIFETIME seconds whatever the unit its expires_in is given in.
        expires_in = TOKEN_LIFETIME if unit == "expires-seconds" else TOKEN_LIFETIME // 60
        return Response.json(
            200,
            {"token_type": "Bearer", "expires_in": expires_in, "access_token": token, "refresh_token": None},
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    # ---------------------------------------------------------------- XAPI
    def h_system_parameters(self, req: Request) -> Response:
        host = (req.headers.get("Host") or "127.0.0.1").rsplit(":", 1)[0]
        value = {
            "@odata.context": f"{self.public_base(req)}/xapi/v1/$metadata#Pbx.SystemParameters",
            "Version": SUPPORTED_VERSIONS[self.version],
            "FQDN": "lab-pbx.example.com",
            "PbxExternalHost": self.public_ip or host,
            "Is3CXFQDN": False,
            "IsHosted": False,
            "IsHosted3CX": False,
            "IsMulticompanyMode": False,
            "IsStaticIp": True,
            "StaticIp": self.public_ip or "127.0.0.1",
            "HttpPort": 5000,
            "HttpsPort": 5001,
            "SipPort": 5060,
            "SipsPort": 5061,
            "TunnnelPort": 5090,
            "MaxDIDPerTrunk": 200,
            "ProcessorCount": 2,
            "GlobalLanguage": "EN",
            "License": {
                "CountryCode": "US",
                "IsEnterprise": True,
                "IsProfessional": False,
                "MaxSimCalls": 8,
                "ProductCode": "3CXPSENT",
                "IsMaintainceExpired": False,
                "IsBrandingEnabled": False,
                "IsCfdEnabled": False,
            },
            # Documented, of no use to the lab's clients: off, empty or null.
            "AIVersion": None,
            "Custom1Name": "",
            "Custom2Name": "",
            "EmRuleCreationAllowed": True,
            "ENL": None,
            "ENLRange": None,
            "FirstExternalPort": None,
            "GlobalACPRMSET": "",
            "IpV6": "",
            "IsChatLogEnabled": False,
            "IsRemoteBackup": False,
            "IsTranscriptionEnabled": False,
            "RemoteStorageStatus": None,
            "RpsEnabled": False,
            "StunIp": "",
            "WebrtcLastPort": None,
        }
        return self.ok(value)
