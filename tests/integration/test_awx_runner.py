"""The fleet playbook run the way AWX / Automation Controller runs a job: through ansible-runner.

AWX hands ansible-runner a *private data directory* and reads the job back from its
``artifacts/``. This test builds one as AWX would for a job template on this collection (see
docs/awx.md) and runs ``ansible_runner.run(private_data_dir=..., playbook='site.yml')``:

- ``project/``: a playbook repository: site.yml imports ``voip.threecx_twilio.site``; its
  ansible.cfg enables the fleet report callback (AWX runs ansible-playbook in the project
  directory; a custom credential type may not inject ANSIBLE_* variables);
- ``inventory/hosts`` + ``inventory/group_vars/ie1.yml`` (empty: the region is the credential's): ONE site on the root PBX,
  without any secret or connection setting (no account SID, key, PBX URL, client ID or CA);
- ``env/envvars``: the environment of a job with one "Twilio (voip.threecx_twilio)" and one
  "3CX v20 XAPI (voip.threecx_twilio)" credential, made by *rendering the injectors of
  extensions/awx/credential_types/*.yml* with the lab's values as AWX's
  ``CredentialType.inject_credential`` does: the ``file`` injectors write the CA bundle to a 0600
  file under ``env/`` named by ``tower.filename.<name>``, a boolean input left out is False, an
  optional input left out renders as "". Plus ANSIBLE_COLLECTIONS_PATH (AWX points it at the
  collections it installed from the project's collections/requirements.yml);
- ``env/extravars``: the job template's extra vars (``fleet_serial``, ``fleet_max_fail_percentage``).

Three jobs: "run" (the site is made in the lab), then "check" (``--check --diff``, a limit and a
survey answer ``fleet_serial: 100%`` as extra vars, as a check job template launched with a
limit prompt and a survey), which must succeed and predict no change without writing anything,
then "verify" (the project's verify.yml, with the survey answers that turn the go-live test call
on): every go-live item passes, and the PBX's test call is its only request that is not a read.
Like AWX (AWX_RUNNER_OMIT_ENV_FILES), each job's own envvars and cmdline stay in memory.

No secret (the lab's auth tokens, API secrets and client secrets, which include the injected
ones) may show up in the jobs' artifacts (stdout, job_events/*.json, status, rc...), the fleet
reports, the stand-ins' request logs and state, or the 3CX token cache. One exception is
ansible-runner's own design, not the collection's: ``artifacts/<ident>/command`` records the
whole process environment, so the injected credentials are in its ``env`` member (AWX keeps a
copy with the secret inputs masked as the job's ``job_env``, and deletes the private data
directory after the job: AWX_CLEANUP_PATHS). The test checks the rest of that file, and that its
``env`` holds secrets only under the injected credential variables.

ansible-runner starts ansible-playbook with a copy of os.environ: the caller's own TWILIO_*,
THREECX_*, ANSIBLE_*, VOIP_* and AWX_* variables are removed from it first.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.support.collection import REPO_ROOT, collections_path


CREDENTIAL_TYPES = REPO_ROOT / "extensions" / "awx" / "credential_types"
AMBIENT_PREFIXES = ("TWILIO_", "THREECX_", "ANSIBLE_", "VOIP_", "AWX_")
RUN_TIMEOUT = 300  # seconds per job (ansible-runner's own timeout)

SITE = "awx-site-a"
REGION = "ie1"
SIP_URI = f"{SITE}.sip.{REGION}.twilio.com"
TRUNK = "Twilio SIP Domain Trunk"
QUEUE = "800"
DID = "+12125550100"
FALLBACK_NUMBER = "+14155550199"
# The root PBX's Pbx.GetSystemParameters() reports StaticIp 127.0.0.1: its public address.
PBX_PUBLIC_IP = "127.0.0.1"

# The playbook repository's site.yml and ansible.cfg, as an AWX project holds them. AWX runs
# ansible-playbook in the project directory, so its ansible.cfg applies; it is where the fleet
# report callback is enabled (a custom credential type may not inject ANSIBLE_* variables).
PROJECT_SITE_YML = """\
---
# The fleet, converged by the collection's playbook (an AWX project's site.yml).
- name: Converge the fleet
  ansible.builtin.import_playbook: voip.threecx_twilio.site
