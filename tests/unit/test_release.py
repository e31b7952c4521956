"""The changelog is releasable and CHANGELOG.rst is current.

- `antsibull-changelog lint` accepts the fragments waiting in changelogs/fragments (the next
  release's) and `lint-changelog-yaml` accepts changelogs/changelog.yaml (the released ones);
- CHANGELOG.rst (and CHANGELOG.md) equal what `antsibull-changelog generate` writes from
  changelogs/changelog.yaml and changelogs/.plugin-cache.yaml, rendered in a temporary copy so
  the working tree is never touched. Fragments that are not released yet are not part of the
  rendered file, so they do not make it stale.

After `antsibull-changelog release`, commit CHANGELOG.rst, CHANGELOG.md, changelogs/changelog.yaml
and changelogs/.plugin-cache.yaml together.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHANGELOG = BIN / "antsibull-changelog"
RENDERED = ("CHANGELOG.rst", "CHANGELOG.md")


def run_changelog(*args, cwd):
    env = dict(os.environ, PATH="%s%s%s" % (BIN, os.pathsep, os.environ.get("PATH", "")))
    return subprocess.run(
        [str(CHANGELOG), *args], cwd=str(cwd), env=env, capture_output=True, text=True, check=False
    )


def test_antsibull_changelog_lint_passes():
    done = run_changelog("lint", cwd=ROOT)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    done = run_changelog("lint-changelog-yaml", "changelogs/changelog.yaml", cwd=ROOT)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_changelog_yaml_has_the_galaxy_version_or_an_older_one():
    releases = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"]
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert releases, "no release in changelogs/changelog.yaml"
    fragments = ROOT / "changelogs" / "fragments"
    waiting = sorted(fragments.glob("*.y*ml")) if fragments.is_dir() else []
    assert version in releases or waiting, (
        "galaxy.yml's version %s is neither released nor has fragments waiting for it" % version
    )
    cache = yaml.safe_load((ROOT / "changelogs" / ".plugin-cache.yaml").read_text())
    assert str(cache["version"]) in releases, "changelogs/.plugin-cache.yaml is not from a release"


def test_rendered_changelog_is_current(tmp_path):
    copy = tmp_path / "collection"
    copy.mkdir()
    shutil.copy(ROOT / "galaxy.yml", copy / "galaxy.yml")
    # fragments included: unreleased ones must not change what generate writes
    shutil.copytree(ROOT / "changelogs", copy / "changelogs")
    done = run_changelog("generate", cwd=copy)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in RENDERED:
        expected = (copy / name).read_text()
        assert (ROOT / name).is_file(), "%s is missing: run antsibull-changelog generate" % name
        assert (ROOT / name).read_text() == expected, (
            "%s is not what antsibull-changelog generate writes from changelogs/changelog.yaml: "
            "run it and commit the result" % name
        )
