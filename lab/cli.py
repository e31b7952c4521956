"""``lab up | down | status | serve``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import home as labhome
from .ca import ensure_ca
from .masking import mask
from .threecx.app import DEFAULT_VERSION, SUPPORTED_VERSIONS


def _read_pid(home: Path) -> int | None:
    try:
        return int(labhome.pid_path(home).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # Guard against pid reuse: the process must be a lab server.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"serve" not in cmdline:
            return False
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return True


def _endpoints(home: Path) -> dict | None:
    try:
        return json.loads(labhome.endpoints_path(home).read_text())
    except (OSError, ValueError):
        return None


def _probe(url: str, ca: str, timeout: float = 2.0) -> bool:
    ctx = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen(url + "/_lab/state", context=ctx, timeout=timeout) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


def _healthy(eps: dict) -> bool:
    return all(_probe(eps[k], eps["ca_bundle"]) for k in ("twilio_api_base_url", "threecx_url"))


def _print_status(home: Path, pid: int, eps: dict) -> None:
    public = mask(eps)
    print(json.dumps({"status": "up", "pid": pid, "home": str(home), "endpoints": public}, indent=2))


def cmd_status(args: argparse.Namespace) -> int:
    home = labhome.lab_home()
    pid = _read_pid(home)
    eps = _endpoints(home)
    if pid is None or not _alive(pid) or eps is None:
        print(f"lab is down (home {home})")
        return 1
    if not _healthy(eps):
        print(f"lab process {pid} is running but its stand-ins do not answer (see {labhome.log_path(home)})")
        return 2
    _print_status(home, pid, eps)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    home = labhome.lab_home()
    home.mkdir(parents=True, exist_ok=True)
    pid = _read_pid(home)
    if pid is not None and _alive(pid):
        eps = _endpoints(home)
        if eps is not None and _healthy(eps):
            _print_status(home, pid, eps)
            return 0
        print(f"lab process {pid} is running but unhealthy; run 'lab down' first", file=sys.stderr)
        return 1
    labhome.pid_path(home).unlink(missing_ok=True)
    labhome.endpoints_path(home).unlink(missing_ok=True)
    ensure_ca(home)
    log = labhome.log_path(home)
    env = dict(os.environ, LAB_HOME=str(home))
    # Run from the repo root so "-m lab" resolves even without pip install.
    with open(log, "ab") as logfh:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "lab", "serve", "--threecx-version", args.threecx_version],
            cwd=str(labhome.REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=logfh,
            stderr=logfh,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-20:]
            print("lab failed to start:\n" + "\n".join(tail), file=sys.stderr)
            return 1
        if _read_pid(home) == proc.pid:
            eps = _endpoints(home)
            if eps is not None and _healthy(eps):
                _print_status(home, proc.pid, eps)
                return 0
        time.sleep(0.1)
    print(f"lab did not become ready within {args.timeout} s; see {log}", file=sys.stderr)
    proc.terminate()
    return 1


def cmd_down(args: argparse.Namespace) -> int:
    home = labhome.lab_home()
    pid = _read_pid(home)
    if pid is None or not _alive(pid):
        labhome.pid_path(home).unlink(missing_ok=True)
        labhome.endpoints_path(home).unlink(missing_ok=True)
        print("lab is down")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    labhome.pid_path(home).unlink(missing_ok=True)
    labhome.endpoints_path(home).unlink(missing_ok=True)
    print(f"lab stopped (pid {pid})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve  # imported late: it loads the vendor documents

    return serve(labhome.lab_home(), args.threecx_version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description="Local HTTPS stand-ins for Twilio and 3CX.")
    sub = parser.add_subparsers(dest="command", required=True)
    versions = list(SUPPORTED_VERSIONS)
    up = sub.add_parser("up", help="start the lab in the background")
    up.add_argument("--threecx-version", choices=versions, default=DEFAULT_VERSION)
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the lab")
    down.add_argument("--timeout", type=float, default=10.0)
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="show endpoints (secrets masked); non-zero when down").set_defaults(func=cmd_status)
    serve = sub.add_parser("serve", help="run in the foreground (used by 'up')")
    serve.add_argument("--threecx-version", choices=versions, default=DEFAULT_VERSION)
    serve.set_defaults(func=cmd_serve)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
