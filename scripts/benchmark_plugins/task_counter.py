# Benchmark-only callback (scripts/benchmark): counts, per host, the tasks that ran and which
# of them were API tasks (a module of the collection that talks to a vendor). Not shipped.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_counter
type: aggregate
short_description: count each host's tasks, and its API tasks, into $VOIP_TASK_COUNT_FILE
description: For scripts/benchmark only.
"""

# Modules of the collection that run on the controller only and send no request.
CONTROLLER_ONLY = {"site_plan", "go_live_judge"}
PREFIX = "voip.threecx_twilio."


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_counter"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.counts = {}

    def _count(self, result, ran):
        host = result._host.get_name()
        action = result._task.action
        entry = self.counts.setdefault(host, {"tasks": 0, "api_tasks": 0, "skipped": 0})
        entry["tasks"] += 1
        if not ran:
            entry["skipped"] += 1
        elif action.startswith(PREFIX) and action[len(PREFIX) :] not in CONTROLLER_ONLY:
            entry["api_tasks"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, True)

    def v2_runner_on_skipped(self, result):
        self._count(result, False)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("VOIP_TASK_COUNT_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self.counts, handle, indent=1, sort_keys=True)
