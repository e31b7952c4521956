"""twilio_ip_acl in-process against FakeTwilio."""

import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_ip_acl
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, TOKEN, FakeTwilio, install

CONN = {"account_sid": AC, "auth_token": TOKEN}
NAME = "acme PBX"


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION"):
        monkeypatch.delenv(var, raising=False)
    return install(monkeypatch, FakeTwilio())


def run(monkeypatch, **args):
    args = dict(CONN, **args)
    args.setdefault("friendly_name", NAME)
    return run_module(twilio_ip_acl.main, args, monkeypatch)


def tail(path):
    return path.split("/SIP/")[1]


def test_create_check_mode_then_apply_then_no_op(fake, monkeypatch):
    entries = ["203.0.113.10", {"ip": "198.51.100.0", "cidr_prefix_length": 24, "friendly_name": "office"}]
    kind, check = run(monkeypatch, ip_addresses=entries, _ansible_check_mode=True, _ansible_diff=True)
    assert kind == "exit" and check["changed"] is True and fake.writes() == []
    assert check["diff"] == {
        "before": {"state": "absent", "ip_addresses": []},
        "after": {"friendly_name": NAME, "state": "present", "ip_addresses": ["198.51.100.0/24", "203.0.113.10/32"]},
    }
    kind, done = run(monkeypatch, ip_addresses=entries, _ansible_diff=True)
    assert kind == "exit" and done["changed"] is True and done["diff"] == check["diff"]
    acl = fake.rows("acls")[0]
    assert [(m, tail(p), f) for m, _h, p, f in fake.writes()] == [
        ("POST", "IpAccessControlLists.json", {"FriendlyName": NAME}),
        ("POST", "IpAccessControlLists/%s/IpAddresses.json" % acl["sid"],
         {"IpAddress": "203.0.113.10", "CidrPrefixLength": "32", "FriendlyName": "203.0.113.10/32"}),
        ("POST", "IpAccessControlLists/%s/IpAddresses.json" % acl["sid"], {"IpAddress": "198.51.100.0", "CidrPrefixLength": "24", "FriendlyName": "office"}),
    ]

    def strip(items):
        return [dict((k, v) for k, v in i.items() if k != "sid") for i in items]

    assert strip(done["ip_acl"]["ip_addresses"]) == strip(check["ip_acl"]["ip_addresses"]) == [
        {"ip": "198.51.100.0", "cidr_prefix_length": 24, "friendly_name": "office"},
        {"ip": "203.0.113.10", "cidr_prefix_length": 32, "friendly_name": "203.0.113.10/32"},
    ]
    assert done["ip_acl"]["sid"] == acl["sid"]
    fake.sent.clear()
    for check_mode in (True, False):
        kind, again = run(monkeypatch, ip_addresses=entries, _ansible_check_mode=check_mode, _ansible_diff=True)
        assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert fake.writes() == []


