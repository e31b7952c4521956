"""Twilio SIP resources through the official twilio SDK, checked against twilio_api_v2010.json.

The autouse guard in conftest.py fails any test here that leaves a violation
in the request log, except the one that asks for ``expect_violations``.
"""

import json
import uuid

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

REGIONS = ["us1", "ie1", "au1"]
HOSTS = {"us1": "api.twilio.com", "ie1": "api.dublin.ie1.twilio.com", "au1": "api.sydney.au1.twilio.com"}
PASSWORD = "Fallback2026x"


def unique(prefix="acme"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}.sip.twilio.com"


def rest_error(fn, *args, **kw) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as exc:
        fn(*args, **kw)
    return exc.value


def assert_hosts(lab, region):
    log = lab.requests_log("twilio")
    assert log, "nothing reached the lab"
    assert {e["host"] for e in log} == {HOSTS[region]}


def paged(lab, data_path_suffix):
    """GETs that followed a next_page_uri (PageToken) to the given list."""
    return [
        e
        for e in lab.requests_log("twilio")
        if e["method"] == "GET" and e["path"].endswith(data_path_suffix) and "PageToken" in e["query"]
    ]


# ---------------------------------------------------------------- SIP domains


@pytest.mark.parametrize("region", REGIONS)
def test_sip_domain_crud(twilio_lab, twilio_client, region):
    client = twilio_client(region)
    name = unique()
    dom = client.sip.domains.create(
        domain_name=name,
        friendly_name="Acme fallback",
        voice_url="https://example.com/voice",
        voice_method="GET",
        voice_fallback_url="https://example.com/fallback",
        voice_fallback_method="POST",
        voice_status_callback_url="https://example.com/status",
        voice_status_callback_method="GET",
        sip_registration=True,
        emergency_calling_enabled=False,
        secure=True,
        byoc_trunk_sid="BY" + "1" * 32,
        emergency_caller_sid="PN" + "2" * 32,
    )
    assert dom.sid.startswith("SD") and len(dom.sid) == 34 and dom.domain_name == name
    assert dom.auth_type == "" and dom.api_version == "2010-04-01" and dom.secure is True
    assert dom.voice_method == "GET" and dom.voice_status_callback_method == "GET" and dom.sip_registration is True
    assert dom.byoc_trunk_sid == "BY" + "1" * 32 and dom.date_created is not None
    assert dom.subresource_uris["ip_access_control_list_mappings"].endswith(
        f"/SIP/Domains/{dom.sid}/IpAccessControlListMappings.json"
    )
    renamed = unique("renamed")
    upd = client.sip.domains(dom.sid).update(domain_name=renamed, voice_url="https://example.com/v2", secure=False)
    assert (upd.domain_name, upd.voice_url, upd.secure, upd.voice_method) == (
        renamed,
        "https://example.com/v2",
        False,
        "GET",
    )
    fetched = client.sip.domains(dom.sid).fetch()
    assert fetched.domain_name == renamed and fetched.friendly_name == "Acme fallback"
    more = [client.sip.domains.create(domain_name=unique(f"p{i}")).sid for i in range(3)]
    assert [d.sid for d in client.sip.domains.list(page_size=2)] == [dom.sid] + more
    assert len(paged(twilio_lab, "/SIP/Domains.json")) == 1
    assert client.sip.domains(dom.sid).delete() is True
    err = rest_error(client.sip.domains(dom.sid).fetch)
    assert (err.status, err.code) == (404, 20404)
    assert_hosts(twilio_lab, region)


@pytest.mark.parametrize("region", REGIONS)
def test_sip_domain_errors(twilio_lab, twilio_client, region):
    client = twilio_client(region)
    for bad in ("acme.example.com", "acme.sip.ie1.twilio.com", "under_score.sip.twilio.com"):
        err = rest_error(client.sip.domains.create, domain_name=bad)
        assert (err.status, err.code) == (400, 21231) and "DomainName" in err.msg
    name = unique()
    dom = client.sip.domains.create(domain_name=name)
    err = rest_error(client.sip.domains.create, domain_name=name)
    assert (err.status, err.code) == (400, 21231) and "already exists" in err.msg
    err = rest_error(client.sip.domains.create, domain_name=unique(), friendly_name="x" * 65)
    assert (err.status, err.code) == (400, 21231)
    err = rest_error(client.sip.domains(dom.sid).update, domain_name="not-a-sip-name.example.com")
    assert err.status == 400
    err = rest_error(client.sip.domains("SD" + "0" * 32).update, friendly_name="x")
    assert err.status == 404
    assert [d.sid for d in client.sip.domains.list()] == [dom.sid]
    assert_hosts(twilio_lab, region)


