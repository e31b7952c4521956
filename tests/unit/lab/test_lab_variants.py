"""The lab's variants (lab/variants.py): each reading of an unconfirmed vendor behaviour, in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab import variants as V
from lab.spec import DocumentStatus
from lab.threecx.app import ThreeCX
from lab.threecx.fleet import PbxFleet
from lab.twilio import REGIONS
from lab.twilio.app import Account, Twilio
from lab.twilio.resources import TwilioError
from lab.twilio.sip import AUTH_CALLS_IP_MAPPINGS, DOMAINS, IP_ACCESS_CONTROL_LISTS, LEGACY_IP_MAPPINGS, sip_auth

from .test_lab_threecx_config import Pbx

ROOT = Path(__file__).resolve().parents[3]
REFERENCES = Path(ROOT.parent, "shared", "reference")


class VariantPbx(Pbx):
    def __init__(self, *variants, version="20.0.10"):
        self.st = ThreeCX(None, DocumentStatus(False, "none"), client_id="lab1", client_secret="s3cret", version=version, variants=list(variants))
        self.st.tokens["lab1"] = {"access_token": "tok", "issued_at": 0, "expires_at": 4e9}

    def queue(self, **body):
        return self.ok("POST", "/Queues", {"Name": "Fallback", **body}, 201)

    def agents(self, queue_id):
        return sorted(a["Number"] for a in self.ok("GET", f"/Queues({queue_id})", query={"$expand": "Agents"})["Agents"])


# ---------------------------------------------------------------------------- the catalogue


def test_at_least_15_variants_one_default_per_behaviour_each_with_its_reference():
    assert len(V.ALL) >= 15
    assert len(V.BY_NAME) == len(V.ALL)
    for behaviour, variants in V.BEHAVIOURS.items():
        assert len(variants) >= 2, behaviour
        assert sum(v.default for v in variants) == 1, behaviour
        assert len({v.vendor for v in variants}) == 1, behaviour
    for v in V.ALL:
        source = v.reference.split(" ")[0]
        # Every reading names where it came from: a reference file that exists (or docs/lab.md).
        assert source.endswith(".md"), v.name
        assert (REFERENCES / source).is_file() or (ROOT / source).is_file(), (v.name, source)


def test_the_brief_s_behaviours_are_covered():
    assert set(V.BEHAVIOURS) == {
        "nav_write", "template_upload", "pai_names", "token_expiry", "token_cooldown", "paging",
        "outbound_routes", "forward_department", "dnd", "presence_write", "mapping_stores", "domain_taken",
    }  # fmt: skip
    assert {"nav-inline", "nav-inline-ignored", "nav-bind-only"} == {v.name for v in V.BEHAVIOURS["nav_write"]}


def test_resolve_refuses_unknown_and_two_readings_of_one_behaviour():
    with pytest.raises(ValueError, match="unknown variant 'nav-maybe'.*nav-inline"):
        V.resolve(["nav-maybe"])
    with pytest.raises(ValueError, match="two readings of one behaviour \\(paging\\)"):
        V.resolve(["paging-silent", "paging-nextlink"])
    with pytest.raises(ValueError, match="must be a list"):
        V.resolve("paging-silent")
    assert V.resolve(["paging-silent", "mappings-separate"], V.THREECX)["paging"] == "paging-silent"
    assert "mapping_stores" not in V.resolve([], V.THREECX)


def test_lab_variants_command_lists_every_variant():
    proc = subprocess.run([sys.executable, "-m", "lab", "variants"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    for v in V.ALL:
        assert v.name in proc.stdout
    as_json = subprocess.run([sys.executable, "-m", "lab", "variants", "--json"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert [v["name"] for v in json.loads(as_json.stdout)] == [v.name for v in V.ALL]


def test_lab_up_refuses_an_unknown_or_doubled_variant_before_starting(tmp_path):
    env = {"LAB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([sys.executable, "-m", "lab", "up", "--variant", "nope"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "unknown variant 'nope'" in bad.stderr
    two = subprocess.run(
        [sys.executable, "-m", "lab", "up", "--variant", "paging-silent", "--variant", "paging-nextlink"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert two.returncode == 2 and "two readings" in two.stderr
    assert not (tmp_path / "lab.pid").exists()


# ---------------------------------------------------------------------------- navigation properties


def test_nav_inline_default_stores_inline_and_refuses_bind():
    pbx = VariantPbx()
    q = pbx.queue(Agents=[{"Number": "100"}])
    assert pbx.agents(q["Id"]) == ["100"]
    message = pbx.error("PATCH", f"/Queues({q['Id']})", {"Agents@odata.bind": ["Users(Number='101')"]})
    assert "Agents@odata.bind" in message and "does not exist" in message


def test_nav_inline_ignored_answers_2xx_and_changes_nothing_but_takes_bind():
    pbx = VariantPbx("nav-inline-ignored")
    q = pbx.queue(Agents=[{"Number": "100"}])
    assert pbx.agents(q["Id"]) == []
    pbx.ok("PATCH", f"/Queues({q['Id']})", {"Agents": [{"Number": "101"}]}, 204)
    assert pbx.agents(q["Id"]) == []
    users = {u["Number"]: u["Id"] for u in pbx.ok("GET", "/Users")["value"]}
    pbx.ok("PATCH", f"/Queues({q['Id']})", {"Agents@odata.bind": [f"Users({users['100']})", "Users(Number='101')"]}, 204)
    assert pbx.agents(q["Id"]) == ["100", "101"]
    # A reference that names no user is the PBX's 400, as for an inline unknown extension.
    assert "not found" in pbx.error("PATCH", f"/Queues({q['Id']})", {"Agents@odata.bind": ["Users(Number='999')"]}, status=404)
    assert "not a reference" in pbx.error("PATCH", f"/Queues({q['Id']})", {"Agents@odata.bind": ["Queues(1)"]})


def test_nav_bind_only_refuses_inline_naming_the_property():
    pbx = VariantPbx("nav-bind-only")
    message = pbx.error("POST", "/RingGroups", {"Name": "RG", "Members": [{"Number": "100"}]})
    assert "'Members' of 'Pbx.RingGroup' cannot be written inline" in message and "Members@odata.bind" in message
    rg = pbx.ok("POST", "/RingGroups", {"Name": "RG", "Members@odata.bind": ["https://pbx.test/xapi/v1/Users(Number='102')"]}, 201)
    members = pbx.ok("GET", f"/RingGroups({rg['Id']})", query={"$expand": "Members"})["Members"]
    assert [m["Number"] for m in members] == ["102"]


def test_trunk_dn_by_variant():
    for variant in ("nav-inline", "nav-inline-ignored", "nav-bind-only"):
        pbx = VariantPbx(variant)
        trunk = pbx.trunk(DidNumbers=["+13125550199"])
        queue = pbx.queue()
        rule = {"RuleName": "r", "Condition": "BasedOnDID", "Data": "+13125550199", "OfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]}}
        if variant == "nav-bind-only":
            assert "'TrunkDN' of 'Pbx.InboundRule' cannot be written inline" in pbx.error("POST", "/InboundRules", {**rule, "TrunkDN": {"Id": trunk["Id"]}})
        made = pbx.call("POST", "/InboundRules", {**rule, "TrunkDN": {"Id": trunk["Id"]}})[1] if variant != "nav-bind-only" else None
        if variant == "nav-inline":
            assert pbx.ok("GET", f"/InboundRules({made['Id']})", query={"$expand": "TrunkDN"})["TrunkDN"]["Id"] == trunk["Id"]
            continue
        if variant == "nav-inline-ignored":
            # Accepted without a word, stored on no trunk.
            assert pbx.ok("GET", f"/InboundRules({made['Id']})", query={"$expand": "TrunkDN"})["TrunkDN"] is None
            pbx.ok("PATCH", f"/InboundRules({made['Id']})", {"TrunkDN@odata.bind": f"Trunks({trunk['Id']})"}, 204)
        else:
            made = pbx.ok("POST", "/InboundRules", {**rule, "TrunkDN@odata.bind": f"Trunks({trunk['Id']})"}, 201)
        assert pbx.ok("GET", f"/InboundRules({made['Id']})", query={"$expand": "TrunkDN"})["TrunkDN"]["Id"] == trunk["Id"]


# ---------------------------------------------------------------------------- templates, catalogue, tokens

TEMPLATE = "<doc xmlns:tcx='http://www.3cx.com'><header><name>Twilio CID</name></header><data><device/></data></doc>"


def test_template_file_only_refuses_post_and_patch():
    pbx = VariantPbx("template-file-only")
    message = pbx.error("POST", "/TrunkTemplates", {"Id": "twilio-cid.pv.xml", "Name": "T", "Content": TEMPLATE}, status=405)
    assert "provider templates folder" in message
    assert len(pbx.ok("GET", "/TrunkTemplates")["value"]) == 2
    assert VariantPbx().ok("POST", "/TrunkTemplates", {"Id": "twilio-cid.pv.xml", "Name": "T", "Content": TEMPLATE}, 201)["IsCustom"]


@pytest.mark.parametrize(
    "variant, expected",
    [("pai-names-lab", "PAssertedIdentityUserPart"), ("pai-names-hyphen", "P-AssertedIdentityUserPart"), ("pai-names-absent", None)],
)
def test_pai_names(variant, expected):
    pbx = VariantPbx(variant)
    names = {p["Name"] for p in pbx.ok("GET", "/Defs/GatewayParameters")["value"]}
    ppi = {n for n in names if "PreferredIdentity" in n}
    pai = {n for n in names if "AssertedIdentity" in n}
    if expected is None:
        assert not pai and not ppi
    else:
        assert expected in pai and len(pai) == 3 and len(ppi) == 3
    assert "FromUserPart" in names


def _token(pbx):
    from email.message import Message

    from lab.server import Request

    headers = Message()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = b"grant_type=client_credentials&client_id=lab1&client_secret=s3cret"
    req = Request("POST", "/connect/token", "/connect/token", {}, headers, body, "pbx.test", "127.0.0.1")
    route, req.params, allowed = pbx.st.router.match("POST", req.path)
    resp = pbx.st.dispatch(req, route, allowed)
    return resp.status, json.loads(resp.body)


@pytest.mark.parametrize(
    "variant, version, expires_in",
    [
        ("expires-by-version", "20.0.8", 60),
        ("expires-by-version", "20.0.9", 3600),
        ("expires-minutes", "20.0.10", 60),
        ("expires-seconds", "20.0.7", 3600),
    ],
)
def test_token_expiry_unit(variant, version, expires_in):
    pbx = VariantPbx(variant, version=version)
    status, body = _token(pbx)
    assert status == 200 and body["expires_in"] == expires_in
    # The token lives 60 minutes whatever the unit says.
    assert 3590 < pbx.st.tokens["lab1"]["expires_at"] - pbx.st.tokens["lab1"]["issued_at"] <= 3600


@pytest.mark.parametrize("variant, admitted", [("token-cooldown-5", 5), ("token-cooldown-2", 2), ("token-no-cooldown", 12)])
def test_token_cooldown(variant, admitted):
    pbx = VariantPbx(variant)
    statuses = [_token(pbx)[0] for _attempt in range(12)]
    assert statuses == [200] * admitted + [403] * (12 - admitted)


# ---------------------------------------------------------------------------- paging


def test_paging_none_answers_everything():
    body = VariantPbx().ok("GET", "/Users")
    assert len(body["value"]) == 6 and "@odata.nextLink" not in body


def test_paging_nextlink_links_every_page():
    pbx = VariantPbx("paging-nextlink")
    seen, query = [], {"$select": "Number", "$orderby": "Number"}
    path = "/Users"
    while True:
        body = pbx.ok("GET", path, query=query)
        seen += [u["Number"] for u in body["value"]]
        if "@odata.nextLink" not in body:
            break
        link = body["@odata.nextLink"]
        assert link.startswith("https://pbx.test/xapi/v1/Users?")
        from urllib.parse import parse_qsl, urlsplit

        query = dict(parse_qsl(urlsplit(link).query))
        assert query["$select"] == "Number"
    assert seen == ["100", "101", "102", "103", "104", "105"]
    # $top is honoured across pages.
    first = pbx.ok("GET", "/Users", query={"$top": "3"})
    assert len(first["value"]) == 2 and "$top=1" in first["@odata.nextLink"]


def test_paging_silent_cuts_and_says_nothing_but_count_tells():
    pbx = VariantPbx("paging-silent")
    body = pbx.ok("GET", "/Users", query={"$top": "100", "$count": "true"})
    assert len(body["value"]) == 2 and "@odata.nextLink" not in body and body["@odata.count"] == 6
    rest = pbx.ok("GET", "/Users", query={"$skip": "2"})
    assert len(rest["value"]) == 2


# ---------------------------------------------------------------------------- outbound routes, department, DND


def test_routes_need_five():
    pbx = VariantPbx("routes-need-five")
    trunk = pbx.trunk()
    one = [{"TrunkId": trunk["Id"], "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}]
    assert "needs all 5 Routes" in pbx.error("POST", "/OutboundRules", {"Name": "r", "Prefix": "+1", "Routes": one})
    unused = {"TrunkId": -1, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}
    rule = pbx.ok("POST", "/OutboundRules", {"Name": "r", "Prefix": "+1", "Routes": one + [unused] * 4}, 201)
    assert "needs all 5" in pbx.error("PATCH", f"/OutboundRules({rule['Id']})", {"Routes": one})
    pbx.ok("PATCH", f"/OutboundRules({rule['Id']})", {"Name": "renamed"}, 204)
    assert len(VariantPbx().ok("POST", "/OutboundRules", {"Name": "r", "Prefix": "+1", "Routes": []}, 201)["Routes"]) == 5


def _fallback_site(pbx, group_ids):
    trunk = pbx.trunk(DidNumbers=["+13125550199"])
    queue = pbx.queue(Agents=[{"Number": "100"}], ForwardNoAnswer={"To": "External", "External": "+14155550123"})
    pbx.ok("POST", "/InboundRules", {"RuleName": "r", "Condition": "BasedOnDID", "Data": "+13125550199", "TrunkDN": {"Id": trunk["Id"]},
                                     "OfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]}}, 201)  # fmt: skip
    routes = [{"TrunkId": trunk["Id"], "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}]
    pbx.ok("POST", "/OutboundRules", {"Name": "Twilio", "Prefix": "+1415", "GroupIds": group_ids, "Routes": routes}, 201)


def _call(pbx):
    from lab.threecx.calls import Flow

    flow = Flow(did="+13125550199", caller="+17735550142")
    return pbx.st.calls._route(flow), flow


@pytest.mark.parametrize("variant, matches", [("forward-dept-queue", True), ("forward-dept-none", False)])
def test_forward_department(variant, matches):
    pbx = VariantPbx(variant)
    _fallback_site(pbx, [27])  # the queue's department (DEFAULT)
    pbx.st.pbx.upsert_extensions([{"Number": "100", "dnd": True}])
    placed, flow = _call(pbx)
    assert (placed is not None) is matches, flow.reason
    if not matches:
        assert flow.stopped_at == "outbound_rule"
    # A rule without departments matches the leg in both readings.
    other = VariantPbx(variant)
    _fallback_site(other, [])
    other.st.pbx.upsert_extensions([{"Number": "100", "dnd": True}])
    assert _call(other)[0] is not None


@pytest.mark.parametrize("variant", ["dnd-profile", "dnd-flag"])
def test_dnd(variant):
    pbx = VariantPbx(variant)
    _fallback_site(pbx, [])
    pbx.st.pbx.upsert_extensions([{"Number": "100", "dnd": True}])
    profile = pbx.ok("GET", "/Users(Number='100')")["CurrentProfileName"]
    assert profile == ("Out of office" if variant == "dnd-profile" else "Available")
    placed, flow = _call(pbx)
    assert placed is not None and flow.outcome != "answered_by_agent"  # on DND either way: the fallback runs
    pbx.st.pbx.upsert_extensions([{"Number": "100", "dnd": False}])
    assert _call(pbx)[1].outcome == "answered_by_agent"


@pytest.mark.parametrize("variant", ["presence-stored", "presence-ignored"])
def test_presence_write(variant):
    # PATCH /Users({Id}) is the vendor document's; whether the PBX takes CurrentProfileName from it is not known.
    pbx = VariantPbx(variant)
    user = pbx.ok("GET", "/Users(Number='100')")
    pbx.ok("PATCH", f"/Users({user['Id']})", {"CurrentProfileName": "Out of office"}, 204)
    profile = pbx.ok("GET", f"/Users({user['Id']})")["CurrentProfileName"]
    assert profile == ("Out of office" if variant == "presence-stored" else "Available")
    # An agent the profile puts on DND is not rung under the profile reading of DND.
    _fallback_site(pbx, [])
    assert (_call(pbx)[1].outcome == "answered_by_agent") is (variant == "presence-ignored")
    # Either way a profile v20 does not have is refused, and other properties are written.
    assert "CurrentProfileName must be one of" in pbx.error("PATCH", f"/Users({user['Id']})", {"CurrentProfileName": "Gone fishing"})
    pbx.ok("PATCH", f"/Users({user['Id']})", {"LastName": "Renamed"}, 204)
    assert pbx.ok("GET", f"/Users({user['Id']})")["LastName"] == "Renamed"


# ---------------------------------------------------------------------------- reset, control, fleet


def test_reset_goes_back_to_launch_variants_unless_told():
    pbx = VariantPbx("paging-silent")
    pbx.st.reset({})
    assert pbx.st.variant("paging") == "paging-silent"
    pbx.st.reset({"variants": ["nav-bind-only"]})
    assert pbx.st.variant("paging") == "paging-none" and pbx.st.variant("nav_write") == "nav-bind-only"
    # An explicit option wins over what a variant means for it.
    pbx.st.reset({"variants": ["pai-names-absent"], "gateway_parameter_names": {"PAssertedIdentityUserPart": "PAI-User"}})
    assert pbx.st.pbx.catalogue.names["PAssertedIdentityUserPart"] == "PAI-User"
    assert pbx.st.pbx.catalogue.names["PPreferredIdentityUserPart"] is None
    with pytest.raises(ValueError, match="unknown variant"):
        pbx.st.reset({"variants": ["x"]})


def test_fleet_pbx_with_its_own_variants():
    root = ThreeCX(None, DocumentStatus(False, "none"), client_id="lab1", client_secret="s", variants=["paging-nextlink"])
    fleet = PbxFleet(root)
    fleet.create(["a"])
    fleet.create(["b"], variants=["nav-inline-ignored"])
    assert fleet.get("a").variant("paging") == "paging-nextlink"  # the root's launch variants
    assert fleet.get("b").variant("paging") == "paging-none" and fleet.get("b").variant("nav_write") == "nav-inline-ignored"
    assert fleet.descriptor("b")["variants"] == ["nav-inline-ignored"]
    with pytest.raises(ValueError, match="unknown variant"):
        fleet.create(["c"], variants=["nope"])
    assert fleet.get("c") is None


# ---------------------------------------------------------------------------- Twilio


def _twilio(variants=None):
    accounts = {r: Account.generate(r) for r in REGIONS}
    tw = Twilio(None, DocumentStatus(False, "-", reason="unit test"), accounts, variants=variants)
    return tw, {r: tw.data[a.account_sid] for r, a in accounts.items()}


def _form(**kw):
    return {k: [str(v)] for k, v in kw.items()}


@pytest.mark.parametrize("variant, status, code", [("domain-taken-21231", 400, 21231), ("domain-taken-21248", 400, 21248), ("domain-taken-409", 409, 20409)])
def test_domain_taken(variant, status, code):
    _tw, stores = _twilio([variant])
    stores["ie1"].create(DOMAINS, {}, _form(DomainName="acme.sip.twilio.com"), "/u")
    with pytest.raises(TwilioError) as err:
        stores["us1"].create(DOMAINS, {}, _form(DomainName="ACME.sip.twilio.com"), "/u")
    assert (err.value.status, err.value.code) == (status, code)
    assert "held by another account" in str(err.value)


@pytest.mark.parametrize("variant", ["mappings-shared", "mappings-separate"])
def test_mapping_stores(variant):
    tw, stores = _twilio([variant])
    us = stores["us1"]
    dom = us.create(DOMAINS, {}, _form(DomainName="acme.sip.twilio.com"), "/u")
    acl = us.create(IP_ACCESS_CONTROL_LISTS, {}, _form(FriendlyName="pbx"), "/u")
    us.create(LEGACY_IP_MAPPINGS, {"DomainSid": dom["sid"]}, _form(IpAccessControlListSid=acl["sid"]), "/u")
    calls_view = us.rows(AUTH_CALLS_IP_MAPPINGS.name, domain_sid=dom["sid"])
    assert len(calls_view) == (1 if variant == "mappings-shared" else 0)
    # Either way the legacy mapping admits calls and counts in auth_type.
    assert us.fetch(DOMAINS, {}, dom["sid"], "/u")["auth_type"] == "IP_ACL"
    assert sip_auth({"us1": us})["domains"]["acme.sip.twilio.com"]["auth_type"] == "IP_ACL"
    if variant == "mappings-separate":
        # The same list can then be mapped through the other path too; both views show one mapping each.
        us.create(AUTH_CALLS_IP_MAPPINGS, {"DomainSid": dom["sid"]}, _form(IpAccessControlListSid=acl["sid"]), "/u")
        assert len(us.rows(AUTH_CALLS_IP_MAPPINGS.name, domain_sid=dom["sid"])) == 1
        assert len(us.rows(LEGACY_IP_MAPPINGS.name, domain_sid=dom["sid"])) == 1
    tw.reset({})
    assert us.variants["mapping_stores"] == variant


def test_twilio_variants_per_account():
    tw, stores = _twilio()
    tw.reset({"variants": {"ie1": ["domain-taken-409"]}})
    assert stores["ie1"].variants["domain_taken"] == "domain-taken-409"
    assert stores["us1"].variants["domain_taken"] == "domain-taken-21231"
    assert tw.active_variants()["ie1"]["domain_taken"] == "domain-taken-409"
    with pytest.raises(ValueError, match="unknown regions"):
        tw.reset({"variants": {"eu9": []}})


# ---------------------------------------------------------------------------- the command line, end to end


def test_lab_up_and_pbx_add_with_variants(tmp_path):
    from .test_lab_fleet import run_lab

    home, cache = tmp_path / "home", tmp_path / "cache"
    run_lab(["up", "--variant", "paging-silent", "--variant", "domain-taken-409", "--pbx", "site-a"], home, cache)
    try:
        eps = json.loads((home / "endpoints.json").read_text())
        assert eps["threecx"]["variants"] == ["paging-silent"]
        assert eps["threecx"]["pbxs"]["site-a"]["variants"] == ["paging-silent"]  # the launch variants
        assert {r: v["domain_taken"] for r, v in eps["twilio"]["variants"].items()} == {r: "domain-taken-409" for r in REGIONS}
        added = run_lab(["pbx", "add", "site-b", "--variant", "nav-bind-only"], home, cache)
        assert json.loads(added.stdout)["pbxs"]["site-b"]["variants"] == ["nav-bind-only"]
        refused = run_lab(["up", "--variant", "dnd-flag"], home, cache, check=False)
        assert refused.returncode == 1 and "--variant applies to a new lab only" in refused.stderr

        import requests

        with requests.Session() as http:
            http.trust_env = False
            http.verify = str(home / "ca.pem")
            eps = json.loads((home / "endpoints.json").read_text())
            control = eps["threecx"]["pbxs"]["site-b"]["control_url"]
            view = http.get(control + "/variants", timeout=30).json()
            assert view["active"]["nav_write"] == "nav-bind-only" and view["active"]["paging"] == "paging-none"
            assert [v["name"] for v in view["catalogue"]] == [v.name for v in V.ALL]
            switched = http.post(control + "/variants", json={"variants": ["template-file-only"]}, timeout=30).json()
            assert switched["active"]["template_upload"] == "template-file-only" and switched["active"]["nav_write"] == "nav-inline"
            bad = http.post(control + "/variants", json={"variants": ["nope"]}, timeout=30)
            assert bad.status_code == 400 and "unknown variant" in bad.json()["error"]
            # The root's reset puts every PBX back to the variants it was made with.
            assert http.post(eps["threecx"]["control_url"] + "/reset", timeout=30).status_code == 200
            assert http.get(control + "/variants", timeout=30).json()["active"]["nav_write"] == "nav-bind-only"
    finally:
        run_lab(["down"], home, cache, check=False)
