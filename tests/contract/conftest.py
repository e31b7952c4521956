"""Contract tier: the lab driven through the real clients, checked against the vendor documents.

The session starts its own lab in a temporary LAB_HOME (``lab up`` / ``lab
down``) unless LAB_ENDPOINTS names the endpoints.json of a running lab.
Every test starts from a reset lab and, unless it asks for the
``expect_violations`` fixture, must leave zero violations in both request logs.

Validation is never silently off: without the vendor documents the session stops at once with
the lab's message (non-zero exit) unless LAB_ALLOW_NO_SPEC=1, and the summary ends with a
``lab validation: on|OFF`` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lab import home as labhome  # noqa: E402 - needs ROOT on sys.path

# "lab validation: ..." for the summary, set by the lab fixture.
VALIDATION: dict[str, str] = {}


def _validation_line(state: dict[str, dict]) -> str:
    parts = []
    for which, validation in state.items():
        if validation.get("enabled"):
            parts.append(f"{which} on (sha256 {validation.get('sha256', '?')[:12]})")
        else:
            parts.append(f"{which} OFF ({validation.get('reason')})")
    off = any(not v.get("enabled") for v in state.values())
    head = f"lab validation: OFF ({labhome.ALLOW_NO_SPEC_ENV}=1)" if off else "lab validation: on"
    return head + ": " + ", ".join(parts)


def pytest_report_header(config):
    missing = labhome.missing_documents()
    if not missing:
        return f"lab validation: vendor documents in {labhome.shared_dir()}"
    return f"lab validation: documents missing ({'; '.join(missing)})"


def pytest_terminal_summary(terminalreporter):
    if VALIDATION.get("line"):
        terminalreporter.write_line(VALIDATION["line"])


def _require_documents() -> None:
    """Stop the session (non-zero exit) when validation would be off and nobody opted out."""
    missing = labhome.missing_documents()
    if missing and not labhome.allow_no_spec():
        pytest.exit(labhome.no_spec_message(missing), returncode=3)


def run_lab(args: list[str], home: Path, cache: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, LAB_HOME=str(home))
    if cache is not None:
        env["LAB_CACHE_DIR"] = str(cache)
    proc = subprocess.run([sys.executable, "-m", "lab", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Lab:
    def __init__(self, endpoints: dict, home: Path):
        self.eps = endpoints
        self.home = home
        self.ca = endpoints["ca_bundle"]
        self.http = requests.Session()
        # REQUESTS_CA_BUNDLE would silently override Session.verify.
        self.http.trust_env = False
        self.http.verify = self.ca
        self.twilio_url = endpoints["twilio_api_base_url"]
        self.threecx_url = endpoints["threecx_url"]

    def control(self, which: str, method: str, path: str, **kw) -> requests.Response:
        base = self.twilio_url if which == "twilio" else self.threecx_url
        return self.http.request(method, f"{base}/_lab/{path}", timeout=30, **kw)

    def requests_log(self, which: str, since: int = 0) -> list[dict]:
        resp = self.control(which, "GET", "requests", params={"since": since})
        resp.raise_for_status()
        return resp.json()

    def state(self, which: str) -> dict:
        return self.control(which, "GET", "state").json()

    def faults(self, which: str, *faults: dict) -> None:
        self.control(which, "POST", "faults", json={"faults": list(faults)}).raise_for_status()

    def secrets(self) -> list[str]:
        out = [self.eps["threecx"]["client_secret"]]
        for acct in self.eps["twilio"]["accounts"].values():
            out += [acct["auth_token"], acct["api_secret"]]
        return out


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    given = os.environ.get("LAB_ENDPOINTS")
    if given:
        path = Path(given)
        running = Lab(json.loads(path.read_text()), path.parent)
        _record_validation(running)
        yield running
        return
    _require_documents()
    home = tmp_path_factory.mktemp("labhome")
    cache = tmp_path_factory.getbasetemp() / "lab-doc-cache"
    run_lab(["up"], home, cache)
    try:
        started = Lab(json.loads((home / "endpoints.json").read_text()), home)
        _record_validation(started)
        yield started
    finally:
        run_lab(["down"], home, cache, check=False)


def _record_validation(lab: Lab) -> None:
    state = {which: lab.state(which)["validation"] for which in ("twilio", "threecx")}
    VALIDATION["line"] = _validation_line(state)
    off = [v.get("reason") or which for which, v in state.items() if not v.get("enabled")]
    if off and not labhome.allow_no_spec():
        # A running lab (LAB_ENDPOINTS) started with the opt-out: this session did not opt out.
        pytest.exit(labhome.no_spec_message(off), returncode=3)


@pytest.fixture(scope="session")
def lab_cli():
    return run_lab


@pytest.fixture(scope="session")
def doc_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "lab-doc-cache"


def _require_validation(lab: Lab, which: str) -> None:
    validation = lab.state(which)["validation"]
    if not validation["enabled"]:
        # Only with LAB_ALLOW_NO_SPEC=1 (otherwise the session has stopped already).
        pytest.skip(f"contract tests need the vendor document ({labhome.ALLOW_NO_SPEC_ENV}=1): {validation['reason']}")


class _Expect:
    def __init__(self):
        self.allowed = False


@pytest.fixture
def expect_violations(_violation_guard):
    """Use in tests that send invalid requests on purpose."""
    _violation_guard.allowed = True
    return _violation_guard


@pytest.fixture(autouse=True)
def _violation_guard(request, lab):
    guard = _Expect()
    for which in ("twilio", "threecx"):
        lab.control(which, "POST", "reset").raise_for_status()
    yield guard
    if guard.allowed:
        return
    bad = [e for which in ("twilio", "threecx") for e in lab.requests_log(which) if e["violations"]]
    assert bad == [], "requests or responses violated the vendor documents:\n" + json.dumps(bad, indent=1)


@pytest.fixture
def twilio_lab(lab) -> Lab:
    _require_validation(lab, "twilio")
    return lab


@pytest.fixture
def threecx_lab(lab) -> Lab:
    _require_validation(lab, "threecx")
    return lab


# ------------------------------------------------------------------ Twilio SDK


def twilio_http_client(base_url: str, ca_bundle: str):
    from twilio.http.http_client import TwilioHttpClient

    class LabHttpClient(TwilioHttpClient):
        """Sends the SDK's requests to the lab, saying which Twilio host they were for."""

        def __init__(self):
            super().__init__()
            self.lab = urlsplit(base_url)
            self.session.verify = ca_bundle
            self.session.trust_env = False

        def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
            parts = urlsplit(url)
            headers = dict(headers or {})
            headers["X-Forwarded-Host"] = parts.netloc
            url = urlunsplit((self.lab.scheme, self.lab.netloc, parts.path, parts.query, parts.fragment))
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=auth,
                timeout=timeout or 30,
                allow_redirects=allow_redirects,
            )

    return LabHttpClient()


