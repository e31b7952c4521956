"""What the lab's stand-ins received: `mark` prints the newest request numbers,
`since MARK` prints how many requests each stand-in got after MARK, by method.

Used by scripts/demo and scripts/benchmark (LAB_HOME selects the lab).
"""

from __future__ import annotations

import collections
import json
import os
import sys
from pathlib import Path

import requests


def endpoints(home: Path | None = None) -> dict:
    home = home or Path(os.environ.get("LAB_HOME") or Path(__file__).resolve().parents[1] / ".lab")
    return json.loads((home / "endpoints.json").read_text())


def fetch(since: dict[str, int], home: Path | None = None) -> dict[str, list[dict]]:
    """Each stand-in's requests after the cursor ``since`` (request numbers by stand-in)."""
    eps = endpoints(home)
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    out = {}
    for name in ("twilio", "threecx"):
        url = eps[name]["control_url"].rstrip("/") + "/requests"
        reply = session.get(url, params={"since": since.get(name, 0)}, verify=eps["ca_bundle"], timeout=60)
        reply.raise_for_status()
        body = reply.json()
        out[name] = body.get("requests", []) if isinstance(body, dict) else body
    return out


def newest(entries: list[dict], default: int) -> int:
    return max([int(e.get("seq", 0)) for e in entries] + [default])


def mark(home: Path | None = None) -> dict[str, int]:
    """The cursor after the newest request of each stand-in."""
    return {name: newest(entries, 0) for name, entries in fetch({}, home).items()}


def main(argv: list[str]) -> int:
    if argv[:1] == ["mark"]:
        print(json.dumps(mark(), separators=(",", ":")))
        return 0
    if len(argv) == 2 and argv[0] == "since":
        cursor = json.loads(argv[1])
        parts = []
        for name, entries in fetch(cursor).items():
            entries = [e for e in entries if int(e.get("seq", 0)) > cursor.get(name, 0)]
            by_method = collections.Counter(str(e.get("method")) for e in entries)
            methods = ", ".join(f"{m} {n}" for m, n in sorted(by_method.items())) or "none"
            parts.append(f"{name} {len(entries)} request(s) ({methods})")
        print("; ".join(parts))
        return 0
    sys.stderr.write("usage: lab_requests.py mark | since MARK\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