def test_domain_name_unique_across_accounts_and_regions(twilio_lab, twilio_client):
    us, ie, au = (twilio_client(r) for r in REGIONS)
    name = unique("global")
    us.sip.domains.create(domain_name=name)
    err = rest_error(ie.sip.domains.create, domain_name=name.upper())
    assert (err.status, err.code) == (400, 21231) and "another account" in err.msg
    mine = au.sip.domains.create(domain_name=unique("au"))
    err = rest_error(au.sip.domains(mine.sid).update, domain_name=name)
    assert (err.status, err.code) == (400, 21231) and "another account" in err.msg
    state = twilio_lab.state("twilio")["regions"]
    assert [len(state[r]["resources"]["domains"]) for r in REGIONS] == [1, 0, 1]


# ---------------------------------------------------------------- IP access control


@pytest.mark.parametrize("region", REGIONS)
def test_ip_access_control_lists_and_addresses(twilio_lab, twilio_client, region):
    client = twilio_client(region)
    acls = client.sip.ip_access_control_lists
    acl = acls.create(friendly_name="3CX " + region)
    assert acl.sid.startswith("AL") and acl.friendly_name == "3CX " + region
    assert acl.subresource_uris["ip_addresses"].endswith(f"/IpAccessControlLists/{acl.sid}/IpAddresses.json")
    others = [acls.create(friendly_name=f"acl-{i}").sid for i in range(2)]
    assert [a.sid for a in acls.list(page_size=2)] == [acl.sid] + others
    assert acls(acl.sid).update(friendly_name="renamed").friendly_name == "renamed"
    assert acls(acl.sid).fetch().friendly_name == "renamed"
    assert rest_error(acls.create, friendly_name="x" * 256).status == 400

    ips = acls(acl.sid).ip_addresses
    whole = ips.create(friendly_name="all", ip_address="0.0.0.0", cidr_prefix_length=0)
    assert whole.sid.startswith("IP") and whole.cidr_prefix_length == 32, "/0 is stored as /32"
    assert ips.create(friendly_name="pbx", ip_address="203.0.113.7").cidr_prefix_length == 32
    net = ips.create(friendly_name="office", ip_address="198.51.100.0", cidr_prefix_length=24)
    assert net.cidr_prefix_length == 24 and net.ip_access_control_list_sid == acl.sid
    assert [i.sid for i in ips.list(page_size=2)][-1] == net.sid
    upd = ips(net.sid).update(ip_address="198.51.101.0", friendly_name="office 2", cidr_prefix_length=0)
    assert (upd.ip_address, upd.friendly_name, upd.cidr_prefix_length) == ("198.51.101.0", "office 2", 32)
    assert ips(net.sid).fetch().ip_address == "198.51.101.0"
    for bad in ("2001:db8::1", "203.0.113", "not-an-ip"):
        err = rest_error(ips.create, friendly_name="bad", ip_address=bad)
        assert err.status == 400 and "IPv4" in err.msg
    assert rest_error(ips.create, friendly_name="bad", ip_address="10.0.0.1", cidr_prefix_length=33).status == 400
    for i in range(100 - 3):
        ips.create(friendly_name=f"n{i}", ip_address=f"10.0.{i // 200}.{i % 200}")
    err = rest_error(ips.create, friendly_name="101st", ip_address="10.9.9.9")
    assert err.status == 400 and "100" in err.msg
    assert ips(net.sid).delete() is True
    assert rest_error(ips(net.sid).fetch).status == 404
    assert acls(acl.sid).delete() is True
    assert rest_error(acls(acl.sid).fetch).status == 404
    assert rest_error(acls("AL" + "0" * 32).ip_addresses.create, friendly_name="x", ip_address="10.0.0.1").status == 404
    assert len(paged(twilio_lab, "/SIP/IpAccessControlLists.json")) == 1
    assert len(paged(twilio_lab, "/IpAddresses.json")) == 1
    assert twilio_lab.state("twilio")["regions"][region]["resources"]["ip_addresses"] == []
    assert_hosts(twilio_lab, region)