"""
PROJECT_VERIFY_YML = """\
---
# The go-live checklist of the fleet (an AWX project's verify.yml).
- name: Check the fleet before go-live
  ansible.builtin.import_playbook: voip.threecx_twilio.verify
"""
PROJECT_ANSIBLE_CFG = """\
[defaults]
callbacks_enabled = voip.threecx_twilio.fleet_report
"""

# One site; nothing here is a secret or a connection setting (the credentials inject those).
INVENTORY_HOSTS = {
    "all": {
        "children": {
            REGION: {
                "hosts": {
                    SITE: {
                        "twilio_sip_domain_name": SITE,
                        "twilio_sip_domain_friendly_name": "AWX site A fallback",
                        "twilio_sip_domain_pbx_public_ips": [PBX_PUBLIC_IP],
                        "twilio_sip_domain_voice_url": "https://ivr.example.com/twilio/voice",
                        "threecx_fallback_did": DID,
                        "threecx_fallback_group_type": "queue",
                        "threecx_fallback_group_number": QUEUE,
                        "threecx_fallback_group_name": "Front desk",
                        "threecx_fallback_agents": ["100", "101"],
                        "threecx_fallback_fallback_number": FALLBACK_NUMBER,
                        # The voice URL is made up: the go-live check must not try to reach it.
                        "go_live_check_skip_handler_check": True,
                    }
                }
            }
        }
    }
}
# group_vars per region: empty on purpose. The region comes from the Twilio credential's
# TWILIO_REGION, which twilio_sip_domain_region defaults to.
GROUP_VARS = {REGION: {}}
EXTRA_VARS = {"fleet_serial": 5, "fleet_max_fail_percentage": 0}


# ---------------------------------------------------------------------- AWX's credential injection

def write_runner_env(env_dir: Path, injected: dict, base: Path) -> None:
    """ansible-runner's env/envvars (the injected credentials and the collection's path) and env/extravars, 0600."""
    envvars = dict(
        injected,
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(base / "ansible-tmp"),
        PYTHONUNBUFFERED="1",
    )
    (env_dir / "envvars").write_text(json.dumps(envvars))
    (env_dir / "extravars").write_text(json.dumps(EXTRA_VARS))
    for name in ("envvars", "extravars"):
        os.chmod(env_dir / name, stat.S_IRUSR | stat.S_IWUSR)


def render_injectors(type_name: str, inputs: dict, env_dir: Path) -> tuple[dict[str, str], set[str]]:
    """The environment AWX injects for one credential of extensions/awx/credential_types/<name>.yml.

    As AWX's CredentialType.inject_credential: the namespace holds the inputs that are set (a
    missing boolean is False, a missing string is undefined and renders as ""); each ``file``
    injector is rendered into a new 0600 file under env/ whose path is ``tower.filename.<name>``;
    then every ``env`` injector is rendered in an immutable sandbox. Returns the environment and
    the values of the inputs marked secret.
    """
    definition = yaml.safe_load((CREDENTIAL_TYPES / f"{type_name}.yml").read_text())
    sandbox = ImmutableSandboxedEnvironment()
    namespace: dict = {}
    secrets = set()
    for field in definition["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field.get("type") == "boolean":
            namespace[field["id"]] = bool(value)
        elif value:
            namespace[field["id"]] = value
            if field.get("secret"):
                secrets.add(value)
    unknown = set(inputs) - {f["id"] for f in definition["inputs"]["fields"]}
    assert not unknown, f"{type_name}: inputs the credential type does not have: {unknown}"
    tower = types.SimpleNamespace(filename=types.SimpleNamespace())
    for label, template in (definition["injectors"].get("file") or {}).items():
        fd, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(fd, "w") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            setattr(tower.filename, label.split(".", 1)[1], path)
        else:
            tower.filename = path
    namespace["tower"] = tower
    env = {name: sandbox.from_string(template).render(**namespace) for name, template in definition["injectors"]["env"].items()}
    return env, secrets


def twilio_credential_inputs(lab) -> dict:
    """The inputs of a Twilio credential for the lab's account of REGION, by API key."""
    account = lab.endpoints["twilio"]["accounts"][REGION]
    return {
        "account_sid": account["account_sid"],
        "api_key": account["api_key"],
        "api_secret": account["api_secret"],
        "region": REGION,
        "api_base_url": lab.endpoints["twilio_api_base_url"],
        "ca_bundle": Path(lab.ca_bundle).read_text(),
    }


