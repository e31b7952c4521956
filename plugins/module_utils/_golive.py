# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The go-live checklist's judgement: what both sides read, turned into one result per item.

PRIVATE to this collection: may change without notice.

The setup guide's ten-item pre-go-live checklist (shared/reference/setup-guide.md), in its order,
each with the guide's diagnosis of the failure pattern it prevents (the ``fix`` a failed item
carries), plus the two SIP items (a SIP OPTIONS probe and a test call). Pure functions on plain
dicts: the site (``site_facts`` of a site plan), the results of ``twilio_sip_domain_info``,
``threecx_info``, the voice handler request, ``sip_options_probe``, ``threecx_trunk_test_call`` and
``twilio_call_info`` as registered. The action plugin ``voip.threecx_twilio.go_live_judge`` calls
them; the role go_live_check only reads and wires.

A result is ``{"id", "title", "ok": True | False | None, "detail", "fix"}``: ``ok`` None means
not judged (skipped), and ``fix`` is set only on a failed item.
"""

from __future__ import annotations

import re

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _golive_route as route
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import SIP_SUFFIX, short_name

CATALOGUE = (
    (
        "sip_domain",
        "SIP Domain created with the expected FQDN",
        "Twilio receives no call: create the SIP Domain with the site's subdomain in the site's region (role twilio_sip_domain, "
        "or Console > Voice > SIP Domains) and give the trunk its FQDN.",
    ),
    (
        "handler",
        "Voice handler (webhook, TwiML App or Studio flow) set and answering",
        'Set the domain\'s voice handler ("A call comes in": TwiML App, Studio flow or webhook) and test it on its own: its URL '
        "must answer with TwiML (HTTP status below 400).",
    ),
    (
        "authentication",
        "IP ACL with the PBX's public IP, or credential list, mapped to the domain",
        "Twilio rejects with 403: put the PBX's public IP in an IP ACL attached to the domain (behind NAT, the IP the PBX sends "
        "from must be the one allow-listed), or attach the credential list whose credentials the trunk uses.",
    ),
    (
        "template",
        "Custom template binds From, RPID, PAI and PPI to $OriginatorCallerID",
        "Wrong caller ID at Twilio: bind all four parameters (From user part, Remote-Party-ID, P-Asserted-Identity, "
        "P-Preferred-Identity) to $OriginatorCallerID in the custom template, unchanged, and apply it to the trunk.",
    ),
    (
        "trunk",
        "Trunk uses the template, with the Twilio FQDN as registrar and outbound proxy",
        "Wrong caller ID or no call at Twilio: the trunk must use the custom template, and have the SIP Domain FQDN, exactly as "
        "in the Twilio Console, as Registrar/Server and Outbound Proxy (port 5060, UDP).",
    ),
    (
        "did_on_trunk",
        "DID on the trunk's DID numbers",
        "Calls to the DID do not reach the queue: add the customer-facing number to the trunk's DID numbers.",
    ),
    (
        "did_routed",
        "DID routed to the queue or ring group",
        "Calls to the DID do not reach the queue: assign the DID to the queue or ring group (Assigned DID numbers).",
    ),
    (
        "outbound_rule",
        "Outbound rule with route 1 = the Twilio trunk, and no-answer forward to the fallback number",
        "Twilio receives no call when the queue times out: add an outbound rule whose prefix matches the fallback number with "
        "Route 1 = the Twilio trunk (strip no digits, no prepend), and set the queue's or ring group's Destination if no answer "
        "to Forward to Outside Number with the fallback number.",
    ),
    (
        "e164",
        "E164 processing off",
        "Call drops right after forwarding: disable Process E164 numbers (Advanced > E164; PBX-wide), and check that no firewall "
        "blocks outbound UDP 5060 from the PBX.",
    ),
    (
        "agents",
        "Queue or ring group has members, not all on Do Not Disturb",
        "Agents not rung before the fallback: put the agents' extensions in the queue or ring group, and take them off Do Not "
        "Disturb (and log them in to the queue).",
    ),
)
# The two items that need SIP rather than an API. A failed test call carries the fix of the item
# its answer points at (403: authentication; the trunk's number at Twilio: template).
SIP_CATALOGUE = (
    (
        "sip_probe",
        "SIP OPTIONS probe of the SIP Domain answers",
        "Call drops or Twilio receives no call: the SIP Domain must answer SIP from where the PBX sends. Check that its FQDN "
        "resolves there and allow outbound UDP 5060 (and RTP) from the PBX to Twilio's signalling and media addresses for the "
        "region (firewall, NAT, SIP ALG).",
    ),
    (
        "test_call",
        "Test call through the Twilio trunk reaches Twilio with the test caller's number",
        "Twilio receives no call: place the trunk's test call again and read its log (Admin > Trunks); the SIP Domain must "
        "answer 200 and the call must be in Twilio's call log (Monitor > Logs > Calls). Check the trunk's registrar, the "
        "domain's voice handler and the region of the account you read.",
    ),
)
# The round trip (twilio_test_call): Twilio calls the DID and the forwarded call must reach the SIP
# Domain with the calling number. A failure carries the fix of the item its diagnosis points at.
SIP_CATALOGUE += (
    (
        "round_trip",
        "Round-trip call to the DID is forwarded to Twilio with the calling number",
        "Twilio receives no call: call the DID from outside with every agent on Do Not Disturb; the queue or ring group must "
        "forward it (destination if no answer: Forward to Outside Number) through an outbound rule whose route 1 is the Twilio "
        "trunk, and the call must be in Twilio's call log (Monitor > Logs > Calls).",
    ),
)
# twilio_test_call's diagnosis codes -> the item whose fix applies (others: the round trip's own).
ROUND_TRIP_FIXES = {"caller_mismatch": "template", "refused": "authentication", "number_rewritten": "e164"}
ITEM_IDS = tuple(c[0] for c in CATALOGUE)
TITLES = dict((c[0], c[1]) for c in CATALOGUE + SIP_CATALOGUE)
FIXES = dict((c[0], c[2]) for c in CATALOGUE + SIP_CATALOGUE)

PART_LABELS = {
    "from_user_part": "From user part",
    "rpid_user_part": "RPID",
    "pai_user_part": "PAI",
    "ppi_user_part": "PPI",
}
STUDIO_WEBHOOKS = "https://webhooks.twilio.com/"


def handler_asked(url):
    """Whether the go-live check sends the voice URL the request Twilio would send (item handler).

    Only an http(s) URL is asked, and not a Studio flow's webhook (Twilio's own, which answers only
    Twilio's signed requests). The role asks through this rule (test plugin voice_handler_askable),
    and _handler() says why a URL was not asked from the same two cases.
    """
    url = str(url or "")
    return url.startswith(("http://", "https://")) and not url.startswith(STUDIO_WEBHOOKS)


def site_facts(plan):
    """What the checklist needs of a site, from its plan (``voip_site_plan``)."""
    twilio = plan["twilio"]
    threecx = plan["threecx"]
    domain = twilio["tasks"]["sip_domain"]["args"]
    tasks = threecx["tasks"]
    return dict(
        sip_domain_name=twilio["domain_name"],
        region=twilio["region"],
        auth_mode=twilio["auth_mode"],
        pbx_public_ips=list(twilio["pbx_public_ips"]),
        credential_usernames=list(twilio["credential_usernames"]),
        acl_name=twilio["acl_name"],
        credential_list_name=twilio["credential_list_name"],
        voice_url=domain.get("voice_url") or "",
        twiml_app=domain.get("twiml_app") or "",
        studio_flow=domain.get("studio_flow") or "",
        sip_address=plan["sip_address"],
        template_name=tasks["template"]["args"]["name"],
        trunk_name=tasks["trunk"]["args"]["name"],
        did=str(tasks["inbound_rule"]["args"]["did"]),
        group_type=threecx["group_type"],
        group_number=str(tasks["group"]["args"]["number"]),
        fallback_number=str(tasks["outbound_rule"]["args"]["fallback_number"]),
        outbound_rule_name=tasks["outbound_rule"]["args"]["name"],
        departments=list(tasks["outbound_rule"]["args"].get("departments") or []),
    )


def item(item_id, ok, detail, fix=None):
    """One result; a failed item carries its fix (the catalogue's unless ``fix`` names another)."""
    return {
        "id": item_id,
        "title": TITLES[item_id],
        "ok": ok,
        "detail": " ".join(str(detail).split()),
        "fix": (fix or FIXES[item_id]) if ok is False else None,
    }


def _digits(number):
    return str(number or "").lstrip("+")


def _join(parts, sep="; "):
    return sep.join(p for p in parts if p)


def _read_error(result, key, what):
    """'' when the read gave ``key``, else why not (the read's message)."""
    result = result if isinstance(result, dict) else {}
    if key in result:
        return ""
    return "could not read the %s: %s" % (what, result.get("msg") or "no result")


def _pick(items, key, value):
    return next((x for x in items or [] if isinstance(x, dict) and x.get(key) == value), {})


TWILIO_ITEMS = ("sip_domain", "handler", "authentication")
PBX_ITEMS = ("template", "trunk", "did_on_trunk", "did_routed", "outbound_rule", "e164", "agents")

# A side that cannot be read is not misconfigured: one "reachable" item says why, with the fix for
# that cause, and the items that needed the side are not checked (ok None), not failed.
REACHABLE = {
    "reachable_twilio": ("Twilio's API answers with the site's credentials", "twilio_sip_domain_"),
    "reachable_pbx": ("The PBX's XAPI answers with the site's API client", "threecx_fallback_"),
}
TITLES.update((k, v[0]) for k, v in REACHABLE.items())


def reachability_fix(item_id, message):
    """The fix for a read that failed, from its message: TLS, no reply, refused credentials, or other."""
    prefix = REACHABLE[item_id][1]
    text = str(message or "")
    if "TLS check" in text or "CERTIFICATE_VERIFY_FAILED" in text:
        where = "threecx_fallback_ca_path" if item_id == "reachable_pbx" else "twilio_sip_domain_ca_bundle"
        return (
            "The TLS check failed: give the CA that signed the server's certificate with %s (a PEM file), and check that the "
            "URL's host name is the one in the certificate." % where
        )
    if "no reply" in text:
        where = "threecx_fallback_url" if item_id == "reachable_pbx" else "twilio_sip_domain_api_base_url (empty: Twilio's own)"
        return (
            "Nothing answered: check %s (https://, host name, port), that the name resolves, and that the controller (or AWX "
            "execution node) reaches it through firewalls and proxies." % where
        )
    if item_id == "reachable_pbx" and ("/connect/token" in text or "HTTP 401" in text or "HTTP 403" in text):
        return (
            "The PBX refused the API client: check threecx_fallback_client_id and threecx_fallback_client_secret (Admin Console > "
            "Integrations > API), that the client has system-wide rights and an Enterprise licence, and that no other process "
            "uses the same API client at once (3CX keeps one token per client)."
        )
    if item_id == "reachable_twilio" and "HTTP 401" in text:
        return (
            "Twilio refused the credentials: check %saccount_sid with %sauth_token, or an %sapi_key (and secret) of that account "
            "made in the site's region." % (prefix, prefix, prefix)
        )
    return "The read failed for another reason: fix what its message says, then run the checks again."


def _reachable(item_id, error, message):
    return {"id": item_id, "title": TITLES[item_id], "ok": False, "detail": " ".join(error.split()), "fix": reachability_fix(item_id, message)}


def _not_checked(item_id, reachable_id):
    side = "SIP Domain" if reachable_id == "reachable_twilio" else "PBX"
    return item(item_id, None, "not checked: the %s could not be read (item %s)" % (side, reachable_id))


def judge(site, twilio, pbx, handler=None, skip_handler_check=False, dnd_profiles=()):
    """The ten items of the checklist, in the guide's order, after a reachable item per side that could not be read."""
    tw_error = _read_error(twilio, "domains", "SIP Domain")
    pbx_error = _read_error(pbx, "system", "PBX")
    twilio = twilio or {}
    pbx = pbx or {}
    domain = (twilio.get("domains") or [{}])[0] if not tw_error else {}
    short = short_name(str(site["sip_domain_name"]).lower())
    fqdn = short + SIP_SUFFIX
    trunks = pbx.get("trunks") or []
    trunk = _pick(trunks, "name", site["trunk_name"])
    group_word = "queue" if site["group_type"] == "queue" else "ring group"
    group_label = "%s %s" % (group_word, site["group_number"])
    group = _pick(pbx.get(site["group_type"] + "s"), "number", site["group_number"])
    results = [
        _sip_domain(site, domain, tw_error, fqdn),
        _handler(site, domain, tw_error, handler, skip_handler_check),
        _authentication(site, domain, tw_error),
        _template(site, pbx, pbx_error),
        _trunk(site, trunk, pbx_error),
        _did_on_trunk(site, trunk, pbx_error),
        _did_routed(site, pbx, pbx_error, group_label),
        _outbound_rule(site, pbx, pbx_error, trunk, group, group_label),
        _e164(site, pbx, pbx_error, trunks),
        _agents(site, pbx, pbx_error, group, group_label, dnd_profiles),
    ]
    first = []
    for reachable_id, error, result, items in (
        ("reachable_twilio", tw_error, twilio, TWILIO_ITEMS),
        ("reachable_pbx", pbx_error, pbx, PBX_ITEMS),
    ):
        if error:
            first.append(_reachable(reachable_id, error, result.get("msg")))
            results = [_not_checked(r["id"], reachable_id) if r["id"] in items else r for r in results]
    return first + results


def _sip_domain(site, domain, error, fqdn):
    ok = not error and str(domain.get("domain_name") or "").lower() == fqdn
    if error:
        detail = error
    elif domain:
        detail = "%s exists (%s); regional address %s" % (
            domain.get("domain_name"),
            domain.get("sid"),
            domain.get("sip_uri"),
        )
    else:
        detail = "no SIP Domain %s in the %s account" % (fqdn, site["region"])
    return item("sip_domain", ok, detail)


def _handler(site, domain, error, reply, skip):
    url = domain.get("voice_url") or ""
    method = domain.get("voice_method") or "POST"
    config = [
        ("the domain has no voice handler (no webhook, TwiML App or Studio flow)" if not url else ""),
        ("the voice URL is %s, not the site's %s" % (url, site["voice_url"]) if url and site["voice_url"] and url != site["voice_url"] else ""),
        (
            "the voice URL %s is not Studio flow %s" % (url, site["studio_flow"])
            if url and site["studio_flow"] and not url.endswith("/Flows/" + site["studio_flow"])
            else ""
        ),
    ]
    config = [c for c in config if c]
    asked = isinstance(reply, dict) and "status" in reply
    status = int(reply.get("status", -1)) if asked else -1
    answered = not asked or 100 <= status < 400
    ok = not error and bool(domain) and not config and answered
    if error:
        detail = error
    elif not domain:
        detail = "no SIP Domain, so no voice handler"
    elif config:
        detail = "; ".join(config)
    elif asked:
        detail = "voice URL %s (%s) %s" % (
            url,
            method,
            ("answered HTTP %s" % status if status >= 0 else "got no answer: %s" % str(reply.get("msg") or "")[:200]),
        )
    elif skip:
        detail = "voice URL %s (%s) not asked: go_live_check_skip_handler_check is set" % (url, method)
    elif url.startswith(STUDIO_WEBHOOKS):  # the two cases handler_asked() does not ask
        detail = "voice URL %s (%s) not asked: a Studio flow webhook (Twilio's own)" % (
            url,
            method,
        )
    else:
        detail = "voice URL %s (%s) not asked: not an http(s) URL" % (url, method)
    return item("handler", ok, detail)


def _expected_ips(ips):
    return [ip if "/" in ip else ip + "/32" for ip in (str(i) for i in ips)]


def _authentication(site, domain, error):
    need_acl = site["auth_mode"] in ("ip_acl", "both")
    need_cl = site["auth_mode"] in ("credentials", "both")
    acls = domain.get("ip_access_control_lists") or []
    lists = domain.get("credential_lists") or []
    expected = _expected_ips(site["pbx_public_ips"])
    present = ["%s/%s" % (e.get("ip"), e.get("cidr_prefix_length")) for acl in acls for e in acl.get("ip_addresses") or []]
    missing_ips = [ip for ip in expected if ip not in present]
    usernames = [u for cl in lists for u in cl.get("usernames") or []]
    missing_users = [u for u in site["credential_usernames"] if u not in usernames]
    acl_ok = bool(acls) and not missing_ips
    cl_ok = bool(lists) and not missing_users
    acl_names = ", ".join(a.get("friendly_name") or "" for a in acls)
    cl_names = ", ".join(c.get("friendly_name") or "" for c in lists)
    acl_text = ""
    if need_acl:
        if not acls:
            acl_text = "no IP ACL is mapped to the domain (expected %s with %s)" % (
                site["acl_name"],
                ", ".join(expected),
            )
        elif missing_ips:
            acl_text = "the PBX's public IP %s is in no IP ACL mapped to the domain (%s hold: %s)" % (
                ", ".join(missing_ips),
                acl_names,
                ", ".join(present) or "no address",
            )
        else:
            acl_text = "IP ACL %s holds the PBX's public IP %s" % (
                acl_names,
                ", ".join(expected),
            )
    cl_text = ""
    if need_cl:
        if not lists:
            cl_text = "no credential list is mapped to the domain (expected %s)" % site["credential_list_name"]
        elif missing_users:
            cl_text = "the mapped credential lists (%s) lack the username %s" % (
                cl_names,
                ", ".join(missing_users),
            )
        else:
            cl_text = "credential list %s is mapped (%s)" % (
                cl_names,
                ", ".join(usernames) or "no username",
            )
    ok = not error and bool(domain) and (not need_acl or acl_ok) and (not need_cl or cl_ok)
    detail = error or ("no SIP Domain" if not domain else _join([acl_text, cl_text]))
    return item("authentication", ok, detail)


def _template(site, pbx, error):
    cid = pbx.get("caller_id") or {}
    name = site["template_name"]
    tpl = _pick(cid.get("templates"), "id", name)
    tcid = _pick(cid.get("trunks"), "name", site["trunk_name"])
    variable = cid.get("variable")
    problems = []
    if not tpl.get("found"):
        problems.append("the PBX has no template %s" % name)
    elif tpl.get("problem"):
        problems.append("template %s: %s" % (name, tpl["problem"]))
    if tpl.get("is_custom") is False:
        problems.append("%s is a built-in template, not a custom copy" % name)
    if tpl.get("found") and not tpl.get("problem") and tpl.get("missing"):
        bindings = tpl.get("bindings") or {}
        problems.append(
            "template %s does not bind %s to %s (bound: %s)"
            % (
                name,
                ", ".join(PART_LABELS.get(p, p) for p in tpl["missing"]),
                variable,
                ", ".join(str(bindings.get(p) or "nothing") for p in tpl["missing"]),
            )
        )
    if tcid.get("missing"):
        problems.append(
            "trunk %s does not send %s as %s"
            % (
                site["trunk_name"],
                ", ".join(PART_LABELS.get(p, p) for p in tcid["missing"]),
                variable,
            )
        )
    ok = not error and not problems
    if error:
        detail = error
    elif problems:
        detail = "; ".join(problems)
    else:
        detail = "template %s binds From user part, RPID, PAI and PPI to %s%s" % (
            name,
            variable,
            ", and trunk %s sends them" % site["trunk_name"] if tcid else "",
        )
    return item("template", ok, detail)


def _trunk(site, trunk, error):
    address = str(site["sip_address"] or "")
    if not trunk:
        problems = ["no trunk named %s" % site["trunk_name"]]
    else:
        problems = [
            (
                "it uses template %s, not %s" % (trunk.get("template") or "none", site["template_name"])
                if (trunk.get("template") or "") != site["template_name"]
                else ""
            ),
            (
                "its registrar is %s, not %s" % (trunk.get("registrar") or "none", address)
                if str(trunk.get("registrar") or "").lower() != address.lower()
                else ""
            ),
            (
                "its outbound proxy is %s, not %s" % (trunk.get("outbound_proxy") or "none", address)
                if str(trunk.get("outbound_proxy") or "").lower() != address.lower()
                else ""
            ),
        ]
        problems = [p for p in problems if p]
    ok = not error and not problems
    if error:
        detail = error
    elif problems:
        detail = ("trunk %s: " % site["trunk_name"] if trunk else "") + "; ".join(problems)
    else:
        detail = "trunk %s (%s) uses %s, registrar and outbound proxy %s" % (
            site["trunk_name"],
            trunk.get("number"),
            site["template_name"],
            address,
        )
    return item("trunk", ok, detail)


def _did_on_trunk(site, trunk, error):
    dids = [_digits(n) for n in trunk.get("did_numbers") or []]
    ok = not error and bool(trunk) and _digits(site["did"]) in dids
    if error:
        detail = error
    elif not trunk:
        detail = "no trunk named %s" % site["trunk_name"]
    elif ok:
        detail = "DID %s is on trunk %s" % (site["did"], site["trunk_name"])
    else:
        detail = "DID %s is not on trunk %s (its DID numbers: %s)" % (
            site["did"],
            site["trunk_name"],
            ", ".join(str(n) for n in trunk.get("did_numbers") or []) or "none",
        )
    return item("did_on_trunk", ok, detail)


def _did_trunks(site, pbx):
    """The trunks whose DID numbers hold the site's DID: the calls to it arrive on them."""
    digits = _digits(site["did"])
    return [t for t in pbx.get("trunks") or [] if digits in [_digits(n) for n in t.get("did_numbers") or []]]


def _inbound_rule(site, pbx):
    """The DID rule 3CX applies to a call to the DID: ``(rule or {}, the trunks it arrives on, rules of the DID on other trunks)``.

    3CX matches a DID rule on the DID and on the trunk the call comes in on (the rule's TrunkDN);
    a rule whose trunk is not read (no TrunkDN in the reply) is taken at its word.
    """
    digits = _digits(site["did"])
    rules = [r for r in pbx.get("inbound_rules") or [] if r.get("condition") == "BasedOnDID" and _digits(r.get("data")) == digits and r.get("data")]
    arriving = _did_trunks(site, pbx)
    ids = set(t.get("id") for t in arriving)

    def on_trunk(rule):
        trunk_id = (rule.get("trunk_dn") or {}).get("id")
        return trunk_id is None or not arriving or trunk_id in ids

    taken = [r for r in rules if on_trunk(r)]
    return (taken[0] if taken else {}), arriving, [r for r in rules if not on_trunk(r)]


def _did_routed(site, pbx, error, group_label):
    rule, arriving, elsewhere = _inbound_rule(site, pbx)
    to = rule.get("office_hours_destination") or {}
    wanted = "Queue" if site["group_type"] == "queue" else "RingGroup"
    ok = not error and bool(rule) and to.get("to") == wanted and str(to.get("number") or "") == site["group_number"]
    if error:
        detail = error
    elif not rule and elsewhere:
        detail = "no inbound rule routes DID %s on trunk %s, where calls to it arrive (its rule is on trunk %s)" % (
            site["did"],
            ", ".join(str(t.get("name")) for t in arriving),
            ", ".join(str((r.get("trunk_dn") or {}).get("name") or (r.get("trunk_dn") or {}).get("id")) for r in elsewhere),
        )
    elif not rule:
        detail = "no inbound rule routes DID %s" % site["did"]
    elif ok:
        detail = "DID %s routes to %s" % (site["did"], group_label)
    else:
        detail = "DID %s routes to %s %s, not %s" % (
            site["did"],
            to.get("to") or "nothing",
            to.get("number") or to.get("external") or "",
            group_label,
        )
    return item("did_routed", ok, detail)


# The fix of an outbound_rule failure whose cause the trace found (the catalogue's otherwise).
_RULE_FIXES = {
    "above": (
        "Twilio receives no call when the queue times out: outbound rule %(taken)s comes before the Twilio rule and takes the "
        "fallback number first (an empty prefix catches every number). Move the Twilio rule above it "
        "(threecx_fallback_outbound_rule_position: first, or Outbound Rules > Move Up), or give %(taken)s a prefix that does not "
        "start the fallback number."
    ),
    "department": (
        "Twilio receives no call when the queue times out: outbound rule %(twilio)s is limited to departments, and the "
        "department 3CX gives a queue's or ring group's forwarded call is UNCONFIRMED (the group's own, or none). Clear the "
        "rule's departments (Outbound Rules > %(twilio)s > Calls from departments), so that every reading routes to Twilio; at "
        "the least the queue or ring group must be in one of them."
    ),
    "length": (
        "Twilio receives no call when the queue times out: outbound rule %(twilio)s is limited to number lengths the fallback "
        "number does not have. Clear its Calls to numbers with a length of, or add the fallback number's length counted both "
        "with and without the + (3CX does not document which it counts)."
    ),
    "unknown": (
        "Twilio receives no call when the queue times out, or not for certain: outbound rule %(taken)s has a condition the "
        "check cannot read. Correct it (number lengths look like 10,11-13), then run the checks again."
    ),
    "extension": (
        "Twilio receives no call when the queue times out: outbound rule %(twilio)s is limited to calls from extensions, and "
        "the extension number a forwarded call carries is UNCONFIRMED. Clear its Calls from extension(s)."
    ),
}


def _rule_label(rule):
    prefix = "empty prefix: a catch-all" if route.is_catch_all(rule) else "prefix %s" % rule.get("prefix")
    return "%s (%s, priority %s)" % (rule.get("name") or "id %s" % rule.get("id"), prefix, rule.get("priority"))


def _is_twilio_rule(site, trunk, rule):
    if rule.get("name") == site.get("outbound_rule_name"):
        return True
    return bool(trunk) and route.route1(rule).get("trunk_id", -1) == trunk.get("id")


def _traced(site, trunk, rules, dest, traced):
    """What one reading's trace says, and its cause (a key of _RULE_FIXES, or None for the catalogue's fix)."""
    rule, passed, wrong = traced["rule"], traced["passed"], traced["wrong"]
    twilio_passed = [(r, kind, text) for r, kind, text in passed if _is_twilio_rule(site, trunk, r)]
    seen = [p[0] for p in passed] + [rule]
    below = [r for r in route.ordered(rules) if _is_twilio_rule(site, trunk, r) and r not in seen]
    why_not = "; ".join("outbound rule %s does not match: %s" % (_rule_label(r), text) for r, kind, text in twilio_passed)
    if not rule:
        cause = twilio_passed[0][1] if twilio_passed and twilio_passed[0][1] != "prefix" else None
        return _join(["no outbound rule matches %s" % dest, why_not]), cause
    if rule.get("_unknown"):
        return "outbound rule %s: %s for %s" % (_rule_label(rule), rule["_unknown"], dest), "unknown"
    text = "outbound rule %s, the first that matches %s, %s; it must send it unchanged through trunk %s" % (_rule_label(rule), dest, wrong, site["trunk_name"])
    if twilio_passed and twilio_passed[0][1] != "prefix":
        return _join([text, why_not]), twilio_passed[0][1]
    if below and not _is_twilio_rule(site, trunk, rule):
        return _join([text, "it comes before outbound rule %s" % _rule_label(below[0])]), "above"
    return text, None


def _outbound_rule(site, pbx, error, trunk, group, group_label):
    nad = group.get("no_answer_destination") or {}
    forward_ok = nad.get("type") == "external" and (nad.get("external") or "") == site["fallback_number"]
    dest = nad["external"] if nad.get("type") == "external" and nad.get("external") else site["fallback_number"]
    rules = pbx.get("outbound_rules") or []
    traces = route.trace(rules, dest, group, trunk)
    wrong = [rid for rid, _leg, _count, _text in route.READINGS if traces[rid]["wrong"]]
    problems = []
    cause = None
    if not group:
        problems.append("no " + group_label)
    elif not forward_ok:
        problems.append(
            "its Destination if no answer is %s %s, not Forward to Outside Number %s"
            % (nad.get("type") or "none", nad.get("number") or nad.get("external") or "", site["fallback_number"])
        )
    lab = traces[route.LAB_READING]
    # The reading a failure is told by: the lab's when it fails, else the first that does.
    failing = traces[route.LAB_READING if route.LAB_READING in wrong else wrong[0]] if wrong else {}
    if wrong and route.LAB_READING in wrong:
        text, cause = _traced(site, trunk, rules, dest, failing)
        problems.append(text)
    elif wrong:
        # The lab's reading routes to Twilio, another plausible one does not: 3CX does not say which it is.
        text, cause = _traced(site, trunk, rules, dest, failing)
        problems.append(
            "outbound rule %s routes %s to trunk %s if %s (the lab's reading), but 3CX's behaviour is UNCONFIRMED: if %s, %s; "
            "the item passes only when every plausible reading routes to Twilio"
            % (_rule_label(lab["rule"]), dest, site["trunk_name"], route.reading_text(route.LAB_READING), route.reading_text(wrong[0]), text)
        )
    ok = not error and not problems
    if error:
        detail = error
    elif problems:
        detail = ("%s: " % group_label if group and not forward_ok else "") + "; ".join(problems)
    else:
        detail = "%s forwards unanswered calls to %s, and outbound rule %s, the first that matches it under every reading, sends it through %s (route 1)" % (
            group_label,
            dest,
            _rule_label(lab["rule"]),
            site["trunk_name"],
        )
    fix = None
    if cause in _RULE_FIXES and forward_ok:
        names = dict(taken=(failing.get("rule") or {}).get("name") or "", twilio=site.get("outbound_rule_name") or "")
        fix = _RULE_FIXES[cause] % names
    return item("outbound_rule", ok, detail, fix)


def _e164(site, pbx, error, trunks):
    e164 = pbx.get("e164") or {}
    enabled = bool(e164.get("enabled"))
    others = [t.get("name") for t in trunks if t.get("name") != site["trunk_name"]]
    ok = not error and bool(e164) and not enabled
    if error:
        detail = error
    else:
        detail = "Process E164 numbers is %s" % ("on" if enabled else "off")
        if others:
            detail += "; it is PBX-wide: it also applies to the other trunks (%s)" % ", ".join(str(o) for o in others)
    return item("e164", ok, detail)


def _agents(site, pbx, error, group, group_label, dnd_profiles):
    members = [str(m) for m in group.get("members") or []]
    users = [u for u in pbx.get("users") or [] if str(u.get("number")) in members]
    dnd = [u for u in users if u.get("dnd")]
    logged_out = [u for u in users if u.get("queue_status") == "LoggedOut"] if site["group_type"] == "queue" else []
    away = []
    for u in dnd + logged_out:
        if str(u.get("number")) not in away:
            away.append(str(u.get("number")))
    available = [m for m in members if m not in away]
    ok = not error and bool(available)
    if error:
        detail = error
    elif not group:
        detail = "no " + group_label
    elif not members:
        detail = group_label + " has no members"
    else:
        detail = _join(
            [
                "%s has %d members (%s)" % (group_label, len(members), ", ".join(members)),
                (
                    "on Do Not Disturb (%s): %s"
                    % (
                        " or ".join(dnd_profiles),
                        ", ".join("%s (%s)" % (u.get("number"), u.get("display_name")) for u in dnd),
                    )
                    if dnd
                    else ""
                ),
                ("logged out of the queue: %s" % ", ".join(str(u.get("number")) for u in logged_out) if logged_out else ""),
                ("none of them can be rung" if not available else "%d can be rung" % len(available)),
            ]
        )
    return item("agents", ok, detail)


# ---------------------------------------------------------------------------- SIP items


def judge_probe(reply, host, transport, where_from, timeout, retries):
    """Item sip_probe from a registered sip_options_probe result."""
    reply = reply or {}
    where = "%s over %s from %s" % (
        reply.get("target") or host,
        str(transport).upper(),
        where_from,
    )
    ok = bool(reply.get("final"))
    if ok:
        detail = "%s answered %s %s in %s ms" % (
            where,
            reply.get("status_code"),
            reply.get("reason"),
            reply.get("rtt_ms"),
        )
    elif "reachable" not in reply:
        detail = "the probe could not run: %s" % reply.get("msg")
    else:
        detail = "no final SIP answer from %s after %s tries in %s s: %s" % (
            where,
            reply.get("attempts"),
            float(timeout) * (int(retries) + 1),
            reply.get("error") or "only provisional answers",
        )
    return item("sip_probe", ok, detail)


def _matches_number(user, number):
    return re.match(r"^[+]?%s$" % re.escape(_digits(number)), str(user or "")) is not None


def logged_call_to(call_log, destination):
    """The first call of a twilio_call_info result to ``destination`` (its To user part, with or without
    the +), or None. The role re-reads the log until this finds the test call (test plugin has_call_to)."""
    calls = call_log.get("calls") if isinstance(call_log, dict) else None
    return next((c for c in calls or [] if isinstance(c, dict) and _matches_number(c.get("to_user"), destination)), None)


TEST_CALLER_FIX = (
    "Set go_live_check_test_caller to the caller number Twilio must see in From, a number you own: digits with an optional "
    "leading +, such as +17735550142. Or turn go_live_check_test_call off."
)
TEST_CALL_DESTINATION_FIX = (
    "Set go_live_check_test_call_destination to the number the test call dials (by default the site's fallback number): digits, "
    "* and # with an optional leading +. Or turn go_live_check_test_call off."
)


def judge_test_call(site, trunk_found, placed, call_log, caller, destination, since):
    """Item test_call from the registered threecx_trunk_test_call and twilio_call_info results.

    One outcome per case, in this order: no test caller (the role places no call without one: the
    call proves that Twilio sees it), not placed, not answered (the SIP answer says which item
    to fix), answered but not in Twilio's log, in the log with another From, in the log with the
    test caller's number (ok).
    """
    placed = placed or {}
    if not str(caller or ""):
        return item(
            "test_call",
            False,
            "not placed: go_live_check_test_caller is not set, and the test call proves that Twilio sees the caller's number in From",
            TEST_CALLER_FIX,
        )
    route = "from %s to %s through trunk %s" % (caller, destination, site["trunk_name"])
    if not trunk_found:
        return item(
            "test_call",
            None,
            "not placed: the PBX has no trunk %s (item trunk)" % site["trunk_name"],
        )
    if "placed" not in placed:
        msg = placed.get("msg") or "no result"
        # The role feeds the module's caller and destination from these two variables: its refusal
        # (the module's own check, before any request) is fixed there.
        fix = {"caller": TEST_CALLER_FIX, "destination": TEST_CALL_DESTINATION_FIX}.get(msg.split(" ", 1)[0])
        return item("test_call", False, "the PBX did not place the test call: %s" % msg, fix)
    if not placed["placed"]:
        return item(
            "test_call",
            None,
            "not placed under --check: the SIP Domain handler would answer it",
        )
    if not placed.get("answered"):
        status = placed.get("sip_status")
        errors = "; ".join(str(e.get("message")) for e in placed.get("errors") or [] if isinstance(e, dict))
        detail = "the test call %s was not answered: %s%s" % (
            route,
            ("the SIP Domain answered %s %s" % (status, placed.get("sip_reason") or "") if status else "no SIP answer"),
            " (%s)" % errors if errors else "",
        )
        if str(status) in ("401", "403", "407"):
            fix = FIXES["authentication"]
        else:
            fix = FIXES["test_call"] if status else FIXES["sip_probe"]
        return item("test_call", False, detail, fix)
    call_log = call_log or {}
    if "calls" not in call_log:
        return item(
            "test_call",
            False,
            "the SIP Domain answered the test call, but Twilio's call log could not be read: %s" % (call_log.get("msg") or "no result"),
        )
    call = logged_call_to(call_log, destination)
    if not call:
        return item(
            "test_call",
            False,
            "the SIP Domain answered the test call %s, but Twilio's call log has no call to %s since %s" % (route, destination, since),
        )
    if _digits(call.get("from_user")) != _digits(caller):
        return item(
            "test_call",
            False,
            "Twilio saw the test call (%s) from %s, not from the test caller %s: the trunk sends its own number, so the handler would "
            "not see the customer" % (call.get("sid"), call.get("from_user") or "nobody", caller),
            FIXES["template"],
        )
    return item(
        "test_call",
        True,
        "Twilio received the test call through trunk %s to %s (%s, %s) with From %s, the test caller"
        % (
            site["trunk_name"],
            destination,
            call.get("sid"),
            call.get("status"),
            call.get("from_user"),
        ),
    )


ROUND_TRIP_FROM_FIX = (
    "Set go_live_check_test_from (the call's from_number) to a Twilio number or verified caller ID of the site's Twilio account, "
    "in full international format such as +17735550142, or turn go_live_check_round_trip off."
)


ROUND_TRIP_DND_FIX = (
    "Put the group's agents on Do Not Disturb by hand for the call (on their phones or in the 3CX client) and turn "
    "go_live_check_round_trip_dnd off; or find why the PBX refused the presence write in the message."
)
ROUND_TRIP_RESTORE_FIX = (
    "Put the agents' presence back by hand (Admin Console > Users, or the 3CX client), or run the check again with "
    "go_live_check_round_trip_dnd: its first task puts back what the journal recorded, then deletes the journal."
)


def _dnd_words(dnd):
    """What the round trip did to presence, for its detail: '' when the DND option was off."""
    if not dnd:
        return ""
    rows = dnd.get("presence") or []
    if not rows:
        return "; the group has no agents to put on Do Not Disturb"
    if not dnd.get("changed"):
        return "; every agent was on '%s' already" % rows[0].get("after")
    return "; the agents %s were put on '%s' for the call (read back)" % (
        ", ".join(str(r.get("number")) for r in rows if r.get("before") != r.get("after")),
        rows[0].get("after"),
    )


def _refused(result):
    """A registered threecx_agent_presence result that is a failure: the role registers it with
    failed_when false, which keeps the message and drops "failed"; a success always has presence."""
    return bool(result.get("failed")) or "presence" not in result


def _restore_words(restore):
    if not restore:
        return "", None
    if _refused(restore):
        return (
            "; their presence was NOT put back: %s (the journal %s keeps the previous presence)"
            % (restore.get("msg"), (restore.get("journal") or {}).get("path", "")),
            ROUND_TRIP_RESTORE_FIX,
        )
    return "; their presence was put back", None


def judge_round_trip(site, result, from_number, dnd=None, restore=None):
    """Item round_trip from the registered twilio_test_call result (the module judged the call; this
    names the item and the fix its first diagnosis points at). ``dnd`` and ``restore`` are the
    registered threecx_agent_presence results around the call (go_live_check_round_trip_dnd), or None."""
    result = result if isinstance(result, dict) else {}
    route = "from %s to the DID %s" % (from_number, site["did"])
    restored, restore_fix = _restore_words(restore)
    if dnd and _refused(dnd):
        return item(
            "round_trip",
            False,
            "the round-trip call %s was not placed: the agents could not be put on Do Not Disturb: %s%s" % (route, dnd.get("msg"), restored),
            restore_fix or ROUND_TRIP_DND_FIX,
        )
    if "placed" not in result:
        msg = result.get("msg") or "no result"
        # The role feeds the module's from_number from go_live_check_test_from: its refusal (the
        # module's own check, before any request) is fixed there.
        fix = ROUND_TRIP_FROM_FIX if msg.startswith("from_number") else None
        return item("round_trip", False, "the round-trip call %s did not run: %s%s" % (route, msg, restored), restore_fix or fix)
    if not result["placed"]:
        return item("round_trip", None, "not placed under --check: it would ring the PBX and the SIP Domain's handler")
    done = _dnd_words(dnd) + restored
    if result.get("passed"):
        return item(
            "round_trip",
            restore_fix is None,
            "Twilio called %s; the PBX forwarded it to %s and Twilio logged it (%s) with From %s, the calling number%s"
            % (route, site["fallback_number"], (result.get("forwarded") or {}).get("sid"), result.get("from"), done),
            restore_fix,
        )
    diagnosis = [d for d in result.get("diagnosis") or [] if isinstance(d, dict)]
    codes = [d.get("code") for d in diagnosis]
    fix = next((FIXES[ROUND_TRIP_FIXES[c]] for c in codes if c in ROUND_TRIP_FIXES), None)
    detail = "; ".join(str(d.get("message")) for d in diagnosis) or result.get("msg") or "not passed"
    if "no_forwarded_call" in codes and dnd and dnd.get("changed"):
        # Whether the profile is what keeps an agent from being rung is UNCONFIRMED (threecx_agent_presence).
        profile = (dnd.get("presence") or [{}])[0].get("after")
        detail += (
            " The agents were on the presence profile '%s' (read back) for the call; whether that profile keeps an agent from being "
            "rung is UNCONFIRMED: if a phone rang, this PBX's Do Not Disturb is not the presence profile" % profile
        )
        fix = ROUND_TRIP_DND_FIX
    return item("round_trip", False, "the round-trip call %s: %s%s" % (route, detail, done), restore_fix or fix)


def summary(results):
    """What the fleet report records of a site's checklist (set_stats data go_live)."""
    return {
        "items": results,
        "ok": sum(1 for r in results if r["ok"] is True),
        "failed": [r["id"] for r in results if r["ok"] is False],
        "skipped": [r["id"] for r in results if r["ok"] is None],
    }


def failure_message(results):
    failed = [r for r in results if r["ok"] is False]
    return "Go-live checks failed (%d of %d): %s" % (
        len(failed),
        len(results),
        " | ".join("%s: %s Fix: %s" % (r["id"], r["detail"], r["fix"]) for r in failed),
    )
