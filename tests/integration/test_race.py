"""Two runs race to create one 3CX provider template (issue 16): the loser adopts what the winner made.

Reported: both runs read "no template", both created it, and the second got HTTP 409 "already
exists" and failed. Here two ansible-playbook processes run threecx_template at once against the
lab's PBX. The lab holds the first create to arrive for 20 s (a ``delay`` fault, below the
client's 30 s read timeout) before it performs it: the other run reads "no template" in that
window and creates it, so the held create then meets the PBX's own 409. Both runs must succeed,
the PBX must hold the template once, and its log must show the two creates, one 201 and one 409.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.collection import collections_path

TEMPLATE = "race-twilio.pv.xml"
HOLD = 20
AMBIENT_PREFIXES = ("TWILIO_", "THREECX_", "ANSIBLE_", "VOIP_", "AWX_")

pytestmark = pytest.mark.lab


def play(lab, path: Path) -> Path:
    pbx = lab.endpoints["threecx"]
    tasks = [
        {
            "name": "The provider template both runs want",
            "voip.threecx_twilio.threecx_template": {
                "url": pbx["url"],
                "client_id": pbx["client_id"],
                "client_secret": "{{ lookup('ansible.builtin.env', 'RACE_CLIENT_SECRET') }}",
                "ca_path": lab.ca_bundle,
                "name": TEMPLATE,
                "display_name": "Race",
            },
        }
    ]
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}], sort_keys=False))
    return path


def start(lab, playbook: Path, run_dir: Path) -> subprocess.Popen:
    run_dir.mkdir()
    env = {k: v for k, v in lab.env.items() if not k.startswith(AMBIENT_PREFIXES)}
    env.update(
        RACE_CLIENT_SECRET=lab.endpoints["threecx"]["client_secret"],
        XDG_CACHE_HOME=str(run_dir.parent / "shared-cache"),  # one controller: the runs share a token
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(run_dir / "ansible-tmp"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
    out = open(run_dir / "log", "w")
    return subprocess.Popen(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def test_two_runs_creating_one_template_both_succeed_and_the_pbx_holds_it_once(lab, tmp_path):
    lab.reset()
    with lab._session() as session:
        control = lab.control_urls["threecx"]
        fault = {"method": "POST", "path": r"^/xapi/v1/TrunkTemplates$", "times": 1, "action": {"kind": "delay", "seconds": HOLD}}
        assert session.post(control + "/faults", json={"faults": [fault]}, timeout=30).status_code < 300
        mark = max([e["seq"] for e in session.get(control + "/requests", timeout=30).json()] + [0])
    playbook = play(lab, tmp_path / "race.yml")
    runs = [start(lab, playbook, tmp_path / name) for name in ("run-a", "run-b")]
    for proc, name in zip(runs, ("run-a", "run-b")):
        rc = proc.wait(timeout=300)
        text = (tmp_path / name / "log").read_text(errors="replace")
        assert rc == 0, "\n".join(text.splitlines()[-30:])
        assert "409" not in text.split("PLAY RECAP")[-1]
    with lab._session() as session:
        state = session.get(control + "/state", timeout=30).json()
        log = session.get(control + "/requests", params={"since": mark}, timeout=30).json()
    assert [t["Id"] for t in state["collections"]["TrunkTemplates"]].count(TEMPLATE) == 1
    creates = sorted(e["status"] for e in log if e["method"] == "POST" and e["path"].endswith("/TrunkTemplates"))
    assert creates == [201, 409], "the runs did not race as arranged: %s" % creates
    text = "".join((tmp_path / name / "log").read_text() for name in ("run-a", "run-b"))
    assert lab.endpoints["threecx"]["client_secret"] not in text
