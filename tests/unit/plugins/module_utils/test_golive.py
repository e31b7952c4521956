"""The go-live checklist's judgement (_golive), on plain dicts shaped like the info modules' results."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _golive, _site
from tests.support import site_cases

SITE = _golive.site_facts(_site.plan(site_cases.site({})))
TRUNK = "Twilio SIP Domain Trunk"

TWILIO = {
    "domains": [
        {
            "sid": "SD" + site_cases.HEX,
            "domain_name": "acme.sip.twilio.com",
            "sip_uri": "acme.sip.us1.twilio.com",
            "voice_url": "https://voice.example.com/acme",
            "voice_method": "POST",
            "ip_access_control_lists": [{"friendly_name": "acme PBX", "ip_addresses": [{"ip": "203.0.113.10", "cidr_prefix_length": 32}]}],
            "credential_lists": [],
        }
    ]
}
PBX = {
    "system": {"version": "20.0.10"},
    "trunks": [
        {
            "id": 7,
            "number": "10000",
            "name": TRUNK,
            "template": "twilio-cid.pv.xml",
            "registrar": "acme.sip.us1.twilio.com",
            "outbound_proxy": "acme.sip.us1.twilio.com",
            "did_numbers": ["+12125550100"],
        },
        {"id": 8, "number": "10001", "name": "PSTN"},
    ],
    "queues": [
        {
            "number": "800",
            "members": ["100", "101"],
            "no_answer_destination": {"type": "external", "external": "+12125550199"},
        }
    ],
    "users": [
        {"number": "100", "display_name": "Ada Lovelace", "dnd": False, "queue_status": "LoggedIn"},
        {"number": "101", "display_name": "Alan Turing", "dnd": False, "queue_status": "LoggedIn"},
    ],
    "inbound_rules": [{"condition": "BasedOnDID", "data": "12125550100", "office_hours_destination": {"to": "Queue", "number": "800"}}],
    "outbound_rules": [
        {"name": "Twilio fallback", "priority": 0, "prefix": "+12125550199", "routes": [{"trunk_id": 7, "strip_digits": 0, "prepend": ""}]},
        {"name": "PSTN", "priority": 1, "prefix": "+", "routes": [{"trunk_id": 8, "trunk_name": "PSTN"}]},
    ],
    "e164": {"enabled": False},
    "caller_id": {
        "variable": "$OriginatorCallerId",
        "templates": [{"id": "twilio-cid.pv.xml", "found": True, "is_custom": True, "problem": None, "missing": [], "bindings": {}}],
        "trunks": [{"name": TRUNK, "missing": []}],
    },
}


def judged(twilio=None, pbx=None, site=None, **kwargs):
    results = _golive.judge(site or SITE, TWILIO if twilio is None else twilio, PBX if pbx is None else pbx, **kwargs)
    return dict((r["id"], r) for r in results)


def broken(path, value, source=None):
    data = copy.deepcopy(PBX if source is None else source)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_a_converged_site_passes_every_item_in_the_guides_order():
    results = _golive.judge(SITE, TWILIO, PBX)
    assert [r["id"] for r in results] == list(_golive.ITEM_IDS)
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    assert all(r["fix"] is None for r in results)
    assert "e164" in results[8]["id"] and "other trunks (PSTN)" in results[8]["detail"]


@pytest.mark.parametrize(
    "item,twilio,pbx,words",
    [
        ("sip_domain", {"domains": []}, None, ["no SIP Domain acme.sip.twilio.com in the us1 account"]),
        ("authentication", broken(["domains", 0, "ip_access_control_lists"], [], TWILIO), None, ["no IP ACL is mapped"]),
        (
            "authentication",
            broken(["domains", 0, "ip_access_control_lists", 0, "ip_addresses"], [{"ip": "198.51.100.1", "cidr_prefix_length": 32}], TWILIO),
            None,
            ["203.0.113.10/32 is in no IP ACL", "198.51.100.1/32"],
        ),
        ("handler", broken(["domains", 0, "voice_url"], "https://other.example.com/x", TWILIO), None, ["not the site's"]),
        ("template", None, broken(["caller_id", "templates", 0, "missing"], ["pai_user_part", "from_user_part"]), ["does not bind PAI, From user part"]),
        ("template", None, broken(["caller_id", "trunks", 0, "missing"], ["ppi_user_part"]), ["does not send PPI"]),
        ("trunk", None, broken(["trunks", 0, "registrar"], "other.sip.us1.twilio.com"), ["its registrar is other.sip.us1.twilio.com"]),
        ("trunk", None, broken(["trunks"], []), ["no trunk named " + TRUNK]),
        ("did_on_trunk", None, broken(["trunks", 0, "did_numbers"], ["+12125550111"]), ["is not on trunk", "+12125550111"]),
        ("did_routed", None, broken(["inbound_rules"], []), ["no inbound rule routes DID +12125550100"]),
        ("did_routed", None, broken(["inbound_rules", 0, "office_hours_destination"], {"to": "Extension", "number": "100"}), ["routes to Extension 100"]),
        ("outbound_rule", None, broken(["outbound_rules"], PBX["outbound_rules"][1:]), ["sends route 1 to PSTN", "the first that matches"]),
        (
            "outbound_rule",
            None,
            broken(["queues", 0, "no_answer_destination"], {"type": "voicemail", "number": "100"}),
            ["Destination if no answer is voicemail 100"],
        ),
        ("outbound_rule", None, broken(["outbound_rules", 0, "routes", 0, "prepend"], "9"), ['prepends "9"']),
        ("e164", None, broken(["e164"], {"enabled": True}), ["Process E164 numbers is on"]),
        ("agents", None, broken(["users"], [dict(u, dnd=True) for u in PBX["users"]]), ["none of them can be rung", "100 (Ada Lovelace)"]),
        ("agents", None, broken(["queues", 0, "members"], []), ["has no members"]),
    ],
)
def test_each_broken_part_fails_its_item_with_the_guides_fix(item, twilio, pbx, words):
    results = judged(twilio, pbx)
    assert results[item]["ok"] is False, results[item]
    for word in words:
        assert word in results[item]["detail"], results[item]["detail"]
    assert results[item]["fix"] == _golive.FIXES[item]
    others = set(r["id"] for r in results.values() if r["ok"] is False) - {item}
    assert others <= FOLLOWS.get(item, set()), others


# What fails with an item because it needs the same object (no domain: no handler to ask either).
FOLLOWS = {"sip_domain": {"handler", "authentication"}, "trunk": {"did_on_trunk", "outbound_rule"}}


def rules_with(*above, **twilio_rule):
    """PBX's rules with ``above`` placed before them, and the Twilio rule changed by ``twilio_rule``."""
    twilio = dict(PBX["outbound_rules"][0], **twilio_rule)
    rules = list(above) + [twilio, PBX["outbound_rules"][1]]
    return [dict(r, priority=i + 1) for i, r in enumerate(rules)]