def credentials_env(lab, env_dir: Path) -> tuple[dict[str, str], set[str]]:
    """One Twilio credential (the lab's IE1 account, by API key) and one 3CX credential (the root PBX)."""
    ca_pem = Path(lab.ca_bundle).read_text()
    twilio_env, twilio_secrets = render_injectors(
        "twilio",
        twilio_credential_inputs(lab),
        env_dir,
    )
    pbx = lab.endpoints["threecx"]
    threecx_env, threecx_secrets = render_injectors(
        "threecx",
        {"url": pbx["url"], "client_id": pbx["client_id"], "client_secret": pbx["client_secret"], "validate_certs": True, "ca_path": ca_pem},
        env_dir,
    )
    return {**twilio_env, **threecx_env}, twilio_secrets | threecx_secrets


# ---------------------------------------------------------------------- the private data directory
def private_data_dir(base: Path, lab) -> tuple[Path, dict[str, str], set[str]]:
    pdd = base / "private_data_dir"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "site.yml").write_text(PROJECT_SITE_YML)
    (pdd / "project" / "verify.yml").write_text(PROJECT_VERIFY_YML)
    (pdd / "project" / "ansible.cfg").write_text(PROJECT_ANSIBLE_CFG)
    (pdd / "inventory" / "group_vars").mkdir(parents=True)
    (pdd / "inventory" / "hosts").write_text("---\n" + yaml.safe_dump(INVENTORY_HOSTS, sort_keys=False))
    for group, variables in GROUP_VARS.items():
        (pdd / "inventory" / "group_vars" / f"{group}.yml").write_text("---\n" + yaml.safe_dump(variables))
    env_dir = pdd / "env"
    env_dir.mkdir(mode=0o700)
    injected, secrets = credentials_env(lab, env_dir)
    write_runner_env(env_dir, injected, base)
    return pdd, injected, secrets


def run_job(pdd: Path, ident: str, playbook: str = "site.yml", **kwargs):
    """One AWX job: ansible-runner's Python API, the report in the job's artifacts directory."""
    # Imported here: the compat tier collects tests/integration in a venv without ansible-runner
    # (and deselects this test there); in the main venv a missing ansible-runner fails the test.
    import ansible_runner

    report_dir = pdd / "artifacts" / ident / "fleet-report"
    started = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=str(pdd),
        playbook=playbook,
        ident=ident,
        envvars={"VOIP_FLEET_REPORT_DIR": str(report_dir)},
        # As AWX (AWX_RUNNER_OMIT_ENV_FILES): this job's envvars and cmdline stay in memory
        # instead of being added to env/; env/envvars and env/extravars are still read.
        suppress_env_files=True,
        quiet=True,
        timeout=RUN_TIMEOUT,
        **kwargs,
    )
    stdout = (pdd / "artifacts" / ident / "stdout").read_text(errors="replace")
    tail = "\n".join(stdout.splitlines()[-60:])
    assert runner.status == "successful", f"job {ident}: {runner.status}, rc {runner.rc} after {time.monotonic() - started:.0f} s:\n{tail}"
    assert runner.rc == 0, f"job {ident}: rc {runner.rc}:\n{tail}"
    # AWX builds the job output from the job events (it keeps no stdout file by default): the
    # fleet table must be in one of them.
    assert any("FLEET REPORT" in (event.get("stdout") or "") for event in runner.events), f"job {ident}: no fleet table in the job events:\n{tail}"
    report = json.loads((report_dir / "fleet-report.json").read_text())
    return runner, stdout, report


