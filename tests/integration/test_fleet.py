"""site.yml over inventories/lab: the whole fleet on the lab, one 3CX PBX per site.

In order, on one lab (the tests of this module depend on each other's lab state):

1. ``--check --diff`` on a fresh lab sends no write, and predicts per site exactly the tasks that
   the real run then changes;
2. the real run converges every site;
3. a second run reports changed=0 for every site and sends only GET requests;
4. on a fresh lab, a site with a bad variable fails before any request of its own while the
   other sites converge; with the variable fixed, a re-run converges it and changes nothing else;
5. with a batch of two and no failure allowed, a bad site in the first batch stops the rollout:
   the later sites are reported as not run.

Every run is played at -vvvv; no lab secret (nor the SIP passwords the inventory derives from
them) may show up in its output, the fleet report, or the lab's logs and state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import collect_secrets
from tests.support import site_cases
from tests.integration.test_targets import AMBIENT_PREFIXES, leaks
from tests.support.collection import REPO_ROOT, collections_path

INVENTORY = REPO_ROOT / "inventories" / "lab"
SITE_YML = REPO_ROOT / "site.yml"
RUN_TIMEOUT = 600
READS = {"GET", "HEAD"}

pytestmark = pytest.mark.lab


def inventory_sites() -> list[str]:
    groups = yaml.safe_load((INVENTORY / "hosts.yml").read_text())["all"]["children"]
    return [host for group in groups.values() for host in (group.get("hosts") or {})]


SITES = inventory_sites()


class Fleet:
    """The lab with one PBX per site, and a way to run site.yml and read what happened."""

    def __init__(self, lab, workdir: Path):
        self.lab = lab
        self.workdir = workdir
        self.runs = 0
        self.outputs: dict[str, str] = {}
        with lab._session() as session:
            reply = session.post(lab.control_urls["threecx"] + "/pbxs", json={"names": SITES}, timeout=60)
            assert reply.status_code == 200, reply.text
        self.endpoints = json.loads(lab.endpoints_file.read_text())
        assert set(SITES) <= set(self.endpoints["threecx"]["pbxs"]), "endpoints.json lacks the sites' PBXs"
        self.secrets = collect_secrets(self.endpoints) | {self.sip_password(site) for site in SITES}

    def sip_password(self, site: str) -> str:
        # What inventories/lab/group_vars/all.yml derives for sites that authenticate by credentials.
        secret = self.endpoints["threecx"]["pbxs"][site]["client_secret"]
        return "Lab" + hashlib.sha256(secret.encode()).hexdigest()[:16] + "x9"

    def mark(self) -> dict[str, int]:
        return {name: max([e["seq"] for e in entries] + [0]) for name, entries in self.requests().items()}

    def requests(self, since: dict[str, int] | None = None) -> dict[str, list[dict]]:
        out = {}
        with self.lab._session() as session:
            for name, url in self.lab.control_urls.items():
                reply = session.get(url + "/requests", params={"since": (since or {}).get(name, 0)}, timeout=60)
                assert reply.status_code == 200
                body = reply.json()
                out[name] = body["requests"] if isinstance(body, dict) else body
        return out

    def writes(self, since: dict[str, int]) -> list[dict]:
        """Requests that change configuration (a token request is authentication, not a write)."""
        return [e for e in self.non_reads(since) if not e["path"].endswith("/connect/token")]

    def non_reads(self, since: dict[str, int]) -> list[dict]:
        return [e for entries in self.requests(since).values() for e in entries if e["method"] not in READS]

    def command(self, label: str, *args: str, inventory: Path = INVENTORY, playbook: Path = SITE_YML) -> tuple[list[str], dict, Path]:
        """The ansible-playbook command of one run, its environment and its own directory."""
        self.runs += 1
        run_dir = self.workdir / f"{self.runs:02d}-{label}"
        run_dir.mkdir()
        env = {k: v for k, v in self.lab.env.items() if not k.startswith(AMBIENT_PREFIXES)}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
            ANSIBLE_CALLBACKS_ENABLED="voip.threecx_twilio.fleet_report",
            VOIP_FLEET_REPORT_DIR=str(run_dir / "report"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_LOCAL_TEMP=str(run_dir / "ansible-tmp"),
            PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        )
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-vvvv", "-i", str(inventory), str(playbook), *args]
        return cmd, env, run_dir

    def run(self, label: str, *args: str, inventory: Path = INVENTORY, playbook: Path = SITE_YML) -> tuple[int, dict]:
        cmd, env, run_dir = self.command(label, *args, inventory=inventory, playbook=playbook)
        log = run_dir / "ansible-playbook.log"
        with open(log, "w") as out:
            proc = subprocess.run(
                cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT, check=False
            )
        text = log.read_text(errors="replace")
        self.outputs[f"{label}: ansible-playbook -vvvv output"] = text
        report_file = run_dir / "report" / "fleet-report.json"
        assert report_file.is_file(), f"{label}: no fleet report (output: {log}):\n" + "\n".join(text.splitlines()[-40:])
        for name in ("fleet-report.json", "fleet-report.md", "fleet-report.html"):
            self.outputs[f"{label}: {name}"] = (run_dir / "report" / name).read_text()
        report = json.loads(report_file.read_text())
        report["_log"] = str(log)
        return proc.returncode, report

    def twilio_domain_names(self) -> set[str]:
        with self.lab._session() as session:
            state = session.get(self.lab.control_urls["twilio"] + "/state", timeout=60).json()
        return {d["domain_name"] for region in state["regions"].values() for d in region["resources"]["domains"]}


def by_site(report: dict) -> dict[str, dict]:
    return {site["site"]: site for site in report["sites"]}


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    lab.reset()
    return Fleet(lab, tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def state():
    return {}


def test_check_mode_on_a_fresh_lab_writes_nothing(fleet, state):
    mark = fleet.mark()
    rc, report = fleet.run("check", "--check", "--diff")
    assert rc == 0, report["_log"]
    assert report["check_mode"] is True
    assert fleet.writes(mark) == []
    sites = by_site(report)
    assert sorted(sites) == sorted(SITES)
    assert {s["status"] for s in sites.values()} == {"would change"}
    state["check"] = report


def test_first_run_converges_every_site_as_check_mode_predicted(fleet, state):
    mark = fleet.mark()
    rc, report = fleet.run("converge", "--diff")
    assert rc == 0, report["_log"]
    sites = by_site(report)
    assert {s["status"] for s in sites.values()} == {"changed"}
    predicted = by_site(state["check"])
    for name, site in sites.items():
        assert site["changed_tasks"] == predicted[name]["changed_tasks"], name
        assert site["sip_uri"] == f"{name}.sip.{site['region']}.twilio.com"
        assert predicted[name]["sip_uri"] == site["sip_uri"]
    # Each PBX got its own configuration: writes reached every site's PBX.
    written = {e.get("pbx") for e in fleet.writes(mark) if e.get("pbx")}
    assert written == set(SITES)
    assert fleet.twilio_domain_names() == {f"{name}.sip.twilio.com" for name in SITES}


def test_second_run_changes_nothing_and_only_reads(fleet):
    mark = fleet.mark()
    rc, report = fleet.run("rerun")
    assert rc == 0, report["_log"]
    assert {s["status"] for s in report["sites"]} == {"ok"}
    assert all(s["changed"] == 0 for s in report["sites"])
    # Not even a token request: each PBX's token from the first run is still cached and valid.
    assert fleet.non_reads(mark) == []
    # The play recap agrees with the report.
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", Path(report["_log"]).read_text(), re.M))
    # localhost: the closing fleet summary play (it prints nothing with the callback enabled).
    assert recap == dict({site: "0" for site in SITES}, localhost="0")


def test_a_bad_site_fails_before_any_request_while_the_others_converge(fleet, tmp_path):
    # The site a module would refuse late (threecx_template, after the Twilio side was made) is
    # refused by the site model before any request. wombat-sydney is alone in its Twilio account
    # (AU1) and on its PBX, so every request for it can be told from the others'.
    fleet.lab.reset()
    bad_site = "wombat-sydney"
    broken = tmp_path / "inventory"
    shutil.copytree(INVENTORY, broken)
    host_vars = broken / "host_vars" / f"{bad_site}.yml"
    site_vars = yaml.safe_load(host_vars.read_text())
    site_vars["threecx_fallback_template_name"] = "gulf-o'neil-cid.pv.xml"
    host_vars.write_text(yaml.safe_dump(site_vars))

    mark = fleet.mark()
    rc, report = fleet.run("bad-variable", inventory=broken)
    assert rc == 2, report["_log"]
    sites = by_site(report)
    assert sites[bad_site]["status"] == "failed"
    assert "threecx_fallback_template_name" in sites[bad_site]["failure"]["msg"]
    assert sites[bad_site]["changed_tasks"] == []
    assert {s["status"] for name, s in sites.items() if name != bad_site} == {"changed"}
    # Not one request for the bad site, to either vendor (not even a token request).
    requests = [e for entries in fleet.requests(mark).values() for e in entries]
    assert [e for e in requests if e.get("pbx") == bad_site] == []
    assert [e for e in requests if ".au1.twilio.com" in str(e.get("host"))] == []
    assert requests, "the other sites' requests are in the log"
    assert f"{bad_site}.sip.twilio.com" not in fleet.twilio_domain_names()

    rc, report = fleet.run("fixed")
    assert rc == 0, report["_log"]
    statuses = {name: s["status"] for name, s in by_site(report).items()}
    assert statuses == {name: ("changed" if name == bad_site else "ok") for name in SITES}


def test_a_failed_batch_stops_the_rollout(fleet, tmp_path):
    fleet.lab.reset()
    first = SITES[0]
    broken = tmp_path / "inventory"
    shutil.copytree(INVENTORY, broken)
    host_vars = broken / "host_vars" / f"{first}.yml"
    site_vars = yaml.safe_load(host_vars.read_text())
    site_vars["threecx_fallback_did"] = "not-a-number"
    host_vars.write_text(yaml.safe_dump(site_vars))

    rc, report = fleet.run("stopped-rollout", "-e", "fleet_serial=2", "-e", "fleet_max_fail_percentage=0", inventory=broken)
    assert rc != 0
    statuses = [by_site(report)[name]["status"] for name in SITES]
    assert statuses[0] == "failed"
    assert statuses[1] == "changed"  # same batch: it ran
    assert set(statuses[2:]) == {"not run"}


def test_tags_run_one_side_only(fleet):
    """--tags twilio sends nothing to a PBX; --tags threecx nothing to Twilio; the plan runs with both."""
    fleet.lab.reset()
    mark = fleet.mark()
    rc, report = fleet.run("tags-twilio", "--tags", "twilio")
    assert rc == 0, report["_log"]
    requests = fleet.requests(mark)
    assert requests["threecx"] == [], requests["threecx"][:3]
    assert fleet.twilio_domain_names() == {f"{name}.sip.twilio.com" for name in SITES}
    assert {s["status"] for s in report["sites"]} == {"changed"}

    mark = fleet.mark()
    rc, report = fleet.run("tags-threecx", "--tags", "threecx")
    assert rc == 0, report["_log"]
    requests = fleet.requests(mark)
    assert requests["twilio"] == [], requests["twilio"][:3]
    assert {e.get("pbx") for e in fleet.writes(mark)} == set(SITES)
    # Both sides made by the two runs: a whole run now changes nothing.
    rc, report = fleet.run("after-tags")
    assert rc == 0, report["_log"]
    assert {s["status"] for s in report["sites"]} == {"ok"}


def test_every_bad_site_of_the_table_fails_before_any_request(fleet, tmp_path):
    """Each bad case of tests/support/site_cases.py as a site of one fleet: all refused, none sends a request.

    The bad sites use a PBX and a Twilio account (IE1) of their own; a good site in the same run
    (on its own PBX, in US1) shows that the run does reach the lab.
    """
    fleet.lab.reset()
    with fleet.lab._session() as session:
        reply = session.post(fleet.lab.control_urls["threecx"] + "/pbxs", json={"names": ["bad-sites"]}, timeout=60)
        assert reply.status_code == 200, reply.text
    inventory = tmp_path / "inventory"
    shutil.copytree(INVENTORY, inventory)
    good = "acme-dallas"
    base = yaml.safe_load((INVENTORY / "host_vars" / f"{good}.yml").read_text())
    hosts = {good: None}
    for case_id, change, _variable in site_cases.BAD:
        name = "bad-" + case_id
        hosts[name] = None
        site_vars = dict(base, lab_pbx="{{ lab.threecx.pbxs['bad-sites'] }}", lab_account="{{ lab.twilio.accounts.ie1 }}")
        site_vars.update(change)
        (inventory / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(site_vars, allow_unicode=True))
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"us1": {"hosts": hosts}}}}))

    mark = fleet.mark()
    rc, report = fleet.run("bad-table", "-e", "fleet_serial=1000", "-e", "fleet_max_fail_percentage=100", inventory=inventory)
    assert rc == 2, report["_log"]
    sites = by_site(report)
    assert sites[good]["status"] == "changed"
    for case_id, _change, variable in site_cases.BAD:
        site = sites["bad-" + case_id]
        assert site["status"] == "failed", case_id
        assert site["failure"]["task"] == "Check the site's variables and plan it (before any request)", (case_id, site["failure"])
        assert variable in site["failure"]["msg"], (case_id, site["failure"]["msg"])
    requests = [e for entries in fleet.requests(mark).values() for e in entries]
    assert [e for e in requests if e.get("pbx") == "bad-sites"] == []
    assert [e for e in requests if ".ie1.twilio.com" in str(e.get("host"))] == []
    assert [e for e in requests if e.get("pbx") == good], "the good site's requests are in the log"


def test_no_secret_in_any_output_report_or_lab_log(fleet):
    assert fleet.outputs, "no run recorded"
    documents = dict(fleet.outputs)
    documents.update(fleet.lab.control_documents())
    found = leaks(fleet.secrets, documents)
    assert not found, "lab secrets leaked: " + "; ".join(found)