def test_ip_access_control_list_limit_per_account(twilio_lab, twilio_client):
    acls = twilio_client("au1").sip.ip_access_control_lists
    for i in range(1000):
        acls.create(friendly_name=f"acl-{i}")
    err = rest_error(acls.create, friendly_name="1001st")
    assert err.status == 400 and "1000" in err.msg
    # Another Region's account has its own allowance.
    assert twilio_client("ie1").sip.ip_access_control_lists.create(friendly_name="fine").sid


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize("region", REGIONS)
def test_credential_lists_and_credentials(twilio_lab, twilio_client, region):
    client = twilio_client(region)
    lists = client.sip.credential_lists
    cl = lists.create(friendly_name="3CX trunk")
    assert cl.sid.startswith("CL") and cl.subresource_uris["credentials"].endswith(f"/{cl.sid}/Credentials.json")
    more = [lists.create(friendly_name=f"cl-{i}").sid for i in range(2)]
    assert [c.sid for c in lists.list(page_size=2)] == [cl.sid] + more
    assert lists(cl.sid).update(friendly_name="renamed").friendly_name == "renamed"
    assert lists(cl.sid).fetch().friendly_name == "renamed"
    assert rest_error(lists.create, friendly_name="x" * 65).code == 21240

    creds = lists(cl.sid).credentials
    cred = creds.create(username="3cx-trunk", password=PASSWORD)
    assert cred.sid.startswith("CR") and cred.username == "3cx-trunk" and cred.credential_list_sid == cl.sid
    assert not hasattr(cred, "password")
    others = [creds.create(username=f"user{i}", password=PASSWORD).sid for i in range(2)]
    assert [c.sid for c in creds.list(page_size=2)] == [cred.sid] + others
    assert creds(cred.sid).update(password="Another1Password").username == "3cx-trunk"
    assert creds(cred.sid).fetch().sid == cred.sid
    for weak in ("short1A", "alllowercase123", "ALLUPPERCASE123", "NoDigitsAtAllHere"):
        err = rest_error(creds.create, username="weak", password=weak)
        assert (err.status, err.code) == (400, 21243) and "12 characters" in err.msg
    assert rest_error(creds(cred.sid).update, password="weak").code == 21243
    err = rest_error(creds.create, username="3cx-trunk", password=PASSWORD)
    assert (err.status, err.code) == (400, 21243) and "already exists" in err.msg
    assert rest_error(creds.create, username="u" * 33, password=PASSWORD).code == 21243
    for i in range(100 - 3):
        lists.create(friendly_name=f"fill-{i}")
    err = rest_error(lists.create, friendly_name="101st")
    assert (err.status, err.code) == (400, 21240) and "100" in err.msg
    assert creds(cred.sid).delete() is True
    assert rest_error(creds(cred.sid).fetch).status == 404
    assert lists(cl.sid).delete() is True
    with pytest.raises(TwilioException):
        lists(cl.sid).credentials.list()
    assert len(paged(twilio_lab, "/SIP/CredentialLists.json")) == 1
    assert len(paged(twilio_lab, "/Credentials.json")) == 1
    assert_hosts(twilio_lab, region)


def test_credentials_limit_per_list(twilio_lab, twilio_client):
    creds = twilio_client("us1").sip.credential_lists.create(friendly_name="big")
    target = twilio_client("us1").sip.credential_lists(creds.sid).credentials
    for i in range(1000):
        target.create(username=f"u{i}", password=PASSWORD)
    err = rest_error(target.create, username="u1000", password=PASSWORD)
    assert (err.status, err.code) == (400, 21243) and "1000" in err.msg


def test_passwords_stay_in_the_lab(twilio_lab, twilio_client):
    passwords = []
    for region in REGIONS:
        client = twilio_client(region)
        dom = client.sip.domains.create(domain_name=unique(region))
        cl = client.sip.credential_lists.create(friendly_name="pbx")
        pw = f"Secret{uuid.uuid4().hex[:10]}9Z"
        passwords.append(pw)
        cred = client.sip.credential_lists(cl.sid).credentials.create(username="pbx", password=pw)
        newer = f"Newer{uuid.uuid4().hex[:10]}7Q"
        passwords.append(newer)
        client.sip.credential_lists(cl.sid).credentials(cred.sid).update(password=newer)
        client.sip.domains(dom.sid).auth.calls.credential_list_mappings.create(credential_list_sid=cl.sid)
    texts = {
        "requests": json.dumps(twilio_lab.requests_log("twilio")),
        "state": json.dumps(twilio_lab.state("twilio")),
    }
    log_file = twilio_lab.home / "lab.log"
    if log_file.is_file():
        texts["lab.log"] = log_file.read_text(errors="replace")
    for where, text in texts.items():
        for pw in passwords:
            assert pw not in text, f"a SIP password leaked into {where}"
    assert "lab_secret_fingerprint" in texts["state"]
    auth = twilio_lab.control("twilio", "GET", "sip/auth").json()["domains"]
    assert sorted(c["password"] for d in auth.values() for c in d["credentials"]) == sorted(passwords[1::2])
    assert not any("/_lab" in e["path"] for e in twilio_lab.requests_log("twilio"))


