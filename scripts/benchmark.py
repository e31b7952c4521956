"""The fleet benchmark (run it through scripts/benchmark, which documents what it measures)."""

from __future__ import annotations

import collections
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import lab_requests  # scripts/lab_requests.py: the lab's request log (also used by scripts/demo)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LAB_INVENTORY = ROOT / "inventories" / "lab"
REGIONS = ("us1", "ie1", "au1")
SAMPLE_SECONDS = 0.05
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)"
)


# ---------------------------------------------------------------------------- memory
def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kib(pid)
        todo.extend(_children(pid))
    return total


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict:
    """Run cmd; wall time and the peak of its process tree's summed RSS."""
    peak = 0
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_kib(proc.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rc = proc.wait()
        done.set()
        sampler.join()
    wall = time.monotonic() - start
    recap = {}
    for line in log.read_text(errors="replace").splitlines():
        m = RECAP.match(line)
        if m:
            recap[m["host"]] = {k: int(m[k]) for k in ("ok", "changed", "failed", "skipped")}
    # Other work on the machine inflates wall times: the 1-minute load average says how much.
    load = round(os.getloadavg()[0], 2)
    return {"rc": rc, "wall_seconds": round(wall, 1), "peak_rss_mib": round(peak / 1024, 1), "load_1m_at_end": load, "recap": recap, "log": str(log)}


# ---------------------------------------------------------------------------- lab
class Lab:
    def __init__(self, home: Path, env: dict[str, str]):
        self.home, self.env = home, env

    def cli(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "lab", *args], env=self.env, cwd=ROOT, check=True, stdin=subprocess.DEVNULL, capture_output=True)

    def requests_since(self, cursor: dict[str, int]) -> dict[str, list[dict]]:
        return lab_requests.fetch(cursor, self.home)

    def mark(self) -> dict[str, int]:
        return lab_requests.mark(self.home)


def calls_per_site(entries: dict[str, list[dict]], sites: int) -> dict[str, float]:
    counts: collections.Counter = collections.Counter()
    for name, items in entries.items():
        for e in items:
            counts[f"{name} {e['method']}"] += 1
    return {key: round(n / sites, 2) for key, n in sorted(counts.items())}


# ---------------------------------------------------------------------------- inventory
def site_names(n: int) -> list[str]:
    return [f"bench-{i:03d}-{REGIONS[i % 3]}" for i in range(n)]


def write_inventory(directory: Path, names: list[str]) -> None:
    """N sites with the lab inventory's group_vars; the variants cycle (queue / ring group)."""
    shutil.copytree(LAB_INVENTORY / "group_vars", directory / "group_vars")
    groups: dict[str, dict] = {r: {"hosts": {}} for r in REGIONS}
    (directory / "host_vars").mkdir()
    for i, name in enumerate(names):
        groups[REGIONS[i % 3]]["hosts"][name] = {}
        ring_group = i % 2 == 1
        lines = [
            "---",
            f'threecx_fallback_did: "+1214555{i:04d}"',
            f'threecx_fallback_fallback_number: "+1214666{i:04d}"',
        ]
        if ring_group:
            lines += ["threecx_fallback_group_type: ring_group", 'threecx_fallback_group_number: "801"']
        (directory / "host_vars" / f"{name}.yml").write_text("\n".join(lines) + "\n")
    (directory / "hosts.yml").write_text(json.dumps({"all": {"children": groups}}, indent=1) + "\n")


FLOOR_PLAY = """- name: "Floor - as many trivial tasks per site as site.yml ran, on the controller"
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
{tasks}
"""


def write_floor_play(path: Path, tasks: int) -> None:
    body = "\n".join(f"    - name: Ping {i}\n      ansible.builtin.ping:" for i in range(tasks))
    path.write_text(FLOOR_PLAY.format(tasks=body))


