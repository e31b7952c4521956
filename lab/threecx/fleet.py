"""Many 3CX PBXs, one per customer site, next to the root PBX on the same server.

A named PBX is a complete :class:`ThreeCX` of its own (credentials, tokens and cool-down,
configuration, version) served below ``/pbx/<name>``: clients append ``/connect/token`` and
``/xapi/v1/...`` to ``https://127.0.0.1:<port>/pbx/<name>`` exactly as they do to the root's
URL, and its control endpoints are ``/pbx/<name>/_lab/...``. The routing, the shared request
log and the reset of every PBX with the root are :class:`lab.server.Mounts`; this module adds
what is 3CX-specific: names, credentials, "public IPs" and the root's ``/_lab/pbxs``.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Callable

from .. import variants as V
from ..server import Mounts, Request, Response
from .app import SUPPORTED_VERSIONS, ThreeCX

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SEGMENT = "pbx"
# Each named PBX gets a loopback address of its own as its public IP: Twilio IP ACLs list it and
# SIP test calls come from it. 127.0.0.1 is the servers' (and the root PBX's); .2-.10 stay free.
IP_FIRST, IP_LAST = 11, 254
_CREATE_KEYS = {"names", "threecx_version", "variants"}


class FleetFull(Exception):
    """No loopback address left for another PBX."""


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"PBX name {name!r} must match {NAME_RE.pattern}")
    return name


class PbxFleet:
    """The named PBXs of the 3CX server, and the root's ``GET/POST /_lab/pbxs``."""

    def __init__(self, root: ThreeCX, base_url: str = "", on_change: Callable[[], None] | None = None):
        self.root = root
        # The server's https://127.0.0.1:<port>, known once it listens (lab/serve.py sets it).
        self.base_url = base_url
        # Called after PBXs were created (lab/serve.py rewrites endpoints.json).
        self.on_change = on_change
        self.mounts = Mounts(root, SEGMENT, label="PBX", missing_hint="create it with POST /_lab/pbxs")
        self._create_lock = threading.Lock()  # names and addresses are handed out in order
        self._next_ip = IP_FIRST
        root.control.add("GET", "/_lab/pbxs", self.c_list)
        root.control.add("POST", "/_lab/pbxs", self.c_create)

    def get(self, name: str) -> ThreeCX | None:
        pbx = self.mounts.get(name)
        return pbx if isinstance(pbx, ThreeCX) else None

    def create(self, names: list[str], version: str | None = None, variants: list[str] | None = None) -> list[str]:
        """Create the PBXs not there yet (existing ones stay as they are); returns the new names.

        All or nothing: names, version and the remaining addresses are checked first.
        """
        wanted = list(dict.fromkeys(check_name(n) for n in names))
        version = version or self.root.launch_version
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(f"threecx_version must be one of {', '.join(SUPPORTED_VERSIONS)}")
        # The variants a new PBX plays (lab/variants.py): given, else the root's launch variants.
        chosen = V.non_default(self.root.launch_variants) if variants is None else variants
        V.resolve(chosen, V.THREECX)  # checked before anything is created
        with self._create_lock:
            new = [n for n in wanted if self.mounts.get(n) is None]
            left = IP_LAST - self._next_ip + 1
            if len(new) > left:
                raise FleetFull(
                    f"cannot create {len(new)} more PBXs: only {left} of the lab's public IPs "
                    f"127.0.0.{IP_FIRST}-127.0.0.{IP_LAST} are left ({len(self.mounts)} PBXs exist)"
                )
            for name in new:
                pbx = ThreeCX(
                    # One validator for all PBXs: the 3CX document is parsed once per lab.
                    self.root.validator,
                    self.root.validation,
                    client_id=f"lab-{name}-{secrets.randbelow(9000) + 1000}",
                    client_secret=secrets.token_urlsafe(32),
                    version=version,
                    public_ip=f"127.0.0.{self._next_ip}",
                    variants=chosen,
                )
                pbx.sip_leg = self.root.sip_leg  # its test calls come from its public IP
                self._next_ip += 1
                self.mounts.add(name, pbx)
        if new and self.on_change is not None:
            self.on_change()
        return new

    def descriptor(self, name: str, base_url: str | None = None) -> dict:
        """What a client needs to reach one PBX (secrets in clear: endpoints.json and /_lab/pbxs)."""
        pbx = self.get(name)
        if pbx is None:
            raise KeyError(name)
        url = (base_url if base_url is not None else self.base_url) + pbx.prefix
        return {
            "url": url,
            "client_id": pbx.client_id,
            "client_secret": pbx.client_secret,
            # What it was created with and what a reset goes back to (its state shows the current one).
            "version": pbx.launch_version,
            "control_url": url + "/_lab",
            "public_ip": pbx.public_ip,
            # The variants it was created with (lab/variants.py; only those that are not the default).
            "variants": V.non_default(pbx.launch_variants),
        }

    def descriptors(self, base_url: str | None = None) -> dict[str, dict]:
        return {name: self.descriptor(name, base_url) for name, _ in self.mounts.items()}

    # ---------------------------------------------------------------- the PSTN
    def owner_of(self, number: str) -> ThreeCX | None:
        """The PBX (root or named) one of whose trunks lists *number* among its DIDs (the same digits
        with or without '+' match too); None when no lab PBX owns it."""
        digits = number.lstrip("+")
        pbxs = [self.root] + [pbx for _, pbx in self.mounts.items() if isinstance(pbx, ThreeCX)]
        for pbx in pbxs:
            with pbx.lock:
                dids = [d for t in pbx.pbx.trunks.items.values() for d in t.get("DidNumbers") or []]
            if number in dids or digits in {d.lstrip("+") for d in dids}:
                return pbx
        return None

    def pstn_call(self, to: str, caller: str) -> dict | None:
        """The PSTN delivers a call from *caller* to *to*: the owning PBX runs its whole inbound flow
        (its ``/_lab/calls`` answer); None when no lab PBX owns the number."""
        pbx = self.owner_of(to)
        if pbx is None:
            return None
        return pbx.calls.inbound(to, caller).as_dict(pbx)

    # ---------------------------------------------------------------- control endpoints
    def _base(self, req: Request) -> str:
        return self.base_url or "https://" + (req.headers.get("Host") or "127.0.0.1")

    def c_list(self, req: Request) -> Response:
        return Response.json(200, {"pbxs": self.descriptors(self._base(req))})

    def c_create(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict) or not isinstance(body.get("names"), list) or set(body) - _CREATE_KEYS:
            return Response.json(
                400, {"error": 'body must be {"names": ["site-a", ...], "threecx_version": optional, "variants": optional}'}
            )
        try:
            self.create(body["names"], body.get("threecx_version"), body.get("variants"))
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})
        except FleetFull as exc:
            return Response.json(409, {"error": str(exc)})
        except OSError as exc:  # on_change: the PBXs exist, but endpoints.json does not say so
            return Response.json(500, {"error": f"PBXs created, but endpoints.json could not be written: {exc}"})
        base = self._base(req)
        asked = {name: self.descriptor(name, base) for name in dict.fromkeys(body["names"])}
        return Response.json(200, {"pbxs": asked})
