"""The delayed-create reproduction of issue 16: a create that lands after the client stopped waiting.

The lab's ``delay`` fault holds a create for longer than the module's ``timeout`` (the client's read
timeout) and then performs it: the client sees a timed-out create, the vendor makes the object
anyway. Before settle_timeout, the module said "nothing was made; it is safe to run again", and the
advised re-run made a second Twilio credential list (Twilio does not keep names unique).

Here the module runs in the test process against the lab, with real time (no fake clock): a first
run whose create is delayed past its read timeout, then re-runs. Every run ends with exactly one
object, the first one adopts what its create made, the re-runs change nothing, and no message says
that nothing was made. A run with a settle_timeout shorter than the delay fails saying that the
object may still appear, and the re-run after the create landed adopts it.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.lab_modules import LabModules, module_side, run

pytestmark = pytest.mark.lab

READ_TIMEOUT = 2  # the module's timeout option: how long the client waits for a reply
DELAY = 7  # how long the lab holds the create before it performs it
PW = "Secret0Password1"

CASES = {
    "twilio_credential_list": dict(
        args=dict(friendly_name="acme PBX (delayed)", credentials=[{"username": "acme-3cx", "password": PW}]),
        vendor="twilio",
        fault=dict(method="POST", path=r"/SIP/CredentialLists\.json$"),
    ),
    "threecx_queue": dict(
        args=dict(number="870", name="Delayed fallback"),
        vendor="threecx",
        fault=dict(method="POST", path=r"^/xapi/v1/Queues$"),
    ),
}


@pytest.fixture
def labmods(lab, monkeypatch, tmp_path):
    lab.reset()
    module_side(monkeypatch, tmp_path)
    return LabModules(lab)


def objects(labmods, module):
    """The objects of the case's natural key, from the lab's own state."""
    if module == "twilio_credential_list":
        resources = labmods.state("twilio")["regions"]["us1"]["resources"]
        return [r for r in resources["credential_lists"] if r["friendly_name"] == CASES[module]["args"]["friendly_name"]]
    return [q for q in labmods.state("threecx")["collections"]["Queues"] if q["Number"] == CASES[module]["args"]["number"]]


def delay_the_create(labmods, module):
    case = CASES[module]
    labmods.control(case["vendor"], "POST", "faults", {"faults": [dict(case["fault"], times=1, action={"kind": "delay", "seconds": DELAY})]})


def never_says_nothing_was_made(result):
    text = json.dumps(result).lower()
    assert "nothing was made" not in text and "safe to run again" not in text, result.get("msg")


@pytest.mark.parametrize("module", list(CASES))
def test_a_create_delayed_past_the_read_timeout_is_adopted_and_reruns_find_exactly_one(labmods, monkeypatch, module):
    args = dict(labmods.connection(module), timeout=READ_TIMEOUT, **CASES[module]["args"])
    delay_the_create(labmods, module)
    started = time.monotonic()
    kind, first = run(module, args, monkeypatch)
    took = time.monotonic() - started
    never_says_nothing_was_made(first)
    assert kind == "exit" and first["changed"] is True, first
    assert took >= DELAY - 0.5, "the create was adopted before the lab had made it (%.1f s)" % took
    assert len(objects(labmods, module)) == 1
    for _rerun in range(3):
        marks = labmods.marks()
        kind, again = run(module, args, monkeypatch)
        never_says_nothing_was_made(again)
        assert kind == "exit" and again["changed"] is False, again
        assert [m for _v, m, path in labmods.sent_since(marks) if m != "GET" and not path.endswith("/connect/token")] == []
        assert len(objects(labmods, module)) == 1


@pytest.mark.parametrize("module", list(CASES))
def test_a_settle_time_shorter_than_the_delay_says_it_may_still_appear_and_the_next_run_adopts_it(labmods, monkeypatch, module):
    args = dict(labmods.connection(module), timeout=READ_TIMEOUT, settle_timeout=1, **CASES[module]["args"])
    delay_the_create(labmods, module)
    started = time.monotonic()
    kind, first = run(module, args, monkeypatch)
    never_says_nothing_was_made(first)
    assert kind == "fail" and "may still appear" in first["msg"] and "the next run finds it" in first["msg"], first
    # The re-run the message advises, once the vendor has finished the create it was holding.
    time.sleep(max(0.0, DELAY + 1 - (time.monotonic() - started)))
    assert len(objects(labmods, module)) == 1, "the delayed create landed"
    for _rerun in range(2):
        kind, again = run(module, args, monkeypatch)
        never_says_nothing_was_made(again)
        assert kind == "exit", again
        assert len(objects(labmods, module)) == 1


def test_the_issues_duplicate_is_listed_and_adopt_oldest_deletes_the_late_empty_list(labmods, monkeypatch):
    """Issue 16 as reported: the advised re-run made a second list while the first create was still held.

    settle_timeout 0 stands for a re-run that comes before the held create lands (no settle time
    can cover every delay). The run after it lands fails listing both lists; adopt_oldest keeps the
    re-run's list (the oldest, with the credential) and deletes the late one, which holds nothing.
    """
    module = "twilio_credential_list"
    args = dict(labmods.connection(module), timeout=READ_TIMEOUT, settle_timeout=0, **CASES[module]["args"])
    delay_the_create(labmods, module)
    started = time.monotonic()
    kind, first = run(module, args, monkeypatch)
    assert kind == "fail" and "may still appear" in first["msg"], first
    kind, rerun = run(module, args, monkeypatch)
    assert kind == "exit" and rerun["changed"] is True, rerun
    kept = rerun["credential_list"]["sid"]
    time.sleep(max(0.0, DELAY + 1 - (time.monotonic() - started)))  # until the held create has landed
    lists = objects(labmods, module)
    assert len(lists) == 2
    late = next(item["sid"] for item in lists if item["sid"] != kept)
    marks = labmods.marks()
    kind, listed = run(module, args, monkeypatch)
    assert kind == "fail" and "2 credential lists are named" in listed["msg"], listed
    for item in lists:
        assert "%s (created %s" % (item["sid"], item["date_created"]) in listed["msg"], listed["msg"]
    assert "%s (created %s, empty)" % (late, next(i["date_created"] for i in lists if i["sid"] == late)) in listed["msg"]
    assert [m for _v, m, _p in labmods.sent_since(marks) if m != "GET"] == []
    kind, check = run(module, dict(args, duplicates="adopt_oldest", _ansible_check_mode=True), monkeypatch)
    assert kind == "exit" and check["duplicates_deleted"] == [late] and len(objects(labmods, module)) == 2
    kind, adopted = run(module, dict(args, duplicates="adopt_oldest"), monkeypatch)
    assert kind == "exit" and adopted["duplicates_deleted"] == [late] and adopted["credential_list"]["sid"] == kept, adopted
    assert [item["sid"] for item in objects(labmods, module)] == [kept]
    kind, again = run(module, dict(args, duplicates="adopt_oldest"), monkeypatch)
    assert kind == "exit" and again["changed"] is False
    for result in (first, rerun, listed, check, adopted, again):
        never_says_nothing_was_made(result)
