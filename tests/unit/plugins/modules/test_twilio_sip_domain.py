"""twilio_sip_domain in-process against FakeTwilio (a stateful stand-in for the SIP API)."""

import json

import pytest
from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.voip.threecx_twilio.plugins.modules import twilio_sip_domain
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_twilio_sip import AC, TOKEN, FakeTwilio, install

CONN = {"account_sid": AC, "auth_token": TOKEN}
NAME = "acme.sip.twilio.com"
HOOK = "https://bot.example.com/voice"
FW = "FW" + "f" * 32


@pytest.fixture
def fake(monkeypatch):
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    return install(monkeypatch, FakeTwilio())


def run(monkeypatch, **args):
    args = dict(CONN, **args)
    args.setdefault("domain_name", "acme")
    return run_module(twilio_sip_domain.main, args, monkeypatch)


def domain_posts(fake):
    return [s for s in fake.writes() if s[2].endswith("/SIP/Domains.json") or "/SIP/Domains/SD" in s[2] and s[2].count("/") == 6]


def test_create_check_mode_then_apply_then_no_op(fake, monkeypatch):
    kind, check = run(monkeypatch, voice_url=HOOK, friendly_name="ACME", _ansible_check_mode=True, _ansible_diff=True)
    assert kind == "exit" and check["changed"] is True
    assert fake.writes() == []
    assert check["diff"] == {"before": {"state": "absent"}, "after": {"domain_name": NAME, "friendly_name": "ACME", "voice_url": HOOK, "state": "present"}}
    assert check["domain"]["sip_uri"] == "acme.sip.us1.twilio.com"

    kind, done = run(monkeypatch, voice_url=HOOK, friendly_name="ACME", _ansible_diff=True)
    assert kind == "exit" and done["changed"] is True
    assert done["diff"] == check["diff"]
    assert [(m, p.rsplit("/", 1)[1], f) for m, _h, p, f in fake.writes()] == [
        ("POST", "Domains.json", {"DomainName": NAME, "FriendlyName": "ACME", "VoiceUrl": HOOK})
    ]
    assert done["domain"]["sid"].startswith("SD")
    # Check mode predicts what it sends; Twilio fills in its defaults for the rest.
    twilio_defaults = dict(
        voice_method="POST", voice_fallback_method="POST", voice_status_callback_method="POST", sip_registration=False, secure=False,
        emergency_calling_enabled=False, voice_fallback_url=None, voice_status_callback_url=None, byoc_trunk_sid=None, emergency_caller_sid=None,
    )
    assert dict(done["domain"], sid=None, auth_type="") == dict(check["domain"], **twilio_defaults)
    assert done["domain"]["sip_uris"]["dublin"] == "acme.sip.dublin.twilio.com"
    fake.sent.clear()

    for check_mode in (True, False):
        kind, again = run(monkeypatch, voice_url=HOOK, friendly_name="ACME", _ansible_check_mode=check_mode, _ansible_diff=True)
        assert kind == "exit" and again["changed"] is False
        assert again["diff"] == {"before": {}, "after": {}}
    assert fake.writes() == []
    assert len(fake.rows("domains")) == 1


@pytest.mark.parametrize(
    "option,value,param",
    [
        ("friendly_name", "New name", "FriendlyName"),
        ("voice_url", "https://other.example.com/v", "VoiceUrl"),
        ("voice_method", "GET", "VoiceMethod"),
        ("voice_fallback_url", "https://fallback.example.com/", "VoiceFallbackUrl"),
        ("voice_fallback_method", "GET", "VoiceFallbackMethod"),
        ("voice_status_callback_url", "https://status.example.com/", "VoiceStatusCallbackUrl"),
        ("voice_status_callback_method", "GET", "VoiceStatusCallbackMethod"),
        ("sip_registration", True, "SipRegistration"),
        ("secure", True, "Secure"),
        ("emergency_calling_enabled", True, "EmergencyCallingEnabled"),
        ("emergency_caller_sid", "PN" + "a" * 32, "EmergencyCallerSid"),
        ("byoc_trunk_sid", "BY" + "b" * 32, "ByocTrunkSid"),
    ],
)
def test_update_of_each_option_sends_only_that_field(fake, monkeypatch, option, value, param):
    rec = fake.add("domains", domain_name=NAME, friendly_name="ACME", voice_url=HOOK)
    args = {"voice_url": HOOK, option: value}
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **args)
    assert kind == "exit" and check["changed"] is True and fake.writes() == []
    kind, done = run(monkeypatch, _ansible_diff=True, **args)
    assert kind == "exit" and done["changed"] is True
    expected = "true" if value is True else value
    assert [(m, p, f) for m, _h, p, f in fake.writes()] == [
        ("POST", "/2010-04-01/Accounts/%s/SIP/Domains/%s.json" % (AC, rec["sid"]), {param: expected})
    ]
    assert done["diff"] == check["diff"]
    assert done["diff"]["after"] == {option: value}
    assert done["domain"][option] == value == check["domain"][option]
    fake.sent.clear()
    kind, again = run(monkeypatch, **args)
    assert again["changed"] is False and fake.writes() == []


