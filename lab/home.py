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
