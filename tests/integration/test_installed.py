"""The installed collection's first run, as the README tells a new user to do it.

The collection is built into a tarball (``ansible-galaxy collection build``), installed into an
empty collections path, and run from an empty directory (no ansible.cfg, so no callback is
enabled) over a copy of inventories/example, pointed at the lab: ``ansible-playbook -i <copy>
--vault-password-file ... voip.threecx_twilio.site --check``. The run must pass, write nothing,
and end with the playbook's own fleet summary (printed because the fleet_report callback is not
enabled); with the callback enabled the way the README says, the callback's table replaces it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import collect_secrets
from tests.integration.test_targets import leaks
from tests.support.collection import REPO_ROOT

BIN = Path(sys.executable).parent
EXAMPLE = REPO_ROOT / "inventories" / "example"
SITE = "acme-hq"

pytestmark = pytest.mark.lab


def run(cmd, cwd, env, timeout=600):
    return subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """An empty collections path with only the built tarball installed."""
    work = tmp_path_factory.mktemp("installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TWILIO_", "THREECX_"))}
    env["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")
    built = run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(REPO_ROOT)], work, env)
    assert built.returncode == 0, built.stdout + built.stderr
    [tarball] = sorted(work.glob("voip-threecx_twilio-*.tar.gz"))
    collections = work / "collections"
    done = run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(collections), str(tarball)], work, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return work, collections, env


def lab_vars(lab, endpoints):
    """Extra vars that point the example site at the lab (its PBX, the US1 account's API key)."""
    pbx = endpoints["threecx"]["pbxs"][SITE]
    account = endpoints["twilio"]["accounts"]["us1"]
    return {
        "twilio_sip_domain_account_sid": account["account_sid"],
        "twilio_sip_domain_api_key": account["api_key"],
        "twilio_sip_domain_api_secret": account["api_secret"],
        "twilio_sip_domain_api_base_url": endpoints["twilio_api_base_url"],
        "twilio_sip_domain_ca_bundle": endpoints["ca_bundle"],
        "twilio_sip_domain_pbx_public_ips": [pbx["public_ip"]],
        "threecx_fallback_url": pbx["url"],
        "threecx_fallback_client_id": pbx["client_id"],
        "threecx_fallback_client_secret": pbx["client_secret"],
        "threecx_fallback_ca_path": endpoints["ca_bundle"],
    }


def test_the_installed_collection_runs_the_example_inventory_to_a_fleet_summary(lab, installed, tmp_path):
    work, collections, env = installed
    lab.reset()
    with lab._session() as session:
        reply = session.post(lab.control_urls["threecx"] + "/pbxs", json={"names": [SITE]}, timeout=60)
        assert reply.status_code == 200, reply.text
    endpoints = json.loads(lab.endpoints_file.read_text())
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, inventory)
    extra = tmp_path / "lab-vars.yml"
    extra.write_text(yaml.safe_dump(lab_vars(lab, endpoints)))
    extra.chmod(0o600)
    user_dir = tmp_path / "user"
    user_dir.mkdir()
    run_env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", HOME=str(tmp_path), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    cmd = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(inventory),
        "--vault-password-file",
        str(inventory / "example-vault-password.txt"),
        "-e",
        "@" + str(extra),
        "voip.threecx_twilio.site",
        "--check",
    ]
    mark = {name: 0 for name in lab.control_urls}
    with lab._session() as session:
        for name, url in lab.control_urls.items():
            entries = session.get(url + "/requests", timeout=60).json()
            entries = entries["requests"] if isinstance(entries, dict) else entries
            mark[name] = max([e["seq"] for e in entries] + [0])

    result = run(cmd, user_dir, run_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert f'"{SITE}: checked (check mode)"' in output, output[-3000:]
    assert '"sites: 1 (checked=1, failed=0, not run=0); enable the callback voip.threecx_twilio.fleet_report for the full report"' in output
    assert "FLEET REPORT" not in output
    with lab._session() as session:
        for name, url in lab.control_urls.items():
            entries = session.get(url + "/requests", params={"since": mark[name]}, timeout=60).json()
            entries = entries["requests"] if isinstance(entries, dict) else entries
            writes = [e for e in entries if e["method"] not in ("GET", "HEAD") and not e["path"].endswith("/connect/token")]
            assert writes == [], (name, writes[:3])
            assert entries, "%s: the run read the lab" % name

    # The README's way to turn the report on: the callback, by its name, in the environment.
    result = run(cmd, user_dir, dict(run_env, ANSIBLE_CALLBACKS_ENABLED="voip.threecx_twilio.fleet_report"))
    report_output = result.stdout + result.stderr
    assert result.returncode == 0, report_output[-4000:]
    assert "FLEET REPORT" in report_output and f"{SITE}" in report_output
    assert "enable the callback" not in report_output
    found = leaks(collect_secrets(endpoints), {"installed run": output, "installed run with the report": report_output})
    assert not found, "lab secrets leaked: " + "; ".join(found)