def outbound(rules=None, **queue):
    pbx = broken(["outbound_rules"], rules if rules is not None else PBX["outbound_rules"])
    pbx["queues"][0].update(queue)
    return judged(pbx=pbx)["outbound_rule"]


PSTN_ALL = {"name": "All", "prefix": "", "routes": [{"trunk_id": 8, "trunk_name": "PSTN"}]}


def test_a_rule_with_a_prefix_above_the_twilio_rule_is_the_one_taken():
    result = outbound(rules_with(dict(PSTN_ALL, prefix="+")))
    assert result["ok"] is False
    assert "outbound rule All (prefix +, priority 1), the first that matches +12125550199, sends route 1 to PSTN" in result["detail"]
    assert "it comes before outbound rule Twilio fallback (prefix +12125550199, priority 2)" in result["detail"]
    assert "Move the Twilio rule above it" in result["fix"] and "threecx_fallback_outbound_rule_position: first" in result["fix"]


def test_a_catch_all_rule_with_an_empty_prefix_above_the_twilio_rule_is_the_one_taken():
    # The known false ok this trace closes: an empty prefix matches every number.
    result = outbound(rules_with(PSTN_ALL))
    assert result["ok"] is False
    assert "outbound rule All (empty prefix: a catch-all, priority 1), the first that matches +12125550199, sends route 1 to PSTN" in result["detail"]
    assert result["fix"].startswith("Twilio receives no call") and "an empty prefix catches every number" in result["fix"]


