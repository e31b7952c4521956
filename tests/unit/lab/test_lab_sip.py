"""The SIP leg end to end: a lab of its own (``lab up --pbx site-a --pbx site-b``), configured only
through the stand-ins' APIs, places real INVITEs (sipp) to the Twilio SIP Domain (Kamailio).

Skipped, naming the missing binary, when kamailio or sipp is not installed (scripts/bootstrap sip).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from lab.sip import missing_binaries, missing_message

MISSING = missing_binaries()
pytestmark = [pytest.mark.lab, pytest.mark.skipif(bool(MISSING), reason=missing_message(MISSING) if MISSING else "")]

ROOT = Path(__file__).resolve().parents[3]
CALLER = "+17735550142"  # the customer who rang the DID
TRUNK_NUMBER = "+13125550100"  # the trunk's own outbound caller ID
DID = "+13125550199"
FALLBACK = "+14155550123"  # the queue's "destination if no answer": dialled through the trunk to Twilio
PASSWORD = "Fallback2026x"
FOUR = ("FromUserPart", "RemotePartyIDCallingPartyUserPart", "PAssertedIdentityUserPart", "PPreferredIdentityUserPart")
TWILIO_HOSTS = {"us1": "api.twilio.com", "ie1": "api.dublin.ie1.twilio.com"}
MAX_CALL_SECONDS = 2.0


def run_lab(args: list[str], home: Path, cache: Path, check: bool = True) -> subprocess.CompletedProcess:
    # The unit tier tests the lab's machinery, with or without the vendor documents (its
    # validation tests skip without them); the contract and integration tiers insist on them.
    env = dict(os.environ, LAB_HOME=str(home), LAB_CACHE_DIR=str(cache), LAB_ALLOW_NO_SPEC="1")
    proc = subprocess.run(
        [sys.executable, "-m", "lab", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Lab:
    def __init__(self, home: Path):
        self.home = home
        self.eps = json.loads((home / "endpoints.json").read_text())
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.verify = self.eps["ca_bundle"]
        self.tokens: dict[str, str] = {}

    # ---- 3CX
    def pbx(self, name: str) -> dict:
        return self.eps["threecx"]["pbxs"][name]

    def xapi(self, site: str, method: str, path: str, **kw) -> requests.Response:
        pbx = self.pbx(site)
        if site not in self.tokens:
            form = {
                "grant_type": "client_credentials",
                "client_id": pbx["client_id"],
                "client_secret": pbx["client_secret"],
            }
            resp = self.http.post(pbx["url"] + "/connect/token", data=form, timeout=30)
            assert resp.status_code == 200, resp.text
            self.tokens[site] = resp.json()["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[site]}"}
        return self.http.request(method, f"{pbx['url']}/xapi/v1{path}", headers=headers, timeout=30, **kw)

    def ok(self, site: str, method: str, path: str, **kw) -> dict:
        resp = self.xapi(site, method, path, **kw)
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else {}

    def control(self, site: str, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, f"{self.pbx(site)['control_url']}/{path}", timeout=30, **kw)

    def calls(self, site: str, did: str = DID, caller: str = CALLER) -> dict:
        resp = self.control(site, "POST", "calls", json={"did": did, "caller": caller})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def test_call(self, site: str, trunk_id: int, destination: str = FALLBACK, contact: str = CALLER) -> dict:
        started = time.monotonic()
        result = self.ok(
            site,
            "POST",
            f"/Trunks({trunk_id})/Pbx.TestOutboundCall",
            json={"contact": contact, "destination": destination},
        )
        assert time.monotonic() - started < MAX_CALL_SECONDS, "one test call should take well under 2 s"
        return result

    # ---- Twilio
    def twilio(self, region: str, method: str, path: str, **kw) -> requests.Response:
        acct = self.eps["twilio"]["accounts"][region]
        url = f"{self.eps['twilio_api_base_url']}/2010-04-01/Accounts/{acct['account_sid']}/{path}"
        headers = {"X-Forwarded-Host": TWILIO_HOSTS[region]}
        return self.http.request(
            method, url, auth=(acct["account_sid"], acct["auth_token"]), headers=headers, timeout=30, **kw
        )

    def tw(self, region: str, path: str, **form) -> dict:
        resp = self.twilio(region, "POST", path, data=form)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def twilio_calls(self, region: str, **query) -> list[dict]:
        resp = self.twilio(region, "GET", "Calls.json", params=query)
        assert resp.status_code == 200, resp.text
        return resp.json()["calls"]

    def violations(self) -> list[dict]:
        out = []
        for url in (self.eps["twilio"]["control_url"], self.eps["threecx"]["control_url"]):
            out += [e for e in self.http.get(f"{url}/requests", timeout=30).json() if e["violations"]]
        return out


@pytest.fixture(scope="module")
def sip_lab(tmp_path_factory) -> Lab:
    home = tmp_path_factory.mktemp("siphome")
    cache = tmp_path_factory.getbasetemp() / "lab-doc-cache"
    run_lab(["up", "--pbx", "site-a", "--pbx", "site-b"], home, cache)
    try:
        yield Lab(home)
    finally:
        run_lab(["down"], home, cache, check=False)


@pytest.fixture
def lab(sip_lab: Lab) -> Lab:
    for url in (sip_lab.eps["twilio"]["control_url"], sip_lab.eps["threecx"]["control_url"]):
        sip_lab.http.post(f"{url}/reset", timeout=30).raise_for_status()
    sip_lab.tokens.clear()
    yield sip_lab
    assert sip_lab.violations() == [], "a request or response violated the vendor documents"


# ---------------------------------------------------------------- set-up through the APIs


def domain(lab: Lab, region: str, ips: tuple[str, ...] = (), creds: tuple[tuple[str, str], ...] = ()) -> str:
    """A SIP Domain with an IP ACL and/or a credential list mapped to its Auth/Calls; returns its name."""
    name = f"site-{uuid.uuid4().hex[:8]}.sip.twilio.com"
    sd = lab.tw(region, "SIP/Domains.json", DomainName=name)["sid"]
    if ips:
        al = lab.tw(region, "SIP/IpAccessControlLists.json", FriendlyName="pbx")["sid"]
        for ip in ips:
            lab.tw(region, f"SIP/IpAccessControlLists/{al}/IpAddresses.json", FriendlyName="pbx", IpAddress=ip)
        lab.tw(region, f"SIP/Domains/{sd}/Auth/Calls/IpAccessControlListMappings.json", IpAccessControlListSid=al)
    if creds:
        cl = lab.tw(region, "SIP/CredentialLists.json", FriendlyName="pbx")["sid"]
        for username, password in creds:
            lab.tw(region, f"SIP/CredentialLists/{cl}/Credentials.json", Username=username, Password=password)
        lab.tw(region, f"SIP/Domains/{sd}/Auth/Calls/CredentialListMappings.json", CredentialListSid=cl)
    return name


def template(lab: Lab, site: str, variable: str | None) -> str:
    """A copy of GenericSIPTrunk.pv.xml with the four caller-ID parameters bound to *variable* (None: unbound)."""
    content = lab.ok(site, "GET", "/TrunkTemplates('GenericSIPTrunk.pv.xml')")["Content"]
    for param in FOUR:
        line = re.compile(rf'\s*<field name="ParameterOut" custom="" parameter="{param}">\$\w+</field>')
        content = line.sub("", content)
        if variable is not None:
            new = f'      <field name="ParameterOut" custom="" parameter="{param}">${variable}</field>\n    </device>'
            content = content.replace("    </device>", new, 1)
    ident = f"twilio-{(variable or 'unbound').lower()}.pv.xml"
    lab.ok(site, "POST", "/TrunkTemplates", json={"Id": ident, "Name": f"Twilio {variable}", "Content": content})
    return ident


def trunk(
    lab: Lab, site: str, host: str, variable: str | None = "OriginatorCallerId", auth: tuple[str, str] | None = None
) -> int:
    ident = template(lab, site, variable)
    body = lab.ok(site, "GET", f"/Trunks/Pbx.InitTrunk(template='{ident}')")
    body.pop("@odata.context")
    body["Gateway"].update(
        {"Name": "Twilio SIP Domain", "Host": host, "ProxyHost": host, "Codecs": ["PCMU", "PCMA", "G729"]}
    )
    body.update({"DidNumbers": [DID], "OutboundCallerID": TRUNK_NUMBER, "TransportRestriction": "UDP"})
    if auth is not None:
        body["Gateway"]["RequireRegistrationFor"] = "InOutCalls"
        body["AuthID"], body["AuthPassword"] = auth[0], {"Value": auth[1]}
    return lab.ok(site, "POST", "/Trunks", json=body)["Id"]


def wire(lab: Lab, site: str, trunk_id: int) -> dict:
    """DID -> queue (agents 100, 101; no answer -> FALLBACK) and an outbound rule FALLBACK -> the trunk; E164 off."""
    queue = lab.ok(
        site,
        "POST",
        "/Queues",
        json={
            "Name": "Support",
            "Agents": [{"Number": "100"}, {"Number": "101"}],
            "ForwardNoAnswer": {"To": "External", "External": FALLBACK},
        },
    )
    rule = {"RuleName": "main", "Condition": "BasedOnDID", "Data": DID, "TrunkDN": {"Id": trunk_id}}
    lab.ok(
        site,
        "POST",
        "/InboundRules",
        json={**rule, "OfficeHoursDestination": {"To": "Queue", "Number": queue["Number"]}},
    )
    out = lab.ok(
        site,
        "POST",
        "/OutboundRules",
        json={"Name": "Twilio fallback", "Prefix": FALLBACK, "Routes": [{"TrunkId": trunk_id}]},
    )
    lab.xapi(site, "PATCH", "/E164Settings", json={"Enabled": False})
    return {"queue": queue, "outbound_rule": out}


def dnd(lab: Lab, site: str, *numbers: str, on: bool = True) -> None:
    body = {"extensions": [{"Number": n, "dnd": on} for n in numbers]}
    lab.control(site, "POST", "extensions", json=body).raise_for_status()


def codes(result: dict) -> list[str]:
    return [r["Code"] for r in result["Reports"]]


def texts(result: dict) -> str:
    return "\n".join(entry["Text"] for entry in result["Log"])


# ---------------------------------------------------------------- (a) (b) IP ACL


def test_a_allowed_ip_call_is_answered_and_twilio_logs_the_callers_number(lab):
    ip = lab.pbx("site-a")["public_ip"]
    host = domain(lab, "ie1", ips=(ip,)).replace(".sip.", ".sip.ie1.")
    result = lab.test_call("site-a", trunk(lab, "site-a", host))
    assert "OutboundCallSuccessful" in codes(result), texts(result)
    assert "<- SIP/2.0 200 OK [CSeq 1 INVITE]" in texts(result) and "-> BYE" in texts(result)
    calls = lab.twilio_calls("ie1")
    assert len(calls) == 1, "the call is in the ie1 account that holds the domain"
    call = calls[0]
    assert (call["from"], call["to"], call["status"], call["direction"]) == (CALLER, FALLBACK, "completed", "inbound")
    assert re.fullmatch(r"CA[0-9a-f]{32}", call["sid"]) and call["date_created"].endswith("+0000")
    assert lab.twilio_calls("us1") == []
    assert lab.twilio_calls("ie1", From=CALLER, Status="completed") == calls
    assert lab.twilio_calls("ie1", To="+10000000000") == []
    fetched = lab.twilio("ie1", "GET", f"Calls/{call['sid']}.json").json()
    assert fetched["sid"] == call["sid"]


def test_b_pbx_ip_not_in_the_acl_is_refused_with_403(lab):
    host = domain(lab, "us1", ips=("127.0.0.99",))
    result = lab.test_call("site-a", trunk(lab, "site-a", host))
    assert "OutboundCallFailed" in codes(result) and "<- SIP/2.0 403 Forbidden [CSeq 1 INVITE]" in texts(result)
    assert "from 127.0.0.11: 403 (source IP not in an IP ACL of the domain)" in texts(result)
    (call,) = lab.twilio_calls("us1")
    assert (call["status"], call["from"]) == ("failed", CALLER)


# ---------------------------------------------------------------- (c) without the four bindings


@pytest.mark.parametrize("variable", ["OutboundCallerId", None], ids=["bound-to-OutboundCallerId", "unbound"])
def test_c_without_originator_bindings_twilio_sees_the_trunks_number(lab, variable):
    host = domain(lab, "us1", ips=(lab.pbx("site-b")["public_ip"],))
    trunk_id = trunk(lab, "site-b", host, variable=variable)
    wire(lab, "site-b", trunk_id)
    dnd(lab, "site-b", "100", "101")
    flow = lab.calls("site-b")
    assert flow["outcome"] == "twilio_answered" and flow["sip"]["status"] == 200
    assert flow["sip"]["from"] == TRUNK_NUMBER
    expected = TRUNK_NUMBER if variable else None
    assert (flow["sip"]["pai"], flow["sip"]["ppi"], flow["sip"]["rpid"]) == (expected, expected, expected)
    (call,) = lab.twilio_calls("us1")
    assert call["from"] == TRUNK_NUMBER != CALLER


# ---------------------------------------------------------------- (d) credentials


@pytest.mark.parametrize("password, status", [(PASSWORD, 200), ("Wrong2026passX", 403)], ids=["right", "wrong"])
def test_d_credential_list_domain_challenges_and_checks_the_trunks_credentials(lab, password, status):
    host = domain(lab, "us1", creds=(("site-a", PASSWORD),))
    result = lab.test_call("site-a", trunk(lab, "site-a", host, auth=("site-a", password)))
    log = texts(result)
    assert "<- SIP/2.0 407 Proxy Authentication Required [CSeq 1 INVITE]" in log
    assert f"<- SIP/2.0 {status} " in log and "[CSeq 2 INVITE]" in log
    (call,) = lab.twilio_calls("us1")
    assert call["status"] == ("completed" if status == 200 else "failed")
    no_secret = json.dumps(lab.http.get(lab.eps["threecx"]["control_url"] + "/requests", timeout=30).json())
    assert password not in no_secret and password not in log


def test_d_trunk_without_credentials_stops_at_the_challenge(lab):
    host = domain(lab, "us1", creds=(("site-a", PASSWORD),))
    result = lab.test_call("site-a", trunk(lab, "site-a", host))
    assert "OutboundCallFailed" in codes(result) and "<- SIP/2.0 407" in texts(result)
    assert "[CSeq 2 INVITE]" not in texts(result)


# ---------------------------------------------------------------- (e) the inbound flow


@pytest.fixture
def site_a(lab) -> dict:
    host = domain(lab, "ie1", ips=(lab.pbx("site-a")["public_ip"],)).replace(".sip.", ".sip.ie1.")
    trunk_id = trunk(lab, "site-a", host)
    return {"trunk_id": trunk_id, **wire(lab, "site-a", trunk_id)}


def test_e_all_agents_on_dnd_fall_back_to_twilio_with_the_callers_number(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    flow = lab.calls("site-a")
    assert flow["outcome"] == "twilio_answered" and flow["answered_by_agent"] is None
    assert flow["fallback_number"] == FALLBACK and flow["dialled"] == FALLBACK
    assert flow["outbound_rule"]["id"] == site_a["outbound_rule"]["Id"] and flow["trunk"]["id"] == site_a["trunk_id"]
    sip = flow["sip"]
    assert (sip["status"], sip["from"], sip["pai"], sip["ppi"], sip["rpid"]) == (200, CALLER, CALLER, CALLER, CALLER)
    assert sip["source_ip"] == "127.0.0.11" and sip["auth"] == "ip" and sip["domain"]["region"] == "ie1"
    assert sip["seconds"] < MAX_CALL_SECONDS
    steps = [hop["step"] for hop in flow["hops"]]
    assert steps == ["inbound_rule", "queue", "no_answer", "outbound_rule", "e164", "trunk", "sip"]
    (call,) = lab.twilio_calls("ie1")
    assert call["sid"] == flow["twilio_call_sid"] and call["from"] == CALLER


def test_e_an_available_agent_answers_and_nothing_reaches_twilio(lab, site_a):
    dnd(lab, "site-a", "100")
    flow = lab.calls("site-a")
    assert (flow["outcome"], flow["answered_by_agent"], flow["sip"], flow["fallback_number"]) == (
        "answered_by_agent",
        "101",
        None,
        None,
    )
    assert lab.twilio_calls("ie1") == []


def test_e_no_outbound_rule_stops_the_fallback(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    lab.xapi("site-a", "DELETE", f"/OutboundRules({site_a['outbound_rule']['Id']})")
    flow = lab.calls("site-a")
    assert (flow["outcome"], flow["stopped_at"], flow["sip"]) == ("stopped", "outbound_rule", None)
    assert flow["reason"] == f"no outbound rule matched {FALLBACK}"


@pytest.mark.parametrize(
    "above,taken",
    [
        ({"Prefix": ""}, "catch-all"),  # an empty prefix matches every number
        ({"Prefix": "00, +1"}, "catch-all"),  # one of several comma-separated prefixes
        ({"Prefix": "", "NumberLengthRanges": "10"}, "Twilio fallback"),  # FALLBACK has 11 digits
        ({"Prefix": "", "NumberLengthRanges": "9,11-12"}, "catch-all"),
        ({"Prefix": "", "GroupIds": [31]}, "Twilio fallback"),  # the queue is in DEFAULT (27)
        ({"Prefix": "", "GroupIds": [27]}, "catch-all"),
        ({"Prefix": "", "DNRanges": [{"From": "100", "To": "199"}]}, "Twilio fallback"),  # the queue's number is 800
    ],
)
def test_e_the_first_rule_by_priority_that_matches_the_forwarded_leg_is_taken(lab, site_a, above, taken):
    # The decision the go-live route trace makes under the lab's reading (the leg carries the queue's department and number).
    dnd(lab, "site-a", "100", "101")
    lab.ok("site-a", "POST", "/OutboundRules", json={"Name": "catch-all", "Priority": 1, "Routes": [{"TrunkId": site_a["trunk_id"]}], **above})
    flow = lab.calls("site-a")
    assert flow["outbound_rule"]["name"] == taken, flow


def test_e_a_rule_limited_to_another_department_stops_the_fallback(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    lab.xapi("site-a", "PATCH", f"/OutboundRules({site_a['outbound_rule']['Id']})", json={"GroupIds": [31]})
    flow = lab.calls("site-a")
    assert (flow["outcome"], flow["stopped_at"]) == ("stopped", "outbound_rule"), flow
    queue = site_a["queue"]
    lab.xapi("site-a", "PATCH", f"/Queues({queue['Id']})", json={"Groups": [{"GroupId": 31}]})
    assert lab.calls("site-a")["outbound_rule"]["name"] == "Twilio fallback"


def test_e_e164_processing_rewrites_the_number_and_twilio_refuses_it(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    lab.xapi("site-a", "PATCH", "/E164Settings", json={"Enabled": True})
    flow = lab.calls("site-a")
    assert flow["dialled"] == FALLBACK[1:], "the lab's E164 model: +1NXX... becomes 1NXX..."
    assert (flow["outcome"], flow["stopped_at"], flow["sip"]["status"]) == ("twilio_rejected", "sip", 404)
    assert "E.164" in flow["reason"]
    (call,) = lab.twilio_calls("ie1")
    assert (call["status"], call["to"]) == ("failed", FALLBACK[1:])


def test_e_where_the_flow_stops(lab, site_a):
    assert lab.calls("site-a", did="+19998887777")["stopped_at"] == "inbound_rule"
    dnd(lab, "site-a", "100", "101")
    queue = site_a["queue"]
    lab.xapi(
        "site-a", "PATCH", f"/Queues({queue['Id']})", json={"ForwardNoAnswer": {"To": "VoiceMail", "Number": "100"}}
    )
    flow = lab.calls("site-a")
    assert (flow["stopped_at"], flow["reason"]) == ("no_answer", "the destination is voicemail")
    bad = lab.control("site-a", "POST", "calls", json={"did": "x"})
    assert bad.status_code == 400


# ---------------------------------------------------------------- (f) validation, concurrency, the call log


def test_f_test_outbound_call_is_checked_against_the_document(lab, site_a):
    lab.test_call("site-a", site_a["trunk_id"])
    entries = [
        e for e in lab.control("site-a", "GET", "requests").json() if e["path"].endswith("/Pbx.TestOutboundCall")
    ]
    assert [(e["status"], e["violations"]) for e in entries] == [(200, [])]
    assert entries[0]["body"] == {"contact": CALLER, "destination": FALLBACK}


def test_f_an_invalid_test_call_body_is_a_contract_violation(sip_lab):
    lab = sip_lab
    lab.http.post(lab.eps["threecx"]["control_url"] + "/reset", timeout=30).raise_for_status()
    lab.tokens.clear()
    resp = lab.xapi("site-a", "POST", "/Trunks(7)/Pbx.TestOutboundCall", json={"destination": 5})
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "LabContractViolation"
    lab.http.post(lab.eps["threecx"]["control_url"] + "/reset", timeout=30).raise_for_status()


def test_concurrent_calls_from_two_pbxs_do_not_collide(lab):
    name = domain(lab, "us1", ips=(lab.pbx("site-a")["public_ip"], lab.pbx("site-b")["public_ip"]))
    trunks = {site: trunk(lab, site, name) for site in ("site-a", "site-b")}

    def place(site: str) -> dict:
        return lab.test_call(site, trunks[site])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(place, ["site-a", "site-b", "site-a", "site-b"]))
    assert all("OutboundCallSuccessful" in codes(r) for r in results)
    calls = lab.twilio_calls("us1")
    assert len(calls) == 4 and {c["status"] for c in calls} == {"completed"}


def test_call_log_pages_newest_first_and_reset_clears_it(lab, site_a):
    for contact in ("+15550000001", "+15550000002"):
        lab.test_call("site-a", site_a["trunk_id"], contact=contact)
    page = lab.twilio("ie1", "GET", "Calls.json", params={"PageSize": 1}).json()
    assert [c["from"] for c in page["calls"]] == ["+15550000002"] and page["next_page_uri"]
    second = lab.http.get(lab.eps["twilio_api_base_url"] + page["next_page_uri"], auth=None, timeout=30)
    assert second.status_code == 401, "the next page needs the account's credentials like any request"
    acct = lab.eps["twilio"]["accounts"]["ie1"]
    second = lab.http.get(
        lab.eps["twilio_api_base_url"] + page["next_page_uri"],
        auth=(acct["account_sid"], acct["auth_token"]),
        headers={"X-Forwarded-Host": TWILIO_HOSTS["ie1"]},
        timeout=30,
    )
    assert [c["from"] for c in second.json()["calls"]] == ["+15550000001"]
    lab.http.post(lab.eps["twilio"]["control_url"] + "/reset", timeout=30).raise_for_status()
    assert lab.twilio_calls("ie1") == []


# ---------------------------------------------------------------- (g) POST Calls.json: the PSTN leg into a PBX

HANG_UP = '<Response><Pause length="3"/><Hangup/></Response>'
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}


def place_call(lab: Lab, region: str = "ie1", to: str = DID, from_: str = CALLER, **form) -> dict:
    created = lab.tw(region, "Calls.json", To=to, From=from_, Twiml=HANG_UP, Timeout="15", **form)
    assert (created["status"], created["direction"], created["to"], created["from"]) == (
        "queued",
        "outbound-api",
        to,
        from_,
    ), "Twilio answers 201 before the call is placed"
    return created


def ended(lab: Lab, region: str, sid: str, deadline: float = 10.0) -> dict:
    """The call once it has ended: the API is asynchronous, so the log is polled (up to *deadline* s)."""
    stop = time.monotonic() + deadline
    while True:
        resp = lab.twilio(region, "GET", f"Calls/{sid}.json")
        assert resp.status_code == 200, resp.text
        call = resp.json()
        if call["status"] in ENDED or time.monotonic() > stop:
            return call
        time.sleep(0.05)


def forwarded(lab: Lab, region: str = "ie1") -> list[dict]:
    return [c for c in lab.twilio_calls(region) if c["direction"] == "inbound"]


def test_g_a_call_to_the_did_runs_the_pbx_flow_and_the_forwarded_leg_reaches_the_sip_domain(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    created = place_call(lab)
    call = ended(lab, "ie1", created["sid"])
    assert call["status"] == "completed", "the SIP Domain answered the forwarded leg"
    assert call["start_time"] and call["end_time"] and call["duration"].isdigit()
    (leg,) = forwarded(lab)
    assert (leg["from"], leg["to"], leg["status"]) == (CALLER, FALLBACK, "completed"), "the caller is the calling number"
    assert leg["sid"] != created["sid"]


def test_g_the_forwarded_leg_carries_what_the_pbx_really_sends(lab):
    # A template without the OriginatorCallerId bindings: Twilio sees the trunk's number (the guide's template pattern).
    host = domain(lab, "ie1", ips=(lab.pbx("site-a")["public_ip"],)).replace(".sip.", ".sip.ie1.")
    wire(lab, "site-a", trunk(lab, "site-a", host, variable=None))
    dnd(lab, "site-a", "100", "101")
    assert ended(lab, "ie1", place_call(lab)["sid"])["status"] == "completed"
    (leg,) = forwarded(lab)
    assert leg["from"] == TRUNK_NUMBER


def test_g_an_available_agent_answers_and_nothing_is_forwarded(lab, site_a):
    dnd(lab, "site-a", "100")
    assert ended(lab, "ie1", place_call(lab)["sid"])["status"] == "completed"
    assert forwarded(lab) == []


@pytest.mark.parametrize("breakage", ["no_outbound_rule", "acl", "e164"])
def test_g_when_the_fallback_fails_the_call_is_not_answered(lab, site_a, breakage):
    dnd(lab, "site-a", "100", "101")
    if breakage == "no_outbound_rule":
        lab.xapi("site-a", "DELETE", f"/OutboundRules({site_a['outbound_rule']['Id']})")
    elif breakage == "e164":
        lab.xapi("site-a", "PATCH", "/E164Settings", json={"Enabled": True})
    else:
        lab.tokens.clear()
        host = domain(lab, "ie1", ips=("127.0.0.99",)).replace(".sip.", ".sip.ie1.")
        lab.xapi("site-a", "PATCH", f"/Trunks({site_a['trunk_id']})", json={"Gateway": {"Host": host, "ProxyHost": host}})
    assert ended(lab, "ie1", place_call(lab)["sid"])["status"] == "no-answer"
    legs = forwarded(lab)
    if breakage == "no_outbound_rule":
        assert legs == []
    else:
        (leg,) = legs
        assert leg["status"] == "failed" and leg["from"] == CALLER


def test_g_a_number_no_lab_pbx_owns_fails_and_nothing_is_forwarded(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    created = place_call(lab, to="+19998887777")
    assert ended(lab, "ie1", created["sid"])["status"] == "failed"
    assert forwarded(lab) == []


def test_g_the_number_is_rung_whichever_account_places_the_call(lab, site_a):
    dnd(lab, "site-a", "100", "101")
    created = place_call(lab, region="us1")
    assert ended(lab, "us1", created["sid"])["status"] == "completed"
    assert [c["sid"] for c in lab.twilio_calls("us1")] == [created["sid"]]
    (leg,) = forwarded(lab, "ie1")
    assert leg["from"] == CALLER, "the forwarded leg is logged by the account that holds the SIP Domain"


@pytest.mark.parametrize(
    "form,code",
    [
        ({"To": DID, "From": CALLER}, 21201),  # no Url, Twiml or ApplicationSid
        ({"To": "sip:alice@example.com", "From": CALLER, "Twiml": HANG_UP}, 21211),
        ({"To": DID, "From": "alice", "Twiml": HANG_UP}, 21212),
        ({"To": DID, "From": CALLER, "Twiml": HANG_UP, "Timeout": "601"}, 21502),
        ({"To": DID, "From": CALLER, "Twiml": "<Response>" + "x" * 4000 + "</Response>"}, 21502),
    ],
)
def test_g_a_bad_call_is_refused_before_anything_rings(lab, site_a, form, code):
    dnd(lab, "site-a", "100", "101")
    resp = lab.twilio("ie1", "POST", "Calls.json", data=form)
    assert (resp.status_code, resp.json()["code"]) == (400, code), resp.text
    assert lab.twilio_calls("ie1") == []
