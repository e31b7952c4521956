"""SIP resource rules of the Twilio stand-in, on the in-memory stores (no HTTP)."""

import json

import pytest

from lab.spec import DocumentStatus
from lab.twilio import REGIONS
from lab.twilio.app import Account, Twilio
from lab.twilio.resources import TwilioError
from lab.twilio.sip import (
    AUTH_CALLS_CREDENTIAL_MAPPINGS as CALLS_CL,
)
from lab.twilio.sip import (
    AUTH_CALLS_IP_MAPPINGS as CALLS_AL,
)
from lab.twilio.sip import (
    AUTH_REGISTRATIONS_CREDENTIAL_MAPPINGS as REG_CL,
)
from lab.twilio.sip import (
    CREDENTIAL_LISTS,
    CREDENTIALS,
    DOMAINS,
    IP_ACCESS_CONTROL_LISTS,
    IP_ADDRESSES,
    LEGACY_CREDENTIAL_MAPPINGS,
    LEGACY_IP_MAPPINGS,
    password_ok,
    sip_auth,
)

PASSWORD = "Fallback2026x"


def form(**kw):
    return {k: [str(v)] for k, v in kw.items()}


class Acct:
    """One account's store with short helpers."""

    def __init__(self, store):
        self.s = store

    def domain(self, name="acme.sip.twilio.com", **kw):
        return self.s.create(DOMAINS, {}, form(DomainName=name, **kw), "/u")

    def acl(self, name="pbx"):
        return self.s.create(IP_ACCESS_CONTROL_LISTS, {}, form(FriendlyName=name), "/u")

    def ip(self, acl_sid, ip="203.0.113.10", **kw):
        return self.s.create(
            IP_ADDRESSES, {"IpAccessControlListSid": acl_sid}, form(FriendlyName="pbx", IpAddress=ip, **kw), "/u"
        )

    def cl(self, name="pbx users"):
        return self.s.create(CREDENTIAL_LISTS, {}, form(FriendlyName=name), "/u")

    def cred(self, cl_sid, username="3cx", password=PASSWORD):
        return self.s.create(
            CREDENTIALS, {"CredentialListSid": cl_sid}, form(Username=username, Password=password), "/u"
        )

    def map(self, rdef, domain_sid, list_sid):
        param = rdef.maps[0]
        return self.s.create(rdef, {"DomainSid": domain_sid}, form(**{param: list_sid}), "/u")


@pytest.fixture
def lab():
    accounts = {r: Account.generate(r) for r in REGIONS}
    tw = Twilio(None, DocumentStatus(False, "-", reason="unit test"), accounts)
    tw.by_region = {r: Acct(tw.data[a.account_sid]) for r, a in accounts.items()}
    return tw


@pytest.fixture
def us(lab):
    return lab.by_region["us1"]


def error(fn, *args, **kw):
    with pytest.raises(TwilioError) as exc:
        fn(*args, **kw)
    return exc.value


# ---------------------------------------------------------------- domains


@pytest.mark.parametrize(
    "name", ["acme.sip.twilio.com", "Acme-Fallback-01.sip.twilio.com", "site1.acme.sip.twilio.com", "a.sip.twilio.com"]
)
def test_domain_name_valid(us, name):
    dom = us.domain(name)
    assert dom["domain_name"] == name and dom["sid"].startswith("SD") and len(dom["sid"]) == 34


@pytest.mark.parametrize(
    "name",
    [
        "acme.example.com",
        "sip.twilio.com",
        "acme.sip.us1.twilio.com",  # an edge name is not a domain name
        "acme_fallback.sip.twilio.com",
        "-acme.sip.twilio.com",
        "acme-.sip.twilio.com",
        "acme..sip.twilio.com",
        "acme.sip.twilio.com.",
        "a" * 64 + ".sip.twilio.com",
        "",
    ],
)
def test_domain_name_invalid(us, name):
    err = error(us.domain, name)
    assert (err.status, err.code) == (400, 21231) and "DomainName" in err.message


def test_domain_defaults_and_computed_fields(us):
    dom = us.domain()
    assert dom["auth_type"] == "" and dom["api_version"] == "2010-04-01"
    assert dom["voice_method"] == dom["voice_fallback_method"] == dom["voice_status_callback_method"] == "POST"
    assert dom["sip_registration"] is dom["secure"] is dom["emergency_calling_enabled"] is False
    assert dom["voice_url"] is None and dom["friendly_name"] is None
    base = dom["uri"][: -len(".json")]
    assert dom["subresource_uris"] == {
        "credential_list_mappings": base + "/CredentialListMappings.json",
        "ip_access_control_list_mappings": base + "/IpAccessControlListMappings.json",
    }


