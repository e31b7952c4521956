"""The integration tier: every target under tests/integration/targets/ played against the lab.

Targets use ansible-test's layout (``<name>/tasks/main.yml``, optional ``aliases``) so they stay
usable by ``ansible-test integration`` too; here each one runs as the only role of a generated
play, with ``ansible-playbook -vvvv --diff``:

- ANSIBLE_ROLES_PATH=tests/integration/targets, ANSIBLE_COLLECTIONS_PATH = the symlink tree of
  tests/support/collection.py (so the working tree is ``voip.threecx_twilio``);
- one extra var, ``lab_endpoints_file``: targets read it with
  ``lookup('file', lab_endpoints_file) | from_json``;
- the lab is reset (both stand-ins) before each target.

A target passes when ansible-playbook exits 0 and none of the lab's secrets (every
auth_token, api_secret and client_secret in endpoints.json) shows up in the -vvvv output, in
the stand-ins' request logs and state, or in any file of the user's cache dir (XDG_CACHE_HOME,
where the 3CX client caches its token). Targets whose aliases say ``disabled`` are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collection import REPO_ROOT, collections_path

TARGETS_DIR = REPO_ROOT / "tests" / "integration" / "targets"
PLAYBOOK_TIMEOUT = 900  # seconds per target
# Variables that would let a target pass on credentials from the caller's shell, not the lab's.
AMBIENT_PREFIXES = ("TWILIO_", "THREECX_", "ANSIBLE_")


def aliases_of(target: Path) -> list[str]:
    path = target / "aliases"
    if not path.is_file():
        return []
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines() if line.split("#", 1)[0].strip()]


def discover() -> list:
    params = []
    if TARGETS_DIR.is_dir():
        for target in sorted(p for p in TARGETS_DIR.iterdir() if p.is_dir()):
            if not (target / "tasks" / "main.yml").is_file():
                continue  # a helper role (setup_*, prepare_*) without tasks of its own is not a target
            marks = []
            if "disabled" in aliases_of(target):
                marks.append(pytest.mark.skip(reason=f"{target.name}: aliases say 'disabled'"))
            params.append(pytest.param(target.name, id=target.name, marks=marks))
    return params


def write_play(directory: Path, target: str) -> tuple[Path, Path]:
    play = directory / "play.yml"
    play.write_text(
        "---\n"
        f"- name: Integration target {target}\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  connection: local\n"
        "  roles:\n"
        f"    - {target}\n"
    )
    inventory = directory / "inventory.ini"
    # The modules run under the interpreter that runs the tests (it has twilio, requests, lxml).
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return play, inventory


def playbook_env(lab, run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in lab.env.items() if not k.startswith(AMBIENT_PREFIXES)}
    env.update(
        ANSIBLE_ROLES_PATH=str(TARGETS_DIR),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=str(run_dir / "ansible-tmp"),
        PYTHONUNBUFFERED="1",
    )
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def leaks(secrets: set[str], documents: dict[str, str]) -> list[str]:
    """Where the secrets show up: document, count, and the first line with its TASK header.

    Secrets are never printed, only how many and where.
    """
    found = []
    for where, text in documents.items():
        hits = sum(1 for secret in secrets if secret in text)
        if not hits:
            continue
        task, first = None, None
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith("TASK ["):
                task = line.rstrip(" *")
            if any(secret in line for secret in secrets):
                first = f"line {number}" + (f" under {task}" if task else "")
                break
        found.append(f"{where}: {hits} secret(s), first at {first}")
    return found


def cache_files(cache_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(cache_dir)): p.read_bytes() for p in sorted(cache_dir.rglob("*")) if p.is_file()}


def cache_documents(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, str]:
    """The cache files this target wrote (the cache lives for the session: an earlier target's
    leak is reported by that target, not again by every later one)."""
    return {f"cache file {name}": content.decode("utf-8", "replace") for name, content in after.items() if before.get(name) != content}


# Targets also played with the modules run as module processes (voip_threecx_twilio_in_process
# false), the way they run where the in-process runner does not apply: the same assertions
# must hold on both paths (warnings, check mode, diff, no_log, faults).
MODULE_PROCESS_TARGETS = ("threecx_queue", "twilio_credential_list")
IN_PROCESS_LINE = "runs in the controller's worker process"


def cases() -> list:
    params = []
    for param in discover():
        (target,) = param.values
        params.append(pytest.param(target, "in-process", id=target, marks=param.marks))
        if target in MODULE_PROCESS_TARGETS:
            params.append(pytest.param(target, "module-process", id=f"{target}-module-process", marks=param.marks))
    return params


@pytest.mark.lab
@pytest.mark.parametrize("target, path", cases())
def test_target(target, path, lab, xdg_cache_home, tmp_path):
    lab.reset()
    cache_before = cache_files(xdg_cache_home)
    play, inventory = write_play(tmp_path, target)
    output = tmp_path / "ansible-playbook.log"
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-vvvv",
        "--diff",
        "-i",
        str(inventory),
        str(play),
        "-e",
        f"lab_endpoints_file={lab.endpoints_file}",
    ]
    if path == "module-process":
        cmd += ["-e", "voip_threecx_twilio_in_process=false"]
    env = playbook_env(lab, tmp_path)
    # Ansible's own log (log_path) receives what the display shows, and the in-process modules
    # run where a library's logging would reach its handlers: it is searched for secrets too.
    ansible_log = tmp_path / "ansible.log"
    env["ANSIBLE_LOG_PATH"] = str(ansible_log)
    with open(output, "w") as out:
        proc = subprocess.run(
            cmd,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=PLAYBOOK_TIMEOUT,
            check=False,
        )
    text = output.read_text(errors="replace")
    tail = "\n".join(text.splitlines()[-80:])
    assert proc.returncode == 0, f"ansible-playbook exited {proc.returncode} (full output: {output}):\n{tail}"
    assert "PLAY RECAP" in text, f"no PLAY RECAP in the output ({output})"

    module_files = f"AnsiballZ_{target}.py"
    if path == "module-process":
        assert IN_PROCESS_LINE not in text and "runs as a module process: voip_threecx_twilio_in_process is false" in text
    else:
        assert IN_PROCESS_LINE in text and "runs as a module process" not in text
    # (the setup role's ansible.builtin tasks always run as module processes; the collection's do not)
    assert (module_files in text) == (path == "module-process") or target.startswith("role_"), f"{module_files} transferred: {path}"

    assert lab.secrets, "the lab's endpoints.json names no secret to look for"
    documents = {"ansible-playbook -vvvv output": text, "ansible log (log_path)": ansible_log.read_text(errors="replace")}
    documents.update(lab.control_documents())
    documents.update(cache_documents(cache_before, cache_files(xdg_cache_home)))
    found = leaks(lab.secrets, documents)
    assert not found, "lab secrets leaked: " + "; ".join(found)
