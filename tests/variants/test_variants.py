"""The variant tier: site.yml and verify.yml against every reading the lab can play of an unconfirmed
vendor behaviour (lab/variants.py, docs/lab.md *Variants*).

One lab, one site per variant (its own 3CX PBX created with that variant; a Twilio variant is played
by the account of the site's region), all in one inventory, so that the whole tier is a handful of
ansible-playbook runs:

1. site.yml converges every site from scratch; a variant that cannot work must fail with the
   message asserted for it (EXPECTED_FAILURES). After the run the lab's state is compared with
   each converged site's variables: no ``changed`` whose effect the lab does not show;
2. site.yml again: every converged site changed=0, and not one write reached the lab;
3. verify.yml: every converged site passes the go-live checklist (its test call included);
4. one inbound call per converged site through the PBX's whole flow (/_lab/calls) with every agent
   on Do Not Disturb: it must reach Twilio (the department and DND variants act here);
5. verify.yml with the round-trip call and its agents put on DND for it (go_live_check_round_trip_dnd):
   it passes at every converged site but two readings of presence (EXPECTED in ROUND_TRIP_FAILURES,
   each failing with its message), and every extension's presence is as before, read from the lab;
6. the third reading of a taken domain name (409) needs the account another variant used: the
   account is switched and that site converged alone.

The matrix (variant x converge / idempotent / verify / call / message) is printed and kept in
.build/test-logs/variants.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from lab import variants as V
from tests.integration.test_fleet import Fleet, by_site
from tests.support.collection import REPO_ROOT

pytestmark = pytest.mark.lab

SITE_YML = REPO_ROOT / "site.yml"
VERIFY_YML = REPO_ROOT / "verify.yml"
LOG_DIR = REPO_ROOT / ".build" / "test-logs"
CALLER = "+17735550142"
AGENTS = ["100", "101"]

# Twilio variants are per account: the region a site's account is in plays the variant.
TWILIO_SITES = {
    # variant: (region of the site, region of the account that holds the name already, or None)
    "mappings-separate": ("ie1", None),
    "domain-taken-21231": ("us1", "ie1"),
    "domain-taken-21248": ("au1", "us1"),
    "domain-taken-409": ("au1", "us1"),  # second phase: au1 plays domain-taken-409
}
FIRST_PHASE_ACCOUNTS = {"us1": [], "ie1": ["mappings-separate"], "au1": ["domain-taken-21248"]}

TAKEN = "the name is taken elsewhere"
# variant -> words the failure message of the site must carry (a reading the collection cannot work with)
EXPECTED_FAILURES = {
    "template-file-only": "does not take templates through the XAPI",
    # The caller ID needs a PAI parameter to bind; a PBX without one is told to name it (parameter_names).
    "pai-names-absent": "offers no gateway parameter that looks like the P-Asserted-Identity user part",
    "domain-taken-21231": TAKEN,
    "domain-taken-21248": TAKEN,
    "domain-taken-409": TAKEN,
}


def site_of(variant: str) -> str:
    return "v-" + variant


VARIANTS = [v.name for v in V.ALL]
THREECX_SITES = {site_of(v.name): v.name for v in V.ALL if v.vendor == V.THREECX and not v.default}
DEFAULT_SITE = "v-defaults"


class VariantFleet(Fleet):
    """The lab with one PBX per variant site, and an inventory of those sites."""

    def __init__(self, lab, workdir: Path):  # pylint: disable=super-init-not-called
        self.lab = lab
        self.workdir = workdir
        self.runs = 0
        self.outputs = {}
        self.sites: dict[str, dict] = {}  # site -> {"variant", "region", "did", "fallback"}
        for i, variant in enumerate([None] + VARIANTS):
            if variant is not None and V.BY_NAME[variant].default and variant not in TWILIO_SITES:
                continue  # the defaults site plays them all (a taken name needs a site of its own)
            site = DEFAULT_SITE if variant is None else site_of(variant)
            region = TWILIO_SITES.get(variant, ("us1", None))[0]
            self.sites[site] = {"variant": variant, "region": region, "did": "+1312555%04d" % (100 + i), "fallback": "+1415555%04d" % (100 + i)}
        with lab._session() as session:
            for site, info in self.sites.items():
                pbx_variants = [info["variant"]] if site in THREECX_SITES else []
                reply = session.post(lab.control_urls["threecx"] + "/pbxs", json={"names": [site], "variants": pbx_variants}, timeout=60)
                assert reply.status_code == 200, reply.text
        self.endpoints = json.loads(lab.endpoints_file.read_text())
        self.secrets = set()
        self.inventory = self.write_inventory(workdir / "inventory")

    def write_inventory(self, where: Path) -> Path:
        shutil.copytree(REPO_ROOT / "inventories" / "lab" / "group_vars", where / "group_vars")
        children = {region: {"hosts": {}} for region in ("us1", "ie1", "au1")}
        (where / "host_vars").mkdir()
        for site, info in self.sites.items():
            children[info["region"]]["hosts"][site] = {}
            host_vars = {"threecx_fallback_did": info["did"], "threecx_fallback_fallback_number": info["fallback"]}
            (where / "host_vars" / f"{site}.yml").write_text(yaml.safe_dump(host_vars))
        (where / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": children}}))
        return where

    def control(self, method: str, stand_in: str, path: str, body=None) -> dict:
        """A control call: ``stand_in`` is "twilio", "threecx" (the root) or a site (its PBX)."""
        url = self.lab.control_urls.get(stand_in) or self.endpoints["threecx"]["pbxs"][stand_in]["control_url"]
        with self.lab._session() as session:
            reply = session.request(method, url + path, json=body, timeout=60)
        assert reply.status_code == 200, f"{method} {path}: {reply.status_code} {reply.text[:300]}"
        return reply.json()

    def writes_since(self, mark: dict) -> list[dict]:
        """Requests that changed something: not a read, not a token request, not refused (a refused
        write changes nothing: the sites whose variant cannot work ask again at every run)."""
        return [e for e in self.writes(mark) if e["status"] < 400]

    def squat(self, site: str, region: str) -> None:
        """Another account takes the site's domain name first (the name of a taken-domain variant)."""
        account = self.endpoints["twilio"]["accounts"][region]
        base = self.endpoints["twilio_api_base_url"]
        host = {"us1": "api.twilio.com", "ie1": "api.dublin.ie1.twilio.com", "au1": "api.sydney.au1.twilio.com"}[region]
        with self.lab._session() as session:
            reply = session.post(
                f"{base}/2010-04-01/Accounts/{account['account_sid']}/SIP/Domains.json",
                data={"DomainName": f"{site}.sip.twilio.com"},
                auth=(account["account_sid"], account["auth_token"]),
                headers={"X-Forwarded-Host": host},
                timeout=60,
            )
        assert reply.status_code == 201, reply.text