def test_domain_name_unique_across_accounts_and_regions(lab, us):
    ie = lab.by_region["ie1"]
    us.domain("acme.sip.twilio.com")
    err = error(ie.domain, "ACME.sip.twilio.com")
    assert (err.status, err.code) == (400, 21231) and "another account" in err.message
    err = error(us.domain, "acme.sip.twilio.com")
    assert "already exists in this account" in err.message
    assert len(us.s.rows("domains")) == 1 and ie.s.rows("domains") == []


def test_domain_name_updatable_but_still_unique(lab, us):
    au = lab.by_region["au1"]
    mine = us.domain("old.sip.twilio.com")
    other = au.domain("taken.sip.twilio.com")
    upd = us.s.update(DOMAINS, {}, mine["sid"], form(DomainName="new.sip.twilio.com"), "/u")
    assert upd["domain_name"] == "new.sip.twilio.com"
    # Renaming to its own name is fine; to another account's name is not.
    us.s.update(DOMAINS, {}, mine["sid"], form(DomainName="new.sip.twilio.com"), "/u")
    err = error(us.s.update, DOMAINS, {}, mine["sid"], form(DomainName="taken.sip.twilio.com"), "/u")
    assert err.code == 21231
    # The old name is free again at once (Twilio may hold it back: docs/lab.md).
    au.s.delete(DOMAINS, {}, other["sid"], "/u")
    us.domain("taken.sip.twilio.com")


def test_domain_friendly_name_and_required(us):
    assert error(us.domain, "a.sip.twilio.com", **{"FriendlyName": "x" * 65}).code == 21231
    assert us.domain("b.sip.twilio.com", FriendlyName="x" * 64)["friendly_name"] == "x" * 64
    err = error(us.s.create, DOMAINS, {}, form(FriendlyName="no name"), "/u")
    assert (err.status, err.code) == (400, 21201)
    err = error(us.domain, "c.sip.twilio.com", Secure="yes")
    assert err.status == 400


def test_auth_type_computation(us):
    dom = us.domain()
    sid = dom["sid"]
    acl, cl, cl2 = us.acl(), us.cl(), us.cl("registrations")

    def auth_type():
        return us.s.fetch(DOMAINS, {}, sid, "/u")["auth_type"]

    us.map(REG_CL, sid, cl2["sid"])
    assert auth_type() == "", "Registrations mappings do not authenticate calls"
    us.map(CALLS_CL, sid, cl["sid"])
    assert auth_type() == "CREDENTIAL_LIST"
    us.map(LEGACY_IP_MAPPINGS, sid, acl["sid"])  # legacy path, same records
    assert auth_type() == "IP_ACL,CREDENTIAL_LIST"
    us.s.delete(CALLS_CL, {"DomainSid": sid}, cl["sid"], "/u")
    assert auth_type() == "IP_ACL"
    us.s.delete(CALLS_AL, {"DomainSid": sid}, acl["sid"], "/u")
    assert auth_type() == ""


# ---------------------------------------------------------------- mappings


def test_mapping_sid_is_list_sid_and_shapes(us):
    dom, acl = us.domain(), us.acl("office")
    made = us.map(CALLS_AL, dom["sid"], acl["sid"])
    assert made["sid"] == acl["sid"]
    assert set(made) == {"account_sid", "date_created", "date_updated", "friendly_name", "sid"}
    assert made["friendly_name"] == "office"
    legacy = us.s.fetch(LEGACY_IP_MAPPINGS, {"DomainSid": dom["sid"]}, acl["sid"], "/u")
    assert legacy["domain_sid"] == dom["sid"] and legacy["sid"] == acl["sid"]
    assert legacy["uri"].endswith(f"/SIP/Domains/{dom['sid']}/IpAccessControlListMappings/{acl['sid']}.json")
    # The mapping shows the list's current name.
    us.s.update(IP_ACCESS_CONTROL_LISTS, {}, acl["sid"], form(FriendlyName="renamed"), "/u")
    assert us.s.fetch(CALLS_AL, {"DomainSid": dom["sid"]}, acl["sid"], "/u")["friendly_name"] == "renamed"
    listing = us.s.list(CALLS_AL, {"DomainSid": dom["sid"]}, {}, "/u")
    assert [m["sid"] for m in listing["contents"]] == [acl["sid"]]


