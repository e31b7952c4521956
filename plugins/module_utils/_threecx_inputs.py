# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The declared inputs of the 3CX modules: argument specs and input checks (no requests import).

PRIVATE to this collection: may change without notice.

The modules build themselves from these (``ThreeCXModule(INPUT)``), and the site model validates
a site's 3CX side with the same objects (see ``_inputs.py``). Checks that need the PBX (an
unknown extension, a missing trunk) stay in the modules: they run on reads, before any write.
"""

from __future__ import annotations

import os
import re

from ansible.module_utils.basic import env_fallback

from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import DEFAULT_SETTLE_SECONDS
from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import (
    ModuleInput,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import (
    check_connection_numbers,
    check_digits,
    check_fqdn,
    check_phone_number,
    check_positive,
    check_sip_uri,
    endpoint_check,
)

# ---------------------------------------------------------------------------- connection


def check_token_cache_dir(p, n, problems):
    """token_cache_dir: a directory, or a path where one can be made (the client makes it 0700)."""
    with problems:
        path = p.get("token_cache_dir")
        if path and os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(
                "%s: %s exists and is not a directory; give a directory for the 3CX token cache (made 0700 if missing)" % (n("token_cache_dir"), path)
            )


CONNECTION = ModuleInput(
    dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["THREECX_URL"])),
        client_id=dict(type="str", required=True, fallback=(env_fallback, ["THREECX_CLIENT_ID"])),
        client_secret=dict(
            type="str",
            required=True,
            no_log=True,
            fallback=(env_fallback, ["THREECX_CLIENT_SECRET"]),
        ),
        validate_certs=dict(
            type="bool",
            default=True,
            fallback=(env_fallback, ["THREECX_VALIDATE_CERTS"]),
        ),
        ca_path=dict(type="path", fallback=(env_fallback, ["THREECX_CA_PATH"])),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=3),
        settle_timeout=dict(type="int", default=DEFAULT_SETTLE_SECONDS),
        token_cache_dir=dict(type="path", fallback=(env_fallback, ["THREECX_TOKEN_CACHE_DIR"])),
    ),
    checks=(check_connection_numbers, endpoint_check("url", "ca_path"), check_token_cache_dir),
)

STATE = dict(type="str", default="present", choices=["present", "absent"])


def check_not_blank(option, message="%s must not be empty"):
    def check(p, n, problems):
        with problems:
            if p[option] is not None and not str(p[option]).strip():
                raise ValueError(message % n(option))

    return check


# ---------------------------------------------------------------------------- shared checks


def check_dn_number(option, value):
    """An internal number (extension, queue, ring group): digits only."""
    check_digits({option: value}, option, min_length=1, max_length=10)
    return value


# option value -> Pbx.DestinationType
DESTINATION_TYPES = {
    "external": "External",
    "voicemail": "VoiceMail",
    "extension": "Extension",
    "queue": "Queue",
    "ring_group": "RingGroup",
    "none": "None",
}
# Types whose target is an internal number (a DN of the PBX).
INTERNAL_DESTINATIONS = ("voicemail", "extension", "queue", "ring_group")


def destination_argument_spec():
    """Suboptions of a destination option (documented by each module)."""
    return dict(
        type=dict(type="str", required=True, choices=list(DESTINATION_TYPES)),
        number=dict(type="str"),
        external=dict(type="str"),
    )


def check_destination(option, dest, n=str):
    """Validate a destination dict (input only, no request); return it normalised or None.

    ``n`` names the option and its parts in messages (a site variable may feed ``external`` alone).
    """
    if dest is None:
        return None
    label = n(option)
    kind = dest.get("type")
    number = dest.get("number")
    external = dest.get("external")
    if kind == "external":
        if number is not None:
            raise ValueError("%s: type external takes the outside number or SIP URI in 'external', not in 'number'" % label)
        if not external:
            raise ValueError(
                "%s: type external needs 'external', the outside number in full international format "
                "(for example +14155550100) or a SIP URI (sip:+14155550100@example.sip.us1.twilio.com)" % label
            )
        if external.lower().startswith(("sip:", "sips:")):
            check_sip_uri(n("%s.external" % option), external)
        else:
            check_phone_number(n("%s.external" % option), external)
    elif kind in INTERNAL_DESTINATIONS:
        if external is not None:
            raise ValueError("%s: type %s takes an internal number in 'number', not 'external'" % (label, kind))
        if not number:
            what = "the extension whose voicemail takes the call" if kind == "voicemail" else "its number"
            raise ValueError("%s: type %s needs 'number' (%s)" % (label, kind, what))
        check_dn_number(n("%s.number" % option), number)
    elif kind == "none":
        if number is not None or external is not None:
            raise ValueError("%s: type none takes neither 'number' nor 'external'" % label)
    return {"type": kind, "number": number, "external": external}


def destination_check(option):
    def check(p, n, problems):
        with problems:
            p[option] = check_destination(option, p[option], n)

    return check


# ---------------------------------------------------------------------------- templates and trunks

# The spelling of 3CX's own templates (the outbound-calls doc writes $OriginatorCallerID; whether
# the PBX is case sensitive is unconfirmed, so the PBX's catalogue spelling wins at run time).
DEFAULT_CALLER_ID_VARIABLE = "$OriginatorCallerId"
DEFAULT_CODECS = ("PCMU", "PCMA", "G729")
DEFAULT_SOURCE_TEMPLATE = "GenericSIPTrunk.pv.xml"

# The four header parts that carry the caller's number to Twilio, in the order they are bound.
ROLES = ("from_user_part", "rpid_user_part", "pai_user_part", "ppi_user_part")
# Names confirmed in real templates (From, RPID) or best guesses (PAI, PPI): used when the PBX
# offers exactly this name.
PREFERRED_NAMES = {
    "from_user_part": "FromUserPart",
    "rpid_user_part": "RemotePartyIDCallingPartyUserPart",
    "pai_user_part": "PAssertedIdentityUserPart",
    "ppi_user_part": "PPreferredIdentityUserPart",
}

PARAMETER_NAMES_SPEC = dict(type="dict", options=dict((role, dict(type="str")) for role in ROLES))


def check_caller_id_variable(option, value):
    if not isinstance(value, str) or not re.match(r"^\$[A-Za-z][A-Za-z0-9_]*$", value):
        raise ValueError(
            "%s must be a 3CX variable: a '$' followed by letters and digits, for example %s; got %r" % (option, DEFAULT_CALLER_ID_VARIABLE, value)
        )
    return value


def check_parameter_names(option, overrides):
    """``parameter_names``: every given name must be a plain identifier-like string."""
    for role, name in (overrides or {}).items():
        if name is None:
            continue
        if not re.match(r"^[A-Za-z][A-Za-z0-9_.-]*$", name):
            raise ValueError(
                "%s.%s must be the Name of a gateway parameter as GET /Defs/GatewayParameters lists it "
                "(letters and digits, for example %s); got %r" % (option, role, PREFERRED_NAMES[role], name)
            )


def check_codec_names(option, names):
    if names is None:
        return None
    if not names:
        raise ValueError("%s must list at least one codec, for example [PCMU, PCMA, G729]" % option)
    seen = set()
    result = []
    for name in names:
        text = str(name).strip()
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", text):
            raise ValueError("%s: %r is not a codec name; use RFC names such as PCMU, PCMA, G729, G722, OPUS" % (option, name))
        if text.upper() in seen:
            raise ValueError("%s lists %s twice; each codec appears once, in priority order" % (option, text))
        seen.add(text.upper())
        result.append(text.upper())
    return result


def check_template_name(option, value):
    text = str(value or "")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,95}\.pv\.xml$", text) or ".." in text:
        raise ValueError(
            "%s must be a provider template file name ending in .pv.xml, made of letters, digits, spaces and . _ - ( ) +, "
            "for example twilio-sip-domain.pv.xml; got %r" % (option, value)
        )
    return text


def check_caller_id_options(p, n, problems):
    """caller_id_variable, codecs and parameter_names: shared by threecx_template and threecx_trunk."""
    with problems:
        check_caller_id_variable(n("caller_id_variable"), p["caller_id_variable"])
    with problems:
        p["codecs"] = check_codec_names(n("codecs"), p["codecs"])
    with problems:
        check_parameter_names(n("parameter_names"), p["parameter_names"])


def check_template(p, n, problems):
    with problems:
        check_template_name(n("name"), p["name"])
    if p["state"] == "absent":
        return
    if p["src"] is None and p["content"] is None:
        with problems:
            check_template_name(n("source_template"), p["source_template"])
            if p["source_template"] == p["name"]:
                raise ValueError(
                    "%s must differ from %s (%s): a copy needs its own file name, and built-in templates cannot be edited"
                    % (n("name"), n("source_template"), p["name"])
                )
    check_caller_id_options(p, n, problems)
    with problems:
        if p["display_name"] is not None and not p["display_name"].strip():
            raise ValueError("%s must not be empty; leave it unset to keep the PBX's value" % n("display_name"))


TEMPLATE = CONNECTION.extended(
    dict(
        name=dict(type="str", required=True),
        state=STATE,
        display_name=dict(type="str"),
        description=dict(type="str"),
        source_template=dict(type="str", default=DEFAULT_SOURCE_TEMPLATE),
        src=dict(type="path"),
        content=dict(type="str"),
        caller_id_variable=dict(type="str", default=DEFAULT_CALLER_ID_VARIABLE),
        codecs=dict(type="list", elements="str", default=list(DEFAULT_CODECS)),
        parameter_names=PARAMETER_NAMES_SPEC,
    ),
    checks=(check_template,),
).with_constraints(mutually_exclusive=[("src", "content")])


def check_trunk(p, n, problems):
    with problems:
        if not p["name"].strip():
            raise ValueError("%s must not be empty" % n("name"))
    if p["state"] == "absent":
        return
    with problems:
        if p["template"] is not None:
            check_template_name(n("template"), p["template"])
    with problems:
        if p["registrar"] is not None:
            p["registrar"] = check_fqdn(n("registrar"), p["registrar"])
    with problems:
        if p["outbound_proxy"]:
            p["outbound_proxy"] = check_fqdn(n("outbound_proxy"), p["outbound_proxy"])
    for option, maximum in (
        ("port", 65535),
        ("proxy_port", 65535),
        ("simultaneous_calls", 10000),
    ):
        with problems:
            check_positive(p, option, maximum=maximum, name=n(option))
    if p["did_numbers"] is not None:
        seen = []
        for index, number in enumerate(p["did_numbers"]):
            with problems:
                text = check_phone_number(n("did_numbers[%d]" % index), str(number).strip())
                if text not in seen:
                    seen.append(text)
        p["did_numbers"] = seen
    with problems:
        if p["outbound_caller_id"]:
            check_phone_number(n("outbound_caller_id"), p["outbound_caller_id"])
    with problems:
        if p["authentication"] == "ip_based" and (p["auth_id"] or p["auth_password"]):
            raise ValueError(
                "%s=ip_based takes no %s or %s; use %s=credentials to authenticate with them"
                % (
                    n("authentication"),
                    n("auth_id"),
                    n("auth_password"),
                    n("authentication"),
                )
            )
    with problems:
        if p["auth_password"] is not None and not p["auth_password"]:
            raise ValueError("%s must not be empty" % n("auth_password"))
    check_caller_id_options(p, n, problems)


TRUNK = CONNECTION.extended(
    dict(
        name=dict(type="str", required=True),
        state=STATE,
        template=dict(type="str"),
        registrar=dict(type="str"),
        port=dict(type="int", default=5060),
        outbound_proxy=dict(type="str"),
        proxy_port=dict(type="int"),
        transport=dict(type="str", default="UDP", choices=["UDP", "TCP", "TLS"]),
        authentication=dict(type="str", choices=["ip_based", "credentials"]),
        auth_id=dict(type="str"),
        auth_password=dict(type="str", no_log=True),
        update_password=dict(
            type="str",
            default="on_create",
            choices=["always", "on_create"],
            no_log=False,
        ),
        did_numbers=dict(type="list", elements="str"),
        simultaneous_calls=dict(type="int"),
        outbound_caller_id=dict(type="str"),
        e164_process_incoming=dict(type="bool", default=False),
        codecs=dict(type="list", elements="str"),
        caller_id_passthrough=dict(type="bool"),
        caller_id_variable=dict(type="str", default=DEFAULT_CALLER_ID_VARIABLE),
        parameter_names=PARAMETER_NAMES_SPEC,
    ),
    checks=(check_trunk,),
).with_constraints(required_if=[("authentication", "credentials", ("auth_id", "auth_password"))])

# ---------------------------------------------------------------------------- queues and ring groups

POLLING_STRATEGIES = {
    "hunt": "Hunt",
    "ring_all": "RingAll",
    "hunt_random_start": "HuntRandomStart",
    "next_agent": "NextAgent",
    "longest_waiting": "LongestWaiting",
    "least_talk_time": "LeastTalkTime",
    "fewest_answered": "FewestAnswered",
    "hunt_by_3s": "HuntBy3s",
    "first_3_available": "First3Available",
    "skill_based_routing_ring_all": "SkillBasedRouting_RingAll",
    "skill_based_routing_hunt_random_start": "SkillBasedRouting_HuntRandomStart",
    "skill_based_routing_round_robin": "SkillBasedRouting_RoundRobin",
    "skill_based_routing_fewest_answered": "SkillBasedRouting_FewestAnswered",
}
RING_STRATEGIES = {"hunt": "Hunt", "ring_all": "RingAll", "paging": "Paging"}
# The longest timeout the modules accept, in seconds (a day).
MAX_TIMEOUT = 86400


def unique_members(members):
    """The member numbers once each, in the order given (None stays None)."""
    if members is None:
        return None
    out = []
    for item in members:
        if item not in out:
            out.append(item)
    return out


def check_department_names(p, n, problems):
    for index, name in enumerate(p["departments"] or []):
        with problems:
            if not name.strip():
                raise ValueError("%s: a department name must not be empty" % n("departments[%d]" % index))


def numbered_group_input(members_option, strategy_option, strategy_choices, timeouts):
    """The input of threecx_queue / threecx_ring_group: a numbered group with members."""
    spec = dict(
        number=dict(type="str", required=True),
        name=dict(type="str"),
        state=STATE,
        no_answer_destination=dict(type="dict", options=destination_argument_spec()),
        departments=dict(type="list", elements="str"),
    )
    spec[members_option] = dict(type="list", elements="str")
    spec["purge_" + members_option] = dict(type="bool", default=True)
    spec[strategy_option] = dict(type="str", default="ring_all", choices=list(strategy_choices))
    for option in timeouts:
        spec[option] = dict(type="int")

    def check(p, n, problems):
        with problems:
            check_dn_number(n("number"), p["number"])
        with problems:
            if p["name"] is not None and not p["name"].strip():
                raise ValueError("%s must not be empty" % n("name"))
        for option in timeouts:
            with problems:
                check_positive(p, option, maximum=MAX_TIMEOUT, name=n(option))
        for item in p[members_option] or []:
            with problems:
                check_dn_number(n(members_option), item)
        check_department_names(p, n, problems)
        destination_check("no_answer_destination")(p, n, problems)

    return CONNECTION.extended(spec, checks=(check,))


QUEUE = numbered_group_input("agents", "polling_strategy", POLLING_STRATEGIES, ("ring_timeout", "queue_timeout"))
RING_GROUP = numbered_group_input("members", "ring_strategy", RING_STRATEGIES, ("ring_time",))

# ---------------------------------------------------------------------------- rules


def check_trunk_reference(p, n, problems):
    with problems:
        if p["trunk"] is not None and not p["trunk"].strip():
            raise ValueError("%s must be the name or number of a trunk; got an empty string" % n("trunk"))


def check_inbound_rule(p, n, problems):
    with problems:
        p["did"] = check_phone_number(n("did"), p["did"])
    check_not_blank("name", "%s must not be empty; leave it unset to name a new rule after its DID")(p, n, problems)
    check_trunk_reference(p, n, problems)
    destination_check("destination")(p, n, problems)
    destination_check("out_of_office_destination")(p, n, problems)


INBOUND_RULE = CONNECTION.extended(
    dict(
        did=dict(type="str", required=True),
        trunk=dict(type="str"),
        name=dict(type="str"),
        destination=dict(type="dict", options=destination_argument_spec()),
        out_of_office_destination=dict(type="dict", options=destination_argument_spec()),
        state=STATE,
    ),
    checks=(check_inbound_rule,),
)

# How many routes an outbound rule has (3CX: five).
OUTBOUND_ROUTES = 5


def outbound_dn_ranges(p, n=str):
    """dn_ranges as [{"from", "to"}] (a single number is a range of one), each once; None if unset."""
    if p["dn_ranges"] is None:
        return None
    ranges = []
    for item in p["dn_ranges"]:
        low = check_dn_number(n("dn_ranges.from"), item["from"])
        high = check_dn_number(n("dn_ranges.to"), item["to"]) if item.get("to") is not None else low
        if int(low) > int(high):
            raise ValueError("%s: from %s is above to %s; give the lower number in 'from'" % (n("dn_ranges"), low, high))
        if {"from": low, "to": high} not in ranges:
            ranges.append({"from": low, "to": high})
    return ranges


def check_outbound_rule(p, n, problems):
    with problems:
        if not p["name"].strip():
            raise ValueError("%s must not be empty" % n("name"))
    with problems:
        if p["fallback_number"] is not None:
            check_phone_number(n("fallback_number"), p["fallback_number"])
    with problems:
        check_digits(p, "prefix", max_length=32, extra="+*#", name=n("prefix"))
    with problems:
        check_digits(p, "prepend", max_length=32, extra="+*#", name=n("prepend"))
    with problems:
        if not 0 <= p["strip_digits"] <= 32:
            raise ValueError("%s must be from 0 to 32 (0 strips no digits, as the setup guide says); got %s" % (n("strip_digits"), p["strip_digits"]))
    check_trunk_reference(p, n, problems)
    check_department_names(p, n, problems)
    with problems:
        outbound_dn_ranges(p, n)


OUTBOUND_RULE = CONNECTION.extended(
    dict(
        name=dict(type="str", required=True),
        state=STATE,
        fallback_number=dict(type="str"),
        prefix=dict(type="str"),
        trunk=dict(type="str"),
        strip_digits=dict(type="int", default=0),
        prepend=dict(type="str", default=""),
        departments=dict(type="list", elements="str"),
        dn_ranges=dict(
            type="list",
            elements="dict",
            options={"from": dict(type="str", required=True), "to": dict(type="str")},
        ),
        position=dict(type="str", default="keep", choices=["first", "last", "keep"]),
    ),
    checks=(check_outbound_rule,),
).with_constraints(mutually_exclusive=[("fallback_number", "prefix")])

# ---------------------------------------------------------------------------- E164


def check_e164(p, n, problems):
    for option, low, high, extra in (
        ("country_code", 1, 3, ""),
        ("area_code", 0, 6, ""),
        ("international_code", 1, 4, ""),
        ("national_code", 0, 2, ""),
        ("prefix", 0, 10, "+*#"),
    ):
        with problems:
            check_digits(p, option, min_length=low, max_length=high, extra=extra, name=n(option))


E164 = CONNECTION.extended(
    dict(
        process_e164=dict(type="bool"),
        country_code=dict(type="str"),
        country_name=dict(type="str"),
        area_code=dict(type="str"),
        international_code=dict(type="str"),
        national_code=dict(type="str"),
        prefix=dict(type="str"),
        remove_country_code=dict(type="bool"),
        remove_area_code=dict(type="bool"),
    ),
    checks=(check_e164,),
)

# ---------------------------------------------------------------------------- agents' presence (round trip)

PRESENCE_GROUP_TYPES = ("queue", "ring_group")


def check_agent_presence(p, n, problems):
    with problems:
        if p.get("group") is not None:
            check_dn_number(n("group"), p["group"])
    with problems:
        if p.get("profile") is not None and not str(p["profile"]).strip():
            raise ValueError("%s must not be empty: give the presence profile that is Do Not Disturb on this PBX (v20: Out of office)" % n("profile"))
    with problems:
        path = p.get("journal")
        if path and os.path.isdir(path):
            raise ValueError("%s: %s is a directory; give the path of a file (made 0600, its directory 0700)" % (n("journal"), path))


AGENT_PRESENCE = CONNECTION.extended(
    dict(
        state=dict(type="str", default="dnd", choices=["dnd", "restored"]),
        group_type=dict(type="str", choices=list(PRESENCE_GROUP_TYPES)),
        group=dict(type="str"),
        profile=dict(type="str", default="Out of office"),
        journal=dict(type="path", required=True),
    ),
    checks=(check_agent_presence,),
).with_constraints(required_if=[("state", "dnd", ("group_type", "group"))], required_together=[("group_type", "group")])