# ---------------------------------------------------------------- mappings

MAPPINGS = [
    # (attribute path from the domain context, list kind, SDK kwarg)
    (("auth", "calls", "ip_access_control_list_mappings"), "acl", "ip_access_control_list_sid"),
    (("auth", "calls", "credential_list_mappings"), "cl", "credential_list_sid"),
    (("auth", "registrations", "credential_list_mappings"), "cl", "credential_list_sid"),
    (("ip_access_control_list_mappings",), "acl", "ip_access_control_list_sid"),
    (("credential_list_mappings",), "cl", "credential_list_sid"),
]


def _mapping_list(domain_ctx, attrs):
    obj = domain_ctx
    for attr in attrs:
        obj = getattr(obj, attr)
    return obj


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("attrs,kind,kwarg", MAPPINGS, ids=["/".join(m[0]) for m in MAPPINGS])
def test_domain_mappings(twilio_lab, twilio_client, region, attrs, kind, kwarg):
    client = twilio_client(region)
    dom = client.sip.domains.create(domain_name=unique())
    maker = client.sip.ip_access_control_lists if kind == "acl" else client.sip.credential_lists
    lists = [maker.create(friendly_name=f"{kind}-{i}") for i in range(3)]
    mappings = _mapping_list(client.sip.domains(dom.sid), attrs)
    made = [mappings.create(**{kwarg: lst.sid}) for lst in lists]
    assert [m.sid for m in made] == [lst.sid for lst in lists], "a mapping's sid is the list's sid"
    assert made[0].friendly_name == f"{kind}-0"
    assert [m.sid for m in mappings.list(page_size=2)] == [lst.sid for lst in lists]
    assert len([e for e in twilio_lab.requests_log("twilio") if "PageToken" in e["query"]]) == 1
    fetched = mappings(lists[1].sid).fetch()
    assert fetched.sid == lists[1].sid
    if len(attrs) == 1:  # legacy shape
        assert fetched.domain_sid == dom.sid and fetched.uri.endswith(f"/{lists[1].sid}.json")
    err = rest_error(mappings.create, **{kwarg: lists[0].sid})
    assert (err.status, err.code) == (400, 21231) and "already mapped" in err.msg
    missing = ("AL" if kind == "acl" else "CL") + "0" * 32
    assert rest_error(mappings.create, **{kwarg: missing}).status == 404
    # Registrations mappings do not authenticate calls; legacy and Auth/Calls do.
    expected = "" if attrs[:2] == ("auth", "registrations") else {"acl": "IP_ACL", "cl": "CREDENTIAL_LIST"}[kind]
    assert client.sip.domains(dom.sid).fetch().auth_type == expected
    err = rest_error(maker(lists[0].sid).delete)
    assert (err.status, err.code) == (400, 21231) and "mapped" in err.msg
    assert mappings(lists[0].sid).delete() is True
    assert rest_error(mappings(lists[0].sid).fetch).status == 404
    assert maker(lists[0].sid).delete() is True, "no longer mapped"
    # Deleting the domain deletes its mappings; the lists can then go.
    client.sip.domains(dom.sid).delete()
    assert maker(lists[1].sid).delete() is True
    with pytest.raises(TwilioException):
        mappings.list()
    assert_hosts(twilio_lab, region)


def test_legacy_and_auth_calls_share_mappings(twilio_lab, twilio_client):
    client = twilio_client("ie1")
    dom = client.sip.domains(client.sip.domains.create(domain_name=unique()).sid)
    acl = client.sip.ip_access_control_lists.create(friendly_name="pbx")
    cl = client.sip.credential_lists.create(friendly_name="pbx")
    dom.ip_access_control_list_mappings.create(ip_access_control_list_sid=acl.sid)
    dom.auth.calls.credential_list_mappings.create(credential_list_sid=cl.sid)
    assert [m.sid for m in dom.auth.calls.ip_access_control_list_mappings.list()] == [acl.sid]
    assert [m.sid for m in dom.credential_list_mappings.list()] == [cl.sid]
    assert dom.auth.registrations.credential_list_mappings.list() == []
    err = rest_error(dom.auth.calls.ip_access_control_list_mappings.create, ip_access_control_list_sid=acl.sid)
    assert err.code == 21231
    assert dom.fetch().auth_type == "IP_ACL,CREDENTIAL_LIST"
    assert dom.auth.calls.ip_access_control_list_mappings(acl.sid).delete() is True
    assert dom.ip_access_control_list_mappings.list() == []
    assert dom.fetch().auth_type == "CREDENTIAL_LIST"


