#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_credential_list
short_description: Manage a Twilio SIP credential list and its usernames and passwords
version_added: 0.1.0
description:
  - Creates, updates or deletes a Twilio SIP credential list and the credentials (username and
    password) in it. A SIP Domain with the list mapped challenges calls for one of these
    credentials (see M(voip.threecx_twilio.twilio_sip_domain)); the 3CX trunk uses the same pair.
  - The list is found by its O(friendly_name), which this module treats as unique in the account;
    two lists with the same name are an error that names both SIDs.
  - Credentials are matched by username. Twilio never returns a password, so passwords cannot be
    compared; O(update_password) says when they are sent.
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
      - Reads the list and its usernames and predicts the result; sends no write.
  diff_mode:
    support: full
    details:
      - Shows the usernames before and after, and the usernames whose password is sent. Never a password.
  idempotent:
    support: full
    details:
      - With O(update_password=always) every run sends the passwords and reports a change.
options:
  friendly_name:
    description:
      - The list's name (at most 64 characters), its natural key in the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the list; V(absent) deletes it with its credentials.
    type: str
    choices: [present, absent]
    default: present
  credentials:
    description:
      - The credentials. Not set means the credentials are not looked at.
    type: list
    elements: dict
    suboptions:
      username:
        description:
          - The SIP username, at most 32 characters. It cannot be changed once created.
        type: str
        required: true
      password:
        description:
          - The SIP password. Twilio requires at least 12 characters with a digit, an upper-case
            and a lower-case letter; the module checks this before sending anything.
        type: str
        required: true
  update_password:
    description:
      - V(on_create) sends a password only when its credential is created. Re-runs are then
        idempotent, but a password changed in the inventory does not reach Twilio for an existing
        username (delete the credential, or run once with V(always), to rotate it).
      - V(always) sends the password of every listed credential on every run and so always
        reports a change (Twilio cannot say whether the password was already the same).
    type: str
    choices: [always, on_create]
    default: on_create
  purge_credentials:
    description:
      - Remove credentials whose username is not in O(credentials). Only used when O(credentials) is set.
    type: bool
    default: false
notes:
  - Passwords are never returned, never shown in a diff or message, and masked in the invocation.
  - A create whose reply is lost is not sent again; the module re-reads by name (or username)
    instead, so retries never make a duplicate.
seealso:
  - module: voip.threecx_twilio.twilio_sip_domain
  - name: CredentialList resource
    description: Twilio's API reference.
    link: https://www.twilio.com/docs/voice/sip/api/sip-credentiallist-resource
"""

EXAMPLES = r"""
- name: The PBX's trunk credentials
  voip.threecx_twilio.twilio_credential_list:
    account_sid: "{{ twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    region: ie1
    friendly_name: acme-fallback PBX
    credentials:
      - username: acme-3cx
        password: "{{ vault_acme_sip_password }}"

- name: Rotate the password (sent on every run while update_password is always)
  voip.threecx_twilio.twilio_credential_list:
    friendly_name: acme-fallback PBX
    credentials:
      - username: acme-3cx
        password: "{{ vault_acme_sip_password_new }}"
    update_password: always

- name: Keep only the listed usernames
  voip.threecx_twilio.twilio_credential_list:
    friendly_name: acme-fallback PBX
    credentials:
      - username: acme-3cx
        password: "{{ vault_acme_sip_password }}"
    purge_credentials: true
"""

RETURN = r"""
credential_list:
  description: The list after the run (predicted in check mode); empty after a delete. Never passwords.
  returned: success
  type: dict
  contains:
    sid:
      description: The list's SID (null when check mode predicts a create).
      type: str
      sample: CL0123456789abcdef0123456789abcdef
    friendly_name:
      description: The list's name.
      type: str
      sample: acme-fallback PBX
    credentials:
      description: The credentials, sorted by username.
      type: list
      elements: dict
      contains:
        sid:
          description: The credential's SID (absent for credentials check mode predicts).
          type: str
          sample: CR0123456789abcdef0123456789abcdef
        username:
          description: The username.
          type: str
          sample: acme-3cx
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
  sample: "credential list acme-fallback PBX created; credentials: 1 created"
