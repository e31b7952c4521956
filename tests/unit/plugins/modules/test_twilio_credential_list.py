"""twilio_credential_list in-process against FakeTwilio."""

import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_credential_list
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, TOKEN, FakeTwilio, install

CONN = {"account_sid": AC, "auth_token": TOKEN}
NAME = "acme PBX"
PW1 = "Secret0Password1"
PW2 = "Another2Password3"


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION"):
        monkeypatch.delenv(var, raising=False)
    return install(monkeypatch, FakeTwilio())


def run(monkeypatch, **args):
    args = dict(CONN, **args)
    args.setdefault("friendly_name", NAME)
    return run_module(twilio_credential_list.main, args, monkeypatch)


def tail(path):
    return path.split("/SIP/")[1]


def test_create_check_mode_then_apply_then_no_op(fake, monkeypatch):
    creds = [{"username": "acme-3cx", "password": PW1}]
    kind, check = run(monkeypatch, credentials=creds, _ansible_check_mode=True, _ansible_diff=True)
    assert kind == "exit" and check["changed"] is True and fake.writes() == []
    kind, done = run(monkeypatch, credentials=creds, _ansible_diff=True)
    assert done["changed"] is True and done["diff"] == check["diff"] == {
        "before": {"state": "absent", "credentials": []},
        "after": {"friendly_name": NAME, "state": "present", "credentials": ["acme-3cx"]},
    }
    cl = fake.rows("cls")[0]
    assert [(m, tail(p), sorted(f)) for m, _h, p, f in fake.writes()] == [
        ("POST", "CredentialLists.json", ["FriendlyName"]),
        ("POST", "CredentialLists/%s/Credentials.json" % cl["sid"], ["Password", "Username"]),
    ]
    cred = fake.rows("creds")[0]
    assert fake.passwords[cred["sid"]] == PW1
    assert done["credential_list"]["credentials"] == [{"sid": cred["sid"], "username": "acme-3cx"}]
    assert check["credential_list"]["credentials"] == [{"username": "acme-3cx"}]
    fake.sent.clear()
    # on_create: a changed password for an existing username is not sent, so reruns are idempotent.
    for check_mode in (True, False):
        kind, again = run(monkeypatch, credentials=[{"username": "acme-3cx", "password": PW2}], _ansible_check_mode=check_mode, _ansible_diff=True)
        assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert fake.writes() == [] and fake.passwords[cred["sid"]] == PW1


def test_update_password_always_sends_every_run_and_reports_a_change(fake, monkeypatch):
    cl = fake.add("cls", friendly_name=NAME)
    cred = fake.add("creds", parent=cl["sid"], username="acme-3cx")
    args = dict(credentials=[{"username": "acme-3cx", "password": PW2}], update_password="always")
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **args)
    assert check["changed"] is True and fake.writes() == []
    for _run in range(2):
        kind, done = run(monkeypatch, _ansible_diff=True, **args)
        assert done["changed"] is True and done["diff"] == check["diff"]
    assert done["diff"] == {"before": {"passwords_sent": []}, "after": {"passwords_sent": ["acme-3cx"]}}
    assert [(m, tail(p), f) for m, _h, p, f in fake.writes()] == [
        ("POST", "CredentialLists/%s/Credentials/%s.json" % (cl["sid"], cred["sid"]), {"Password": PW2})
    ] * 2
    assert fake.passwords[cred["sid"]] == PW2
    assert PW2 not in json.dumps([check, done])


def test_add_and_purge_credentials(fake, monkeypatch):
    cl = fake.add("cls", friendly_name=NAME)
    old = fake.add("creds", parent=cl["sid"], username="old")
    fake.add("creds", parent=cl["sid"], username="keep")
    creds = [{"username": "keep", "password": PW1}, {"username": "new", "password": PW2}]
    kind, added = run(monkeypatch, credentials=creds, _ansible_diff=True)
    assert added["changed"] is True and [u["username"] for u in added["credential_list"]["credentials"]] == ["keep", "new", "old"]
    assert added["diff"]["after"]["credentials"] == ["keep", "new", "old"]
    fake.sent.clear()
    kind, check = run(monkeypatch, credentials=creds, purge_credentials=True, _ansible_check_mode=True, _ansible_diff=True)
    kind, purged = run(monkeypatch, credentials=creds, purge_credentials=True, _ansible_diff=True)
    assert check["changed"] is purged["changed"] is True and check["diff"] == purged["diff"]
    assert [(m, tail(p).rsplit("/", 1)[1]) for m, _h, p, _f in fake.writes()] == [("DELETE", old["sid"] + ".json")]
    assert sorted(r["username"] for r in fake.rows("creds")) == ["keep", "new"]


