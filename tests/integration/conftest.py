"""Fixtures for the integration tier: one lab per session, reset before each target.

The lab is a separate program (``lab up`` / ``lab down``, see lab/): this tier talks to it only
through its command line, its endpoints file and its HTTP control surface, like a user would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collection import REPO_ROOT

LAB_TIMEOUT = 180  # seconds for `lab up` / `lab down`
SECRET_KEYS = ("auth_token", "api_secret", "client_secret")


def lab_command(*args: str) -> list[str]:
    """The lab's command line, run by the interpreter that runs the tests."""
    return [sys.executable, "-m", "lab", *args]


def collect_secrets(node, found=None) -> set[str]:
    """Every auth_token, api_secret and client_secret value anywhere in the endpoints file."""
    found = set() if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SECRET_KEYS and isinstance(value, str) and value:
                found.add(value)
            else:
                collect_secrets(value, found)
    elif isinstance(node, list):
        for value in node:
            collect_secrets(value, found)
    return found


class Lab:
    """A running lab: its home, endpoints and control surface."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home = home
        self.env = env
        self.endpoints_file = home / "endpoints.json"
        self.endpoints = json.loads(self.endpoints_file.read_text())
        self.ca_bundle = self.endpoints.get("ca_bundle")
        self.secrets = collect_secrets(self.endpoints)

    @property
    def control_urls(self) -> dict[str, str]:
        urls = {}
        for name in ("twilio", "threecx"):
            url = (self.endpoints.get(name) or {}).get("control_url")
            if url:
                urls[name] = url.rstrip("/")
        return urls

    def _session(self):
        import requests  # a test dependency (tests/requirements*.txt)

        session = requests.Session()
        session.verify = self.ca_bundle or True
        session.trust_env = False  # loopback only: no proxy
        return session

    def reset(self) -> None:
        """POST <control_url>/reset on every stand-in."""
        with self._session() as session:
            for name, url in self.control_urls.items():
                response = session.post(f"{url}/reset", timeout=30)
                assert response.status_code < 300, f"reset of the {name} stand-in: HTTP {response.status_code}"

    def control_documents(self) -> dict[str, str]:
        """The raw text of GET <control_url>/requests and /state of every stand-in."""
        docs = {}
        with self._session() as session:
            for name, url in self.control_urls.items():
                for what in ("requests", "state"):
                    response = session.get(f"{url}/{what}", timeout=30)
                    assert response.status_code == 200, f"GET {name} /{what}: HTTP {response.status_code}"
                    docs[f"{name} /_lab/{what}"] = response.text
        return docs


@pytest.fixture(scope="session")
def xdg_cache_home(tmp_path_factory) -> Path:
    """The user's cache dir for every ansible-playbook run (holds the 3CX token cache)."""
    return tmp_path_factory.mktemp("xdg-cache")


def _interrupt_on_sigterm(signum, frame):
    # A killed test run (CI's time limit, `timeout`) sends SIGTERM, which by default ends Python
    # without teardown and leaves the lab running. As KeyboardInterrupt, pytest stops the
    # running subprocess and still runs the fixtures' teardown (`lab down`).
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory, xdg_cache_home):
    """`lab up` once per session in a temporary LAB_HOME; `lab down` at the end."""
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    home = tmp_path_factory.mktemp("lab-home")
    env = dict(os.environ, LAB_HOME=str(home), XDG_CACHE_HOME=str(xdg_cache_home))
    log = home.parent / f"{home.name}-up.log"
    with open(log, "w") as out:
        proc = subprocess.run(
            lab_command("up"),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=LAB_TIMEOUT,
            check=False,
        )
    if proc.returncode != 0 or not (home / "endpoints.json").is_file():
        down = subprocess.run(
            lab_command("down"), cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=LAB_TIMEOUT, check=False
        )
        signal.signal(signal.SIGTERM, previous)
        pytest.fail(f"`lab up` failed (rc {proc.returncode}, down rc {down.returncode}):\n{log.read_text()[-4000:]}")
    try:
        yield Lab(home, env)
    finally:
        subprocess.run(lab_command("down"), cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=LAB_TIMEOUT, check=False)
        signal.signal(signal.SIGTERM, previous)
