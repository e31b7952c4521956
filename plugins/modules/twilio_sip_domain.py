#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: twilio_sip_domain
short_description: Manage a Twilio SIP Domain, its voice handler and its call authentication
version_added: 0.1.0
description:
  - Creates, updates or deletes a Twilio SIP Domain (C(<name>.sip.twilio.com)), the address a 3CX
    trunk sends its fallback calls to.
  - Sets what happens to a call (a webhook URL, a TwiML App or a Studio flow) and which IP access
    control lists and credential lists authenticate calls (the C(Auth/Calls) mappings).
  - An existing domain of the account is adopted by its O(domain_name); Twilio has no server-side
    filter for it, so the module lists the account's domains and picks the match.
  - Only the options you set are compared and sent; the others keep their value at Twilio.
  - Returns the domain's SIP address for its region (RV(domain.sip_uri)) and for every edge
    (RV(domain.sip_uris)), for the 3CX side of the flow.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.twilio
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.TWILIO
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - Reads the domain, the TwiML App and the lists and predicts the result; sends no write.
      - A list named in O(ip_access_control_lists) or O(credential_lists) that does not exist yet
        gives a warning in check mode (an earlier task may create it) and an error otherwise.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change, and the SIDs of the mapped lists.
  idempotent:
    support: full
