#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_ip_acl
short_description: Manage a Twilio SIP IP access control list and its addresses
version_added: 0.1.0
description:
  - Creates, updates or deletes a Twilio IP access control list (IP ACL) and the IPv4 addresses
    and ranges in it. A SIP Domain with the list mapped accepts calls only from those addresses
    (see M(voip.threecx_twilio.twilio_sip_domain)).
  - The list is found by its O(friendly_name), which this module treats as unique in the
    account; two lists with the same name are an error that names both SIDs.
  - Entries are matched by address and prefix length. By default the list holds exactly the
    entries given (O(purge_ip_addresses=true)), because it is an allow-list.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.twilio
  - voip.threecx_twilio.duplicates
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.TWILIO
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - Reads the list and its entries and predicts the result; sends no write.
  diff_mode:
    support: full
    details:
      - Shows the entries (as C(address/prefix)) before and after.
  idempotent:
    support: full
options:
  friendly_name:
    description:
      - The list's name (at most 255 characters), its natural key in the account.
      - The C(voip.threecx_twilio.twilio_sip_domain) role names it C(<domain> PBX).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the list; V(absent) deletes it with its entries.
    type: str
    choices: [present, absent]
    default: present
  ip_addresses:
    description:
      - The entries, each either a string (V(203.0.113.10) or V(198.51.100.0/24)) or a dict with
        C(ip), optional C(cidr_prefix_length) (1 to 32, default 32) and optional C(friendly_name).
      - IPv4 only (Twilio does not take IPv6), at most 100 entries.
      - A /0 prefix is refused (it would admit every address, and Twilio stores it as /32, so the list would
        never converge), and so is an entry with host bits set (V(10.0.0.1/24); the message gives the network).
      - Entries that together cover more than a /16 (65,536 addresses) are refused unless O(allow_wide_ranges).
      - An entry's C(friendly_name) defaults, when the entry is created, to C(<ip>/<prefix>). It is
        compared only when given, so entries made elsewhere keep their names.
      - Not set means the entries are not looked at.
    type: list
    elements: raw
  purge_ip_addresses:
    description:
      - Remove entries not given in O(ip_addresses). Only used when O(ip_addresses) is set.
    type: bool
    default: true
  allow_wide_ranges:
    description:
      - Accept entries that together cover more than a /16. An IP access control list should hold the PBX's public
        addresses; a wide range admits anyone in it to the SIP Domain.
      - Ranges it lets through are named in a warning on every run.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - A create whose reply is lost is not sent again; the module re-reads by name (or address)
    instead, so retries never make a duplicate.
seealso:
  - module: voip.threecx_twilio.twilio_sip_domain
  - name: IpAccessControlList resource
    description: Twilio's API reference.
    link: https://www.twilio.com/docs/voice/sip/api/sip-ipaccesscontrollist-resource
"""

EXAMPLES = r"""
- name: Allow the PBX's public address
  voip.threecx_twilio.twilio_ip_acl:
    account_sid: "{{ twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    region: ie1
    friendly_name: acme-fallback PBX
    ip_addresses:
      - 203.0.113.10
      - ip: 198.51.100.0
        cidr_prefix_length: 28
        friendly_name: ACME office NAT pool
  register: acme_acl

- name: Add an address without removing the others
  voip.threecx_twilio.twilio_ip_acl:
    friendly_name: acme-fallback PBX
    ip_addresses: [192.0.2.44]
    purge_ip_addresses: false

- name: Delete the list
  voip.threecx_twilio.twilio_ip_acl:
    friendly_name: acme-fallback PBX
    state: absent
"""

RETURN = r"""
ip_acl:
  description: The list after the run (predicted in check mode); empty after a delete.
  returned: success
  type: dict
  contains:
    sid:
      description: The list's SID (null when check mode predicts a create).
      type: str
      sample: AL0123456789abcdef0123456789abcdef
    friendly_name:
      description: The list's name.
      type: str
      sample: acme-fallback PBX
    ip_addresses:
      description: The entries, sorted by address and prefix.
      type: list
      elements: dict
      contains:
        sid:
          description: The entry's SID (absent for entries check mode predicts).
          type: str
          sample: IP0123456789abcdef0123456789abcdef
        ip:
          description: The address.
          type: str
          sample: 203.0.113.10
        cidr_prefix_length:
          description: The prefix length (32 for a single address).
          type: int
          sample: 32
        friendly_name:
          description: The entry's name.
          type: str
          sample: 203.0.113.10/32
