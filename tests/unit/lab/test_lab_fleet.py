"""Many 3CX PBXs on one lab server (one per site), below /pbx/<name>.

Most tests drive one lab process started with ``lab up --pbx site-a --pbx site-b`` in a
temporary LAB_HOME (so lab.log and endpoints.json are the real ones); the address pool is
checked in-process.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from lab import cli
from lab.spec import DocumentStatus
from lab.threecx import fleet as fleet_module
from lab.threecx.app import ThreeCX
from lab.threecx.fleet import IP_FIRST, IP_LAST, FleetFull, PbxFleet

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[3]
DESCRIPTOR_KEYS = {"url", "client_id", "client_secret", "version", "control_url", "public_ip", "variants"}


def run_lab(args: list[str], home: Path, cache: Path, check: bool = True) -> subprocess.CompletedProcess:
    # The unit tier tests the lab's machinery, with or without the vendor documents (its
    # validation tests skip without them); the contract and integration tiers insist on them.
    env = dict(os.environ, LAB_HOME=str(home), LAB_CACHE_DIR=str(cache), LAB_ALLOW_NO_SPEC="1")
    proc = subprocess.run(
        [sys.executable, "-m", "lab", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Fleet:
    """The lab of this module, seen from a client."""

    def __init__(self, home: Path, cache: Path):
        self.home = home
        self.cache = cache
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.verify = str(home / "ca.pem")

    @property
    def eps(self) -> dict:
        return json.loads((self.home / "endpoints.json").read_text())

    @property
    def root(self) -> dict:
        return self.eps["threecx"]

    def pbx(self, name: str) -> dict:
        return self.eps["threecx"]["pbxs"][name]

    def control(self, target: dict, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, f"{target['control_url']}/{path}", timeout=30, **kw)

    def create(self, *names: str, **body) -> dict:
        resp = self.control(self.root, "POST", "pbxs", json={"names": list(names), **body})
        assert resp.status_code == 200, resp.text
        return resp.json()["pbxs"]

    def token(self, target: dict, client_id: str | None = None, client_secret: str | None = None) -> requests.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id or target["client_id"],
            "client_secret": client_secret or target["client_secret"],
        }
        return self.http.post(target["url"] + "/connect/token", data=form, timeout=30)

    def login(self, target: dict) -> str:
        resp = self.token(target)
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def xapi(self, target: dict, method: str, path: str, token: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.request(method, f"{target['url']}/xapi/v1{path}", headers=headers, timeout=30, **kw)

    def log(self, target: dict, since: int = 0) -> list[dict]:
        resp = self.control(target, "GET", "requests", params={"since": since})
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="module")
def fleet_lab(tmp_path_factory) -> Fleet:
    home = tmp_path_factory.mktemp("fleethome")
    # The same cache directory as the contract tier's: the 3CX document is parsed once per run.
    cache = tmp_path_factory.getbasetemp() / "lab-doc-cache"
    run_lab(["up", "--pbx", "site-a", "--pbx", "site-b"], home, cache)
    try:
        yield Fleet(home, cache)
    finally:
        run_lab(["down"], home, cache, check=False)


@pytest.fixture
def lab(fleet_lab: Fleet) -> Fleet:
    fleet_lab.control(fleet_lab.root, "POST", "reset").raise_for_status()
    return fleet_lab


@pytest.fixture
def lab_cli(monkeypatch, capsys):
    """``lab <args>`` in this process (a subprocess spends a second importing): (exit code, stdout, stderr)."""

    def run(home: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("LAB_HOME", str(home))
        capsys.readouterr()
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_up_creates_the_pbxs_with_addresses_in_order(lab):
    pbxs = lab.root["pbxs"]
    assert list(pbxs)[:2] == ["site-a", "site-b"]
    a, b = pbxs["site-a"], pbxs["site-b"]
    assert set(a) == DESCRIPTOR_KEYS
    assert a["url"] == lab.root["url"] + "/pbx/site-a" and a["control_url"] == a["url"] + "/_lab"
    assert (a["public_ip"], b["public_ip"]) == ("127.0.0.11", "127.0.0.12")
    assert a["client_id"].startswith("lab-site-a") and a["client_id"] != b["client_id"] != lab.root["client_id"]
    assert len({a["client_secret"], b["client_secret"], lab.root["client_secret"]}) == 3
    assert a["version"] == lab.root["version"] == "20.0.10"


def test_creation_is_idempotent_and_returns_descriptors(lab):
    before = lab.pbx("site-a")
    first = lab.create("site-a", "idem-x", "idem-x", threecx_version="20.0.8")
    assert list(first) == ["site-a", "idem-x"]
    assert first["site-a"] == before, "an existing PBX is kept unchanged (version, credentials, address)"
    assert set(first["idem-x"]) == DESCRIPTOR_KEYS and first["idem-x"]["version"] == "20.0.8"
    again = lab.create("idem-x", threecx_version="20.0.10")
    assert again == {"idem-x": first["idem-x"]}
    listed = lab.control(lab.root, "GET", "pbxs").json()["pbxs"]
    assert listed["idem-x"] == first["idem-x"] and {"site-a", "site-b"} <= set(listed)
    ips = [p["public_ip"] for p in listed.values()]
    assert ips == [f"127.0.0.{IP_FIRST + i}" for i in range(len(ips))], "allocated in creation order"
    assert lab.create() == {}


@pytest.mark.parametrize(
    "body, words",
    [
        ({"names": ["Site_A"]}, "must match"),
        ({"names": ["-x"]}, "must match"),
        ({"names": ["x" * 64]}, "must match"),
        ({"names": [7]}, "must match"),
        ({"names": ["ok"], "threecx_version": "19.0.0"}, "threecx_version"),
        ({"names": "site-a"}, "body must be"),
        ({"names": ["ok"], "color": "red"}, "body must be"),
    ],
)
def test_creation_refuses_bad_requests(lab, body, words):
    resp = lab.control(lab.root, "POST", "pbxs", json=body)
    assert resp.status_code == 400 and words in resp.json()["error"]
    assert "ok" not in lab.control(lab.root, "GET", "pbxs").json()["pbxs"], "nothing is created"


def test_two_pbxs_are_independent(lab):
    a, b, root = lab.pbx("site-a"), lab.pbx("site-b"), lab.root
    ta, tb = lab.login(a), lab.login(b)
    assert lab.xapi(a, "POST", "/Queues", ta, json={"Name": "Only in A"}).status_code == 201
    assert [q["Name"] for q in lab.xapi(a, "GET", "/Queues", ta).json()["value"]] == ["Only in A"]
    assert lab.xapi(b, "GET", "/Queues", tb).json()["value"] == []
    assert lab.xapi(root, "GET", "/Queues", lab.login(root)).json()["value"] == []
    # A token (or the credentials) of one PBX is worth nothing at another.
    assert lab.xapi(b, "GET", "/Queues", ta).status_code == 401
    assert lab.xapi(root, "GET", "/Queues", ta).status_code == 401
    assert lab.token(b, a["client_id"], a["client_secret"]).status_code == 401
    assert lab.xapi(a, "GET", "/Queues", ta).status_code == 200, "b's and root's tokens did not revoke a's"
    # The token cool-down is per PBX too.
    lab.control(a, "POST", "reset", json={"token_rate_limit": {"max_requests": 1}}).raise_for_status()
    assert lab.token(a).status_code == 200 and lab.token(a).status_code == 403
    assert lab.token(b).status_code == 200 and lab.token(b).status_code == 200


def test_links_carry_the_prefix_and_system_parameters_the_address(lab):
    a = lab.pbx("site-a")
    token = lab.login(a)
    params = lab.xapi(a, "GET", "/Defs/Pbx.GetSystemParameters()", token).json()
    assert params["StaticIp"] == params["PbxExternalHost"] == a["public_ip"] == "127.0.0.11"
    assert params["@odata.context"].startswith(a["url"] + "/xapi/v1/$metadata#")
    users = lab.xapi(a, "GET", "/Users", token).json()
    assert users["@odata.context"] == a["url"] + "/xapi/v1/$metadata#Users"
    root_params = lab.xapi(lab.root, "GET", "/Defs/Pbx.GetSystemParameters()", lab.login(lab.root)).json()
    assert root_params["StaticIp"] == "127.0.0.1"
    assert root_params["@odata.context"].startswith(lab.root["url"] + "/xapi/v1/$metadata#")


def test_root_reset_resets_every_pbx_but_keeps_credentials(lab):
    a = lab.pbx("site-a")
    token = lab.login(a)
    lab.xapi(a, "POST", "/Queues", token, json={"Name": "Gone after reset"}).raise_for_status()
    lab.control(a, "POST", "faults", json={"faults": [{"path": "Users", "action": {"kind": "drop"}}]})
    assert lab.log(a)
    state = lab.control(lab.root, "POST", "reset", json={"threecx_version": "20.0.8"}).json()
    assert state["pbxs"]["site-a"]["version"] == "20.0.8", "same options for every PBX"
    assert lab.control(a, "GET", "faults").json() == {"faults": []} and lab.log(a) == []
    assert lab.xapi(a, "GET", "/Queues", token).status_code == 401, "issued tokens are dropped"
    token = lab.login(a)  # the same credentials still work
    assert lab.xapi(a, "GET", "/Queues", token).json()["value"] == []
    lab.control(lab.root, "POST", "reset").raise_for_status()
    a_state = lab.control(a, "GET", "state").json()
    assert a_state["version"] == "20.0.10", "a reset without a version goes back to the PBX's own"
    assert lab.pbx("site-a") == a and a_state["client_id"] == a["client_id"]


def test_request_log_at_the_root_includes_every_pbx(lab):
    a, b, root = lab.pbx("site-a"), lab.pbx("site-b"), lab.root
    start = lab.log(root)[-1]["seq"] if lab.log(root) else 0
    lab.login(root)
    lab.xapi(a, "GET", "/E164Settings", lab.login(a))
    lab.login(b)
    merged = lab.log(root, start)
    assert [(e.get("pbx"), e["path"]) for e in merged] == [
        (None, "/connect/token"),
        ("site-a", "/pbx/site-a/connect/token"),
        ("site-a", "/pbx/site-a/xapi/v1/E164Settings"),
        ("site-b", "/pbx/site-b/connect/token"),
    ]
    assert "pbx" not in merged[0], "root entries keep their shape"
    seqs = [e["seq"] for e in merged]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "one sequence for all PBXs"
    own = lab.log(a, start)
    assert [e["seq"] for e in own] == seqs[1:3] and all(e["pbx"] == "site-a" for e in own)
    assert lab.log(root, seqs[2]) == merged[3:], "a since cursor from the merged log"
    assert merged[1]["body"]["client_secret"] == "********"


def test_per_pbx_control_endpoints(lab):
    a, b, root = lab.pbx("site-a"), lab.pbx("site-b"), lab.root
    state = lab.control(a, "GET", "state").json()
    assert state["client_secret"] == "********" and state["client_id"] == a["client_id"]
    assert state["validation"] == lab.control(root, "GET", "state").json()["validation"], "one shared validator"
    assert "pbxs" not in state, "only the root summarises the fleet"
    # Faults: a PBX's own, matched against its paths without the prefix.
    fault = {"method": "GET", "path": "^/xapi/v1/E164Settings$", "action": {"kind": "status", "status": 503}}
    assert lab.control(a, "POST", "faults", json={"faults": [fault]}).status_code == 200
    ta, tb, tr = lab.login(a), lab.login(b), lab.login(root)
    assert lab.xapi(b, "GET", "/E164Settings", tb).status_code == 200
    assert lab.xapi(root, "GET", "/E164Settings", tr).status_code == 200
    assert lab.xapi(a, "GET", "/E164Settings", ta).status_code == 503
    assert lab.log(a)[-1]["fault"] == "status"
    # A root fault stays at the root.
    lab.control(root, "POST", "faults", json={"faults": [fault]}).raise_for_status()
    assert lab.xapi(a, "GET", "/E164Settings", ta).status_code == 200
    assert lab.xapi(root, "GET", "/E164Settings", tr).status_code == 503
    # Tokens and extensions.
    assert lab.control(a, "POST", "tokens/expire").json() == {"expired": 1}
    assert lab.xapi(a, "GET", "/Users", ta).status_code == 401
    assert lab.xapi(b, "GET", "/Users", tb).status_code == 200
    assert lab.control(a, "POST", "tokens/revoke").json() == {"revoked": 1}
    assert lab.control(a, "POST", "tokens/cooldown/clear").status_code == 200
    ext = lab.control(a, "POST", "extensions", json={"extensions": [{"Number": "150", "FirstName": "Site"}]})
    assert ext.status_code == 200
    ta = lab.login(a)

    def numbers(pbx, tok):
        return {u["Number"] for u in lab.xapi(pbx, "GET", "/Users", tok).json()["value"]}

    assert "150" in numbers(a, ta) and "150" not in numbers(b, tb)
    # A reset of one PBX leaves the others alone.
    lab.xapi(b, "POST", "/Queues", tb, json={"Name": "B keeps me"}).raise_for_status()
    lab.control(a, "POST", "reset").raise_for_status()
    assert lab.xapi(b, "GET", "/Queues", tb).json()["value"][0]["Name"] == "B keeps me"
    assert lab.control(a, "GET", "pbxs").status_code == 404, "/_lab/pbxs is the root's"


def test_unknown_pbx_is_a_404(lab):
    resp = lab.http.get(lab.root["url"] + "/pbx/no-such-site/xapi/v1/Users", timeout=30)
    assert resp.status_code == 404 and "no-such-site" in resp.json()["error"]["message"]
    ctl = lab.http.get(lab.root["url"] + "/pbx/no-such-site/_lab/state", timeout=30)
    assert ctl.status_code == 404 and "POST /_lab/pbxs" in ctl.json()["error"]


def test_root_state_summarises_the_fleet(lab):
    a = lab.pbx("site-a")
    lab.xapi(a, "POST", "/Queues", lab.login(a), json={"Name": "Counted"}).raise_for_status()
    summary = lab.control(lab.root, "GET", "state").json()["pbxs"]
    assert summary["site-a"]["public_ip"] == "127.0.0.11" and summary["site-a"]["entities"]["Queues"] == 1
    assert summary["site-b"]["entities"]["Queues"] == 0 and summary["site-a"]["version"] == "20.0.10"


def test_endpoints_file_lists_the_pbxs(lab):
    lab.create("from-control")
    eps = lab.eps
    assert eps["threecx"]["pbxs"]["from-control"] == lab.control(lab.root, "GET", "pbxs").json()["pbxs"]["from-control"]
    assert stat.S_IMODE((lab.home / "endpoints.json").stat().st_mode) == 0o600
    assert eps["threecx_url"] == eps["threecx"]["url"], "the root PBX is where it was"


def test_validation_applies_to_named_pbxs(lab):
    if not lab.control(lab.root, "GET", "state").json()["validation"]["enabled"]:
        pytest.skip("needs the 3CX document")
    answers = []
    for target in (lab.root, lab.pbx("site-a")):
        resp = lab.xapi(target, "PATCH", "/E164Settings", lab.login(target), json={"Enabled": "yes"})
        answers.append((resp.status_code, resp.json()))
        assert lab.log(target)[-1]["violations"]
    assert answers[0] == answers[1] and answers[0][0] == 500
    assert answers[0][1]["error"]["code"] == "LabContractViolation"
    a = lab.pbx("site-a")
    resp = lab.xapi(a, "GET", "/NoSuchThing", lab.login(a))
    assert resp.status_code == 500 and "NoSuchThing" in resp.json()["error"]["message"]
    assert lab.xapi(a, "GET", "/Parameters", lab.login(a)).status_code == 501, "the document knows the path"


def test_secrets_of_named_pbxs_stay_out_of_logs_and_state(lab, lab_cli):
    a, b = lab.pbx("site-a"), lab.pbx("site-b")
    issued = [lab.login(a), lab.login(b)]
    trunk = lab.xapi(a, "GET", "/Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')", issued[0]).json()
    trunk.pop("@odata.context")
    trunk["Gateway"]["Host"] = "site-a.sip.us1.twilio.com"
    trunk["AuthPassword"] = {"Value": "fleet-trunk-Secret-42"}
    assert lab.xapi(a, "POST", "/Trunks", issued[0], json=trunk).status_code == 201
    assert lab.token(b, b["client_id"], "guess-" + a["client_secret"]).status_code == 401
    secrets = [a["client_secret"], b["client_secret"], "fleet-trunk-Secret-42", *issued]
    texts = {
        "root requests": json.dumps(lab.log(lab.root)),
        "root state": json.dumps(lab.control(lab.root, "GET", "state").json()),
        "site-a state": json.dumps(lab.control(a, "GET", "state").json()),
        "site-a requests": json.dumps(lab.log(a)),
        "lab.log": (lab.home / "lab.log").read_text(errors="replace"),
        "lab pbx list": lab_cli(lab.home, "pbx", "list")[1],
    }
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret of a named PBX leaked into {where}"
    assert "/pbx/site-a/xapi/v1/Trunks" in texts["lab.log"]


def test_many_pbxs_concurrently(lab):
    names = [f"bench-{i:02d}" for i in range(12)]
    pbxs = lab.create(*names)
    start = lab.log(lab.root)[-1]["seq"] if lab.log(lab.root) else 0

    def drive(name: str) -> list[int]:
        d = pbxs[name]
        http = requests.Session()
        http.trust_env = False
        http.verify = lab.http.verify
        form = {"grant_type": "client_credentials", "client_id": d["client_id"], "client_secret": d["client_secret"]}
        token = http.post(d["url"] + "/connect/token", data=form, timeout=30).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        out = [http.post(d["url"] + "/xapi/v1/Queues", json={"Name": name}, headers=auth, timeout=30).status_code]
        for _attempt in range(3):
            out.append(http.get(d["url"] + "/xapi/v1/Queues", headers=auth, timeout=30).status_code)
        return out

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = dict(zip(names, pool.map(drive, names)))
    assert all(codes == [201, 200, 200, 200] for codes in results.values()), results
    merged = lab.log(lab.root, start)
    assert len(merged) == len(names) * 5 and not [e for e in merged if e["violations"]]
    seqs = [e["seq"] for e in merged]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no gap, no duplicate, in order"
    for name in names[:3]:
        assert {e["pbx"] for e in lab.log(pbxs[name])} == {name}


def test_cli_pbx_add_and_list(lab, lab_cli):
    code, out, _err = lab_cli(lab.home, "pbx", "add", "cli-one", "cli-two", "--threecx-version", "20.0.9")
    shown = json.loads(out)["pbxs"]
    assert code == 0 and list(shown) == ["cli-one", "cli-two"]
    assert shown["cli-one"]["client_secret"] == "********" and shown["cli-one"]["version"] == "20.0.9"
    real = lab.pbx("cli-one")
    assert real["client_secret"] not in out and shown["cli-one"]["client_id"] == real["client_id"]
    code, out, _err = lab_cli(lab.home, "pbx", "list")
    listed = json.loads(out)["pbxs"]
    assert code == 0 and {"site-a", "site-b", "cli-one", "cli-two"} <= set(listed)
    assert all(p["client_secret"] == "********" for p in listed.values())
    # "lab up --pbx" on the running lab adds what it lacks and prints the status.
    code, out, _err = lab_cli(lab.home, "up", "--pbx", "cli-three")
    assert code == 0 and '"cli-three"' in out and real["client_secret"] not in out
    assert lab.pbx("cli-three")["version"] == "20.0.10", "the lab's own version by default"
    code, _out, err = lab_cli(lab.home, "pbx", "add", "Not_OK")
    assert code == 2 and "must match" in err
    code, _out, err = lab_cli(lab.home, "pbx", "add", "ok", "--threecx-version", "19.0.0")
    assert code == 2 and "invalid choice" in err


def test_cli_pbx_when_the_lab_is_down(tmp_path, lab_cli):
    for args in (["pbx", "list"], ["pbx", "add", "site-a"]):
        code, out, err = lab_cli(tmp_path / "nohome", *args)
        assert code == 1 and out == "" and "lab is down" in err and "lab up" in err


# ------------------------------------------------------------------ in-process


def test_address_pool_is_sequential_and_runs_out_clearly(monkeypatch):
    assert (IP_FIRST, IP_LAST) == (11, 254)
    monkeypatch.setattr(fleet_module, "IP_LAST", 16)  # 6 addresses: creating 244 PBXs takes a second
    root = ThreeCX(None, DocumentStatus(False, "none"), client_id="lab1", client_secret="s3cret")
    fleet = PbxFleet(root, base_url="https://127.0.0.1:1")
    fleet.create([f"p{i}" for i in range(5)])
    assert fleet.descriptor("p0")["public_ip"] == "127.0.0.11" and fleet.descriptor("p1")["public_ip"] == "127.0.0.12"
    assert fleet.descriptor("p0")["url"] == "https://127.0.0.1:1/pbx/p0"
    with pytest.raises(FleetFull, match=r"only 1 of the lab's public IPs 127\.0\.0\.11-127\.0\.0\.16 are left"):
        fleet.create(["last", "one-too-many"])
    assert fleet.get("last") is None, "all or nothing"
    assert fleet.create(["last", "p0"]) == ["last"]
    assert fleet.descriptor("last")["public_ip"] == "127.0.0.16"
    assert fleet.create(["p4"]) == [], "existing names need no address"
    with pytest.raises(FleetFull):
        fleet.create(["one-too-many"])
    # Every PBX shares the root's validator (no parse per PBX) and has its own state.
    assert fleet.get("p3").validator is root.validator and fleet.get("p3").pbx is not root.pbx
