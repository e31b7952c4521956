#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_sip_domain_info
short_description: Read Twilio SIP Domains with their mappings, IP ACL entries and credential usernames
version_added: 0.1.0
description:
  - Reads one SIP Domain (by O(domain_name) or O(sid)) or every domain of the account, with what
    authenticates its calls, for drift reports and the go-live checklist.
  - For each domain, the IP access control lists and credential lists mapped to it, read from
    both the C(Auth/Calls) mappings and the older (legacy) mappings, each list's entries (IP
    addresses) or usernames (never passwords, which Twilio does not return), and the credential
    lists mapped for SIP registrations.
  - Changes nothing.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.twilio
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.TWILIO
  - voip.threecx_twilio.attributes.IN_PROCESS
  - voip.threecx_twilio.attributes.INFO_MODULE
options:
  domain_name:
    description:
      - Read only this domain (a short name such as V(acme) or the full V(acme.sip.twilio.com)).
    type: str
  sid:
    description:
      - Read only the domain with this SID (C(SD...)).
    type: str
  details:
    description:
      - Also read the entries of the mapped IP ACLs and the usernames of the mapped credential lists.
        V(false) reads only the domains and their mappings (fewer requests).
    type: bool
    default: true
notes:
  - A domain that does not exist gives an empty RV(domains) list, not an error.
seealso:
  - module: voip.threecx_twilio.twilio_sip_domain
"""

EXAMPLES = r"""
- name: Read one site's domain
  voip.threecx_twilio.twilio_sip_domain_info:
    region: ie1
    domain_name: acme-fallback
  register: acme_info

- name: The domain exists and accepts the PBX's address
  ansible.builtin.assert:
    that:
      - acme_info.domains | length == 1
      - "'203.0.113.10' in (acme_info.domains[0].ip_access_control_lists | map(attribute='ip_addresses') | flatten | map(attribute='ip'))"

- name: Every domain of the account
  voip.threecx_twilio.twilio_sip_domain_info:
    details: false
  register: all_domains
"""

RETURN = r"""
domains:
  description: The domains found, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    sid:
      description: The domain's SID.
      type: str
      sample: SD0123456789abcdef0123456789abcdef
    domain_name:
      description: The full domain name.
      type: str
      sample: acme-fallback.sip.twilio.com
    friendly_name:
      description: The description.
      type: str
      sample: ACME 3CX fallback
    auth_type:
      description: What Twilio says authenticates calls.
      type: str
      sample: IP_ACL
    voice_url:
      description: The voice URL.
      type: str
      sample: https://bot.example.com/twilio/voice
    voice_method:
      description: Its method.
      type: str
      sample: POST
    voice_fallback_url:
      description: The fallback URL.
      type: str
      sample: null
    voice_fallback_method:
      description: Its method.
      type: str
      sample: POST
    voice_status_callback_url:
      description: The status callback URL.
      type: str
      sample: null
    voice_status_callback_method:
      description: Its method.
      type: str
      sample: POST
    sip_registration:
      description: Whether endpoints may register.
      type: bool
      sample: false
    secure:
      description: Whether TLS and SRTP are enforced.
      type: bool
      sample: false
    emergency_calling_enabled:
      description: Whether emergency calling is enabled.
      type: bool
      sample: false
    emergency_caller_sid:
      description: The emergency call-back number's SID.
      type: str
      sample: null
    byoc_trunk_sid:
      description: The BYOC trunk's SID.
      type: str
      sample: null
    date_created:
      description: When the domain was created (RFC 2822).
      type: str
      sample: Tue, 14 Apr 2026 10:00:00 +0000
    date_updated:
      description: When the domain was last changed (RFC 2822).
      type: str
      sample: Tue, 14 Apr 2026 10:00:00 +0000
    sip_uri:
      description: The SIP address for the module's region.
      type: str
      sample: acme-fallback.sip.ie1.twilio.com
    sip_uris:
      description: Every address of the domain (C(global), C(region) and one per edge, as M(voip.threecx_twilio.twilio_sip_domain) returns them).
      type: dict
      sample: {"global": "acme-fallback.sip.twilio.com", "region": "acme-fallback.sip.ie1.twilio.com", "dublin": "acme-fallback.sip.dublin.twilio.com"}
    ip_access_control_lists:
      description: IP ACLs mapped for calls.
      type: list
      elements: dict
      contains:
        sid:
          description: The list's SID.
          type: str
          sample: AL0123456789abcdef0123456789abcdef
        friendly_name:
          description: The list's name.
          type: str
          sample: acme-fallback PBX
        mapped_via:
          description: Which mapping resources hold the mapping (C(auth_calls), C(legacy)).
          type: list
          elements: str
          sample: [auth_calls]
        ip_addresses:
          description: The entries (with O(details)); C(cidr_prefix_length) 0 or missing is shown as 32.
          type: list
          elements: dict
          sample: [{"sid": "IP0123456789abcdef0123456789abcdef", "ip": "203.0.113.10", "cidr_prefix_length": 32, "friendly_name": "203.0.113.10/32"}]
    credential_lists:
      description: Credential lists mapped for calls.
      type: list
      elements: dict
      contains:
        sid:
          description: The list's SID.
          type: str
          sample: CL0123456789abcdef0123456789abcdef
        friendly_name:
          description: The list's name.
          type: str
          sample: acme-fallback PBX
        mapped_via:
          description: Which mapping resources hold the mapping (C(auth_calls), C(legacy)).
          type: list
          elements: str
          sample: [auth_calls, legacy]
        usernames:
          description: The usernames (with O(details)). Passwords are never readable.
          type: list
          elements: str
          sample: [acme-3cx]
    registration_credential_lists:
      description: Credential lists mapped for SIP registrations (C(Auth/Registrations)), with the same keys.
      type: list
      elements: dict
      sample: []
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_sip as sip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import sip_uri, sip_uris
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import check_sid, check_sip_domain_name

