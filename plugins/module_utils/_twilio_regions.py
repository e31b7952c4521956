# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Twilio regions, their edges, and the SIP addresses of a SIP Domain: the one place for each.

PRIVATE to this collection: may change without notice.

Imports nothing from the SDK, so that the site model (an action plugin on the controller) and
the clients share these facts without paying for the SDK's import.
"""

from __future__ import annotations

REGIONS = ("us1", "ie1", "au1")
# The region an unset region means (the connection option's default; TWILIO_REGION overrides it).
DEFAULT_REGION = "us1"
# The edge each supported region is reached through (Twilio: "always set both").
REGION_EDGES = {"us1": "ashburn", "ie1": "dublin", "au1": "sydney"}
# Twilio's SIP ingress host label per region, as shown in the Console.
SIP_REGION_LABELS = {"us1": "us1", "ie1": "ie1", "au1": "au1"}
REGION_NAMES = {
    "us1": "US1 (United States)",
    "ie1": "IE1 (Ireland)",
    "au1": "AU1 (Australia)",
}

# SIP ingress edges (twilio.md section 2); a domain gets every edge's name automatically.
# The "roaming" edge does not serve SIP Domains. Keys are usable with dot notation.
SIP_EDGES = (
    ("ashburn", "ashburn"),
    ("umatilla", "umatilla"),
    ("dublin", "dublin"),
    ("frankfurt", "frankfurt"),
    ("singapore", "singapore"),
    ("tokyo", "tokyo"),
    ("sao_paulo", "sao-paulo"),
    ("sydney", "sydney"),
)

SIP_SUFFIX = ".sip.twilio.com"


def region_name(region):
    return REGION_NAMES.get(region, region)


def short_name(domain_name):
    """``acme`` for ``acme.sip.twilio.com``."""
    name = str(domain_name or "")
    return name[: -len(SIP_SUFFIX)] if name.lower().endswith(SIP_SUFFIX) else name


def _address(name, label):
    return "%s.sip.%s.twilio.com" % (name, label)


def sip_uri(domain_name, region):
    """The region's SIP address as the Console shows it, e.g. ``acme.sip.ie1.twilio.com``."""
    if not domain_name:
        return None
    return _address(short_name(domain_name), SIP_REGION_LABELS[region])


def sip_uris(domain_name, region):
    """Every address of the domain: global, the region's label, and each edge."""
    if not domain_name:
        return {}
    name = short_name(domain_name)
    uris = {"global": name + SIP_SUFFIX, "region": sip_uri(domain_name, region)}
    for key, edge in SIP_EDGES:
        uris[key] = _address(name, edge)
    return uris
