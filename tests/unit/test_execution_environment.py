"""ansible-builder accepts the collection's execution-environment metadata.

`ansible-builder create` must succeed on extensions/ee/execution-environment.yml with the
collection tarball beside it, and the build context must list the collection's runtime
Python requirements (twilio, requests, lxml) and the collection itself. The collection requirement
follows galaxy.yml's version and the base image is pinned (a version tag or a digest, never
:latest).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ansible_builder_create_lists_the_runtime_requirements(tmp_path):
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    ee_dir = tmp_path / "extensions" / "ee"
    shutil.copytree(ROOT / "extensions" / "ee", ee_dir)
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(ee_dir), str(ROOT)],
        check=True,
        capture_output=True,
    )
    assert (ee_dir / ("voip-threecx_twilio-%s.tar.gz" % version)).is_file()
    requirements = yaml.safe_load((ee_dir / "requirements.yml").read_text())
    assert requirements["collections"][0]["name"].endswith(
        "voip-threecx_twilio-%s.tar.gz" % version
    ), "keep extensions/ee/requirements.yml in step with galaxy.yml"

    context = tmp_path / "context"
    done = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", str(ee_dir / "execution-environment.yml"), "-c", str(context)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    python_reqs = (context / "_build" / "requirements.txt").read_text()
    for package in ("twilio", "requests", "lxml"):
        assert re.search(r"^%s\b" % package, python_reqs, re.M), package
    assert (context / "_build" / "collections" / ("voip-threecx_twilio-%s.tar.gz" % version)).is_file()
    assert "ansible-galaxy collection install" in (context / "Dockerfile").read_text()


def _galaxy_version():
    return str(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])


def test_collection_requirement_follows_the_galaxy_version():
    version = _galaxy_version()
    requirements = yaml.safe_load((ROOT / "extensions" / "ee" / "requirements.yml").read_text())
    ours = [c for c in requirements["collections"] if "voip-threecx_twilio-" in str(c.get("name", ""))]
    assert len(ours) == 1, "extensions/ee/requirements.yml must list the collection's tarball once"
    name = ours[0]["name"]
    assert ours[0].get("type") == "file", name
    match = re.search(r"voip-threecx_twilio-(.+)\.tar\.gz$", name)
    assert match, name
    assert match.group(1) == version, (
        "extensions/ee/requirements.yml installs version %s but galaxy.yml is at %s: change both together"
        % (match.group(1), version)
    )
    # The build context takes whatever tarball `ansible-galaxy collection build` wrote beside it.
    ee = yaml.safe_load((ROOT / "extensions" / "ee" / "execution-environment.yml").read_text())
    sources = [f["src"] for f in ee.get("additional_build_files", [])]
    assert "voip-threecx_twilio-*.tar.gz" in sources, sources


def test_base_image_is_pinned():
    ee = yaml.safe_load((ROOT / "extensions" / "ee" / "execution-environment.yml").read_text())
    image = ee["images"]["base_image"]["name"]
    if "@sha256:" in image:
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), image
        return
    repository, dummy, tag = image.rpartition(":")
    assert repository and "/" not in tag, "the base image %s has no tag: pin a version or a digest" % image
    assert tag != "latest", "the base image %s is not pinned: name a published version or a digest" % image
    assert re.match(r"^\d+(\.\d+)+", tag), "the base image tag %s is not a version" % tag


def test_collection_metadata_points_ansible_builder_at_the_runtime_files():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    build_ignore = yaml.safe_load((ROOT / "galaxy.yml").read_text())["build_ignore"]
    assert "requirements.txt" not in build_ignore and "bindep.txt" not in build_ignore
