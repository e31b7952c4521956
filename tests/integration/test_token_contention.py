"""Two controllers, one PBX (issue 16): two site.yml processes with separate token caches at once.

3CX keeps one active token per API client, so two processes that do not share a token cache (two
controllers, or AWX jobs in their own containers) revoke each other's tokens, and the lab's PBX,
like the field report of a real one, then refuses token requests with 403 for a while (its
default limit: more than 5 token requests in 60 s start a 180 s cool-down).

The site's Twilio side is made first, so that the two processes race on the PBX alone (Twilio
does not keep list names unique; two runs creating one site's lists at the same instant is a
fleet-design error that no module can undo, see docs/awx.md). Then both processes run the whole
site.yml at once, each with its own XDG_CACHE_HOME. Each must end converged or fail with the
message that another process is using the API client, naming its client ID, before any hint
about credentials; neither may leave a duplicate on the PBX. After the cool-down is lifted, one
more run converges and the one after it changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collection import REPO_ROOT, collections_path

SITE = "acme-dallas"
INVENTORY = REPO_ROOT / "inventories" / "lab"
SITE_YML = REPO_ROOT / "site.yml"
AMBIENT_PREFIXES = ("TWILIO_", "THREECX_", "ANSIBLE_", "VOIP_", "AWX_")
RUN_TIMEOUT = 600
CONTENTION = "Another process is using the same API client"

pytestmark = pytest.mark.lab


def start(lab, run_dir: Path, *args: str) -> subprocess.Popen:
    """ansible-playbook site.yml for SITE in the background, with its own cache (a controller of its own)."""
    run_dir.mkdir(parents=True)
    env = {k: v for k, v in lab.env.items() if not k.startswith(AMBIENT_PREFIXES)}
    env.update(
        XDG_CACHE_HOME=str(run_dir / "cache"),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_CALLBACKS_ENABLED="voip.threecx_twilio.fleet_report",
        VOIP_FLEET_REPORT_DIR=str(run_dir / "report"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=str(run_dir / "ansible-tmp"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY), str(SITE_YML), "--limit", SITE, *args]
    out = open(run_dir / "ansible-playbook.log", "w")
    return subprocess.Popen(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, run_dir: Path) -> tuple[int, dict, str]:
    rc = proc.wait(timeout=RUN_TIMEOUT)
    text = (run_dir / "ansible-playbook.log").read_text(errors="replace")
    report_file = run_dir / "report" / "fleet-report.json"
    assert report_file.is_file(), "no fleet report:\n" + "\n".join(text.splitlines()[-40:])
    [site] = json.loads(report_file.read_text())["sites"]
    return rc, site, text


def run(lab, run_dir: Path, *args: str) -> tuple[int, dict, str]:
    return finish(start(lab, run_dir, *args), run_dir)


def pbx_control(lab, method: str, what: str, body=None):
    with lab._session() as session:
        root = lab.control_urls["threecx"][: -len("/_lab")]
        reply = session.request(method, f"{root}/pbx/{SITE}/_lab/{what}", json=body, timeout=60)
    assert reply.status_code < 300, f"{method} {what}: HTTP {reply.status_code} {reply.text[:300]}"
    return reply.json() if reply.content else None


def duplicates(collections: dict) -> dict[str, list]:
    """Objects of the site's natural keys that the PBX holds more than once."""
    keys = {
        "TrunkTemplates": lambda o: o.get("Id"),
        "Trunks": lambda o: (o.get("Gateway") or {}).get("Name"),
        "Queues": lambda o: o.get("Number"),
        "RingGroups": lambda o: o.get("Number"),
        "InboundRules": lambda o: o.get("Data"),
        "OutboundRules": lambda o: o.get("Name"),
    }
    found = {}
    for name, key in keys.items():
        values = [key(o) for o in collections.get(name) or []]
        twice = sorted(set(v for v in values if values.count(v) > 1), key=str)
        if twice:
            found[name] = twice
    return found


@pytest.fixture
def pbx_lab(lab):
    lab.reset()
    with lab._session() as session:
        reply = session.post(lab.control_urls["threecx"] + "/pbxs", json={"names": [SITE]}, timeout=60)
        assert reply.status_code == 200, reply.text
    lab.endpoints = json.loads(lab.endpoints_file.read_text())
    return lab


def test_two_controllers_with_separate_caches_converge_or_say_another_process_uses_the_api_client(pbx_lab, tmp_path):
    lab = pbx_lab
    client_id = lab.endpoints["threecx"]["pbxs"][SITE]["client_id"]
    rc, site, text = run(lab, tmp_path / "twilio-first", "--tags", "twilio")
    assert rc == 0 and site["status"] == "changed", text[-3000:]

    runs = {name: start(lab, tmp_path / name) for name in ("controller-a", "controller-b")}
    outcomes = {name: finish(proc, tmp_path / name) for name, proc in runs.items()}
    print({name: (rc, site["status"]) for name, (rc, site, _text) in outcomes.items()})  # which way it went, in -s output
    for name, (rc, site, text) in outcomes.items():
        if rc == 0:
            assert site["status"] in ("changed", "ok"), (name, site)
            continue
        failure = (site["failure"] or {}).get("msg") or ""
        assert site["status"] == "failed" and CONTENTION in failure, (name, failure or text[-3000:])
        assert "API client %r" % client_id in failure and failure.index(CONTENTION) < failure.index("check client_id and client_secret")
    state = pbx_control(lab, "GET", "state")
    assert duplicates(state["collections"]) == {}, "a run left a duplicate"

    # The advised re-run, once the PBX accepts token requests again.
    pbx_control(lab, "POST", "tokens/cooldown/clear")
    rc, site, text = run(lab, tmp_path / "rerun")
    assert rc == 0 and site["status"] in ("changed", "ok"), text[-3000:]
    rc, site, text = run(lab, tmp_path / "converged")
    assert rc == 0 and site["status"] == "ok" and site["changed"] == 0, site
    state = pbx_control(lab, "GET", "state")
    assert duplicates(state["collections"]) == {}
    assert [q["Number"] for q in state["collections"]["Queues"]] == ["800"]