@pytest.mark.parametrize(
    "above",
    [
        dict(PSTN_ALL, number_length_ranges="10"),  # neither 11 digits nor 12 characters
        dict(PSTN_ALL, prefix="00,011"),  # several prefixes, none starts the number
        dict(PSTN_ALL, group_ids=[31], group_names=["Support"]),  # another department (and none)
        dict(PSTN_ALL, dn_ranges=[{"from": "100", "to": "199"}]),  # other extensions (and none)
    ],
)
def test_a_restricted_rule_above_that_cannot_take_the_number_under_any_reading_is_passed_over(above):
    result = outbound(rules_with(above), department_ids=[27], department_names=["DEFAULT"])
    assert result["ok"] is True, result["detail"]
    assert "outbound rule Twilio fallback (prefix +12125550199, priority 2), the first that matches it under every reading" in result["detail"]


def test_one_of_several_prefixes_is_enough():
    result = outbound(rules_with(dict(PSTN_ALL, prefix="00, +1")))
    assert result["ok"] is False and "outbound rule All (prefix 00, +1, priority 1)" in result["detail"]


def test_the_rules_are_taken_in_priority_order_not_list_order():
    rules = rules_with(PSTN_ALL)
    assert outbound(list(reversed(rules)))["detail"] == outbound(rules)["detail"]


def test_a_department_mismatch_is_named_with_the_rule_really_taken():
    # The case: the Twilio rule limited to Support, the queue left in DEFAULT.
    result = outbound(rules_with(group_ids=[31], group_names=["Support"]), department_ids=[27], department_names=["DEFAULT"])
    assert result["ok"] is False
    assert "outbound rule PSTN (prefix +, priority 2), the first that matches +12125550199, sends route 1 to PSTN" in result["detail"]
    assert (
        "outbound rule Twilio fallback (prefix +12125550199, priority 1) does not match: it is limited to department Support, "
        "and the forwarded leg carries department DEFAULT"
    ) in result["detail"]
    assert "UNCONFIRMED" not in result["detail"]  # every reading fails: not a question of reading
    assert "Clear the rule's departments" in result["fix"]
    # With no other rule, no rule matches at all.
    result = outbound(rules_with(group_ids=[31], group_names=["Support"])[:1], department_ids=[27], department_names=["DEFAULT"])
    assert result["ok"] is False and result["detail"].startswith("no outbound rule matches +12125550199; outbound rule Twilio fallback")


def test_a_department_that_matches_only_under_the_labs_reading_is_unconfirmed_and_fails():
    result = outbound(rules_with(group_ids=[31], group_names=["Support"])[:1], department_ids=[31], department_names=["Support"])
    assert result["ok"] is False
    detail = result["detail"]
    assert "routes +12125550199 to trunk Twilio SIP Domain Trunk if the forwarded leg carries the group's department" in detail
    assert "but 3CX's behaviour is UNCONFIRMED: if the forwarded leg carries no department and no extension number" in detail
    assert "and the forwarded leg carries no department" in detail
    assert "passes only when every plausible reading routes to Twilio" in detail
    assert "UNCONFIRMED" in result["fix"]


def test_extension_ranges_are_matched_on_the_groups_number_and_are_unconfirmed_too():
    result = outbound(rules_with(dn_ranges=[{"from": "800", "to": "899"}])[:1])
    assert result["ok"] is False and "UNCONFIRMED" in result["detail"]
    assert "limited to calls from extensions 800-899, and the forwarded leg has no extension number" in result["detail"]
    assert "Calls from extension(s)" in result["fix"]
    result = outbound(rules_with(dn_ranges=[{"from": "100", "to": "199"}]))
    assert result["ok"] is False and "limited to calls from extensions 100-199, and the forwarded leg comes from 800" in result["detail"]


def test_a_length_limit_the_fallback_number_does_not_have():
    result = outbound(rules_with(number_length_ranges="10,13-15"))
    assert result["ok"] is False
    assert "it is limited to numbers of length 10,13-15, and +12125550199 has 11 digits" in result["detail"]
    assert "Clear its Calls to numbers with a length of" in result["fix"]