# ---------------------------------------------------------------------------- main
def bench(n: int, work: Path) -> dict:
    home = work / f"lab-{n}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "THREECX_", "ANSIBLE_"))}
    env.update(
        LAB_HOME=str(home),
        XDG_CACHE_HOME=str(work / f"cache-{n}"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
        VOIP_FLEET_REPORT_DIR=str(work / f"report-{n}"),
        PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""),
    )
    lab = Lab(home, env)
    names = site_names(n)
    inventory = work / f"inventory-{n}"
    write_inventory(inventory, names)
    lab.cli("up")
    try:
        lab.cli("pbx", "add", *names)
        # The lab inventory finds endpoints.json through LAB_HOME; the repository's ansible.cfg
        # gives the collections path and the fleet report (cwd = repository).
        playbook = [str(BIN / "ansible-playbook"), "-i", str(inventory)]
        out = {"sites": n}
        for label in ("converge", "rerun"):
            mark = lab.mark()
            result = run_measured(playbook + ["site.yml"], env, ROOT, work / f"{label}-{n}.log")
            result["calls_per_site"] = calls_per_site(lab.requests_since(mark), n)
            out[label] = result
            print(f"N={n} {label}: rc={result['rc']} {result['wall_seconds']} s, peak {result['peak_rss_mib']} MiB", file=sys.stderr)
        tasks = max(sum(v[k] for k in ("ok", "skipped", "failed")) for v in out["converge"]["recap"].values())
        floor_play = work / f"floor-{n}.yml"
        write_floor_play(floor_play, tasks)
        out["floor"] = run_measured(playbook + [str(floor_play)], env, ROOT, work / f"floor-{n}.log")
        out["floor"]["tasks_per_site"] = tasks
        print(f"N={n} floor: {out['floor']['wall_seconds']} s, peak {out['floor']['peak_rss_mib']} MiB", file=sys.stderr)
        for run in ("converge", "rerun", "floor"):
            out[run].pop("recap")
        return out
    finally:
        lab.cli("down")


def forks() -> int:
    proc = subprocess.run([str(BIN / "ansible-config"), "dump", "--only-changed"], cwd=ROOT, capture_output=True, text=True, check=False)
    m = re.search(r"DEFAULT_FORKS\(.*\) = (\d+)", proc.stdout)
    return int(m.group(1)) if m else 5


def machine() -> dict:
    mem = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    import ansible.release

    return {
        "cpus": os.cpu_count(),
        "memory_mib": mem,
        "python": platform.python_version(),
        "ansible_core": ansible.release.__version__,
        "platform": platform.platform(),
        "forks": forks(),
    }


def markdown(results: dict) -> str:
    lines = [
        "| sites | run | wall (s) | ratio to floor | peak controller memory (MiB) | load (1 min) at end | API requests per site |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        floor = r["floor"]["wall_seconds"]
        for label in ("converge", "rerun", "floor"):
            run = r[label]
            ratio = f"{run['wall_seconds'] / floor:.1f}x" if label != "floor" and floor else "1.0x"
            calls = ", ".join(f"{k} {v:g}" for k, v in run.get("calls_per_site", {}).items()) or "-"
            name = label if label != "floor" else f"floor ({run['tasks_per_site']} pings per site)"
            lines.append(f"| {r['sites']} | {name} | {run['wall_seconds']} | {ratio} | {run['peak_rss_mib']} | {run['load_1m_at_end']} | {calls} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10, 50]
    out_dir = ROOT / ".build" / "benchmark"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voip-bench-") as tmp:
        work = Path(tmp)
        results = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": []}
        for n in sizes:
            results["runs"].append(bench(n, work))
            failed = [label for label in ("converge", "rerun", "floor") if results["runs"][-1][label]["rc"] != 0]
            if failed:
                for label in failed:
                    shutil.copy(results["runs"][-1][label]["log"], out_dir / f"{label}-{n}.log")
                print(f"N={n}: {', '.join(failed)} failed; logs in {out_dir}", file=sys.stderr)
                return 1
    for run in results["runs"]:
        for label in ("converge", "rerun", "floor"):
            run[label].pop("log", None)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    print(f"machine: {m['cpus']} CPUs, {m['memory_mib']} MiB, Python {m['python']}, ansible-core {m['ansible_core']}, forks {m['forks']}")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
