"""Run both stand-ins in one foreground process (``lab serve``)."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from . import home as labhome
from .ca import ensure_ca
from .server import LabHTTPSServer, serve_in_thread, server_ssl_context
from .sip import SipLeg
from .spec import open_validator
from .threecx import ThreeCX
from .threecx.app import DEFAULT_VERSION
from .threecx.fleet import PbxFleet
from .twilio import REGIONS, Twilio
from .twilio.app import Account, check_error_shape
from .variants import non_default


def build(
    home: Path, threecx_version: str = DEFAULT_VERSION, variants: list[str] | None = None
) -> tuple[Twilio, ThreeCX, PbxFleet]:
    shared = labhome.shared_dir()
    cache = labhome.cache_dir(home)
    tw_validator, tw_status = open_validator(
        shared / labhome.TWILIO_DOC, "Twilio REST API v2010", cache, error_check=check_error_shape
    )
    cx_validator, cx_status = open_validator(shared / labhome.THREECX_DOC, "3CX XAPI", cache, odata=True)
    accounts = {region: Account.generate(region) for region in REGIONS}
    # One --variant list for both stand-ins: each takes the variants of its own vendor (lab/variants.py).
    twilio = Twilio(tw_validator, tw_status, accounts, variants=variants)
    threecx = ThreeCX(
        cx_validator,
        cx_status,
        client_id=f"lab{secrets.randbelow(9000) + 1000}",
        client_secret=secrets.token_urlsafe(32),
        version=threecx_version,
        variants=variants,
    )
    # The SIP leg: the 3CX PBXs place test calls to the Twilio stand-in's SIP Domains (lab/sip).
    threecx.sip_leg = SipLeg(twilio, log=threecx.log_line)
    fleet = PbxFleet(threecx)
    # The PSTN: a call Twilio places (POST Calls.json) rings the lab PBX that owns the number.
    twilio.pstn = fleet.pstn_call
    return twilio, threecx, fleet


def endpoints_document(
    home: Path, twilio_srv: LabHTTPSServer, threecx_srv: LabHTTPSServer, fleet: PbxFleet | None = None
) -> dict:
    tw: Twilio = twilio_srv.standin  # type: ignore[assignment]
    cx: ThreeCX = threecx_srv.standin  # type: ignore[assignment]
    return {
        "twilio_api_base_url": twilio_srv.base_url,
        "threecx_url": threecx_srv.base_url,
        "ca_bundle": str((home / "ca.pem").resolve()),
        "twilio": {
            "accounts": {r: a.public() for r, a in tw.accounts.items()},
            "control_url": twilio_srv.base_url + "/_lab",
            "variants": tw.active_variants(),
        },
        "threecx": {
            "url": threecx_srv.base_url,
            "client_id": cx.client_id,
            "client_secret": cx.client_secret,
            "version": cx.version,
            "control_url": threecx_srv.base_url + "/_lab",
            "variants": non_default(cx.launch_variants),
            "pbxs": fleet.descriptors() if fleet is not None else {},
        },
        "sip": cx.sip_leg.describe() if cx.sip_leg is not None else {},
    }


class EndpointsFile:
    """endpoints.json, rewritten by handler threads whenever PBXs are added: one writer at a time,
    each writing the whole current document, and none after shutdown removed the file."""

    def __init__(self, home: Path, servers: list[LabHTTPSServer], fleet: PbxFleet):
        self.home = home
        self.servers = servers
        self.fleet = fleet
        self.lock = threading.Lock()
        self.closed = False

    def write(self) -> None:
        with self.lock:
            if not self.closed:
                doc = endpoints_document(self.home, *self.servers, fleet=self.fleet)
                labhome.write_private_json(labhome.endpoints_path(self.home), doc)

    def close(self) -> None:
        with self.lock:
            self.closed = True


def serve(
    home: Path, threecx_version: str = DEFAULT_VERSION, pbxs: list[str] | None = None, variants: list[str] | None = None
) -> int:
    home.mkdir(parents=True, exist_ok=True)
    files = ensure_ca(home)
    ctx = server_ssl_context(str(files.server_cert), str(files.server_key))
    twilio, threecx, fleet = build(home, threecx_version, variants)
    off = [st.validation.reason or "" for st in (twilio, threecx) if not st.validation.enabled]
    if off and not labhome.allow_no_spec():
        # Never silently off: a lab without its documents would accept anything.
        sys.stderr.write(labhome.no_spec_message(off) + "\n")
        sys.stderr.flush()
        return 3
    servers = [LabHTTPSServer(twilio, ctx), LabHTTPSServer(threecx, ctx)]
    for srv in servers:
        serve_in_thread(srv)
    fleet.base_url = servers[1].base_url
    # PBXs asked for at start exist before endpoints.json does, so "lab up" returns with them.
    fleet.create(pbxs or [])
    endpoints = EndpointsFile(home, servers, fleet)
    fleet.on_change = endpoints.write
    for st in (twilio, threecx):
        state = st.validation.as_dict()
        st.log_line(
            f"{st.name} listening; validation "
            + (
                f"on ({state.get('load_seconds')} s)"
                if state["enabled"]
                else f"OFF ({labhome.ALLOW_NO_SPEC_ENV}=1): {state['reason']}"
            )
        )

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    endpoints.write()
    labhome.pid_path(home).write_text(f"{os.getpid()}\n")
    sys.stderr.write(f"lab serving: twilio {servers[0].base_url}, threecx {servers[1].base_url}\n")
    sys.stderr.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        endpoints.close()
        _remove_if_ours(labhome.pid_path(home))
        sys.stderr.write("lab stopped\n")
        sys.stderr.flush()
    return 0


def _remove_if_ours(pid_file: Path) -> None:
    try:
        if int(pid_file.read_text().strip()) == os.getpid():
            pid_file.unlink()
            labhome.endpoints_path(pid_file.parent).unlink(missing_ok=True)
    except (OSError, ValueError):
        pass