def test_adopts_a_list_made_elsewhere(fake, monkeypatch):
    cl = fake.add("cls", friendly_name=NAME)
    fake.add("creds", parent=cl["sid"], username="acme-3cx")
    kind, res = run(monkeypatch, credentials=[{"username": "acme-3cx", "password": PW1}])
    assert res["changed"] is False and res["credential_list"]["sid"] == cl["sid"] and fake.writes() == []


def test_delete_then_delete_again(fake, monkeypatch):
    cl = fake.add("cls", friendly_name=NAME)
    fake.add("creds", parent=cl["sid"], username="acme-3cx")
    kind, check = run(monkeypatch, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    kind, done = run(monkeypatch, state="absent", _ansible_diff=True)
    assert check["changed"] is done["changed"] is True and check["diff"] == done["diff"]
    assert [(m, tail(p)) for m, _h, p, _f in fake.writes()] == [("DELETE", "CredentialLists/%s.json" % cl["sid"])]
    assert fake.rows("cls") == [] and fake.rows("creds") == []
    fake.sent.clear()
    kind, again = run(monkeypatch, state="absent")
    assert again["changed"] is False and fake.writes() == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(credentials=[{"username": "u", "password": "short1A"}]), "credentials[0].password (username u) does not meet Twilio's password rule"),
        (dict(credentials=[{"username": "u", "password": "alllowercase123"}]), "an upper-case letter"),
        (dict(credentials=[{"username": "u", "password": "NoDigitsHereAtAll"}]), "a digit"),
        (dict(credentials=[{"username": "u" * 33, "password": PW1}]), "credentials[0].username must have 1 to 32"),
        (dict(credentials=[{"username": "u", "password": PW1}, {"username": "u", "password": PW2}]), "username 'u' twice"),
        (dict(credentials=[{"username": "u"}]), "missing required arguments: password"),
        (dict(friendly_name="x" * 65), "friendly_name must have 1 to 64"),
        (dict(update_password="sometimes"), "update_password must be one of"),
    ],
)
def test_bad_input_fails_before_any_request_and_never_echoes_the_password(fake, monkeypatch, args, fragment):
    kind, res = run(monkeypatch, **args)
    assert kind == "fail" and fragment in res["msg"], res["msg"]
    assert fake.sent == []
    for cred in args.get("credentials", []):
        if cred.get("password"):
            assert cred["password"] not in json.dumps(res)


@pytest.mark.parametrize("region,host", [("ie1", "api.dublin.ie1.twilio.com"), ("au1", "api.sydney.au1.twilio.com")])
def test_regions(fake, monkeypatch, region, host):
    kind, res = run(monkeypatch, region=region, credentials=[{"username": "u", "password": PW1}])
    assert res["changed"] is True and {h for _m, h, _p, _f in fake.sent} == {host}


def test_faults_converge_without_duplicates(fake, monkeypatch):
    fake.fault("POST", r"CredentialLists\.json$", "status", status=429, retry_after=1)
    fake.fault("GET", r"CredentialLists\.json$", "status", status=503)
    fake.fault("POST", r"CredentialLists\.json$", "commit_then_drop")
    fake.fault("POST", r"Credentials\.json$", "commit_then_drop")
    fake.fault("GET", r"Credentials\.json$", "drop")
    creds = [{"username": "a", "password": PW1}, {"username": "b", "password": PW2}]
    kind, res = run(monkeypatch, credentials=creds)
    assert kind == "exit" and res["changed"] is True, res
    assert len(fake.rows("cls")) == 1 and sorted(r["username"] for r in fake.rows("creds")) == ["a", "b"]
    assert PW1 not in json.dumps(res) and PW2 not in json.dumps(res)
    fake.sent.clear()
    kind, again = run(monkeypatch, credentials=creds)
    assert again["changed"] is False and fake.writes() == []


