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
PAIRS = 3
# The benchmark's task counter (scripts/benchmark_plugins/task_counter.py).
COUNTER = ROOT / "scripts" / "benchmark_plugins"


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
    """Run cmd; wall time, CPU seconds of its whole process tree, and the peak of its summed RSS.

    The CPU time is what os.wait4 reports for the process and every descendant it waited for
    (Ansible's workers and the module processes they ran); the lab is no descendant.
    """
    peak = 0
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_kib(proc.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    wall = time.monotonic() - start
    # Other work on the machine inflates wall times: the 1-minute load average says how much.
    load = round(os.getloadavg()[0], 2)
    return {
        "rc": proc.returncode,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(peak / 1024, 1),
        "load_1m_at_end": load,
        "log": str(log),
    }


# ---------------------------------------------------------------------------- lab
class Lab:
    def __init__(self, home: Path, env: dict[str, str]):
        self.home, self.env = home, env

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "lab", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )

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
            lines += [
                "threecx_fallback_group_type: ring_group",
                'threecx_fallback_group_number: "801"',
            ]
        (directory / "host_vars" / f"{name}.yml").write_text("\n".join(lines) + "\n")
    (directory / "hosts.yml").write_text(json.dumps({"all": {"children": groups}}, indent=1) + "\n")


FLOOR_PLAY = """- name: "Floor - one ansible.builtin.ping per API task that site.yml ran, on the controller ({pings} per site)"
  hosts: {hosts}
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
{tasks}
"""


def write_floor_play(path: Path, api_tasks: dict[str, int]) -> None:
    """One play per distinct API task count, over the hosts that ran that many."""
    by_count: dict[int, list[str]] = collections.defaultdict(list)
    for host, count in sorted(api_tasks.items()):
        by_count[count].append(host)
    plays = []
    for count, hosts in sorted(by_count.items()):
        body = "\n".join(f"    - name: Ping {i}\n      ansible.builtin.ping:" for i in range(count))
        plays.append(FLOOR_PLAY.format(pings=count, hosts=":".join(hosts), tasks=body))
    path.write_text("---\n" + "\n".join(plays))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# ---------------------------------------------------------------------------- main
