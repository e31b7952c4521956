"""No secret leaks; the lab's command line."""

import json
import os
import stat

import pytest


def test_no_secret_in_logs_state_or_lab_log(lab, twilio_client, cx):
    issued = []
    for region in ("us1", "ie1", "au1"):
        for api_key in (True, False):
            twilio_client(region, api_key=api_key).applications.create(friendly_name=f"leak-{region}")
    issued.append(cx.login())
    cx.call("PATCH", "/E164Settings", json={"Enabled": False})
    issued.append(cx.login())
    bad = lab.http.post(
        f"{cx.url}/connect/token",
        data={"client_id": "x", "client_secret": "guess-" + issued[0][:6], "grant_type": "client_credentials"},
    )
    assert bad.status_code == 401
    secrets = lab.secrets() + issued
    texts = {
        "twilio requests": json.dumps(lab.requests_log("twilio")),
        "threecx requests": json.dumps(lab.requests_log("threecx")),
        "twilio state": json.dumps(lab.state("twilio")),
        "threecx state": json.dumps(lab.state("threecx")),
    }
    log_file = lab.home / "lab.log"
    if log_file.is_file():
        texts["lab.log"] = log_file.read_text(errors="replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
    assert "********" in texts["threecx requests"]


def test_endpoints_file(lab):
    eps = lab.eps
    assert set(eps) == {"twilio_api_base_url", "threecx_url", "ca_bundle", "twilio", "threecx", "sip"}
    assert set(eps["twilio"]["accounts"]) == {"us1", "ie1", "au1"}
    for acct in eps["twilio"]["accounts"].values():
        assert acct["account_sid"].startswith("AC") and acct["api_key"].startswith("SK")
    assert eps["threecx"]["url"] == eps["threecx_url"] and eps["threecx"]["control_url"].endswith("/_lab")
    assert os.path.isabs(eps["ca_bundle"])
    if not os.environ.get("LAB_ENDPOINTS"):
        mode = stat.S_IMODE((lab.home / "endpoints.json").stat().st_mode)
        assert mode == 0o600


def test_cli_lifecycle(tmp_path, doc_cache, lab_cli):
    run_lab = lab_cli
    if os.environ.get("LAB_ENDPOINTS"):
        pytest.skip("uses its own lab home")
    home = tmp_path / "home"
    assert run_lab(["status"], home, doc_cache, check=False).returncode != 0
    up = run_lab(["up", "--threecx-version", "20.0.8"], home, doc_cache)
    assert '"status": "up"' in up.stdout
    eps = json.loads((home / "endpoints.json").read_text())
    assert eps["threecx"]["version"] == "20.0.8"
    for secret in [eps["threecx"]["client_secret"]] + [a["auth_token"] for a in eps["twilio"]["accounts"].values()]:
        assert secret not in up.stdout
    pid = int((home / "lab.pid").read_text())
    again = run_lab(["up"], home, doc_cache)  # idempotent: same process
    assert f'"pid": {pid}' in again.stdout
    assert run_lab(["status"], home, doc_cache).returncode == 0
    run_lab(["down"], home, doc_cache)
    assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert not (home / "endpoints.json").exists()
    assert run_lab(["status"], home, doc_cache, check=False).returncode != 0
    assert run_lab(["down"], home, doc_cache).returncode == 0
