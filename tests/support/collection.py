"""Make the working tree importable and runnable as ``voip.threecx_twilio``.

Python imports ``ansible_collections.voip.threecx_twilio...`` and ansible-playbook looks
for collections below ``<path>/ansible_collections/<namespace>/<name>``.  The repository
root *is* the collection root, so we place a symlink to it in such a tree.  The tree
lives outside the repository (in the temp directory) so that nothing that walks the
repository (pytest, ansible-lint, duplicates) ever follows a link back into itself.
"""

import hashlib
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "voip"
NAME = "threecx_twilio"


def collections_path() -> Path:
    """Return a directory usable as ANSIBLE_COLLECTIONS_PATH / sys.path entry."""
    digest = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir()) / f"voip-threecx_twilio-{digest}"
    link = base / "ansible_collections" / NAMESPACE / NAME
    if not link.is_symlink() or link.resolve() != REPO_ROOT:
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{NAME}.{os.getpid()}")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(REPO_ROOT, target_is_directory=True)
        os.replace(tmp, link)  # atomic: parallel test processes never see a half-made link
    return base
