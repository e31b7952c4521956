"""threecx_ring_group in-process against FakeXapi, a stateful stand-in of the XAPI."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_ring_group
from tests.unit.plugins.module_utils.test_threecx_routing import RING_GROUP_DEFAULTS, SECRET, FakeXapi, install, runner

run = runner(threecx_ring_group.main)

WANT = dict(
    number="700",
    name="Front desk",
    members=["100", "101"],
    ring_time=10,
    no_answer_destination={"type": "external", "external": "+14155550100"},
)


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path, FakeXapi())


def groups(pbx):
    return [g for g in pbx.all("RingGroups") if g["Number"] == "700"]


def test_create_check_mode_then_apply_then_converged(pbx, monkeypatch):
    kind, check = run(monkeypatch, check=True, **WANT)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    kind, applied = run(monkeypatch, **WANT)
    assert applied["changed"] is True and applied["diff"] == check["diff"]
    assert pbx.writes() == [
        (
            "POST",
            "/RingGroups",
            {
                "Number": "700",
                "Name": "Front desk",
                "Members": [{"Number": "100"}, {"Number": "101"}],
                "RingStrategy": "RingAll",
                "RingTime": 10,
                "ForwardNoAnswer": {"To": "External", "Number": "", "External": "+14155550100"},
            },
        )
    ]
    assert applied["ring_group"] == dict(check["ring_group"], id=groups(pbx)[0]["Id"])
    pbx.sent.clear()
    for check_mode in (True, False):
        kind, again = run(monkeypatch, check=check_mode, **WANT)
        assert again["changed"] is False and again["ring_group"] == applied["ring_group"]
    assert pbx.writes() == []
    # The lookup expands the members (a navigation property) and uses the Number key.
    assert ("GET", "/RingGroups(Number='700')", None) in pbx.sent


@pytest.mark.parametrize(
    "change,payload",
    [
        (dict(name="Reception"), {"Name": "Reception"}),
        (dict(members=["102"]), {"Members": [{"Number": "102"}]}),
        (dict(ring_strategy="hunt"), {"RingStrategy": "Hunt"}),
        (dict(ring_strategy="paging"), {"RingStrategy": "Paging"}),
        (dict(ring_time=25), {"RingTime": 25}),
        (dict(no_answer_destination={"type": "queue", "number": "800"}), {"ForwardNoAnswer": {"To": "Queue", "Number": "800", "External": ""}}),
    ],
)
def test_update_each_option_sends_only_that_field(pbx, monkeypatch, change, payload):
    pbx.add("Queues", {"Number": "800", "Name": "Support"})
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    args = dict(WANT, **change)
    kind, check = run(monkeypatch, check=True, **args)
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, **args)
    assert result["changed"] is True and result["diff"] == check["diff"] and result["ring_group"] == check["ring_group"]
    assert pbx.writes() == [("PATCH", "/RingGroups(%d)" % groups(pbx)[0]["Id"], payload)]
    kind, again = run(monkeypatch, **args)
    assert again["changed"] is False


def test_purge_members_false_keeps_the_others(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    kind, result = run(monkeypatch, number="700", members=["103"], purge_members=False)
    assert result["ring_group"]["members"] == ["100", "101", "103"]
    kind, again = run(monkeypatch, number="700", members=["103"], purge_members=False)
    assert again["changed"] is False


def test_delete_then_delete_again(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    gid = groups(pbx)[0]["Id"]
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, number="700", state="absent")
    assert check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, number="700", state="absent")
    assert result["changed"] is True and result["diff"] == check["diff"]
    assert pbx.writes() == [("DELETE", "/RingGroups(%d)" % gid, None)]
    kind, again = run(monkeypatch, number="700", state="absent")
    assert again["changed"] is False and groups(pbx) == []


def test_a_ring_group_made_outside_ansible_is_adopted(pbx, monkeypatch):
    pbx.add("RingGroups", dict(RING_GROUP_DEFAULTS, Number="700", Name="Front desk", Members=[{"Number": "101"}, {"Number": "100"}]))
    kind, result = run(monkeypatch, **WANT)
    assert result["changed"] is True
    assert result["diff"]["before"] == {
        "ring_strategy": "hunt",
        "ring_time": 30,
        "no_answer_destination": {"type": "none", "number": None, "external": None},
    }
    assert len(groups(pbx)) == 1


@pytest.mark.parametrize("version", ["20.0.7", "20.0.8", "20.0.9", "20.0.10"])
def test_every_supported_version_converges(monkeypatch, tmp_path, version):
    pbx = install(monkeypatch, tmp_path, FakeXapi(version))
    assert run(monkeypatch, **WANT)[1]["changed"] is True
    assert run(monkeypatch, **WANT)[1]["changed"] is False
    assert run(monkeypatch, number="700", state="absent")[1]["changed"] is True
    assert pbx.all("RingGroups") == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(number="7x0"), "number must contain only digits"),
        (dict(members=["10 0"]), "members must contain only digits"),
        (dict(ring_time=0), "ring_time must be greater than 0"),
        (dict(ring_time=-1), "ring_time must be greater than 0"),
        (dict(ring_strategy="ring_some"), "ring_strategy must be one of"),
        (dict(no_answer_destination={"type": "external", "external": "sip:nobody"}), "must be a SIP URI"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail" and fragment in result["msg"]
    assert pbx.sent == []


def test_unknown_members_fail_before_any_write(pbx, monkeypatch):
    kind, result = run(monkeypatch, **dict(WANT, members=["100", "900", "901"]))
    assert kind == "fail"
    assert result["msg"] == (
        "members: no extension '900', '901' on the PBX. Give existing extension numbers (Admin Console > Users), " "or create the extension first"
    )
    assert pbx.writes() == [] and SECRET not in repr(result)


def test_faults_converge_without_duplicates(pbx, monkeypatch):
    pbx.fault("POST", r"^/RingGroups$", 503)  # a create is not retried on 503: the run fails ...
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail" and "HTTP 503" in result["msg"] and groups(pbx) == []
    pbx.fault("POST", r"^/RingGroups$", "commit_then_drop")  # ... and a lost reply is resolved by reading again
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit" and result["changed"] is True and len(groups(pbx)) == 1
    kind, result = run(monkeypatch, **WANT)
    assert result["changed"] is False and len(groups(pbx)) == 1


def test_departments_a_new_ring_group_gets_them_an_existing_one_is_not_moved(pbx, monkeypatch):
    sales = [g["Id"] for g in pbx.all("Groups") if g["Name"] == "Sales"][0]
    kind, made = run(monkeypatch, **dict(WANT, departments=["Sales"]))
    assert kind == "exit" and made["ring_group"]["departments"] == ["Sales"]
    assert pbx.writes()[0][2]["Groups"] == [{"GroupId": sales}]
    kind, again = run(monkeypatch, **dict(WANT, departments=["Sales"]))
    assert kind == "exit" and again["changed"] is False
    pbx.sent.clear()
    kind, moved = run(monkeypatch, **dict(WANT, departments=["DEFAULT"]))
    assert kind == "fail" and pbx.writes() == []
    assert "ring group 700 is in department Sales, not in DEFAULT" in moved["msg"] and "Ring Groups > Department" in moved["msg"]