# ---------------------------------------------------------------------------- the lab's state vs the site's variables


def state_problems(fleet: VariantFleet, site: str) -> list[str]:
    """What the lab shows of the site, compared with its variables (inventories/lab + host_vars)."""
    info = fleet.sites[site]
    pbx = fleet.control("GET", site, "/state")
    coll = pbx["collections"]
    out = []
    queues = [q for q in coll["Queues"] if q["Number"] == "800"]
    if len(queues) != 1:
        return [f"{len(queues)} queues numbered 800"]
    queue = queues[0]
    if sorted(a["Number"] for a in queue.get("Agents") or []) != AGENTS:
        out.append(f"queue agents {queue.get('Agents')} != {AGENTS}")
    if (queue["ForwardNoAnswer"] or {}).get("External") != info["fallback"] or queue["ForwardNoAnswer"].get("To") != "External":
        out.append(f"queue ForwardNoAnswer {queue['ForwardNoAnswer']} is not the fallback number {info['fallback']}")
    if (queue["RingTimeout"], queue["MasterTimeout"], queue["PollingStrategy"]) != (10, 10, "RingAll"):
        out.append("queue timing or strategy differs from the site's")
    trunks = [t for t in coll["Trunks"] if info["did"] in t["DidNumbers"]]
    if len(trunks) != 1:
        return out + [f"{len(trunks)} trunks carry DID {info['did']}"]
    trunk = trunks[0]
    if trunk["Gateway"]["Host"] != f"{site}.sip.{info['region']}.twilio.com":
        out.append(f"trunk registrar {trunk['Gateway']['Host']}")
    rules = [r for r in coll["InboundRules"] if r["Data"] == info["did"]]
    if len(rules) != 1 or (rules[0].get("TrunkDN") or {}).get("Id") != trunk["Id"]:
        out.append(f"inbound rules of {info['did']}: {[(r['Id'], r.get('TrunkDN')) for r in rules]} (trunk {trunk['Id']})")
    elif rules[0]["OfficeHoursDestination"].get("Number") != "800":
        out.append(f"inbound rule destination {rules[0]['OfficeHoursDestination']}")
    routed = [r for r in coll["OutboundRules"] if r["Routes"][0]["TrunkId"] == trunk["Id"]]
    if len(routed) != 1 or len(routed[0]["Routes"]) != 5:
        out.append(f"outbound rules on the trunk: {len(routed)}")
    if pbx["E164Settings"]["Enabled"] is not False:
        out.append("E164 processing is on")
    if not any(t["Id"] == "twilio-cid.pv.xml" for t in coll["TrunkTemplates"]):
        out.append("no template twilio-cid.pv.xml")
    twilio = fleet.control("GET", "twilio", "/state")["regions"][info["region"]]["resources"]
    domains = [d for d in twilio["domains"] if d["domain_name"] == f"{site}.sip.twilio.com"]
    if len(domains) != 1:
        return out + [f"{len(domains)} SIP Domains named {site}.sip.twilio.com in {info['region']}"]
    mapped = {
        m["sid"] for key, recs in twilio.items() if key.endswith("ip_access_control_list_mappings") for m in recs if m.get("domain_sid") == domains[0]["sid"]
    }
    acl_ips = {ip["ip_address"] for ip in twilio["ip_addresses"] if ip["ip_access_control_list_sid"] in mapped}
    public_ip = fleet.endpoints["threecx"]["pbxs"][site]["public_ip"]
    if public_ip not in acl_ips:
        out.append(f"the PBX's public IP {public_ip} is in no IP ACL mapped to the domain ({sorted(acl_ips)})")
    return out