EDGES = {"us1": None, "ie1": "dublin", "au1": "sydney"}


@pytest.fixture
def twilio_client(twilio_lab):
    from twilio.rest import Client

    def make(
        region: str = "us1",
        *,
        api_key: bool = True,
        account_region: str | None = None,
        account_sid: str | None = None,
        edge: str | None = "default",
        set_region: bool = True,
    ):
        acct = twilio_lab.eps["twilio"]["accounts"][account_region or region]
        user, password = (acct["api_key"], acct["api_secret"]) if api_key else (acct["account_sid"], acct["auth_token"])
        edge = EDGES[region] if edge == "default" else edge
        return Client(
            user,
            password,
            account_sid or acct["account_sid"],
            region=region if (set_region and (edge or region != "us1")) else None,
            edge=edge,
            http_client=twilio_http_client(twilio_lab.twilio_url, twilio_lab.ca),
            environment={"X": "1"},
        )

    return make


# ------------------------------------------------------------------ 3CX via requests


class ThreeCXClient:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.url = lab.threecx_url
        self.token: str | None = None

    def get_token(self, client_id: str | None = None, client_secret: str | None = None) -> requests.Response:
        cfg = self.lab.eps["threecx"]
        return self.lab.http.post(
            f"{self.url}/connect/token",
            timeout=30,
            data={
                "client_id": client_id or cfg["client_id"],
                "client_secret": client_secret or cfg["client_secret"],
                "grant_type": "client_credentials",
            },
        )

    def login(self) -> str:
        resp = self.get_token()
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]
        return self.token

    def call(self, method: str, path: str, token: str | None = "current", **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token == "current":
            token = self.token or self.login()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.lab.http.request(method, f"{self.url}/xapi/v1{path}", headers=headers, timeout=30, **kw)


@pytest.fixture
def cx(threecx_lab) -> ThreeCXClient:
    return ThreeCXClient(threecx_lab)