def test_mapping_twice_refused_across_legacy_and_auth(us):
    dom, acl, cl = us.domain(), us.acl(), us.cl()
    us.map(CALLS_AL, dom["sid"], acl["sid"])
    for rdef in (CALLS_AL, LEGACY_IP_MAPPINGS):
        err = error(us.map, rdef, dom["sid"], acl["sid"])
        assert (err.status, err.code) == (400, 21231) and "already mapped" in err.message
    us.map(LEGACY_CREDENTIAL_MAPPINGS, dom["sid"], cl["sid"])
    assert error(us.map, CALLS_CL, dom["sid"], cl["sid"]).code == 21231
    # Registrations are a separate set: the same list may be mapped there too.
    us.map(REG_CL, dom["sid"], cl["sid"])
    assert len(us.s.rows("auth_calls_credential_list_mappings")) == 1


def test_mapping_needs_an_existing_list_of_the_same_account(lab, us):
    dom = us.domain()
    foreign = lab.by_region["ie1"].acl()
    err = error(us.map, CALLS_AL, dom["sid"], foreign["sid"])
    assert (err.status, err.code) == (404, 20404)
    err = error(us.map, CALLS_CL, dom["sid"], "CL" + "0" * 32)
    assert err.status == 404
    err = error(us.map, CALLS_AL, "SD" + "0" * 32, us.acl()["sid"])
    assert err.status == 404, "unknown domain"
    err = error(us.s.fetch, CALLS_AL, {"DomainSid": dom["sid"]}, foreign["sid"], "/u")
    assert err.status == 404


def test_same_list_on_two_domains(us):
    one, two, acl = us.domain("one.sip.twilio.com"), us.domain("two.sip.twilio.com"), us.acl()
    us.map(CALLS_AL, one["sid"], acl["sid"])
    us.map(CALLS_AL, two["sid"], acl["sid"])
    us.s.delete(CALLS_AL, {"DomainSid": one["sid"]}, acl["sid"], "/u")
    assert us.s.fetch(CALLS_AL, {"DomainSid": two["sid"]}, acl["sid"], "/u")["sid"] == acl["sid"]
    assert error(us.s.fetch, CALLS_AL, {"DomainSid": one["sid"]}, acl["sid"], "/u").status == 404


def test_domain_delete_cascades_its_mappings(us):
    dom, keep, acl, cl = us.domain(), us.domain("keep.sip.twilio.com"), us.acl(), us.cl()
    us.map(CALLS_AL, dom["sid"], acl["sid"])
    us.map(CALLS_CL, dom["sid"], cl["sid"])
    us.map(REG_CL, dom["sid"], cl["sid"])
    us.map(CALLS_CL, keep["sid"], cl["sid"])
    us.s.delete(DOMAINS, {}, dom["sid"], "/u")
    assert us.s.rows("auth_calls_ip_access_control_list_mappings") == []
    assert us.s.rows("auth_registrations_credential_list_mappings") == []
    assert [m["domain_sid"] for m in us.s.rows("auth_calls_credential_list_mappings")] == [keep["sid"]]
    us.s.delete(IP_ACCESS_CONTROL_LISTS, {}, acl["sid"], "/u")  # no longer mapped


def test_mapped_lists_cannot_be_deleted(us):
    dom, acl, cl = us.domain(), us.acl(), us.cl()
    us.map(CALLS_AL, dom["sid"], acl["sid"])
    us.map(REG_CL, dom["sid"], cl["sid"])
    err = error(us.s.delete, IP_ACCESS_CONTROL_LISTS, {}, acl["sid"], "/u")
    assert (err.status, err.code) == (400, 21231) and dom["sid"] in err.message
    err = error(us.s.delete, CREDENTIAL_LISTS, {}, cl["sid"], "/u")
    assert (err.status, err.code) == (400, 21231)
    assert us.s.get("ip_access_control_lists", acl["sid"]) is not None


# ---------------------------------------------------------------- IP ACLs and addresses


@pytest.mark.parametrize("sent,stored", [(None, 32), (0, 32), (32, 32), (24, 24), (1, 1)])
def test_cidr_zero_or_absent_is_32(us, sent, stored):
    acl = us.acl()
    kw = {} if sent is None else {"CidrPrefixLength": sent}
    assert us.ip(acl["sid"], "198.51.100.0", **kw)["cidr_prefix_length"] == stored