def test_clearing_a_url_sends_an_empty_value(fake, monkeypatch):
    fake.add("domains", domain_name=NAME, voice_url=HOOK, voice_fallback_url="https://fb.example.com/")
    kind, done = run(monkeypatch, voice_url=HOOK, voice_fallback_url="")
    assert kind == "exit" and done["changed"] is True
    assert fake.writes()[0][3] == {"VoiceFallbackUrl": ""}


def test_existing_domain_made_elsewhere_is_adopted_by_name(fake, monkeypatch):
    fake.add("domains", domain_name="other.sip.twilio.com")
    rec = fake.add("domains", domain_name="ACME.sip.twilio.com", voice_url=HOOK)
    kind, done = run(monkeypatch, domain_name="acme.sip.twilio.com", voice_url=HOOK)
    assert kind == "exit" and done["changed"] is False
    assert done["domain"]["sid"] == rec["sid"] and fake.writes() == []


def test_name_taken_by_another_account_fails_clearly(fake, monkeypatch):
    fake.taken.add(NAME)
    kind, res = run(monkeypatch, voice_url=HOOK)
    assert kind == "fail"
    assert "taken elsewhere" in res["msg"] and "Choose another domain_name" in res["msg"] and NAME in res["msg"]
    assert fake.rows("domains") == []


def test_twiml_app_by_name_copies_its_voice_settings_and_follows_changes(fake, monkeypatch):
    app = fake.add("applications", friendly_name="ACME IVR", voice_url="https://ivr.example.com/v", voice_method="GET",
                   voice_fallback_url="https://ivr.example.com/fb", voice_fallback_method="POST")
    kind, done = run(monkeypatch, twiml_app="ACME IVR")
    assert kind == "exit" and done["changed"] is True
    assert fake.writes()[0][3] == {"DomainName": NAME, "VoiceUrl": "https://ivr.example.com/v", "VoiceMethod": "GET",
                                   "VoiceFallbackUrl": "https://ivr.example.com/fb", "VoiceFallbackMethod": "POST"}
    assert done["domain"]["twiml_app"] == {"sid": app["sid"], "friendly_name": "ACME IVR"}
    fake.sent.clear()
    kind, again = run(monkeypatch, twiml_app=app["sid"])
    assert again["changed"] is False and fake.writes() == []
    app["voice_url"] = "https://ivr2.example.com/v"
    app["voice_fallback_url"] = None
    kind, synced = run(monkeypatch, twiml_app="ACME IVR", _ansible_diff=True)
    assert synced["changed"] is True
    assert fake.writes()[0][3] == {"VoiceUrl": "https://ivr2.example.com/v", "VoiceFallbackUrl": ""}


@pytest.mark.parametrize(
    "apps,ref,fragment",
    [
        ([], "Nope", "twiml_app: there is no TwiML App named 'Nope'"),
        ([], "AP" + "9" * 32, "twiml_app: there is no TwiML App with SID AP9"),
        ([{"friendly_name": "IVR", "voice_url": "https://a.example/"}, {"friendly_name": "IVR", "voice_url": "https://b.example/"}],
         "IVR", "2 TwiML Apps are named 'IVR'"),
        ([{"friendly_name": "Empty"}], "Empty", "has no voice URL"),
    ],
)
def test_twiml_app_problems_fail_before_any_write(fake, monkeypatch, apps, ref, fragment):
    made = [fake.add("applications", **a) for a in apps]
    kind, res = run(monkeypatch, twiml_app=ref)
    assert kind == "fail" and fragment in res["msg"]
    if len(made) == 2:
        assert made[0]["sid"] in res["msg"] and made[1]["sid"] in res["msg"]
    assert fake.writes() == []


