"""threecx_inbound_rule in-process against FakeXapi, a stateful stand-in of the XAPI."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_inbound_rule
from tests.unit.plugins.module_utils.test_threecx_routing import QUEUE_DEFAULTS, RING_GROUP_DEFAULTS, SECRET, FakeXapi, install, runner

run = runner(threecx_inbound_rule.main)

DID = "+12125550100"
WANT = dict(did=DID, trunk="PSTN", destination={"type": "queue", "number": "800"})


def seeded(version="20.0.10"):
    fake = FakeXapi(version)
    fake.add_trunk("PSTN", "10000", [DID, "+12125550101"])
    fake.add_trunk("Twilio SIP Domain Trunk", "10001", [])
    fake.add("Queues", dict(QUEUE_DEFAULTS, Number="800", Name="Support"))
    fake.add("RingGroups", dict(RING_GROUP_DEFAULTS, Number="700", Name="Front desk"))
    return fake


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path, seeded())


def rules(pbx):
    return pbx.all("InboundRules")


def trunk_id(pbx, name):
    return [t["Id"] for t in pbx.all("Trunks") if t["Gateway"]["Name"] == name][0]


def test_create_check_mode_then_apply_then_converged(pbx, monkeypatch):
    kind, check = run(monkeypatch, check=True, **WANT)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    kind, applied = run(monkeypatch, **WANT)
    assert applied["changed"] is True and applied["diff"] == check["diff"]
    queue = {"To": "Queue", "Number": "800", "External": ""}
    assert pbx.writes() == [
        (
            "POST",
            "/InboundRules",
            {
                "Data": DID,
                "Condition": "BasedOnDID",
                "RuleName": DID,
                "TrunkDN": {"Id": trunk_id(pbx, "PSTN")},
                "OfficeHoursDestination": queue,
                "OutOfOfficeHoursDestination": queue,
            },
        )
    ]
    assert applied["inbound_rule"] == dict(check["inbound_rule"], id=rules(pbx)[0]["Id"])
    assert applied["inbound_rule"]["trunk"] == "PSTN"
    assert applied["inbound_rule"]["out_of_office_destination"] == {"type": "queue", "number": "800", "external": None}
    pbx.sent.clear()
    for check_mode in (True, False):
        kind, again = run(monkeypatch, check=check_mode, **WANT)
        assert again["changed"] is False and again["inbound_rule"] == applied["inbound_rule"]
    assert pbx.writes() == []
    # Natural key: the DID in either spelling, with TrunkDN expanded; one list GET.
    lookups = [(p, b) for m, p, b in pbx.sent if p == "/InboundRules"]
    assert len(lookups) == 2
    # The destinations are unchanged: their queue is not looked up again (nor the version for it).
    assert [p for m, p, b in pbx.sent if p.startswith("/Queues") or "GetSystemParameters" in p] == []
    # The rule is on the wanted trunk already: its name needs no /Trunks read.
    assert [p for m, p, b in pbx.sent if p.startswith("/Trunks")] == []


def test_the_did_without_plus_finds_the_same_rule(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    kind, again = run(monkeypatch, **dict(WANT, did=DID.lstrip("+")))
    assert kind == "exit" and again["changed"] is False and len(rules(pbx)) == 1


@pytest.mark.parametrize(
    "change,payload",
    [
        (dict(name="Main number"), {"RuleName": "Main number"}),
        (
            dict(destination={"type": "ring_group", "number": "700"}),
            {
                "OfficeHoursDestination": {"To": "RingGroup", "Number": "700", "External": ""},
                "OutOfOfficeHoursDestination": {"To": "RingGroup", "Number": "700", "External": ""},
            },
        ),
        (
            dict(out_of_office_destination={"type": "voicemail", "number": "100"}),
            {"OutOfOfficeHoursDestination": {"To": "VoiceMail", "Number": "100", "External": ""}},
        ),
    ],
)
def test_update_each_option_sends_only_that_field(pbx, monkeypatch, change, payload):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    args = dict(WANT, **change)
    kind, check = run(monkeypatch, check=True, **args)
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, **args)
    assert result["changed"] is True and result["diff"] == check["diff"] and result["inbound_rule"] == check["inbound_rule"]
    assert pbx.writes() == [("PATCH", "/InboundRules(%d)" % rules(pbx)[0]["Id"], payload)]
    assert run(monkeypatch, **args)[1]["changed"] is False


def test_moving_the_did_to_another_trunk_updates_trunk_dn(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.data["Trunks"][trunk_id(pbx, "Twilio SIP Domain Trunk")]["DidNumbers"] = [DID]
    kind, result = run(monkeypatch, **dict(WANT, trunk="10001"))
    new = trunk_id(pbx, "Twilio SIP Domain Trunk")
    assert result["changed"] is True and result["diff"]["after"] == {"trunk_id": new}
    assert pbx.writes()[-1][2] == {"TrunkDN": {"Id": new}}
    assert result["inbound_rule"]["trunk"] == "Twilio SIP Domain Trunk"


def test_delete_then_delete_again(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    rid = rules(pbx)[0]["Id"]
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, did=DID, state="absent")
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, did=DID, state="absent")
    assert result["changed"] is True and result["diff"] == check["diff"]
    assert pbx.writes() == [("DELETE", "/InboundRules(%d)" % rid, None)]
    assert run(monkeypatch, did=DID, state="absent")[1]["changed"] is False and rules(pbx) == []


def test_a_rule_made_outside_ansible_is_adopted(pbx, monkeypatch):
    pbx.add(
        "InboundRules",
        {
            "RuleName": "by hand",
            "Condition": "BasedOnDID",
            "Data": DID.lstrip("+"),
            "TrunkDN": {"Id": trunk_id(pbx, "PSTN"), "Name": "PSTN"},
            "OfficeHoursDestination": {"To": "RingGroup", "Number": "700", "External": ""},
            "OutOfOfficeHoursDestination": {"To": "RingGroup", "Number": "700", "External": ""},
        },
    )
    pbx.add("InboundRules", {"Condition": "BasedOnCallerID", "Data": DID})  # another condition: not ours
    kind, result = run(monkeypatch, **WANT)
    assert result["changed"] is True and len(rules(pbx)) == 2
    assert set(result["diff"]["after"]) == {"destination", "out_of_office_destination"}
    assert result["inbound_rule"]["name"] == "by hand"
    # Without trunk and destination an existing rule is only checked, never recreated.
    kind, result = run(monkeypatch, did=DID)
    assert result["changed"] is False and result["inbound_rule"]["trunk"] == "PSTN"


@pytest.mark.parametrize("version", ["20.0.7", "20.0.8", "20.0.9", "20.0.10"])
def test_every_supported_version_converges(monkeypatch, tmp_path, version):
    pbx = install(monkeypatch, tmp_path, seeded(version))
    assert run(monkeypatch, **WANT)[1]["changed"] is True
    assert run(monkeypatch, **WANT)[1]["changed"] is False
    assert run(monkeypatch, did=DID, state="absent")[1]["changed"] is True
    assert rules(pbx) == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(did="212-555-0100"), "did must be a phone number"),
        (dict(did="+0212555"), "never starts with 0"),
        (dict(did="12"), "between 3 and 15 digits"),
        (dict(trunk=""), "trunk must be the name or number of a trunk"),
        (dict(name=""), "name must not be empty"),
        (dict(destination={"type": "queue", "number": "8-00"}), "destination.number must contain only digits"),
        (dict(out_of_office_destination={"type": "external"}), "out_of_office_destination: type external needs"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.sent == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(trunk="Nope"), "trunk: no trunk named or numbered 'Nope' on the PBX; the trunks are: 'PSTN' (10000)"),
        (dict(trunk="Twilio SIP Domain Trunk"), "did: +12125550100 is not a DID number of trunk 'Twilio SIP Domain Trunk' (10001)"),
        (dict(did="+12125550199"), "is not a DID number of trunk 'PSTN'"),
        (dict(destination={"type": "queue", "number": "801"}), "destination: there is no queue '801' on the PBX"),
        (dict(out_of_office_destination={"type": "extension", "number": "999"}), "out_of_office_destination.number: no extension '999'"),
        (dict(trunk=None), "trunk is required to create the inbound rule"),
        (dict(trunk=None, destination=None), "trunk and destination are required"),
    ],
)
def test_bad_references_fail_with_reads_only(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.writes() == [] and SECRET not in repr(result)


def test_two_rules_for_one_did_are_reported_not_guessed(pbx, monkeypatch):
    for _ignored in range(2):
        pbx.add("InboundRules", {"Condition": "BasedOnDID", "Data": DID})
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "2 inbound rules route DID +12125550100" in result["msg"]
    assert pbx.writes() == []


def test_faults_converge_without_duplicates(pbx, monkeypatch):
    pbx.fault("GET", r"^/InboundRules$", 429)
    pbx.fault("GET", r"^/Trunks$", 503)
    pbx.fault("POST", r"^/InboundRules$", "commit_then_drop")
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit" and result["changed"] is True and len(rules(pbx)) == 1
    assert result["inbound_rule"]["id"] == rules(pbx)[0]["Id"]
    pbx.fault("PATCH", r"^/InboundRules\(", "drop")
    pbx.fault("GET", r"^/Queues", "revoke")
    kind, result = run(monkeypatch, **dict(WANT, name="Main"))
    assert kind == "exit" and result["changed"] is True and rules(pbx)[0]["RuleName"] == "Main"
    assert run(monkeypatch, **dict(WANT, name="Main"))[1]["changed"] is False
    assert len(rules(pbx)) == 1


# ---------------------------------------------------------------------------- check mode before the dependencies exist


@pytest.fixture
def warned(monkeypatch):
    seen = []
    monkeypatch.setattr(threecx_inbound_rule.ThreeCXModule, "warn", lambda self, msg: seen.append(msg))
    return seen


def assumed(option, missing):
    return (
        "%s: %s does not exist on the PBX; check mode assumes that an earlier task in the same play creates it "
        "and predicts the change (a run without check mode fails if it still does not exist)" % (option, missing)
    )


def only_reads(pbx):
    return set(m for m, p, _b in pbx.sent if p != "/connect/token") == {"GET"}


def test_check_mode_on_a_fresh_pbx_warns_and_predicts_the_create(monkeypatch, tmp_path, warned):
    """The trunk and queue tasks before this one made nothing in a dry run."""
    pbx = install(monkeypatch, tmp_path, FakeXapi())
    kind, check = run(monkeypatch, check=True, **WANT)
    assert kind == "exit", check
    assert check["changed"] is True and check["msg"] == "inbound rule %s created" % DID
    assert warned == [assumed("trunk", "trunk 'PSTN'"), assumed("destination", "queue '800'")]
    assert only_reads(pbx)
    queue = {"type": "queue", "number": "800", "external": None}
    assert check["diff"] == {
        "before": {"state": "absent"},
        "after": {
            "state": "present",
            "did": DID,
            "condition": "BasedOnDID",
            "name": DID,
            "trunk_id": "PSTN",  # the name given: the trunk has no id yet
            "destination": queue,
            "out_of_office_destination": queue,
        },
    }
    assert check["inbound_rule"]["trunk"] == "PSTN" and check["inbound_rule"]["trunk_id"] is None

    # Without check mode each missing object stays an error, with reads only.
    warned.clear()
    kind, real = run(monkeypatch, **WANT)
    assert kind == "fail" and real["msg"] == "trunk: no trunk named or numbered 'PSTN' on the PBX; the trunks are: none"
    pbx.add_trunk("PSTN", "10000", [DID])
    kind, real = run(monkeypatch, **WANT)
    assert kind == "fail" and real["msg"] == "destination: there is no queue '800' on the PBX; create it first (voip.threecx_twilio.threecx_queue)"
    assert pbx.writes() == [] and warned == []

    # Once the play has made them, the real run reports the change check mode predicted.
    pbx.add("Queues", dict(QUEUE_DEFAULTS, Number="800", Name="Support"))
    kind, real = run(monkeypatch, **WANT)
    assert kind == "exit" and real["changed"] is True and real["msg"] == check["msg"]
    assert real["diff"]["after"] == dict(check["diff"]["after"], trunk_id=trunk_id(pbx, "PSTN"))
    assert [m for m, _p, _b in pbx.writes()] == ["POST"]


def test_check_mode_with_a_trunk_still_to_make_predicts_a_change_of_an_otherwise_equal_rule(pbx, monkeypatch, warned):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, **dict(WANT, trunk="New trunk"))
    assert kind == "exit" and check["changed"] is True
    assert check["diff"] == {"before": {"trunk_id": trunk_id(pbx, "PSTN")}, "after": {"trunk_id": "New trunk"}}
    assert check["inbound_rule"]["trunk"] == "New trunk" and check["inbound_rule"]["trunk_id"] is None
    assert warned == [assumed("trunk", "trunk 'New trunk'")] and only_reads(pbx)
    kind, real = run(monkeypatch, **dict(WANT, trunk="New trunk"))
    assert kind == "fail" and "trunk: no trunk named or numbered 'New trunk' on the PBX" in real["msg"]
    assert pbx.writes() == []


def test_check_mode_with_a_did_the_trunk_task_adds_warns(pbx, monkeypatch, warned):
    kind, check = run(monkeypatch, check=True, **dict(WANT, did="+12125550199"))
    assert kind == "exit" and check["changed"] is True and check["diff"]["after"]["did"] == "+12125550199"
    assert warned == [assumed("did", "DID +12125550199 of trunk 'PSTN'")] and only_reads(pbx)
    kind, real = run(monkeypatch, **dict(WANT, did="+12125550199"))
    assert kind == "fail" and "did: +12125550199 is not a DID number of trunk 'PSTN'" in real["msg"]
    assert pbx.writes() == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(destination={"type": "extension", "number": "999"}), "destination.number: no extension '999'"),
        (dict(trunk=None), "trunk is required to create the inbound rule"),
        (dict(did="212-555-0100"), "did must be a phone number"),
    ],
)
def test_check_mode_keeps_the_other_errors(pbx, monkeypatch, warned, args, fragment):
    """Extensions are never made by this collection; input errors are input errors."""
    kind, result = run(monkeypatch, check=True, **dict(WANT, **args))
    assert kind == "fail" and fragment in result["msg"] and warned == []
