# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The site model: one customer site's variables in, its plan (or every problem) out.

PRIVATE to this collection: may change without notice.

A site is one inventory host with the variables of the roles twilio_sip_domain and
threecx_fallback (``twilio_sip_domain_*``, ``threecx_fallback_*``). :func:`plan` checks them and
derives everything the roles need: the region and its edge, the SIP Domain's name and addresses,
the auth mode, and the arguments of every module task. It validates those arguments with the very
inputs the modules declare (``_twilio_inputs``, ``_threecx_inputs``), worded with the site
variable that fed each option, so that a value a module would refuse is refused here, before any
request to either vendor. It returns every problem at once.

Secrets (API tokens and secrets, SIP passwords) are validated but never put in the plan: the roles
wire them from their variables straight into the module tasks, so a plan can be shown and kept.

Pure functions on plain dicts; the action plugin ``voip.threecx_twilio.site_plan`` templates the
variables and calls :func:`plan`.
"""

from __future__ import annotations

from ansible_collections.voip.threecx_twilio.plugins.module_utils import (
    _threecx_inputs as tx,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils import (
    _twilio_inputs as tw,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import (
    Names,
    Problems,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import (
    REGION_EDGES,
    region_name,
    sip_uri,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import (
    check_fqdn,
    check_phone_number,
    check_sip_domain_name,
)

SIDES = ("twilio", "threecx")

_TYPE_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping",
}
_BOOL_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
# Longest value a message quotes (a 3,000-character paste is named, not echoed).
_QUOTE = 200


class Variable:
    """A site variable: its type, default (None: no default), choices, and whether it is secret.

    ``choices`` only for a variable whose values are the site model's own (an auth mode, a group
    type); a variable that feeds a module option is checked by that option's own choices.
    """

    def __init__(
        self,
        name,
        kind,
        default=None,
        choices=None,
        required=False,
        secret=False,
        elements=None,
    ):
        self.name = name
        self.kind = kind
        self.default = default
        self.choices = choices
        self.required = required
        self.secret = secret
        self.elements = elements


def _quote(value):
    text = repr(value)
    return text if len(text) <= _QUOTE else text[:_QUOTE] + "... (%d characters)" % len(text)


def _v(*args, **kwargs):
    var = Variable(*args, **kwargs)
    return var.name, var


TWILIO_VARIABLES = dict(
    (
        _v("twilio_sip_domain_name", "str", required=True),
        _v("twilio_sip_domain_friendly_name", "str", ""),
        _v("twilio_sip_domain_region", "str", ""),
        _v(
            "twilio_sip_domain_auth_mode",
            "str",
            "ip_acl",
            choices=("ip_acl", "credentials", "both"),
        ),
        _v("twilio_sip_domain_pbx_public_ips", "list", [], elements="str"),
        _v("twilio_sip_domain_allow_wide_ranges", "bool", False),
        _v("twilio_sip_domain_credentials", "list", [], elements="dict", secret=True),
        _v("twilio_sip_domain_update_password", "str", "on_create"),
        _v("twilio_sip_domain_acl_name", "str", ""),
        _v("twilio_sip_domain_credential_list_name", "str", ""),
        _v("twilio_sip_domain_purge_mappings", "bool", False),
        _v("twilio_sip_domain_voice_url", "str", ""),
        _v("twilio_sip_domain_voice_method", "str", "POST"),
        _v("twilio_sip_domain_twiml_app", "str", ""),
        _v("twilio_sip_domain_studio_flow", "str", ""),
        _v("twilio_sip_domain_voice_fallback_url", "str", ""),
        _v("twilio_sip_domain_allow_http_webhooks", "bool", False),
        _v("twilio_sip_domain_secure", "bool", False),
        _v("twilio_sip_domain_account_sid", "str", ""),
        _v("twilio_sip_domain_auth_token", "str", "", secret=True),
        _v("twilio_sip_domain_api_key", "str", ""),
        _v("twilio_sip_domain_api_secret", "str", "", secret=True),
        _v("twilio_sip_domain_api_base_url", "str", ""),
        _v("twilio_sip_domain_ca_bundle", "str", ""),
    )
)

THREECX_VARIABLES = dict(
    (
        _v("threecx_fallback_url", "str", ""),
        _v("threecx_fallback_client_id", "str", ""),
        _v("threecx_fallback_client_secret", "str", "", secret=True),
        _v("threecx_fallback_validate_certs", "bool", True),
        _v("threecx_fallback_ca_path", "str", ""),
        _v("threecx_fallback_sip_domain", "str", ""),
        _v("threecx_fallback_template_name", "str", "twilio-cid.pv.xml"),
        _v("threecx_fallback_template_source", "str", tx.DEFAULT_SOURCE_TEMPLATE),
        _v("threecx_fallback_parameter_names", "dict", {}),
        _v("threecx_fallback_trunk_name", "str", "Twilio SIP Domain Trunk"),
        _v("threecx_fallback_port", "int", 5060),
        _v("threecx_fallback_transport", "str", "UDP"),
        # Its values are the trunk's authentication choices, checked there (with required_if).
        _v("threecx_fallback_auth_mode", "str", "ip_based"),
        _v("threecx_fallback_auth_id", "str", ""),
        _v("threecx_fallback_auth_password", "str", "", secret=True),
        _v("threecx_fallback_update_password", "str", "on_create"),
        _v("threecx_fallback_did", "str", required=True),
        _v(
            "threecx_fallback_group_type",
            "str",
            "queue",
            choices=("queue", "ring_group"),
        ),
        _v("threecx_fallback_group_number", "str", required=True),
        _v("threecx_fallback_group_name", "str", required=True),
        _v("threecx_fallback_agents", "list", [], elements="str"),
        _v("threecx_fallback_ring_timeout", "int", 10),
        _v("threecx_fallback_queue_timeout", "int", 10),
        _v("threecx_fallback_fallback_number", "str", required=True),
        _v("threecx_fallback_outbound_rule_name", "str", "Twilio fallback"),
        _v("threecx_fallback_outbound_rule_position", "str", "first"),
        _v("threecx_fallback_departments", "list", [], elements="str"),
    )
)

VARIABLES = dict(TWILIO_VARIABLES, **THREECX_VARIABLES)
SECRET_VARIABLES = tuple(name for name, var in VARIABLES.items() if var.secret)


def _typed(var, value):
    """``value`` as ``var.kind``, accepting only what YAML and Jinja naturally give; ValueError otherwise.

    Stricter than a module's conversions on purpose: a string where a list belongs is a mistake
    (the module would split it at commas), and so is a list where a string belongs.
    """
    kind = var.kind
    shown = "(not shown: it is secret)" if var.secret else _quote(value)
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError("%s must be %s; got %s %s" % (var.name, _TYPE_WORDS[kind], type(value).__name__, shown))
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("%s must be %s; got %s" % (var.name, _TYPE_WORDS[kind], _quote(value)))
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise ValueError("%s must be %s; got %s" % (var.name, _TYPE_WORDS[kind], _quote(value)))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise ValueError("%s must be true or false; got %s" % (var.name, _quote(value)))
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            hint = " (write it as a YAML list, for example [%s])" % _quote(value) if isinstance(value, str) else ""
            hint = "" if var.secret else hint
            raise ValueError("%s must be a list%s; got %s %s" % (var.name, hint, type(value).__name__, shown))
        items = list(value)
        for index, item in enumerate(items):
            if var.elements == "str" and (isinstance(item, bool) or not isinstance(item, (str, int))):
                raise ValueError("%s[%d] must be a string; got %s" % (var.name, index, _quote(item)))
            if var.elements == "dict" and not isinstance(item, dict):
                raise ValueError("%s[%d] must be a mapping; got %s" % (var.name, index, type(item).__name__))
        return [str(item) for item in items] if var.elements == "str" else items
    if kind == "dict":
        if not isinstance(value, dict):
            raise ValueError("%s must be a mapping; got %s %s" % (var.name, type(value).__name__, shown))
        return dict(value)
    raise AssertionError(kind)


def site_values(variables, sides=SIDES):
    """The declared variables of ``sides``, typed and defaulted: ``(values, problems, failed)``.

    ``failed`` names the variables whose value was unusable (they get their default).
    """
    problems = Problems()
    failed = []
    values = {}
    declared = {}
    for side in sides:
        declared.update(TWILIO_VARIABLES if side == "twilio" else THREECX_VARIABLES)
    for name, var in declared.items():
        value = variables.get(name)
        if value is None:
            if var.required:
                problems.add("%s is required and is not set" % name)
            values[name] = var.default
            continue
        with problems:
            value = _typed(var, value)
            if var.choices is not None and value not in var.choices:
                shown = ", ".join(c for c in var.choices if c) + (" (or empty)" if "" in var.choices else "")
                raise ValueError("%s must be one of %s; got %s" % (name, shown, _quote(value)))
            values[name] = value
            continue
        failed.append(name)
        values[name] = var.default
    return values, problems, failed


def _set(args, option, value):
    """Put ``value`` in ``args`` unless it is empty ("" or None): an empty variable means "not given"."""
    if value not in (None, ""):
        args[option] = value


def _task(name, module_input, args, names, problems, secrets=None):
    """Validate one module task's own arguments (secrets included) and return them without the secrets.

    The connection options are validated once per side, not per task (see ``ModuleInput.own``).
    """
    full = dict(args)
    full.update(secrets or {})
    _params, found = module_input.own.validate(full, Names(names))
    for message in found.messages:
        problems.add(message)
    for message in found.warnings:
        problems.warn(message)
    return {"module": name, "args": args}


# ---------------------------------------------------------------------------- Twilio side


def _twilio_connection(v):
    args = {}
    _set(args, "account_sid", v["twilio_sip_domain_account_sid"])
    _set(args, "region", v["twilio_sip_domain_region"])
    _set(args, "api_base_url", v["twilio_sip_domain_api_base_url"])
    _set(args, "ca_bundle", v["twilio_sip_domain_ca_bundle"])
    secrets = {}
    _set(secrets, "auth_token", v["twilio_sip_domain_auth_token"])
    _set(secrets, "api_key", v["twilio_sip_domain_api_key"])
    _set(secrets, "api_secret", v["twilio_sip_domain_api_secret"])
    # api_key is no secret, but it is wired with its secret so that the pair stays together.
    names = dict(
        (option, "twilio_sip_domain_" + option)
        for option in (
            "account_sid",
            "region",
            "api_base_url",
            "ca_bundle",
            "auth_token",
            "api_key",
            "api_secret",
        )
    )
    return args, secrets, names


def _twilio_side(v, problems):
    connection, secrets, names = _twilio_connection(v)
    params, found = tw.CONNECTION.validate(dict(connection, **secrets), Names(names))
    for message in found.messages:
        problems.add(message)
    region = params.get("region") or tw.CONNECTION.argument_spec["region"]["default"]
    short = None
    domain_name = None
    with problems:
        if v["twilio_sip_domain_name"] is not None:
            domain_name = check_sip_domain_name("twilio_sip_domain_name", v["twilio_sip_domain_name"])
            short = domain_name.split(".", 1)[0] if domain_name else None
    base = v["twilio_sip_domain_name"] or ""
    auth_mode = v["twilio_sip_domain_auth_mode"]
    acl_name = v["twilio_sip_domain_acl_name"] or "%s PBX" % base
    list_name = v["twilio_sip_domain_credential_list_name"] or "%s PBX" % base
    tasks = {}
    # The lists the auth mode needs: (task, auth modes, the variable it needs and what that is,
    # module, its input, its arguments, its secrets, the variables that feed its options).
    lists = (
        (
            "ip_acl",
            ("ip_acl", "both"),
            ("twilio_sip_domain_pbx_public_ips", "the PBX's public IPv4 addresses"),
            "twilio_ip_acl",
            tw.IP_ACL,
            dict(friendly_name=acl_name, ip_addresses=v["twilio_sip_domain_pbx_public_ips"], allow_wide_ranges=v["twilio_sip_domain_allow_wide_ranges"]),
            None,
            dict(
                friendly_name="twilio_sip_domain_acl_name",
                ip_addresses="twilio_sip_domain_pbx_public_ips",
                allow_wide_ranges="twilio_sip_domain_allow_wide_ranges",
            ),
        ),
        (
            "credential_list",
            ("credentials", "both"),
            ("twilio_sip_domain_credentials", "username and password"),
            "twilio_credential_list",
            tw.CREDENTIAL_LIST,
            dict(friendly_name=list_name, update_password=v["twilio_sip_domain_update_password"]),
            dict(credentials=v["twilio_sip_domain_credentials"]),
            dict(
                friendly_name="twilio_sip_domain_credential_list_name",
                credentials="twilio_sip_domain_credentials",
                update_password="twilio_sip_domain_update_password",
            ),
        ),
    )
    for key, modes, (needed, what), module, module_input, args, secrets, option_names in lists:
        if auth_mode not in modes:
            continue
        with problems:
            if not v[needed]:
                raise ValueError("twilio_sip_domain_auth_mode %s needs %s (%s)" % (auth_mode, needed, what))
        tasks[key] = _task(module, module_input, args, dict(names, **option_names), problems, secrets)
    purge = v["twilio_sip_domain_purge_mappings"]
    domain = dict(
        domain_name=v["twilio_sip_domain_name"],
        secure=v["twilio_sip_domain_secure"],
        purge_mappings=purge,
        allow_http_webhooks=v["twilio_sip_domain_allow_http_webhooks"],
    )
    _set(domain, "friendly_name", v["twilio_sip_domain_friendly_name"])
    _set(domain, "voice_url", v["twilio_sip_domain_voice_url"])
    if v["twilio_sip_domain_voice_url"]:
        domain["voice_method"] = v["twilio_sip_domain_voice_method"]
    _set(domain, "twiml_app", v["twilio_sip_domain_twiml_app"])
    _set(domain, "studio_flow", v["twilio_sip_domain_studio_flow"])
    _set(domain, "voice_fallback_url", v["twilio_sip_domain_voice_fallback_url"])
    # Lists by name here; the role passes the SIDs its list tasks returned (a converged run then
    # reads no list again), or the names when check mode predicts their create.
    if "ip_acl" in tasks:
        domain["ip_access_control_lists"] = [acl_name]
    elif purge:
        domain["ip_access_control_lists"] = []
    if "credential_list" in tasks:
        domain["credential_lists"] = [list_name]
    elif purge:
        domain["credential_lists"] = []
    domain_names = dict(
        names,
        domain_name="twilio_sip_domain_name",
        friendly_name="twilio_sip_domain_friendly_name",
        voice_url="twilio_sip_domain_voice_url",
        voice_method="twilio_sip_domain_voice_method",
        twiml_app="twilio_sip_domain_twiml_app",
        studio_flow="twilio_sip_domain_studio_flow",
        voice_fallback_url="twilio_sip_domain_voice_fallback_url",
        secure="twilio_sip_domain_secure",
        purge_mappings="twilio_sip_domain_purge_mappings",
        allow_http_webhooks="twilio_sip_domain_allow_http_webhooks",
        ip_access_control_lists="twilio_sip_domain_acl_name",
        credential_lists="twilio_sip_domain_credential_list_name",
    )
    tasks["sip_domain"] = _task("twilio_sip_domain", tw.SIP_DOMAIN, domain, domain_names, problems)
    return dict(
        region=region,
        edge=REGION_EDGES.get(region),
        region_name=region_name(region),
        domain_name=domain_name,
        short_name=short,
        sip_uri=(sip_uri(domain_name, region) if domain_name and region in REGION_EDGES else None),
        auth_mode=auth_mode,
        acl_name=acl_name,
        credential_list_name=list_name,
        pbx_public_ips=(list(v["twilio_sip_domain_pbx_public_ips"] or []) if "ip_acl" in tasks else []),
        credential_usernames=(
            [c.get("username") for c in v["twilio_sip_domain_credentials"] or [] if isinstance(c, dict)] if "credential_list" in tasks else []
        ),
        connection=connection,
        tasks=tasks,
    )


# ---------------------------------------------------------------------------- 3CX side


def _threecx_connection(v):
    args = dict(validate_certs=v["threecx_fallback_validate_certs"])
    _set(args, "url", v["threecx_fallback_url"])
    _set(args, "client_id", v["threecx_fallback_client_id"])
    _set(args, "ca_path", v["threecx_fallback_ca_path"])
    secrets = {}
    _set(secrets, "client_secret", v["threecx_fallback_client_secret"])
    names = dict((option, "threecx_fallback_" + option) for option in ("url", "client_id", "client_secret", "validate_certs", "ca_path"))
    return args, secrets, names


def _threecx_side(v, sip_address, problems):
    connection, secrets, names = _threecx_connection(v)
    params, found = tx.CONNECTION.validate(dict(connection, **secrets), Names(names))
    for message in found.messages:
        problems.add(message)
    tasks = {}
    parameter_names = v["threecx_fallback_parameter_names"] or None

    def task(key, module, module_input, args, option_names, secret=None):
        args = dict((k, val) for k, val in args.items() if val is not None)
        tasks[key] = _task(module, module_input, args, option_names, problems, secret)

    task(
        "template",
        "threecx_template",
        tx.TEMPLATE,
        dict(
            name=v["threecx_fallback_template_name"],
            source_template=v["threecx_fallback_template_source"],
            parameter_names=parameter_names,
        ),
        dict(
            name="threecx_fallback_template_name",
            source_template="threecx_fallback_template_source",
            parameter_names="threecx_fallback_parameter_names",
        ),
    )
    trunk = dict(
        name=v["threecx_fallback_trunk_name"],
        template=v["threecx_fallback_template_name"],
        registrar=sip_address or None,
        port=v["threecx_fallback_port"],
        transport=v["threecx_fallback_transport"],
        authentication=v["threecx_fallback_auth_mode"],
        update_password=v["threecx_fallback_update_password"],
        did_numbers=([v["threecx_fallback_did"]] if v["threecx_fallback_did"] is not None else None),
        caller_id_passthrough=True,
        parameter_names=parameter_names,
    )
    _set(trunk, "auth_id", v["threecx_fallback_auth_id"])
    secret = {}
    _set(secret, "auth_password", v["threecx_fallback_auth_password"])
    task(
        "trunk",
        "threecx_trunk",
        tx.TRUNK,
        trunk,
        dict(
            name="threecx_fallback_trunk_name",
            template="threecx_fallback_template_name",
            registrar="threecx_fallback_sip_domain",
            port="threecx_fallback_port",
            transport="threecx_fallback_transport",
            authentication="threecx_fallback_auth_mode",
            auth_id="threecx_fallback_auth_id",
            auth_password="threecx_fallback_auth_password",
            update_password="threecx_fallback_update_password",
            parameter_names="threecx_fallback_parameter_names",
            **{"did_numbers[0]": "threecx_fallback_did"},
        ),
        secret,
    )
    forward = dict(type="external", external=v["threecx_fallback_fallback_number"])
    group_names = dict(
        number="threecx_fallback_group_number",
        name="threecx_fallback_group_name",
        no_answer_destination="threecx_fallback_fallback_number",
        **{"no_answer_destination.external": "threecx_fallback_fallback_number"},
        departments="threecx_fallback_departments",
    )
    # The group gets the departments its outbound rule is limited to (or the module fails, before any
    # write, where that would move an existing group): the site cannot build a department mismatch.
    departments = v["threecx_fallback_departments"] or None
    group_type = v["threecx_fallback_group_type"]
    if group_type == "queue":
        task(
            "group",
            "threecx_queue",
            tx.QUEUE,
            dict(
                number=v["threecx_fallback_group_number"],
                name=v["threecx_fallback_group_name"],
                agents=v["threecx_fallback_agents"],
                polling_strategy="ring_all",
                ring_timeout=v["threecx_fallback_ring_timeout"],
                queue_timeout=v["threecx_fallback_queue_timeout"],
                no_answer_destination=forward,
                departments=departments,
            ),
            dict(
                group_names,
                agents="threecx_fallback_agents",
                ring_timeout="threecx_fallback_ring_timeout",
                queue_timeout="threecx_fallback_queue_timeout",
            ),
        )
    else:
        task(
            "group",
            "threecx_ring_group",
            tx.RING_GROUP,
            dict(
                number=v["threecx_fallback_group_number"],
                name=v["threecx_fallback_group_name"],
                members=v["threecx_fallback_agents"],
                ring_strategy="ring_all",
                ring_time=v["threecx_fallback_ring_timeout"],
                no_answer_destination=forward,
                departments=departments,
            ),
            dict(
                group_names,
                members="threecx_fallback_agents",
                ring_time="threecx_fallback_ring_timeout",
            ),
        )
    task(
        "inbound_rule",
        "threecx_inbound_rule",
        tx.INBOUND_RULE,
        dict(
            did=v["threecx_fallback_did"],
            trunk=v["threecx_fallback_trunk_name"],
            destination=dict(type=group_type, number=v["threecx_fallback_group_number"]),
        ),
        {
            "did": "threecx_fallback_did",
            "trunk": "threecx_fallback_trunk_name",
            "destination": "threecx_fallback_group_type",
            "destination.number": "threecx_fallback_group_number",
        },
    )
    task(
        "outbound_rule",
        "threecx_outbound_rule",
        tx.OUTBOUND_RULE,
        dict(
            name=v["threecx_fallback_outbound_rule_name"],
            fallback_number=v["threecx_fallback_fallback_number"],
            trunk=v["threecx_fallback_trunk_name"],
            strip_digits=0,
            prepend="",
            departments=v["threecx_fallback_departments"] or None,
            position=v["threecx_fallback_outbound_rule_position"],
        ),
        dict(
            name="threecx_fallback_outbound_rule_name",
            fallback_number="threecx_fallback_fallback_number",
            trunk="threecx_fallback_trunk_name",
            departments="threecx_fallback_departments",
            position="threecx_fallback_outbound_rule_position",
        ),
    )
    task("e164", "threecx_e164", tx.E164, dict(process_e164=False), {})
    return dict(group_type=group_type, connection=connection, tasks=tasks)


def _sip_address(v, twilio, problems):
    """The address the trunk registers to: threecx_fallback_sip_domain, else the SIP Domain's regional address."""
    given = v.get("threecx_fallback_sip_domain") or ""
    if given:
        return given
    if twilio and twilio.get("sip_uri"):
        return twilio["sip_uri"]
    if not v.get("twilio_sip_domain_name"):
        problems.add(
            "threecx_fallback_sip_domain is empty: set it to the SIP Domain's address (for example acme.sip.us1.twilio.com), "
            "or set twilio_sip_domain_name (and twilio_sip_domain_region) so that it is derived"
        )
    return None