@pytest.mark.parametrize("ranges,ok", [("11", False), ("12", False), ("11-12", True), ("11,12", True)])
def test_whether_a_length_counts_the_plus_is_unconfirmed(ranges, ok):
    result = outbound(rules_with(number_length_ranges=ranges)[:1])
    assert result["ok"] is ok, result["detail"]
    if not ok:
        assert "UNCONFIRMED" in result["detail"] or "has 11 digits" in result["detail"]


def test_an_unreadable_length_limit_is_never_taken_as_a_match():
    result = outbound(rules_with(dict(PSTN_ALL, number_length_ranges="ten")))
    assert result["ok"] is False
    assert "outbound rule All (empty prefix: a catch-all, priority 1): its number lengths 'ten' cannot be read" in result["detail"]
    assert "cannot read" in result["fix"]


def test_the_inbound_rule_must_be_on_the_trunk_the_did_arrives_on():
    pbx = broken(["inbound_rules", 0, "trunk_dn"], {"id": 8, "name": "PSTN"})
    result = judged(pbx=pbx)["did_routed"]
    assert result["ok"] is False
    assert "no inbound rule routes DID +12125550100 on trunk Twilio SIP Domain Trunk, where calls to it arrive (its rule is on trunk PSTN)" in result["detail"]
    assert judged(pbx=broken(["inbound_rules", 0, "trunk_dn"], {"id": 7, "name": TRUNK}))["did_routed"]["ok"] is True


def test_an_unreadable_side_is_one_failed_reachable_item_and_its_items_are_not_checked():
    results = _golive.judge(
        SITE,
        {"failed": True, "msg": "Twilio GET /x failed with HTTP 401: Authenticate (code 20003)"},
        {"failed": True, "msg": "3CX XAPI GET /Trunks: no reply from https://pbx.example.com (Connection refused)"},
    )
    by_id = dict((r["id"], r) for r in results)
    assert [r["id"] for r in results[:2]] == ["reachable_twilio", "reachable_pbx"]
    assert [r["id"] for r in results if r["ok"] is False] == ["reachable_twilio", "reachable_pbx"]
    assert by_id["reachable_twilio"]["detail"].startswith("could not read the SIP Domain: Twilio GET /x failed with HTTP 401")
    assert "twilio_sip_domain_account_sid" in by_id["reachable_twilio"]["fix"]
    assert "threecx_fallback_url" in by_id["reachable_pbx"]["fix"] and "firewalls" in by_id["reachable_pbx"]["fix"]
    for item_id in _golive.ITEM_IDS:
        assert by_id[item_id]["ok"] is None and by_id[item_id]["fix"] is None, by_id[item_id]
    assert by_id["e164"]["detail"] == "not checked: the PBX could not be read (item reachable_pbx)"


@pytest.mark.parametrize(
    "item_id,message,words",
    [
        ("reachable_pbx", "TLS check of https://pbx failed: CERTIFICATE_VERIFY_FAILED", ["threecx_fallback_ca_path"]),
        ("reachable_twilio", "TLS check of api failed", ["twilio_sip_domain_ca_bundle"]),
        ("reachable_pbx", "3CX XAPI POST /connect/token failed with HTTP 401: invalid_client", ["threecx_fallback_client_secret", "one token per client"]),
        ("reachable_twilio", "Twilio list call failed: no reply (timed out)", ["twilio_sip_domain_api_base_url"]),
        ("reachable_pbx", "something else", ["another reason"]),
    ],
)
def test_the_reachable_fix_follows_the_cause(item_id, message, words):
    fix = _golive.reachability_fix(item_id, message)
    for word in words:
        assert word in fix, fix


def test_only_the_unreadable_side_is_not_checked():
    results = dict((r["id"], r) for r in _golive.judge(SITE, TWILIO, {"failed": True, "msg": "no reply"}))
    assert "reachable_twilio" not in results and results["reachable_pbx"]["ok"] is False
    assert all(results[i]["ok"] is True for i in _golive.TWILIO_ITEMS)
    assert all(results[i]["ok"] is None for i in _golive.PBX_ITEMS)