def failure_of(site: dict) -> str:
    return ((site.get("failure") or {}).get("msg") or "") if site else ""


# ---------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    lab.reset()
    fleet = VariantFleet(lab, tmp_path_factory.mktemp("variants"))
    fleet.control("POST", "twilio", "/reset", {"variants": FIRST_PHASE_ACCOUNTS})
    for variant, (region, squatter) in TWILIO_SITES.items():
        if squatter and variant != "domain-taken-409":
            fleet.squat(site_of(variant), squatter)
    return fleet


@pytest.fixture(scope="module")
def matrix():
    rows: dict[str, dict] = {}
    yield rows
    lines = [
        "# Variant tier",
        "",
        "One site per variant (lab/variants.py); `-`: not run for a variant that cannot work (its message is asserted).",
        "",
        "| variant | behaviour | converge | idempotent | verify | call | round trip | message |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ["(defaults)"] + VARIANTS:
        row = rows.get(name)
        if row is None and name in V.BY_NAME and V.BY_NAME[name].default and "(defaults)" in rows:
            row = dict(rows["(defaults)"], message="played by " + DEFAULT_SITE)
        if row is None:
            continue
        behaviour = V.BY_NAME[name].behaviour if name in V.BY_NAME else "all defaults"
        message = row.get("message", "").replace("|", "\\|")
        lines.append(
            f"| {name} | {behaviour} | {row.get('converge', '?')} | {row.get('idempotent', '-')} | {row.get('verify', '-')} "
            f"| {row.get('call', '-')} | {row.get('round trip', '-')} | {message[:240]} |"
        )
    text = "\n".join(lines) + "\n"
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / "variants.md").write_text(text)
    print("\n" + text)


def row_of(matrix: dict, site: str, fleet: VariantFleet) -> dict:
    variant = fleet.sites[site]["variant"] or "(defaults)"
    return matrix.setdefault(variant, {})


