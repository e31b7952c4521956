"""Confirmed writes (issue 14): a navigation property a PBX ignores or refuses inline is read back,
sent once as X@odata.bind, and otherwise fails naming the field, the forms tried and what was read."""

import re

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_inbound_rule, threecx_queue, threecx_ring_group
from tests.unit.plugins.module_utils.test_threecx_routing import FakeXapi, install, runner

NAV = {"Queues": ("Agents",), "RingGroups": ("Members",), "InboundRules": ("TrunkDN",)}
FALLBACK = {"type": "external", "external": "+14155550100"}
QUEUE = dict(number="800", name="Support", agents=["101", "100"], ring_timeout=10, queue_timeout=10, no_answer_destination=FALLBACK)


class NavXapi(FakeXapi):
    """``mode``: how the PBX takes a navigation property: inline (FakeXapi), ignored (2xx, dropped),
    bind-only (inline refused 400), never (ignored in both forms)."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def handle(self, method, path, query, body):
        if method in ("POST", "PATCH") and isinstance(body, dict):
            collection = path.split("(")[0].strip("/")
            body = dict(body)
            for prop in NAV.get(collection, ()):
                if prop in body:
                    if self.mode == "bind-only":
                        return 400, {"error": {"code": "400", "message": "navigation property %s cannot be written inline" % prop}}
                    if self.mode in ("ignored", "never"):
                        del body[prop]
                bound = body.pop(prop + "@odata.bind", None)
                if bound is not None and self.mode != "never":
                    body[prop] = self.bound(prop, bound)
        return super().handle(method, path, query, body)

    def bound(self, prop, value):
        if prop == "TrunkDN":
            return {"Id": int(re.match(r"Trunks\((\d+)\)$", value).group(1))}
        users = dict((u["Id"], u["Number"]) for u in self.all("Users"))
        return [{"Number": users[int(re.match(r"Users\((\d+)\)$", ref).group(1))]} for ref in value]


def members(pbx, collection, key):
    return sorted(a["Number"] for a in pbx.all(collection)[0].get(key) or [])


@pytest.mark.parametrize("mode", ["inline", "ignored", "bind-only"])
def test_queue_agents_land_in_every_reading_and_a_rerun_sends_only_reads(monkeypatch, tmp_path, mode):
    pbx = install(monkeypatch, tmp_path, NavXapi(mode))
    run = runner(threecx_queue.main)
    kind, result = run(monkeypatch, **QUEUE)
    assert kind == "exit" and result["changed"] is True, result
    assert members(pbx, "Queues", "Agents") == ["100", "101"]
    assert result["queue"]["agents"] == ["100", "101"]
    writes = [(m, sorted(b)) for m, p, b in pbx.writes()]
    if mode == "inline":
        assert writes == [("POST", sorted(["Number", "Name", "Agents", "PollingStrategy", "RingTimeout", "MasterTimeout", "ForwardNoAnswer"]))]
    elif mode == "ignored":
        assert writes[1] == ("PATCH", ["Agents@odata.bind"])
    else:  # refused inline: the same create once more, with the bind form
        assert [m for m, _b in writes] == ["POST", "POST"] and "Agents@odata.bind" in writes[1][1] and "Agents" not in writes[1][1]
    # A read-back follows the write, and only the write.
    pbx.sent.clear()
    kind, again = run(monkeypatch, **QUEUE)
    assert again["changed"] is False and pbx.writes() == []
    reads = [p for m, p, b in pbx.sent if m == "GET"]
    assert reads == ["/Queues(Number='800')"]


def test_update_of_members_confirmed_in_the_other_form(monkeypatch, tmp_path):
    pbx = install(monkeypatch, tmp_path, NavXapi("ignored"))
    run = runner(threecx_ring_group.main)
    kind, result = run(monkeypatch, number="801", name="RG", members=["100"], no_answer_destination=FALLBACK)
    assert members(pbx, "RingGroups", "Members") == ["100"]
    pbx.sent.clear()
    kind, result = run(monkeypatch, number="801", members=["100", "102"])
    assert kind == "exit" and result["changed"] is True, result
    assert members(pbx, "RingGroups", "Members") == ["100", "102"]
    assert [sorted(b) for m, p, b in pbx.writes()] == [["Members"], ["Members@odata.bind"]]


def test_a_pbx_that_takes_neither_form_fails_naming_field_forms_and_what_it_read(monkeypatch, tmp_path):
    pbx = install(monkeypatch, tmp_path, NavXapi("never"))
    run = runner(threecx_queue.main)
    kind, result = run(monkeypatch, **QUEUE)
    assert kind == "fail", result
    msg = result["msg"]
    assert msg.startswith("queue 800: the PBX answered the write but does not show it: agents (Agents)")
    assert "as Agents inline (accepted, not stored), then as Agents@odata.bind (accepted, not stored)" in msg
    assert "it reads back []" in msg and "threecx_info" in msg
    # The queue exists (the PBX made it): the next run finds it, and fails the same way, without a duplicate.
    kind, again = run(monkeypatch, **QUEUE)
    assert kind == "fail" and "Agents@odata.bind" in again["msg"] and len(pbx.all("Queues")) == 1


def test_a_field_without_another_form_that_was_not_stored_fails_naming_it(monkeypatch, tmp_path):
    class DropsRingTimeout(NavXapi):
        def handle(self, method, path, query, body):
            if method in ("POST", "PATCH") and isinstance(body, dict):
                body = dict((k, v) for k, v in body.items() if k != "RingTimeout")
            return super().handle(method, path, query, body)

    install(monkeypatch, tmp_path, DropsRingTimeout("inline"))
    kind, result = runner(threecx_queue.main)(monkeypatch, **QUEUE)
    assert kind == "fail"
    assert "ring_timeout (RingTimeout): sent as RingTimeout (accepted, not stored); it reads back 30" in result["msg"]
    assert "agents" not in result["msg"]


def test_refused_both_ways_says_so(monkeypatch, tmp_path):
    pbx = install(monkeypatch, tmp_path, NavXapi("bind-only"))
    pbx.fault("POST", r"^/Queues$", 400, times=2)
    kind, result = runner(threecx_queue.main)(monkeypatch, **QUEUE)
    assert kind == "fail"
    assert "refused the write both ways" in result["msg"] and "Agents inline (refused:" in result["msg"]
    assert "Agents@odata.bind (refused:" in result["msg"] and pbx.all("Queues") == []


def test_check_mode_reads_nothing_more(monkeypatch, tmp_path):
    pbx = install(monkeypatch, tmp_path, NavXapi("ignored"))
    kind, result = runner(threecx_queue.main)(monkeypatch, check=True, **QUEUE)
    assert result["changed"] is True and pbx.writes() == []


@pytest.mark.parametrize("mode", ["inline", "ignored", "bind-only"])
def test_inbound_rule_trunk_dn(monkeypatch, tmp_path, mode):
    pbx = install(monkeypatch, tmp_path, NavXapi(mode))
    trunk = pbx.add_trunk("Twilio", "10000", dids=["+13125550199"])
    pbx.add("Queues", {"Number": "800", "Name": "Q"})
    kind, result = runner(threecx_inbound_rule.main)(monkeypatch, did="+13125550199", trunk="Twilio", destination={"type": "queue", "number": "800"})
    assert kind == "exit" and result["changed"] is True, result
    rule = pbx.all("InboundRules")[0]
    assert rule["TrunkDN"]["Id"] == trunk["Id"]
    assert result["inbound_rule"]["trunk_id"] == trunk["Id"]
    if mode != "inline":
        assert any("TrunkDN@odata.bind" in b for m, p, b in pbx.writes())
