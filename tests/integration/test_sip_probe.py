"""sip_options_probe against the lab's SIP Domain stand-in (Kamailio) and a closed port.

The module runs as a task, the way a play runs it; the UAS is the lab's Kamailio configuration
(lab/sip), started for the length of the test. Skips, naming the binary, where kamailio is not
installed (scripts/bootstrap sip installs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.sip import tools
from lab.sip.leg import running_uas
from tests.integration.test_targets import AMBIENT_PREFIXES
from tests.support.collection import collections_path

PLAY = """
- name: Probe the lab's SIP Domain and a closed port
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Probe the lab UAS
      voip.threecx_twilio.sip_options_probe:
        host: 127.0.0.1
        port: {uas_port}
        timeout: 1
        retries: 2
      register: uas
    - name: Probe a closed port
      voip.threecx_twilio.sip_options_probe:
        host: 127.0.0.1
        port: {closed_port}
        timeout: 1
        retries: 2
      register: closed
    - name: Probe a closed port, failing when unreachable
      voip.threecx_twilio.sip_options_probe:
        host: 127.0.0.1
        port: {closed_port}
        timeout: 1
        retries: 0
        fail_on_unreachable: true
      register: strict
      ignore_errors: true
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{{{ {{'uas': uas, 'closed': closed, 'strict': strict}} | to_json }}}}"
        dest: "{results}"
        mode: "0600"
"""


def test_probe_reports_the_lab_uas_reachable_and_a_closed_port_unreachable(tmp_path):
    missing = tools.missing_binaries()
    if "kamailio" in missing:
        pytest.skip(tools.missing_message(["kamailio"]))
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT_PREFIXES)}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    with running_uas() as (ip, port):
        closed_port = tools.free_udp_port(ip)
        play = tmp_path / "probe.yml"
        play.write_text(PLAY.format(uas_port=port, closed_port=closed_port, results=results))
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        started = time.monotonic()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(play)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    found = json.loads(results.read_text())
    uas = found["uas"]
    assert uas["reachable"] is True and uas["status_code"] == 200 and uas["changed"] is False
    assert uas["attempts"] == 1 and 0 < uas["rtt_ms"] < 1000
    closed = found["closed"]
    assert closed["reachable"] is False and closed["status_code"] is None and closed["failed"] is False
    assert closed["attempts"] <= 3  # bounded by retries
    assert found["strict"]["failed"] is True and found["strict"]["reachable"] is False
    # Three probes with timeout 1 and at most 3 attempts each: a closed port must not hang a play.
    assert elapsed < 60