def test_studio_flow_sets_the_flow_webhook(fake, monkeypatch):
    kind, done = run(monkeypatch, studio_flow=FW)
    assert kind == "exit" and done["changed"] is True
    url = "https://webhooks.twilio.com/v1/Accounts/%s/Flows/%s" % (AC, FW)
    assert fake.writes()[0][3] == {"DomainName": NAME, "VoiceUrl": url, "VoiceMethod": "POST"}
    assert done["domain"]["voice_url"] == url


def test_mappings_by_name_and_sid_created_through_auth_calls(fake, monkeypatch):
    acl = fake.add("acls", friendly_name="acme PBX")
    cl = fake.add("cls", friendly_name="acme PBX")
    args = dict(voice_url=HOOK, ip_access_control_lists=["acme PBX"], credential_lists=[cl["sid"]])
    kind, check = run(monkeypatch, _ansible_check_mode=True, _ansible_diff=True, **args)
    assert kind == "exit" and check["changed"] is True and fake.writes() == []
    assert check["domain"]["auth_type"] == "IP_ACL,CREDENTIAL_LIST"
    kind, done = run(monkeypatch, _ansible_diff=True, **args)
    assert kind == "exit" and done["changed"] is True
    paths = [(m, p.split("/SIP/")[1].split("/", 2)[-1] if "/Domains/" in p else p.split("/SIP/")[1], f) for m, _h, p, f in fake.writes()]
    assert paths == [
        ("POST", "Domains.json", {"DomainName": NAME, "VoiceUrl": HOOK}),
        ("POST", "Auth/Calls/IpAccessControlListMappings.json", {"IpAccessControlListSid": acl["sid"]}),
        ("POST", "Auth/Calls/CredentialListMappings.json", {"CredentialListSid": cl["sid"]}),
    ]
    assert done["domain"]["ip_access_control_lists"] == [{"sid": acl["sid"], "friendly_name": "acme PBX"}]
    assert done["domain"]["credential_lists"] == [{"sid": cl["sid"], "friendly_name": "acme PBX"}]
    assert done["domain"]["auth_type"] == "IP_ACL,CREDENTIAL_LIST"
    for key in ("domain_name", "voice_url", "auth_type", "ip_access_control_lists", "credential_lists", "sip_uri", "sip_uris"):
        assert done["domain"][key] == check["domain"][key]
    assert done["diff"] == check["diff"]
    assert done["diff"]["after"]["ip_access_control_lists"] == [acl["sid"]]
    fake.sent.clear()
    kind, again = run(monkeypatch, **args)
    assert again["changed"] is False and fake.writes() == []
    # The ACL given by name is looked up among the account's lists; the credential list given
    # by the SID of a list the domain already maps is not.
    listed = [p.split("/SIP/")[1] for m, _h, p, _f in fake.sent if m == "GET" and "/Domains" not in p]
    assert listed == ["IpAccessControlLists.json"]
    fake.sent.clear()
    kind, again = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=[acl["sid"]], credential_lists=[cl["sid"]])
    assert again["changed"] is False and [p for m, _h, p, _f in fake.sent if "/Domains" not in p] == []
    assert again["domain"]["ip_access_control_lists"] == [{"sid": acl["sid"], "friendly_name": "acme PBX"}]


def test_a_legacy_mapping_counts_as_mapped(fake, monkeypatch):
    acl = fake.add("acls", friendly_name="acme PBX")
    dom = fake.add("domains", domain_name=NAME, voice_url=HOOK)
    fake.add("legacy_acl_maps", parent=dom["sid"], sid=acl["sid"], friendly_name="acme PBX")
    kind, done = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["acme PBX"])
    assert kind == "exit" and done["changed"] is False and fake.writes() == []
    assert done["domain"]["ip_access_control_lists"] == [{"sid": acl["sid"], "friendly_name": "acme PBX"}]