DOMAIN_KEYS = (
    "sid",
    "domain_name",
    "friendly_name",
    "auth_type",
    "voice_url",
    "voice_method",
    "voice_fallback_url",
    "voice_fallback_method",
    "voice_status_callback_url",
    "voice_status_callback_method",
    "sip_registration",
    "secure",
    "emergency_calling_enabled",
    "emergency_caller_sid",
    "byoc_trunk_sid",
    "date_created",
    "date_updated",
)


def main():
    module = TwilioModule(
        argument_spec=dict(
            domain_name=dict(type="str"),
            sid=dict(type="str"),
            details=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("domain_name", "sid")],
        supports_check_mode=True,
    )
    p = module.params
    with module.api_errors():
        if p["domain_name"] is not None:
            p["domain_name"] = check_sip_domain_name("domain_name", p["domain_name"])
        check_sid("sid", p["sid"], "SD")
        domains = read_domains(module)
        described = [describe(module, d) for d in sorted(domains, key=lambda d: d.get("domain_name") or "")]
    module.exit_json(changed=False, domains=described)


def read_domains(module):
    p = module.params
    client = module.client
    if p["sid"]:
        found = sip.fetch_or_none(client.sip.domains(p["sid"]))
        return [found] if found else []
    domains = sip.list_all(client.sip.domains)
    if p["domain_name"]:
        domains = [d for d in domains if str(d.get("domain_name") or "").lower() == p["domain_name"]]
    return domains


def describe(module, domain):
    client = module.client
    p = module.params
    out = dict((k, domain.get(k)) for k in DOMAIN_KEYS)
    out["sip_uri"] = sip_uri(domain.get("domain_name"), p["region"])
    out["sip_uris"] = sip_uris(domain.get("domain_name"), p["region"])
    ctx = client.sip.domains(domain["sid"])
    maps = sip.read_mappings(ctx, include_registrations=True)
    acls = []
    for entry in sorted(maps["ip_access_control_lists"].values(), key=lambda e: e["sid"]):
        item = dict(entry)
        if p["details"]:
            addresses = sip.list_or_none(client.sip.ip_access_control_lists(entry["sid"]).ip_addresses)
            if addresses is None:
                module.warn("domain %s maps IP access control list %s, which does not exist" % (domain.get("domain_name"), entry["sid"]))
                addresses = []
            item["ip_addresses"] = sorted(
                (
                    {
                        "sid": a.get("sid"),
                        "ip": a.get("ip_address"),
                        "cidr_prefix_length": a.get("cidr_prefix_length") or 32,
                        "friendly_name": a.get("friendly_name"),
                    }
                    for a in addresses
                ),
                key=lambda a: (a["ip"] or "", a["cidr_prefix_length"]),
            )
        acls.append(item)
    calls, registrations = [], []
    usernames = {}
    for entry in sorted(maps["credential_lists"].values(), key=lambda e: e["sid"]):
        if p["details"] and entry["sid"] not in usernames:
            creds = sip.list_or_none(client.sip.credential_lists(entry["sid"]).credentials)
            if creds is None:
                module.warn("domain %s maps credential list %s, which does not exist" % (domain.get("domain_name"), entry["sid"]))
                creds = []
            usernames[entry["sid"]] = sorted(c.get("username") for c in creds)
        via_calls = [v for v in entry["mapped_via"] if v != "auth_registrations"]
        if via_calls:
            item = dict(entry, mapped_via=via_calls)
            if p["details"]:
                item["usernames"] = usernames[entry["sid"]]
            calls.append(item)
        if "auth_registrations" in entry["mapped_via"]:
            item = dict(entry, mapped_via=["auth_registrations"])
            if p["details"]:
                item["usernames"] = usernames[entry["sid"]]
            registrations.append(item)
    out["ip_access_control_lists"] = acls
    out["credential_lists"] = calls
    out["registration_credential_lists"] = registrations
    return out


if __name__ == "__main__":
    main()