def test_the_handler_reply_decides_the_handler_item():
    assert judged(handler={"status": 200})["handler"]["ok"] is True
    failed = judged(handler={"status": 500})["handler"]
    assert failed["ok"] is False and "answered HTTP 500" in failed["detail"]
    assert "got no answer: timed out" in judged(handler={"status": -1, "msg": "timed out"})["handler"]["detail"]
    assert "go_live_check_skip_handler_check is set" in judged(skip_handler_check=True)["handler"]["detail"]


def test_the_probe_item():
    ok = _golive.judge_probe({"final": True, "status_code": 200, "reason": "OK", "rtt_ms": 3.2, "target": "h:5060"}, "h", "udp", "site", 2, 2)
    assert ok["ok"] is True and ok["detail"] == "h:5060 over UDP from site answered 200 OK in 3.2 ms"
    lost = _golive.judge_probe({"final": False, "reachable": False, "attempts": 3, "error": "timed out"}, "h", "udp", "site", 0.5, 1)
    assert lost["ok"] is False and "after 3 tries in 1.0 s: timed out" in lost["detail"] and lost["fix"] == _golive.FIXES["sip_probe"]


def test_the_test_call_outcomes():
    caller, to = "+17735550142", "+12125550199"

    def call(placed, log=None):
        return _golive.judge_test_call(SITE, True, placed, log, caller, to, "2026-01-01T00:00:00Z")

    assert _golive.judge_test_call(SITE, False, None, None, caller, to, "")["ok"] is None
    assert call({"placed": False})["ok"] is None
    refused = call({"placed": True, "answered": False, "sip_status": 403, "sip_reason": "Forbidden"})
    assert refused["ok"] is False and refused["fix"] == _golive.FIXES["authentication"] and "answered 403 Forbidden" in refused["detail"]
    assert call({"placed": True, "answered": False})["fix"] == _golive.FIXES["sip_probe"]
    unseen = call({"placed": True, "answered": True}, {"calls": []})
    assert unseen["ok"] is False and "has no call to +12125550199" in unseen["detail"]
    log = {"calls": [{"sid": "CA1", "to_user": "12125550199", "from_user": "+12125550100", "status": "completed"}]}
    trunk_number = call({"placed": True, "answered": True}, log)
    assert trunk_number["ok"] is False and trunk_number["fix"] == _golive.FIXES["template"]
    log["calls"][0]["from_user"] = caller
    assert call({"placed": True, "answered": True}, log)["ok"] is True


def test_summary_and_failure_message():
    results = _golive.judge(SITE, TWILIO, broken(["e164"], {"enabled": True}))
    summary = _golive.summary(results)
    assert summary["ok"] == 9 and summary["failed"] == ["e164"] and summary["skipped"] == []
    assert _golive.failure_message(results).startswith("Go-live checks failed (1 of 10): e164: Process E164 numbers is on")


def test_a_department_limit_with_the_groups_departments_not_read_is_not_judged_a_match_or_not():
    # threecx_info gives department_ids None when the PBX has no Groups (before 20.0.8).
    result = outbound(rules_with(dict(PSTN_ALL, group_ids=[27], group_names=["DEFAULT"])))
    assert result["ok"] is False
    assert "limited to department DEFAULT, and the group's departments were not read" in result["detail"]


def test_a_rule_above_that_takes_the_number_under_another_reading_only_is_unconfirmed_and_named():
    # 12 characters with the +, 11 digits without: the lab's reading passes it over, the other takes it.
    result = outbound(rules_with(dict(PSTN_ALL, number_length_ranges="12")))
    assert result["ok"] is False
    assert "but 3CX's behaviour is UNCONFIRMED: if the forwarded leg carries the group's department and number, and a length counts the leading +" in (
        result["detail"]
    )
    assert "outbound rule All (empty prefix: a catch-all, priority 1), the first that matches +12125550199, sends route 1 to PSTN" in result["detail"]
    assert "outbound rule All comes before the Twilio rule" in result["fix"]