@pytest.mark.parametrize("shared", [False, True])
def test_purge_mappings_removes_others_from_every_store(monkeypatch, shared):
    fake = install(monkeypatch, FakeTwilio(shared_mappings=shared))
    keep = fake.add("acls", friendly_name="keep")
    old = fake.add("acls", friendly_name="old")
    legacy = fake.add("acls", friendly_name="legacy")
    dom = fake.add("domains", domain_name=NAME, voice_url=HOOK)
    fake.add("calls_acl_maps", parent=dom["sid"], sid=keep["sid"], friendly_name="keep")
    fake.add("calls_acl_maps", parent=dom["sid"], sid=old["sid"], friendly_name="old")
    fake.add("legacy_acl_maps", parent=dom["sid"], sid=legacy["sid"], friendly_name="legacy")
    kind, kept = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["keep"])
    assert kept["changed"] is False and fake.writes() == []
    kind, check = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["keep"], purge_mappings=True, _ansible_check_mode=True, _ansible_diff=True)
    assert check["changed"] is True and fake.writes() == []
    kind, done = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["keep"], purge_mappings=True, _ansible_diff=True)
    assert kind == "exit" and done["changed"] is True
    assert done["diff"] == check["diff"]
    assert sorted(done["diff"]["before"]["ip_access_control_lists"]) == sorted([keep["sid"], old["sid"], legacy["sid"]])
    assert done["diff"]["after"]["ip_access_control_lists"] == [keep["sid"]]
    assert [r["sid"] for r in fake.rows("calls_acl_maps", dom["sid"])] == [keep["sid"]]
    assert fake.rows("legacy_acl_maps", dom["sid"]) == ([] if not shared else [fake.rows("calls_acl_maps", dom["sid"])[0]])
    assert all(write[0] == "DELETE" for write in fake.writes())


def test_unknown_list_fails_naming_the_option_and_check_mode_only_warns(fake, monkeypatch):
    kind, res = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["missing"])
    assert kind == "fail"
    assert "ip_access_control_lists: there is no IP access control list named 'missing'" in res["msg"]
    assert fake.writes() == []
    kind, res = run(monkeypatch, voice_url=HOOK, credential_lists=["CL" + "0" * 32])
    assert kind == "fail" and "credential_lists: there is no credential list with SID CL000" in res["msg"]
    kind, res = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["missing"], _ansible_check_mode=True)
    assert kind == "exit" and res["changed"] is True
    assert any("check mode assumes" in w for w in get_warning_messages())
    assert fake.writes() == []


def test_two_lists_with_one_name_fail_naming_both(fake, monkeypatch):
    a = fake.add("acls", friendly_name="dup")
    b = fake.add("acls", friendly_name="dup")
    kind, res = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["dup"])
    assert kind == "fail" and a["sid"] in res["msg"] and b["sid"] in res["msg"] and "give the SID" in res["msg"]


def test_delete_then_delete_again(fake, monkeypatch):
    dom = fake.add("domains", domain_name=NAME, voice_url=HOOK)
    acl = fake.add("acls", friendly_name="x")
    fake.add("calls_acl_maps", parent=dom["sid"], sid=acl["sid"], friendly_name="x")
    kind, check = run(monkeypatch, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    assert check["changed"] is True and fake.writes() == []
    kind, done = run(monkeypatch, state="absent", _ansible_diff=True)
    assert kind == "exit" and done["changed"] is True and done["diff"] == check["diff"]
    assert done["diff"]["after"] == {"state": "absent"} and done["diff"]["before"]["domain_name"] == NAME
    assert [(m, p.rsplit("/", 1)[1]) for m, _h, p, _f in fake.writes()] == [("DELETE", dom["sid"] + ".json")]
    assert fake.rows("domains") == [] and fake.rows("calls_acl_maps") == []
    assert len(fake.rows("acls")) == 1
    fake.sent.clear()
    kind, again = run(monkeypatch, state="absent")
    assert kind == "exit" and again["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("region,host", [("ie1", "api.dublin.ie1.twilio.com"), ("au1", "api.sydney.au1.twilio.com")])
def test_regions_send_every_request_to_the_regional_edge_host(fake, monkeypatch, region, host):
    fake.add("acls", friendly_name="acme PBX")
    kind, done = run(monkeypatch, region=region, voice_url=HOOK, ip_access_control_lists=["acme PBX"])
    assert kind == "exit" and done["changed"] is True
    assert done["domain"]["sip_uri"] == "acme.sip.%s.twilio.com" % region
    assert {h for _m, h, _p, _f in fake.sent} == {host}


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(domain_name="acme_corp", voice_url=HOOK), "domain_name may contain only letters, digits and hyphens"),
        (dict(domain_name="acme.sip.ie1.twilio.com", voice_url=HOOK), "regional or edge SIP URI"),
        (dict(voice_url="not a url"), "voice_url must be an absolute http"),
        (dict(voice_url=HOOK, voice_fallback_url="ftp://x"), "voice_fallback_url must be an absolute"),
        (dict(voice_url=HOOK, voice_status_callback_url="x"), "voice_status_callback_url must be an absolute"),
        (dict(studio_flow="FW123"), "studio_flow must be a Twilio SID starting with FW"),
        (dict(voice_url=HOOK, emergency_caller_sid="+15551234567"), "emergency_caller_sid must be a Twilio SID starting with PN"),
        (dict(voice_url=HOOK, byoc_trunk_sid="BYx"), "byoc_trunk_sid must be a Twilio SID starting with BY"),
        (dict(), "give exactly one voice handler"),
        (dict(voice_url=HOOK, studio_flow=FW), "mutually exclusive"),
        (dict(twiml_app="IVR", voice_method="GET"), "mutually exclusive"),
        (dict(voice_url=HOOK, friendly_name="x" * 65), "friendly_name must be at most 64"),
        (dict(voice_url=HOOK, ip_access_control_lists=[""]), "ip_access_control_lists[0] is empty"),
        (dict(voice_url=HOOK, region="de1"), "region"),
        (dict(voice_url=HOOK, auth_token=None), "give auth_token, or api_key with api_secret"),
        (dict(voice_url=HOOK, api_key="SK" + "1" * 32), "api_key and api_secret must be given together"),
    ],
)
def test_bad_input_fails_before_any_request(fake, monkeypatch, args, fragment):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    kind, res = run(monkeypatch, **args)
    assert kind == "fail", res
    assert fragment in res["msg"]
    assert fake.sent == []