def test_the_password_sub_option_is_no_log_so_ansible_masks_it_in_what_the_module_prints(fake, monkeypatch, capsys):
    """ansible-core itself masks a no_log value wherever it appears in the printed result (the invocation's module_args, a
    message): run main() with the real exit_json, as a task does, and read what it printed."""
    from ansible.module_utils.common.parameters import PASS_VARS

    from tests.unit.plugins.modtest import module_args

    args = dict(CONN, friendly_name=NAME, credentials=[{"username": "acme-3cx", "password": PW1}])
    if "inject_invocation" in PASS_VARS:  # ansible-core 2.19+ prints the invocation when the controller asks (-v)
        args["_ansible_inject_invocation"] = True
    with module_args(args), pytest.raises(SystemExit) as done:
        twilio_credential_list.main()
    assert done.value.code == 0
    printed = capsys.readouterr().out
    result = json.loads(printed)
    assert PW1 not in printed
    assert result["invocation"]["module_args"]["credentials"] == [{"username": "acme-3cx", "password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}]
    assert not [w for w in result.get("warnings", []) if "no_log" in w], result.get("warnings")


OLDER, NEWER = "Tue, 01 Dec 2026 10:00:00 +0000", "Tue, 01 Dec 2026 10:00:25 +0000"


def two_lists(fake, newer_holds=False):
    old = fake.add("cls", friendly_name=NAME, date_created=OLDER)
    fake.add("creds", parent=old["sid"], username="acme-3cx")
    new = fake.add("cls", friendly_name=NAME, date_created=NEWER)
    if newer_holds:
        fake.add("creds", parent=new["sid"], username="other")
    return old, new


def test_duplicates_fail_listing_each_with_sid_creation_time_and_entries_before_any_write(fake, monkeypatch):
    old, new = two_lists(fake)
    kind, res = run(monkeypatch, credentials=[{"username": "acme-3cx", "password": PW1}])
    assert kind == "fail" and fake.writes() == []
    assert "friendly_name: 2 credential lists are named 'acme PBX'" in res["msg"]
    assert "%s (created %s, 1 credential), %s (created %s, empty)" % (old["sid"], OLDER, new["sid"], NEWER) in res["msg"]
    assert "duplicates: adopt_oldest" in res["msg"]


def test_adopt_oldest_deletes_the_newer_empty_list_predicted_in_check_mode_then_converges(fake, monkeypatch):
    old, new = two_lists(fake)
    args = dict(credentials=[{"username": "acme-3cx", "password": PW1}], duplicates="adopt_oldest", _ansible_diff=True)
    kind, check = run(monkeypatch, _ansible_check_mode=True, **args)
    assert kind == "exit" and check["changed"] is True and check["duplicates_deleted"] == [new["sid"]] and fake.writes() == []
    kind, done = run(monkeypatch, **args)
    assert done["changed"] is True and done["duplicates_deleted"] == [new["sid"]] and done["diff"] == check["diff"]
    assert done["credential_list"]["sid"] == old["sid"] and [r["sid"] for r in fake.rows("cls")] == [old["sid"]]
    assert [(m, tail(p)) for m, _h, p, _f in fake.writes()] == [("DELETE", "CredentialLists/%s.json" % new["sid"])]
    fake.sent.clear()
    kind, again = run(monkeypatch, **args)
    assert again["changed"] is False and "duplicates_deleted" not in again and fake.writes() == []


def test_adopt_oldest_never_deletes_a_newer_list_that_holds_credentials(fake, monkeypatch):
    old, new = two_lists(fake, newer_holds=True)
    kind, res = run(monkeypatch, credentials=[{"username": "acme-3cx", "password": PW1}], duplicates="adopt_oldest")
    assert kind == "fail" and "%s holds entries and may be in use" % new["sid"] in res["msg"] and fake.writes() == []


def test_absent_with_duplicates_fails_whatever_duplicates_says(fake, monkeypatch):
    two_lists(fake)
    kind, res = run(monkeypatch, state="absent", duplicates="adopt_oldest")
    assert kind == "fail" and "2 credential lists are named" in res["msg"] and fake.writes() == []
