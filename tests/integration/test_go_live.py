"""The go-live checklist (role go_live_check) over inventories/lab, through site.yml and verify.yml.

In order, on one lab (the tests of this module depend on each other's lab state):

1. site.yml converges the fleet and its last step reads both sides back: every item of every site
   passes; verify.yml then says the same, sends only reads and exits 0;
2. the setup guide's five failure patterns, one per site, broken in the lab behind the
   collection's back: the PBX's IP dropped from the site's IP ACL, PAI and From unbound in the
   custom template, E164 processing on, the outbound rule deleted, every agent on Do Not Disturb.
   One verify.yml run (under --check: it must read the same) fails exactly those sites, and each
   site's report names exactly the broken item with the guide's fix;
3. with DND cleared, site.yml repairs the other four (and changes nothing else), and its go-live
   step passes every item again.

Every run is played at -vvvv; no lab secret may show up in any output, report or lab log.
The Fleet helper and the lab fixture are test_fleet.py's and conftest.py's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.test_fleet import SITES, Fleet, by_site
from tests.integration.test_targets import leaks
from tests.support.collection import REPO_ROOT

VERIFY_YML = REPO_ROOT / "verify.yml"
ITEMS = ["sip_domain", "handler", "authentication", "template", "trunk", "did_on_trunk", "did_routed", "outbound_rule", "e164", "agents"]
TEMPLATE = "twilio-cid.pv.xml"

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
            token = session.post(
                pbx["url"] + "/connect/token",
                data={"grant_type": "client_credentials", "client_id": pbx["client_id"], "client_secret": pbx["client_secret"]},
                timeout=30,
            )
            assert token.status_code == 200, f"{site}: token: HTTP {token.status_code}"
            headers = {"Authorization": "Bearer " + token.json()["access_token"]}
            reply = session.request(method, pbx["url"] + "/xapi/v1" + path, json=body, headers=headers, timeout=30)
        assert reply.status_code < 300, f"{site}: XAPI {method} {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else {}

    def unbind_pai_and_from(self, site: str) -> None:
        path = f"/TrunkTemplates('{TEMPLATE}')"
        content = self.xapi(site, "GET", path)["Content"]
        pattern = r'\s*<field name="ParameterOut"[^>]*parameter="(FromUserPart|PAssertedIdentityUserPart)"[^>]*>[^<]*</field>'
        changed, count = re.subn(pattern, "", content)
        assert count == 2, f"{site}: expected the From and PAI bindings in {TEMPLATE}, found {count}"
        self.xapi(site, "PATCH", path, {"Content": changed})

    def enable_e164(self, site: str) -> None:
        self.xapi(site, "PATCH", "/E164Settings", {"Enabled": True})

    def delete_outbound_rule(self, site: str) -> None:
        rules = [r for r in self.xapi(site, "GET", "/OutboundRules")["value"] if r["Name"] == "Twilio fallback"]
        assert len(rules) == 1, rules
        self.xapi(site, "DELETE", f"/OutboundRules({rules[0]['Id']})")

    def set_dnd(self, site: str, numbers: list[str], dnd: bool) -> None:
        control = self.endpoints["threecx"]["pbxs"][site]["control_url"]
        with self.session() as session:
            reply = session.post(control + "/extensions", json={"extensions": [{"Number": n, "dnd": dnd} for n in numbers]}, timeout=30)
        assert reply.status_code == 200, reply.text


def go_live_of(site: dict) -> dict:
    assert site["go_live"], f"{site['site']}: no go-live results in the report"
    return site["go_live"]


def assert_all_pass(report: dict) -> None:
    assert [i["id"] for i in report["go_live_items"]] == ITEMS
    for name, site in by_site(report).items():
        go_live = go_live_of(site)
        assert go_live["summary"] == "10/10 ok", f"{name}: " + "; ".join(f"{i['id']}: {i['detail']}" for i in go_live["items"] if i["state"] != "ok")
        assert all(i["detail"] and i["fix"] is None for i in go_live["items"]), name


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
    assert_all_pass(report)
    assert fleet.writes(mark) == []
    html = (Path(report["_log"]).parent / "report" / "fleet-report.html").read_text()
    assert html.count('<td class="ok"') == len(SITES) * len(ITEMS) and 'class="fail"' not in html


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
    assert html.count('class="fail"') == len(BROKEN)


def test_site_yml_repairs_what_it_manages_and_the_checks_pass_again(fleet):
    Breaker(fleet).set_dnd("wombat-sydney", WOMBAT_AGENTS, False)  # presence is the agents', not the collection's
    rc, report = fleet.run("repair")
    assert rc == 0, report["_log"]
    statuses = {name: site["status"] for name, site in by_site(report).items()}
    assert statuses == {name: ("ok" if name == "wombat-sydney" else "changed") for name in SITES}
    changed = {name: site["changed_tasks"] for name, site in by_site(report).items()}
    assert len(changed["acme-dallas"]) == 1 and "IP access control list" in changed["acme-dallas"][0]
    assert len(changed["globex-boston"]) == 1 and "template" in changed["globex-boston"][0].lower()
    assert len(changed["initech-dublin"]) == 1 and "E164" in changed["initech-dublin"][0]
    assert len(changed["falcon-dubai"]) == 1 and "Outbound rule" in changed["falcon-dubai"][0]
    assert_all_pass(report)


def test_no_secret_in_any_output_report_or_lab_log(fleet):
    assert fleet.outputs, "no run recorded"
    documents = dict(fleet.outputs)
    documents.update(fleet.lab.control_documents())
    found = leaks(fleet.secrets, documents)
    assert not found, "lab secrets leaked: " + "; ".join(found)