def test_faults_converge_without_duplicates(fake, monkeypatch):
    acl = fake.add("acls", friendly_name="acme PBX")
    fake.fault("GET", r"/SIP/Domains\.json$", "status", status=503)
    fake.fault("POST", r"/SIP/Domains\.json$", "status", status=429, retry_after=2)
    fake.fault("GET", r"/SIP/IpAccessControlLists\.json$", "drop")
    fake.fault("POST", r"/IpAccessControlListMappings\.json$", "commit_then_drop")
    kind, done = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["acme PBX"])
    assert kind == "exit" and done["changed"] is True, done
    assert len(fake.rows("domains")) == 1 and len(fake.rows("calls_acl_maps")) == 1
    assert 2 in fake.sleeps
    assert done["domain"]["ip_access_control_lists"] == [{"sid": acl["sid"], "friendly_name": "acme PBX"}]
    fake.sent.clear()
    kind, again = run(monkeypatch, voice_url=HOOK, ip_access_control_lists=["acme PBX"])
    assert again["changed"] is False and fake.writes() == []


def test_a_create_that_commits_then_drops_is_adopted_not_repeated(fake, monkeypatch):
    fake.fault("POST", r"/SIP/Domains\.json$", "commit_then_drop")
    kind, done = run(monkeypatch, voice_url=HOOK)
    assert kind == "exit" and done["changed"] is True
    assert len(fake.rows("domains")) == 1
    assert len([s for s in fake.writes() if s[2].endswith("/Domains.json")]) == 1
    assert done["domain"]["sid"] == fake.rows("domains")[0]["sid"]


def test_a_dropped_create_fails_safely_and_the_rerun_converges(fake, monkeypatch):
    fake.fault("POST", r"/SIP/Domains\.json$", "drop")
    kind, res = run(monkeypatch, voice_url=HOOK)
    assert kind == "fail" and "the next run finds it by its natural key" in res["msg"]
    assert fake.rows("domains") == []
    kind, done = run(monkeypatch, voice_url=HOOK)
    assert done["changed"] is True and len(fake.rows("domains")) == 1


def test_secrets_never_appear_in_results(fake, monkeypatch):
    acl = fake.add("acls", friendly_name="acme PBX")
    results = []
    for state, extra in (("present", {}), ("present", {}), ("absent", {})):
        results.append(run(monkeypatch, state=state, voice_url=HOOK, ip_access_control_lists=[acl["sid"]], _ansible_diff=True, **extra)[1])
    results.append(run(monkeypatch, voice_url="bad", _ansible_diff=True)[1])
    key = "SK" + "2" * 32
    results.append(run(monkeypatch, auth_token=None, api_key=key, api_secret="the-api-secret-value", voice_url=HOOK)[1])
    blob = json.dumps(results)
    assert TOKEN not in blob and "the-api-secret-value" not in blob