def bench(n: int, work: Path, pairs: int) -> dict:
    home = work / f"lab-{n}"
    counts_file = work / f"counts-{n}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "THREECX_", "ANSIBLE_"))}
    env.update(
        LAB_HOME=str(home),
        XDG_CACHE_HOME=str(work / f"cache-{n}"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
        VOIP_FLEET_REPORT_DIR=str(work / f"report-{n}"),
        ANSIBLE_CALLBACK_PLUGINS=str(COUNTER),
        ANSIBLE_CALLBACKS_ENABLED="voip.threecx_twilio.fleet_report,task_counter",
        VOIP_TASK_COUNT_FILE=str(counts_file),
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
        # gives the collections path (cwd = repository).
        playbook = [str(BIN / "ansible-playbook"), "-i", str(inventory)]
        out: dict = {"sites": n}
        mark = lab.mark()
        converge = run_measured(playbook + ["site.yml"], env, ROOT, work / f"converge-{n}.log")
        converge["calls_per_site"] = calls_per_site(lab.requests_since(mark), n)
        out["converge"] = converge
        print(
            f"N={n} converge: rc={converge['rc']} {converge['wall_seconds']} s, {converge['cpu_seconds']} CPU s",
            file=sys.stderr,
        )
        if converge["rc"] != 0:
            return out
        # A no-change site.yml (A) and its floor (B), in turn: A B A B ... so that a change of
        # the machine's load falls on both alike.
        floor_play = work / f"floor-{n}.yml"
        out["pairs"] = []
        for i in range(pairs):
            mark = lab.mark()
            rerun = run_measured(playbook + ["site.yml"], env, ROOT, work / f"rerun-{n}-{i}.log")
            rerun["calls_per_site"] = calls_per_site(lab.requests_since(mark), n)
            counts = json.loads(counts_file.read_text())
            rerun["tasks_per_site"] = max(c["tasks"] for c in counts.values())
            rerun["api_tasks_per_site"] = max(c["api_tasks"] for c in counts.values())
            rerun["controller_tasks_per_site"] = max(c["tasks"] - c["api_tasks"] for c in counts.values())
            if i == 0:
                write_floor_play(floor_play, dict((h, c["api_tasks"]) for h, c in counts.items()))
            floor = run_measured(playbook + [str(floor_play)], env, ROOT, work / f"floor-{n}-{i}.log")
            pair = {
                "rerun": rerun,
                "floor": floor,
                "cpu_ratio": (round(rerun["cpu_seconds"] / floor["cpu_seconds"], 3) if floor["cpu_seconds"] else None),
                "wall_ratio": (round(rerun["wall_seconds"] / floor["wall_seconds"], 3) if floor["wall_seconds"] else None),
            }
            out["pairs"].append(pair)
            print(
                f"N={n} pair {i + 1}: rerun {rerun['cpu_seconds']} CPU s / {rerun['wall_seconds']} s, floor {floor['cpu_seconds']} CPU s / "
                f"{floor['wall_seconds']} s, CPU ratio {pair['cpu_ratio']}",
                file=sys.stderr,
            )
            if rerun["rc"] != 0 or floor["rc"] != 0:
                break
        out["median_cpu_ratio"] = round(median([p["cpu_ratio"] for p in out["pairs"]]), 3)
        out["median_wall_ratio"] = round(median([p["wall_ratio"] for p in out["pairs"]]), 3)
        return out
    finally:
        lab.cli("down")


def forks() -> int:
    proc = subprocess.run(
        [str(BIN / "ansible-config"), "dump", "--only-changed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
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
        "| sites | run | CPU (s) | wall (s) | CPU ratio | wall ratio | tasks per site (API / controller only) "
        "| peak memory (MiB) | load at end | API requests per site |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        c = r["converge"]
        calls = ", ".join(f"{k} {v:g}" for k, v in c.get("calls_per_site", {}).items()) or "-"
        lines.append(f"| {r['sites']} | converge | {c['cpu_seconds']} | {c['wall_seconds']} | | | | {c['peak_rss_mib']} | {c['load_1m_at_end']} | {calls} |")
        for i, p in enumerate(r.get("pairs", []), 1):
            a, b = p["rerun"], p["floor"]
            calls = ", ".join(f"{k} {v:g}" for k, v in a.get("calls_per_site", {}).items()) or "-"
            tasks = f"{a['tasks_per_site']} ({a['api_tasks_per_site']} / {a['controller_tasks_per_site']})"
            lines.append(
                f"| {r['sites']} | no-change {i} | {a['cpu_seconds']} | {a['wall_seconds']} | {p['cpu_ratio']} | {p['wall_ratio']} | {tasks} | "
                f"{a['peak_rss_mib']} | {a['load_1m_at_end']} | {calls} |"
            )
            lines.append(
                f"| {r['sites']} | floor {i} | {b['cpu_seconds']} | {b['wall_seconds']} | | | {a['api_tasks_per_site']} pings "
                f"| {b['peak_rss_mib']} | {b['load_1m_at_end']} | - |"
            )
        if r.get("pairs"):
            lines.append(f"| {r['sites']} | **median** | | | **{r['median_cpu_ratio']}** | **{r['median_wall_ratio']}** | | | | |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    pairs = PAIRS
    if argv and argv[0].startswith("--pairs="):
        pairs = int(argv.pop(0).split("=", 1)[1])
    sizes = [int(a) for a in argv] or [5, 10, 50]
    out_dir = ROOT / ".build" / "benchmark"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voip-bench-") as tmp:
        work = Path(tmp)
        results = {
            "machine": machine(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "runs": [],
        }
        for n in sizes:
            run = bench(n, work, pairs)
            results["runs"].append(run)
            logs = [run["converge"]] + [x for p in run.get("pairs", []) for x in (p["rerun"], p["floor"])]
            failed = [x for x in logs if x["rc"] != 0]
            for x in failed:
                shutil.copy(x["log"], out_dir / Path(x["log"]).name)
            for x in logs:
                x.pop("log", None)
            if failed:
                print(
                    f"N={n}: {len(failed)} run(s) failed; logs in {out_dir}",
                    file=sys.stderr,
                )
                return 1
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    print(f"machine: {m['cpus']} CPUs, {m['memory_mib']} MiB, Python {m['python']}, ansible-core {m['ansible_core']}, forks {m['forks']}")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
