"""The go-live checklist (role go_live_check) over inventories/lab, through site.yml and verify.yml.

In order, on one lab (the tests of this module depend on each other's lab state):

1. site.yml converges the fleet and its last step reads both sides back: every item of every site
   passes; verify.yml then says the same, sends only reads and exits 0;
2. the setup guide's five failure patterns, one per site, broken in the lab behind the
   collection's back: the PBX's IP dropped from the site's IP ACL, PAI and From unbound in the
   custom template and on the trunk, E164 processing on, the outbound rule deleted, every agent on Do Not Disturb.
   One verify.yml run (under --check: it must read the same) fails exactly those sites, and each
   site's report names exactly the broken item with the guide's fix;
   The same verify.yml run for real places each site's test call: Twilio answers 403 to the site
   whose IP left the ACL, and sees the trunk's number instead of the caller's at the site whose
   template lost its bindings; the other three patterns do not touch the trunk's call;
3. with DND cleared, site.yml repairs the other four (and changes nothing else), and its go-live
   step passes every item again.

Before those, the round trip (go_live_check_round_trip) with the agents put on DND for the call
(go_live_check_round_trip_dnd) passes at every site and leaves every extension's presence as it
was, read from the lab's state; and a run killed between "DND on" and "put back" is put back by
the next run, from the journal it left.

verify.yml (the lab inventory turns the test call on) places one test call per site through the
Twilio trunk and reads it back from Twilio's call log; site.yml never places it. The SIP OPTIONS
probe item runs against a Kamailio UAS of the lab (reachable) and a closed port (unreachable).

Every run is played at -vvvv; no lab secret may show up in any output, report or lab log.
The Fleet helper and the lab fixture are test_fleet.py's and conftest.py's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from lab.sip import tools
from lab.sip.leg import running_uas
from tests.integration.test_fleet import SITES, Fleet, by_site
from tests.integration.test_targets import leaks
from tests.support.collection import REPO_ROOT

VERIFY_YML = REPO_ROOT / "verify.yml"
ITEMS = ["sip_domain", "handler", "authentication", "template", "trunk", "did_on_trunk", "did_routed", "outbound_rule", "e164", "agents"]
VERIFY_ITEMS = ITEMS + ["test_call"]  # the lab inventory turns the test call on; site.yml never places it
TEST_CALLER = "+17735550142"  # go_live_check_test_caller of the lab inventory
TEMPLATE = "twilio-cid.pv.xml"
TRUNK = "Twilio SIP Domain Trunk"
TEST_CALL_PATH = re.compile(r"/xapi/v1/Trunks\(\d+\)/Pbx\.TestOutboundCall$")

# What the real verify.yml run says of the test call at the two sites whose patterns break the trunk's
# call: site -> (words of the fix, words of the detail). At the other three it still passes.
BROKEN_TEST_CALL = {
    "acme-dallas": (["403", "IP ACL", "public IP", "NAT"], ["was not answered", "answered 403"]),
    "globex-boston": (["Wrong caller ID", "template", "P-Asserted-Identity"], ["not from the test caller " + TEST_CALLER, "its own number"]),
}

# site -> (the item that must fail, words of the guide's diagnosis its fix must carry, words of its detail)
BROKEN = {
    "acme-dallas": ("authentication", ["403", "IP ACL", "public IP", "NAT"], ["127.0.0.", "is in no IP ACL"]),
    "globex-boston": ("template", ["Wrong caller ID", "template", "P-Asserted-Identity"], ["does not bind From user part, PAI"]),
    "initech-dublin": ("e164", ["Call drops", "E164", "UDP 5060"], ["Process E164 numbers is on"]),
    "falcon-dubai": ("outbound_rule", ["Twilio receives no call", "outbound rule", "Route 1", "Forward to Outside Number"], ["+97145550199"]),
    "wombat-sydney": ("agents", ["Agents not rung", "Do Not Disturb"], ["none of them can be rung", "100 (Ada Lovelace)", "103 (Edsger Dijkstra)"]),
}
WOMBAT_AGENTS = ["100", "101", "102", "103"]

pytestmark = pytest.mark.lab


class Breaker:
    """Changes a site's Twilio account or PBX directly through the lab's vendor APIs (never through the collection)."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        self.endpoints = fleet.endpoints
        self.tokens: dict[str, str] = {}

    def session(self):
        return self.fleet.lab._session()

    # ---- Twilio (REST API of the site's region account)
    def twilio(self, site: str, method: str, path: str, region: str) -> dict:
        account = self.endpoints["twilio"]["accounts"][region]
        host = {"us1": "api.us1.twilio.com", "ie1": "api.dublin.ie1.twilio.com", "au1": "api.sydney.au1.twilio.com"}[region]
        url = f"{self.endpoints['twilio_api_base_url']}/2010-04-01/Accounts/{account['account_sid']}/{path}"
        with self.session() as session:
            reply = session.request(method, url, auth=(account["account_sid"], account["auth_token"]), headers={"X-Forwarded-Host": host}, timeout=30)
        assert reply.status_code < 300, f"{site}: Twilio {method} {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else {}

    def drop_pbx_ip_from_acl(self, site: str, region: str) -> None:
        public_ip = self.endpoints["threecx"]["pbxs"][site]["public_ip"]
        acls = self.twilio(site, "GET", "SIP/IpAccessControlLists.json", region)["ip_access_control_lists"]
        [acl] = [a for a in acls if a["friendly_name"] == f"{site} PBX"]
        addresses = self.twilio(site, "GET", f"SIP/IpAccessControlLists/{acl['sid']}/IpAddresses.json", region)["ip_addresses"]
        dropped = [a for a in addresses if a["ip_address"] == public_ip]
        assert dropped, f"{site}: {public_ip} not in its ACL"
        for address in dropped:
            self.twilio(site, "DELETE", f"SIP/IpAccessControlLists/{acl['sid']}/IpAddresses/{address['sid']}.json", region)

    # ---- 3CX (XAPI of the site's PBX, with its own token)
    def xapi(self, site: str, method: str, path: str, body: dict | None = None) -> dict:
        pbx = self.endpoints["threecx"]["pbxs"][site]
        with self.session() as session:
            # One token per site, as a real client keeps it: the PBX refuses tokens asked for too often.
            if site not in self.tokens:
                token = session.post(
                    pbx["url"] + "/connect/token",
                    data={"grant_type": "client_credentials", "client_id": pbx["client_id"], "client_secret": pbx["client_secret"]},
                    timeout=30,
                )
                assert token.status_code == 200, f"{site}: token: HTTP {token.status_code}"
                self.tokens[site] = token.json()["access_token"]
            headers = {"Authorization": "Bearer " + self.tokens[site]}
            reply = session.request(method, pbx["url"] + "/xapi/v1" + path, json=body, headers=headers, timeout=30)
        assert reply.status_code < 300, f"{site}: XAPI {method} {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else {}

    def unbind_pai_and_from(self, site: str) -> None:
        """From and PAI unbound in the custom template and on the trunk (its own bindings are what the PBX sends)."""
        path = f"/TrunkTemplates('{TEMPLATE}')"
        content = self.xapi(site, "GET", path)["Content"]
        pattern = r'\s*<field name="ParameterOut"[^>]*parameter="(FromUserPart|PAssertedIdentityUserPart)"[^>]*>[^<]*</field>'
        changed, count = re.subn(pattern, "", content)
        assert count == 2, f"{site}: expected the From and PAI bindings in {TEMPLATE}, found {count}"
        self.xapi(site, "PATCH", path, {"Content": changed})
        parameters = self.xapi(site, "GET", "/Defs/GatewayParameters")["value"]
        unbound = {p["Id"] for p in parameters if p["Name"] in ("FromUserPart", "PAssertedIdentityUserPart")}
        assert len(unbound) == 2, parameters
        [trunk] = [t for t in self.xapi(site, "GET", "/Trunks")["value"] if t["Gateway"]["Name"] == TRUNK]
        bindings = trunk["Gateway"]["OutboundParams"]
        kept = [b for b in bindings if b["ParamId"] not in unbound]
        assert len(kept) == len(bindings) - 2, f"{site}: the trunk does not bind From and PAI itself: {bindings}"
        self.xapi(site, "PATCH", f"/Trunks({trunk['Id']})", {"Gateway": dict(trunk["Gateway"], OutboundParams=kept)})

    def enable_e164(self, site: str) -> None:
        self.xapi(site, "PATCH", "/E164Settings", {"Enabled": True})

    def delete_outbound_rule(self, site: str) -> None:
        rules = [r for r in self.xapi(site, "GET", "/OutboundRules")["value"] if r["Name"] == "Twilio fallback"]
        assert len(rules) == 1, rules
        self.xapi(site, "DELETE", f"/OutboundRules({rules[0]['Id']})")

    def twilio_rule(self, site: str) -> dict:
        [rule] = [r for r in self.xapi(site, "GET", "/OutboundRules")["value"] if r["Name"] == "Twilio fallback"]
        return rule

    def limit_rule(self, site: str, **fields) -> None:
        self.xapi(site, "PATCH", f"/OutboundRules({self.twilio_rule(site)['Id']})", fields)

    def catch_all_above(self, site: str) -> None:
        """A PSTN trunk and an outbound rule with an empty prefix through it, at priority 1 (above the Twilio rule)."""
        trunk = self.xapi(site, "GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')")
        trunk.pop("@odata.context", None)
        trunk["Gateway"].update(Name="PSTN", Host="pstn.example.net", ProxyHost="pstn.example.net")
        made = self.xapi(site, "POST", "/Trunks", dict(trunk, DidNumbers=[]))
        self.xapi(site, "POST", "/OutboundRules", {"Name": "All calls", "Prefix": "", "Priority": 1, "Routes": [{"TrunkId": made["Id"]}]})

    def call(self, site: str, did: str) -> dict:
        """The lab's simulated customer call to the DID (its whole inbound flow, /_lab/calls)."""
        control = self.endpoints["threecx"]["pbxs"][site]["control_url"]
        with self.session() as session:
            reply = session.post(control + "/calls", json={"did": did, "caller": TEST_CALLER}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def set_dnd(self, site: str, numbers: list[str], dnd: bool) -> None:
        control = self.endpoints["threecx"]["pbxs"][site]["control_url"]
        with self.session() as session:
            reply = session.post(control + "/extensions", json={"extensions": [{"Number": n, "dnd": dnd} for n in numbers]}, timeout=30)
        assert reply.status_code == 200, reply.text


def go_live_of(site: dict) -> dict:
    assert site["go_live"], f"{site['site']}: no go-live results in the report"
    return site["go_live"]


def not_ok(go_live: dict) -> str:
    return "; ".join(f"{i['id']}: {i['detail']}" for i in go_live["items"] if i["state"] != "ok")


def assert_all_pass(report: dict, items: list[str] | None = None) -> None:
    items = items or ITEMS
    assert [i["id"] for i in report["go_live_items"]] == items
    for name, site in by_site(report).items():
        go_live = go_live_of(site)
        assert go_live["summary"] == f"{len(items)}/{len(items)} ok", f"{name}: " + not_ok(go_live)
        assert all(i["detail"] and i["fix"] is None for i in go_live["items"]), name


def placed_test_calls(fleet: Fleet, mark: dict) -> list[dict]:
    """The test calls the sites' PBXs were asked to place since mark; fails on any other write."""
    writes = fleet.writes(mark)
    others = [f"{e['method']} {e['path']}" for e in writes if not (e["method"] == "POST" and TEST_CALL_PATH.search(e["path"]))]
    assert others == [], others
    return writes


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    lab.reset()
    return Fleet(lab, tmp_path_factory.mktemp("go-live"))


def test_a_converged_fleet_passes_every_item(fleet):
    rc, report = fleet.run("converge")
    assert rc == 0, report["_log"]
    assert {s["status"] for s in report["sites"]} == {"changed"}
    assert_all_pass(report)  # site.yml's last step
    # Details say what was read.
    acme = {i["id"]: i for i in by_site(report)["acme-dallas"]["go_live"]["items"]}
    assert "acme-dallas.sip.twilio.com exists" in acme["sip_domain"]["detail"]
    assert "not asked: go_live_check_skip_handler_check" in acme["handler"]["detail"]
    assert "2 can be rung" in acme["agents"]["detail"]

    mark = fleet.mark()
    rc, report = fleet.run("verify", playbook=VERIFY_YML)
    assert rc == 0, report["_log"]
    assert report["playbook"] == "verify.yml"
    assert {s["status"] for s in report["sites"]} == {"ok"}
    assert_all_pass(report, VERIFY_ITEMS)
    # Its only non-reads are the test calls, one per site; Twilio saw the test caller's number.
    assert len(placed_test_calls(fleet, mark)) == len(SITES)
    for name, site in by_site(report).items():
        [item] = [i for i in site["go_live"]["items"] if i["id"] == "test_call"]
        received = rf"^Twilio received the test call through trunk {TRUNK} to \+\d+ \(CA\w{{32}}, completed\) with From {re.escape(TEST_CALLER)}"
        assert re.search(received + ", the test caller$", item["detail"]), item
    html = (Path(report["_log"]).parent / "report" / "fleet-report.html").read_text()
    assert html.count('<td class="ok"') == len(SITES) * len(VERIFY_ITEMS) and 'class="fail"' not in html


def test_the_voice_handler_is_asked_when_the_check_is_on(fleet):
    """The role asks the voice URL when the judge's rule says so (test plugin voice_handler_askable): the lab's URLs
    are fake hosts, so the request gets no answer, and the item fails saying what it asked."""
    args = ["-e", "fleet_hosts=acme-dallas", "-e", "go_live_check_test_call=false", "-e", "go_live_check_skip_handler_check=false"]
    _rc, report = fleet.run("handler-asked", *args, "-e", "go_live_check_handler_timeout=2", playbook=VERIFY_YML)
    handler = {i["id"]: i for i in by_site(report)["acme-dallas"]["go_live"]["items"]}["handler"]
    assert handler["ok"] is False, handler
    assert re.match(r"^voice URL https://voice\.example\.com/acme-dallas/incoming \(\w+\) got no answer: ", handler["detail"]), handler


@pytest.mark.parametrize("caller", ["", None], ids=["empty", "null"])
def test_a_test_call_without_a_caller_is_not_placed_and_names_the_variable(fleet, caller):
    mark = fleet.mark()
    extra = json.dumps({"go_live_check_test_caller": caller})
    _rc, report = fleet.run(f"no-caller-{caller!r}", "-e", "fleet_hosts=acme-dallas", "-e", extra, playbook=VERIFY_YML)
    call = {i["id"]: i for i in by_site(report)["acme-dallas"]["go_live"]["items"]}["test_call"]
    assert call["ok"] is False and "go_live_check_test_caller is not set" in call["detail"], call
    assert call["fix"].startswith("Set go_live_check_test_caller"), call
    assert placed_test_calls(fleet, mark) == []


ROUND_TRIP_FROM = "+13125550142"  # a number of the site's Twilio account (the lab does not check ownership)


def presence(fleet: Fleet, site: str) -> dict[str, str]:
    """Every extension's presence profile on the site's PBX, from the lab's state."""
    with fleet.lab._session() as session:
        state = session.get(fleet.endpoints["threecx"]["pbxs"][site]["control_url"] + "/state", timeout=60).json()
    return {u["Number"]: u["CurrentProfileName"] for u in state["collections"]["Users"]}


def round_trip_args(fleet: Fleet, *extra: str) -> list[str]:
    """verify.yml with the round trip, its agents on DND for the call (their journals in the test's directory)."""
    journal = str(fleet.workdir / "presence") + "/{{ inventory_hostname }}.json"
    args = ["-e", "go_live_check_test_call=false", "-e", "go_live_check_round_trip=true", "-e", "go_live_check_round_trip_dnd=true"]
    args += ["-e", f"go_live_check_test_from={ROUND_TRIP_FROM}", "-e", "go_live_check_round_trip_wait_timeout=20"]
    return args + ["-e", f"go_live_check_round_trip_dnd_journal={journal}", *extra]


def lab_site(name: str) -> dict:
    """A site's DID, fallback number and agents, from inventories/lab (host_vars over group_vars/all)."""
    inventory = REPO_ROOT / "inventories" / "lab"
    merged = yaml.safe_load((inventory / "group_vars" / "all.yml").read_text())
    merged.update(yaml.safe_load((inventory / "host_vars" / f"{name}.yml").read_text()) or {})
    return {"did": merged["threecx_fallback_did"], "fallback_number": merged["threecx_fallback_fallback_number"], "agents": merged["threecx_fallback_agents"]}


def journals(fleet: Fleet) -> list[str]:
    # The journal's temporary file (written, then renamed over it) is not a journal.
    return sorted(p.name for p in (fleet.workdir / "presence").glob("*.json")) if (fleet.workdir / "presence").is_dir() else []


def test_the_round_trip_puts_the_agents_on_dnd_for_the_call_and_their_presence_back(fleet):
    before = {site: presence(fleet, site) for site in SITES}
    mark = fleet.mark()
    rc, report = fleet.run("round-trip-check", "--check", *round_trip_args(fleet), playbook=VERIFY_YML)
    assert rc == 0, report["_log"]
    for name, site in by_site(report).items():
        [item] = [i for i in site["go_live"]["items"] if i["id"] == "round_trip"]
        assert item["state"] == "skip" and "not placed under --check" in item["detail"], item
        assert site["go_live"]["failing"] == [], not_ok(site["go_live"])
    assert fleet.writes(mark) == [], "--check places no call and changes no presence"
    assert {site: presence(fleet, site) for site in SITES} == before and journals(fleet) == []

    mark = fleet.mark()
    rc, report = fleet.run("round-trip", *round_trip_args(fleet), playbook=VERIFY_YML)
    assert rc == 0, report["_log"]
    writes = fleet.writes(mark)
    for name, site in by_site(report).items():
        go_live = go_live_of(site)
        [item] = [i for i in go_live["items"] if i["id"] == "round_trip"]
        # Item agents judged the presence read before the DND: every item passes, the round trip included.
        assert item["state"] == "ok" and go_live["failing"] == [], f"{name}: " + not_ok(go_live)
        did, fallback, members = lab_site(name)["did"], lab_site(name)["fallback_number"], lab_site(name)["agents"]
        assert f"forwarded it to {fallback} and Twilio logged it (CA" in item["detail"] and f"with From {ROUND_TRIP_FROM}, the calling number" in item["detail"]
        assert "for the call (read back); their presence was put back" in item["detail"], item
        # Per site: the agents' PATCHes, the call to the DID, the same PATCHes back; nothing else.
        patches = [e for e in writes if e["method"] == "PATCH" and e.get("pbx") == name]
        agents = [n for n, p in before[name].items() if n in members and p != "Out of office"]
        assert len(patches) == 2 * len(agents) and agents, (name, patches)
        assert [e["body"]["CurrentProfileName"] for e in patches[: len(agents)]] == ["Out of office"] * len(agents)
        [call] = [e for e in writes if e["path"].endswith("/Calls.json") and e["body"]["To"] == did]
        assert call["body"]["From"] == ROUND_TRIP_FROM
    assert len(writes) == sum(1 for e in writes if e["method"] == "PATCH") + len(SITES), [f"{e['method']} {e['path']}" for e in writes]
    assert {site: presence(fleet, site) for site in SITES} == before, "every agent's presence as it was"
    assert journals(fleet) == [], "the journals are deleted once the presence is back"


def kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant: Ansible's workers leave the playbook's session (setsid)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_round_trip_killed_between_dnd_and_put_back_is_put_back_by_the_next_run(fleet):
    site = "acme-dallas"
    before = presence(fleet, site)
    # The PBX holds the first presence write for a few seconds: the play is killed while it waits,
    # after the journal was written and before anything was put back.
    control = fleet.endpoints["threecx"]["pbxs"][site]["control_url"]
    with fleet.lab._session() as session:
        fault = {"method": "PATCH", "path": r"/xapi/v1/Users\(", "times": 1, "action": {"kind": "delay", "seconds": 3}}
        assert session.post(control + "/faults", json={"faults": [fault]}, timeout=30).status_code < 300
    mark = fleet.mark()
    cmd, env, run_dir = fleet.command("round-trip-killed", *round_trip_args(fleet, "-e", f"fleet_hosts={site}"), playbook=VERIFY_YML)
    with open(run_dir / "ansible-playbook.log", "w") as out:
        proc = subprocess.Popen(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while journals(fleet) != [f"{site}.json"] and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)  # polling for the journal, not waiting out a race
            assert journals(fleet) == [f"{site}.json"], "no journal before the first presence write"
        finally:
            kill_tree(proc.pid)
            proc.wait()
    fleet.outputs["round-trip-killed: ansible-playbook -vvvv output"] = (run_dir / "ansible-playbook.log").read_text(errors="replace")
    # The held write lands after the kill, as a real PBX's would: one agent on DND, the journal left.
    deadline = time.monotonic() + 30
    while not [e for e in fleet.writes(mark) if e["method"] == "PATCH" and e.get("status")] and time.monotonic() < deadline:
        time.sleep(0.1)
    held = fleet.writes(mark)
    assert [e["method"] for e in held] == ["PATCH"], f"killed after one presence write, before the call: {held}"
    assert presence(fleet, site) != before and journals(fleet) == [f"{site}.json"]

    # The next check of the site, without the round trip, puts it back before it reads the agents.
    rc, report = fleet.run("after-the-kill", "-e", f"fleet_hosts={site}", "-e", "go_live_check_test_call=false",
                           "-e", "go_live_check_round_trip_dnd_journal=" + str(fleet.workdir / "presence") + "/{{ inventory_hostname }}.json",
                           playbook=VERIFY_YML)  # fmt: skip
    assert rc == 0, report["_log"]
    assert go_live_of(by_site(report)[site])["failing"] == [], not_ok(go_live_of(by_site(report)[site]))
    assert presence(fleet, site) == before and journals(fleet) == []


def test_the_probe_item_tells_a_lab_uas_from_a_closed_port(fleet):
    if "kamailio" in tools.missing_binaries():
        pytest.skip(tools.missing_message(["kamailio"]))
    # The lab's SIP Domain names do not resolve: the probe is sent to a Kamailio UAS of the lab on loopback.
    probe = ["-e", "fleet_hosts=acme-dallas", "-e", "go_live_check_test_call=false", "-e", "go_live_check_probe=true"]
    probe += ["-e", "go_live_check_probe_host=127.0.0.1", "-e", "go_live_check_probe_timeout=0.5", "-e", "go_live_check_probe_retries=1"]
    with running_uas() as (ip, port):
        closed = tools.free_udp_port(ip)
        rc, report = fleet.run("probe-uas", *probe, "-e", f"go_live_check_probe_port={port}", playbook=VERIFY_YML)
        assert rc == 0, report["_log"]
        [item] = [i for i in by_site(report)["acme-dallas"]["go_live"]["items"] if i["id"] == "sip_probe"]
        assert item["state"] == "ok" and f"127.0.0.1:{port} over UDP from acme-dallas answered 200 OK in " in item["detail"], item
        rc, report = fleet.run("probe-closed", *probe, "-e", f"go_live_check_probe_port={closed}", playbook=VERIFY_YML)
    assert rc == 2, report["_log"]
    site = by_site(report)["acme-dallas"]
    assert site["go_live"]["failing"] == ["sip_probe"], not_ok(site["go_live"])
    [item] = [i for i in site["go_live"]["items"] if i["id"] == "sip_probe"]
    assert f"no final SIP answer from 127.0.0.1:{closed} over UDP from acme-dallas after " in item["detail"], item
    for word in ["UDP 5060", "resolves", "firewall"]:
        assert word in item["fix"], item["fix"]


def test_each_failure_pattern_is_named_with_the_guides_fix(fleet):
    breaker = Breaker(fleet)
    breaker.drop_pbx_ip_from_acl("acme-dallas", "us1")
    breaker.unbind_pai_and_from("globex-boston")
    breaker.enable_e164("initech-dublin")
    breaker.delete_outbound_rule("falcon-dubai")
    breaker.set_dnd("wombat-sydney", WOMBAT_AGENTS, True)

    mark = fleet.mark()
    rc, report = fleet.run("verify-broken", "--check", playbook=VERIFY_YML)
    assert rc == 2, report["_log"]
    assert fleet.writes(mark) == []
    sites = by_site(report)
    assert set(sites) == set(BROKEN)
    markdown = fleet.outputs["verify-broken: fleet-report.md"]
    html = fleet.outputs["verify-broken: fleet-report.html"]
    for name, (item_id, fix_words, detail_words) in BROKEN.items():
        site = sites[name]
        go_live = go_live_of(site)
        assert go_live["failing"] == [item_id], f"{name}: " + "; ".join(f"{i['id']}: {i['detail']}" for i in go_live["items"] if i["state"] != "ok")
        assert go_live["summary"] == f"9/10 ok, failing: {item_id}"
        [item] = [i for i in go_live["items"] if i["id"] == item_id]
        for word in fix_words:
            assert word in item["fix"], f"{name}: {word!r} not in the fix {item['fix']!r}"
        for word in detail_words:
            assert word in item["detail"], f"{name}: {word!r} not in the detail {item['detail']!r}"
        # The site fails with the item, its detail and its fix, so the exit code and the report tell.
        assert site["status"] == "failed"
        assert f"{item_id}: {item['detail']} Fix: {item['fix']}" in " ".join(site["failure"]["msg"].split())
        assert f"- **{name}** `{item_id}`:" in markdown
        assert f'<li id="fail-{name}-{item_id}">' in html and f'<a href="#fail-{name}-{item_id}">FAIL</a>' in html
        # Under --check the test call is not placed: it rings the SIP Domain's handler.
        [call] = [i for i in go_live["items"] if i["id"] == "test_call"]
        assert call["state"] == "skip" and "not placed under --check" in call["detail"], call
    assert html.count('class="fail"') == len(BROKEN)

    # For real, each site places its test call: the ACL and template patterns show at Twilio.
    mark = fleet.mark()
    rc, report = fleet.run("verify-broken-calls", playbook=VERIFY_YML)
    assert rc == 2, report["_log"]
    assert len(placed_test_calls(fleet, mark)) == len(SITES)
    for name, site in by_site(report).items():
        go_live = go_live_of(site)
        item_id = BROKEN[name][0]
        if name not in BROKEN_TEST_CALL:
            assert go_live["failing"] == [item_id], f"{name}: " + not_ok(go_live)
            continue
        assert go_live["failing"] == [item_id, "test_call"], f"{name}: " + not_ok(go_live)
        [call] = [i for i in go_live["items"] if i["id"] == "test_call"]
        fix_words, detail_words = BROKEN_TEST_CALL[name]
        for word in fix_words:
            assert word in call["fix"], f"{name}: {word!r} not in the fix {call['fix']!r}"
        for word in detail_words:
            assert word in call["detail"], f"{name}: {word!r} not in the detail {call['detail']!r}"


def test_site_yml_repairs_what_it_manages_and_the_checks_pass_again(fleet):
    Breaker(fleet).set_dnd("wombat-sydney", WOMBAT_AGENTS, False)  # presence is the agents', not the collection's
    rc, report = fleet.run("repair")
    assert rc == 0, report["_log"]
    statuses = {name: site["status"] for name, site in by_site(report).items()}
    assert statuses == {name: ("ok" if name == "wombat-sydney" else "changed") for name in SITES}
    changed = {name: site["changed_tasks"] for name, site in by_site(report).items()}
    assert len(changed["acme-dallas"]) == 1 and "IP access control list" in changed["acme-dallas"][0]
    assert len(changed["globex-boston"]) == 2 and "template" in changed["globex-boston"][0].lower() and "trunk" in changed["globex-boston"][1].lower()
    assert len(changed["initech-dublin"]) == 1 and "E164" in changed["initech-dublin"][0]
    assert len(changed["falcon-dubai"]) == 1 and "Outbound rule" in changed["falcon-dubai"][0]
    assert_all_pass(report)


# site -> (DID, what is broken, words of the outbound_rule detail, words of its fix, the lab call's outbound rule or None: stopped)
ROUTE_BROKEN = {
    "acme-dallas": (
        "+12145550100",
        "department",
        [
            "outbound rule Twilio fallback (prefix +12145550199, priority 1) does not match",
            "it is limited to department Support, and the forwarded leg carries department DEFAULT",
        ],
        ["Calls from departments", "UNCONFIRMED"],
        None,
    ),
    "globex-boston": (
        "+16175550100",
        "catch-all",
        ["outbound rule All calls (empty prefix: a catch-all, priority 1), the first that matches +16175550199, sends route 1 to PSTN"],
        ["Move the Twilio rule above it", "an empty prefix catches every number"],
        "All calls",
    ),
    "initech-dublin": (
        "+35315550100",
        "length",
        ["it is limited to numbers of length 5-9, and +35315550199 has 11 digits"],
        ["Calls to numbers with a length of"],
        None,
    ),
}


def test_the_route_trace_names_the_rule_really_taken_and_the_role_cannot_build_a_department_mismatch(fleet):
    # The case as a user would make it: the rule limited to Support, the existing queue in
    # DEFAULT. site.yml refuses it at the queue, before any write, instead of leaving a mismatch.
    mark = fleet.mark()
    rc, report = fleet.run("departments", "-e", "fleet_hosts=acme-dallas", "-e", '{"threecx_fallback_departments": ["Support"]}')
    assert rc != 0 and fleet.writes(mark) == [], report["_log"]
    failure = " ".join(by_site(report)["acme-dallas"]["failure"]["msg"].split())
    assert "departments: queue 800 is in department DEFAULT, not in Support; giving it Support would move it out of its department" in failure

    # The same mismatch made behind the role's back, a catch-all rule above the Twilio rule, and a
    # length limit the fallback number does not have: verify.yml fails exactly the outbound_rule item.
    breaker = Breaker(fleet)
    breaker.limit_rule("acme-dallas", GroupIds=[31])  # Support; the queue is in DEFAULT
    breaker.catch_all_above("globex-boston")
    breaker.limit_rule("initech-dublin", NumberLengthRanges="5-9")
    rc, report = fleet.run("verify-routes", "--check", "-e", "fleet_hosts=" + ",".join(ROUTE_BROKEN), playbook=VERIFY_YML)
    assert rc == 2, report["_log"]
    sites = by_site(report)
    assert set(sites) == set(ROUTE_BROKEN)
    for name, (did, _what, detail_words, fix_words, taken) in ROUTE_BROKEN.items():
        go_live = go_live_of(sites[name])
        assert go_live["failing"] == ["outbound_rule"], f"{name}: " + not_ok(go_live)
        [item] = [i for i in go_live["items"] if i["id"] == "outbound_rule"]
        for word in detail_words:
            assert word in item["detail"], f"{name}: {word!r} not in the detail {item['detail']!r}"
        for word in fix_words + ["Twilio receives no call"]:
            assert word in item["fix"], f"{name}: {word!r} not in the fix {item['fix']!r}"
        # The lab's customer call (every agent on DND) takes the same decision under the lab's reading.
        breaker.set_dnd(name, ["100", "101", "102", "103", "104", "105"], True)
        try:
            flow = breaker.call(name, did)
        finally:
            breaker.set_dnd(name, ["100", "101", "102", "103", "104", "105"], False)
        assert flow["outcome"] != "twilio_answered", flow
        if taken is None:
            assert (flow["stopped_at"], flow["outbound_rule"]) == ("outbound_rule", None), flow
        else:
            assert flow["outbound_rule"]["name"] == taken and flow["trunk"]["name"] == "PSTN", flow


def test_unreachable_apis_are_one_failed_reachable_item_each_and_nothing_else_fails(fleet):
    # Both vendors' addresses point at a loopback port nothing listens on: the site is not
    # misconfigured, it cannot be read. One reachable item per vendor fails, with the fix for
    # "nothing answered"; the ten items are not checked; the table's failure cell stays short.
    closed = _closed_tcp_port()
    args = ["-e", "fleet_hosts=acme-dallas", "-e", "go_live_check_test_call=false"]
    args += ["-e", f"threecx_fallback_url=https://127.0.0.1:{closed}", "-e", f"twilio_sip_domain_api_base_url=https://127.0.0.1:{closed}"]
    rc, report = fleet.run("unreachable", *args, playbook=VERIFY_YML)
    assert rc == 2, report["_log"]
    site = by_site(report)["acme-dallas"]
    states = {item["id"]: item["state"] for item in site["go_live"]["items"]}
    assert {k for k, v in states.items() if v == "FAIL"} == {"reachable_twilio", "reachable_pbx"}, states
    assert {states[i] for i in ITEMS} == {"skip"}, states
    fixes = {item["id"]: item["fix"] for item in site["go_live"]["items"] if item["state"] == "FAIL"}
    assert "threecx_fallback_url" in fixes["reachable_pbx"] and "twilio_sip_domain_api_base_url" in fixes["reachable_twilio"]
    table = Path(report["_log"]).read_text().split("FLEET REPORT", 1)[1]
    row = [line for line in table.splitlines() if line.startswith("acme-dallas")][0]
    assert len(row[row.index("Fail the site"):]) <= 300, row


def _closed_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_secret_in_any_output_report_or_lab_log(fleet):
    assert fleet.outputs, "no run recorded"
    documents = dict(fleet.outputs)
    documents.update(fleet.lab.control_documents())
    found = leaks(fleet.secrets, documents)
    assert not found, "lab secrets leaked: " + "; ".join(found)