diff:
  description:
    - Before and after (only in diff mode). C(credentials) lists usernames; C(passwords_sent) lists
      the usernames of existing credentials whose password O(update_password=always) sends.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      credentials: []
    after:
      credentials: [acme-3cx]
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_sip as sip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._duplicates import NaturalKey
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Children, Engine, Field, FieldMap, combine
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_inputs import CREDENTIAL_LIST, credential_passwords

FIELDS = FieldMap(
    Field("sid", "sid", read_only=True),
    Field("friendly_name", "friendly_name"),
)

# Twilio does not keep friendly names unique: lists that share one are told apart here (duplicates option).
KEY = NaturalKey("credential list", "friendly_name", entry="credential")

CREDENTIAL_FIELDS = FieldMap(
    Field("sid", "sid", read_only=True),
    Field("username", "username"),
)


def find_list(module):
    lists = sip.list_all(module.client.sip.credential_lists)
    return sip.find_by_friendly_name(lists, module.params["friendly_name"], "credential list", "friendly_name")


def main():
    module = TwilioModule(
        CREDENTIAL_LIST,
        supports_check_mode=True,
    )
    p = module.params
    engine = Engine(module, FIELDS, result_key="credential_list", kind="credential list")
    with module.api_errors():
        passwords = credential_passwords(p)
        lists = module.client.sip.credential_lists
        current, result = sip.ensure_named_list(module, engine, lists, lambda: find_list(module), KEY, "credentials")
        if p["state"] == "present":
            result = reconcile_credentials(module, result, current, passwords)
    module.exit_json(**result)


def reconcile_credentials(module, result, current, passwords):
    p = module.params
    list_sid = result["credential_list"].get("sid")
    creds = module.client.sip.credential_lists(list_sid).credentials if list_sid else None
    existing = sip.list_all(creds) if current is not None else []
    if p["credentials"] is None:
        result["credential_list"]["credentials"] = sorted((CREDENTIAL_FIELDS.from_api(c) for c in existing), key=lambda c: c["username"])
        return result
    # The wanted items carry no password: Children returns them as predicted items in check mode.
    wanted = [{"username": c["username"]} for c in p["credentials"]]
    children = Children(module, "credentials", key=lambda c: c["username"], fields=CREDENTIAL_FIELDS, purge=p["purge_credentials"])

    def find(username):
        return next((c for c in sip.list_all(creds) if c.get("username") == username), None)

    def create(want):
        username = want["username"]
        return sip.create_or_find(
            lambda: sip.as_dict(creds.create(username=username, password=passwords[username])),
            lambda: find(username),
            "credentials entry %s" % username,
            settle_seconds=module.params["settle_timeout"],
        )

    outcome = children.run(existing, wanted, create=create, delete=lambda c: sip.delete_if_present(creds(c["sid"])))
    outcome["items"] = [dict((k, v) for k, v in i.items() if k in ("sid", "username")) for i in outcome["items"]]
    result = combine(result, outcome, "credential_list", "credentials")
    if p["update_password"] == "always":
        result = send_passwords(module, result, creds, existing, passwords)
    return result


def send_passwords(module, result, creds, existing, passwords):
    """update_password=always: send the password of every listed credential that already existed."""
    targets = sorted((c for c in existing if c.get("username") in passwords), key=lambda c: c["username"])
    if not targets:
        return result
    for cred in targets:
        if not module.check_mode:
            creds(cred["sid"]).update(password=passwords[cred["username"]])
    usernames = [c["username"] for c in targets]
    result = dict(result, changed=True)
    result["msg"] = "%s; passwords sent for %s" % (result["msg"], ", ".join(usernames))
    if "diff" in result:
        result["diff"] = {
            "before": dict(result["diff"]["before"], passwords_sent=[]),
            "after": dict(result["diff"]["after"], passwords_sent=usernames),
        }
    return result


if __name__ == "__main__":
    main()