def test_the_round_trip_outcomes():
    caller = "+17735550142"

    def trip(result):
        return _golive.judge_round_trip(SITE, result, caller)

    assert trip(None)["ok"] is False and "did not run: no result" in trip(None)["detail"]
    assert trip({"msg": "did must be in full international format"})["detail"].endswith("did not run: did must be in full international format")
    refused = trip({"failed": True, "msg": "from_number must be in full international format with a leading '+'; got ''"})
    assert refused["ok"] is False and "go_live_check_test_from" in refused["fix"]
    assert "go_live_check_test_from" not in trip({"msg": "did must be in full international format"})["fix"]
    skipped = trip({"placed": False, "skipped": True})
    assert skipped["ok"] is None and "not placed under --check" in skipped["detail"] and skipped["fix"] is None
    ok = trip({"placed": True, "passed": True, "from": caller, "forwarded": {"sid": "CA2"}, "diagnosis": []})
    assert ok["ok"] is True and "(CA2) with From +17735550142, the calling number" in ok["detail"]
    assert SITE["did"] in ok["detail"] and SITE["fallback_number"] in ok["detail"]

    def failed(*codes):
        return trip({"placed": True, "passed": False, "diagnosis": [{"code": c, "message": "msg %s." % c} for c in codes]})

    # The fix of the item the first diagnosis points at; the messages all in the detail.
    assert failed("caller_mismatch")["fix"] == _golive.FIXES["template"]
    assert failed("refused")["fix"] == _golive.FIXES["authentication"]
    both = failed("number_rewritten", "refused")
    assert both["fix"] == _golive.FIXES["e164"] and "msg number_rewritten.; msg refused." in both["detail"]
    assert failed("no_forwarded_call")["fix"] == _golive.FIXES["round_trip"]
    assert failed("call_failed")["ok"] is False and failed("call_failed")["fix"] == _golive.FIXES["round_trip"]


def test_the_round_trip_with_the_agents_put_on_dnd_says_what_it_did_to_presence():
    caller = "+17735550142"
    set_dnd = {
        "changed": True,
        "presence": [
            {"number": "100", "before": "Available", "after": "Out of office"},
            {"number": "101", "before": "Out of office", "after": "Out of office"},
        ],
    }
    put_back = {"changed": True, "presence": [{"number": "100", "before": "Out of office", "after": "Available"}]}
    passed = {"placed": True, "passed": True, "from": caller, "forwarded": {"sid": "CA2"}, "diagnosis": []}

    def trip(result, dnd=None, restore=None):
        return _golive.judge_round_trip(SITE, result, caller, dnd=dnd or set_dnd, restore=restore or put_back)

    ok = trip(passed)
    put = "the calling number; the agents 100 were put on 'Out of office' for the call (read back); their presence was put back"
    assert ok["ok"] is True and ok["detail"].endswith(put)
    # A presence not put back fails the item even when the call passed, and the fix says how to put it back.
    lost = trip(passed, restore={"msg": "the PBX is gone", "journal": {"path": "/j/acme.json"}})
    assert lost["ok"] is False and "their presence was NOT put back: the PBX is gone (the journal /j/acme.json keeps" in lost["detail"]
    assert lost["fix"] == _golive.ROUND_TRIP_RESTORE_FIX
    # The DND refused: no call was placed, and the fix is the by-hand DND.
    # Registered with failed_when false: the message is kept, "failed" is not; a refusal has no presence.
    kept = {"failed": False, "msg": "the PBX answered the presence write but shows another profile"}
    refused = trip({}, dnd=kept, restore={"changed": False, "presence": []})
    assert refused["ok"] is False and "was not placed: the agents could not be put on Do Not Disturb: the PBX answered" in refused["detail"]
    assert refused["fix"] == _golive.ROUND_TRIP_DND_FIX
    # No forwarded call although the profile was read back: the UNCONFIRMED reading is named.
    unseen = trip({"placed": True, "passed": False, "diagnosis": [{"code": "no_forwarded_call", "message": "No forwarded call."}]})
    assert "whether that profile keeps an agent from being rung is UNCONFIRMED" in unseen["detail"] and unseen["fix"] == _golive.ROUND_TRIP_DND_FIX
    # Without the DND option the detail and fix are the call's alone.
    plain = _golive.judge_round_trip(SITE, {"placed": True, "passed": False, "diagnosis": [{"code": "no_forwarded_call", "message": "x."}]}, caller)
    assert "UNCONFIRMED" not in plain["detail"] and plain["fix"] == _golive.FIXES["round_trip"]
    on_dnd = [{"number": "100", "before": "Out of office", "after": "Out of office"}]
    already = _golive.judge_round_trip(SITE, passed, caller, dnd={"changed": False, "presence": on_dnd})
    assert already["detail"].endswith("; every agent was on 'Out of office' already")


