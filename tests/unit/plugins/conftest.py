"""Module code under test runs as it would on a managed node.

Importing controller code (the callback plugins' tests import ansible.plugins.callback) marks
the whole process as the controller from ansible-core 2.19 on; module warnings then go to the
controller's display instead of the module result, and tests that read
``get_warning_messages()`` would see none. Each test runs with the flag as a module sees it.
"""

import pytest

try:
    from ansible.module_utils import _internal as ansible_internal
except ImportError:  # ansible-core before 2.19 has no such flag
    ansible_internal = None


@pytest.fixture(autouse=True)
def module_side_of_ansible(request, monkeypatch):
    if ansible_internal is not None and hasattr(ansible_internal, "is_controller") and "callback" not in request.node.nodeid.split("::")[0].split("/"):
        monkeypatch.setattr(ansible_internal, "is_controller", False)


class FakeClock:
    """A clock that moves only when something sleeps on it: settle() reads back without waiting."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self):
        return self.now


@pytest.fixture(autouse=True)
def settle_clock(monkeypatch):
    from ansible_collections.voip.threecx_twilio.plugins.module_utils import _retry

    clock = FakeClock()
    monkeypatch.setitem(_retry.SETTLE_CLOCK, "sleep", clock.sleep)
    monkeypatch.setitem(_retry.SETTLE_CLOCK, "now", clock.time)
    return clock