options:
  domain_name:
    description:
      - The domain's name, globally unique across Twilio. A short name such as V(acme) or the full
        V(acme.sip.twilio.com); letters, digits and hyphens. The module works with the full,
        lower-case name.
      - Not the regional address (V(acme.sip.ie1.twilio.com)); that is returned as RV(domain.sip_uri).
      - A name held by another Twilio account (or deleted recently and not yet released) cannot be
        created; the module then fails and says to choose another name.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the domain; V(absent) deletes it (its mappings go with it).
      - After a delete Twilio may keep the name reserved for a while (reports range from an hour
        to 30 days), so re-creating the same name can fail.
    type: str
    choices: [present, absent]
    default: present
  friendly_name:
    description:
      - A description of the domain, at most 64 characters.
    type: str
  voice_url:
    description:
      - The webhook Twilio calls for TwiML when a call arrives (an AI platform or your own application).
      - Exactly one of O(voice_url), O(twiml_app) and O(studio_flow) is required with O(state=present).
      - An https:// URL; http:// only with O(allow_http_webhooks).
    type: str
  voice_method:
    description:
      - The HTTP method for O(voice_url). Only with O(voice_url).
    type: str
    choices: [GET, POST]
  twiml_app:
    description:
      - A TwiML App of the same account and region, by friendly name or SID (C(AP...)).
      - A SIP Domain has no application field, so the app's voice URL, method, fallback URL and
        fallback method are copied into the domain, and copied again on every run, so the domain
        follows changes made to the app.
      - An unknown app, an app without a voice URL, or two apps with the same friendly name are errors.
    type: str
  studio_flow:
    description:
      - A Studio flow SID (C(FW...)). The domain's voice URL becomes the flow's webhook
        C(https://webhooks.twilio.com/v1/Accounts/<account_sid>/Flows/<flow SID>), called with C(POST).
    type: str
  voice_fallback_url:
    description:
      - The URL Twilio calls when O(voice_url) fails. V("") clears it. Not with O(twiml_app)
        (the app's fallback is used).
    type: str
  voice_fallback_method:
    description:
      - The HTTP method for O(voice_fallback_url). Not with O(twiml_app).
    type: str
    choices: [GET, POST]
  voice_status_callback_url:
    description:
      - The URL Twilio sends call status events to. V("") clears it.
    type: str
  voice_status_callback_method:
    description:
      - The HTTP method for O(voice_status_callback_url).
    type: str
    choices: [GET, POST]
  sip_registration:
    description:
      - Whether SIP endpoints may register with the domain. The 3CX fallback flow does not need it.
    type: bool
  secure:
    description:
      - Whether Twilio enforces TLS and SRTP on every incoming call; the 3CX trunk must then use TLS and SRTP.
    type: bool
  emergency_calling_enabled:
    description:
      - Whether emergency calls are allowed from the domain (needs phone numbers with validated addresses).
    type: bool
  emergency_caller_sid:
    description:
      - The phone number SID (C(PN...)) used as call-back number for emergency calls. V("") clears it.
    type: str
  byoc_trunk_sid:
    description:
      - The BYOC trunk SID (C(BY...)) the domain is associated with. V("") clears it.
    type: str
  ip_access_control_lists:
    description:
      - IP access control lists (friendly names or C(AL...) SIDs of the same account and region)
        that authenticate calls to the domain (the C(Auth/Calls) IP ACL mappings).
      - Lists already mapped through the older (legacy) mapping resource count as mapped.
      - Names are looked up among the account's lists on every run. SIDs the domain already maps
        are not, so a converged run given SIDs sends fewer reads.
      - Not set means the mappings are not looked at. Lists mapped but not given here stay unless
        O(purge_mappings=true).
    type: list
    elements: str
  credential_lists:
    description:
      - Credential lists (friendly names or C(CL...) SIDs of the same account and region) that
        authenticate calls to the domain (the C(Auth/Calls) credential list mappings).
      - Lists already mapped through the older (legacy) mapping resource count as mapped.
      - Names are looked up among the account's lists on every run. SIDs the domain already maps
        are not, so a converged run given SIDs sends fewer reads.
      - Not set means the mappings are not looked at. Lists mapped but not given here stay unless
        O(purge_mappings=true).
    type: list
    elements: str
  purge_mappings:
    description:
      - Remove calls mappings of lists not given in O(ip_access_control_lists) or
        O(credential_lists) (only for the option that is set).
      - A domain with no mapping at all refuses every call.
    type: bool
    default: false
  allow_http_webhooks:
    description:
      - Accept http:// in O(voice_url), O(voice_fallback_url) and O(voice_status_callback_url) (Twilio allows it).
        Off, they must be https://, since Twilio's requests carry the call's data.
      - Each http:// URL it lets through is named in a warning on every run.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Nothing is written when every option you set already has its value, so a second run reports
    no change and sends only reads.
  - Region matters twice. The API region (O(region)) is where the domain, its lists and its TwiML
    App live. The SIP address in RV(domain.sip_uri) uses the region's label (C(us1), C(ie1), C(au1)),
    which selects the network edge the PBX sends to; the call is processed where the domain is
    active.
  - A create whose reply is lost is not sent again; the module re-reads the domain by its name
    instead, so retries never make a duplicate.
seealso:
  - module: voip.threecx_twilio.twilio_ip_acl
  - module: voip.threecx_twilio.twilio_credential_list
  - module: voip.threecx_twilio.twilio_sip_domain_info
  - name: SIP Domain resource
    description: Twilio's API reference.
    link: https://www.twilio.com/docs/voice/sip/api/sip-domain-resource
"""

EXAMPLES = r"""
- name: A SIP Domain in Ireland whose calls go to a webhook, authenticated by the PBX's IP
  voip.threecx_twilio.twilio_sip_domain:
    account_sid: "{{ twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    region: ie1
    domain_name: acme-fallback
    friendly_name: ACME 3CX fallback
    voice_url: https://bot.example.com/twilio/voice
    voice_method: POST
    ip_access_control_lists:
      - acme-fallback PBX
  register: acme_domain

- name: Show the address for the 3CX trunk
  ansible.builtin.debug:
    msg: "Registrar and outbound proxy: {{ acme_domain.domain.sip_uri }}"

- name: Route the domain to a TwiML App and use credentials too, removing other mappings
  voip.threecx_twilio.twilio_sip_domain:
    domain_name: acme-fallback.sip.twilio.com
    twiml_app: ACME IVR
    ip_access_control_lists: [acme-fallback PBX]
    credential_lists: [acme-fallback PBX]
    purge_mappings: true

- name: Route the domain to a Studio flow
  voip.threecx_twilio.twilio_sip_domain:
    domain_name: acme-fallback
    studio_flow: FW0123456789abcdef0123456789abcdef

- name: Delete the domain
  voip.threecx_twilio.twilio_sip_domain:
    domain_name: acme-fallback
    state: absent
"""

RETURN = r"""
domain:
  description:
    - The domain after the run (predicted in check mode), in the module's option names, plus its
      SIP addresses and its calls mappings. Empty after a delete.
  returned: success
  type: dict
  contains:
    sid:
      description: The domain's SID (null when check mode predicts a create).
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
      description: What Twilio says authenticates calls (C(IP_ACL), C(CREDENTIAL_LIST), both comma-joined, or empty).
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
    sip_uri:
      description: The SIP address for the module's region, as the Twilio Console shows it.
      type: str
      sample: acme-fallback.sip.ie1.twilio.com
    sip_uris:
      description: Every address of the domain.
      type: dict
      contains:
        global:
          description: The global name.
          type: str
          sample: acme-fallback.sip.twilio.com
        region:
          description: Same as RV(domain.sip_uri).
          type: str
          sample: acme-fallback.sip.ie1.twilio.com
        ashburn:
          description: The Ashburn (US) edge.
          type: str
          sample: acme-fallback.sip.ashburn.twilio.com
        umatilla:
          description: The Umatilla (US) edge.
          type: str
          sample: acme-fallback.sip.umatilla.twilio.com
        dublin:
          description: The Dublin edge.
          type: str
          sample: acme-fallback.sip.dublin.twilio.com
        frankfurt:
          description: The Frankfurt edge.
          type: str
          sample: acme-fallback.sip.frankfurt.twilio.com
        singapore:
          description: The Singapore edge.
          type: str
          sample: acme-fallback.sip.singapore.twilio.com
        tokyo:
          description: The Tokyo edge.
          type: str
          sample: acme-fallback.sip.tokyo.twilio.com
        sao_paulo:
          description: The Sao Paulo edge.
          type: str
          sample: acme-fallback.sip.sao-paulo.twilio.com
        sydney:
          description: The Sydney edge.
          type: str
          sample: acme-fallback.sip.sydney.twilio.com
    twiml_app:
      description: The TwiML App whose voice settings were copied (only with O(twiml_app)).
      type: dict
      returned: when O(twiml_app) is set
      sample: {"sid": "AP0123456789abcdef0123456789abcdef", "friendly_name": "ACME IVR"}
    ip_access_control_lists:
      description: The IP ACLs mapped for calls, as C(sid) and C(friendly_name).
      type: list
      elements: dict
      sample: [{"sid": "AL0123456789abcdef0123456789abcdef", "friendly_name": "acme-fallback PBX"}]
    credential_lists:
      description: The credential lists mapped for calls, as C(sid) and C(friendly_name).
      type: list
      elements: dict
      sample: [{"sid": "CL0123456789abcdef0123456789abcdef", "friendly_name": "acme-fallback PBX"}]
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: "SIP domain acme-fallback.sip.twilio.com created; ip_access_control_lists: 1 created"
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      voice_url: https://old.example.com/voice
    after:
      voice_url: https://bot.example.com/twilio/voice
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_sip as sip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import KIND_STR, Children, Engine, Field, FieldMap, combine
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import TwilioModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio import TwilioException, describe_error
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_inputs import SIP_DOMAIN
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import sip_uri, sip_uris

STUDIO_WEBHOOK = "https://webhooks.twilio.com/v1/Accounts/%s/Flows/%s"

FIELDS = FieldMap(
    Field("sid", "sid", read_only=True),
    Field("domain_name", "domain_name"),
    Field("friendly_name", "friendly_name", KIND_STR),
    Field("auth_type", "auth_type", read_only=True),
    Field("voice_url", "voice_url", KIND_STR),
    Field("voice_method", "voice_method"),
    Field("voice_fallback_url", "voice_fallback_url", KIND_STR),
    Field("voice_fallback_method", "voice_fallback_method"),
    Field("voice_status_callback_url", "voice_status_callback_url", KIND_STR),
    Field("voice_status_callback_method", "voice_status_callback_method"),
    Field("sip_registration", "sip_registration"),
    Field("secure", "secure"),
    Field("emergency_calling_enabled", "emergency_calling_enabled"),
    Field("emergency_caller_sid", "emergency_caller_sid", KIND_STR),
    Field("byoc_trunk_sid", "byoc_trunk_sid", KIND_STR),
)

# option, SID prefix, kind (for messages), SDK accessor of the account's lists, calls-mapping accessor
MAPPED = (
    (
        "ip_access_control_lists",
        "AL",
        "IP access control list",
        lambda c: c.sip.ip_access_control_lists,
        lambda d: d.auth.calls.ip_access_control_list_mappings,
        "ip_access_control_list_sid",
        "voip.threecx_twilio.twilio_ip_acl",
    ),
    (
        "credential_lists",
        "CL",
        "credential list",
        lambda c: c.sip.credential_lists,
        lambda d: d.auth.calls.credential_list_mappings,
        "credential_list_sid",
        "voip.threecx_twilio.twilio_credential_list",
    ),
)

# Words Twilio might use when a domain name is taken (the exact error is not documented).
_TAKEN_HINTS = ("already", "exists", "taken", "in use", "unavailable", "not available", "duplicate", "reserved")


def resolve_app(module):
    """The TwiML App named by twiml_app, as a dict; errors name the option."""
    client = module.client
    ref = module.params["twiml_app"]
    where = "account %s in region %s" % (module.params["account_sid"], sip.region_name(module.params["region"]))
    if sip.is_sid(ref, "AP"):
        app = sip.fetch_or_none(client.applications(ref))
        if app is None:
            raise ValueError("twiml_app: there is no TwiML App with SID %s in %s" % (ref, where))
    else:
        apps = sip.list_all(client.applications, friendly_name=ref)
        app = sip.find_by_friendly_name(apps, ref, "TwiML App", "twiml_app", "rename one, or give the app's AP SID instead")
        if app is None:
            raise ValueError("twiml_app: there is no TwiML App named %r in %s; create it first or fix the name" % (ref, where))
    if not app.get("voice_url"):
        raise ValueError("twiml_app: the TwiML App %r (%s) has no voice URL; set its Voice Request URL first" % (ref, app.get("sid")))
    return app


def set_handler(module):
    """Turn twiml_app / studio_flow into the domain's voice fields (params the engine compares)."""
    p = module.params
    if p["twiml_app"] is not None:
        app = resolve_app(module)
        p["voice_url"] = app.get("voice_url")
        p["voice_method"] = app.get("voice_method")
        p["voice_fallback_url"] = app.get("voice_fallback_url") or ""
        p["voice_fallback_method"] = app.get("voice_fallback_method")
        return {"sid": app.get("sid"), "friendly_name": app.get("friendly_name")}
    if p["studio_flow"] is not None:
        p["voice_url"] = STUDIO_WEBHOOK % (p["account_sid"], p["studio_flow"])
        p["voice_method"] = "POST"
    return {}


def find_domain(module):
    name = module.params["domain_name"]
    domains = sip.list_all(module.client.sip.domains)
    return sip.pick_one(domains, lambda d: str(d.get("domain_name") or "").lower() == name, "SIP domain", "named %s" % name, "domain_name")


def create_domain(module, payload):
    try:
        return sip.as_dict(module.client.sip.domains.create(**payload))
    except TwilioException as exc:
        err = describe_error(exc)
        text = str(err).lower()
        if err.status in (400, 409) and (err.code == 21248 or any(hint in text for hint in _TAKEN_HINTS)):
            raise err.reworded(
                "domain_name %s is not in account %s, and Twilio refused to create it: the name is taken elsewhere "
                "(SIP domain names are unique across all Twilio accounts, and a deleted name can stay reserved for a while). "
                "Choose another domain_name. Twilio said: %s" % (payload["domain_name"], module.params["account_sid"], err)
            )
        raise err


def resolve_lists(module, current_maps):
    """The lists named in ip_access_control_lists / credential_lists, resolved before any write.

    The account's lists are read only when a reference is not the SID of a list the domain
    already maps (a mapping's SID is its list's SID): a converged run given SIDs reads none.
    """
    p = module.params
    wanted = {}
    for option, prefix, kind, lists, _maps, _param, hint in MAPPED:
        refs = p[option]
        if refs is not None:
            mapped = current_maps.get(option, {})
            if all(sip.is_sid(str(ref), prefix) and str(ref) in mapped for ref in refs):
                items = list(mapped.values())
            else:
                items = sip.list_all(lists(module.client))
            wanted[option] = sip.resolve_refs(
                items,
                refs,
                prefix,
                kind,
                option,
                hint,
                p["account_sid"],
                p["region"],
                check_mode=module.check_mode,
                warn=module.warn,
            )
    return wanted


def reconcile_mappings(module, result, domain_sid, current_maps, wanted_lists):
    """Map the wanted lists for calls; purge others when asked. Folds the outcome into result."""
    p = module.params
    client = module.client
    domain_ctx = client.sip.domains(domain_sid) if domain_sid else None
    changed = False
    for option, prefix, kind, lists, maps, param, hint in MAPPED:
        current = list(current_maps.get(option, {}).values())
        if option not in wanted_lists:
            result["domain"][option] = [{"sid": c["sid"], "friendly_name": c["friendly_name"]} for c in current]
            continue
        wanted = wanted_lists[option]
        children = Children(module, option, key=lambda item: item.get("sid") or item.get("friendly_name"), purge=p["purge_mappings"])

        def create(want, maps=maps, param=param, kind=kind):
            mapping_list = maps(domain_ctx)
            return sip.create_or_find(
                lambda: sip.as_dict(mapping_list.create(**{param: want["sid"]})),
                lambda: sip.fetch_or_none(mapping_list(want["sid"])),
                "mapping %s %s" % (kind, want["sid"]),
                settle_seconds=module.params["settle_timeout"],
            )

        def delete(item, option=option):
            sip.delete_mapping(domain_ctx, option, item)

        outcome = children.run(current, wanted, create=create, delete=delete)
        names = dict((w["sid"], w["friendly_name"]) for w in wanted)
        outcome["items"] = [{"sid": i.get("sid"), "friendly_name": names.get(i.get("sid"), i.get("friendly_name"))} for i in outcome["items"]]
        result = combine(result, outcome, "domain", option)
        changed = changed or outcome["changed"]
    return result, changed


def main():
    module = TwilioModule(
        SIP_DOMAIN,
        supports_check_mode=True,
    )
    engine = Engine(module, FIELDS, result_key="domain", kind="SIP domain")
    with module.api_errors():
        if module.params["state"] == "absent":
            current = find_domain(module)
            result = engine.absent(
                current, delete=lambda c: sip.delete_if_present(module.client.sip.domains(c["sid"])), name=module.params["domain_name"]
            )
        else:
            result = present(module, engine)
    module.exit_json(**result)


def present(module, engine):
    p = module.params
    name = p["domain_name"]
    app = set_handler(module)
    current = find_domain(module)
    current_maps = {}
    if current is not None:
        # Keep Twilio's spelling of the name (it may differ in case only).
        p["domain_name"] = current["domain_name"]
        current_maps = sip.read_mappings(module.client.sip.domains(current["sid"]))
    wanted_lists = resolve_lists(module, current_maps)
    result = engine.present(
        current,
        create=lambda payload: create_domain(module, payload),
        update=lambda c, payload: sip.as_dict(module.client.sip.domains(c["sid"]).update(**payload)),
        predict=lambda payload: dict(payload, sid=None, auth_type=""),
        find=lambda: find_domain(module),
        name=name,
    )
    domain_sid = result["domain"].get("sid")
    result, mappings_changed = reconcile_mappings(module, result, domain_sid, current_maps, wanted_lists)
    domain = result["domain"]
    if mappings_changed or domain_sid is None:
        # auth_type follows the mappings: read it back, or predict it in check mode.
        fresh = sip.fetch_or_none(module.client.sip.domains(domain_sid)) if domain_sid and not module.check_mode else None
        domain["auth_type"] = fresh.get("auth_type") if fresh is not None else predict_auth_type(domain)
    domain["sip_uri"] = sip_uri(domain.get("domain_name"), p["region"])
    domain["sip_uris"] = sip_uris(domain.get("domain_name"), p["region"])
    if app:
        domain["twiml_app"] = app
    return result


def predict_auth_type(domain):
    kinds = []
    if domain.get("ip_access_control_lists"):
        kinds.append("IP_ACL")
    if domain.get("credential_lists"):
        kinds.append("CREDENTIAL_LIST")
    return ",".join(kinds)


if __name__ == "__main__":
    main()