def test_cidr_update_and_range(us):
    acl = us.acl()
    ip = us.ip(acl["sid"], CidrPrefixLength=24)
    parents = {"IpAccessControlListSid": acl["sid"]}
    assert us.s.update(IP_ADDRESSES, parents, ip["sid"], form(CidrPrefixLength=0), "/u")["cidr_prefix_length"] == 32
    upd = us.s.update(IP_ADDRESSES, parents, ip["sid"], form(IpAddress="192.0.2.1", FriendlyName="new"), "/u")
    assert (upd["ip_address"], upd["friendly_name"], upd["cidr_prefix_length"]) == ("192.0.2.1", "new", 32)
    for bad in (33, -1, "x"):
        assert error(us.ip, acl["sid"], "192.0.2.2", **{"CidrPrefixLength": bad}).status == 400


@pytest.mark.parametrize(
    "bad", ["2001:db8::1", "::1", "1.2.3", "256.1.1.1", "01.2.3.4", "a.b.c.d", "10.0.0.1/24", "", " 10.0.0.1"]
)
def test_ipv4_only(us, bad):
    err = error(us.ip, us.acl()["sid"], bad)
    assert err.status == 400 and "IPv4" in err.message


def test_ip_address_shape_and_lengths(us):
    acl = us.acl("x" * 255)
    ip = us.ip(acl["sid"])
    assert ip["sid"].startswith("IP") and ip["ip_access_control_list_sid"] == acl["sid"]
    assert ip["uri"].endswith(f"/SIP/IpAccessControlLists/{acl['sid']}/IpAddresses/{ip['sid']}.json")
    assert error(us.acl, "x" * 256).status == 400
    err = error(
        us.s.create,
        IP_ADDRESSES,
        {"IpAccessControlListSid": acl["sid"]},
        form(FriendlyName="y" * 256, IpAddress="192.0.2.1"),
        "/u",
    )
    assert err.status == 400
    err = error(us.s.update, IP_ACCESS_CONTROL_LISTS, {}, acl["sid"], {}, "/u")
    assert (err.status, err.code) == (400, 21202), "FriendlyName is required on update"


def test_acl_delete_cascades_addresses(us):
    acl = us.acl()
    us.ip(acl["sid"])
    us.s.delete(IP_ACCESS_CONTROL_LISTS, {}, acl["sid"], "/u")
    assert us.s.rows("ip_addresses") == []


def test_limits_ips_per_list_and_lists_per_account(us):
    acl = us.acl()
    for i in range(100):
        us.ip(acl["sid"], f"10.0.{i // 250}.{i % 250}")
    err = error(us.ip, acl["sid"], "10.1.0.1")
    assert err.status == 400 and "100" in err.message
    us.ip(us.acl()["sid"], "10.1.0.1")  # the limit is per list
    for _ignored in range(1000 - 2):
        us.acl()
    err = error(us.acl)
    assert err.status == 400 and "1000" in err.message


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    "password,ok",
    [
        ("IWasHere2018", True),
        ("aB3aB3aB3aB3", True),
        ("aB3aB3aB3aB", False),  # 11 characters
        ("abcdefghijk1", False),  # no upper case
        ("ABCDEFGHIJK1", False),  # no lower case
        ("Abcdefghijkl", False),  # no digit
        ("", False),
    ],
)
def test_password_rule(us, password, ok):
    assert password_ok(password) is ok
    cl = us.cl()
    if ok:
        assert us.cred(cl["sid"], password=password)["username"] == "3cx"
    else:
        err = error(us.cred, cl["sid"], "u", password)
        assert (err.status, err.code) == (400, 21243) and "12 characters" in err.message


def test_credential_never_returns_the_password(lab, us):
    cl = us.cl()
    cred = us.cred(cl["sid"])
    assert "password" not in cred and set(cred) == {
        "sid",
        "account_sid",
        "credential_list_sid",
        "username",
        "date_created",
        "date_updated",
        "uri",
    }
    assert us.s.secrets[cred["sid"]] == {"password": PASSWORD}
    assert all("password" not in rec for rec in us.s.rows("credentials"))
    state = json.dumps(lab.public_state())
    assert PASSWORD not in state and "lab_secret_fingerprint" in state
    parents = {"CredentialListSid": cl["sid"]}
    us.s.update(CREDENTIALS, parents, cred["sid"], form(Password="NewPassw0rd12"), "/u")
    assert us.s.secrets[cred["sid"]] == {"password": "NewPassw0rd12"}
    err = error(us.s.update, CREDENTIALS, parents, cred["sid"], form(Password="weak"), "/u")
    assert err.code == 21243 and us.s.secrets[cred["sid"]] == {"password": "NewPassw0rd12"}


