"""One test call over real SIP: sipp (3CX) -> Kamailio (the Twilio SIP Domain), on loopback.

Per call: find the SIP Domain the trunk's registrar names in the Twilio stand-in, render a
Kamailio configuration for it and a sipp scenario for the INVITE, start Kamailio in the
foreground on ``udp:127.0.0.1:<free port>``, run sipp once from the PBX's public IP, stop
Kamailio by its pid, read both logs, and record the call in the Twilio stand-in's call log.
Everything is bounded: Kamailio gets ``READY_TIMEOUT`` to start, sipp ``-timeout`` and a
process timeout, and Kamailio is stopped in a ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol

from . import tools
from .uac import Invite, final_invite_response, parse_trace, render_scenario
from .uas import READY, DomainAuth, parse_log, render_config

READY_TIMEOUT = 5.0  # seconds for Kamailio to start listening
SIPP_TIMEOUT = 6  # sipp's -timeout (seconds): a call that gets no final answer ends then
PROCESS_GRACE = 4.0  # on top of SIPP_TIMEOUT before the lab kills sipp

# <name>.sip[.<edge or region>].twilio.com -> the SIP Domain <name>.sip.twilio.com
_TWILIO_SIP_HOST = re.compile(r"^(?P<name>.+)\.sip\.(?:(?P<where>[a-z0-9-]+)\.)?twilio\.com$", re.IGNORECASE)
_EDGE_REGION = {
    "ashburn": "us1",
    "umatilla": "us2",
    "dublin": "ie1",
    "frankfurt": "de1",
    "singapore": "sg1",
    "tokyo": "jp1",
    "sao-paulo": "br1",
    "sydney": "au1",
}
_REGIONS = {"us1", "us2", "ie1", "de1", "sg1", "jp1", "br1", "au1"}


class TwilioSide(Protocol):
    """What the SIP leg needs from the Twilio stand-in (lab/twilio/app.py implements it)."""

    def sip_auth_view(self) -> dict: ...

    def record_sip_call(self, account_sid: str, **fields: Any) -> str: ...


def parse_sip_host(host: str) -> dict | None:
    """``acme.sip.ie1.twilio.com`` -> {"domain_name": "acme.sip.twilio.com", "ingress": "ie1", ...}; else None."""
    host = (host or "").strip().rstrip(".").split(":")[0]
    m = _TWILIO_SIP_HOST.match(host)
    if not m:
        return None
    where = (m.group("where") or "").lower()
    edge = where[: -len("-ix")] if where.endswith("-ix") else where
    region = where if where in _REGIONS else _EDGE_REGION.get(edge)
    return {
        "host": host,
        "domain_name": f"{m.group('name')}.sip.twilio.com",
        "ingress": where or None,
        "ingress_region": region,
    }


@dataclass
class CallResult:
    """What happened on the wire, from both ends."""

    status: int | None = None  # the final answer to the (last) INVITE, as the UAC got it
    reason: str = ""
    error: str | None = None  # the call could not be placed or ended without a final answer
    uas: dict | None = None  # the last INVITE as the UAS logged it (headers it saw, decision)
    invites: list[dict] = field(default_factory=list)  # every INVITE the UAS logged
    messages: list[dict] = field(default_factory=list)  # the UAC's message trace
    domain: dict | None = None
    sip_host: dict | None = None
    twilio_call_sid: str | None = None
    seconds: float = 0.0
    sent_headers: dict = field(default_factory=dict)
    sipp_rc: int | None = None

    @property
    def answered(self) -> bool:
        return self.status == 200

    def summary(self) -> dict:
        """The JSON of a call for control endpoints: status, what the UAS saw, the exchange."""
        uas = self.uas or {}

        def user(header: str | None) -> str | None:
            m = re.search(r"sip:([^@;>]*)@", header or "")
            return m.group(1) if m else None

        return {
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
            "source_ip": uas.get("source_ip"),
            "from": uas.get("from_user"),
            "from_display": uas.get("from_display"),
            "pai": user(uas.get("pai")),
            "ppi": user(uas.get("ppi")),
            "rpid": user(uas.get("rpid")),
            "to": uas.get("to_user"),
            "request_uri_user": uas.get("ruri_user"),
            "auth": uas.get("how"),
            "auth_user": uas.get("auth_user"),
            "decision": uas.get("why"),
            "headers": (
                {
                    "From": uas.get("from"),
                    "P-Asserted-Identity": uas.get("pai"),
                    "P-Preferred-Identity": uas.get("ppi"),
                    "Remote-Party-ID": uas.get("rpid"),
                }
                if uas
                else {}
            ),
            "sent_headers": self.sent_headers,
            "domain": self.domain,
            "sip_host": self.sip_host,
            "invites": len(self.invites),
            "exchange": [
                {
                    "direction": m["direction"],
                    "line": m["first_line"],
                    "cseq": m["headers"].get("CSeq"),
                }
                for m in self.messages
            ],
            "twilio_call_sid": self.twilio_call_sid,
            "seconds": round(self.seconds, 3),
        }


_TWILIO_STATUS = {200: "completed", 486: "busy", 600: "busy", 408: "no-answer", 480: "no-answer", 487: "canceled"}


class SipLeg:
    """Places test calls; one per source IP at a time (their sipp ports could clash), any number in parallel."""

    def __init__(self, twilio: TwilioSide | None, log: Any = None):
        self.twilio = twilio
        self.log = log  # callable(str) for lab.log lines
        self._ip_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.calls_placed = 0

    # ---------------------------------------------------------------- status
    def missing(self) -> list[str]:
        return tools.missing_binaries()

    def describe(self) -> dict:
        """The ``sip`` section of endpoints.json."""
        missing = self.missing()
        return {
            "available": not missing,
            "missing": missing,
            "uas": "kamailio (plays the Twilio SIP Domain, udp 127.0.0.1:<free port> per call)",
            "uac": "sipp (plays 3CX, from the PBX's public IP)",
            "note": tools.missing_message(missing) if missing else "",
        }

    def _lock_for(self, ip: str) -> threading.Lock:
        with self._guard:
            return self._ip_locks.setdefault(ip, threading.Lock())

    # ---------------------------------------------------------------- Twilio side
    def domain_for(self, host: str) -> tuple[dict | None, DomainAuth | None]:
        parsed = parse_sip_host(host)
        if parsed is None or self.twilio is None:
            return parsed, None
        domains = self.twilio.sip_auth_view()["domains"]
        wanted = parsed["domain_name"].lower()
        for name, view in domains.items():
            if name.lower() == wanted:
                return parsed, DomainAuth.from_view(name, view)
        return parsed, None

    # ---------------------------------------------------------------- one call
    def place(self, invite: Invite) -> CallResult:
        missing = self.missing()
        if missing:
            return CallResult(error=tools.missing_message(missing))
        sip_host, domain = self.domain_for(invite.host)
        result = CallResult(sip_host=sip_host, domain=domain.public() if domain else None)
        result.sent_headers = invite.headers()
        if sip_host is None:
            result.error = (
                f"the trunk's registrar {invite.host!r} is not a Twilio SIP Domain host "
                "(<name>.sip[.<edge>].twilio.com): the lab has no UAS for it"
            )
            return result
        started = time.monotonic()
        began = datetime.now(timezone.utc)
        with self._lock_for(invite.source_ip), tempfile.TemporaryDirectory(prefix="lab-sip-") as tmp:
            self._run(Path(tmp), invite, domain, result)
        result.seconds = time.monotonic() - started
        self.calls_placed += 1
        if result.invites and domain is not None and self.twilio is not None:
            result.twilio_call_sid = self._record(domain, result, began)
        if self.log is not None:
            self.log(
                f"sip call {invite.source_ip} -> {invite.host} ({domain.name if domain else 'no such domain'}): "
                f"{result.status or result.error} in {result.seconds:.2f} s"
            )
        return result

    def _run(self, tmp: Path, invite: Invite, domain: DomainAuth | None, result: CallResult) -> None:
        kamailio, sipp = tools.find_binary("kamailio"), tools.find_binary("sipp")
        os.chmod(tmp, 0o700)  # the configuration holds credential digests
        scenario = tmp / "uac.xml"
        scenario.write_text(render_scenario(invite))
        uas_log = tmp / "uas.log"
        trace = tmp / "uac-messages.log"
        uas, uas_port = None, 0
        # A free port can be taken by someone else before Kamailio binds it: one more try then.
        for _attempt in range(2):
            uas_port = tools.free_udp_port("127.0.0.1")
            cfg = tmp / "uas.cfg"
            cfg.write_text(render_config(uas_port, invite.host, domain))
            uas = self._start_uas(kamailio, cfg, uas_log, tmp)
            if self._wait_ready(uas, uas_log):
                break
            _stop(uas)
            uas = None
        if uas is None:
            result.error = "Kamailio did not start: " + _tail(uas_log)
            return
        try:
            src = invite.source_ip
            sip_port, control_port = tools.free_udp_ports(src, 2)
            argv = [
                sipp,
                f"127.0.0.1:{uas_port}",
                "-sf",
                str(scenario),
                "-i",
                src,
                "-p",
                str(sip_port),
                "-mp",
                str(tools.free_media_port(src, avoid=(sip_port, control_port, uas_port))),
                "-ci",
                src,
                "-cp",
                str(control_port),
                "-m",
                "1",
                "-l",
                "1",
                "-nostdin",
                "-timeout",
                str(SIPP_TIMEOUT),
                "-timeout_error",
                "-trace_msg",
                "-message_file",
                str(trace),
                "-trace_err",
                "-error_file",
                str(tmp / "uac-errors.log"),
            ]
            if invite.auth_user:
                argv += ["-au", invite.auth_user, "-ap", invite.auth_password or ""]
            try:
                proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    cwd=tmp,
                    timeout=SIPP_TIMEOUT + PROCESS_GRACE,
                    check=False,
                )
                result.sipp_rc = proc.returncode
                sipp_err = proc.stderr.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                result.sipp_rc = None
                sipp_err = "sipp did not end in time and was killed"
        finally:
            _stop(uas)
        result.messages = parse_trace(trace.read_text(errors="replace")) if trace.exists() else []
        result.invites = parse_log(uas_log.read_text(errors="replace"))
        result.uas = result.invites[-1] if result.invites else None
        result.status, result.reason = final_invite_response(result.messages)
        if result.status is None:
            lines = [ln for ln in sipp_err.splitlines() if ln.strip() and not ln.startswith("Resolving")]
            result.error = "no final answer to the INVITE" + (f": {lines[-1].strip()}" if lines else "")

    @staticmethod
    def _start_uas(kamailio: str, cfg: Path, log: Path, tmp: Path) -> subprocess.Popen:
        """Kamailio in the foreground (-DD), logging to stderr (-E) into *log*, small memory pools."""
        with open(log, "wb") as err:
            return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [kamailio, "-DD", "-E", "-f", str(cfg), "-m", "16", "-M", "4", "-Y", str(tmp), "-w", str(tmp)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=tmp,
                start_new_session=True,  # its workers share its process group: stopped together
            )

    @staticmethod
    def _wait_ready(proc: subprocess.Popen, log: Path) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                if READY in log.read_text(errors="replace"):
                    return True
            except OSError:
                pass
            time.sleep(0.01)
        return False

    def _record(self, domain: DomainAuth, result: CallResult, began: datetime) -> str | None:
        uas = result.uas or {}
        status = _TWILIO_STATUS.get(result.status or 0, "failed") if result.status else "failed"
        ended = datetime.now(timezone.utc)
        return self.twilio.record_sip_call(  # type: ignore[union-attr]
            domain.account_sid,
            from_=uas.get("from_user") or "",
            to=uas.get("ruri_user") or uas.get("to_user") or "",
            status=status,
            start=began,
            end=ended,
        )


@contextlib.contextmanager
def running_uas(host: str = "lab.sip.twilio.com", domain: DomainAuth | None = None) -> Iterator[tuple[str, int]]:
    """A Kamailio UAS on ``udp:127.0.0.1:<free port>`` for as long as the ``with`` block runs.

    For tests that need a SIP server that stays up (a probe), not a call: yields (ip, port),
    stops Kamailio by its pid on exit. RuntimeError when the binary is missing or it does not start.
    """
    kamailio = tools.find_binary("kamailio")
    if kamailio is None:
        raise RuntimeError(tools.missing_message(["kamailio"]))
    with tempfile.TemporaryDirectory(prefix="lab-uas-") as tmp:
        work = Path(tmp)
        log = work / "uas.log"
        for _attempt in range(2):
            port = tools.free_udp_port("127.0.0.1")
            cfg = work / "uas.cfg"
            cfg.write_text(render_config(port, host, domain))
            proc = SipLeg._start_uas(kamailio, cfg, log, work)
            if SipLeg._wait_ready(proc, log):
                break
            _stop(proc)
        else:
            raise RuntimeError("Kamailio did not start: " + _tail(log))
        try:
            yield "127.0.0.1", port
        finally:
            _stop(proc)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def _stop(proc: subprocess.Popen) -> None:
    """Stop Kamailio by its pid (SIGTERM: it stops its workers); if it does not end, SIGKILL its process group."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=3)
        return
    except subprocess.TimeoutExpired:
        pass
    # Still running, so the group Popen made for it (start_new_session) is still its own.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        pass
