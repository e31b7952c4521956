"""threecx_agent_presence: agents on DND for the round trip and back, against a stateful PBX double.

The double keeps users and a queue, answers the reads the module sends and applies its PATCHes, so
that a test sees the PBX's state after a run (and after an interrupted one), not the calls' script.
"""

import json
import os
import re

import pytest
from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_agent_presence
from tests.unit.plugins.fakes import Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "presence-test-client-secret"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
DND = "Out of office"


class Pbx(ScriptedAdapter):
    """Users 100-102 (102 not in the queue), queue 800 with agents 100 and 101."""

    def __init__(self):
        super().__init__()
        self.users = {n: {"Id": i, "Number": n, "CurrentProfileName": "Available", "VMPIN": "4321"} for i, n in ((5, "100"), (6, "101"), (7, "102"))}
        self.users["101"]["CurrentProfileName"] = "Away"
        self.agents = ["100", "101"]
        self.ignore_profile = False  # the reading where the PBX answers 204 and keeps the profile
        self.fail_patch_of = None  # a number whose PATCH is refused (a fault half-way)
        self.always("POST", "/connect/token", Reply(200, {"access_token": "tok", "expires_in": 3600}))

    def send(self, request, **kwargs):
        url = request.url
        if "/xapi/v1/Queues(Number=" in url and request.method == "GET":
            self.sent.append((request.method, url, {}, None))
            agents = [{"Number": n} for n in self.agents]
            return self._response(request, Reply(200, {"Id": 3, "Number": "800", "Agents": agents}))
        if "/xapi/v1/Users?" in url and request.method == "GET":
            self.sent.append((request.method, url, {}, None))
            assert "%24select=Id%2CNumber%2CCurrentProfileName" in url, "users are read with $select only"
            wanted = re.findall(r"Number\+eq\+%27(\d+)%27", url)
            rows = [dict((k, u[k]) for k in ("Id", "Number", "CurrentProfileName")) for n, u in self.users.items() if n in wanted]
            return self._response(request, Reply(200, {"value": rows, "@odata.count": len(rows)}))
        found = re.search(r"/xapi/v1/Users\((\d+)\)$", url)
        if found and request.method == "PATCH":
            body = json.loads(request.body)
            self.sent.append((request.method, url, {}, body))
            user = next(u for u in self.users.values() if u["Id"] == int(found.group(1)))
            if user["Number"] == self.fail_patch_of:
                return self._response(request, Reply(500, {"error": {"code": "", "message": "internal error"}}))
            if not self.ignore_profile:
                user.update(body)
            return self._response(request, Reply(204))
        return super().send(request, **kwargs)

    def profiles(self):
        return dict((n, u["CurrentProfileName"]) for n, u in self.users.items())

    def patches(self):
        return [(u.rsplit("/", 1)[-1], b) for m, u, _h, b in self.sent if m == "PATCH"]


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    adapter = Pbx()
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        kwargs["session"] = session_with(adapter)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path / "tokens"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return adapter


@pytest.fixture
def journal(tmp_path):
    return str(tmp_path / "presence" / "acme.json")


def dnd(monkeypatch, journal, **extra):
    return run_module(threecx_agent_presence.main, dict(CONN, group_type="queue", group="800", journal=journal, **extra), monkeypatch)


def restored(monkeypatch, journal, **extra):
    return run_module(threecx_agent_presence.main, dict(CONN, state="restored", journal=journal, **extra), monkeypatch)


def test_dnd_records_the_previous_presence_before_writing_and_restored_puts_it_back(pbx, monkeypatch, journal):
    kind, result = dnd(monkeypatch, journal, _ansible_diff=True)
    assert kind == "exit" and result["changed"] is True, result
    assert pbx.profiles() == {"100": DND, "101": DND, "102": "Available"}
    assert result["diff"] == {"before": {"100": "Available", "101": "Away"}, "after": {"100": DND, "101": DND}}
    assert result["journal"] == {"path": journal, "exists": True}
    recorded = json.loads(open(journal).read())
    assert recorded["extensions"] == {"100": {"id": 5, "previous": "Available"}, "101": {"id": 6, "previous": "Away"}}
    assert recorded["url"] == CONN["url"] and recorded["profile"] == DND
    assert os.stat(journal).st_mode & 0o777 == 0o600 and os.stat(os.path.dirname(journal)).st_mode & 0o777 == 0o700
    assert SECRET not in open(journal).read() and "4321" not in open(journal).read()

    # A second run changes nothing and only reads.
    writes = len(pbx.patches())
    kind, again = dnd(monkeypatch, journal)
    assert again["changed"] is False and len(pbx.patches()) == writes, again

    kind, back = restored(monkeypatch, journal, _ansible_diff=True)
    assert kind == "exit" and back["changed"] is True, back
    assert pbx.profiles() == {"100": "Available", "101": "Away", "102": "Available"}
    assert back["diff"] == {"before": {"100": DND, "101": DND}, "after": {"100": "Available", "101": "Away"}}
    assert not os.path.exists(journal) and back["journal"]["exists"] is False

    # Without a journal there is nothing to put back, and not one request.
    sent = len(pbx.sent)
    kind, none = restored(monkeypatch, journal)
    assert none["changed"] is False and len(pbx.sent) == sent and "no presence to put back" in none["msg"], none


