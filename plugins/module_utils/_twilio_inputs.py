# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The declared inputs of the Twilio modules: argument specs and input checks (no SDK import).

PRIVATE to this collection: may change without notice.

The modules build themselves from these (``TwilioModule(INPUT)``), and the site model validates
a site's Twilio side with the same objects (see ``_inputs.py``).
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.voip.threecx_twilio.plugins.module_utils._duplicates import DUPLICATES_OPTION
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import DEFAULT_SETTLE_SECONDS
from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import (
    ModuleInput,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import (
    DEFAULT_REGION,
    REGIONS,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import (
    check_connection_numbers,
    check_http_url,
    check_ip_coverage,
    check_ipv4,
    check_sid,
    check_sip_domain_name,
    check_twilio_password,
    endpoint_check,
    http_url_warning,
    wide_range_warning,
)

# ---------------------------------------------------------------------------- connection


def check_credentials(p, n, problems):
    """account_sid with auth_token, or with api_key and api_secret (checked before any request)."""
    with problems:
        if p.get("account_sid"):
            check_sid(n("account_sid"), p["account_sid"], "AC")
    with problems:
        if p.get("api_key") or p.get("api_secret"):
            if not (p.get("api_key") and p.get("api_secret")):
                raise ValueError("%s and %s must be given together" % (n("api_key"), n("api_secret")))
            check_sid(n("api_key"), p["api_key"], "SK")
        elif not p.get("auth_token"):
            raise ValueError(
                "give %s, or %s with %s (or set TWILIO_AUTH_TOKEN / TWILIO_API_KEY and TWILIO_API_SECRET)" % (n("auth_token"), n("api_key"), n("api_secret"))
            )


CONNECTION = ModuleInput(
    dict(
        account_sid=dict(type="str", required=True, fallback=(env_fallback, ["TWILIO_ACCOUNT_SID"])),
        auth_token=dict(type="str", no_log=True, fallback=(env_fallback, ["TWILIO_AUTH_TOKEN"])),
        api_key=dict(type="str", no_log=False, fallback=(env_fallback, ["TWILIO_API_KEY"])),
        api_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TWILIO_API_SECRET"])),
        region=dict(
            type="str",
            default=DEFAULT_REGION,
            choices=list(REGIONS),
            fallback=(env_fallback, ["TWILIO_REGION"]),
        ),
        api_base_url=dict(type="str", fallback=(env_fallback, ["TWILIO_API_BASE_URL"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["TWILIO_CA_BUNDLE"])),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=3),
        settle_timeout=dict(type="int", default=DEFAULT_SETTLE_SECONDS),
    ),
    # api_base_url: a proxy or the lab; unset is Twilio's own https address.
    checks=(check_connection_numbers, check_credentials, endpoint_check("api_base_url", "ca_bundle")),
)

STATE = dict(type="str", choices=["present", "absent"], default="present")

# ---------------------------------------------------------------------------- twilio_ip_acl

# A Twilio IP access control list holds at most this many addresses.
MAX_ACL_ENTRIES = 100


def check_list_name(maximum):
    def check(p, n, problems):
        with problems:
            if not p["friendly_name"] or len(p["friendly_name"]) > maximum:
                raise ValueError("%s must have 1 to %d characters; got %d" % (n("friendly_name"), maximum, len(p["friendly_name"] or "")))

    return check


def acl_entry_key(entry):
    return "%s/%s" % (entry.get("ip"), entry.get("cidr_prefix_length"))


def parse_acl_entries(value, n=str, problems=None):
    """ip_addresses as [{"ip", "cidr_prefix_length", "friendly_name" or None}]; errors name the entry."""
    if value is None:
        return None
    if len(value) > MAX_ACL_ENTRIES:
        raise ValueError("%s has %d entries; a Twilio IP access control list holds at most %d" % (n("ip_addresses"), len(value), MAX_ACL_ENTRIES))
    entries = []
    seen = {}
    for index, item in enumerate(value):
        option = n("ip_addresses[%d]" % index)
        if isinstance(item, str):
            ip, prefix = check_ipv4(option, item)
            name = None
        elif isinstance(item, dict):
            unknown = sorted(set(item) - set(("ip", "cidr_prefix_length", "friendly_name")))
            if unknown:
                raise ValueError("%s has unknown key(s) %s; use ip, cidr_prefix_length and friendly_name" % (option, ", ".join(unknown)))
            if not item.get("ip"):
                raise ValueError("%s needs an ip (an IPv4 address such as 203.0.113.10)" % option)
            prefix = item.get("cidr_prefix_length")
            if isinstance(prefix, bool):
                raise ValueError("%s: cidr_prefix_length must be a whole number from 1 to 32; got %r" % (option, prefix))
            ip, prefix = check_ipv4(option, item["ip"], prefix)
            name = item.get("friendly_name")
            if name is not None:
                name = str(name)
                if not name or len(name) > 255:
                    raise ValueError("%s: friendly_name must have 1 to 255 characters" % option)
        else:
            raise ValueError("%s must be a string such as 203.0.113.10 or 198.51.100.0/24, or a dict with ip; got %r" % (option, item))
        entry = {"ip": ip, "cidr_prefix_length": prefix, "friendly_name": name}
        key = acl_entry_key(entry)
        if key in seen:
            raise ValueError("%s lists %s twice (entries %d and %d); give each address and prefix once" % (n("ip_addresses"), key, seen[key], index))
        seen[key] = index
        entries.append(entry)
    return entries


def check_acl_entries(p, n, problems):
    with problems:
        p["ip_addresses"] = parse_acl_entries(p["ip_addresses"], n)
        if p["ip_addresses"]:
            covered = check_ip_coverage(
                n("ip_addresses"),
                [(e["ip"], e["cidr_prefix_length"]) for e in p["ip_addresses"]],
                allow_wide=p["allow_wide_ranges"],
                allow_option=n("allow_wide_ranges"),
            )
            warning = wide_range_warning(n("ip_addresses"), covered, n("allow_wide_ranges"))
            if warning:
                problems.warn(warning)


IP_ACL = CONNECTION.extended(
    dict(
        friendly_name=dict(type="str", required=True),
        state=STATE,
        ip_addresses=dict(type="list", elements="raw"),
        purge_ip_addresses=dict(type="bool", default=True),
        allow_wide_ranges=dict(type="bool", default=False),
        duplicates=DUPLICATES_OPTION,
    ),
    checks=(check_list_name(255), check_acl_entries),
)

# ---------------------------------------------------------------------------- twilio_credential_list


def check_credentials_entries(p, n, problems):
    """Usernames (1-32 characters, each once) and Twilio's password rule; never echoes a password."""
    seen = set()
    for index, cred in enumerate(p["credentials"] or []):
        username = cred["username"]
        option = n("credentials[%d]" % index)
        with problems:
            if not username or len(username) > 32:
                raise ValueError("%s.username must have 1 to 32 characters; got %d" % (option, len(username or "")))
            if username in seen:
                raise ValueError("%s lists the username %r twice; give each username once" % (n("credentials"), username))
        seen.add(username)
        with problems:
            check_twilio_password("%s.password (username %s)" % (option, username), cred["password"])


def credential_passwords(p):
    """{username: password} of the validated credentials option."""
    return dict((cred["username"], cred["password"]) for cred in p["credentials"] or [])


CREDENTIAL_LIST = CONNECTION.extended(
    dict(
        friendly_name=dict(type="str", required=True),
        state=STATE,
        credentials=dict(
            type="list",
            elements="dict",
            no_log=False,
            options=dict(
                username=dict(type="str", required=True),
                password=dict(type="str", required=True, no_log=True),
            ),
        ),
        update_password=dict(
            type="str",
            choices=["always", "on_create"],
            default="on_create",
            no_log=False,
        ),
        purge_credentials=dict(type="bool", default=False),
        duplicates=DUPLICATES_OPTION,
    ),
    checks=(check_list_name(64), check_credentials_entries),
)

# ---------------------------------------------------------------------------- twilio_sip_domain

# option, SID prefix, kind (for messages)
DOMAIN_LIST_OPTIONS = (
    ("ip_access_control_lists", "AL", "IP access control list"),
    ("credential_lists", "CL", "credential list"),
)
VOICE_HANDLERS = ("voice_url", "twiml_app", "studio_flow")


def check_domain(p, n, problems):
    with problems:
        p["domain_name"] = check_sip_domain_name(n("domain_name"), p["domain_name"])
    with problems:
        if p["friendly_name"] is not None and len(p["friendly_name"]) > 64:
            raise ValueError("%s must be at most 64 characters; got %d" % (n("friendly_name"), len(p["friendly_name"])))
    http = dict(allow_http=p["allow_http_webhooks"], allow_option=n("allow_http_webhooks"))
    for option in ("voice_url", "voice_fallback_url", "voice_status_callback_url"):
        with problems:
            check_http_url(n(option), p[option], allow_empty=option != "voice_url", **http)
            warning = http_url_warning(n(option), p[option], n("allow_http_webhooks"))
            if warning:
                problems.warn(warning)
    with problems:
        check_sid(n("studio_flow"), p["studio_flow"], "FW")
    with problems:
        check_sid(n("emergency_caller_sid"), p["emergency_caller_sid"], "PN", allow_empty=True)
    with problems:
        check_sid(n("byoc_trunk_sid"), p["byoc_trunk_sid"], "BY", allow_empty=True)
    with problems:
        if p["state"] == "present":
            handlers = [o for o in VOICE_HANDLERS if p[o] is not None]
            if len(handlers) != 1:
                raise ValueError(
                    "give exactly one voice handler with state=present: %s (a webhook), %s (a TwiML App "
                    "name or AP SID) or %s (an FW SID); got %s"
                    % (
                        n("voice_url"),
                        n("twiml_app"),
                        n("studio_flow"),
                        ", ".join(n(h) for h in handlers) or "none",
                    )
                )
    with problems:
        if p["voice_fallback_url"] and p["twiml_app"] is not None:
            raise ValueError("%s cannot be combined with %s (the app brings its own)" % (n("voice_fallback_url"), n("twiml_app")))
    with problems:
        if p["twiml_app"] is not None and not str(p["twiml_app"]).strip():
            raise ValueError("%s must be a TwiML App friendly name or AP SID, not empty" % n("twiml_app"))
    for option, prefix, kind in DOMAIN_LIST_OPTIONS:
        for index, ref in enumerate(p[option] or []):
            with problems:
                if not str(ref).strip():
                    raise ValueError("%s is empty; give the %s's friendly name or %s SID" % (n("%s[%d]" % (option, index)), kind, prefix))


SIP_DOMAIN = CONNECTION.extended(
    dict(
        domain_name=dict(type="str", required=True),
        state=STATE,
        friendly_name=dict(type="str"),
        voice_url=dict(type="str"),
        voice_method=dict(type="str", choices=["GET", "POST"]),
        twiml_app=dict(type="str"),
        studio_flow=dict(type="str"),
        voice_fallback_url=dict(type="str"),
        voice_fallback_method=dict(type="str", choices=["GET", "POST"]),
        voice_status_callback_url=dict(type="str"),
        voice_status_callback_method=dict(type="str", choices=["GET", "POST"]),
        sip_registration=dict(type="bool"),
        secure=dict(type="bool"),
        emergency_calling_enabled=dict(type="bool"),
        emergency_caller_sid=dict(type="str"),
        byoc_trunk_sid=dict(type="str"),
        ip_access_control_lists=dict(type="list", elements="str"),
        credential_lists=dict(type="list", elements="str"),
        purge_mappings=dict(type="bool", default=False),
        allow_http_webhooks=dict(type="bool", default=False),
    ),
    checks=(check_domain,),
).with_constraints(
    mutually_exclusive=[
        ("voice_url", "twiml_app", "studio_flow"),
        ("voice_method", "twiml_app"),
        ("voice_method", "studio_flow"),
        ("voice_fallback_url", "twiml_app"),
        ("voice_fallback_method", "twiml_app"),
    ]
)