# ---------------------------------------------------------------------- the lab
def lab_get(lab, standin: str, what: str):
    with lab._session() as session:
        response = session.get(f"{lab.control_urls[standin]}/{what}", timeout=30)
        assert response.status_code == 200, f"GET {standin} /_lab/{what}: HTTP {response.status_code}"
        return response.json()


def last_seq(lab) -> dict[str, int]:
    return {name: max((entry["seq"] for entry in lab_get(lab, name, "requests")), default=0) for name in lab.control_urls}


def writes_since(lab, marks: dict[str, int]) -> list[str]:
    """Requests other than reads and 3CX token requests, on both stand-ins, since the marks."""
    found = []
    for name, seq in marks.items():
        for entry in lab_get(lab, name, f"requests?since={seq}"):
            if entry["method"] not in ("GET", "HEAD") and not entry["path"].endswith("/connect/token"):
                found.append(f"{name}: {entry['method']} {entry['path']}")
    return found


# ---------------------------------------------------------------------- leaks
def leaks(secrets: set[str], documents: dict[str, str]) -> list[str]:
    """Where secrets show up: document and count, never the secret."""
    return [f"{where}: {n} secret(s)" for where, text in documents.items() if (n := sum(1 for s in secrets if s in text))]


def artifact_documents(pdd: Path) -> dict[str, str]:
    """Every file under artifacts/ (job events, stdout, status, rc, fleet reports...); of each
    job's ``command`` file, everything but its ``env`` member (see the module docstring)."""
    docs = {}
    for path in sorted((pdd / "artifacts").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        where = str(path.relative_to(pdd))
        if path.name == "command" and path.parent.parent.name == "artifacts":
            command = json.loads(text)
            command.pop("env")
            text = json.dumps(command)
        docs[where] = text
    return docs


def command_env_leaks(pdd: Path, secrets: set[str], injected: dict[str, str]) -> list[str]:
    """Variables of the recorded job environment that hold a secret but are not an injected credential."""
    found = []
    for command in sorted((pdd / "artifacts").glob("*/command")):
        env = json.loads(command.read_text())["env"]
        for name, value in env.items():
            if name not in injected and any(secret in value for secret in secrets):
                found.append(f"{command.relative_to(pdd)}: env {name}")
    return found


def cache_files(cache_dir: Path) -> dict[str, str]:
    """The user's cache dir (the 3CX token cache), shared by the session's tests."""
    return {f"cache file {p.relative_to(cache_dir)}": p.read_text(errors="replace") for p in sorted(cache_dir.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------- the test
@pytest.mark.lab
def test_site_runs_as_an_awx_job_with_injected_credentials(lab, xdg_cache_home, tmp_path, monkeypatch):
    lab.reset()
    for name in list(os.environ):
        if name.startswith(AMBIENT_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg_cache_home))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))

    cache_before = cache_files(xdg_cache_home)
    pdd, injected, injected_secrets = private_data_dir(tmp_path, lab)
    assert injected["TWILIO_AUTH_TOKEN"] == "" and injected["TWILIO_CA_BUNDLE"] and injected["THREECX_CA_PATH"]
    assert injected["THREECX_VALIDATE_CERTS"] == "True"
    secrets = lab.secrets | injected_secrets
    assert injected_secrets and injected_secrets <= lab.secrets

    # The "run" job template.
    runner, stdout, report = run_job(pdd, "run")
    assert runner.stats["failures"] == {} and runner.stats["changed"].get(SITE), runner.stats
    [site] = report["sites"]
    assert (site["site"], site["status"], site["region"], site["sip_uri"]) == (SITE, "changed", REGION, SIP_URI), site
    assert report["check_mode"] is False

    # The lab now holds the site (its masked /_lab/state): in the credential's IE1 account the
    # SIP Domain, authenticated by the IP ACL with the PBX's address; on the root PBX the trunk
    # registered to the domain with the DID, the queue, the DID's route and the outbound rule.
    twilio = lab_get(lab, "twilio", "state")["regions"][REGION]["resources"]
    [domain] = [d for d in twilio["domains"] if d["domain_name"] == f"{SITE}.sip.twilio.com"]
    assert (domain["auth_type"], domain["voice_url"]) == ("IP_ACL", "https://ivr.example.com/twilio/voice"), domain
    assert [a["ip_address"] for a in twilio["ip_addresses"]] == [PBX_PUBLIC_IP]
    threecx = lab_get(lab, "threecx", "state")["collections"]
    [trunk] = [t for t in threecx["Trunks"] if t["Gateway"]["Name"] == TRUNK]
    assert (trunk["Gateway"]["Host"], trunk["DidNumbers"]) == (SIP_URI, [DID]), trunk["Gateway"]
    [queue] = [q for q in threecx["Queues"] if q["Number"] == QUEUE]
    assert queue["ForwardNoAnswer"]["External"] == FALLBACK_NUMBER
    assert [(r["Data"], r["OfficeHoursDestination"]["Number"]) for r in threecx["InboundRules"]] == [(DID, QUEUE)]
    assert [r["Prefix"] for r in threecx["OutboundRules"] if r["Routes"][0].get("TrunkName") == TRUNK] == [FALLBACK_NUMBER]

    # The "check" job template: --check --diff, launched with a limit. Nothing to change, nothing written.
    marks = last_seq(lab)
    runner, stdout, report = run_job(pdd, "check", cmdline="--check --diff", limit=SITE, extravars={"fleet_serial": "100%"})
    assert runner.stats["failures"] == {} and not any(runner.stats["changed"].values()), runner.stats
    [site] = report["sites"]
    assert (site["site"], site["status"], site["changed"]) == (SITE, "ok", 0), site
    assert report["check_mode"] is True
    assert "check mode" in stdout
    assert writes_since(lab, marks) == []

    # The "verify" job template: the go-live checklist, with the test call its survey turns on
    # (where the lab's SIP leg can place it). Every item passes; the test call is its one non-read.
    sip = lab.endpoints["sip"].get("available")
    marks = last_seq(lab)
    answers = {"go_live_check_test_call": bool(sip), "go_live_check_test_caller": "+17735550142"}
    runner, stdout, report = run_job(pdd, "verify", playbook="verify.yml", extravars=answers)
    [site] = report["sites"]
    items = 11 if sip else 10
    assert (site["site"], site["status"], site["go_live"]["summary"]) == (SITE, "ok", f"{items}/{items} ok"), site
    assert writes_since(lab, marks) == ([f"threecx: POST /xapi/v1/Trunks({trunk['Id']})/Pbx.TestOutboundCall"] if sip else [])

    # No secret anywhere AWX would keep or show.
    documents = artifact_documents(pdd)
    assert any("/job_events/" in where for where in documents) and any(where.endswith("/stdout") for where in documents)
    assert sum(where.endswith("fleet-report.json") or where.endswith("fleet-report.md") for where in documents) == 6
    documents.update(lab.control_documents())
    # The cache files this test wrote (an earlier test's leak is that test's to report).
    documents.update({k: v for k, v in cache_files(xdg_cache_home).items() if cache_before.get(k) != v})
    found = leaks(secrets, documents) + command_env_leaks(pdd, secrets, injected)
    assert not found, "secrets leaked: " + "; ".join(found)