def test_check_mode_predicts_and_writes_neither_the_pbx_nor_the_journal(pbx, monkeypatch, journal):
    kind, result = dnd(monkeypatch, journal, _ansible_check_mode=True)
    assert result["changed"] is True and pbx.patches() == [] and not os.path.exists(journal), result
    assert [r["after"] for r in result["presence"]] == [DND, DND]
    dnd(monkeypatch, journal)
    kind, back = restored(monkeypatch, journal, _ansible_check_mode=True)
    assert back["changed"] is True and os.path.exists(journal) and pbx.profiles()["100"] == DND, back
    assert len(pbx.patches()) == 2


def test_an_interrupted_round_trip_is_put_back_and_a_rerun_never_records_its_own_dnd(pbx, monkeypatch, journal):
    # The play stops after the DND: no restore ran. The next run's DND keeps the first record.
    dnd(monkeypatch, journal)
    pbx.users["102"]["CurrentProfileName"] = "Away"
    pbx.agents.append("102")  # an agent added meanwhile is recorded too
    kind, again = dnd(monkeypatch, journal)
    assert again["changed"] is True and [p for p, _b in pbx.patches()][-1] == "Users(7)", again
    assert json.loads(open(journal).read())["extensions"] == {
        "100": {"id": 5, "previous": "Available"},
        "101": {"id": 6, "previous": "Away"},
        "102": {"id": 7, "previous": "Away"},
    }
    restored(monkeypatch, journal)
    assert pbx.profiles() == {"100": "Available", "101": "Away", "102": "Away"}


def test_a_fault_half_way_leaves_the_journal_and_the_next_restore_finishes(pbx, monkeypatch, journal):
    pbx.fail_patch_of = "101"
    kind, result = dnd(monkeypatch, journal)
    assert kind == "fail" and pbx.profiles()["100"] == DND and pbx.profiles()["101"] == "Away", result
    assert os.path.exists(journal)  # recorded before the first write
    pbx.fail_patch_of = None
    kind, back = restored(monkeypatch, journal)
    assert kind == "exit" and back["changed"] is True, back
    assert pbx.profiles() == {"100": "Available", "101": "Away", "102": "Available"}
    assert [p for p, _b in pbx.patches()][-1] == "Users(5)"  # 101 kept its own profile: nothing to write


def test_an_agent_who_changed_their_presence_meanwhile_keeps_it(pbx, monkeypatch, journal):
    dnd(monkeypatch, journal)
    pbx.users["100"]["CurrentProfileName"] = "Custom 1"
    kind, back = restored(monkeypatch, journal)
    assert pbx.profiles() == {"100": "Custom 1", "101": "Away", "102": "Available"}
    warned = "extension 100 is 'Custom 1' now, not the 'Out of office' this module set: left as its agent chose"
    assert warned in get_warning_messages(), back
    assert not os.path.exists(journal)


def test_a_pbx_that_keeps_the_profile_fails_naming_the_extensions(pbx, monkeypatch, journal):
    pbx.ignore_profile = True
    kind, result = dnd(monkeypatch, journal)
    assert kind == "fail", result
    assert "extension 100 is 'Available', not 'Out of office'" in result["msg"] and "UNCONFIRMED" in result["msg"], result
    assert "put the agents on Do Not Disturb by hand" in result["msg"]
    # Nothing changed, so the restore writes nothing and drops the journal.
    kind, back = restored(monkeypatch, journal)
    assert back["changed"] is False and not os.path.exists(journal) and len(pbx.patches()) == 2, back


@pytest.mark.parametrize(
    "body, words",
    [
        ("not json", "cannot be read"),
        (json.dumps({"format": 1, "url": "https://other.test:5001", "profile": DND, "extensions": {}}), "records the presence of another PBX"),
        (json.dumps({"format": 9, "extensions": {}}), "is not a presence journal"),
        (json.dumps({"format": 1, "url": CONN["url"], "profile": DND, "extensions": {"100": {"id": "x", "previous": "Away"}}}), "bad entry for extension 100"),
    ],
)
def test_a_journal_that_cannot_be_trusted_is_refused_before_any_write(pbx, monkeypatch, journal, body, words):
    os.makedirs(os.path.dirname(journal))
    open(journal, "w").write(body)
    for run in (dnd, restored):
        kind, result = run(monkeypatch, journal)
        assert kind == "fail" and words in result["msg"] and result["msg"].startswith("journal: "), result
    assert pbx.patches() == []


def test_a_journal_of_another_profile_must_be_put_back_first(pbx, monkeypatch, journal):
    dnd(monkeypatch, journal)
    kind, result = dnd(monkeypatch, journal, profile="Away")
    assert kind == "fail" and "records agents put on 'Out of office', not 'Away'; put them back first (state=restored)" in result["msg"], result


@pytest.mark.parametrize(
    "args, words",
    [
        ({"group_type": "queue", "group": "80a"}, "group"),
        ({"group_type": "queue", "group": "800", "profile": " "}, "profile must not be empty"),
        ({"group_type": "queue"}, "group"),
        ({}, "group_type"),
    ],
)
def test_bad_input_is_refused_before_any_request(pbx, monkeypatch, journal, args, words):
    kind, result = run_module(threecx_agent_presence.main, dict(CONN, journal=journal, **args), monkeypatch)
    assert kind == "fail" and words in result["msg"], result
    assert pbx.sent == []


def test_a_journal_path_that_is_a_directory_is_refused(pbx, monkeypatch, tmp_path):
    kind, result = restored(monkeypatch, str(tmp_path))
    assert kind == "fail" and "is a directory" in result["msg"] and pbx.sent == [], result