def test_a_test_call_without_a_caller_or_refused_by_the_module_names_the_variable_to_set():
    """The role places no test call without go_live_check_test_caller and feeds the module's caller and destination
    from the role's variables; the module checks both before any request (check_dialled), the judge names the variable."""
    to = "+12125550199"
    for caller in ("", None):
        missing = _golive.judge_test_call(SITE, True, {"skipped": True}, None, caller, to, "")
        assert missing["ok"] is False and missing["fix"] == _golive.TEST_CALLER_FIX
        assert missing["detail"] == (
            "not placed: go_live_check_test_caller is not set, and the test call proves that Twilio sees the caller's number in From"
        )
    from ansible_collections.voip.threecx_twilio.plugins.modules.threecx_trunk_test_call import check_dialled

    def refusal(option, value):
        with pytest.raises(ValueError) as err:
            check_dialled(option, value, allow_empty=option == "caller")
        return {"failed": True, "msg": str(err.value)}  # what the module fails with (VendorModule.api_errors)

    bad_caller = refusal("caller", "+1 773")
    refused = _golive.judge_test_call(SITE, True, bad_caller, None, "+1 773", to, "")
    assert refused["ok"] is False and refused["fix"] == _golive.TEST_CALLER_FIX
    assert refused["detail"] == "the PBX did not place the test call: " + bad_caller["msg"]
    bad_destination = refusal("destination", "x")
    assert _golive.judge_test_call(SITE, True, bad_destination, None, "+17735550142", "x", "")["fix"] == _golive.TEST_CALL_DESTINATION_FIX
    other = _golive.judge_test_call(SITE, True, {"failed": True, "msg": "3CX XAPI POST ... failed with HTTP 500"}, None, "+17735550142", to, "")
    assert other["fix"] == _golive.FIXES["test_call"]


@pytest.mark.parametrize(
    "url,asked,why",
    [
        ("https://voice.example.com/acme", True, None),
        ("http://voice.example.com/acme", True, None),
        ("https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1", False, "a Studio flow webhook (Twilio's own)"),
        ("ftp://voice.example.com/acme", False, "not an http(s) URL"),
        ("voice.example.com", False, "not an http(s) URL"),
    ],
)
def test_which_voice_urls_the_role_asks_and_why_the_others_are_not(url, asked, why):
    """One rule (handler_asked) for the role's request (test plugin voice_handler_askable) and the judge's words."""
    from ansible_collections.voip.threecx_twilio.plugins.test.voice_handler_askable import TestModule

    assert TestModule().tests() == {"voice_handler_askable": _golive.handler_asked}
    assert _golive.handler_asked(url) is asked
    twilio = broken(["domains", 0, "voice_url"], url, TWILIO)
    site = dict(SITE, voice_url=url, studio_flow=None)
    handler = judged(twilio=twilio, site=site, handler={"skipped": True})["handler"]
    if why:
        assert handler["ok"] is True and handler["detail"].endswith("not asked: " + why)
    for empty in (None, ""):
        assert _golive.handler_asked(empty) is False


def test_the_test_call_is_found_in_the_log_by_one_rule_for_the_role_and_the_judge():
    from ansible_collections.voip.threecx_twilio.plugins.test.has_call_to import TestModule

    has_call_to = TestModule().tests()["has_call_to"]
    log = {"calls": [{"sid": "CA1", "to_user": "12125550100"}, {"sid": "CA2", "to_user": "+12125550199"}]}
    assert _golive.logged_call_to(log, "+12125550199")["sid"] == "CA2" and has_call_to(log, "+12125550199") is True
    assert _golive.logged_call_to(log, "12125550100")["sid"] == "CA1" and has_call_to(log, "+12125550100") is True
    for other in ("+1212555019", "+121255501999", "+22125550199"):
        assert has_call_to(log, other) is False
    for empty in ({}, {"calls": None}, {"failed": True, "msg": "no reply"}, None, {"calls": ["not a call"]}):
        assert has_call_to(empty, "+12125550199") is False