# ---------------------------------------------------------------------- job slicing
SLICE_SITES = ("awx-slice-a", "awx-slice-b")


def sliced_private_data_dir(base: Path, lab) -> tuple[Path, set[str]]:
    """A project and an inventory of two sites, each on its own PBX, as a sliced job template has.

    A job template's credentials are the same for every slice, so the two PBXs' connections are
    host variables (what the Vault credential would decrypt); the Twilio credential is injected.
    """
    pdd = base / "sliced"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "site.yml").write_text(PROJECT_SITE_YML)
    (pdd / "project" / "ansible.cfg").write_text(PROJECT_ANSIBLE_CFG)
    pbxs = lab.endpoints["threecx"]["pbxs"]
    hosts = {}
    for index, name in enumerate(SLICE_SITES):
        host = dict(INVENTORY_HOSTS["all"]["children"][REGION]["hosts"][SITE])
        host.update(
            twilio_sip_domain_name=name,
            twilio_sip_domain_friendly_name=f"{name} fallback",
            twilio_sip_domain_pbx_public_ips=[pbxs[name]["public_ip"]],
            threecx_fallback_did=f"+1212555010{index + 1}",
            threecx_fallback_url=pbxs[name]["url"],
            threecx_fallback_client_id=pbxs[name]["client_id"],
            threecx_fallback_client_secret=pbxs[name]["client_secret"],
            threecx_fallback_ca_path=lab.ca_bundle,
        )
        hosts[name] = host
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text("---\n" + yaml.safe_dump({"all": {"children": {REGION: {"hosts": hosts}}}}, sort_keys=False))
    env_dir = pdd / "env"
    env_dir.mkdir(mode=0o700)
    injected, secrets = render_injectors(
        "twilio",
        twilio_credential_inputs(lab),
        env_dir,
    )
    write_runner_env(env_dir, injected, base)
    return pdd, secrets