def test_list_envelopes_have_one_data_key(twilio_lab, twilio_client):
    client = twilio_client("us1")
    acct = twilio_lab.eps["twilio"]["accounts"]["us1"]
    dom = client.sip.domains.create(domain_name=unique())
    acl = client.sip.ip_access_control_lists.create(friendly_name="a")
    cl = client.sip.credential_lists.create(friendly_name="c")
    base = f"{twilio_lab.twilio_url}/2010-04-01/Accounts/{acct['account_sid']}/SIP"
    expected = {
        "Domains.json": "domains",
        "IpAccessControlLists.json": "ip_access_control_lists",
        f"IpAccessControlLists/{acl.sid}/IpAddresses.json": "ip_addresses",
        "CredentialLists.json": "credential_lists",
        f"CredentialLists/{cl.sid}/Credentials.json": "credentials",
        f"Domains/{dom.sid}/Auth/Calls/IpAccessControlListMappings.json": "contents",
        f"Domains/{dom.sid}/Auth/Calls/CredentialListMappings.json": "contents",
        f"Domains/{dom.sid}/Auth/Registrations/CredentialListMappings.json": "contents",
        f"Domains/{dom.sid}/IpAccessControlListMappings.json": "ip_access_control_list_mappings",
        f"Domains/{dom.sid}/CredentialListMappings.json": "credential_list_mappings",
    }
    meta = {"first_page_uri", "next_page_uri", "previous_page_uri", "page", "page_size", "start", "end", "uri"}
    for rel, key in expected.items():
        body = twilio_lab.http.get(f"{base}/{rel}", auth=(acct["account_sid"], acct["auth_token"])).json()
        assert set(body) - meta == {key}, rel
        assert body["uri"].startswith(f"/2010-04-01/Accounts/{acct['account_sid']}/SIP/{rel}?")


# ---------------------------------------------------------------- faults


def _creates(client, region):
    """One create per new endpoint, each returning (make, count, natural key check)."""
    dom = client.sip.domains.create(domain_name=unique(region))
    acl = client.sip.ip_access_control_lists.create(friendly_name="fixture")
    cl = client.sip.credential_lists.create(friendly_name="fixture")
    d = client.sip.domains(dom.sid)
    ips = client.sip.ip_access_control_lists(acl.sid).ip_addresses
    creds = client.sip.credential_lists(cl.sid).credentials
    name = unique("dropped")
    return [
        (r"/SIP/Domains\.json$", lambda: client.sip.domains.create(domain_name=name),
         lambda: [x for x in client.sip.domains.list() if x.domain_name == name]),
        (r"/SIP/IpAccessControlLists\.json$", lambda: client.sip.ip_access_control_lists.create(friendly_name="cd"),
         lambda: [x for x in client.sip.ip_access_control_lists.list() if x.friendly_name == "cd"]),
        (r"/IpAddresses\.json$", lambda: ips.create(friendly_name="cd", ip_address="192.0.2.9"), ips.list),
        (r"/SIP/CredentialLists\.json$", lambda: client.sip.credential_lists.create(friendly_name="cd"),
         lambda: [x for x in client.sip.credential_lists.list() if x.friendly_name == "cd"]),
        (r"/Credentials\.json$", lambda: creds.create(username="cd", password=PASSWORD), creds.list),
        (r"/Auth/Calls/IpAccessControlListMappings\.json$",
         lambda: d.auth.calls.ip_access_control_list_mappings.create(ip_access_control_list_sid=acl.sid),
         d.ip_access_control_list_mappings.list),
        (r"/Auth/Registrations/CredentialListMappings\.json$",
         lambda: d.auth.registrations.credential_list_mappings.create(credential_list_sid=cl.sid),
         d.auth.registrations.credential_list_mappings.list),
        (r"/SIP/Domains/SD\w+/CredentialListMappings\.json$",
         lambda: d.credential_list_mappings.create(credential_list_sid=cl.sid),
         d.auth.calls.credential_list_mappings.list),
    ]  # fmt: skip