def test_update_entries_add_rename_and_purge(fake, monkeypatch):
    acl = fake.add("acls", friendly_name=NAME)
    old = fake.add("ips", parent=acl["sid"], ip_address="192.0.2.1", cidr_prefix_length=32, friendly_name="old")
    keep = fake.add("ips", parent=acl["sid"], ip_address="203.0.113.10", cidr_prefix_length=0, friendly_name="made by hand")
    # A plain string does not compare the entry's name: an entry made elsewhere keeps its name.
    kind, res = run(monkeypatch, ip_addresses=["203.0.113.10"], purge_ip_addresses=False)
    assert res["changed"] is False and fake.writes() == []
    # Rename in place.
    kind, check = run(monkeypatch, ip_addresses=[{"ip": "203.0.113.10", "friendly_name": "pbx"}], purge_ip_addresses=False,
                      _ansible_check_mode=True, _ansible_diff=True)
    kind, done = run(monkeypatch, ip_addresses=[{"ip": "203.0.113.10", "friendly_name": "pbx"}], purge_ip_addresses=False, _ansible_diff=True)
    assert check["changed"] is done["changed"] is True
    assert [(m, tail(p), f) for m, _h, p, f in fake.writes()] == [
        ("POST", "IpAccessControlLists/%s/IpAddresses/%s.json" % (acl["sid"], keep["sid"]), {"FriendlyName": "pbx"})
    ]
    fake.sent.clear()
    # Purge (the default) removes what is not listed, deletes first.
    kind, check = run(monkeypatch, ip_addresses=["203.0.113.10", "198.51.100.4/30"], _ansible_check_mode=True, _ansible_diff=True)
    assert check["changed"] is True and fake.writes() == []
    kind, done = run(monkeypatch, ip_addresses=["203.0.113.10", "198.51.100.4/30"], _ansible_diff=True)
    assert done["diff"] == check["diff"] == {
        "before": {"ip_addresses": ["192.0.2.1/32", "203.0.113.10/32"]},
        "after": {"ip_addresses": ["198.51.100.4/30", "203.0.113.10/32"]},
    }
    assert [(m, tail(p).rsplit("/", 1)[1]) for m, _h, p, _f in fake.writes()] == [("DELETE", old["sid"] + ".json"), ("POST", "IpAddresses.json")]
    assert sorted((r["ip_address"], r["cidr_prefix_length"]) for r in fake.rows("ips")) == [("198.51.100.4", 30), ("203.0.113.10", 0)]


def test_adopts_a_list_made_elsewhere_and_leaves_entries_alone_when_not_given(fake, monkeypatch):
    acl = fake.add("acls", friendly_name=NAME)
    fake.add("ips", parent=acl["sid"], ip_address="203.0.113.10", cidr_prefix_length=32, friendly_name="x")
    kind, res = run(monkeypatch)
    assert res["changed"] is False and res["ip_acl"]["sid"] == acl["sid"]
    assert res["ip_acl"]["ip_addresses"][0]["ip"] == "203.0.113.10" and fake.writes() == []


def test_two_lists_with_the_name_fail_naming_both(fake, monkeypatch):
    a = fake.add("acls", friendly_name=NAME)
    b = fake.add("acls", friendly_name=NAME)
    kind, res = run(monkeypatch, ip_addresses=["203.0.113.10"])
    assert kind == "fail" and a["sid"] in res["msg"] and b["sid"] in res["msg"] and "friendly_name" in res["msg"]
    assert fake.writes() == []


