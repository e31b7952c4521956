"""threecx_outbound_rule in-process against FakeXapi, a stateful stand-in of the XAPI."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_outbound_rule
from ansible_collections.voip.threecx_twilio.plugins.modules.threecx_outbound_rule import UNUSED_ROUTE
from tests.unit.plugins.module_utils.test_threecx_routing import SECRET, UNUSED, FakeXapi, install, runner

run = runner(threecx_outbound_rule.main)

FALLBACK = "+14155550100"
WANT = dict(name="Twilio fallback", fallback_number=FALLBACK, trunk="Twilio SIP Domain Trunk")
UNUSED_API = {"TrunkId": -1, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}


def with_(change):
    """WANT with ``change``; a prefix replaces the fallback number (they are mutually exclusive)."""
    change = dict(change)
    args = dict(WANT)
    if "prefix" in change and not change.pop("both", False):
        args.pop("fallback_number")
    args.update(change)
    return dict((k, v) for k, v in args.items() if v is not None or k not in ("fallback_number",))


def seeded(version="20.0.10", others=2):
    fake = FakeXapi(version)
    fake.add_trunk("Twilio SIP Domain Trunk", "10000")
    fake.add_trunk("PSTN", "10001")
    pstn = [t["Id"] for t in fake.all("Trunks") if t["Number"] == "10001"][0]
    for index in range(others):
        fake.add("OutboundRules", {"Name": "Other %d" % index, "Prefix": "", "Routes": [{"TrunkId": pstn}]})
    return fake


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path, seeded())


def ours(pbx):
    return [r for r in pbx.all("OutboundRules") if r["Name"] == "Twilio fallback"]


def order(pbx):
    return [r["Name"] for r in sorted(pbx.all("OutboundRules"), key=lambda r: r["Priority"])]


def twilio_id(pbx):
    return [t["Id"] for t in pbx.all("Trunks") if t["Number"] == "10000"][0]


def test_create_check_mode_then_apply_then_converged(pbx, monkeypatch):
    kind, check = run(monkeypatch, check=True, **WANT)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    assert check["outbound_rule"]["rank"] == 3
    kind, applied = run(monkeypatch, **WANT)
    assert applied["changed"] is True and applied["diff"] == check["diff"]
    route1 = {"TrunkId": twilio_id(pbx), "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}
    assert pbx.writes() == [("POST", "/OutboundRules", {"Name": "Twilio fallback", "Prefix": FALLBACK, "Routes": [route1] + [UNUSED_API] * 4})]
    rule = ours(pbx)[0]
    assert len(rule["Routes"]) == 5
    assert applied["outbound_rule"]["id"] == rule["Id"]
    assert applied["outbound_rule"]["prefix"] == FALLBACK
    assert applied["outbound_rule"]["trunk"] == "Twilio SIP Domain Trunk"
    assert applied["outbound_rule"]["routes"] == check["outbound_rule"]["routes"]
    assert applied["outbound_rule"]["rank"] == 3
    pbx.sent.clear()
    for check_mode in (True, False):
        kind, again = run(monkeypatch, check=check_mode, **WANT)
        assert again["changed"] is False
        assert again["diff"] == {"before": {}, "after": {}}
        assert again["outbound_rule"]["trunk"] == applied["outbound_rule"]["trunk"]
    assert pbx.writes() == []
    # Route 1 is on the wanted trunk already: its name needs no /Trunks read.
    assert [p for m, p, b in pbx.sent if p.startswith("/Trunks")] == []


@pytest.mark.parametrize(
    "change,payload",
    [
        (dict(fallback_number="+14155550199"), {"Prefix": "+14155550199"}),
        (dict(prefix="9"), {"Prefix": "9"}),
        (dict(departments=["Sales", "DEFAULT"]), "GroupIds"),
        (dict(dn_ranges=[{"from": "100", "to": "199"}, {"from": "205"}]), {"DNRanges": [{"From": "100", "To": "199"}, {"From": "205", "To": "205"}]}),
        (dict(strip_digits=1), "Routes"),
        (dict(prepend="00"), "Routes"),
        (dict(trunk="PSTN"), "Routes"),
    ],
)
def test_update_each_option_sends_only_that_field(pbx, monkeypatch, change, payload):
    run(monkeypatch, **WANT)
    rid = ours(pbx)[0]["Id"]
    # Routes 2..5 set on the PBX by hand survive an update of route 1.
    ours(pbx)[0]["Routes"][1] = dict(UNUSED, TrunkId=twilio_id(pbx), Prepend="1")
    pbx.sent.clear()
    args = with_(change)
    kind, check = run(monkeypatch, check=True, **args)
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, **args)
    assert result["changed"] is True and result["diff"] == check["diff"]
    assert result["outbound_rule"] == dict(check["outbound_rule"], departments=result["outbound_rule"]["departments"])
    writes = pbx.writes()
    assert len(writes) == 1 and writes[0][:2] == ("PATCH", "/OutboundRules(%d)" % rid)
    if isinstance(payload, dict):
        assert writes[0][2] == payload
    else:
        assert list(writes[0][2]) == [payload]
    if payload == "Routes":
        routes = writes[0][2]["Routes"]
        assert len(routes) == 5 and routes[1]["Prepend"] == "1" and routes[1]["TrunkId"] == twilio_id(pbx)
    if payload == "GroupIds":
        assert sorted(ours(pbx)[0]["GroupNames"]) == ["DEFAULT", "Sales"]
    assert run(monkeypatch, **args)[1]["changed"] is False


def test_only_route_1_is_compared(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    ours(pbx)[0]["Routes"][3] = dict(UNUSED, TrunkId=99, Append="x")
    pbx.sent.clear()
    assert run(monkeypatch, **WANT)[1]["changed"] is False and pbx.writes() == []


@pytest.mark.parametrize("position,expected_moves,final", [("first", 2, 0), ("last", 0, 2), ("keep", 0, 2)])
def test_position_on_create_is_predicted_exactly(pbx, monkeypatch, position, expected_moves, final):
    kind, check = run(monkeypatch, check=True, position=position, **WANT)
    assert pbx.writes() == []
    kind, result = run(monkeypatch, position=position, **WANT)
    moves = [w for w in pbx.writes() if w[1] == "/OutboundRules/Pbx.MoveUpDown"]
    assert len(moves) == expected_moves
    assert all(w[2] == {"id": ours(pbx)[0]["Id"], "up": True} for w in moves)
    assert order(pbx).index("Twilio fallback") == final
    assert result["changed"] is check["changed"] is True
    assert result["outbound_rule"]["rank"] == check["outbound_rule"]["rank"] == final + 1
    assert result["msg"] == check["msg"]
    assert result["diff"] == check["diff"]
    assert run(monkeypatch, position=position, **WANT)[1]["changed"] is False


def test_moving_an_existing_rule_is_a_predicted_change(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, position="first", **WANT)
    assert check["changed"] is True and pbx.writes() == []
    assert check["diff"] == {"before": {"rank": 3}, "after": {"rank": 1}}
    assert check["msg"] == "outbound rule Twilio fallback already as desired; moved from rank 3 to 1 (2 moves)"
    kind, result = run(monkeypatch, position="first", **WANT)
    assert (result["changed"], result["diff"], result["msg"]) == (True, check["diff"], check["msg"])
    assert order(pbx) == ["Twilio fallback", "Other 0", "Other 1"]
    kind, last = run(monkeypatch, position="last", **WANT)
    assert last["changed"] is True and order(pbx)[-1] == "Twilio fallback"
    assert [w[2]["up"] for w in pbx.writes() if w[1].endswith("MoveUpDown")][-2:] == [False, False]
    assert run(monkeypatch, position="last", **WANT)[1]["changed"] is False


def test_a_lost_move_reply_is_resolved_by_reading_the_order(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.fault("POST", "MoveUpDown", "commit_then_drop")
    kind, result = run(monkeypatch, position="first", **WANT)
    assert kind == "exit" and result["changed"] is True
    assert order(pbx)[0] == "Twilio fallback"
    assert len([w for w in pbx.writes() if w[1].endswith("MoveUpDown")]) == 2


def test_delete_then_delete_again(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    rid = ours(pbx)[0]["Id"]
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, name="Twilio fallback", state="absent")
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, name="Twilio fallback", state="absent")
    assert result["changed"] is True and result["diff"] == check["diff"]
    assert pbx.writes() == [("DELETE", "/OutboundRules(%d)" % rid, None)]
    assert run(monkeypatch, name="Twilio fallback", state="absent")[1]["changed"] is False
    assert ours(pbx) == []


def test_a_rule_made_outside_ansible_is_adopted(pbx, monkeypatch):
    pbx.add("OutboundRules", {"Name": "Twilio fallback", "Prefix": "", "Routes": [{"TrunkId": twilio_id(pbx), "StripDigits": 2}]})
    kind, result = run(monkeypatch, **WANT)
    assert result["changed"] is True and len(ours(pbx)) == 1
    assert set(result["diff"]["after"]) == {"prefix", "routes"}
    assert result["diff"]["before"]["routes"][0]["strip_digits"] == 2
    assert ours(pbx)[0]["Routes"][0]["StripDigits"] == 0


@pytest.mark.parametrize("version", ["20.0.7", "20.0.8", "20.0.9", "20.0.10"])
def test_every_supported_version_converges(monkeypatch, tmp_path, version):
    pbx = install(monkeypatch, tmp_path, seeded(version))
    assert run(monkeypatch, position="first", **WANT)[1]["changed"] is True
    assert run(monkeypatch, position="first", **WANT)[1]["changed"] is False
    assert run(monkeypatch, name="Twilio fallback", state="absent")[1]["changed"] is True
    assert ours(pbx) == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(name=" "), "name must not be empty"),
        (dict(fallback_number="415 555 0100"), "fallback_number must be a phone number"),
        (dict(prefix="9x"), "prefix must contain only digits and + * #"),
        (dict(prefix="9", both=True), "mutually exclusive"),
        (dict(strip_digits=-1), "strip_digits must be from 0 to 32"),
        (dict(prepend="+ 1"), "prepend must contain only digits"),
        (dict(trunk=""), "trunk must be the name or number"),
        (dict(dn_ranges=[{"from": "200", "to": "100"}]), "dn_ranges: from 200 is above to 100"),
        (dict(dn_ranges=[{"from": "1a"}]), "dn_ranges.from must contain only digits"),
        (dict(departments=[""]), "a department name must not be empty"),
        (dict(position="middle"), "position must be one of"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **with_(args))
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.sent == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(trunk="Twilio"), "trunk: no trunk named or numbered 'Twilio' on the PBX"),
        (dict(departments=["Support"]), "departments: no department 'Support'"),
        (dict(trunk=None), "trunk is required to create outbound rule 'Twilio fallback'"),
        (dict(fallback_number=None), "fallback_number (or prefix) is required"),
    ],
)
def test_bad_references_fail_with_reads_only(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.writes() == [] and SECRET not in repr(result)


def test_an_empty_prefix_is_allowed_with_a_warning(pbx, monkeypatch):
    from ansible.module_utils.common.warnings import get_warning_messages

    kind, result = run(monkeypatch, **with_(dict(prefix="")))
    assert kind == "exit" and result["outbound_rule"]["prefix"] == ""
    assert any("matches every number" in w for w in get_warning_messages())


def test_faults_converge_without_duplicates(pbx, monkeypatch):
    pbx.fault("GET", r"^/OutboundRules$", 503)
    pbx.fault("GET", r"^/Trunks$", 429)
    pbx.fault("POST", r"^/OutboundRules$", "commit_then_drop")
    kind, result = run(monkeypatch, position="first", **WANT)
    assert kind == "exit" and result["changed"] is True and len(ours(pbx)) == 1
    assert order(pbx)[0] == "Twilio fallback"
    pbx.fault("PATCH", r"^/OutboundRules\(", "drop")
    pbx.fault("GET", r"^/Trunks$", "revoke")
    kind, result = run(monkeypatch, position="first", **dict(WANT, prepend="1"))
    assert kind == "exit" and result["changed"] is True and ours(pbx)[0]["Routes"][0]["Prepend"] == "1"
    assert run(monkeypatch, position="first", **dict(WANT, prepend="1"))[1]["changed"] is False
    assert len(ours(pbx)) == 1


# ---------------------------------------------------------------------------- check mode before the trunk exists


@pytest.fixture
def warned(monkeypatch):
    seen = []
    monkeypatch.setattr(threecx_outbound_rule.ThreeCXModule, "warn", lambda self, msg: seen.append(msg))
    return seen


ASSUMED = (
    "trunk: trunk %r does not exist on the PBX; check mode assumes that an earlier task in the same play creates it "
    "and predicts the change (a run without check mode fails if it still does not exist)"
)


def only_reads(pbx):
    return set(m for m, p, _b in pbx.sent if p != "/connect/token") == {"GET"}


def test_check_mode_on_a_fresh_pbx_warns_and_predicts_the_create(monkeypatch, tmp_path, warned):
    """The trunk task before this one made nothing in a dry run."""
    pbx = install(monkeypatch, tmp_path, FakeXapi())
    pbx.add("OutboundRules", {"Name": "Other", "Prefix": "9"})
    args = dict(WANT, position="first", departments=["DEFAULT"])
    kind, check = run(monkeypatch, check=True, **args)
    assert kind == "exit", check
    assert check["changed"] is True
    assert check["msg"] == "outbound rule Twilio fallback created; moved from rank 2 to 1 (1 move)"
    assert warned == [ASSUMED % "Twilio SIP Domain Trunk"] and only_reads(pbx)
    route1 = dict(UNUSED_ROUTE, trunk_id="Twilio SIP Domain Trunk")  # the name given: the trunk has no id yet
    assert check["diff"]["after"]["routes"] == [route1] + [UNUSED_ROUTE] * 4
    assert check["outbound_rule"]["trunk"] == "Twilio SIP Domain Trunk"
    assert check["outbound_rule"]["routes"][0]["trunk_id"] is None and check["outbound_rule"]["rank"] == 1

    # Without check mode the missing trunk stays an error, with reads only.
    warned.clear()
    kind, real = run(monkeypatch, **args)
    assert kind == "fail" and real["msg"] == "trunk: no trunk named or numbered 'Twilio SIP Domain Trunk' on the PBX; the trunks are: none"
    assert pbx.writes() == [] and warned == []

    # Once the play has made it, the real run reports the change check mode predicted.
    pbx.add_trunk("Twilio SIP Domain Trunk", "10000")
    kind, real = run(monkeypatch, **args)
    assert kind == "exit" and real["changed"] is True and real["msg"] == check["msg"]
    assert real["diff"]["after"] == dict(check["diff"]["after"], routes=[dict(route1, trunk_id=twilio_id(pbx))] + [UNUSED_ROUTE] * 4)
    assert [w[1] for w in pbx.writes()] == ["/OutboundRules", "/OutboundRules/Pbx.MoveUpDown"]


def test_check_mode_with_a_trunk_still_to_make_predicts_a_change_of_an_otherwise_equal_rule(pbx, monkeypatch, warned):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, **dict(WANT, trunk="New trunk"))
    assert kind == "exit" and check["changed"] is True and set(check["diff"]["after"]) == {"routes"}
    assert check["diff"]["before"]["routes"][0]["trunk_id"] == twilio_id(pbx)
    assert check["diff"]["after"]["routes"][0]["trunk_id"] == "New trunk"
    assert warned == [ASSUMED % "New trunk"] and only_reads(pbx)
    kind, real = run(monkeypatch, **dict(WANT, trunk="New trunk"))
    assert kind == "fail" and "trunk: no trunk named or numbered 'New trunk' on the PBX" in real["msg"]
    assert pbx.writes() == []


def test_check_mode_keeps_an_unknown_department_an_error(pbx, monkeypatch, warned):
    """Departments are never made by this collection."""
    kind, result = run(monkeypatch, check=True, **dict(WANT, trunk="New trunk", departments=["Support"]))
    assert kind == "fail" and "departments: no department 'Support'" in result["msg"]
    assert pbx.writes() == []