def test_converge_from_scratch(fleet, matrix):
    first = [s for s in fleet.sites if fleet.sites[s]["variant"] != "domain-taken-409"]
    mark = fleet.mark()
    rc, report = fleet.run("converge", "--limit", ",".join(first), inventory=fleet.inventory, playbook=SITE_YML)
    sites = by_site(report)
    problems = []
    for site in first:
        variant = fleet.sites[site]["variant"]
        row = row_of(matrix, site, fleet)
        got = sites.get(site) or {}
        expected = EXPECTED_FAILURES.get(variant)
        if expected:
            # A 3CX reading that cannot work fails before any write to the PBX (a refused one changes nothing).
            written = [f"{e['method']} {e['path']}" for e in fleet.writes_since(mark) if e.get("pbx") == site]
            ok = got.get("status") == "failed" and expected in failure_of(got) and (site not in THREECX_SITES or not written)
            row.update(converge="fails as expected" if ok else f"UNEXPECTED {got.get('status')}", message=failure_of(got))
            if not ok:
                problems.append(
                    f"{site}: expected to fail with {expected!r} before any PBX write, got {got.get('status')}: {failure_of(got)}; writes {written}"
                )
            continue
        if got.get("status") != "changed":
            row.update(converge=f"FAILED ({got.get('status')})", message=failure_of(got))
            problems.append(f"{site}: {got.get('status')}: {failure_of(got)}")
            continue
        differs = state_problems(fleet, site)
        row.update(converge="ok" if not differs else "SILENT CHANGE", message="; ".join(differs))
        problems += [f"{site}: lab state differs from the site: {d}" for d in differs]
    assert rc in (0, 2), report["_log"]
    assert problems == [], "\n".join(problems) + f"\n(log: {report['_log']})"


def converged(fleet: VariantFleet, matrix: dict) -> list[str]:
    return [s for s in fleet.sites if row_of(matrix, s, fleet).get("converge") == "ok"]


def test_rerun_changes_nothing_and_only_reads(fleet, matrix):
    sites = converged(fleet, matrix)
    assert sites, "no site converged"
    mark = fleet.mark()
    rc, report = fleet.run("rerun", "--limit", ",".join(sites), inventory=fleet.inventory, playbook=SITE_YML)
    by = by_site(report)
    writes = fleet.writes_since(mark)
    problems = []
    for site in sites:
        mine = [f"{e['method']} {e['path']}" for e in writes if e.get("pbx") == site]
        ok = by[site]["status"] == "ok" and by[site]["changed"] == 0 and not mine
        row_of(matrix, site, fleet)["idempotent"] = "ok" if ok else f"NO ({by[site]['status']}, {by[site]['changed']} changed, writes {mine[:3]})"
        if not ok:
            problems.append(f"{site}: {by[site]['status']}, changed={by[site]['changed']}, writes {mine}: {failure_of(by[site])}")
    assert [f"{e['method']} {e['path']}" for e in writes if not e.get("pbx")] == []  # Twilio too
    assert problems == [], "\n".join(problems)
    assert rc == 0, report["_log"]


def test_verify_passes(fleet, matrix):
    sites = converged(fleet, matrix)
    rc, report = fleet.run("verify", "--limit", ",".join(sites), inventory=fleet.inventory, playbook=VERIFY_YML)
    by = by_site(report)
    problems = []
    for site in sites:
        go_live = by[site].get("go_live") or {}
        bad = [f"{i['id']}: {i['detail']}" for i in go_live.get("items") or [] if i.get("state") != "ok"]
        ok = by[site]["status"] == "ok" and not bad and go_live.get("items")
        row_of(matrix, site, fleet)["verify"] = "ok" if ok else "FAILED"
        if not ok:
            row_of(matrix, site, fleet)["message"] = "; ".join(bad) or failure_of(by[site])
            problems.append(f"{site}: {by[site]['status']}: {bad or failure_of(by[site])}")
    assert problems == [], "\n".join(problems)
    assert rc == 0, report["_log"]


def test_an_inbound_call_with_every_agent_on_dnd_reaches_twilio(fleet, matrix):
    problems = []
    for site in converged(fleet, matrix):
        fleet.control("POST", site, "/extensions", {"extensions": [{"Number": n, "dnd": True} for n in AGENTS]})
        call = fleet.control("POST", site, "/calls", {"did": fleet.sites[site]["did"], "caller": CALLER})
        fleet.control("POST", site, "/extensions", {"extensions": [{"Number": n, "dnd": False} for n in AGENTS]})
        ok = call["outcome"] == "twilio_answered" and call["sip"]["from"] == CALLER
        row_of(matrix, site, fleet)["call"] = "ok" if ok else f"NO ({call['outcome']})"
        if not ok:
            problems.append(f"{site}: {call['outcome']} at {call['stopped_at']}: {call['reason']}")
    assert problems == [], "\n".join(problems)


