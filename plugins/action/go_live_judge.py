# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of voip.threecx_twilio.go_live_judge: the checklist's judgement, on the controller.

It hands what the role go_live_check read to ``_golive`` and publishes the results (facts, the
fleet report's set_stats data); nothing is sent to either vendor.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _golive

_ARGS = (
    "plan",
    "twilio",
    "pbx",
    "handler",
    "skip_handler_check",
    "dnd_profiles",
    "probe",
    "test_call",
    "round_trip",
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(_ARGS)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        plan = args.get("plan")
        if not isinstance(plan, dict) or not plan.get("ok") or not plan.get("twilio") or not plan.get("threecx"):
            result.update(
                failed=True,
                msg="plan must be a site plan of both sides (ansible_facts.voip_site_plan, made by voip.threecx_twilio.site_plan)",
            )
            return result
        try:
            site = _golive.site_facts(plan)
            results = _golive.judge(
                site,
                args.get("twilio"),
                args.get("pbx"),
                handler=args.get("handler"),
                skip_handler_check=boolean(args.get("skip_handler_check", False), strict=False),
                dnd_profiles=list(args.get("dnd_profiles") or []),
            )
            probe = args.get("probe")
            if probe:
                results.append(
                    _golive.judge_probe(
                        probe.get("reply"),
                        probe.get("host"),
                        probe.get("transport", "udp"),
                        probe.get("from"),
                        probe.get("timeout", 2),
                        probe.get("retries", 2),
                    )
                )
            call = args.get("test_call")
            if call:
                trunks = (args.get("pbx") or {}).get("trunks") or []
                trunk_found = any(t.get("name") == site["trunk_name"] for t in trunks if isinstance(t, dict))
                results.append(
                    _golive.judge_test_call(
                        site,
                        trunk_found,
                        call.get("placed"),
                        call.get("log"),
                        call.get("caller"),
                        call.get("destination"),
                        call.get("since"),
                    )
                )
            trip = args.get("round_trip")
            if trip:
                results.append(
                    _golive.judge_round_trip(site, trip.get("result"), trip.get("from"), dnd=trip.get("dnd") or None, restore=trip.get("restore") or None)
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.update(
                failed=True,
                msg="the go-live results could not be judged: %s" % to_text(exc),
            )
            return result
        summary = _golive.summary(results)
        failed = [r for r in results if r["ok"] is False]
        domain = ((args.get("twilio") or {}).get("domains") or [{}])[0]
        result.update(
            changed=False,
            results=results,
            ansible_facts=dict(
                go_live_check_results=results,
                go_live_check_failed=failed,
                go_live_check_sip_uri=domain.get("sip_uri") or "",
            ),
            ansible_stats=dict(data=dict(go_live=summary), per_host=True, aggregate=False),
        )
        # The host is failed by the role's next task (go_live_check_fail_on_error), not here: a failed
        # result's facts and set_stats data would not be kept, and the fleet report needs them.
        result["msg"] = _golive.failure_message(results) if failed else "%d of %d items ok" % (summary["ok"], len(results))
        return result