def plan(variables, sides=SIDES):
    """The plan of one site: ``{"ok", "problems", "region", ..., "twilio", "threecx"}``.

    ``variables`` are the site's variables, already templated (None or absent: not set).
    ``sides`` are the sides to plan (both for a whole site; one for a role run on its own). The 3CX
    side needs the SIP Domain's address, from ``threecx_fallback_sip_domain`` or from the Twilio
    variables (``twilio_sip_domain_name`` and the region), which are read for that even when only
    the 3CX side is planned.
    """
    sides = tuple(sides)
    unknown = [s for s in sides if s not in SIDES]
    if unknown:
        raise ValueError("sides must be among %s; got %s" % (", ".join(SIDES), ", ".join(unknown)))
    values, found, failed = site_values(variables, sides)
    problems = Problems(mentions=failed)
    problems.messages.extend(found.messages)
    result = dict(sides=list(sides), twilio=None, threecx=None)
    twilio = None
    if "twilio" in sides:
        twilio = _twilio_side(values, problems)
    elif "threecx" in sides and not values.get("threecx_fallback_sip_domain") and variables.get("twilio_sip_domain_name"):
        # A 3CX side on its own, beside Twilio variables: its address is derived from them.
        twilio_values, twilio_problems, _failed = site_values(variables, ("twilio",))
        twilio = _twilio_side(twilio_values, Problems())
        if twilio_problems.messages or not twilio.get("sip_uri"):
            twilio = None
    if "twilio" in sides:
        result["twilio"] = twilio
    if twilio is not None:
        result.update(
            region=twilio["region"],
            edge=twilio["edge"],
            domain_name=twilio["domain_name"],
            sip_uri=twilio["sip_uri"],
        )
    if "threecx" in sides:
        address = _sip_address(values, twilio, problems)
        with problems:
            if address:
                address = check_fqdn("threecx_fallback_sip_domain", address)
        result["sip_address"] = address
        result["threecx"] = _threecx_side(values, address, problems)
        with problems:
            # The number the queue forwards to and the outbound rule matches: in full
            # international format, so that the same number reaches Twilio whatever the PBX's
            # dialling rules (a module would take a national number too).
            if values["threecx_fallback_fallback_number"] and not str(values["threecx_fallback_fallback_number"]).startswith("+"):
                check_phone_number(
                    "threecx_fallback_fallback_number",
                    values["threecx_fallback_fallback_number"],
                    require_plus=True,
                )
    result["problems"] = list(problems.messages)
    result["warnings"] = list(problems.warnings)
    result["ok"] = not problems.messages
    return result
