"""The two programs of the SIP leg, and loopback ports for them."""

from __future__ import annotations

import os
import random
import shutil
import socket
from pathlib import Path

# binary -> the Debian package that ships it (there is no "sipp" package: sip-tester has the command).
PACKAGES = {"kamailio": "kamailio", "sipp": "sip-tester"}
INSTALL_HINT = "apt-get install kamailio sip-tester (or scripts/bootstrap sip as root)"
# kamailio is in /usr/sbin, which a non-root PATH often lacks.
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in _SBIN:
        cand = Path(folder) / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def missing_binaries() -> list[str]:
    return [name for name in PACKAGES if find_binary(name) is None]


def missing_message(missing: list[str]) -> str:
    names = ", ".join(f"{b} (Debian package {PACKAGES[b]})" for b in missing)
    return f"the lab's SIP leg needs {names}: {INSTALL_HINT}"


def free_udp_port(ip: str) -> int:
    """A UDP port free on *ip* right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def free_udp_ports(ip: str, count: int) -> list[int]:
    """*count* different UDP ports free on *ip* (held together while chosen, so they differ)."""
    socks = []
    try:
        for _index in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(sock)
            sock.bind((ip, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _bindable(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def free_media_port(ip: str, avoid: tuple[int, ...] = (), tries: int = 50) -> int:
    """An even port p with p and p+2 free on *ip* (and not in *avoid*): sipp binds both for its RTP echo."""
    for _attempt in range(tries):
        port = random.randrange(20000, 60000, 2)
        if port in avoid or port + 2 in avoid:
            continue
        if _bindable(ip, port) and _bindable(ip, port + 2):
            return port
    raise OSError(f"no free media port pair on {ip}")