def test_delete_then_delete_again(fake, monkeypatch):
    acl = fake.add("acls", friendly_name=NAME)
    fake.add("ips", parent=acl["sid"], ip_address="203.0.113.10", cidr_prefix_length=32, friendly_name="x")
    kind, check = run(monkeypatch, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    kind, done = run(monkeypatch, state="absent", _ansible_diff=True)
    assert check["changed"] is done["changed"] is True and check["diff"] == done["diff"]
    assert [(m, tail(p)) for m, _h, p, _f in fake.writes()] == [("DELETE", "IpAccessControlLists/%s.json" % acl["sid"])]
    assert fake.rows("acls") == [] and fake.rows("ips") == []
    fake.sent.clear()
    kind, again = run(monkeypatch, state="absent")
    assert again["changed"] is False and fake.writes() == []


@pytest.mark.parametrize(
    "entries,fragment",
    [
        (["0.0.0.0/0"], "ip_addresses[0]: a /0 prefix would admit every address"),
        ([{"ip": "10.0.0.0", "cidr_prefix_length": 0}], "a /0 prefix would admit every address"),
        (["2001:db8::1"], "ip_addresses[0]: '2001:db8::1' is an IPv6 address"),
        (["203.0.113.300"], "not an IPv4 address"),
        (["203.0.113.0/33"], "prefix length must be from 1 to 32"),
        ([{"ip": "203.0.113.0", "cidr_prefix_length": "x"}], "whole number"),
        ([{"address": "203.0.113.0"}], "unknown key(s) address"),
        ([{"cidr_prefix_length": 24}], "ip_addresses[0] needs an ip"),
        (["203.0.113.1", "203.0.113.1/32"], "lists 203.0.113.1/32 twice"),
        (["203.0.113.%d" % n for n in range(101)], "at most 100"),
        ([42], "must be a string"),
    ],
)
def test_bad_entries_fail_before_any_request(fake, monkeypatch, entries, fragment):
    kind, res = run(monkeypatch, ip_addresses=entries)
    assert kind == "fail" and fragment in res["msg"], res["msg"]
    assert fake.sent == []


def test_long_friendly_name_fails_before_any_request(fake, monkeypatch):
    kind, res = run(monkeypatch, friendly_name="x" * 256)
    assert kind == "fail" and "friendly_name must have 1 to 255" in res["msg"] and fake.sent == []


@pytest.mark.parametrize("region,host", [("ie1", "api.dublin.ie1.twilio.com"), ("au1", "api.sydney.au1.twilio.com")])
def test_regions(fake, monkeypatch, region, host):
    kind, res = run(monkeypatch, region=region, ip_addresses=["203.0.113.10"])
    assert res["changed"] is True and {h for _m, h, _p, _f in fake.sent} == {host}


def test_faults_converge_without_duplicates(fake, monkeypatch):
    fake.fault("GET", r"IpAccessControlLists\.json$", "status", status=429, retry_after=1)
    fake.fault("POST", r"IpAccessControlLists\.json$", "commit_then_drop")
    fake.fault("GET", r"IpAddresses\.json$", "status", status=503)
    fake.fault("POST", r"IpAddresses\.json$", "commit_then_drop")
    fake.fault("GET", r"IpAccessControlLists\.json$", "drop")
    kind, res = run(monkeypatch, ip_addresses=["203.0.113.10", "198.51.100.0/24"])
    assert kind == "exit" and res["changed"] is True, res
    assert len(fake.rows("acls")) == 1 and len(fake.rows("ips")) == 2
    fake.sent.clear()
    kind, again = run(monkeypatch, ip_addresses=["203.0.113.10", "198.51.100.0/24"])
    assert again["changed"] is False and fake.writes() == []


def test_no_secret_in_results(fake, monkeypatch):
    results = [run(monkeypatch, ip_addresses=["203.0.113.10"], _ansible_diff=True)[1], run(monkeypatch, ip_addresses=["bad"])[1]]
    assert TOKEN not in json.dumps(results)


def test_wide_ranges_allowed_are_made_with_a_warning_naming_both_options(fake, monkeypatch):
    from ansible.module_utils.common.warnings import get_warning_messages

    kind, res = run(monkeypatch, ip_addresses=["0.0.0.0/1", "128.0.0.0/1"], allow_wide_ranges=True)
    assert kind == "exit" and res["changed"] is True, res
    said = [w for w in get_warning_messages() if "allow_wide_ranges is true" in w]
    assert said and "ip_addresses together cover 4294967296 addresses" in said[-1], said


def test_duplicate_acls_fail_listing_each_and_adopt_oldest_deletes_the_newer_empty_one(fake, monkeypatch):
    old = fake.add("acls", friendly_name=NAME, date_created="Tue, 01 Dec 2026 10:00:00 +0000")
    fake.add("ips", parent=old["sid"], ip_address="203.0.113.10", cidr_prefix_length=32, friendly_name="203.0.113.10/32")
    new = fake.add("acls", friendly_name=NAME, date_created="Tue, 01 Dec 2026 11:00:00 +0000")
    kind, res = run(monkeypatch, ip_addresses=["203.0.113.10"])
    assert kind == "fail" and "(created Tue, 01 Dec 2026 10:00:00 +0000, 1 address)" in res["msg"] and fake.writes() == []
    kind, res = run(monkeypatch, ip_addresses=["203.0.113.10"], duplicates="adopt_oldest")
    assert kind == "exit" and res["duplicates_deleted"] == [new["sid"]] and res["ip_acl"]["sid"] == old["sid"]
    assert [r["sid"] for r in fake.rows("acls")] == [old["sid"]]
