"""threecx_queue in-process against FakeXapi, a stateful stand-in of the XAPI."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_queue
from tests.unit.plugins.module_utils.test_threecx_routing import QUEUE_DEFAULTS, SECRET, FakeXapi, install, runner

run = runner(threecx_queue.main)

FALLBACK = {"type": "external", "external": "+14155550100"}
WANT = dict(
    number="800",
    name="Support",
    agents=["101", "100"],
    ring_timeout=10,
    queue_timeout=10,
    no_answer_destination=FALLBACK,
)


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path, FakeXapi())


def warnings():
    try:
        from ansible.module_utils.common.warnings import get_warning_messages

        return list(get_warning_messages())
    except ImportError:  # pragma: no cover
        return []


def queues(pbx):
    return [q for q in pbx.all("Queues") if q["Number"] == "800"]


def test_create_check_mode_then_apply_then_converged(pbx, monkeypatch):
    kind, check = run(monkeypatch, check=True, **WANT)
    assert kind == "exit" and check["changed"] is True
    assert pbx.writes() == []
    assert check["diff"]["before"] == {"state": "absent"}
    assert check["diff"]["after"]["agents"] == ["100", "101"]
    assert check["queue"]["id"] is None and check["queue"]["polling_strategy"] == "ring_all"

    kind, applied = run(monkeypatch, **WANT)
    assert kind == "exit" and applied["changed"] is True
    assert applied["diff"] == check["diff"]
    assert applied["msg"] == "queue 800 created"
    assert pbx.writes() == [
        (
            "POST",
            "/Queues",
            {
                "Number": "800",
                "Name": "Support",
                "Agents": [{"Number": "100"}, {"Number": "101"}],
                "PollingStrategy": "RingAll",
                "RingTimeout": 10,
                "MasterTimeout": 10,
                "ForwardNoAnswer": {"To": "External", "Number": "", "External": "+14155550100"},
            },
        )
    ]
    created = queues(pbx)[0]
    assert applied["queue"] == dict(check["queue"], id=created["Id"])
    assert applied["queue"]["no_answer_destination"] == {"type": "external", "number": None, "external": "+14155550100"}

    pbx.sent.clear()
    for check_mode in (True, False):
        kind, again = run(monkeypatch, check=check_mode, **WANT)
        assert kind == "exit" and again["changed"] is False
        assert again["diff"] == {"before": {}, "after": {}}
        assert again["queue"] == applied["queue"]
    assert pbx.writes() == []
    assert len(queues(pbx)) == 1
    # Converged: the agents are already members and the destination is unchanged, so neither
    # the extensions nor the destination's target are read again.
    assert [p for m, p, b in pbx.sent if p.startswith("/Users")] == []


def test_only_new_agents_are_checked_as_extensions(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, result = run(monkeypatch, **dict(WANT, agents=["100", "101", "102"]))
    assert kind == "exit" and result["changed"] is True
    users = [p for m, p, b in pbx.sent if p.startswith("/Users")]
    assert len(users) == 1
    kind, result = run(monkeypatch, **dict(WANT, agents=["100", "999"]))
    assert kind == "fail" and "999" in result["msg"]


@pytest.mark.parametrize(
    "change,payload,before",
    [
        (dict(name="Helpdesk"), {"Name": "Helpdesk"}, {"name": "Support"}),
        (dict(agents=["100", "102"]), {"Agents": [{"Number": "100"}, {"Number": "102"}]}, {"agents": ["100", "101"]}),
        (dict(agents=[]), {"Agents": []}, {"agents": ["100", "101"]}),
        (dict(polling_strategy="hunt"), {"PollingStrategy": "Hunt"}, {"polling_strategy": "ring_all"}),
        (dict(ring_timeout=15, queue_timeout=20), {"RingTimeout": 15, "MasterTimeout": 20}, {"ring_timeout": 10, "queue_timeout": 10}),
        (
            dict(no_answer_destination={"type": "voicemail", "number": "100"}),
            {"ForwardNoAnswer": {"To": "VoiceMail", "Number": "100", "External": ""}},
            {"no_answer_destination": {"type": "external", "number": None, "external": "+14155550100"}},
        ),
        (
            dict(no_answer_destination={"type": "external", "external": "sip:+14155550100@acme.sip.us1.twilio.com"}),
            {"ForwardNoAnswer": {"To": "External", "Number": "", "External": "sip:+14155550100@acme.sip.us1.twilio.com"}},
            None,
        ),
        (dict(no_answer_destination={"type": "none"}), {"ForwardNoAnswer": {"To": "None", "Number": "", "External": ""}}, None),
    ],
)
def test_update_each_option_sends_only_that_field(pbx, monkeypatch, change, payload, before):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    args = dict(WANT, **change)
    kind, check = run(monkeypatch, check=True, **args)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    kind, result = run(monkeypatch, **args)
    assert kind == "exit" and result["changed"] is True
    qid = queues(pbx)[0]["Id"]
    assert pbx.writes() == [("PATCH", "/Queues(%d)" % qid, payload)]
    assert result["diff"] == check["diff"]
    assert result["queue"] == check["queue"]
    if before is not None:
        assert result["diff"]["before"] == before
    kind, again = run(monkeypatch, **args)
    assert again["changed"] is False


def test_purge_agents_false_only_adds(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, result = run(monkeypatch, number="800", agents=["102", "100"], purge_agents=False)
    assert result["changed"] is True
    assert pbx.writes()[0][2] == {"Agents": [{"Number": "100"}, {"Number": "101"}, {"Number": "102"}]}
    assert result["diff"] == {"before": {"agents": ["100", "101"]}, "after": {"agents": ["100", "101", "102"]}}
    kind, again = run(monkeypatch, number="800", agents=["101"], purge_agents=False)
    assert again["changed"] is False


def test_options_not_given_are_not_compared(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, result = run(monkeypatch, number="800")
    assert result["changed"] is False and pbx.writes() == []
    assert result["queue"]["agents"] == ["100", "101"]


def test_delete_then_delete_again(pbx, monkeypatch):
    run(monkeypatch, **WANT)
    qid = queues(pbx)[0]["Id"]
    pbx.sent.clear()
    kind, check = run(monkeypatch, check=True, number="800", state="absent")
    assert check["changed"] is True and pbx.writes() == []
    assert check["diff"]["after"] == {"state": "absent"} and check["diff"]["before"]["state"] == "present"
    kind, result = run(monkeypatch, number="800", state="absent")
    assert result["changed"] is True and result["msg"] == "queue 800 deleted"
    assert pbx.writes() == [("DELETE", "/Queues(%d)" % qid, None)]
    assert result["diff"] == check["diff"]
    assert queues(pbx) == []
    kind, again = run(monkeypatch, number="800", state="absent")
    assert again["changed"] is False and again["msg"] == "queue 800 already absent"


def test_a_queue_made_outside_ansible_is_adopted(pbx, monkeypatch):
    pbx.add("Queues", dict(QUEUE_DEFAULTS, Number="800", Name="Made by hand", Agents=[{"Number": "100"}]))
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit" and result["changed"] is True
    assert [m for m, _p, _b in pbx.writes()] == ["PATCH"]
    assert set(result["diff"]["after"]) == {"name", "agents", "polling_strategy", "ring_timeout", "queue_timeout", "no_answer_destination"}
    assert len(queues(pbx)) == 1


@pytest.mark.parametrize("version", ["20.0.7", "20.0.8", "20.0.9", "20.0.10"])
def test_every_supported_version_converges(monkeypatch, tmp_path, version):
    pbx = install(monkeypatch, tmp_path, FakeXapi(version))
    for expected in (True, False):
        pbx.sent.clear()
        kind, result = run(monkeypatch, **WANT)
        assert kind == "exit" and result["changed"] is expected
    # The converged run: the Number key first; only a PBX older than 20.0.8 refuses it, and
    # only then is the version read and the GetByNumber function asked.
    reads = [p for m, p, _b in pbx.sent if m == "GET"]
    if version == "20.0.7":
        assert reads == ["/Queues(Number='800')", "/Defs/Pbx.GetSystemParameters()", "/Queues/Pbx.GetByNumber(number='800')"]
    else:
        assert reads == ["/Queues(Number='800')"]
    run(monkeypatch, number="800", state="absent")
    assert pbx.all("Queues") == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(number="80 0"), "number must contain only digits"),
        (dict(number=""), "number must have at least 1"),
        (dict(agents=["100", "1o1"]), "agents must contain only digits"),
        (dict(ring_timeout=0), "ring_timeout must be greater than 0"),
        (dict(queue_timeout=-5), "queue_timeout must be greater than 0"),
        (dict(name=" "), "name must not be empty"),
        (dict(no_answer_destination={"type": "external", "external": "+1 415 555"}), "no_answer_destination.external must be a phone number"),
        (dict(no_answer_destination={"type": "external", "external": "+0123456"}), "never starts with 0"),
        (dict(no_answer_destination={"type": "external"}), "type external needs 'external'"),
        (dict(no_answer_destination={"type": "queue"}), "type queue needs 'number'"),
        (dict(polling_strategy="round_robin"), "polling_strategy must be one of"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.sent == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(agents=["100", "199"]), "agents: no extension '199' on the PBX"),
        (dict(no_answer_destination={"type": "extension", "number": "555"}), "no_answer_destination.number: no extension '555'"),
        (dict(no_answer_destination={"type": "ring_group", "number": "700"}), "no ring group '700' on the PBX"),
        (dict(name=None), "name is required to create queue 800"),
    ],
)
def test_bad_references_fail_with_reads_only(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **dict(WANT, **args))
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.writes() == []
    assert SECRET not in repr(result)


def test_a_queue_timeout_shorter_than_the_ring_timeout_warns(pbx, monkeypatch):
    kind, result = run(monkeypatch, **dict(WANT, ring_timeout=20, queue_timeout=10))
    assert kind == "exit"
    assert any("queue_timeout (10 s) is shorter than ring_timeout (20 s)" in w for w in warnings())


def test_faults_converge_without_duplicates(pbx, monkeypatch):
    pbx.fault("GET", r"^/Queues\(", 503)
    pbx.fault("POST", r"^/Queues$", 429)
    pbx.fault("POST", r"^/Queues$", "commit_then_drop")
    kind, result = run(monkeypatch, **WANT)
    assert kind == "exit" and result["changed"] is True
    assert result["queue"]["id"] == queues(pbx)[0]["Id"]
    assert len(queues(pbx)) == 1
    pbx.fault("PATCH", r"^/Queues\(", "drop")
    pbx.fault("PATCH", r"^/Queues\(", 503)
    kind, result = run(monkeypatch, **dict(WANT, ring_timeout=12, queue_timeout=12))
    assert kind == "exit" and result["changed"] is True
    assert queues(pbx)[0]["RingTimeout"] == 12
    pbx.fault("GET", r"^/Queues\(", "revoke")
    kind, result = run(monkeypatch, **dict(WANT, ring_timeout=12, queue_timeout=12))
    assert kind == "exit" and result["changed"] is False
    assert len(queues(pbx)) == 1


def test_a_create_that_never_landed_says_it_may_still_appear(pbx, monkeypatch):
    pbx.fault("POST", r"^/Queues$", "drop")
    kind, result = run(monkeypatch, **WANT)
    assert kind == "fail"
    assert "was not seen in 60 s of reading it back. It may still appear" in result["msg"]
    assert queues(pbx) == []


def test_check_mode_with_a_ring_group_still_to_make_as_destination_warns(pbx, monkeypatch):
    """The no-answer destination may be made later in the play; agents never are."""
    warned = []
    monkeypatch.setattr(threecx_queue.ThreeCXModule, "warn", lambda self, msg: warned.append(msg))
    args = dict(WANT, no_answer_destination={"type": "ring_group", "number": "700"})
    kind, check = run(monkeypatch, check=True, **args)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    assert check["diff"]["after"]["no_answer_destination"] == {"type": "ring_group", "number": "700", "external": None}
    assert [w for w in warned if "check mode assumes" in w] == [
        "no_answer_destination: ring group '700' does not exist on the PBX; check mode assumes that an earlier task in the same play "
        "creates it and predicts the change (a run without check mode fails if it still does not exist)"
    ]
    kind, real = run(monkeypatch, **args)
    assert kind == "fail" and "no_answer_destination: there is no ring group '700' on the PBX" in real["msg"]
    kind, real = run(monkeypatch, check=True, **dict(args, agents=["100", "199"]))
    assert kind == "fail" and "agents: no extension '199' on the PBX" in real["msg"]
    assert pbx.writes() == []


# ---------------------------------------------------------------------------- departments


def group_id(pbx, name):
    return [g["Id"] for g in pbx.all("Groups") if g["Name"] == name][0]


def test_a_new_queue_is_created_in_the_departments_given_then_converges_with_reads_only(pbx, monkeypatch):
    want = dict(WANT, departments=["Sales"])
    kind, check = run(monkeypatch, check=True, **want)
    assert kind == "exit" and check["changed"] is True and pbx.writes() == []
    assert check["diff"]["after"]["departments"] == ["Sales"] and check["queue"]["departments"] == ["Sales"]
    kind, applied = run(monkeypatch, **want)
    assert kind == "exit" and applied["diff"] == check["diff"] and applied["queue"]["departments"] == ["Sales"]
    [(method, _path, body)] = pbx.writes()
    assert method == "POST" and body["Groups"] == [{"GroupId": group_id(pbx, "Sales")}]
    assert [g["Name"] for g in queues(pbx)[0]["Groups"]] == ["Sales"]
    pbx.sent.clear()
    kind, again = run(monkeypatch, **want)
    assert kind == "exit" and again["changed"] is False and pbx.writes() == []
    # Converged: the queue is read with its departments ($expand=Groups: the fake shows them only
    # then), and the names need no read of /Groups.
    assert [p for m, p, _b in pbx.sent if m == "GET"] == ["/Defs/Pbx.GetSystemParameters()", "/Queues(Number='800')"]


def test_an_existing_queue_in_its_department_is_left_there(pbx, monkeypatch):
    run(monkeypatch, **WANT)  # created in DEFAULT, as a PBX does
    pbx.sent.clear()
    kind, result = run(monkeypatch, **dict(WANT, departments=["DEFAULT"]))
    assert kind == "exit" and result["changed"] is False and result["queue"]["departments"] == ["DEFAULT"]
    assert pbx.writes() == [] and [p for _m, p, _b in pbx.sent if p.startswith("/Groups")] == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_existing_queue_in_another_department_is_not_moved(pbx, monkeypatch, check_mode):
    run(monkeypatch, **WANT)
    pbx.sent.clear()
    kind, result = run(monkeypatch, check=check_mode, **dict(WANT, departments=["Sales"]))
    assert kind == "fail" and pbx.writes() == []
    assert result["msg"].startswith("departments: queue 800 is in department DEFAULT, not in Sales; giving it Sales would move it out of its department")
    assert "threecx_fallback_departments: [DEFAULT]" in result["msg"]


def test_a_queue_in_no_department_is_given_the_departments(pbx, monkeypatch):
    pbx.add("Queues", dict(QUEUE_DEFAULTS, **dict(Number="800", Name="Support", PollingStrategy="RingAll", Groups=[])))
    kind, result = run(monkeypatch, number="800", departments=["Sales"])
    assert kind == "exit" and result["changed"] is True
    assert result["diff"] == {"before": {"departments": []}, "after": {"departments": ["Sales"]}}
    assert pbx.writes()[-1][2] == {"Groups": [{"GroupId": group_id(pbx, "Sales")}]}


def test_departments_need_known_names(pbx, monkeypatch):
    kind, result = run(monkeypatch, **dict(WANT, departments=["Nope"]))
    assert kind == "fail" and "departments: no department 'Nope' on the PBX" in result["msg"] and pbx.writes() == []
    kind, result = run(monkeypatch, **dict(WANT, departments=[" "]))
    assert kind == "fail" and "departments[0]: a department name must not be empty" in result["msg"]


def test_departments_need_20_0_8(monkeypatch, tmp_path):
    old = install(monkeypatch, tmp_path, FakeXapi("20.0.7"))
    kind, result = run(monkeypatch, **dict(WANT, departments=["Sales"]))
    assert kind == "fail" and "3CX 20.0.8 or later is needed" in result["msg"] and old.writes() == []