def test_username_immutable_unique_and_short(us):
    cl, other = us.cl(), us.cl("other")
    cred = us.cred(cl["sid"], "alice")
    parents = {"CredentialListSid": cl["sid"]}
    err = error(us.s.update, CREDENTIALS, parents, cred["sid"], form(Username="bob", Password=PASSWORD), "/u")
    assert (err.status, err.code) == (400, 21243) and "Username" in err.message
    assert error(us.cred, cl["sid"], "alice").code == 21243
    us.cred(other["sid"], "alice")  # unique per list only
    assert error(us.cred, cl["sid"], "u" * 33).code == 21243
    assert us.cred(cl["sid"], "u" * 32)["username"] == "u" * 32
    err = error(us.s.create, CREDENTIALS, parents, form(Username="carol"), "/u")
    assert (err.status, err.code) == (400, 21201)


def test_credential_list_limits_and_cascade(us):
    assert error(us.cl, "x" * 65).code == 21240
    cl = us.cl("x" * 64)
    for i in range(1000):
        us.cred(cl["sid"], f"user{i}")
    err = error(us.cred, cl["sid"], "one-more")
    assert err.status == 400 and "1000" in err.message
    us.s.delete(CREDENTIAL_LISTS, {}, cl["sid"], "/u")
    assert us.s.rows("credentials") == [] and us.s.secrets == {}
    for _ignored in range(100):
        us.cl()
    assert error(us.cl).code == 21240


# ---------------------------------------------------------------- lab views


def test_sip_auth_view_and_reset(lab, us):
    dom = us.domain("acme.sip.twilio.com")
    acl, cl, reg = us.acl(), us.cl(), us.cl("phones")
    us.ip(acl["sid"], "203.0.113.0", CidrPrefixLength=24)
    us.cred(cl["sid"], "trunk")
    us.cred(reg["sid"], "phone", "Phone0000Pass")
    us.map(CALLS_AL, dom["sid"], acl["sid"])
    us.map(CALLS_CL, dom["sid"], cl["sid"])
    us.map(REG_CL, dom["sid"], reg["sid"])
    lab.by_region["au1"].domain("empty.sip.twilio.com")
    view = sip_auth({r: a.s for r, a in lab.by_region.items()})["domains"]
    acme = view["acme.sip.twilio.com"]
    assert (
        acme["region"] == "us1" and acme["domain_sid"] == dom["sid"] and acme["auth_type"] == "IP_ACL,CREDENTIAL_LIST"
    )
    assert [i["cidr"] for i in acme["ip_addresses"]] == ["203.0.113.0/24"]
    assert [(c["username"], c["password"]) for c in acme["credentials"]] == [("trunk", PASSWORD)]
    assert [(c["username"], c["password"]) for c in acme["registration_credentials"]] == [("phone", "Phone0000Pass")]
    assert view["empty.sip.twilio.com"]["auth_type"] == "" and view["empty.sip.twilio.com"]["region"] == "au1"
    lab.reset({})
    assert us.s.secrets == {} and all(recs == {} for recs in us.s.records.values())
    assert sip_auth({r: a.s for r, a in lab.by_region.items()}) == {"domains": {}}


def test_state_lists_every_sip_resource_per_region(lab, us):
    dom, acl = us.domain(), us.acl()
    us.map(LEGACY_IP_MAPPINGS, dom["sid"], acl["sid"])
    state = lab.public_state()["regions"]
    assert set(state) == set(REGIONS)
    res = state["us1"]["resources"]
    assert set(res) >= {
        "applications",
        "domains",
        "ip_access_control_lists",
        "ip_addresses",
        "credential_lists",
        "credentials",
        "auth_calls_ip_access_control_list_mappings",
        "auth_calls_credential_list_mappings",
        "auth_registrations_credential_list_mappings",
    }
    # Shared records appear once, with the domain they belong to.
    assert "ip_access_control_list_mappings" not in res
    assert res["auth_calls_ip_access_control_list_mappings"][0]["domain_sid"] == dom["sid"]
    assert state["ie1"]["resources"]["domains"] == []
