"""``lab up | down | status | docs | serve | pbx add | pbx list | variants``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import home as labhome
from .ca import ca_files, ensure_ca
from .masking import mask
from .threecx.app import DEFAULT_VERSION, SUPPORTED_VERSIONS
from .threecx.fleet import check_name
from .variants import ALL as ALL_VARIANTS
from .variants import BY_NAME as VARIANTS_BY_NAME
from .variants import resolve as resolve_variants


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


class ControlError(Exception):
    """A control call failed: the lab is down or refused (exit 1), or does not answer (exit 2)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _control(home: Path, method: str, path: str, body: dict | None = None) -> dict:
    """A call to the running lab's 3CX root control endpoint (``/_lab/<path>``)."""
    pid = _read_pid(home)
    eps = _endpoints(home)
    if pid is None or not _alive(pid) or eps is None:
        raise ControlError(f"lab is down (home {home}); start it with 'lab up'")
    ctx = ssl.create_default_context(cafile=str(ca_files(home).ca_cert))
    # No proxies: the lab is on loopback, and *_proxy variables must not reroute its calls.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    data = json.dumps(body).encode() if body is not None else None
    url = eps["threecx"]["control_url"] + "/" + path
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with opener.open(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            message = exc.reason
        raise ControlError(f"the lab refused: {exc.code} {message}") from None
    except OSError as exc:
        raise ControlError(f"lab process {pid} does not answer ({exc}); see {labhome.log_path(home)}", code=2) from None


def _variant(value: str) -> str:
    if value not in VARIANTS_BY_NAME:
        raise argparse.ArgumentTypeError(f"unknown variant {value!r}; 'lab variants' lists them")
    return value


def _variants_ok(names: list[str]) -> bool:
    try:
        resolve_variants(names)
    except ValueError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return False
    return True


def _pbx_name(value: str) -> str:
    try:
        return check_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    if not _variants_ok(args.variant):
        return 2
    home = labhome.lab_home()
    home.mkdir(parents=True, exist_ok=True)
    pid = _read_pid(home)
    if pid is not None and _alive(pid):
        eps = _endpoints(home)
        if eps is not None and _healthy(eps):
            if args.variant:  # variants are chosen when a stand-in starts; say so, never ignore them
                print(
                    f"lab already runs (pid {pid}): --variant applies to a new lab only; use 'lab pbx add NAME --variant ...' "
                    "or POST /_lab/variants",
                    file=sys.stderr,
                )
                return 1
            if args.pbx:  # a running lab gets the PBXs it lacks (with its own version)
                try:
                    _control(home, "POST", "pbxs", {"names": args.pbx})
                except ControlError as exc:
                    print(exc, file=sys.stderr)
                    return exc.code
                eps = _endpoints(home) or eps
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
            [sys.executable, "-m", "lab", "serve", "--threecx-version", args.threecx_version]
            + [arg for name in args.pbx for arg in ("--pbx", name)]
            + [arg for name in args.variant for arg in ("--variant", name)],
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


def cmd_docs(args: argparse.Namespace) -> int:
    """Whether a lab started now would validate: one line, exit 1 when a document is missing
    and the opt-out is not set (the test tiers call this before starting labs)."""
    missing = labhome.missing_documents()
    if not missing:
        paths = ", ".join(str(labhome.shared_dir() / rel) for _name, rel in labhome.DOCUMENTS)
        print(f"lab validation: on (vendor documents {paths})")
        return 0
    if labhome.allow_no_spec():
        print(f"lab validation: OFF ({labhome.ALLOW_NO_SPEC_ENV}=1): " + "; ".join(missing))
        return 0
    print(labhome.no_spec_message(missing), file=sys.stderr)
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve  # imported late: it loads the vendor documents

    if not _variants_ok(args.variant):
        return 2
    return serve(labhome.lab_home(), args.threecx_version, args.pbx, args.variant)


def _print_pbxs(method: str, body: dict | None = None) -> int:
    try:
        result = _control(labhome.lab_home(), method, "pbxs", body)
    except ControlError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    print(json.dumps(mask(result), indent=2))  # masked like "lab status": endpoints.json has the secrets
    return 0


def cmd_pbx_add(args: argparse.Namespace) -> int:
    body: dict = {"names": args.names}
    if args.threecx_version:
        body["threecx_version"] = args.threecx_version
    if args.variant:
        if not _variants_ok(args.variant):
            return 2
        body["variants"] = args.variant
    return _print_pbxs("POST", body)


def cmd_pbx_list(args: argparse.Namespace) -> int:
    return _print_pbxs("GET")


def cmd_variants(args: argparse.Namespace) -> int:
    """The catalogue of lab/variants.py (no running lab needed)."""
    if args.json:
        print(json.dumps([v.as_dict() for v in ALL_VARIANTS], indent=2))
        return 0
    behaviour = None
    for v in ALL_VARIANTS:
        if v.behaviour != behaviour:
            behaviour = v.behaviour
            print(f"{behaviour} ({v.vendor}):")
        print(f"  {v.name:<20} {'(default) ' if v.default else ''}{v.summary}")
        print(f"  {'':<20} source: {v.reference}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description="Local HTTPS stand-ins for Twilio and 3CX.")
    sub = parser.add_subparsers(dest="command", required=True)
    versions = list(SUPPORTED_VERSIONS)
    up = sub.add_parser("up", help="start the lab in the background")
    up.add_argument("--threecx-version", choices=versions, default=DEFAULT_VERSION)
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    up.add_argument(
        "--pbx", action="append", default=[], type=_pbx_name, metavar="NAME", help="a named 3CX PBX (repeatable)"
    )
    variant_help = "play this reading of an unconfirmed vendor behaviour (repeatable; see 'lab variants')"
    up.add_argument("--variant", action="append", default=[], type=_variant, metavar="VARIANT", help=variant_help)
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the lab")
    down.add_argument("--timeout", type=float, default=10.0)
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="show endpoints (secrets masked); non-zero when down").set_defaults(func=cmd_status)
    sub.add_parser(
        "docs", help="say whether the vendor documents are there (validation on); exit 1 if not, unless opted out"
    ).set_defaults(func=cmd_docs)
    serve = sub.add_parser("serve", help="run in the foreground (used by 'up')")
    serve.add_argument("--threecx-version", choices=versions, default=DEFAULT_VERSION)
    serve.add_argument("--pbx", action="append", default=[], type=_pbx_name, metavar="NAME")
    serve.add_argument("--variant", action="append", default=[], type=_variant, metavar="VARIANT")
    serve.set_defaults(func=cmd_serve)
    pbx = sub.add_parser("pbx", help="named 3CX PBXs of the running lab (one per site)")
    pbx_sub = pbx.add_subparsers(dest="pbx_command", required=True)
    add = pbx_sub.add_parser("add", help="create the PBXs not there yet; print these (secrets masked)")
    add.add_argument("names", nargs="+", type=_pbx_name, metavar="NAME")
    add.add_argument("--threecx-version", choices=versions, help="default: the version the lab was started with")
    add.add_argument("--variant", action="append", default=[], type=_variant, metavar="VARIANT", help=variant_help)
    add.set_defaults(func=cmd_pbx_add)
    pbx_sub.add_parser("list", help="every named PBX (secrets masked)").set_defaults(func=cmd_pbx_list)
    var = sub.add_parser("variants", help="list the readings of unconfirmed vendor behaviours the lab can play")
    var.add_argument("--json", action="store_true", help="as JSON")
    var.set_defaults(func=cmd_variants)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
