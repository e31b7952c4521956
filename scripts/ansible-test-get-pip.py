"""Stand-in for the pip bootstrap script that ansible-test downloads (get-pip-<version>.py).

ansible-test builds one virtual environment per sanity test, created without pip, and then
runs a "get-pip" script in it with arguments such as::

    --disable-pip-version-check pip==25.2 --no-setuptools --no-wheel

It downloads that script from a host outside the package registries unless a copy is cached
at ``~/.ansible/test/cache/get_pip_<pip version with underscores>.py``.  Where only the
registries are reachable, scripts/sanity installs this file at that path.  It does what the
real script does, with the tools every CPython ships:

1. ``python -m ensurepip --upgrade`` in a *subprocess*: run in this process, ensurepip sets
   PIP_CONFIG_FILE to os.devnull for the rest of the process, and pip would then lose the
   machine's certificate and index settings (/etc/pip.conf and friends);
2. ``python -m pip install`` with the arguments it was given, minus the get-pip-only flags
   ``--no-setuptools`` and ``--no-wheel`` (plain pip rejects them), with the environment it
   was given, so pip reads the machine's configuration and reaches the registry.

ansible-test runs this file through its quiet_pip wrapper (runpy, run_name='__main__'), so
sys.argv[1:] holds the arguments and sys.executable is the new environment's interpreter.
"""

import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main(argv):
    """Install pip into the running interpreter's environment, then the requested packages."""
    args = [arg for arg in argv if arg not in GET_PIP_ONLY_FLAGS]
    env = dict(os.environ)
    # ensurepip's own variable must not leak into the pip run below.
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        del env["PIP_CONFIG_FILE"]

    subprocess.run(
        [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if any(not arg.startswith("-") for arg in args):
        subprocess.run([sys.executable, "-m", "pip", "install"] + args, check=True, env=env)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.stderr.write("get-pip stand-in: %s\n" % exc)
        sys.exit(exc.returncode or 1)