duplicates_deleted:
  description: SIDs of the newer empty lists of the same name that O(duplicates=adopt_oldest) deleted (predicted in check mode).
  returned: when duplicates were deleted
  type: list
  elements: str
  sample: [CL0123456789abcdef0123456789abcdee]
  version_added: 0.2.0
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: "IP access control list acme-fallback PBX created; ip_addresses: 2 created"
diff:
  description: Before and after (only in diff mode); entries as C(address/prefix).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      ip_addresses: [203.0.113.10/32]
    after:
      ip_addresses: [198.51.100.0/28, 203.0.113.10/32]
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_sip as sip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._duplicates import NaturalKey
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Children, Engine, Field, FieldMap, combine
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_inputs import IP_ACL, acl_entry_key

FIELDS = FieldMap(
    Field("sid", "sid", read_only=True),
    Field("friendly_name", "friendly_name"),
)

# Twilio does not keep friendly names unique: lists that share one are told apart here (duplicates option).
KEY = NaturalKey("IP access control list", "friendly_name", entry="address")

ENTRY_FIELDS = FieldMap(
    Field("sid", "sid", read_only=True),
    Field("ip", "ip_address"),
    Field("cidr_prefix_length", "cidr_prefix_length"),
    Field("friendly_name", "friendly_name"),
)


def normalise(api_entry):
    """Twilio's 0 or missing prefix means the whole address: /32."""
    entry = dict(api_entry)
    if not entry.get("cidr_prefix_length"):
        entry["cidr_prefix_length"] = 32
    return entry


def find_acl(module):
    acls = sip.list_all(module.client.sip.ip_access_control_lists)
    return sip.find_by_friendly_name(acls, module.params["friendly_name"], "IP access control list", "friendly_name")


def main():
    module = TwilioModule(
        IP_ACL,
        supports_check_mode=True,
    )
    p = module.params
    engine = Engine(module, FIELDS, result_key="ip_acl", kind="IP access control list")
    with module.api_errors():
        wanted = p["ip_addresses"]  # parsed by the input checks (IP_ACL)
        acls = module.client.sip.ip_access_control_lists
        current, result = sip.ensure_named_list(module, engine, acls, lambda: find_acl(module), KEY, "ip_addresses")
        if p["state"] == "present":
            result = reconcile_entries(module, result, current, wanted)
    module.exit_json(**result)


def reconcile_entries(module, result, current, wanted):
    acl_sid = result["ip_acl"].get("sid")
    entries = module.client.sip.ip_access_control_lists(acl_sid).ip_addresses if acl_sid else None
    existing = [normalise(e) for e in sip.list_all(entries)] if current is not None else []
    if wanted is None:
        result["ip_acl"]["ip_addresses"] = sorted((ENTRY_FIELDS.from_api(e) for e in existing), key=acl_entry_key)
        return result
    children = Children(module, "ip_addresses", key=acl_entry_key, fields=ENTRY_FIELDS, purge=module.params["purge_ip_addresses"])

    def find(want):
        for item in sip.list_all(entries):
            if acl_entry_key(ENTRY_FIELDS.from_api(normalise(item))) == acl_entry_key(want):
                return normalise(item)
        return None

    def create(want):
        name = want["friendly_name"] or acl_entry_key(want)
        return sip.create_or_find(
            lambda: normalise(sip.as_dict(entries.create(ip_address=want["ip"], cidr_prefix_length=want["cidr_prefix_length"], friendly_name=name))),
            lambda: find(want),
            "ip_addresses entry %s" % acl_entry_key(want),
            settle_seconds=module.params["settle_timeout"],
        )

    def update(item, want):
        entries(item["sid"]).update(friendly_name=want["friendly_name"])

    def delete(item):
        sip.delete_if_present(entries(item["sid"]))

    outcome = children.run(existing, wanted, create=create, update=update, delete=delete)
    items = []
    for item in outcome["items"]:
        item = dict(item)
        if not item.get("friendly_name"):
            item["friendly_name"] = acl_entry_key(item)
        items.append(item)
    outcome["items"] = items
    return combine(result, outcome, "ip_acl", "ip_addresses")


if __name__ == "__main__":
    main()
