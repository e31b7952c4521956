"""The shipped inventories: the lab fleet's variants and the documented example site.

The example inventory must decrypt with its example vault password and pass both roles'
``validate`` entry points (argument specs and cross-checks), and a broken variable must fail
there with a message that names it. The lab inventory must cover what the fleet tests rely on:
every region, a queue and a ring group, and each way Twilio admits a PBX.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.collection import collections_path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "inventories" / "example"
LAB = ROOT / "inventories" / "lab"
VAULT_PASSWORD = EXAMPLE / "example-vault-password.txt"

VALIDATE_PLAY = """
- name: Validate every site's variables for both roles
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Twilio side
      ansible.builtin.include_role:
        name: voip.threecx_twilio.twilio_sip_domain
        tasks_from: validate
    - name: 3CX side
      ansible.builtin.include_role:
        name: voip.threecx_twilio.threecx_fallback
        tasks_from: validate
"""


def ansible_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TWILIO_", "THREECX_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_NOCOLOR="1")
    return env


def run_validation(tmp_path, *extra):
    play = tmp_path / "validate.yml"
    play.write_text(VALIDATE_PLAY)
    cmd = [str(BIN / "ansible-playbook"), "-i", str(EXAMPLE), "--vault-password-file", str(VAULT_PASSWORD), str(play), *extra]
    # cwd: not the repository, whose ansible.cfg is for interactive runs.
    return subprocess.run(cmd, env=ansible_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def test_example_vault_files_are_encrypted():
    vaults = sorted(EXAMPLE.rglob("vault.yml"))
    assert [p.relative_to(EXAMPLE).as_posix() for p in vaults] == ["group_vars/all/vault.yml", "host_vars/acme-hq/vault.yml"]
    for path in vaults:
        assert path.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n"), path


def test_example_inventory_decrypts_and_resolves_secrets_by_name(tmp_path):
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(EXAMPLE), "--vault-password-file", str(VAULT_PASSWORD), "--host", "acme-hq"],
        env=ansible_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    hostvars = json.loads(out.stdout)
    assert hostvars["twilio_sip_domain_region"] == "us1"
    assert hostvars["vault_threecx_client_secret"].startswith("example-")
    assert set(hostvars["vault_twilio_api_keys"]) == {"us1", "ie1", "au1"}
    # Plain files only refer to the vaulted values by name.
    assert hostvars["threecx_fallback_client_secret"] == "{{ vault_threecx_client_secret }}"


def test_example_site_passes_both_roles_validation(tmp_path):
    result = run_validation(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "acme-hq" in result.stdout and "failed=0" in result.stdout


@pytest.mark.parametrize(
    "override, named",
    [
        ("threecx_fallback_did=4155550100x", "threecx_fallback_did"),
        ("twilio_sip_domain_pbx_public_ips=['2001:db8::1']", "twilio_sip_domain_pbx_public_ips"),
        ("threecx_fallback_group_type=hunt_group", "threecx_fallback_group_type"),
    ],
)
def test_a_bad_site_variable_fails_validation_naming_it(tmp_path, override, named):
    result = run_validation(tmp_path, "-e", override)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr


def test_lab_inventory_covers_the_fleet_variants():
    hosts = yaml.safe_load((LAB / "hosts.yml").read_text())["all"]["children"]
    regions = {name: sorted((group.get("hosts") or {})) for name, group in hosts.items()}
    assert all(regions[r] for r in ("us1", "ie1", "au1")), regions
    sites = [h for members in regions.values() for h in members]
    assert len(sites) == len(set(sites))
    common = yaml.safe_load((LAB / "group_vars" / "all.yml").read_text())
    variants = {"group": set(), "auth": set()}
    for site in sites:
        site_vars = dict(common, **yaml.safe_load((LAB / "host_vars" / f"{site}.yml").read_text()))
        variants["group"].add(site_vars.get("threecx_fallback_group_type", "queue"))
        variants["auth"].add(site_vars.get("twilio_sip_domain_auth_mode", "ip_acl"))
        # A site that authenticates by credentials must make its trunk send them.
        if site_vars.get("twilio_sip_domain_auth_mode", "ip_acl") != "ip_acl":
            assert site_vars.get("threecx_fallback_auth_mode") == "credentials", site
    assert variants == {"group": {"queue", "ring_group"}, "auth": {"ip_acl", "credentials", "both"}}