@pytest.mark.lab
def test_site_runs_as_two_job_slices_whose_fleet_reports_merge_into_one(lab, xdg_cache_home, tmp_path, monkeypatch):
    """AWX job slicing: each slice is site.yml over a --limit partition of the inventory, with its own report."""
    import subprocess

    lab.reset()
    with lab._session() as session:
        reply = session.post(lab.control_urls["threecx"] + "/pbxs", json={"names": list(SLICE_SITES)}, timeout=60)
        assert reply.status_code == 200, reply.text
    lab.endpoints = json.loads(lab.endpoints_file.read_text())
    for name in list(os.environ):
        if name.startswith(AMBIENT_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg_cache_home))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    pdd, injected_secrets = sliced_private_data_dir(tmp_path, lab)

    reports = []
    for index, name in enumerate(SLICE_SITES):
        runner, _stdout, report = run_job(pdd, f"slice-{index + 1}", limit=name)
        assert runner.stats["failures"] == {} and [s["site"] for s in report["sites"]] == [name], report["sites"]
        reports.append(pdd / "artifacts" / f"slice-{index + 1}" / "fleet-report" / "fleet-report.json")

    merged_dir = tmp_path / "merged"
    env = dict(os.environ, PYTHONPATH=str(collections_path()))
    command = [sys.executable, "-m", "ansible_collections.voip.threecx_twilio.plugins.callback.fleet_report", "merge", str(merged_dir)]
    done = subprocess.run(command + [str(r) for r in reports], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((merged_dir / "fleet-report.json").read_text())
    assert [(s["site"], s["status"], s["sip_uri"]) for s in merged["sites"]] == [(n, "changed", f"{n}.sip.{REGION}.twilio.com") for n in SLICE_SITES]
    assert (merged["totals"], merged["slices"], merged["check_mode"]) == ({"changed": 2}, 2, False)
    assert all(name in (merged_dir / "fleet-report.md").read_text() for name in SLICE_SITES)
    documents = {str(p): p.read_text() for p in merged_dir.iterdir()}
    documents.update(artifact_documents(pdd))
    found = leaks(lab.secrets | injected_secrets, documents)
    assert not found, "secrets leaked: " + "; ".join(found)
