# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of voip.threecx_twilio.site_plan: the site model, run on the controller.

It reads the site variables the model declares from the host's variables, templates them, and
hands them to ``_site.plan``. Nothing is sent to either vendor; no module is transferred.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _site

FACT = "voip_site_plan"
# Secret values shorter than this are not masked in messages (they would mask ordinary words).
_MIN_MASK = 4


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("sides",))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        sides = self._task.args.get("sides", list(_site.SIDES))
        if isinstance(sides, str):
            sides = [sides]
        try:
            sides = list(sides)
            unknown = [s for s in sides if s not in _site.SIDES]
            if unknown or not sides:
                raise ValueError("sides must list one or both of %s; got %r" % (", ".join(_site.SIDES), sides))
        except (TypeError, ValueError) as exc:
            result.update(failed=True, msg=to_text(exc))
            return result

        variables, problems = self._site_variables(task_vars)
        plan = _site.plan(variables, sides)
        problems.extend(plan["problems"])
        plan["problems"] = problems
        plan["ok"] = not problems
        secrets = [to_text(variables[name]) for name in _site.SECRET_VARIABLES if isinstance(variables.get(name), str)]
        secrets += [to_text(c.get("password")) for c in variables.get("twilio_sip_domain_credentials") or [] if isinstance(c, dict)]
        plan["problems"] = [self._mask(p, secrets) for p in problems]
        plan["warnings"] = [self._mask(w, secrets) for w in plan.get("warnings", [])]
        if plan["warnings"]:
            # Values an allow_* variable let through: said once per site, before any request.
            result["warnings"] = list(plan["warnings"])
        site = task_vars.get("inventory_hostname", "this site")
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["problems"] = plan["problems"]
            result["msg"] = "Site %s: %d problem%s in its variables, found before any request to Twilio or the PBX: %s" % (
                site,
                len(problems),
                "" if len(problems) == 1 else "s",
                "; ".join("(%d) %s" % (i + 1, p) for i, p in enumerate(plan["problems"])),
            )
        else:
            result["ansible_facts"] = {FACT: plan}
            result["msg"] = "Site %s: variables checked (%s); nothing was sent" % (
                site,
                " and ".join(sides),
            )
        return result

    def _site_variables(self, task_vars):
        """The declared site variables that are set, templated; problems for those that cannot be."""
        values = {}
        problems = []
        for name in _site.VARIABLES:
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError as exc:
                # The error names the variable's template, never its templated value.
                problems.append("%s could not be worked out: %s" % (name, to_text(exc).splitlines()[0][:300]))
        return values, problems

    @staticmethod
    def _mask(message, secrets):
        for secret in secrets:
            if secret and len(secret) >= _MIN_MASK:
                message = message.replace(secret, "********")
        return message