# variant -> words item round_trip must carry with the agents put on DND for the call (a reading under which the
# presence write cannot keep agents from being rung); every other converged site must pass it.
ROUND_TRIP_FAILURES = {
    "dnd-flag": "whether that profile keeps an agent from being rung is UNCONFIRMED",
    "presence-ignored": "was not placed: the agents could not be put on Do Not Disturb: the PBX answered the presence write",
}


def test_the_round_trip_with_the_agents_put_on_dnd_leaves_every_presence_as_it_was(fleet, matrix):
    sites = converged(fleet, matrix)
    presence = {site: {u["Number"]: u["CurrentProfileName"] for u in fleet.control("GET", site, "/state")["collections"]["Users"]} for site in sites}
    journal = str(fleet.workdir / "presence") + "/{{ inventory_hostname }}.json"
    trip = ["-e", "go_live_check_test_call=false", "-e", "go_live_check_round_trip=true", "-e", "go_live_check_round_trip_dnd=true"]
    trip += ["-e", f"go_live_check_test_from={CALLER}", "-e", "go_live_check_round_trip_wait_timeout=15"]
    trip += ["-e", f"go_live_check_round_trip_dnd_journal={journal}"]
    mark = fleet.mark()
    rc, report = fleet.run("round-trip", "--limit", ",".join(sites), *trip, inventory=fleet.inventory, playbook=VERIFY_YML)
    calls = [e["body"]["To"] for e in fleet.writes_since(mark) if e["path"].endswith("/Calls.json")]
    by = by_site(report)
    problems = []
    for site in sites:
        items = {i["id"]: i for i in (by[site].get("go_live") or {}).get("items") or []}
        item = items.get("round_trip") or {"state": "missing", "detail": failure_of(by[site])}
        expected = ROUND_TRIP_FAILURES.get(fleet.sites[site]["variant"])
        others = [f"{i['id']}: {i['detail']}" for i in items.values() if i["id"] != "round_trip" and i["state"] != "ok"]
        now = {u["Number"]: u["CurrentProfileName"] for u in fleet.control("GET", site, "/state")["collections"]["Users"]}
        if expected is None:
            ok = item["state"] == "ok" and "their presence was put back" in item["detail"]
        else:
            ok = item["state"] == "FAIL" and expected in item["detail"]
        # A refused DND places no call: an agent could answer it.
        placed = calls.count(fleet.sites[site]["did"])
        ok = ok and not others and now == presence[site] and placed == (0 if fleet.sites[site]["variant"] == "presence-ignored" else 1)
        row_of(matrix, site, fleet)["round trip"] = ("ok" if expected is None else "fails as expected") if ok else "FAILED"
        if not ok:
            problems.append(f"{site}: round_trip {item['state']}: {item['detail']}; other items: {others}; presence {presence[site]} -> {now}; calls {placed}")
    assert problems == [], "\n".join(problems)
    assert not list((fleet.workdir / "presence").glob("*.json")), "every journal deleted once its presence is back"
    assert rc == (2 if any(fleet.sites[s]["variant"] in ROUND_TRIP_FAILURES for s in sites) else 0), report["_log"]


def test_the_third_reading_of_a_taken_name(fleet, matrix):
    site = site_of("domain-taken-409")
    fleet.control("POST", "twilio", "/variants", {"variants": {"au1": ["domain-taken-409"]}})
    fleet.squat(site, TWILIO_SITES["domain-taken-409"][1])
    mark = fleet.mark()
    rc, report = fleet.run("taken-409", "--limit", site, inventory=fleet.inventory, playbook=SITE_YML)
    got = by_site(report)[site]
    ok = got["status"] == "failed" and TAKEN in failure_of(got)
    row_of(matrix, site, fleet).update(converge="fails as expected" if ok else f"UNEXPECTED {got['status']}", message=failure_of(got))
    assert ok, failure_of(got)
    # Failed at the domain: nothing reached the site's PBX.
    assert [e for e in fleet.writes_since(mark) if e.get("pbx") == site] == []
    assert rc == 2, report["_log"]
