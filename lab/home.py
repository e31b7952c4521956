"""Where the lab keeps its files and finds the vendor documents."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

TWILIO_DOC = Path("twilio-oai") / "twilio_api_v2010.json"
THREECX_DOC = Path("3cx-xapi") / "swagger.yaml"


def lab_home() -> Path:
    env = os.environ.get("LAB_HOME")
    return Path(env).resolve() if env else REPO_ROOT / ".lab"


def shared_dir() -> Path:
    env = os.environ.get("LAB_SHARED_DIR")
    return Path(env).resolve() if env else (REPO_ROOT.parent / "shared").resolve()


# Validation is never silently off: without the vendor documents the lab refuses to start
# (and the contract tier fails) unless this variable is "1".
ALLOW_NO_SPEC_ENV = "LAB_ALLOW_NO_SPEC"

DOCUMENTS = (("Twilio REST API v2010", TWILIO_DOC), ("3CX XAPI", THREECX_DOC))


def allow_no_spec() -> bool:
    return os.environ.get(ALLOW_NO_SPEC_ENV, "") == "1"


def missing_documents(shared: Path | None = None) -> list[str]:
    """One sentence per vendor document that is not a readable file (empty: both are there)."""
    shared = shared_dir() if shared is None else shared
    out = []
    for name, rel in DOCUMENTS:
        path = shared / rel
        if not path.is_file() or not os.access(path, os.R_OK):
            out.append(f"{name} document not found at {path}")
    return out


def no_spec_message(reasons: list[str]) -> str:
    """What the lab and the test tiers say when a document is missing and no opt-out is set."""
    return (
        "lab validation would be OFF: "
        + "; ".join(reasons)
        + ". The lab checks every request and response against the vendors' OpenAPI documents and does"
        f" not run without them: put twilio-oai/{TWILIO_DOC.name} and 3cx-xapi/{THREECX_DOC.name} in"
        f" {shared_dir()} or point LAB_SHARED_DIR at the directory that holds them; to run without"
        f" validation on purpose, set {ALLOW_NO_SPEC_ENV}=1."
    )


def cache_dir(home: Path) -> Path:
    """Parsed vendor documents; LAB_CACHE_DIR lets throw-away homes share one."""
    env = os.environ.get("LAB_CACHE_DIR")
    return Path(env).resolve() if env else home / "cache"


def endpoints_path(home: Path) -> Path:
    return home / "endpoints.json"


def pid_path(home: Path) -> Path:
    return home / "lab.pid"


def log_path(home: Path) -> Path:
    return home / "lab.log"


def write_private_json(path: Path, value: object) -> None:
    """Atomically write JSON readable by the owner only (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(value, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