@pytest.mark.parametrize("region", REGIONS)
def test_commit_then_drop_create_leaves_exactly_one(twilio_lab, twilio_client, region):
    client = twilio_client(region)
    for path, create, find in _creates(client, region):
        twilio_lab.faults("twilio", {"method": "POST", "path": path, "action": {"kind": "commit_then_drop"}})
        with pytest.raises(requests.ConnectionError):
            create()
        assert len(find()) == 1, path
        # A client that retries the create blindly is refused (natural keys) or
        # makes a second object (lists); re-reading first is the only safe way.
        try:
            create()
        except TwilioRestException as exc:
            assert exc.status == 400
    log = twilio_lab.requests_log("twilio")
    dropped = [e for e in log if e["fault"] == "commit_then_drop"]
    assert len(dropped) == 8 and all(e["status"] == 0 for e in dropped)
    assert_hosts(twilio_lab, region)


def test_status_delay_and_drop_faults_on_sip_endpoints(twilio_lab, twilio_client):
    client = twilio_client("au1")
    twilio_lab.faults(
        "twilio",
        {
            "method": "POST",
            "path": r"/SIP/Domains\.json$",
            "action": {"kind": "status", "status": 429, "retry_after": 2},
        },
        {"method": "GET", "path": r"/IpAccessControlListMappings\.json$", "action": {"kind": "status", "status": 503}},
        {"method": "POST", "path": r"/Credentials\.json$", "action": {"kind": "drop"}},
        {"method": "DELETE", "path": r"/SIP/Domains/", "action": {"kind": "delay", "seconds": 0.2}},
    )
    err = rest_error(client.sip.domains.create, domain_name=unique())
    assert (err.status, err.code) == (429, 20429)
    dom = client.sip.domains.create(domain_name=unique())
    with pytest.raises(TwilioException):
        client.sip.domains(dom.sid).auth.calls.ip_access_control_list_mappings.list()
    cl = client.sip.credential_lists.create(friendly_name="c")
    with pytest.raises(requests.ConnectionError):
        client.sip.credential_lists(cl.sid).credentials.create(username="x", password=PASSWORD)
    assert client.sip.credential_lists(cl.sid).credentials.list() == [], "drop commits nothing"
    assert client.sip.domains(dom.sid).delete() is True
    faults = [(e["status"], e["fault"]) for e in twilio_lab.requests_log("twilio") if e["fault"]]
    assert faults == [(429, "status"), (503, "status"), (0, "drop"), (204, "delay")]


# ---------------------------------------------------------------- the validator


def test_validator_catches_wrong_sip_requests(twilio_lab, twilio_client, expect_violations):
    client = twilio_client("us1")
    acct = twilio_lab.eps["twilio"]["accounts"]["us1"]
    auth = (acct["account_sid"], acct["auth_token"])
    base = f"{twilio_lab.twilio_url}/2010-04-01/Accounts/{acct['account_sid']}/SIP"
    cl = client.sip.credential_lists.create(friendly_name="c")
    cred = client.sip.credential_lists(cl.sid).credentials.create(username="alice", password=PASSWORD)
    dom = client.sip.domains.create(domain_name=unique())
    # Username is not an update parameter: the request is invalid and never performed.
    resp = twilio_lab.http.post(
        f"{base}/CredentialLists/{cl.sid}/Credentials/{cred.sid}.json",
        data={"Username": "bob", "Password": PASSWORD},
        auth=auth,
    )
    assert resp.status_code == 500 and "Username" in resp.json()["message"]
    err = rest_error(client.sip.domains.create, domain_name=unique(), voice_method="PUT")
    assert err.status == 500 and "VoiceMethod" in err.msg
    err = rest_error(
        client.sip.domains(dom.sid).auth.calls.ip_access_control_list_mappings.create,
        ip_access_control_list_sid=cl.sid,  # a CL sid where an AL sid belongs
    )
    assert err.status == 500 and "IpAccessControlListSid" in err.msg
    resp = twilio_lab.http.post(f"{base}/Domains.json", data={"FriendlyName": "no name"}, auth=auth)
    assert resp.status_code == 500 and "DomainName" in resp.json()["message"]
    flagged = [e for e in twilio_lab.requests_log("twilio") if e["violations"]]
    assert len(flagged) == 4
    state = twilio_lab.state("twilio")["regions"]["us1"]["resources"]
    assert [c["username"] for c in state["credentials"]] == ["alice"] and len(state["domains"]) == 1
    assert state["auth_calls_ip_access_control_list_mappings"] == []
