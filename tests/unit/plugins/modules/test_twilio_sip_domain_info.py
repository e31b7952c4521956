"""twilio_sip_domain_info in-process against FakeTwilio."""

import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_sip_domain_info
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, TOKEN, FakeTwilio, install

CONN = {"account_sid": AC, "auth_token": TOKEN}


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION"):
        monkeypatch.delenv(var, raising=False)
    fake = install(monkeypatch, FakeTwilio())
    dom = fake.add("domains", domain_name="acme.sip.twilio.com", voice_url="https://bot.example.com/v")
    fake.add("domains", domain_name="beta.sip.twilio.com")
    acl = fake.add("acls", friendly_name="acme PBX")
    fake.add("ips", parent=acl["sid"], ip_address="203.0.113.10", cidr_prefix_length=0, friendly_name="pbx")
    cl = fake.add("cls", friendly_name="acme creds")
    fake.add("creds", parent=cl["sid"], username="acme-3cx")
    fake.passwords["x"] = "Secret0Password1"
    fake.add("calls_acl_maps", parent=dom["sid"], sid=acl["sid"], friendly_name="acme PBX")
    fake.add("legacy_cl_maps", parent=dom["sid"], sid=cl["sid"], friendly_name="acme creds")
    fake.add("reg_cl_maps", parent=dom["sid"], sid=cl["sid"], friendly_name="acme creds")
    fake.ids = {"domain": dom["sid"], "acl": acl["sid"], "cl": cl["sid"]}
    return fake


def run(monkeypatch, **args):
    return run_module(twilio_sip_domain_info.main, dict(CONN, **args), monkeypatch)


@pytest.mark.parametrize("check_mode", [False, True])
def test_one_domain_with_mappings_entries_and_usernames(fake, monkeypatch, check_mode):
    kind, res = run(monkeypatch, domain_name="acme", region="ie1", _ansible_check_mode=check_mode)
    assert kind == "exit" and res["changed"] is False and fake.writes() == []
    (dom,) = res["domains"]
    assert dom["sid"] == fake.ids["domain"] and dom["auth_type"] == "IP_ACL,CREDENTIAL_LIST"
    assert dom["sip_uri"] == "acme.sip.ie1.twilio.com"
    assert dom["ip_access_control_lists"] == [
        {"sid": fake.ids["acl"], "friendly_name": "acme PBX", "mapped_via": ["auth_calls"],
         "ip_addresses": [{"sid": fake.rows("ips")[0]["sid"], "ip": "203.0.113.10", "cidr_prefix_length": 32, "friendly_name": "pbx"}]}
    ]
    assert dom["credential_lists"] == [{"sid": fake.ids["cl"], "friendly_name": "acme creds", "mapped_via": ["legacy"], "usernames": ["acme-3cx"]}]
    assert dom["registration_credential_lists"][0]["mapped_via"] == ["auth_registrations"]
    assert "Secret0Password1" not in json.dumps(res) and TOKEN not in json.dumps(res)
    assert {h for _m, h, _p, _f in fake.sent} == {"api.dublin.ie1.twilio.com"}


def test_by_sid_all_and_missing(fake, monkeypatch):
    kind, res = run(monkeypatch, sid=fake.ids["domain"], details=False)
    assert [d["domain_name"] for d in res["domains"]] == ["acme.sip.twilio.com"]
    assert "ip_addresses" not in res["domains"][0]["ip_access_control_lists"][0]
    kind, res = run(monkeypatch)
    assert [d["domain_name"] for d in res["domains"]] == ["acme.sip.twilio.com", "beta.sip.twilio.com"]
    kind, res = run(monkeypatch, domain_name="nothere")
    assert res["domains"] == []
    kind, res = run(monkeypatch, sid="SD" + "0" * 32)
    assert res["domains"] == []
    assert fake.writes() == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(domain_name="bad_name"), "domain_name may contain only"),
        (dict(sid="AL" + "0" * 32), "sid must be a Twilio SID starting with SD"),
        (dict(sid="SD" + "0" * 32, domain_name="acme"), "mutually exclusive"),
    ],
)
def test_bad_input_fails_before_any_request(fake, monkeypatch, args, fragment):
    kind, res = run(monkeypatch, **args)
    assert kind == "fail" and fragment in res["msg"] and fake.sent == []
