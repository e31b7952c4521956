"""Which Twilio Region a request was sent to, judged by its host name."""

from __future__ import annotations

import ipaddress
import re

REGIONS = ("us1", "ie1", "au1")
DEFAULT_EDGE = {"us1": "ashburn", "ie1": "dublin", "au1": "sydney"}

_API_HOST = re.compile(r"^api\.(?:(?P<edge>[a-z0-9-]+)\.)?(?P<region>[a-z]{2}\d)\.twilio\.com$")


class HostRefused(Exception):
    """The host is not one the lab (or Twilio) serves the REST API on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _strip_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def region_from_host(host: str) -> str:
    """Map a Host / X-Forwarded-Host value to a Region, or raise HostRefused.

    A bare loopback host means a client pointed straight at the lab without
    saying which Twilio host it meant; that is the default host, US1.
    """
    name = _strip_port(host)
    if name == "api.twilio.com" or _is_loopback(name):
        return "us1"
    m = _API_HOST.match(name)
    if not m:
        raise HostRefused(f"{name} is not a Twilio REST API host")
    region, edge = m.group("region"), m.group("edge")
    if edge is None and region != "us1":
        # Twilio retires region-only hosts (api.ie1.twilio.com) on 2026-04-28.
        raise HostRefused(
            f"the region-only host {name} is deprecated; use "
            f"api.<edge>.{region}.twilio.com, e.g. api.{DEFAULT_EDGE.get(region, 'EDGE')}.{region}.twilio.com"
        )
    if region not in REGIONS:
        raise HostRefused(f"the lab does not serve Region {region} (it serves {', '.join(REGIONS)})")
    return region
